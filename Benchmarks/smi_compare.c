/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_compare.c -- smi-compare, the writer and the reader of one row of
 * Benchmarks/compare.sh (run that; this is its helper, not installed).
 *
 *   smi-compare writer TRANSPORT zero|one WxH PATH SECONDS WARM READERS
 *   smi-compare reader TRANSPORT zero|one WxH PATH SECONDS WARM
 *   smi-compare --gstreamer    (exit 0 when built with GStreamer)
 *
 * Every writer does the same work per frame: one memcpy-sized copy of one
 * prepared RGB frame (made once, before the clock starts) into the
 * transport. "zero": the writer copies the frame itself into the
 * transport's memory (this library's acquire/publish; a buffer of smisink's
 * pool or of shmsink's allocator, pushed to the sink); "one": the writer
 * hands the prepared frame over and the transport copies it (putframe; a
 * buffer wrapping the frame pushed to smisink or shmsink, which copy it into
 * their shared memory; send() on TCP). memcpy: the copy alone, into one of
 * two buffers of a mapped file in turn (no reader): the ceiling.
 *
 * GStreamer sinks are driven from this thread through a pad of our own
 * (stream-start, caps, segment, then gst_pad_push), so a push returns when
 * the sink has rendered the frame: no queue or second thread that the
 * library's writer does not have. The pool or allocator is the one the sink
 * proposes in its allocation query, as a GStreamer source would use it.
 *
 * Readers: "zero" reads one byte of every 4 KiB page of each frame where it
 * lies (this library's lock/unlock; shmsrc's buffers, which point into
 * shmsink's memory); "one" ends with each frame copied once into the
 * reader's own memory (SharedMemoryImageStream_copyframe; a memcpy of
 * shmsrc's buffer; smisrc, which copies every frame into its buffer; recv()
 * on TCP).
 *
 * Each side starts its clock at its first frame (a writer: once READERS
 * readers are attached), lets WARM seconds pass, counts the frames finished
 * in the next SECONDS and prints "rate FRAMES_PER_S frames N" as soon as
 * that window is over. A reader then goes on a little, uncounted, and exits;
 * a writer goes on until SIGTERM or SIGINT (the script sends it once the
 * readers are done; it is not obeyed before the writer's window is over),
 * 30 s more at most. Exit 0 when the window was complete, 1 otherwise (with
 * a message). The readers' and the writer's windows start within a frame or
 * two of each other, not at the same instant.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared_memory_image.h"
#include "smi_cli.h"
#include "smi_clock.h"

#ifdef SMI_COMPARE_GST
#include <gst/gst.h>
#endif

static const char usage[] =
    "usage: smi-compare writer memcpy|smi|smisink|shmsink|tcp zero|one WxH PATH SECONDS WARM "
    "READERS\n"
    "       smi-compare reader smi|smisrc|shmsrc|tcp zero|one WxH PATH SECONDS WARM\n"
    "       smi-compare --gstreamer   (exit 0 when built with GStreamer)\n";

/* ---- the window ----------------------------------------------------------------- */

/* Frames finished between start + warm and start + warm + seconds. */
typedef struct {
    double warm, seconds;
    uint64_t start_ns; /* 0: not started */
    uint64_t frames;
    int reported;
} Window;

static uint64_t window_begin(const Window *w)
{
    return w->start_ns + (uint64_t)(w->warm * 1e9);
}

static uint64_t window_end(const Window *w)
{
    return window_begin(w) + (uint64_t)(w->seconds * 1e9);
}

/* A reader goes on (not counting) a quarter of its window after it, 0.25 s
   at most, so that the writer's window, which starts within a frame or two
   of the readers', ends with the readers still there. */
static uint64_t reader_linger_ns(const Window *w)
{
    double s = w->seconds / 4 < 0.25 ? w->seconds / 4 : 0.25;
    return (uint64_t)(s * 1e9);
}

/* Count a frame finished now (starting the clock at the first); 1 once the
   window is over and a reader's linger too. */
static int window_frame(Window *w, int reader)
{
    uint64_t now = smi_tool_now_ns();
    if (!w->start_ns)
        w->start_ns = now;
    if (now >= window_begin(w) && now < window_end(w))
        w->frames++;
    return now >= window_end(w) + (reader ? reader_linger_ns(w) : 0);
}

static int window_report(Window *w, const char *who)
{
    if (w->reported)
        return 0;
    w->reported = 1;
    if (!w->start_ns || smi_tool_now_ns() < window_end(w)) {
        fprintf(stderr, "smi-compare: %s stopped before its window was over (%llu frames)\n",
                who, (unsigned long long)w->frames);
        printf("rate 0 frames %llu\n", (unsigned long long)w->frames);
        return 1;
    }
    printf("rate %.3f frames %llu\n", (double)w->frames / w->seconds,
           (unsigned long long)w->frames);
    fflush(stdout);
    return 0;
}

/* A writer's frame: its rate is printed as soon as its window is over (a
   shmsink writer may then block for ever in a push, waiting for a reader). */
static void writer_frame(Window *w)
{
    if (window_frame(w, 0))
        window_report(w, "writer");
}

/* One byte of every page, summed so the reads stay. */
static volatile uint8_t touch_sink;
static void touch_pages(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i += 4096)
        s = (uint8_t)(s + p[i]);
    if (n)
        s = (uint8_t)(s + p[n - 1]);
    touch_sink = s;
}

