/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestQueue -- queue reading (IMAGESTREAM_OPTIONS_QUEUE, _RELIABLE, next(),
 * setacquiretimeout()), across processes: a writer process (this one) and
 * readers forked off, each its own client.
 *
 *  1. History and order: frames published before a queue reader attached
 *     and a burst published while it does not read come out oldest first,
 *     each once, lost 0; a newest-mode reader beside it gets only the newest.
 *  2. A slow queue reader (5 ms per frame) following a bursty writer (200
 *     frames, 4 buffers): frames strictly in order, pixels intact, and at
 *     every frame `lost` is exactly the gap in frame numbers; got + lost =
 *     200 and some were lost.
 *  3. A reliable reader (2 ms per frame) is never overrun: it gets 1..N,
 *     lost 0, while the writer meets NO_BUFFERAVAILABLE (non-blocking half)
 *     and waits in acquire (blocking half, woken by the reader).
 *  4. A reliable reader killed with kill -9 while the writer waits for it:
 *     the writer's blocking putframe publishes soon after the kill.
 *  5. A frame of another format counts as read, not lost (inspectclients()
 *     shows the reader's slot so); next() refuses a client without the
 *     queue option, a server, and setacquiretimeout() a client.
 *  6. Only published frames count: a queue reader attached before frame 1
 *     sleeps through buffers taken and abandoned (one of them held frame
 *     1), a growth from 4 to 6 buffers, a server that ends, one that dies
 *     mid-frame (over frame 2) and a third that takes over; it then gets
 *     3..8 and lost is exactly 2 (frames 1 and 2), at frame 3.
 */
#include "smi_test.h"

#define W 64u
#define H 32u
#define FRAME_BYTES (W * H * 3u)

typedef struct {
    uint32_t attached; /* readers attached */
    uint32_t done;     /* readers finished reading */
    uint32_t lost;     /* reader's total lost */
    uint32_t got;      /* reader's frames */
    uint32_t go;       /* writer -> readers: read now */
} shared_t;

/* Publish frame n (tagged n) with putframe; answers putframe's code. */
static int put(SharedMemoryImageStream s, uint32_t n)
{
    static uint8_t px[FRAME_BYTES];
    smi_fill_tagged(px, sizeof px, n);
    struct _SharedMemoryFrame f = {n, W, H, px};
    return SharedMemoryImageStream_putframe(s, &f);
}

/* Publish frame n, trying again (after pause_ms) while the answer is
   NO_BUFFERAVAILABLE; adds the refusals to *refused. */
static void put_retrying(SharedMemoryImageStream s, uint32_t n, double pause_ms, uint32_t *refused)
{
    int rc;
    while ((rc = put(s, n)) == IMAGESTREAM_NO_BUFFERAVAILABLE) {
        (*refused)++;
        smi_test_sleep_ms(pause_ms);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, rc);
}

/* next() with a wait first; checks the frame's pixels against its number. */
static int next_checked(SharedMemoryImageStream c, uint32_t *number, uint64_t *lost, int wait_ms)
{
    if (wait_ms && SharedMemoryImageStream_wait(c, wait_ms) != IMAGESTREAM_NOERROR)
        return IMAGESTREAM_NO_FRAMEAVAILABLE;
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_next(c, &f, lost);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT_EQ(tag, f->iFrame);
    *number = f->iFrame;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    return IMAGESTREAM_NOERROR;
}

static SharedMemoryImageStream attach(const char *path, uint32_t options, shared_t *sh)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, options, &c));
    SMI_T_ADD(&sh->attached, 1);
    return c;
}

/* A server with `buffers` buffers and one reader process running
   reader(path, *sh), attached when this returns. */
static SharedMemoryImageStream serve_one(const char *path, uint32_t buffers, const char *who,
                                         void (*reader)(const char *, shared_t *), shared_t **sh,
                                         pid_t *pid)
{
    *sh = smi_test_shared_alloc(sizeof **sh);
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(s, buffers, buffers));
    *pid = smi_test_fork(who);
    if (*pid == 0)
        reader(path, *sh);
    WAIT_UNTIL(SMI_T_LOAD(&(*sh)->attached) == 1, 10000);
    return s;
}

/* A reader process ends: what it got and lost to the writer, then exit. */
static void reader_done(SharedMemoryImageStream c, shared_t *sh, uint32_t got, uint64_t lost)
{
    SMI_T_STORE(&sh->got, got);
    SMI_T_STORE(&sh->lost, (uint32_t)lost);
    SharedMemoryImageStream_destroy(c);
    exit(0);
}

/* ---- 1 ---- */

