/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_layout.h -- the on-disk structures of both layouts, mirroring
 * Core/LAYOUT.md field by field. Change the document, these structs and
 * Testing/Layout/ together.
 */
#ifndef SMI_LAYOUT_H
#define SMI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shared_memory_image_client_priv.h"

/* ---- EnSight layout (LAYOUT.md section 1) -------------------------------- */

/* The block header is the public BufferHeader. */
typedef BufferHeader smi_ensight_header_t;

#define SMI_ENSIGHT_HEADER_SIZE 24u
#define SMI_ENSIGHT_MIN_FILE (2u * SMI_ENSIGHT_HEADER_SIZE + 2u * 3u)
/* Smallest EnSight-layout file this library creates: EnSight's client asks
   for 20 MB (and refuses files under 10 MB); ours reads any that fits. */
#define SMI_ENSIGHT_CREATE_SIZE (20u << 20)

enum {
    SMI_ES_FREE = IMAGESTREAM_BUFFER_STATE_SERVER,           /* server owns */
    SMI_ES_WRITING = IMAGESTREAM_BUFFER_STATE_SERVER_LOCKED, /* server writing */
    SMI_ES_READY = IMAGESTREAM_BUFFER_STATE_CLIENT,          /* client owns a finished frame */
    SMI_ES_LOCKED = IMAGESTREAM_BUFFER_STATE_CLIENT_LOCKED,  /* client has it locked */
    SMI_ES_INIT = IMAGESTREAM_BUFFER_STATE_INIT              /* initialized, no client yet */
};

_Static_assert(SMI_ES_FREE == 0 && SMI_ES_WRITING == 1 && SMI_ES_READY == 2 &&
                   SMI_ES_LOCKED == 3 && SMI_ES_INIT == 4,
               "EnSight buffer states");
_Static_assert(sizeof(smi_ensight_header_t) == 24, "EnSight header is 24 bytes");
_Static_assert(offsetof(smi_ensight_header_t, frame_number) == 0, "layout");
_Static_assert(offsetof(smi_ensight_header_t, width) == 4, "layout");
_Static_assert(offsetof(smi_ensight_header_t, height) == 8, "layout");
_Static_assert(offsetof(smi_ensight_header_t, offset) == 12, "layout");
_Static_assert(offsetof(smi_ensight_header_t, num_scanlines) == 16, "layout");
_Static_assert(offsetof(smi_ensight_header_t, buffer_state) == 20, "layout");
_Static_assert(offsetof(smi_ensight_header_t, pad) == 21, "layout");

/* ---- Extended layout (LAYOUT.md section 2) ------------------------------- */

#define SMI_EXT_MAGIC "\x89SMI\r\n\x1a\n"
#define SMI_EXT_VERSION 1u
#define SMI_EXT_HEADER_SIZE 4096u
#define SMI_EXT_ALIGN 4096u
#define SMI_EXT_BUFFERS 2u          /* what servers start with (they add more: smi_ext_grow) */
#define SMI_EXT_MAX_BUFFERS 8u
#define SMI_EXT_MAX_SLOTS 32u
#define SMI_EXT_BUFFER_HEADERS 256u
#define SMI_EXT_SLOTS 1280u

typedef struct smi_ext_file_header_t {
    uint8_t magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t buffer_count;
    uint8_t ensight_guard[4];
    uint32_t slot_count;
    uint32_t server_generation;
    uint64_t file_size;
    uint64_t buffer_size;
    uint64_t last_sequence;
    uint32_t last_frame;
    uint32_t claim_counter;
    uint32_t publish_count;
    uint32_t consume_count;  /* +1 when a client unlocks, or a reliable one moves on */
    uint32_t server_waiting; /* 1 while a server sleeps on consume_count */
    uint8_t reserved_a[60];
    uint32_t server_state; /* SMI_EXT_SERVER_* */
    uint8_t reserved[116];
} smi_ext_file_header_t;

/* server_state: what the last server did (LAYOUT.md 2.1). */
enum { SMI_EXT_SERVER_UNKNOWN = 0, SMI_EXT_SERVING = 1, SMI_EXT_SERVER_ENDED = 2 };

enum { SMI_EXT_EMPTY = 0, SMI_EXT_WRITING = 1, SMI_EXT_READY = 2 };

typedef struct smi_ext_buffer_header_t {
    uint32_t state;
    uint32_t format;
    uint64_t sequence;
    uint32_t frame_number;
    uint32_t width;
    uint32_t height;
    uint32_t depth;
    uint64_t data_offset;
    uint64_t data_size;
    double timestamp;
    double spacing[3];
    double origin[3];
    uint32_t flags;       /* IMAGESTREAM_FRAME_* of the frame (LAYOUT.md, "Row order") */
    uint32_t flags_check; /* the low 32 bits of `sequence` when `flags` was written */
    uint8_t reserved[16];
} smi_ext_buffer_header_t;

/* The frame flags this layout version knows (others are ignored). */
#define SMI_EXT_KNOWN_FLAGS IMAGESTREAM_FRAME_BOTTOMUP

typedef struct smi_ext_slot_t {
    uint32_t claim;
    uint32_t hold;
    uint32_t waiting;
    uint32_t mode; /* SMI_EXT_MODE_* */
    uint64_t last_sequence;
    uint64_t frames_locked;
    uint64_t frames_lost; /* queue readers: frames their position passed over unread */
    uint8_t reserved[24];
} smi_ext_slot_t;

/* A client slot's `mode` bits (LAYOUT.md 2.3). */
#define SMI_EXT_MODE_QUEUE 1u    /* reads every frame in order: servers keep the oldest */
#define SMI_EXT_MODE_RELIABLE 2u /* never overrun: servers keep frames it has not read */

