/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestCreateFile -- SharedMemoryImageStream_createfile / _createfileformat:
 *   - a new file is a regular file of mode 0600 (even with umask 0), large
 *     enough for two frames in both layouts (EnSight: 48 + 2 * w*h*3;
 *     extended: 4096 + 2 * w*h*3 rounded up to 4096), and not absurdly
 *     larger; and both layouts really hold two such frames there (an
 *     EnSight server with a client holding one block, an extended server
 *     with a client holding one buffer);
 *   - a smaller existing file is grown; a larger one is left byte for byte;
 *   - createfileformat sizes for the format and depth (FLOAT32 volumes,
 *     RGBA8), and such frames fit;
 *   - a missing directory or a directory as the name: UNABLE_TO_OPEN_FILE.
 */
#include "smi_test.h"

/* EnSight layout: at least 20 MiB (what EnSight's client asks for), or two
   frames and 2 KiB. */
static uint64_t ensight_need(uint64_t frame)
{
    uint64_t n = 2 * frame + 2048;
    return n > (20u << 20) ? n : (20u << 20);
}

static uint64_t extended_need(uint64_t frame)
{
    return SMI_X_HEADER + 2 * ((frame + 4095) / 4096 * 4096);
}

/* The exact size createfile*() makes for a frame of `frame` bytes in
   `layout` (0: either; ensight_ok: the frame is RGB8 and one slice). */
static uint64_t expected_size(uint64_t frame, uint32_t layout, int ensight_ok)
{
    if (layout == IMAGESTREAM_LAYOUT_EXTENDED || !ensight_ok)
        return extended_need(frame);
    if (layout == IMAGESTREAM_LAYOUT_ENSIGHT)
        return ensight_need(frame);
    uint64_t e = ensight_need(frame), x = extended_need(frame);
    return e > x ? e : x;
}

static void check_size(const char *path, uint64_t frame, uint32_t layout, int ensight_ok)
{
    struct stat st;
    ASSERT(stat(path, &st) == 0);
    ASSERT(S_ISREG(st.st_mode));
    ASSERT_MSG((st.st_mode & 07777) == 0600, "mode %o", (unsigned)(st.st_mode & 07777));
    ASSERT_EQ((double)st.st_size, (double)expected_size(frame, layout, ensight_ok));
}

/* An EnSight server puts two frames of w x h (a client holds the first). */
static void ensight_holds_two(const char *path, uint32_t w, uint32_t h)
{
    SharedMemoryImageStream s = NULL;
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s));
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    uint8_t *px = malloc((size_t)w * h * 3);
    ASSERT(px != NULL);
    struct _SharedMemoryFrame in = {1, w, h, px};
    smi_fill(px, (size_t)w * h * 3, 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &in));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    smi_fill(px, (size_t)w * h * 3, 2);
    in.iFrame = 2;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &in));
    ASSERT_EQ(smi_check(f->buffer, (uint64_t)w * h * 3, 1), -1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, 2);
    ASSERT_EQ(smi_check(f->buffer, (uint64_t)w * h * 3, 2), -1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    free(px);
}

/* An extended server publishes two frames of this shape while an ANYFORMAT
   client holds the first. */
static void extended_holds_two(const char *path, const SharedMemoryImageDesc *d)
{
    SharedMemoryImageStream s = NULL;
    int rc = SharedMemoryImageStream_create(
        path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING, rc);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &c));
    uint64_t n = (uint64_t)d->width * d->height * (d->depth ? d->depth : 1) *
                 SharedMemoryImageStream_formatsize(d->format);
    uint8_t *px = malloc(n);
    ASSERT(px != NULL);
    smi_fill(px, n, 11);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(s, d, 0, px));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    smi_fill(px, n, 12);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(s, d, 0, px));
    ASSERT_EQ(smi_check(f->buffer, n, 11), -1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(smi_check(f->buffer, n, 12), -1);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_GE((double)info.buffer_size, (double)n);
    ASSERT_GE((double)info.buffer_count, 2);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    free(px);
}

