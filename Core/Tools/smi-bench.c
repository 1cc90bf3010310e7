/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-bench -- throughput and latency of the shared-memory image transport.
 *
 * Usage: smi-bench [--quick] [--dir DIR] [--seconds S] [--samples N]
 *                  [--only LIST] [--readers N] [--touch] [--frame-samples N]
 *                  [--csv FILE] [--help]
 *
 * In one run it prints, for 1080p (1920x1080 RGB) and 4K (3840x2160 RGB):
 *
 *  1. memcpy baselines: frames/s of a warm memcpy of one frame into a
 *     same-size heap buffer (page-aligned like the file's buffers, every page
 *     touched before timing), into a MAP_SHARED mapping of a file in DIR (the
 *     fair baseline for a mapped file), and into two buffers of such a file
 *     in turn (what any double-buffered stream writes: twice the cache
 *     footprint, measurably slower on this hardware).
 *  2. putframe throughput, EnSight layout (IMAGESTREAM_OPTIONS_SERVER) and
 *     extended layout (SERVER|EXTENDED), with one client process attached
 *     that waits for, locks and unlocks frames as they come. Published
 *     frames/s and putframe calls/s (the EnSight layout drops frames with
 *     NO_BUFFERAVAILABLE while its one client has not read the other block:
 *     only calls that published count, drops are reported beside), each as
 *     a ratio to the memcpy baselines. --readers N: N client processes
 *     (extended layout); --touch: clients read a byte of every page.
 *  3. acquire/publish (zero-copy): frames/s when the server fills each
 *     acquired buffer (a memcpy standing in for rendering) and a client
 *     process waits for and locks every frame it can; and the cost of
 *     acquire+publish alone (no pixels written) in microseconds per frame,
 *     with a client attached: untrimmed mean, p50, p99 and max (and the
 *     mean without the slowest 0.1%, beside them, never instead).
 *  4. wake latency: the server stamps CLOCK_MONOTONIC into a 64x64 frame's
 *     pixels and publishes it while a client process sleeps in
 *     SharedMemoryImageStream_wait(); the client notes when it wakes. The
 *     samples alternate with a raw FUTEX_WAIT/FUTEX_WAKE between two processes
 *     on a shared anonymous mapping (the machine's floor), so both see the
 *     same machine state.
 *  5. the writer with N readers: frames/s of acquire+fill+publish (extended
 *     layout, growing buffers, and limited to 2 buffers), putframe, and the
 *     EnSight layout, with 0, 1, 2, 4, 8 client processes that wait, lock,
 *     read a byte of every page and unlock, pinned to the CPUs other than
 *     the writer's; the ratio to the writer alone, NO_BUFFERAVAILABLE/s and
 *     the stream's buffer count at the end.
 *  6. publish-to-lock latency of full 1080p and 4K frames: the server fills
 *     a frame (not timed), stamps the time into it and publishes; a client
 *     blocked in wait() wakes, locks and notes the time. p50/p99/max with
 *     readers idle (one client) and busy (3 more clients locking and
 *     touching every frame), back to back and from idle, against a raw
 *     futex ping-pong between two processes taken in the same run.
 *  7. growth: the acquire that adds a buffer (in-process clients hold every
 *     buffer, so each next acquire grows the file by one frame), five fresh
 *     streams from 2 to 8 buffers, against ordinary acquires of the same
 *     streams afterwards.
 *  8. frame copies: memcpy through a mapping of the file (what the library
 *     does under its SIGBUS guard) against copies through the file
 *     descriptor (pwritev/preadv: its way where another copy of the library
 *     holds the guard), into the file, out of it, out with rows flipped, in
 *     alternating slices, with the library's putframe/copyframe beside
 *     them; then a lock() that finds nothing new, beside one fstat and one
 *     sigaction.
 *
 * Memory bandwidth on a shared VM drifts by 10-20% from second to second, so
 * the ratios of parts 2 and 3 use baselines measured in alternation with the
 * stream (slices of memcpy and of the stream, in turn), not part 1's figures.
 *
 * The server (this process) and the client (a forked process) are pinned to
 * different CPUs when two are usable. Every frame a client locks is checked
 * (frame numbers increase; the number stamped in its first and last bytes
 * matches iFrame: no torn frame).
 *
 * Exit status: 0 on success, 1 on any API error (its string is printed) or
 * on a frame that fails the check, 2 on a usage error. Missed targets (a
 * noisy machine) are reported, not failed. Files created in DIR are removed
 * and child processes are reaped on every path, also on SIGINT/SIGTERM; every
 * wait for a child has a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_bench_copy.h"
#include "smi_cli.h"
#include "smi_clock.h"

/* ---- settings ------------------------------------------------------------ */

#define BENCH_MAX_SAMPLES 100000
#define CHILD_START_TIMEOUT_MS 10000
#define CHILD_EXIT_TIMEOUT_MS 5000
#define CLIENT_WAIT_MS 100 /* client's wait() timeout: how soon it sees "stop" */
#define LAT_SAMPLE_TIMEOUT_MS 2000

typedef struct {
    int quick;
    const char *dir;
    double seconds;      /* per throughput run */
    unsigned samples;    /* latency samples per run */
    unsigned pause_us;   /* pause before each latency sample */
    unsigned ovh_iters;  /* acquire+publish iterations for the overhead */
    int server_cpu, client_cpu; /* -1: not pinned */
    int cpus[CPU_SETSIZE];      /* usable CPUs; readers go on those but the server's */
    int ncpus;
    unsigned readers;    /* client processes in the throughput parts (--readers) */
    int touch;           /* clients read one byte of every page of each frame (--touch) */
    unsigned lat_samples;/* full-frame latency samples per case */
    FILE *csv;           /* --csv FILE: machine-readable rows, or NULL */
} bench_opts_t;

static bench_opts_t g_opt;

typedef struct {
    const char *name;
    uint32_t width, height;
} frame_size_t;

static const frame_size_t g_sizes[] = {
    {"1080p", 1920, 1080},
    {"4K", 3840, 2160},
};
#define NSIZES (sizeof g_sizes / sizeof g_sizes[0])

/* ---- cleanup on signals -------------------------------------------------- */

#define MAX_PATHS 4
static char g_paths[MAX_PATHS][PATH_MAX];
static volatile sig_atomic_t g_path_used[MAX_PATHS];
#define MAX_READERS 16
#define MAX_CHILDREN (MAX_READERS + 2)
static volatile sig_atomic_t g_child_pids[MAX_CHILDREN];

static void child_register(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (g_child_pids[i] == 0) {
            g_child_pids[i] = pid;
            return;
        }
}

static void child_forget(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (g_child_pids[i] == pid)
            g_child_pids[i] = 0;
}

static int path_register(const char *path)
{
    for (int i = 0; i < MAX_PATHS; i++) {
        if (!g_path_used[i]) {
            snprintf(g_paths[i], sizeof g_paths[i], "%s", path);
            g_path_used[i] = 1;
            return i;
        }
    }
    return -1;
}

static void path_remove(int slot)
{
    if (slot >= 0 && slot < MAX_PATHS && g_path_used[slot]) {
        unlink(g_paths[slot]);
        g_path_used[slot] = 0;
    }
}

static void on_signal(int sig)
{
    /* Only async-signal-safe calls: kill, unlink, _exit. */
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (g_child_pids[i] > 0)
            kill((pid_t)g_child_pids[i], SIGKILL);
    for (int i = 0; i < MAX_PATHS; i++)
        if (g_path_used[i])
            unlink(g_paths[i]);
    _exit(128 + sig);
}

/* ---- small helpers ------------------------------------------------------- */

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Keep the compiler from dropping stores into memory it thinks is dead. */
static inline void clobber(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

static int pin_to_cpu(int cpu)
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static long futex_op(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    /* Not the _PRIVATE ops: the word is shared between processes. */
    return syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, 0);
}

static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int api_failed(const char *what, SharedMemoryImageError rc)
{
    fprintf(stderr, "smi-bench: %s: %s (%d)\n", what, SharedMemoryImageStream_errorstring(rc), rc);
    return 1;
}

static size_t frame_bytes(const frame_size_t *sz)
{
    return (size_t)sz->width * sz->height * 3u;
}

/* Create a new, empty file of mode 0600 in DIR with a unique, unpredictable
   name (mkstemps: O_CREAT | O_EXCL, so nobody's file or symbolic link placed
   there beforehand is ever opened), registered for removal. Its name goes to
   `out`. Returns the path slot (for path_remove) and the open fd through
   *fd, or -1 with a message. */
static int make_temp(char *out, size_t len, const char *tag, int *fd)
{
    int n = snprintf(out, len, "%s/smi-bench-%ld-%s-XXXXXX.smi", g_opt.dir, (long)getpid(), tag);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "smi-bench: %s: directory name too long\n", g_opt.dir);
        return -1;
    }
    *fd = mkstemps(out, 4);
    if (*fd < 0) {
        fprintf(stderr, "smi-bench: cannot create a file in %s: %s\n", g_opt.dir, strerror(errno));
        return -1;
    }
    int slot = path_register(out);
    if (slot < 0) {
        unlink(out);
        close(*fd);
        *fd = -1;
        fprintf(stderr, "smi-bench: too many files\n");
    }
    return slot;
}

/* ---- shared control block between server and client ---------------------- */

enum client_mode {
    CLIENT_LOCKLOOP = 1, /* wait, lock, check, unlock until told to stop */
    CLIENT_LATENCY = 2,  /* wait, note wake time, lock, read stamp, unlock */
    CLIENT_FUTEX = 3,    /* raw FUTEX_WAIT on ctl->fword, note wake time */
    CLIENT_LOCKLAT = 4,  /* wait, lock, note lock time - publish stamp, unlock */
};

typedef struct {
    _Atomic uint32_t go;    /* parent -> child: the server is up, attach now */
    _Atomic uint32_t ready; /* child -> parent: attached (or in its wait loop) */
    _Atomic uint32_t stop;  /* parent -> child: finish and exit */
    _Atomic uint32_t fword; /* futex word of the raw futex baseline */
    _Atomic uint64_t stamp; /* raw futex baseline: time of the wake */
    _Atomic uint64_t locked;   /* frames locked by the client */
    _Atomic uint64_t bad;      /* frames that failed the check */
    _Atomic uint64_t done;     /* latency samples taken */
    _Atomic uint64_t max_lock_us; /* longest lock() call seen by the client */
    int32_t err;               /* API error code in the child, 0 if none */
    char errwhat[64];
    uint32_t mode;
    uint32_t check;            /* verify the stamps in every locked frame */
    uint32_t touch;            /* read one byte of every page of every locked frame */
    int32_t cpu;               /* pin the client here (-1: not pinned) */
    _Atomic uint32_t spin_us;  /* the client's waits spin this long first (spinwait) */
    uint32_t options;          /* the client's create() options (part 9: queue modes) */
    uint32_t work_us;          /* part 9: the client sleeps this long per frame (its work) */
    _Atomic uint64_t lost;     /* part 9: frames next() counted lost; newest: numbers skipped */
    _Atomic uint64_t sink;     /* what touching read (so that it is not optimized out) */
    uint64_t lat[BENCH_MAX_SAMPLES]; /* wake latencies, ns */
    uint64_t lat_lock[BENCH_MAX_SAMPLES]; /* CLIENT_LATENCY: publish-to-lock, ns */
} ctl_t;

/* Part 9: what the next clients made are (create() options, work per frame). */
static uint32_t g_client_options, g_client_work_us;

