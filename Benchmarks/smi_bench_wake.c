/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_bench_wake.c -- smi-bench part 4: publish-to-wake latency of wait() (and
 * to the lock after it; spinwait), against a raw futex wake between two
 * processes taken in alternation.
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


/*
 * Publish-to-wake latency of wait() on a `extended` or EnSight-layout stream
 * (and publish-to-lock into *locked when not NULL), its waits spinning
 * spin_us first (spinwait()). With fut != NULL, a second client process
 * sleeps in a raw FUTEX_WAIT and the samples alternate between the two, so
 * that both see the same machine state.
 */
static int bench_wake(const bench_ctx_t *cx, int extended, uint32_t spin_us,
                      lat_result_t *ours, lat_result_t *locked, lat_result_t *fut)
{
    const uint32_t w = 64, h = 64;
    session_t ss;
    ctl_t *fc = NULL;
    pid_t fchild = -1;
    memset(ours, 0, sizeof *ours);
    if (fut)
        memset(fut, 0, sizeof *fut);
    if (locked)
        memset(locked, 0, sizeof *locked);
    int status = session_open(cx, &ss, "lat", extended, w, h, CLIENT_LATENCY, 0);
    if (ss.ctl)
        atomic_store(&ss.ctl->spin_us, spin_us);
    if (status == 0 && fut) {
        fc = ctl_new(cx);
        fchild = fc ? spawn_client(fc, CLIENT_FUTEX, NULL) : -1;
        if (fchild < 0) {
            status = 1;
        } else {
            int w_rc = wait_flag(&fc->ready, CHILD_START_TIMEOUT_MS, fchild);
            if (w_rc != 0) {
                fprintf(stderr, "smi-bench: futex client did not start\n");
                if (w_rc == -2)
                    fchild = -1;
                status = 1;
            }
        }
    }
    uint64_t pub_ours = 0, pub_fut = 0;
    unsigned total = cx->samples * (fut ? 2u : 1u);
    for (unsigned i = 0; status == 0 && i < total; i++) {
        /* Both clients done with their previous sample, then a pause: asleep. */
        if (wait_samples(ss.ctl, pub_ours) != 0)
            ours->missed++;
        if (fc && wait_samples(fc, pub_fut) != 0)
            fut->missed++;
        smi_tool_sleep_us(lat_pause(cx, i / (fut ? 2u : 1u)));
        if (fc && (i & 1u) == 0) {
            atomic_store(&fc->stamp, smi_tool_now_ns());
            atomic_fetch_add(&fc->fword, 1);
            futex_op(&fc->fword, FUTEX_WAKE, 1, NULL);
            pub_fut++;
            continue;
        }
        SharedMemoryFrame f = NULL;
        SharedMemoryImageError rc = SharedMemoryImageStream_acquire(ss.server, w, h, &f);
        if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE || rc == IMAGESTREAM_UNCONNECTED) {
            ours->missed++;
            continue;
        }
        if (rc < 0) {
            status = api_failed("acquire", rc);
            break;
        }
        put_u64(f->buffer, smi_tool_now_ns());
        rc = SharedMemoryImageStream_publish(ss.server);
        if (rc < 0)
            status = api_failed("publish", rc);
        pub_ours++;
    }
    if (status == 0) {
        if (wait_samples(ss.ctl, pub_ours) != 0)
            ours->missed++;
        if (fc && wait_samples(fc, pub_fut) != 0)
            fut->missed++;
    }
    if (fchild > 0 && finish_client(fc, fchild) != 0)
        status = 1;
    if (fc && status == 0)
        lat_summarize(fc, atomic_load(&fc->done), fut);
    ctl_free(fc);
    if (ss.child > 0) {
        if (finish_client(ss.ctl, ss.child) != 0)
            status = 1;
        ss.child = 0;
    }
    if (ss.ctl && status == 0) {
        if (locked)
            lat_summarize_array(ss.ctl->lat_lock, atomic_load(&ss.ctl->done), locked);
        lat_summarize(ss.ctl, atomic_load(&ss.ctl->done), ours);
    }
    session_close(&ss, &status);
    return status;
}

/* 4. wake latency against the raw futex. */
int run_wake(const bench_ctx_t *cx, bench_run_t *b)
{
    printf("\n4. wake latency: publish of a 64x64 frame -> client process blocked in wait()"
           " wakes;\n   %u samples ~%.1f ms apart, alternating with a raw futex wake between"
           " two processes\n", cx->samples, cx->pause_us / 1000.0);
    int status = bench_wake(cx, 1, 0, &b->lat_ext, &b->lat_ext_lock, &b->lat_futex);
    /* The spinning client keeps its CPU busy: no futex client beside it. */
    if (status == 0)
        status = bench_wake(cx, 1, CLIENT_WAIT_MS * 1000u, &b->lat_spin, &b->lat_spin_lock, NULL);
    if (status == 0)
        status = bench_wake(cx, 0, 0, &b->lat_ens, NULL, NULL);
    if (status != 0)
        return status;
    print_lat("raw futex (the floor)", &b->lat_futex);
    print_lat("wait(), extended layout", &b->lat_ext);
    print_lat("wait() then lock()", &b->lat_ext_lock);
    print_lat("spinwait() (spinning)", &b->lat_spin);
    print_lat("spinwait() then lock()", &b->lat_spin_lock);
    print_lat("wait(), EnSight layout", &b->lat_ens);
    printf("  wake extended: p50 %.1f us = %.2f x futex p50; p99 %.1f us = %.2f x futex p99\n",
           b->lat_ext.p50_us, ratio(b->lat_ext.p50_us, b->lat_futex.p50_us), b->lat_ext.p99_us,
           ratio(b->lat_ext.p99_us, b->lat_futex.p99_us));
    printf("  wait+lock    : p50 %.1f us = %.2f x futex p50; spinwait+lock p50 %.2f us"
           " (%.3f x futex p50)\n",
           b->lat_ext_lock.p50_us, ratio(b->lat_ext_lock.p50_us, b->lat_futex.p50_us),
           b->lat_spin_lock.p50_us, ratio(b->lat_spin_lock.p50_us, b->lat_futex.p50_us));
    printf("  wake EnSight : p50 %.1f us = %.2f x futex p50 (no wake word in this layout:"
           " wait() polls)\n",
           b->lat_ens.p50_us, ratio(b->lat_ens.p50_us, b->lat_futex.p50_us));
    return 0;
}

