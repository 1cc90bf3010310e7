/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_stream.c -- the public API: argument checks, opening and mapping the
 * file, layout detection, and dispatch through the stream's layout
 * operations (smi_es_ops in smi_ensight.c, smi_ext_ops in smi_extended.c).
 *
 * Protocol summary (details in Core/LAYOUT.md): the server writes a frame into
 * a buffer no client holds and then marks it ready; a client marks the newest
 * ready buffer as held and only then reads it. Clients map the pixels
 * read-only. Liveness is kept with kernel byte locks, never with PIDs.
 */
#include "smi_internal.h"
#include "smi_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMI_KNOWN_OPTIONS                                                                    \
    (IMAGESTREAM_OPTIONS_INITBUFFERHEADERS | IMAGESTREAM_OPTIONS_NOTHREADS |                 \
     IMAGESTREAM_OPTIONS_FLIPVERTICAL | IMAGESTREAM_OPTIONS_EXTENDED |                       \
     IMAGESTREAM_OPTIONS_ANYFORMAT | IMAGESTREAM_OPTIONS_ANYFILE | IMAGESTREAM_OPTIONS_QUEUE |  \
     IMAGESTREAM_OPTIONS_RELIABLE)

/* The largest stream file createfile*() makes: 2^46 bytes (64 TiB). A 64-bit
   process maps at most 2^47 bytes (x86-64, four-level page tables; AArch64
   with 48-bit addresses has 2^48), and both a server and a client map the
   whole file; a larger file could never be served. */
#define SMI_MAX_FILE_BYTES ((uint64_t)1 << 46)

/* ---- Structs that callers allocate (the header's "Growing structs") ------ */

/* Take a caller's SharedMemoryImageDesc into *local: the members its `size`
   covers (0: the first version's), the others zero. A newer caller's further
   members are not known here and are ignored. BAD_ARGS for a size that no
   version has, and for frame flags this version does not know. */
static int smi_desc_in(const SharedMemoryImageDesc *user, SharedMemoryImageDesc *local)
{
    size_t size = user->size == 0 ? SMI_DESC_SIZE_V1 : user->size;
    if (size < SMI_DESC_SIZE_V1)
        return IMAGESTREAM_BAD_ARGS;
    memset(local, 0, sizeof *local);
    memcpy(local, user, size < sizeof *local ? size : sizeof *local);
    local->size = sizeof *local;
    if (local->flags & ~(uint32_t)SMI_EXT_KNOWN_FLAGS)
        return IMAGESTREAM_BAD_ARGS;
    return IMAGESTREAM_NOERROR;
}

/* Bytes of a frame described by d, or 0 when it is invalid (unknown format,
   zero size) or does not fit in 64 bits (*overflow). */
static uint64_t smi_desc_bytes(const SharedMemoryImageDesc *d, int *overflow)
{
    uint64_t n;
    *overflow = smi_frame_size(d->format, d->width, d->height, d->depth ? d->depth : 1, &n) ==
                SMI_SIZE_OVERFLOW;
    return n;
}

/* ---- The layouts ---------------------------------------------------------
   Reached through their operations only (smi_internal.h). A file is the
   first layout's whose probe knows it, else the last one's: EnSight's, which
   has no mark of its own (LAYOUT.md: a file without the extended magic is
   validated as an EnSight-layout stream), and whose probe only says whether
   a file looks like a stream at all. */
static const smi_layout_ops_t *const smi_layouts[] = {&smi_ext_ops, &smi_es_ops};
#define SMI_LAYOUT_COUNT (sizeof smi_layouts / sizeof smi_layouts[0])

/* The layout of the file fd of `size` bytes, from its first `n` bytes at
   `first` (a copy, or the mapping). */
static const smi_layout_ops_t *smi_layout_of(int fd, uint64_t size, const uint8_t *first,
                                             uint64_t n)
{
    for (size_t i = 0; i + 1 < SMI_LAYOUT_COUNT; i++)
        if (smi_layouts[i]->probe(fd, size, first, n))
            return smi_layouts[i];
    return smi_layouts[SMI_LAYOUT_COUNT - 1];
}

/* Is the file a stream of any layout (a stale one too)? */
static int smi_layout_any(int fd, uint64_t size, const uint8_t *first, uint64_t n)
{
    for (size_t i = 0; i < SMI_LAYOUT_COUNT; i++)
        if (smi_layouts[i]->probe(fd, size, first, n))
            return 1;
    return 0;
}

/* The layout IMAGESTREAM_LAYOUT_* `layout` names, NULL for none. */
static const smi_layout_ops_t *smi_layout_named(uint32_t layout)
{
    for (size_t i = 0; i < SMI_LAYOUT_COUNT; i++)
        if ((uint32_t)smi_layouts[i]->layout == layout)
            return smi_layouts[i];
    return NULL;
}

/* Give the stream the operations of a layout. */
static void smi_use_layout(SharedMemoryImageStream s, const smi_layout_ops_t *ops)
{
    s->ops = ops;
}

/* ---- Calls that touch the mapping ----------------------------------------
   Another process may shrink the file at any moment, and touching a page of
   the mapping past the file's new end raises SIGBUS. So each call's
   accesses to the mapping (its body) run under the library's SIGBUS guard
   (smi_platform.h): a shrink under them answers BAD_FILE_SIZE, whenever it
   happens. Where the guard is not this copy of the library's (another copy
   in the process holds it), the body runs after a size check instead (one
   fstat; a shrink in the moment between can still fault: Core/LAYOUT.md,
   "Truncation and other changes of size"). */

typedef int (*smi_body_t)(SharedMemoryImageStream s, void *arg);

typedef struct smi_call_t {
    SharedMemoryImageStream s;
    smi_body_t body;
    void *arg;
} smi_call_t;

