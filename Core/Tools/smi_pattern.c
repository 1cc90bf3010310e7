/* SPDX-License-Identifier: BSD-3-Clause */
/* smi_pattern.c -- the test pattern: fill and check frames (contract in smi_pattern.h). */
#include "smi_pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared_memory_image.h" /* IMAGESTREAM_FORMAT_* */
#include "smi_format.h"

/* Store the low `bytes` bytes of `bits` at p, little-endian whatever the host. */
static void smi_pattern_store_le(uint8_t *p, uint64_t bits, uint32_t bytes)
{
    for (uint32_t i = 0; i < bytes; i++)
        p[i] = (uint8_t)(bits >> (8 * i));
}

/* The bits of an instrument format's value for U (see smi_pattern.h). */
static uint64_t smi_pattern_instrument_bits(uint32_t format, uint32_t u)
{
    const uint32_t twice = (u << 16) | u;
    switch (format) {
    case IMAGESTREAM_FORMAT_INT16: return u ^ 0x8000u;          /* U - 32768, two's complement */
    case IMAGESTREAM_FORMAT_INT32: return twice ^ 0x80000000u;  /* twice - 2^31 */
    case IMAGESTREAM_FORMAT_UINT32: return twice;
    default: {
        double v = ((double)u - 32768.0) / 3.0;
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        return bits;
    }
    }
}

/* One row of an instrument format (INT16, INT32, UINT32, FLOAT64). */
static void smi_pattern_instrument_row(uint32_t format, uint32_t width, uint32_t y, uint32_t n,
                                       uint8_t *p)
{
    const uint32_t bpp = smi_tool_format_bytes(format);
    const uint32_t base = 256u * y + n;
    for (uint32_t x = 0; x < width; x++, p += bpp)
        smi_pattern_store_le(p, smi_pattern_instrument_bits(format, (x + base) & 0xFFFFu), bpp);
}

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
        for (uint32_t x = 0; x < width; x++, p += 2)
            smi_pattern_store_le(p, (x + base) & 0xFFFFu, 2);
        break;
    }
    case IMAGESTREAM_FORMAT_FLOAT32: {
        uint8_t *p = row;
        const uint32_t base = 2u * y + n;
        for (uint32_t x = 0; x < width; x++, p += 4) {
            float v = 0.25f * (float)((x + base) & 0xFFFFu);
            uint32_t bits;
            memcpy(&bits, &v, sizeof bits);
            smi_pattern_store_le(p, bits, 4);
        }
        break;
    }
    case IMAGESTREAM_FORMAT_INT16:
    case IMAGESTREAM_FORMAT_INT32:
    case IMAGESTREAM_FORMAT_UINT32:
    case IMAGESTREAM_FORMAT_FLOAT64:
        smi_pattern_instrument_row(format, width, y, n, row);
        break;
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

/* A one-channel value of `bytes` little-endian bytes at p, as bits. */
static uint64_t smi_pattern_load_le(const uint8_t *p, uint32_t bytes)
{
    uint64_t bits = 0;
    for (uint32_t i = 0; i < bytes; i++)
        bits |= (uint64_t)p[i] << (8 * i);
    return bits;
}

/* A one-channel value as text, by its kind and size (the library's table). */
static void smi_pattern_format_value(const SharedMemoryImageFormatInfo *f, const uint8_t *p,
                                     char *text, size_t size)
{
    const uint32_t bytes = f->bytes_per_channel;
    const uint64_t bits = smi_pattern_load_le(p, bytes);
    if (f->kind == IMAGESTREAM_KIND_FLOAT && bytes == 4) {
        uint32_t b32 = (uint32_t)bits;
        float v;
        memcpy(&v, &b32, sizeof v);
        snprintf(text, size, "%.9g", (double)v);
    } else if (f->kind == IMAGESTREAM_KIND_FLOAT && bytes == 8) {
        double v;
        memcpy(&v, &bits, sizeof v);
        snprintf(text, size, "%.17g (bits 0x%016llx)", v, (unsigned long long)bits);
    } else if (f->kind == IMAGESTREAM_KIND_INT) {
        const uint64_t sign = (uint64_t)1 << (8 * bytes - 1);
        long long v = (long long)(bits ^ sign) - (long long)sign; /* sign-extend */
        snprintf(text, size, "%lld", v);
    } else {
        snprintf(text, size, "%llu", (unsigned long long)bits);
    }
}

static void smi_pattern_format_pixel(uint32_t format, const uint8_t *p, char *text, size_t size)
{
    const SharedMemoryImageFormatInfo *f = SharedMemoryImageStream_formatinfo(format);
    if (f == NULL) {
        snprintf(text, size, "?");
    } else if (f->channels == 3) {
        snprintf(text, size, "(%u, %u, %u)", p[0], p[1], p[2]);
    } else if (f->channels == 4) {
        snprintf(text, size, "(%u, %u, %u, %u)", p[0], p[1], p[2], p[3]);
    } else {
        smi_pattern_format_value(f, p, text, size);
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