/* ---- the arguments -------------------------------------------------------------- */

typedef struct {
    int writer;
    const char *transport;
    int zero; /* 1: zero (writes in place / reads in place), 0: one copy */
    uint32_t width, height;
    size_t frame_bytes;
    const char *path;
    Window window;
    unsigned readers;
    int attached;        /* a writer: its readers are there */
    uint64_t next_check; /* a writer: when to look for them again */
    uint8_t *prepared; /* the writer's frame, made once */
    uint8_t *private_copy; /* a one-copy reader's memory */
} Args;

static int parse(int argc, char **argv, Args *a)
{
    if (argc < 8)
        return -1;
    memset(a, 0, sizeof *a);
    if (!strcmp(argv[1], "writer"))
        a->writer = 1;
    else if (strcmp(argv[1], "reader"))
        return -1;
    if (a->writer && argc != 9)
        return -1;
    if (!a->writer && argc != 8)
        return -1;
    a->transport = argv[2];
    if (!strcmp(argv[3], "zero"))
        a->zero = 1;
    else if (strcmp(argv[3], "one"))
        return -1;
    if (sscanf(argv[4], "%ux%u", &a->width, &a->height) != 2 || !a->width || !a->height ||
        a->width > 16384 || a->height > 16384)
        return -1;
    a->frame_bytes = (size_t)a->width * a->height * 3;
    a->path = argv[5];
    char *end;
    a->window.seconds = strtod(argv[6], &end);
    if (*end || !(a->window.seconds > 0))
        return -1;
    a->window.warm = strtod(argv[7], &end);
    if (*end || a->window.warm < 0)
        return -1;
    a->readers = 1;
    if (a->writer && smi_tool_parse_u32(argv[8], &a->readers))
        return -1;
    return 0;
}

static uint8_t *page_aligned(size_t n, int value)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, n ? n : 1))
        return NULL;
    memset(p, value, n); /* every page real before the clock starts */
    return p;
}

/* The writer's frame: a gradient, so no page is a shared zero page. */
static void prepare_frame(Args *a)
{
    for (size_t i = 0; i < a->frame_bytes; i++)
        a->prepared[i] = (uint8_t)(i * 7 + (i >> 12));
}

/* The writer's stop: SIGTERM/SIGINT, but not before its window is over
   (unless it never started); 30 s after the window at the latest. */
static int writer_done(const Args *a)
{
    const Window *w = &a->window;
    uint64_t now = smi_tool_now_ns();
    if (smi_tool_stop && (!w->start_ns || now >= window_end(w)))
        return 1;
    return w->start_ns && now > window_end(w) + 30000000000ull;
}

/* The stream in `path` is there, with at least `readers` clients attached. */
static int smi_clients_attached(const char *path, unsigned readers)
{
    SharedMemoryStreamInfo info;
    return SharedMemoryImageStream_inspect(path, &info) == IMAGESTREAM_NOERROR &&
           info.clients >= readers;
}

/* A stream writer published a frame: its clock starts once its readers are
   attached to the stream (looked up every 5 ms until then). */
