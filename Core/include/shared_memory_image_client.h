/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_memory_image_client.h -- client API of the shared-memory image
 * transport. Source compatible with EnSight's client header of the same name:
 * every name, type and value below the "EnSight API" line is fixed.
 *
 * A server (publisher) writes frames of pixels into a memory-mapped file; a
 * client maps the same file and locks the newest frame to read its pixels in
 * place, with no copy.
 *
 * How to use it, as a client:
 *
 *   SharedMemoryImageStream stream;
 *   SharedMemoryImageError err =
 *       SharedMemoryImageStream_create("/dev/shm/view.smi", IMAGESTREAM_OPTIONS_NONE, &stream);
 *   if (err < IMAGESTREAM_NOERROR) { puts(SharedMemoryImageStream_errorstring(err)); return 1; }
 *   for (;;) {
 *       SharedMemoryFrame frame;
 *       if (SharedMemoryImageStream_lock(stream, &frame) == IMAGESTREAM_NOERROR) {
 *           use(frame->buffer, frame->iWidth, frame->iHeight);  // packed RGB, top row first
 *           SharedMemoryImageStream_unlock(stream);             // frame is invalid from here
 *       }
 *   }
 *   SharedMemoryImageStream_destroy(stream);
 *
 * Return codes: negative values are errors, zero is success, positive values
 * are informational (no new frame, no free buffer, ...). Every code has a
 * string from SharedMemoryImageStream_errorstring().
 *
 * Threads: a stream handle is not thread-safe. Use one handle per thread, or
 * guard a shared handle with a mutex. Different handles (even on the same file,
 * in the same process) are independent clients.
 *
 * fork(): a stream's liveness locks belong to its open file, which a child
 * shares. Create streams after fork(), or a child that lives on keeps its
 * parent's server (or client slot) counted as alive.
 *
 * The server side, the file layouts and our extensions (blocking wait, pixel
 * formats, zero-copy publishing) are in shared_memory_image_client_priv.h;
 * the byte layout of the file is documented in Core/LAYOUT.md.
 */
#ifndef SHARED_MEMORY_IMAGE_CLIENT_H
#define SHARED_MEMORY_IMAGE_CLIENT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SMI_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define SMI_EXPORT __attribute__((visibility("default")))
#else
#define SMI_EXPORT
#endif

/* ---- EnSight API: names, types and values are fixed ---------------------- */

/** Version of the client API. */
#define IMAGESTREAM_API_VERSION "1.0"

/* Return codes. Positive: not an error. Negative: the call failed. */
#define IMAGESTREAM_UNCONNECTED 4         /**< server: no client is attached */
#define IMAGESTREAM_RECONNECTING 3        /**< create: the stream was already active */
#define IMAGESTREAM_NO_FRAMEAVAILABLE 2   /**< client: no new frame to read */
#define IMAGESTREAM_NO_BUFFERAVAILABLE 1  /**< server: no free buffer, frame dropped */
#define IMAGESTREAM_NOERROR 0             /**< success */
#define IMAGESTREAM_BAD_ARGS -1           /**< an argument is invalid (NULL, bad option) */
#define IMAGESTREAM_NOT_LOCKED -2         /**< unlock (or publish) without lock (or acquire) */
#define IMAGESTREAM_BAD_FILE_SIZE -3      /**< file missing or too small */
#define IMAGESTREAM_UNABLE_TO_OPEN_FILE -4 /**< cannot open the file read-write */
#define IMAGESTREAM_UNABLE_TO_MAP_FILE -5 /**< mmap failed */
#define IMAGESTREAM_MEMORY_ALLOC_ERROR -6 /**< out of memory */
#define IMAGESTREAM_THREAD_CREATE_ERROR -7 /**< kept for EnSight; this library starts no threads */
#define IMAGESTREAM_IS_SERVER -8          /**< call not valid on a server stream */
#define IMAGESTREAM_IS_NOTSERVER -9       /**< call not valid on a client stream */
#define IMAGESTREAM_FRAME_TOO_LARGE -10   /**< frame does not fit in the file's buffers */
#define IMAGESTREAM_LOCKED -11            /**< not legal while a frame is locked (or acquired) */

/* Options of SharedMemoryImageStream_create(). */
#define IMAGESTREAM_OPTIONS_NONE 0x00000000         /**< default client */
#define IMAGESTREAM_OPTIONS_FLIPVERTICAL 0x00000100 /**< server: reverse row order of input */

/** A return code: see the IMAGESTREAM_* values. */
typedef int SharedMemoryImageError;

/** Opaque stream handle, one end (client or server) of one file. */
typedef struct _SharedMemoryImageStream *SharedMemoryImageStream;

/**
 * One frame. Owned by the stream, never by the caller: after lock() it
 * describes the locked frame and `buffer` points into the shared mapping;
 * both are valid until unlock() or destroy().
 */
