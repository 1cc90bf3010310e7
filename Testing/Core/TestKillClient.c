/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestKillClient -- a client that dies holding a lock does not pin its
 * buffer; a live client's lock is never taken away (extended layout).
 *
 * Client A locks frame 1 and is killed with SIGKILL while it holds it.
 * Client B locks frame 2 and holds it for 3 seconds, checking all the while
 * that every byte of its frame is unchanged. The server is limited to two
 * buffers (setbuffers(2, 2)). With both buffers held by live
 * clients putframe answers NO_BUFFERAVAILABLE; once A is dead the server
 * gets A's buffer back within about a second (LAYOUT.md: the holders' byte
 * locks are tested when every buffer is held), and from then on every
 * putframe succeeds while B still holds the other buffer. inspect counts 2
 * clients, then 1; in the file, A's slot is freed (claim 0) and B's keeps
 * its claim and hold.
 */
#include "smi_test.h"

#define W 256u
#define H 256u
#define FRAME_BYTES (W * H * 3u)
#define HOLD_MS 3000

typedef struct {
    uint32_t server_up;
    uint32_t a_locked;
    uint32_t b_go;
    uint32_t b_locked;
    uint32_t b_checks;
    uint32_t b_may_leave;
} shared_t;

static void client_a(const char *path, shared_t *sh)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->server_up), 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT_EQ(tag, 1);
    SMI_T_STORE(&sh->a_locked, 1);
    for (;;)
        pause(); /* until SIGKILL (or the watchdog) */
}

static void client_b(const char *path, shared_t *sh)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->b_go), 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint32_t tag, frame = f->iFrame;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT_EQ(tag, 2);
    ASSERT_EQ(frame, 2);
    SMI_T_STORE(&sh->b_locked, 1);
    /* Hold it; the server publishes all the while. */
    double end = smi_test_now_ms() + HOLD_MS;
    uint32_t checks = 0;
    while (smi_test_now_ms() < end) {
        int64_t bad = smi_check_tagged(f->buffer, FRAME_BYTES, &tag);
        ASSERT_MSG(bad < 0 && tag == 2,
                   "after %u checks the held frame changed: tag %u, first bad byte %lld", checks,
                   tag, (long long)bad);
        ASSERT_EQ(f->iFrame, frame);
        ASSERT_EQ(f->iWidth, W);
        ASSERT_EQ(f->iHeight, H);
        checks++;
        smi_test_sleep_ms(5);
    }
    SMI_T_STORE(&sh->b_checks, checks);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    /* Newer frames were published meanwhile. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 2000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT(tag > 2);
    ASSERT(f->iFrame > frame);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    WAIT_UNTIL(SMI_T_LOAD(&sh->b_may_leave), 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

/* Slots with a claim, and those whose hold names a buffer, read from the file. */
static uint32_t count_slots(const char *path, int holding)
{
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    uint32_t n = 0;
    for (uint32_t j = 0; j < smi_get_u32(m + 24); j++)
        n += smi_x_u32(m, SMI_X_SLOT(j)) != 0 && (!holding || smi_x_u32(m, SMI_X_SLOT(j) + 4) != 0);
    munmap(m, L);
    return n;
}

int main(void)
{
    smi_test_watchdog(60);
    const char *path = smi_test_path("killclient");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    pid_t a = smi_test_fork("client A (to be killed)");
    if (a == 0) {
        client_a(path, sh);
        exit(1);
    }
    pid_t b = smi_test_fork("client B (holds its lock)");
    if (b == 0) {
        client_b(path, sh);
        exit(0);
    }

    SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    /* Two buffers, never more (by default a server adds one when its
       clients hold every buffer: TestBufferGrowth). */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(server, 2, 2));
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    struct _SharedMemoryFrame in = {1, W, H, px};
    smi_fill_tagged(px, FRAME_BYTES, 1);
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(server, &in));
    SMI_T_STORE(&sh->server_up, 1);
    WAIT_UNTIL(SMI_T_LOAD(&sh->a_locked), 10000);

    smi_fill_tagged(px, FRAME_BYTES, 2);
    in.iFrame = 2;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    SMI_T_STORE(&sh->b_go, 1);
    WAIT_UNTIL(SMI_T_LOAD(&sh->b_locked), 10000);

    /* Both buffers held by live clients: the frame is dropped. */
    uint32_t tag = 3;
    smi_fill_tagged(px, FRAME_BYTES, tag);
    in.iFrame = 3;
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(server, &info));
    ASSERT_EQ(info.clients, 2);
    ASSERT_EQ(info.buffers[0].holders, 1);
    ASSERT_EQ(info.buffers[1].holders, 1);
    ASSERT_EQ(count_slots(path, 1), 2);
    ASSERT_EQ(count_slots(path, 0), 2);

    /* kill -9 A: its buffer comes back within about a second. */
    smi_test_kill9(a);
    double t0 = smi_test_now_ms(), back = -1;
    uint32_t refused = 0;
    while (back < 0) {
        int rc = SharedMemoryImageStream_putframe(server, &in);
        if (rc == IMAGESTREAM_NOERROR) {
            back = smi_test_now_ms() - t0;
            break;
        }
        ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, rc);
        refused++;
        ASSERT_MSG(smi_test_now_ms() - t0 < 1500,
                   "the dead client's buffer is still pinned after 1.5 s (%u putframes refused)",
                   refused);
        smi_test_sleep_ms(5);
    }
    printf("dead client's buffer back after %.1f ms (%u putframes refused)\n", back, refused);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 1);
    /* The server freed the dead client's slot (claim 0); B's is untouched. */
    ASSERT_EQ(count_slots(path, 0), 1);
    ASSERT_EQ(count_slots(path, 1), 1);

    /* While B holds its frame, every putframe succeeds (A's buffer is reused). */
    uint32_t published = 0;
    while (SMI_T_LOAD(&sh->b_checks) == 0) {
        smi_fill_tagged(px, FRAME_BYTES, ++tag);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
        published++;
        smi_test_sleep_ms(2);
        ASSERT(smi_test_now_ms() - t0 < HOLD_MS + 10000);
    }
    /* B is still attached until told to leave. */
    smi_fill_tagged(px, FRAME_BYTES, ++tag);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    SMI_T_STORE(&sh->b_may_leave, 1);
    ASSERT_CHILD_OK(b, 10000);
    printf("%u frames published while B held its lock; B checked its frame %u times\n",
           published, sh->b_checks);
    ASSERT(published > 10);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 0);
    free(px);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    return 0;
}