static void writer_published(Args *a)
{
    if (a->attached) {
        writer_frame(&a->window);
        return;
    }
    uint64_t now = smi_tool_now_ns();
    if (now >= a->next_check) {
        a->attached = smi_clients_attached(a->path, a->readers);
        a->next_check = now + 5000000;
    }
}

/* ---- memcpy: the ceiling -------------------------------------------------------- */

static int run_memcpy(Args *a)
{
    int fd = open(a->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)(2 * a->frame_bytes))) {
        perror(a->path);
        return 1;
    }
    uint8_t *map = mmap(NULL, 2 * a->frame_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (uint64_t i = 0; !smi_tool_stop; i++) {
        memcpy(map + (i & 1) * a->frame_bytes, a->prepared, a->frame_bytes);
        if (window_frame(&a->window, 0))
            break;
    }
    munmap(map, 2 * a->frame_bytes);
    return window_report(&a->window, "memcpy");
}

/* ---- this library --------------------------------------------------------------- */

static int smi_writer(Args *a)
{
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    desc.format = IMAGESTREAM_FORMAT_RGB8;
    desc.width = a->width;
    desc.height = a->height;
    desc.depth = 1;
    SharedMemoryImageStream s = NULL;
    SharedMemoryImageError rc =
        SharedMemoryImageStream_createfilelayout(a->path, IMAGESTREAM_LAYOUT_EXTENDED, &desc);
    if (rc == IMAGESTREAM_NOERROR)
        rc = SharedMemoryImageStream_create(
            a->path, IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &s);
    if (rc < 0) {
        fprintf(stderr, "smi-compare: serving %s: %s\n", a->path,
                SharedMemoryImageStream_errorstring(rc));
        return 1;
    }
    struct _SharedMemoryFrame prepared = {0, a->width, a->height, a->prepared};
    while (!writer_done(a)) {
        if (a->zero) {
            SharedMemoryFrame f;
            rc = SharedMemoryImageStream_acquire(s, a->width, a->height, &f);
            if (rc == IMAGESTREAM_NOERROR) {
                memcpy(f->buffer, a->prepared, a->frame_bytes);
                rc = SharedMemoryImageStream_publish(s);
            }
        } else {
            prepared.iFrame++;
            rc = SharedMemoryImageStream_putframe(s, &prepared);
        }
        if (rc < 0) {
            fprintf(stderr, "smi-compare: publishing: %s\n", SharedMemoryImageStream_errorstring(rc));
            break;
        }
        writer_published(a);
    }
    SharedMemoryImageStream_destroy(s);
    return window_report(&a->window, "writer");
}

static int smi_reader(Args *a)
{
    SharedMemoryImageStream s = NULL;
    SharedMemoryImageError rc = IMAGESTREAM_BAD_FILE_SIZE;
    uint64_t give_up = smi_tool_now_ns() + 20000000000ull;
    while (!smi_tool_stop && smi_tool_now_ns() < give_up) {
        rc = SharedMemoryImageStream_create(a->path, 0, &s);
        if (rc >= 0)
            break;
        usleep(2000); /* the writer has not made the stream yet */
    }
    if (rc < 0) {
        fprintf(stderr, "smi-compare: reading %s: %s\n", a->path,
                SharedMemoryImageStream_errorstring(rc));
        return 1;
    }
    int failed = 0;
    while (!smi_tool_stop) {
        rc = SharedMemoryImageStream_wait(s, 2000);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            break; /* the writer is gone */
        SharedMemoryFrame f;
        rc = SharedMemoryImageStream_lock(s, &f);
        if (rc == IMAGESTREAM_NO_FRAMEAVAILABLE)
            continue;
        if (rc != IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-compare: lock: %s\n", SharedMemoryImageStream_errorstring(rc));
            failed = 1;
            break;
        }
        if (a->zero)
            touch_pages(f->buffer, a->frame_bytes);
        else
            rc = SharedMemoryImageStream_copyframe(s, a->private_copy, a->frame_bytes, 0);
        SharedMemoryImageStream_unlock(s);
        if (rc != IMAGESTREAM_NOERROR) {
            fprintf(stderr, "smi-compare: copyframe: %s\n", SharedMemoryImageStream_errorstring(rc));
            failed = 1;
            break;
        }
        if (window_frame(&a->window, 1))
            break;
    }
    SharedMemoryImageStream_destroy(s);
    return window_report(&a->window, "reader") || failed;
}

