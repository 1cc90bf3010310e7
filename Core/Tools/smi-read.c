/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-read -- attach to a shared-memory image stream as a client and read its
 * frames: SharedMemoryImageStream_wait() (spinwait with --spin), then lock
 * (next with --queue: every frame in order, counting those lost), use,
 * unlock. Reports
 * frames/s and dropped frames (gaps in the frame numbers) every second,
 * checks every byte of every frame against the test pattern with --verify
 * (smi_pattern.h), and saves one frame as PPM or PNG with --save.
 *
 * Exit status: 0 ok (also when stopped by SIGINT/SIGTERM after frames came);
 * 1 verification failure or error; 2 usage error; 3 timeout (no frame within
 * --timeout seconds); 4 stopped by SIGINT/SIGTERM before any frame came.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared_memory_image.h"
#include "smi_cli.h"
#include "smi_clock.h"
#include "smi_format.h"
#include "smi_image.h"
#include "smi_pattern.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3, EXIT_STOPPED_EMPTY = 4 };

typedef struct options_t {
    const char *path;
    const char *save;
    uint64_t save_frame;  /* 1-based: the K-th frame read */
    uint64_t frames;      /* with has_frames */
    int has_frames;
    double seconds;       /* 0 = no limit */
    double timeout;       /* 0 = none */
    double spin;          /* --spin: seconds each wait spins first (0 = none) */
    int wait_file, verify, touch, any_format, any_file, keep_going, quiet;
    int queue, reliable;  /* --queue, --reliable */
} options_t;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: smi-read [OPTION]... FILE\n"
            "Attach to the shared-memory image stream FILE as a client, read frames and\n"
            "report frames/s and dropped frames (gaps in the frame numbers) every second.\n"
            "\n"
            "  -w, --wait-file      wait until FILE exists and a server has set it up\n"
            "                       (bounded by --timeout, if given)\n"
            "  -v, --verify         check every byte of every frame against the test pattern\n"
            "                       of its frame number (see smi-publish --help); stop at\n"
            "                       the first mismatch\n"
            "  -P, --touch          read one byte of every page of every frame (a consumer\n"
            "                       that looks at the whole frame, without --verify's cost)\n"
            "  -K, --keep-going     with --verify: count mismatching frames, do not stop\n"
            "  -n, --frames N       stop after N frames\n"
            "  -t, --seconds S      stop after S seconds\n"
            "  -o, --save FILE      save one frame: PNG if FILE ends in .png, else PPM (P6;\n"
            "                       PGM for gray frames; float and signed or 32-bit integer\n"
            "                       frames cannot be saved: exit 1). Without --frames or\n"
            "                       --seconds, stop once it is saved\n"
            "  -k, --save-frame K   save the K-th frame read (default 1)\n"
            "  -T, --timeout S      exit with status 3 when no frame arrives for S seconds\n"
            "                       (from the start for the first frame, then since the last)\n"
            "  -Q, --queue          read every frame in order (IMAGESTREAM_OPTIONS_QUEUE),\n"
            "                       not the newest: report the frames the server overwrote\n"
            "                       before they were read as 'lost' (0 when none was)\n"
            "  -R, --reliable       --queue, and never be overrun: the server waits (or\n"
            "                       drops its frame) rather than overwrite an unread one\n"
            "  -S, --spin S         each wait spins in user space up to S seconds (no system\n"
            "                       call) before it sleeps in the kernel: lower latency for\n"
            "                       a busy CPU\n"
            "  -a, --any-format     also take frames that are not RGB8 (rgba8, gray8, gray16,\n"
            "                       float32, int16, int32, uint32, float64); without it such\n"
            "                       frames are skipped and counted\n"
            "  -A, --any-file       use FILE as it is, whoever could change it: another\n"
            "                       user's file, one others may write or replace, a symbolic\n"
            "                       link (IMAGESTREAM_OPTIONS_ANYFILE; for streams shared\n"
            "                       between users on purpose). Without it such files are\n"
            "                       refused, and the message says which rule and the fix\n"
            "  -q, --quiet          no status lines or notes on stderr (errors still)\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Status lines go to stderr; the summary goes to stdout:\n"
            "  smi-read: 600 frames, 0 mismatches, 59.9 frames/s, 0 dropped, first frame 0,\n"
            "  last frame 599 (on one line; with --queue or --reliable: ..., 0 dropped,\n"
            "  0 lost, first frame ...: lost counts every frame published after the\n"
            "  reader attached that it never got, before its first frame too)\n"
            "\n"
            "Exit status: 0 ok (Ctrl-C or SIGTERM after frames came too), 1 verification\n"
            "failure or error, 2 usage error, 3 timeout, 4 stopped (Ctrl-C, SIGTERM) before\n"
            "any frame came.\n");
}

