/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestEnSightBytes -- the EnSight layout byte by byte, both directions, with
 * no library on the other side: the test is EnSight's server (or client)
 * by hand, following Core/LAYOUT.md section 1 only.
 *
 * (a) Hand-written server, our client: the hand-built files of Data/ and
 *     hand-written blocks; lock takes the newest block at 2 and sets 3, an
 *     older block at 2 goes back to 0, unlock sets 0; a frame split over both
 *     blocks is handed out whole (assembled), blocks that make no whole
 *     frame are skipped (set back to 0, never handed out); a client of this library
 *     refuses a second one (TOO_MANY_CLIENTS). Then a hand server in another
 *     process publishes thousands of frames of varying sizes while our client
 *     verifies each one it locks.
 * (b) Our server, hand-written client: create leaves zeroed headers at state
 *     4; putframe answers UNCONNECTED and writes nothing until the client
 *     sets 0; then whole frames (offset 0, num_scanlines = height, pad 0) go
 *     to blocks at 0 only, NO_BUFFERAVAILABLE when none, never into a block
 *     at 2 or 3; frame numbers pass as the server gives them, even going
 *     back, but a new server on a file with frames raises those that would
 *     go back; FLIPVERTICAL reverses rows; acquire/publish. Then a hand client in
 *     another process reads every frame it takes while our server publishes.
 * Also a file whose payload size is odd, so that block 1's header sits at an
 * odd offset (the ASan/UBSan build flags misaligned access there).
 */
#include "smi_test.h"

#define W 16
#define H 8

/* Frame f of w x h in the Data/ pattern. */
static void data_frame(uint8_t *buf, uint32_t f, uint32_t w, uint32_t h)
{
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < 3; c++)
                buf[(y * w + x) * 3 + c] = smi_data_pixel(f, x, y, c);
}

/* Compare rows [first, first + rows) of frame f, stored from buf on. */
static void check_data_rows(const uint8_t *buf, uint32_t f, uint32_t w, uint32_t first,
                            uint32_t rows)
{
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < 3; c++) {
                uint8_t want = smi_data_pixel(f, x, first + y, c);
                uint8_t got = buf[(y * w + x) * 3 + c];
                if (got != want)
                    SMI_FAIL("frame %u pixel (%u,%u) channel %u: %u, expected %u", f, x,
                             first + y, c, got, want);
            }
}

/* Hand server: publish frame f (w x h, whole) in block b, as LAYOUT.md says:
   0 -> 1, header and pixels, then 2. */
static void hand_publish(uint8_t *m, uint64_t L, int b, uint32_t f, uint32_t w, uint32_t h)
{
    ASSERT_EQ(smi_es_state(m, L, b), 0);
    smi_es_set_state(m, L, b, 1);
    smi_es_put_header(m, L, b, f, w, h, 0, h);
    data_frame(smi_es_pixels(m, L, b), f, w, h);
    smi_es_set_state(m, L, b, 2);
}

static void expect_frame(SharedMemoryImageStream client, uint32_t f, uint32_t w, uint32_t h)
{
    SharedMemoryFrame fr = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &fr));
    ASSERT(fr != NULL);
    ASSERT_EQ(fr->iFrame, f);
    ASSERT_EQ(fr->iWidth, w);
    ASSERT_EQ(fr->iHeight, h);
    check_data_rows(fr->buffer, f, w, 0, h);
}

/* Hand server: the two parts of frame f (w x h) in blocks 0 and 1, rows
   [o0, o0 + n0) and [o1, o1 + n1), the second frame number f1, both at 2. */
static void hand_split(uint8_t *m, uint64_t L, uint32_t f, uint32_t f1, uint32_t w, uint32_t h,
                       uint32_t o0, uint32_t n0, uint32_t o1, uint32_t n1)
{
    uint8_t *whole = malloc((size_t)w * h * 3);
    ASSERT(whole != NULL);
    data_frame(whole, f, w, h);
    const uint32_t offset[2] = {o0, o1}, rows[2] = {n0, n1}, number[2] = {f, f1};
    for (int b = 0; b < 2; b++) {
        ASSERT_EQ(smi_es_state(m, L, b), 0);
        smi_es_set_state(m, L, b, 1);
        smi_es_put_header(m, L, b, number[b], w, h, offset[b], rows[b]);
        memcpy(smi_es_pixels(m, L, b), whole + (size_t)offset[b] * w * 3, (size_t)rows[b] * w * 3);
    }
    smi_es_set_state(m, L, 1, 2);
    smi_es_set_state(m, L, 0, 2);
    free(whole);
}

