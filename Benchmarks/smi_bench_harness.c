/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_harness.c -- smi-bench's harness (smi_bench.h): the files and
 * client processes it cleans up on every exit path, the client process
 * itself, sessions (a server with clients attached), latency samples and
 * the small helpers every part uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smi_bench.h"
#include "smi_clock.h"
#include "smi_proc.h"

const frame_size_t g_sizes[NSIZES] = {
    {"1080p", 1920, 1080},
    {"4K", 3840, 2160},
};

/* ---- cleanup on signals -------------------------------------------------- */

#define MAX_PATHS 4
static char g_paths[MAX_PATHS][PATH_MAX];
static volatile sig_atomic_t g_path_used[MAX_PATHS];
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

void path_remove(int slot)
{
    if (slot >= 0 && slot < MAX_PATHS && g_path_used[slot]) {
        unlink(g_paths[slot]);
        g_path_used[slot] = 0;
    }
}

void path_remove_all(void)
{
    for (int i = 0; i < MAX_PATHS; i++)
        path_remove(i);
}

static void on_signal(int sig)
{
    /* Only async-signal-safe calls: kill, unlink, _exit. */
    smi_proc_kill_all();
    for (int i = 0; i < MAX_PATHS; i++)
        if (g_path_used[i])
            unlink(g_paths[i]);
    _exit(128 + sig);
}

/* ---- small helpers ------------------------------------------------------- */

long futex_op(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    /* Not the _PRIVATE ops: the word is shared between processes. */
    return syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, 0);
}

int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int api_failed(const char *what, SharedMemoryImageError rc)
{
    fprintf(stderr, "smi-bench: %s: %s (%d)\n", what, SharedMemoryImageStream_errorstring(rc), rc);
    return 1;
}

size_t frame_bytes(const frame_size_t *sz)
{
    return (size_t)sz->width * sz->height * 3u;
}

/* Create a new, empty file of mode 0600 in DIR with a unique, unpredictable
   name (mkstemps: O_CREAT | O_EXCL, so nobody's file or symbolic link placed
   there beforehand is ever opened), registered for removal. Its name goes to
   `out`. Returns the path slot (for path_remove) and the open fd through
   *fd, or -1 with a message. */
