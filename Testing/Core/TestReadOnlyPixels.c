/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestReadOnlyPixels -- a client never writes pixels: its mapping of them is
 * read-only (LAYOUT.md section 2; smi_ensight.c for the EnSight layout). A
 * client process that writes into the frame it has locked must fault, in
 * both layouts, and the frame in the file must be unchanged. The pixel
 * written to lies in the middle of a 256x256 frame, away from the header
 * pages that a client may write.
 */
#include "smi_test.h"

#define W 256u
#define H 256u
#define FRAME_BYTES (W * H * 3u)
#define FAULTED 42

typedef struct {
    uint32_t server_up;
    uint32_t locked;
    uint64_t offset; /* where the client will write, from its frame's start */
} shared_t;

static void on_fault(int sig)
{
    (void)sig;
    _exit(FAULTED);
}

static void client(const char *path, shared_t *sh)
{
    WAIT_UNTIL(SMI_T_LOAD(&sh->server_up), 10000);
    SharedMemoryImageStream c = NULL;
    ASSERT(SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &c) >= 0);
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(smi_check(f->buffer, FRAME_BYTES, 9), -1);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    SMI_T_STORE(&sh->locked, 1);
    volatile uint8_t *p = f->buffer + FRAME_BYTES / 2;
    *p = (uint8_t)(*p + 1); /* must fault */
    fprintf(stderr, "the client wrote into its locked frame: pixels are mapped writable\n");
    exit(1);
}

static void run(int extended)
{
    const char *path = smi_test_path(extended ? "ro-ext" : "ro-es");
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    shared_t *sh = smi_test_shared_alloc(sizeof(shared_t));
    pid_t pid = smi_test_fork(extended ? "extended client" : "EnSight client");
    if (pid == 0) {
        client(path, sh);
        exit(1);
    }
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(
                  path, IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0),
                  &s));
    SMI_T_STORE(&sh->server_up, 1);
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    smi_fill(px, FRAME_BYTES, 9);
    struct _SharedMemoryFrame in = {9, W, H, px};
    /* EnSight: UNCONNECTED until the client has attached. */
    double until = smi_test_now_ms() + 10000;
    int rc;
    while ((rc = SharedMemoryImageStream_putframe(s, &in)) == IMAGESTREAM_UNCONNECTED && !extended) {
        ASSERT(smi_test_now_ms() < until);
        smi_test_sleep_ms(1);
    }
    ASSERT(rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_UNCONNECTED);
    int st = smi_test_join(pid, 10000);
    ASSERT_MSG(st == FAULTED, "the client's write into its frame did not fault (status %d)", st);
    /* The frame in the file is intact. */
    size_t n;
    uint8_t *file = smi_test_read_file(path, &n);
    int found = 0;
    for (size_t off = 0; off + FRAME_BYTES <= n; off += extended ? 4096 : 1)
        if (file[off] == px[0] && memcmp(file + off, px, FRAME_BYTES) == 0) {
            found = 1;
            break;
        }
    ASSERT_MSG(found, "frame 9 is no longer intact in the file");
    free(file);
    free(px);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
    munmap(sh, sizeof(shared_t));
}

int main(void)
{
    smi_test_watchdog(30);
    run(1);
    run(0);
    return 0;
}
