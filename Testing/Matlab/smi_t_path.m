% SPDX-License-Identifier: BSD-3-Clause
function path = smi_t_path(tag)
  % SMI_T_PATH  A new stream file name in /dev/shm for this test process
  % (unique per call; removed at the end by smi_t_cleanup).
  persistent count
  if isempty(count)
    count = 0;
  end
  count = count + 1;
  path = sprintf('/dev/shm/smi-octave-%d-%s-%d.smi', getpid(), tag, count);
  if exist(path, 'file')
    unlink(path);
  end
  smi_t_cleanup('file', path);
end
