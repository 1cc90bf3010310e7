/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestBadArgs -- every public call refuses what it must refuse, with the
 * documented code, and changes nothing when it does: NULL handles, names and
 * frames, unknown option bits, client calls on a server and server calls on
 * a client, unlock without lock, lock twice, acquire twice, publish without
 * acquire, frames too large or of a format the layout cannot hold. Run on
 * both layouts.
 */
#include "smi_test.h"

#define W 32
#define H 16

static void check_layout(int extended)
{
    const char *path = smi_test_path(extended ? "badargs-ext" : "badargs-es");
    uint32_t srv_opts = IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));

    SharedMemoryImageStream server = NULL, client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, srv_opts, &server));
    ASSERT(server != NULL);

    uint8_t pixels[W * H * 3];
    smi_fill(pixels, sizeof pixels, 7);
    struct _SharedMemoryFrame in = {7, W, H, pixels};
    SharedMemoryFrame f = NULL;
    SharedMemoryImageDesc d;

    /* Server calls with bad arguments. */
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframe(NULL, &in));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframe(server, NULL));
    struct _SharedMemoryFrame nobuf = {7, W, H, NULL};
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframe(server, &nobuf));
    struct _SharedMemoryFrame zero_w = {7, 0, H, pixels}, zero_h = {7, W, 0, pixels};
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframe(server, &zero_w));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframe(server, &zero_h));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquire(NULL, W, H, &f));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquire(server, W, H, NULL));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquire(server, 0, H, &f));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquire(server, W, 0, &f));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_acquireformat(server, NULL, &f));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_publish(NULL));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_publish(server));
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = W;
    d.height = H;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframeformat(server, &d, 0, NULL));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframeformat(server, NULL, 0, pixels));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_putframeformat(NULL, &d, 0, pixels));
    d.format = 99;
    ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_acquireformat(server, &d, &f));
    ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_putframeformat(server, &d, 0, pixels));
    if (!extended) {
        /* The EnSight layout holds packed RGB images only: every other
           format of the list is refused, by both calls. */
#define SMI_REFUSE_FORMAT(fmt, channels, bytes, kind, name)                                  \
    d.format = IMAGESTREAM_FORMAT_##fmt;                                                     \
    if (d.format != IMAGESTREAM_FORMAT_RGB8) {                                               \
        ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_acquireformat(server, &d, &f)); \
        ASSERT_RC(IMAGESTREAM_BAD_FORMAT,                                                    \
                  SharedMemoryImageStream_putframeformat(server, &d, 0, pixels));            \
    }
        SMI_FORMAT_LIST(SMI_REFUSE_FORMAT)
