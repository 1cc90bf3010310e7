% SPDX-License-Identifier: BSD-3-Clause
function [img, info] = smi_next(s, timeout)
  % SMI_NEXT  Read the next frame of a SharedMemoryImage stream, in order.
  %
  %   [img, info] = smi_next(S, TIMEOUT) returns the frame published next
  %   after the last one S read (the first time: the oldest the file held
  %   when S attached), waiting up to TIMEOUT seconds for one (default 5;
  %   Inf waits for ever, 0 does not wait; Ctrl-C ends the wait). S comes
  %   from smi_open(PATH, 'Queue', true) or 'Reliable', true (extended
  %   layout). Each frame comes once, in publish order.
  %
  %   IMG and INFO are as smi_read gives them; INFO.lost counts the frames
  %   published before this one (after the previous one S read, or after S
  %   attached) that S will never get: the server overwrote them first (0
  %   for a reliable client, or one that keeps up). Exact: the frames read
  %   plus the sum of INFO.lost are every frame published since S attached,
  %   up to the last one read.
  %
  %   Errors: smi:timeout when no frame comes in time; smi:usage for a
  %   client not opened with 'Queue' or 'Reliable'; smi:badFile for an
  %   EnSight-layout stream (one frame at a time: use smi_read); smi:closed.
  %
  %   Example (every frame of a stream, and what was missed):
  %     s = smi_open('/dev/shm/paraview-view.smi', 'Queue', true);
  %     while true
  %       [img, info] = smi_next(s, 2);
  %       fprintf('frame %d, %d lost before it\n', info.frame, info.lost);
  %     end
  %
  %   See also smi_open, smi_read, smi_info, smi_close.
  if nargin < 2
    timeout = 5;
  end
  if nargin < 1 || ~isa(s, 'smi_stream')
    error('smi:usage', 'usage: [img, info] = smi_next(s[, timeout_seconds]), s = smi_open(path, ''Queue'', true)');
  end
  [img, info] = smi_mex('read', s.Id, timeout, true);
end
