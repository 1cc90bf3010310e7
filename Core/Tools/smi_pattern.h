/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_pattern.h -- the test pattern, a project contract: what the pixels of
 * frame number n are, in every pixel format.
 *
 * smi-publish publishes it, smi-read --verify checks it, and the Python and
 * plugin tests reuse it, so the formulas below never change. For frame number
 * n (the iFrame clients see), pixel (x, y) of a frame, x counted from the left
 * and y from the top row (y = 0), with all arithmetic on unsigned 32-bit
 * integers (wrapping) before the mask:
 *
 *   RGB8     R = (x + n) & 255
 *            G = (3*y + n) & 255
 *            B = ((x >> 8) ^ ((y >> 8) << 4) ^ (7*n)) & 255
 *   RGBA8    R, G, B as RGB8,  A = (x ^ y ^ n) & 255
 *   GRAY8    V = (x + 2*y + n) & 255
 *   GRAY16   V = (x + 256*y + n) & 65535            (stored little-endian)
 *   FLOAT32  V = 0.25f * (float)((x + 2*y + n) & 65535)   (exact in float)
 *
 * and the instrument formats, from U = (x + 256*y + n) & 65535 (GRAY16's
 * value), all little-endian:
 *
 *   INT16    V = U - 32768                  (INT16_MIN at U = 0, INT16_MAX at 65535)
 *   INT32    V = ((U << 16) | U) - 2^31     (INT32_MIN .. INT32_MAX)
 *   UINT32   V = (U << 16) | U              (0 .. UINT32_MAX)
 *   FLOAT64  V = ((double)U - 32768.0) / 3.0  (IEEE, correctly rounded)
 *
 * A 256 x 256 frame (or larger) holds every U, so every extreme.
 *
 * Why this pattern: R grows to the right and G grows downwards, so a frame
 * that is mirrored left/right or flipped top/bottom does not match; B tells
 * the 256-pixel bands apart (frames up to 4096 x 4096 have no repeated
 * pixel); every channel moves with n, so a stale frame, or one whose pixels
 * belong to another frame number, does not match. The pattern repeats every
 * 256 frames (RGB8), so a saved image tells n mod 256 by itself: n = R(0,0).
 * Python has one copy of these formulas, Testing/Tools/smi_pattern.py (bytes,
 * or a numpy array with pattern_array()), which every Python test uses;
 * Tools.Pattern checks it against this one byte for byte in every format.
 * In Python, for RGB8:
 *
 *   row = bytes(c for x in range(w) for c in
 *               ((x + n) & 255, (3*y + n) & 255, ((x >> 8) ^ ((y >> 8) << 4) ^ (7*n)) & 255))
 */
#ifndef SMI_PATTERN_H
#define SMI_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Fill one row `y` of frame `n` (width pixels of `format`) into `row`. */
void smi_pattern_fill_row(uint32_t format, uint32_t width, uint32_t y, uint32_t n, void *row);

/**
 * Fill a whole width x height frame `n` into `pixels` (rows `stride` bytes
 * apart). With bottom_up, the rows are stored bottom row first (as a caller of
 * putframe with IMAGESTREAM_OPTIONS_FLIPVERTICAL provides them), so that the
 * frame clients see is the pattern, top row first.
 */
void smi_pattern_fill(uint32_t format, uint32_t width, uint32_t height, uint32_t n,
                      void *pixels, size_t stride, int bottom_up);

/** Where a frame first differs from the pattern. */
typedef struct smi_pattern_mismatch_t {
    uint32_t x, y;          /**< first differing pixel, row by row from the top */
    uint8_t got[16];        /**< that pixel's bytes, as found */
    uint8_t expected[16];   /**< that pixel's bytes, as the pattern wants them */
    uint32_t pixel_bytes;   /**< bytes used in got/expected */
    int flipped;            /**< 1 when the frame is the pattern upside down */
    int other_frame;        /**< 1 when the frame is the pattern of another n */
    uint32_t other_n;       /**< that n, modulo 256 (RGB8/RGBA8 only) */
} smi_pattern_mismatch_t;

/**
 * Check a width x height frame `n` against the pattern, every byte.
 * @return 0 when it matches; 1 when it does not (then *where, if not NULL,
 *   says where and what, with a guess at the cause); -1 when out of memory or
 *   the format is unknown.
 */
int smi_pattern_check(uint32_t format, uint32_t width, uint32_t height, uint32_t n,
                      const void *pixels, size_t stride, smi_pattern_mismatch_t *where);

/** Write a one-line description of a mismatch ("pixel (x=3, y=0) is ..., expected ..."). */
void smi_pattern_describe_mismatch(const smi_pattern_mismatch_t *where, uint32_t format,
                                   char *text, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SMI_PATTERN_H */
