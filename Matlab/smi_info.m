% SPDX-License-Identifier: BSD-3-Clause
function info = smi_info(s)
  % SMI_INFO  The state of a SharedMemoryImage stream, without attaching.
  %
  %   info = smi_info(PATH) reads the stream file PATH and changes nothing
  %   (safe on a live stream, and on EnSight's); info = smi_info(S) asks an
  %   open stream S. INFO is a struct:
  %     path, layout ('extended', 'ensight' or 'unknown'), version,
  %     file_size (bytes), server_alive (logical), clients (live attached
  %     clients), max_clients, buffer_count, buffer_size (bytes per frame),
  %     last_frame (newest published number), server_generation, and
  %     buffers (a struct array: state, format, frame, width, height, depth,
  %     holders, sequence, timestamp).
  %
  %   Errors: smi:missing, smi:badFile, smi:unsafeFile (a link, not a
  %   regular file), smi:cannotOpen.
  %
  %   See also smi_open, smi_read.
  if nargin < 1
    error('smi:usage', 'usage: info = smi_info(path_or_stream)');
  end
  if ischar(s)
    info = smi_mex('info', s);
  elseif isa(s, 'smi_stream')
    info = smi_mex('info', s.Id);
  else
    error('smi:usage', 'smi_info: expected a file name or a stream');
  end
end
