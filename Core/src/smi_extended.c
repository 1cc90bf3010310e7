/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_extended.c -- this library's layout: a header page (file header, up to
 * 8 buffer headers, 32 client slots) followed by the pixel buffers. See
 * Core/LAYOUT.md sections 2 to 4, the authority for everything here.
 *
 * The protocol in one paragraph: the server marks a buffer "writing" and then
 * reads every client's `hold`; a client stores its `hold` and then re-reads
 * the buffer's state. Both sides use sequentially consistent operations, so at
 * least one of them sees the other (Dekker's handshake): the server never
 * writes a buffer a client holds, and a client never holds a buffer being
 * written. Clients sleep on a futex word the server bumps after each publish.
 * A client's liveness is the kernel byte lock on its slot, so a dead client's
 * hold is dropped by the server, and a live client's never is. The protocol
 * is modelled in Testing/Model/smi_extended.pml (checked with spin: no torn
 * read, no lost wake-up, no deadlock); change both together.
 *
 * Everything read from the file is read once into a local copy, checked,
 * and only the copy is used (the geometry at attach or takeover, a buffer's
 * header after it is pinned); pixel addresses come from this side's own
 * geometry, never from the file's data_offset. See Core/LAYOUT.md,
 * "Reading shared memory".
 */
#include "smi_internal.h"
#include "smi_platform.h"

#include <string.h>

#define SMI_SWEEP_INTERVAL_NS 500000000 /* look for dead clients twice a second */
#define SMI_LOCK_RETRIES 16
#define SMI_WAIT_RECHECK_NS 1000000000 /* a sleeping client looks again once a second */
#define SMI_ACQUIRE_RECHECK_NS 10000000 /* a server waiting for a buffer: every 10 ms */
#define SMI_SPIN_CLOCK_EVERY 64 /* a spinning wait reads the clock every 64 looks */

/* An extended-layout file's geometry, as read once and validated. */
typedef struct smi_ext_geometry_t {
    uint32_t buffer_count, slot_count;
    uint64_t buffer_size, file_size;
} smi_ext_geometry_t;

/* The file's geometry, each field read once (relaxed atomic loads: another
   process may change them at any time) into `g`, then validated: only `g` is
   used afterwards, never the file's fields again. */
static int smi_ext_read_geometry_once(const uint8_t *base, uint64_t size, smi_ext_geometry_t *g)
{
    if (size < SMI_EXT_HEADER_SIZE)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    const smi_ext_page_t *p = (const smi_ext_page_t *)base;
    if (SMI_LOAD_RLX(&p->file.version) != SMI_EXT_VERSION)
        return IMAGESTREAM_VERSION_MISMATCH;
    uint32_t header_size = SMI_LOAD_RLX(&p->file.header_size);
    g->buffer_count = SMI_LOAD_RLX(&p->file.buffer_count);
    g->slot_count = SMI_LOAD_RLX(&p->file.slot_count);
    g->buffer_size = SMI_LOAD_RLX(&p->file.buffer_size);
    g->file_size = SMI_LOAD_RLX(&p->file.file_size);
    uint64_t bs = g->buffer_size, total;
    if (header_size != SMI_EXT_HEADER_SIZE || g->buffer_count < 1 ||
        g->buffer_count > SMI_EXT_MAX_BUFFERS || g->slot_count < 1 ||
        g->slot_count > SMI_EXT_MAX_SLOTS || bs == 0 || bs % SMI_EXT_ALIGN != 0 ||
        __builtin_mul_overflow(bs, (uint64_t)g->buffer_count, &total) ||
        __builtin_add_overflow(total, (uint64_t)SMI_EXT_HEADER_SIZE, &total))
        return IMAGESTREAM_BAD_FILE_FORMAT;
    if (total != g->file_size || g->file_size > size)
        return SMI_GEOMETRY_UNSETTLED;
    for (uint32_t b = 0; b < g->buffer_count; b++)
        if (SMI_LOAD_RLX(&p->buffers[b].data_offset) != SMI_EXT_HEADER_SIZE + b * bs)
            return SMI_GEOMETRY_UNSETTLED;
    return IMAGESTREAM_NOERROR;
}

static int smi_ext_read_geometry(const uint8_t *base, uint64_t size, smi_ext_geometry_t *g)
{
    int rc = smi_ext_read_geometry_once(base, size, g);
    return rc == SMI_GEOMETRY_UNSETTLED ? IMAGESTREAM_BAD_FILE_FORMAT : rc;
}

/* A client's read of the geometry. A server adding a buffer (LAYOUT.md,
   "Growing") grows the file, then stores file_size, then buffer_count: a
   read between the two stores, or through a mapping made before the file
   grew, sees a geometry that does not add up. So such a read (only such:
   a header bad in itself is answered at once) is tried again 20 times (a
   few milliseconds), each time through a fresh mapping of the whole file,
   and each read is a new copy validated as a whole; only then is the file
   called bad. */
static int smi_ext_client_geometry(SharedMemoryImageStream s, smi_ext_geometry_t *g)
{
    int rc = smi_ext_read_geometry_once(s->base, s->map_size, g);
    for (int tries = 0; rc == SMI_GEOMETRY_UNSETTLED && tries < SMI_GEOMETRY_RETRIES;
         tries++) {
        smi_sleep_ns(smi_geometry_pause_ns(tries));
        int m = smi_map_client(s);
        if (m < 0)
            return m;
        if (s->map_size < SMI_EXT_HEADER_SIZE)
            return IMAGESTREAM_BAD_FILE_FORMAT; /* (as a first read says of it) */
        if (smi_protect_writable(s->base, 0, SMI_EXT_HEADER_SIZE) != 0)
            return IMAGESTREAM_UNABLE_TO_MAP_FILE;
        if (!smi_ext_has_magic(s->base, s->map_size))
            return IMAGESTREAM_BAD_FILE_FORMAT;
        rc = smi_ext_read_geometry_once(s->base, s->map_size, g);
    }
    return rc == SMI_GEOMETRY_UNSETTLED ? IMAGESTREAM_BAD_FILE_FORMAT : rc;
}

/* Copy buffer b's header out of the file once; the copy is what gets
   checked and used. */
static void smi_ext_snapshot(const smi_ext_page_t *p, uint32_t b, smi_ext_buffer_header_t *h)
{
    const smi_ext_buffer_header_t *src = &p->buffers[b];
    h->state = SMI_LOAD_RLX(&src->state);
    h->format = SMI_LOAD_RLX(&src->format);
    h->sequence = SMI_LOAD_RLX(&src->sequence);
    h->frame_number = SMI_LOAD_RLX(&src->frame_number);
    h->width = SMI_LOAD_RLX(&src->width);
    h->height = SMI_LOAD_RLX(&src->height);
    h->depth = SMI_LOAD_RLX(&src->depth);
    h->data_offset = SMI_LOAD_RLX(&src->data_offset);
    h->data_size = SMI_LOAD_RLX(&src->data_size);
    /* (doubles: plain copies of a local snapshot; any bit pattern is a value) */
    memcpy(&h->timestamp, (const uint8_t *)src + offsetof(smi_ext_buffer_header_t, timestamp),
           sizeof h->timestamp + sizeof h->spacing + sizeof h->origin);
    h->flags = SMI_LOAD_RLX(&src->flags);
    h->flags_check = SMI_LOAD_RLX(&src->flags_check);
}

/* The flags of a buffer header snapshot: only when its server wrote them
   with this frame (flags_check is the frame's sequence: a server of an
   earlier version publishes without touching them, and its frames are top
   row first), and only the flags this version knows (LAYOUT.md, "Row
   order"). */
static uint32_t smi_ext_frame_flags(const smi_ext_buffer_header_t *h)
{
    if (h->flags_check != (uint32_t)h->sequence)
        return 0;
    return h->flags & SMI_EXT_KNOWN_FLAGS;
}

/* Check a buffer header snapshot against this side's own geometry. */
static int smi_ext_check_buffer(const SharedMemoryImageStream s, const smi_ext_buffer_header_t *h,
                                uint32_t b)
{
    uint64_t n;
    if (smi_frame_size(h->format, h->width, h->height, h->depth, &n) != SMI_SIZE_OK ||
        n != h->data_size || n > s->buffer_size ||
        h->data_offset != SMI_EXT_HEADER_SIZE + b * s->buffer_size)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    return IMAGESTREAM_NOERROR;
}

/* This side's copy of a validated geometry. */
static void smi_ext_take_geometry(SharedMemoryImageStream s, const smi_ext_geometry_t *g)
{
    s->page = (smi_ext_page_t *)s->base;
    s->buffer_count = g->buffer_count;
    s->slot_count = g->slot_count;
    s->buffer_size = g->buffer_size;
    s->file_size = g->file_size;
}

/* Pixels of buffer b, from this side's own geometry (never the file's
   data_offset, which any process could have changed); NULL when `bytes` of
   them would not lie inside the mapping held now. By the geometry's
   invariant (smi_internal.h) that cannot happen for b < buffer_count and
   bytes <= buffer_size; the check makes it so on every path, whatever the
   handle went through. */
static uint8_t *smi_ext_pixels(SharedMemoryImageStream s, uint32_t b, uint64_t bytes)
{
    if (b >= s->buffer_count || bytes > s->buffer_size)
        return NULL;
    uint8_t *p = s->base + SMI_EXT_HEADER_SIZE + (uint64_t)b * s->buffer_size;
    return smi_span_mapped(s, p, bytes) ? p : NULL;
}

/* ---- server -------------------------------------------------------------- */

static void smi_ext_layout_buffers(smi_ext_page_t *p, uint64_t buffer_size, uint32_t count)
{
    p->file.buffer_count = count;
    p->file.buffer_size = buffer_size;
    p->file.file_size = SMI_EXT_HEADER_SIZE + (uint64_t)count * buffer_size;
    for (uint32_t b = 0; b < SMI_EXT_MAX_BUFFERS; b++) {
        smi_ext_buffer_header_t *h = &p->buffers[b];
        SMI_STORE(&h->state, SMI_EXT_EMPTY);
        memset((uint8_t *)h + sizeof h->state, 0, sizeof *h - sizeof h->state);
        if (b < count)
            h->data_offset = SMI_EXT_HEADER_SIZE + b * buffer_size;
    }
}

static uint64_t smi_ext_fit_buffer_size(uint64_t file_size)
{
    if (file_size < SMI_EXT_HEADER_SIZE)
        return 0;
    return (file_size - SMI_EXT_HEADER_SIZE) / SMI_EXT_BUFFERS / SMI_EXT_ALIGN * SMI_EXT_ALIGN;
}

static int smi_slot_alive(SharedMemoryImageStream s, uint32_t j)
{
    if (s && !s->server && s->slot == (int)j)
        return 1;
    return smi_bytelock_held(s->fd, SMI_LOCK_SLOT(j)) != 0; /* errors count as alive */
}

/* Free the slots of dead clients (only those holding a buffer, with
   only_holders); returns how many were freed. The periodic sweep of every
   slot is smi_ext_sweep_all's: a holders-only sweep must not postpone it, or
   under steady contention a dead client that held nothing would keep its
   slot for ever. */
static int smi_ext_sweep(SharedMemoryImageStream s, int only_holders)
{
    int freed = 0;
    for (uint32_t j = 0; j < s->slot_count; j++) {
        smi_ext_slot_t *slot = &s->page->slots[j];
        uint32_t claim = SMI_LOAD(&slot->claim);
        if (claim == 0 || (only_holders && SMI_LOAD(&slot->hold) == 0))
            continue;
        if (smi_bytelock_held(s->fd, SMI_LOCK_SLOT(j)) == 0 &&
            __atomic_compare_exchange_n(&slot->claim, &claim, 0, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            freed++;
    }
    return freed;
}

/* Sweep every slot, and schedule the next such sweep. */
static void smi_ext_sweep_all(SharedMemoryImageStream s)
{
    smi_ext_sweep(s, 0);
    s->next_sweep_ns = smi_now_ns() + SMI_SWEEP_INTERVAL_NS;
}

static int smi_ext_connected(SharedMemoryImageStream s)
{
    for (uint32_t j = 0; j < s->slot_count; j++)
        if (SMI_LOAD_RLX(&s->page->slots[j].claim) != 0)
            return 1;
    return 0;
}

static int smi_ext_server_start(SharedMemoryImageStream s)
{
    smi_ext_page_t *p = s->page;
    if (s->map_size < SMI_EXT_HEADER_SIZE + SMI_EXT_BUFFERS * SMI_EXT_ALIGN)
        return IMAGESTREAM_BAD_FILE_SIZE;
    if (smi_ext_has_magic(s->base, s->map_size)) {
        smi_ext_geometry_t g;
        int rc = smi_ext_read_geometry(s->base, s->map_size, &g);
        if (rc == IMAGESTREAM_VERSION_MISMATCH)
            return rc; /* a newer library's stream: do not destroy it */
        if (rc == IMAGESTREAM_NOERROR) {
            /* Take the stream over; attached clients keep their slots. From
               here on the server uses its own copy of the geometry only. */
            smi_ext_take_geometry(s, &g);
            uint64_t seq = SMI_LOAD_RLX(&p->file.last_sequence);
            uint32_t frame = SMI_LOAD_RLX(&p->file.last_frame);
            for (uint32_t b = 0; b < s->buffer_count; b++) {
                smi_ext_buffer_header_t *h = &p->buffers[b];
                if (SMI_LOAD(&h->state) == SMI_EXT_WRITING) /* died mid-frame */
                    SMI_STORE(&h->state, SMI_EXT_EMPTY);
                uint64_t hs = SMI_LOAD_RLX(&h->sequence);
                uint32_t hf = SMI_LOAD_RLX(&h->frame_number);
                if (hs > seq)
                    seq = hs;
                if (hf > frame)
                    frame = hf;
            }
            /* A grown file gets bigger buffers, when no client is attached. */
            uint64_t fit = smi_ext_fit_buffer_size(s->map_size);
            smi_ext_sweep_all(s);
            if (fit > s->buffer_size && g.file_size < s->map_size && !smi_ext_connected(s)) {
                smi_ext_layout_buffers(p, fit, SMI_EXT_BUFFERS);
                g.buffer_count = SMI_EXT_BUFFERS;
                g.buffer_size = fit;
                g.file_size = SMI_EXT_HEADER_SIZE + SMI_EXT_BUFFERS * fit;
                smi_ext_take_geometry(s, &g);
            }
            SMI_STORE(&p->file.last_sequence, seq);
            SMI_STORE(&p->file.last_frame, frame);
            if (seq != 0) /* frames were published: number on from them */
                smi_take_over_numbers(s, frame);
            __atomic_fetch_add(&p->file.server_generation, 1, __ATOMIC_RELAXED);
            /* Taken over only from a server that did not end (it crashed or
               was killed); one that ended with destroy() is served again. */
            uint32_t before = __atomic_exchange_n(&p->file.server_state, SMI_EXT_SERVING,
                                                  __ATOMIC_RELAXED);
            return before == SMI_EXT_SERVER_ENDED ? IMAGESTREAM_NOERROR
                                                  : IMAGESTREAM_RECONNECTING;
        }
    }
    /* A new stream: write everything, the magic last. */
    uint64_t bs = smi_ext_fit_buffer_size(s->map_size);
    SMI_STORE((uint64_t *)p->file.magic, 0);
    memset((uint8_t *)p + 8, 0, SMI_EXT_HEADER_SIZE - 8);
    p->file.version = SMI_EXT_VERSION;
    p->file.header_size = SMI_EXT_HEADER_SIZE;
    p->file.slot_count = SMI_EXT_MAX_SLOTS;
    p->file.server_generation = 1;
    p->file.server_state = SMI_EXT_SERVING;
    smi_ext_layout_buffers(p, bs, SMI_EXT_BUFFERS);
    uint64_t magic;
    memcpy(&magic, SMI_EXT_MAGIC, sizeof magic);
    SMI_STORE_REL((uint64_t *)p->file.magic, magic);
    /* The guard after the magic: an EnSight-layout client of this library
       that reads a guard byte as a block state then finds the magic too
       (smi_ensight.c, smi_es_bad_state). */
    SMI_STORE_REL((uint32_t *)p->file.ensight_guard, UINT32_MAX);
    smi_ext_geometry_t g = {SMI_EXT_BUFFERS, SMI_EXT_MAX_SLOTS, bs,
                            SMI_EXT_HEADER_SIZE + SMI_EXT_BUFFERS * bs};
    smi_ext_take_geometry(s, &g);
    s->next_sweep_ns = smi_now_ns() + SMI_SWEEP_INTERVAL_NS;
    /* Clients asleep in wait() on an earlier header (whose slots this one
       wiped) wake, attach again and sleep on the new one. */
    smi_futex_wake(&p->file.publish_count);
    return IMAGESTREAM_NOERROR;
}

/* Has the reliable reader in slot j, whose claim was seen, not read the
   frame of sequence seq? A dead reader's claim is released here (its byte
   lock is gone), so it holds nothing back. The slot's last_sequence is
   read before its hold (smi_ext_blocked): a reader stores hold, then
   last_sequence. */
static int smi_ext_unread(SharedMemoryImageStream s, uint32_t j, uint32_t claim, uint64_t seq)
{
    smi_ext_slot_t *slot = &s->page->slots[j];
    if (seq == 0 || !(SMI_LOAD(&slot->mode) & SMI_EXT_MODE_RELIABLE) ||
        SMI_LOAD(&slot->last_sequence) >= seq)
        return 0;
    if (smi_bytelock_held(s->fd, SMI_LOCK_SLOT(j)) != 0) /* alive (errors count as alive) */
        return 1;
    __atomic_compare_exchange_n(&slot->claim, &claim, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return 0;
}

/* May the server not take buffer b, whose frame has sequence seq (0: no
   frame)? A claimed slot holds it, or a live reliable reader has not read
   it. Called before the server's store of state (to leave a blocked
   buffer's state alone) and again after it (the handshake). */
static int smi_ext_blocked(SharedMemoryImageStream s, uint32_t b, uint64_t seq)
{
    for (uint32_t j = 0; j < s->slot_count; j++) {
        smi_ext_slot_t *slot = &s->page->slots[j];
        uint32_t claim = SMI_LOAD(&slot->claim);
        if (claim != 0 && (smi_ext_unread(s, j, claim, seq) || SMI_LOAD(&slot->hold) == b + 1))
            return 1;
    }
    return 0;
}

/* Does a claimed slot hold buffer b? Called after the server's store of state. */
static int smi_ext_held(SharedMemoryImageStream s, uint32_t b)
{
    return smi_ext_blocked(s, b, 0);
}

/* Readers may look again: add to publish_count, then wake the sleepers if
   a claimed slot says it waits (the word before the flags: a client stores
   its flag before it reads the word). Returns whether a slot is claimed. */
static int smi_ext_wake_readers(SharedMemoryImageStream s)
{
    smi_ext_page_t *p = s->page;
    __atomic_fetch_add(&p->file.publish_count, 1, __ATOMIC_SEQ_CST);
    int connected = 0, waiting = 0;
    for (uint32_t j = 0; j < s->slot_count; j++) {
        if (SMI_LOAD(&p->slots[j].claim) != 0) {
            connected = 1;
            waiting |= SMI_LOAD(&p->slots[j].waiting) != 0;
        }
    }
    if (waiting)
        smi_futex_wake(&p->file.publish_count);
    return connected;
}

/* Is a queue reader attached? Then the server overwrites its oldest frame. */
static int smi_ext_queue_readers(SharedMemoryImageStream s)
{
    for (uint32_t j = 0; j < s->slot_count; j++) {
        const smi_ext_slot_t *slot = &s->page->slots[j];
        if (SMI_LOAD_RLX(&slot->claim) != 0 && (SMI_LOAD_RLX(&slot->mode) & SMI_EXT_MODE_QUEUE))
            return 1;
    }
    return 0;
}

/* Add one buffer at the end of the file (LAYOUT.md, "Growing"): reserve the
   file's new blocks, map it again, write the new buffer's header, then make
   it part of the geometry: file_size first, buffer_count last. Existing
   buffers keep their place, so frames clients hold stay where they are.
   Returns the new buffer's index, or -1 (no room: the stream is unchanged). */
static int smi_ext_grow(SharedMemoryImageStream s)
{
    uint32_t limit = s->max_buffers ? s->max_buffers : SMI_EXT_MAX_BUFFERS;
    uint32_t b = s->buffer_count;
    if (b >= limit || b >= SMI_EXT_MAX_BUFFERS)
        return -1;
    uint64_t want = SMI_EXT_HEADER_SIZE + (uint64_t)(b + 1) * s->buffer_size;
    if (want > s->map_size) {
        int64_t had = smi_file_size(s->fd);
        if (smi_file_reserve_tail(s->fd, s->map_size, want) != 0) {
            if (had >= 0 && smi_file_size(s->fd) > had)
                smi_file_resize(s->fd, (uint64_t)had); /* leave the file as it was */
            return -1;
        }
        uint8_t *base = smi_remap_grow(s->base, s->map_size, want);
        if (!base)
            return -1; /* the file is longer, the stream unchanged */
        s->base = base;
        s->map_size = want;
        s->page = (smi_ext_page_t *)base;
    }
    smi_ext_page_t *p = s->page;
    smi_ext_buffer_header_t *h = &p->buffers[b];
    SMI_STORE(&h->state, SMI_EXT_EMPTY);
    memset((uint8_t *)h + sizeof h->state, 0, sizeof *h - sizeof h->state);
    SMI_STORE(&h->data_offset, SMI_EXT_HEADER_SIZE + b * s->buffer_size);
    SMI_STORE(&p->file.file_size, want);
    SMI_STORE(&p->file.buffer_count, b + 1);
    s->buffer_count = b + 1;
    s->file_size = want;
    return (int)b;
}

/* The order in which the server tries buffers, from key[] (0: empty, else
   the ready frame's sequence): empty buffers first, then, for a stream
   with queue readers, ready ones oldest first (a queue keeps the last
   frames); else ready ones newest first but the newest frame last:
   clients want the newest, and the writer keeps to the fewest buffers it
   can (warm in caches and TLBs). Sorted oldest first (n <= 8: insertion
   sort), then the ready run is reversed but for its last. */
static void smi_ext_order(const uint64_t *key, uint32_t n, int queue, uint32_t *order)
{
    uint32_t empty = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        empty += key[i] == 0;
        while (j > 0) {
            uint32_t o = order[j - 1];
            if (key[o] <= key[i])
                break;
            order[j] = o;
            j--;
        }
        order[j] = i;
    }
    for (uint32_t lo = empty, hi = n >= 2 ? n - 2 : 0; !queue && lo < hi; lo++, hi--) {
        uint32_t t = order[lo];
        order[lo] = order[hi];
        order[hi] = t;
    }
}

/* Pick a buffer no client holds (nor a live reliable reader still needs)
   and mark it "writing"; -1 when there is none and no buffer can be added. */
static int smi_ext_take_buffer(SharedMemoryImageStream s)
{
    smi_ext_page_t *p = s->page;
    uint32_t order[SMI_EXT_MAX_BUFFERS], n = s->buffer_count;
    uint64_t key[SMI_EXT_MAX_BUFFERS];
    for (uint32_t i = 0; i < n; i++) /* each read once: the sort uses the copies */
        key[i] = SMI_LOAD_RLX(&p->buffers[i].state) == SMI_EXT_READY
                     ? SMI_LOAD_RLX(&p->buffers[i].sequence)
                     : 0;
    smi_ext_order(key, n, smi_ext_queue_readers(s), order);
    for (int attempt = 0; attempt < 2; attempt++) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t b = order[i];
            smi_ext_buffer_header_t *h = &p->buffers[b];
            /* A blocked buffer's state is left alone: a queue reader looking
               at it meanwhile must not think its frame gone. */
            if (smi_ext_blocked(s, b, key[b]))
                continue;
            uint32_t old = SMI_LOAD_RLX(&h->state);
            SMI_STORE(&h->state, SMI_EXT_WRITING);
            if (!smi_ext_blocked(s, b, key[b]))
                return (int)b;
            SMI_STORE(&h->state, old); /* a client got to it: contents untouched */
            if (old == SMI_EXT_READY) /* a reader that saw it go may be asleep */
                smi_ext_wake_readers(s);
        }
        /* Every buffer is held: are all the holders still alive? */
        if (attempt == 0 && smi_ext_sweep(s, 1) == 0)
            break;
    }
    /* Every buffer is held by a live client: add one rather than drop the
       frame (up to max_buffers). Nobody can hold it yet, but it is checked
       like any other (a hostile `hold` may name it). */
    int b = smi_ext_grow(s);
    if (b < 0)
        return -1;
    smi_ext_buffer_header_t *h = &s->page->buffers[b];
    SMI_STORE(&h->state, SMI_EXT_WRITING);
    if (!smi_ext_held(s, (uint32_t)b))
        return b;
    SMI_STORE(&h->state, SMI_EXT_EMPTY);
    return -1;
}

/* Server: make at least min_buffers buffers now, and let acquire grow the
   stream to at most max_buffers. */
static int smi_ext_set_buffers(SharedMemoryImageStream s, uint32_t min_buffers,
                               uint32_t max_buffers)
{
    s->max_buffers = max_buffers;
    while (s->buffer_count < min_buffers)
        if (smi_ext_grow(s) < 0)
            return IMAGESTREAM_NO_SPACE;
    return IMAGESTREAM_NOERROR;
}

/* Take a buffer, waiting up to the server's acquire timeout for one
   (SharedMemoryImageStream_setacquiretimeout): announce the sleep, read
   consume_count, try again, and sleep on it. A client adds to the word
   before it reads server_waiting (smi_ext_consumed), so no release is
   missed; the server looks again every SMI_ACQUIRE_RECHECK_NS, when a
   reader killed meanwhile (which wakes nobody) is found dead. */
static int smi_ext_take_or_wait(SharedMemoryImageStream s)
{
    int b = smi_ext_take_buffer(s);
    if (b >= 0 || s->acquire_timeout_ns == 0)
        return b;
    smi_ext_file_header_t *f = &s->page->file;
    int64_t deadline = smi_now_ns() + s->acquire_timeout_ns;
    while (b < 0) {
        SMI_STORE(&f->server_waiting, 1);
        uint32_t seen = SMI_LOAD(&f->consume_count);
        if ((b = smi_ext_take_buffer(s)) >= 0)
            break;
        int64_t left = SMI_ACQUIRE_RECHECK_NS, until = deadline - smi_now_ns();
        if (s->acquire_timeout_ns > 0 && until <= 0)
            break;
        if (s->acquire_timeout_ns > 0 && until < left)
            left = until;
        smi_futex_wait(&f->consume_count, seen, left);
    }
    SMI_STORE(&f->server_waiting, 0);
    return b;
}

static int smi_ext_acquire(SharedMemoryImageStream s, uint64_t bytes)
{
    if (bytes > s->buffer_size)
        return IMAGESTREAM_FRAME_TOO_LARGE;
    if (smi_now_ns() >= s->next_sweep_ns)
        smi_ext_sweep_all(s);
    int b = smi_ext_take_or_wait(s);
    if (b < 0)
        return IMAGESTREAM_NO_BUFFERAVAILABLE;
    uint8_t *px = smi_ext_pixels(s, (uint32_t)b, bytes);
    if (!px) {
        SMI_STORE(&s->page->buffers[b].state, SMI_EXT_EMPTY);
        return IMAGESTREAM_BAD_FILE_SIZE;
    }
    s->buffer = b;
    s->frame.buffer = px;
    return IMAGESTREAM_NOERROR;
}

static int smi_ext_publish(SharedMemoryImageStream s)
{
    smi_ext_page_t *p = s->page;
    smi_ext_buffer_header_t *h = &p->buffers[s->buffer];
    const SharedMemoryImageDesc *d = &s->desc;
    uint64_t seq = SMI_LOAD_RLX(&p->file.last_sequence) + 1;
    uint32_t number = s->frame.iFrame;

    h->format = d->format;
    h->width = d->width;
    h->height = d->height;
    h->depth = d->depth;
    uint64_t bytes; /* (the description was checked at acquire) */
    (void)smi_frame_size(d->format, d->width, d->height, d->depth, &bytes);
    h->data_size = bytes;
    h->timestamp = d->timestamp;
    memcpy(h->spacing, d->spacing, sizeof h->spacing);
    memcpy(h->origin, d->origin, sizeof h->origin);
    h->frame_number = number;
    h->flags = d->flags & SMI_EXT_KNOWN_FLAGS;
    h->flags_check = (uint32_t)seq;
    SMI_STORE_RLX(&h->sequence, seq);
    SMI_STORE(&h->state, SMI_EXT_READY);
    SMI_STORE(&p->file.last_sequence, seq);
    SMI_STORE(&p->file.last_frame, number);
    s->buffer = -1;

    return smi_ext_wake_readers(s) ? IMAGESTREAM_NOERROR : IMAGESTREAM_UNCONNECTED;
}

static void smi_ext_abandon(SharedMemoryImageStream s)
{
    if (s->buffer >= 0)
        SMI_STORE(&s->page->buffers[s->buffer].state, SMI_EXT_EMPTY);
    s->buffer = -1;
    s->held = 0;
}

/* ---- client -------------------------------------------------------------- */

/* The slot mode this client announces (SMI_EXT_MODE_*). */
static uint32_t smi_ext_mode(const SharedMemoryImageStream s)
{
    if (s->options & IMAGESTREAM_OPTIONS_RELIABLE)
        return SMI_EXT_MODE_QUEUE | SMI_EXT_MODE_RELIABLE;
    return (s->options & IMAGESTREAM_OPTIONS_QUEUE) ? SMI_EXT_MODE_QUEUE : 0;
}

/* A client let go of a frame (unlocked it, or a reliable reader moved past
   it): tell a server waiting for a buffer. The word first, then the flag:
   the server stores its flag before it reads the word. */
static void smi_ext_consumed(SharedMemoryImageStream s)
{
    smi_ext_file_header_t *f = &s->page->file;
    __atomic_fetch_add(&f->consume_count, 1, __ATOMIC_SEQ_CST);
    if (SMI_LOAD(&f->server_waiting) != 0)
        smi_futex_wake(&f->consume_count);
}

/* Where a queue reader starts, read after its claim is visible: before
   the run of consecutive ready frames that ends with the newest (a frame
   missing below the run may have been overwritten by a server that looked
   at the slots before the claim), and not before a frame being written now
   (the same); with no ready frame, after the file's last. */
static uint64_t smi_ext_queue_position(SharedMemoryImageStream s)
{
    uint64_t ready[SMI_EXT_MAX_BUFFERS], top = 0, writing = 0;
    uint32_t n = 0;
    for (uint32_t b = 0; b < s->buffer_count; b++) {
        const smi_ext_buffer_header_t *h = &s->page->buffers[b];
        uint32_t st = SMI_LOAD(&h->state);
        uint64_t seq = SMI_LOAD_RLX(&h->sequence);
        if (st == SMI_EXT_READY && seq != 0)
            ready[n++] = seq;
        else if (st == SMI_EXT_WRITING && seq > writing)
            writing = seq;
        if (st == SMI_EXT_READY && seq > top)
            top = seq;
    }
    if (top == 0)
        return SMI_LOAD(&s->page->file.last_sequence);
    for (int found = 1; found && top > 1;) { /* walk down the run (n <= 8) */
        found = 0;
        for (uint32_t i = 0; i < n && !found; i++)
            found = ready[i] == top - 1;
        top -= found;
    }
    return top - 1 > writing ? top - 1 : writing;
}

/* A queue reader sets its position (after its claim is visible: from then
   on a server that sees it keeps the frames a reliable reader has not
   read); a reliable one then tells a server waiting for a buffer that the
   frames before it are free. */
static void smi_ext_queue_start(SharedMemoryImageStream s, smi_ext_slot_t *slot)
{
    s->last_sequence = smi_ext_queue_position(s);
    s->handed_sequence = s->last_sequence;
    SMI_STORE(&slot->last_sequence, s->last_sequence);
    if (s->options & IMAGESTREAM_OPTIONS_RELIABLE)
        smi_ext_consumed(s);
}

/* Reset a slot whose byte lock this client holds, then claim it: the server
   ignores unclaimed slots, so the reset cannot be seen half done. A reliable
   reader claims every frame (last_sequence 0) until its queue_start. */
static void smi_ext_claim_slot(SharedMemoryImageStream s, smi_ext_slot_t *slot)
{
    uint32_t mode = smi_ext_mode(s);
    SMI_STORE(&slot->hold, 0);
    SMI_STORE(&slot->waiting, 0);
    SMI_STORE(&slot->mode, mode);
    SMI_STORE(&slot->last_sequence, (mode & SMI_EXT_MODE_RELIABLE) ? 0 : s->last_sequence);
    SMI_STORE_RLX(&slot->frames_locked, 0);
    SMI_STORE_RLX(&slot->frames_lost, 0);
    uint32_t claim;
    do {
        claim = __atomic_add_fetch(&s->page->file.claim_counter, 1, __ATOMIC_SEQ_CST);
    } while (claim == 0);
    s->claim = claim;
    SMI_STORE(&slot->claim, claim);
    if (mode & SMI_EXT_MODE_QUEUE)
        smi_ext_queue_start(s, slot);
}


/* A new header wiped this client's slot: its sequences start again. */
static void smi_ext_reclaim_slot(SharedMemoryImageStream s, smi_ext_slot_t *slot)
{
    s->last_sequence = 0;
    smi_ext_claim_slot(s, slot);
}

static int smi_ext_client_attach(SharedMemoryImageStream s)
{
    smi_ext_geometry_t g;
    int rc = smi_ext_client_geometry(s, &g);
    if (rc < 0)
        return rc;
    if (smi_protect_writable(s->base, 0, SMI_EXT_HEADER_SIZE) != 0)
        return IMAGESTREAM_UNABLE_TO_MAP_FILE;
    smi_ext_take_geometry(s, &g);
    for (uint32_t j = 0; j < s->slot_count; j++) {
        int busy = smi_bytelock_try(s->fd, SMI_LOCK_SLOT(j));
        if (busy < 0)
            return IMAGESTREAM_UNABLE_TO_OPEN_FILE;
        if (busy)
            continue;
        s->slot = (int)j;
        s->last_sequence = 0;
        smi_ext_claim_slot(s, &s->page->slots[j]);
        return IMAGESTREAM_NOERROR;
    }
    return IMAGESTREAM_TOO_MANY_CLIENTS;
}

/* This client's slot, or NULL when the mapping no longer has a writable
   header page (the file changed under the client and could not be re-read). */
static smi_ext_slot_t *smi_ext_my_slot(SharedMemoryImageStream s)
{
    if (s->slot < 0 || !s->base || s->map_size < SMI_EXT_HEADER_SIZE)
        return NULL;
    return &s->page->slots[s->slot];
}

static void smi_ext_detach(SharedMemoryImageStream s)
{
    smi_ext_slot_t *slot = smi_ext_my_slot(s);
    if (slot) {
        SMI_STORE(&slot->hold, 0);
        SMI_STORE(&slot->waiting, 0);
        SMI_STORE(&slot->claim, 0);
    }
    if (s->slot >= 0)
        smi_bytelock_release(s->fd, SMI_LOCK_SLOT(s->slot));
    s->slot = -1;
}

/* Make sure the client's geometry is current before it is used: when the
   header's geometry changed (a server re-laid out a grown file, or the file
   was overwritten), or an earlier refresh failed and left no geometry, map
   the file again and validate it against that mapping. On failure the handle
   holds no geometry (buffer_count 0: smi_map_client forgot it), so every
   lock and wait answers an error until a later refresh validates the file
   again: the handle attaches again by itself, keeping its slot. While a
   frame is locked the mapping stays as it is (the caller may be reading the
   frame in place): the new geometry is taken at the next lock. */
static int smi_ext_refresh(SharedMemoryImageStream s)
{
    if (s->slot < 0)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    if (s->held || (s->buffer_count != 0 && smi_ext_my_slot(s) &&
                    SMI_LOAD_RLX(&s->page->file.buffer_size) == s->buffer_size &&
                    SMI_LOAD_RLX(&s->page->file.buffer_count) == s->buffer_count &&
                    SMI_LOAD_RLX(&s->page->file.file_size) == s->file_size)) {
        smi_ext_slot_t *slot = smi_ext_my_slot(s);
        if (!slot)
            return IMAGESTREAM_BAD_FILE_FORMAT;
        if (SMI_LOAD_RLX(&slot->claim) != s->claim) /* a new header wiped the slots */
            smi_ext_reclaim_slot(s, slot);
        return IMAGESTREAM_NOERROR;
    }
    int rc = smi_map_client(s);
    if (rc < 0)
        return rc;
    if (s->map_size < SMI_EXT_HEADER_SIZE ||
        smi_protect_writable(s->base, 0, SMI_EXT_HEADER_SIZE) != 0) {
        smi_unmap_stream(s);
        return IMAGESTREAM_BAD_FILE_FORMAT;
    }
    if (!smi_ext_has_magic(s->base, s->map_size))
        return IMAGESTREAM_BAD_FILE_FORMAT;
    smi_ext_geometry_t g;
    rc = smi_ext_client_geometry(s, &g); /* (a server may be adding a buffer) */
    if (rc < 0)
        return rc;
    if ((uint32_t)s->slot >= g.slot_count)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    smi_ext_take_geometry(s, &g);
    smi_ext_slot_t *slot = smi_ext_my_slot(s);
    if (SMI_LOAD(&slot->claim) != s->claim) /* a new header wiped the slots */
        smi_ext_reclaim_slot(s, slot);
    return IMAGESTREAM_NOERROR;
}

/* The ready buffer among the first `count` with a sequence above this
   client's last: the largest such sequence, or with `oldest` the smallest;
   -1 when none (or a negative code for a corrupted state). Only buffer
   headers are read (the header page, mapped whatever the geometry). */
static int smi_ext_find_in(SharedMemoryImageStream s, uint32_t count, int oldest, int *best)
{
    uint64_t best_seq = 0;
    *best = -1;
    for (uint32_t b = 0; b < count; b++) {
        const smi_ext_buffer_header_t *h = &s->page->buffers[b];
        uint32_t st = SMI_LOAD_ACQ(&h->state);
        if (st > SMI_EXT_READY)
            return IMAGESTREAM_BAD_FILE_FORMAT;
        if (st != SMI_EXT_READY)
            continue;
        uint64_t seq = SMI_LOAD_RLX(&h->sequence);
        if (seq > s->last_sequence && (*best < 0 || (oldest ? seq < best_seq : seq > best_seq))) {
            best_seq = seq;
            *best = (int)b;
        }
    }
    return IMAGESTREAM_NOERROR;
}

/* The ready buffer of this client's geometry as smi_ext_find_in finds it. */
static int smi_ext_find(SharedMemoryImageStream s, int oldest, int *best)
{
    return smi_ext_find_in(s, s->buffer_count, oldest, best);
}

/* Is a buffer being written that still holds a frame between this
   client's last and `seq`? For a live reliable reader that is a buffer the
   server took and is about to put back (its second look sees the reader):
   the reader waits for that frame rather than pass it. */
static int smi_ext_behind(SharedMemoryImageStream s, uint64_t seq)
{
    for (uint32_t b = 0; b < s->buffer_count; b++) {
        const smi_ext_buffer_header_t *h = &s->page->buffers[b];
        uint64_t old = SMI_LOAD_RLX(&h->sequence);
        if (SMI_LOAD(&h->state) == SMI_EXT_WRITING && old > s->last_sequence && old < seq)
            return 1;
    }
    return 0;
}

/* The ready buffer with the largest sequence above this client's last. */
static int smi_ext_newest(SharedMemoryImageStream s, int *best)
{
    return smi_ext_find(s, 0, best);
}

/* This client's position moves to the pinned frame h, whose sequence is
   above it: the frames in between are passed over for good (a queue
   reader's slot counts them; what next() reports is counted from the
   positions, smi_count_lost in smi_stream.c). The slot's last_sequence is
   stored after its hold (which a reliable reader's server reads the other
   way round). */
static void smi_ext_advance(SharedMemoryImageStream s, smi_ext_slot_t *slot,
                            const smi_ext_buffer_header_t *h)
{
    uint64_t passed = h->sequence - s->last_sequence - 1;
    s->last_sequence = h->sequence;
    SMI_STORE(&slot->last_sequence, h->sequence);
    SMI_STORE_RLX(&slot->frames_locked, SMI_LOAD_RLX(&slot->frames_locked) + 1);
    if (passed && (s->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE)))
        SMI_STORE_RLX(&slot->frames_lost, SMI_LOAD_RLX(&slot->frames_lost) + passed);
    if (s->options & IMAGESTREAM_OPTIONS_RELIABLE)
        smi_ext_consumed(s); /* the frame before this one may go now */
}