static void history_queue_reader(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = attach(path, IMAGESTREAM_OPTIONS_QUEUE, sh);
    WAIT_UNTIL(SMI_T_LOAD(&sh->go), 10000);
    for (uint32_t want = 1; want <= 6; want++) {
        uint32_t n;
        uint64_t lost;
        ASSERT_RC(IMAGESTREAM_NOERROR, next_checked(c, &n, &lost, 0));
        ASSERT_EQ(n, want);
        ASSERT_EQ(lost, 0);
    }
    SharedMemoryFrame f;
    uint64_t lost = 99;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_next(c, &f, &lost));
    ASSERT_EQ(lost, 0);
    SharedMemoryImageStream_destroy(c);
    exit(0);
}

static void history_newest_reader(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = attach(path, IMAGESTREAM_OPTIONS_NONE, sh);
    WAIT_UNTIL(SMI_T_LOAD(&sh->go), 10000);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, 6);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c, &f));
    SharedMemoryImageStream_destroy(c);
    exit(0);
}

static void test_history(const char *path)
{
    shared_t *sh = smi_test_shared_alloc(sizeof *sh);
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(s, 8, 8));
    for (uint32_t n = 1; n <= 3; n++) /* before anyone attached */
        ASSERT_RC(IMAGESTREAM_UNCONNECTED, put(s, n));
    pid_t q = smi_test_fork("history queue reader");
    if (q == 0)
        history_queue_reader(path, sh);
    pid_t r = smi_test_fork("history newest reader");
    if (r == 0)
        history_newest_reader(path, sh);
    WAIT_UNTIL(SMI_T_LOAD(&sh->attached) == 2, 10000);
    for (uint32_t n = 4; n <= 6; n++) /* a burst nobody reads yet */
        ASSERT_RC(IMAGESTREAM_NOERROR, put(s, n));
    SMI_T_STORE(&sh->go, 1);
    ASSERT_CHILD_OK(q, 20000);
    ASSERT_CHILD_OK(r, 20000);
    SharedMemoryImageStream_destroy(s);
    printf("history: frames 1-3 (before attach) and 4-6 (a burst) in order, lost 0\n");
}

/* ---- 2 ---- */

#define SLOW_FRAMES 200u

static void slow_reader(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = attach(path, IMAGESTREAM_OPTIONS_QUEUE, sh);
    uint32_t last = 0, got = 0;
    uint64_t lost_total = 0;
    while (last < SLOW_FRAMES) {
        uint32_t n;
        uint64_t lost;
        ASSERT_RC(IMAGESTREAM_NOERROR, next_checked(c, &n, &lost, 10000));
        ASSERT_MSG(n > last, "frame %u after %u: not in order", n, last);
        ASSERT_MSG(lost == n - last - 1, "frame %u after %u: lost %llu, not %u", n, last,
                   (unsigned long long)lost, n - last - 1);
        lost_total += lost;
        got++;
        last = n;
        smi_test_sleep_ms(5); /* slower than the writer's bursts */
    }
    reader_done(c, sh, got, lost_total);
}

static void test_slow_reader(const char *path)
{
    shared_t *sh;
    pid_t r;
    SharedMemoryImageStream s = serve_one(path, 4, "slow queue reader", slow_reader, &sh, &r);
    uint32_t dropped = 0;
    for (uint32_t n = 1; n <= SLOW_FRAMES; n++) {
        put_retrying(s, n, 0, &dropped);
        if (n % 20 == 0)
            smi_test_sleep_ms(10); /* bursts of 20 */
    }
    ASSERT_CHILD_OK(r, 60000);
    uint32_t got = SMI_T_LOAD(&sh->got), lost = SMI_T_LOAD(&sh->lost);
    printf("slow reader: got %u, lost %u of %u (exactly the gaps), writer retries %u\n", got,
           lost, SLOW_FRAMES, dropped);
    ASSERT_EQ(got + lost, SLOW_FRAMES);
    ASSERT_MSG(lost > 0, "a reader of 5 ms per frame lost nothing of bursts of 20");
    SharedMemoryImageStream_destroy(s);
}

/* ---- 3 ---- */

#define RELIABLE_FRAMES 100u

static void reliable_reader(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = attach(path, IMAGESTREAM_OPTIONS_RELIABLE, sh);
    for (uint32_t want = 1; want <= RELIABLE_FRAMES; want++) {
        uint32_t n;
        uint64_t lost;
        ASSERT_RC(IMAGESTREAM_NOERROR, next_checked(c, &n, &lost, 10000));
        ASSERT_EQ(n, want);
        ASSERT_EQ(lost, 0);
        smi_test_sleep_ms(2);
    }
    reader_done(c, sh, RELIABLE_FRAMES, 0);
}

