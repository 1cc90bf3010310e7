% SPDX-License-Identifier: BSD-3-Clause
function status = smi_t_exit(pid, seconds)
  % SMI_T_EXIT  Wait up to SECONDS for child PID to end; its exit status,
  % or [] when it is still running (then it is left running).
  status = [];
  t0 = tic;
  while true
    [p, st] = waitpid(pid, WNOHANG);
    if p == pid
      if WIFEXITED(st)
        status = WEXITSTATUS(st);
      else
        status = 128 + WTERMSIG(st);
      end
      return;
    end
    if toc(t0) > seconds
      return;
    end
    pause(0.02);
  end
end