/* Under the guard: the size check first, as a read of the mapping's last
   byte (a shrink takes the file's end first: if that byte is there, so is
   the whole mapping), then the body. */
static int smi_call_body(void *ctx)
{
    smi_call_t *c = ctx;
    if (c->s->map_size != 0)
        (void)*(const volatile uint8_t *)(c->s->base + c->s->map_size - 1);
    return c->body(c->s, c->arg);
}

/* Run body(s, arg) on the stream's mapping, as above; s->guarded tells the
   body which way it runs. `polled`: a call a reader repeats in a loop (lock,
   wait), which trusts a guard checked less than 10 ms ago
   (smi_guard_run's trust_recent): no system call when nothing changed. */
static int smi_on_mapping_as(SharedMemoryImageStream s, smi_body_t body, void *arg, int polled)
{
    if (s->fd < 0) /* (a fork()ed child's copy of its parent's stream) */
        return IMAGESTREAM_BAD_FILE_SIZE;
    smi_call_t c = {s, body, arg};
    s->guarded = 1;
    int rc = smi_guard_run(&s->base, &s->map_size, smi_call_body, &c, polled);
    if (rc == SMI_GUARD_FAULT)
        return IMAGESTREAM_BAD_FILE_SIZE;
    if (rc != SMI_GUARD_UNAVAILABLE)
        return rc;
    s->guarded = 0;
    if ((rc = smi_file_intact(s)) < 0)
        return rc;
    return body(s, arg);
}

/* Run body(s, arg) on the stream's mapping (smi_on_mapping_as). */
static int smi_on_mapping(SharedMemoryImageStream s, smi_body_t body, void *arg)
{
    return smi_on_mapping_as(s, body, arg, 0);
}

/* Under the guard: does the file still hold the last byte of the `bytes` at
   p (the frame a call hands out)? A shrink takes the file's end first, so
   then it holds them all. A read of one byte instead of an fstat; without
   the guard, the size check before the body did this. */
static void smi_probe(SharedMemoryImageStream s, const uint8_t *p, uint64_t bytes)
{
    if (s->guarded && bytes != 0)
        (void)*(const volatile uint8_t *)(p + bytes - 1);
}

static void smi_stream_free(SharedMemoryImageStream s)
{
    if (!s)
        return;
    smi_fork_unregister(s);
    smi_unmap_stream(s);
    smi_file_close(s->fd); /* also drops this stream's byte locks */
    free(s->staging);
    free(s);
}

/* The code for a failed smi_file_open() or smi_file_create() (`err`: its
   negative answer). A missing file (or directory on the way) is `missing`:
   BAD_FILE_SIZE for create and inspect, as EnSight's client answers, and
   UNABLE_TO_OPEN_FILE for createfile (a missing directory). */
static int smi_open_error(int err, int missing)
{
    if (err == SMI_FILE_UNSAFE) /* a symbolic link (O_NOFOLLOW: ELOOP), not a regular
                                   file, another owner, another user could change it */
        return IMAGESTREAM_UNSAFE_FILE;
    switch (smi_open_failure(err)) {
    case SMI_FAILED_MISSING:
        return missing;
    case SMI_FAILED_NO_SPACE:
        return IMAGESTREAM_NO_SPACE; /* no inode left for a new file */
    default:
        return IMAGESTREAM_UNABLE_TO_OPEN_FILE;
    }
}

/* The code for a failed smi_file_reserve(): NO_SPACE when the file system
   has no room, else `other`. */
static int smi_reserve_error(int err, int other)
{
    return smi_reserve_failure(err) == SMI_FAILED_NO_SPACE ? IMAGESTREAM_NO_SPACE : other;
}

/* May a server take the open file fd over? Only a file that is empty, all
   zeros, or a stream of either layout (a stale one too): anything else is
   another program's data, refused with NOT_A_STREAM and left as it was.
   Read through the descriptor (holes are not read). */
static int smi_check_takeover(int fd)
{
    int64_t size = smi_file_size(fd);
    if (size <= 0)
        return size < 0 ? IMAGESTREAM_BAD_FILE_SIZE : IMAGESTREAM_NOERROR;
    uint8_t first[SMI_EXT_HEADER_SIZE];
    uint64_t want = (uint64_t)size < sizeof first ? (uint64_t)size : sizeof first;
    int64_t got = smi_file_read(fd, first, want, 0);
    if (got < 0)
        return IMAGESTREAM_UNABLE_TO_OPEN_FILE;
    if (smi_layout_any(fd, (uint64_t)size, first, (uint64_t)got))
        return IMAGESTREAM_NOERROR;
    int zero = smi_file_is_zero(fd, (uint64_t)size);
    return zero < 0 ? IMAGESTREAM_UNABLE_TO_OPEN_FILE
                    : zero ? IMAGESTREAM_NOERROR : IMAGESTREAM_NOT_A_STREAM;
}

static int smi_create_server(SharedMemoryImageStream s)
{
    int64_t size = smi_file_size(s->fd);
    if (size < (int64_t)SMI_ENSIGHT_MIN_FILE)
        return IMAGESTREAM_BAD_FILE_SIZE;
    int rc = smi_check_takeover(s->fd);
    if (rc < 0)
        return rc;
    int busy = smi_bytelock_try(s->fd, SMI_LOCK_SERVER);
    if (busy < 0)
        return IMAGESTREAM_UNABLE_TO_OPEN_FILE;
    if (busy)
        return IMAGESTREAM_SERVER_ACTIVE;
    /* Reserve every block of the file before writing a byte: a write into a
       hole of a full tmpfs (a sparse file, made by ftruncate) would end this
       process with SIGBUS. */
    int err = smi_file_reserve(s->fd, (uint64_t)size);
    if (err != 0)
        return smi_reserve_error(err, IMAGESTREAM_UNABLE_TO_MAP_FILE);
    s->base = smi_map(s->fd, (uint64_t)size, 1);
    if (!s->base)
        return IMAGESTREAM_UNABLE_TO_MAP_FILE;
    s->map_size = (uint64_t)size;
    s->page = (smi_ext_page_t *)s->base;
    smi_use_layout(s, (s->options & IMAGESTREAM_OPTIONS_EXTENDED) ? &smi_ext_ops : &smi_es_ops);
    return s->ops->server_start(s);
}