static ctl_t *ctl_new(void)
{
    void *p = mmap(NULL, sizeof(ctl_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("smi-bench: mmap");
        return NULL;
    }
    memset(p, 0, sizeof(ctl_t));
    ((ctl_t *)p)->cpu = g_opt.client_cpu;
    ((ctl_t *)p)->options = g_client_options;
    ((ctl_t *)p)->work_us = g_client_work_us;
    return (ctl_t *)p;
}

static void ctl_free(ctl_t *c)
{
    if (c)
        munmap(c, sizeof(ctl_t));
}

static int child_error(ctl_t *c, const char *what, SharedMemoryImageError rc)
{
    c->err = rc;
    snprintf(c->errwhat, sizeof c->errwhat, "%s", what);
    return 1;
}

/* ---- the client process -------------------------------------------------- */

static int wait_flag(_Atomic uint32_t *flag, int timeout_ms, pid_t child);

/* Check one locked frame: increasing numbers, same stamp in first and last bytes. */
static void client_check(ctl_t *c, SharedMemoryFrame f, uint32_t *last)
{
    size_t n = (size_t)f->iWidth * f->iHeight * 3u;
    if (f->iFrame <= *last && *last != 0)
        atomic_fetch_add(&c->bad, 1);
    *last = f->iFrame;
    if (c->check && n >= 16) {
        uint64_t a = get_u64(f->buffer), b = get_u64(f->buffer + n - 8);
        if (a != f->iFrame || b != f->iFrame)
            atomic_fetch_add(&c->bad, 1);
    }
}

/* Read one byte of every page of the frame (and its last byte): what a
   reader that uses the pixels costs at least. */
static void client_touch(ctl_t *c, SharedMemoryFrame f)
{
    size_t n = (size_t)f->iWidth * f->iHeight * 3u;
    const volatile uint8_t *px = f->buffer;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i += 4096u)
        sum += px[i];
    sum += px[n - 1];
    atomic_fetch_add_explicit(&c->sink, sum, memory_order_relaxed);
}

static int client_futex(ctl_t *c)
{
    uint32_t last = atomic_load(&c->fword);
    atomic_store(&c->ready, 1);
    uint64_t k = 0;
    while (!atomic_load(&c->stop)) {
        uint32_t cur = atomic_load(&c->fword);
        if (cur == last) {
            struct timespec ts = {0, CLIENT_WAIT_MS * 1000000L};
            futex_op(&c->fword, FUTEX_WAIT, last, &ts);
            continue;
        }
        uint64_t t = smi_tool_now_ns();
        last = cur;
        uint64_t s = atomic_load(&c->stamp);
        if (k < BENCH_MAX_SAMPLES)
            c->lat[k] = t > s ? t - s : 0;
        k++;
        atomic_store(&c->done, k);
    }
    return 0;
}

static int client_stream(ctl_t *c, const char *path)
{
    if (wait_flag(&c->go, CHILD_START_TIMEOUT_MS, 0) != 0)
        return child_error(c, "timed out waiting for the server", IMAGESTREAM_NOERROR);
    if (atomic_load(&c->stop))
        return 0;
    SharedMemoryImageStream s = NULL;
    SharedMemoryImageError rc = SharedMemoryImageStream_create(path, c->options, &s);
    if (rc < 0)
        return child_error(c, "client create", rc);
    atomic_store(&c->ready, 1);

    int status = 0;
    uint32_t last = 0;
    uint64_t k = 0;
    while (!atomic_load(&c->stop)) {
        rc = SharedMemoryImageStream_spinwait(s, CLIENT_WAIT_MS, atomic_load(&c->spin_us));
        uint64_t woke = smi_tool_now_ns();
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        if (rc < 0) {
            status = child_error(c, "client wait", rc);
            break;
        }
        SharedMemoryFrame f = NULL;
        uint64_t t0 = smi_tool_now_ns(), lost = 0;
        rc = (c->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE))
                 ? SharedMemoryImageStream_next(s, &f, &lost)
                 : SharedMemoryImageStream_lock(s, &f);
        atomic_fetch_add(&c->lost, lost);
        uint64_t dt = (smi_tool_now_ns() - t0) / 1000u;
        if (dt > atomic_load(&c->max_lock_us))
            atomic_store(&c->max_lock_us, dt);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE || rc == IMAGESTREAM_FORMAT_SKIPPED)
            continue;
        if (rc < 0) {
            status = child_error(c, "client lock", rc);
            break;
        }
        if (c->mode == CLIENT_LATENCY || c->mode == CLIENT_LOCKLAT) {
            /* CLIENT_LATENCY: publish to wake; CLIENT_LOCKLAT: publish to lock
               (the stamp is the time of publish, in the frame's first bytes). */
            uint64_t s0 = get_u64(f->buffer), locked = smi_tool_now_ns();
            uint64_t at = c->mode == CLIENT_LOCKLAT ? locked : woke;
            if (k < BENCH_MAX_SAMPLES) {
                c->lat[k] = at > s0 ? at - s0 : 0;
                c->lat_lock[k] = locked > s0 ? locked - s0 : 0;
            }
            k++;
        } else {
            if (!(c->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE)) &&
                f->iFrame > last + 1)
                atomic_fetch_add(&c->lost, f->iFrame - last - 1); /* (newest: skipped) */
            client_check(c, f, &last);
        }
        if (c->touch)
            client_touch(c, f);
        atomic_fetch_add(&c->locked, 1);
        rc = SharedMemoryImageStream_unlock(s);
        if (rc < 0) {
            status = child_error(c, "client unlock", rc);
            break;
        }
        if (c->work_us)
            sleep_us(c->work_us); /* part 9: the reader's work on the frame */
        if (c->mode == CLIENT_LATENCY || c->mode == CLIENT_LOCKLAT)
            atomic_store(&c->done, k);
    }
    rc = SharedMemoryImageStream_destroy(s);
    if (rc < 0 && status == 0)
        status = child_error(c, "client destroy", rc);
    return status;
}

/* ---- child process management --------------------------------------------- */

/* Wait until *flag != 0; if child > 0, stop early when it has exited. */
static int wait_flag(_Atomic uint32_t *flag, int timeout_ms, pid_t child)
{
    uint64_t end = smi_tool_now_ns() + (uint64_t)timeout_ms * 1000000u;
    unsigned spins = 0;
    while (!atomic_load(flag)) {
        if (smi_tool_now_ns() > end)
            return -1;
        if (child > 0 && (spins++ & 63) == 0) {
            if (kill(child, 0) != 0)
                return -1;
            int st;
            if (waitpid(child, &st, WNOHANG) == child) {
                child_forget(child);
                return -2; /* reaped already */
            }
        }
        sleep_us(50);
    }
    return 0;
}

static pid_t spawn_client(ctl_t *c, enum client_mode mode, const char *path)
{
    c->mode = (uint32_t)mode;
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("smi-bench: fork");
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        for (int i = 0; i < MAX_PATHS; i++)
            g_path_used[i] = 0; /* the parent owns the files */
        for (int i = 0; i < MAX_CHILDREN; i++)
            g_child_pids[i] = 0;
        pin_to_cpu(c->cpu);
        int st = mode == CLIENT_FUTEX ? client_futex(c) : client_stream(c, path);
        _exit(st);
    }
    child_register(pid);
    return pid;
}