/* Blocks that do not make one frame are skipped, both handed back, no
   partial frame shown; block 1 waiting for block 0 (a split frame being
   published) is left as it is until block 0 is ready. */
static void split_frames_by_hand(SharedMemoryImageStream client, uint8_t *m, uint64_t L)
{
    static const struct {
        const char *what;
        uint32_t f1, o0, n0, o1, n1;
    } bad[] = {
        {"top rows in block 1 (wrong order)", 70, 4, 4, 0, 4},
        {"overlapping rows", 70, 0, 5, 4, 4},
        {"a missing row", 70, 0, 4, 5, 3},
        {"different frame numbers", 71, 0, 4, 4, 4},
    };
    SharedMemoryFrame fr;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hand_split(m, L, 70, bad[i].f1, W, H, bad[i].o0, bad[i].n0, bad[i].o1, bad[i].n1);
        fr = NULL;
        int rc = SharedMemoryImageStream_lock(client, &fr);
        ASSERT_MSG(rc == IMAGESTREAM_NO_FRAMEAVAILABLE || rc == IMAGESTREAM_BAD_FILE_FORMAT,
                   "%s: lock answered %d", bad[i].what, rc);
        ASSERT_MSG(fr == NULL, "%s: a frame was handed out", bad[i].what);
        ASSERT_MSG(smi_es_state(m, L, 0) == 0 && smi_es_state(m, L, 1) == 0,
                   "%s: blocks not handed back (%u, %u)", bad[i].what, smi_es_state(m, L, 0),
                   smi_es_state(m, L, 1));
    }
    /* Being published: block 1 ready, block 0 still being written. */
    smi_es_set_state(m, L, 0, 1);
    smi_es_set_state(m, L, 1, 1);
    uint8_t whole[W * H * 3];
    data_frame(whole, 80, W, H);
    smi_es_put_header(m, L, 1, 80, W, H, 5, 3);
    memcpy(smi_es_pixels(m, L, 1), whole + 5 * W * 3, 3 * W * 3);
    smi_es_set_state(m, L, 1, 2);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(client, 0));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &fr));
    ASSERT_EQ(smi_es_state(m, L, 1), 2);
    smi_es_put_header(m, L, 0, 80, W, H, 0, 5);
    memcpy(smi_es_pixels(m, L, 0), whole, 5 * W * 3);
    smi_es_set_state(m, L, 0, 2);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(client, 0));
    expect_frame(client, 80, W, H);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    printf("  split frames: assembled whole; wrong order, overlap, a missing row, two numbers "
           "skipped; a frame being published waited for\n");
}

/* ---- (a) hand server, our client ------------------------------------------- */