static int smi_create_client(SharedMemoryImageStream s)
{
    int rc = smi_map_client(s);
    if (rc < 0)
        return rc;
    /* (The extended attach validates the geometry, reading it again while a
       server may be adding a buffer.) */
    smi_use_layout(s, smi_layout_of(s->fd, s->map_size, s->base, s->map_size));
    rc = s->ops->client_attach(s);
    if (rc != SMI_LAYOUT_CHANGED)
        return rc;
    /* An extended-layout server wrote its header meanwhile. */
    smi_use_layout(s, &smi_ext_ops);
    return s->ops->client_attach(s);
}

/* An extended-layout server took over the file of this EnSight-layout
   client (say, a zero-filled file the client attached to first): the
   client becomes an extended one. The one place a stream changes layout. */
static int smi_switch_to_extended(SharedMemoryImageStream s)
{
    /* (The extended attach validates the header, mapping the file again
       first when it grew since this client mapped it: a server sizing the
       file for its frames, say.) */
    s->ops->detach(s);
    smi_use_layout(s, &smi_ext_ops);
    int rc = s->ops->client_attach(s);
    return rc < 0 ? rc : IMAGESTREAM_NOERROR;
}

static int smi_create_body(SharedMemoryImageStream s, void *arg)
{
    (void)arg;
    return s->server ? smi_create_server(s) : smi_create_client(s);
}

SharedMemoryImageError SharedMemoryImageStream_create(const char *filename, uint32_t options,
                                                      SharedMemoryImageStream *stream)
{
    if (stream)
        *stream = NULL;
    if (!filename || !stream || (options & ~(uint32_t)SMI_KNOWN_OPTIONS))
        return IMAGESTREAM_BAD_ARGS;
    SharedMemoryImageStream s = calloc(1, sizeof *s);
    if (!s)
        return IMAGESTREAM_MEMORY_ALLOC_ERROR;
    s->slot = -1;
    s->buffer = -1;
    s->es_block = -1;
    s->options = options;
    s->server = (options & IMAGESTREAM_OPTIONS_INITBUFFERHEADERS) != 0;
    /* Careful by default (Core/LAYOUT.md, "Opening files"): no symbolic
       link, a regular file of this user that group and others cannot write. */
    unsigned open_flags = (options & IMAGESTREAM_OPTIONS_ANYFILE)
                              ? SMI_FILE_ANY_OWNER | SMI_FILE_FOLLOW
                              : 0;
    s->fd = smi_file_open(filename, 1, open_flags);
    if (s->fd < 0) {
        int rc = smi_open_error(s->fd, IMAGESTREAM_BAD_FILE_SIZE);
        free(s);
        return rc;
    }
    smi_fork_register(s); /* a fork()ed child closes its copy (smi_fork.c) */
    int rc = smi_on_mapping(s, smi_create_body, NULL);
    if (rc < 0) {
        smi_stream_free(s); /* unmaps, closes, drops byte locks */
        return rc;
    }
    *stream = s;
    return rc;
}

static int smi_destroy_body(SharedMemoryImageStream s, void *arg)
{
    (void)arg;
    if (s->server) {
        if (s->held)
            s->ops->abandon(s);
        if (s->ops->server_end)
            s->ops->server_end(s);
    } else {
        if (s->held)
            s->ops->unlock(s);
        s->ops->detach(s);
    }
    return IMAGESTREAM_NOERROR;
}

SharedMemoryImageError SharedMemoryImageStream_destroy(SharedMemoryImageStream s)
{
    if (!s)
        return IMAGESTREAM_BAD_ARGS;
    /* A truncated file is left alone (closing drops the byte locks). */
    if (smi_file_intact(s) == IMAGESTREAM_NOERROR)
        (void)smi_on_mapping(s, smi_destroy_body, NULL);
    smi_stream_free(s);
    return IMAGESTREAM_NOERROR;
}

/* Bytes of the frame s->desc describes (checked when it was taken). */
static uint64_t smi_frame_bytes(const SharedMemoryImageDesc *d)
{
    int overflow;
    return smi_desc_bytes(d, &overflow);
}

/* lock's body; *locked: the layout locked a frame (which the probe of its
   last byte may still find gone). */
static int smi_lock_body(SharedMemoryImageStream s, void *locked)
{
    int rc = s->ops->lock(s);
    if (rc == SMI_LAYOUT_CHANGED && (rc = smi_switch_to_extended(s)) == IMAGESTREAM_NOERROR)
        rc = s->ops->lock(s);
    if (rc == IMAGESTREAM_NOERROR) {
        *(int *)locked = 1;
        smi_probe(s, s->frame.buffer, smi_frame_bytes(&s->desc));
    }
    return rc;
}

static int smi_unlock_body(SharedMemoryImageStream s, void *arg)
{
    (void)arg;
    return s->ops->unlock(s);
}

/* A queue client was handed a frame (or skipped one for its format, which
   counts as read): its lost count is every sequence its position passed
   between the last frame it was handed (or its start) and this one. Counted
   from the two positions, so a frame passed by a lock that then failed (the
   file shrank before its last byte was read) is counted too: exactly the
   frames published after the start that this client was never handed. */
