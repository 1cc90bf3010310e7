/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_tool_common.c -- helpers shared by the command-line tools: clock, stop
 * flag, option parsing, the test pattern (specified in smi_tool_common.h) and
 * PPM/PNG files written by hand (no libpng, no zlib).
 */
#include "smi_tool_common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- Time ----------------------------------------------------------------- */

uint64_t smi_tool_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double smi_tool_now_s(void)
{
    return (double)smi_tool_now_ns() * 1e-9;
}

double smi_tool_unix_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void smi_tool_sleep_until_ns(uint64_t deadline_ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
    ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    /* EINTR ends the sleep on purpose: the caller checks smi_tool_stop. */
    (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* ---- Stop flag ------------------------------------------------------------ */

volatile sig_atomic_t smi_tool_stop = 0;

static void smi_tool_on_signal(int sig)
{
    smi_tool_stop = sig;
}

int smi_tool_install_stop_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = smi_tool_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let sleeps and waits return early */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    return 0;
}

/* ---- Option parsing ------------------------------------------------------- */

void smi_tool_option_error(const char *prog, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':') {
        if (strncmp(arg, "--", 2) == 0)
            fprintf(stderr, "%s: option '%s' needs a value\n", prog, arg);
        else
            fprintf(stderr, "%s: option '-%c' needs a value\n", prog, optopt);
    } else if (optopt != 0 && strncmp(arg, "--", 2) != 0) {
        fprintf(stderr, "%s: unknown option '-%c'\n", prog, optopt);
    } else {
        fprintf(stderr, "%s: unknown option '%s'\n", prog, arg);
    }
}

int smi_tool_parse_u64(const char *text, uint64_t *value)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *value = (uint64_t)v;
    return 0;
}

int smi_tool_parse_u32(const char *text, uint32_t *value)
{
    uint64_t v;
    if (smi_tool_parse_u64(text, &v) != 0 || v > UINT32_MAX)
        return -1;
    *value = (uint32_t)v;
    return 0;
}

