/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestBufferGrowth -- clients never starve the server (extended layout):
 * when live clients hold every buffer, the server adds one instead of
 * dropping the frame, up to its limit (setbuffers; IMAGESTREAM_MAX_BUFFERS
 * by default). Real processes:
 *   - 7 client processes each lock a different frame and keep holding it;
 *     after each lock the server still acquires a buffer (the stream grows
 *     from 2 to 8 buffers, the file by one buffer each time), and every
 *     client checks all the while that every byte of its held frame is
 *     unchanged (the frames move nowhere while the file grows);
 *   - an 8th client takes the 8th frame: now 8 live clients hold all 8
 *     buffers, and acquire answers NO_BUFFERAVAILABLE (the layout's maximum);
 *   - a client attached before the growth locks new frames in the grown
 *     buffers (it maps the file again when it sees the new geometry);
 *   - inspect reports 8 buffers, each with one holder, and the file's header
 *     adds up (file_size = 4096 + 8 * buffer_size, data_offsets written);
 *   - setbuffers: argument checks, a limit of 2 keeps two buffers (the
 *     frame is dropped), min_buffers grows at once, the EnSight layout
 *     answers BAD_FORMAT, a client IS_NOTSERVER;
 *   - a new server taking over a grown file keeps its 8 buffers;
 *   - a client keeps the pages it had mapped when the file grows: reading
 *     a frame again in a buffer it had read before the growth takes no page
 *     fault (the file is mapped on in place, not mapped anew);
 *   - a client that holds a frame while the server adds a buffer still
 *     wakes for the frames that go into it (a zero-copy array holds its
 *     frame for long, and asks for the next one meanwhile).
 */
#include "smi_test.h"

#include <sys/resource.h>

#define W 320u
#define H 200u
#define FRAME_BYTES (W * H * 3u)
#define NHOLDERS 8

typedef struct {
    uint32_t server_up;
    uint32_t go[NHOLDERS];     /* main -> holder k: lock the newest frame now */
    uint32_t locked[NHOLDERS]; /* holder k: the tag it holds */
    uint32_t release;          /* main -> holders: unlock and leave */
    uint32_t checks[NHOLDERS];
} shared_t;

static void holder(const char *path, shared_t *sh, int k)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->server_up), 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    WAIT_UNTIL(SMI_T_LOAD(&sh->go[k]), 20000);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint32_t tag;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &tag), -1);
    ASSERT_EQ(tag, (uint32_t)k + 1);
    SMI_T_STORE(&sh->locked[k], tag);
    /* Hold it, checking every byte, until told to let go. */
    while (!SMI_T_LOAD(&sh->release)) {
        uint32_t again;
        int64_t bad = smi_check_tagged(f->buffer, FRAME_BYTES, &again);
        ASSERT_MSG(bad < 0 && again == tag, "held frame %u changed at byte %lld", tag,
                   (long long)bad);
        SMI_T_ADD(&sh->checks[k], 1);
        usleep(1000);
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
}

static void check_header(const char *path, uint32_t count)
{
    uint64_t L;
    uint8_t *m = smi_test_map_file(path, &L);
    uint32_t n = smi_get_u32(m + 16);
    uint64_t bs = smi_get_u64(m + 40), fs = smi_get_u64(m + 32);
    ASSERT_EQ(n, count);
    ASSERT_EQ(fs, 4096u + (uint64_t)count * bs);
    ASSERT_LE((double)fs, (double)L);
    for (uint32_t b = 0; b < count; b++)
        ASSERT_EQ(smi_get_u64(m + 256 + 128 * b + 32), 4096u + b * bs);
    munmap(m, L);
}

static void publish_tag(SharedMemoryImageStream server, uint32_t tag, int expect)
{
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_acquire(server, W, H, &f);
    ASSERT_RC(expect, rc);
    if (rc != IMAGESTREAM_NOERROR)
        return;
    smi_fill_tagged(f->buffer, FRAME_BYTES, tag);
    f->iFrame = tag;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(server));
}

