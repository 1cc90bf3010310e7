/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-bench -- throughput and latency of the shared-memory image transport.
 *
 * Usage: smi-bench [--quick] [--dir DIR] [--seconds S] [--samples N]
 *                  [--only LIST] [--readers N] [--touch] [--frame-samples N]
 *                  [--csv FILE] [--help]
 *
 * In one run it prints, for 1080p (1920x1080 RGB) and 4K (3840x2160 RGB):
 *
 *  1. memcpy baselines: frames/s of a warm memcpy of one frame into a
 *     same-size heap buffer (page-aligned like the file's buffers, every page
 *     touched before timing), into a MAP_SHARED mapping of a file in DIR (the
 *     fair baseline for a mapped file), and into two buffers of such a file
 *     in turn (what any double-buffered stream writes: twice the cache
 *     footprint, measurably slower on this hardware).
 *  2. putframe throughput, EnSight layout (IMAGESTREAM_OPTIONS_SERVER) and
 *     extended layout (SERVER|EXTENDED), with one client process attached
 *     that waits for, locks and unlocks frames as they come. Published
 *     frames/s and putframe calls/s (the EnSight layout drops frames with
 *     NO_BUFFERAVAILABLE while its one client has not read the other block:
 *     only calls that published count, drops are reported beside), each as
 *     a ratio to the memcpy baselines. --readers N: N client processes
 *     (extended layout); --touch: clients read a byte of every page.
 *  3. acquire/publish (zero-copy): frames/s when the server fills each
 *     acquired buffer (a memcpy standing in for rendering) and a client
 *     process waits for and locks every frame it can; and the cost of
 *     acquire+publish alone (no pixels written) in microseconds per frame,
 *     with a client attached: untrimmed mean, p50, p99 and max (and the
 *     mean without the slowest 0.1%, beside them, never instead).
 *  4. wake latency: the server stamps CLOCK_MONOTONIC into a 64x64 frame's
 *     pixels and publishes it while a client process sleeps in
 *     SharedMemoryImageStream_wait(); the client notes when it wakes. The
 *     samples alternate with a raw FUTEX_WAIT/FUTEX_WAKE between two processes
 *     on a shared anonymous mapping (the machine's floor), so both see the
 *     same machine state.
 *  5. the writer with N readers: frames/s of acquire+fill+publish (extended
 *     layout, growing buffers, and limited to 2 buffers), putframe, and the
 *     EnSight layout, with 0, 1, 2, 4, 8 client processes that wait, lock,
 *     read a byte of every page and unlock, pinned to the CPUs other than
 *     the writer's; the ratio to the writer alone, NO_BUFFERAVAILABLE/s and
 *     the stream's buffer count at the end.
 *  6. publish-to-lock latency of full 1080p and 4K frames: the server fills
 *     a frame (not timed), stamps the time into it and publishes; a client
 *     blocked in wait() wakes, locks and notes the time. p50/p99/max with
 *     readers idle (one client) and busy (3 more clients locking and
 *     touching every frame), back to back and from idle, against a raw
 *     futex ping-pong between two processes taken in the same run.
 *  7. growth: the acquire that adds a buffer (in-process clients hold every
 *     buffer, so each next acquire grows the file by one frame), five fresh
 *     streams from 2 to 8 buffers, against ordinary acquires of the same
 *     streams afterwards.
 *  8. frame copies: memcpy through a mapping of the file (what the library
 *     does under its SIGBUS guard) against copies through the file
 *     descriptor (pwritev/preadv: its way where another copy of the library
 *     holds the guard), into the file, out of it, out with rows flipped, in
 *     alternating slices, with the library's putframe/copyframe beside
 *     them; then a lock() that finds nothing new, beside one fstat and one
 *     sigaction.
 *
 * Memory bandwidth on a shared VM drifts by 10-20% from second to second, so
 * the ratios of parts 2 and 3 use baselines measured in alternation with the
 * stream (slices of memcpy and of the stream, in turn), not part 1's figures.
 *
 * The server (this process) and the client (a forked process) are pinned to
 * different CPUs when two are usable. Every frame a client locks is checked
 * (frame numbers increase; the number stamped in its first and last bytes
 * matches iFrame: no torn frame).
 *
 * This file parses the options and runs the parts in order; each part is
 * one file, smi_bench_<part>.c, on the harness of smi_bench.h (client
 * processes, sessions, timing, printing), and every part gets the run's
 * settings, a bench_ctx_t, as its first argument.
 *
 * Exit status: 0 on success, 1 on any API error (its string is printed) or
 * on a frame that fails the check, 2 on a usage error. Missed targets (a
 * noisy machine) are reported, not failed. Files created in DIR are removed
 * and child processes are reaped on every path, also on SIGINT/SIGTERM; every
 * wait for a child has a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_bench.h"
#include "smi_cli.h"
#include "smi_proc.h"

/* ---- main ------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: smi-bench [--quick] [--dir DIR] [--seconds S] [--samples N] [--only LIST]\n"
            "                 [--readers N] [--touch] [--frame-samples N] [--csv FILE] [--help]\n"
            "Throughput and latency of the SharedMemoryImage transport: memcpy baselines,\n"
            "putframe (EnSight and extended layouts), zero-copy acquire/publish and the\n"
            "publish-to-wake latency against a raw futex, at 1080p and 4K (RGB).\n"
            "\n"
            "  --quick       short runs (a smoke test, e.g. for ctest)\n"
            "  --dir DIR     where to create the stream files (default /dev/shm)\n"
            "  --seconds S   length of each throughput run (default 1, --quick 0.05)\n"
            "  --samples N   wake-latency samples per run (default 3000, --quick 100)\n"
            "  --only LIST   run only these parts, e.g. 2,4: 1 memcpy, 2 putframe,\n"
            "                3 acquire/publish, 4 wake latency, 5 the writer with 0..8\n"
            "                readers, 6 full-frame publish-to-lock latency, 7 the cost of\n"
            "                adding a buffer, 8 frame copies: memcpy through a mapping, the\n"
            "                descriptor, the library's; lock's cost; 9 queue reading: a\n"
            "                slow reader of a bursty stream, newest against queue mode, and\n"
            "                the writer with a reliable reader (1 also runs for 2, 3, 5)\n"
            "  --readers N   client processes in parts 2 and 3 (extended layout; default 1)\n"
            "  --touch       clients of parts 2 and 3 read a byte of every page of each\n"
            "                frame (part 5's always do)\n"
            "  --frame-samples N  samples per case of part 6 (default 500, --quick 30)\n"
            "  --csv FILE    also write parts 5 and 6 as CSV rows (kind,size,what,readers,\n"
            "                value,extra), for a spreadsheet or a plot\n"
            "  --help        this text\n"
            "\n"
            "Exit status: 0 success, 1 an API error or a bad frame, 2 usage error.\n");
}

static void choose_cpus(bench_ctx_t *cx)
{
    cx->server_cpu = cx->client_cpu = -1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    cx->ncpus = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set))
            cx->cpus[cx->ncpus++] = cpu;
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            if (found == 0)
                cx->server_cpu = cpu;
            else
                cx->client_cpu = cpu;
            found++;
        }
    }
    if (found < 2) {
        cx->server_cpu = cx->client_cpu = -1;
        return;
    }
    if (smi_proc_pin_cpu(cx->server_cpu) != 0)
        cx->server_cpu = cx->client_cpu = -1;
}

/* "2,4" -> bits 1<<2 | 1<<4; 0 when the list is not valid. */
static unsigned parse_parts(const char *text)
{
    unsigned parts = 0;
    for (const char *p = text; *p; p++) {
        if (*p >= '1' && *p <= '9')
            parts |= 1u << (*p - '0');
        else if (*p != ',')
            return 0;
    }
    return parts;
}
/* Long options without a short form (smi_cli_optstring skips these values). */
enum { OPT_QUICK = 256, OPT_DIR, OPT_SECONDS, OPT_SAMPLES, OPT_ONLY, OPT_READERS, OPT_TOUCH,
       OPT_CSV, OPT_LAT_SAMPLES };

/* A usage error: the message, the usage on stderr; returns 2. */
static int bench_usage_error(void)
{
    usage(stderr);
    return SMI_CLI_USAGE;
}

/* One option's value, checked (with the numbers parsed so far). Returns
   SMI_CLI_RUN, or 2 after a message. */
static int parse_value(bench_ctx_t *cx, int c, const char *arg, double *seconds,
                       uint32_t *samples, unsigned *parts)
{
    switch (c) {
    case OPT_DIR: cx->dir = arg; break;
    case OPT_SECONDS:
        if (smi_tool_parse_nonneg(arg, seconds) != 0 || !(*seconds > 0 && *seconds <= 60)) {
            fprintf(stderr, "smi-bench: --seconds wants a number in (0, 60]\n");
            return SMI_CLI_USAGE;
        }
        break;
    case OPT_SAMPLES:
        if (smi_tool_parse_u32(arg, samples) != 0 || *samples < 10 ||
            *samples > BENCH_MAX_SAMPLES) {
            fprintf(stderr, "smi-bench: --samples wants 10..%d\n", BENCH_MAX_SAMPLES);
            return SMI_CLI_USAGE;
        }
        break;
    case OPT_ONLY:
        *parts = parse_parts(arg);
        if (!*parts) {
            fprintf(stderr, "smi-bench: --only wants a list of parts 1..9, e.g. 2,4\n");
            return SMI_CLI_USAGE;
        }
        break;
    case OPT_READERS: {
        uint32_t v;
        if (smi_tool_parse_u32(arg, &v) != 0 || v < 1 || v > MAX_READERS) {
            fprintf(stderr, "smi-bench: --readers wants 1..%d\n", MAX_READERS);
            return SMI_CLI_USAGE;
        }
        cx->readers = v;
        break;
    }
    case OPT_LAT_SAMPLES: {
        uint32_t v;
        if (smi_tool_parse_u32(arg, &v) != 0 || v < 10 || v > BENCH_MAX_SAMPLES) {
            fprintf(stderr, "smi-bench: --frame-samples wants 10..%d\n", BENCH_MAX_SAMPLES);
            return SMI_CLI_USAGE;
        }
        cx->lat_samples = v;
        break;
    }
    case OPT_CSV:
        cx->csv = fopen(arg, "w");
        if (!cx->csv) {
            fprintf(stderr, "smi-bench: %s: %s\n", arg, strerror(errno));
            return SMI_CLI_USAGE;
        }
        break;
    }
    return SMI_CLI_RUN;
}

/* Fill *cx (defaults: --quick or not) and *parts (bit k: part k runs).
   Returns SMI_CLI_RUN to go on, or the exit status. */
static int parse_options(bench_ctx_t *cx, int argc, char **argv, unsigned *parts)
{
    static const struct option options[] = {
        {"quick", no_argument, NULL, OPT_QUICK},
        {"dir", required_argument, NULL, OPT_DIR},
        {"seconds", required_argument, NULL, OPT_SECONDS},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"only", required_argument, NULL, OPT_ONLY},
        {"readers", required_argument, NULL, OPT_READERS},
        {"touch", no_argument, NULL, OPT_TOUCH},
        {"csv", required_argument, NULL, OPT_CSV},
        {"frame-samples", required_argument, NULL, OPT_LAT_SAMPLES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char optstring[8];
    smi_cli_optstring(options, optstring, sizeof optstring);
    cx->dir = "/dev/shm";
    double seconds = -1;
    uint32_t samples = 0;
    *parts = 0x3fe; /* parts 1..9 */
    cx->readers = 1;
    int c, status = SMI_CLI_RUN;
    while (status == SMI_CLI_RUN &&
           (c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_QUICK: cx->quick = 1; break;
        case OPT_TOUCH: cx->touch = 1; break;
        case '?':
        case ':': smi_tool_option_error("smi-bench", c, argv); return bench_usage_error();
        default: status = parse_value(cx, c, optarg, &seconds, &samples, parts);
        }
    }
    if (status != SMI_CLI_RUN)
        return status;
    if (optind < argc) {
        fprintf(stderr, "smi-bench: unexpected argument '%s'\n", argv[optind]);
        return bench_usage_error();
    }
    if (*parts & (1u << 2 | 1u << 3 | 1u << 5))
        *parts |= 1u << 1; /* the ratios need the baseline */
    cx->seconds = seconds > 0 ? seconds : (cx->quick ? 0.05 : 1.0);
    cx->samples = samples > 0 ? samples : (cx->quick ? 100u : 3000u);
    cx->pause_us = cx->quick ? 500u : 1000u;
    cx->ovh_iters = cx->quick ? 2000u : 100000u;
    if (cx->lat_samples == 0)
        cx->lat_samples = cx->quick ? 30u : 500u;
    struct stat st;
    if (stat(cx->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "smi-bench: %s is not a directory\n", cx->dir);
        return SMI_CLI_USAGE;
    }
    return SMI_CLI_RUN;
}

static void print_header(const bench_ctx_t *cx)
{
    printf("smi-bench: SharedMemoryImage throughput and latency (library API %s)\n",
           IMAGESTREAM_API_VERSION);
    if (cx->server_cpu >= 0)
        printf("  processes pinned with sched_setaffinity: server on CPU %d, client process on"
               " CPU %d\n",
               cx->server_cpu, cx->client_cpu);
    else
        printf("  processes not pinned (fewer than 2 usable CPUs): server and client share CPUs\n");
    printf("  files in %s; %.2f s per throughput run; %u latency samples%s\n", cx->dir,
           cx->seconds, cx->samples, cx->quick ? " (--quick: figures are rough)" : "");
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) > 0)
        printf("  %d CPUs usable; load average %.2f %.2f %.2f (other work on the machine skews"
               " every figure)\n", cx->ncpus, load[0], load[1], load[2]);
    printf("  parts 2 and 3: %u client process%s%s\n", cx->readers,
           cx->readers == 1 ? "" : "es (extended layout; EnSight has one)",
           cx->touch ? ", each reading one byte of every page of every frame (--touch)" : "");
    for (size_t i = 0; i < NSIZES; i++)
        printf("  %-5s = %ux%u RGB, %.1f MB per frame\n", g_sizes[i].name, g_sizes[i].width,
               g_sizes[i].height, (double)frame_bytes(&g_sizes[i]) / 1e6);
}