/* Tell the child to stop, reap it (kill it after a timeout). 0: it exited 0. */
static int finish_client(ctl_t *c, pid_t pid)
{
    if (pid <= 0)
        return 1;
    atomic_store(&c->stop, 1);
    atomic_store(&c->go, 1);
    atomic_fetch_add(&c->fword, 1);
    futex_op(&c->fword, FUTEX_WAKE, INT_MAX, NULL);
    int st = 0;
    uint64_t end = smi_tool_now_ns() + (uint64_t)CHILD_EXIT_TIMEOUT_MS * 1000000u;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            st = 0; /* reaped elsewhere (wait_flag): trust c->err */
            break;
        }
        if (smi_tool_now_ns() > end) {
            fprintf(stderr, "smi-bench: client %ld did not exit, killing it\n", (long)pid);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            child_forget(pid);
            return 1;
        }
        sleep_us(1000);
    }
    child_forget(pid);
    if (c->err != 0)
        return api_failed(c->errwhat, c->err);
    if (c->errwhat[0] != 0) {
        fprintf(stderr, "smi-bench: client: %s\n", c->errwhat);
        return 1;
    }
    if (WIFSIGNALED(st)) {
        fprintf(stderr, "smi-bench: client died of signal %d\n", WTERMSIG(st));
        return 1;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* ---- a server with one client process attached ---------------------------- */

typedef struct {
    char path[PATH_MAX];
    int path_slot;
    SharedMemoryImageStream server;
    ctl_t *ctl;   /* the first client's (allocated also when there is none) */
    pid_t child;  /* the first client, 0 when none */
    unsigned nx;  /* more clients (--readers, the readers parts) */
    ctl_t *xctl[MAX_READERS];
    pid_t xchild[MAX_READERS];
} session_t;

/* The CPU of client process i: the usable CPUs but the server's, in turn
   (all on the other CPU of a 2-CPU machine); -1 when not pinned. */
static int reader_cpu(unsigned i)
{
    if (g_opt.server_cpu < 0 || g_opt.ncpus < 2)
        return -1;
    int others = g_opt.ncpus - 1, k = (int)(i % (unsigned)others), seen = 0;
    for (int j = 0; j < g_opt.ncpus; j++) {
        if (g_opt.cpus[j] == g_opt.server_cpu)
            continue;
        if (seen++ == k)
            return g_opt.cpus[j];
    }
    return g_opt.client_cpu;
}

/* Frames locked by all the session's clients. */
static uint64_t session_locked(const session_t *ss)
{
    uint64_t n = ss->ctl ? atomic_load(&ss->ctl->locked) : 0;
    for (unsigned i = 0; i < ss->nx; i++)
        n += ss->xctl[i] ? atomic_load(&ss->xctl[i]->locked) : 0;
    return n;
}

static const char *layout_name(int extended)
{
    return extended ? "extended" : "ensight";
}

static void session_close(session_t *ss, int *status)
{
    for (unsigned i = 0; i < ss->nx; i++) {
        if (ss->xchild[i] > 0 && finish_client(ss->xctl[i], ss->xchild[i]) != 0)
            *status = 1;
        ss->xchild[i] = 0;
        ctl_free(ss->xctl[i]);
        ss->xctl[i] = NULL;
    }
    ss->nx = 0;
    if (ss->child > 0) {
        if (finish_client(ss->ctl, ss->child) != 0)
            *status = 1;
        ss->child = 0;
    }
    if (ss->server) {
        SharedMemoryImageError rc = SharedMemoryImageStream_destroy(ss->server);
        if (rc < 0)
            *status = api_failed("server destroy", rc);
        ss->server = NULL;
    }
    path_remove(ss->path_slot);
    ss->path_slot = -1;
    ctl_free(ss->ctl);
    ss->ctl = NULL;
}

/* Close a throughput session whose client checked every frame it locked:
   a torn or out-of-order frame fails the run. Returns the status. */
static int session_close_checked(session_t *ss, int status, const char *what,
                                 const frame_size_t *sz, int extended)
{
    uint64_t bad = ss->ctl ? atomic_load(&ss->ctl->bad) : 0;
    for (unsigned i = 0; i < ss->nx; i++)
        bad += ss->xctl[i] ? atomic_load(&ss->xctl[i]->bad) : 0;
    session_close(ss, &status);
    if (bad) {
        fprintf(stderr, "smi-bench: %s %s %s: client saw %" PRIu64
                " bad frames (torn or out of order)\n", what, sz->name, layout_name(extended), bad);
        status = 1;
    }
    return status;
}

/* Create the file and the server, fork `nreaders` clients (the first in
   `mode`, the others in CLIENT_LOCKLOOP, touching pages with --touch or
   `touch`) and wait until they have attached. */
static int session_open_n(session_t *ss, const char *tag, int extended, uint32_t w, uint32_t h,
                          enum client_mode mode, uint32_t check, unsigned nreaders,
                          uint32_t touch)
{
    memset(ss, 0, sizeof *ss);
    ss->path_slot = -1;
    ss->ctl = ctl_new();
    if (!ss->ctl)
        return 1;
    ss->ctl->check = check;
    ss->ctl->touch = touch || g_opt.touch;
    ss->ctl->cpu = reader_cpu(0);
    /* The stream file: a new file of our own, made here (never a name
       someone else could have made first); createfile then sizes it. */
    int fd;
    ss->path_slot = make_temp(ss->path, sizeof ss->path, tag, &fd);
    if (ss->path_slot < 0)
        return 1;
    close(fd);
    /* Fork before the server exists, so that the clients do not inherit it. */
    if (nreaders > 0) {
        ss->child = spawn_client(ss->ctl, mode, ss->path);
        if (ss->child < 0)
            return 1;
    }
    for (unsigned i = 1; i < nreaders && i <= MAX_READERS; i++) {
        ctl_t *c = ctl_new();
        if (!c)
            return 1;
        c->check = check;
        c->touch = touch || g_opt.touch;
        c->cpu = reader_cpu(i);
        ss->xctl[ss->nx] = c;
        ss->xchild[ss->nx] = spawn_client(c, CLIENT_LOCKLOOP, ss->path);
        if (ss->xchild[ss->nx++] < 0)
            return 1;
    }

    SharedMemoryImageError rc = SharedMemoryImageStream_createfile(ss->path, w, h);
    if (rc < 0)
        return api_failed("createfile", rc);
    uint32_t options = IMAGESTREAM_OPTIONS_SERVER | (extended ? IMAGESTREAM_OPTIONS_EXTENDED : 0);
    rc = SharedMemoryImageStream_create(ss->path, options, &ss->server);
    if (rc < 0) {
        ss->server = NULL;
        return api_failed("server create", rc);
    }
    for (unsigned i = 0; i <= ss->nx; i++) {
        if (i == 0 && ss->child <= 0)
            continue;
        ctl_t *c = i == 0 ? ss->ctl : ss->xctl[i - 1];
        pid_t *pid = i == 0 ? &ss->child : &ss->xchild[i - 1];
        atomic_store(&c->go, 1);
        int w_rc = wait_flag(&c->ready, CHILD_START_TIMEOUT_MS, *pid);
        if (w_rc != 0) {
            if (w_rc == -2)
                *pid = 0; /* already reaped */
            if (c->err)
                return api_failed(c->errwhat, c->err);
            fprintf(stderr, "smi-bench: client process did not attach\n");
            return 1;
        }
    }
    return 0;
}

/* One client process (the first parts' setting). */
static int session_open(session_t *ss, const char *tag, int extended, uint32_t w, uint32_t h,
                        enum client_mode mode, uint32_t check)
{
    return session_open_n(ss, tag, extended, w, h, mode, check, 1, 0);
}

/* ---- 1. memcpy baseline --------------------------------------------------- */

/* Time measured in slices, summed. */
typedef struct {
    uint64_t frames, ns;
} tally_t;

static double tally_rate(const tally_t *t)
{
    return t->ns ? (double)t->frames * 1e9 / (double)t->ns : 0.0;
}

/* memcpy(src -> d[0], d[1], d[0], ...) for at least dur_ns (and one frame). */
static void memcpy_slice(uint8_t *const d[2], uint8_t *src, size_t n, uint64_t dur_ns, tally_t *t)
{
    uint64_t t0 = smi_tool_now_ns(), end = t0 + dur_ns, t1, frames = 0;
    do {
        uint8_t *to = d[frames & 1];
        src[0] = (uint8_t)frames;
        memcpy(to, src, n);
        clobber(to);
        frames++;
        t1 = smi_tool_now_ns();
    } while (t1 < end);
    t->frames += frames;
    t->ns += t1 - t0;
}

/* Frames/s of a warm memcpy into d[0] (alternating with d[1] if it differs). */
static double time_memcpy(uint8_t *const d[2], uint8_t *src, size_t n, double seconds)
{
    for (int i = 0; i < 4; i++) { /* warm: pages faulted in, caches and TLB primed */
        memcpy(d[i & 1], src, n);
        clobber(d[i & 1]);
    }
    tally_t t = {0, 0};
    memcpy_slice(d, src, n, (uint64_t)(seconds * 1e9), &t);
    return tally_rate(&t);
}

/* Where the baselines copy to: a heap buffer, and a MAP_SHARED file in DIR laid
   out like a stream's (a header page, then two page-aligned frame buffers). */
typedef struct {
    uint8_t *map;
    size_t len;
    uint8_t *one[2];  /* the file's first buffer twice: memcpy into one buffer */
    uint8_t *two[2];  /* both buffers: alternating, as a double-buffered stream */
    uint8_t *heap[2]; /* a malloc'ed buffer, twice */
} shm_target_t;

static int shm_target_open(shm_target_t *m, size_t n)
{
    size_t stride = (n + 4095u) / 4096u * 4096u;
    m->len = 4096u + 2u * stride;
    m->map = NULL;
    char path[PATH_MAX];
    int fd;
    int slot = make_temp(path, sizeof path, "memcpy", &fd);
    if (slot < 0)
        return 1;
    if (ftruncate(fd, (off_t)m->len) != 0) {
        fprintf(stderr, "smi-bench: %s: %s\n", path, strerror(errno));
        close(fd);
        path_remove(slot);
        return 1;
    }
    void *p = mmap(NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    path_remove(slot); /* the mapping keeps the pages; nothing left to clean up */
    if (p == MAP_FAILED) {
        fprintf(stderr, "smi-bench: mmap %s: %s\n", path, strerror(errno));
        return 1;
    }
    m->map = p;
    m->one[0] = m->one[1] = m->two[0] = m->map + 4096;
    m->two[1] = m->two[0] + stride;
    memset(m->map, 0, m->len); /* fault every page in now */
    /* The heap buffer is like one of the file's: page-aligned, the same
       size, every page touched before timing (a malloc'ed block is 16 bytes
       off a page, which made memcpy into it slower than into the file). */
    m->heap[0] = m->heap[1] = aligned_alloc(4096u, stride);
    if (!m->heap[0]) {
        fprintf(stderr, "smi-bench: out of memory\n");
        return 1;
    }
    /* Not shared with the client processes forked later: a forked child
       keeps the parent's private pages copy-on-write, so every first write
       after each fork would fault and copy a page (which made the heap
       baseline of parts 2 and 3 run at 0.55-0.88 x the file's at 4K). */
    madvise(m->heap[0], stride, MADV_DONTFORK);
    memset(m->heap[0], 1, stride);
    return 0;
}

static void shm_target_close(shm_target_t *m)
{
    if (m->map)
        munmap(m->map, m->len);
    m->map = NULL;
    free(m->heap[0]);
    m->heap[0] = m->heap[1] = NULL;
}

typedef struct {
    double heap, shm, shm2; /* frames/s */
} baseline_t;

static int bench_memcpy(const frame_size_t *sz, uint8_t *src, shm_target_t *shm, baseline_t *out)
{
    size_t n = frame_bytes(sz);
    out->heap = time_memcpy(shm->heap, src, n, g_opt.seconds);
    out->shm = time_memcpy(shm->one, src, n, g_opt.seconds);
    out->shm2 = time_memcpy(shm->two, src, n, g_opt.seconds);
    return 0;
}

/*
 * The machine's memory bandwidth drifts by 10% and more from one second to the
 * next on a shared VM, so a stream's throughput is compared with memcpy
 * baselines measured in alternation with it: `rounds` rounds of a slice of
 * memcpy(heap), memcpy(shm), memcpy(shm, 2 buffers) and the stream each.
 */
static unsigned interleave_rounds(void)
{
    return g_opt.quick ? 2u : 10u;
}

/* ---- 2. putframe ----------------------------------------------------------- */

typedef struct {
    double published_s, calls_s;
    double heap_s, shm_s, shm2_s; /* memcpy baselines measured in alternation */
    uint64_t calls, published, dropped, unconnected, locked;
} put_result_t;

static int bench_putframe(const frame_size_t *sz, int extended, uint8_t *src, shm_target_t *shm,
                          put_result_t *r)
{
    session_t ss;
    int status = session_open_n(&ss, "put", extended, sz->width, sz->height, CLIENT_LOCKLOOP, 1,
                                extended ? g_opt.readers : 1, 0);
    memset(r, 0, sizeof *r);
    size_t n = frame_bytes(sz);
    struct _SharedMemoryFrame f = {0, sz->width, sz->height, src};
    uint32_t number = 0;
    if (status == 0) {
        /* Warm up: both buffers written (and faulted in) a few times. */
        uint64_t end = smi_tool_now_ns() + 2000000000u;
        unsigned ok = 0;
        while (ok < 4 && smi_tool_now_ns() < end) {
            f.iFrame = ++number;
            put_u64(src, number);
            put_u64(src + n - 8, number);
            SharedMemoryImageError rc = SharedMemoryImageStream_putframe(ss.server, &f);
            if (rc < 0) {
                status = api_failed("putframe", rc);
                break;
            }
            if (rc == IMAGESTREAM_NOERROR)
                ok++;
            else
                sleep_us(200);
        }
    }
    tally_t t_heap = {0, 0}, t_shm = {0, 0}, t_shm2 = {0, 0};
    uint64_t put_ns = 0, locked0 = session_locked(&ss);
    unsigned rounds = interleave_rounds();
    uint64_t slice = (uint64_t)(g_opt.seconds * 1e9) / rounds;
    for (unsigned k = 0; status == 0 && k < rounds; k++) {
        memcpy_slice(shm->heap, src, n, slice, &t_heap);
        memcpy_slice(shm->one, src, n, slice, &t_shm);
        memcpy_slice(shm->two, src, n, slice, &t_shm2);
        uint64_t t0 = smi_tool_now_ns(), end = t0 + slice, t;
        do {
            f.iFrame = ++number;
            put_u64(src, number);
            put_u64(src + n - 8, number);
            SharedMemoryImageError rc = SharedMemoryImageStream_putframe(ss.server, &f);
            r->calls++;
            if (rc == IMAGESTREAM_NOERROR)
                r->published++;
            else if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE)
                r->dropped++;
            else if (rc == IMAGESTREAM_UNCONNECTED)
                r->unconnected++;
            else if (rc < 0) {
                status = api_failed("putframe", rc);
                break;
            }
            t = smi_tool_now_ns();
        } while (t < end);
        put_ns += smi_tool_now_ns() - t0;
    }
    if (status == 0) {
        double secs = (double)put_ns / 1e9;
        r->published_s = (double)r->published / secs;
        r->calls_s = (double)r->calls / secs;
        r->heap_s = tally_rate(&t_heap);
        r->shm_s = tally_rate(&t_shm);
        r->shm2_s = tally_rate(&t_shm2);
        r->locked = session_locked(&ss) - locked0;
    }
    return session_close_checked(&ss, status, "putframe", sz, extended);
}

/* ---- 3. acquire/publish ---------------------------------------------------- */

typedef struct {
    double published_s;
    double heap_s, shm_s, shm2_s; /* memcpy baselines measured in alternation */
    uint64_t published, nobuf, locked;
} acq_result_t;

static int bench_acquire(const frame_size_t *sz, int extended, uint8_t *src, shm_target_t *shm,
                         acq_result_t *r)
{
    session_t ss;
    int status = session_open_n(&ss, "acq", extended, sz->width, sz->height, CLIENT_LOCKLOOP, 1,
                                extended ? g_opt.readers : 1, 0);
    memset(r, 0, sizeof *r);
    size_t n = frame_bytes(sz);
    tally_t t_heap = {0, 0}, t_shm = {0, 0}, t_shm2 = {0, 0};
    uint64_t acq_ns = 0, locked0 = 0;
    unsigned rounds = interleave_rounds();
    uint64_t slice = (uint64_t)(g_opt.seconds * 1e9) / rounds;
    /* Round 0 is the warm-up (both buffers written a few times), not counted. */
    for (unsigned k = 0; status == 0 && k <= rounds; k++) {
        if (k > 0) {
            memcpy_slice(shm->heap, src, n, slice, &t_heap);
            memcpy_slice(shm->one, src, n, slice, &t_shm);
            memcpy_slice(shm->two, src, n, slice, &t_shm2);
        }
        uint64_t t0 = smi_tool_now_ns(), end = t0 + (k ? slice : 2000000000u), t;
        unsigned warm_ok = 0;
        do {
            SharedMemoryFrame f = NULL;
            SharedMemoryImageError rc =
                SharedMemoryImageStream_acquire(ss.server, sz->width, sz->height, &f);
            if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE || rc == IMAGESTREAM_UNCONNECTED) {
                if (k)
                    r->nobuf++;
            } else if (rc < 0) {
                status = api_failed("acquire", rc);
                break;
            } else {
                memcpy(f->buffer, src, n); /* stands in for rendering */
                put_u64(f->buffer, f->iFrame);
                put_u64(f->buffer + n - 8, f->iFrame);
                rc = SharedMemoryImageStream_publish(ss.server);
                if (rc < 0) {
                    status = api_failed("publish", rc);
                    break;
                }
                if (k)
                    r->published++;
                else if (++warm_ok >= 4)
                    break;
            }
            t = smi_tool_now_ns();
        } while (t < end);
        if (k > 0)
            acq_ns += smi_tool_now_ns() - t0;
        else
            locked0 = session_locked(&ss);
    }
    if (status == 0) {
        r->published_s = (double)r->published * 1e9 / (double)(acq_ns ? acq_ns : 1);
        r->heap_s = tally_rate(&t_heap);
        r->shm_s = tally_rate(&t_shm);
        r->shm2_s = tally_rate(&t_shm2);
        r->locked = session_locked(&ss) - locked0;
    }
    return session_close_checked(&ss, status, "acquire/publish", sz, extended);
}