static void hand_server_our_client(void)
{
    const char *path = smi_test_path("esbytes-a");
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-initialized.smi", path);
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    ASSERT_EQ(L, 48 + 2 * W * H * 3);
    ASSERT_EQ(smi_es_state(m, L, 0), 4);
    ASSERT_EQ(smi_es_state(m, L, 1), 4);

    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
    ASSERT_EQ(info.buffer_size, W * H * 3);
    ASSERT_EQ(info.clients, 0);

    /* Attach: both at 4, so NOERROR, and both become 0. */
    SharedMemoryImageStream client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client));
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 1);
    ASSERT_EQ(info.server_alive, 0);

    /* One client per stream: a second client of this library is refused. */
    SharedMemoryImageStream second = (SharedMemoryImageStream)(uintptr_t)1;
    ASSERT_RC(IMAGESTREAM_TOO_MANY_CLIENTS,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &second));
    ASSERT(second == NULL);
    ASSERT_EQ(smi_es_state(m, L, 0), 0);

    SharedMemoryFrame fr = NULL;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &fr));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(client, 20));

    /* Frame 7 in block 1: lock sets 3, unlock sets 0. */
    hand_publish(m, L, 1, 7, W, H);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(client, 1000));
    expect_frame(client, 7, W, H);
    ASSERT_EQ(smi_es_state(m, L, 1), 3);
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    SharedMemoryImageDesc d;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_describe(client, &d));
    ASSERT_EQ(d.format, IMAGESTREAM_FORMAT_RGB8);
    ASSERT_EQ(d.depth, 1);
    ASSERT(d.spacing[0] == 1.0 && d.spacing[1] == 1.0 && d.spacing[2] == 1.0);
    ASSERT(d.origin[0] == 0.0 && d.origin[1] == 0.0 && d.origin[2] == 0.0);
    /* While block 1 is locked the server fills block 0; the client leaves it alone. */
    hand_publish(m, L, 0, 8, W, H);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_EQ(smi_es_state(m, L, 0), 2);

    /* Both at 2 (8 in block 0, 9 in block 1): the newer is locked, the older handed back. */
    hand_publish(m, L, 1, 9, W, H);
    expect_frame(client, 9, W, H);
    ASSERT_EQ(smi_es_state(m, L, 1), 3);
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &fr));

    /* The same with the newer frame in block 0, and a smaller frame. */
    hand_publish(m, L, 1, 10, W, H);
    hand_publish(m, L, 0, 11, 12, 6);
    expect_frame(client, 11, 12, 6);
    ASSERT_EQ(smi_es_state(m, L, 0), 3);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_EQ(smi_es_state(m, L, 0), 0);

    /* Blocks as EnSight left them in Data/ensight-two-frames.smi, published by hand:
       frame 42 (16x8) in block 0, frame 41 (12x6) in block 1. */
    size_t n;
    uint8_t *two = smi_test_read_file(SMI_TEST_DATA_DIR "/ensight-two-frames.smi", &n);
    ASSERT_EQ(n, L);
    for (int b = 0; b < 2; b++) {
        smi_es_set_state(m, L, b, 1);
        memcpy(smi_es_block(m, L, b), smi_es_block(two, L, b), 20);
        memcpy(smi_es_pixels(m, L, b), smi_es_pixels(two, L, b), smi_es_payload(L));
        smi_es_set_state(m, L, b, 2);
    }
    free(two);
    expect_frame(client, 42, 16, 8);
    ASSERT_EQ(smi_es_state(m, L, 0), 3);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));

    /* A frame split over both blocks (Data/ensight-partial.smi: frame 50,
       rows 0-3 in block 0, rows 4-7 in block 1) is handed out whole, from
       the client's own copy: both blocks go back to the server at once. */
    uint8_t *part = smi_test_read_file(SMI_TEST_DATA_DIR "/ensight-partial.smi", &n);
    ASSERT_EQ(n, L);
    for (int b = 0; b < 2; b++) {
        smi_es_set_state(m, L, b, 1);
        memcpy(smi_es_block(m, L, b), smi_es_block(part, L, b), 20);
        memcpy(smi_es_pixels(m, L, b), smi_es_pixels(part, L, b), smi_es_payload(L));
        smi_es_set_state(m, L, b, 2);
    }
    /* (the file's rows are what the header says they are) */
    check_data_rows(smi_es_pixels(part, L, 0), 50, 16, 0, 4);
    check_data_rows(smi_es_pixels(part, L, 1), 50, 16, 4, 4);
    free(part);
    expect_frame(client, 50, 16, 8);
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    split_frames_by_hand(client, m, L);
    /* One partial block alone (rows 2..4 of 8). */
    smi_es_set_state(m, L, 0, 1);
    smi_es_put_header(m, L, 0, 60, W, H, 2, 3);
    smi_es_set_state(m, L, 0, 2);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &fr));
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    /* A whole frame after that is fine. */
    hand_publish(m, L, 0, 61, W, H);
    expect_frame(client, 61, W, H);
    ASSERT_EQ(smi_es_state(m, L, 0), 3);

    /* destroy() while locked hands the block back and frees the client byte:
       a new client attaches (the stream was active: RECONNECTING). */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 0);
    ASSERT_RC(IMAGESTREAM_RECONNECTING,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    munmap(m, L);

    /* A stream that was active: Data/ensight-two-frames.smi as it is. inspect
       reports it without changing it; a client takes it over (RECONNECTING)
       and sets both states to 0, dropping the unread frames. */
    const char *path2 = smi_test_path("esbytes-a2");
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-two-frames.smi", path2);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path2, &info));
    ASSERT_EQ(info.layout, IMAGESTREAM_LAYOUT_ENSIGHT);
    ASSERT_EQ(info.buffers[0].state, 2);
    ASSERT_EQ(info.buffers[0].frame, 42);
    ASSERT_EQ(info.buffers[0].width, 16);
    ASSERT_EQ(info.buffers[0].height, 8);
    ASSERT_EQ(info.buffers[1].state, 2);
    ASSERT_EQ(info.buffers[1].frame, 41);
    ASSERT_EQ(info.buffers[1].width, 12);
    ASSERT_EQ(info.buffers[1].height, 6);
    ASSERT_EQ(info.last_frame, 42);
    ASSERT_RC(IMAGESTREAM_RECONNECTING,
              SharedMemoryImageStream_create(path2, IMAGESTREAM_OPTIONS_NONE, &client));
    m = smi_test_map_file(path2, &L);
    ASSERT_EQ(smi_es_state(m, L, 0), 0);
    ASSERT_EQ(smi_es_state(m, L, 1), 0);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(client, &fr));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    munmap(m, L);
}