static void setbuffers_checks(void)
{
    const char *path = smi_test_path("limits");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, 64, 48));
    SharedMemoryImageStream server = NULL, client = NULL, es = NULL;
    server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_setbuffers(NULL, 2, 2));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_setbuffers(server, 3, 2));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS, SharedMemoryImageStream_setbuffers(server, 0, 0));
    ASSERT_RC(IMAGESTREAM_BAD_ARGS,
              SharedMemoryImageStream_setbuffers(server, 1, IMAGESTREAM_MAX_BUFFERS + 1));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &client));
    ASSERT_RC(IMAGESTREAM_IS_NOTSERVER, SharedMemoryImageStream_setbuffers(client, 2, 2));

    /* Limit 2: two held frames leave no buffer; the frame is dropped. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(server, 2, 2));
    SharedMemoryImageStream c2 = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c2));
    uint8_t px[64 * 48 * 3];
    struct _SharedMemoryFrame in = {1, 64, 48, px};
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    in.iFrame = 2;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c2, &f));
    in.iFrame = 3;
    ASSERT_RC(IMAGESTREAM_NO_BUFFERAVAILABLE, SharedMemoryImageStream_putframe(server, &in));
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, 2);
    /* Raise the limit: the same frame now gets a third buffer. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(server, 2, 3));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, 3);
    check_header(path, 3);
    /* min_buffers grows at once; LOCKED while a frame is acquired. */
    SharedMemoryFrame a;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, 64, 48, &a));
    ASSERT_RC(IMAGESTREAM_LOCKED, SharedMemoryImageStream_setbuffers(server, 5, 8));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(server));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(server, 5, 8));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, 5);
    check_header(path, 5);
    /* The clients, holding frames all along, unlock and see the next frame. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c2));
    in.iFrame = 4;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(server, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(client, &f));
    ASSERT_EQ(f->iFrame, 4);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c2));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(client));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));

    /* The EnSight layout always has two blocks. */
    const char *epath = smi_test_path("limits-es");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(epath, 64, 48));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(epath, IMAGESTREAM_OPTIONS_SERVER, &es));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(es, 2, 2));
    ASSERT_RC(IMAGESTREAM_BAD_FORMAT, SharedMemoryImageStream_setbuffers(es, 3, 8));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(es));
}

static long minor_faults(void)
{
    struct rusage u;
    ASSERT(getrusage(RUSAGE_SELF, &u) == 0);
    return u.ru_minflt;
}

/* Lock the newest frame, read every byte of it (checking the tag); returns
   the page faults the reading took and, in *b, the buffer it was in. */
static long read_newest(const char *path, SharedMemoryImageStream c, uint32_t tag, uint32_t *b)
{
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    long before = minor_faults();
    uint32_t got;
    ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &got), -1);
    long faults = minor_faults() - before;
    ASSERT_EQ(got, tag);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    *b = IMAGESTREAM_MAX_BUFFERS;
    for (uint32_t k = 0; k < info.buffer_count; k++)
        if (info.buffers[k].holders == 1 && info.buffers[k].frame == f->iFrame)
            *b = k;
    ASSERT(*b < info.buffer_count);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    return faults;
}

static void client_keeps_its_pages(void)
{
    const char *path = smi_test_path("grow-pages");
    SharedMemoryImageDesc d = {.format = IMAGESTREAM_FORMAT_RGB8, .width = W, .height = H};
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR), c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    uint32_t tag = 1, b, seen = 0;
    for (; tag <= 4; tag++) { /* both buffers read once: their pages mapped */
        publish_tag(server, tag, IMAGESTREAM_NOERROR);
        (void)read_newest(path, c, tag, &b);
        seen |= 1u << b;
    }
    ASSERT_EQ(seen, 3u);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_setbuffers(server, 4, 4)); /* grows */
    /* The next two frames go to the new buffers (empty ones first); two
       more clients keep them, so the two after go to the old buffers. */
    SharedMemoryImageStream keep[2] = {NULL, NULL};
    long old_faults = 0, new_faults = 0;
    uint32_t old_reads = 0, new_reads = 0;
    for (int k = 0; k < 4; k++, tag++) {
        publish_tag(server, tag, IMAGESTREAM_NOERROR);
        long faults = read_newest(path, c, tag, &b);
        if (k < 2) {
            ASSERT_GE((double)b, 2.0);
            new_faults += faults;
            new_reads++;
            SharedMemoryFrame f;
            ASSERT_RC(IMAGESTREAM_NOERROR,
                      SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &keep[k]));
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(keep[k], &f));
            ASSERT_EQ(f->iFrame, tag);
        } else {
            ASSERT_LE((double)b, 1.0);
            old_faults += faults;
            old_reads++;
        }
    }
    printf("TestBufferGrowth: after growing, %u reads of buffers read before: %ld page faults;"
           " first reads of the %u new buffers: %ld\n", old_reads, old_faults, new_reads,
           new_faults);
    ASSERT_MSG(new_faults > 0, "no fault counted at all: the count does not work here");
    ASSERT_EQ(old_faults, 0);
    for (int k = 0; k < 2; k++)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(keep[k]));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
}

/* A server process publishes tags 1, 2, 3, one per byte it reads from
   `go`; client B holds tag 1, client A tag 2, so tag 3 goes into a third
   buffer, added after A mapped the file. A, still holding tag 2, waits for
   it: the wait ends, and after unlock, A's next lock finds tag 3. */