static void smi_count_lost(SharedMemoryImageStream s)
{
    s->lost = 0;
    if (!(s->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE)) ||
        s->last_sequence <= s->handed_sequence)
        return;
    s->lost = s->last_sequence - s->handed_sequence - 1;
    s->handed_sequence = s->last_sequence;
}

SharedMemoryImageError SharedMemoryImageStream_lock(SharedMemoryImageStream s,
                                                    SharedMemoryFrame *frame)
{
    if (!s || !frame)
        return IMAGESTREAM_BAD_ARGS;
    if (s->server)
        return IMAGESTREAM_IS_SERVER;
    if (s->held)
        return IMAGESTREAM_LOCKED;
    int locked = 0;
    s->lost = 0;
    int rc = smi_on_mapping_as(s, smi_lock_body, &locked, 1);
    if (rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_FORMAT_SKIPPED)
        smi_count_lost(s);
    if (rc == IMAGESTREAM_NOERROR) {
        s->held = 1;
        *frame = &s->frame;
    } else if (locked) { /* the frame was gone: give it back */
        (void)smi_on_mapping(s, smi_unlock_body, NULL);
    }
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_unlock(SharedMemoryImageStream s)
{
    if (!s)
        return IMAGESTREAM_BAD_ARGS;
    if (s->server)
        return IMAGESTREAM_IS_SERVER;
    if (!s->held)
        return IMAGESTREAM_NOT_LOCKED;
    int rc = smi_on_mapping(s, smi_unlock_body, NULL);
    s->held = 0;
    return rc;
}

/* wait's body; *arg: the timeout in ns (< 0: for ever). */
static int smi_wait_body(SharedMemoryImageStream s, void *arg)
{
    int64_t timeout_ns = *(const int64_t *)arg;
    int64_t deadline = timeout_ns < 0 ? 0 : smi_now_ns() + timeout_ns;
    int rc = s->ops->wait(s, timeout_ns);
    if (rc == SMI_LAYOUT_CHANGED && (rc = smi_switch_to_extended(s)) == IMAGESTREAM_NOERROR) {
        int64_t left = deadline - smi_now_ns();
        rc = s->ops->wait(s, timeout_ns < 0 ? -1 : left > 0 ? left : 0);
    }
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_spinwait(SharedMemoryImageStream s,
                                                        int32_t timeout_ms, uint32_t spin_us)
{
    if (!s)
        return IMAGESTREAM_BAD_ARGS;
    if (s->server)
        return IMAGESTREAM_IS_SERVER;
    int64_t timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
    s->spin_ns = (int64_t)spin_us * 1000; /* (the layout's wait spins once, then clears it) */
    int rc = smi_on_mapping_as(s, smi_wait_body, &timeout_ns, 1);
    s->spin_ns = 0;
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_wait(SharedMemoryImageStream s, int32_t timeout_ms)
{
    return SharedMemoryImageStream_spinwait(s, timeout_ms, 0);
}

SharedMemoryImageError SharedMemoryImageStream_next(SharedMemoryImageStream s,
                                                    SharedMemoryFrame *frame, uint64_t *lost)
{
    if (lost)
        *lost = 0;
    /* (An EnSight-layout client still waiting for its server may yet
       become an extended one: its lock tells.) */
    if (s && !s->server &&
        (!(s->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE)) ||
         (!s->ops->reads_queues && !s->es_pending)))
        return IMAGESTREAM_BAD_ARGS;
    int rc = SharedMemoryImageStream_lock(s, frame);
    if (lost && (rc == IMAGESTREAM_NOERROR || rc == IMAGESTREAM_FORMAT_SKIPPED))
        *lost = s->lost;
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_setacquiretimeout(SharedMemoryImageStream s,
                                                                 int32_t timeout_ms)
{
    if (!s)
        return IMAGESTREAM_BAD_ARGS;
    if (!s->server)
        return IMAGESTREAM_IS_NOTSERVER;
    s->acquire_timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
    return IMAGESTREAM_NOERROR;
}

/* Validate a server-side frame request; returns its byte count through *bytes. */
static int smi_check_server_desc(SharedMemoryImageStream s, const SharedMemoryImageDesc *d,
                                 uint64_t *bytes)
{
    if (!s->server)
        return IMAGESTREAM_IS_NOTSERVER;
    if (s->held)
        return IMAGESTREAM_LOCKED;
    int overflow;
    if (d->width == 0 || d->height == 0)
        return IMAGESTREAM_BAD_ARGS;
    *bytes = smi_desc_bytes(d, &overflow);
    if (overflow)
        return IMAGESTREAM_FRAME_TOO_LARGE;
    if (*bytes == 0)
        return IMAGESTREAM_BAD_FORMAT;
    return s->ops->frame_check(d);
}

/* acquire's body: the buffer for a frame of a->bytes, whose last byte the
   probe then reads (a->acquired: the layout gave a buffer). */
typedef struct smi_acquire_arg_t {
    uint64_t bytes;
    int acquired;
} smi_acquire_arg_t;

static int smi_acquire_body(SharedMemoryImageStream s, void *arg)
{
    smi_acquire_arg_t *a = arg;
    int rc = s->ops->acquire(s, a->bytes);
    if (rc == IMAGESTREAM_NOERROR) {
        a->acquired = 1;
        smi_probe(s, s->frame.buffer, a->bytes);
    }
    return rc;
}

static int smi_abandon_body(SharedMemoryImageStream s, void *arg)
{
    (void)arg;
    s->ops->abandon(s);
    return IMAGESTREAM_NOERROR;
}

SharedMemoryImageError SharedMemoryImageStream_acquireformat(SharedMemoryImageStream s,
                                                             const SharedMemoryImageDesc *desc,
                                                             SharedMemoryFrame *frame)
{
    if (!s || !desc || !frame)
        return IMAGESTREAM_BAD_ARGS;
    SharedMemoryImageDesc d;
    uint64_t bytes;
    int rc = smi_desc_in(desc, &d);
    if (rc == IMAGESTREAM_NOERROR)
        rc = smi_check_server_desc(s, &d, &bytes);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    s->desc = d;
    if (s->desc.depth == 0)
        s->desc.depth = 1;
    for (int i = 0; i < 3; i++)
        if (s->desc.spacing[i] == 0.0)
            s->desc.spacing[i] = 1.0;
    if (s->desc.timestamp == 0.0)
        s->desc.timestamp = smi_unix_time();
    smi_acquire_arg_t a = {bytes, 0};
    rc = smi_on_mapping(s, smi_acquire_body, &a);
    if (rc != IMAGESTREAM_NOERROR && a.acquired) { /* the buffer was gone: give it back */
        s->held = 1;
        (void)smi_on_mapping(s, smi_abandon_body, NULL);
        s->held = 0;
    }
    if (rc == IMAGESTREAM_NOERROR) {
        s->held = 1;
        s->frame.iFrame = s->numbered ? s->last_frame + 1 : 0; /* the next number */
        s->frame.iWidth = d.width;
        s->frame.iHeight = d.height;
        *frame = &s->frame;
    }
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_acquire(SharedMemoryImageStream s, uint32_t width,
                                                       uint32_t height, SharedMemoryFrame *frame)
{
    SharedMemoryImageDesc d;
    smi_fill_default_desc(&d, width, height);
    return SharedMemoryImageStream_acquireformat(s, &d, frame);
}

/* Reverse the rows of each slice of the frame s->desc describes at `px`, in
   place. */
static void smi_reverse_rows(const SharedMemoryImageDesc *d, uint8_t *px)
{
    uint64_t row = (uint64_t)d->width * smi_format_bpp(d->format);
    uint64_t slice = row * d->height;
    uint8_t tmp[4096];
    for (uint32_t z = 0; z < d->depth; z++) {
        uint8_t *top = px + slice * z, *bottom = top + slice - row;
        for (; top < bottom; top += row, bottom -= row) {
            for (uint64_t x = 0; x < row; x += sizeof tmp) {
                size_t n = row - x < sizeof tmp ? (size_t)(row - x) : sizeof tmp;
                memcpy(tmp, top + x, n);
                memcpy(top + x, bottom + x, n);
                memcpy(bottom + x, tmp, n);
            }
        }
    }
}

static int smi_publish_body(SharedMemoryImageStream s, void *arg)
{
    (void)arg;
    /* A layout that stores top row first only (EnSight's): a frame written
       bottom row first into an acquired buffer is turned upright here. */
    if (!s->ops->stores_bottom_up && (s->desc.flags & IMAGESTREAM_FRAME_BOTTOMUP)) {
        smi_reverse_rows(&s->desc, s->frame.buffer);
        s->desc.flags &= ~IMAGESTREAM_FRAME_BOTTOMUP;
    }
    return s->ops->publish(s);
}

SharedMemoryImageError SharedMemoryImageStream_publish(SharedMemoryImageStream s)
{
    if (!s)
        return IMAGESTREAM_BAD_ARGS;
    if (!s->server)
        return IMAGESTREAM_IS_NOTSERVER;
    if (!s->held)
        return IMAGESTREAM_NOT_LOCKED;
    s->held = 0; /* (acquire checked the file size: no second fstat per frame) */
    /* Clients see the number the caller gave, but after a takeover never one
       that is not above the frames already in the file. */
    if (s->renumber && s->frame.iFrame <= s->last_frame)
        s->frame.iFrame = s->last_frame + 1;
    s->last_frame = s->frame.iFrame;
    s->numbered = 1;
    return smi_on_mapping(s, smi_publish_body, NULL);
}

static int smi_setbuffers_body(SharedMemoryImageStream s, void *range)
{
    const uint32_t *r = range;
    return s->ops->set_buffers(s, r[0], r[1]);
}

SharedMemoryImageError SharedMemoryImageStream_setbuffers(SharedMemoryImageStream s,
                                                          uint32_t min_buffers,
                                                          uint32_t max_buffers)
{
    if (!s || min_buffers > max_buffers || max_buffers < 1 ||
        max_buffers > IMAGESTREAM_MAX_BUFFERS)
        return IMAGESTREAM_BAD_ARGS;
    if (!s->server)
        return IMAGESTREAM_IS_NOTSERVER;
    if (s->held)
        return IMAGESTREAM_LOCKED;
    if (!s->ops->set_buffers) { /* (a layout of a fixed number) */
        uint32_t n = s->ops->fixed_buffers;
        return min_buffers <= n && max_buffers >= n ? IMAGESTREAM_NOERROR
                                                    : IMAGESTREAM_BAD_FORMAT;
    }
    uint32_t range[2] = {min_buffers, max_buffers};
    return smi_on_mapping(s, smi_setbuffers_body, range);
}

SharedMemoryImageError SharedMemoryImageStream_abandon(SharedMemoryImageStream s)
{
    if (!s)
        return IMAGESTREAM_BAD_ARGS;
    if (!s->server)
        return IMAGESTREAM_IS_NOTSERVER;
    if (!s->held)
        return IMAGESTREAM_NOT_LOCKED;
    int rc = smi_on_mapping(s, smi_abandon_body, NULL);
    s->held = 0; /* (the layout's abandon clears it too) */
    return rc;
}

/* Frame copies between the caller's memory and the stream file. Under the
   guard they are memcpy through the mapping, row by row when flipped (a
   shrink under the copy ends it with BAD_FILE_SIZE). Where this copy of the
   library has no guard, they go through the file descriptor instead
   (pwritev/preadv on the file's page cache, the same pages the mapping
   shows: a shrink gives a short count, never SIGBUS), a flipped frame as
   vectors of rows in reverse order. smi-bench part 8 compares the two. */
#define SMI_COPY_ROWS 512 /* rows per vector (the platform splits at IOV_MAX) */

/* A frame copy: the frame s->desc describes, between `mem` (the caller's
   memory) and the stream's bytes at `at` (a pixel address inside the
   mapping): write: mem -> file, else file -> mem; rows reversed in each
   slice when `flip`. */
typedef struct smi_copy_t {
    uint8_t *mem;
    uint8_t *at;
    int flip, write;
} smi_copy_t;

static int smi_copy_mapping(SharedMemoryImageStream s, const smi_copy_t *c, uint64_t row,
                            uint64_t slice)
{
    const SharedMemoryImageDesc *d = &s->desc;
    if (!c->flip || d->height < 2) {
        memcpy(c->write ? c->at : c->mem, c->write ? c->mem : c->at, slice * d->depth);
        return IMAGESTREAM_NOERROR;
    }
    for (uint32_t z = 0; z < d->depth; z++) {
        for (uint32_t y = 0; y < d->height; y++) {
            uint8_t *file = c->at + slice * z + row * y;
            uint8_t *mem = c->mem + slice * z + row * (d->height - 1 - y);
            memcpy(c->write ? file : mem, c->write ? mem : file, row);
        }
    }
    return IMAGESTREAM_NOERROR;
}

static int smi_copy_descriptor(SharedMemoryImageStream s, const smi_copy_t *c, uint64_t row,
                               uint64_t slice)
{
    const SharedMemoryImageDesc *d = &s->desc;
    uint64_t offset = (uint64_t)(c->at - s->base), bytes = slice * d->depth;
    if (!c->flip || d->height < 2) {
        smi_iovec_t v = {c->mem, (size_t)bytes};
        return smi_file_transfer(s->fd, &v, 1, offset, c->write) == (int64_t)bytes
                   ? IMAGESTREAM_NOERROR
                   : IMAGESTREAM_BAD_FILE_SIZE;
    }
    smi_iovec_t v[SMI_COPY_ROWS];
    for (uint32_t z = 0; z < d->depth; z++) {
        for (uint32_t y = 0; y < d->height;) {
            int n = 0;
            uint64_t from = offset + slice * z + row * y; /* file row y */
            for (; n < SMI_COPY_ROWS && y < d->height; n++, y++) {
                v[n].base = c->mem + slice * z + row * (d->height - 1 - y);
                v[n].len = (size_t)row;
            }
            if (smi_file_transfer(s->fd, v, n, from, c->write) != (int64_t)(row * (uint64_t)n))
                return IMAGESTREAM_BAD_FILE_SIZE;
        }
    }
    /* A write into a file truncated meanwhile grows it again: check its size. */
    return c->write ? smi_file_intact(s) : IMAGESTREAM_NOERROR;
}

static int smi_copy_body(SharedMemoryImageStream s, void *arg)
{
    const smi_copy_t *c = arg;
    const SharedMemoryImageDesc *d = &s->desc;
    uint64_t row = (uint64_t)d->width * smi_format_bpp(d->format);
    uint64_t slice = row * d->height;
    /* (A frame the layout handed out in the library's own memory: memcpy.) */
    int own = smi_in_staging(s, c->at, slice * d->depth);
    if (!own && !smi_span_mapped(s, c->at, slice * d->depth))
        return IMAGESTREAM_BAD_FILE_SIZE;
    return s->guarded || own ? smi_copy_mapping(s, c, row, slice)
                             : smi_copy_descriptor(s, c, row, slice);
}

/* Copy `pixels` into the acquired buffer, reversing the rows of each slice
   when the stream flips, and (a layout that stores top row first only, as
   EnSight's) when the frame's rows run bottom first; on failure the buffer
   is given back. */
static int smi_copy_in(SharedMemoryImageStream s, const void *pixels)
{
    int flip = (s->options & IMAGESTREAM_OPTIONS_FLIPVERTICAL) != 0;
    if (!s->ops->stores_bottom_up && (s->desc.flags & IMAGESTREAM_FRAME_BOTTOMUP)) {
        flip = !flip;
        s->desc.flags &= ~IMAGESTREAM_FRAME_BOTTOMUP; /* (stored upright: publish leaves it) */
    }
    smi_copy_t c = {(uint8_t *)(uintptr_t)pixels, s->frame.buffer, flip, 1};
    int rc = smi_on_mapping(s, smi_copy_body, &c);
    if (rc < 0)
        SharedMemoryImageStream_abandon(s);
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_copyframe(SharedMemoryImageStream s, void *dst,
                                                         uint64_t dst_bytes, int flip_vertical)
{
    if (!s || !dst)
        return IMAGESTREAM_BAD_ARGS;
    if (s->server)
        return IMAGESTREAM_IS_SERVER;
    if (!s->held)
        return IMAGESTREAM_NOT_LOCKED;
    if (dst_bytes < smi_frame_bytes(&s->desc))
        return IMAGESTREAM_BAD_ARGS;
    /* The caller asks for an order; the rows are reversed when the frame is
       stored the other way. */
    int stored_bottom_up = (s->desc.flags & IMAGESTREAM_FRAME_BOTTOMUP) != 0;
    smi_copy_t c = {dst, s->frame.buffer, (flip_vertical != 0) != stored_bottom_up, 0};
    return smi_on_mapping(s, smi_copy_body, &c);
}

SharedMemoryImageError SharedMemoryImageStream_putframeformat(SharedMemoryImageStream s,
                                                              const SharedMemoryImageDesc *desc,
                                                              uint32_t frame_number,
                                                              const void *pixels)
{
    if (!s || !desc || !pixels)
        return IMAGESTREAM_BAD_ARGS;
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_acquireformat(s, desc, &f);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    if ((rc = smi_copy_in(s, pixels)) < 0)
        return rc;
    if (frame_number != 0)
        f->iFrame = frame_number;
    return SharedMemoryImageStream_publish(s);
}

SharedMemoryImageError SharedMemoryImageStream_putframe(SharedMemoryImageStream s,
                                                        SharedMemoryFrame frame)
{
    if (!s || !frame || !frame->buffer)
        return IMAGESTREAM_BAD_ARGS;
    SharedMemoryImageDesc d;
    smi_fill_default_desc(&d, frame->iWidth, frame->iHeight);
    SharedMemoryFrame f;
    int rc = SharedMemoryImageStream_acquireformat(s, &d, &f);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    if ((rc = smi_copy_in(s, frame->buffer)) < 0)
        return rc;
    f->iFrame = frame->iFrame;
    return SharedMemoryImageStream_publish(s);
}

/* The checks of a call about the frame held (locked or acquired): BAD_ARGS
   for a NULL stream or `out`, NOT_LOCKED when none is held. */
static int smi_check_frame_call(SharedMemoryImageStream s, const void *out)
{
    if (!s || !out)
        return IMAGESTREAM_BAD_ARGS;
    return s->held ? IMAGESTREAM_NOERROR : IMAGESTREAM_NOT_LOCKED;
}

SharedMemoryImageError SharedMemoryImageStream_describe(SharedMemoryImageStream s,
                                                        SharedMemoryImageDesc *desc)
{
    int rc = smi_check_frame_call(s, desc);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    /* The first version of the struct only: see "Growing structs". */
    memcpy(desc, &s->desc, SMI_DESC_SIZE_V1);
    desc->size = SMI_DESC_SIZE_V1;
    return IMAGESTREAM_NOERROR;
}

SharedMemoryImageError SharedMemoryImageStream_frameflags(SharedMemoryImageStream s,
                                                          uint32_t *flags)
{
    int rc = smi_check_frame_call(s, flags);
    if (rc != IMAGESTREAM_NOERROR)
        return rc;
    *flags = s->desc.flags;
    return IMAGESTREAM_NOERROR;
}

/* Bytes of a file for two frames like d, of `bytes` each: in the layout
   `ops`, or (ops NULL) in whichever a server chooses, the most that any
   layout that carries such frames needs; 0 when that does not fit in an
   off_t. */
static uint64_t smi_file_bytes_for(const smi_layout_ops_t *ops, const SharedMemoryImageDesc *d,
                                   uint64_t bytes)
{
    if (ops)
        return ops->file_bytes(bytes);
    uint64_t need = 0;
    for (size_t i = 0; i < SMI_LAYOUT_COUNT; i++) {
        if (smi_layouts[i]->frame_check(d) != IMAGESTREAM_NOERROR)
            continue;
        uint64_t n = smi_layouts[i]->file_bytes(bytes);
        if (n == 0)
            return 0;
        if (n > need)
            need = n;
    }
    return need;
}

SharedMemoryImageError SharedMemoryImageStream_createfilelayout(const char *filename,
                                                                uint32_t layout,
                                                                const SharedMemoryImageDesc *max)
{
    const smi_layout_ops_t *ops = layout != 0 ? smi_layout_named(layout) : NULL;
    if (!filename || !max || (layout != 0 && !ops))
        return IMAGESTREAM_BAD_ARGS;
    SharedMemoryImageDesc local;
    if (smi_desc_in(max, &local) != IMAGESTREAM_NOERROR)
        return IMAGESTREAM_BAD_ARGS;
    max = &local;
    int overflow;
    uint64_t bytes = smi_desc_bytes(max, &overflow);
    if (bytes == 0)
        return overflow || max->width == 0 || max->height == 0 ? IMAGESTREAM_BAD_ARGS
                                                                : IMAGESTREAM_BAD_FORMAT;
    if (ops && ops->frame_check(max) != IMAGESTREAM_NOERROR)
        return IMAGESTREAM_BAD_FORMAT;
    uint64_t need = smi_file_bytes_for(ops, max, bytes);
    /* A file no process could map is refused before the file is touched. */
    if (need == 0 || need > SMI_MAX_FILE_BYTES)
        return IMAGESTREAM_BAD_ARGS;
    /* A new file: O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600. An existing one
       must pass the same rules as create()'s (Core/LAYOUT.md, "Opening
       files"). */
    int created;
    int fd = smi_file_create(filename, &created);
    if (fd < 0)
        return smi_open_error(fd, IMAGESTREAM_UNABLE_TO_OPEN_FILE);
    int64_t size = smi_file_size(fd);
    int rc = created ? IMAGESTREAM_NOERROR : smi_check_takeover(fd);
    if (rc < 0) {
        /* another program's data: left as it was */
    } else if (size < 0) {
        rc = IMAGESTREAM_BAD_FILE_SIZE;
    } else {
        /* Reserve the blocks (and grow a smaller file): a sparse file on a
           full tmpfs would let create() succeed and kill the first frame
           with SIGBUS. A larger existing file keeps its size and bytes. */
        uint64_t want = (uint64_t)size > need ? (uint64_t)size : need;
        int err = smi_file_reserve(fd, want);
        if (err != 0) {
            rc = smi_reserve_error(err, IMAGESTREAM_BAD_FILE_SIZE);
            if (created)
                smi_file_remove(filename, fd); /* leave nothing behind */
            else if (smi_file_size(fd) != size)
                (void)smi_file_resize(fd, (uint64_t)size); /* as it was */
        }
    }
    smi_file_close(fd);
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_createfileformat(const char *filename,
                                                                const SharedMemoryImageDesc *max)
{
    SharedMemoryImageError rc = SharedMemoryImageStream_createfilelayout(filename, 0, max);
    return rc == IMAGESTREAM_BAD_FORMAT ? IMAGESTREAM_BAD_ARGS : rc;
}

SharedMemoryImageError SharedMemoryImageStream_createfile(const char *filename, uint32_t max_width,
                                                          uint32_t max_height)
{
    SharedMemoryImageDesc d;
    smi_fill_default_desc(&d, max_width, max_height);
    return SharedMemoryImageStream_createfileformat(filename, &d);
}

/* Inspect the open file fd, of `size` bytes, from copies of its headers
   read through the descriptor, never through a mapping: a file that another
   process shrinks meanwhile gives a short read, not SIGBUS, and the file's
   owner cannot crash whoever inspects it (inspect reads files of any owner).
   A short read is SMI_GEOMETRY_UNSETTLED: the caller reads again. */
static int smi_inspect_read(int fd, uint64_t size, SharedMemoryImageStream self,
                            SharedMemoryStreamInfo *info)
{
    memset(info, 0, sizeof *info);
    info->file_size = size;
    smi_ext_page_t page; /* the extended header page, or the EnSight file's start */
    memset(&page, 0, sizeof page);
    uint64_t want = size < sizeof page ? size : sizeof page;
    int64_t got = smi_file_read(fd, &page, want, 0);
    if (got < 0)
        return IMAGESTREAM_UNABLE_TO_OPEN_FILE;
    if ((uint64_t)got < want)
        return SMI_GEOMETRY_UNSETTLED; /* shrunk since its size was read */
    const uint8_t *first = (const uint8_t *)&page;
    return smi_layout_of(fd, size, first, want)->inspect(fd, size, first, self, info);
}

/* Inspect the open file fd; what was caught while a server adds a buffer,
   or while the file changes size, is read again (the file's size too).
   `self`: the caller's own stream, or NULL. */
static int smi_inspect_file(int fd, SharedMemoryImageStream self, SharedMemoryStreamInfo *info)
{
    int rc = SMI_GEOMETRY_UNSETTLED;
    for (int tries = 0; rc == SMI_GEOMETRY_UNSETTLED && tries <= SMI_GEOMETRY_RETRIES; tries++) {
        if (tries > 0)
            smi_sleep_ns(smi_geometry_pause_ns(tries - 1));
        int64_t size = smi_file_size(fd);
        if (size < (int64_t)SMI_ENSIGHT_MIN_FILE) {
            memset(info, 0, sizeof *info);
            info->file_size = size < 0 ? 0 : (uint64_t)size;
            return IMAGESTREAM_BAD_FILE_SIZE;
        }
        rc = smi_inspect_read(fd, (uint64_t)size, self, info);
    }
    return rc == SMI_GEOMETRY_UNSETTLED ? IMAGESTREAM_BAD_FILE_FORMAT : rc;
}

SharedMemoryImageError SharedMemoryImageStream_inspect(const char *filename,
                                                       SharedMemoryStreamInfo *info)
{
    if (!filename || !info)
        return IMAGESTREAM_BAD_ARGS;
    memset(info, 0, sizeof *info);
    /* Read-only, nothing changes: any owner and mode, but never through a
       symbolic link, and never waiting on a FIFO. */
    int fd = smi_file_open(filename, 0, SMI_FILE_ANY_OWNER);
    if (fd < 0)
        return smi_open_error(fd, IMAGESTREAM_BAD_FILE_SIZE);
    int rc = smi_inspect_file(fd, NULL, info);
    smi_file_close(fd);
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_inspectclients(const char *filename,
                                                              SharedMemoryClientInfo *clients,
                                                              uint32_t max_clients,
                                                              uint32_t *count)
{
    if (!filename || !count || (!clients && max_clients > 0))
        return IMAGESTREAM_BAD_ARGS;
    *count = 0;
    int fd = smi_file_open(filename, 0, SMI_FILE_ANY_OWNER);
    if (fd < 0)
        return smi_open_error(fd, IMAGESTREAM_BAD_FILE_SIZE);
    SharedMemoryStreamInfo info; /* the layout, checked as inspect() checks it */
    int rc = smi_inspect_file(fd, NULL, &info);
    const smi_layout_ops_t *ops = rc == IMAGESTREAM_NOERROR ? smi_layout_named(info.layout) : NULL;
    if (ops)
        rc = ops->inspect_clients(fd, &info, clients, max_clients, count);
    smi_file_close(fd);
    return rc;
}

SharedMemoryImageError SharedMemoryImageStream_info(SharedMemoryImageStream s,
                                                    SharedMemoryStreamInfo *info)
{
    if (!s || !info)
        return IMAGESTREAM_BAD_ARGS;
    int rc = smi_file_intact(s);
    if (rc < 0)
        return rc;
    /* (Read through the descriptor, as inspect does: never the mapping.) */
    return smi_inspect_file(s->fd, s, info);
}

SharedMemoryImageError SharedMemoryImageStream_checkfile(const char *filename, uint32_t options,
                                                         char *why, size_t why_size)
{
    if (why && why_size > 0)
        why[0] = '\0';
    if (!filename || (options & ~(uint32_t)SMI_KNOWN_OPTIONS))
        return IMAGESTREAM_BAD_ARGS;
    /* The rules create() applies (Core/LAYOUT.md, "Opening files"). */
    unsigned flags = (options & IMAGESTREAM_OPTIONS_ANYFILE) ? SMI_FILE_ANY_OWNER | SMI_FILE_FOLLOW
                                                             : 0;
    int err = smi_file_explain(filename, flags, why, why_size);
    if (err == 0)
        return IMAGESTREAM_NOERROR;
    return smi_open_error(err, IMAGESTREAM_BAD_FILE_SIZE);
}