/* Frame k of the cross-process run: its size varies so that headers matter. */
static void stress_shape(uint32_t k, uint32_t *w, uint32_t *h)
{
    *w = 1 + k % W;
    *h = 1 + (k / 3) % H;
}

#define STRESS_FRAMES 3000u

static void hand_server_process(const char *path)
{
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    for (uint32_t k = 1; k <= STRESS_FRAMES; k++) {
        int b = -1;
        double deadline = smi_test_now_ms() + 10000;
        while (b < 0) {
            uint8_t s0 = smi_es_state(m, L, 0), s1 = smi_es_state(m, L, 1);
            ASSERT_MSG(s0 <= 3 && s1 <= 3, "states %u %u", s0, s1);
            if (s0 == 0 && s1 == 0)
                b = smi_es_header(m, L, 1).frame < smi_es_header(m, L, 0).frame;
            else if (s0 == 0)
                b = 0;
            else if (s1 == 0)
                b = 1;
            else if (smi_test_now_ms() > deadline)
                SMI_FAIL("the client kept both blocks for 10 s (states %u %u)", s0, s1);
            else
                usleep(20);
        }
        uint32_t w, h;
        stress_shape(k, &w, &h);
        smi_es_set_state(m, L, b, 1);
        smi_es_put_header(m, L, b, k, w, h, 0, h);
        smi_fill(smi_es_pixels(m, L, b), (uint64_t)w * h * 3, k);
        smi_es_set_state(m, L, b, 2);
    }
    munmap(m, L);
}

static void hand_server_process_our_client(void)
{
    const char *path = smi_test_path("esbytes-a3");
    smi_test_copy_file(SMI_TEST_DATA_DIR "/ensight-initialized.smi", path);
    SharedMemoryImageStream client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client));
    pid_t pid = smi_test_fork("hand EnSight server");
    if (pid == 0) {
        hand_server_process(path);
        exit(0);
    }
    uint32_t last = 0, locked = 0;
    double deadline = smi_test_now_ms() + 30000;
    while (last < STRESS_FRAMES) {
        ASSERT_MSG(smi_test_now_ms() < deadline, "last frame seen: %u", last);
        int rc = SharedMemoryImageStream_wait(client, 200);
        ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_NO_FRAMEAVAILABLE);
        SharedMemoryFrame fr;
        rc = SharedMemoryImageStream_lock(client, &fr);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        uint32_t w, h;
        stress_shape(fr->iFrame, &w, &h);
        ASSERT_MSG(fr->iFrame > last, "frame %u after %u", fr->iFrame, last);
        ASSERT_EQ(fr->iWidth, w);
        ASSERT_EQ(fr->iHeight, h);
        int64_t bad = smi_check(fr->buffer, (uint64_t)w * h * 3, fr->iFrame);
        ASSERT_MSG(bad < 0, "frame %u torn at byte %lld", fr->iFrame, (long long)bad);
        last = fr->iFrame;
        locked++;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    }
    ASSERT_CHILD_OK(pid, 10000);
    ASSERT(locked >= 1);
    printf("hand server -> our client: %u of %u frames locked, all intact\n", locked,
           STRESS_FRAMES);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
}

