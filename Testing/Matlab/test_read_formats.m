% SPDX-License-Identifier: BSD-3-Clause
function test_read_formats()
  % Frames published by smi-publish (another process) read pixel-exact by
  % smi_read in every pixel format the library has (smi_mex('formats')),
  % in the extended layout, and RGB in EnSight's layout; an odd size
  % (131 x 67: over the edges of the transpose's 64 x 64 tiles, which no
  % side fills) and a full HD frame; the instrument formats (int16, int32,
  % uint32, float64) also at 256 x 256, where the pattern holds every value
  % of its 16-bit U, so int16, int32 and uint32 their class's extremes;
  % frames stored bottom row first (--bottom-up, as ParaView publishes
  % them) come upright too.
  publish = smi_t_tool('SMI_PUBLISH');
  formats = smi_mex('formats');
  cases = {};
  for f = formats
    cases(end + 1, :) = {f.name, '', 131, 67};
  end
  for name = {'int16', 'int32', 'uint32', 'float64'}
    cases(end + 1, :) = {name{1}, '', 256, 256};
  end
  cases(end + 1, :) = {'rgb8', '--ensight', 131, 67};
  cases(end + 1, :) = {'rgb8', '', 1920, 1080};
  cases(end + 1, :) = {'rgb8', '--bottom-up', 131, 67};
  cases(end + 1, :) = {'gray16', '--bottom-up', 131, 67};
  for i = 1:size(cases, 1)
    [name, layout, w, h] = cases{i, :};
    path = smi_t_path(name);
    pid = smi_t_spawn('%s -q -f %s %s -s %dx%d -r 100 -t 60 %s', publish, name, layout, w, h, path);
    s = smi_t_attach(path);
    last = -1;
    frames = 3 - 2 * (w * h > 1e5);          % full HD: one frame (the pattern costs here)
    for k = 1:frames
      [img, info] = smi_read(s, 20);
      what = sprintf('%s %s %dx%d frame %d', name, layout, w, h, info.frame);
      smi_t_check(info.frame > last, '%s: frame numbers go back (%d after %d)', what, ...
                  info.frame, last);
      last = info.frame;
      smi_t_check(strcmp(info.format, name), '%s: format %s', what, info.format);
      smi_t_check(info.width == w && info.height == h && info.depth == 1, '%s: size %dx%dx%d', ...
                  what, info.width, info.height, info.depth);
      smi_t_check(isequal(info.spacing, [1 1 1]) && isequal(info.origin, [0 0 0]), ...
                  '%s: spacing %s origin %s', what, mat2str(info.spacing), mat2str(info.origin));
      smi_t_same(img, smi_t_pattern(name, w, h, info.frame), what);
      if w == 256 && isinteger(img)
        smi_t_check(min(img(:)) == intmin(class(img)) && max(img(:)) == intmax(class(img)), ...
                    '%s: the extremes of %s are not in the frame', what, class(img));
      end
      if isempty(layout)
        smi_t_check(abs(info.timestamp - time()) < 600, '%s: timestamp %f is not about now', ...
                    what, info.timestamp);
      end
    end
    fprintf('  %-8s %-9s %4dx%-4d %d frames exact (last %d)\n', name, layout, w, h, frames, last);
    smi_close(s);
    kill(pid, 15);
    smi_t_check(isequal(smi_t_exit(pid, 20), 0), 'smi-publish %s did not end cleanly', name);
  end
end