int smi_tool_parse_nonneg(const char *text, double *value)
{
    if (text == NULL || text[0] == '\0' || isspace((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v) || v < 0.0)
        return -1;
    *value = v;
    return 0;
}

int smi_tool_parse_size(const char *text, uint32_t *width, uint32_t *height)
{
    if (text == NULL)
        return -1;
    const char *x = strpbrk(text, "xX");
    if (x == NULL || x == text || (size_t)(x - text) >= 16)
        return -1;
    char wtext[16];
    memcpy(wtext, text, (size_t)(x - text));
    wtext[x - text] = '\0';
    uint32_t w, h;
    if (smi_tool_parse_u32(wtext, &w) != 0 || smi_tool_parse_u32(x + 1, &h) != 0)
        return -1;
    if (w < 1 || h < 1 || w > 65536 || h > 65536)
        return -1;
    *width = w;
    *height = h;
    return 0;
}

static const char *const smi_tool_format_names[] = {"rgb8", "rgba8", "gray8", "gray16",
                                                    "float32"};
static const uint32_t smi_tool_format_sizes[] = {3, 4, 1, 2, 4};
#define SMI_TOOL_FORMAT_COUNT (sizeof smi_tool_format_sizes / sizeof smi_tool_format_sizes[0])

int smi_tool_parse_format(const char *text, uint32_t *format)
{
    if (text == NULL)
        return -1;
    for (uint32_t i = 0; i < SMI_TOOL_FORMAT_COUNT; i++) {
        if (strcasecmp(text, smi_tool_format_names[i]) == 0) {
            *format = i;
            return 0;
        }
    }
    return -1;
}

uint32_t smi_tool_format_bytes(uint32_t format)
{
    return format < SMI_TOOL_FORMAT_COUNT ? smi_tool_format_sizes[format] : 0;
}

const char *smi_tool_format_name(uint32_t format)
{
    return format < SMI_TOOL_FORMAT_COUNT ? smi_tool_format_names[format] : "unknown";
}

void smi_tool_unsafe_detail(const char *path, char *out, size_t n)
{
    struct stat st;
    out[0] = '\0';
    if (n == 0 || lstat(path, &st) != 0)
        return;
    const char *kind = S_ISLNK(st.st_mode)                          ? "a symbolic link"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISDIR(st.st_mode)                        ? "a directory"
                                                                    : NULL;
    if (kind)
        snprintf(out, n, " (%s)", kind);
    else if (st.st_uid != geteuid())
        snprintf(out, n, " (owned by uid %lu, not %lu)", (unsigned long)st.st_uid,
                 (unsigned long)geteuid());
    else if (st.st_mode & 022)
        snprintf(out, n, " (mode %04o: group or others may write it)",
                 (unsigned)(st.st_mode & 07777));
}

/* ---- Test pattern --------------------------------------------------------- */

void smi_pattern_fill_row(uint32_t format, uint32_t width, uint32_t y, uint32_t n, void *row)
{
    switch (format) {
    case IMAGESTREAM_FORMAT_RGB8:
    case IMAGESTREAM_FORMAT_RGBA8: {
        uint8_t *p = row;
        const uint8_t g = (uint8_t)(3u * y + n);
        const uint32_t b_row = ((y >> 8) << 4) ^ (7u * n);
        if (format == IMAGESTREAM_FORMAT_RGB8) {
            for (uint32_t x = 0; x < width; x++, p += 3) {
                p[0] = (uint8_t)(x + n);
                p[1] = g;
                p[2] = (uint8_t)((x >> 8) ^ b_row);
            }
        } else {
            const uint32_t a_row = y ^ n;
            for (uint32_t x = 0; x < width; x++, p += 4) {
                p[0] = (uint8_t)(x + n);
                p[1] = g;
                p[2] = (uint8_t)((x >> 8) ^ b_row);
                p[3] = (uint8_t)(x ^ a_row);
            }
        }
        break;
    }
    case IMAGESTREAM_FORMAT_GRAY8: {
        uint8_t *p = row;
        const uint32_t base = 2u * y + n;
        for (uint32_t x = 0; x < width; x++)
            p[x] = (uint8_t)(x + base);
        break;
    }
    case IMAGESTREAM_FORMAT_GRAY16: {
        uint8_t *p = row;
        const uint32_t base = 256u * y + n;
        for (uint32_t x = 0; x < width; x++, p += 2) {
            uint32_t v = (x + base) & 0xFFFFu;
            p[0] = (uint8_t)v; /* little-endian, whatever the host */
            p[1] = (uint8_t)(v >> 8);
        }
        break;
    }
    case IMAGESTREAM_FORMAT_FLOAT32: {
        uint8_t *p = row;
        const uint32_t base = 2u * y + n;
        for (uint32_t x = 0; x < width; x++, p += 4) {
            float v = 0.25f * (float)((x + base) & 0xFFFFu);
            uint32_t bits;
            memcpy(&bits, &v, sizeof bits);
            p[0] = (uint8_t)bits;
            p[1] = (uint8_t)(bits >> 8);
            p[2] = (uint8_t)(bits >> 16);
            p[3] = (uint8_t)(bits >> 24);
        }
        break;
    }
    default:
        break;
    }
}

void smi_pattern_fill(uint32_t format, uint32_t width, uint32_t height, uint32_t n,
                      void *pixels, size_t stride, int bottom_up)
{
    uint8_t *base = pixels;
    for (uint32_t y = 0; y < height; y++) {
        uint32_t stored = bottom_up ? height - 1 - y : y;
        smi_pattern_fill_row(format, width, y, n, base + (size_t)stored * stride);
    }
}

/* First pixel of `row` that differs from `expected`, or width when none. */
static uint32_t smi_pattern_first_diff(const uint8_t *row, const uint8_t *expected,
                                       uint32_t width, uint32_t bpp)
{
    for (uint32_t x = 0; x < width; x++)
        if (memcmp(row + (size_t)x * bpp, expected + (size_t)x * bpp, bpp) != 0)
            return x;
    return width;
}

/* 1 when every row of the frame matches pattern frame n with rows reversed. */
static int smi_pattern_matches(uint32_t format, uint32_t width, uint32_t height, uint32_t n,
                               const uint8_t *pixels, size_t stride, int bottom_up,
                               uint8_t *scratch)
{
    size_t row_bytes = (size_t)width * smi_tool_format_bytes(format);
    for (uint32_t y = 0; y < height; y++) {
        uint32_t stored = bottom_up ? height - 1 - y : y;
        smi_pattern_fill_row(format, width, y, n, scratch);
        if (memcmp(pixels + (size_t)stored * stride, scratch, row_bytes) != 0)
            return 0;
    }
    return 1;
}

int smi_pattern_check(uint32_t format, uint32_t width, uint32_t height, uint32_t n,
                      const void *pixels, size_t stride, smi_pattern_mismatch_t *where)
{
    const uint32_t bpp = smi_tool_format_bytes(format);
    if (bpp == 0)
        return -1;
    const size_t row_bytes = (size_t)width * bpp;
    uint8_t *scratch = malloc(row_bytes ? row_bytes : 1);
    if (scratch == NULL)
        return -1;
    const uint8_t *base = pixels;
    int result = 0;
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *row = base + (size_t)y * stride;
        smi_pattern_fill_row(format, width, y, n, scratch);
        if (memcmp(row, scratch, row_bytes) == 0)
            continue;
        result = 1;
        if (where != NULL) {
            memset(where, 0, sizeof *where);
            uint32_t x = smi_pattern_first_diff(row, scratch, width, bpp);
            where->x = x;
            where->y = y;
            where->pixel_bytes = bpp;
            memcpy(where->got, row + (size_t)x * bpp, bpp);
            memcpy(where->expected, scratch + (size_t)x * bpp, bpp);
            /* Guess the cause: upside down, or another frame's pixels. */
            if (height > 1)
                where->flipped =
                    smi_pattern_matches(format, width, height, n, base, stride, 1, scratch);
            if (!where->flipped &&
                (format == IMAGESTREAM_FORMAT_RGB8 || format == IMAGESTREAM_FORMAT_RGBA8)) {
                uint32_t guess = base[0]; /* R(0, 0) = n mod 256 */
                if (guess != (n & 255u) &&
                    smi_pattern_matches(format, width, height, guess, base, stride, 0, scratch)) {
                    where->other_frame = 1;
                    where->other_n = guess;
                }
            }
        }
        break;
    }
    free(scratch);
    return result;
}