int make_temp(const bench_ctx_t *cx, char *out, size_t len, const char *tag, int *fd)
{
    int n = snprintf(out, len, "%s/smi-bench-%ld-%s-XXXXXX.smi", cx->dir, (long)getpid(), tag);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "smi-bench: %s: directory name too long\n", cx->dir);
        return -1;
    }
    *fd = mkstemps(out, 4);
    if (*fd < 0) {
        fprintf(stderr, "smi-bench: cannot create a file in %s: %s\n", cx->dir, strerror(errno));
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
ctl_t *ctl_new(const bench_ctx_t *cx)
{
    void *p = mmap(NULL, sizeof(ctl_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("smi-bench: mmap");
        return NULL;
    }
    memset(p, 0, sizeof(ctl_t));
    ((ctl_t *)p)->cpu = cx->client_cpu;
    ((ctl_t *)p)->options = cx->client_options;
    ((ctl_t *)p)->work_us = cx->client_work_us;
    return (ctl_t *)p;
}

void ctl_free(ctl_t *c)
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
            smi_tool_sleep_us(c->work_us); /* part 9: the reader's work on the frame */
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
int wait_flag(_Atomic uint32_t *flag, int timeout_ms, pid_t child)
{
    uint64_t end = smi_tool_now_ns() + (uint64_t)timeout_ms * 1000000u;
    unsigned spins = 0;
    while (!atomic_load(flag)) {
        if (smi_tool_now_ns() > end)
            return -1;
        if (child > 0 && (spins++ & 63) == 0) {
            int r = smi_proc_reap(child, 0, NULL);
            if (r < 0)
                return -1;
            if (r > 0)
                return -2; /* reaped already */
        }
        smi_tool_sleep_us(50);
    }
    return 0;
}

pid_t spawn_client(ctl_t *c, enum client_mode mode, const char *path)
{
    c->mode = (uint32_t)mode;
    pid_t pid = smi_proc_fork(SMI_PROC_DIE_WITH_PARENT);
    if (pid < 0) {
        perror("smi-bench: fork");
        return -1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        for (int i = 0; i < MAX_PATHS; i++)
            g_path_used[i] = 0; /* the parent owns the files */
        smi_proc_pin_cpu(c->cpu);
        int st = mode == CLIENT_FUTEX ? client_futex(c) : client_stream(c, path);
        _exit(st);
    }
    return pid;
}

/* Tell the child to stop, reap it (kill it after a timeout). 0: it exited 0. */
int finish_client(ctl_t *c, pid_t pid)
{
    if (pid <= 0)
        return 1;
    atomic_store(&c->stop, 1);
    atomic_store(&c->go, 1);
    atomic_fetch_add(&c->fword, 1);
    futex_op(&c->fword, FUTEX_WAKE, INT_MAX, NULL);
    int st = 0;
    int r = smi_proc_reap(pid, CHILD_EXIT_TIMEOUT_MS, &st);
    if (r == 0) {
        fprintf(stderr, "smi-bench: client %ld did not exit, killing it\n", (long)pid);
        smi_proc_kill9(pid, NULL);
        return 1;
    }
    if (r < 0)
        st = 0; /* reaped elsewhere (wait_flag): trust c->err */
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

/* ---- a server with client processes attached ------------------------------ */

/* The CPU of client process i: the usable CPUs but the server's, in turn
   (all on the other CPU of a 2-CPU machine); -1 when not pinned. */
static int reader_cpu(const bench_ctx_t *cx, unsigned i)
{
    if (cx->server_cpu < 0 || cx->ncpus < 2)
        return -1;
    int others = cx->ncpus - 1, k = (int)(i % (unsigned)others), seen = 0;
    for (int j = 0; j < cx->ncpus; j++) {
        if (cx->cpus[j] == cx->server_cpu)
            continue;
        if (seen++ == k)
            return cx->cpus[j];
    }
    return cx->client_cpu;
}

/* Frames locked by all the session's clients. */
uint64_t session_locked(const session_t *ss)
{
    uint64_t n = ss->ctl ? atomic_load(&ss->ctl->locked) : 0;
    for (unsigned i = 0; i < ss->nx; i++)
        n += ss->xctl[i] ? atomic_load(&ss->xctl[i]->locked) : 0;
    return n;
}

const char *layout_name(int extended)
{
    return extended ? "extended" : "ensight";
}

void session_close(session_t *ss, int *status)
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
int session_close_checked(session_t *ss, int status, const char *what,
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
int session_open_n(const bench_ctx_t *cx, session_t *ss, const char *tag, int extended,
                   uint32_t w, uint32_t h, enum client_mode mode, uint32_t check,
                   unsigned nreaders, uint32_t touch)
{
    memset(ss, 0, sizeof *ss);
    ss->path_slot = -1;
    ss->ctl = ctl_new(cx);
    if (!ss->ctl)
        return 1;
    ss->ctl->check = check;
    ss->ctl->touch = touch || cx->touch;
    ss->ctl->cpu = reader_cpu(cx, 0);
    /* The stream file: a new file of our own, made here (never a name
       someone else could have made first); createfile then sizes it. */
    int fd;
    ss->path_slot = make_temp(cx, ss->path, sizeof ss->path, tag, &fd);
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
        ctl_t *c = ctl_new(cx);
        if (!c)
            return 1;
        c->check = check;
        c->touch = touch || cx->touch;
        c->cpu = reader_cpu(cx, i);
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
int session_open(const bench_ctx_t *cx, session_t *ss, const char *tag, int extended,
                 uint32_t w, uint32_t h, enum client_mode mode, uint32_t check)
{
    return session_open_n(cx, ss, tag, extended, w, h, mode, check, 1, 0);
}

int session_open_checking(const bench_ctx_t *cx, session_t *ss, const char *tag,
                          const frame_size_t *sz, int extended)
{
    return session_open_n(cx, ss, tag, extended, sz->width, sz->height, CLIENT_LOCKLOOP, 1,
                          extended ? cx->readers : 1, 0);
}

/* ---- latency samples ------------------------------------------------------ */

/* Summarize n latencies (ns) of `lat` (sorted in place). */
void lat_summarize_array(uint64_t *lat, uint64_t n, lat_result_t *r)
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

void lat_summarize(ctl_t *c, uint64_t n, lat_result_t *r)
{
    lat_summarize_array(c->lat, n, r);
}

/* Pause before sample i: long enough that the client is asleep, a little jitter. */
unsigned lat_pause(const bench_ctx_t *cx, unsigned i)
{
    return cx->pause_us + (i * 37u) % (cx->pause_us / 2u + 1u);
}

/* Wait until a client has taken `want` samples; 0, or -1 after the timeout. */
int wait_samples(ctl_t *c, uint64_t want)
{
    uint64_t end = smi_tool_now_ns() + (uint64_t)LAT_SAMPLE_TIMEOUT_MS * 1000000u;
    while (atomic_load(&c->done) < want) {
        if (smi_tool_now_ns() > end)
            return -1;
        smi_tool_sleep_us(20);
    }
    return 0;
}

/* ---- printing ------------------------------------------------------------- */

double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

void print_lat(const char *name, const lat_result_t *r)
{
    printf("  %-23s: p50 %7.1f us, p99 %7.1f us, min %6.1f us, max %8.1f us (%u samples%s)\n",
           name, r->p50_us, r->p99_us, r->min_us, r->max_us, r->samples,
           r->missed ? ", some missed" : "");
}

void csv_row(const bench_ctx_t *cx, const char *kind, const char *size, const char *what,
             unsigned readers, double fps, double extra)
{
    if (cx->csv)
        fprintf(cx->csv, "%s,%s,%s,%u,%.3f,%.3f\n", kind, size, what, readers, fps, extra);
}

/* Kill the client and remove the files on SIGINT/SIGTERM/SIGHUP. */
void install_cleanup_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