int main(void)
{
    smi_test_watchdog(30);
    umask(0);

    /* A new file. */
    const char *path = smi_test_path("createfile");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 64, 48));
    check_size(path, 64 * 48 * 3, 0, 1);
    ensight_holds_two(path, 64, 48);
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = 64;
    d.height = 48;
    extended_holds_two(path, &d);
    /* Calling it again on a file that is large enough changes nothing. */
    size_t n0, n1;
    uint8_t *before = smi_test_read_file(path, &n0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 64, 48));
    uint8_t *after = smi_test_read_file(path, &n1);
    ASSERT_EQ(n0, n1);
    ASSERT(memcmp(before, after, n0) == 0);
    free(before);
    free(after);

    /* Odd sizes (not multiples of anything). */
    const char *odd = smi_test_path("createfile-odd");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(odd, 1, 1));
    check_size(odd, 3, 0, 1);
    ensight_holds_two(odd, 1, 1);
    const char *odd2 = smi_test_path("createfile-odd2");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(odd2, 333, 77));
    check_size(odd2, 333 * 77 * 3, 0, 1);
    d.width = 333;
    d.height = 77;
    extended_holds_two(odd2, &d);

    /* A smaller existing file of zeros is grown. */
    const char *small = smi_test_path("createfile-small");
    uint8_t zeros[100] = {0};
    smi_test_write_file(small, zeros, sizeof zeros);
    chmod(small, 0600);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(small, 128, 128));
    check_size(small, 128 * 128 * 3, 0, 1);
    ensight_holds_two(small, 128, 128);

    /* A file that holds something else is left byte for byte as it was. */
    const char *other = smi_test_path("createfile-other");
    uint8_t junk[100];
    smi_fill(junk, sizeof junk, 3);
    smi_test_write_file(other, junk, sizeof junk);
    ASSERT_RC(IMAGESTREAM_NOT_A_STREAM, SharedMemoryImageStream_createfile(other, 128, 128));
    size_t n;
    uint8_t *kept = smi_test_read_file(other, &n);
    ASSERT_EQ(n, sizeof junk);
    ASSERT_EQ(memcmp(kept, junk, sizeof junk), 0);
    free(kept);

    /* A larger existing file is left as it is, byte for byte: a stream file
       (here, zeros) is fine as it is; another program's data is refused. */
    const char *large = smi_test_path("createfile-large");
    size_t big = (20u << 20) + 12345;
    uint8_t *content = malloc(big);
    ASSERT(content != NULL);
    for (int kind = 0; kind < 2; kind++) {
        if (kind == 0)
            memset(content, 0, big);
        else
            smi_fill(content, big, 4);
        smi_test_write_file(large, content, big);
        ASSERT_RC(kind == 0 ? IMAGESTREAM_NOERROR : IMAGESTREAM_NOT_A_STREAM,
                  SharedMemoryImageStream_createfile(large, 16, 16));
        after = smi_test_read_file(large, &n1);
        ASSERT_EQ(n1, big);
        ASSERT_MSG(memcmp(after, content, big) == 0, "createfile changed a larger file");
        free(after);
    }
    free(content);

    /* createfileformat: format and depth count. */
    const char *vol = smi_test_path("createfile-vol");
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_FLOAT32;
    d.width = 100;
    d.height = 100;
    d.depth = 4;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(vol, &d));
    check_size(vol, 100 * 100 * 4 * 4, 0, 0);
    extended_holds_two(vol, &d);
    const char *rgba = smi_test_path("createfile-rgba");
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGBA8;
    d.width = 300;
    d.height = 200;
    d.timestamp = 5; /* metadata is ignored */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(rgba, &d));
    check_size(rgba, 300 * 200 * 4, 0, 0);
    extended_holds_two(rgba, &d);
    const char *g16 = smi_test_path("createfile-g16");
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_GRAY16;
    d.width = 640;
    d.height = 480;
    d.depth = 0; /* counts as 1 */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(g16, &d));
    check_size(g16, 640 * 480 * 2, 0, 0);
    extended_holds_two(g16, &d);

    /* createfilelayout: one layout's size; a frame larger than 10 MiB makes
       an EnSight file of two frames and 2 KiB. */
    const struct {
        uint32_t layout, format, w, h, d;
    } sized[] = {
        {IMAGESTREAM_LAYOUT_ENSIGHT, IMAGESTREAM_FORMAT_RGB8, 64, 48, 1},
        {IMAGESTREAM_LAYOUT_EXTENDED, IMAGESTREAM_FORMAT_RGB8, 64, 48, 1},
        {IMAGESTREAM_LAYOUT_ENSIGHT, IMAGESTREAM_FORMAT_RGB8, 4096, 2160, 1},
        {0, IMAGESTREAM_FORMAT_RGB8, 4096, 2160, 1},
        {IMAGESTREAM_LAYOUT_EXTENDED, IMAGESTREAM_FORMAT_GRAY16, 333, 77, 2},
        {0, IMAGESTREAM_FORMAT_GRAY8, 333, 77, 1},
    };
    for (size_t i = 0; i < sizeof sized / sizeof sized[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "createfile-layout%zu", i);
        const char *lp = smi_test_path(name);
        memset(&d, 0, sizeof d);
        d.format = sized[i].format;
        d.width = sized[i].w;
        d.height = sized[i].h;
        d.depth = sized[i].d;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfilelayout(lp, sized[i].layout, &d));
        uint64_t frame = (uint64_t)d.width * d.height * d.depth * SharedMemoryImageStream_formatsize(d.format);
        check_size(lp, frame, sized[i].layout, d.format == IMAGESTREAM_FORMAT_RGB8 && d.depth == 1);
        if (sized[i].layout == IMAGESTREAM_LAYOUT_ENSIGHT)
            ensight_holds_two(lp, d.width, d.height);
        else
            extended_holds_two(lp, &d);
        unlink(lp);
    }
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_GRAY8;
    d.width = d.height = 8;
    ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_ENSIGHT, &d));
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.depth = 2;
    ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_ENSIGHT, &d));
    d.depth = 1;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfilelayout(path, 7, &d));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfilelayout(NULL, 0, &d));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfilelayout(path, 0, NULL));

    /* Where no file can be made. */
    ASSERT_RC(IMAGESTREAM_UNABLE_TO_OPEN_FILE,
              SharedMemoryImageStream_createfile("/nonexistent-dir-smi-test/x.smi", 4, 4));
    char dir[300];
    snprintf(dir, sizeof dir, "%s.d", path);
    ASSERT(mkdir(dir, 0700) == 0);
    int rc = SharedMemoryImageStream_createfile(dir, 4, 4);
    rmdir(dir);
    ASSERT_RC(IMAGESTREAM_UNABLE_TO_OPEN_FILE, rc);
    return 0;
}