/* ---- TCP loopback --------------------------------------------------------------- */

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void socket_buffers(int fd)
{
    int size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static int tcp_writer(Args *a)
{
    int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 64) ||
        getsockname(srv, (struct sockaddr *)&addr, &len)) {
        perror("smi-compare: tcp");
        return 1;
    }
    /* The port, for the readers, in PATH (written whole, then renamed in). */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%u\n", ntohs(addr.sin_port)) < 0 || fclose(f) || rename(tmp, a->path)) {
        perror(a->path);
        return 1;
    }
    int conns[64];
    unsigned n = 0;
    while (n < a->readers && n < 64 && !smi_tool_stop) {
        int c = accept(srv, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            perror("smi-compare: accept");
            return 1;
        }
        socket_buffers(c);
        conns[n++] = c;
    }
    close(srv);
    while (!writer_done(a)) {
        for (unsigned i = 0; i < n; i++)
            if (send_all(conns[i], a->prepared, a->frame_bytes))
                goto out;
        writer_frame(&a->window);
    }
out:
    for (unsigned i = 0; i < n; i++)
        close(conns[i]);
    return window_report(&a->window, "writer");
}

static int tcp_reader(Args *a)
{
    unsigned port = 0;
    uint64_t give_up = smi_tool_now_ns() + 20000000000ull;
    while (!smi_tool_stop && smi_tool_now_ns() < give_up) {
        FILE *f = fopen(a->path, "r");
        if (f) {
            int ok = fscanf(f, "%u", &port) == 1;
            fclose(f);
            if (ok)
                break;
        }
        usleep(2000);
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || !port)
        return 1;
    socket_buffers(fd);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
        perror("smi-compare: connect");
        return 1;
    }
    while (!smi_tool_stop) {
        size_t got = 0;
        while (got < a->frame_bytes) {
            ssize_t k = recv(fd, a->private_copy + got, a->frame_bytes - got, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                goto out;
            got += (size_t)k;
        }
        if (window_frame(&a->window, 1))
            break;
    }
out:
    close(fd);
    return window_report(&a->window, "reader");
}

/* ---- GStreamer ------------------------------------------------------------------ */

#ifdef SMI_COMPARE_GST
static GstElement *gst_make(const char *factory)
{
    GstElement *e = gst_element_factory_make(factory, NULL);
    if (!e)
        fprintf(stderr, "smi-compare: GStreamer element %s not found\n", factory);
    return e;
}

/* Report an error message on the bus; 1 when one was there. */
static int gst_bus_failed(GstElement *pipe)
{
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    gst_object_unref(bus);
    if (!m)
        return 0;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        fprintf(stderr, "smi-compare: %s\n", err ? err->message : "GStreamer error");
        g_clear_error(&err);
    }
    gst_message_unref(m);
    return 1;
}