typedef struct {
    double mean_us, p50_us, p99_us, max_us;
    double trim_us;  /* mean without the slowest 0.1% (the VM preempting us) */
    uint64_t pairs, nobuf;
    double nobuf_us; /* mean cost of an acquire answering NO_BUFFERAVAILABLE */
} ovh_result_t;

static int bench_overhead(const frame_size_t *sz, int extended, ovh_result_t *r)
{
    session_t ss;
    int status = session_open(&ss, "ovh", extended, sz->width, sz->height, CLIENT_LOCKLOOP, 0);
    memset(r, 0, sizeof *r);
    uint64_t *t_pair = calloc(g_opt.ovh_iters, sizeof *t_pair);
    if (!t_pair) {
        fprintf(stderr, "smi-bench: out of memory\n");
        status = 1;
    }
    /* Warm up: fault the buffers in once, so that first touches are not timed. */
    for (int i = 0; status == 0 && i < 2; i++) {
        SharedMemoryFrame f = NULL;
        SharedMemoryImageError rc =
            SharedMemoryImageStream_acquire(ss.server, sz->width, sz->height, &f);
        if (rc < 0) {
            status = api_failed("acquire", rc);
            break;
        }
        if (rc != IMAGESTREAM_NOERROR)
            continue;
        memset(f->buffer, 0, frame_bytes(sz));
        rc = SharedMemoryImageStream_publish(ss.server);
        if (rc < 0)
            status = api_failed("publish", rc);
        sleep_us(2000);
    }
    uint64_t nobuf_ns = 0, tries = 0;
    uint64_t max_tries = (uint64_t)g_opt.ovh_iters * 1000u;
    while (status == 0 && r->pairs < g_opt.ovh_iters && tries < max_tries) {
        SharedMemoryFrame f = NULL;
        tries++;
        uint64_t t0 = smi_tool_now_ns();
        SharedMemoryImageError rc =
            SharedMemoryImageStream_acquire(ss.server, sz->width, sz->height, &f);
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE || rc == IMAGESTREAM_UNCONNECTED) {
            nobuf_ns += smi_tool_now_ns() - t0;
            r->nobuf++;
            continue;
        }
        if (rc < 0) {
            status = api_failed("acquire", rc);
            break;
        }
        rc = SharedMemoryImageStream_publish(ss.server);
        uint64_t t1 = smi_tool_now_ns();
        if (rc < 0) {
            status = api_failed("publish", rc);
            break;
        }
        t_pair[r->pairs++] = t1 - t0;
    }
    if (status == 0 && r->pairs > 0) {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < r->pairs; i++)
            sum += t_pair[i];
        qsort(t_pair, r->pairs, sizeof *t_pair, cmp_u64);
        r->mean_us = (double)sum / (double)r->pairs / 1000.0;
        r->p50_us = (double)t_pair[r->pairs / 2] / 1000.0;
        r->p99_us = (double)t_pair[(r->pairs * 99) / 100] / 1000.0;
        r->max_us = (double)t_pair[r->pairs - 1] / 1000.0;
        uint64_t keep = r->pairs - r->pairs / 1000u, tsum = 0;
        for (uint64_t i = 0; i < keep; i++)
            tsum += t_pair[i];
        r->trim_us = (double)tsum / (double)keep / 1000.0;
        r->nobuf_us = r->nobuf ? (double)nobuf_ns / (double)r->nobuf / 1000.0 : 0.0;
    }
    free(t_pair);
    session_close(&ss, &status);
    return status;
}

/* ---- 4. wake latency -------------------------------------------------------- */

typedef struct {
    double p50_us, p99_us, min_us, max_us;
    unsigned samples, missed;
} lat_result_t;

/* Summarize n latencies (ns) of `lat` (sorted in place). */
static void lat_summarize_array(uint64_t *lat, uint64_t n, lat_result_t *r)
{
    if (n > BENCH_MAX_SAMPLES)
        n = BENCH_MAX_SAMPLES;
    r->samples = (unsigned)n;
    if (n == 0)
        return;
    qsort(lat, n, sizeof lat[0], cmp_u64);
    r->min_us = (double)lat[0] / 1000.0;
    r->p50_us = (double)lat[n / 2] / 1000.0;
    r->p99_us = (double)lat[(n * 99) / 100] / 1000.0;
    r->max_us = (double)lat[n - 1] / 1000.0;
}

static void lat_summarize(ctl_t *c, uint64_t n, lat_result_t *r)
{
    lat_summarize_array(c->lat, n, r);
}

/* Pause before sample i: long enough that the client is asleep, a little jitter. */
static unsigned lat_pause(unsigned i)
{
    return g_opt.pause_us + (i * 37u) % (g_opt.pause_us / 2u + 1u);
}

/* Wait until a client has taken `want` samples; 0, or -1 after the timeout. */
static int wait_samples(ctl_t *c, uint64_t want)
{
    uint64_t end = smi_tool_now_ns() + (uint64_t)LAT_SAMPLE_TIMEOUT_MS * 1000000u;
    while (atomic_load(&c->done) < want) {
        if (smi_tool_now_ns() > end)
            return -1;
        sleep_us(20);
    }
    return 0;
}

/*
 * Publish-to-wake latency of wait() on a `extended` or EnSight-layout stream
 * (and publish-to-lock into *locked when not NULL), its waits spinning
 * spin_us first (spinwait()). With fut != NULL, a second client process
 * sleeps in a raw FUTEX_WAIT and the samples alternate between the two, so
 * that both see the same machine state.
 */
static int bench_wake(int extended, uint32_t spin_us, lat_result_t *ours, lat_result_t *locked,
                      lat_result_t *fut)
{
    const uint32_t w = 64, h = 64;
    session_t ss;
    ctl_t *fc = NULL;
    pid_t fchild = -1;
    memset(ours, 0, sizeof *ours);
    if (fut)
        memset(fut, 0, sizeof *fut);
    if (locked)
        memset(locked, 0, sizeof *locked);
    int status = session_open(&ss, "lat", extended, w, h, CLIENT_LATENCY, 0);
    if (ss.ctl)
        atomic_store(&ss.ctl->spin_us, spin_us);
    if (status == 0 && fut) {
        fc = ctl_new();
        fchild = fc ? spawn_client(fc, CLIENT_FUTEX, NULL) : -1;
        if (fchild < 0) {
            status = 1;
        } else {
            int w_rc = wait_flag(&fc->ready, CHILD_START_TIMEOUT_MS, fchild);
            if (w_rc != 0) {
                fprintf(stderr, "smi-bench: futex client did not start\n");
                if (w_rc == -2)
                    fchild = -1;
                status = 1;
            }
        }
    }
    uint64_t pub_ours = 0, pub_fut = 0;
    unsigned total = g_opt.samples * (fut ? 2u : 1u);
    for (unsigned i = 0; status == 0 && i < total; i++) {
        /* Both clients done with their previous sample, then a pause: asleep. */
        if (wait_samples(ss.ctl, pub_ours) != 0)
            ours->missed++;
        if (fc && wait_samples(fc, pub_fut) != 0)
            fut->missed++;
        sleep_us(lat_pause(i / (fut ? 2u : 1u)));
        if (fc && (i & 1u) == 0) {
            atomic_store(&fc->stamp, smi_tool_now_ns());
            atomic_fetch_add(&fc->fword, 1);
            futex_op(&fc->fword, FUTEX_WAKE, 1, NULL);
            pub_fut++;
            continue;
        }
        SharedMemoryFrame f = NULL;
        SharedMemoryImageError rc = SharedMemoryImageStream_acquire(ss.server, w, h, &f);
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE || rc == IMAGESTREAM_UNCONNECTED) {
            ours->missed++;
            continue;
        }
        if (rc < 0) {
            status = api_failed("acquire", rc);
            break;
        }
        put_u64(f->buffer, smi_tool_now_ns());
        rc = SharedMemoryImageStream_publish(ss.server);
        if (rc < 0)
            status = api_failed("publish", rc);
        pub_ours++;
    }
    if (status == 0) {
        if (wait_samples(ss.ctl, pub_ours) != 0)
            ours->missed++;
        if (fc && wait_samples(fc, pub_fut) != 0)
            fut->missed++;
    }
    if (fchild > 0 && finish_client(fc, fchild) != 0)
        status = 1;
    if (fc && status == 0)
        lat_summarize(fc, atomic_load(&fc->done), fut);
    ctl_free(fc);
    if (ss.child > 0) {
        if (finish_client(ss.ctl, ss.child) != 0)
            status = 1;
        ss.child = 0;
    }
    if (ss.ctl && status == 0) {
        if (locked)
            lat_summarize_array(ss.ctl->lat_lock, atomic_load(&ss.ctl->done), locked);
        lat_summarize(ss.ctl, atomic_load(&ss.ctl->done), ours);
    }
    session_close(&ss, &status);
    return status;
}