/* ---- (b) our server, hand client -------------------------------------------- */

/* Index of the one block at `state`, or -1 if none, -2 if both. */
static int block_at(uint8_t *m, uint64_t L, uint8_t state)
{
    int s0 = smi_es_state(m, L, 0) == state, s1 = smi_es_state(m, L, 1) == state;
    return s0 && s1 ? -2 : s0 ? 0 : s1 ? 1 : -1;
}

static void expect_block(uint8_t *m, uint64_t L, int b, uint8_t state, uint32_t f, uint32_t w,
                         uint32_t h, const uint8_t *pixels)
{
    smi_es_hdr_t hd = smi_es_header(m, L, b);
    ASSERT_EQ(hd.state, state);
    ASSERT_EQ(hd.frame, f);
    ASSERT_EQ(hd.width, w);
    ASSERT_EQ(hd.height, h);
    ASSERT_EQ(hd.offset, 0);
    ASSERT_EQ(hd.scanlines, h);
    ASSERT(hd.pad[0] == 0 && hd.pad[1] == 0 && hd.pad[2] == 0);
    if (pixels) /* NULL: the header only */
        ASSERT_MSG(memcmp(smi_es_pixels(m, L, b), pixels, (size_t)w * h * 3) == 0,
                   "block %d pixels differ from frame %u", b, f);
}

static void our_server_hand_client(void)
{
    const char *path = smi_test_path("esbytes-b");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    SharedMemoryImageStream server = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    ASSERT(smi_es_payload(L) >= W * H * 3);
    /* create: both headers zero, both states 4. */
    for (int b = 0; b < 2; b++) {
        const uint8_t *hd = smi_es_block(m, L, b);
        for (int i = 0; i < 24; i++)
            ASSERT_MSG(hd[i] == (i == 20 ? 4 : 0), "block %d header byte %d is %u", b, i, hd[i]);
    }

    uint8_t px[4][W * H * 3];
    for (int i = 0; i < 4; i++)
        smi_fill(px[i], sizeof px[i], 100 + i);
    struct _SharedMemoryFrame in = {5, W, H, px[0]};

    /* No client yet: UNCONNECTED, nothing written. */
    size_t n0;
    uint8_t *snap = smi_test_read_file(path, &n0);
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryFrame fr;
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_acquire(server, W, H, &fr));
    ASSERT_MSG(memcmp(snap, m, n0) == 0, "putframe without a client changed the file");
    free(snap);

    /* EnSight's client attaches: both states 0. */
    smi_es_set_state(m, L, 0, 0);
    smi_es_set_state(m, L, 1, 0);

    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    int b5 = block_at(m, L, 2);
    ASSERT_MSG(b5 >= 0, "expected one block at 2, got %d", b5);
    ASSERT_EQ(smi_es_state(m, L, !b5), 0);
    expect_block(m, L, b5, 2, 5, W, H, px[0]);

    in.iFrame = 6;
    in.buffer = px[1];
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    expect_block(m, L, !b5, 2, 6, W, H, px[1]);
    expect_block(m, L, b5, 2, 5, W, H, px[0]);

    /* Both at 2: no block at 0, frame dropped, file unchanged. */
    snap = smi_test_read_file(path, &n0);
    in.iFrame = 7;
    in.buffer = px[2];
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_MSG(memcmp(snap, m, n0) == 0, "a dropped frame changed the file");
    free(snap);

    /* Hand client locks the newest (6): 3; hands back the older (5): 0. */
    int b6 = !b5;
    smi_es_set_state(m, L, b6, 3);
    smi_es_set_state(m, L, b5, 0);
    /* Server writes 7 into the only block at 0 and never touches the locked one. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    expect_block(m, L, b5, 2, 7, W, H, px[2]);
    expect_block(m, L, b6, 3, 6, W, H, px[1]);
    in.iFrame = 8;
    in.buffer = px[3];
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, SharedMemoryImageStream_putframe(server, &in));
    expect_block(m, L, b6, 3, 6, W, H, px[1]);
    expect_block(m, L, b5, 2, 7, W, H, px[2]);
    /* Unlock: 3 -> 0. The next frame goes there. */
    smi_es_set_state(m, L, b6, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    expect_block(m, L, b6, 2, 8, W, H, px[3]);

    /* The server's number is the client's, even one that does not increase. */
    smi_es_set_state(m, L, b5, 0); /* client hands 7 back */
    in.iFrame = 3;
    in.buffer = px[0];
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    expect_block(m, L, b5, 2, 3, W, H, px[0]);

    /* acquire/publish: iFrame preset to the next number, a smaller frame. */
    smi_es_set_state(m, L, b6, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, 12, 6, &fr));
    ASSERT_EQ(fr->iFrame, 4);
    ASSERT_EQ(block_at(m, L, 1), b6); /* state 1 while the caller fills it */
    smi_fill(fr->buffer, 12 * 6 * 3, 77);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
    smi_fill(px[0], 12 * 6 * 3, 77);
    expect_block(m, L, b6, 2, 4, 12, 6, px[0]);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));

    /* FLIPVERTICAL: the file holds the input's rows in reverse order; acquire
       is never flipped. A new server sets both states to 4 and keeps the
       rest of the headers (the frames left there number it on). */
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(
                   path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_FLIPVERTICAL, &server));
    ASSERT_EQ(smi_es_state(m, L, 0), 4);
    ASSERT_EQ(smi_es_state(m, L, 1), 4);
    expect_block(m, L, b5, 4, 3, W, H, NULL);
    expect_block(m, L, b6, 4, 4, 12, 6, NULL);
    smi_es_set_state(m, L, 0, 0);
    smi_es_set_state(m, L, 1, 0);
    uint8_t bottom_up[W * H * 3], top_down[W * H * 3];
    smi_fill(bottom_up, sizeof bottom_up, 555);
    for (int y = 0; y < H; y++)
        memcpy(top_down + y * W * 3, bottom_up + (H - 1 - y) * W * 3, W * 3);
    in.iFrame = 20;
    in.buffer = bottom_up;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    int bf = block_at(m, L, 2);
    ASSERT(bf >= 0);
    expect_block(m, L, bf, 2, 20, W, H, top_down);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &fr));
    memcpy(fr->buffer, bottom_up, sizeof bottom_up);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
    expect_block(m, L, !bf, 2, 21, W, H, bottom_up);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));

    /* A server taking over frames raises numbers that would go back: this
       one counts from 0 again, clients see 22 on. */
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    smi_es_set_state(m, L, 0, 0);
    smi_es_set_state(m, L, 1, 0);
    in.buffer = px[1];
    for (uint32_t i = 0; i < 2; i++) {
        in.iFrame = i;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
        int b = block_at(m, L, 2);
        ASSERT(b >= 0);
        expect_block(m, L, b, 2, 22 + i, W, H, px[1]);
        smi_es_set_state(m, L, b, 0); /* the hand client takes it and gives it back */
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    munmap(m, L);
}

