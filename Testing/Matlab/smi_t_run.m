% SPDX-License-Identifier: BSD-3-Clause
function smi_t_run(name)
  % SMI_T_RUN  Run test function NAME under octave-cli and exit: 0 when it
  % returns, 1 (with the error, its identifier and its stack) when it
  % raises, 77 (ctest's skip code here) when it raises smi_test:skip.
  % Stream files and processes the test made are cleaned up either way.
  status = 0;
  try
    feval(name);
    fprintf('PASS %s\n', name);
  catch err
    if strcmp(err.identifier, 'smi_test:skip')
      fprintf('SKIP %s: %s\n', name, err.message);
      status = 77;
    else
      fprintf('FAILED %s: %s [%s]\n', name, err.message, err.identifier);
      for i = 1:numel(err.stack)
        fprintf('  at %s line %d\n', err.stack(i).name, err.stack(i).line);
      end
      status = 1;
    end
  end
  smi_t_cleanup();
  fflush(stdout);
  exit(status);
end