/* ---- main ------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: smi-bench [--quick] [--dir DIR] [--seconds S] [--samples N] [--only LIST]\n"
            "                 [--readers N] [--touch] [--frame-samples N] [--csv FILE] [--help]\n"
            "Throughput and latency of the SharedMemoryImage transport: memcpy baselines,\n"
            "putframe (EnSight and extended layouts), zero-copy acquire/publish and the\n"
            "publish-to-wake latency against a raw futex, at 1080p and 4K (RGB).\n"
            "\n"
            "  --quick       short runs (a smoke test, e.g. for ctest)\n"
            "  --dir DIR     where to create the stream files (default /dev/shm)\n"
            "  --seconds S   length of each throughput run (default 1, --quick 0.05)\n"
            "  --samples N   wake-latency samples per run (default 3000, --quick 100)\n"
            "  --only LIST   run only these parts, e.g. 2,4: 1 memcpy, 2 putframe,\n"
            "                3 acquire/publish, 4 wake latency, 5 the writer with 0..8\n"
            "                readers, 6 full-frame publish-to-lock latency, 7 the cost of\n"
            "                adding a buffer, 8 frame copies: memcpy through a mapping, the\n"
            "                descriptor, the library's; lock's cost; 9 queue reading: a\n"
            "                slow reader of a bursty stream, newest against queue mode, and\n"
            "                the writer with a reliable reader (1 also runs for 2, 3, 5)\n"
            "  --readers N   client processes in parts 2 and 3 (extended layout; default 1)\n"
            "  --touch       clients of parts 2 and 3 read a byte of every page of each\n"
            "                frame (part 5's always do)\n"
            "  --frame-samples N  samples per case of part 6 (default 500, --quick 30)\n"
            "  --csv FILE    also write parts 5 and 6 as CSV rows (kind,size,what,readers,\n"
            "                value,extra) for Scripts/compare.sh\n"
            "  --help        this text\n"
            "\n"
            "Exit status: 0 success, 1 an API error or a bad frame, 2 usage error.\n");
}

static void choose_cpus(void)
{
    g_opt.server_cpu = g_opt.client_cpu = -1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    g_opt.ncpus = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set))
            g_opt.cpus[g_opt.ncpus++] = cpu;
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            if (found == 0)
                g_opt.server_cpu = cpu;
            else
                g_opt.client_cpu = cpu;
            found++;
        }
    }
    if (found < 2) {
        g_opt.server_cpu = g_opt.client_cpu = -1;
        return;
    }
    if (pin_to_cpu(g_opt.server_cpu) != 0)
        g_opt.server_cpu = g_opt.client_cpu = -1;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

/* "2,4" -> bits 1<<2 | 1<<4; 0 when the list is not valid. */
static unsigned parse_parts(const char *text)
{
    unsigned parts = 0;
    for (const char *p = text; *p; p++) {
        if (*p >= '1' && *p <= '9')
            parts |= 1u << (*p - '0');
        else if (*p != ',')
            return 0;
    }
    return parts;
}

static void print_lat(const char *name, const lat_result_t *r)
{
    printf("  %-23s: p50 %7.1f us, p99 %7.1f us, min %6.1f us, max %8.1f us (%u samples%s)\n",
           name, r->p50_us, r->p99_us, r->min_us, r->max_us, r->samples,
           r->missed ? ", some missed" : "");
}

/* Long options without a short form (smi_cli_optstring skips these values). */
enum { OPT_QUICK = 256, OPT_DIR, OPT_SECONDS, OPT_SAMPLES, OPT_ONLY, OPT_READERS, OPT_TOUCH,
       OPT_CSV, OPT_LAT_SAMPLES };

/* A usage error: the message, the usage on stderr; returns 2. */
static int bench_usage_error(void)
{
    usage(stderr);
    return SMI_CLI_USAGE;
}

/* One option's value, checked (with the numbers parsed so far). Returns
   SMI_CLI_RUN, or 2 after a message. */
static int parse_value(int c, const char *arg, double *seconds, uint32_t *samples,
                       unsigned *parts)
{
    switch (c) {
    case OPT_DIR: g_opt.dir = arg; break;
    case OPT_SECONDS:
        if (smi_tool_parse_nonneg(arg, seconds) != 0 || !(*seconds > 0 && *seconds <= 60)) {
            fprintf(stderr, "smi-bench: --seconds wants a number in (0, 60]\n");
            return SMI_CLI_USAGE;
        }
        break;
    case OPT_SAMPLES:
        if (smi_tool_parse_u32(arg, samples) != 0 || *samples < 10 ||
            *samples > BENCH_MAX_SAMPLES) {
            fprintf(stderr, "smi-bench: --samples wants 10..%d\n", BENCH_MAX_SAMPLES);
            return SMI_CLI_USAGE;
        }
        break;
    case OPT_ONLY:
        *parts = parse_parts(arg);
        if (!*parts) {
            fprintf(stderr, "smi-bench: --only wants a list of parts 1..9, e.g. 2,4\n");
            return SMI_CLI_USAGE;
        }
        break;
    case OPT_READERS: {
        uint32_t v;
        if (smi_tool_parse_u32(arg, &v) != 0 || v < 1 || v > MAX_READERS) {
            fprintf(stderr, "smi-bench: --readers wants 1..%d\n", MAX_READERS);
            return SMI_CLI_USAGE;
        }
        g_opt.readers = v;
        break;
    }
    case OPT_LAT_SAMPLES: {
        uint32_t v;
        if (smi_tool_parse_u32(arg, &v) != 0 || v < 10 || v > BENCH_MAX_SAMPLES) {
            fprintf(stderr, "smi-bench: --frame-samples wants 10..%d\n", BENCH_MAX_SAMPLES);
            return SMI_CLI_USAGE;
        }
        g_opt.lat_samples = v;
        break;
    }
    case OPT_CSV:
        g_opt.csv = fopen(arg, "w");
        if (!g_opt.csv) {
            fprintf(stderr, "smi-bench: %s: %s\n", arg, strerror(errno));
            return SMI_CLI_USAGE;
        }
        break;
    }
    return SMI_CLI_RUN;
}

/* Fill g_opt (defaults: --quick or not) and *parts (bit k: part k runs).
   Returns SMI_CLI_RUN to go on, or the exit status. */
static int parse_options(int argc, char **argv, unsigned *parts)
{
    static const struct option options[] = {
        {"quick", no_argument, NULL, OPT_QUICK},
        {"dir", required_argument, NULL, OPT_DIR},
        {"seconds", required_argument, NULL, OPT_SECONDS},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"only", required_argument, NULL, OPT_ONLY},
        {"readers", required_argument, NULL, OPT_READERS},
        {"touch", no_argument, NULL, OPT_TOUCH},
        {"csv", required_argument, NULL, OPT_CSV},
        {"frame-samples", required_argument, NULL, OPT_LAT_SAMPLES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char optstring[8];
    smi_cli_optstring(options, optstring, sizeof optstring);
    g_opt.dir = "/dev/shm";
    double seconds = -1;
    uint32_t samples = 0;
    *parts = 0x3fe; /* parts 1..9 */
    g_opt.readers = 1;
    int c, status = SMI_CLI_RUN;
    while (status == SMI_CLI_RUN &&
           (c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_QUICK: g_opt.quick = 1; break;
        case OPT_TOUCH: g_opt.touch = 1; break;
        case '?':
        case ':': smi_tool_option_error("smi-bench", c, argv); return bench_usage_error();
        default: status = parse_value(c, optarg, &seconds, &samples, parts);
        }
    }
    if (status != SMI_CLI_RUN)
        return status;
    if (optind < argc) {
        fprintf(stderr, "smi-bench: unexpected argument '%s'\n", argv[optind]);
        return bench_usage_error();
    }
    if (*parts & (1u << 2 | 1u << 3 | 1u << 5))
        *parts |= 1u << 1; /* the ratios need the baseline */
    g_opt.seconds = seconds > 0 ? seconds : (g_opt.quick ? 0.05 : 1.0);
    g_opt.samples = samples > 0 ? samples : (g_opt.quick ? 100u : 3000u);
    g_opt.pause_us = g_opt.quick ? 500u : 1000u;
    g_opt.ovh_iters = g_opt.quick ? 2000u : 100000u;
    if (g_opt.lat_samples == 0)
        g_opt.lat_samples = g_opt.quick ? 30u : 500u;
    struct stat st;
    if (stat(g_opt.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "smi-bench: %s is not a directory\n", g_opt.dir);
        return SMI_CLI_USAGE;
    }
    return SMI_CLI_RUN;
}

/* Kill the client and remove the files on SIGINT/SIGTERM/SIGHUP. */
static void install_cleanup_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void print_header(void)
{
    printf("smi-bench: SharedMemoryImage throughput and latency (library API %s)\n",
           IMAGESTREAM_API_VERSION);
    if (g_opt.server_cpu >= 0)
        printf("  processes pinned with sched_setaffinity: server on CPU %d, client process on"
               " CPU %d\n",
               g_opt.server_cpu, g_opt.client_cpu);
    else
        printf("  processes not pinned (fewer than 2 usable CPUs): server and client share CPUs\n");
    printf("  files in %s; %.2f s per throughput run; %u latency samples%s\n", g_opt.dir,
           g_opt.seconds, g_opt.samples, g_opt.quick ? " (--quick: figures are rough)" : "");
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) > 0)
        printf("  %d CPUs usable; load average %.2f %.2f %.2f (other work on the machine skews"
               " every figure)\n", g_opt.ncpus, load[0], load[1], load[2]);
    printf("  parts 2 and 3: %u client process%s%s\n", g_opt.readers,
           g_opt.readers == 1 ? "" : "es (extended layout; EnSight has one)",
           g_opt.touch ? ", each reading one byte of every page of every frame (--touch)" : "");
    for (size_t i = 0; i < NSIZES; i++)
        printf("  %-5s = %ux%u RGB, %.1f MB per frame\n", g_sizes[i].name, g_sizes[i].width,
               g_sizes[i].height, (double)frame_bytes(&g_sizes[i]) / 1e6);
}

typedef struct {
    lat_result_t idle_b2b, idle_paused, busy_b2b, busy_paused;
} frame_lat_t;

/* Everything measured, for the printout and the targets. */
typedef struct {
    uint8_t *src; /* one source frame of the largest size, not all zeros */
    shm_target_t shm[NSIZES];
    baseline_t base[NSIZES];
    put_result_t put[NSIZES][2];
    acq_result_t acq[NSIZES][2];
    ovh_result_t ovh[NSIZES][2];
    lat_result_t lat_ext, lat_ens, lat_futex;
    lat_result_t lat_ext_lock, lat_spin, lat_spin_lock; /* part 4: + lock; spinning */
    lat_result_t fut_b2b, fut_paused;  /* part 6's floor */
    frame_lat_t flat[NSIZES];
    double starve[NSIZES]; /* part 5: writer with 8 readers / alone (extended, growing) */
} bench_run_t;

/* ---- 5. the writer with N readers ------------------------------------------ */

static const unsigned g_reader_counts[] = {0, 1, 2, 4, 8};
#define NREADER_COUNTS (sizeof g_reader_counts / sizeof g_reader_counts[0])

typedef struct {
    double fps;         /* frames published per second */
    double nobuf_s;     /* acquires/putframes answered NO_BUFFERAVAILABLE per second */
    double locked_s;    /* frames locked per second, all readers together */
    uint32_t buffers;   /* the stream's buffer count at the end */
} writer_result_t;

/* The writer at full speed for g_opt.seconds (after a warm-up of a quarter
   of that, not counted) with `nreaders` client processes that wait, lock,
   touch every page and unlock; zero-copy (acquire, memcpy standing in for
   rendering, publish) or putframe; `maxbuf` buffers at most (0: default). */
