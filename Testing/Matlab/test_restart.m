% SPDX-License-Identifier: BSD-3-Clause
function test_restart()
  % A stream whose server restarts: one smi_open handle reads frames of
  % the first server, then, without opening again, pixel-exact frames of a
  % second server on the same file, with numbers that keep increasing; in
  % both layouts with smi-publish, and with Octave's own server.
  publish = smi_t_tool('SMI_PUBLISH');
  for layout = {'', '--ensight'}
    path = smi_t_path('restart');
    pid = smi_t_spawn('%s -q %s -s 64x48 -r 50 -t 60 %s', publish, layout{1}, path);
    s = smi_t_attach(path);
    [img, a] = smi_read(s, 20);
    smi_t_same(img, smi_t_pattern('rgb8', 64, 48, a.frame), 'first server');
    kill(pid, 9);                                        % the server dies
    smi_t_check(~isempty(smi_t_exit(pid, 10)), 'smi-publish did not die');
    pid = smi_t_spawn('%s -q %s -s 64x48 -r 50 -t 60 %s', publish, layout{1}, path);
    last = a.frame;
    for k = 1:3
      [img, b] = smi_read(s, 20);
      smi_t_check(b.frame > last, '%s: frame %d after %d', layout{1}, b.frame, last);
      smi_t_same(img, smi_t_pattern('rgb8', 64, 48, b.frame), 'second server');
      last = b.frame;
    end
    fprintf('  %-9s frame %d of the first server, then %d of the second, exact\n', ...
            layout{1}, a.frame, last);
    smi_close(s);
    kill(pid, 15);
    smi_t_exit(pid, 10);
  end

  % Octave's own server, closed and opened again (a new server on the file).
  path = smi_t_path('restart-octave');
  p = smi_publish_open(path, 'Like', zeros(10, 20, 'uint8'));
  s = smi_open(path);
  smi_send(p, uint8(magic(10)(:, [1:10 1:10])), 'Frame', 5);
  [img, a] = smi_read(s, 10);
  smi_close(p);
  p = smi_publish_open(path);
  smi_send(p, uint8(7 * ones(10, 20)), 'Frame', 6);
  [img, b] = smi_read(s, 10);
  smi_t_check(b.frame > a.frame, 'octave restart: frame %d after %d', b.frame, a.frame);
  smi_t_same(img, uint8(7 * ones(10, 20)), 'octave restart');
  fprintf('  Octave server restarted: frame %d after %d, exact\n', b.frame, a.frame);
  smi_close(s);
  smi_close(p);
end
