% SPDX-License-Identifier: BSD-3-Clause
function value = smi_t_until(fn, seconds, what)
  % SMI_T_UNTIL  Call FN until it returns without an error and its value is
  % not false or empty, for up to SECONDS; return that value, or fail with
  % WHAT and FN's last error.
  t0 = tic;
  last = '';
  while true
    try
      value = fn();
      if ~isempty(value) && ~(islogical(value) && ~all(value(:)))
        return;
      end
      last = 'condition false';
    catch err
      last = sprintf('%s [%s]', err.message, err.identifier);
    end
    if toc(t0) > seconds
      error('smi_test:timeout', 'after %g s still not %s: %s', seconds, what, last);
    end
    pause(0.02);
  end
end
