/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestClientFirst -- a client that attaches before any server, as a viewer
 * started before its publisher does: the file from createfile() is
 * zero-filled, so the client sees an EnSight stream with no frame
 * (LAYOUT.md section 1). An extended-layout server then takes the file; the
 * client, without re-attaching, is woken by wait() and locks the server's
 * frames, of any format (ANYFORMAT), with every byte intact. Then the server
 * goes and a new one comes: the client goes on.
 *
 * The same when the server grows the file for its frames before it starts
 * (the client maps the grown file). Then the race in that hand-over, many
 * times: a client spins on lock()
 * while the server writes its header over the zero-filled file. Whatever
 * moment the client looks, it sees an EnSight stream with no frame or the
 * extended stream, never "invalid header" (100 rounds; the race, when it
 * was there, showed in the first).
 */
#include "smi_test.h"

#define W 64u
#define H 48u

typedef struct {
    uint32_t attached;
    uint32_t done;
} shared_t;

static void client(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_ANYFORMAT, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c, &f));
    SMI_T_STORE(&sh->attached, 1);

    /* Frame 1: RGB8, then frame 2: FLOAT32 2-slice volume; then, from the
       second server, frame 3 (RGB8). */
    for (uint32_t tag = 1; tag <= 3; tag++) {
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 10000));
        int rc;
        double until = smi_test_now_ms() + 5000;
        while ((rc = SharedMemoryImageStream_lock(c, &f)) == IMAGESTREAM_NO_FRAMEAVAILABLE) {
            ASSERT(smi_test_now_ms() < until);
            smi_test_sleep_ms(1);
        }
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        SharedMemoryImageDesc d;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(c, &d));
        uint64_t n = (uint64_t)d.width * d.height * d.depth * SharedMemoryImageStream_formatsize(d.format);
        ASSERT_EQ(d.format, tag == 2 ? IMAGESTREAM_FORMAT_FLOAT32 : IMAGESTREAM_FORMAT_RGB8);
        ASSERT_EQ(d.depth, tag == 2 ? 2 : 1);
        ASSERT_EQ(f->iFrame, tag);
        ASSERT_EQ(smi_check(f->buffer, n, tag), -1);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
        SMI_T_STORE(&sh->done, tag);
    }
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_EXTENDED);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

/* One round: a fresh zero-filled file, a client attached to it spinning on
   lock(), a server starting. The client must only ever see no frame yet,
   then the server's frame. */
static void race_round(const char *path, shared_t *sh, int round)
{
    unlink(path);
    SharedMemoryImageDesc max;
    memset(&max, 0, sizeof max);
    max.format = IMAGESTREAM_FORMAT_RGB8;
    max.width = W;
    max.height = H;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &max));
    SMI_T_STORE(&sh->attached, 0);
    pid_t pid = smi_test_fork("racing client");
    if (pid == 0) {
        SharedMemoryImageStream c = NULL;
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
                   SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
        SMI_T_STORE(&sh->attached, 1);
        SharedMemoryFrame f;
        int rc;
        double until = smi_test_now_ms() + 10000;
        while ((rc = SharedMemoryImageStream_lock(c, &f)) == IMAGESTREAM_NO_FRAMEAVAILABLE)
            ASSERT(smi_test_now_ms() < until);
        if (rc != IMAGESTREAM_NOERROR)
            fprintf(stderr, "round %d: lock: %s\n", round, SharedMemoryImageStream_errorstring(rc));
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        ASSERT_EQ(f->iFrame, (uint32_t)round);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->attached), 10000);
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    uint8_t px[W * H * 3];
    smi_fill(px, sizeof px, (uint32_t)round);
    struct _SharedMemoryFrame in = {(uint32_t)round, W, H, px};
    /* UNCONNECTED: the client has not found the extended header yet; the
       frame waits for it all the same. */
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(s, &in));
    ASSERT_CHILD_OK(pid, 15000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

/* A client attached to a small zero-filled file; the server grows the file
   for its frames before it writes its header (as smisink does): the client
   maps the grown file and takes the frame. */
static void grown_before_start(const char *path)
{
    SharedMemoryImageDesc small = {.format = IMAGESTREAM_FORMAT_RGB8, .width = 16, .height = 16};
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &small));
    SharedMemoryImageStream c = NULL;
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c, &f));
    SharedMemoryImageDesc big = {.format = IMAGESTREAM_FORMAT_RGB8, .width = W * 4, .height = H * 4};
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &big));
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    uint8_t *px = malloc((size_t)W * 4 * H * 4 * 3);
    ASSERT(px != NULL);
    smi_fill(px, (uint64_t)W * 4 * H * 4 * 3, 9);
    struct _SharedMemoryFrame in = {9, W * 4, H * 4, px};
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(s, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, 9);
    ASSERT_EQ(smi_check(f->buffer, (uint64_t)W * 4 * H * 4 * 3, 9), -1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    free(px);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

int main(void)
{
    smi_test_watchdog(60);
    const char *path = smi_test_path("clientfirst");
    SharedMemoryImageDesc max;
    memset(&max, 0, sizeof max);
    max.format = IMAGESTREAM_FORMAT_FLOAT32;
    max.width = W;
    max.height = H;
    max.depth = 2;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfileformat(path, &max));
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    pid_t pid = smi_test_fork("early client");
    if (pid == 0) {
        client(path, sh);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->attached), 10000);
    smi_test_sleep_ms(50); /* the client is in wait() now, polling an EnSight file */

    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    uint8_t *px = malloc((size_t)W * H * 4 * 2);
    ASSERT(px != NULL);
    smi_fill(px, (uint64_t)W * H * 3, 1);
    struct _SharedMemoryFrame in = {1, W, H, px};
    /* The client has not found the extended header yet: UNCONNECTED is fine. */
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(s, &in));
    WAIT_UNTIL(SMI_T_LOAD(&sh->done) == 1, 10000);

    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_FLOAT32;
    d.width = W;
    d.height = H;
    d.depth = 2;
    smi_fill(px, (uint64_t)W * H * 4 * 2, 2);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(s, &d, 2, px));
    WAIT_UNTIL(SMI_T_LOAD(&sh->done) == 2, 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));

    s = smi_test_ext_server(path, IMAGESTREAM_NOERROR); /* the last ended cleanly */
    smi_fill(px, (uint64_t)W * H * 3, 3);
    in.iFrame = 3;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &in));
    ASSERT_CHILD_OK(pid, 15000);
    free(px);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));

    grown_before_start(smi_test_path("clientfirst-grown"));

    const char *race = smi_test_path("clientfirst-race");
    for (int round = 1; round <= 100; round++)
        race_round(race, sh, round);
    return 0;
}