/* A client of EnSight's API (no IMAGESTREAM_OPTIONS_ANYFORMAT: RGB8 frames
   of depth 1 only) reads frame->buffer top row first: a frame stored bottom
   row first is handed to it as an upright copy in the stream's own memory
   (one copy, as for EnSight-layout frames split over both blocks); the copy
   then says it is top row first. Returns the pixels to hand out (px, or
   the copy; NULL when out of memory). */
static uint8_t *smi_ext_upright_for_ensight_api(SharedMemoryImageStream s,
                                                const smi_ext_buffer_header_t *h, uint8_t *px,
                                                uint32_t *flags)
{
    if (!(*flags & IMAGESTREAM_FRAME_BOTTOMUP) || (s->options & IMAGESTREAM_OPTIONS_ANYFORMAT))
        return px;
    uint8_t *copy = smi_staging(s, h->data_size);
    if (!copy)
        return NULL;
    uint64_t row = (uint64_t)h->width * 3;
    for (uint32_t y = 0; y < h->height; y++)
        memcpy(copy + row * y, px + row * (h->height - 1 - y), row);
    *flags &= ~IMAGESTREAM_FRAME_BOTTOMUP;
    return copy;
}

/* Hand out the pinned buffer b, whose header copy h was checked. */
static int smi_ext_hand_out(SharedMemoryImageStream s, uint32_t b, const smi_ext_buffer_header_t *h)
{
    uint8_t *px = smi_ext_pixels(s, b, h->data_size);
    if (!px) /* (checked against buffer_size: cannot happen) */
        return IMAGESTREAM_BAD_FILE_SIZE;
    uint32_t flags = smi_ext_frame_flags(h);
    if (!(px = smi_ext_upright_for_ensight_api(s, h, px, &flags)))
        return IMAGESTREAM_MEMORY_ALLOC_ERROR;
    SharedMemoryImageDesc *d = &s->desc;
    d->format = h->format;
    d->width = h->width;
    d->height = h->height;
    d->depth = h->depth;
    d->timestamp = h->timestamp;
    memcpy(d->spacing, h->spacing, sizeof d->spacing);
    memcpy(d->origin, h->origin, sizeof d->origin);
    d->flags = flags;
    s->buffer = (int)b;
    s->frame.iFrame = h->frame_number;
    s->frame.iWidth = h->width;
    s->frame.iHeight = h->height;
    s->frame.buffer = px;
    return IMAGESTREAM_NOERROR;
}

