/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_memory_image_client_priv.h -- server API and extensions of the
 * shared-memory image transport. Source compatible with EnSight's private
 * header of the same name (server options and putframe), plus this library's
 * extensions: the extended layout, zero-copy publishing, blocking wait, pixel
 * formats, 3-D frames, per-frame metadata and stream inspection.
 *
 * How to use it, as a server:
 *
 *   SharedMemoryImageStream_createfile("/dev/shm/view.smi", 1920, 1080);
 *   SharedMemoryImageStream server;
 *   err = SharedMemoryImageStream_create("/dev/shm/view.smi",
 *             IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED, &server);
 *   if (err < 0) ...                     // SERVER_ACTIVE: someone else serves it
 *   for (;;) {                           // copy a finished image ...
 *       struct _SharedMemoryFrame f = { number, width, height, pixels };
 *       err = SharedMemoryImageStream_putframe(server, &f);
 *   }
 *   for (;;) {                           // ... or render straight into the file
 *       SharedMemoryFrame f;
 *       if (SharedMemoryImageStream_acquire(server, width, height, &f) == IMAGESTREAM_NOERROR) {
 *           render_into(f->buffer);      // top row first
 *           SharedMemoryImageStream_publish(server);
 *       }
 *   }
 *
 * Positive returns from putframe/acquire (UNCONNECTED, NO_BUFFERAVAILABLE) are
 * normal: nobody listens, or every buffer is held by a client. The server is
 * never blocked by its clients.
 *
 * Layouts. IMAGESTREAM_OPTIONS_SERVER alone writes EnSight's layout (two
 * blocks, one client, packed RGB only), readable by EnSight's own client.
 * Adding IMAGESTREAM_OPTIONS_EXTENDED writes this library's layout: many
 * clients, kernel wake-ups, crash-safe locks, more pixel formats. Clients
 * detect the layout by themselves. Both are specified in Core/LAYOUT.md.
 */
#ifndef SHARED_MEMORY_IMAGE_CLIENT_PRIV_H
#define SHARED_MEMORY_IMAGE_CLIENT_PRIV_H

/* The system headers EnSight's server header includes, so that code written
   against it compiles unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared_memory_image_client.h"

#ifndef _WIN32
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- EnSight server API: names and values are fixed ---------------------- */

#define IMAGESTREAM_OPTIONS_INITBUFFERHEADERS 0x00000001 /**< create() initializes the headers */
#define IMAGESTREAM_OPTIONS_NOTHREADS 0x00000002         /**< no monitoring thread (always so here) */
/** Options of a server: create with these to publish. */
#define IMAGESTREAM_OPTIONS_SERVER \
    (IMAGESTREAM_OPTIONS_INITBUFFERHEADERS | IMAGESTREAM_OPTIONS_NOTHREADS)

/*
 * EnSight layout (Core/LAYOUT.md section 1): a file of L bytes holds two
 * blocks, each a BufferHeader followed by (L - 48) / 2 bytes of packed RGB
 * rows; block 0 starts at byte 0, block 1 right after block 0's payload.
 * Integers are little-endian. A block belongs to the server or to the
 * client as its buffer_state says, and only its owner changes it:
 * server INIT -> client SERVER -> server SERVER_LOCKED -> server CLIENT ->
 * client CLIENT_LOCKED -> client SERVER.
 */

/* buffer_state values */
#define IMAGESTREAM_BUFFER_STATE_SERVER 0        /**< the server owns the block */
#define IMAGESTREAM_BUFFER_STATE_SERVER_LOCKED 1 /**< the server is writing a frame into it */
#define IMAGESTREAM_BUFFER_STATE_CLIENT 2        /**< the client owns a finished frame */
#define IMAGESTREAM_BUFFER_STATE_CLIENT_LOCKED 3 /**< the client has the frame locked */
#define IMAGESTREAM_BUFFER_STATE_INIT 4          /**< set up by a server, no client yet */

/** The 24-byte header at the start of each block of the EnSight layout. */
typedef struct {
    uint32_t frame_number;  /**< number of the frame in the block */
    uint32_t width;         /**< width of the whole frame, pixels */
    uint32_t height;        /**< height of the whole frame, rows */
    uint32_t offset;        /**< first row of the frame held here, from the top */
    uint32_t num_scanlines; /**< rows held here (a whole frame: height) */
    uint8_t buffer_state;   /**< IMAGESTREAM_BUFFER_STATE_* */
    uint8_t pad[3];         /**< zero */
} BufferHeader;

/* States of a client's frame (a stream's own bookkeeping in EnSight's client:
   no frame, a frame ready, a frame locked); not stored in the file. */