static int usage_error(const char *message, const char *arg)
{
    return smi_tool_usage_error("smi-read", message, arg);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls > lx && strcasecmp(s + ls - lx, suffix) == 0;
}

/* One option's value, checked; c is its short name. Returns SMI_CLI_RUN, or 2. */
static int parse_value(int c, const char *arg, options_t *o)
{
    switch (c) {
    case 'n':
        if (smi_tool_parse_u64(arg, &o->frames) != 0 || o->frames == 0)
            return usage_error("--frames wants a whole number >= 1", arg);
        o->has_frames = 1;
        break;
    case 't':
        if (smi_tool_parse_nonneg(arg, &o->seconds) != 0 || o->seconds <= 0.0)
            return usage_error("--seconds wants a number of seconds > 0", arg);
        break;
    case 'T':
        if (smi_tool_parse_nonneg(arg, &o->timeout) != 0 || o->timeout <= 0.0)
            return usage_error("--timeout wants a number of seconds > 0", arg);
        break;
    case 'o':
        if (!has_suffix(arg, ".png") && !has_suffix(arg, ".ppm") && !has_suffix(arg, ".pgm") &&
            !has_suffix(arg, ".pnm"))
            return usage_error("--save wants a file name ending in .png, .ppm, .pgm or .pnm",
                               arg);
        o->save = arg;
        break;
    case 'k':
        if (smi_tool_parse_u64(arg, &o->save_frame) != 0 || o->save_frame == 0)
            return usage_error("--save-frame wants a whole number >= 1", arg);
        break;
    case 'S':
        if (smi_tool_parse_nonneg(arg, &o->spin) != 0 || o->spin > 2.0)
            return usage_error("--spin wants a number of seconds from 0 to 2", arg);
        break;
    }
    return SMI_CLI_RUN;
}

/* Options that need another. Returns SMI_CLI_RUN, or 2. */
static int check_combination(options_t *o, int save_frame_given)
{
    if (save_frame_given && o->save == NULL)
        return usage_error("--save-frame needs --save", NULL);
    if (o->keep_going && !o->verify)
        return usage_error("--keep-going needs --verify", NULL);
    if (o->save_frame == 0)
        o->save_frame = 1;
    return SMI_CLI_RUN;
}

