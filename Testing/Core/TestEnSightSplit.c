/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestEnSightSplit -- EnSight-layout frames larger than one block travel
 * split over both (LAYOUT.md, "Frames split over both blocks"), between our
 * server and our client, in separate processes.
 *
 * (a) In one process, on a file whose blocks each hold 60 % of a frame:
 *     putframe of a frame that needs both blocks writes its top rows (half,
 *     rounded up) in block 0 and the rest in block 1 (offset/num_scanlines,
 *     same frame number); the client gets it whole, byte for byte, through
 *     lock, copyframe and copyframe flipped, and both blocks are the
 *     server's again once it is locked; FLIPVERTICAL and acquire/publish
 *     (the server's staging memory) too; while a split frame waits unread
 *     the next one is NO_BUFFERAVAILABLE; a frame too tall for both blocks
 *     is FRAME_TOO_LARGE, and one that fits a block still goes whole.
 * (b) A server process publishes split and whole frames in turn as fast as
 *     it can while a client process waits, locks and checks every frame it
 *     gets (tagged pattern: the frame's seed in its first bytes).
 */
#include "smi_test.h"

#define W 200u
#define H 150u
#define ROW (W * 3u)
#define FRAME (ROW * H)
#define PAYLOAD (FRAME * 6u / 10u) /* 60 % of a frame per block */
#define FILE_BYTES (2u * 24u + 2u * PAYLOAD)

static const char *make_file(const char *tag)
{
    const char *path = smi_test_path(tag);
    uint8_t *zeros = calloc(1, FILE_BYTES);
    ASSERT(zeros != NULL);
    smi_test_write_file(path, zeros, FILE_BYTES);
    free(zeros);
    return path;
}

static SharedMemoryImageStream open_stream(const char *path, uint32_t options)
{
    SharedMemoryImageStream s = NULL;
    int rc = SharedMemoryImageStream_create(path, options, &s);
    ASSERT_MSG(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_RECONNECTING, "create %s: %s", path,
               SharedMemoryImageStream_errorstring(rc));
    return s;
}

/* The frame's rows reversed. */
static void flip_rows(uint8_t *dst, const uint8_t *src, uint32_t w, uint32_t h)
{
    for (uint32_t y = 0; y < h; y++)
        memcpy(dst + (size_t)(h - 1 - y) * w * 3, src + (size_t)y * w * 3, (size_t)w * 3);
}

static void one_process(void)
{
    const char *path = make_file("essplit-a");
    SharedMemoryImageStream server = open_stream(path, IMAGESTREAM_OPTIONS_SERVER);
    SharedMemoryImageStream client = open_stream(path, IMAGESTREAM_OPTIONS_NONE);
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    ASSERT_EQ(L, FILE_BYTES);
    static uint8_t px[FRAME], out[FRAME], flipped[FRAME];
    smi_fill(px, FRAME, 11);
    struct _SharedMemoryFrame in = {7, W, H, px};
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    /* The blocks as LAYOUT.md says: top half (rounded up) in block 0. */
    uint32_t top = H - H / 2;
    smi_es_hdr_t h0 = smi_es_header(m, L, 0), h1 = smi_es_header(m, L, 1);
    ASSERT_EQ(h0.state, 2);
    ASSERT_EQ(h1.state, 2);
    ASSERT_EQ(h0.frame, 7);
    ASSERT_EQ(h1.frame, 7);
    ASSERT_EQ(h0.offset, 0);
    ASSERT_EQ(h0.scanlines, top);
    ASSERT_EQ(h1.offset, top);
    ASSERT_EQ(h1.scanlines, H - top);
    ASSERT_EQ(memcmp(smi_es_pixels(m, L, 0), px, (size_t)ROW * top), 0);
    ASSERT_EQ(memcmp(smi_es_pixels(m, L, 1), px + (size_t)ROW * top, (size_t)ROW * (H - top)), 0);
    /* Unread, it holds both blocks: nothing more can be published. */
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, SharedMemoryImageStream_putframe(server, &in));

    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_EQ(f->iFrame, 7);
    ASSERT_EQ(f->iWidth, W);
    ASSERT_EQ(f->iHeight, H);
    ASSERT_EQ(memcmp(f->buffer, px, FRAME), 0);
    ASSERT_EQ(smi_es_state(m, L, 0), 0); /* the client holds its own copy */
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(client, out, sizeof out, 0));
    ASSERT_EQ(memcmp(out, px, FRAME), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(client, out, sizeof out, 1));
    flip_rows(flipped, px, W, H);
    ASSERT_EQ(memcmp(out, flipped, FRAME), 0);
    /* The server publishes the next one while the client still holds this. */
    smi_fill(px, FRAME, 12);
    in.iFrame = 8;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_EQ(f->iFrame, 8);
    ASSERT_EQ(memcmp(f->buffer, px, FRAME), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));

    /* acquire/publish: the server's staging memory, then both blocks. */
    SharedMemoryFrame a = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &a));
    smi_fill(a->buffer, FRAME, 13);
    a->iFrame = 9;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_EQ(f->iFrame, 9);
    ASSERT_EQ(smi_check(f->buffer, FRAME, 13), -1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    /* abandon gives both blocks back. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &a));
    ASSERT_EQ(smi_es_state(m, L, 0), 1);
    ASSERT_EQ(smi_es_state(m, L, 1), 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(server));
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);

    /* Too tall for both blocks; one that fits a block goes whole. */
    uint32_t per = PAYLOAD / ROW;
    ASSERT_RC(IMAGESTREAM_FRAME_TOO_LARGE,
              SharedMemoryImageStream_acquire(server, W, 2 * per + 1, &a));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, 2 * per, &a));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(server));
    struct _SharedMemoryFrame small = {10, W, per, px};
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &small));
    int whole = smi_es_state(m, L, 0) == 2 ? 0 : 1;
    ASSERT_EQ(smi_es_state(m, L, whole), 2);
    ASSERT_EQ(smi_es_state(m, L, !whole), 0);
    ASSERT_EQ(smi_es_header(m, L, whole).scanlines, per);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_EQ(f->iHeight, per);
    ASSERT_EQ(memcmp(f->buffer, px, (size_t)ROW * per), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    SharedMemoryImageStream_destroy(server);

    /* A server that flips rows (FLIPVERTICAL: its input bottom row first). */
    server = open_stream(path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_FLIPVERTICAL);
    smi_fill(px, FRAME, 14);
    in.iFrame = 20;
    int rc = SharedMemoryImageStream_putframe(server, &in);
    if (rc == IMAGESTREAM_UNCONNECTED) { /* (the new server's blocks wait for the client) */
        ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &f));
        rc = SharedMemoryImageStream_putframe(server, &in);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, rc);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    flip_rows(flipped, px, W, H);
    ASSERT_EQ(memcmp(f->buffer, flipped, FRAME), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    SharedMemoryImageStream_destroy(client);
    SharedMemoryImageStream_destroy(server);
    munmap(m, L);
    printf("(a) split frames: layout of both blocks, lock/copyframe/flip, acquire/publish, abandon, "
           "FRAME_TOO_LARGE, FLIPVERTICAL: exact\n");
}

