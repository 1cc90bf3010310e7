% SPDX-License-Identifier: BSD-3-Clause
function smi_t_same(got, expected, what)
  % SMI_T_SAME  Fail unless GOT is EXPECTED exactly: class, size and every
  % byte (floats compared bit for bit, so NaN and -0 count too).
  smi_t_check(strcmp(class(got), class(expected)), '%s: class %s, expected %s', what, ...
              class(got), class(expected));
  smi_t_check(isequal(size(got), size(expected)), '%s: size %s, expected %s', what, ...
              mat2str(size(got)), mat2str(size(expected)));
  a = typecast(got(:), 'uint8');
  b = typecast(expected(:), 'uint8');
  bad = find(a ~= b, 1);
  if ~isempty(bad)
    per = numel(a) / numel(got);
    k = floor((bad - 1) / per) + 1;
    sub = cell(1, ndims(got));
    [sub{:}] = ind2sub(size(got), k);
    error('smi_test:pixels', '%s: element %s is %s, expected %s', what, ...
          mat2str(cell2mat(sub)), num2str(double(got(k))), num2str(double(expected(k))));
  end
end
