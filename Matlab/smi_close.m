% SPDX-License-Identifier: BSD-3-Clause
function smi_close(s)
  % SMI_CLOSE  Release a SharedMemoryImage stream.
  %
  %   smi_close(S) detaches the client S (from smi_open) or stops serving
  %   the stream S (from smi_publish_open; the file and its last frames stay
  %   for a new server). Closing a closed stream does nothing. Clearing the
  %   last variable that holds S releases it too, and unloading the MEX file
  %   releases every stream: 'clear smi_mex', 'clear all', 'clear functions'
  %   (and MATLAB's 'clear mex').
  %
  %   See also smi_open, smi_publish_open.
  if nargin < 1 || ~isa(s, 'smi_stream')
    error('smi:usage', 'usage: smi_close(s), s from smi_open or smi_publish_open');
  end
  close(s);
end
