/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi-info -- show the state of a shared-memory image stream: layout, version,
 * sizes, whether a server is alive, attached clients, every buffer (state,
 * frame, size, format, holders), the last frame, and each attached client
 * (slot, how it reads, frames locked and lost, its lock).
 *
 * It reads the file through SharedMemoryImageStream_inspect() and
 * SharedMemoryImageStream_inspectclients(), which never
 * writes a byte of it and never attaches, so it is safe on a live stream (and
 * on one served by EnSight). It reads files of any owner and mode, but never
 * through a symbolic link (unless --any-file), and never waits on a FIFO
 * (both: exit status 1).
 *
 * Exit status: 0 every FILE is a valid stream; 1 a FILE is missing or not a
 * valid stream (the library's error string says why); 2 usage error.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared_memory_image.h"
#include "smi_cli.h"
#include "smi_clock.h"
#include "smi_format.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: smi-info [--json] [--any-file] FILE...\n"
            "Show the state of shared-memory image stream FILE without changing it:\n"
            "layout, version, file size, server alive, clients, buffers, last frame, and\n"
            "(extended layout) each client: slot, newest/queue/reliable, frames locked\n"
            "and (queue readers) lost, the buffer it holds, whether it waits.\n"
            "It only reads, so it reads files of any owner and mode (the files smi-read\n"
            "and smi-publish refuse without --any-file), but not through a symbolic link.\n"
            "\n"
            "  -j, --json       print one JSON object per FILE (one per line)\n"
            "  -A, --any-file   also follow a symbolic link at FILE\n"
            "  -h, --help       show this help and exit\n"
            "\n"
            "Exit status: 0 valid stream(s), 1 missing or invalid file, 2 usage error.\n");
}

static const char *layout_name(uint32_t layout)
{
    switch (layout) {
    case IMAGESTREAM_LAYOUT_ENSIGHT: return "ensight";
    case IMAGESTREAM_LAYOUT_EXTENDED: return "extended";
    default: return "unknown";
    }
}

static const char *state_name(uint32_t layout, uint32_t state)
{
    if (layout == IMAGESTREAM_LAYOUT_EXTENDED) {
        switch (state) {
        case 0: return "empty";
        case 1: return "writing";
        case 2: return "ready";
        default: return "invalid";
        }
    }
    switch (state) { /* EnSight buffer_state, LAYOUT.md section 1 */
    case 0: return "free";
    case 1: return "writing";
    case 2: return "ready";
    case 3: return "locked";
    case 4: return "no-client";
    default: return "invalid";
    }
}

