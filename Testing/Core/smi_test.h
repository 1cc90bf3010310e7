/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_test.h -- tiny assertion helpers for the core tests (libuv-style).
 * Each test is one executable whose main() returns 0 on success; a failed
 * ASSERT prints file, line, the process that failed, the expression and, for
 * return codes, the library's error string, then exits 1.
 *
 * Besides the asserts this header gives the tests:
 * - a watchdog (alarm) that kills every child and fails the test instead of
 *   letting it hang, and bounded waits (WAIT_UNTIL, smi_test_join);
 * - fork helpers that track children, give each its own watchdog and report
 *   how a child ended (on Core/Tools/smi_proc.h, which smi-bench and
 *   smi-soak share; the clocks are Core/Tools/smi_clock.h's);
 * - stream file paths that are removed when the test ends;
 * - deterministic pixel patterns, plain and "tagged" (the seed is stored in
 *   the first 4 bytes, so a frame proves by itself that it is not torn);
 * - hand-written access to both file layouts, taken from Core/LAYOUT.md
 *   alone (never from the library's internal headers), so that byte-level
 *   tests check the library against the document.
 */
#ifndef SMI_TEST_H
#define SMI_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_clock.h"
#include "smi_proc.h"

#ifndef SMI_TEST_DATA_DIR
#define SMI_TEST_DATA_DIR "Data"
#endif

/* ---- who is failing ------------------------------------------------------ */

static char smi_test_who[96] = "main";

#define SMI_FAIL(...)                                                      \
    do {                                                                   \
        fprintf(stderr, "%s:%d: FAILED [%s, pid %ld]: ", __FILE__, __LINE__, \
                smi_test_who, (long)getpid());                             \
        fprintf(stderr, __VA_ARGS__);                                      \
        fputc('\n', stderr);                                               \
        exit(1);                                                           \
    } while (0)

#define ASSERT(expr)                                                       \
    do {                                                                   \
        if (!(expr)) SMI_FAIL("%s", #expr);                                \
    } while (0)

#define ASSERT_MSG(expr, ...)                                              \
    do {                                                                   \
        if (!(expr)) {                                                     \
            fprintf(stderr, "%s:%d: FAILED [%s, pid %ld]: %s: ", __FILE__, \
                    __LINE__, smi_test_who, (long)getpid(), #expr);        \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

#define ASSERT_EQ(a, b)                                                    \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        if (a_ != b_) SMI_FAIL("%s == %s (%lld != %lld)", #a, #b, a_, b_); \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (strcmp(a_, b_) != 0)                                           \
            SMI_FAIL("%s == %s (\"%s\" != \"%s\")", #a, #b, a_, b_);       \
    } while (0)

#define ASSERT_LE(a, b)                                                    \
    do {                                                                   \
        double a_ = (double)(a), b_ = (double)(b);                         \
        if (!(a_ <= b_)) SMI_FAIL("%s <= %s (%g > %g)", #a, #b, a_, b_);   \
    } while (0)

#define ASSERT_GE(a, b)                                                    \
    do {                                                                   \
        double a_ = (double)(a), b_ = (double)(b);                         \
        if (!(a_ >= b_)) SMI_FAIL("%s >= %s (%g < %g)", #a, #b, a_, b_);   \
    } while (0)

/* Compare return codes, naming both in words. */
#define ASSERT_RC(expected, call)                                          \
    do {                                                                   \
        int e_ = (expected), r_ = (call);                                  \
        if (e_ != r_)                                                      \
            SMI_FAIL("%s: expected %d (%s), got %d (%s)", #call, e_,       \
                     SharedMemoryImageStream_errorstring(e_), r_,          \
                     SharedMemoryImageStream_errorstring(r_));             \
    } while (0)

/* A return code that must be one of two values. */
#define ASSERT_RC2(exp1, exp2, call)                                       \
    do {                                                                   \
        int e1_ = (exp1), e2_ = (exp2), r_ = (call);                       \
        if (r_ != e1_ && r_ != e2_)                                        \
            SMI_FAIL("%s: expected %d (%s) or %d (%s), got %d (%s)", #call, \
                     e1_, SharedMemoryImageStream_errorstring(e1_), e2_,   \
                     SharedMemoryImageStream_errorstring(e2_), r_,         \
                     SharedMemoryImageStream_errorstring(r_));             \
    } while (0)

/* ---- time ---------------------------------------------------------------- */

/* Milliseconds on CLOCK_MONOTONIC. */
static inline double smi_test_now_ms(void)
{
    return (double)smi_tool_now_ns() * 1e-6;
}

/* Sleep `ms` milliseconds (nothing when ms <= 0). */
static inline void smi_test_sleep_ms(double ms)
{
    if (ms > 0)
        smi_tool_sleep_us((uint64_t)(ms * 1e3));
}

/* Poll `cond` every millisecond; fail the test when timeout_ms passes. */
#define WAIT_UNTIL(cond, timeout_ms)                                       \
    do {                                                                   \
        double d_ = smi_test_now_ms() + (double)(timeout_ms);              \
        while (!(cond)) {                                                  \
            if (smi_test_now_ms() > d_)                                    \
                SMI_FAIL("timed out after %d ms waiting for %s",           \
                         (int)(timeout_ms), #cond);                        \
            smi_test_sleep_ms(1);                                          \
        }                                                                  \
    } while (0)

/* Atomic access to shared memory (test's own flags and the stream file). */
#define SMI_T_LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define SMI_T_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define SMI_T_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

/* Zeroed memory shared with the children forked after this call. */
static inline void *smi_test_shared_alloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        SMI_FAIL("mmap of %zu shared bytes: %s", n, strerror(errno));
    return p;
}

/* ---- files removed at exit ------------------------------------------------ */

/* Stream files go into a private directory (mode 0700, made by mkdtemp in
   /dev/shm, else /tmp), named smi-test-PID-XXXXXX: names in a shared sticky
   directory would be predictable, and another user could plant a file or a
   symbolic link there first. The directory and what is in it are removed
   when the main process exits. */

#define SMI_TEST_MAX_PATHS 32
static char smi_test_paths[SMI_TEST_MAX_PATHS][512];
static int smi_test_npaths;
static pid_t smi_test_main_pid;
static char smi_test_dir_path[256];

/* Remove `name` (relative to the directory dfd) and, when it is a directory,
   what it holds, `depth` levels down (two are all the tests make). Never
   follows a symbolic link. */
static inline void smi_test_remove_at(int dfd, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return;
    if (!S_ISDIR(st.st_mode) || depth <= 0) {
        unlinkat(dfd, name, 0);
        return;
    }
    int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = sub >= 0 ? fdopendir(sub) : NULL;
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                smi_test_remove_at(dirfd(dir), e->d_name, depth - 1);
        closedir(dir);
    } else if (sub >= 0) {
        close(sub);
    }
    unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Remove every path handed out so far, and the directory (only in the main
   process). */
static inline void smi_test_cleanup(void)
{
    if (getpid() != smi_test_main_pid)
        return;
    for (int i = 0; i < smi_test_npaths; i++)
        unlink(smi_test_paths[i]);
    if (smi_test_dir_path[0])
        smi_test_remove_at(AT_FDCWD, smi_test_dir_path, 2);
}

/* Remove the files and directories of earlier test processes that died
   without cleaning up (a sanitizer report ends a process without atexit
   handlers): smi-test-PID-XXXXXX directories and, from older versions,
   smi-test-TAG-PID.smi files, of a PID that no longer exists. */
static inline void smi_test_sweep_stale(void)
{
    const char *dirs[] = {"/dev/shm", "/tmp"};
    for (int d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strncmp(e->d_name, "smi-test-", 9) != 0)
                continue;
            struct stat st;
            if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                st.st_uid != geteuid())
                continue; /* only our own leftovers */
            const char *dash = strrchr(e->d_name, '-');
            long pid = S_ISDIR(st.st_mode) ? strtol(e->d_name + 9, NULL, 10)
                       : dash              ? strtol(dash + 1, NULL, 10)
                                           : 0;
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                smi_test_remove_at(dirfd(dir), e->d_name, 2);
        }
        closedir(dir);
    }
}

/* This process's private directory for stream files (made on first use). */
static inline const char *smi_test_dir(void)
{
    if (smi_test_dir_path[0])
        return smi_test_dir_path;
    smi_test_main_pid = getpid();
    atexit(smi_test_cleanup);
    smi_test_sweep_stale();
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "%s/smi-test-%ld-XXXXXX", base, (long)getpid());
    if (!mkdtemp(tmpl))
        SMI_FAIL("mkdtemp %s: %s", tmpl, strerror(errno));
    snprintf(smi_test_dir_path, sizeof smi_test_dir_path, "%s", tmpl);
    return smi_test_dir_path;
}

/* A fresh, unique path for a stream file (the file does not exist yet) in
   this process's private directory; it is removed when the main process
   exits. Each call gives a new string. */
static inline const char *smi_test_path(const char *tag)
{
    const char *dir = smi_test_dir();
    if (smi_test_npaths >= SMI_TEST_MAX_PATHS)
        SMI_FAIL("too many test paths");
    char *buf = smi_test_paths[smi_test_npaths];
    snprintf(buf, sizeof smi_test_paths[0], "%s/%.200s-%d.smi", dir, tag, smi_test_npaths);
    smi_test_npaths++;
    unlink(buf);
    return buf;
}

/* ---- watchdog and children ----------------------------------------------- */

static unsigned smi_test_child_watchdog_s = 60;

static void smi_test_on_alarm(int sig)
{
    static const char msg[] = "FAILED: watchdog expired: the test (or one of its processes) hung\n";
    (void)sig;
    (void)!write(2, msg, sizeof msg - 1);
    smi_proc_kill_all();
    if (getpid() == smi_test_main_pid) {
        for (int i = 0; i < smi_test_npaths; i++)
            unlink(smi_test_paths[i]);
        if (smi_test_dir_path[0]) /* what is left goes at the next sweep */
            rmdir(smi_test_dir_path);
    }
    _exit(3);
}

/* Arm the watchdog of this process: after `seconds` it kills every child and
   fails. Children forked with smi_test_fork() get their own. */
static inline void smi_test_watchdog(unsigned seconds)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = smi_test_on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    if (smi_test_main_pid == 0)
        smi_test_main_pid = getpid();
    if (smi_test_child_watchdog_s > seconds)
        smi_test_child_watchdog_s = seconds;
    alarm(seconds);
}

/* An extended-layout server on `path`, opened with the answer `expected`
   (NOERROR for a new stream, RECONNECTING for a takeover). */
static inline SharedMemoryImageStream smi_test_ext_server(const char *path, int expected)
{
    SharedMemoryImageStream s = NULL;
    ASSERT_RC(expected, SharedMemoryImageStream_create(
                            path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s));
    return s;
}

/* fork() a tracked child named `who` (used in its failure messages). Returns
   the child's pid in the parent and 0 in the child, which has a watchdog and
   no children of its own. End a child with exit(): its leaks are checked
   under ASan, and the main process's files are left alone. */
static inline pid_t smi_test_fork(const char *who)
{
    pid_t pid = smi_proc_fork(0);
    if (pid < 0)
        SMI_FAIL("fork: %s", strerror(errno));
    if (pid == 0) {
        snprintf(smi_test_who, sizeof smi_test_who, "%.95s", who); /* 95 and the NUL */
        smi_test_watchdog(smi_test_child_watchdog_s);
    }
    return pid;
}

/* Wait at most timeout_ms for a child. Returns its exit status, 128 + signal
   when a signal ended it, or -1 when it was still running (it is then killed
   and reaped). */
static inline int smi_test_join(pid_t pid, int timeout_ms)
{
    return smi_proc_join(pid, timeout_ms);
}

#define ASSERT_CHILD_OK(pid, timeout_ms)                                            \
    do {                                                                            \
        pid_t p_ = (pid);                                                           \
        int st_ = smi_test_join(p_, (timeout_ms));                                  \
        if (st_ == -1)                                                              \
            SMI_FAIL("child %ld still running after %d ms (killed)", (long)p_,      \
                     (int)(timeout_ms));                                            \
        if (st_ > 128)                                                              \
            SMI_FAIL("child %ld died from signal %d (%s)", (long)p_, st_ - 128,     \
                     strsignal(st_ - 128));                                         \
        if (st_ != 0)                                                               \
            SMI_FAIL("child %ld failed (exit status %d)", (long)p_, st_);           \
    } while (0)

/* kill -9 a child and reap it. */
static inline void smi_test_kill9(pid_t pid)
{
    smi_proc_kill9(pid, NULL);
}

/* ---- pixel patterns ------------------------------------------------------ */

/* Byte i of the pattern with this seed: a hash, so that two seeds agree on
   about one byte in 256 and any mix of two frames is caught. */
static inline uint8_t smi_pattern_byte(uint32_t seed, uint64_t i)
{
    uint32_t v = seed * 0x9E3779B1u ^ (uint32_t)i * 0x85EBCA77u ^ (uint32_t)(i >> 32) * 0xC2B2AE3Du;
    v ^= v >> 15;
    v *= 0x2C1B3C6Du;
    v ^= v >> 12;
    v *= 0x297A2D39u;
    v ^= v >> 15;
    return (uint8_t)v;
}

static inline void smi_fill(uint8_t *buf, uint64_t n, uint32_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        buf[i] = smi_pattern_byte(seed, i);
}

/* Index of the first byte that differs from the pattern, or -1. */
static inline int64_t smi_check(const uint8_t *buf, uint64_t n, uint32_t seed)
{
    for (uint64_t i = 0; i < n; i++)
        if (buf[i] != smi_pattern_byte(seed, i))
            return (int64_t)i;
    return -1;
}

/* Tagged pattern: the seed in the first 4 bytes (little-endian), then the
   pattern. n >= 8. */
static inline void smi_fill_tagged(uint8_t *buf, uint64_t n, uint32_t seed)
{
    buf[0] = (uint8_t)seed;
    buf[1] = (uint8_t)(seed >> 8);
    buf[2] = (uint8_t)(seed >> 16);
    buf[3] = (uint8_t)(seed >> 24);
    for (uint64_t i = 4; i < n; i++)
        buf[i] = smi_pattern_byte(seed, i);
}

/* Reads the tag into *seed; returns the first byte that does not match it, or -1. */
static inline int64_t smi_check_tagged(const uint8_t *buf, uint64_t n, uint32_t *seed)
{
    *seed = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 |
            (uint32_t)buf[3] << 24;
    for (uint64_t i = 4; i < n; i++)
        if (buf[i] != smi_pattern_byte(*seed, i))
            return (int64_t)i;
    return -1;
}

/* The pixels of the hand-built files in Data/ (see Data/make_streams.py):
   channel c of pixel (x, y) of frame f. Rows and columns all differ, so a
   flipped or shifted image does not match. */
static inline uint8_t smi_data_pixel(uint32_t f, uint32_t x, uint32_t y, uint32_t c)
{
    return (uint8_t)(x * 13u + y * 31u + c * 87u + f * 7u);
}

/* ---- files --------------------------------------------------------------- */

static inline void smi_test_write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        SMI_FAIL("open %s: %s", path, strerror(errno));
    const uint8_t *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            SMI_FAIL("write %s: %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

static inline long long smi_test_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The whole file, malloc'ed (free it); *n gets its size. */
static inline uint8_t *smi_test_read_file(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        SMI_FAIL("open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0)
        SMI_FAIL("fstat %s: %s", path, strerror(errno));
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(size ? size : 1);
    ASSERT(buf != NULL);
    while (got < size) {
        ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
        if (r <= 0)
            SMI_FAIL("read %s: %s", path, strerror(errno));
        got += (size_t)r;
    }
    close(fd);
    *n = size;
    return buf;
}

static inline void smi_test_copy_file(const char *from, const char *to)
{
    size_t n;
    uint8_t *b = smi_test_read_file(from, &n);
    smi_test_write_file(to, b, n);
    free(b);
}

/* Map a whole existing file read-write, shared: the test's hand on the bytes. */
static inline uint8_t *smi_test_map_file(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        SMI_FAIL("open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0)
        SMI_FAIL("fstat %s: empty or failed", path);
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        SMI_FAIL("mmap %s: %s", path, strerror(errno));
    *size = (uint64_t)st.st_size;
    return p;
}

/* ---- little-endian fields ------------------------------------------------ */

static inline uint32_t smi_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t smi_get_u64(const uint8_t *p)
{
    return (uint64_t)smi_get_u32(p) | (uint64_t)smi_get_u32(p + 4) << 32;
}

static inline double smi_get_f64(const uint8_t *p)
{
    uint64_t u = smi_get_u64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline void smi_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void smi_put_u64(uint8_t *p, uint64_t v)
{
    smi_put_u32(p, (uint32_t)v);
    smi_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline void smi_put_f64(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    smi_put_u64(p, u);
}

/* ---- EnSight layout by hand (LAYOUT.md section 1) ------------------------ */

#define SMI_ES_HEADER 24u

/* Payload bytes P of each block of a file of L bytes. */
static inline uint64_t smi_es_payload(uint64_t L)
{
    return (L - 48) / 2;
}

/* Start of block b's header. */
static inline uint8_t *smi_es_block(uint8_t *m, uint64_t L, int b)
{
    return m + (b ? SMI_ES_HEADER + smi_es_payload(L) : 0);
}

static inline uint8_t *smi_es_pixels(uint8_t *m, uint64_t L, int b)
{
    return smi_es_block(m, L, b) + SMI_ES_HEADER;
}

static inline uint8_t smi_es_state(uint8_t *m, uint64_t L, int b)
{
    return __atomic_load_n(smi_es_block(m, L, b) + 20, __ATOMIC_ACQUIRE);
}

static inline void smi_es_set_state(uint8_t *m, uint64_t L, int b, uint8_t state)
{
    __atomic_store_n(smi_es_block(m, L, b) + 20, state, __ATOMIC_RELEASE);
}

typedef struct {
    uint32_t frame, width, height, offset, scanlines;
    uint8_t state, pad[3];
} smi_es_hdr_t;

static inline smi_es_hdr_t smi_es_header(uint8_t *m, uint64_t L, int b)
{
    const uint8_t *h = smi_es_block(m, L, b);
    smi_es_hdr_t r;
    r.frame = smi_get_u32(h);
    r.width = smi_get_u32(h + 4);
    r.height = smi_get_u32(h + 8);
    r.offset = smi_get_u32(h + 12);
    r.scanlines = smi_get_u32(h + 16);
    r.state = __atomic_load_n(h + 20, __ATOMIC_ACQUIRE);
    memcpy(r.pad, h + 21, 3);
    return r;
}

/* Write the header fields (not the state). */
static inline void smi_es_put_header(uint8_t *m, uint64_t L, int b, uint32_t frame,
                                     uint32_t width, uint32_t height, uint32_t offset,
                                     uint32_t scanlines)
{
    uint8_t *h = smi_es_block(m, L, b);
    smi_put_u32(h, frame);
    smi_put_u32(h + 4, width);
    smi_put_u32(h + 8, height);
    smi_put_u32(h + 12, offset);
    smi_put_u32(h + 16, scanlines);
    memset(h + 21, 0, 3);
}

/* ---- extended layout by hand (LAYOUT.md section 2) ----------------------- */

#define SMI_X_MAGIC "\x89SMI\r\n\x1a\n"
#define SMI_X_HEADER 4096u
#define SMI_X_BUF(i) (256u + 128u * (uint32_t)(i))
#define SMI_X_SLOT(j) (1280u + 64u * (uint32_t)(j))

static inline uint32_t smi_x_bpp(uint32_t format)
{
    static const uint32_t bpp[] = {3, 4, 1, 2, 4, 2, 4, 4, 8}; /* LAYOUT.md 2.2 */
    return format < 9 ? bpp[format] : 0;
}

/* Write a valid version-1 header page (no frame) into m. */
static inline void smi_x_init(uint8_t *m, uint32_t buffers, uint64_t buffer_size, uint32_t slots)
{
    memset(m, 0, SMI_X_HEADER);
    memcpy(m, SMI_X_MAGIC, 8);
    smi_put_u32(m + 8, 1);
    smi_put_u32(m + 12, SMI_X_HEADER);
    smi_put_u32(m + 16, buffers);
    memset(m + 20, 0xFF, 4);
    smi_put_u32(m + 24, slots);
    smi_put_u32(m + 28, 1);
    smi_put_u64(m + 32, SMI_X_HEADER + (uint64_t)buffers * buffer_size);
    smi_put_u64(m + 40, buffer_size);
    /* Each buffer header's data_offset has one possible value: write it. */
    for (uint32_t i = 0; i < buffers && i < 8; i++)
        smi_put_u64(m + SMI_X_BUF(i) + 32, SMI_X_HEADER + (uint64_t)i * buffer_size);
}

/* Write buffer i's header (state last) for a frame of the given shape. */
static inline void smi_x_put_buffer(uint8_t *m, uint32_t i, uint32_t state, uint32_t format,
                                    uint64_t sequence, uint32_t frame, uint32_t w, uint32_t h,
                                    uint32_t d, uint64_t buffer_size)
{
    uint8_t *b = m + SMI_X_BUF(i);
    smi_put_u32(b + 4, format);
    smi_put_u64(b + 8, sequence);
    smi_put_u32(b + 16, frame);
    smi_put_u32(b + 20, w);
    smi_put_u32(b + 24, h);
    smi_put_u32(b + 28, d);
    smi_put_u64(b + 32, SMI_X_HEADER + (uint64_t)i * buffer_size);
    smi_put_u64(b + 40, (uint64_t)w * h * d * smi_x_bpp(format));
    smi_put_f64(b + 48, 0.0);
    for (int k = 0; k < 3; k++) {
        smi_put_f64(b + 56 + 8 * k, 1.0);
        smi_put_f64(b + 80 + 8 * k, 0.0);
    }
    __atomic_store_n((uint32_t *)(void *)b, state, __ATOMIC_SEQ_CST);
}

/* Live fields of the extended layout, read atomically from a mapping. */
static inline uint32_t smi_x_u32(const uint8_t *m, uint32_t off)
{
    return __atomic_load_n((const uint32_t *)(const void *)(m + off), __ATOMIC_SEQ_CST);
}

static inline uint64_t smi_x_u64(const uint8_t *m, uint32_t off)
{
    return __atomic_load_n((const uint64_t *)(const void *)(m + off), __ATOMIC_SEQ_CST);
}

#endif /* SMI_TEST_H */