#define IMAGESTREAM_FRAME_STATE_UNDEFINED 0
#define IMAGESTREAM_FRAME_STATE_IMAGE_READY 1
#define IMAGESTREAM_FRAME_STATE_IMAGE_LOCKED 2

/**
 * Server: copy one packed-RGB frame (frame->iFrame, iWidth, iHeight, buffer;
 * top row first, or bottom row first with IMAGESTREAM_OPTIONS_FLIPVERTICAL)
 * into a free buffer and publish it.
 *
 * Clients see frame->iFrame as given, 0 included. Only a server that took
 * over a file still holding frames of an earlier server raises a number that
 * is not above the last one (to last + 1), so that clients never see the
 * numbers go backwards.
 * @return NOERROR (published); UNCONNECTED (no client attached: the EnSight
 *   layout drops the frame, the extended layout still publishes it for clients
 *   that attach later); NO_BUFFERAVAILABLE (dropped: clients hold every
 *   buffer); FRAME_TOO_LARGE; IS_NOTSERVER on a client stream; LOCKED while a
 *   frame is acquired; BAD_ARGS for NULL arguments or a zero size.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_putframe(SharedMemoryImageStream stream,
                                                                   SharedMemoryFrame frame);

/* ---- Extensions ---------------------------------------------------------- */

/** Server option: write the extended layout (see Core/LAYOUT.md). */
#define IMAGESTREAM_OPTIONS_EXTENDED 0x00010000
/** Client option: lock() also hands out frames that are not packed RGB
    (use SharedMemoryImageStream_describe() to learn their format). */
#define IMAGESTREAM_OPTIONS_ANYFORMAT 0x00020000
/** Client or server option: trust the file as it is. Without it, create()
    refuses (IMAGESTREAM_UNSAFE_FILE) a symbolic link at the last component
    of the path, a file owned by another user than the effective uid, and a
    file writable by group or others; with it, create() follows symbolic
    links and accepts any owner and mode, as EnSight's own library does (for
    streams shared on purpose between users). Anything but a regular file is
    refused either way. Core/LAYOUT.md, "Opening files". */
#define IMAGESTREAM_OPTIONS_ANYFILE 0x00040000

/* Pixel formats (extended layout; the EnSight layout is always RGB8). */
#define IMAGESTREAM_FORMAT_RGB8 0    /**< 3 x uint8 per pixel */
#define IMAGESTREAM_FORMAT_RGBA8 1   /**< 4 x uint8 per pixel */
#define IMAGESTREAM_FORMAT_GRAY8 2   /**< 1 x uint8 per pixel */
#define IMAGESTREAM_FORMAT_GRAY16 3  /**< 1 x uint16 per pixel, little-endian */
#define IMAGESTREAM_FORMAT_FLOAT32 4 /**< 1 x IEEE float32 per pixel, little-endian (e.g. depth) */

/** Layout of a stream file, as reported by SharedMemoryImageStream_inspect(). */
#define IMAGESTREAM_LAYOUT_ENSIGHT 1
#define IMAGESTREAM_LAYOUT_EXTENDED 2

/**
 * Describes a frame beyond SharedMemoryFrame: pixel format, depth (slices of
 * a volume; x fastest, then y, then z) and metadata. Zero-initialize it, then
 * set what you need: a zero depth counts as 1 and zero spacing as 1.
 */
typedef struct _SharedMemoryImageDesc {
    uint32_t format;    /**< IMAGESTREAM_FORMAT_* */
    uint32_t width;     /**< pixels per row */
    uint32_t height;    /**< rows per slice */
    uint32_t depth;     /**< slices; 1 for an image */
    double timestamp;   /**< seconds; acquire presets the current UNIX time */
    double spacing[3];  /**< size of a pixel (x, y, z) */
    double origin[3];   /**< position of the first pixel */
} SharedMemoryImageDesc;

