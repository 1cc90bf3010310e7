/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestManyClients -- one extended-layout server, ten client processes, each
 * locking on its own:
 *   - before any client attaches, putframe and publish answer UNCONNECTED but
 *     still publish: a client that attaches later locks the newest of those;
 *   - then every client verifies every byte of every frame it locks (tagged
 *     frames: a frame proves by itself that it is not torn), sees strictly
 *     increasing frame numbers and tags, holds its locks for random short
 *     times, and sees the last frame;
 *   - inspect counts the live clients (10, then 0 after they leave), and the
 *     file shows one claimed slot per client;
 *   - after the clients leave, putframe answers UNCONNECTED again;
 *   - 32 clients fit (IMAGESTREAM_MAX_CLIENTS); the 33rd is refused with
 *     TOO_MANY_CLIENTS until one leaves.
 */
#include "smi_test.h"

#define NCLIENTS 10
#define W 64u
#define H 48u
#define FRAME_BYTES (W * H * 3u)
#define FIRST_TAG 3u  /* the newest frame published while unconnected */
#define LAST_TAG 600u

typedef struct {
    uint32_t server_up;
    uint32_t attached;
    uint32_t seen[NCLIENTS];
    uint32_t first_frame[NCLIENTS];
} shared_t;

static void client_process(const char *path, shared_t *sh, int id)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->server_up), 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    /* The frames published before anyone listened: the newest is there. */
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT_EQ(tag, FIRST_TAG);
    ASSERT_EQ(f->iFrame, FIRST_TAG);
    uint32_t last_tag = tag, last_frame = f->iFrame, seen = 1;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c, &f));
    SMI_T_ADD(&sh->attached, 1);

    uint32_t rng = 77u + (uint32_t)id * 1013u;
    double deadline = smi_test_now_ms() + 30000;
    while (last_tag < LAST_TAG) {
        ASSERT_MSG(smi_test_now_ms() < deadline, "last tag seen %u", last_tag);
        int rc = SharedMemoryImageStream_wait(c, 200);
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_FRAMEAVAILABLE, rc);
        rc = SharedMemoryImageStream_lock(c, &f);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        ASSERT_EQ(f->iWidth, W);
        ASSERT_EQ(f->iHeight, H);
        ASSERT_MSG(f->iFrame > last_frame, "frame %u after %u", f->iFrame, last_frame);
        int64_t bad = smi_check_tagged(f->buffer, FRAME_BYTES, &tag);
        ASSERT_MSG(bad < 0, "frame %u (tag %u) torn at byte %lld", f->iFrame, tag, (long long)bad);
        ASSERT_MSG(tag > last_tag, "tag %u after %u", tag, last_tag);
        /* Hold it a little while, then check again: nobody wrote into it. */
        rng = rng * 1103515245u + 12345u;
        usleep((rng >> 16) % 500);
        ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
        last_tag = tag;
        last_frame = f->iFrame;
        seen++;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    SMI_T_STORE(&sh->seen[id], seen);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

static uint32_t claimed_slots(const char *path)
{
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    uint32_t n = 0, slots = smi_get_u32(m + 24);
    for (uint32_t j = 0; j < slots; j++)
        n += smi_x_u32(m, SMI_X_SLOT(j)) != 0;
    munmap(m, L);
    return n;
}

static void too_many_clients(const char *path)
{
    SharedMemoryImageStream c[IMAGESTREAM_MAX_CLIENTS + 1];
    for (int i = 0; i < IMAGESTREAM_MAX_CLIENTS; i++)
        ASSERT_RC(IMAGESTREAM_NOERROR,
                  SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c[i]));
    SharedMemoryImageStream extra = (SharedMemoryImageStream)(uintptr_t)1;
    ASSERT_RC(IMAGESTREAM_TOO_MANY_CLIENTS,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &extra));
    ASSERT(extra == NULL);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, IMAGESTREAM_MAX_CLIENTS);
    ASSERT_EQ(info.max_clients, IMAGESTREAM_MAX_CLIENTS);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c[5]));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c[5]));
    ASSERT_RC(IMAGESTREAM_TOO_MANY_CLIENTS,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &extra));
    for (int i = 0; i < IMAGESTREAM_MAX_CLIENTS; i++)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c[i]));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 0);
}

int main(void)
{
    smi_test_watchdog(90);
    const char *path = smi_test_path("many");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));

    /* Clients are forked before the server opens the file, so that none of
       them shares the server's open file description. */
    pid_t pids[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        char who[32];
        snprintf(who, sizeof who, "client %d", i);
        pids[i] = smi_test_fork(who);
        if (pids[i] == 0) {
            client_process(path, sh, i);
            exit(0);
        }
    }

    SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.server_alive, 1);
    ASSERT_EQ(info.clients, 0);

    uint8_t px[FRAME_BYTES];
    struct _SharedMemoryFrame in = {1, W, H, px};
    /* Nobody listens yet: UNCONNECTED, but published. */
    smi_fill_tagged(px, FRAME_BYTES, 1);
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &f));
    ASSERT_EQ(f->iFrame, 2);
    smi_fill_tagged(f->buffer, FRAME_BYTES, 2);
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_publish(server));
    smi_fill_tagged(px, FRAME_BYTES, FIRST_TAG);
    in.iFrame = FIRST_TAG;
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.last_frame, FIRST_TAG);
    ASSERT_EQ(info.clients, 0);

    SMI_T_STORE(&sh->server_up, 1);
    WAIT_UNTIL(SMI_T_LOAD(&sh->attached) == NCLIENTS, 20000);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, NCLIENTS);
    ASSERT_EQ(claimed_slots(path), NCLIENTS);

    uint32_t dropped = 0;
    double worst = 0, deadline = smi_test_now_ms() + 30000;
    for (uint32_t tag = FIRST_TAG + 1; tag <= LAST_TAG; tag++) {
        smi_fill_tagged(px, FRAME_BYTES, tag);
        in.iFrame = tag;
        int rc;
        do {
            ASSERT(smi_test_now_ms() < deadline);
            double t0 = smi_test_now_ms();
            rc = SharedMemoryImageStream_putframe(server, &in);
            double dt = smi_test_now_ms() - t0;
            worst = dt > worst ? dt : worst;
            ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_BUFFERAVAILABLE, rc);
            if (rc != IMAGESTREAM_NOERROR) {
                dropped++;
                if (tag == LAST_TAG)
                    usleep(100);
            }
        } while (rc != IMAGESTREAM_NOERROR && tag == LAST_TAG);
    }
    for (int i = 0; i < NCLIENTS; i++)
        ASSERT_CHILD_OK(pids[i], 30000);
    printf("%u frames, %u dropped while clients held every buffer, slowest putframe %.2f ms\n",
           LAST_TAG, dropped, worst);
    for (int i = 0; i < NCLIENTS; i++) {
        printf("client %d locked %u frames\n", i, sh->seen[i]);
        ASSERT(sh->seen[i] >= 2);
    }

    /* Everyone left: UNCONNECTED again. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 0);
    in.iFrame = 0;
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(server, &in));

    too_many_clients(path);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    return 0;
}
