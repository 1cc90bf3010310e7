/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestKillServer -- servers die with SIGKILL, clients go on (extended layout).
 *
 * Two client processes attach once and never re-attach. They verify every
 * frame they lock (tagged 512x512 frames, so a frame proves it is whole)
 * and check that frame numbers and tags only increase. Client 1 holds one
 * frame locked from server 1's life until server 3 is up, checking that
 * neither server 2 nor the restarts write into it.
 *  1. Server 1 publishes, then acquires a buffer, writes half of it and is
 *     killed: inspect shows no live server and that buffer at state 1; no
 *     client ever gets it.
 *  2. Four times: a new server takes the file over (RECONNECTING, generation
 *     + 1, no buffer left at 1), publishes from frame number 1 again (raised
 *     above the old numbers), half its frames through a slow acquire/fill so
 *     that the kill often lands mid-frame, and is killed at a random moment.
 *  3. A last server takes over; a second server on the same file is refused
 *     with SERVER_ACTIVE, from this process and from another one, in both
 *     layouts' options. It publishes a final frame that both clients see.
 * And in the EnSight layout: a second server is refused while the first
 * lives, and accepted once it has been killed.
 */
#include "smi_test.h"

#define W 512u
#define H 512u
#define FRAME_BYTES (W * H * 3u)
#define NCLIENTS 2
#define ROUNDS 4
#define END_TAG 0x7fffff00u

typedef struct {
    uint32_t server_up;   /* generation of the server that is up (1, 2, ...) */
    uint32_t stalled;     /* server 1 has half-written a buffer */
    uint32_t go_end;      /* last server: publish the final frame */
    uint32_t clients_up;
    uint32_t holding;     /* client 1: 1 while it holds a frame across servers 1-2, then 2 */
    uint32_t seen[NCLIENTS];
    uint32_t published[ROUNDS + 2];
} shared_t;

static void client_process(const char *path, shared_t *sh, int id)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->server_up) >= 1, 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    SMI_T_ADD(&sh->clients_up, 1);
    uint32_t last_tag = 0, last_frame = 0, seen = 0;
    int held_across = 0;
    double deadline = smi_test_now_ms() + 45000;
    while (last_tag != END_TAG) {
        ASSERT_MSG(smi_test_now_ms() < deadline, "last tag %u, frame %u", last_tag, last_frame);
        int rc = SharedMemoryImageStream_wait(c, 50);
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_FRAMEAVAILABLE, rc);
        SharedMemoryFrame f;
        rc = SharedMemoryImageStream_lock(c, &f);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        ASSERT_EQ(f->iWidth, W);
        ASSERT_EQ(f->iHeight, H);
        uint32_t tag;
        int64_t bad = smi_check_tagged(f->buffer, FRAME_BYTES, &tag);
        ASSERT_MSG(bad < 0, "torn frame %u (tag %u): byte %lld differs", f->iFrame, tag,
                   (long long)bad);
        ASSERT_MSG(tag > last_tag, "tag %u after %u", tag, last_tag);
        ASSERT_MSG(f->iFrame > last_frame, "frame number %u after %u (tag %u after %u)", f->iFrame,
                   last_frame, tag, last_tag);
        last_tag = tag;
        last_frame = f->iFrame;
        SMI_T_STORE(&sh->seen[id], ++seen);
        if (id == 1 && !held_across && seen >= 3 && SMI_T_LOAD(&sh->server_up) == 1) {
            /* Hold this frame while server 1 dies and server 2 lives and
               dies: no server may write into it. */
            held_across = 1;
            SMI_T_STORE(&sh->holding, 1);
            double until = smi_test_now_ms() + 30000;
            uint32_t checks = 0;
            while (SMI_T_LOAD(&sh->server_up) < 3) {
                ASSERT_MSG(smi_test_now_ms() < until, "server 3 never came");
                uint32_t again;
                ASSERT_MSG(smi_check_tagged(f->buffer, FRAME_BYTES, &again) < 0 && again == tag,
                           "held frame %u changed under its lock (check %u)", last_frame, checks);
                checks++;
                smi_test_sleep_ms(2);
            }
            ASSERT_MSG(checks > 10, "held for only %u checks", checks);
            SMI_T_STORE(&sh->holding, 2);
        }
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

/* Publish one tagged frame, alternating a fast putframe and a slow
   acquire + fill (where a kill is likely to land mid-frame). */