static int gst_writer(Args *a)
{
    int shm = !strcmp(a->transport, "shmsink");
    GstElement *pipe = gst_pipeline_new(NULL);
    GstElement *sink = gst_make(shm ? "shmsink" : "smisink");
    if (!sink)
        return 1;
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    /* shmsink's area: 3 frames (as this library's writer with one reader
       uses at most 3 buffers). With 6 or 12 frames, 4K ran at 3-20 frames/s
       on a loaded 2-CPU machine, where 3 kept it at 60-400 in most runs (not
       all: shmsink stalls now and then, 0-20 frames/s for a run, whatever
       its area). When the area is full, shmsink's allocator hands out
       ordinary memory and shmsink copies it (GST_DEBUG=shmsink:6 says "Not
       enough shared memory"): some of the zero-copy writer's frames are
       copied, with an area of 3 frames or of 4 alike. */
    if (shm)
        g_object_set(sink, "socket-path", a->path, "wait-for-connection", TRUE, "shm-size",
                     (guint)(a->frame_bytes * 3 + (1 << 20)), NULL);
    else
        g_object_set(sink, "location", a->path, NULL);
    gst_bin_add(GST_BIN(pipe), sink);
    GstPad *src = gst_pad_new("src", GST_PAD_SRC);
    GstPad *sinkpad = gst_element_get_static_pad(sink, "sink");
    gst_pad_set_active(src, TRUE);
    if (gst_pad_link(src, sinkpad) != GST_PAD_LINK_OK ||
        gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        gst_bus_failed(pipe);
        fprintf(stderr, "smi-compare: %s would not start\n", a->transport);
        return 1;
    }
    GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "RGB", "width",
                                        G_TYPE_INT, (int)a->width, "height", G_TYPE_INT,
                                        (int)a->height, "framerate", GST_TYPE_FRACTION, 0, 1,
                                        NULL);
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(src, gst_event_new_stream_start("smi-compare"));
    gst_pad_push_event(src, gst_event_new_caps(caps));
    gst_pad_push_event(src, gst_event_new_segment(&segment));

    /* What a source would use: the sink's pool, else its allocator. */
    GstBufferPool *pool = NULL;
    GstAllocator *allocator = NULL;
    GstAllocationParams params;
    gst_allocation_params_init(&params);
    if (a->zero) {
        GstQuery *q = gst_query_new_allocation(caps, TRUE);
        if (gst_pad_peer_query(src, q)) {
            guint size = 0, min = 0, max = 0;
            if (gst_query_get_n_allocation_pools(q) > 0)
                gst_query_parse_nth_allocation_pool(q, 0, &pool, &size, &min, &max);
            if (pool) {
                GstStructure *config = gst_buffer_pool_get_config(pool);
                gst_buffer_pool_config_set_params(config, caps, (guint)a->frame_bytes, min, max);
                if (!gst_buffer_pool_set_config(pool, config) ||
                    !gst_buffer_pool_set_active(pool, TRUE))
                    gst_clear_object(&pool);
            } else if (gst_query_get_n_allocation_params(q) > 0) {
                gst_query_parse_nth_allocation_param(q, 0, &allocator, &params);
            }
        }
        gst_query_unref(q);
        if (!pool && !allocator) {
            fprintf(stderr, "smi-compare: %s offers no memory of its own\n", a->transport);
            return 1;
        }
    }
    a->attached = shm; /* shmsink's first push waits for a reader */
    uint64_t n = 0;
    int failed = 0;
    while (!writer_done(a)) {
        GstBuffer *buf = NULL;
        if (!a->zero) {
            buf = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, a->prepared,
                                              a->frame_bytes, 0, a->frame_bytes, NULL, NULL);
        } else if (pool) {
            if (gst_buffer_pool_acquire_buffer(pool, &buf, NULL) != GST_FLOW_OK)
                buf = NULL;
        } else {
            buf = gst_buffer_new_allocate(allocator, a->frame_bytes, &params);
        }
        if (!buf) {
            fprintf(stderr, "smi-compare: no buffer from %s\n", a->transport);
            failed = 1;
            break;
        }
        if (a->zero) {
            GstMapInfo map;
            if (!gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
                gst_buffer_unref(buf);
                failed = 1;
                break;
            }
            memcpy(map.data, a->prepared, a->frame_bytes);
            gst_buffer_unmap(buf, &map);
        }
        GST_BUFFER_OFFSET(buf) = n++;
        GstFlowReturn ret = gst_pad_push(src, buf);
        if (ret != GST_FLOW_OK) {
            if (!smi_tool_stop) {
                gst_bus_failed(pipe);
                fprintf(stderr, "smi-compare: push: %s\n", gst_flow_get_name(ret));
                failed = 1;
            }
            break;
        }
        writer_published(a);
    }
    int rc = window_report(&a->window, "writer") || failed;
    gst_element_set_state(pipe, GST_STATE_NULL);
    if (pool) {
        gst_buffer_pool_set_active(pool, FALSE);
        gst_object_unref(pool);
    }
    if (allocator)
        gst_object_unref(allocator);
    gst_caps_unref(caps);
    gst_object_unref(sinkpad);
    gst_object_unref(src);
    gst_object_unref(pipe);
    return rc;
}

/* fakesink's handoff: the reader's work on each frame, and the count. */
typedef struct {
    Args *a;
    int done;
} Handoff;

