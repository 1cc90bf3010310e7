/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_memcpy.c -- smi-bench part 1: memcpy baselines, one frame into a
 * same-size heap buffer, into a MAP_SHARED file, and into two buffers of
 * that file in turn; and the timed memcpy slices parts 2, 3 and 5 measure
 * beside the stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smi_bench.h"
#include "smi_clock.h"

double tally_rate(const tally_t *t)
{
    return t->ns ? (double)t->frames * 1e9 / (double)t->ns : 0.0;
}

/* memcpy(src -> d[0], d[1], d[0], ...) for at least dur_ns (and one frame). */
void memcpy_slice(uint8_t *const d[2], uint8_t *src, size_t n, uint64_t dur_ns, tally_t *t)
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

void baseline_slices(const shm_target_t *shm, uint8_t *src, size_t n, uint64_t dur_ns,
                     baseline_tally_t *t)
{
    memcpy_slice(shm->heap, src, n, dur_ns, &t->heap);
    memcpy_slice(shm->one, src, n, dur_ns, &t->shm);
    memcpy_slice(shm->two, src, n, dur_ns, &t->shm2);
}

baseline_t baseline_rates(const baseline_tally_t *t)
{
    baseline_t r = {tally_rate(&t->heap), tally_rate(&t->shm), tally_rate(&t->shm2)};
    return r;
}

/* Frames/s of a warm memcpy into d[0] (alternating with d[1] if it differs). */
double time_memcpy(uint8_t *const d[2], uint8_t *src, size_t n, double seconds)
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
static int shm_target_open(const bench_ctx_t *cx, shm_target_t *m, size_t n)
{
    size_t stride = (n + 4095u) / 4096u * 4096u;
    m->len = 4096u + 2u * stride;
    m->map = NULL;
    char path[PATH_MAX];
    int fd;
    int slot = make_temp(cx, path, sizeof path, "memcpy", &fd);
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

void shm_target_close(shm_target_t *m)
{
    if (m->map)
        munmap(m->map, m->len);
    m->map = NULL;
    free(m->heap[0]);
    m->heap[0] = m->heap[1] = NULL;
}

static int bench_memcpy(const bench_ctx_t *cx, const frame_size_t *sz, uint8_t *src,
                        shm_target_t *shm, baseline_t *out)
{
    size_t n = frame_bytes(sz);
    out->heap = time_memcpy(shm->heap, src, n, cx->seconds);
    out->shm = time_memcpy(shm->one, src, n, cx->seconds);
    out->shm2 = time_memcpy(shm->two, src, n, cx->seconds);
    return 0;
}

/*
 * The machine's memory bandwidth drifts by 10% and more from one second to the
 * next on a shared VM, so a stream's throughput is compared with memcpy
 * baselines measured in alternation with it: `rounds` rounds of a slice of
 * memcpy(heap), memcpy(shm), memcpy(shm, 2 buffers) and the stream each.
 */
unsigned interleave_rounds(const bench_ctx_t *cx)
{
    return cx->quick ? 2u : 10u;
}

/* 1. memcpy baselines (their files stay open for parts 2 and 3). */
int run_memcpy(const bench_ctx_t *cx, bench_run_t *b)
{
    int status = 0;
    for (size_t i = 0; status == 0 && i < NSIZES; i++)
        status = shm_target_open(cx, &b->shm[i], frame_bytes(&g_sizes[i]));
    printf("\n1. memcpy baseline: one frame into a same-size buffer, warm\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        status = bench_memcpy(cx, &g_sizes[i], b->src, &b->shm[i], &b->base[i]);
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
