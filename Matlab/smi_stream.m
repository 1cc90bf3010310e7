% SPDX-License-Identifier: BSD-3-Clause
classdef smi_stream < handle
  % SMI_STREAM  An open SharedMemoryImage stream, as smi_open (a client) or
  % smi_publish_open (a server) return it. Pass it to smi_read, smi_send,
  % smi_info and smi_close; its properties Path and Role ('client' or
  % 'server') say what it is.
  %
  % The stream is released (its client slot or its server given up) by
  % smi_close, when the last variable that holds it is cleared, and for
  % every stream at once when the MEX file is unloaded: 'clear smi_mex',
  % 'clear all', 'clear functions', MATLAB's 'clear mex' (Octave's 'clear
  % mex' clears a variable named mex). A handle used after that raises
  % smi:closed.
  %
  % See also smi_open, smi_publish_open, smi_close.

  properties (SetAccess = private)
    Path = '';   % the stream file
    Role = '';   % 'client' or 'server'
  end
  properties (SetAccess = private, Hidden = true)
    Id = uint64(0);  % the handle of smi_mex; 0 once closed
  end

  methods
    function obj = smi_stream(id, path, role)
      % SMI_STREAM  (internal) Wrap handle ID of smi_mex; use smi_open or smi_publish_open.
      obj.Id = id;
      obj.Path = path;
      obj.Role = role;
    end

    function close(obj)
      % CLOSE  Release the stream now (smi_close calls this).
      if obj.Id ~= 0
        smi_mex('close', obj.Id);
        obj.Id = uint64(0);
      end
    end

    function delete(obj)
      % DELETE  Called when the last reference goes: releases the stream.
      % (It calls no other method and sets no property: after 'clear
      % functions' Octave runs it outside this class's access rights.)
      if obj.Id ~= 0
        smi_mex('close', obj.Id);
      end
    end

    function tf = isopen(obj)
      % ISOPEN  True until the stream is closed (by smi_close or clear mex).
      tf = obj.Id ~= 0 && smi_mex('isopen', obj.Id);
    end

    function disp(obj)
      % DISP  One line: role, path, open or closed.
      if isopen(obj)
        state = 'open';
      else
        state = 'closed';
      end
      fprintf('  smi_stream: %s of %s (%s)\n', obj.Role, obj.Path, state);
    end
  end
end
