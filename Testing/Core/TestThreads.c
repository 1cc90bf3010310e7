/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestThreads -- the library used from many threads of one process, one
 * handle per thread (the documented rule), in both layouts (extended: three
 * readers; EnSight: its one client, further clients refused):
 *   - a server thread publishes tagged frames (acquire/publish and
 *     putframe in turn) while reader threads wait, lock, copy and verify every
 *     byte of every frame they see, with strictly increasing numbers;
 *   - a churn thread opens and closes client handles of the same file all the
 *     while (the process-wide list of open streams that fork() uses), calls
 *     inspect and the error strings;
 *   - a forking thread forks now and then (the library's fork handlers run
 *     while other threads open, close and use streams); each child exits.
 * Its use is under ThreadSanitizer (Core.TSan.TestThreads): it must report no
 * data race in the library's process-wide state (the stream list, the SIGBUS
 * guard, the fork handlers) nor in a handle used by its own thread. Readers
 * and writer map the file separately, so the shared-memory protocol between
 * them is not TSan's to judge: Testing/Model checks that.
 */
#include <pthread.h>

#include "smi_test.h"

#define W 48u
#define H 32u
#define FRAME_BYTES (W * H * 3u)
#define NREADERS 3
#define NFRAMES 400u

typedef struct {
    const char *path;
    uint32_t layout_options; /* IMAGESTREAM_OPTIONS_EXTENDED or 0 */
    int nreaders;
    int server_up;
    int readers_up;
    int server_done;
    int stop_churn;
    int churn_done;
    uint32_t seen[NREADERS];
} run_t;

typedef struct {
    run_t *run;
    int id;
} reader_arg_t;

static void *reader_thread(void *p)
{
    reader_arg_t *a = p;
    run_t *r = a->run;
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(r->path, IMAGESTREAM_OPTIONS_NONE, &c));
    SMI_T_ADD(&r->readers_up, 1);
    uint8_t *copy = malloc(FRAME_BYTES);
    ASSERT(copy);
    uint32_t last_tag = 0, last_frame = 0, seen = 0;
    int have = 0;
    double deadline = smi_test_now_ms() + 60000;
    while (last_tag < NFRAMES) {
        ASSERT_MSG(smi_test_now_ms() < deadline, "reader %d: last tag %u", a->id, last_tag);
        int rc = SharedMemoryImageStream_wait(c, 50);
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_FRAMEAVAILABLE, rc);
        SharedMemoryFrame f;
        rc = SharedMemoryImageStream_lock(c, &f);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE || rc == IMAGESTREAM_UNCONNECTED)
            continue;
        ASSERT_RC(IMAGESTREAM_NOERROR, rc);
        ASSERT_EQ(f->iWidth, W);
        ASSERT_EQ(f->iHeight, H);
        ASSERT_MSG(!have || f->iFrame > last_frame, "frame %u after %u", f->iFrame, last_frame);
        uint32_t tag;
        int64_t bad = smi_check_tagged(f->buffer, FRAME_BYTES, &tag);
        ASSERT_MSG(bad < 0, "reader %d: frame %u torn at byte %lld", a->id, f->iFrame, (long long)bad);
        ASSERT_MSG(tag > last_tag, "tag %u after %u", tag, last_tag);
        if (seen % 2 == 0) {
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(c, copy, FRAME_BYTES, 0));
            ASSERT_EQ(smi_check_tagged(copy, FRAME_BYTES, &tag), -1);
        }
        last_tag = tag;
        last_frame = f->iFrame;
        have = 1;
        seen++;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
    }
    SMI_T_STORE(&r->seen[a->id], seen);
    /* Keep the client until the churn ends: in the EnSight layout the churn
     * must find the one client slot taken. */
    WAIT_UNTIL(SMI_T_LOAD(&r->churn_done), 60000);
    free(copy);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    return NULL;
}

static void *server_thread(void *p)
{
    run_t *r = p;
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(r->path, IMAGESTREAM_OPTIONS_SERVER | r->layout_options, &s));
    SMI_T_STORE(&r->server_up, 1);
    WAIT_UNTIL(SMI_T_LOAD(&r->readers_up) == r->nreaders, 10000);
    uint8_t *pixels = malloc(FRAME_BYTES);
    ASSERT(pixels);
    for (uint32_t tag = 1; tag <= NFRAMES; tag++) {
        int rc;
        if (tag % 2) {
            SharedMemoryFrame f = NULL;
            rc = SharedMemoryImageStream_acquire(s, W, H, &f);
            if (rc == IMAGESTREAM_NOERROR) {
                smi_fill_tagged(f->buffer, FRAME_BYTES, tag);
                rc = SharedMemoryImageStream_publish(s);
            }
        } else {
            smi_fill_tagged(pixels, FRAME_BYTES, tag);
            struct _SharedMemoryFrame frame = {0};
            frame.iFrame = tag; /* acquire numbers last + 1: still increasing */
            frame.iWidth = W;
            frame.iHeight = H;
            frame.buffer = pixels;
            rc = SharedMemoryImageStream_putframe(s, &frame);
        }
        /* Readers holding every buffer drop a frame, never tear one; the
         * last frame must get through. */
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE && tag == NFRAMES) {
            tag--;
            smi_test_sleep_ms(1);
            continue;
        }
        ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_NO_BUFFERAVAILABLE, rc);
        if (tag % 16 == 0)
            smi_test_sleep_ms(1);
    }
    free(pixels);
    /* Stay up until every reader has the last frame (the EnSight layout
     * needs a live server for its clients to lock). */
    for (int i = 0; i < r->nreaders; i++)
        WAIT_UNTIL(SMI_T_LOAD(&r->seen[i]) != 0, 60000);
    SMI_T_STORE(&r->server_done, 1);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    return NULL;
}