/* The whole header page. */
typedef struct smi_ext_page_t {
    smi_ext_file_header_t file;
    smi_ext_buffer_header_t buffers[SMI_EXT_MAX_BUFFERS];
    smi_ext_slot_t slots[SMI_EXT_MAX_SLOTS];
    uint8_t reserved[SMI_EXT_HEADER_SIZE - SMI_EXT_SLOTS - SMI_EXT_MAX_SLOTS * 64u];
} smi_ext_page_t;

_Static_assert(sizeof(smi_ext_file_header_t) == 256, "file header is 256 bytes");
_Static_assert(offsetof(smi_ext_file_header_t, version) == 8, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, header_size) == 12, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, buffer_count) == 16, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, ensight_guard) == 20, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, slot_count) == 24, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, server_generation) == 28, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, file_size) == 32, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, buffer_size) == 40, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, last_sequence) == 48, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, last_frame) == 56, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, claim_counter) == 60, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, publish_count) == 64, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, consume_count) == 68, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, server_waiting) == 72, "layout");
_Static_assert(offsetof(smi_ext_file_header_t, server_state) == 136, "layout");

_Static_assert(sizeof(smi_ext_buffer_header_t) == 128, "buffer header is 128 bytes");
_Static_assert(offsetof(smi_ext_buffer_header_t, format) == 4, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, sequence) == 8, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, frame_number) == 16, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, width) == 20, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, height) == 24, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, depth) == 28, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, data_offset) == 32, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, data_size) == 40, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, timestamp) == 48, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, spacing) == 56, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, origin) == 80, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, flags) == 104, "layout");
_Static_assert(offsetof(smi_ext_buffer_header_t, flags_check) == 108, "layout");

/* Buffer header `format` codes and bytes per pixel (LAYOUT.md 2.2): the
   public table, SMI_FORMAT_LIST, must say what the document says. */
#define SMI_LAYOUT_FORMAT(name, code, bpp)                                                     \
    _Static_assert(IMAGESTREAM_FORMAT_##name == (code), "LAYOUT.md 2.2: code of " #name);      \
    _Static_assert(SMI_LAYOUT_BPP_##name == (bpp), "LAYOUT.md 2.2: bytes per pixel of " #name);
enum {
#define SMI_LAYOUT_BPP(name, channels, bytes, kind, text) \
    SMI_LAYOUT_BPP_##name = (channels) * (bytes),
    SMI_FORMAT_LIST(SMI_LAYOUT_BPP)
#undef SMI_LAYOUT_BPP
};
SMI_LAYOUT_FORMAT(RGB8, 0, 3)
SMI_LAYOUT_FORMAT(RGBA8, 1, 4)
SMI_LAYOUT_FORMAT(GRAY8, 2, 1)
SMI_LAYOUT_FORMAT(GRAY16, 3, 2)
SMI_LAYOUT_FORMAT(FLOAT32, 4, 4)
SMI_LAYOUT_FORMAT(INT16, 5, 2)
SMI_LAYOUT_FORMAT(INT32, 6, 4)
SMI_LAYOUT_FORMAT(UINT32, 7, 4)
SMI_LAYOUT_FORMAT(FLOAT64, 8, 8)
#undef SMI_LAYOUT_FORMAT
#define SMI_LAYOUT_ONE(name, channels, bytes, kind, text) +1
_Static_assert(0 SMI_FORMAT_LIST(SMI_LAYOUT_ONE) == 9, "LAYOUT.md 2.2 lists every format");
#undef SMI_LAYOUT_ONE

_Static_assert(sizeof(smi_ext_slot_t) == 64, "slot is 64 bytes");
_Static_assert(offsetof(smi_ext_slot_t, hold) == 4, "layout");
_Static_assert(offsetof(smi_ext_slot_t, waiting) == 8, "layout");
_Static_assert(offsetof(smi_ext_slot_t, mode) == 12, "layout");
_Static_assert(offsetof(smi_ext_slot_t, last_sequence) == 16, "layout");
_Static_assert(offsetof(smi_ext_slot_t, frames_locked) == 24, "layout");
_Static_assert(offsetof(smi_ext_slot_t, frames_lost) == 32, "layout");

_Static_assert(offsetof(smi_ext_page_t, buffers) == SMI_EXT_BUFFER_HEADERS, "layout");
_Static_assert(offsetof(smi_ext_page_t, slots) == SMI_EXT_SLOTS, "layout");
_Static_assert(sizeof(smi_ext_page_t) == SMI_EXT_HEADER_SIZE, "header page is 4096 bytes");

_Static_assert(sizeof SMI_EXT_MAGIC - 1 == sizeof((smi_ext_file_header_t *)0)->magic,
               "the magic is 8 bytes");

/* Does the file whose first `size` bytes are at `base` (a mapping or a copy)
   start with the extended layout's magic? The server stores it last, with
   release order (LAYOUT.md section 4, "Server start"): this load acquires.
   Both layouts ask: an EnSight-layout client finds an extended server that
   took its file over by it. */
static inline int smi_ext_has_magic(const uint8_t *base, uint64_t size)
{
    if (size < sizeof SMI_EXT_MAGIC - 1)
        return 0;
    uint64_t word = __atomic_load_n((const uint64_t *)base, __ATOMIC_ACQUIRE);
    return memcmp(&word, SMI_EXT_MAGIC, sizeof word) == 0;
}

/* ---- Liveness byte locks (LAYOUT.md section 3) --------------------------- */

#define SMI_LOCK_SERVER ((int64_t)1 << 62)
#define SMI_LOCK_SLOT(j) (SMI_LOCK_SERVER + 1 + (int64_t)(j))

#endif /* SMI_LAYOUT_H */
