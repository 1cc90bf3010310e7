% SPDX-License-Identifier: BSD-3-Clause
function [img, info] = smi_read(s, timeout)
  % SMI_READ  Read the newest frame of a SharedMemoryImage stream.
  %
  %   [img, info] = smi_read(S, TIMEOUT) returns the newest frame of stream S
  %   (from smi_open) that S has not read yet, waiting up to TIMEOUT seconds
  %   for one (default 5; Inf waits for ever, 0 does not wait). Ctrl-C ends
  %   the wait at once. Frames are the latest, not a queue: frames published
  %   between two reads are skipped (info.frame tells).
  %
  %   [img, info] = smi_read(PATH, TIMEOUT) attaches to the stream in file
  %   PATH, reads one frame and detaches: an extended-layout stream hands
  %   over its newest frame at once, an EnSight-layout one its next frame.
  %
  %   IMG is upright (row 1 is the top of the picture), a copy that stays
  %   valid, in the frame's class and shape:
  %     rgb8 / rgba8     uint8   height x width x 3 / x 4
  %     gray8 / gray16   uint8 / uint16   height x width
  %     float32          single  height x width
  %     int16 / int32 / uint32 / float64   int16 / int32 / uint32 / double
  %                                        height x width
  %   and volumes height x width x depth (x channels when there are several).
  %   INFO is a struct: frame (number), timestamp (seconds, UNIX time unless
  %   the server set another), format, width, height, depth, spacing and
  %   origin ([x y z]).
  %
  %   Errors: smi:timeout when no new frame comes in time; smi:closed for a
  %   closed stream; smi:badFile when the file was truncated or corrupted;
  %   smi:missing, smi:badFile, ... from opening a PATH (see smi_open).
  %
  %   Example (show a ParaView view published to shared memory):
  %     img = smi_read('/dev/shm/paraview-view.smi', 10);
  %     image(img); axis image;
  %
  %   See also smi_open, smi_info, smi_close.
  if nargin < 2
    timeout = 5;
  end
  if nargin < 1
    error('smi:usage', 'usage: [img, info] = smi_read(s_or_path[, timeout_seconds])');
  end
  if ischar(s)
    id = smi_mex('open', s, false);
    try
      [img, info] = smi_mex('read', id, timeout);
    catch err
      smi_mex('close', id);
      rethrow(err);
    end
    smi_mex('close', id);
  elseif isa(s, 'smi_stream')
    [img, info] = smi_mex('read', s.Id, timeout);
  else
    error('smi:usage', 'smi_read: expected a stream from smi_open, or a file name');
  end
end