/* Returns SMI_CLI_RUN to go on, or the exit status. */
static int parse_options(int argc, char **argv, options_t *o)
{
    static const struct option options[] = {
        {"wait-file", no_argument, NULL, 'w'},
        {"verify", no_argument, NULL, 'v'},
        {"touch", no_argument, NULL, 'P'},
        {"keep-going", no_argument, NULL, 'K'},
        {"frames", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 't'},
        {"save", required_argument, NULL, 'o'},
        {"save-frame", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 'T'},
        {"queue", no_argument, NULL, 'Q'},
        {"reliable", no_argument, NULL, 'R'},
        {"spin", required_argument, NULL, 'S'},
        {"any-format", no_argument, NULL, 'a'},
        {"any-file", no_argument, NULL, 'A'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char optstring[32];
    smi_cli_optstring(options, optstring, sizeof optstring);
    memset(o, 0, sizeof *o);
    int save_frame_given = 0, status = SMI_CLI_RUN, c;
    while (status == SMI_CLI_RUN &&
           (c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
        switch (c) {
        case 'w': o->wait_file = 1; break;
        case 'v': o->verify = 1; break;
        case 'P': o->touch = 1; break;
        case 'K': o->keep_going = 1; break;
        case 'a': o->any_format = 1; break;
        case 'Q': o->queue = 1; break;
        case 'R': o->reliable = o->queue = 1; break;
        case 'A': o->any_file = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        case '?':
        case ':':
            return smi_tool_option_usage_error("smi-read", c, argv);
        default:
            save_frame_given |= c == 'k';
            status = parse_value(c, optarg, o);
        }
    }
    if (status == SMI_CLI_RUN)
        status = smi_cli_one_file("smi-read", argc, argv, &o->path);
    return status == SMI_CLI_RUN ? check_combination(o, save_frame_given) : status;
}

/* "cannot attach" and timeout messages: the library's message for the
   path (unsafe, missing, a folder: SharedMemoryImageStream_openerrorstring). */
static void print_attach_error(const char *what, const char *path, uint32_t options,
                               SharedMemoryImageError rc)
{
    char text[1400];
    fprintf(stderr, "%s%s\n", what,
            SharedMemoryImageStream_openerrorstring(path, options, rc, SMI_TOOL_OPTIN, text,
                                                    sizeof text));
}

/* Attach to the stream (SharedMemoryImageStream_attach). With --wait-file,
   every situation but a fatal one is waited for: a missing file, one no
   server has set up yet or one being set up (a server is coming), and one a
   user may still fix (not a stream, unsafe: a FIFO or a link may be
   replaced by the real file), said once. Returns SMI_CLI_RUN with *stream
   set, or the exit status (a message printed). */
static int attach(const options_t *o, double start, SharedMemoryImageStream *stream)
{
    const uint32_t create_options =
        (o->any_format ? IMAGESTREAM_OPTIONS_ANYFORMAT : IMAGESTREAM_OPTIONS_NONE) |
        (o->any_file ? IMAGESTREAM_OPTIONS_ANYFILE : IMAGESTREAM_OPTIONS_NONE) |
        (o->reliable ? IMAGESTREAM_OPTIONS_RELIABLE
                     : o->queue ? IMAGESTREAM_OPTIONS_QUEUE : IMAGESTREAM_OPTIONS_NONE);
    char what[1200];
    int noted = 0;
    for (;;) {
        /* Attaching never blocks (a FIFO at the path is refused at once), so
           --timeout and SIGINT/SIGTERM are seen within one 20 ms step. */
        SharedMemoryStreamStatus status;
        uint32_t situation =
            SharedMemoryImageStream_attach(o->path, create_options, stream, &status);
        /* Without --wait-file a file no server has set up yet is read as
           create() takes it: an EnSight stream with no frame yet. */
        if (situation == IMAGESTREAM_SITUATION_NO_SERVER && !o->wait_file)
            status.code = SharedMemoryImageStream_create(o->path, create_options, stream);
        if (*stream) {
            if (status.code == IMAGESTREAM_RECONNECTING && !o->quiet)
                fprintf(stderr, "smi-read: %s: %s\n", o->path,
                        SharedMemoryImageStream_errorstring(status.code));
            return SMI_CLI_RUN;
        }
        if (!o->wait_file || situation == IMAGESTREAM_SITUATION_FATAL) {
            snprintf(what, sizeof what, "smi-read: cannot attach to %s: ", o->path);
            print_attach_error(what, o->path, create_options, status.code);
            return EXIT_FAIL;
        }
        if (!SharedMemoryImageStream_situationwaits(situation) && !noted && !o->quiet) {
            snprintf(what, sizeof what, "smi-read: %s: waiting: ", o->path);
            print_attach_error(what, o->path, create_options, status.code);
            noted = 1;
        }
        if (smi_tool_stop) {
            fprintf(stderr, "smi-read: stopped before %s was a served stream\n", o->path);
            return EXIT_STOPPED_EMPTY;
        }
        if (o->timeout > 0.0 && smi_tool_now_s() - start >= o->timeout) {
            snprintf(what, sizeof what,
                     "smi-read: timeout: %s is not a served stream after %g s: ", o->path,
                     o->timeout);
            print_attach_error(what, o->path, create_options, status.code);
            return EXIT_TIMEOUT;
        }
        smi_tool_sleep_until_ns(smi_tool_now_ns() + 20000000u);
    }
}

/* A frame copied out under the lock, to be written to --save after unlock
   (never hold a lock for file I/O). */
typedef struct pending_save_t {
    uint8_t *pixels; /* NULL: nothing to write */
    uint32_t n, width, height, format;
} pending_save_t;

/* The reading session: the stream, the clock, the tallies. */
typedef struct reader_t {
    const options_t *o;
    SharedMemoryImageStream stream;
    uint64_t frames, dropped, mismatches, skipped, backwards, unverified;
    uint64_t lost; /* --queue: frames overwritten before they were read */
    uint32_t first_frame, last_frame; /* numbers of the first and the latest frame read */
    uint32_t skipped_format;
    uint8_t touched; /* --touch: what was read (so that the reads happen) */
    double t_first, t_last;
    uint64_t frames_at_report, dropped_at_report;
    double start;        /* when smi-read started (the first --timeout counts from it) */
    double end;          /* --seconds after attaching, or far away */
    double last_event;   /* start, then the time of the latest frame */
    double last_report;  /* time of the latest status line */
    int stop_after_save; /* --save without --frames or --seconds */
    int saved, stop, timed_out;
    int exit_status;
    uint8_t *upright;    /* a bottom-up frame turned top row first (upright_pixels) */
    size_t upright_size;
} reader_t;

/* The locked frame's pixels top row first, as the pattern and the saved
   images have them: in place, or for a frame stored bottom row first
   (IMAGESTREAM_FRAME_BOTTOMUP) a copy that copyframe() turns upright. NULL
   (said, and the reader stops) when out of memory or the copy fails. */
static const uint8_t *upright_pixels(reader_t *r, SharedMemoryFrame frame,
                                     const SharedMemoryImageDesc *desc)
{
    uint32_t flags = 0;
    if (SharedMemoryImageStream_frameflags(r->stream, &flags) != IMAGESTREAM_NOERROR ||
        !(flags & IMAGESTREAM_FRAME_BOTTOMUP))
        return frame->buffer;
    size_t bytes = (size_t)desc->width * desc->height * desc->depth *
                   SharedMemoryImageStream_formatsize(desc->format);
    if (bytes > r->upright_size) {
        free(r->upright);
        r->upright_size = 0;
        if ((r->upright = malloc(bytes)) == NULL) {
            fprintf(stderr, "smi-read: out of memory turning frame %u upright\n", frame->iFrame);
            r->exit_status = EXIT_FAIL;
            r->stop = 1;
            return NULL;
        }
        r->upright_size = bytes;
    }
    SharedMemoryImageError rc = SharedMemoryImageStream_copyframe(r->stream, r->upright, bytes, 0);
    if (rc < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-read: %s: frame %u: %s\n", r->o->path, frame->iFrame,
                SharedMemoryImageStream_errorstring(rc));
        r->exit_status = EXIT_FAIL;
        r->stop = 1;
        return NULL;
    }
    return r->upright;
}

static void print_status(const reader_t *r, double since_report)
{
    SharedMemoryStreamInfo info;
    const char *server = "";
    if (SharedMemoryImageStream_info(r->stream, &info) == IMAGESTREAM_NOERROR &&
        info.layout == IMAGESTREAM_LAYOUT_EXTENDED)
        server = info.server_alive ? ", server alive" : ", no server";
    fprintf(stderr, "smi-read: %.1f frames/s, %llu dropped, %llu frames",
            since_report > 0.0 ? (double)(r->frames - r->frames_at_report) / since_report : 0.0,
            (unsigned long long)(r->dropped - r->dropped_at_report),
            (unsigned long long)r->frames);
    if (r->o->queue)
        fprintf(stderr, ", %llu lost", (unsigned long long)r->lost);
    if (r->frames > 0)
        fprintf(stderr, ", last frame %u", r->last_frame);
    if (r->skipped > 0)
        fprintf(stderr, ", %llu skipped (%s)", (unsigned long long)r->skipped,
                smi_tool_format_name(r->skipped_format));
    fprintf(stderr, "%s\n", server);
}

/* Frame n arrived at `now`: count it, and the frames missing before it. */
static void count_frame(reader_t *r, uint32_t n, double now)
{
    if (r->frames > 0) {
        if (n <= r->last_frame) {
            if (r->backwards++ == 0)
                fprintf(stderr,
                        "smi-read: %s: frame numbers do not increase: frame %u after frame %u\n",
                        r->o->path, n, r->last_frame);
        } else {
            r->dropped += (uint64_t)(n - r->last_frame - 1);
        }
    } else {
        r->t_first = now;
        r->first_frame = n;
    }
    r->frames++;
    r->last_frame = n;
    r->t_last = now;
    r->last_event = now;
}

/* --verify: check the locked frame against the pattern of its number. */
static void verify_frame(reader_t *r, SharedMemoryFrame frame, const SharedMemoryImageDesc *desc)
{
    const uint32_t n = frame->iFrame;
    const uint32_t bpp = smi_tool_format_bytes(desc->format);
    if (bpp == 0 || desc->depth != 1) {
        if (r->unverified++ == 0)
            fprintf(stderr, "smi-read: frame %u: cannot verify a %s frame of depth %u\n", n,
                    smi_tool_format_name(desc->format), desc->depth);
        return;
    }
    const uint8_t *pixels = upright_pixels(r, frame, desc);
    if (pixels == NULL)
        return;
    smi_pattern_mismatch_t where;
    int check = smi_pattern_check(desc->format, frame->iWidth, frame->iHeight, n, pixels,
                                  (size_t)frame->iWidth * bpp, &where);
    if (check < 0) {
        fprintf(stderr, "smi-read: out of memory while verifying\n");
        r->exit_status = EXIT_FAIL;
        r->stop = 1;
    } else if (check > 0) {
        if (r->mismatches++ == 0) {
            char text[256];
            smi_pattern_describe_mismatch(&where, desc->format, text, sizeof text);
            fprintf(stderr,
                    "smi-read: %s: frame %u (%ux%u %s) does not match the test pattern: %s\n",
                    r->o->path, n, frame->iWidth, frame->iHeight,
                    smi_tool_format_name(desc->format), text);
        }
        if (!r->o->keep_going)
            r->stop = 1;
    }
}

/* --save: copy the K-th frame out while it is locked. */
static void copy_for_save(reader_t *r, SharedMemoryFrame frame, const SharedMemoryImageDesc *desc,
                          pending_save_t *save)
{
    if (r->o->save == NULL || r->saved || r->frames != r->o->save_frame)
        return;
    const uint8_t *pixels = upright_pixels(r, frame, desc);
    if (pixels == NULL)
        return;
    size_t bytes = (size_t)frame->iWidth * smi_tool_format_bytes(desc->format) *
                   frame->iHeight; /* first slice of a volume */
    save->pixels = malloc(bytes ? bytes : 1);
    if (save->pixels == NULL) {
        fprintf(stderr, "smi-read: out of memory saving frame %u\n", frame->iFrame);
        r->exit_status = EXIT_FAIL;
        r->stop = 1;
        return;
    }
    memcpy(save->pixels, pixels, bytes);
    save->n = frame->iFrame;
    save->width = frame->iWidth;
    save->height = frame->iHeight;
    save->format = desc->format;
}

/* --save: write the frame copied out, after unlock. */
static void write_saved(reader_t *r, pending_save_t *save)
{
    if (save->pixels == NULL)
        return;
    const options_t *o = r->o;
    char err[512];
    r->saved = 1;
    if (smi_image_save(o->save, save->format, save->width, save->height, save->pixels,
                       (size_t)save->width * smi_tool_format_bytes(save->format), err,
                       sizeof err) != 0) {
        fprintf(stderr, "smi-read: %s\n", err);
        r->exit_status = EXIT_FAIL;
        r->stop = 1;
    } else {
        if (!o->quiet)
            fprintf(stderr, "smi-read: saved frame %u (%ux%u %s) to %s\n", save->n, save->width,
                    save->height, smi_tool_format_name(save->format), o->save);
        if (r->stop_after_save)
            r->stop = 1;
    }
    free(save->pixels);
    save->pixels = NULL;
}

/* Lock the frame wait() announced, count, verify and copy it, unlock, then
   save it. Returns 0 to go on (r->stop may be set), -1 on an error that ends
   reading at once (reported, exit status set). */
static int take_frame(reader_t *r)
{
    const options_t *o = r->o;
    SharedMemoryFrame frame = NULL;
    uint64_t lost = 0;
    SharedMemoryImageError rc = o->queue ? SharedMemoryImageStream_next(r->stream, &frame, &lost)
                                         : SharedMemoryImageStream_lock(r->stream, &frame);
    r->lost += lost;
    if (rc == IMAGESTREAM_BAD_ARGS && o->queue) {
        fprintf(stderr,
                "smi-read: %s: --queue and --reliable need an extended-layout stream (the "
                "EnSight layout holds one frame at a time; read it without them)\n",
                o->path);
        r->exit_status = EXIT_FAIL;
        return -1;
    }
    if (rc == IMAGESTREAM_FORMAT_SKIPPED) {
        if (++r->skipped == 1 && !o->quiet)
            fprintf(stderr,
                    "smi-read: %s: skipping frames that are not RGB8 (use --any-format to read "
                    "them)\n",
                    o->path);
        return 0;
    }
    if (rc < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-read: %s: lock: %s\n", o->path,
                SharedMemoryImageStream_errorstring(rc));
        r->exit_status = EXIT_FAIL;
        return -1;
    }
    if (rc != IMAGESTREAM_NOERROR)
        return 0; /* NO_FRAMEAVAILABLE: the server reused the buffer first; wait again */

    const double now = smi_tool_now_s();
    SharedMemoryImageDesc desc;
    memset(&desc, 0, sizeof desc);
    desc.format = IMAGESTREAM_FORMAT_RGB8;
    desc.width = frame->iWidth;
    desc.height = frame->iHeight;
    desc.depth = 1;
    if (o->any_format) {
        SharedMemoryImageError drc = SharedMemoryImageStream_describe(r->stream, &desc);
        if (drc < IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-read: %s: cannot describe frame %u: %s\n", o->path,
                    frame->iFrame, SharedMemoryImageStream_errorstring(drc));
            SharedMemoryImageStream_unlock(r->stream);
            r->exit_status = EXIT_FAIL;
            return -1;
        }
    }
    count_frame(r, frame->iFrame, now);
    if (o->verify)
        verify_frame(r, frame, &desc);
    if (o->touch) {
        uint64_t n = (uint64_t)desc.width * desc.height * desc.depth *
                     SharedMemoryImageStream_formatsize(desc.format);
        const volatile uint8_t *px = frame->buffer;
        for (uint64_t i = 0; i < n; i += 4096)
            r->touched ^= px[i];
    }
    pending_save_t save = {NULL, 0, 0, 0, 0};
    copy_for_save(r, frame, &desc, &save);

    rc = SharedMemoryImageStream_unlock(r->stream);
    if (rc < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-read: %s: unlock: %s\n", o->path,
                SharedMemoryImageStream_errorstring(rc));
        free(save.pixels);
        r->exit_status = EXIT_FAIL;
        return -1;
    }
    write_saved(r, &save);
    return 0;
}

