% SPDX-License-Identifier: BSD-3-Clause
function test_mkoctfile()
  % The MEX gateway built by hand as README.md says, with Octave's own
  % `mkoctfile --mex` against the shared library (warnings as errors), loads
  % in another octave-cli and reads a frame this process publishes.
  mkoctfile = smi_t_tool('SMI_MKOCTFILE');
  octave = smi_t_tool('SMI_OCTAVE_CLI');
  src = smi_t_tool('SMI_MEX_SOURCE');
  inc = smi_t_tool('SMI_INCLUDE_DIR');
  lib = smi_t_tool('SMI_LIBRARY_DIR');
  dir = [smi_t_path('mkoctfile') '.d'];
  mkdir(dir);
  smi_t_cleanup('dir', dir);
  [status, out] = system(sprintf(['%s --mex -Wall -Wextra -Werror -o %s/smi_mex.mex %s ' ...
                                  '-I%s -L%s -lshared-memory-image -Wl,-rpath,%s 2>&1'], ...
                                 mkoctfile, dir, src, inc, lib, lib));
  smi_t_check(status == 0, 'mkoctfile failed: %s', out);
  % The .m functions with the hand-built .mex, in another Octave.
  copyfile(fullfile(getenv('SMI_MATLAB_DIR'), '*.m'), dir);
  path = smi_t_path('mkoctfile');
  p = smi_publish_open(path);
  smi_send(p, uint16([1 2 3; 4 5 6]), 'Frame', 9);
  [status, out] = system(sprintf(['%s --norc --no-history --quiet --eval "addpath(''%s''); ' ...
                                  'disp(which(''smi_mex'')); [img, info] = smi_read(''%s'', 10); ' ...
                                  'printf(''%%s %%d %%s\\n'', class(img), info.frame, mat2str(img))" 2>&1'], ...
                                 octave, dir, path));
  smi_t_check(status == 0, 'the hand-built gateway failed: %s', out);
  smi_t_check(~isempty(strfind(out, [dir '/smi_mex.mex'])), 'not the hand-built .mex: %s', out);
  smi_t_check(~isempty(strfind(out, 'uint16 9 [1 2 3;4 5 6]')), 'wrong frame: %s', out);
  fprintf('  mkoctfile --mex built it warnings-clean; it read: %s', out(strfind(out, 'uint16'):end));
  smi_close(p);
end
