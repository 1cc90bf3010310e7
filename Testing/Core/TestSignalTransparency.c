/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TestSignalTransparency -- the library's SIGBUS guard behaves as if it were
 * not there for every signal that is not a fault of its own guarded
 * accesses. After every kind of call that touches the stream file (putframe,
 * acquire/publish, lock, copyframe flipped and not, info, inspect, calls on a
 * truncated file), every other signal's disposition is what the program set,
 * and SIGBUS behaves as the program asked: with the default action a SIGBUS
 * ends the process; ignored, it is ignored; a handler installed with
 * SA_RESETHAND runs once and the next signal ends the process; an
 * SA_SIGINFO handler gets the sender's siginfo (SI_USER with the sender's
 * pid, SI_QUEUE with its value) and runs with its own sa_mask; a handler
 * installed after the library was used is the one that runs, and the
 * library's guard still works afterwards; the program's own fault on its own
 * truncated mapping reaches its handler with its address, or ends it with
 * the default action. Each case runs in a child process.
 */
#include "smi_test.h"

#include <pthread.h>
#include <setjmp.h>

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
    unlink(path); /* (a second use starts afresh) */
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

/* Every signal but SIGBUS (whose action is the guard's, forwarding to the
   program's: tested by behaviour below) is as the program set it. */
static void expect_unchanged(const struct sigaction *before)
{
    struct sigaction after[NSIG];
    dispositions(after);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGBUS)
            continue;
        ASSERT_MSG(before[sig].sa_handler == after[sig].sa_handler &&
                       before[sig].sa_flags == after[sig].sa_flags,
                   "signal %d (%s) changed", sig, strsignal(sig));
    }
}

/* Set SIGBUS's action, then use the library every way. */
static void set_then_use(const char *path, const struct sigaction *sa)
{
    ASSERT_EQ(sigaction(SIGBUS, sa, NULL), 0);
    struct sigaction before[NSIG];
    dispositions(before);
    use_library(path);
    expect_unchanged(before);
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
    smi_proc_forget(pid);
    return status;
}

static struct sigaction plain(void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sa;
}

static void default_action(const char *path)
{
    struct sigaction sa = plain(SIG_DFL, 0); /* (a sanitizer's handler may be there) */
    set_then_use(path, &sa);
    kill(getpid(), SIGBUS); /* ends the process */
    exit(0);
}

static void default_raise(const char *path)
{
    struct sigaction sa = plain(SIG_DFL, 0);
    set_then_use(path, &sa);
    raise(SIGBUS); /* ends the process */
    exit(0);
}

static void ignored(const char *path)
{
    struct sigaction sa = plain(SIG_IGN, 0);
    set_then_use(path, &sa);
    raise(SIGBUS);
    kill(getpid(), SIGBUS);
    use_library(path);
    raise(SIGBUS);
    exit(0);
}

static void reset_hand(const char *path)
{
    struct sigaction sa = plain(on_bus, SA_RESETHAND);
    set_then_use(path, &sa);
    raise(SIGBUS);
    ASSERT_EQ(g_caught, 1);
    raise(SIGBUS); /* the default action again: ends the process */
    exit(0);
}

/* ---- SA_SIGINFO: the sender's siginfo, the handler's own mask ---- */

static volatile sig_atomic_t g_code, g_pid, g_value, g_usr1_blocked, g_bus_blocked, g_urg_blocked;

static void on_bus_info(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    g_code = info->si_code;
    g_pid = info->si_pid;
    g_value = info->si_value.sival_int;
    g_usr1_blocked = sigismember(&now, SIGUSR1);
    g_bus_blocked = sigismember(&now, SIGBUS);
    g_urg_blocked = sigismember(&now, SIGURG);
    g_caught++;
}

static void with_siginfo(const char *path)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    set_then_use(path, &sa);
    kill(getpid(), SIGBUS);
    ASSERT_EQ(g_caught, 1);
    ASSERT_EQ(g_code, SI_USER);
    ASSERT_EQ(g_pid, getpid());
    ASSERT_MSG(g_usr1_blocked && g_bus_blocked && !g_urg_blocked,
               "the handler ran with the wrong mask (SIGUSR1 %d, SIGBUS %d, SIGURG %d)",
               (int)g_usr1_blocked, (int)g_bus_blocked, (int)g_urg_blocked);
    use_library(path);
    union sigval v = {.sival_int = 4711};
    ASSERT_EQ(sigqueue(getpid(), SIGBUS, v), 0);
    ASSERT_EQ(g_caught, 2);
    ASSERT_EQ(g_code, SI_QUEUE);
    ASSERT_EQ(g_value, 4711);
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    ASSERT_MSG(!sigismember(&now, SIGUSR1) && !sigismember(&now, SIGBUS),
               "the mask was not restored after the handler");
    exit(0);
}

