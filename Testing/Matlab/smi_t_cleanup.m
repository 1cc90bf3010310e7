% SPDX-License-Identifier: BSD-3-Clause
function smi_t_cleanup(varargin)
  % SMI_T_CLEANUP  Remember stream files and child processes to remove at
  % the end of a test, or remove them all now.
  %   smi_t_cleanup('file', PATH)   delete PATH at the end
  %   smi_t_cleanup('dir', PATH)    delete folder PATH and its files at the end
  %   smi_t_cleanup('pid', PID)     SIGKILL process PID at the end
  %   smi_t_cleanup()               do it now
  persistent files pids dirs
  if isempty(files)
    files = {};
    pids = [];
  end
  if isempty(dirs)
    dirs = {};
  end
  if nargin == 2 && strcmp(varargin{1}, 'file')
    files{end + 1} = varargin{2};
    return;
  elseif nargin == 2 && strcmp(varargin{1}, 'dir')
    dirs{end + 1} = varargin{2};
    return;
  elseif nargin == 2 && strcmp(varargin{1}, 'pid')
    pids(end + 1) = varargin{2};
    return;
  end
  for pid = pids
    [p, ~] = waitpid(pid, WNOHANG);   % reaps it when it has ended
    if p == 0                         % still running
      kill(pid, 9);
      waitpid(pid);
    end
  end
  for i = 1:numel(files)
    if exist(files{i}, 'file') || exist(files{i}, 'dir')
      [~] = unlink(files{i});
    end
  end
  for i = 1:numel(dirs)
    if exist(dirs{i}, 'dir')
      confirm_recursive_rmdir(false, 'local');
      rmdir(dirs{i}, 's');
    end
  end
  files = {};
  pids = [];
  dirs = {};
end