/**
 * Create `filename`, or grow it, so that it holds two packed-RGB frames of
 * max_width x max_height in either layout: for the EnSight layout that means
 * at least 20 MiB (EnSight's own client asks for 20 MB), or twice the frame
 * plus 2 KiB when that is more. An existing larger file keeps its size and
 * bytes. Use createfilelayout() for a file sized for the extended layout only.
 *
 * A new file is made with O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600; an
 * existing one must be a regular file of the effective uid that group and
 * others cannot write, reached without a symbolic link (Core/LAYOUT.md,
 * "Opening files"). The file's blocks are reserved (fallocate), so that a
 * full file system shows now, not as a SIGBUS at the first frame.
 * @return NOERROR; BAD_ARGS (NULL name, zero size, overflow, or a file above
 *   2^46 bytes, which no process could map: refused before the file is
 *   touched); UNSAFE_FILE (a symbolic link, not a regular file, another
 *   owner, writable by group or others); NO_SPACE when the file system
 *   cannot hold the file (a file made by this call is removed again, an
 *   existing one keeps its size); UNABLE_TO_OPEN_FILE (a missing directory,
 *   a directory as the name, no permission); BAD_FILE_SIZE when the file
 *   cannot be grown otherwise.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_createfile(const char *filename,
                                                                     uint32_t max_width,
                                                                     uint32_t max_height);

/**
 * Like createfile(), sized for two frames as described by `max_frame`
 * (format, width, height, depth; the metadata is ignored). Frames only the
 * extended layout carries (not RGB8, or depth above 1) get a file sized for
 * it alone.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_createfileformat(
    const char *filename, const SharedMemoryImageDesc *max_frame);

/**
 * Like createfileformat(), sized for one layout: IMAGESTREAM_LAYOUT_EXTENDED
 * (a 4 KiB header page and two page-rounded buffers, nothing more),
 * IMAGESTREAM_LAYOUT_ENSIGHT (at least 20 MiB, as createfile()), or 0 for
 * either.
 * @return as createfileformat(); BAD_FORMAT for frames the EnSight layout
 *   cannot carry; BAD_ARGS for an unknown layout.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_createfilelayout(
    const char *filename, uint32_t layout, const SharedMemoryImageDesc *max_frame);

/**
 * Server, zero-copy: take a writable buffer for a width x height packed-RGB
 * frame. On NOERROR, (*frame)->buffer points into the file (fill it top row
 * first; FLIPVERTICAL does not apply) and (*frame)->iFrame is preset to the
 * next frame number: 0 for a new stream's first frame, then the last one + 1
 * (may be changed before publish). Then call publish().
 * @return NOERROR (a buffer was handed out); NO_BUFFERAVAILABLE; UNCONNECTED
 *   (EnSight layout only: no client, no buffer); LOCKED when a frame is
 *   already acquired; FRAME_TOO_LARGE; BAD_FILE_SIZE when the file was
 *   truncated under the stream; IS_NOTSERVER; BAD_ARGS.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_acquire(SharedMemoryImageStream stream,
                                                                  uint32_t width, uint32_t height,
                                                                  SharedMemoryFrame *frame);

/**
 * Server, zero-copy: like acquire(), for any format and depth, with metadata.
 * The buffer holds width*height*depth pixels of the format's size.
 * @return as acquire(); BAD_FORMAT for an unknown format, or for anything but
 *   RGB8 with depth 1 on an EnSight-layout stream.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_acquireformat(
    SharedMemoryImageStream stream, const SharedMemoryImageDesc *desc, SharedMemoryFrame *frame);

/**
 * Server: publish the acquired frame to clients (the buffer is no longer the
 * caller's to write).
 * @return NOERROR; UNCONNECTED (published, but no client is attached);
 *   NOT_LOCKED when nothing is acquired; IS_NOTSERVER; BAD_ARGS.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_publish(SharedMemoryImageStream stream);

/**
 * Server: give back the acquired buffer without publishing it (rendering
 * failed, say). Clients never see its contents; the next acquire() works.
 * @return NOERROR; NOT_LOCKED when nothing is acquired; IS_NOTSERVER; BAD_ARGS.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_abandon(SharedMemoryImageStream stream);

/**
 * Server: copy a frame of any format (rows flipped within each slice with
 * FLIPVERTICAL) and publish it. `pixels` holds desc's width*height*depth
 * pixels. Frame numbering as putframe(); `frame_number` 0 means "next".
 * @return as putframe(); BAD_FORMAT as acquireformat().
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_putframeformat(
    SharedMemoryImageStream stream, const SharedMemoryImageDesc *desc, uint32_t frame_number,
    const void *pixels);

/**
 * Client: block until a frame newer than the last one this client locked is
 * published, or timeout_ms passes; a negative timeout waits for ever.
 * Extended layout: the kernel wakes the waiter (futex), no polling. EnSight
 * layout: a bounded poll. Signals do not end the wait early.
 * A client may wait while it holds a lock (for the frame after it).
 * @return NOERROR (lock() will find a frame, unless the server drops it
 *   first); NO_FRAMEAVAILABLE on timeout; IS_SERVER; BAD_ARGS;
 *   BAD_FILE_SIZE when the file was truncated (seen at once in the EnSight
 *   layout's poll, at the next wake in the extended one); a negative code
 *   when the file became invalid.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_wait(SharedMemoryImageStream stream,
                                                               int32_t timeout_ms);

/**
 * Describe the frame currently locked (client) or acquired (server): format,
 * size, depth and metadata. EnSight-layout frames are RGB8, depth 1, spacing
 * 1, origin 0, timestamp 0.
 * @return NOERROR; NOT_LOCKED when no frame is held; BAD_ARGS for NULL.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_describe(SharedMemoryImageStream stream,
                                                                   SharedMemoryImageDesc *desc);

/**
 * Client: copy the locked frame's pixels into `dst` (at least the frame's
 * width*height*depth*pixel-size bytes, given as dst_bytes), reversing the
 * rows of each slice when flip_vertical is non-zero (VTK images, for one,
 * are bottom row first). The one copy a client that keeps pixels needs:
 * memcpy, row by row when flipping.
 * @return NOERROR; NOT_LOCKED when no frame is locked; IS_SERVER; BAD_ARGS
 *   for NULL or a dst_bytes smaller than the frame; BAD_FILE_SIZE when the
 *   file was truncated meanwhile.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_copyframe(
    SharedMemoryImageStream stream, void *dst, uint64_t dst_bytes, int flip_vertical);

/** Maximum number of buffers and of client slots in the extended layout. */
#define IMAGESTREAM_MAX_BUFFERS 8
#define IMAGESTREAM_MAX_CLIENTS 32