#undef SMI_REFUSE_FORMAT
        d.format = IMAGESTREAM_FORMAT_RGB8;
        d.depth = 2;
        ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_acquireformat(server, &d, &f));
    }
    /* Larger than the file, and sizes whose byte count overflows. */
    /* (createfile makes at least 20 MiB: a 4096 x 2048 RGB frame is 24 MiB) */
    uint8_t *big = calloc((size_t)4096 * 2048 * 3, 1);
    ASSERT(big != NULL);
    struct _SharedMemoryFrame too_big = {8, 4096, 2048, big};
    ASSERT_RC(IMAGESTREAM_FRAME_TOO_LARGE, SharedMemoryImageStream_putframe(server, &too_big));
    free(big);
    ASSERT_RC(IMAGESTREAM_FRAME_TOO_LARGE,
              SharedMemoryImageStream_acquire(server, 0xffffffffu, 0xffffffffu, &f));
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = d.height = 0x10000;
    d.depth = extended ? 0xffffffffu : 1;
    ASSERT_RC(IMAGESTREAM_FRAME_TOO_LARGE, SharedMemoryImageStream_acquireformat(server, &d, &f));

    /* Client calls on the server. */
    ASSERT_RC(IMAGESTREAM_IS_SERVER, SharedMemoryImageStream_lock(server, &f));
    ASSERT_RC2(IMAGESTREAM_IS_SERVER, IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(server));
    ASSERT_RC(IMAGESTREAM_IS_SERVER, SharedMemoryImageStream_wait(server, 0));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_describe(server, &d));

    /* A client. Unknown option bits are refused first and *stream is NULL. */
    const uint32_t bad_options[] = {0x4, 0x8, 0x200, 0x00200000, 0x80000000u,
                                    IMAGESTREAM_OPTIONS_SERVER | 0x10};
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)0x1;
        ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_create(path, bad_options[i], &s));
        ASSERT_MSG(s == NULL, "options 0x%x left *stream set", bad_options[i]);
    }
    SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)0x1;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_create(NULL, 0, &s));
    ASSERT(s == NULL);
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_create(path, 0, NULL));

    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE,
                                                                  &client));
    ASSERT(client != NULL);

    /* Server calls on the client. */
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_putframe(client, &in));
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_acquire(client, W, H, &f));
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_publish(client));
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = W;
    d.height = H;
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_acquireformat(client, &d, &f));
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_putframeformat(client, &d, 0, pixels));

    /* Lock/unlock misuse. */
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_lock(NULL, &f));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_lock(client, NULL));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_unlock(NULL));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_wait(NULL, 0));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &f));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_describe(client, &d));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_describe(NULL, &d));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_describe(client, NULL));

    /* Acquire twice, putframe while acquired, then publish. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &f));
    ASSERT(f != NULL && f->buffer != NULL);
    SharedMemoryFrame f2 = NULL;
    ASSERT_RC(IMAGESTREAM_LOCKED, SharedMemoryImageStream_acquire(server, W, H, &f2));
    ASSERT_RC(IMAGESTREAM_LOCKED, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(server, &d));
    ASSERT_EQ(d.width, W);
    ASSERT_EQ(d.height, H);
    memcpy(f->buffer, pixels, sizeof pixels);
    f->iFrame = 7;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_publish(server));

    /* A NULL frame pointer must not consume the frame. */
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_lock(client, NULL));
    f = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT(f != NULL);
    ASSERT_EQ(f->iFrame, 7);
    ASSERT_EQ(f->iWidth, W);
    ASSERT_EQ(f->iHeight, H);
    ASSERT_EQ(smi_check(f->buffer, sizeof pixels, 7), -1);
    /* Lock twice. */
    f2 = NULL;
    ASSERT_RC(IMAGESTREAM_LOCKED, SharedMemoryImageStream_lock(client, &f2));
    ASSERT(f2 == NULL);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(client, &d));
    ASSERT_EQ(d.format, IMAGESTREAM_FORMAT_RGB8);
    ASSERT_EQ(d.width, W);
    ASSERT_EQ(d.height, H);
    ASSERT_EQ(d.depth, 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &f));

    /* info / inspect / createfile argument checks. */
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_info(NULL, &info));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_info(client, NULL));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_inspect(NULL, &info));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_inspect(path, NULL));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(client, &info));
    ASSERT_EQ(info.layout, extended ? IMAGESTREAM_LAYOUT_EXTENDED : IMAGESTREAM_LAYOUT_ENSIGHT);

    /* A client stays usable after all that: one more frame goes through. */
    smi_fill(pixels, sizeof pixels, 9);
    in.iFrame = 9;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_EQ(f->iFrame, 9);
    ASSERT_EQ(smi_check(f->buffer, sizeof pixels, 9), -1);
    /* destroy() while locked releases the lock first. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
}

static void check_files(void)
{
    const char *path = smi_test_path("badargs-file");
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = d.height = 4;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfile(NULL, 4, 4));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfile(path, 0, 4));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfile(path, 4, 0));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfile(path, 0xffffffffu, 0xffffffffu));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfileformat(NULL, &d));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfileformat(path, NULL));
    d.format = 99; /* an unknown format: either code says what is wrong */
    ASSERT_RC2(IMAGESTREAM_BAD_ARGS, IMAGESTREAM_BAD_FORMAT,
               SharedMemoryImageStream_createfileformat(path, &d));
    d.format = IMAGESTREAM_FORMAT_FLOAT32;
    d.width = d.height = 0xffffffffu;
    d.depth = 0xffffffffu;
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_createfileformat(path, &d));
    /* None of these may have created the file. */
    ASSERT_EQ(smi_test_file_size(path), -1);

    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_destroy(NULL));
}

int main(void)
{
    smi_test_watchdog(30);
    check_files();
    check_layout(0);
    check_layout(1);
    return 0;
}