static void smi_pattern_format_pixel(uint32_t format, const uint8_t *p, char *text, size_t size)
{
    switch (format) {
    case IMAGESTREAM_FORMAT_RGB8:
        snprintf(text, size, "(%u, %u, %u)", p[0], p[1], p[2]);
        break;
    case IMAGESTREAM_FORMAT_RGBA8:
        snprintf(text, size, "(%u, %u, %u, %u)", p[0], p[1], p[2], p[3]);
        break;
    case IMAGESTREAM_FORMAT_GRAY8:
        snprintf(text, size, "%u", p[0]);
        break;
    case IMAGESTREAM_FORMAT_GRAY16:
        snprintf(text, size, "%u", (unsigned)p[0] | ((unsigned)p[1] << 8));
        break;
    case IMAGESTREAM_FORMAT_FLOAT32: {
        uint32_t bits = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                        ((uint32_t)p[3] << 24);
        float v;
        memcpy(&v, &bits, sizeof v);
        snprintf(text, size, "%g", (double)v);
        break;
    }
    default:
        snprintf(text, size, "?");
        break;
    }
}

void smi_pattern_describe_mismatch(const smi_pattern_mismatch_t *where, uint32_t format,
                                   char *text, size_t size)
{
    char got[64], expected[64];
    smi_pattern_format_pixel(format, where->got, got, sizeof got);
    smi_pattern_format_pixel(format, where->expected, expected, sizeof expected);
    const char *hint = "";
    char hint_buf[96];
    if (where->flipped) {
        hint = " (the frame is the pattern upside down)";
    } else if (where->other_frame) {
        snprintf(hint_buf, sizeof hint_buf,
                 " (the pixels are those of a frame number = %u mod 256)", where->other_n);
        hint = hint_buf;
    }
    snprintf(text, size, "pixel (x=%u, y=%u) is %s, expected %s%s", where->x, where->y, got,
             expected, hint);
}