/* The buffer holds a frame worth describing. */
static int buffer_has_frame(uint32_t layout, const SharedMemoryBufferInfo *b)
{
    if (b->width == 0 || b->height == 0)
        return 0;
    if (layout == IMAGESTREAM_LAYOUT_EXTENDED)
        return b->state == 2 || b->sequence != 0;
    return b->state <= 3; /* a free EnSight block still describes its last frame */
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* The attached clients, slot by slot (up to 32: the layout's slots). */
typedef struct client_list_t {
    SharedMemoryClientInfo c[32];
    uint32_t count; /* how many are listed (inspectclients may count more) */
} client_list_t;

/* How a client reads: "newest", "queue" or "reliable". */
static const char *client_mode(const SharedMemoryClientInfo *c)
{
    if (c->options & IMAGESTREAM_OPTIONS_RELIABLE)
        return "reliable";
    return (c->options & IMAGESTREAM_OPTIONS_QUEUE) ? "queue" : "newest";
}

static void print_text(const char *path, const SharedMemoryStreamInfo *info,
                       const client_list_t *clients)
{
    const int extended = info->layout == IMAGESTREAM_LAYOUT_EXTENDED;
    printf("file:         %s\n", path);
    if (extended)
        printf("layout:       extended (version %u)\n", info->version);
    else
        printf("layout:       ensight\n");
    printf("file size:    %llu bytes\n", (unsigned long long)info->file_size);
    if (info->server_alive)
        printf("server:       alive");
    else if (extended)
        printf("server:       not running");
    else
        printf("server:       none of this library (an EnSight server cannot be detected)");
    if (extended)
        printf(" (generation %u)", info->server_generation);
    printf("\n");
    printf("clients:      %u attached (%u max)\n", info->clients, info->max_clients);
    printf("buffers:      %u x %llu bytes\n", info->buffer_count,
           (unsigned long long)info->buffer_size);
    if (extended)
        printf("last frame:   %u (sequence %llu)\n", info->last_frame,
               (unsigned long long)info->last_sequence);
    else
        printf("last frame:   %u\n", info->last_frame);

    const double now = smi_tool_unix_time();
    uint32_t count = info->buffer_count;
    if (count > IMAGESTREAM_MAX_BUFFERS)
        count = IMAGESTREAM_MAX_BUFFERS;
    for (uint32_t i = 0; i < count; i++) {
        const SharedMemoryBufferInfo *b = &info->buffers[i];
        printf("buffer %u:     %s", i, state_name(info->layout, b->state));
        if (buffer_has_frame(info->layout, b)) {
            printf(", frame %u, %ux%u", b->frame, b->width, b->height);
            if (b->depth > 1)
                printf("x%u", b->depth);
            printf(" %s", smi_tool_format_name(b->format));
            if (extended)
                printf(", sequence %llu", (unsigned long long)b->sequence);
            if (isfinite(b->timestamp) && b->timestamp > 0.0)
                printf(", %.3f s old", now - b->timestamp);
        }
        printf(", %u holder%s\n", b->holders, b->holders == 1 ? "" : "s");
    }
    for (uint32_t i = 0; extended && i < clients->count; i++) {
        const SharedMemoryClientInfo *c = &clients->c[i];
        printf("client %u:     slot %u, %s, %llu frames locked", i, c->slot, client_mode(c),
               (unsigned long long)c->frames_locked);
        if (c->options & IMAGESTREAM_OPTIONS_QUEUE)
            printf(", %llu lost", (unsigned long long)c->frames_lost);
        printf(", last sequence %llu", (unsigned long long)c->last_sequence);
        if (c->holds)
            printf(", holds buffer %u", c->holds - 1);
        printf("%s\n", c->waiting ? ", waiting" : "");
    }
}

static void print_json(const char *path, const SharedMemoryStreamInfo *info,
                       const client_list_t *clients)
{
    printf("{\"file\": ");
    json_string(stdout, path);
    printf(", \"layout\": \"%s\", \"version\": %u, \"file_size\": %llu, "
           "\"server_alive\": %s, \"server_generation\": %u, \"clients\": %u, "
           "\"max_clients\": %u, \"buffer_count\": %u, \"buffer_size\": %llu, "
           "\"last_frame\": %u, \"last_sequence\": %llu, \"buffers\": [",
           layout_name(info->layout), info->version, (unsigned long long)info->file_size,
           info->server_alive ? "true" : "false", info->server_generation, info->clients,
           info->max_clients, info->buffer_count, (unsigned long long)info->buffer_size,
           info->last_frame, (unsigned long long)info->last_sequence);
    uint32_t count = info->buffer_count;
    if (count > IMAGESTREAM_MAX_BUFFERS)
        count = IMAGESTREAM_MAX_BUFFERS;
    for (uint32_t i = 0; i < count; i++) {
        const SharedMemoryBufferInfo *b = &info->buffers[i];
        printf("%s{\"index\": %u, \"state\": %u, \"state_name\": \"%s\", \"frame\": %u, "
               "\"width\": %u, \"height\": %u, \"depth\": %u, \"format\": \"%s\", "
               "\"holders\": %u, \"sequence\": %llu, \"timestamp\": %.6f}",
               i ? ", " : "", i, b->state, state_name(info->layout, b->state), b->frame,
               b->width, b->height, b->depth, smi_tool_format_name(b->format), b->holders,
               (unsigned long long)b->sequence, isfinite(b->timestamp) ? b->timestamp : 0.0);
    }
    printf("], \"client_slots\": [");
    for (uint32_t i = 0; i < clients->count; i++) {
        const SharedMemoryClientInfo *c = &clients->c[i];
        printf("%s{\"slot\": %u, \"mode\": \"%s\", \"frames_locked\": %llu, "
               "\"frames_lost\": %llu, \"last_sequence\": %llu, \"holds\": ",
               i ? ", " : "", c->slot, client_mode(c), (unsigned long long)c->frames_locked,
               (unsigned long long)c->frames_lost, (unsigned long long)c->last_sequence);
        if (c->holds)
            printf("%u", c->holds - 1);
        else
            printf("null");
        printf(", \"waiting\": %s}", c->waiting ? "true" : "false");
    }
    printf("]}\n");
}

static int show(const char *path, int json, int any_file)
{
    SharedMemoryStreamInfo info;
    memset(&info, 0, sizeof info);
    /* --any-file: the file a symbolic link points to (inspect never follows one). */
    char *real_path = any_file ? realpath(path, NULL) : NULL;
    SharedMemoryImageError rc = SharedMemoryImageStream_inspect(real_path ? real_path : path, &info);
    if (rc < IMAGESTREAM_NOERROR) {
        free(real_path);
        char text[1400];
        const char *plain = SharedMemoryImageStream_errorstring(rc);
        if (rc == IMAGESTREAM_VERSION_MISMATCH && info.version != 0)
            snprintf(text, sizeof text, "%s (extended layout version %u found)", plain,
                     info.version);
        else if (rc == IMAGESTREAM_BAD_FILE_FORMAT && info.layout == IMAGESTREAM_LAYOUT_EXTENDED)
            snprintf(text, sizeof text, "%s (extended-layout magic found, header invalid)", plain);
        else if (rc == IMAGESTREAM_BAD_FILE_FORMAT)
            snprintf(text, sizeof text,
                     "%s (no extended-layout magic, and not a valid EnSight-layout stream)", plain);
        else /* what the path is: a link, a FIFO, a folder, missing, ... */
            SharedMemoryImageStream_openerrorstring(
                path, any_file ? IMAGESTREAM_OPTIONS_ANYFILE : 0, rc, SMI_TOOL_OPTIN, text,
                sizeof text);
        fprintf(stderr, "smi-info: %s: %s\n", path, text);
        if (json) {
            printf("{\"file\": ");
            json_string(stdout, path);
            printf(", \"error\": %d, \"message\": ", rc);
            json_string(stdout, SharedMemoryImageStream_errorstring(rc));
            printf("}\n");
        }
        return 1;
    }
    client_list_t clients;
    memset(&clients, 0, sizeof clients);
    uint32_t attached = 0;
    if (SharedMemoryImageStream_inspectclients(real_path ? real_path : path, clients.c, 32,
                                               &attached) == IMAGESTREAM_NOERROR)
        clients.count = attached < 32 ? attached : 32;
    free(real_path);
    if (json)
        print_json(path, &info, &clients);
    else
        print_text(path, &info, &clients);
    return 0;
}

/* Sets *json; returns SMI_CLI_RUN to go on, or the exit status. */
static int parse_options(int argc, char **argv, int *json, int *any_file)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"any-file", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char optstring[16];
    smi_cli_optstring(options, optstring, sizeof optstring);
    *json = 0;
    *any_file = 0;
    int c;
    while ((c = getopt_long(argc, argv, optstring, options, NULL)) != -1) {
        switch (c) {
        case 'j': *json = 1; break;
        case 'A': *any_file = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            smi_tool_option_error("smi-info", c, argv);
            usage(stderr);
            return SMI_CLI_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "smi-info: no FILE given\n");
        usage(stderr);
        return SMI_CLI_USAGE;
    }
    return SMI_CLI_RUN;
}

/* Show every FILE; 1 when any is missing or invalid, else 0. */
static int show_all(int count, char **paths, int json, int any_file)
{
    int status = 0;
    for (int i = 0; i < count; i++) {
        if (!json && i > 0)
            printf("\n");
        if (show(paths[i], json, any_file) != 0)
            status = 1;
    }
    if (fflush(stdout) != 0) {
        perror("smi-info: stdout");
        return 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    int json, any_file;
    int status = parse_options(argc, argv, &json, &any_file);
    if (status != SMI_CLI_RUN)
        return status;
    return show_all(argc - optind, argv + optind, json, any_file);
}