static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
    (void)sink;
    (void)pad;
    Handoff *h = data;
    if (g_atomic_int_get(&h->done))
        return;
    GstMapInfo map;
    if (!gst_buffer_map(buf, &map, GST_MAP_READ))
        return;
    size_t n = map.size < h->a->frame_bytes ? map.size : h->a->frame_bytes;
    if (!strcmp(h->a->transport, "smisrc"))
        ; /* smisrc made the one copy already */
    else if (h->a->zero)
        touch_pages(map.data, n);
    else
        memcpy(h->a->private_copy, map.data, n);
    gst_buffer_unmap(buf, &map);
    if (window_frame(&h->a->window, 1))
        g_atomic_int_set(&h->done, 1);
}

static int gst_reader(Args *a)
{
    int shm = !strcmp(a->transport, "shmsrc");
    /* Both fail at once when the writer has not made its socket or stream
       yet (or, for smisrc, not sized it yet). */
    uint64_t give_up = smi_tool_now_ns() + 20000000000ull;
    while ((shm ? access(a->path, F_OK) != 0 : !smi_clients_attached(a->path, 0)) &&
           !smi_tool_stop && smi_tool_now_ns() < give_up)
        usleep(2000);
    GstElement *pipe = gst_pipeline_new(NULL);
    GstElement *src = gst_make(shm ? "shmsrc" : "smisrc");
    GstElement *sink = gst_make("fakesink");
    if (!src || !sink)
        return 1;
    if (shm)
        g_object_set(src, "socket-path", a->path, "is-live", TRUE, NULL);
    else
        g_object_set(src, "location", a->path, NULL);
    Handoff h = {a, 0};
    g_object_set(sink, "sync", FALSE, "signal-handoffs", TRUE, "async", FALSE, NULL);
    g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &h);
    gst_bin_add_many(GST_BIN(pipe), src, sink, NULL);
    if (!gst_element_link(src, sink) ||
        gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        gst_bus_failed(pipe);
        fprintf(stderr, "smi-compare: %s would not start\n", a->transport);
        return 1;
    }
    while (!g_atomic_int_get(&h.done) && !smi_tool_stop && !gst_bus_failed(pipe))
        usleep(10000);
    g_atomic_int_set(&h.done, 1);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
    return window_report(&a->window, "reader");
}
#endif

int main(int argc, char **argv)
{
    Args a;
    if (argc == 2 && !strcmp(argv[1], "--gstreamer")) { /* exit 0: built with it */
#ifdef SMI_COMPARE_GST
        return 0;
#else
        return 1;
#endif
    }
    if (parse(argc, argv, &a)) {
        fputs(usage, stderr);
        return 2;
    }
    smi_tool_install_stop_handler();
#ifdef SMI_COMPARE_GST
    /* (Only where it is used: loading GStreamer's registry takes a while.) */
    if (strstr(a.transport, "sink") || strstr(a.transport, "src"))
        gst_init(NULL, NULL);
#endif
    a.prepared = page_aligned(a.frame_bytes, 0);
    a.private_copy = page_aligned(a.frame_bytes, 1);
    if (!a.prepared || !a.private_copy)
        return 1;
    prepare_frame(&a);
    const char *t = a.transport;
    if (a.writer) {
        if (!strcmp(t, "memcpy"))
            return run_memcpy(&a);
        if (!strcmp(t, "smi"))
            return smi_writer(&a);
        if (!strcmp(t, "tcp"))
            return tcp_writer(&a);
#ifdef SMI_COMPARE_GST
        if (!strcmp(t, "smisink") || !strcmp(t, "shmsink"))
            return gst_writer(&a);
#endif
    } else {
        if (!strcmp(t, "smi"))
            return smi_reader(&a);
        if (!strcmp(t, "tcp"))
            return tcp_reader(&a);
#ifdef SMI_COMPARE_GST
        if (!strcmp(t, "smisrc") || !strcmp(t, "shmsrc"))
            return gst_reader(&a);
#endif
    }
    fprintf(stderr, "smi-compare: transport %s is not known%s\n", t,
#ifdef SMI_COMPARE_GST
            ""
#else
            " (built without GStreamer)"
#endif
    );
    return 2;
}
