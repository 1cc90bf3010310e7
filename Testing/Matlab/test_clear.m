% SPDX-License-Identifier: BSD-3-Clause
function test_clear()
  % Clearing releases streams: the last variable holding a stream, and
  % unloading the MEX file ('clear smi_mex', 'clear functions', 'clear all';
  % MATLAB's 'clear mex', which in Octave clears a variable named mex) for
  % every stream at once, with frames in hand (they stay valid: they are
  % copies); no lock, client slot or server is left behind, a handle from
  % before the unload raises smi:closed and never reaches a stream opened
  % since.
  path = smi_t_path('clear');
  p = smi_publish_open(path, 'Like', zeros(16, 16, 3, 'uint8'));
  frame = smi_t_pattern('rgb8', 16, 16, 3);
  smi_send(p, frame, 'Frame', 3);
  s = smi_open(path);
  t = s;                                   % a second variable, same stream
  img = smi_read(s, 5);
  smi_t_check(smi_info(path).clients == 1, 'one client expected');
  clear s
  smi_t_check(smi_info(path).clients == 1, 'cleared one of two variables: still attached');
  clear t
  smi_t_check(smi_info(path).clients == 0, 'cleared the last variable: still attached');
  smi_t_same(img, frame, 'frame in hand after clear');

  % clear smi_mex with two clients and the server open, a frame in hand.
  a = smi_open(path);
  b = smi_open(path);
  smi_send(p, frame, 'Frame', 4);
  img = smi_read(a, 5);
  info = smi_info(path);
  smi_t_check(info.clients == 2 && info.server_alive, 'before clear: %d clients', info.clients);
  clear smi_mex
  info = smi_info(path);
  smi_t_check(info.clients == 0 && ~info.server_alive, ...
              'after clear smi_mex: %d clients, server alive %d', info.clients, info.server_alive);
  smi_t_check(all([info.buffers.holders] == 0), 'a buffer is still held after clear smi_mex');
  smi_t_same(img, frame, 'frame in hand after clear smi_mex');
  smi_t_check(~isopen(a) && ~isopen(p), 'handles still open after clear smi_mex');
  smi_t_error(@() smi_read(a, 1), 'smi:closed', 'a handle from before clear smi_mex');
  smi_t_error(@() smi_send(p, frame), 'smi:closed', 'a server handle from before clear smi_mex');

  % New streams after the unload: old handles do not reach them.
  p2 = smi_publish_open(path);
  c = smi_open(path);
  smi_t_error(@() smi_read(b, 0), 'smi:closed', 'an old handle after new streams opened');
  smi_close(b);                             % closing a stale handle closes nothing new
  smi_send(p2, frame, 'Frame', 5);
  [img, info] = smi_read(c, 5);
  smi_t_check(info.frame == 5, 'new client read frame %d', info.frame);
  smi_t_check(smi_info(path).clients == 1, 'the new client was detached by an old handle');
  clear a b p
  smi_t_check(smi_info(path).clients == 1 && smi_info(path).server_alive, ...
              'clearing stale handles released the new streams');

  % clear functions: the same.
  d = smi_open(path);
  smi_t_check(smi_info(path).clients == 2, 'two clients expected');
  clear functions
  smi_t_check(smi_info(path).clients == 0 && ~smi_info(path).server_alive, ...
              'after clear functions: %d clients', smi_info(path).clients);
  smi_t_error(@() smi_read(d, 0), 'smi:closed', 'a handle from before clear functions');
  p3 = smi_publish_open(path);
  e = smi_open(path);

  % clear all: everything goes.
  clear all
  path = smi_t_pathlast();
  smi_t_cleanup('file', path);             % its list went with clear all
  info = smi_info(path);
  smi_t_check(info.clients == 0 && ~info.server_alive, 'after clear all: %d clients', info.clients);
  % Octave warned if a delete method failed (as after clear functions).
  [msg, id] = lastwarn();
  smi_t_check(isempty(strfind(msg, 'delete method')), 'a delete method failed: %s', msg);
  fprintf('  clear, clear smi_mex, clear functions and clear all release their streams; frames in hand stay\n');
end

function path = smi_t_pathlast()
  % The stream file of this test, found again after 'clear all'.
  files = glob(sprintf('/dev/shm/smi-octave-%d-clear-*.smi', getpid()));
  path = files{end};
end