/* ---- Checksums ------------------------------------------------------------ */

uint32_t smi_crc32(uint32_t crc, const void *data, size_t size)
{
    static uint32_t table[256];
    static int table_ready = 0;
    if (!table_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        table_ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; i++)
        crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

uint32_t smi_adler32(uint32_t adler, const void *data, size_t size)
{
    const uint32_t mod = 65521u;
    uint32_t a = adler & 0xFFFFu, b = adler >> 16;
    const uint8_t *p = data;
    while (size > 0) {
        /* 5552 bytes is the most that cannot overflow b before the modulo. */
        size_t chunk = size < 5552 ? size : 5552;
        size -= chunk;
        while (chunk--) {
            a += *p++;
            b += a;
        }
        a %= mod;
        b %= mod;
    }
    return (b << 16) | a;
}

/* ---- Image files ---------------------------------------------------------- */

static void smi_image_errno(char *err, size_t errsize, const char *what, const char *path)
{
    if (err != NULL && errsize > 0)
        snprintf(err, errsize, "%s %s: %s", what, path, strerror(errno));
}

/* Close f; on any earlier or final error, remove the file. Returns 0 or -1. */
static int smi_image_finish(FILE *f, int failed, const char *path, char *err, size_t errsize)
{
    if (ferror(f) && !failed) {
        failed = 1;
        if (errno == 0)
            errno = EIO;
        smi_image_errno(err, errsize, "cannot write", path);
    }
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        smi_image_errno(err, errsize, "cannot write", path);
    }
    if (failed)
        unlink(path);
    return failed ? -1 : 0;
}

int smi_image_write_ppm(const char *path, uint32_t width, uint32_t height, const uint8_t *rgb,
                        size_t stride, char *err, size_t errsize)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        smi_image_errno(err, errsize, "cannot create", path);
        return -1;
    }
    int failed = 0;
    errno = 0;
    if (fprintf(f, "P6\n%u %u\n255\n", width, height) < 0)
        failed = 1;
    for (uint32_t y = 0; y < height && !failed; y++)
        if (fwrite(rgb + (size_t)y * stride, 3, width, f) != width)
            failed = 1;
    if (failed)
        smi_image_errno(err, errsize, "cannot write", path);
    return smi_image_finish(f, failed, path, err, errsize);
}

/* Netpbm P5 (gray) with maxval 255 (one byte) or 65535 (two bytes, big-endian). */
static int smi_image_write_pgm(const char *path, uint32_t width, uint32_t height,
                               uint32_t bytes_per_sample, const uint8_t *pixels, size_t stride,
                               char *err, size_t errsize)
{
    uint8_t *row = malloc((size_t)width * bytes_per_sample);
    if (row == NULL) {
        snprintf(err, errsize, "out of memory writing %s", path);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        smi_image_errno(err, errsize, "cannot create", path);
        free(row);
        return -1;
    }
    int failed = 0;
    errno = 0;
    if (fprintf(f, "P5\n%u %u\n%u\n", width, height, bytes_per_sample == 2 ? 65535u : 255u) < 0)
        failed = 1;
    for (uint32_t y = 0; y < height && !failed; y++) {
        const uint8_t *src = pixels + (size_t)y * stride;
        if (bytes_per_sample == 2) {
            for (uint32_t x = 0; x < width; x++) {
                row[2 * x] = src[2 * x + 1];
                row[2 * x + 1] = src[2 * x];
            }
        } else {
            memcpy(row, src, width);
        }
        if (fwrite(row, bytes_per_sample, width, f) != width)
            failed = 1;
    }
    free(row);
    if (failed)
        smi_image_errno(err, errsize, "cannot write", path);
    return smi_image_finish(f, failed, path, err, errsize);
}

