% SPDX-License-Identifier: BSD-3-Clause
function s = smi_open(path, varargin)
  % SMI_OPEN  Attach to a SharedMemoryImage stream as a client.
  %
  %   s = smi_open(PATH) attaches to the stream in the file PATH (a server
  %   such as ParaView's view publisher, smi-publish, GStreamer's smisink or
  %   EnSight writes it; either layout) and returns a stream to read with
  %   smi_read. Frames of every pixel format are read.
  %
  %   s = smi_open(PATH, 'Queue', true) reads every frame in publish order
  %   with smi_next (extended layout), starting with the oldest the file
  %   holds, and counts the frames it missed; 'Reliable', true also asks
  %   never to be overrun (the server drops or waits rather than overwrite
  %   a frame this client has not read).
  %
  %   s = smi_open(PATH, 'AnyFile', true) also trusts a file another user
  %   could change (another user's file, one others or a shared group may
  %   write, one in a folder others may write) or a symbolic link: refused
  %   otherwise, since stream files are input from other processes; the
  %   message names the rule and the fix.
  %
  %   Errors (identifiers): smi:missing (no such file), smi:badFile (not a
  %   stream, truncated, or an unknown layout version), smi:unsafeFile,
  %   smi:cannotOpen, smi:tooManyClients; the message is the library's.
  %
  %   Example:
  %     s = smi_open('/dev/shm/paraview-view.smi');
  %     [img, info] = smi_read(s, 5);
  %     smi_close(s);
  %
  %   See also smi_read, smi_next, smi_close, smi_info, smi_publish_open.
  if nargin < 1 || ~ischar(path)
    error('smi:usage', ['usage: s = smi_open(path[, ''AnyFile'', true][, ''Queue'', true]' ...
                        '[, ''Reliable'', true])']);
  end
  opts = smi_parse_options(varargin, struct('AnyFile', false, 'Queue', false, ...
                                            'Reliable', false), 'smi_open');
  queue = 0;
  if logical(opts.Reliable)
    queue = 2;
  elseif logical(opts.Queue)
    queue = 1;
  end
  id = smi_mex('open', path, logical(opts.AnyFile), queue);
  s = smi_stream(id, path, 'client');
end
