/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestTruncatedCopy -- the stream file truncated while the library itself
 * copies pixels: a server in putframe() (copy in, both layouts, flipped or
 * not) and a client in copyframe() (copy out) see BAD_FILE_SIZE, never
 * SIGBUS, however the truncation falls within the copy. Each of 25 trials
 * per case starts a process that copies 1920x1080 frames in a loop and
 * truncates the file under it at a random moment; the process must exit
 * normally, having seen BAD_FILE_SIZE. (Pixels a caller reads or writes in
 * place are outside the library's reach: Core/LAYOUT.md, "Truncation and other changes of size".)
 */
#include "smi_test.h"

#define W 1920u
#define H 1080u
#define FRAME_BYTES ((size_t)W * H * 3u)
#define TRIALS 25

typedef struct {
    uint32_t copying; /* the child is in its copy loop */
    uint32_t result;  /* 1: saw BAD_FILE_SIZE; 2: another error */
    uint32_t copies;
} shared_t;

static void server_copies(const char *path, uint32_t options, shared_t *sh)
{
    SharedMemoryImageStream s = NULL;
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_RECONNECTING,
               SharedMemoryImageStream_create(path, options, &s));
    uint8_t *px = malloc(FRAME_BYTES);
    ASSERT(px != NULL);
    memset(px, 0x3c, FRAME_BYTES);
    struct _SharedMemoryFrame in = {0, W, H, px};
    SMI_T_STORE(&sh->copying, 1);
    for (;;) {
        int rc = SharedMemoryImageStream_putframe(s, &in);
        in.iFrame++;
        SMI_T_ADD(&sh->copies, 1);
        if (rc < 0) {
            SMI_T_STORE(&sh->result, rc == IMAGESTREAM_BAD_FILE_SIZE ? 1 : 2);
            break;
        }
    }
    SharedMemoryImageStream_destroy(s);
    free(px);
}

static void client_copies(const char *path, shared_t *sh)
{
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 5000));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    uint8_t *dst = malloc(FRAME_BYTES);
    ASSERT(dst != NULL);
    SMI_T_STORE(&sh->copying, 1);
    for (int flip = 0;; flip ^= 1) {
        int rc = SharedMemoryImageStream_copyframe(c, dst, FRAME_BYTES, flip);
        SMI_T_ADD(&sh->copies, 1);
        if (rc < 0) {
            SMI_T_STORE(&sh->result, rc == IMAGESTREAM_BAD_FILE_SIZE ? 1 : 2);
            break;
        }
    }
    SharedMemoryImageStream_unlock(c);
    SharedMemoryImageStream_destroy(c);
    free(dst);
}

/* One trial: a copier in a child, the file cut to `to` bytes under it. */
static void trial(const char *path, int client, uint32_t options, shared_t *sh)
{
    memset(sh, 0, sizeof *sh);
    unlink(path);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    long long full = smi_test_file_size(path);
    SharedMemoryImageStream server = NULL;
    if (client) { /* a frame for the client to copy */
        server = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
        SharedMemoryFrame f;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(server, W, H, &f));
        ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_publish(server));
    }
    pid_t pid = smi_test_fork(client ? "client copying out" : "server copying in");
    if (pid == 0) {
        if (client)
            client_copies(path, sh);
        else
            server_copies(path, options, sh);
        exit(0);
    }
    WAIT_UNTIL(SMI_T_LOAD(&sh->copying), 5000);
    smi_test_sleep_ms((double)(rand() % 20)); /* somewhere in a copy */
    long long to = (rand() % 2) ? 4096 : full / 3;
    ASSERT_MSG(truncate(path, to) == 0, "truncate: %s", strerror(errno));
    ASSERT_CHILD_OK(pid, 10000); /* a SIGBUS would show as a signal here */
    ASSERT_MSG(SMI_T_LOAD(&sh->result) == 1, "the copier ended with result %u",
               SMI_T_LOAD(&sh->result));
    if (server)
        SharedMemoryImageStream_destroy(server);
}

int main(void)
{
    smi_test_watchdog(240);
    srand((unsigned)getpid());
    const char *path = smi_test_path("truncated-copy");
    shared_t *sh = smi_test_shared_alloc(sizeof *sh);
    static const struct {
        const char *what;
        int client;
        uint32_t options;
    } cases[] = {
        {"extended server, putframe", 0, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED},
        {"extended server, putframe flipped", 0,
         IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED |
             IMAGESTREAM_OPTIONS_FLIPVERTICAL},
        {"client, copyframe", 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t copies = 0;
        for (int t = 0; t < TRIALS; t++) {
            trial(path, cases[i].client, cases[i].options, sh);
            copies += SMI_T_LOAD(&sh->copies);
        }
        printf("  %s: %d truncations mid-copy (%llu copies), BAD_FILE_SIZE every time\n",
               cases[i].what, TRIALS, (unsigned long long)copies);
    }
    return 0;
}
