/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_internal.h -- the stream object and the per-layout operations that
 * smi_stream.c dispatches to (smi_ensight.c, smi_extended.c).
 *
 * The core's layers. A file calls only files of the layers below its own,
 * never one beside it or above it:
 *
 *   0. smi_serve.c      the policy the faces share, on the public API:
 *      smi_attach.c     serving a file (serve), a client's situation and
 *      smi_policy.c     when to attach again (attach, refresh), the
 *                       open-error message (openerrorstring)
 *   1. smi_stream.c     the public API: checks the arguments, opens and maps
 *                       the file, picks a layout by each layout's probe and
 *                       reaches it through its smi_layout_ops_t only
 *   2. smi_extended.c   a layout each (smi_ext_ops, smi_es_ops); neither
 *      smi_ensight.c    calls the other
 *   3. smi_handle.c     shared helpers: what every layout needs of a handle;
 *      smi_fork.c       the list of streams a fork()ed child lets go of;
 *      smi_formats.c    pixel formats and frame sizes (smi_formats.h);
 *      smi_errors.c     the codes' strings (the last two also hold the
 *                       public table look-ups: formatinfo, errorstring)
 *   4. smi_platform_linux.c   every call to the operating system
 *                       (smi_platform.h); the C library's memory and string
 *                       functions are called anywhere
 *
 * Headers: smi_platform.h includes none of the library's; smi_formats.h
 * and smi_layout.h (the on-disk structures, which both layouts read) only
 * the public ones; this one includes those two.
 * Testing/Core/check_layering.sh (test Core.Layering) checks the calls in
 * the object files against this list: change both together.
 */
#ifndef SMI_INTERNAL_H
#define SMI_INTERNAL_H

#include "shared_memory_image.h"

#include <stdlib.h>
#include <string.h>
#include "smi_formats.h" /* (SMI_HIDDEN too) */
#include "smi_layout.h"

/* Atomic access to fields of the shared mapping. */
#define SMI_LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define SMI_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SMI_LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define SMI_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define SMI_STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define SMI_STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

typedef struct smi_layout_ops_t smi_layout_ops_t;

struct _SharedMemoryImageStream {
    const smi_layout_ops_t *ops; /* the layout's operations, chosen at attach */
    int fd;
    uint8_t *base;          /* the mapping of the whole file */
    uint64_t map_size;      /* bytes mapped */
    uint64_t map_reserve;   /* client: address space held for the mapping
                               (>= map_size: a growing file maps on in place) */
    uint32_t options;
    int server;             /* 1: server end, 0: client end */
    int held;               /* client: a frame is locked; server: a frame is acquired */
    int guarded;            /* the call running now runs under the SIGBUS guard
                               (smi_stream.c, smi_on_mapping) */
    /* Server frame numbering (smi_stream.c): numbers pass to clients as given;
       only a server that took over a file holding frames raises a number that
       is not above the last one (`renumber`). */
    uint32_t last_frame;    /* server: last published frame number, when `numbered` */
    int numbered;           /* server: last_frame is known (published, or taken over) */
    int renumber;           /* server: took over frames; keep numbers increasing */
    struct _SharedMemoryFrame frame; /* what lock/acquire hand out */
    SharedMemoryImageDesc desc;      /* format and metadata of that frame */

    /* The library's own memory for a frame that cannot be handed out in
       place: an EnSight-layout frame split over both blocks, assembled by a
       client's lock or staged by a server's acquire (NULL until needed). */
    uint8_t *staging;
    uint64_t staging_size;

    /* EnSight layout */
    uint64_t es_payload;    /* P: payload bytes of each block */
    int es_block;           /* block locked or acquired */
    int es_split;           /* server: the acquired frame goes into both blocks */
    int es_pending;         /* client: waiting for a server to set the file up,
                               without the client slot yet (smi_ensight.c) */

