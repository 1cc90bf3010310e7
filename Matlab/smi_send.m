% SPDX-License-Identifier: BSD-3-Clause
function [status, number] = smi_send(p, img, varargin)
  % SMI_SEND  Publish one frame on a SharedMemoryImage stream.
  %
  %   smi_send(P, IMG) publishes array IMG on stream P (from
  %   smi_publish_open), upright: row 1 is the top of the picture. The pixel
  %   format follows IMG's class and shape:
  %     uint8  height x width x 3 -> rgb8, x 4 -> rgba8, height x width -> gray8
  %     uint16 height x width -> gray16;  single height x width -> float32
  %     int16, int32, uint32 height x width -> the format of that name
  %     double height x width -> float64
  %   and volumes height x width x depth (x channels). The file grows when a
  %   frame does not fit, if no client is attached (else smi:frameTooLarge:
  %   size it with smi_publish_open's 'Like').
  %
  %   [STATUS, NUMBER] = smi_send(...) returns STATUS 'sent', 'unconnected'
  %   (no client attached yet: the extended layout keeps the frame for the
  %   clients to come, EnSight's drops it) or 'dropped' (clients hold every
  %   buffer), and the frame NUMBER clients see (NaN when not published).
  %
  %   Options (name/value):
  %     'Frame', N        the frame number (default, or 0: the last one + 1)
  %     'Format', NAME    the pixel format, e.g. 'gray8' for a uint8
  %                       height x width x 3 volume of 3 slices
  %     'Timestamp', T    seconds (default: now, UNIX time)
  %     'Spacing', [x y z], 'Origin', [x y z]   the frame's geometry
  %
  %   Errors: smi:badFormat (a class or shape no format takes, or a format
  %   the layout cannot carry), smi:frameTooLarge, smi:closed, smi:notServer.
  %
  %   Example:
  %     p = smi_publish_open('/dev/shm/result.smi');
  %     smi_send(p, uint8(255 * rand(480, 640, 3)));
  %
  %   See also smi_publish_open, smi_close.
  if nargin < 2 || ~isa(p, 'smi_stream')
    error('smi:usage', 'usage: smi_send(p, img[, ''Frame'', n, ...]), p from smi_publish_open');
  end
  opts = smi_parse_options(varargin, struct('Frame', 0, 'Format', '', 'Timestamp', 0, ...
                                            'Spacing', [], 'Origin', []), 'smi_send');
  [status, number] = smi_mex('send', p.Id, img, opts.Format, opts.Frame, opts.Timestamp, ...
                             double(opts.Spacing), double(opts.Origin));
end
