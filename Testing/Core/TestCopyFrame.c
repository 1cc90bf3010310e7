/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestCopyFrame -- SharedMemoryImageStream_copyframe copies the locked frame
 * exactly, as is or with the rows of each slice reversed, for a small image
 * and for a multi-megabyte volume (memcpy's large-copy paths); and it
 * refuses NULL, a short destination, a server and an unlocked client.
 */
#include "smi_test.h"

static void check(uint32_t format, uint32_t w, uint32_t h, uint32_t d)
{
    const char *path = smi_test_path("copyframe");
    SharedMemoryImageDesc desc = {0};
    desc.format = format;
    desc.width = w;
    desc.height = h;
    desc.depth = d;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &desc));
    SharedMemoryImageStream server, client;
    server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &client));

    size_t row = (size_t)w * SharedMemoryImageStream_formatsize(format);
    size_t bytes = row * h * d;
    uint8_t *in = malloc(bytes), *out = malloc(bytes + 1);
    ASSERT(in && out);
    smi_fill(in, bytes, 11);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(server, &desc, 0, in));

    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_copyframe(client, out, bytes, 0));
    ASSERT_RC(IMAGESTREAM_IS_SERVER, SharedMemoryImageStream_copyframe(server, out, bytes, 0));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_copyframe(NULL, out, bytes, 0));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_copyframe(client, NULL, bytes, 0));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_copyframe(client, out, bytes - 1, 0));

    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(client, out, bytes + 1, 0));
    ASSERT(memcmp(out, in, bytes) == 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(client, out, bytes, 1));
    for (uint32_t z = 0; z < d; z++)
        for (uint32_t y = 0; y < h; y++)
            ASSERT_MSG(memcmp(out + (z * h + y) * row, in + (z * h + (h - 1 - y)) * row, row) == 0,
                       "flipped row %u of slice %u differs", y, z);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_copyframe(client, out, bytes, 0));

    free(in);
    free(out);
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
    unlink(path);
}

int main(void)
{
    smi_test_watchdog(60);
    check(IMAGESTREAM_FORMAT_RGB8, 37, 21, 1);
    check(IMAGESTREAM_FORMAT_GRAY16, 1001, 1003, 3); /* 6 MB, 3 slices */
    puts("TestCopyFrame: passed");
    return 0;
}