    /* Extended layout */
    smi_ext_page_t *page;   /* == base */
    /* The geometry, validated against the mapping it was read through. The
       invariant every pixel address rests on: while buffer_count != 0,
       SMI_EXT_HEADER_SIZE + buffer_count * buffer_size <= map_size. Mapping
       the file again (smi_map_client) sets buffer_count to 0 until a new
       geometry has been validated (so does es_payload for the EnSight
       layout: 2 * (24 + es_payload) <= map_size while it is not 0). */
    uint32_t buffer_count;
    uint32_t slot_count;
    uint64_t buffer_size;
    uint64_t file_size;
    int slot;               /* client slot, -1 when none */
    uint32_t claim;         /* client: claim id stored in that slot */
    int buffer;             /* buffer locked or acquired */
    uint64_t last_sequence; /* client: sequence of the last locked frame */
    uint64_t handed_sequence; /* queue client: sequence of the last frame handed out
                                 (locked, or skipped for its format), or its start */
    uint64_t lost;          /* queue client: frames lost just before the one handed out */
    int64_t spin_ns;        /* client: how long the running wait spins first (0: none) */
    int64_t acquire_timeout_ns; /* server: how long acquire waits for a buffer
                                   (0: not at all, < 0: for ever) */
    int64_t next_sweep_ns;  /* server: when to look for dead clients next */
    uint32_t max_buffers;   /* server: grow to at most this many buffers (0: the maximum) */

    /* The library's list of open streams (smi_fork.c) */
    struct _SharedMemoryImageStream *fork_prev, *fork_next;
    int registered;
};

/*
 * One file layout's side of the API: all that smi_stream.c knows of a
 * layout, and the only way it reaches one. The first five look at a file
 * (by its descriptor and a copy of its first bytes) or a frame description,
 * with no stream attached: smi_stream.c picks a layout by them. The rest
 * act on a stream, whose layout is chosen when it attaches (create) and
 * changed in one place only: an EnSight-layout client whose file an
 * extended-layout server took over (smi_stream.c, smi_switch_to_extended).
 * smi_stream.c has checked the arguments, the role (server or client), the
 * held state and that the file is whole before it calls one.
 */
struct smi_layout_ops_t {
    int layout; /* IMAGESTREAM_LAYOUT_* */
    /* Is the file fd of `size` bytes one of this layout's? `first`: its
       first `n` bytes (a copy, or the mapping). */
    int (*probe)(int fd, uint64_t size, const uint8_t *first, uint64_t n);
    /* Can this layout carry frames like d (format, depth)? NOERROR or
       BAD_FORMAT. */
    int (*frame_check)(const SharedMemoryImageDesc *d);
    /* Bytes of a file of this layout for two frames of frame_bytes each (a
       frame that frame_check accepts); 0 when that does not fit in an off_t. */
    uint64_t (*file_bytes)(uint64_t frame_bytes);
    /* Fill info from the file fd of `size` bytes (size >= SMI_ENSIGHT_MIN_FILE):
       `first`, a copy of its first SMI_EXT_HEADER_SIZE bytes (zeros past its
       end); more is read through fd, never a mapping. `self`: the caller's
       own stream on the file, or NULL. SMI_GEOMETRY_UNSETTLED: read again. */
    int (*inspect)(int fd, uint64_t size, const uint8_t *first, SharedMemoryImageStream self,
                   SharedMemoryStreamInfo *info);
    /* The live clients of the file fd, which inspect found whole and of
       this layout (`info`: what it said), read through fd: up to
       max_clients of them into clients[] (smi_stream.c zeroed *count;
       clients may be NULL when max_clients is 0), *count: how many live. */
    int (*inspect_clients)(int fd, const SharedMemoryStreamInfo *info,
                           SharedMemoryClientInfo *clients, uint32_t max_clients,
                           uint32_t *count);
    int stores_bottom_up; /* 1: a frame is stored in the row order it comes in (its
                             IMAGESTREAM_FRAME_BOTTOMUP flag kept); 0: top row first
                             only, smi_stream.c turns other frames upright */
    int reads_queues;     /* 1: IMAGESTREAM_OPTIONS_QUEUE and _RELIABLE clients */

