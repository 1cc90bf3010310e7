/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_layout_writer -- writes an extended-layout stream with the library for
 * TestLayoutNumpy.py, which reads it back with numpy and Core/LAYOUT.md only.
 *
 *   smi_layout_writer PATH
 *
 * Stage 1: frame 1 (RGB8 40x30, published with no client), a client attaches
 * and locks frame 2 (RGB8 40x30), then frame 10 (FLOAT32 8x6x5 volume with
 * metadata) is published: the newest frame. Prints "READY 1" and waits for a
 * line on stdin. Stage 2: the client unlocks, frame 11 (RGB8 40x30) is
 * published; prints "READY 2", waits for a line. Then one 5x4 frame of each
 * instrument format, frames 21 (INT16), 22 (INT32), 23 (UINT32) and 24
 * (FLOAT64), each followed by "READY <name>" and a line on stdin; then it
 * closes both ends and exits 0.
 *
 * Pixels: RGB8 channel c of (x, y) in frame f is (7x + 13y + 71c + 29f) mod
 * 256; FLOAT32 voxel (x, y, z) of frame f is x + 10y + 100z + f / 2. The
 * instrument frames' pixel i (row by row from the top) is the format's
 * special value i while there is one (extremes, -1, 0, 1; for FLOAT64 the
 * bit patterns of NaNs, infinities, -0.0, the largest and smallest
 * doubles), then INT16 (i - 10) * 3001, INT32 (i - 10) * 200000033, UINT32
 * i * 200000033, FLOAT64 (i - 10) / 3.0.
 */
#include "shared_memory_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(expected, call)                                                          \
    do {                                                                               \
        int rc_ = (call);                                                              \
        if (rc_ != (expected)) {                                                       \
            fprintf(stderr, "smi_layout_writer: %s: %s\n", #call,                     \
                    SharedMemoryImageStream_errorstring(rc_));                         \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static void rgb(uint8_t *buf, uint32_t f)
{
    for (uint32_t y = 0; y < 30; y++)
        for (uint32_t x = 0; x < 40; x++)
            for (uint32_t c = 0; c < 3; c++)
                buf[(y * 40 + x) * 3 + c] = (uint8_t)(7 * x + 13 * y + 71 * c + 29 * f);
}

#define INSTRUMENT_PIXELS 20 /* 5 x 4 */

static const int16_t special_i16[] = {INT16_MIN, INT16_MAX, -1, 0, 1};
static const int32_t special_i32[] = {INT32_MIN, INT32_MAX, -1, 0, 1};
static const uint32_t special_u32[] = {0, UINT32_MAX, 1, 0x80000000u, 0x7FFFFFFFu};
static const uint64_t special_f64[] = {
    0x7FF8000000000000u, /* quiet NaN */
    0x7FF800000000ABCDu, /* NaN with a payload */
    0xFFF8000000000001u, /* negative NaN */
    0x7FF4000000000000u, /* signalling NaN */
    0x7FF0000000000000u, /* +inf */
    0xFFF0000000000000u, /* -inf */
    0x8000000000000000u, /* -0.0 */
    0x7FEFFFFFFFFFFFFFu, /* largest double */
    0x0000000000000001u, /* smallest subnormal */
    0x0010000000000000u, /* smallest normal */
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Fill the 5x4 frame of an instrument format (see the top of this file). */
static void instrument_pixels(uint32_t format, void *out)
{
    for (int i = 0; i < INSTRUMENT_PIXELS; i++) {
        size_t k = (size_t)i;
        if (format == IMAGESTREAM_FORMAT_INT16)
            ((int16_t *)out)[i] = k < COUNT(special_i16) ? special_i16[k] : (int16_t)((i - 10) * 3001);
        else if (format == IMAGESTREAM_FORMAT_INT32)
            ((int32_t *)out)[i] = k < COUNT(special_i32) ? special_i32[k] : (i - 10) * 200000033;
        else if (format == IMAGESTREAM_FORMAT_UINT32)
            ((uint32_t *)out)[i] = k < COUNT(special_u32) ? special_u32[k] : (uint32_t)i * 200000033u;
        else if (k < COUNT(special_f64))
            memcpy((double *)out + i, &special_f64[k], sizeof(double));
        else
            ((double *)out)[i] = (i - 10) / 3.0;
    }
}

/* Publish frame `number` of an instrument format, say so, wait for a line. */
static void instrument_stage(SharedMemoryImageStream server, uint32_t format, uint32_t number)
{
    double px[INSTRUMENT_PIXELS]; /* large enough for every format */
    instrument_pixels(format, px);
    SharedMemoryImageDesc d = SMI_DESC_INIT;
    d.format = format;
    d.width = 5;
    d.height = 4;
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(server, &d, number, px));
    printf("READY %s\n", SharedMemoryImageStream_formatname(format));
    fflush(stdout);
}

static void wait_line(void)
{
    char line[64];
    if (!fgets(line, sizeof line, stdin)) {
        /* EOF: the reader is gone; stop anyway. */
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: smi_layout_writer PATH\n");
        return 2;
    }
    alarm(60); /* never outlive a hung reader */
    const char *path = argv[1];
    SharedMemoryImageDesc max;
    memset(&max, 0, sizeof max);
    max.format = IMAGESTREAM_FORMAT_RGBA8;
    max.width = 64;
    max.height = 48;
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &max));
    SharedMemoryImageStream server, client;
    CHECK(IMAGESTREAM_NOERROR,
          SharedMemoryImageStream_create(
              path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &server));

    uint8_t px[40 * 30 * 3];
    struct _SharedMemoryFrame in = {1, 40, 30, px};
    rgb(px, 1);
    CHECK(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(server, &in));
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client));
    rgb(px, 2);
    in.iFrame = 2;
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryFrame f;
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    if (f->iFrame != 2) {
        fprintf(stderr, "smi_layout_writer: locked frame %u, expected 2\n", f->iFrame);
        return 1;
    }

    float vol[8 * 6 * 5];
    for (uint32_t z = 0; z < 5; z++)
        for (uint32_t y = 0; y < 6; y++)
            for (uint32_t x = 0; x < 8; x++)
                vol[(z * 6 + y) * 8 + x] = (float)x + 10.0f * y + 100.0f * z + 10 / 2.0f;
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    d.flags = IMAGESTREAM_FRAME_BOTTOMUP; /* rows given bottom first, stored so */
    d.format = IMAGESTREAM_FORMAT_FLOAT32;
    d.width = 8;
    d.height = 6;
    d.depth = 5;
    d.timestamp = 1234.5;
    d.spacing[0] = 0.5;
    d.spacing[1] = 0.25;
    d.spacing[2] = 2.0;
    d.origin[0] = -1.0;
    d.origin[1] = 2.0;
    d.origin[2] = 3.5;
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(server, &d, 10, vol));
    printf("READY 1\n");
    fflush(stdout);
    wait_line();

    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    rgb(px, 11);
    in.iFrame = 11;
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    printf("READY 2\n");
    fflush(stdout);
    wait_line();
    const uint32_t instrument[] = {IMAGESTREAM_FORMAT_INT16, IMAGESTREAM_FORMAT_INT32,
                                   IMAGESTREAM_FORMAT_UINT32, IMAGESTREAM_FORMAT_FLOAT64};
    for (uint32_t k = 0; k < COUNT(instrument); k++) {
        instrument_stage(server, instrument[k], 21 + k);
        wait_line();
    }
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    return 0;
}
