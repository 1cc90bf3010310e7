/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestTakeover -- a server takes over only a file that is empty, all zeros,
 * or a stream of either layout (a stale one too); anything else is another
 * program's data: create() (both layouts) and createfile() answer
 * IMAGESTREAM_NOT_A_STREAM and leave it byte for byte as it was.
 */
#include "smi_test.h"

#define FILE_BYTES (1u << 20)

static SharedMemoryImageError serve(const char *path, int extended)
{
    SharedMemoryImageStream s = NULL;
    uint32_t options = IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0);
    SharedMemoryImageError rc = SharedMemoryImageStream_create(path, options, &s);
    if (s)
        SharedMemoryImageStream_destroy(s);
    return rc;
}

/* Write `content` as the file, try every way a server takes a file, and
   check that the file is exactly as it was. */
static void refused(const char *what, const char *path, const uint8_t *content, size_t n)
{
    for (int way = 0; way < 3; way++) {
        smi_test_write_file(path, content, n);
        SharedMemoryImageError rc = way < 2 ? serve(path, way)
                                            : SharedMemoryImageStream_createfile(path, 64, 64);
        ASSERT_MSG(rc == IMAGESTREAM_NOT_A_STREAM, "%s, %s: answered %d (%s)", what,
                   way == 0 ? "EnSight server" : way == 1 ? "extended server" : "createfile", rc,
                   SharedMemoryImageStream_errorstring(rc));
        size_t got;
        uint8_t *after = smi_test_read_file(path, &got);
        ASSERT_MSG(got == n && memcmp(after, content, n) == 0, "%s: the file changed", what);
        free(after);
    }
}

static void taken(const char *what, const char *path, int extended)
{
    SharedMemoryImageError rc = serve(path, extended);
    ASSERT_MSG(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_RECONNECTING,
               "%s: answered %d (%s)", what, rc, SharedMemoryImageStream_errorstring(rc));
}

int main(void)
{
    smi_test_watchdog(60);
    const char *path = smi_test_path("takeover");
    uint8_t *content = calloc(1, FILE_BYTES);
    ASSERT(content != NULL);

    /* Zeros are a stream with no frame yet; so is a sparse file (its holes
       are not read). */
    smi_test_write_file(path, content, FILE_BYTES);
    taken("a file of zeros", path, 0);
    unlink(path);
    smi_test_write_file(path, content, 0);
    ASSERT_EQ(truncate(path, (off_t)64 << 20), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 64, 64));
    unlink(path);

    /* Other data: random bytes, text, zeros but for one byte at the end. */
    smi_fill(content, FILE_BYTES, 9);
    refused("random bytes", path, content, FILE_BYTES);
    memset(content, 0, FILE_BYTES);
    for (size_t i = 0; i < FILE_BYTES; i++)
        content[i] = (uint8_t)"a user's notes, not a stream\n"[i % 29];
    refused("text", path, content, FILE_BYTES);
    memset(content, 0, FILE_BYTES);
    content[FILE_BYTES - 1] = 1;
    refused("zeros but the last byte", path, content, FILE_BYTES);
    unlink(path);

    /* Stale streams of either layout, their server gone, frames in them. */
    for (int extended = 0; extended < 2; extended++) {
        SharedMemoryImageDesc d;
        memset(&d, 0, sizeof d);
        d.format = IMAGESTREAM_FORMAT_RGB8;
        d.width = 64;
        d.height = 64;
        ASSERT_RC(IMAGESTREAM_NOERROR,
                  SharedMemoryImageStream_createfilelayout(
                      path, extended ? IMAGESTREAM_LAYOUT_EXTENDED : IMAGESTREAM_LAYOUT_ENSIGHT,
                      &d));
        SharedMemoryImageStream s = NULL, c = NULL;
        uint32_t options =
            IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, options, &s));
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
                   SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
        static uint8_t px[64 * 64 * 3];
        smi_fill(px, sizeof px, 3);
        struct _SharedMemoryFrame f = {5, 64, 64, px};
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &f));
        SharedMemoryImageStream_destroy(c);
        SharedMemoryImageStream_destroy(s);
        taken(extended ? "a stale extended-layout stream" : "a stale EnSight-layout stream", path,
              extended);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 64, 64));
        unlink(path);
    }
    free(content);
    printf("TestTakeover: zeros, sparse and stale streams taken over; random bytes, text and "
           "almost-zeros refused by both servers and createfile, byte for byte unchanged\n");
    return 0;
}
