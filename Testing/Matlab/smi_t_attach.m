% SPDX-License-Identifier: BSD-3-Clause
function s = smi_t_attach(path, seconds)
  % SMI_T_ATTACH  smi_open(PATH) once a server has set the stream up
  % (retried for up to SECONDS, default 20, while the file is missing or
  % not yet a stream).
  if nargin < 2
    seconds = 20;
  end
  s = smi_t_until(@() smi_t_attach_served(path), seconds, ['served: ' path]);
end

function s = smi_t_attach_served(path)
  info = smi_info(path);
  s = [];
  if info.server_alive
    s = smi_open(path);
  end
end