/* How long the next wait() may take, in ms: at most 200 ms (signals do not
   end the wait), and never past --seconds, --timeout or the next status line. */
static int32_t wait_timeout_ms(const reader_t *r, double now)
{
    double wake = now + 0.2;
    if (wake > r->end)
        wake = r->end;
    if (r->o->timeout > 0.0 && wake > r->last_event + r->o->timeout)
        wake = r->last_event + r->o->timeout;
    if (wake > r->last_report + 1.0)
        wake = r->last_report + 1.0;
    double ms = (wake - now) * 1000.0;
    return ms <= 0.0 ? 0 : (int32_t)ms + 1;
}

/* The status line, once a second. */
static void report_if_due(reader_t *r)
{
    double now = smi_tool_now_s();
    if (now - r->last_report < 1.0)
        return;
    if (!r->o->quiet)
        print_status(r, now - r->last_report);
    r->frames_at_report = r->frames;
    r->dropped_at_report = r->dropped;
    r->last_report = now;
}

/* Read frames until --frames, --seconds, --timeout, the save, a mismatch, an
   error or a signal ends it. */
static void read_loop(reader_t *r)
{
    const options_t *o = r->o;
    while (!r->stop && !smi_tool_stop) {
        if (o->has_frames && r->frames >= o->frames)
            break;
        double now = smi_tool_now_s();
        if (now >= r->end)
            break;
        if (o->timeout > 0.0 && now - r->last_event >= o->timeout) {
            r->timed_out = 1;
            break;
        }
        int32_t timeout_ms = wait_timeout_ms(r, now);
        SharedMemoryImageError rc =
            SharedMemoryImageStream_spinwait(r->stream, timeout_ms, (uint32_t)(o->spin * 1e6));
        if (rc == IMAGESTREAM_NOERROR) {
            if (take_frame(r) != 0)
                break;
        } else if (rc < IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-read: %s: wait: %s\n", o->path,
                    SharedMemoryImageStream_errorstring(rc));
            r->exit_status = EXIT_FAIL;
            break;
        }
        report_if_due(r);
    }
}

