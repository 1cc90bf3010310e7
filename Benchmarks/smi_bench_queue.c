/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_queue.c -- smi-bench part 9: queue reading, a slow reader of a
 * bursty stream in newest and in queue mode, and the writer with a reliable
 * reader.
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
static int queue_run(const bench_ctx_t *cx, uint32_t options, uint32_t work_us,
                     unsigned frames, int bursty, int32_t timeout_ms, queue_result_t *r)
{
    memset(r, 0, sizeof *r);
    session_t ss;
    bench_ctx_t qcx = *cx; /* its client: these options and this work per frame */
    qcx.client_options = options;
    qcx.client_work_us = work_us;
    int status = session_open(&qcx, &ss, "queue", 1, QUEUE_W, QUEUE_H, CLIENT_LOCKLOOP, 1);
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
                smi_tool_sleep_us((unsigned)((due - now) / 1000u));
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
        smi_tool_sleep_us(1000);
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
int run_queue(const bench_ctx_t *cx, bench_run_t *b)
{
    (void)b;
    unsigned frames = cx->quick ? 200u : 2000u;
    printf("\n9. queue reading (extended layout, 8 buffers, %ux%u RGB, one reader process):\n"
           "   a reader that needs 2 ms per frame following %u frames at 1 kHz in bursts of 10\n",
           QUEUE_W, QUEUE_H, frames);
    queue_result_t newest, queue, alone, reliable;
    int status = queue_run(cx, 0, 2000, frames, 1, 0, &newest);
    if (status == 0)
        status = queue_run(cx, IMAGESTREAM_OPTIONS_QUEUE, 2000, frames, 1, 0, &queue);
    if (status != 0)
        return status;
    printf("  newest mode: read %6llu, skipped %6llu (%.0f %% of the frames; nothing says which)\n",
           (unsigned long long)newest.read, (unsigned long long)newest.lost,
           100.0 * ratio((double)newest.lost, (double)frames));
    printf("  queue mode : read %6llu, lost    %6llu (%.0f %%, every loss counted by next())\n",
           (unsigned long long)queue.read, (unsigned long long)queue.lost,
           100.0 * ratio((double)queue.lost, (double)frames));
    printf("   the writer as fast as it goes, %u frames, with a reader that keeps up:\n", frames);
    status = queue_run(cx, 0, 0, frames, 0, 0, &alone);
    if (status == 0)
        status = queue_run(cx, IMAGESTREAM_OPTIONS_RELIABLE, 0, frames, 0, 1000, &reliable);
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
