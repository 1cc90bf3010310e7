/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench.h -- smi-bench's harness: the run's settings (a context passed to
 * every part), the frame sizes, client processes and the sessions they read,
 * timing and result printing. One file per part (smi_bench_<part>.c) uses
 * it; smi-bench.c parses the options and runs the parts in order.
 */
#ifndef SMI_BENCH_H
#define SMI_BENCH_H

#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "shared_memory_image.h"

/* ---- settings ------------------------------------------------------------ */

#define BENCH_MAX_SAMPLES 100000
#define CHILD_START_TIMEOUT_MS 10000
#define CHILD_EXIT_TIMEOUT_MS 5000
#define CLIENT_WAIT_MS 100 /* client's wait() timeout: how soon it sees "stop" */
#define LAT_SAMPLE_TIMEOUT_MS 2000
#define MAX_READERS 16

/* The run's settings, filled from the options once and passed to every part. */
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
    uint32_t client_options; /* create() options of the clients made next (part 9) */
    uint32_t client_work_us; /* their work per frame, a sleep (part 9) */
} bench_ctx_t;

typedef struct {
    const char *name;
    uint32_t width, height;
} frame_size_t;

/* 1080p and 4K, RGB: the sizes every part measures. */
extern const frame_size_t g_sizes[];
#define NSIZES 2u

/* ---- small helpers ------------------------------------------------------- */

/* Keep the compiler from dropping stores into memory it thinks is dead. */
static inline void clobber(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* Store v at p (any alignment, host order). */
static inline void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }

/* The value put_u64 stored at p. */
static inline uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/** A futex operation on a word shared between processes. */
long futex_op(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts);

/** qsort's comparison of two uint64_t. */
int cmp_u64(const void *a, const void *b);

/** a / b, or 0 when b is not positive. */
double ratio(double a, double b);

/** Print "smi-bench: what: error string (code)"; returns 1. */
int api_failed(const char *what, SharedMemoryImageError rc);

/** Bytes of one RGB frame of this size. */
size_t frame_bytes(const frame_size_t *sz);

/** "extended" or "ensight". */
const char *layout_name(int extended);

/**
 * Create a new, empty file of mode 0600 in the run's directory with a
 * unique, unpredictable name (mkstemps: O_CREAT | O_EXCL, so nobody's file or
 * symbolic link placed there beforehand is ever opened), registered for
 * removal on every exit path. Its name goes to `out`. Returns the path slot
 * (for path_remove) and the open fd through *fd, or -1 with a message.
 */
int make_temp(const bench_ctx_t *cx, char *out, size_t len, const char *tag, int *fd);

/** Remove a file made by make_temp (and forget it). */
void path_remove(int slot);

/** Remove every file make_temp made that is still there. */
void path_remove_all(void);

/** Kill the client processes and remove the files on SIGINT/SIGTERM/SIGHUP. */
void install_cleanup_handlers(void);

/** Write one CSV row (kind,size,what,readers,value,extra) when --csv was given. */
void csv_row(const bench_ctx_t *cx, const char *kind, const char *size, const char *what,
             unsigned readers, double fps, double extra);

/* ---- client processes ---------------------------------------------------- */

enum client_mode {
    CLIENT_LOCKLOOP = 1, /* wait, lock, check, unlock until told to stop */
    CLIENT_LATENCY = 2,  /* wait, note wake time, lock, read stamp, unlock */
    CLIENT_FUTEX = 3,    /* raw FUTEX_WAIT on ctl->fword, note wake time */
    CLIENT_LOCKLAT = 4,  /* wait, lock, note lock time - publish stamp, unlock */
};

/* The control block shared between the server (this process) and a client. */
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

/** A zeroed control block shared with the processes forked later, for a
    client of the context's client CPU, options and work; NULL after a message. */
ctl_t *ctl_new(const bench_ctx_t *cx);

/** Unmap a control block (NULL is fine). */
void ctl_free(ctl_t *c);

/** Wait until *flag != 0; if child > 0, stop early when it has exited.
    0; -1 after timeout_ms or when the child is gone; -2 when it was reaped here. */
int wait_flag(_Atomic uint32_t *flag, int timeout_ms, pid_t child);

/** Fork a client process in `mode` on the stream `path` (NULL for CLIENT_FUTEX).
    Its pid, or -1 after a message. */
pid_t spawn_client(ctl_t *c, enum client_mode mode, const char *path);

/** Tell the client to stop, reap it (kill it after a timeout). 0: it exited 0. */
int finish_client(ctl_t *c, pid_t pid);

/* ---- a server with client processes attached ------------------------------ */

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

/**
 * Create the file and the server, fork `nreaders` clients (the first in
 * `mode`, the others in CLIENT_LOCKLOOP, touching pages with --touch or
 * `touch`) and wait until they have attached. 0, or 1 after a message
 * (session_close cleans up either way).
 */
int session_open_n(const bench_ctx_t *cx, session_t *ss, const char *tag, int extended,
                   uint32_t w, uint32_t h, enum client_mode mode, uint32_t check,
                   unsigned nreaders, uint32_t touch);

/** session_open_n with one client process (the first parts' setting). */
int session_open(const bench_ctx_t *cx, session_t *ss, const char *tag, int extended,
                 uint32_t w, uint32_t h, enum client_mode mode, uint32_t check);

/** Parts 2 and 3's session: a frame of size sz, --readers client processes
    (one on the EnSight layout) that lock and check every frame they can. */
int session_open_checking(const bench_ctx_t *cx, session_t *ss, const char *tag,
                          const frame_size_t *sz, int extended);

/** Frames locked by all the session's clients. */
uint64_t session_locked(const session_t *ss);