/* Messages about what did not happen, and the summary on stdout. */
static void report(reader_t *r)
{
    const options_t *o = r->o;
    if (o->save != NULL && !r->saved && r->exit_status == EXIT_OK && !r->timed_out &&
        !smi_tool_stop && r->mismatches == 0) {
        fprintf(stderr, "smi-read: frame %llu was never read, nothing saved to %s\n",
                (unsigned long long)o->save_frame, o->save);
        r->exit_status = EXIT_FAIL;
    }
    if (r->timed_out) {
        fprintf(stderr, "smi-read: timeout: no frame from %s for %g s", o->path, o->timeout);
        if (r->skipped > 0)
            fprintf(stderr, " (%llu frames skipped: not RGB8; try --any-format)",
                    (unsigned long long)r->skipped);
        fprintf(stderr, "\n");
    }
    double rate = 0.0;
    if (r->frames >= 2 && r->t_last > r->t_first)
        rate = (double)(r->frames - 1) / (r->t_last - r->t_first);
    printf("smi-read: %llu frames, %llu mismatches, %.1f frames/s, %llu dropped",
           (unsigned long long)r->frames, (unsigned long long)r->mismatches, rate,
           (unsigned long long)r->dropped);
    if (o->queue)
        printf(", %llu lost", (unsigned long long)r->lost);
    if (r->frames > 0)
        printf(", first frame %u, last frame %u", r->first_frame, r->last_frame);
    if (r->skipped > 0)
        printf(", %llu skipped", (unsigned long long)r->skipped);
    if (r->backwards > 0)
        printf(", %llu out of order", (unsigned long long)r->backwards);
    if (r->unverified > 0)
        printf(", %llu unverified", (unsigned long long)r->unverified);
    printf("\n");
    fflush(stdout);
}