/* What wait looks for: the newest buffer, among those the server added
   since this client mapped the file too while it holds a frame (it maps them
   at its next lock, after unlock: LAYOUT.md, "Growing"; a client holding a
   frame for long would otherwise never see the frames that go into them).
   The file's count is read once and bounded by the header page's 8. */
static int smi_ext_newest_for_wait(SharedMemoryImageStream s, int *best)
{
    uint32_t count = s->buffer_count;
    if (s->held) {
        uint32_t file_count = SMI_LOAD_RLX(&s->page->file.buffer_count);
        if (file_count > count)
            count = file_count < SMI_EXT_MAX_BUFFERS ? file_count : SMI_EXT_MAX_BUFFERS;
    }
    return smi_ext_find_in(s, count, 0, best);
}


static int smi_ext_lock(SharedMemoryImageStream s)
{
    int rc = smi_ext_refresh(s);
    if (rc < 0)
        return rc;
    smi_ext_slot_t *slot = &s->page->slots[s->slot];
    int oldest = (s->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE)) != 0;
    for (int attempt = 0; attempt < SMI_LOCK_RETRIES; attempt++) {
        int b;
        rc = smi_ext_find(s, oldest, &b);
        if (rc < 0)
            return rc;
        if (b < 0)
            return IMAGESTREAM_NO_FRAMEAVAILABLE;
        if ((s->options & IMAGESTREAM_OPTIONS_RELIABLE) &&
            smi_ext_behind(s, SMI_LOAD_RLX(&s->page->buffers[b].sequence))) {
            smi_cpu_relax();
            if (attempt < SMI_LOCK_RETRIES - 1)
                continue;
            /* (a server that died between its two looks never puts it back) */
            if (smi_bytelock_held(s->fd, SMI_LOCK_SERVER) != 0)
                return IMAGESTREAM_NO_FRAMEAVAILABLE;
        }
        SMI_STORE(&slot->hold, (uint32_t)b + 1);
        if (SMI_LOAD(&s->page->buffers[b].state) != SMI_EXT_READY) {
            SMI_STORE(&slot->hold, 0); /* the server got there first */
            continue;
        }
        /* Pinned: the server will not write this buffer until hold is 0.
           Its header is read once, into h; only h is checked and used. */
        smi_ext_buffer_header_t h;
        smi_ext_snapshot(s->page, (uint32_t)b, &h);
        if (h.sequence <= s->last_sequence) {
            SMI_STORE(&slot->hold, 0);
            continue;
        }
        if (smi_ext_check_buffer(s, &h, (uint32_t)b) < 0) {
            SMI_STORE(&slot->hold, 0);
            return IMAGESTREAM_BAD_FILE_FORMAT;
        }
        if (!(s->options & IMAGESTREAM_OPTIONS_ANYFORMAT) &&
            (h.format != IMAGESTREAM_FORMAT_RGB8 || h.depth != 1)) {
            smi_ext_advance(s, slot, &h);
            SMI_STORE(&slot->hold, 0);
            return IMAGESTREAM_FORMAT_SKIPPED;
        }
        /* Handed out first, the position moved after: a frame that cannot
           be handed out (no memory for its upright copy) is not passed. */
        rc = smi_ext_hand_out(s, (uint32_t)b, &h);
        if (rc < 0) {
            SMI_STORE(&slot->hold, 0);
            return rc;
        }
        smi_ext_advance(s, slot, &h);
        return rc;
    }
    return IMAGESTREAM_NO_FRAMEAVAILABLE;
}

