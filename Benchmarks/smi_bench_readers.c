/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_readers.c -- smi-bench part 5: the writer's frames/s with 0, 1, 2,
 * 4, 8 readers that lock, touch every page and unlock.
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

static const unsigned g_reader_counts[] = {0, 1, 2, 4, 8};
#define NREADER_COUNTS (sizeof g_reader_counts / sizeof g_reader_counts[0])

typedef struct {
    double fps;         /* frames published per second */
    double nobuf_s;     /* acquires/putframes answered NO_BUFFERAVAILABLE per second */
    double locked_s;    /* frames locked per second, all readers together */
    uint32_t buffers;   /* the stream's buffer count at the end */
} writer_result_t;

/* The writer at full speed for cx->seconds (after a warm-up of a quarter
   of that, not counted) with `nreaders` client processes that wait, lock,
   touch every page and unlock; zero-copy (acquire, memcpy standing in for
   rendering, publish) or putframe; `maxbuf` buffers at most (0: default). */
static int bench_writer(const bench_ctx_t *cx, const frame_size_t *sz, int extended,
                        int use_put, unsigned nreaders, uint32_t maxbuf, uint8_t *src,
                        writer_result_t *r)
{
    session_t ss;
    memset(r, 0, sizeof *r);
    int status = session_open_n(cx, &ss, "wr", extended, sz->width, sz->height, CLIENT_LOCKLOOP, 1,
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
    uint64_t warm = (uint64_t)(cx->seconds * 0.25e9), dur = (uint64_t)(cx->seconds * 1e9);
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


/* The writer's rate with 0..8 readers that lock, touch every page and
   unlock: the stream (extended layout, growing buffers; and limited to 2
   buffers, as before) against the writer alone; EnSight with its one client. */
int run_readers(const bench_ctx_t *cx, bench_run_t *b)
{
    int status = 0;
    printf("\n5. the writer with N readers: readers wait, lock, read one byte of every page,"
           " unlock;\n   %d CPUs usable; writer on CPU %d, readers on the others in turn"
           " (pinned off the writer's CPU)\n", cx->ncpus, cx->server_cpu);
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
        double mc_shm = time_memcpy(b->shm[i].one, b->src, frame_bytes(sz), cx->seconds / 2);
        double mc_heap = time_memcpy(b->shm[i].heap, b->src, frame_bytes(sz), cx->seconds / 2);
        printf("  %s: memcpy(shm) %.1f frames/s, memcpy(heap) %.1f frames/s (same size, aligned,"
               " warm)\n", sz->name, mc_shm, mc_heap);
        csv_row(cx, "memcpy", sz->name, "shm", 0, mc_shm, 0);
        csv_row(cx, "memcpy", sz->name, "heap", 0, mc_heap, 0);
        for (size_t k = 0; status == 0 && k < sizeof rows / sizeof rows[0]; k++) {
            double alone = 0;
            printf("  %-5s %s:\n", sz->name, rows[k].name);
            for (size_t j = 0; status == 0 && j < NREADER_COUNTS; j++) {
                unsigned nr = g_reader_counts[j];
                if (!rows[k].extended && nr != 1)
                    continue; /* EnSight: one client; without one putframe drops */
                writer_result_t r;
                status = bench_writer(cx, sz, rows[k].extended, rows[k].use_put, nr, rows[k].maxbuf,
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
                csv_row(cx, "writer", sz->name, what, nr, r.fps, r.nobuf_s);
                if (rows[k].extended && !rows[k].use_put && !rows[k].maxbuf && nr == 8)
                    b->starve[i] = ratio(r.fps, alone);
            }
        }
    }
    return status;
}