static void test_reliable(const char *path)
{
    shared_t *sh;
    pid_t r;
    SharedMemoryImageStream s = serve_one(path, 3, "reliable reader", reliable_reader, &sh, &r);
    uint32_t refused = 0, n = 1;
    for (; n <= RELIABLE_FRAMES / 2; n++) /* non-blocking: retry */
        put_retrying(s, n, 0.2, &refused);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setacquiretimeout(s, 10000));
    double t0 = smi_test_now_ms();
    for (; n <= RELIABLE_FRAMES; n++) /* blocking: each waits for the reader */
        ASSERT_RC(IMAGESTREAM_NOERROR, put(s, n));
    double blocked_ms = smi_test_now_ms() - t0;
    ASSERT_CHILD_OK(r, 60000);
    ASSERT_EQ(SMI_T_LOAD(&sh->got), RELIABLE_FRAMES);
    printf("reliable reader: %u frames, none lost; writer refused %u times, then waited "
           "%.0f ms for %u frames\n",
           RELIABLE_FRAMES, refused, blocked_ms, RELIABLE_FRAMES / 2);
    ASSERT_MSG(refused > 0, "a reader of 2 ms per frame never held the writer back");
    SharedMemoryImageStream_destroy(s);
}

/* ---- 4 ---- */

static void stuck_reader(const char *path, shared_t *sh)
{
    attach(path, IMAGESTREAM_OPTIONS_RELIABLE, sh);
    for (;;)
        pause(); /* reads nothing, until kill -9 */
}

static void test_killed_reliable(const char *path)
{
    shared_t *sh;
    pid_t r;
    SharedMemoryImageStream s = serve_one(path, 2, "stuck reliable reader", stuck_reader, &sh, &r);
    ASSERT_RC(IMAGESTREAM_NOERROR, put(s, 1));
    ASSERT_RC(IMAGESTREAM_NOERROR, put(s, 2));
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, put(s, 3)); /* both unread */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setacquiretimeout(s, 100));
    double t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, put(s, 3));
    ASSERT_GE(smi_test_now_ms() - t0, 90);
    /* Killed while the writer waits (up to 20 s) for it. */
    pid_t k = smi_test_fork("killer");
    if (k == 0) {
        smi_test_sleep_ms(300);
        kill(r, SIGKILL);
        exit(0);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setacquiretimeout(s, 20000));
    t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, put(s, 3)); /* (its claim released: nobody left) */
    double waited = smi_test_now_ms() - t0;
    ASSERT_CHILD_OK(k, 10000);
    ASSERT_EQ(smi_test_join(r, 10000), 128 + SIGKILL);
    printf("killed reliable reader: the writer waited %.0f ms (kill after 300), then went on\n",
           waited);
    ASSERT_MSG(waited >= 250 && waited < 10000, "waited %.0f ms", waited);
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, put(s, 4));
    SharedMemoryImageStream_destroy(s);
}

/* ---- 5 ---- */

static void test_skipped_and_errors(const char *path)
{
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(s, 4, 4));
    SharedMemoryImageStream q = NULL, plain = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_QUEUE, &q));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &plain));
    ASSERT_RC(IMAGESTREAM_NOERROR, put(s, 1));
    uint8_t gray[W * H];
    memset(gray, 7, sizeof gray);
    SharedMemoryImageDesc d = SMI_DESC_INIT;
    d.format = IMAGESTREAM_FORMAT_GRAY8;
    d.width = W;
    d.height = H;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframeformat(s, &d, 2, gray));
    ASSERT_RC(IMAGESTREAM_NOERROR, put(s, 3));
    SharedMemoryFrame f;
    uint64_t lost = 9;
    uint32_t n;
    ASSERT_RC(IMAGESTREAM_NOERROR, next_checked(q, &n, &lost, 0));
    ASSERT_EQ(n, 1);
    ASSERT_RC(IMAGESTREAM_FORMAT_SKIPPED, SharedMemoryImageStream_next(q, &f, &lost));
    ASSERT_EQ(lost, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, next_checked(q, &n, &lost, 0));
    ASSERT_EQ(n, 3);
    ASSERT_EQ(lost, 0);
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_next(plain, &f, &lost));
    ASSERT_RC(IMAGESTREAM_IS_SERVER, SharedMemoryImageStream_next(s, &f, &lost));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_next(NULL, &f, &lost));
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_setacquiretimeout(q, 5));
    ASSERT_RC(IMAGESTREAM_IS_SERVER, SharedMemoryImageStream_spinwait(s, 0, 10));
    /* inspectclients: the queue reader's slot counts frames 1, 2 (skipped), 3 */
    SharedMemoryClientInfo ci[4];
    uint32_t count = 99;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspectclients(path, ci, 4, &count));
    ASSERT_EQ(count, 2);
    uint32_t qi = ci[0].options ? 0 : 1;
    ASSERT_EQ(ci[qi].options, IMAGESTREAM_OPTIONS_QUEUE);
    ASSERT_EQ(ci[qi].frames_locked, 3);
    ASSERT_EQ(ci[qi].frames_lost, 0);
    ASSERT_EQ(ci[qi].last_sequence, 3);
    ASSERT_EQ(ci[1 - qi].options, 0);
    ASSERT_EQ(ci[1 - qi].frames_locked, 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspectclients(path, NULL, 0, &count));
    ASSERT_EQ(count, 2);
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_inspectclients(path, NULL, 1, &count));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_inspectclients(path, ci, 4, NULL));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_inspectclients(NULL, ci, 4, &count));
    SharedMemoryImageStream_destroy(q);
    SharedMemoryImageStream_destroy(plain);
    SharedMemoryImageStream_destroy(s);
    printf("a gray frame skipped by an RGB queue reader counts as read; bad calls refused\n");
}

