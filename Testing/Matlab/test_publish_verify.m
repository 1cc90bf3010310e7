% SPDX-License-Identifier: BSD-3-Clause
function test_publish_verify()
  % Frames published from Octave read exactly by other processes:
  % smi-read --verify checks every byte of the test pattern in every
  % format (extended layout) and RGB in EnSight's layout; Python's
  % shared_memory_image reads a volume with its metadata byte for byte.
  % Then Octave reads back what Octave publishes (every class and shape,
  % volumes, chosen frame numbers, metadata, float bits).
  reader = smi_t_tool('SMI_READ');
  w = 133;          % over the edges of the transpose's 64 x 64 tiles
  h = 70;
  cases = {};
  for f = smi_mex('formats')
    cases(end + 1, :) = {f.name, 'extended'};
  end
  cases(end + 1, :) = {'rgb8', 'ensight'};
  for i = 1:size(cases, 1)
    [name, layout] = cases{i, :};
    path = smi_t_path(['pub-' name]);
    p = smi_publish_open(path, 'Layout', layout, 'Like', smi_t_pattern(name, w, h, 0));
    pid = smi_t_spawn('%s -q --verify --any-format -n 4 -T 30 %s', reader, path);
    smi_t_until(@() smi_info(path).clients >= 1, 20, 'attached: smi-read');
    n = 1000;
    status = [];
    t0 = tic;
    while isempty(status) && toc(t0) < 30
      n = n + 1;
      [st, number] = smi_send(p, smi_t_pattern(name, w, h, n), 'Frame', n);
      if strcmp(st, 'sent')
        smi_t_check(number == n, '%s: sent frame %d as %d', name, n, number);
      end
      status = smi_t_exit(pid, 0.01);
    end
    smi_t_check(isequal(status, 0), 'smi-read --verify of %s (%s) ended with %s', name, layout, ...
                mat2str(status));
    fprintf('  %-8s %-8s smi-read --verify: every byte of 4 frames exact\n', name, layout);
    smi_close(p);
  end

  % Python reads a volume (depth 5) of gray16 with spacing and origin.
  python = getenv('SMI_PYTHON');
  if isempty(python) || isempty(getenv('PYTHONPATH'))
    fprintf('  Python module not built: its check is left out\n');
  else
    vol = zeros(h, w, 5, 'uint16');
    for z = 1:5
      vol(:, :, z) = smi_t_pattern('gray16', w, h, 100 * z);
    end
    path = smi_t_path('pyvol');
    expected = [path '.expected'];
    smi_t_cleanup('file', expected);
    fid = fopen(expected, 'w');
    fwrite(fid, permute(vol, [2 1 3]), 'uint16');   % row-major: x fastest, then y, then z
    fclose(fid);
    p = smi_publish_open(path, 'Like', vol);
    check = fullfile(fileparts(mfilename('fullpath')), 'smi_t_python_check.py');
    out = [path '.out'];
    smi_t_cleanup('file', out);
    pid = smi_t_spawn('%s %s %s %s %d %d %d > %s 2>&1', python, check, path, expected, w, h, 5, out);
    status = [];
    t0 = tic;
    while isempty(status) && toc(t0) < 30
      smi_send(p, vol, 'Frame', 77, 'Spacing', [0.5 0.25 2], 'Origin', [1 -2 3.5], ...
               'Timestamp', 1234.5);
      status = smi_t_exit(pid, 0.05);
    end
    text = fileread(out);
    smi_t_check(isequal(status, 0), 'Python check ended with %s: %s', mat2str(status), text);
    fprintf('  Python: %s', text);
    smi_close(p);
  end

  % Octave to Octave: classes, shapes, numbers and metadata.
  path = smi_t_path('self');
  p = smi_publish_open(path);
  s = smi_open(path);
  rgbvol = uint8(reshape(0:(6 * 5 * 2 * 3 - 1), 6, 5, 2, 3));   % a 2-slice RGB volume
  floats = single([0 -0 1.5; Inf -Inf NaN; 1e-40 3.4e38 -7]);
  doubles = [0 -0 1.5; Inf -Inf NaN; realmin realmax -eps; 4.9e-324 -1/3 1e300];
  doubles(1, 3) = hex2num('7ff800000000abcd');   % a NaN with a payload
  i16 = int16([intmin('int16') intmax('int16') -1; 0 1 -12345]);
  i32 = int32([intmin('int32') intmax('int32') -1; 0 1 -123456789]);
  u32 = uint32([0 intmax('uint32') 1; 2^31 2^31 - 1 123456789]);
  items = {
    smi_t_pattern('rgb8', 7, 5, 3),   '',       'rgb8';
    smi_t_pattern('rgba8', 7, 5, 3),  '',       'rgba8';
    smi_t_pattern('gray8', 7, 5, 3),  '',       'gray8';
    smi_t_pattern('gray16', 7, 5, 3), '',       'gray16';
    floats,                           '',       'float32';
    i16,                              '',       'int16';
    i32,                              '',       'int32';
    u32,                              '',       'uint32';
    doubles,                          '',       'float64';
    cat(3, i16, -i16),                '',       'int16';    % a 2-slice volume
    uint8(reshape(0:59, 4, 5, 3)),    'gray8',  'gray8';    % a 3-slice volume, not RGB
    uint16(reshape(0:59, 3, 4, 5)),   '',       'gray16';
    rgbvol,                           '',       'rgb8';
  };
  for i = 1:size(items, 1)
    [img, format, expected_format] = items{i, :};
    [st, number] = smi_send(p, img, 'Format', format, 'Frame', 500 + i, 'Spacing', [i 2 3], ...
                            'Origin', [-i 0 0.5], 'Timestamp', 1e9 + i);
    smi_t_check(any(strcmp(st, {'sent', 'unconnected'})), 'item %d: %s', i, st);
    smi_t_check(number == 500 + i, 'item %d: number %d', i, number);
    [got, info] = smi_read(s, 10);
    what = sprintf('item %d (%s %s)', i, class(img), mat2str(size(img)));
    smi_t_same(got, img, what);
    smi_t_check(strcmp(info.format, expected_format), '%s: format %s', what, info.format);
    smi_t_check(info.frame == 500 + i, '%s: frame %d', what, info.frame);
    smi_t_check(isequal(info.spacing, [i 2 3]) && isequal(info.origin, [-i 0 0.5]) && ...
                info.timestamp == 1e9 + i, '%s: metadata', what);
  end
  fprintf('  Octave -> Octave: %d frames of every class and shape exact\n', size(items, 1));
  % A frame larger than the file: refused while a client is attached ...
  big = smi_t_pattern('rgb8', 2000, 1100, 9);
  smi_t_error(@() smi_send(p, big), 'smi:frameTooLarge', 'a larger frame with a client attached');
  % ... and the file grows for it once none is.
  smi_close(s);
  [st, number] = smi_send(p, big, 'Frame', 600);
  smi_t_check(strcmp(st, 'unconnected') && number == 600, 'larger frame: %s %d', st, number);
  s = smi_open(path);
  [got, info] = smi_read(s, 10);
  smi_t_same(got, big, 'the frame that grew the file');
  smi_t_check(info.frame == 600, 'grown: frame %d', info.frame);
  % The default number is the next one; the default timestamp is now.
  [~, number] = smi_send(p, uint8(1));
  smi_t_check(number == 601, 'default number %d', number);
  [~, info] = smi_read(s, 10);
  smi_t_check(abs(info.timestamp - time()) < 600, 'default timestamp %f', info.timestamp);
  smi_close(s);
  smi_close(p);
end
