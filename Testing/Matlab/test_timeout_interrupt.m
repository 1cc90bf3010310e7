% SPDX-License-Identifier: BSD-3-Clause
function test_timeout_interrupt()
  % A read with no frame coming ends with smi:timeout after its timeout
  % (0 s: at once); Ctrl-C (SIGINT) during a read that would wait for ever
  % returns an interactive octave-cli to its prompt within a second or so,
  % with the stream still open and usable, and nothing left attached once
  % that Octave ends.
  path = smi_t_path('timeout');
  p = smi_publish_open(path);
  s = smi_open(path);
  t0 = tic;
  e = smi_t_error(@() smi_read(s, 1), 'smi:timeout', 'smi_read(s, 1) without frames');
  took = toc(t0);
  smi_t_check(took >= 0.9 && took < 30, 'the 1 s timeout took %.2f s', took);
  smi_t_check(~isempty(strfind(e.message, path)), 'message: %s', e.message);
  t0 = tic;
  smi_t_error(@() smi_read(s, 0), 'smi:timeout', 'smi_read(s, 0) without frames');
  smi_t_check(toc(t0) < 10, 'smi_read(s, 0) took %.2f s', toc(t0));
  smi_t_error(@() smi_read(path, 0.2), 'smi:timeout', 'smi_read(path, 0.2) without frames');
  % A frame sent now is read at once.
  smi_send(p, uint8([1 2; 3 4]));
  smi_t_same(smi_read(s, 0), uint8([1 2; 3 4]), 'frame after a timeout');
  smi_close(s);

  % Ctrl-C: an interactive octave-cli (commands on its stdin) waits for ever
  % on a stream with no frame yet; SIGINT must bring it back to its prompt.
  smi_close(p);
  path = smi_t_path('interrupt');
  p = smi_publish_open(path);
  octave = smi_t_tool('SMI_OCTAVE_CLI');
  dir = getenv('SMI_MATLAB_DIR');
  script = [path '.cmds'];
  out = [path '.out'];
  smi_t_cleanup('file', script);
  smi_t_cleanup('file', out);
  fid = fopen(script, 'w');
  fprintf(fid, 'addpath(''%s''); s = smi_open(''%s''); t0 = tic; fprintf(''WAITING\\n''); fflush(stdout); img = smi_read(s, Inf);\n', dir, path);
  fprintf(fid, 'fprintf(''BACK after %%.2f s, open %%d\\n'', toc(t0), isopen(s)); fflush(stdout);\n');
  fprintf(fid, '[img, info] = smi_read(s, 20); fprintf(''READ %%d\\n'', info.frame); exit(0)\n');
  fclose(fid);
  pid = smi_t_spawn('%s --norc --no-history --quiet --interactive < %s > %s 2>&1', octave, script, out);
  smi_t_until(@() ~isempty(strfind(fileread(out), 'WAITING')) && smi_info(path).clients >= 1, ...
              30, 'waiting: the child Octave');
  pause(1.5);                                            % well inside smi_read by now
  t0 = tic;
  kill(pid, SIG().INT);
  smi_t_until(@() ~isempty(strfind(fileread(out), 'BACK')), 20, 'back at the prompt after SIGINT');
  took = toc(t0);
  text = fileread(out);
  smi_t_check(~isempty(strfind(text, 'open 1')), 'the stream is closed after Ctrl-C: %s', text);
  waited = sscanf(text(strfind(text, 'BACK after') + 10:end), '%f', 1);
  smi_t_check(waited >= 1.4, 'smi_read came back after %.2f s, before SIGINT: %s', waited, text);
  smi_send(p, uint8(9), 'Frame', 42);
  status = smi_t_exit(pid, 30);
  text = fileread(out);
  smi_t_check(isequal(status, 0) && ~isempty(strfind(text, 'READ 42')), ...
              'the child did not read on after Ctrl-C (exit %s): %s', mat2str(status), text);
  fprintf('  Ctrl-C: back at the prompt %.2f s after SIGINT, stream still usable\n', took);
  smi_t_until(@() smi_info(path).clients == 0, 10, 'detached: the child Octave');
  smi_close(p);
end
