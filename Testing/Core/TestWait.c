/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestWait -- SharedMemoryImageStream_wait, both layouts, the server in
 * another process:
 *   - wait(0) and wait(300) with nothing new answer NO_FRAMEAVAILABLE, the
 *     latter after 300 ms (not earlier, not much later), also while the
 *     process is flooded with signals (signals do not end a wait early);
 *   - a wait(5000) wakes promptly when the other process publishes; in the
 *     extended layout the waiter sleeps in the kernel with its slot's
 *     `waiting` set to 1 (seen in the file), back to 0 once woken;
 *   - wait(-1) returns when a frame comes;
 *   - a frame already newer: wait returns at once, and lock gets it; the
 *     same frame does not wake a second wait;
 *   - a client may wait while it holds a lock, for the frame after it.
 */
#include "smi_test.h"

#define W 32u
#define H 16u

enum { CMD_NONE, CMD_PUBLISH_AFTER, CMD_PUBLISH_WHEN_WAITING, CMD_EXIT };

typedef struct {
    uint32_t up;
    uint32_t cmd, arg, seq, done;
    double t_publish; /* monotonic ms, just before putframe */
    uint32_t saw_waiting;
} shared_t;

static volatile sig_atomic_t g_signals;
static void on_usr1(int sig)
{
    (void)sig;
    g_signals++;
}

/* Is some claimed slot sleeping (waiting == 1)? Extended layout only. */
static int someone_waiting(const uint8_t *m)
{
    for (uint32_t j = 0; j < 32; j++)
        if (smi_x_u32(m, SMI_X_SLOT(j)) != 0 && smi_x_u32(m, SMI_X_SLOT(j) + 8) == 1)
            return 1;
    return 0;
}

static void server_process(const char *path, int extended, shared_t *sh)
{
    SharedMemoryImageStream s = NULL;
    uint32_t opts = IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, opts, &s));
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    uint8_t px[W * H * 3];
    struct _SharedMemoryFrame in = {0, W, H, px};
    uint32_t tag = 0, seq = 0;
    SMI_T_STORE(&sh->up, 1);
    for (;;) {
        WAIT_UNTIL(SMI_T_LOAD(&sh->seq) != seq, 30000);
        seq = SMI_T_LOAD(&sh->seq);
        uint32_t cmd = SMI_T_LOAD(&sh->cmd);
        if (cmd == CMD_EXIT)
            break;
        if (cmd == CMD_PUBLISH_WHEN_WAITING) {
            WAIT_UNTIL(someone_waiting(m), 5000);
            SMI_T_STORE(&sh->saw_waiting, 1);
        }
        smi_test_sleep_ms(SMI_T_LOAD(&sh->arg));
        smi_fill_tagged(px, sizeof px, ++tag);
        sh->t_publish = smi_test_now_ms();
        int rc = SharedMemoryImageStream_putframe(s, &in);
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_BUFFERAVAILABLE, rc);
        if (cmd == CMD_PUBLISH_WHEN_WAITING) {
            /* The woken client clears its flag. */
            WAIT_UNTIL(!someone_waiting(m), 5000);
        }
        SMI_T_STORE(&sh->done, seq);
    }
    munmap(m, L);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

static uint32_t g_seq;
static void command(shared_t *sh, uint32_t cmd, uint32_t arg)
{
    SMI_T_STORE(&sh->cmd, cmd);
    SMI_T_STORE(&sh->arg, arg);
    SMI_T_STORE(&sh->seq, ++g_seq);
}

static void wait_done(shared_t *sh)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->done) == g_seq, 10000);
}

static void timed_out(SharedMemoryImageStream c, int32_t ms, const char *what)
{
    double t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(c, ms));
    double dt = smi_test_now_ms() - t0;
    printf("  wait(%d) %s: NO_FRAMEAVAILABLE after %.1f ms\n", ms, what, dt);
    ASSERT_MSG(dt >= ms - 5, "wait(%d) returned early, after %.1f ms", ms, dt);
    ASSERT_MSG(dt <= ms + 700, "wait(%d) returned late, after %.1f ms", ms, dt);
}

static void run(int extended)
{
    printf("%s layout\n", extended ? "extended" : "EnSight");
    const char *path = smi_test_path(extended ? "wait-ext" : "wait-es");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    g_seq = 0;
    pid_t server = smi_test_fork("server");
    if (server == 0) {
        server_process(path, extended, sh);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->up), 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));

    /* Nothing new. */
    double t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(c, 0));
    ASSERT_LE(smi_test_now_ms() - t0, 50);
    timed_out(c, 300, "with no server activity");

    /* Signals do not end the wait early. */
    g_signals = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pid_t parent = getpid();
    pid_t storm = smi_test_fork("signal storm");
    if (storm == 0) {
        for (int i = 0; i < 80; i++) {
            kill(parent, SIGUSR1);
            smi_test_sleep_ms(5);
        }
        exit(0);
    }
    timed_out(c, 300, "under a storm of signals");
    ASSERT_CHILD_OK(storm, 5000);
    ASSERT_MSG(g_signals > 10, "only %d signals arrived", (int)g_signals);
    signal(SIGUSR1, SIG_DFL);

    /* A publish in the other process wakes the wait promptly. */
    SharedMemoryFrame f;
    command(sh, extended ? CMD_PUBLISH_WHEN_WAITING : CMD_PUBLISH_AFTER, 100);
    t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    double woke = smi_test_now_ms();
    double latency = woke - sh->t_publish;
    printf("  wait(5000) woke %.2f ms after the publish (%.1f ms in all)\n", latency, woke - t0);
    ASSERT_MSG(latency < 250, "woke %.1f ms after the publish", latency);
    wait_done(sh);
    if (extended)
        ASSERT_EQ(SMI_T_LOAD(&sh->saw_waiting), 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, W * H * 3, &tag), -1);
    ASSERT_EQ(tag, 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    /* The same frame does not wake a wait again. */
    timed_out(c, 100, "after locking the newest frame");

    /* wait(-1) returns when a frame comes (the watchdog bounds it). */
    command(sh, CMD_PUBLISH_AFTER, 200);
    t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, -1));
    printf("  wait(-1) returned after %.1f ms\n", smi_test_now_ms() - t0);
    ASSERT_GE(smi_test_now_ms() - t0, 150);
    wait_done(sh);

    /* A frame already newer than the last one locked: at once. The frame is
       still there for lock. */
    t0 = smi_test_now_ms();
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 1000));
    ASSERT_LE(smi_test_now_ms() - t0, 50);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 1000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(smi_check_tagged(f->buffer, W * H * 3, &tag), -1);
    ASSERT_EQ(tag, 2);

    /* Waiting while a frame is locked: for the next one. */
    timed_out(c, 100, "while holding the newest frame");
    command(sh, CMD_PUBLISH_AFTER, 50);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    wait_done(sh);
    ASSERT_EQ(smi_check_tagged(f->buffer, W * H * 3, &tag), -1);
    ASSERT_EQ(tag, 2); /* the held frame is untouched */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(smi_check_tagged(f->buffer, W * H * 3, &tag), -1);
    ASSERT_EQ(tag, 3);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));

    command(sh, CMD_EXIT, 0);
    ASSERT_CHILD_OK(server, 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    munmap(sh, sizeof(shared_t));
}

int main(void)
{
    smi_test_watchdog(60);
    run(1);
    run(0);
    return 0;
}