/* Hand client in another process: takes the newest block at 2 (3), hands
   the older back (0), checks the frame and gives it back (0). */
static void hand_client_process(const char *path, uint32_t *attached)
{
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    WAIT_UNTIL(smi_es_state(m, L, 0) == 4 && smi_es_state(m, L, 1) == 4, 5000);
    smi_es_set_state(m, L, 0, 0);
    smi_es_set_state(m, L, 1, 0);
    SMI_T_STORE(attached, 1);
    uint32_t last = 0, locked = 0;
    double deadline = smi_test_now_ms() + 30000;
    while (last < STRESS_FRAMES) {
        ASSERT_MSG(smi_test_now_ms() < deadline, "last frame seen: %u", last);
        int r0 = smi_es_state(m, L, 0) == 2, r1 = smi_es_state(m, L, 1) == 2;
        if (!r0 && !r1) {
            usleep(20);
            continue;
        }
        int b = r0 && r1 ? smi_es_header(m, L, 1).frame > smi_es_header(m, L, 0).frame : r1;
        smi_es_set_state(m, L, b, 3);
        if (r0 && r1)
            smi_es_set_state(m, L, !b, 0);
        smi_es_hdr_t hd = smi_es_header(m, L, b);
        ASSERT_MSG(hd.frame > last, "frame %u after %u", hd.frame, last);
        uint32_t w, h;
        stress_shape(hd.frame, &w, &h);
        ASSERT_EQ(hd.width, w);
        ASSERT_EQ(hd.height, h);
        ASSERT_EQ(hd.offset, 0);
        ASSERT_EQ(hd.scanlines, h);
        int64_t bad = smi_check(smi_es_pixels(m, L, b), (uint64_t)w * h * 3, hd.frame);
        ASSERT_MSG(bad < 0, "frame %u torn at byte %lld", hd.frame, (long long)bad);
        last = hd.frame;
        locked++;
        smi_es_set_state(m, L, b, 0);
    }
    printf("our server -> hand client: %u of %u frames taken, all intact\n", locked,
           STRESS_FRAMES);
    munmap(m, L);
}