static int smi_ext_unlock(SharedMemoryImageStream s)
{
    smi_ext_slot_t *slot = smi_ext_my_slot(s);
    if (slot) {
        SMI_STORE(&slot->hold, 0);
        smi_ext_consumed(s);
    }
    s->buffer = -1;
    return IMAGESTREAM_NOERROR;
}

/* After a sleep: is the file still whole? Under the guard, a read of the
   mapping's last byte (a shrink takes the file's end first, and the fault
   ends the call with BAD_FILE_SIZE): no system call on the wake-up path;
   else one fstat. */
static int smi_ext_still_whole(SharedMemoryImageStream s)
{
    if (s->guarded && s->map_size != 0) {
        (void)*(const volatile uint8_t *)(s->base + s->map_size - 1);
        return IMAGESTREAM_NOERROR;
    }
    return smi_file_intact(s);
}

/* Spin until `until` (monotonic ns) for a frame newer than this client's
   last, reading the publish counter (and the clock every
   SMI_SPIN_CLOCK_EVERY reads) in user space, no system call; the buffers
   are looked at again only when the counter moves. 1: a frame is there,
   0: none came, or a negative code. */
static int smi_ext_spin(SharedMemoryImageStream s, int64_t until)
{
    const uint32_t *word = &s->page->file.publish_count;
    uint32_t seen = SMI_LOAD_ACQ(word);
    for (unsigned n = 1;; n++) {
        if (SMI_LOAD_ACQ(word) == seen) {
            smi_cpu_relax();
            if (n % SMI_SPIN_CLOCK_EVERY == 0 && smi_now_ns() >= until)
                return 0;
            continue;
        }
        seen = SMI_LOAD_ACQ(word);
        int b, rc = smi_ext_refresh(s); /* (loads only, while nothing changed) */
        if (rc < 0 || (rc = smi_ext_newest(s, &b)) < 0)
            return rc;
        if (b >= 0)
            return 1;
        word = &s->page->file.publish_count; /* (the refresh may have mapped again) */
    }
}

