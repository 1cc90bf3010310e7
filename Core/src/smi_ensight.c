/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_ensight.c -- EnSight's layout: two blocks, each a 24-byte header and a
 * payload of P = (L - 48) / 2 bytes, owned in turn by the server and the one
 * client through the buffer_state byte (0..4). See Core/LAYOUT.md section 1.
 *
 * Rules kept here: each side only changes states it owns; the server fills a
 * block (state 1) and publishes it with a release store of 2; the client
 * reads a block only after an acquire load saw 2 and it set 3; a client never
 * writes pixels (its mapping of them is read-only).
 *
 * A frame larger than one block is split over both (LAYOUT.md, "Frames
 * split over both blocks"): its top rows in block 0, the rest in block 1.
 * The server stages it in its own memory (acquire cannot hand out two
 * pieces as one buffer), takes both blocks, and publishes block 1 before
 * block 0; a client copies both parts into its own memory and hands both
 * blocks back at once.
 */
#include "smi_internal.h"
#include "smi_platform.h"

#include <string.h>

/* Block headers are addressed as bytes: block 1's header sits at 24 + P,
   which need not be 4-byte aligned, so its fields go through memcpy. */
static uint8_t *smi_es_header(SharedMemoryImageStream s, int b)
{
    return s->base + (b ? SMI_ENSIGHT_HEADER_SIZE + s->es_payload : 0);
}

static uint32_t smi_es_get(const uint8_t *h, size_t field)
{
    uint32_t v;
    memcpy(&v, h + field, sizeof v);
    return v;
}

static void smi_es_put(uint8_t *h, size_t field, uint32_t v)
{
    memcpy(h + field, &v, sizeof v);
}

#define SMI_ES_FIELD(name) offsetof(smi_ensight_header_t, name)

/* Block b's pixels, NULL when `bytes` of them would not lie inside the
   mapping held now (es_payload is derived from the mapping, and frames are
   checked against it: the check makes that so on every path). */
static uint8_t *smi_es_pixels(SharedMemoryImageStream s, int b, uint64_t bytes)
{
    if (s->es_payload == 0 || bytes > s->es_payload)
        return NULL;
    uint8_t *p = smi_es_header(s, b) + SMI_ENSIGHT_HEADER_SIZE;
    return smi_span_mapped(s, p, bytes) ? p : NULL;
}

static uint8_t smi_es_state(SharedMemoryImageStream s, int b)
{
    return SMI_LOAD_ACQ(smi_es_header(s, b) + SMI_ES_FIELD(buffer_state));
}

static void smi_es_set_state(SharedMemoryImageStream s, int b, uint8_t state)
{
    SMI_STORE_REL(smi_es_header(s, b) + SMI_ES_FIELD(buffer_state), state);
}

/* The answer to a state byte above 4, which no EnSight server writes: either
   the file is not a stream, or an extended-layout server has just taken over
   the zero-filled file this client attached to first. Block 0's state shares
   its byte with the extended header's guard, which that server stores only
   after its magic (LAYOUT.md section 4, "Server start"): the state was read with
   acquire order, so if the guard was seen the magic is seen now. */
static int smi_es_bad_state(SharedMemoryImageStream s)
{
    return smi_ext_has_magic(s->base, s->map_size) ? SMI_LAYOUT_CHANGED
                                                   : IMAGESTREAM_BAD_FILE_FORMAT;
}

static int smi_es_payload(uint64_t file_size, uint64_t *payload)
{
    if (file_size < SMI_ENSIGHT_MIN_FILE)
        return IMAGESTREAM_BAD_FILE_SIZE;
    *payload = (file_size - 2 * SMI_ENSIGHT_HEADER_SIZE) / 2;
    return IMAGESTREAM_NOERROR;
}

/* Copy block b's header out of the file once (the copy is what gets checked
   and used: another process may change the file at any time). */
static BufferHeader smi_es_snapshot(SharedMemoryImageStream s, int b)
{
    BufferHeader h;
    memcpy(&h, smi_es_header(s, b), sizeof h);
    return h;
}

/* Check a header snapshot: 1 whole frame, 0 partial frame (skip), < 0 bad. */
static int smi_es_check_header(SharedMemoryImageStream s, const BufferHeader *h)
{
    uint64_t rows = (uint64_t)h->offset + h->num_scanlines, bytes;
    if (h->width == 0 || h->height == 0 || rows > h->height ||
        __builtin_mul_overflow((uint64_t)h->width * h->num_scanlines, (uint64_t)3, &bytes) ||
        bytes > s->es_payload)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    return h->offset == 0 && h->num_scanlines == h->height;
}

/* Do two partial headers (checked) make one frame split over both blocks:
   the same frame, its top rows in block 0, the rest in block 1, every row
   once? */
static int smi_es_split_pair(const BufferHeader *top, const BufferHeader *rest)
{
    return top->frame_number == rest->frame_number && top->width == rest->width &&
           top->height == rest->height && top->offset == 0 && top->num_scanlines != 0 &&
           rest->offset == top->num_scanlines && rest->num_scanlines != 0 &&
           (uint64_t)rest->offset + rest->num_scanlines == top->height;
}

static int smi_es_server_start(SharedMemoryImageStream s)
{
    int rc = smi_es_payload(s->map_size, &s->es_payload);
    if (rc < 0)
        return rc;
    /* Only the states are initialized: the other header fields keep the last
       frame each block held, so that this server numbers on from frames a
       previous server left (a header describing rows that fit holds one). */
    /* A block a live client of this library holds locked (its slot byte is
       locked) stays at 3: it is the client's until it unlocks, and the
       server never writes it. */
    int client_alive = smi_bytelock_held(s->fd, SMI_LOCK_SLOT(0)) == 1;
    for (int b = 0; b < 2; b++) {
        BufferHeader h = smi_es_snapshot(s, b);
        if (smi_es_check_header(s, &h) >= 0 && h.num_scanlines != 0)
            smi_take_over_numbers(s, h.frame_number);
        if (h.buffer_state == SMI_ES_LOCKED && client_alive)
            continue;
        memset(smi_es_header(s, b) + SMI_ES_FIELD(pad), 0, 3);
        smi_es_set_state(s, b, SMI_ES_INIT);
    }
    return IMAGESTREAM_NOERROR;
}

/* Make the pages holding the two block headers writable in a client's
   read-only mapping. */
static int smi_es_client_pages(SharedMemoryImageStream s)
{
    int rc = smi_es_payload(s->map_size, &s->es_payload);
    if (rc < 0)
        return rc;
    if (smi_protect_writable(s->base, 0, SMI_ENSIGHT_HEADER_SIZE) != 0 ||
        smi_protect_writable(s->base, SMI_ENSIGHT_HEADER_SIZE + s->es_payload,
                             SMI_ENSIGHT_HEADER_SIZE) != 0)
        return IMAGESTREAM_UNABLE_TO_MAP_FILE;
    return IMAGESTREAM_NOERROR;
}

/* Has no server set the file up yet: both block headers all zeros (what
   pyensight writes, or createfile makes; a server's create sets the states
   to 4 at once, an extended server writes its magic), and no client holds
   the slot (one that attached once a server came sets the states back to
   0)? Then a client waits for a server without taking the layout's single
   client slot, so that readers started before their server do not lock
   each other out; it takes the slot when a server's headers appear (or
   switches layout at the magic), or hears TOO_MANY_CLIENTS when another
   reader took it first. */
static int smi_es_unserved(SharedMemoryImageStream s)
{
    static const uint8_t zero[SMI_ENSIGHT_HEADER_SIZE];
    return memcmp(smi_es_header(s, 0), zero, sizeof zero) == 0 &&
           memcmp(smi_es_header(s, 1), zero, sizeof zero) == 0 &&
           smi_bytelock_held(s->fd, SMI_LOCK_SLOT(0)) == 0;
}

/* Take the one client slot (its byte lock says who has it). */
static int smi_es_claim(SharedMemoryImageStream s)
{
    int busy = smi_bytelock_try(s->fd, SMI_LOCK_SLOT(0));
    if (busy < 0)
        return IMAGESTREAM_UNABLE_TO_OPEN_FILE;
    if (busy)
        return IMAGESTREAM_TOO_MANY_CLIENTS;
    s->slot = 0;
    return IMAGESTREAM_NOERROR;
}

static int smi_es_client_attach(SharedMemoryImageStream s)
{
    int rc = smi_es_client_pages(s);
    if (rc < 0)
        return rc;
    uint8_t s0 = smi_es_state(s, 0), s1 = smi_es_state(s, 1);
    if (s0 > SMI_ES_INIT || s1 > SMI_ES_INIT)
        return smi_es_bad_state(s);
    if (smi_es_unserved(s)) {
        s->es_pending = 1; /* attaches at a later lock or wait */
        return IMAGESTREAM_NOERROR;
    }
    if ((rc = smi_es_claim(s)) < 0)
        return rc;
    rc = (s0 == SMI_ES_INIT && s1 == SMI_ES_INIT) ? IMAGESTREAM_NOERROR
                                                  : IMAGESTREAM_RECONNECTING;
    smi_es_set_state(s, 0, SMI_ES_FREE);
    smi_es_set_state(s, 1, SMI_ES_FREE);
    return rc;
}

/* A client waiting for a server (es_pending): 0 while there is none yet; 1
   once attached (the slot taken, a new server's blocks at 4 made 0), or a
   negative code (TOO_MANY_CLIENTS: another reader attached first). */
static int smi_es_settle(SharedMemoryImageStream s)
{
    if (!s->es_pending)
        return 1;
    if (smi_es_unserved(s))
        return 0;
    int rc = smi_es_claim(s);
    if (rc < 0)
        return rc;
    s->es_pending = 0;
    for (int b = 0; b < 2; b++)
        if (smi_es_state(s, b) == SMI_ES_INIT)
            smi_es_set_state(s, b, SMI_ES_FREE);
    return 1;
}

static void smi_es_detach(SharedMemoryImageStream s)
{
    if (s->slot == 0)
        smi_bytelock_release(s->fd, SMI_LOCK_SLOT(0));
    s->slot = -1;
}

/* Blocks holding finished frames, newest first: whole frames, or one
   frame split over both blocks (*split; order[0] is then 0). A partial block
   that is no part of such a frame is handed back to the server, except
   block 1 while block 0 is being written (a split frame being published:
   block 1 goes first). Returns how many (0..2), SMI_LAYOUT_CHANGED or a
   negative code. */
static int smi_es_ready_blocks(SharedMemoryImageStream s, int order[2], int *split)
{
    uint8_t st[2];
    BufferHeader h[2];
    int kind[2] = {-1, -1}; /* 1 whole, 0 partial, -1 not ready */
    *split = 0;
    for (int b = 0; b < 2; b++) {
        st[b] = smi_es_state(s, b);
        if (st[b] > SMI_ES_INIT)
            return smi_es_bad_state(s);
        if (st[b] == SMI_ES_INIT) {
            /* A server (re)started after this client attached: 4 is the
               client's to move, so attach again, as create() does. */
            smi_es_set_state(s, b, SMI_ES_FREE);
            continue;
        }
        if (st[b] != SMI_ES_READY)
            continue;
        h[b] = smi_es_snapshot(s, b);
        if ((kind[b] = smi_es_check_header(s, &h[b])) < 0)
            return kind[b];
    }
    if (kind[0] == 0 && kind[1] == 0 && smi_es_split_pair(&h[0], &h[1])) {
        order[0] = 0;
        *split = 1;
        return 1;
    }
    int n = 0;
    uint32_t number[2]; /* of order[i] */
    for (int b = 0; b < 2; b++) {
        if (kind[b] == 1) {
            number[n] = h[b].frame_number;
            order[n++] = b;
        } else if (kind[b] == 0 && !(b == 1 && st[0] == SMI_ES_WRITING && h[1].offset != 0)) {
            smi_es_set_state(s, b, SMI_ES_FREE);
        }
    }
    if (n == 2 && number[1] > number[0]) {
        int t = order[0];
        order[0] = order[1];
        order[1] = t;
    }
    return n;
}

/* 1 when a finished frame waits, 0 when none; SMI_LAYOUT_CHANGED when an
   extended-layout server has taken the file over (a zero-filled file that
   this client attached to first, say). */
static int smi_es_newer(SharedMemoryImageStream s)
{
    if (smi_ext_has_magic(s->base, s->map_size))
        return SMI_LAYOUT_CHANGED;
    int settled = smi_es_settle(s);
    if (settled <= 0)
        return settled;
    int order[2], split;
    int n = smi_es_ready_blocks(s, order, &split);
    return n < 0 || n == SMI_LAYOUT_CHANGED ? n : n > 0;
}

/* Hand out the frame at s->frame, s->desc. */
static void smi_es_hand_out(SharedMemoryImageStream s, const BufferHeader *h, uint8_t *px)
{
    s->frame.iFrame = h->frame_number;
    s->frame.iWidth = h->width;
    s->frame.iHeight = h->height;
    s->frame.buffer = px;
    smi_fill_default_desc(&s->desc, s->frame.iWidth, s->frame.iHeight);
}

/* Lock a frame split over both blocks: both are taken, their headers read
   again and checked as a pair, both parts copied into the stream's staging
   memory, and both blocks handed back at once (the frame is the client's
   own copy now: es_block stays -1). */
static int smi_es_lock_split(SharedMemoryImageStream s)
{
    smi_es_set_state(s, 0, SMI_ES_LOCKED);
    smi_es_set_state(s, 1, SMI_ES_LOCKED);
    BufferHeader top = smi_es_snapshot(s, 0), rest = smi_es_snapshot(s, 1);
    int rc = IMAGESTREAM_BAD_FILE_FORMAT;
    if (smi_es_check_header(s, &top) == 0 && smi_es_check_header(s, &rest) == 0 &&
        smi_es_split_pair(&top, &rest)) {
        uint64_t row = (uint64_t)top.width * 3, above = row * top.num_scanlines,
                 below = row * rest.num_scanlines;
        const uint8_t *p0 = smi_es_pixels(s, 0, above), *p1 = smi_es_pixels(s, 1, below);
        uint8_t *dst = p0 && p1 ? smi_staging(s, above + below) : NULL;
        rc = !p0 || !p1 ? IMAGESTREAM_BAD_FILE_SIZE
             : !dst     ? IMAGESTREAM_MEMORY_ALLOC_ERROR
                        : IMAGESTREAM_NOERROR;
        if (rc == IMAGESTREAM_NOERROR) {
            memcpy(dst, p0, above);
            memcpy(dst + above, p1, below);
            smi_es_hand_out(s, &top, dst);
        }
    }
    smi_es_set_state(s, 1, SMI_ES_FREE);
    smi_es_set_state(s, 0, SMI_ES_FREE);
    s->es_block = -1;
    return rc;
}

static int smi_es_lock(SharedMemoryImageStream s)
{
    if (smi_ext_has_magic(s->base, s->map_size))
        return SMI_LAYOUT_CHANGED;
    int settled = smi_es_settle(s);
    if (settled <= 0)
        return settled < 0 ? settled : IMAGESTREAM_NO_FRAMEAVAILABLE;
    int order[2], split;
    int n = smi_es_ready_blocks(s, order, &split);
    if (n <= 0 || n == SMI_LAYOUT_CHANGED)
        return n != 0 ? n : IMAGESTREAM_NO_FRAMEAVAILABLE;
    if (split)
        return smi_es_lock_split(s);
    int b = order[0];
    smi_es_set_state(s, b, SMI_ES_LOCKED);
    if (n == 2)
        smi_es_set_state(s, order[1], SMI_ES_FREE); /* superseded: back to the server */
    /* Locked: read the header once more, now that the block is ours, and
       use only that copy (checked again: the file is another process's
       too). */
    BufferHeader h = smi_es_snapshot(s, b);
    if (smi_es_check_header(s, &h) != 1) {
        smi_es_set_state(s, b, SMI_ES_FREE);
        return IMAGESTREAM_BAD_FILE_FORMAT;
    }
    uint8_t *px = smi_es_pixels(s, b, (uint64_t)h.width * h.height * 3);
    if (!px) {
        smi_es_set_state(s, b, SMI_ES_FREE);
        return IMAGESTREAM_BAD_FILE_SIZE;
    }
    s->es_block = b;
    smi_es_hand_out(s, &h, px);
    return IMAGESTREAM_NOERROR;
}

static int smi_es_unlock(SharedMemoryImageStream s)
{
    /* A new server may have re-initialized the block meanwhile: only hand
       back what is still ours. */
    if (s->es_block >= 0 && smi_es_state(s, s->es_block) == SMI_ES_LOCKED)
        smi_es_set_state(s, s->es_block, SMI_ES_FREE);
    s->es_block = -1;
    return IMAGESTREAM_NOERROR;
}

/* Rows of the top part of a split frame of `height` rows (block 0's): half,
   rounded up; both parts then fit a block when one block holds `per` rows
   and height <= 2 * per. */
static uint32_t smi_es_top_rows(uint32_t height)
{
    return height - height / 2;
}

/* A frame larger than one block, staged in the stream's own memory: both
   blocks must be the server's. */
static int smi_es_acquire_split(SharedMemoryImageStream s, uint64_t bytes, const uint8_t st[2])
{
    uint64_t per = s->es_payload / ((uint64_t)s->desc.width * 3);
    if ((uint64_t)s->desc.height > 2 * per)
        return IMAGESTREAM_FRAME_TOO_LARGE;
    if (st[0] != SMI_ES_FREE || st[1] != SMI_ES_FREE)
        return IMAGESTREAM_NO_BUFFERAVAILABLE;
    uint8_t *px = smi_staging(s, bytes);
    if (!px)
        return IMAGESTREAM_MEMORY_ALLOC_ERROR;
    smi_es_set_state(s, 0, SMI_ES_WRITING);
    smi_es_set_state(s, 1, SMI_ES_WRITING);
    s->es_block = 0;
    s->es_split = 1;
    s->frame.buffer = px;
    return IMAGESTREAM_NOERROR;
}

static int smi_es_acquire(SharedMemoryImageStream s, uint64_t bytes)
{
    s->es_split = 0;
    if (bytes > 2 * s->es_payload)
        return IMAGESTREAM_FRAME_TOO_LARGE;
    uint8_t st[2] = {smi_es_state(s, 0), smi_es_state(s, 1)};
    if (st[0] > SMI_ES_INIT || st[1] > SMI_ES_INIT)
        return IMAGESTREAM_BAD_FILE_FORMAT;
    if (st[0] == SMI_ES_INIT && st[1] == SMI_ES_INIT)
        return IMAGESTREAM_UNCONNECTED;
    if (bytes > s->es_payload)
        return smi_es_acquire_split(s, bytes, st);
    int b = -1;
    if (st[0] == SMI_ES_FREE && st[1] == SMI_ES_FREE)
        b = smi_es_get(smi_es_header(s, 1), SMI_ES_FIELD(frame_number)) <
            smi_es_get(smi_es_header(s, 0), SMI_ES_FIELD(frame_number));
    else if (st[0] == SMI_ES_FREE)
        b = 0;
    else if (st[1] == SMI_ES_FREE)
        b = 1;
    if (b < 0)
        return IMAGESTREAM_NO_BUFFERAVAILABLE;
    uint8_t *px = smi_es_pixels(s, b, bytes);
    if (!px)
        return IMAGESTREAM_BAD_FILE_SIZE;
    smi_es_set_state(s, b, SMI_ES_WRITING);
    s->es_block = b;
    s->frame.buffer = px;
    return IMAGESTREAM_NOERROR;
}

/* Block b's header for rows [offset, offset + rows) of the frame published. */
static void smi_es_write_header(SharedMemoryImageStream s, int b, uint32_t offset, uint32_t rows)
{
    uint8_t *h = smi_es_header(s, b);
    smi_es_put(h, SMI_ES_FIELD(frame_number), s->frame.iFrame);
    smi_es_put(h, SMI_ES_FIELD(width), s->desc.width);
    smi_es_put(h, SMI_ES_FIELD(height), s->desc.height);
    smi_es_put(h, SMI_ES_FIELD(offset), offset);
    smi_es_put(h, SMI_ES_FIELD(num_scanlines), rows);
    memset(h + SMI_ES_FIELD(pad), 0, 3);
}

static void smi_es_abandon(SharedMemoryImageStream s)
{
    if (s->es_block >= 0)
        smi_es_set_state(s, s->es_block, SMI_ES_FREE);
    if (s->es_split)
        smi_es_set_state(s, 1, SMI_ES_FREE);
    s->es_block = -1;
    s->es_split = 0;
    s->held = 0;
}

/* Publish a split frame: both parts copied from the staging memory into
   their blocks, headers written, then block 1 made ready before block 0 (a
   client that sees block 0 ready sees the whole frame). */
static int smi_es_publish_split(SharedMemoryImageStream s)
{
    uint32_t top = smi_es_top_rows(s->desc.height), rest = s->desc.height - top;
    uint64_t row = (uint64_t)s->desc.width * 3;
    uint8_t *p0 = smi_es_pixels(s, 0, row * top), *p1 = smi_es_pixels(s, 1, row * rest);
    if (!p0 || !p1) { /* (the file was checked at acquire: cannot happen) */
        smi_es_abandon(s);
        return IMAGESTREAM_BAD_FILE_SIZE;
    }
    memcpy(p0, s->frame.buffer, row * top);
    memcpy(p1, s->frame.buffer + row * top, row * rest);
    smi_es_write_header(s, 0, 0, top);
    smi_es_write_header(s, 1, top, rest);
    s->es_block = -1;
    s->es_split = 0;
    smi_es_set_state(s, 1, SMI_ES_READY); /* release: pixels and header first */
    smi_es_set_state(s, 0, SMI_ES_READY);
    return IMAGESTREAM_NOERROR;
}

static int smi_es_publish(SharedMemoryImageStream s)
{
    if (s->es_split)
        return smi_es_publish_split(s);
    int b = s->es_block;
    smi_es_write_header(s, b, 0, s->desc.height);
    s->es_block = -1;
    smi_es_set_state(s, b, SMI_ES_READY); /* release: pixels and header first */
    return IMAGESTREAM_NOERROR;
}

/* A block header as a stream leaves it: state 0..4, pad zero, and either no
   frame (the frame fields zero) or rows that fit a payload of P bytes. */
static int smi_es_plausible_header(const BufferHeader *h, uint64_t payload)
{
    static const uint8_t zero[3];
    if (h->buffer_state > SMI_ES_INIT || memcmp(h->pad, zero, sizeof zero) != 0)
        return 0;
    if (h->frame_number == 0 && h->width == 0 && h->height == 0 && h->offset == 0 &&
        h->num_scanlines == 0)
        return 1;
    struct _SharedMemoryImageStream probe = {.es_payload = payload};
    return smi_es_check_header(&probe, h) >= 0;
}

/* Does the file fd of `size` bytes look like an EnSight-layout stream
   (`first`: a copy of its first 24 bytes; block 1's header is read through
   fd): both block headers plausible (state 0..4, pad zero, the frame fields
   zero or describing rows that fit), and not both all zeros (which says
   nothing: such a file is a stream when it is all zeros)? */
static int smi_es_looks_like_stream(int fd, uint64_t size, const uint8_t *first)
{
    uint64_t payload;
    if (smi_es_payload(size, &payload) < 0)
        return 0;
    BufferHeader h[2];
    memcpy(&h[0], first, sizeof h[0]);
    if (smi_file_read(fd, &h[1], sizeof h[1], SMI_ENSIGHT_HEADER_SIZE + payload) !=
        (int64_t)sizeof h[1])
        return 0;
    /* Two headers of nothing but zeros say nothing: such a file is a stream
       only when it is all zeros (the caller's check). */
    static const uint8_t zero[SMI_ENSIGHT_HEADER_SIZE];
    if (memcmp(&h[0], zero, sizeof zero) == 0 && memcmp(&h[1], zero, sizeof zero) == 0)
        return 0;
    return smi_es_plausible_header(&h[0], payload) && smi_es_plausible_header(&h[1], payload);
}

/* This layout has no mark of its own (a file without the extended magic is
   read as this layout's: LAYOUT.md), so a file is one of its streams when
   it looks like one. smi_stream.c asks this only to know whether a file is
   a stream at all (before a server takes it over), never to tell the
   layouts apart. */
static int smi_es_probe(int fd, uint64_t size, const uint8_t *first, uint64_t n)
{
    return n >= SMI_ENSIGHT_HEADER_SIZE && smi_es_looks_like_stream(fd, size, first);
}

/* Packed RGB, one slice. */
static int smi_es_frame_check(const SharedMemoryImageDesc *d)
{
    return d->format == IMAGESTREAM_FORMAT_RGB8 && d->depth <= 1 ? IMAGESTREAM_NOERROR
                                                                 : IMAGESTREAM_BAD_FORMAT;
}

/* EnSight's client asks for files of 20 MB and more; and at least two
   frames and 2 KiB (more than the two block headers). */
static uint64_t smi_es_file_bytes(uint64_t frame_bytes)
{
    if (frame_bytes > ((uint64_t)INT64_MAX - 2048) / 2)
        return 0;
    uint64_t bytes = 2 * frame_bytes + 2048;
    return bytes < SMI_ENSIGHT_CREATE_SIZE ? SMI_ENSIGHT_CREATE_SIZE : bytes;
}

static int smi_es_inspect(int fd, uint64_t size, const uint8_t *first,
                          SharedMemoryImageStream self, SharedMemoryStreamInfo *info)
{
    uint64_t payload;
    int rc = smi_es_payload(size, &payload);
    if (rc < 0)
        return rc;
    smi_ensight_header_t headers[2];
    memcpy(&headers[0], first, sizeof headers[0]);
    if (smi_file_read(fd, &headers[1], sizeof headers[1], SMI_ENSIGHT_HEADER_SIZE + payload) !=
        (int64_t)sizeof headers[1])
        return SMI_GEOMETRY_UNSETTLED; /* shrunk meanwhile: the caller reads again */
    info->layout = IMAGESTREAM_LAYOUT_ENSIGHT;
    info->buffer_count = 2;
    info->buffer_size = payload;
    info->max_clients = 1;
    int client_self = self && !self->server && self->slot == 0;
    info->server_alive = (self && self->server) || smi_bytelock_held(fd, SMI_LOCK_SERVER) == 1;
    info->clients = client_self || smi_bytelock_held(fd, SMI_LOCK_SLOT(0)) == 1;
    for (int b = 0; b < 2; b++) {
        const smi_ensight_header_t h = headers[b];
        SharedMemoryBufferInfo *bi = &info->buffers[b];
        bi->state = h.buffer_state;
        bi->format = IMAGESTREAM_FORMAT_RGB8;
        bi->frame = h.frame_number;
        bi->width = h.width;
        bi->height = h.height;
        bi->depth = 1;
        bi->holders = h.buffer_state == SMI_ES_LOCKED;
        if (h.buffer_state > SMI_ES_INIT)
            rc = IMAGESTREAM_BAD_FILE_FORMAT;
        if (h.width != 0 && h.height != 0 && h.num_scanlines != 0 &&
            h.frame_number > info->last_frame) /* the block holds a frame */
            info->last_frame = h.frame_number;
    }
    if (self && self->server && self->numbered) /* the server knows its own last number */
        info->last_frame = self->last_frame;
    return rc;
}

/* The one client (slot 0), described by nothing but its slot: the layout
   keeps no more. `info`: what inspect found (its `clients`). */
static int smi_es_clients(int fd, const SharedMemoryStreamInfo *info,
                          SharedMemoryClientInfo *clients, uint32_t max_clients, uint32_t *count)
{
    (void)fd;
    if (info->clients > 0) {
        if (max_clients > 0)
            memset(&clients[0], 0, sizeof clients[0]);
        *count = 1;
    }
    return IMAGESTREAM_NOERROR;
}

/* No wake word in this layout: a bounded poll with backoff (20 us doubling
   to 1 ms), each round after a sleep first checking the file size (the
   caller checked it before the first). */
static int smi_es_wait(SharedMemoryImageStream s, int64_t timeout_ns)
{
    int64_t deadline = timeout_ns < 0 ? 0 : smi_now_ns() + timeout_ns;
    int64_t step = 20000;
    for (;;) {
        int rc = smi_es_newer(s);
        if (rc < 0 || rc == SMI_LAYOUT_CHANGED)
            return rc;
        if (rc == 1)
            return IMAGESTREAM_NOERROR;
        int64_t left = timeout_ns < 0 ? step : deadline - smi_now_ns();
        if (left <= 0)
            return IMAGESTREAM_NO_FRAMEAVAILABLE;
        smi_sleep_ns(left < step ? left : step);
        if (step < 1000000)
            step *= 2;
        if ((rc = smi_file_intact(s)) < 0)
            return rc;
    }
}

const smi_layout_ops_t smi_es_ops = {
    .layout = IMAGESTREAM_LAYOUT_ENSIGHT,
    .probe = smi_es_probe,
    .frame_check = smi_es_frame_check,
    .file_bytes = smi_es_file_bytes,
    .inspect = smi_es_inspect,
    .inspect_clients = smi_es_clients,
    .stores_bottom_up = 0,
    .reads_queues = 0,
    .server_start = smi_es_server_start,
    .client_attach = smi_es_client_attach,
    .detach = smi_es_detach,
    .lock = smi_es_lock,
    .unlock = smi_es_unlock,
    .wait = smi_es_wait,
    .acquire = smi_es_acquire,
    .publish = smi_es_publish,
    .abandon = smi_es_abandon,
    .set_buffers = NULL, /* two blocks, always */
    .fixed_buffers = 2,
};
