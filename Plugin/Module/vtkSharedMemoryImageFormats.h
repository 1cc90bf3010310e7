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
  const uint32_t bytes = f->bytes_per_channel;
  switch (f->kind)
  {
    case IMAGESTREAM_KIND_FLOAT:
      return bytes == 4 ? VTK_FLOAT : bytes == 8 ? VTK_DOUBLE : -1;
    case IMAGESTREAM_KIND_INT:
      return bytes == 2 ? VTK_SHORT : bytes == 4 ? VTK_INT : -1;
    case IMAGESTREAM_KIND_UINT:
      return bytes == 1 ? VTK_UNSIGNED_CHAR
        : bytes == 2    ? VTK_UNSIGNED_SHORT
        : bytes == 4    ? VTK_UNSIGNED_INT
                        : -1;
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