static void holder_waits_across_growth(void)
{
    const char *path = smi_test_path("grow-wait");
    SharedMemoryImageDesc d = {.format = IMAGESTREAM_FORMAT_RGB8, .width = W, .height = H};
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    int go[2], up[2];
    ASSERT(pipe(go) == 0 && pipe(up) == 0);
    pid_t pid = smi_test_fork("server");
    if (pid == 0) {
        close(go[1]);
        SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
        ASSERT(write(up[1], "u", 1) == 1);
        char c;
        for (uint32_t tag = 1; tag <= 3 && read(go[0], &c, 1) == 1; tag++)
            publish_tag(server, tag, IMAGESTREAM_NOERROR);
        ASSERT(read(go[0], &c, 1) == 0); /* until the test is done */
        SharedMemoryImageStream_destroy(server);
        exit(0);
    }
    char c;
    ASSERT(read(up[0], &c, 1) == 1);
    SharedMemoryImageStream a, b;
    SharedMemoryFrame fa, fb, f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &a));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &b));
    ASSERT(write(go[1], "g", 1) == 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(b, 10000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(b, &fb));
    ASSERT_EQ(fb->iFrame, 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(a, &fa)); /* (A has seen tag 1) */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(a));
    ASSERT(write(go[1], "g", 1) == 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(a, 10000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(a, &fa));
    ASSERT_EQ(fa->iFrame, 2);
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(a, 0));
    ASSERT(write(go[1], "g", 1) == 1); /* tag 3: both buffers held, into a third */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(a, 3000));
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, 3);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(a));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(a, &f));
    ASSERT_EQ(f->iFrame, 3);
    close(go[1]);
    ASSERT_CHILD_OK(pid, 10000);
    SharedMemoryImageStream_destroy(a);
    SharedMemoryImageStream_destroy(b);
    close(go[0]);
    close(up[0]);
    close(up[1]);
    unlink(path);
}

int main(void)
{
    smi_test_watchdog(120);
    setbuffers_checks();
    holder_waits_across_growth();

    const char *path = smi_test_path("grow");
    SharedMemoryImageDesc d = {.format = IMAGESTREAM_FORMAT_RGB8, .width = W, .height = H};
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d));
    shared_t *sh = smi_test_shared_alloc(sizeof *sh);
    pid_t pids[NHOLDERS];
    for (int k = 0; k < NHOLDERS; k++) {
        char who[32];
        snprintf(who, sizeof who, "holder %d", k);
        pids[k] = smi_test_fork(who);
        if (pids[k] == 0) {
            holder(path, sh, k);
            exit(0);
        }
    }
    SharedMemoryImageStream server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, 2);
    SMI_T_STORE(&sh->server_up, 1);
    WAIT_UNTIL(SharedMemoryImageStream_inspect(path, &info) == IMAGESTREAM_NOERROR &&
                   info.clients == NHOLDERS,
               20000);

    /* Holder k locks frame k + 1 and keeps it; the server still finds a
       buffer for the next frame every time, growing to 8. */
    for (int k = 0; k < NHOLDERS; k++) {
        publish_tag(server, (uint32_t)k + 1, IMAGESTREAM_NOERROR);
        SMI_T_STORE(&sh->go[k], 1);
        WAIT_UNTIL(SMI_T_LOAD(&sh->locked[k]) == (uint32_t)k + 1, 20000);
        if (k + 1 < NHOLDERS) {
            /* k + 1 frames held: the stream has k + 2 buffers at least. */
            SharedMemoryFrame f;
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &f));
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_abandon(server));
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
            ASSERT_GE((double)info.buffer_count, (double)(k + 2));
        }
    }
    /* 8 live clients hold all 8 buffers: the layout's limit, frame dropped. */
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, IMAGESTREAM_MAX_BUFFERS);
    for (uint32_t b = 0; b < info.buffer_count; b++)
        ASSERT_EQ(info.buffers[b].holders, 1);
    check_header(path, IMAGESTREAM_MAX_BUFFERS);
    publish_tag(server, 100, IMAGESTREAM_NO_BUFFERAVAILABLE);

    /* Let them go after they checked their frames a few times. */
    for (int k = 0; k < NHOLDERS; k++)
        WAIT_UNTIL(SMI_T_LOAD(&sh->checks[k]) >= 3, 20000);
    SMI_T_STORE(&sh->release, 1);
    for (int k = 0; k < NHOLDERS; k++)
        ASSERT_CHILD_OK(pids[k], 30000);

    /* A client attached now reads frames from every buffer of the grown file. */
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c));
    for (uint32_t tag = 200; tag < 200 + 2 * IMAGESTREAM_MAX_BUFFERS; tag++) {
        publish_tag(server, tag, IMAGESTREAM_NOERROR);
        SharedMemoryFrame f;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
        uint32_t got;
        ASSERT_EQ(smi_check_tagged(f->buffer, FRAME_BYTES, &got), -1);
        ASSERT_EQ(got, tag);
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));

    /* A new server serves the grown file again as it is (the last one ended
       cleanly: NOERROR, not a takeover): 8 buffers. */
    server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.buffer_count, IMAGESTREAM_MAX_BUFFERS);
    publish_tag(server, 300, IMAGESTREAM_NOERROR);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, 300);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(server));
    client_keeps_its_pages();
    puts("TestBufferGrowth: passed");
    return 0;
}