typedef struct _SharedMemoryFrame {
    uint32_t iFrame;  /**< frame number, as the server gave it (servers count up; may skip) */
    uint32_t iWidth;  /**< pixels per row */
    uint32_t iHeight; /**< rows */
    uint8_t *buffer;  /**< iWidth*iHeight*3 bytes, packed RGB, row-major, top row first */
} *SharedMemoryFrame;

/**
 * Attach to (client) or serve (server options, see the _priv header) the
 * stream in the existing file `filename`.
 *
 * A client detects the file's layout itself (EnSight's or the extended one).
 *
 * The file is opened carefully (Core/LAYOUT.md, "Opening files"): a symbolic
 * link at the last component of the path, anything but a regular file (a
 * FIFO is refused at once, never waited on), a file not owned by the
 * effective uid or writable by group or others are refused with
 * UNSAFE_FILE, unless the options include IMAGESTREAM_OPTIONS_ANYFILE (see
 * the _priv header), which accepts any owner and mode and follows links.
 * @return NOERROR, or RECONNECTING when the stream was already active (not an
 *   error: the client takes it over); a negative code on failure, and then
 *   *stream is set to NULL. BAD_ARGS when filename or stream is NULL or an
 *   option bit is unknown; BAD_FILE_SIZE when the file is missing or cannot
 *   hold a header; BAD_FILE_FORMAT when its header is not valid;
 *   UNSAFE_FILE as above; NO_SPACE (server) when the file system cannot
 *   hold the whole file (a server reserves its blocks before writing).
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_create(const char *filename,
                                                                 uint32_t options,
                                                                 SharedMemoryImageStream *stream);

/**
 * Client: lock the newest published frame that this client has not locked yet.
 * On NOERROR, *frame points to the stream's frame description, valid until
 * unlock(); the server never writes into a locked buffer.
 * @return NOERROR; NO_FRAMEAVAILABLE when there is no newer frame (no unlock
 *   owed); LOCKED when this client already holds a frame; BAD_ARGS for a NULL
 *   stream or frame; IS_SERVER on a server stream; BAD_FILE_SIZE when the
 *   file was truncated under the stream; a negative code when the file's
 *   contents are invalid.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_lock(SharedMemoryImageStream stream,
                                                               SharedMemoryFrame *frame);

/**
 * Client: release the frame taken by lock(). The frame and its buffer must
 * not be used afterwards.
 * @return NOERROR; NOT_LOCKED when no frame is locked; BAD_ARGS for NULL;
 *   BAD_FILE_SIZE when the file was truncated meanwhile (the frame is
 *   released all the same).
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_unlock(SharedMemoryImageStream stream);

/**
 * Close either end of a stream and free the handle. A lock still held is
 * released first (unless the file was truncated: then it is left alone).
 * The file itself is left in place.
 * @return NOERROR; BAD_ARGS for NULL (nothing is done).
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_destroy(SharedMemoryImageStream stream);

/**
 * A human-readable, UTF-8 description of a return code. Never NULL: an
 * unknown code gives "unknown error code". The string is static.
 */
SMI_EXPORT const char *SharedMemoryImageStream_errorstring(SharedMemoryImageError err);

/* ---- Codes added by this library (values never change) ------------------- */

/** Not an error: a newer frame exists but its pixel format is not packed RGB,
    and this client did not ask for other formats (IMAGESTREAM_OPTIONS_ANYFORMAT).
    The frame is skipped; no unlock is owed. */
#define IMAGESTREAM_FORMAT_SKIPPED 5
/** The file's header is not a valid stream (garbage, foreign or corrupted). */
#define IMAGESTREAM_BAD_FILE_FORMAT -12
/** The file uses an extended-layout version this library does not know. */
#define IMAGESTREAM_VERSION_MISMATCH -13
/** Another live server already serves this file. */
#define IMAGESTREAM_SERVER_ACTIVE -14
/** Every client slot of the stream is taken by a live client. */
#define IMAGESTREAM_TOO_MANY_CLIENTS -15
/** The pixel format, depth or size is not valid for this stream's layout. */
#define IMAGESTREAM_BAD_FORMAT -16
/** The stream file is not one this process may trust: a symbolic link at the
    last component of the path, not a regular file (a FIFO, a socket, a
    device), owned by another user than the effective uid, or writable by
    group or others (mode & 022). Stream files are input from other, possibly
    hostile, users: create() refuses such files unless the caller opts in
    with IMAGESTREAM_OPTIONS_ANYFILE (shared_memory_image_client_priv.h);
    createfile*() always refuses them; inspect() refuses symbolic links and
    anything but a regular file. Core/LAYOUT.md, "Opening files". */
#define IMAGESTREAM_UNSAFE_FILE -17
/** The file system has no room for the stream file: createfile*() could not
    reserve the blocks of the file it makes, or a server's create() could
    not reserve the blocks of the file it maps (nothing is written then).
    Writing into an unreserved page of a full tmpfs would end the process
    with SIGBUS instead. */
#define IMAGESTREAM_NO_SPACE -18

#ifdef __cplusplus
}
#endif

#endif /* SHARED_MEMORY_IMAGE_CLIENT_H */