static int bench_writer(const frame_size_t *sz, int extended, int use_put, unsigned nreaders,
                        uint32_t maxbuf, uint8_t *src, writer_result_t *r)
{
    session_t ss;
    memset(r, 0, sizeof *r);
    int status = session_open_n(&ss, "wr", extended, sz->width, sz->height, CLIENT_LOCKLOOP, 1,
                                nreaders, 1);
    if (status == 0 && maxbuf) {
        SharedMemoryImageError rc = SharedMemoryImageStream_setbuffers(ss.server, 2, maxbuf);
        if (rc < 0)
            status = api_failed("setbuffers", rc);
    }
    size_t n = frame_bytes(sz);
    struct _SharedMemoryFrame pf = {0, sz->width, sz->height, src};
    uint64_t published = 0, nobuf = 0, locked0 = 0, t_start = 0, t_end = 0;
    uint32_t number = 0;
    uint64_t warm = (uint64_t)(g_opt.seconds * 0.25e9), dur = (uint64_t)(g_opt.seconds * 1e9);
    uint64_t t0 = smi_tool_now_ns(), t = t0;
    int timing = 0;
    while (status == 0) {
        if (!timing && t - t0 >= warm) {
            timing = 1;
            published = nobuf = 0;
            locked0 = session_locked(&ss);
            t_start = t;
        }
        if (timing && t - t_start >= dur)
            break;
        SharedMemoryImageError rc;
        number++;
        if (use_put) {
            pf.iFrame = number;
            put_u64(src, number);
            put_u64(src + n - 8, number);
            rc = SharedMemoryImageStream_putframe(ss.server, &pf);
        } else {
            SharedMemoryFrame f = NULL;
            rc = SharedMemoryImageStream_acquire(ss.server, sz->width, sz->height, &f);
            if (rc == IMAGESTREAM_NOERROR) {
                memcpy(f->buffer, src, n); /* stands in for rendering */
                put_u64(f->buffer, f->iFrame);
                put_u64(f->buffer + n - 8, f->iFrame);
                rc = SharedMemoryImageStream_publish(ss.server);
            }
        }
        if (rc < 0) {
            status = api_failed(use_put ? "putframe" : "acquire/publish", rc);
            break;
        }
        if (rc == IMAGESTREAM_NOERROR || (extended && rc == IMAGESTREAM_UNCONNECTED))
            published++;
        else if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE)
            nobuf++;
        t = smi_tool_now_ns();
    }
    t_end = t;
    if (status == 0) {
        double secs = (double)(t_end - t_start) / 1e9;
        r->fps = (double)published / secs;
        r->nobuf_s = (double)nobuf / secs;
        r->locked_s = (double)(session_locked(&ss) - locked0) / secs;
        SharedMemoryStreamInfo info;
        if (SharedMemoryImageStream_info(ss.server, &info) == IMAGESTREAM_NOERROR)
            r->buffers = info.buffer_count;
    }
    return session_close_checked(&ss, status, "writer", sz, extended);
}

static void csv_row(const char *kind, const char *size, const char *what, unsigned readers,
                    double fps, double extra)
{
    if (g_opt.csv)
        fprintf(g_opt.csv, "%s,%s,%s,%u,%.3f,%.3f\n", kind, size, what, readers, fps, extra);
}

/* The writer's rate with 0..8 readers that lock, touch every page and
   unlock: the stream (extended layout, growing buffers; and limited to 2
   buffers, as before) against the writer alone; EnSight with its one client. */
static int run_readers(bench_run_t *b)
{
    int status = 0;
    printf("\n5. the writer with N readers: readers wait, lock, read one byte of every page,"
           " unlock;\n   %d CPUs usable; writer on CPU %d, readers on the others in turn"
           " (pinned off the writer's CPU)\n", g_opt.ncpus, g_opt.server_cpu);
    static const struct {
        const char *name;
        int extended, use_put;
        uint32_t maxbuf;
    } rows[] = {
        {"acquire+fill+publish, extended (growing)", 1, 0, 0},
        {"acquire+fill+publish, extended (2 buffers)", 1, 0, 2},
        {"putframe, extended (growing)", 1, 1, 0},
        {"putframe, EnSight (1 client at most)", 0, 1, 0},
        {"acquire+fill+publish, EnSight", 0, 0, 0},
    };
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        const frame_size_t *sz = &g_sizes[i];
        double mc_shm = time_memcpy(b->shm[i].one, b->src, frame_bytes(sz), g_opt.seconds / 2);
        double mc_heap = time_memcpy(b->shm[i].heap, b->src, frame_bytes(sz), g_opt.seconds / 2);
        printf("  %s: memcpy(shm) %.1f frames/s, memcpy(heap) %.1f frames/s (same size, aligned,"
               " warm)\n", sz->name, mc_shm, mc_heap);
        csv_row("memcpy", sz->name, "shm", 0, mc_shm, 0);
        csv_row("memcpy", sz->name, "heap", 0, mc_heap, 0);
        for (size_t k = 0; status == 0 && k < sizeof rows / sizeof rows[0]; k++) {
            double alone = 0;
            printf("  %-5s %s:\n", sz->name, rows[k].name);
            for (size_t j = 0; status == 0 && j < NREADER_COUNTS; j++) {
                unsigned nr = g_reader_counts[j];
                if (!rows[k].extended && nr != 1)
                    continue; /* EnSight: one client; without one putframe drops */
                writer_result_t r;
                status = bench_writer(sz, rows[k].extended, rows[k].use_put, nr, rows[k].maxbuf,
                                      b->src, &r);
                if (status)
                    break;
                if (nr == 0)
                    alone = r.fps;
                printf("    %u readers: %7.1f frames/s", nr, r.fps);
                if (alone > 0 && nr > 0)
                    printf(" = %.3f x alone", ratio(r.fps, alone));
                printf(" = %.2f x memcpy(shm); %.0f NO_BUFFERAVAILABLE/s; readers locked %.1f"
                       " frames/s; %u buffers\n", ratio(r.fps, mc_shm), r.nobuf_s, r.locked_s,
                       r.buffers);
                char what[64];
                snprintf(what, sizeof what, "%s-%s-%s", rows[k].use_put ? "putframe" : "acquire",
                         rows[k].extended ? "extended" : "ensight",
                         rows[k].maxbuf ? "2buf" : "grow");
                csv_row("writer", sz->name, what, nr, r.fps, r.nobuf_s);
                if (rows[k].extended && !rows[k].use_put && !rows[k].maxbuf && nr == 8)
                    b->starve[i] = ratio(r.fps, alone);
            }
        }
    }
    return status;
}

/* ---- 6. full-frame publish-to-lock latency ------------------------------------ */


/* Publish-to-lock latency of full frames: the server fills a frame (not
   timed), stamps the time into it and publishes; a client blocked in
   wait() wakes, locks, and notes the time. Back to back: the next frame
   goes out as soon as the client has noted the last one; paused: after
   g_opt.pause_us, so that the client is asleep. Busy: `busy` more client
   processes lock, touch and unlock every frame meanwhile. */
static int bench_frame_latency(const frame_size_t *sz, uint8_t *src, unsigned busy, int paused,
                               lat_result_t *r)
{
    session_t ss;
    memset(r, 0, sizeof *r);
    int status = session_open_n(&ss, "flat", 1, sz->width, sz->height, CLIENT_LOCKLAT, 0,
                                1 + busy, 0);
    size_t n = frame_bytes(sz);
    uint64_t pub = 0;
    for (unsigned i = 0; status == 0 && i < g_opt.lat_samples; i++) {
        SharedMemoryFrame f = NULL;
        SharedMemoryImageError rc =
            SharedMemoryImageStream_acquire(ss.server, sz->width, sz->height, &f);
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE) {
            r->missed++;
            sleep_us(100);
            continue;
        }
        if (rc < 0) {
            status = api_failed("acquire", rc);
            break;
        }
        memcpy(f->buffer, src, n);
        /* The client is done with the last sample (and, paused, asleep). */
        if (wait_samples(ss.ctl, pub) != 0)
            r->missed++;
        if (paused)
            sleep_us(lat_pause(i));
        put_u64(f->buffer, smi_tool_now_ns());
        rc = SharedMemoryImageStream_publish(ss.server);
        if (rc < 0) {
            status = api_failed("publish", rc);
            break;
        }
        pub++;
    }
    if (status == 0 && wait_samples(ss.ctl, pub) != 0)
        r->missed++;
    if (ss.child > 0) {
        if (finish_client(ss.ctl, ss.child) != 0)
            status = 1;
        ss.child = 0;
    }
    if (ss.ctl && status == 0)
        lat_summarize(ss.ctl, atomic_load(&ss.ctl->done), r);
    session_close(&ss, &status);
    return status;
}

/* A raw futex ping-pong between two processes, back to back or paused. */
static int bench_futex_pingpong(int paused, lat_result_t *r)
{
    memset(r, 0, sizeof *r);
    ctl_t *fc = ctl_new();
    if (!fc)
        return 1;
    int status = 0;
    pid_t pid = spawn_client(fc, CLIENT_FUTEX, NULL);
    if (pid < 0 || wait_flag(&fc->ready, CHILD_START_TIMEOUT_MS, pid) != 0) {
        fprintf(stderr, "smi-bench: futex client did not start\n");
        status = 1;
    }
    uint64_t pub = 0;
    for (unsigned i = 0; status == 0 && i < g_opt.lat_samples; i++) {
        if (wait_samples(fc, pub) != 0)
            r->missed++;
        if (paused)
            sleep_us(lat_pause(i));
        atomic_store(&fc->stamp, smi_tool_now_ns());
        atomic_fetch_add(&fc->fword, 1);
        futex_op(&fc->fword, FUTEX_WAKE, 1, NULL);
        pub++;
    }
    if (status == 0 && wait_samples(fc, pub) != 0)
        r->missed++;
    if (pid > 0 && finish_client(fc, pid) != 0)
        status = 1;
    if (status == 0)
        lat_summarize(fc, atomic_load(&fc->done), r);
    ctl_free(fc);
    return status;
}

static void print_lat_row(const char *name, const lat_result_t *r, const lat_result_t *floor)
{
    printf("  %-34s: p50 %8.1f us, p99 %8.1f us, max %9.1f us", name, r->p50_us, r->p99_us,
           r->max_us);
    if (floor)
        printf("  (p50 %.2f x futex)", ratio(r->p50_us, floor->p50_us));
    printf("%s\n", r->missed ? " (some samples missed)" : "");
}

static int run_frame_latency(bench_run_t *b)
{
    const unsigned busy = 3;
    printf("\n6. publish-to-lock latency of full frames: the server stamps the time into a"
           " filled\n   frame and publishes; a client blocked in wait() wakes and locks it;"
           " %u samples per case;\n   back to back (next publish as soon as the client is"
           " done) and from idle (a ~%.1f ms pause);\n   idle: one client; busy: %u more"
           " clients lock, touch every page and unlock meanwhile\n",
           g_opt.lat_samples, g_opt.pause_us / 1000.0, busy);
    int status = bench_futex_pingpong(0, &b->fut_b2b);
    if (status == 0)
        status = bench_futex_pingpong(1, &b->fut_paused);
    if (status)
        return status;
    print_lat_row("raw futex ping-pong, back to back", &b->fut_b2b, NULL);
    print_lat_row("raw futex ping-pong, from idle", &b->fut_paused, NULL);
    csv_row("latency", "-", "futex-b2b", 0, b->fut_b2b.p50_us, b->fut_b2b.p99_us);
    csv_row("latency", "-", "futex-idle", 0, b->fut_paused.p50_us, b->fut_paused.p99_us);
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        frame_lat_t *L = &b->flat[i];
        const frame_size_t *sz = &g_sizes[i];
        struct {
            const char *name;
            unsigned busy;
            int paused;
            lat_result_t *r, *floor;
        } cases[] = {
            {"readers idle, back to back", 0, 0, &L->idle_b2b, &b->fut_b2b},
            {"readers idle, from idle", 0, 1, &L->idle_paused, &b->fut_paused},
            {"readers busy, back to back", busy, 0, &L->busy_b2b, &b->fut_b2b},
            {"readers busy, from idle", busy, 1, &L->busy_paused, &b->fut_paused},
        };
        for (size_t k = 0; status == 0 && k < sizeof cases / sizeof cases[0]; k++) {
            status = bench_frame_latency(sz, b->src, cases[k].busy, cases[k].paused, cases[k].r);
            if (status)
                break;
            char name[64];
            snprintf(name, sizeof name, "%s %s", sz->name, cases[k].name);
            print_lat_row(name, cases[k].r, cases[k].floor);
            snprintf(name, sizeof name, "%s-%s", cases[k].busy ? "busy" : "idle",
                     cases[k].paused ? "idle" : "b2b");
            csv_row("latency", sz->name, name, cases[k].busy + 1, cases[k].r->p50_us,
                    cases[k].r->p99_us);
        }
    }
    return status;
}