static int smi_ext_wait(SharedMemoryImageStream s, int64_t timeout_ns)
{
    int64_t deadline = timeout_ns < 0 ? 0 : smi_now_ns() + timeout_ns;
    for (;;) {
        /* At entry and after each wake: a new server may have written a new
           header (wiping this client's slot) or re-laid out the file. */
        int rc = smi_ext_refresh(s);
        if (rc < 0)
            return rc;
        smi_ext_slot_t *slot = &s->page->slots[s->slot];
        uint32_t *word = &s->page->file.publish_count;
        int b;
        if ((rc = smi_ext_newest_for_wait(s, &b)) < 0)
            return rc;
        if (b >= 0)
            return IMAGESTREAM_NOERROR;
        if (s->spin_ns > 0) { /* once, before the first sleep */
            int64_t until = smi_now_ns() + s->spin_ns;
            if (timeout_ns >= 0 && deadline < until)
                until = deadline;
            s->spin_ns = 0;
            if ((rc = smi_ext_spin(s, until)) != 0)
                return rc < 0 ? rc : IMAGESTREAM_NOERROR;
            continue; /* (look again: the refresh may have mapped again) */
        }
        /* Announce the sleep, then look again: the server bumps the word
           before it reads `waiting`, so no publish is missed. */
        SMI_STORE(&slot->waiting, 1);
        uint32_t seen = SMI_LOAD(word);
        if ((rc = smi_ext_newest_for_wait(s, &b)) < 0 || b >= 0) {
            SMI_STORE(&slot->waiting, 0);
            return rc < 0 ? rc : IMAGESTREAM_NOERROR;
        }
        /* Sleep at most SMI_WAIT_RECHECK_NS at a time: a `waiting` flag
           cleared by another process costs a late frame, never a hang. */
        int64_t left = SMI_WAIT_RECHECK_NS;
        if (timeout_ns >= 0) {
            int64_t until = deadline - smi_now_ns();
            if (until <= 0) {
                SMI_STORE(&slot->waiting, 0);
                return IMAGESTREAM_NO_FRAMEAVAILABLE;
            }
            if (until < left)
                left = until;
        }
        smi_futex_wait(word, seen, left);
        if ((rc = smi_ext_still_whole(s)) < 0) /* truncated while asleep */
            return rc;
        SMI_STORE(&slot->waiting, 0);
    }
}

