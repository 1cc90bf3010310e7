% SPDX-License-Identifier: BSD-3-Clause
function results = smi_bench(varargin)
  % SMI_BENCH  Frames/s of smi_read against Octave's own fread, in one run.
  %
  %   smi_bench() publishes a 1920 x 1080 RGB test pattern as fast as it can
  %   with smi-publish (another process) into a stream in /dev/shm and
  %   prints, for a few seconds each:
  %     - smi_read frames/s: the newest frame, upright, as a 1080 x 1920 x 3
  %       uint8 array (the library's guarded copy, then the transpose in C),
  %       with smi-publish running flat out beside it (both share the
  %       CPUs), and alone: only the smi_read calls timed, with a frame
  %       always ready (this process publishes one between two reads);
  %     - fread frames/s: the same bytes (one frame, 6.2 MB) read from a file
  %       in /dev/shm with fopen/fread/fclose, as a flat uint8 vector, and
  %       then turned into the same upright array with reshape/permute;
  %     - the transpose alone (C, the kernel smi_read uses) against memcpy
  %       of the same bytes, and Octave's permute of them (the fastest of
  %       several rounds each: the least disturbed by other processes).
  %
  %   Options (name/value): 'Seconds' per measurement (default 3), 'Size'
  %   [height width] (default [1080 1920]), 'Publisher' the smi-publish
  %   program (default: $SMI_PUBLISH, else smi-publish on the PATH).
  %   RESULTS is a struct of the figures printed. Octave only (it starts
  %   and stops the publisher with Octave's system(..., 'async'), kill and
  %   waitpid).
  %
  %   See also smi_read.
  opts = smi_parse_options(varargin, struct('Seconds', 3, 'Size', [1080 1920], ...
                                            'Publisher', getenv('SMI_PUBLISH')), 'smi_bench');
  if isempty(opts.Publisher)
    opts.Publisher = 'smi-publish';
  end
  h = opts.Size(1);
  w = opts.Size(2);
  bytes = h * w * 3;
  stream = sprintf('/dev/shm/smi-bench-%d.smi', getpid());
  plain = sprintf('/dev/shm/smi-bench-%d.raw', getpid());
  cleanup = onCleanup(@() smi_bench_cleanup(stream, plain));

  % The publisher: another process, as fast as it can.
  cmd = sprintf('exec %s -q -r 0 -s %dx%d %s', opts.Publisher, w, h, stream);
  pid = system(cmd, false, 'async');
  cleanup_pid = onCleanup(@() smi_bench_stop(pid));
  s = [];
  t0 = tic;
  while isempty(s)
    try
      s = smi_open(stream);
    catch err
      if toc(t0) > 10
        rethrow(err);
      end
      pause(0.05);
    end
  end
  [img, info] = smi_read(s, 10);

  % smi_read: new frames only (each call waits for the next one).
  n = 0;
  first = info.frame;
  t0 = tic;
  while toc(t0) < opts.Seconds
    [img, info] = smi_read(s, 10);
    n = n + 1;
  end
  elapsed = toc(t0);
  results.smi_read_fps = n / elapsed;
  results.published_fps = (info.frame - first) / elapsed;
  smi_close(s);
  smi_bench_stop(pid);

  % smi_read alone: a frame is always ready (this process publishes it
  % between two reads), only the smi_read calls are timed.
  p = smi_publish_open(stream, 'Like', img);
  s = smi_open(stream);
  n = 0;
  spent = 0;
  t0 = tic;
  while toc(t0) < opts.Seconds
    smi_send(p, img);
    t1 = tic;
    img = smi_read(s, 10);
    spent = spent + toc(t1);
    n = n + 1;
  end
  results.smi_read_ready_fps = n / spent;
  smi_close(s);
  smi_close(p);

  % fread of the same bytes from a file in /dev/shm.
  fid = fopen(plain, 'w');
  fwrite(fid, permute(img, [3 2 1]), 'uint8');
  fclose(fid);
  [results.fread_fps, raw] = smi_bench_loop(@() smi_bench_fread(plain, bytes), opts.Seconds);
  results.fread_permute_fps = smi_bench_loop(@() permute(reshape(smi_bench_fread(plain, bytes), ...
                                                  3, w, h), [3 2 1]), opts.Seconds);
  if ~isequal(permute(reshape(raw, 3, w, h), [3 2 1]), img)
    error('smi:bench', 'the fread copy differs from the frame smi_read returned');
  end

  % The transpose alone: C kernel (rows -> columns), memcpy, Octave's permute.
  reps = max(5, round(opts.Seconds * 20));
  t = smi_mex('transpose_time', 'rgb8', w, h, reps);
  results.transpose_ms = 1e3 * t(1);
  results.transpose_back_ms = 1e3 * t(2);
  results.memcpy_ms = 1e3 * t(3);
  results.permute_ms = Inf;
  for r = 1:reps
    t1 = tic;
    x = permute(reshape(raw, 3, w, h), [3 2 1]);
    results.permute_ms = min(results.permute_ms, 1e3 * toc(t1));
  end

  fprintf('SharedMemoryImage %s, %d x %d RGB (%.1f MB per frame), %g s each\n', ...
          smi_mex('version'), w, h, bytes / 1e6, opts.Seconds);
  fprintf('  smi_read, smi-publish flat out beside it    %8.1f frames/s  (publisher: %.1f frames/s)\n', ...
          results.smi_read_fps, results.published_fps);
  fprintf('  smi_read alone (a frame always ready)       %8.1f frames/s  (upright h x w x 3 uint8)\n', ...
          results.smi_read_ready_fps);
  fprintf('  fread of the same bytes from /dev/shm       %8.1f frames/s  (flat vector)\n', ...
          results.fread_fps);
  fprintf('  fread + reshape/permute to h x w x 3        %8.1f frames/s\n', results.fread_permute_fps);
  fprintf('  transpose in C (frame -> MATLAB order)      %8.2f ms  (back: %.2f ms; memcpy %.2f ms; best of %d)\n', ...
          results.transpose_ms, results.transpose_back_ms, results.memcpy_ms, reps);
  fprintf('  Octave permute of the same bytes            %8.2f ms  (best of %d)\n', results.permute_ms, reps);
end

function data = smi_bench_fread(path, bytes)
  fid = fopen(path, 'r');
  data = fread(fid, bytes, '*uint8');
  fclose(fid);
end

function [rate, last] = smi_bench_loop(fn, seconds)
  n = 0;
  t0 = tic;
  while toc(t0) < seconds
    last = fn();
    n = n + 1;
  end
  rate = n / toc(t0);
end

function smi_bench_stop(pid)
  % Stop the publisher once (it may be gone already).
  [p, ~] = waitpid(pid, WNOHANG);
  if p == 0
    kill(pid, 15);
    waitpid(pid);
  end
end

function smi_bench_cleanup(stream, plain)
  for f = {stream, plain}
    if exist(f{1}, 'file')
      delete(f{1});
    end
  end
end