static void print_targets(const bench_ctx_t *cx, const bench_run_t *b, unsigned parts)
{
    size_t k4 = NSIZES - 1;
    printf("\nTargets (extended layout):\n");
    if (parts & (1u << 2)) {
        double r1 = ratio(b->put[k4][1].published_s, b->put[k4][1].alt.shm);
        double r2 = ratio(b->put[k4][1].published_s, b->put[k4][1].alt.shm2);
        printf("  putframe 4K >= 0.95 x memcpy(shm)      : %.2f  %s  (%.2f x memcpy(shm, 2"
               " buffers))\n",
               r1, r1 >= 0.95 ? "met" : "MISSED", r2);
    }
    if (parts & (1u << 4)) {
        double r = ratio(b->lat_ext.p50_us, b->lat_futex.p50_us);
        printf("  wake p50 <= 1.2 x futex p50             : %.2f  %s\n", r,
               r <= 1.2 ? "met" : "MISSED");
        double rl = ratio(b->lat_ext_lock.p50_us, b->lat_futex.p50_us);
        printf("  wait+lock p50 <= 1.2 x futex p50        : %.2f  %s\n", rl,
               rl <= 1.2 ? "met" : "MISSED");
        printf("  spinwait+lock p50 <= 2 us               : %.2f us  %s\n",
               b->lat_spin_lock.p50_us, b->lat_spin_lock.p50_us <= 2.0 ? "met" : "MISSED");
    }
    if (parts & (1u << 3)) {
        double worst = 0, worst_mean = 0;
        for (size_t i = 0; i < NSIZES; i++) {
            if (b->ovh[i][1].trim_us > worst)
                worst = b->ovh[i][1].trim_us;
            if (b->ovh[i][1].mean_us > worst_mean)
                worst_mean = b->ovh[i][1].mean_us;
        }
        double worst_p99 = 0, worst_max = 0;
        for (size_t i = 0; i < NSIZES; i++) {
            if (b->ovh[i][1].p99_us > worst_p99)
                worst_p99 = b->ovh[i][1].p99_us;
            if (b->ovh[i][1].max_us > worst_max)
                worst_max = b->ovh[i][1].max_us;
        }
        printf("  acquire+publish overhead < 5 us/frame   : %.2f  %s  (untrimmed mean; p99 %.2f,"
               " max %.1f us; mean without the slowest 0.1%%: %.2f)\n",
               worst_mean, worst_mean < 5.0 ? "met" : "MISSED", worst_p99, worst_max, worst);
    }
    if (parts & (1u << 5)) {
        for (size_t i = 0; i < NSIZES; i++)
            printf("  writer with 8 touching readers >= 0.95 x alone, %-5s: %.3f  %s  (%d CPUs"
                   " usable%s)\n", g_sizes[i].name, b->starve[i],
                   b->starve[i] >= 0.95 ? "met" : "MISSED", cx->ncpus,
                   cx->ncpus < 10 ? "; 9 processes want 9 CPUs, fewer share them" : "");
    }
    if (cx->quick)
        printf("  (--quick: short runs, figures are rough)\n");
}