static void *churn_thread(void *p)
{
    run_t *r = p;
    unsigned rounds = 0;
    WAIT_UNTIL(SMI_T_LOAD(&r->readers_up) == r->nreaders, 10000);
    while (!SMI_T_LOAD(&r->stop_churn) || rounds < 20) {
        SharedMemoryImageStream c = NULL;
        int rc = SharedMemoryImageStream_create(r->path, IMAGESTREAM_OPTIONS_NONE, &c);
        if (r->layout_options) {
            ASSERT_RC(IMAGESTREAM_NOERROR, rc);
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
        } else {
            /* The EnSight layout's one client is taken. */
            ASSERT_RC(IMAGESTREAM_TOO_MANY_CLIENTS, rc);
            ASSERT(c == NULL);
        }
        if (r->layout_options) {
            SharedMemoryStreamInfo info;
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(r->path, &info));
        }
        ASSERT(SharedMemoryImageStream_errorstring(IMAGESTREAM_BAD_FILE_SIZE)[0] != '\0');
        rounds++;
        smi_test_sleep_ms(0.5);
    }
    return NULL;
}

static void *fork_thread(void *p)
{
    run_t *r = p;
    unsigned forks = 0;
    while (!SMI_T_LOAD(&r->stop_churn) || forks < 3) {
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            /* Only async-signal-safe calls here: the child of a threaded
             * process. */
            _exit(0);
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        forks++;
        smi_test_sleep_ms(20);
    }
    return NULL;
}

static void run_layout(const char *tag, uint32_t layout_options, int nreaders)
{
    run_t r = {0};
    r.nreaders = nreaders;
    r.path = smi_test_path(tag);
    r.layout_options = layout_options;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_createfilelayout(
                  r.path, layout_options ? IMAGESTREAM_LAYOUT_EXTENDED : IMAGESTREAM_LAYOUT_ENSIGHT,
                  &(SharedMemoryImageDesc){.width = W, .height = H, .depth = 1,
                                           .format = IMAGESTREAM_FORMAT_RGB8}));
    pthread_t server, churn, forker, readers[NREADERS];
    reader_arg_t args[NREADERS];
    /* EnSight layout: the server starts first (it initializes the blocks). */
    ASSERT_EQ(pthread_create(&server, NULL, server_thread, &r), 0);
    WAIT_UNTIL(SMI_T_LOAD(&r.server_up), 10000);
    for (int i = 0; i < nreaders; i++) {
        args[i] = (reader_arg_t){&r, i};
        ASSERT_EQ(pthread_create(&readers[i], NULL, reader_thread, &args[i]), 0);
    }
    ASSERT_EQ(pthread_create(&churn, NULL, churn_thread, &r), 0);
    ASSERT_EQ(pthread_create(&forker, NULL, fork_thread, &r), 0);
    for (int i = 0; i < nreaders; i++)
        WAIT_UNTIL(SMI_T_LOAD(&r.seen[i]) != 0, 60000);
    SMI_T_STORE(&r.stop_churn, 1);
    ASSERT_EQ(pthread_join(churn, NULL), 0);
    ASSERT_EQ(pthread_join(forker, NULL), 0);
    SMI_T_STORE(&r.churn_done, 1);
    for (int i = 0; i < nreaders; i++)
        ASSERT_EQ(pthread_join(readers[i], NULL), 0);
    ASSERT_EQ(pthread_join(server, NULL), 0);
    for (int i = 0; i < nreaders; i++) {
        printf("%s: reader %d verified %u frames\n", tag, i, r.seen[i]);
        ASSERT_GE(r.seen[i], 1);
    }
}

int main(void)
{
    smi_test_watchdog(120);
    run_layout("threads-extended", IMAGESTREAM_OPTIONS_EXTENDED, NREADERS);
    run_layout("threads-ensight", 0, 1);
    printf("TestThreads: passed\n");
    return 0;
}
