% SPDX-License-Identifier: BSD-3-Clause
function test_bad_input()
  % Bad input gives MATLAB errors with identifiers and the library's text,
  % never a crash: a missing file, a garbage file, a truncated stream (at
  % rest, and under an open client), a folder, wrong arguments, a second
  % server, and a server refused on a file that is no stream (left as it is).
  missing = smi_t_path('missing');
  e = smi_t_error(@() smi_open(missing), 'smi:missing', 'smi_open of a missing file');
  smi_t_check(~isempty(strfind(e.message, 'missing or too small')) && ...
              ~isempty(strfind(e.message, missing)), 'message: %s', e.message);
  smi_t_error(@() smi_read(missing, 1), 'smi:missing', 'smi_read of a missing file');
  smi_t_error(@() smi_info(missing), 'smi:missing', 'smi_info of a missing file');

  % Garbage: 64 KiB of random bytes, mode 0600.
  garbage = smi_t_path('garbage');
  rand('seed', 42);
  bytes = uint8(floor(256 * rand(65536, 1)));
  smi_t_write(garbage, bytes);
  e = smi_t_error(@() smi_open(garbage), 'smi:badFile', 'smi_open of garbage');
  smi_t_check(~isempty(strfind(e.message, 'IMAGESTREAM_')), 'no code name: %s', e.message);
  smi_t_error(@() smi_info(garbage), 'smi:badFile', 'smi_info of garbage');
  smi_t_error(@() smi_publish_open(garbage), 'smi:badFile', 'smi_publish_open on garbage');
  smi_t_same(smi_t_read(garbage), bytes, 'garbage left as it was');

  % Truncated: a real stream cut to 100 bytes, and to half its size.
  for cut = [100 0.5]
    path = smi_t_path('truncated');
    p = smi_publish_open(path, 'Like', zeros(64, 64, 3, 'uint8'));
    smi_send(p, zeros(64, 64, 3, 'uint8'));
    smi_close(p);
    info = dir(path);
    if cut < 1
      cut = floor(info.bytes * cut);
    end
    smi_t_truncate(path, cut);
    smi_t_error(@() smi_open(path), 'smi:badFile', sprintf('smi_open of a stream cut to %d bytes', cut));
  end

  % Truncated under an open client: the next read fails, no SIGBUS.
  path = smi_t_path('shrunk');
  p = smi_publish_open(path, 'Like', zeros(64, 64, 3, 'uint8'));
  s = smi_open(path);
  smi_send(p, ones(64, 64, 3, 'uint8'));
  smi_read(s, 5);
  smi_send(p, ones(64, 64, 3, 'uint8'));
  smi_t_truncate(path, 100);
  smi_t_error(@() smi_read(s, 1), 'smi:badFile', 'smi_read after the file shrank');
  smi_close(s);
  smi_close(p);

  % A folder.
  folder = smi_t_path('folder');
  mkdir(folder);
  smi_t_error(@() smi_open(folder), 'smi:cannotOpen', 'smi_open of a folder');
  smi_t_error(@() smi_info(folder), 'smi:cannotOpen', 'smi_info of a folder');
  smi_t_error(@() smi_publish_open(folder), 'smi:cannotOpen', 'smi_publish_open of a folder');
  rmdir(folder);

  % A second server on a live stream.
  path = smi_t_path('second');
  p = smi_publish_open(path);
  smi_t_error(@() smi_publish_open(path), 'smi:serverActive', 'a second server');

  % Wrong arguments and wrong ends.
  s = smi_open(path);
  smi_t_error(@() smi_read(42), 'smi:usage', 'smi_read(42)');
  smi_t_error(@() smi_read(s, -1), 'smi:usage', 'a negative timeout');
  smi_t_error(@() smi_read(p, 1), 'smi:isServer', 'smi_read of a server');
  smi_t_error(@() smi_send(s, uint8(1)), 'smi:notServer', 'smi_send on a client');
  smi_t_error(@() smi_send(p, int8(1)), 'smi:badFormat', 'an int8 image');
  smi_t_error(@() smi_send(p, uint16(ones(4, 4, 2, 3))), 'smi:badFormat', 'uint16 h x w x d x 3');
  smi_t_error(@() smi_send(p, uint8(1), 'Format', 'float32'), 'smi:badFormat', 'a format of another class');
  smi_t_error(@() smi_send(p, uint8(1), 'Format', 'nonsense'), 'smi:badFormat', 'an unknown format');
  smi_t_error(@() smi_send(p, complex(uint8(1), uint8(1))), 'smi:usage', 'a complex image');
  smi_t_error(@() smi_send(p, uint8(1), 'Frame', -1), 'smi:usage', 'a negative frame number');
  smi_t_error(@() smi_send(p, uint8(1), 'Colour', 1), 'smi:usage', 'an unknown option');
  smi_t_error(@() smi_publish_open(path, 'Layout', 'other'), 'smi:usage', 'an unknown layout');
  q = smi_t_path('ensight-gray');
  smi_t_error(@() smi_publish_open(q, 'Layout', 'ensight', 'Like', uint16(ones(4))), ...
              'smi:badFormat', 'gray16 in the EnSight layout');
  smi_close(s);
  smi_close(p);
  smi_t_error(@() smi_read(s, 1), 'smi:closed', 'smi_read of a closed stream');
  smi_t_error(@() smi_send(p, uint8(1)), 'smi:closed', 'smi_send on a closed stream');
  smi_close(s);   % twice: nothing
end

function smi_t_write(path, bytes)
  fid = fopen(path, 'w');
  fwrite(fid, bytes, 'uint8');
  fclose(fid);
  chmod_0600(path);
end

function bytes = smi_t_read(path)
  fid = fopen(path, 'r');
  bytes = fread(fid, Inf, '*uint8');
  fclose(fid);
end

function smi_t_truncate(path, n)
  [status, out] = system(sprintf('truncate -s %d %s', n, path));
  smi_t_check(status == 0, 'truncate: %s', out);
end

function chmod_0600(path)
  [status, out] = system(sprintf('chmod 600 %s', path));
  smi_t_check(status == 0, 'chmod: %s', out);
end
