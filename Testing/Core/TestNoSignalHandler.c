/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestNoSignalHandler -- the library leaves the program's signals alone.
 * After every kind of call that copies or reads the file (putframe,
 * acquire/publish, lock, copyframe flipped and not, info, inspect, a copy
 * cut short by a truncation), the disposition of every signal is what the
 * program set before, and SIGBUS behaves as the program asked: with the
 * default action a `kill -BUS` ends the process; ignored, two of them are
 * ignored; a handler installed with SA_RESETHAND runs once and the second
 * signal ends the process; a handler installed after the library was used
 * is the one that runs. Each case runs in a child process.
 */
#include "smi_test.h"

#define W 32u
#define H 24u
#define FRAME_BYTES (W * H * 3u)

static volatile sig_atomic_t g_caught;

static void on_bus(int sig)
{
    (void)sig;
    g_caught++;
}

/* Use the library every way that copies or reads the stream file. */
static void use_library(const char *path)
{
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_createfile(path, W, H));
    SharedMemoryImageStream s = smi_test_ext_server(path, IMAGESTREAM_NOERROR);
    SharedMemoryImageStream c = NULL;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_create(path, 0, &c));
    uint8_t px[FRAME_BYTES], out[FRAME_BYTES];
    smi_fill(px, sizeof px, 7);
    struct _SharedMemoryFrame in = {1, W, H, px};
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_putframe(s, &in));
    SharedMemoryFrame f;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_lock(c, &f));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(c, out, sizeof out, 0));
    ASSERT_EQ(memcmp(out, px, sizeof px), 0);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_copyframe(c, out, sizeof out, 1));
    ASSERT_EQ(memcmp(out, px + (H - 1) * W * 3, W * 3), 0);
    SharedMemoryStreamInfo info;
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_info(c, &info));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_inspect(path, &info));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_acquire(s, W, H, &f));
    memset(f->buffer, 3, FRAME_BYTES);
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_publish(s));
    /* A copy the file's truncation cuts short: an error, and no handler. */
    ASSERT_EQ(truncate(path, 4096), 0);
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_copyframe(c, out, sizeof out, 0));
    ASSERT_RC(IMAGESTREAM_BAD_FILE_SIZE, SharedMemoryImageStream_putframe(s, &in));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(c));
    ASSERT_RC(IMAGESTREAM_NOERROR, SharedMemoryImageStream_destroy(s));
}

/* Every signal's disposition, as the kernel has it. */
static void dispositions(struct sigaction *all)
{
    for (int sig = 1; sig < NSIG; sig++) {
        memset(&all[sig], 0, sizeof all[sig]);
        sigaction(sig, NULL, &all[sig]); /* (fails for numbers that are no signal: stays 0) */
    }
}

static void expect_unchanged(const struct sigaction *before)
{
    struct sigaction after[NSIG];
    dispositions(after);
    for (int sig = 1; sig < NSIG; sig++) {
        ASSERT_MSG(before[sig].sa_handler == after[sig].sa_handler &&
                       before[sig].sa_flags == after[sig].sa_flags,
                   "signal %d (%s) changed", sig, strsignal(sig));
    }
}

/* Run `body` in a child; returns how it ended (waitpid status). */
static int in_child(const char *who, void (*body)(const char *), const char *path)
{
    pid_t pid = smi_test_fork(who);
    if (pid == 0) {
        body(path);
        exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    smi_test_forget(pid);
    return status;
}

static void default_action(const char *path)
{
    signal(SIGBUS, SIG_DFL); /* (the program's choice; a sanitizer's handler may be there) */
    struct sigaction before[NSIG];
    dispositions(before);
    use_library(path);
    expect_unchanged(before);
    raise(SIGBUS); /* ends the process */
    exit(0);
}

static void ignored(const char *path)
{
    signal(SIGBUS, SIG_IGN);
    struct sigaction before[NSIG];
    dispositions(before);
    use_library(path);
    expect_unchanged(before);
    raise(SIGBUS);
    raise(SIGBUS);
    exit(0);
}

static void reset_hand(const char *path)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_bus;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    struct sigaction before[NSIG];
    dispositions(before);
    use_library(path);
    expect_unchanged(before);
    raise(SIGBUS);
    ASSERT_EQ(g_caught, 1);
    raise(SIGBUS); /* the default action again: ends the process */
    exit(0);
}

static void installed_later(const char *path)
{
    use_library(path);
    signal(SIGBUS, on_bus);
    raise(SIGBUS);
    raise(SIGBUS);
    ASSERT_EQ(g_caught, 2);
    exit(0);
}

int main(void)
{
    smi_test_watchdog(60);
    int st = in_child("default action", default_action, smi_test_path("sig-default"));
    ASSERT_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "status 0x%x", st);
    st = in_child("ignored", ignored, smi_test_path("sig-ignored"));
    ASSERT_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    st = in_child("SA_RESETHAND", reset_hand, smi_test_path("sig-resethand"));
    ASSERT_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "status 0x%x", st);
    st = in_child("installed later", installed_later, smi_test_path("sig-later"));
    ASSERT_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    printf("TestNoSignalHandler: ok\n");
    return 0;
}
