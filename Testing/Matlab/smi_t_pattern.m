% SPDX-License-Identifier: BSD-3-Clause
function img = smi_t_pattern(format, w, h, n)
  % SMI_T_PATTERN  The test pattern of frame N (Core/Tools/smi_pattern.h,
  % a project contract), W x H pixels of FORMAT, as smi_read returns it:
  % h x w (x channels), row 1 the top row (y = 0), in the format's class.
  % Computed here in doubles, independently of the C code.
  x = 0:(w - 1);          % 1 x w
  y = (0:(h - 1))';       % h x 1
  X = repmat(x, h, 1);
  Y = repmat(y, 1, w);
  switch format
    case {'rgb8', 'rgba8'}
      R = mod(X + n, 256);
      G = mod(3 * Y + n, 256);
      B = bitxor(bitxor(floor(X / 256), mod(floor(Y / 256) * 16, 256)), mod(7 * n, 256));
      B = bitand(B, 255);
      if strcmp(format, 'rgb8')
        img = uint8(cat(3, R, G, B));
      else
        A = bitand(bitxor(bitxor(X, Y), mod(n, 256)), 255);
        img = uint8(cat(3, R, G, B, A));
      end
    case 'gray8'
      img = uint8(mod(X + 2 * Y + n, 256));
    case 'gray16'
      img = uint16(mod(X + 256 * Y + n, 65536));
    case 'float32'
      img = single(0.25 * mod(X + 2 * Y + n, 65536));
    case 'int16'
      img = int16(mod(X + 256 * Y + n, 65536) - 32768);
    case 'int32'
      img = int32(mod(X + 256 * Y + n, 65536) * 65537 - 2^31);   % (U << 16 | U) - 2^31
    case 'uint32'
      img = uint32(mod(X + 256 * Y + n, 65536) * 65537);         % U << 16 | U
    case 'float64'
      img = (mod(X + 256 * Y + n, 65536) - 32768) / 3;
    otherwise
      error('smi_test:pattern', ['no test pattern for format %s here: add its formula ' ...
            '(Core/Tools/smi_pattern.h) to Testing/Matlab/smi_t_pattern.m'], format);
  end
end