/* 1. memcpy baselines (their files stay open for parts 2 and 3). */
static int run_memcpy(bench_run_t *b)
{
    int status = 0;
    for (size_t i = 0; status == 0 && i < NSIZES; i++)
        status = shm_target_open(&b->shm[i], frame_bytes(&g_sizes[i]));
    printf("\n1. memcpy baseline: one frame into a same-size buffer, warm\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        status = bench_memcpy(&g_sizes[i], b->src, &b->shm[i], &b->base[i]);
        if (status)
            break;
        const baseline_t *r = &b->base[i];
        double gb = (double)frame_bytes(&g_sizes[i]) / 1e9;
        printf("  memcpy %-5s heap          : %8.1f frames/s (%5.2f GB/s)\n", g_sizes[i].name,
               r->heap, r->heap * gb);
        printf("  memcpy %-5s shm           : %8.1f frames/s (%5.2f GB/s)   [MAP_SHARED file]\n",
               g_sizes[i].name, r->shm, r->shm * gb);
        printf("  memcpy %-5s shm, 2 buffers: %8.1f frames/s (%5.2f GB/s)   [alternating, as a"
               " double-buffered stream writes]\n",
               g_sizes[i].name, r->shm2, r->shm2 * gb);
    }
    return status;
}

/* 2. putframe throughput, both layouts. */
static int run_putframe(bench_run_t *b)
{
    int status = 0;
    printf("\n2. putframe: a client process waits for, locks and unlocks frames as they come\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        for (int ext = 0; status == 0 && ext < 2; ext++) {
            put_result_t *r = &b->put[i][ext];
            status = bench_putframe(&g_sizes[i], ext, b->src, &b->shm[i], r);
            if (status)
                break;
            printf("  putframe %-5s %-8s: %7.1f frames/s published = %.2f x memcpy(shm)"
                   " = %.2f x memcpy(heap) = %.2f x memcpy(shm, 2 buffers)\n",
                   g_sizes[i].name, layout_name(ext), r->published_s,
                   ratio(r->published_s, r->shm_s), ratio(r->published_s, r->heap_s),
                   ratio(r->published_s, r->shm2_s));
            printf("  %*s only calls that published count: %" PRIu64 " of %" PRIu64 " calls;"
                   " %" PRIu64 " dropped (NO_BUFFERAVAILABLE, %.1f/s, not counted)%s;\n"
                   "  %*s clients locked %" PRIu64 "; alongside: memcpy(shm) %.1f, memcpy(heap)"
                   " %.1f, memcpy(shm, 2 buffers) %.1f frames/s\n",
                   23, "", r->published, r->calls, r->dropped,
                   r->calls_s > 0 ? r->calls_s * ratio((double)r->dropped, (double)r->calls) : 0.0,
                   r->unconnected ? ", some UNCONNECTED" : "", 24, "", r->locked,
                   r->shm_s, r->heap_s, r->shm2_s);
        }
    }
    return status;
}

/* 3. acquire/publish: throughput with a fill, then the bare overhead. */
static int run_acquire(bench_run_t *b)
{
    int status = 0;
    printf("\n3. acquire/publish (zero-copy): the server fills each frame with a memcpy (stands\n"
           "   in for rendering); a client process waits for and locks every frame it can\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        for (int ext = 0; status == 0 && ext < 2; ext++) {
            acq_result_t *r = &b->acq[i][ext];
            status = bench_acquire(&g_sizes[i], ext, b->src, &b->shm[i], r);
            if (status)
                break;
            printf("  acquire+fill+publish %-5s %-8s: %7.1f frames/s = %.2f x memcpy(shm)"
                   " = %.2f x memcpy(heap) = %.2f x memcpy(shm, 2 buffers)\n"
                   "  %*s client locked %" PRIu64 " of %" PRIu64 " (%.0f%%); %" PRIu64
                   " acquires answered NO_BUFFERAVAILABLE\n",
                   g_sizes[i].name, layout_name(ext), r->published_s,
                   ratio(r->published_s, r->shm_s), ratio(r->published_s, r->heap_s),
                   ratio(r->published_s, r->shm2_s), 36, "",
                   r->locked, r->published, 100.0 * ratio((double)r->locked, (double)r->published),
                   r->nobuf);
        }
    }
    if (status == 0)
        printf("   overhead of acquire+publish alone (no pixels written), client attached:\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        for (int ext = 0; status == 0 && ext < 2; ext++) {
            ovh_result_t *r = &b->ovh[i][ext];
            status = bench_overhead(&g_sizes[i], ext, r);
            if (status)
                break;
            printf("  acquire+publish %-5s %-8s: %5.2f us/frame mean, p50 %.2f us, p99 %.2f us,"
                   " max %.1f us (mean without the slowest 0.1%%: %.2f; %" PRIu64 " frames",
                   g_sizes[i].name, layout_name(ext), r->mean_us, r->p50_us, r->p99_us, r->max_us,
                   r->trim_us, r->pairs);
            if (r->nobuf)
                printf("; %" PRIu64 " acquires answered NO_BUFFERAVAILABLE, %.2f us each", r->nobuf,
                       r->nobuf_us);
            printf(")\n");
        }
    }
    return status;
}

/* 4. wake latency against the raw futex. */
static int run_wake(bench_run_t *b)
{
    printf("\n4. wake latency: publish of a 64x64 frame -> client process blocked in wait()"
           " wakes;\n   %u samples ~%.1f ms apart, alternating with a raw futex wake between"
           " two processes\n", g_opt.samples, g_opt.pause_us / 1000.0);
    int status = bench_wake(1, 0, &b->lat_ext, &b->lat_ext_lock, &b->lat_futex);
    /* The spinning client keeps its CPU busy: no futex client beside it. */
    if (status == 0)
        status = bench_wake(1, CLIENT_WAIT_MS * 1000u, &b->lat_spin, &b->lat_spin_lock, NULL);
    if (status == 0)
        status = bench_wake(0, 0, &b->lat_ens, NULL, NULL);
    if (status != 0)
        return status;
    print_lat("raw futex (the floor)", &b->lat_futex);
    print_lat("wait(), extended layout", &b->lat_ext);
    print_lat("wait() then lock()", &b->lat_ext_lock);
    print_lat("spinwait() (spinning)", &b->lat_spin);
    print_lat("spinwait() then lock()", &b->lat_spin_lock);
    print_lat("wait(), EnSight layout", &b->lat_ens);
    printf("  wake extended: p50 %.1f us = %.2f x futex p50; p99 %.1f us = %.2f x futex p99\n",
           b->lat_ext.p50_us, ratio(b->lat_ext.p50_us, b->lat_futex.p50_us), b->lat_ext.p99_us,
           ratio(b->lat_ext.p99_us, b->lat_futex.p99_us));
    printf("  wait+lock    : p50 %.1f us = %.2f x futex p50; spinwait+lock p50 %.2f us"
           " (%.3f x futex p50)\n",
           b->lat_ext_lock.p50_us, ratio(b->lat_ext_lock.p50_us, b->lat_futex.p50_us),
           b->lat_spin_lock.p50_us, ratio(b->lat_spin_lock.p50_us, b->lat_futex.p50_us));
    printf("  wake EnSight : p50 %.1f us = %.2f x futex p50 (no wake word in this layout:"
           " wait() polls)\n",
           b->lat_ens.p50_us, ratio(b->lat_ens.p50_us, b->lat_futex.p50_us));
    return 0;
}

/* ---- 7. growth ----------------------------------------------------------------- */

#define GROWTH_STREAMS 5 /* fresh streams per size: each grows 2 -> 8 once */

/* One stream from 2 to 8 buffers: in-process clients each lock (and keep) the
   newest frame, so every next acquire must add a buffer. t_grow gets the
   time of each acquire that grew (6 of them), t_plain that of acquires of
   the same stream once every client has let go (2 buffers' worth). */
static int growth_stream(const frame_size_t *sz, uint64_t *t_grow, uint64_t *t_plain,
                         unsigned *nplain)
{
    char path[PATH_MAX];
    int fd, slot = make_temp(path, sizeof path, "grow", &fd);
    if (slot < 0)
        return 1;
    close(fd);
    unlink(path); /* createfilelayout makes it anew, exclusively */
    SharedMemoryImageDesc d = {.format = IMAGESTREAM_FORMAT_RGB8, .width = sz->width,
                               .height = sz->height};
    SharedMemoryImageStream server = NULL, clients[IMAGESTREAM_MAX_BUFFERS] = {0};
    int status = 0;
    SharedMemoryImageError rc = SharedMemoryImageStream_createfilelayout(
        path, IMAGESTREAM_LAYOUT_EXTENDED, &d);
    if (rc >= 0)
        rc = SharedMemoryImageStream_create(
            path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &server);
    if (rc < 0)
        status = api_failed("growth: create", rc);
    unsigned grown = 0;
    for (unsigned k = 0; status == 0 && k < IMAGESTREAM_MAX_BUFFERS; k++) {
        SharedMemoryFrame f = NULL;
        uint64_t t0 = smi_tool_now_ns();
        rc = SharedMemoryImageStream_acquire(server, sz->width, sz->height, &f);
        uint64_t t1 = smi_tool_now_ns();
        if (rc < 0 || rc == IMAGESTREAM_NO_BUFFERAVAILABLE) {
            status = api_failed("growth: acquire", rc < 0 ? rc : IMAGESTREAM_NO_BUFFERAVAILABLE);
            break;
        }
        if (k >= 2) /* every buffer there was is held: this acquire added one */
            t_grow[grown++] = t1 - t0;
        memset(f->buffer, (int)k, frame_bytes(sz)); /* faulted in as a renderer would */
        if ((rc = SharedMemoryImageStream_publish(server)) < 0 ||
            (rc = SharedMemoryImageStream_create(path, 0, &clients[k])) < 0 ||
            (rc = SharedMemoryImageStream_lock(clients[k], &f)) < 0)
            status = api_failed("growth: publish, attach or lock", rc);
    }
    for (unsigned k = 0; k < IMAGESTREAM_MAX_BUFFERS; k++)
        if (clients[k])
            SharedMemoryImageStream_unlock(clients[k]);
    for (unsigned i = 0; status == 0 && i < 200; i++) {
        SharedMemoryFrame f = NULL;
        uint64_t t0 = smi_tool_now_ns();
        rc = SharedMemoryImageStream_acquire(server, sz->width, sz->height, &f);
        uint64_t t1 = smi_tool_now_ns();
        if (rc != IMAGESTREAM_NOERROR || (rc = SharedMemoryImageStream_publish(server)) < 0) {
            status = api_failed("growth: acquire", rc);
            break;
        }
        t_plain[(*nplain)++] = t1 - t0;
    }
    for (unsigned k = 0; k < IMAGESTREAM_MAX_BUFFERS; k++)
        if (clients[k])
            SharedMemoryImageStream_destroy(clients[k]);
    if (server)
        SharedMemoryImageStream_destroy(server);
    path_remove(slot);
    return status;
}

/* 7. what adding a buffer costs the acquire that does it. */
static int run_growth(bench_run_t *b)
{
    (void)b;
    const int streams = g_opt.quick ? 1 : GROWTH_STREAMS;
    printf("\n7. growth: the acquire that adds a buffer (clients hold every one; file grown by\n"
           "   one frame, reserved and mapped again), %d fresh stream(s) from 2 to 8 buffers,\n"
           "   against a plain acquire of the same streams afterwards\n", streams);
    int status = 0;
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        uint64_t grow[GROWTH_STREAMS * IMAGESTREAM_MAX_BUFFERS], plain[GROWTH_STREAMS * 200];
        unsigned ngrow = 0, nplain = 0;
        for (int r = 0; status == 0 && r < streams; r++) {
            status = growth_stream(&g_sizes[i], grow + ngrow, plain, &nplain);
            ngrow += IMAGESTREAM_MAX_BUFFERS - 2;
        }
        if (status)
            break;
        uint64_t sum = 0;
        for (unsigned k = 0; k < ngrow; k++)
            sum += grow[k];
        qsort(grow, ngrow, sizeof *grow, cmp_u64);
        qsort(plain, nplain, sizeof *plain, cmp_u64);
        double p50 = (double)plain[nplain / 2] / 1000.0;
        printf("  %-5s: acquire adding a buffer: mean %.0f us, p50 %.0f us, max %.0f us"
               " (%u growths) = %.0f x a plain acquire (p50 %.2f us)\n", g_sizes[i].name,
               (double)sum / ngrow / 1000.0, (double)grow[ngrow / 2] / 1000.0,
               (double)grow[ngrow - 1] / 1000.0, ngrow,
               ratio((double)grow[ngrow / 2] / 1000.0, p50), p50);
        csv_row("growth", g_sizes[i].name, "acquire_adding_buffer_p50_us", 0,
                (double)grow[ngrow / 2] / 1000.0, p50);
    }
    return status;
}