/* ---- inspection ---------------------------------------------------------- */

static int smi_ext_inspect(int fd, uint64_t size, const uint8_t *first,
                           SharedMemoryImageStream self, SharedMemoryStreamInfo *info)
{
    info->layout = IMAGESTREAM_LAYOUT_EXTENDED;
    /* (a copy: no other process changes it) */
    const smi_ext_page_t *p = (const smi_ext_page_t *)first;
    if (size >= 12)
        info->version = p->file.version;
    smi_ext_geometry_t g; /* the loops below are bounded by it */
    int rc = smi_ext_read_geometry_once((const uint8_t *)p, size, &g); /* (UNSETTLED: the caller reads again) */
    if (rc < 0)
        return rc;
    struct _SharedMemoryImageStream probe = {.fd = fd, .slot = -1};
    if (self)
        probe.slot = self->server ? -1 : self->slot;
    info->buffer_count = g.buffer_count;
    info->buffer_size = g.buffer_size;
    info->max_clients = g.slot_count;
    info->server_generation = SMI_LOAD_RLX(&p->file.server_generation);
    info->last_sequence = SMI_LOAD_RLX(&p->file.last_sequence);
    info->last_frame = SMI_LOAD_RLX(&p->file.last_frame);
    info->server_alive = (self && self->server) || smi_bytelock_held(fd, SMI_LOCK_SERVER) == 1;
    uint32_t live_hold[SMI_EXT_MAX_SLOTS] = {0};
    for (uint32_t j = 0; j < g.slot_count; j++) {
        if (SMI_LOAD_RLX(&p->slots[j].claim) != 0 && smi_slot_alive(&probe, j)) {
            info->clients++;
            live_hold[j] = SMI_LOAD_RLX(&p->slots[j].hold);
        }
    }
    for (uint32_t b = 0; b < g.buffer_count; b++) {
        smi_ext_buffer_header_t h;
        smi_ext_snapshot(p, b, &h);
        SharedMemoryBufferInfo *bi = &info->buffers[b];
        bi->state = h.state;
        bi->format = h.format;
        bi->frame = h.frame_number;
        bi->width = h.width;
        bi->height = h.height;
        bi->depth = h.depth;
        bi->sequence = h.sequence;
        bi->timestamp = h.timestamp;
        for (uint32_t j = 0; j < g.slot_count; j++)
            bi->holders += live_hold[j] == b + 1;
        if (bi->state > SMI_EXT_READY)
            rc = IMAGESTREAM_BAD_FILE_FORMAT;
    }
    return rc;
}