/*
 * PNG writer state. The zlib stream is produced in one pass: its raw length
 * (height rows of 1 filter byte + row bytes) is known in advance, so each
 * stored block's header can be written before its data, and the bytes go out
 * in IDAT chunks whenever the chunk buffer fills.
 */
typedef struct smi_png_t {
    FILE *f;
    int failed;
    uint8_t chunk[65536];  /* IDAT payload being collected */
    size_t fill;
    uint64_t raw_left;     /* uncompressed bytes still to come */
    uint32_t block_left;   /* bytes still to come in the current stored block */
    uint32_t adler;
} smi_png_t;

static void smi_png_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void smi_png_chunk(smi_png_t *png, const char type[4], const uint8_t *data, size_t size)
{
    if (png->failed)
        return;
    uint8_t head[8];
    smi_png_put32(head, (uint32_t)size);
    memcpy(head + 4, type, 4);
    uint32_t crc = smi_crc32(0, head + 4, 4);
    crc = smi_crc32(crc, data, size);
    uint8_t tail[4];
    smi_png_put32(tail, crc);
    if (fwrite(head, 1, 8, png->f) != 8 || (size > 0 && fwrite(data, 1, size, png->f) != size) ||
        fwrite(tail, 1, 4, png->f) != 4)
        png->failed = 1;
}

static void smi_png_zbytes(smi_png_t *png, const uint8_t *data, size_t size)
{
    while (size > 0 && !png->failed) {
        size_t take = sizeof png->chunk - png->fill;
        if (take > size)
            take = size;
        memcpy(png->chunk + png->fill, data, take);
        png->fill += take;
        data += take;
        size -= take;
        if (png->fill == sizeof png->chunk) {
            smi_png_chunk(png, "IDAT", png->chunk, png->fill);
            png->fill = 0;
        }
    }
}

static void smi_png_raw(smi_png_t *png, const uint8_t *data, size_t size)
{
    while (size > 0 && !png->failed) {
        if (png->block_left == 0) {
            uint32_t len = png->raw_left > 65535u ? 65535u : (uint32_t)png->raw_left;
            uint8_t head[5];
            head[0] = (png->raw_left == len) ? 1 : 0; /* BFINAL, BTYPE 00 = stored */
            head[1] = (uint8_t)len;
            head[2] = (uint8_t)(len >> 8);
            head[3] = (uint8_t)~len;
            head[4] = (uint8_t)(~len >> 8);
            smi_png_zbytes(png, head, sizeof head);
            png->block_left = len;
        }
        size_t take = size < png->block_left ? size : png->block_left;
        png->adler = smi_adler32(png->adler, data, take);
        smi_png_zbytes(png, data, take);
        png->block_left -= (uint32_t)take;
        png->raw_left -= take;
        data += take;
        size -= take;
    }
}