static void our_server_hand_client_process(void)
{
    const char *path = smi_test_path("esbytes-b2");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    SharedMemoryImageStream server = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    uint32_t *attached = smi_test_shared_alloc(4096);
    pid_t pid = smi_test_fork("hand EnSight client");
    if (pid == 0) {
        hand_client_process(path, attached);
        exit(0);
    }
    uint8_t px[W * H * 3];
    struct _SharedMemoryFrame in = {0, 0, 0, px};
    uint32_t published = 0, dropped = 0;
    WAIT_UNTIL(SMI_T_LOAD(attached) == 1, 5000);
    double deadline = smi_test_now_ms() + 30000;
    for (uint32_t k = 1; k <= STRESS_FRAMES; k++) {
        stress_shape(k, &in.iWidth, &in.iHeight);
        in.iFrame = k;
        smi_fill(px, (uint64_t)in.iWidth * in.iHeight * 3, k);
        /* Give the client a moment when both blocks are taken (the last
           frame waits as long as it takes), then drop the frame. */
        int rc, tries = 0;
        while ((rc = SharedMemoryImageStream_putframe(server, &in)) ==
                   IMAGESTREAM_NO_BUFFERAVAILABLE &&
               (k == STRESS_FRAMES || ++tries < 20)) {
            ASSERT(smi_test_now_ms() < deadline);
            usleep(20);
        }
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_BUFFERAVAILABLE, rc);
        rc == IMAGESTREAM_NOERROR ? published++ : dropped++;
    }
    ASSERT_CHILD_OK(pid, 20000);
    printf("our server: %u published, %u dropped (no free block)\n", published, dropped);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    munmap(attached, 4096);
}

/* A file whose payload size P is odd: block 1's header starts at an odd
   offset (24 + P), which LAYOUT.md allows (any L >= 54). Our server and our
   client must still find it there. */
static void odd_sized_file(void)
{
    const char *path = smi_test_path("esbytes-odd");
    const uint64_t P = W * H * 3 + 1, L = 48 + 2 * P;
    uint8_t *zeros = calloc(L, 1);
    ASSERT(zeros != NULL);
    smi_test_write_file(path, zeros, L);
    free(zeros);
    SharedMemoryImageStream server = NULL, client = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &server));
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client));
    uint64_t Lm;
    uint8_t *m = smi_test_map_file(path, &Lm);
    ASSERT_EQ(Lm, L);
    ASSERT_EQ(smi_es_block(m, L, 1) - m, 24 + P);
    uint8_t px[2][W * H * 3];
    smi_fill(px[0], sizeof px[0], 31);
    smi_fill(px[1], sizeof px[1], 32);
    struct _SharedMemoryFrame in = {31, W, H, px[0]};
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryFrame fr;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &fr));
    int b = block_at(m, L, 3);
    ASSERT(b >= 0);
    in.iFrame = 32;
    in.buffer = px[1];
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    expect_block(m, L, b, 3, 31, W, H, px[0]);
    expect_block(m, L, !b, 2, 32, W, H, px[1]);
    ASSERT_EQ(memcmp(fr->buffer, px[0], sizeof px[0]), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &fr));
    ASSERT_EQ(fr->iFrame, 32);
    ASSERT_EQ(memcmp(fr->buffer, px[1], sizeof px[1]), 0);
    ASSERT_EQ(smi_es_state(m, L, !b), 3);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    munmap(m, L);
}

int main(void)
{
    smi_test_watchdog(60);
    hand_server_our_client();
    odd_sized_file();
    hand_server_process_our_client();
    our_server_hand_client();
    our_server_hand_client_process();
    return 0;
}