static int publish(SharedMemoryImageStream s, uint8_t *px, uint32_t tag, uint32_t number, int slow)
{
    if (!slow) {
        smi_fill_tagged(px, FRAME_BYTES, tag);
        struct _SharedMemoryFrame in = {number, W, H, px};
        return SharedMemoryImageStream_putframe(s, &in);
    }
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_acquire(s, W, H, &f);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    smi_fill_tagged(f->buffer, FRAME_BYTES, tag);
    f->iFrame = number;
    return SharedMemoryImageStream_publish(s);
}

static void server1(const char *path, shared_t *sh)
{
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    SMI_T_STORE(&sh->server_up, 1);
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    double deadline = smi_test_now_ms() + 15000;
    uint32_t k;
    for (k = 1;; k++) {
        ASSERT(smi_test_now_ms() < deadline);
        int rc = publish(s, px, k, k, k % 2);
        ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_UNCONNECTED ||
               rc == IMAGESTREAM_NO_BUFFERAVAILABLE);
        if (k >= 30 && SMI_T_LOAD(&sh->seen[0]) >= 5 && SMI_T_LOAD(&sh->holding) == 1)
            break;
    }
    SMI_T_STORE(&sh->published[0], k);
    /* Half a frame, then wait for SIGKILL. */
    SharedMemoryFrame f;
    double until = smi_test_now_ms() + 5000;
    while (SharedMemoryImageStream_acquire(s, W, H, &f) != IMAGESTREAM_NOERROR)
        ASSERT(smi_test_now_ms() < until);
    smi_fill_tagged(f->buffer, FRAME_BYTES / 2, 999999);
    SMI_T_STORE(&sh->stalled, 1);
    for (;;)
        pause();
}

static void server_round(const char *path, shared_t *sh, uint32_t round)
{
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_RECONNECTING);
    SMI_T_STORE(&sh->server_up, round + 1);
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    for (uint32_t k = 1;; k++) {
        /* Numbers start again at 1: the library raises them. */
        int rc = publish(s, px, round * 1000000u + k, k, k % 2);
        ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_NO_BUFFERAVAILABLE);
        SMI_T_STORE(&sh->published[round], k);
        ASSERT(k < 10000000);
    }
}

static void server_last(const char *path, shared_t *sh)
{
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_RECONNECTING);
    SMI_T_STORE(&sh->server_up, ROUNDS + 2);
    WAIT_UNTIL(SMI_T_LOAD(&sh->go_end), 15000);
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    for (uint32_t k = 1; k <= 10; k++) {
        int rc = publish(s, px, (ROUNDS + 1) * 1000000u + k, 0, k % 2);
        ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_NO_BUFFERAVAILABLE);
    }
    double until = smi_test_now_ms() + 10000;
    int rc;
    while ((rc = publish(s, px, END_TAG, 0, 0)) == IMAGESTREAM_NO_BUFFERAVAILABLE) {
        ASSERT(smi_test_now_ms() < until);
        usleep(200);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, rc);
    free(px);
    /* Stay alive until the clients have seen it (they leave then). */
    WAIT_UNTIL(SMI_T_LOAD(&sh->clients_up) == 0, 15000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

static int count_state(const SharedMemoryStreamInfo *info, uint32_t state)
{
    int n = 0;
    for (uint32_t b = 0; b < info->buffer_count; b++)
        n += info->buffers[b].state == state;
    return n;
}

static void second_server_refused(const char *path, uint32_t options)
{
    SharedMemoryImageStream s = (SharedMemoryImageStream)(uintptr_t)1;
    ASSERT_RC(IMAGESTREAM_SERVER_ACTIVE, SharedMemoryImageStream_create(path, options, &s));
    ASSERT(s == NULL);
}

static void ensight_second_server(void)
{
    const char *path = smi_test_path("killserver-es");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 32, 32));
    uint32_t *up = smi_test_shared_alloc(4096);
    pid_t pid = smi_test_fork("EnSight server");
    if (pid == 0) {
        SharedMemoryImageStream s;
        ASSERT_RC(IMAGESTREAM_NOERROR,
                  SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s));
        SMI_T_STORE(up, 1);
        for (;;)
            pause();
    }
    WAIT_UNTIL(SMI_T_LOAD(up), 10000);
    second_server_refused(path, IMAGESTREAM_OPTIONS_SERVER);
    second_server_refused(path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.server_alive, 1);
    smi_test_kill9(pid);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.server_alive, 0);
    SharedMemoryImageStream s;
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    munmap(up, 4096);
}