/** Stop and reap the clients, destroy the server, remove the file; sets
    *status to 1 on a failure. */
void session_close(session_t *ss, int *status);

/** Close a throughput session whose clients checked every frame they locked:
    a torn or out-of-order frame fails the run. Returns the status. */
int session_close_checked(session_t *ss, int status, const char *what,
                          const frame_size_t *sz, int extended);

/* ---- latency samples ------------------------------------------------------ */

typedef struct {
    double p50_us, p99_us, min_us, max_us;
    unsigned samples, missed;
} lat_result_t;

/** Summarize n latencies (ns) of `lat` (sorted in place). */
void lat_summarize_array(uint64_t *lat, uint64_t n, lat_result_t *r);

/** Summarize the first n wake latencies a client noted. */
void lat_summarize(ctl_t *c, uint64_t n, lat_result_t *r);

/** Pause before sample i: long enough that the client is asleep, a little jitter. */
unsigned lat_pause(const bench_ctx_t *cx, unsigned i);

/** Wait until a client has taken `want` samples; 0, or -1 after the timeout. */
int wait_samples(ctl_t *c, uint64_t want);

/** One line of latency figures (part 4's). */
void print_lat(const char *name, const lat_result_t *r);

/* ---- 1. memcpy baselines (smi_bench_memcpy.c) ----------------------------- */

/* Time measured in slices, summed. */
typedef struct {
    uint64_t frames, ns;
} tally_t;

/* Where the baselines copy to: a heap buffer, and a MAP_SHARED file in DIR laid
   out like a stream's (a header page, then two page-aligned frame buffers). */
typedef struct {
    uint8_t *map;
    size_t len;
    uint8_t *one[2];  /* the file's first buffer twice: memcpy into one buffer */
    uint8_t *two[2];  /* both buffers: alternating, as a double-buffered stream */
    uint8_t *heap[2]; /* a malloc'ed buffer, twice */
} shm_target_t;

typedef struct {
    double heap, shm, shm2; /* frames/s */
} baseline_t;

/* The three baselines' slices taken in alternation with a stream. */
typedef struct {
    tally_t heap, shm, shm2;
} baseline_tally_t;

/** One slice of each baseline (memcpy into the heap, the file, the file's
    two buffers), dur_ns each, added to *t. */
void baseline_slices(const shm_target_t *shm, uint8_t *src, size_t n, uint64_t dur_ns,
                     baseline_tally_t *t);

/** Frames/s of each baseline, from its slices. */
baseline_t baseline_rates(const baseline_tally_t *t);

/** Frames/s of the frames a tally counted. */
double tally_rate(const tally_t *t);

/** memcpy(src -> d[0], d[1], d[0], ...) for at least dur_ns (and one frame). */
void memcpy_slice(uint8_t *const d[2], uint8_t *src, size_t n, uint64_t dur_ns, tally_t *t);

/** Frames/s of a warm memcpy into d[0] (alternating with d[1] if it differs). */
double time_memcpy(uint8_t *const d[2], uint8_t *src, size_t n, double seconds);

/** Unmap and free what part 1 set up for one size. */
void shm_target_close(shm_target_t *m);

/**
 * The machine's memory bandwidth drifts by 10% and more from one second to
 * the next on a shared VM, so a stream's throughput is compared with memcpy
 * baselines measured in alternation with it: this many rounds of a slice of
 * memcpy(heap), memcpy(shm), memcpy(shm, 2 buffers) and the stream each.
 */
unsigned interleave_rounds(const bench_ctx_t *cx);

/* ---- the results of a run ------------------------------------------------- */

typedef struct {
    double published_s, calls_s;
    baseline_t alt; /* memcpy baselines measured in alternation, frames/s */
    uint64_t calls, published, dropped, unconnected, locked;
} put_result_t;

typedef struct {
    double published_s;
    baseline_t alt; /* memcpy baselines measured in alternation, frames/s */
    uint64_t published, nobuf, locked;
} acq_result_t;

typedef struct {
    double mean_us, p50_us, p99_us, max_us;
    double trim_us;  /* mean without the slowest 0.1% (the VM preempting us) */
    uint64_t pairs, nobuf;
    double nobuf_us; /* mean cost of an acquire answering NO_BUFFERAVAILABLE */
} ovh_result_t;

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

/* ---- the parts: each prints its section; 0, or 1 after a message ---------- */

/** 1. memcpy baselines (their files stay open for parts 2, 3 and 5). */
int run_memcpy(const bench_ctx_t *cx, bench_run_t *b);
/** 2. putframe throughput, both layouts. */
int run_putframe(const bench_ctx_t *cx, bench_run_t *b);
/** 3. acquire/publish: throughput with a fill, then the bare overhead. */
int run_acquire(const bench_ctx_t *cx, bench_run_t *b);
/** 4. wake latency against the raw futex. */
int run_wake(const bench_ctx_t *cx, bench_run_t *b);
/** 5. the writer's rate with 0..8 readers. */
int run_readers(const bench_ctx_t *cx, bench_run_t *b);
/** 6. publish-to-lock latency of full frames against a futex ping-pong. */
int run_frame_latency(const bench_ctx_t *cx, bench_run_t *b);
/** 7. what adding a buffer costs the acquire that does it. */
int run_growth(const bench_ctx_t *cx, bench_run_t *b);
/** 8. frame copies through the mapping against the descriptor; lock's cost. */
int run_copy(const bench_ctx_t *cx, bench_run_t *b);
/** 9. queue reading: a slow reader of a bursty stream; a reliable reader. */
int run_queue(const bench_ctx_t *cx, bench_run_t *b);

#endif /* SMI_BENCH_H */