int smi_image_write_png(const char *path, uint32_t width, uint32_t height, uint32_t channels,
                        uint32_t bit_depth, const uint8_t *pixels, size_t stride, char *err,
                        size_t errsize)
{
    uint8_t color_type;
    switch (channels) {
    case 1: color_type = 0; break;
    case 3: color_type = 2; break;
    case 4: color_type = 6; break;
    default:
        snprintf(err, errsize, "cannot write %s: %u channels per pixel", path, channels);
        return -1;
    }
    if (width < 1 || height < 1 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu ||
        !(bit_depth == 8 || (bit_depth == 16 && channels == 1))) {
        snprintf(err, errsize, "cannot write %s: unsupported size or depth", path);
        return -1;
    }
    const size_t bytes_per_pixel = (size_t)channels * (bit_depth / 8);
    const size_t row_bytes = (size_t)width * bytes_per_pixel;
    if (row_bytes > (size_t)PTRDIFF_MAX - 1) { /* also tells gcc -O3 the copy is bounded */
        snprintf(err, errsize, "cannot write %s: rows too long", path);
        return -1;
    }
    smi_png_t *png = calloc(1, sizeof *png);
    uint8_t *row = malloc(row_bytes + 1);
    if (png == NULL || row == NULL) {
        snprintf(err, errsize, "out of memory writing %s", path);
        free(png);
        free(row);
        return -1;
    }
    png->f = fopen(path, "wb");
    if (png->f == NULL) {
        smi_image_errno(err, errsize, "cannot create", path);
        free(png);
        free(row);
        return -1;
    }
    errno = 0;
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (fwrite(signature, 1, sizeof signature, png->f) != sizeof signature)
        png->failed = 1;

    uint8_t ihdr[13];
    smi_png_put32(ihdr, width);
    smi_png_put32(ihdr + 4, height);
    ihdr[8] = (uint8_t)bit_depth;
    ihdr[9] = color_type;
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (every row uses filter 0, None) */
    ihdr[12] = 0; /* no interlace */
    smi_png_chunk(png, "IHDR", ihdr, sizeof ihdr);

    png->raw_left = (uint64_t)height * (row_bytes + 1);
    png->adler = 1;
    static const uint8_t zlib_header[2] = {0x78, 0x01}; /* deflate, 32K window, check bits */
    smi_png_zbytes(png, zlib_header, sizeof zlib_header);
    for (uint32_t y = 0; y < height && !png->failed; y++) {
        const uint8_t *src = pixels + (size_t)y * stride;
        row[0] = 0; /* filter type None */
        if (bit_depth == 16) {
            for (uint32_t x = 0; x < width; x++) { /* stream is little-endian, PNG big */
                row[1 + 2 * x] = src[2 * x + 1];
                row[2 + 2 * x] = src[2 * x];
            }
        } else {
            memcpy(row + 1, src, row_bytes);
        }
        smi_png_raw(png, row, row_bytes + 1);
    }
    uint8_t adler[4];
    smi_png_put32(adler, png->adler);
    smi_png_zbytes(png, adler, sizeof adler);
    if (png->fill > 0)
        smi_png_chunk(png, "IDAT", png->chunk, png->fill);
    smi_png_chunk(png, "IEND", NULL, 0);

    int failed = png->failed;
    if (failed)
        smi_image_errno(err, errsize, "cannot write", path);
    int rc = smi_image_finish(png->f, failed, path, err, errsize);
    free(png);
    free(row);
    return rc;
}

static int smi_image_is_png(const char *path)
{
    size_t len = strlen(path);
    return len >= 4 && strcasecmp(path + len - 4, ".png") == 0;
}

