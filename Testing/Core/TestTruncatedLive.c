/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestTruncatedLive -- a stream file truncated by another process while a
 * server and clients have it mapped gives BAD_FILE_SIZE, never SIGBUS, in
 * both layouts (SPEC: a truncated file gives a clear error, never a crash).
 *
 * For each layout and each size truncated to (0, one page, half the file):
 * the server publishes frame 1; client A locks it and holds it, client B
 * sits in wait(1500) with nothing new to see (the EnSight layout has one
 * client: A and B there take separate runs). A third process (`truncate`'s
 * job, done with truncate(2) by the main process) shrinks the file. Then:
 * B's wait returns BAD_FILE_SIZE (within a poll period for the EnSight
 * layout, at its timeout for the extended one: no publish wakes it; a wait
 * that began before the truncation and timed out is followed by another); A's
 * copyframe, unlock, wait, lock and info return BAD_FILE_SIZE; the
 * server's putframe and acquire do too; every destroy succeeds. Every
 * process exits normally (a SIGBUS would show as a signal).
 */
#include "smi_test.h"

#define W 64u
#define H 48u
#define FRAME_BYTES (W * H * 3u)

typedef struct {
    uint32_t a_holds;
    uint32_t b_attached; /* B locked a frame: the server may stop publishing */
    uint32_t quiet;      /* the server publishes no more */
    uint32_t b_waits;
    uint32_t truncating; /* set just before truncate(2) */
    uint32_t truncated;  /* set once it returned */
    double truncated_ms; /* when (smi_test_now_ms(), written before `truncated`) */
} shared_t;

static void client_a(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    SMI_T_STORE(&sh->a_holds, 1);
    WAIT_UNTIL(SMI_T_LOAD(&sh->truncated), 10000);

    uint8_t *copy = malloc(FRAME_BYTES);
    ASSERT(copy != NULL);
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE,
              SharedMemoryImageStream_copyframe(c, copy, FRAME_BYTES, 1));
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOT_LOCKED, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_wait(c, 0));
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_lock(c, &f));
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_info(c, &info));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    free(copy);
}

static void client_b(const char *path, shared_t *sh, int ensight)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    SMI_T_STORE(&sh->b_attached, 1);
    /* Take what the server published meanwhile: then nothing is new. */
    WAIT_UNTIL(SMI_T_LOAD(&sh->quiet), 10000);
    int rc;
    while ((rc = SharedMemoryImageStream_lock(c, &f)) == IMAGESTREAM_NOERROR)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, rc);
    SMI_T_STORE(&sh->b_waits, 1);
    /* A wait that began before the truncation may time out (nothing wakes
       an extended-layout waiter then): wait again. One that began after it
       must see it. */
    for (;;) {
        int after = SMI_T_LOAD(&sh->truncated) != 0;
        rc = SharedMemoryImageStream_wait(c, 1500);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE && !after)
            continue;
        break;
    }
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, rc);
    ASSERT(SMI_T_LOAD(&sh->truncating)); /* no early return before it */
    if (ensight) { /* the poll sees the truncation within its 1 ms step (and noise) */
        WAIT_UNTIL(SMI_T_LOAD(&sh->truncated), 10000);
        ASSERT_LE(smi_test_now_ms() - sh->truncated_ms, 2000);
    }
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_lock(c, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

enum { CLIENT_A = 1, CLIENT_B = 2 };

static void run(int ensight, double fraction, int clients)
{
    char tag[64];
    snprintf(tag, sizeof tag, "truncated-%s-%d-%d", ensight ? "es" : "ext", (int)(fraction * 100),
             clients);
    const char *path = smi_test_path(tag);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    long long full = smi_test_file_size(path);
    long long to = fraction == 0.0 ? 0 : fraction < 0 ? 4096 : (long long)(full * fraction);
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));

    SharedMemoryImageStream server = NULL;
    uint32_t options = IMAGESTREAM_OPTIONS_SERVER | (ensight ? 0 : IMAGESTREAM_OPTIONS_EXTENDED);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, options, &server));
    pid_t a = 0, b = 0;
    if (clients & CLIENT_A) {
        if ((a = smi_test_fork("client A (holds a frame)")) == 0) {
            client_a(path, sh);
            exit(0);
        }
    } else {
        SMI_T_STORE(&sh->a_holds, 1);
    }
    if (clients & CLIENT_B) {
        if ((b = smi_test_fork("client B (waits)")) == 0) {
            client_b(path, sh, ensight);
            exit(0);
        }
    } else {
        SMI_T_STORE(&sh->b_attached, 1);
        SMI_T_STORE(&sh->b_waits, 1);
    }
    /* The EnSight layout publishes only to an attached client: retry. */
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    smi_fill_tagged(px, FRAME_BYTES, 1);
    struct _SharedMemoryFrame in = {1, W, H, px};
    double deadline = smi_test_now_ms() + 10000;
    while (!SMI_T_LOAD(&sh->a_holds) || !SMI_T_LOAD(&sh->b_attached)) {
        ASSERT(smi_test_now_ms() < deadline);
        (void)SharedMemoryImageStream_putframe(server, &in);
        in.iFrame++;
        smi_test_sleep_ms(5);
    }
    SMI_T_STORE(&sh->quiet, 1);
    WAIT_UNTIL(SMI_T_LOAD(&sh->b_waits), 10000);
    smi_test_sleep_ms(50); /* B is asleep in wait() by now */

    SMI_T_STORE(&sh->truncating, 1);
    ASSERT_MSG(truncate(path, to) == 0, "truncate: %s", strerror(errno));
    sh->truncated_ms = smi_test_now_ms();
    SMI_T_STORE(&sh->truncated, 1);
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_acquire(server, W, H, &f));
    if (a)
        ASSERT_CHILD_OK(a, 10000);
    if (b)
        ASSERT_CHILD_OK(b, 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    free(px);
    printf("  %s layout, truncated from %lld to %lld bytes under %s: BAD_FILE_SIZE everywhere\n",
           ensight ? "EnSight" : "extended", full, to,
           clients == (CLIENT_A | CLIENT_B) ? "a holding and a waiting client"
           : clients == CLIENT_A            ? "a holding client"
                                            : "a waiting client");
}

int main(void)
{
    smi_test_watchdog(90);
    const double fractions[] = {0.0 /* nothing left */, -1.0 /* the header page */,
                                0.5 /* half the pixels gone */};
    for (int i = 0; i < 3; i++) {
        run(0, fractions[i], CLIENT_A | CLIENT_B);
        run(1, fractions[i], CLIENT_A); /* EnSight's layout: one client at a time */
        run(1, fractions[i], CLIENT_B);
    }
    puts("TestTruncatedLive: passed");
    return 0;
}