int main(void)
{
    smi_test_watchdog(100);
    ensight_second_server();

    const char *path = smi_test_path("killserver");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    pid_t clients[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        clients[i] = smi_test_fork(i ? "client 1" : "client 0");
        if (clients[i] == 0) {
            client_process(path, sh, i);
            SMI_T_ADD(&sh->clients_up, (uint32_t)-1);
            exit(0);
        }
    }

    /* 1. Server 1 dies with a half-written buffer. */
    pid_t s1 = smi_test_fork("server 1");
    if (s1 == 0) {
        server1(path, sh);
        exit(1);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->stalled), 20000);
    smi_test_kill9(s1);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_EQ(info.server_generation, 1);
    ASSERT_EQ(count_state(&info, 1), 1);
    ASSERT_EQ(info.clients, NCLIENTS);
    ASSERT_EQ(SMI_T_LOAD(&sh->holding), 1);
    uint32_t last_frame = info.last_frame;
    smi_test_sleep_ms(100); /* clients poll a stream with a half-written buffer */

    /* 2. New servers, killed at random moments. */
    uint32_t rng = 2024;
    for (uint32_t r = 1; r <= ROUNDS; r++) {
        uint32_t seen0 = SMI_T_LOAD(&sh->seen[0]) + SMI_T_LOAD(&sh->seen[1]);
        char who[32];
        snprintf(who, sizeof who, "server %u", r + 1);
        pid_t s = smi_test_fork(who);
        if (s == 0) {
            server_round(path, sh, r);
            exit(1);
        }
        WAIT_UNTIL(SMI_T_LOAD(&sh->server_up) == r + 1, 10000);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
        ASSERT_EQ(info.server_alive, 1);
        ASSERT_EQ(info.server_generation, r + 1);
        ASSERT_EQ(info.clients, NCLIENTS);
        /* Let the clients see some of this server's frames, then kill it. */
        WAIT_UNTIL(SMI_T_LOAD(&sh->seen[0]) + SMI_T_LOAD(&sh->seen[1]) >= seen0 + 4, 10000);
        rng = rng * 1103515245u + 12345u;
        smi_test_sleep_ms((rng >> 16) % 40);
        smi_test_kill9(s);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
        ASSERT_EQ(info.server_alive, 0);
        ASSERT_MSG(info.last_frame > last_frame, "round %u: last_frame %u after %u", r,
                   info.last_frame, last_frame);
        last_frame = info.last_frame;
        printf("server %u: %u frames, killed with %d buffer(s) half-written\n", r + 1,
               sh->published[r], count_state(&info, 1));
    }

    /* 3. The last server; a second one is refused, here and elsewhere. */
    pid_t sl = smi_test_fork("last server");
    if (sl == 0) {
        server_last(path, sh);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->server_up) == ROUNDS + 2, 10000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(count_state(&info, 1), 0);
    ASSERT_EQ(info.server_generation, ROUNDS + 2);
    second_server_refused(path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED);
    second_server_refused(path, IMAGESTREAM_OPTIONS_SERVER);
    pid_t other = smi_test_fork("second server elsewhere");
    if (other == 0) {
        second_server_refused(path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED);
        second_server_refused(path, IMAGESTREAM_OPTIONS_SERVER |
                                        IMAGESTREAM_OPTIONS_EXTENDED |
                                        IMAGESTREAM_OPTIONS_FLIPVERTICAL);
        exit(0);
    }
    ASSERT_CHILD_OK(other, 10000);
    /* The refused servers changed nothing. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.server_generation, ROUNDS + 2);
    ASSERT_EQ(info.server_alive, 1);
    SMI_T_STORE(&sh->go_end, 1);

    for (int i = 0; i < NCLIENTS; i++)
        ASSERT_CHILD_OK(clients[i], 30000);
    ASSERT_CHILD_OK(sl, 20000);
    printf("clients locked %u and %u frames, none torn\n", sh->seen[0], sh->seen[1]);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.server_alive, 0);
    ASSERT_EQ(info.clients, 0);
    ASSERT(info.last_frame > last_frame);
    return 0;
}
