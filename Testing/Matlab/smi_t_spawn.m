% SPDX-License-Identifier: BSD-3-Clause
function pid = smi_t_spawn(fmt, varargin)
  % SMI_T_SPAWN  Start the shell command sprintf(FMT, ...) in the background
  % (exec'ed, so PID is the program's own) and return its process id; it
  % is killed at the end of the test if still running.
  cmd = ['exec ' sprintf(fmt, varargin{:})];
  pid = system(cmd, false, 'async');
  if pid <= 0
    error('smi_test:spawn', 'cannot start: %s', cmd);
  end
  smi_t_cleanup('pid', pid);
end