/* Run the parts asked for, in order, stopping at the first failure. */
static int run_parts(const bench_ctx_t *cx, bench_run_t *b, unsigned parts)
{
    int status = 0;
    if (parts & (1u << 1))
        status = run_memcpy(cx, b);
    if (status == 0 && (parts & (1u << 2)))
        status = run_putframe(cx, b);
    if (status == 0 && (parts & (1u << 3)))
        status = run_acquire(cx, b);
    if (status == 0 && (parts & (1u << 4)))
        status = run_wake(cx, b);
    if (status == 0 && (parts & (1u << 5)))
        status = run_readers(cx, b);
    if (status == 0 && (parts & (1u << 6)))
        status = run_frame_latency(cx, b);
    if (status == 0 && (parts & (1u << 7)))
        status = run_growth(cx, b);
    if (status == 0 && (parts & (1u << 8)))
        status = run_copy(cx, b);
    if (status == 0 && (parts & (1u << 9)))
        status = run_queue(cx, b);
    if (status == 0 && (parts & (1u << 2 | 1u << 3 | 1u << 4 | 1u << 5)))
        print_targets(cx, b, parts);
    return status;
}

int main(int argc, char **argv)
{
    bench_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    unsigned parts;
    int status = parse_options(&ctx, argc, argv, &parts);
    if (status != SMI_CLI_RUN)
        return status;
    install_cleanup_handlers();
    choose_cpus(&ctx);
    setvbuf(stdout, NULL, _IOLBF, 0);
    print_header(&ctx);

    bench_run_t run;
    memset(&run, 0, sizeof run);
    size_t max_bytes = frame_bytes(&g_sizes[NSIZES - 1]);
    size_t src_len = (max_bytes + 4095u) / 4096u * 4096u;
    run.src = aligned_alloc(4096u, src_len);
    if (!run.src) {
        fprintf(stderr, "smi-bench: out of memory\n");
        return 1;
    }
    madvise(run.src, src_len, MADV_DONTFORK); /* (as the heap baseline's: no copy-on-write) */
    for (size_t i = 0; i < max_bytes; i++)
        run.src[i] = (uint8_t)(i * 7u + (i >> 12));
    status = run_parts(&ctx, &run, parts);
    if (ctx.csv)
        fclose(ctx.csv);

    free(run.src);
    for (size_t i = 0; i < NSIZES; i++)
        shm_target_close(&run.shm[i]);
    path_remove_all();
    return status ? 1 : 0;
}