static void installed_later(const char *path)
{
    use_library(path);
    struct sigaction sa = plain(on_bus, 0);
    sigaction(SIGBUS, &sa, NULL);
    raise(SIGBUS);
    kill(getpid(), SIGBUS);
    ASSERT_EQ(g_caught, 2);
    /* The library's guard takes its place again, forwarding to this one. */
    use_library(path);
    ASSERT_EQ(g_caught, 2);
    raise(SIGBUS);
    ASSERT_EQ(g_caught, 3);
    exit(0);
}

/* ---- The program's own fault, on its own mapping ---- */

static sigjmp_buf g_jump;
static void *volatile g_addr;

static void on_own_fault(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    g_code = info->si_code;
    g_addr = info->si_addr;
    siglongjmp(g_jump, 1);
}

/* Two pages of a file of the program's own (beside `path`), mapped, then
   the file truncated to nothing under the mapping. */
static volatile uint8_t *own_truncated_mapping(const char *path)
{
    char own[600];
    snprintf(own, sizeof own, "%s.own", path);
    int fd = open(own, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_MSG(fd >= 0 && ftruncate(fd, 8192) == 0, "%s: %s", own, strerror(errno));
    volatile uint8_t *m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    ASSERT_MSG(m != MAP_FAILED, "mmap: %s", strerror(errno));
    ASSERT_EQ(ftruncate(fd, 0), 0);
    unlink(own);
    close(fd);
    return m;
}

/* Map a file of the program's own, truncate it, touch it: the program's
   handler sees BUS_ADRERR at that address (the library's guard does not
   take the program's fault for its own, even while it is the action). */
static void own_fault_handled(const char *path)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_own_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    set_then_use(path, &sa);
    volatile uint8_t *m = own_truncated_mapping(path);
    if (sigsetjmp(g_jump, 1) == 0) {
        (void)m[4096];
        ASSERT_MSG(0, "touching a truncated page did not fault");
    }
    ASSERT_EQ(g_code, BUS_ADRERR);
    ASSERT_MSG(g_addr == (void *)(m + 4096), "si_addr %p, touched %p", g_addr, (void *)(m + 4096));
    exit(0);
}

static void own_fault_default(const char *path)
{
    struct sigaction sa = plain(SIG_DFL, 0);
    set_then_use(path, &sa);
    volatile uint8_t *m = own_truncated_mapping(path);
    (void)m[0]; /* ends the process */
    exit(0);
}

static void expect_signaled(const char *who, int st)
{
    ASSERT_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "%s: status 0x%x (not ended by SIGBUS)",
               who, st);
}

static void expect_exit0(const char *who, int st)
{
    ASSERT_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x", who, st);
}

int main(void)
{
    smi_test_watchdog(60);
    expect_signaled("default, kill", in_child("default action, kill", default_action,
                                              smi_test_path("sig-default")));
    expect_signaled("default, raise", in_child("default action, raise", default_raise,
                                               smi_test_path("sig-raise")));
    expect_exit0("ignored", in_child("ignored", ignored, smi_test_path("sig-ignored")));
    expect_signaled("SA_RESETHAND", in_child("SA_RESETHAND", reset_hand,
                                             smi_test_path("sig-resethand")));
    expect_exit0("SA_SIGINFO", in_child("SA_SIGINFO", with_siginfo, smi_test_path("sig-info")));
    expect_exit0("installed later", in_child("installed later", installed_later,
                                             smi_test_path("sig-later")));
    expect_exit0("own fault, handled", in_child("own fault, handled", own_fault_handled,
                                                smi_test_path("sig-own")));
    expect_signaled("own fault, default", in_child("own fault, default", own_fault_default,
                                                   smi_test_path("sig-own-default")));
    printf("TestSignalTransparency: 8 cases behave as without the library\n");
    return 0;
}
