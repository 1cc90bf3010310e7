/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-publish -- serve a shared-memory image stream: publish the moving test
 * pattern (smi_pattern.h), or a PPM image over and over, at a fixed rate.
 *
 * It creates FILE, or grows it, to hold two frames, opens it as the server
 * (extended layout unless --ensight) and publishes zero-copy (acquire, fill,
 * publish) or, with --copy, through putframe. The pattern of each frame is
 * drawn for the frame number clients will see: with acquire it is the number
 * the library presets; with --copy the tool numbers frames on from the
 * stream's last frame (so a restarted server never goes backwards and the
 * library never has to raise a number).
 *
 * Exit status: 0 done (also after SIGINT/SIGTERM); 1 error (message on
 * stderr with the library's error string); 2 usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_cli.h"
#include "smi_clock.h"
#include "smi_format.h"
#include "smi_image.h"
#include "smi_pattern.h"

typedef struct options_t {
    const char *path;
    const char *image;
    uint32_t width, height, format;
    double rate;       /* Hz; 0 = as fast as possible */
    double seconds;    /* 0 = no limit */
    double warmup;     /* seconds published before the measured window (0: none) */
    uint64_t frames;   /* with has_frames */
    int has_frames;
    uint32_t min_buffers, max_buffers; /* extended layout; 0: the library's default */
    int ensight, copy, flip, bottom_up, any_file, quiet;
} options_t;

static void usage(FILE *out)
{
    char formats[160];
    smi_tool_format_names(formats, sizeof formats);
    fprintf(out,
            "Usage: smi-publish [OPTION]... FILE\n"
            "Serve the shared-memory image stream FILE (created or grown as needed) and\n"
            "publish a moving test pattern, or a PPM image, at a fixed rate.\n"
            "\n"
            "  -s, --size WxH       frame size (default 640x480)\n"
            "  -r, --rate HZ        frames per second (default 60; 0 = as fast as possible)\n"
            "  -n, --frames N       stop after N frames (published, dropped or unconnected)\n"
            "  -t, --seconds S      stop after S seconds (default: run until SIGINT/SIGTERM)\n"
            "  -w, --warmup S       publish for S seconds before the measured window (start-up,\n"
            "                       first page faults and clients attaching stay out of it):\n"
            "                       a first summary line covers the window only (--seconds\n"
            "                       long)\n"
            "  -f, --format FMT     one of %s\n"
            "                       (default rgb8; other than rgb8: extended layout only)\n"
            "  -e, --ensight        write EnSight's layout (one client, RGB8) instead of\n"
            "                       the extended layout\n"
            "  -b, --buffers [MIN:]MAX  extended layout: use at most MAX buffers (1..8,\n"
            "                       default 8: one is added each time clients hold every\n"
            "                       buffer), MIN of them made at start (default 2)\n"
            "  -c, --copy           publish with putframe (a copy) instead of zero-copy\n"
            "                       acquire/publish\n"
            "  -F, --flip           with --copy: hand putframe the rows bottom first and let\n"
            "                       IMAGESTREAM_OPTIONS_FLIPVERTICAL turn them upright\n"
            "  -u, --bottom-up      store the rows bottom row first, as OpenGL and VTK have\n"
            "                       them, and mark the frames so (IMAGESTREAM_FRAME_BOTTOMUP;\n"
            "                       every reader shows them upright; EnSight's layout\n"
            "                       reverses them)\n"
            "  -i, --image FILE     publish this binary PPM (P6) instead of the pattern;\n"
            "                       its size replaces --size\n"
            "  -A, --any-file       use FILE as it is, whoever could change it: another\n"
            "                       user's file, one others may write or replace, a symbolic\n"
            "                       link (IMAGESTREAM_OPTIONS_ANYFILE; for streams shared\n"
            "                       between users on purpose; such a file is not grown).\n"
            "                       Without it such files are refused, and the message says\n"
            "                       which rule and the fix\n"
            "  -q, --quiet          no status lines or notes on stderr (errors still)\n"
            "  -h, --help           show this help and exit\n"
            "\n"
            "Every second a status line goes to stderr: frames published, dropped (no free\n"
            "buffer: clients hold them all) and unconnected (no client attached). The summary\n"
            "goes to stdout.\n"
            "\n"
            "Test pattern of frame n (the number clients see), pixel (x, y), y = 0 at the\n"
            "top, RGB8: R = (x + n) & 255, G = (3y + n) & 255,\n"
            "B = ((x >> 8) ^ ((y >> 8) << 4) ^ 7n) & 255. Other formats: smi_pattern.h.\n"
            "\n"
            "Exit status: 0 done (also on SIGINT/SIGTERM), 1 error, 2 usage error.\n",
            formats);
}

static int usage_error(const char *message, const char *arg)
{
    return smi_tool_usage_error("smi-publish", message, arg);
}

/* One option's value, checked; c is its short name. Returns SMI_CLI_RUN, or 2. */
static int parse_value(int c, const char *arg, options_t *o)
{
    switch (c) {
    case 's':
        if (smi_tool_parse_size(arg, &o->width, &o->height) != 0)
            return usage_error("--size wants WIDTHxHEIGHT, each 1..65536", arg);
        break;
    case 'r':
        if (smi_tool_parse_nonneg(arg, &o->rate) != 0)
            return usage_error("--rate wants a number of frames per second >= 0", arg);
        break;
    case 'n':
        if (smi_tool_parse_u64(arg, &o->frames) != 0)
            return usage_error("--frames wants a whole number >= 0", arg);
        o->has_frames = 1;
        break;
    case 't':
        if (smi_tool_parse_nonneg(arg, &o->seconds) != 0 || o->seconds <= 0.0)
            return usage_error("--seconds wants a number of seconds > 0", arg);
        break;
    case 'w':
        if (smi_tool_parse_nonneg(arg, &o->warmup) != 0)
            return usage_error("--warmup wants a number of seconds >= 0", arg);
        break;
    case 'f':
        if (smi_tool_parse_format(arg, &o->format) != 0) {
            char names[160], message[200];
            smi_tool_format_names(names, sizeof names);
            snprintf(message, sizeof message, "--format wants one of %s", names);
            return usage_error(message, arg);
        }
        break;
    case 'i': o->image = arg; break;
    case 'b': {
        const char *colon = strchr(arg, ':');
        char lo[16] = "2";
        if (colon && (size_t)(colon - arg) < sizeof lo) {
            memcpy(lo, arg, (size_t)(colon - arg));
            lo[colon - arg] = 0;
        }
        if ((colon && (size_t)(colon - arg) >= sizeof lo) ||
            smi_tool_parse_u32(lo, &o->min_buffers) != 0 ||
            smi_tool_parse_u32(colon ? colon + 1 : arg, &o->max_buffers) != 0 ||
            o->max_buffers < 1 || o->max_buffers > IMAGESTREAM_MAX_BUFFERS ||
            o->min_buffers < 1 || (colon && o->min_buffers > o->max_buffers))
            return usage_error("--buffers wants MAX or MIN:MAX, 1 <= MIN <= MAX <= 8", arg);
        if (!colon && o->min_buffers > o->max_buffers)
            o->min_buffers = o->max_buffers;
        break;
    }
    }
    return SMI_CLI_RUN;
}

/* Options that do not go together. Returns SMI_CLI_RUN, or 2. */
static int check_combination(const options_t *o, int size_given)
{
    if (o->flip && !o->copy)
        return usage_error("--flip applies to putframe only: add --copy", NULL);
    if (o->flip && o->bottom_up)
        return usage_error("--flip turns rows given bottom first upright, --bottom-up stores "
                           "them so: choose one", NULL);
    if (o->ensight && o->format != IMAGESTREAM_FORMAT_RGB8)
        return usage_error("the EnSight layout carries rgb8 only; drop --format or --ensight",
                           NULL);
    if (o->ensight && o->max_buffers != 0)
        return usage_error("the EnSight layout always has two blocks; drop --buffers", NULL);
    if (o->image != NULL && o->format != IMAGESTREAM_FORMAT_RGB8)
        return usage_error("--image publishes rgb8 only; drop --format", NULL);
    if (o->image != NULL && size_given)
        fprintf(stderr, "smi-publish: note: --size is ignored, the image sets the size\n");
    return SMI_CLI_RUN;
}

/* Returns SMI_CLI_RUN to go on, or the exit status. */
static int parse_options(int argc, char **argv, options_t *o)
{
    static const struct option options[] = {
        {"size", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"frames", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'},
        {"ensight", no_argument, NULL, 'e'},
        {"buffers", required_argument, NULL, 'b'},
        {"copy", no_argument, NULL, 'c'},
        {"flip", no_argument, NULL, 'F'},
        {"bottom-up", no_argument, NULL, 'u'},
        {"image", required_argument, NULL, 'i'},
        {"any-file", no_argument, NULL, 'A'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char optstring[32];
    smi_cli_optstring(options, optstring, sizeof optstring);
    memset(o, 0, sizeof *o);
    o->width = 640;
    o->height = 480;
    o->rate = 60.0;
    o->format = IMAGESTREAM_FORMAT_RGB8;
    int size_given = 0, status = SMI_CLI_RUN, c;
    while (status == SMI_CLI_RUN &&
           (c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
        switch (c) {
        case 'e': o->ensight = 1; break;
        case 'c': o->copy = 1; break;
        case 'F': o->flip = 1; break;
        case 'u': o->bottom_up = 1; break;
        case 'A': o->any_file = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case '?':
        case ':':
            return smi_tool_option_usage_error("smi-publish", c, argv);
        default:
            size_given |= c == 's';
            status = parse_value(c, optarg, o);
        }
    }
    if (status == SMI_CLI_RUN)
        status = smi_cli_one_file("smi-publish", argc, argv, &o->path);
    return status == SMI_CLI_RUN ? check_combination(o, size_given) : status;
}

typedef struct publisher_t {
    const options_t *o;
    SharedMemoryImageStream server;
    SharedMemoryImageDesc desc;   /* format and size of every frame */
    size_t frame_bytes;
    uint8_t *local;               /* copy mode: the frame handed to putframe */
    uint8_t *image;               /* --image: the frame as it is stored */
    uint32_t next_frame;          /* copy mode: number of the next frame */
    int numbering_checked;        /* copy mode: first publish compared with the file */
    uint32_t last_frame;          /* number of the last frame published */
    uint64_t published, dropped, unconnected;
    uint64_t start_ns;            /* when publishing began */
    uint64_t next_report_ns;      /* when the next status line is due */
    uint64_t published_at_report; /* published when the last one was printed */
} publisher_t;

/* Does the stream hold frames of an earlier server? */
static int holds_frames(const SharedMemoryStreamInfo *info)
{
    if (info->layout == IMAGESTREAM_LAYOUT_EXTENDED)
        return info->last_sequence != 0;
    return info->buffers[0].width != 0 || info->buffers[1].width != 0; /* headers keep them */
}

/* Publish one frame. Returns the library's code; *was_published tells whether
   the frame reached the file. */
static SharedMemoryImageError publish_one(publisher_t *p, int *was_published)
{
    const options_t *o = p->o;
    const int rgb8 = o->format == IMAGESTREAM_FORMAT_RGB8;
    const size_t stride = (size_t)o->width * smi_tool_format_bytes(o->format);
    SharedMemoryImageError rc;
    uint32_t n;
    *was_published = 0;
    p->desc.timestamp = smi_tool_unix_time();

    if (!o->copy) {
        SharedMemoryFrame frame = NULL;
        rc = rgb8 && !o->bottom_up
                 ? SharedMemoryImageStream_acquire(p->server, o->width, o->height, &frame)
                 : SharedMemoryImageStream_acquireformat(p->server, &p->desc, &frame);
        if (rc != IMAGESTREAM_NOERROR)
            return rc;
        n = frame->iFrame; /* the number clients will see: draw exactly that frame */
        if (p->image != NULL)
            memcpy(frame->buffer, p->image, p->frame_bytes);
        else
            smi_pattern_fill(o->format, o->width, o->height, n, frame->buffer, stride,
                             o->bottom_up);
        rc = SharedMemoryImageStream_publish(p->server);
        if (rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_UNCONNECTED) {
            *was_published = 1;
            p->last_frame = n;
        }
        return rc;
    }

    n = p->next_frame;
    const uint8_t *pixels = p->local;
    if (p->image != NULL) {
        pixels = p->image; /* already in putframe's row order (see main) */
    } else {
        /* With --flip the library reverses the rows: hand it the pattern bottom
           row first, so clients see it upright. With --bottom-up it is stored
           so. */
        smi_pattern_fill(o->format, o->width, o->height, n, p->local, stride,
                         o->flip || o->bottom_up);
    }
    if (rgb8 && !o->bottom_up) {
        struct _SharedMemoryFrame frame = {n, o->width, o->height, (uint8_t *)pixels};
        rc = SharedMemoryImageStream_putframe(p->server, &frame);
    } else {
        rc = SharedMemoryImageStream_putframeformat(p->server, &p->desc, n, pixels);
    }
    /* The EnSight layout drops a frame nobody listens to; the extended one keeps it. */
    if (rc == IMAGESTREAM_NOERROR || (rc == IMAGESTREAM_UNCONNECTED && !o->ensight)) {
        *was_published = 1;
        if (!p->numbering_checked) {
            /* After a takeover the library raises a number that is not above
               the last one in the file. Our start number comes from the file,
               so this should not happen; if it does, follow the library. */
            SharedMemoryStreamInfo info;
            p->numbering_checked = 1;
            if (SharedMemoryImageStream_info(p->server, &info) == IMAGESTREAM_NOERROR &&
                info.last_frame != n) {
                fprintf(stderr,
                        "smi-publish: frame %u was published as frame %u; numbering on from "
                        "there\n",
                        n, info.last_frame);
                n = info.last_frame;
            }
        }
        p->last_frame = n;
        p->next_frame = n + 1;
    }
    return rc;
}

static void print_status(const publisher_t *p, double elapsed, uint64_t published_last_second)
{
    SharedMemoryStreamInfo info;
    char clients[32] = "";
    if (SharedMemoryImageStream_info(p->server, &info) == IMAGESTREAM_NOERROR)
        snprintf(clients, sizeof clients, ", %u client%s", info.clients,
                 info.clients == 1 ? "" : "s");
    fprintf(stderr,
            "smi-publish: %.1f s: %llu published (%llu/s), %llu dropped, %llu unconnected, "
            "last frame %u%s\n",
            elapsed, (unsigned long long)p->published, (unsigned long long)published_last_second,
            (unsigned long long)p->dropped, (unsigned long long)p->unconnected, p->last_frame,
            clients);
}

/* Zero-copy publishing draws straight into the file: if another process
   truncates it meanwhile, the drawing faults (SIGBUS). Say so and exit 1,
   like any other error, instead of dying of the signal. */
static void on_sigbus(int sig)
{
    static const char message[] =
        "smi-publish: the stream file was truncated under the server (SIGBUS)\n";
    (void)sig;
    (void)!write(2, message, sizeof message - 1);
    _exit(1);
}

static void install_sigbus_handler(void)
{
    struct sigaction bus;
    memset(&bus, 0, sizeof bus);
    bus.sa_handler = on_sigbus;
    sigaction(SIGBUS, &bus, NULL);
}

/* The frames' description and buffers: --image read (its size replaces
   --size; stored bottom row first for --copy --flip and --bottom-up), the local frame of copy
   mode. Returns 0, or 1 after a message. */
static int prepare_frames(publisher_t *p, options_t *o)
{
    char err[512];
    if (o->image != NULL &&
        smi_image_read_ppm(o->image, &o->width, &o->height, &p->image, err, sizeof err) != 0) {
        fprintf(stderr, "smi-publish: %s\n", err);
        return 1;
    }
    const uint64_t frame_bytes = (uint64_t)o->width * o->height * smi_tool_format_bytes(o->format);
    if (frame_bytes > SIZE_MAX / 2) {
        fprintf(stderr, "smi-publish: a %ux%u frame is too large\n", o->width, o->height);
        return 1;
    }
    p->frame_bytes = (size_t)frame_bytes;
    p->desc.size = sizeof p->desc;
    p->desc.flags = o->bottom_up ? IMAGESTREAM_FRAME_BOTTOMUP : 0;
    p->desc.format = o->format;
    p->desc.width = o->width;
    p->desc.height = o->height;
    p->desc.depth = 1;
    p->desc.spacing[0] = p->desc.spacing[1] = p->desc.spacing[2] = 1.0;

    if (p->image != NULL && ((o->copy && o->flip) || o->bottom_up)) {
        /* putframe will reverse the rows, or they are stored bottom row
           first: reverse them once. */
        const size_t stride = (size_t)o->width * 3;
        uint8_t *flipped = malloc(p->frame_bytes);
        if (flipped == NULL) {
            fprintf(stderr, "smi-publish: out of memory\n");
            return 1;
        }
        for (uint32_t y = 0; y < o->height; y++)
            memcpy(flipped + (size_t)(o->height - 1 - y) * stride, p->image + (size_t)y * stride,
                   stride);
        free(p->image);
        p->image = flipped;
    }
    if (o->copy && p->image == NULL) {
        p->local = malloc(p->frame_bytes);
        if (p->local == NULL) {
            fprintf(stderr, "smi-publish: out of memory for a %ux%u frame\n", o->width,
                    o->height);
            return 1;
        }
    }
    return 0;
}

/* Serve the file (made or grown: SharedMemoryImageStream_serve()); number
   frames on from an earlier server's. Returns 0, or 1 after a message. */
static int open_server(publisher_t *p)
{
    const options_t *o = p->o;
    uint32_t options = IMAGESTREAM_OPTIONS_NONE;
    if (o->any_file)
        options |= IMAGESTREAM_OPTIONS_ANYFILE;
    if (o->flip)
        options |= IMAGESTREAM_OPTIONS_FLIPVERTICAL;
    SharedMemoryImageError rc = SharedMemoryImageStream_serve(
        o->path, o->ensight ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED, &p->desc,
        options, &p->server, NULL);
    if (rc < IMAGESTREAM_NOERROR) {
        char text[1400];
        fprintf(stderr, "smi-publish: cannot create %s for %ux%u %s frames: %s\n", o->path,
                o->width, o->height, smi_tool_format_name(o->format),
                SharedMemoryImageStream_openerrorstring(o->path, options, rc, SMI_TOOL_OPTIN,
                                                        text, sizeof text));
        return 1;
    }
    if (o->max_buffers != 0) {
        SharedMemoryImageError brc =
            SharedMemoryImageStream_setbuffers(p->server, o->min_buffers, o->max_buffers);
        if (brc < IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-publish: %s: cannot make %u buffers: %s\n", o->path,
                    o->min_buffers, SharedMemoryImageStream_errorstring(brc));
            return 1;
        }
    }
    if (rc == IMAGESTREAM_RECONNECTING && !o->quiet)
        fprintf(stderr, "smi-publish: %s: taking over the stream (%s)\n", o->path,
                SharedMemoryImageStream_errorstring(rc));
    /* Number from 0 in a new file, on from the frames an earlier server left. */
    p->next_frame = 0;
    SharedMemoryStreamInfo info;
    if (SharedMemoryImageStream_info(p->server, &info) == IMAGESTREAM_NOERROR &&
        holds_frames(&info)) {
        p->last_frame = info.last_frame;
        p->next_frame = info.last_frame + 1;
    }
    if (!o->quiet)
        fprintf(stderr, "smi-publish: serving %s (%s layout, %ux%u %s, %s, %g Hz)\n", o->path,
                o->ensight ? "EnSight" : "extended", o->width, o->height,
                smi_tool_format_name(o->format),
                o->copy ? (o->flip ? "putframe with FLIPVERTICAL" : "putframe") : "zero-copy",
                o->rate);
    return 0;
}

/* Wait until the next frame is due (period 0: at once). Returns 1 to publish
   now, 0 to stop (signal, or `end` reached), -1 to look again (woken early by
   a signal that does not stop us). */
static int pace(uint64_t *deadline, uint64_t period, uint64_t end)
{
    if (period > 0) {
        uint64_t now = smi_tool_now_ns();
        if (*deadline > now) {
            smi_tool_sleep_until_ns(*deadline < end ? *deadline : end);
            if (smi_tool_stop)
                return 0;
            now = smi_tool_now_ns();
            if (now >= end)
                return 0;
            if (now < *deadline)
                return -1;
        } else if (now - *deadline > period) {
            *deadline = now; /* too far behind: do not burst to catch up */
        }
        *deadline += period;
    }
    return smi_tool_now_ns() < end;
}

/* Count what publish_one() answered. Returns 0 to go on, 1 on an error
   (reported here). */
static int count_result(publisher_t *p, SharedMemoryImageError rc, int was_published)
{
    const options_t *o = p->o;
    if (was_published)
        p->published++;
    if (rc == IMAGESTREAM_NO_BUFFERAVAILABLE) {
        p->dropped++;
    } else if (rc == IMAGESTREAM_UNCONNECTED) {
        p->unconnected++;
    } else if (rc < IMAGESTREAM_NOERROR) {
        fprintf(stderr, "smi-publish: %s: cannot publish a %ux%u %s frame: %s\n", o->path,
                o->width, o->height, smi_tool_format_name(o->format),
                SharedMemoryImageStream_errorstring(rc));
        SharedMemoryStreamInfo info;
        if (rc == IMAGESTREAM_FRAME_TOO_LARGE &&
            SharedMemoryImageStream_info(p->server, &info) == IMAGESTREAM_NOERROR)
            fprintf(stderr,
                    "smi-publish: the stream's buffers hold %llu bytes, a frame needs %zu; "
                    "remove %s to start afresh\n",
                    (unsigned long long)info.buffer_size, p->frame_bytes, o->path);
        return 1;
    }
    return 0;
}

/* The status line, once a second. */
static void report_if_due(publisher_t *p)
{
    uint64_t now = smi_tool_now_ns();
    if (now < p->next_report_ns)
        return;
    if (!p->o->quiet)
        print_status(p, (double)(now - p->start_ns) * 1e-9,
                     p->published - p->published_at_report);
    p->published_at_report = p->published;
    p->next_report_ns += 1000000000u;
    if (p->next_report_ns <= now)
        p->next_report_ns = now + 1000000000u;
}

/* Publish at the rate asked until --frames, --seconds or a signal ends it,
   then print the summary. Returns the exit status. */
static int publish_loop(publisher_t *p)
{
    const options_t *o = p->o;
    p->start_ns = smi_tool_now_ns();
    p->next_report_ns = p->start_ns + 1000000000u;
    const uint64_t period = o->rate > 0.0 ? (uint64_t)(1e9 / o->rate) : 0;
    const uint64_t warm_ns = (uint64_t)(o->warmup * 1e9);
    int warm = warm_ns == 0; /* in the measured window */
    /* (Until a frame is published after the warm-up, e.g. while every
       buffer is held, the run may last 10 s longer.) */
    uint64_t end = o->seconds > 0.0 ? p->start_ns + (uint64_t)(o->seconds * 1e9) +
                                          (warm ? 0 : warm_ns + 10000000000u)
                                    : UINT64_MAX;
    uint64_t win_start = p->start_ns, win_pub = 0, win_drop = 0, win_unc = 0;
    uint64_t deadline = p->start_ns;
    uint64_t attempts = 0;
    int status = 0;
    while (!smi_tool_stop && (!o->has_frames || attempts < o->frames)) {
        int due = pace(&deadline, period, end);
        if (due < 0)
            continue;
        if (due == 0)
            break;
        int was_published;
        SharedMemoryImageError rc = publish_one(p, &was_published);
        attempts++;
        if (count_result(p, rc, was_published) != 0) {
            status = 1;
            break;
        }
        if (!warm && was_published && smi_tool_now_ns() - p->start_ns >= warm_ns) {
            /* Warm (pages faulted in, clients attached): the window opens. */
            warm = 1;
            win_start = smi_tool_now_ns();
            win_pub = p->published;
            win_drop = p->dropped;
            win_unc = p->unconnected;
            if (o->seconds > 0.0)
                end = win_start + (uint64_t)(o->seconds * 1e9);
        }
        report_if_due(p);
    }
    if (warm_ns > 0) {
        double window = warm ? (double)(smi_tool_now_ns() - win_start) * 1e-9 : 0.0;
        printf("smi-publish: measured window %.3f s after a warm-up of %.1f s: %llu frames"
               " published, %llu dropped, %llu unconnected, %.1f frames/s\n", window,
               o->warmup, (unsigned long long)(p->published - win_pub),
               (unsigned long long)(p->dropped - win_drop),
               (unsigned long long)(p->unconnected - win_unc),
               window > 0.0 ? (double)(p->published - win_pub) / window : 0.0);
    }
    double elapsed = (double)(smi_tool_now_ns() - p->start_ns) * 1e-9;
    /* Frame numbers start at 0: "last frame 0" would not tell "none". */
    char last[32] = "no frame published";
    if (p->published > 0)
        snprintf(last, sizeof last, "last frame %u", p->last_frame);
    printf("smi-publish: %llu frames published, %llu dropped, %llu unconnected, "
           "%.1f frames/s, %s\n",
           (unsigned long long)p->published, (unsigned long long)p->dropped,
           (unsigned long long)p->unconnected,
           elapsed > 0.0 ? (double)p->published / elapsed : 0.0, last);
    fflush(stdout);
    return status;
}

/* Stop serving and free the buffers. Returns 0, or 1 when closing failed. */
static int close_publisher(publisher_t *p)
{
    int status = 0;
    if (p->server != NULL) {
        SharedMemoryImageError rc = SharedMemoryImageStream_destroy(p->server);
        if (rc < IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-publish: closing %s: %s\n", p->o->path,
                    SharedMemoryImageStream_errorstring(rc));
            status = 1;
        }
    }
    free(p->local);
    free(p->image);
    return status;
}

int main(int argc, char **argv)
{
    options_t o;
    int status = parse_options(argc, argv, &o);
    if (status != SMI_CLI_RUN)
        return status;
    install_sigbus_handler();

    publisher_t p;
    memset(&p, 0, sizeof p);
    p.o = &o;
    status = 1;
    if (prepare_frames(&p, &o) != 0) {
        /* reported */
    } else if (smi_tool_install_stop_handler() != 0) {
        perror("smi-publish: sigaction");
    } else if (open_server(&p) == 0) {
        status = publish_loop(&p);
    }
    if (close_publisher(&p) != 0)
        status = 1;
    return status;
}
