% SPDX-License-Identifier: BSD-3-Clause
function p = smi_publish_open(path, varargin)
  % SMI_PUBLISH_OPEN  Serve a SharedMemoryImage stream (publish frames).
  %
  %   p = smi_publish_open(PATH) serves the stream in file PATH, creating the
  %   file when it is missing (mode 0600, sized for two 1920 x 1080 RGB
  %   frames), and returns a stream to publish with smi_send. ParaView's Shared Memory Image Stream source, smi-read,
  %   GStreamer's smisrc, Python and other smi_open clients read it.
  %
  %   Options (name/value):
  %     'Like', IMG        size the file for frames like array IMG (class and
  %                        size as smi_send takes them). A larger frame grows
  %                        the file only while no client is attached
  %                        (smi:frameTooLarge otherwise).
  %     'Format', NAME     the pixel format of 'Like' (see smi_send)
  %     'Layout', L        'extended' (default: many clients, every format,
  %                        crash-safe) or 'ensight' (EnSight's layout: one
  %                        client, uint8 RGB frames only).
  %     'AnyFile', true    serve a file of another user or a link (refused
  %                        otherwise).
  %
  %   Errors: smi:serverActive (another live server publishes to PATH),
  %   smi:badFile (PATH holds something else than a stream: it is left as it
  %   is), smi:unsafeFile, smi:cannotOpen (a folder, no permission),
  %   smi:noSpace.
  %
  %   Example:
  %     p = smi_publish_open('/dev/shm/result.smi', 'Like', zeros(480, 640, 3, 'uint8'));
  %     smi_send(p, img);
  %     smi_close(p);
  %
  %   See also smi_send, smi_close, smi_open.
  if nargin < 1 || ~ischar(path)
    error('smi:usage', 'usage: p = smi_publish_open(path[, ''Like'', img, ''Layout'', ''extended''])');
  end
  opts = smi_parse_options(varargin, struct('Like', [], 'Format', '', 'Layout', 'extended', ...
                                  'AnyFile', false), ...
                           'smi_publish_open');
  id = smi_mex('serve', path, lower(opts.Layout), logical(opts.AnyFile), opts.Like, opts.Format);
  p = smi_stream(id, path, 'server');
end
