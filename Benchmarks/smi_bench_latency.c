/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_latency.c -- smi-bench part 6: publish-to-lock latency of full
 * frames, readers idle or busy, back to back and from idle, against a raw
 * futex ping-pong taken in the same run.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smi_bench.h"
#include "smi_clock.h"


/* Publish-to-lock latency of full frames: the server fills a frame (not
   timed), stamps the time into it and publishes; a client blocked in
   wait() wakes, locks, and notes the time. Back to back: the next frame
   goes out as soon as the client has noted the last one; paused: after
   cx->pause_us, so that the client is asleep. Busy: `busy` more client
   processes lock, touch and unlock every frame meanwhile. */
static int bench_frame_latency(const bench_ctx_t *cx, const frame_size_t *sz, uint8_t *src,
                               unsigned busy, int paused, lat_result_t *r)
{
    session_t ss;
    memset(r, 0, sizeof *r);
    int status = session_open_n(cx, &ss, "flat", 1, sz->width, sz->height, CLIENT_LOCKLAT, 0,
                                1 + busy, 0);
    size_t n = frame_bytes(sz);
    uint64_t pub = 0;
    for (unsigned i = 0; status == 0 && i < cx->lat_samples; i++) {
        SharedMemoryFrame f = NULL;
        SharedMemoryImageError rc =
            SharedMemoryImageStream_acquire(ss.server, sz->width, sz->height, &f);
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE) {
            r->missed++;
            smi_tool_sleep_us(100);
            continue;
        }
        if (rc < 0) {
            status = api_failed("acquire", rc);
            break;
        }
        memcpy(f->buffer, src, n);
        /* The client is done with the last sample (and, paused, asleep). */
        if (wait_samples(ss.ctl, pub) != 0)
            r->missed++;
        if (paused)
            smi_tool_sleep_us(lat_pause(cx, i));
        put_u64(f->buffer, smi_tool_now_ns());
        rc = SharedMemoryImageStream_publish(ss.server);
        if (rc < 0) {
            status = api_failed("publish", rc);
            break;
        }
        pub++;
    }
    if (status == 0 && wait_samples(ss.ctl, pub) != 0)
        r->missed++;
    if (ss.child > 0) {
        if (finish_client(ss.ctl, ss.child) != 0)
            status = 1;
        ss.child = 0;
    }
    if (ss.ctl && status == 0)
        lat_summarize(ss.ctl, atomic_load(&ss.ctl->done), r);
    session_close(&ss, &status);
    return status;
}

/* A raw futex ping-pong between two processes, back to back or paused. */
static int bench_futex_pingpong(const bench_ctx_t *cx, int paused, lat_result_t *r)
{
    memset(r, 0, sizeof *r);
    ctl_t *fc = ctl_new(cx);
    if (!fc)
        return 1;
    int status = 0;
    pid_t pid = spawn_client(fc, CLIENT_FUTEX, NULL);
    if (pid < 0 || wait_flag(&fc->ready, CHILD_START_TIMEOUT_MS, pid) != 0) {
        fprintf(stderr, "smi-bench: futex client did not start\n");
        status = 1;
    }
    uint64_t pub = 0;
    for (unsigned i = 0; status == 0 && i < cx->lat_samples; i++) {
        if (wait_samples(fc, pub) != 0)
            r->missed++;
        if (paused)
            smi_tool_sleep_us(lat_pause(cx, i));
        atomic_store(&fc->stamp, smi_tool_now_ns());
        atomic_fetch_add(&fc->fword, 1);
        futex_op(&fc->fword, FUTEX_WAKE, 1, NULL);
        pub++;
    }
    if (status == 0 && wait_samples(fc, pub) != 0)
        r->missed++;
    if (pid > 0 && finish_client(fc, pid) != 0)
        status = 1;
    if (status == 0)
        lat_summarize(fc, atomic_load(&fc->done), r);
    ctl_free(fc);
    return status;
}

static void print_lat_row(const char *name, const lat_result_t *r, const lat_result_t *floor)
{
    printf("  %-34s: p50 %8.1f us, p99 %8.1f us, max %9.1f us", name, r->p50_us, r->p99_us,
           r->max_us);
    if (floor)
        printf("  (p50 %.2f x futex)", ratio(r->p50_us, floor->p50_us));
    printf("%s\n", r->missed ? " (some samples missed)" : "");
}

int run_frame_latency(const bench_ctx_t *cx, bench_run_t *b)
{
    const unsigned busy = 3;
    printf("\n6. publish-to-lock latency of full frames: the server stamps the time into a"
           " filled\n   frame and publishes; a client blocked in wait() wakes and locks it;"
           " %u samples per case;\n   back to back (next publish as soon as the client is"
           " done) and from idle (a ~%.1f ms pause);\n   idle: one client; busy: %u more"
           " clients lock, touch every page and unlock meanwhile\n",
           cx->lat_samples, cx->pause_us / 1000.0, busy);
    int status = bench_futex_pingpong(cx, 0, &b->fut_b2b);
    if (status == 0)
        status = bench_futex_pingpong(cx, 1, &b->fut_paused);
    if (status)
        return status;
    print_lat_row("raw futex ping-pong, back to back", &b->fut_b2b, NULL);
    print_lat_row("raw futex ping-pong, from idle", &b->fut_paused, NULL);
    csv_row(cx, "latency", "-", "futex-b2b", 0, b->fut_b2b.p50_us, b->fut_b2b.p99_us);
    csv_row(cx, "latency", "-", "futex-idle", 0, b->fut_paused.p50_us, b->fut_paused.p99_us);
    for (size_t i = 0; status == 0 && i < NSIZES; i++) {
        frame_lat_t *L = &b->flat[i];
        const frame_size_t *sz = &g_sizes[i];
        struct {
            const char *name;
            unsigned busy;
            int paused;
            lat_result_t *r, *floor;
        } cases[] = {
            {"readers idle, back to back", 0, 0, &L->idle_b2b, &b->fut_b2b},
            {"readers idle, from idle", 0, 1, &L->idle_paused, &b->fut_paused},
            {"readers busy, back to back", busy, 0, &L->busy_b2b, &b->fut_b2b},
            {"readers busy, from idle", busy, 1, &L->busy_paused, &b->fut_paused},
        };
        for (size_t k = 0; status == 0 && k < sizeof cases / sizeof cases[0]; k++) {
            status = bench_frame_latency(cx, sz, b->src, cases[k].busy, cases[k].paused, cases[k].r);
            if (status)
                break;
            char name[64];
            snprintf(name, sizeof name, "%s %s", sz->name, cases[k].name);
            print_lat_row(name, cases[k].r, cases[k].floor);
            snprintf(name, sizeof name, "%s-%s", cases[k].busy ? "busy" : "idle",
                     cases[k].paused ? "idle" : "b2b");
            csv_row(cx, "latency", sz->name, name, cases[k].busy + 1, cases[k].r->p50_us,
                    cases[k].r->p99_us);
        }
    }
    return status;
}


