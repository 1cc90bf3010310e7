/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-read -- attach to a shared-memory image stream as a client and read its
 * frames: SharedMemoryImageStream_wait(), then lock, use, unlock. Reports
 * frames/s and dropped frames (gaps in the frame numbers) every second,
 * checks every byte of every frame against the test pattern with --verify
 * (smi_tool_common.h), and saves one frame as PPM or PNG with --save.
 *
 * Exit status: 0 ok; 1 verification failure or error; 2 usage error;
 * 3 timeout (no frame within --timeout seconds).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smi_tool_common.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3 };

typedef struct options_t {
    const char *path;
    const char *save;
    uint64_t save_frame;  /* 1-based: the K-th frame read */
    uint64_t frames;      /* with has_frames */
    int has_frames;
    double seconds;       /* 0 = no limit */
    double timeout;       /* 0 = none */
    int wait_file, verify, any_format, keep_going, quiet;
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
            "  -K, --keep-going     with --verify: count mismatching frames, do not stop\n"
            "  -n, --frames N       stop after N frames\n"
            "  -t, --seconds S      stop after S seconds\n"
            "  -o, --save FILE      save one frame: PNG if FILE ends in .png, else PPM (P6;\n"
            "                       PGM for gray frames). Without --frames or --seconds,\n"
            "                       stop once it is saved\n"
            "  -k, --save-frame K   save the K-th frame read (default 1)\n"
            "  -T, --timeout S      exit with status 3 when no frame arrives for S seconds\n"
            "                       (from the start for the first frame, then since the last)\n"
            "  -a, --any-format     also take frames that are not RGB8 (rgba8, gray8, gray16,\n"
            "                       float32); without it such frames are skipped and counted\n"
            "  -q, --quiet          no status lines or notes on stderr (errors still)\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Status lines go to stderr; the summary goes to stdout:\n"
            "  smi-read: 600 frames, 0 mismatches, 59.9 frames/s, 0 dropped\n"
            "\n"
            "Exit status: 0 ok, 1 verification failure or error, 2 usage error, 3 timeout.\n");
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

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, options_t *o)
{
    static const struct option options[] = {
        {"wait-file", no_argument, NULL, 'w'},
        {"verify", no_argument, NULL, 'v'},
        {"keep-going", no_argument, NULL, 'K'},
        {"frames", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 't'},
        {"save", required_argument, NULL, 'o'},
        {"save-frame", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 'T'},
        {"any-format", no_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    int save_frame_given = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":wvKn:t:o:k:T:aqh", options, NULL);
        if (c == -1)
            break;
        switch (c) {
        case 'w': o->wait_file = 1; break;
        case 'v': o->verify = 1; break;
        case 'K': o->keep_going = 1; break;
        case 'a': o->any_format = 1; break;
        case 'q': o->quiet = 1; break;
        case 'n':
            if (smi_tool_parse_u64(optarg, &o->frames) != 0 || o->frames == 0)
                return usage_error("--frames wants a whole number >= 1", optarg);
            o->has_frames = 1;
            break;
        case 't':
            if (smi_tool_parse_nonneg(optarg, &o->seconds) != 0 || o->seconds <= 0.0)
                return usage_error("--seconds wants a number of seconds > 0", optarg);
            break;
        case 'T':
            if (smi_tool_parse_nonneg(optarg, &o->timeout) != 0 || o->timeout <= 0.0)
                return usage_error("--timeout wants a number of seconds > 0", optarg);
            break;
        case 'o':
            if (!has_suffix(optarg, ".png") && !has_suffix(optarg, ".ppm") &&
                !has_suffix(optarg, ".pgm") && !has_suffix(optarg, ".pnm"))
                return usage_error("--save wants a file name ending in .png, .ppm, .pgm or "
                                   ".pnm",
                                   optarg);
            o->save = optarg;
            break;
        case 'k':
            if (smi_tool_parse_u64(optarg, &o->save_frame) != 0 || o->save_frame == 0)
                return usage_error("--save-frame wants a whole number >= 1", optarg);
            save_frame_given = 1;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            smi_tool_option_error("smi-read", c, argv);
            fprintf(stderr, "Try 'smi-read --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error("no FILE given", NULL);
    if (optind + 1 < argc)
        return usage_error("only one FILE, please; extra argument", argv[optind + 1]);
    o->path = argv[optind];
    if (save_frame_given && o->save == NULL)
        return usage_error("--save-frame needs --save", NULL);
    if (o->keep_going && !o->verify)
        return usage_error("--keep-going needs --verify", NULL);
    if (o->save_frame == 0)
        o->save_frame = 1;
    return -1;
}

/* A file is worth attaching to once a server has set it up. A zero-filled
   file (just created; its server has not written the header yet, even if it
   already holds the server lock) would be taken for an EnSight stream with no
   frame: this client would claim EnSight's one client place, and the server's
   initialization would then undo the attach. Returns NOERROR when ready,
   else why not: inspect's error (never blocking: a FIFO at the path is
   UNSAFE_FILE at once), or BAD_FILE_SIZE for a file no server set up yet. */
static SharedMemoryImageError file_ready(const char *path)
{
    SharedMemoryStreamInfo info;
    memset(&info, 0, sizeof info);
    SharedMemoryImageError rc = SharedMemoryImageStream_inspect(path, &info);
    if (rc != IMAGESTREAM_NOERROR)
        return rc < IMAGESTREAM_NOERROR ? rc : IMAGESTREAM_BAD_FILE_SIZE;
    if (info.layout == IMAGESTREAM_LAYOUT_EXTENDED)
        return IMAGESTREAM_NOERROR;
    for (uint32_t i = 0; i < info.buffer_count && i < IMAGESTREAM_MAX_BUFFERS; i++)
        if (info.buffers[i].state != 0)
            return IMAGESTREAM_NOERROR; /* an EnSight server initialized it (4), or frames flow */
    return IMAGESTREAM_BAD_FILE_SIZE;
}

/* With --wait-file, what may still change is waited for: a missing, short,
   invalid file, and one refused as unsafe (a FIFO or a link may be replaced
   by the real file). */
static int retry_while_waiting(SharedMemoryImageError rc)
{
    return rc == IMAGESTREAM_BAD_FILE_SIZE || rc == IMAGESTREAM_UNABLE_TO_OPEN_FILE ||
           rc == IMAGESTREAM_BAD_FILE_FORMAT || rc == IMAGESTREAM_UNABLE_TO_MAP_FILE ||
           rc == IMAGESTREAM_UNSAFE_FILE;
}

/* "cannot attach" and timeout messages: the library's string, and for an
   unsafe file what it is. */
static void print_attach_error(const char *what, const char *path, SharedMemoryImageError rc)
{
    char detail[128] = "";
    if (rc == IMAGESTREAM_UNSAFE_FILE)
        smi_tool_unsafe_detail(path, detail, sizeof detail);
    fprintf(stderr, "%s%s%s\n", what, SharedMemoryImageStream_errorstring(rc), detail);
}

typedef struct reader_t {
    uint64_t frames, dropped, mismatches, skipped, backwards, unverified;
    uint32_t last_frame;
    uint32_t skipped_format;
    double t_first, t_last;
    uint64_t frames_at_report, dropped_at_report;
} reader_t;

static void print_status(const reader_t *r, SharedMemoryImageStream stream, double since_report)
{
    SharedMemoryStreamInfo info;
    const char *server = "";
    if (SharedMemoryImageStream_info(stream, &info) == IMAGESTREAM_NOERROR &&
        info.layout == IMAGESTREAM_LAYOUT_EXTENDED)
        server = info.server_alive ? ", server alive" : ", no server";
    fprintf(stderr, "smi-read: %.1f frames/s, %llu dropped, %llu frames",
            since_report > 0.0 ? (double)(r->frames - r->frames_at_report) / since_report : 0.0,
            (unsigned long long)(r->dropped - r->dropped_at_report),
            (unsigned long long)r->frames);
    if (r->frames > 0)
        fprintf(stderr, ", last frame %u", r->last_frame);
    if (r->skipped > 0)
        fprintf(stderr, ", %llu skipped (%s)", (unsigned long long)r->skipped,
                smi_tool_format_name(r->skipped_format));
    fprintf(stderr, "%s\n", server);
}

int main(int argc, char **argv)
{
    options_t o;
    int status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;
    if (smi_tool_install_stop_handler() != 0) {
        perror("smi-read: sigaction");
        return EXIT_FAIL;
    }

    const double start = smi_tool_now_s();
    int exit_status = EXIT_OK;
    SharedMemoryImageStream stream = NULL;
    SharedMemoryImageError rc;
    reader_t r;
    memset(&r, 0, sizeof r);
    uint8_t *save_copy = NULL;
    int timed_out = 0;

    /* Attach, waiting for the file if asked. */
    const uint32_t create_options =
        o.any_format ? IMAGESTREAM_OPTIONS_ANYFORMAT : IMAGESTREAM_OPTIONS_NONE;
    int noted_unsafe = 0;
    for (;;) {
        /* Neither call blocks (a FIFO at the path is refused at once), so
           --timeout and SIGINT/SIGTERM are seen within one 20 ms step. */
        if (o.wait_file && (rc = file_ready(o.path)) != IMAGESTREAM_NOERROR) {
            /* not ready yet: wait */
        } else {
            rc = SharedMemoryImageStream_create(o.path, create_options, &stream);
            if (rc >= IMAGESTREAM_NOERROR)
                break;
            stream = NULL;
            if (!o.wait_file || !retry_while_waiting(rc)) {
                char what[1200];
                snprintf(what, sizeof what, "smi-read: cannot attach to %s: ", o.path);
                print_attach_error(what, o.path, rc);
                return EXIT_FAIL;
            }
        }
        if (rc == IMAGESTREAM_UNSAFE_FILE && !noted_unsafe && !o.quiet) {
            char what[1200];
            snprintf(what, sizeof what, "smi-read: %s: waiting: ", o.path);
            print_attach_error(what, o.path, rc);
            noted_unsafe = 1;
        }
        if (smi_tool_stop)
            return EXIT_OK;
        if (o.timeout > 0.0 && smi_tool_now_s() - start >= o.timeout) {
            char what[1200];
            snprintf(what, sizeof what, "smi-read: timeout: %s is not a served stream after %g s: ",
                     o.path, o.timeout);
            print_attach_error(what, o.path, rc);
            return EXIT_TIMEOUT;
        }
        smi_tool_sleep_until_ns(smi_tool_now_ns() + 20000000u);
    }
    if (rc == IMAGESTREAM_RECONNECTING && !o.quiet)
        fprintf(stderr, "smi-read: %s: %s\n", o.path, SharedMemoryImageStream_errorstring(rc));

    const double attached = smi_tool_now_s();
    const double end = o.seconds > 0.0 ? attached + o.seconds : 1e300;
    double last_event = start;
    double last_report = attached;
    const int stop_after_save = o.save != NULL && !o.has_frames && o.seconds <= 0.0;
    int saved = 0;
    int stop = 0;

    while (!stop && !smi_tool_stop) {
        if (o.has_frames && r.frames >= o.frames)
            break;
        double now = smi_tool_now_s();
        if (now >= end)
            break;
        if (o.timeout > 0.0 && now - last_event >= o.timeout) {
            timed_out = 1;
            break;
        }

        /* Wake at least every 200 ms: signals do not end the wait, and the
           status line, --seconds and --timeout need the clock. */
        double wake = now + 0.2;
        if (wake > end)
            wake = end;
        if (o.timeout > 0.0 && wake > last_event + o.timeout)
            wake = last_event + o.timeout;
        if (wake > last_report + 1.0)
            wake = last_report + 1.0;
        double ms = (wake - now) * 1000.0;
        int32_t timeout_ms = ms <= 0.0 ? 0 : (int32_t)ms + 1;

        rc = SharedMemoryImageStream_wait(stream, timeout_ms);
        if (rc == IMAGESTREAM_NOERROR) {
            SharedMemoryFrame frame = NULL;
            rc = SharedMemoryImageStream_lock(stream, &frame);
            if (rc == IMAGESTREAM_NOERROR) {
                now = smi_tool_now_s();
                SharedMemoryImageDesc desc;
                memset(&desc, 0, sizeof desc);
                desc.format = IMAGESTREAM_FORMAT_RGB8;
                desc.width = frame->iWidth;
                desc.height = frame->iHeight;
                desc.depth = 1;
                if (o.any_format) {
                    SharedMemoryImageError drc = SharedMemoryImageStream_describe(stream, &desc);
                    if (drc < IMAGESTREAM_NOERROR) {
                        fprintf(stderr, "smi-read: %s: cannot describe frame %u: %s\n", o.path,
                                frame->iFrame, SharedMemoryImageStream_errorstring(drc));
                        SharedMemoryImageStream_unlock(stream);
                        exit_status = EXIT_FAIL;
                        break;
                    }
                }
                const uint32_t n = frame->iFrame;
                const uint32_t bpp = smi_tool_format_bytes(desc.format);
                const size_t stride = (size_t)frame->iWidth * bpp;

                if (r.frames > 0) {
                    if (n <= r.last_frame) {
                        if (r.backwards++ == 0)
                            fprintf(stderr,
                                    "smi-read: %s: frame numbers do not increase: frame %u "
                                    "after frame %u\n",
                                    o.path, n, r.last_frame);
                    } else {
                        r.dropped += (uint64_t)(n - r.last_frame - 1);
                    }
                } else {
                    r.t_first = now;
                }
                r.frames++;
                r.last_frame = n;
                r.t_last = now;
                last_event = now;

                if (o.verify) {
                    if (bpp == 0 || desc.depth != 1) {
                        if (r.unverified++ == 0)
                            fprintf(stderr,
                                    "smi-read: frame %u: cannot verify a %s frame of depth %u\n",
                                    n, smi_tool_format_name(desc.format), desc.depth);
                    } else {
                        smi_pattern_mismatch_t where;
                        int check = smi_pattern_check(desc.format, frame->iWidth,
                                                      frame->iHeight, n, frame->buffer, stride,
                                                      &where);
                        if (check < 0) {
                            fprintf(stderr, "smi-read: out of memory while verifying\n");
                            exit_status = EXIT_FAIL;
                            stop = 1;
                        } else if (check > 0) {
                            if (r.mismatches++ == 0) {
                                char text[256];
                                smi_pattern_describe_mismatch(&where, desc.format, text,
                                                              sizeof text);
                                fprintf(stderr,
                                        "smi-read: %s: frame %u (%ux%u %s) does not match the "
                                        "test pattern: %s\n",
                                        o.path, n, frame->iWidth, frame->iHeight,
                                        smi_tool_format_name(desc.format), text);
                            }
                            if (!o.keep_going)
                                stop = 1;
                        }
                    }
                }

                uint32_t save_w = 0, save_h = 0, save_format = 0;
                if (o.save != NULL && !saved && r.frames == o.save_frame) {
                    /* Copy out and write after unlock: never hold a lock for file I/O. */
                    size_t bytes = stride * frame->iHeight; /* first slice of a volume */
                    save_copy = malloc(bytes ? bytes : 1);
                    if (save_copy == NULL) {
                        fprintf(stderr, "smi-read: out of memory saving frame %u\n", n);
                        exit_status = EXIT_FAIL;
                        stop = 1;
                    } else {
                        memcpy(save_copy, frame->buffer, bytes);
                        save_w = frame->iWidth;
                        save_h = frame->iHeight;
                        save_format = desc.format;
                    }
                }

                rc = SharedMemoryImageStream_unlock(stream);
                if (rc < IMAGESTREAM_NOERROR) {
                    fprintf(stderr, "smi-read: %s: unlock: %s\n", o.path,
                            SharedMemoryImageStream_errorstring(rc));
                    exit_status = EXIT_FAIL;
                    break;
                }

                if (save_copy != NULL && !saved) {
                    char err[512];
                    saved = 1;
                    if (smi_image_save(o.save, save_format, save_w, save_h, save_copy,
                                       (size_t)save_w * smi_tool_format_bytes(save_format), err,
                                       sizeof err) != 0) {
                        fprintf(stderr, "smi-read: %s\n", err);
                        exit_status = EXIT_FAIL;
                        stop = 1;
                    } else {
                        if (!o.quiet)
                            fprintf(stderr, "smi-read: saved frame %u (%ux%u %s) to %s\n", n,
                                    save_w, save_h, smi_tool_format_name(save_format), o.save);
                        if (stop_after_save)
                            stop = 1;
                    }
                    free(save_copy);
                    save_copy = NULL;
                }
            } else if (rc == IMAGESTREAM_FORMAT_SKIPPED) {
                r.skipped++;
                if (r.skipped == 1 && !o.quiet)
                    fprintf(stderr,
                            "smi-read: %s: skipping frames that are not RGB8 (use "
                            "--any-format to read them)\n",
                            o.path);
            } else if (rc < IMAGESTREAM_NOERROR) {
                fprintf(stderr, "smi-read: %s: lock: %s\n", o.path,
                        SharedMemoryImageStream_errorstring(rc));
                exit_status = EXIT_FAIL;
                break;
            }
            /* NO_FRAMEAVAILABLE: the server reused the buffer first; wait again. */
        } else if (rc < IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-read: %s: wait: %s\n", o.path,
                    SharedMemoryImageStream_errorstring(rc));
            exit_status = EXIT_FAIL;
            break;
        }

        now = smi_tool_now_s();
        if (now - last_report >= 1.0) {
            if (!o.quiet)
                print_status(&r, stream, now - last_report);
            r.frames_at_report = r.frames;
            r.dropped_at_report = r.dropped;
            last_report = now;
        }
    }

    if (o.save != NULL && !saved && exit_status == EXIT_OK && !timed_out && !smi_tool_stop &&
        r.mismatches == 0) {
        fprintf(stderr, "smi-read: frame %llu was never read, nothing saved to %s\n",
                (unsigned long long)o.save_frame, o.save);
        exit_status = EXIT_FAIL;
    }
    if (timed_out) {
        fprintf(stderr, "smi-read: timeout: no frame from %s for %g s", o.path, o.timeout);
        if (r.skipped > 0)
            fprintf(stderr, " (%llu frames skipped: not RGB8; try --any-format)",
                    (unsigned long long)r.skipped);
        fprintf(stderr, "\n");
    }

    double rate = 0.0;
    if (r.frames >= 2 && r.t_last > r.t_first)
        rate = (double)(r.frames - 1) / (r.t_last - r.t_first);
    printf("smi-read: %llu frames, %llu mismatches, %.1f frames/s, %llu dropped",
           (unsigned long long)r.frames, (unsigned long long)r.mismatches, rate,
           (unsigned long long)r.dropped);
    if (r.frames > 0)
        printf(", last frame %u", r.last_frame);
    if (r.skipped > 0)
        printf(", %llu skipped", (unsigned long long)r.skipped);
    if (r.backwards > 0)
        printf(", %llu out of order", (unsigned long long)r.backwards);
    if (r.unverified > 0)
        printf(", %llu unverified", (unsigned long long)r.unverified);
    printf("\n");
    fflush(stdout);

    rc = SharedMemoryImageStream_destroy(stream);
    if (rc < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-read: closing %s: %s\n", o.path,
                SharedMemoryImageStream_errorstring(rc));
        if (exit_status == EXIT_OK)
            exit_status = EXIT_FAIL;
    }
    free(save_copy);

    if (exit_status != EXIT_OK)
        return exit_status;
    if (o.verify && (r.mismatches > 0 || r.backwards > 0))
        return EXIT_FAIL;
    if (timed_out)
        return EXIT_TIMEOUT;
    return EXIT_OK;
}
