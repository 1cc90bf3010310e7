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
 * published; prints "READY 2", waits for a line, closes both ends, exits 0.
 *
 * Pixels: RGB8 channel c of (x, y) in frame f is (7x + 13y + 71c + 29f) mod
 * 256; FLOAT32 voxel (x, y, z) of frame f is x + 10y + 100z + f / 2.
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
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    CHECK(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    return 0;
}
