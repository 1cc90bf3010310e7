/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_putframe.c -- smi-bench part 2: putframe throughput, EnSight and
 * extended layouts, with client processes attached, against memcpy
 * baselines taken in alternation.
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

static int bench_putframe(const bench_ctx_t *cx, const frame_size_t *sz, int extended,
                          uint8_t *src, shm_target_t *shm, put_result_t *r)
{
    session_t ss;
    int status = session_open_checking(cx, &ss, "put", sz, extended);
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
                smi_tool_sleep_us(200);
        }
    }
    baseline_tally_t alt;
    memset(&alt, 0, sizeof alt);
    uint64_t put_ns = 0, locked0 = session_locked(&ss);
    unsigned rounds = interleave_rounds(cx);
    uint64_t slice = (uint64_t)(cx->seconds * 1e9) / rounds;
    for (unsigned k = 0; status == 0 && k < rounds; k++) {
        baseline_slices(shm, src, n, slice, &alt);
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
        r->alt = baseline_rates(&alt);
        r->locked = session_locked(&ss) - locked0;
    }
    return session_close_checked(&ss, status, "putframe", sz, extended);
}

/* 2. putframe throughput, both layouts. */
int run_putframe(const bench_ctx_t *cx, bench_run_t *b)
{
    int status = 0;
    printf("\n2. putframe: a client process waits for, locks and unlocks frames as they come\n");
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        for (int ext = 0; status == 0 && ext < 2; ext++) {
            put_result_t *r = &b->put[i][ext];
            status = bench_putframe(cx, &g_sizes[i], ext, b->src, &b->shm[i], r);
            if (status)
                break;
            printf("  putframe %-5s %-8s: %7.1f frames/s published = %.2f x memcpy(shm)"
                   " = %.2f x memcpy(heap) = %.2f x memcpy(shm, 2 buffers)\n",
                   g_sizes[i].name, layout_name(ext), r->published_s,
                   ratio(r->published_s, r->alt.shm), ratio(r->published_s, r->alt.heap),
                   ratio(r->published_s, r->alt.shm2));
            printf("  %*s only calls that published count: %" PRIu64 " of %" PRIu64 " calls;"
                   " %" PRIu64 " dropped (NO_BUFFERAVAILABLE, %.1f/s, not counted)%s;\n"
                   "  %*s clients locked %" PRIu64 "; alongside: memcpy(shm) %.1f, memcpy(heap)"
                   " %.1f, memcpy(shm, 2 buffers) %.1f frames/s\n",
                   23, "", r->published, r->calls, r->dropped,
                   r->calls_s > 0 ? r->calls_s * ratio((double)r->dropped, (double)r->calls) : 0.0,
                   r->unconnected ? ", some UNCONNECTED" : "", 24, "", r->locked,
                   r->alt.shm, r->alt.heap, r->alt.shm2);
        }
    }
    return status;
}

/* 3. acquire/publish: throughput with a fill, then the bare overhead. */
