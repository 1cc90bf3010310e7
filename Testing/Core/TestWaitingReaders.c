/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestWaitingReaders -- readers started before their server, on a file no
 * server has set up yet (zeros: what createfile makes and pyensight writes),
 * do not take the EnSight layout's single client slot from each other: each
 * create answers NOERROR (not "taken over", not TOO_MANY_CLIENTS) and waits.
 * (a) 2 and 8 readers, then an EnSight-layout server: the first reader to
 *     look takes the slot and gets the frames, the others then hear
 *     TOO_MANY_CLIENTS (one client per stream in that layout).
 * (b) 2 and 8 readers, then an extended-layout server: every reader gets
 *     the frame.
 * (c) 2 reader processes blocked in wait() before an extended server
 *     starts: both get its frames.
 */
#include "smi_test.h"

#define W 32u
#define H 16u
#define MAX_READERS 8

static void make_zero_file(const char *path)
{
    unlink(path);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
}

static void open_readers(const char *path, SharedMemoryImageStream *c, int n)
{
    for (int i = 0; i < n; i++) {
        c[i] = NULL;
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c[i]));
        SharedMemoryFrame f = NULL;
        ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c[i], &f));
        ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_wait(c[i], 0));
    }
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_EQ(info.clients, 0); /* waiting readers hold no slot */
}

static void expect_frame(SharedMemoryImageStream c, const uint8_t *px, uint32_t number)
{
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_EQ(f->iFrame, number);
    ASSERT_EQ(memcmp(f->buffer, px, W * H * 3), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_unlock(c));
}

static void ensight_server(int n)
{
    const char *path = smi_test_path("waiting-es");
    make_zero_file(path);
    SharedMemoryImageStream c[MAX_READERS];
    open_readers(path, c, n);
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR,
              SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_SERVER, &s));
    static uint8_t px[W * H * 3];
    smi_fill(px, sizeof px, 4);
    struct _SharedMemoryFrame in = {1, W, H, px};
    ASSERT_RC(IMAGESTREAM_UNCONNECTED, SharedMemoryImageStream_putframe(s, &in));
    /* The first reader to look takes the slot; the others are refused. */
    SharedMemoryFrame f = NULL;
    ASSERT_RC(IMAGESTREAM_NO_FRAMEAVAILABLE, SharedMemoryImageStream_lock(c[0], &f));
    for (int i = 1; i < n; i++)
        ASSERT_RC(IMAGESTREAM_TOO_MANY_CLIENTS, SharedMemoryImageStream_lock(c[i], &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c[0], 1000));
    expect_frame(c[0], px, 1);
    for (int i = 0; i < n; i++)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c[i]));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

static void extended_server(int n)
{
    const char *path = smi_test_path("waiting-ext");
    make_zero_file(path);
    SharedMemoryImageStream c[MAX_READERS];
    open_readers(path, c, n);
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    static uint8_t px[W * H * 3];
    smi_fill(px, sizeof px, 5);
    struct _SharedMemoryFrame in = {7, W, H, px};
    /* (UNCONNECTED: no reader holds a slot yet; the frame is published) */
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED,
               SharedMemoryImageStream_putframe(s, &in));
    for (int i = 0; i < n; i++) {
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c[i], 1000));
        expect_frame(c[i], px, 7);
    }
    for (int i = 0; i < n; i++)
        ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c[i]));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

static void reader_processes(void)
{
    const char *path = smi_test_path("waiting-procs");
    make_zero_file(path);
    uint32_t *up = smi_test_shared_alloc(sizeof *up);
    pid_t pid[2];
    for (int i = 0; i < 2; i++) {
        pid[i] = smi_test_fork("reader started before its server");
        if (pid[i] == 0) {
            SharedMemoryImageStream c = NULL;
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
            SMI_T_ADD(up, 1);
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_wait(c, 20000));
            SharedMemoryFrame f = NULL;
            ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
            ASSERT_EQ(smi_check(f->buffer, W * H * 3, 6), -1);
            SharedMemoryImageStream_destroy(c);
            exit(0);
        }
    }
    WAIT_UNTIL(SMI_T_LOAD(up) == 2, 10000);
    smi_test_sleep_ms(50); /* both asleep in wait() */
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    static uint8_t px[W * H * 3];
    smi_fill(px, sizeof px, 6);
    struct _SharedMemoryFrame in = {1, W, H, px};
    ASSERT_RC2(IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED,
               SharedMemoryImageStream_putframe(s, &in));
    for (int i = 0; i < 2; i++)
        ASSERT_CHILD_OK(pid[i], 20000);
    SharedMemoryImageStream_destroy(s);
}

int main(void)
{
    smi_test_watchdog(90);
    ensight_server(2);
    ensight_server(8);
    extended_server(2);
    extended_server(8);
    reader_processes();
    printf("TestWaitingReaders: 2 and 8 readers before an EnSight server (the first takes the "
           "slot) and an extended one (all read), 2 reader processes waiting: ok\n");
    return 0;
}