/* The targets of the extended layout, met or missed (never a failure). */
static void print_targets(const bench_run_t *b, unsigned parts)
{
    size_t k4 = NSIZES - 1;
    printf("\nTargets (extended layout):\n");
    if (parts & (1u << 2)) {
        double r1 = ratio(b->put[k4][1].published_s, b->put[k4][1].shm_s);
        double r2 = ratio(b->put[k4][1].published_s, b->put[k4][1].shm2_s);
        printf("  putframe 4K >= 0.95 x memcpy(shm)      : %.2f  %s  (%.2f x memcpy(shm, 2"
               " buffers))\n",
               r1, r1 >= 0.95 ? "met" : "MISSED", r2);
    }
    if (parts & (1u << 4)) {
        double r = ratio(b->lat_ext.p50_us, b->lat_futex.p50_us);
        printf("  wake p50 <= 1.2 x futex p50             : %.2f  %s\n", r,
               r <= 1.2 ? "met" : "MISSED");
        double rl = ratio(b->lat_ext_lock.p50_us, b->lat_futex.p50_us);
        printf("  wait+lock p50 <= 1.2 x futex p50        : %.2f  %s\n", rl,
               rl <= 1.2 ? "met" : "MISSED");
        printf("  spinwait+lock p50 <= 2 us               : %.2f us  %s\n",
               b->lat_spin_lock.p50_us, b->lat_spin_lock.p50_us <= 2.0 ? "met" : "MISSED");
    }
    if (parts & (1u << 3)) {
        double worst = 0, worst_mean = 0;
        for (size_t i = 0; i < NSIZES; i++) {
            if (b->ovh[i][1].trim_us > worst)
                worst = b->ovh[i][1].trim_us;
            if (b->ovh[i][1].mean_us > worst_mean)
                worst_mean = b->ovh[i][1].mean_us;
        }
        double worst_p99 = 0, worst_max = 0;
        for (size_t i = 0; i < NSIZES; i++) {
            if (b->ovh[i][1].p99_us > worst_p99)
                worst_p99 = b->ovh[i][1].p99_us;
            if (b->ovh[i][1].max_us > worst_max)
                worst_max = b->ovh[i][1].max_us;
        }
        printf("  acquire+publish overhead < 5 us/frame   : %.2f  %s  (untrimmed mean; p99 %.2f,"
               " max %.1f us; mean without the slowest 0.1%%: %.2f)\n",
               worst_mean, worst_mean < 5.0 ? "met" : "MISSED", worst_p99, worst_max, worst);
    }
    if (parts & (1u << 5)) {
        for (size_t i = 0; i < NSIZES; i++)
            printf("  writer with 8 touching readers >= 0.95 x alone, %-5s: %.3f  %s  (%d CPUs"
                   " usable%s)\n", g_sizes[i].name, b->starve[i],
                   b->starve[i] >= 0.95 ? "met" : "MISSED", g_opt.ncpus,
                   g_opt.ncpus < 10 ? "; 9 processes want 9 CPUs, fewer share them" : "");
    }
    if (g_opt.quick)
        printf("  (--quick: short runs, figures are rough)\n");
}

/* ---- 9. queue reading ------------------------------------------------------------ */

typedef struct {
    uint64_t published, refused, read, lost;
    double seconds; /* the writer's, first acquire to last publish */
} queue_result_t;

#define QUEUE_W 320u
#define QUEUE_H 240u

/* Publish `frames` frames numbered 1.. (stamped for the client's check) to
   one client process created with `options` that sleeps work_us per frame:
   at 1 kHz in bursts of 10 (bursty), else as fast as the stream lets, with
   an acquire timeout of timeout_ms (0: a refused frame is tried again at
   once). Then wait (up to 10 s) until the client has read or lost them all. */
static int queue_run(uint32_t options, uint32_t work_us, unsigned frames, int bursty,
                     int32_t timeout_ms, queue_result_t *r)
{
    memset(r, 0, sizeof *r);
    session_t ss;
    g_client_options = options;
    g_client_work_us = work_us;
    int status = session_open(&ss, "queue", 1, QUEUE_W, QUEUE_H, CLIENT_LOCKLOOP, 1);
    g_client_options = g_client_work_us = 0;
    if (status == 0) {
        SharedMemoryImageStream_setbuffers(ss.server, 8, 8);
        SharedMemoryImageStream_setacquiretimeout(ss.server, timeout_ms);
    }
    size_t n = (size_t)QUEUE_W * QUEUE_H * 3u;
    uint64_t t0 = smi_tool_now_ns();
    for (unsigned k = 0; status == 0 && k < frames;) {
        if (bursty && k % 10u == 0) {
            uint64_t due = t0 + (uint64_t)k * 1000000u, now = smi_tool_now_ns();
            if (due > now)
                sleep_us((unsigned)((due - now) / 1000u));
        }
        SharedMemoryFrame f = NULL;
        SharedMemoryImageError rc = SharedMemoryImageStream_acquire(ss.server, QUEUE_W, QUEUE_H, &f);
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE) {
            r->refused++;
            continue;
        }
        if (rc < 0 || rc == IMAGESTREAM_UNCONNECTED) {
            status = api_failed("acquire", rc < 0 ? rc : IMAGESTREAM_BAD_ARGS);
            break;
        }
        f->iFrame = ++k;
        put_u64(f->buffer, k);
        put_u64(f->buffer + n - 8, k);
        rc = SharedMemoryImageStream_publish(ss.server);
        if (rc < 0)
            status = api_failed("publish", rc);
        r->published++;
    }
    r->seconds = (double)(smi_tool_now_ns() - t0) / 1e9;
    uint64_t end = smi_tool_now_ns() + 10000000000u;
    while (status == 0 && ss.ctl &&
           atomic_load(&ss.ctl->locked) + atomic_load(&ss.ctl->lost) < frames &&
           smi_tool_now_ns() < end)
        sleep_us(1000);
    if (ss.ctl) {
        r->read = atomic_load(&ss.ctl->locked);
        r->lost = atomic_load(&ss.ctl->lost);
        if (status == 0 && atomic_load(&ss.ctl->bad) != 0) {
            fprintf(stderr, "smi-bench: part 9: a frame failed the client's check\n");
            status = 1;
        }
    }
    session_close(&ss, &status);
    return status;
}

/* 9. A slow reader of a bursty stream, newest mode against queue mode; the
   writer with a reliable reader that keeps up. */
static int run_queue(bench_run_t *b)
{
    (void)b;
    unsigned frames = g_opt.quick ? 200u : 2000u;
    printf("\n9. queue reading (extended layout, 8 buffers, %ux%u RGB, one reader process):\n"
           "   a reader that needs 2 ms per frame following %u frames at 1 kHz in bursts of 10\n",
           QUEUE_W, QUEUE_H, frames);
    queue_result_t newest, queue, alone, reliable;
    int status = queue_run(0, 2000, frames, 1, 0, &newest);
    if (status == 0)
        status = queue_run(IMAGESTREAM_OPTIONS_QUEUE, 2000, frames, 1, 0, &queue);
    if (status != 0)
        return status;
    printf("  newest mode: read %6llu, skipped %6llu (%.0f %% of the frames; nothing says which)\n",
           (unsigned long long)newest.read, (unsigned long long)newest.lost,
           100.0 * ratio((double)newest.lost, (double)frames));
    printf("  queue mode : read %6llu, lost    %6llu (%.0f %%, every loss counted by next())\n",
           (unsigned long long)queue.read, (unsigned long long)queue.lost,
           100.0 * ratio((double)queue.lost, (double)frames));
    printf("   the writer as fast as it goes, %u frames, with a reader that keeps up:\n", frames);
    status = queue_run(0, 0, frames, 0, 0, &alone);
    if (status == 0)
        status = queue_run(IMAGESTREAM_OPTIONS_RELIABLE, 0, frames, 0, 1000, &reliable);
    if (status != 0)
        return status;
    double fa = ratio((double)alone.published, alone.seconds);
    double fr = ratio((double)reliable.published, reliable.seconds);
    printf("  newest-mode reader: writer %8.0f frames/s; reader read %llu, skipped %llu\n", fa,
           (unsigned long long)alone.read, (unsigned long long)alone.lost);
    printf("  reliable reader   : writer %8.0f frames/s (%.2f x), waited for the reader; "
           "reader read %llu, lost %llu\n",
           fr, ratio(fr, fa), (unsigned long long)reliable.read,
           (unsigned long long)reliable.lost);
    return 0;
}

/* Run the parts asked for, in order, stopping at the first failure. */
static int run_parts(bench_run_t *b, unsigned parts)
{
    int status = 0;
    if (parts & (1u << 1))
        status = run_memcpy(b);
    if (status == 0 && (parts & (1u << 2)))
        status = run_putframe(b);
    if (status == 0 && (parts & (1u << 3)))
        status = run_acquire(b);
    if (status == 0 && (parts & (1u << 4)))
        status = run_wake(b);
    if (status == 0 && (parts & (1u << 5)))
        status = run_readers(b);
    if (status == 0 && (parts & (1u << 6)))
        status = run_frame_latency(b);
    if (status == 0 && (parts & (1u << 7)))
        status = run_growth(b);
    if (status == 0 && (parts & (1u << 8))) {
        printf("\n8. frame copies: memcpy through a mapping of the file (the library's, under\n"
               "   its SIGBUS guard) against the file descriptor, and the library's own\n"
               "   putframe/copyframe, alternating slices; then lock's cost\n");
        for (size_t i = 0; status == 0 && i < NSIZES; i++)
            status = smi_bench_copy(g_opt.dir, g_sizes[i].name, g_sizes[i].width,
                                    g_sizes[i].height, g_opt.seconds, interleave_rounds(), b->src);
    }
    if (status == 0 && (parts & (1u << 9)))
        status = run_queue(b);
    if (status == 0 && (parts & (1u << 2 | 1u << 3 | 1u << 4 | 1u << 5)))
        print_targets(b, parts);
    return status;
}

int main(int argc, char **argv)
{
    unsigned parts;
    int status = parse_options(argc, argv, &parts);
    if (status != SMI_CLI_RUN)
        return status;
    install_cleanup_handlers();
    choose_cpus();
    setvbuf(stdout, NULL, _IOLBF, 0);
    print_header();

    bench_run_t run;
    memset(&run, 0, sizeof run);
    size_t max_bytes = frame_bytes(&g_sizes[NSIZES - 1]);
    size_t src_len = (max_bytes + 4095u) / 4096u * 4096u;
    run.src = aligned_alloc(4096u, src_len);
    if (!run.src) {
        fprintf(stderr, "smi-bench: out of memory\n");
        return 1;
    }
    madvise(run.src, src_len, MADV_DONTFORK); /* (as the heap baseline's: no copy-on-write) */
    for (size_t i = 0; i < max_bytes; i++)
        run.src[i] = (uint8_t)(i * 7u + (i >> 12));
    status = run_parts(&run, parts);
    if (g_opt.csv)
        fclose(g_opt.csv);

    free(run.src);
    for (size_t i = 0; i < NSIZES; i++)
        shm_target_close(&run.shm[i]);
    for (int i = 0; i < MAX_PATHS; i++)
        path_remove(i);
    return status ? 1 : 0;
}
