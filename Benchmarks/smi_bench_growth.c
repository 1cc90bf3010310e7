/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_growth.c -- smi-bench part 7: the acquire that adds a buffer,
 * against ordinary acquires of the same streams.
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

#define GROWTH_STREAMS 5 /* fresh streams per size: each grows 2 -> 8 once */

/* One stream from 2 to 8 buffers: in-process clients each lock (and keep) the
   newest frame, so every next acquire must add a buffer. t_grow gets the
   time of each acquire that grew (6 of them), t_plain that of acquires of
   the same stream once every client has let go (2 buffers' worth). */
static int growth_stream(const bench_ctx_t *cx, const frame_size_t *sz, uint64_t *t_grow,
                         uint64_t *t_plain, unsigned *nplain)
{
    char path[PATH_MAX];
    int fd, slot = make_temp(cx, path, sizeof path, "grow", &fd);
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
int run_growth(const bench_ctx_t *cx, bench_run_t *b)
{
    (void)b;
    const int streams = cx->quick ? 1 : GROWTH_STREAMS;
    printf("\n7. growth: the acquire that adds a buffer (clients hold every one; file grown by\n"
           "   one frame, reserved and mapped again), %d fresh stream(s) from 2 to 8 buffers,\n"
           "   against a plain acquire of the same streams afterwards\n", streams);
    int status = 0;
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        uint64_t grow[GROWTH_STREAMS * IMAGESTREAM_MAX_BUFFERS], plain[GROWTH_STREAMS * 200];
        unsigned ngrow = 0, nplain = 0;
        for (int r = 0; status == 0 && r < streams; r++) {
            status = growth_stream(cx, &g_sizes[i], grow + ngrow, plain, &nplain);
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
        csv_row(cx, "growth", g_sizes[i].name, "acquire_adding_buffer_p50_us", 0,
                (double)grow[ngrow / 2] / 1000.0, p50);
    }
    return status;
}

/* The targets of the extended layout, met or missed (never a failure). */