/* The live clients of an extended-layout file fd from `page`, a copy of its
   header page. */
static int smi_ext_inspect_clients(int fd, const smi_ext_page_t *page,
                                   SharedMemoryClientInfo *clients, uint32_t max_clients,
                                   uint32_t *count)
{
    const smi_ext_page_t *p = page; /* a copy: no other process changes it */
    uint32_t slots = p->file.slot_count;
    if (p->file.version != SMI_EXT_VERSION)
        return IMAGESTREAM_VERSION_MISMATCH;
    if (slots < 1 || slots > SMI_EXT_MAX_SLOTS)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    struct _SharedMemoryImageStream probe = {.fd = fd, .slot = -1};
    *count = 0;
    for (uint32_t j = 0; j < slots; j++) {
        const smi_ext_slot_t *slot = &p->slots[j];
        if (slot->claim == 0 || !smi_slot_alive(&probe, j))
            continue;
        if (*count < max_clients) {
            SharedMemoryClientInfo *c = &clients[*count];
            memset(c, 0, sizeof *c);
            c->slot = j;
            c->options = (slot->mode & SMI_EXT_MODE_QUEUE) ? IMAGESTREAM_OPTIONS_QUEUE : 0;
            if ((slot->mode & SMI_EXT_MODE_QUEUE) && (slot->mode & SMI_EXT_MODE_RELIABLE))
                c->options |= IMAGESTREAM_OPTIONS_RELIABLE;
            c->holds = slot->hold;
            c->waiting = slot->waiting != 0;
            c->last_sequence = slot->last_sequence;
            c->frames_locked = slot->frames_locked;
            c->frames_lost = slot->frames_lost;
        }
        (*count)++;
    }
    return IMAGESTREAM_NOERROR;
}

