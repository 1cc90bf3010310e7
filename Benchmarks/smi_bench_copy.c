/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_copy.c -- smi-bench part 8: the two ways the library can copy a
 * frame that another process may shrink under it: memcpy through a mapping
 * of the file (what the library does under its SIGBUS guard) and the file
 * descriptor (pwritev/preadv: a short count, never SIGBUS; what it does
 * where another copy of the library holds the guard), with the library's
 * own putframe/copyframe beside them, in alternating slices of one run.
 * Then the cost of a lock() that finds nothing new, beside the system calls
 * it could make (the fstat of a size check, the guard's sigaction).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_bench.h"
#include "smi_clock.h"

typedef struct {
    uint64_t frames, ns;
} copy_tally_t;

/* The library's own copyframe on a frame a client of this process locked. */
typedef struct {
    SharedMemoryImageStream server, client;
    int flip;
} lib_ctx_t;

typedef struct {
    int fd;
    uint8_t *map;     /* the file, mapped shared */
    size_t len;
    uint8_t *frame;   /* its first buffer (after a 4 KiB header) */
    uint8_t *dst;     /* the caller's memory: a page-aligned heap buffer */
    const uint8_t *src;
    size_t row, rows; /* bytes per row, rows per frame */
    lib_ctx_t *lib;   /* the library's side (lib_in, lib_out) */
} copy_ctx_t;

typedef void (*copy_fn)(copy_ctx_t *c);

static void map_in(copy_ctx_t *c)
{
    memcpy(c->frame, c->src, c->row * c->rows);
    clobber(c->frame);
}

static void fd_in(copy_ctx_t *c)
{
    if (pwrite(c->fd, c->src, c->row * c->rows, 4096) != (ssize_t)(c->row * c->rows))
        abort();
}

static void map_out(copy_ctx_t *c)
{
    memcpy(c->dst, c->frame, c->row * c->rows);
    clobber(c->dst);
}

static void fd_out(copy_ctx_t *c)
{
    if (pread(c->fd, c->dst, c->row * c->rows, 4096) != (ssize_t)(c->row * c->rows))
        abort();
}

static void map_out_flipped(copy_ctx_t *c)
{
    for (size_t y = 0; y < c->rows; y++)
        memcpy(c->dst + c->row * (c->rows - 1 - y), c->frame + c->row * y, c->row);
    clobber(c->dst);
}

static void fd_out_flipped(copy_ctx_t *c)
{
    struct iovec v[512];
    for (size_t y = 0; y < c->rows;) {
        size_t first = y;
        int n = 0;
        for (; n < 512 && y < c->rows; n++, y++) {
            v[n].iov_base = c->dst + c->row * (c->rows - 1 - y);
            v[n].iov_len = c->row;
        }
        if (preadv(c->fd, v, n, (off_t)(4096 + c->row * first)) != (ssize_t)(c->row * (size_t)n))
            abort();
    }
}

static void slice(copy_ctx_t *c, copy_fn fn, uint64_t dur_ns, copy_tally_t *t)
{
    uint64_t t0 = smi_tool_now_ns(), end = t0 + dur_ns, t1, n = 0;
    do {
        fn(c);
        n++;
        t1 = smi_tool_now_ns();
    } while (t1 < end);
    t->frames += n;
    t->ns += t1 - t0;
}

static double rate(const copy_tally_t *t)
{
    return t->ns ? (double)t->frames * 1e9 / (double)t->ns : 0.0;
}

static void lib_out(copy_ctx_t *c)
{
    if (SharedMemoryImageStream_copyframe(c->lib->client, c->dst, c->row * c->rows, c->lib->flip) !=
        IMAGESTREAM_NOERROR)
        abort();
}

static void lib_in(copy_ctx_t *c)
{
    struct _SharedMemoryFrame f = {2, (uint32_t)(c->row / 3u), (uint32_t)c->rows,
                                   (uint8_t *)(uintptr_t)c->src};
    if (SharedMemoryImageStream_putframe(c->lib->server, &f) != IMAGESTREAM_NOERROR)
        abort();
}

static int lib_open(lib_ctx_t *l, const char *dir, uint32_t w, uint32_t h, const uint8_t *src,
                    char *path, size_t path_len)
{
    memset(l, 0, sizeof *l);
    snprintf(path, path_len, "%s/smi-bench-copy-%ld.smi", dir, (long)getpid());
    unlink(path);
    SharedMemoryImageDesc d = {0};
    d.size = sizeof d;
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.width = w;
    d.height = h;
    d.depth = 1;
    int rc = SharedMemoryImageStream_createfilelayout(path, IMAGESTREAM_LAYOUT_EXTENDED, &d);
    if (rc == IMAGESTREAM_NOERROR)
        rc = SharedMemoryImageStream_create(
            path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &l->server);
    if (rc == IMAGESTREAM_NOERROR)
        rc = SharedMemoryImageStream_create(path, IMAGESTREAM_OPTIONS_NONE, &l->client);
    struct _SharedMemoryFrame f = {1, w, h, (uint8_t *)(uintptr_t)src};
    if (rc == IMAGESTREAM_NOERROR)
        rc = SharedMemoryImageStream_putframe(l->server, &f);
    SharedMemoryFrame locked;
    if (rc == IMAGESTREAM_NOERROR)
        rc = SharedMemoryImageStream_lock(l->client, &locked);
    unlink(path); /* both ends hold it open: nothing left to clean up */
    if (rc != IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-bench: part 8: %s: %s\n", path, SharedMemoryImageStream_errorstring(rc));
        return 1;
    }
    return 0;
}

static void lib_close(lib_ctx_t *l)
{
    if (l->client)
        SharedMemoryImageStream_destroy(l->client);
    if (l->server)
        SharedMemoryImageStream_destroy(l->server);
}

/* lock() on a stream with nothing new (the client unlocks the frame it
   had and takes the newest once: then each lock answers NO_FRAMEAVAILABLE), and
   the system calls beside it, in turn: ns a call, best of 5 rounds each. */
static void lock_cost(lib_ctx_t *l, int fd)
{
    SharedMemoryFrame f;
    SharedMemoryImageStream_unlock(l->client);
    while (SharedMemoryImageStream_lock(l->client, &f) == IMAGESTREAM_NOERROR)
        SharedMemoryImageStream_unlock(l->client);
    double best[3] = {1e18, 1e18, 1e18};
    const unsigned n = 20000;
    for (int r = 0; r < 5; r++) {
        for (int k = 0; k < 3; k++) {
            uint64_t t0 = smi_tool_now_ns();
            for (unsigned i = 0; i < n; i++) {
                struct stat st;
                struct sigaction sa;
                if (k == 0 && SharedMemoryImageStream_lock(l->client, &f) !=
                                  IMAGESTREAM_NO_FRAMEAVAILABLE)
                    abort();
                if (k == 1)
                    fstat(fd, &st);
                if (k == 2)
                    sigaction(SIGBUS, NULL, &sa);
            }
            double t = (double)(smi_tool_now_ns() - t0) / n;
            best[k] = t < best[k] ? t : best[k];
        }
    }
    printf("    lock, nothing new: %.0f ns a call; one fstat %.0f ns, one sigaction %.0f ns\n",
           best[0], best[1], best[2]);
}

/* Print one size's rows: frames/s of copying a width x height RGB frame into
   and out of a stream-sized file in `dir`, memcpy through a mapping against
   the descriptor's pwrite/preadv (and the library's copyframe), in `rounds`
   alternating slices of `seconds` in all. src: at least width * height * 3
   bytes. Returns 0, or 1 after a message. */
static int bench_copy(const char *dir, const char *name, uint32_t width, uint32_t height,
                      double seconds, unsigned rounds, const uint8_t *src)
{
    copy_ctx_t c;
    memset(&c, 0, sizeof c);
    c.row = (size_t)width * 3u;
    c.rows = height;
    size_t n = c.row * c.rows, stride = (n + 4095u) / 4096u * 4096u;
    c.len = 4096u + 2u * stride;
    c.src = src;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/smi-bench-copy-XXXXXX", dir);
    c.fd = mkstemp(path);
    if (c.fd < 0) {
        fprintf(stderr, "smi-bench: part 8: %s: %s\n", path, strerror(errno));
        return 1;
    }
    unlink(path); /* the descriptor and the mapping keep it; nothing to clean up */
    int status = 0;
    if (ftruncate(c.fd, (off_t)c.len) != 0 ||
        (c.map = mmap(NULL, c.len, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0)) == MAP_FAILED) {
        fprintf(stderr, "smi-bench: part 8: %s\n", strerror(errno));
        c.map = NULL;
        status = 1;
    }
    c.dst = aligned_alloc(4096u, stride);
    lib_ctx_t lib;
    memset(&lib, 0, sizeof lib);
    char lib_path[PATH_MAX];
    if (status == 0 && c.dst)
        status = lib_open(&lib, dir, width, height, src, lib_path, sizeof lib_path);
    if (status != 0 || !c.dst) {
        lib_close(&lib);
        free(c.dst);
        if (c.map)
            munmap(c.map, c.len);
        close(c.fd);
        return 1;
    }
    c.lib = &lib;
    c.frame = c.map + 4096;
    memset(c.map, 0, c.len); /* every page of the file there before timing */
    memset(c.dst, 1, stride);
    static const struct {
        const char *what;
        copy_fn before, now;
        int flip;
    } cases[] = {
        {"into the file (putframe)", map_in, fd_in, 0},
        {"out of it (copyframe)", map_out, fd_out, 0},
        {"out, rows flipped", map_out_flipped, fd_out_flipped, 1},
    };
    printf("  %s (%.1f MB):%*s memcpy via mapping   via descriptor   ratio   the library\n", name,
           (double)n / 1e6, 4, "");
    uint64_t dur = (uint64_t)(seconds * 1e9 / rounds);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        copy_tally_t before = {0, 0}, now = {0, 0}, libt = {0, 0};
        lib.flip = cases[k].flip;
        for (int w = 0; w < 3; w++) { /* warm */
            cases[k].before(&c);
            cases[k].now(&c);
        }
        for (unsigned r = 0; r < rounds; r++) {
            slice(&c, cases[k].before, dur, &before);
            slice(&c, cases[k].now, dur, &now);
            slice(&c, k > 0 ? lib_out : lib_in, dur, &libt);
        }
        double b = rate(&before), a = rate(&now);
        printf("    %-26s %9.1f /s %12.1f /s   %5.2f x", cases[k].what, b, a, b > 0 ? a / b : 0.0);
        printf("   %7.1f /s (%.2f x)\n", rate(&libt), b > 0 ? rate(&libt) / b : 0.0);
    }
    lock_cost(&lib, c.fd);
    lib_close(&lib);
    free(c.dst);
    munmap(c.map, c.len);
    close(c.fd);
    return 0;
}

int run_copy(const bench_ctx_t *cx, bench_run_t *b)
{
    int status = 0;
    printf("\n8. frame copies: memcpy through a mapping of the file (the library's, under\n"
           "   its SIGBUS guard) against the file descriptor, and the library's own\n"
           "   putframe/copyframe, alternating slices; then lock's cost\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++)
        status = bench_copy(cx->dir, g_sizes[i].name, g_sizes[i].width, g_sizes[i].height,
                            cx->seconds, interleave_rounds(cx), b->src);
    return status;
}
