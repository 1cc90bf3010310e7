/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_formats.h -- pixel formats and frame sizes, in one place (smi_formats.c):
 * the format table, made from the public SMI_FORMAT_LIST, and the
 * overflow-checked size of a frame. Both layouts and the public API take
 * them from here; smi_formats.c calls nothing else of the library.
 */
#ifndef SMI_FORMATS_H
#define SMI_FORMATS_H

#include <stdint.h>

#include "shared_memory_image.h"

/* The library's internal symbols (everything is hidden by default too). */
#define SMI_HIDDEN __attribute__((visibility("hidden")))

/* The table entry of `format` (IMAGESTREAM_FORMAT_*), NULL when unknown. */
SMI_HIDDEN const SharedMemoryImageFormatInfo *smi_format_info(uint32_t format);

/* Bytes per pixel of `format`, 0 when unknown. */
SMI_HIDDEN uint32_t smi_format_bpp(uint32_t format);

/* smi_frame_size() answers. */
enum {
    SMI_SIZE_OK = 0,
    SMI_SIZE_INVALID = -1, /* an unknown format, or a width, height or depth of 0 */
    SMI_SIZE_OVERFLOW = -2 /* more bytes than 64 bits count */
};

/* Bytes of a frame of `format`, width x height pixels, `depth` slices, into
   *bytes (0 unless SMI_SIZE_OK). Every value is checked: the callers pass
   fields read from the file as well as a caller's description. */
SMI_HIDDEN int smi_frame_size(uint32_t format, uint32_t width, uint32_t height, uint32_t depth,
                              uint64_t *bytes);

#endif /* SMI_FORMATS_H */