/* ---- 6 ---- */

static void sleeping_reader(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = attach(path, IMAGESTREAM_OPTIONS_QUEUE, sh);
    WAIT_UNTIL(SMI_T_LOAD(&sh->go), 20000);
    uint32_t got = 0, n;
    uint64_t lost, lost_total = 0;
    for (uint32_t want = 3; want <= 8; want++) {
        ASSERT_RC(IMAGESTREAM_NOERROR, next_checked(c, &n, &lost, 0));
        ASSERT_EQ(n, want);
        ASSERT_MSG(lost == (want == 3 ? 2u : 0u), "frame %u: lost %llu", n,
                   (unsigned long long)lost);
        lost_total += lost;
        got++;
    }
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_next(c, &f, &lost));
    reader_done(c, sh, got, lost_total);
}

/* Acquire a buffer and give it back unpublished. */
static void acquire_abandon(SharedMemoryImageStream s)
{
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(s, W, H, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(s));
}

static void test_only_published_frames_count(const char *path)
{
    shared_t *sh;
    pid_t r;
    SharedMemoryImageStream s = serve_one(path, 4, "sleeping queue reader", sleeping_reader,
                                          &sh, &r);
    for (uint32_t n = 1; n <= 4; n++)
        ASSERT_RC(IMAGESTREAM_NOERROR, put(s, n));
    acquire_abandon(s); /* the oldest, frame 1: gone unpublished */
    acquire_abandon(s); /* the buffer it emptied */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(s, 6, 6));
    for (uint32_t n = 5; n <= 7; n++) /* into the three empty buffers */
        ASSERT_RC(IMAGESTREAM_NOERROR, put(s, n));
    SharedMemoryImageStream_destroy(s);
    pid_t d = smi_test_fork("server dying mid-frame");
    if (d == 0) { /* takes the oldest, frame 2, and dies before publishing */
        SharedMemoryImageStream t = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
        SharedMemoryFrame f;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(t, W, H, &f));
        _exit(0);
    }
    ASSERT_CHILD_OK(d, 10000);
    s = smi_test_ext_server(path, IMAGESTREAM_RECONNECTING);
    ASSERT_RC(IMAGESTREAM_NOERROR, put(s, 8)); /* into the buffer it left */
    SMI_T_STORE(&sh->go, 1);
    ASSERT_CHILD_OK(r, 20000);
    ASSERT_EQ(SMI_T_LOAD(&sh->got), 6);
    ASSERT_EQ(SMI_T_LOAD(&sh->lost), 2);
    SharedMemoryImageStream_destroy(s);
    printf("only published frames count: abandons, growth, a server ending, one dying "
           "mid-frame, a takeover: got 3..8, lost exactly 2 (frames 1, 2)\n");
}

/* A fresh extended-layout file at `path`. */
static void fresh(const char *path)
{
    unlink(path);
    SharedMemoryImageDesc d = SMI_DESC_INIT;
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = W;
    d.height = H;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
}

int main(void)
{
    smi_test_watchdog(200);
    const char *path = smi_test_path("queue");
    fresh(path);
    test_history(path);
    fresh(path);
    test_slow_reader(path);
    fresh(path);
    test_reliable(path);
    fresh(path);
    test_killed_reliable(path);
    fresh(path);
    test_skipped_and_errors(path);
    fresh(path);
    test_only_published_frames_count(path);
    smi_test_cleanup();
    printf("PASS\n");
    return 0;
}
