% SPDX-License-Identifier: BSD-3-Clause
function exe = smi_t_tool(var)
  % SMI_T_TOOL  The program in environment variable VAR (SMI_PUBLISH,
  % SMI_READ, SMI_OCTAVE_CLI, SMI_PYTHON) that ctest sets, or a skip when
  % it is not set.
  exe = getenv(var);
  if isempty(exe)
    error('smi_test:skip', '%s is not set (run the test through ctest)', var);
  end
end