/* Detach, and decide the exit status. */
static int finish(reader_t *r)
{
    free(r->upright);
    SharedMemoryImageError rc = SharedMemoryImageStream_destroy(r->stream);
    if (rc < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-read: closing %s: %s\n", r->o->path,
                SharedMemoryImageStream_errorstring(rc));
        if (r->exit_status == EXIT_OK)
            r->exit_status = EXIT_FAIL;
    }
    if (r->exit_status != EXIT_OK)
        return r->exit_status;
    if (r->o->verify && (r->mismatches > 0 || r->backwards > 0))
        return EXIT_FAIL;
    if (r->timed_out)
        return EXIT_TIMEOUT;
    if (smi_tool_stop && r->frames == 0) {
        fprintf(stderr, "smi-read: stopped before any frame came from %s\n", r->o->path);
        return EXIT_STOPPED_EMPTY;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    options_t o;
    int status = parse_options(argc, argv, &o);
    if (status != SMI_CLI_RUN)
        return status;
    if (smi_tool_install_stop_handler() != 0) {
        perror("smi-read: sigaction");
        return EXIT_FAIL;
    }
    reader_t r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.start = smi_tool_now_s();
    status = attach(&o, r.start, &r.stream);
    if (status != SMI_CLI_RUN)
        return status;

    const double attached = smi_tool_now_s();
    r.end = o.seconds > 0.0 ? attached + o.seconds : 1e300;
    r.last_event = r.start;
    r.last_report = attached;
    r.stop_after_save = o.save != NULL && !o.has_frames && o.seconds <= 0.0;
    read_loop(&r);
    report(&r);
    return finish(&r);
}
