/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_acquire.c -- smi-bench part 3: acquire/publish (zero-copy)
 * throughput with a fill, against memcpy baselines taken in alternation,
 * and the cost of acquire+publish alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smi_bench.h"
#include "smi_clock.h"

static int bench_acquire(const bench_ctx_t *cx, const frame_size_t *sz, int extended,
                         uint8_t *src, shm_target_t *shm, acq_result_t *r)
{
    session_t ss;
    int status = session_open_checking(cx, &ss, "acq", sz, extended);
    memset(r, 0, sizeof *r);
    size_t n = frame_bytes(sz);
    baseline_tally_t alt;
    memset(&alt, 0, sizeof alt);
    uint64_t acq_ns = 0, locked0 = 0;
    unsigned rounds = interleave_rounds(cx);
    uint64_t slice = (uint64_t)(cx->seconds * 1e9) / rounds;
    /* Round 0 is the warm-up (both buffers written a few times), not counted. */
    for (unsigned k = 0; status == 0 && k <= rounds; k++) {
        if (k > 0) {
            baseline_slices(shm, src, n, slice, &alt);
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
        r->alt = baseline_rates(&alt);
        r->locked = session_locked(&ss) - locked0;
    }
    return session_close_checked(&ss, status, "acquire/publish", sz, extended);
}

static int bench_overhead(const bench_ctx_t *cx, const frame_size_t *sz, int extended,
                          ovh_result_t *r)
{
    session_t ss;
    int status = session_open(cx, &ss, "ovh", extended, sz->width, sz->height, CLIENT_LOCKLOOP, 0);
    memset(r, 0, sizeof *r);
    uint64_t *t_pair = calloc(cx->ovh_iters, sizeof *t_pair);
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
        smi_tool_sleep_us(2000);
    }
    uint64_t nobuf_ns = 0, tries = 0;
    uint64_t max_tries = (uint64_t)cx->ovh_iters * 1000u;
    while (status == 0 && r->pairs < cx->ovh_iters && tries < max_tries) {
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

/* 3. acquire/publish: throughput with a fill, then the bare overhead. */
int run_acquire(const bench_ctx_t *cx, bench_run_t *b)
{
    int status = 0;
    printf("\n3. acquire/publish (zero-copy): the server fills each frame with a memcpy (stands\n"
           "   in for rendering); a client process waits for and locks every frame it can\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        for (int ext = 0; status == 0 && ext < 2; ext++) {
            acq_result_t *r = &b->acq[i][ext];
            status = bench_acquire(cx, &g_sizes[i], ext, b->src, &b->shm[i], r);
            if (status)
                break;
            printf("  acquire+fill+publish %-5s %-8s: %7.1f frames/s = %.2f x memcpy(shm)"
                   " = %.2f x memcpy(heap) = %.2f x memcpy(shm, 2 buffers)\n"
                   "  %*s client locked %" PRIu64 " of %" PRIu64 " (%.0f%%); %" PRIu64
                   " acquires answered NO_BUFFERAVAILABLE\n",
                   g_sizes[i].name, layout_name(ext), r->published_s,
                   ratio(r->published_s, r->alt.shm), ratio(r->published_s, r->alt.heap),
                   ratio(r->published_s, r->alt.shm2), 36, "",
                   r->locked, r->published, 100.0 * ratio((double)r->locked, (double)r->published),
                   r->nobuf);
        }
    }
    if (status == 0)
        printf("   overhead of acquire+publish alone (no pixels written), client attached:\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        for (int ext = 0; status == 0 && ext < 2; ext++) {
            ovh_result_t *r = &b->ovh[i][ext];
            status = bench_overhead(cx, &g_sizes[i], ext, r);
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