/* ---- (b) across processes ---------------------------------------------- */

typedef struct {
    uint32_t stop, published, locked, bad;
} shared_t;

static void serve(const char *path, shared_t *sh)
{
    SharedMemoryImageStream server = open_stream(path, IMAGESTREAM_OPTIONS_SERVER);
    static uint8_t px[FRAME];
    uint32_t seed = 1;
    while (!SMI_T_LOAD(&sh->stop)) {
        /* Split frames, and now and then one that fits a block. */
        uint32_t h = seed % 5 == 0 ? PAYLOAD / ROW : H;
        smi_fill_tagged(px, (uint64_t)ROW * h, seed);
        struct _SharedMemoryFrame in = {seed, W, h, px};
        int rc = SharedMemoryImageStream_putframe(server, &in);
        if (rc == IMAGESTREAM_NOERROR) {
            SMI_T_ADD(&sh->published, 1);
            seed++;
        } else if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE || rc == IMAGESTREAM_UNCONNECTED) {
            smi_test_sleep_ms(0.05);
        } else {
            SMI_FAIL("putframe: %s", SharedMemoryImageStream_errorstring(rc));
        }
    }
    SharedMemoryImageStream_destroy(server);
}

static void across_processes(void)
{
    const char *path = make_file("essplit-b");
    shared_t *sh = smi_test_shared_alloc(sizeof *sh);
    SharedMemoryImageStream client = open_stream(path, IMAGESTREAM_OPTIONS_NONE);
    pid_t pid = smi_test_fork("split-frame server");
    if (pid == 0) {
        serve(path, sh);
        exit(0);
    }
    uint32_t last = 0;
    double until = smi_test_now_ms() + 20000;
    while (SMI_T_LOAD(&sh->locked) < 300 && smi_test_now_ms() < until) {
        int rc = SharedMemoryImageStream_wait(client, 1000);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        SharedMemoryFrame f = NULL;
        rc = SharedMemoryImageStream_lock(client, &f);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        uint32_t seed;
        int64_t at = smi_check_tagged(f->buffer, (uint64_t)f->iWidth * f->iHeight * 3, &seed);
        ASSERT_MSG(at < 0, "frame %u: byte %lld differs", f->iFrame, (long long)at);
        ASSERT_EQ(seed, f->iFrame);
        ASSERT_EQ(f->iHeight, seed % 5 == 0 ? PAYLOAD / ROW : H);
        ASSERT_MSG(f->iFrame > last, "frame %u after %u", f->iFrame, last);
        last = f->iFrame;
        SMI_T_ADD(&sh->locked, 1);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    }
    SMI_T_STORE(&sh->stop, 1);
    ASSERT_CHILD_OK(pid, 10000);
    SharedMemoryImageStream_destroy(client);
    ASSERT_GE(SMI_T_LOAD(&sh->locked), 300);
    printf("(b) %u frames published, %u locked by the client in another process, all exact\n",
           SMI_T_LOAD(&sh->published), SMI_T_LOAD(&sh->locked));
}

int main(void)
{
    smi_test_watchdog(90);
    one_process();
    across_processes();
    return 0;
}
