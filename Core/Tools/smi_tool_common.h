/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_tool_common.h -- helpers shared by the command-line tools (smi-info,
 * smi-publish, smi-read, smi-bench): a monotonic clock, a stop flag for
 * SIGINT/SIGTERM, option parsing, the test pattern, and PPM/PNG image files
 * written without any image library.
 *
 * Not part of the library's API: the tools link it in as a source file.
 *
 * ---- The test pattern (a project contract) --------------------------------
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
 * Why this pattern: R grows to the right and G grows downwards, so a frame
 * that is mirrored left/right or flipped top/bottom does not match; B tells
 * the 256-pixel bands apart (frames up to 4096 x 4096 have no repeated
 * pixel); every channel moves with n, so a stale frame, or one whose pixels
 * belong to another frame number, does not match. The pattern repeats every
 * 256 frames (RGB8), so a saved image tells n mod 256 by itself: n = R(0,0).
 * In Python, for RGB8:
 *
 *   row = bytes(c for x in range(w) for c in
 *               ((x + n) & 255, (3*y + n) & 255, ((x >> 8) ^ ((y >> 8) << 4) ^ (7*n)) & 255))
 */
#ifndef SMI_TOOL_COMMON_H
#define SMI_TOOL_COMMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "shared_memory_image_client_priv.h"

/* ---- Time ----------------------------------------------------------------- */

/** Nanoseconds on CLOCK_MONOTONIC (never jumps; start point unspecified). */
/* Print "TOOL: MESSAGE[: 'ARG']" and a --help hint to stderr; returns 2,
   the usage-error exit status. */
int smi_tool_usage_error(const char *tool, const char *message, const char *arg);

uint64_t smi_tool_now_ns(void);
/** Seconds on CLOCK_MONOTONIC, as a double. */
double smi_tool_now_s(void);
/** Seconds since the UNIX epoch (CLOCK_REALTIME). */
double smi_tool_unix_time(void);
/** Sleep until CLOCK_MONOTONIC reaches deadline_ns. Returns early (and
    without error) when a signal arrives, so callers re-check smi_tool_stop. */
void smi_tool_sleep_until_ns(uint64_t deadline_ns);

/* ---- Stop on SIGINT / SIGTERM --------------------------------------------- */

/** Set to the signal number by the handler installed below; 0 until then. */
extern volatile sig_atomic_t smi_tool_stop;
/** Install a handler for SIGINT, SIGTERM and SIGHUP that sets smi_tool_stop
    (without SA_RESTART, so sleeps end early). Returns 0, or -1 with errno. */
int smi_tool_install_stop_handler(void);

/* ---- Option parsing --------------------------------------------------------
 * Each returns 0 and stores the value, or -1 (value untouched) when the text is
 * not entirely a valid value. None prints anything.
 */

/** Print "PROG: unknown option ..." or "PROG: option ... needs a value" to
    stderr for what getopt_long() just returned as `c` ('?' or ':'; use an
    optstring starting with ':' and set opterr = 0). */
void smi_tool_option_error(const char *prog, int c, char **argv);

/** Decimal unsigned integer, 0 .. UINT32_MAX (no sign, no spaces). */
int smi_tool_parse_u32(const char *text, uint32_t *value);
/** Decimal unsigned integer, 0 .. UINT64_MAX. */
int smi_tool_parse_u64(const char *text, uint64_t *value);
/** A finite, non-negative number (seconds, hertz): "60", "0.5", "1e-3". */
int smi_tool_parse_nonneg(const char *text, double *value);
/** "WIDTHxHEIGHT" (or 'X'), both 1 .. 65536: "640x480". */
int smi_tool_parse_size(const char *text, uint32_t *width, uint32_t *height);
/** A pixel format name: rgb8, rgba8, gray8, gray16, float32 (any case). */
int smi_tool_parse_format(const char *text, uint32_t *format);
/** Bytes per pixel of an IMAGESTREAM_FORMAT_*, 0 if unknown (no library call). */
uint32_t smi_tool_format_bytes(uint32_t format);
/** Name of an IMAGESTREAM_FORMAT_* ("rgb8", ...), "unknown" if unknown. */
const char *smi_tool_format_name(uint32_t format);

/* ---- Why a file was refused ----------------------------------------------- */

/**
 * After IMAGESTREAM_UNSAFE_FILE for `path`: what the path is, for a message,
 * as " (a FIFO)", " (a symbolic link)", " (owned by uid 1000, not 0)",
 * " (mode 0666: group or others may write it)"; "" when nothing is found
 * (the file changed meanwhile). Looks at the path without following it.
 */
void smi_tool_unsafe_detail(const char *path, char *out, size_t n);

/* ---- Test pattern (see the top of this file) ----------------------------- */

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

/** Write a one-line description of a mismatch ("pixel (3, 0) is 1,2,3, expected ..."). */
void smi_pattern_describe_mismatch(const smi_pattern_mismatch_t *where, uint32_t format,
                                   char *text, size_t size);

/* ---- Image files -----------------------------------------------------------
 * All return 0, or -1 with a message (naming the file and the cause, from
 * errno where that applies) in err[errsize]. A file that could not be written
 * completely is removed.
 */

/**
 * Save a frame to `path`: PNG when the name ends in ".png" (any case),
 * otherwise binary Netpbm (P6 PPM for RGB8/RGBA8, alpha dropped; P5 PGM for
 * GRAY8/GRAY16). PNG keeps RGBA8 (colour type 6) and GRAY8/GRAY16 (colour
 * type 0, 8 or 16 bits). FLOAT32 frames cannot be saved.
 * `pixels`: top row first, rows `stride` bytes apart.
 */
int smi_image_save(const char *path, uint32_t format, uint32_t width, uint32_t height,
                   const void *pixels, size_t stride, char *err, size_t errsize);

/** Write packed RGB8 as a binary PPM (P6, maxval 255). */
int smi_image_write_ppm(const char *path, uint32_t width, uint32_t height, const uint8_t *rgb,
                        size_t stride, char *err, size_t errsize);

/**
 * Write a PNG with no compression library: one IHDR, the zlib stream made of
 * deflate "stored" blocks (Adler-32 computed here) in IDAT chunks of at most
 * 64 KiB (CRC-32 computed here), and IEND. `channels` 1 (gray), 3 (RGB) or 4
 * (RGBA); `bit_depth` 8, or 16 for gray (samples given little-endian, as the
 * stream stores them; written big-endian as PNG wants).
 */
int smi_image_write_png(const char *path, uint32_t width, uint32_t height, uint32_t channels,
                        uint32_t bit_depth, const uint8_t *pixels, size_t stride, char *err,
                        size_t errsize);

/**
 * Read a binary PPM (P6, maxval 255, '#' comments allowed) into a malloc'ed
 * packed RGB8 buffer, top row first; the caller frees *rgb.
 */
int smi_image_read_ppm(const char *path, uint32_t *width, uint32_t *height, uint8_t **rgb,
                       char *err, size_t errsize);

/** CRC-32 (ISO-HDLC, as PNG and zlib use) of `size` bytes, continuing from `crc`
    (start with 0). */
uint32_t smi_crc32(uint32_t crc, const void *data, size_t size);
/** Adler-32 of `size` bytes, continuing from `adler` (start with 1). */
uint32_t smi_adler32(uint32_t adler, const void *data, size_t size);

#endif /* SMI_TOOL_COMMON_H */
