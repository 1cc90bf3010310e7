/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_image.h -- image files for the tools: saving a frame as PNG (through
 * libpng) or binary Netpbm, and reading a binary PPM.
 *
 * Every function returns 0, or -1 with a message (naming the file and the
 * cause, from errno where that applies) in err[errsize]. A file that could not
 * be written completely is removed.
 */
#ifndef SMI_IMAGE_H
#define SMI_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/**
 * Save a frame of IMAGESTREAM_FORMAT_* `format` to `path`: PNG when the name
 * ends in ".png" (any case), otherwise binary Netpbm.
 *   format   PNG                              Netpbm
 *   RGB8     colour type 2 (RGB), 8 bits      P6, maxval 255
 *   RGBA8    colour type 6 (RGBA), 8 bits     P6, maxval 255, alpha dropped
 *   GRAY8    colour type 0 (grey), 8 bits     P5, maxval 255
 *   GRAY16   colour type 0 (grey), 16 bits    P5, maxval 65535
 * 16-bit samples are little-endian in the frame and big-endian in both files.
 * PNG rows all use filter type 0 (None); the data is zlib-compressed. FLOAT32,
 * INT16, INT32, UINT32 and FLOAT64 frames cannot be saved (neither file holds
 * their values): -1 with a message that names the format. `pixels`: top row first, rows `stride` bytes apart.
 */
int smi_image_save(const char *path, uint32_t format, uint32_t width, uint32_t height,
                   const void *pixels, size_t stride, char *err, size_t errsize);

/**
 * Read a binary PPM (P6, maxval 255, '#' comments allowed, each side at most
 * 65536) into a malloc'ed packed RGB8 buffer, top row first; the caller frees
 * *rgb.
 */
int smi_image_read_ppm(const char *path, uint32_t *width, uint32_t *height, uint8_t **rgb,
                       char *err, size_t errsize);

#endif /* SMI_IMAGE_H */
