% SPDX-License-Identifier: BSD-3-Clause
function smi_t_check(cond, fmt, varargin)
  % SMI_T_CHECK  Fail the test with sprintf(FMT, ...) unless COND is true.
  if ~(islogical(cond) || isnumeric(cond)) || isempty(cond) || ~all(cond(:))
    error('smi_test:check', fmt, varargin{:});
  end
end
