% SPDX-License-Identifier: BSD-3-Clause
function err = smi_t_error(fn, id, what)
  % SMI_T_ERROR  Call FN, which must raise an error with identifier ID;
  % return that error (its message checked by the caller).
  try
    fn();
  catch err
    if ~strcmp(err.identifier, id)
      error('smi_test:wrongError', '%s: expected %s, got %s: %s', what, id, ...
            err.identifier, err.message);
    end
    if isempty(err.message)
      error('smi_test:wrongError', '%s: %s without a message', what, id);
    end
    fprintf('  %s -> %s: %s\n', what, id, err.message);
    return;
  end
  error('smi_test:noError', '%s: expected error %s, got none', what, id);
end
