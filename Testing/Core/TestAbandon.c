/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestAbandon -- a server that acquires a buffer, half-writes it and gives it
 * back with SharedMemoryImageStream_abandon() never shows those bytes: a
 * client in another process sees only the published frames, in order, and
 * the next acquire works. Both layouts. Also the refusals: abandon without
 * acquire (NOT_LOCKED), on a client (IS_NOTSERVER), NULL (BAD_ARGS).
 * The last frame is a published one: an abandoned acquire may have taken
 * the buffer of the newest frame (extended layout, while the client holds
 * the other one), and then nothing newer would come.
 */
#include "smi_test.h"

#define W 64
#define H 32
#define FRAMES 50

static void check_layout(int extended)
{
    const char *path = smi_test_path(extended ? "abandon-ext" : "abandon-es");
    uint32_t opts = IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    SharedMemoryImageStream server;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, opts, &server));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_abandon(NULL));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_abandon(server));

    /* The client: every frame it locks must be a published one (seed = frame
       number, odd), never an abandoned one (even seeds). */
    pid_t client = smi_test_fork("client");
    if (client == 0) {
        SharedMemoryImageStream c;
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
                   SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
        ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_abandon(c));
        uint32_t last = 0, seen = 0;
        while (last < 2 * FRAMES + 1) {
            if (SharedMemoryImageStream_wait(c, 5000) != IMAGESTREAM_NOERROR)
                SMI_FAIL("no frame after %u (saw %u)", last, seen);
            SharedMemoryFrame f;
            if (SharedMemoryImageStream_lock(c, &f) != IMAGESTREAM_NOERROR)
                continue;
            ASSERT(f->iFrame > last);
            ASSERT_MSG(f->iFrame % 2 == 1, "frame %u was abandoned, yet locked", f->iFrame);
            int64_t bad = smi_check(f->buffer, W * H * 3, f->iFrame);
            ASSERT_MSG(bad < 0, "frame %u differs at byte %lld", f->iFrame, (long long)bad);
            last = f->iFrame;
            seen++;
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
        }
        SharedMemoryImageStream_destroy(c);
        exit(0);
    }

    /* Wait for the client to attach, then alternate: abandon an even frame,
       publish an odd one. */
    SharedMemoryStreamInfo info;
    WAIT_UNTIL(SharedMemoryImageStream_info(server, &info) == IMAGESTREAM_NOERROR &&
                   (extended ? info.clients == 1
                             : info.buffers[0].state != 4 && info.buffers[1].state != 4),
               5000);
    for (uint32_t n = 2; n <= 2 * FRAMES + 1; n++) {
        SharedMemoryFrame f;
        int rc;
        double deadline = smi_test_now_ms() + 5000;
        while ((rc = SharedMemoryImageStream_acquire(server, W, H, &f)) != IMAGESTREAM_NOERROR) {
            ASSERT_MSG(rc > 0, "acquire: %s", SharedMemoryImageStream_errorstring(rc));
            ASSERT_MSG(smi_test_now_ms() < deadline, "no free buffer for frame %u", n);
            smi_test_sleep_ms(0.2);
        }
        if (n % 2 == 0) {
            smi_fill(f->buffer, W * H * 3 / 2, n); /* half a frame, then give up */
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(server));
            ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_publish(server));
        } else {
            f->iFrame = n;
            smi_fill(f->buffer, W * H * 3, n);
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
            ASSERT_EQ(f->iFrame, n);
            smi_test_sleep_ms(1);
        }
    }
    ASSERT_CHILD_OK(client, 20000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
}

int main(void)
{
    smi_test_watchdog(60);
    check_layout(1);
    check_layout(0);
    puts("TestAbandon: passed");
    return 0;
}