static int smi_ext_clients(int fd, const SharedMemoryStreamInfo *info,
                           SharedMemoryClientInfo *clients, uint32_t max_clients, uint32_t *count)
{
    (void)info;
    smi_ext_page_t page; /* (the slots: a copy, read through the descriptor) */
    if (smi_file_read(fd, &page, sizeof page, 0) != (int64_t)sizeof page)
        return IMAGESTREAM_BAD_FILE_SIZE;
    return smi_ext_inspect_clients(fd, &page, clients, max_clients, count);
}

/* ---- files --------------------------------------------------------------- */

/* An extended-layout file starts with the magic. */
static int smi_ext_probe(int fd, uint64_t size, const uint8_t *first, uint64_t n)
{
    (void)fd;
    (void)size;
    return smi_ext_has_magic(first, n);
}

/* Every format and depth. */
static int smi_ext_frame_check(const SharedMemoryImageDesc *d)
{
    (void)d;
    return IMAGESTREAM_NOERROR;
}

/* The header page and two page-rounded buffers. */
static uint64_t smi_ext_file_bytes(uint64_t frame_bytes)
{
    uint64_t rounded = (frame_bytes + SMI_EXT_ALIGN - 1) / SMI_EXT_ALIGN * SMI_EXT_ALIGN;
    if (rounded < frame_bytes ||
        rounded > ((uint64_t)INT64_MAX - SMI_EXT_HEADER_SIZE) / SMI_EXT_BUFFERS)
        return 0;
    return SMI_EXT_HEADER_SIZE + SMI_EXT_BUFFERS * rounded;
}

/* destroy() of a server: the stream ended cleanly (the next server serves
   it again rather than taking it over). */
static void smi_ext_server_end(SharedMemoryImageStream s)
{
    SMI_STORE(&s->page->file.server_state, SMI_EXT_SERVER_ENDED);
}

const smi_layout_ops_t smi_ext_ops = {
    .layout = IMAGESTREAM_LAYOUT_EXTENDED,
    .probe = smi_ext_probe,
    .frame_check = smi_ext_frame_check,
    .file_bytes = smi_ext_file_bytes,
    .inspect = smi_ext_inspect,
    .inspect_clients = smi_ext_clients,
    .stores_bottom_up = 1,
    .reads_queues = 1,
    .server_start = smi_ext_server_start,
    .client_attach = smi_ext_client_attach,
    .detach = smi_ext_detach,
    .lock = smi_ext_lock,
    .unlock = smi_ext_unlock,
    .wait = smi_ext_wait,
    .acquire = smi_ext_acquire,
    .publish = smi_ext_publish,
    .abandon = smi_ext_abandon,
    .server_end = smi_ext_server_end,
    .set_buffers = smi_ext_set_buffers,
};
