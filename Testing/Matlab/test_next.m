% SPDX-License-Identifier: BSD-3-Clause
function test_next()
  % smi_next reads every frame in order with an exact count of the ones
  % missed, against smi-publish in another process: a queue client attached
  % before a burst of 100 frames into 4 buffers, read after it, gets the 4
  % the file holds (96..99, pixel-exact) and info.lost 96 at the first, 0
  % after, then a timeout; a history of 6 frames in 8 buffers comes out
  % 0..5, none lost; a reliable client reads like a queue client; smi_next
  % refuses a newest-mode client and an EnSight-layout stream, smi_open a
  % bad option.
  publish = smi_t_tool('SMI_PUBLISH');

  path = smi_t_path('next-burst');
  smi_t_check(system(sprintf('%s -q -s 64x48 -n 0 %s', publish, path)) == 0, 'setup');
  s = smi_open(path, 'Queue', true);                   % before the burst
  smi_t_check(system(sprintf('%s -q -s 64x48 -r 0 -n 100 -b 4:4 %s', publish, path)) == 0, ...
              'burst');
  got = 0;
  lost = 0;
  for want = 96:99
    [img, info] = smi_next(s, 10);
    smi_t_check(info.frame == want, 'frame %d, expected %d', info.frame, want);
    smi_t_check(info.lost == (want == 96) * 96, 'frame %d: lost %d', info.frame, info.lost);
    smi_t_same(img, smi_t_pattern('rgb8', 64, 48, want), sprintf('frame %d', want));
    got = got + 1;
    lost = lost + info.lost;
  end
  smi_t_check(got + lost == 100, 'got %d + lost %d is not 100', got, lost);
  smi_t_error(@() smi_next(s, 0.1), 'smi:timeout', 'smi_next after the last frame');
  fprintf('  burst of 100 into 4 buffers: frames 96..99, lost exactly 96\n');
  smi_close(s);

  path = smi_t_path('next-history');
  smi_t_check(system(sprintf('%s -q -s 64x48 -r 0 -n 6 -b 8:8 %s', publish, path)) == 0, ...
              'history');
  for mode = {'Queue', 'Reliable'}
    s = smi_open(path, mode{1}, true);
    for want = 0:5
      [img, info] = smi_next(s, 10);
      smi_t_check(info.frame == want && info.lost == 0, '%s: frame %d (lost %d), expected %d', ...
                  mode{1}, info.frame, info.lost, want);
      smi_t_same(img, smi_t_pattern('rgb8', 64, 48, want), sprintf('%s %d', mode{1}, want));
    end
    smi_close(s);
    fprintf('  history of 6 frames, %s: 0..5 in order, none lost\n', mode{1});
  end

  s = smi_open(path);
  [img, info] = smi_read(s, 10);
  smi_t_check(info.frame == 5 && info.lost == 0, 'smi_read: frame %d', info.frame);
  smi_t_error(@() smi_next(s, 1), 'smi:usage', 'smi_next on a newest-mode client');
  smi_close(s);
  smi_t_error(@() smi_open(path, 'Queue'), 'smi:usage', 'smi_open without a value');

  path = smi_t_path('next-ensight');
  smi_t_check(system(sprintf('%s -q --ensight -s 64x48 -n 1 %s', publish, path)) == 0, ...
              'ensight');
  s = smi_open(path, 'Queue', true);
  smi_t_error(@() smi_next(s, 1), 'smi:badFile', 'smi_next on an EnSight-layout stream');
  smi_close(s);
end