int smi_image_save(const char *path, uint32_t format, uint32_t width, uint32_t height,
                   const void *pixels, size_t stride, char *err, size_t errsize)
{
    const uint8_t *p = pixels;
    int png = smi_image_is_png(path);
    switch (format) {
    case IMAGESTREAM_FORMAT_RGB8:
        return png ? smi_image_write_png(path, width, height, 3, 8, p, stride, err, errsize)
                   : smi_image_write_ppm(path, width, height, p, stride, err, errsize);
    case IMAGESTREAM_FORMAT_RGBA8: {
        if (png)
            return smi_image_write_png(path, width, height, 4, 8, p, stride, err, errsize);
        /* PPM has no alpha: drop it. */
        size_t row_bytes = (size_t)width * 3;
        uint8_t *rgb = malloc(row_bytes * height);
        if (rgb == NULL) {
            snprintf(err, errsize, "out of memory writing %s", path);
            return -1;
        }
        for (uint32_t y = 0; y < height; y++)
            for (uint32_t x = 0; x < width; x++)
                memcpy(rgb + (size_t)y * row_bytes + 3 * (size_t)x,
                       p + (size_t)y * stride + 4 * (size_t)x, 3);
        int rc = smi_image_write_ppm(path, width, height, rgb, row_bytes, err, errsize);
        free(rgb);
        return rc;
    }
    case IMAGESTREAM_FORMAT_GRAY8:
        return png ? smi_image_write_png(path, width, height, 1, 8, p, stride, err, errsize)
                   : smi_image_write_pgm(path, width, height, 1, p, stride, err, errsize);
    case IMAGESTREAM_FORMAT_GRAY16:
        return png ? smi_image_write_png(path, width, height, 1, 16, p, stride, err, errsize)
                   : smi_image_write_pgm(path, width, height, 2, p, stride, err, errsize);
    default:
        snprintf(err, errsize, "cannot save a %s frame as an image file (%s)",
                 smi_tool_format_name(format), path);
        return -1;
    }
}

/* Next header token of a Netpbm file: skips whitespace and '#' comments.
   Returns the unsigned value, or -1 on a malformed header. */
static long smi_ppm_number(FILE *f)
{
    int c = fgetc(f);
    for (;;) {
        while (c != EOF && isspace(c))
            c = fgetc(f);
        if (c != '#')
            break;
        while (c != EOF && c != '\n')
            c = fgetc(f);
    }
    if (c == EOF || !isdigit(c))
        return -1;
    long v = 0;
    while (c != EOF && isdigit(c)) {
        v = v * 10 + (c - '0');
        if (v > 0x7FFFFFFFL)
            return -1;
        c = fgetc(f);
    }
    /* Exactly one whitespace byte ends the token (the last one before pixels). */
    if (c == EOF || !isspace(c))
        return -1;
    return v;
}

int smi_image_read_ppm(const char *path, uint32_t *width, uint32_t *height, uint8_t **rgb,
                       char *err, size_t errsize)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        smi_image_errno(err, errsize, "cannot open", path);
        return -1;
    }
    char magic[2];
    long w = -1, h = -1, maxval = -1;
    if (fread(magic, 1, 2, f) == 2 && magic[0] == 'P' && magic[1] == '6') {
        w = smi_ppm_number(f);
        if (w > 0)
            h = smi_ppm_number(f);
        if (h > 0)
            maxval = smi_ppm_number(f);
    }
    if (w < 1 || h < 1 || maxval != 255 || w > 65536 || h > 65536) {
        snprintf(err, errsize, "%s is not a binary PPM (P6) with maxval 255 and a valid size",
                 path);
        fclose(f);
        return -1;
    }
    size_t size = (size_t)w * (size_t)h * 3;
    uint8_t *pixels = malloc(size);
    if (pixels == NULL) {
        snprintf(err, errsize, "out of memory reading %s", path);
        fclose(f);
        return -1;
    }
    if (fread(pixels, 1, size, f) != size) {
        if (ferror(f))
            smi_image_errno(err, errsize, "cannot read", path);
        else
            snprintf(err, errsize, "%s is truncated (%ldx%ld needs %zu bytes of pixels)", path,
                     w, h, size);
        free(pixels);
        fclose(f);
        return -1;
    }
    fclose(f);
    *width = (uint32_t)w;
    *height = (uint32_t)h;
    *rgb = pixels;
    return 0;
}

int smi_tool_usage_error(const char *tool, const char *message, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "%s: %s: '%s'\n", tool, message, arg);
    else
        fprintf(stderr, "%s: %s\n", tool, message);
    fprintf(stderr, "Try '%s --help'.\n", tool);
    return 2;
}
