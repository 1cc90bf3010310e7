// SPDX-License-Identifier: BSD-3-Clause
/**
 * @file   vtkSharedMemoryImageFormats.h
 * @brief  Stream pixel formats as VTK scalars, from the library's one format
 *         table (SMI_FORMAT_LIST). Private to the module.
 */
#ifndef vtkSharedMemoryImageFormats_h
#define vtkSharedMemoryImageFormats_h

#include "shared_memory_image.h"
#include "vtkType.h"

namespace smi
{
/// VTK scalar type of one channel value of `format`, or -1 for a format (or
/// value type) VTK images here do not carry.
inline int VTKTypeOfFormat(uint32_t format, int* components)
{
  const SharedMemoryImageFormatInfo* f = SharedMemoryImageStream_formatinfo(format);
  if (!f)
  {
    return -1;
  }
  *components = static_cast<int>(f->channels);
  if (f->kind == IMAGESTREAM_KIND_FLOAT)
  {
    return f->bytes_per_channel == 4 ? VTK_FLOAT : -1;
  }
  switch (f->bytes_per_channel)
  {
    case 1:
      return VTK_UNSIGNED_CHAR;
    case 2:
      return VTK_UNSIGNED_SHORT;
    default:
      return -1;
  }
}

/// The stream format whose pixels are `components` values of VTK scalar type
/// `type`, or -1 when there is none.
inline int FormatOfVTKType(int type, int components)
{
  int comps = 0;
#define SMI_MATCH_FORMAT(fmt, channels, bytes, kind, name)                                     \
  if (VTKTypeOfFormat(IMAGESTREAM_FORMAT_##fmt, &comps) == type && comps == components)        \
  {                                                                                            \
    return IMAGESTREAM_FORMAT_##fmt;                                                           \
  }
  SMI_FORMAT_LIST(SMI_MATCH_FORMAT)
#undef SMI_MATCH_FORMAT
  return -1;
}
} // namespace smi

#endif