    int (*server_start)(SharedMemoryImageStream s);  /* the file is mapped read-write */
    int (*client_attach)(SharedMemoryImageStream s); /* the file is mapped */
    void (*detach)(SharedMemoryImageStream s);       /* client: give up the slot */
    int (*lock)(SharedMemoryImageStream s);          /* client */
    int (*unlock)(SharedMemoryImageStream s);        /* client */
    int (*wait)(SharedMemoryImageStream s, int64_t timeout_ns); /* client; < 0: for ever */
    int (*acquire)(SharedMemoryImageStream s, uint64_t bytes);  /* server: s->desc is set */
    int (*publish)(SharedMemoryImageStream s);       /* server */
    void (*abandon)(SharedMemoryImageStream s);      /* server */
    void (*server_end)(SharedMemoryImageStream s);   /* server, at destroy; may be NULL */
    /* Server: make at least min_buffers buffers now, and grow to at most
       max_buffers (smi_stream.c checked min <= max, 1 <= max <=
       IMAGESTREAM_MAX_BUFFERS). NULL for a layout of `fixed_buffers`
       buffers, always: smi_stream.c answers for it. */
    int (*set_buffers)(SharedMemoryImageStream s, uint32_t min_buffers, uint32_t max_buffers);
    uint32_t fixed_buffers;
};

/* What an EnSight-layout client's lock or wait answers when it finds the
   extended magic in its file: an extended server took the file over. Never
   leaves the library: smi_stream.c switches the stream's layout and calls
   again. */
#define SMI_LAYOUT_CHANGED 1000

/* What an extended-layout geometry read answers when the header is sane in
   itself but does not add up (file_size, the file's real size, the buffers'
   offsets): what a reader sees while a server is adding a buffer
   (LAYOUT.md, "Growing"). Read again, up to SMI_GEOMETRY_RETRIES times
   (1.2 ms of sleeps, plus a fresh mapping each time), then
   BAD_FILE_FORMAT. Never leaves the library. */
#define SMI_GEOMETRY_UNSETTLED 1001
#define SMI_GEOMETRY_RETRIES 20

/* The pause before re-read number `tries` (0-based) of an unsettled geometry. */
static inline int64_t smi_geometry_pause_ns(int tries)
{
    return tries < 8 ? 0 : 100000;
}

/* smi_handle.c */
SMI_HIDDEN int smi_map_client(SharedMemoryImageStream s);
/* Unmap the stream's mapping (a client's whole reserved range) and forget it. */
SMI_HIDDEN void smi_unmap_stream(SharedMemoryImageStream s);
SMI_HIDDEN int smi_file_intact(SharedMemoryImageStream s);
/* Does [p, p + bytes) lie inside the mapping the stream holds now? Every
   pixel address the library hands out or copies from is checked with it. */
SMI_HIDDEN int smi_span_mapped(SharedMemoryImageStream s, const uint8_t *p, uint64_t bytes);
SMI_HIDDEN void smi_fill_default_desc(SharedMemoryImageDesc *d, uint32_t w, uint32_t h);
SMI_HIDDEN void smi_take_over_numbers(SharedMemoryImageStream s, uint32_t last_frame);
/* The stream's staging memory, at least `bytes` of it (contents not kept
   when it grows); NULL when out of memory. */
SMI_HIDDEN uint8_t *smi_staging(SharedMemoryImageStream s, uint64_t bytes);
/* Do the `bytes` at p lie in the stream's staging memory? */
SMI_HIDDEN int smi_in_staging(SharedMemoryImageStream s, const uint8_t *p, uint64_t bytes);

/* smi_fork.c: streams do not survive fork() */
SMI_HIDDEN void smi_fork_register(SharedMemoryImageStream s);
SMI_HIDDEN void smi_fork_unregister(SharedMemoryImageStream s);

/* The layouts (smi_ensight.c, smi_extended.c): reached through these only. */
SMI_HIDDEN extern const smi_layout_ops_t smi_es_ops;
SMI_HIDDEN extern const smi_layout_ops_t smi_ext_ops;

#endif /* SMI_INTERNAL_H */