/** State of one buffer, as reported by inspect(). */
typedef struct _SharedMemoryBufferInfo {
    uint32_t state;      /**< extended: 0 empty, 1 writing, 2 ready; EnSight: 0..4 */
    uint32_t format;     /**< IMAGESTREAM_FORMAT_* */
    uint32_t frame;      /**< frame number */
    uint32_t width, height, depth;
    uint32_t holders;    /**< live clients holding it locked */
    uint64_t sequence;   /**< publish order (extended layout; 0 for EnSight) */
    double timestamp;
} SharedMemoryBufferInfo;

/** State of a whole stream, as reported by inspect(). */
typedef struct _SharedMemoryStreamInfo {
    uint32_t layout;        /**< IMAGESTREAM_LAYOUT_*, 0 if the file is unrecognized */
    uint32_t version;       /**< extended layout version (0 for EnSight) */
    uint64_t file_size;     /**< bytes */
    uint32_t server_alive;  /**< 1 when a server of this library holds the file */
    uint32_t clients;       /**< live attached clients */
    uint32_t max_clients;   /**< client slots (1 for the EnSight layout) */
    uint32_t buffer_count;  /**< buffers (2 for the EnSight layout) */
    uint64_t buffer_size;   /**< bytes per buffer: the largest frame */
    uint32_t last_frame;    /**< newest published frame number (0 before any) */
    uint32_t server_generation; /**< extended: how many servers have served the file */
    uint64_t last_sequence; /**< extended: newest publish sequence */
    SharedMemoryBufferInfo buffers[IMAGESTREAM_MAX_BUFFERS];
} SharedMemoryStreamInfo;

/**
 * Read the state of the stream in `filename` without attaching to it: no
 * byte of the file is changed (safe on a live stream, and on EnSight's).
 * Files of any owner and mode are read, but never through a symbolic link
 * nor anything but a regular file (a FIFO is refused at once, never waited
 * on). The file's holes read as zeros without allocating any space.
 * @return NOERROR; BAD_ARGS; BAD_FILE_SIZE; UNABLE_TO_OPEN_FILE;
 *   UNSAFE_FILE (a symbolic link, not a regular file); UNABLE_TO_MAP_FILE;
 *   BAD_FILE_FORMAT or VERSION_MISMATCH (info->layout says what was found).
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_inspect(const char *filename,
                                                                  SharedMemoryStreamInfo *info);

/**
 * Like inspect(), for an open stream (client or server): tells a client
 * whether its server is alive.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_info(SharedMemoryImageStream stream,
                                                               SharedMemoryStreamInfo *info);

/** Bytes per pixel of an IMAGESTREAM_FORMAT_*, or 0 for an unknown format. */
SMI_EXPORT uint32_t SharedMemoryImageStream_formatsize(uint32_t format);

/** Short name of an IMAGESTREAM_FORMAT_* ("rgb8", ...), or "unknown". */
SMI_EXPORT const char *SharedMemoryImageStream_formatname(uint32_t format);

#ifdef __cplusplus
}
#endif

#endif /* SHARED_MEMORY_IMAGE_CLIENT_PRIV_H */
