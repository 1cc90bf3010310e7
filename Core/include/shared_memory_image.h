/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_memory_image.h -- the SharedMemoryImage library: moves rendered
 * images between processes of one machine through a memory-mapped file,
 * with no copy. The whole C API is here: EnSight's (client and server, every
 * name, type and value fixed: code written for EnSight's headers compiles
 * against shared_memory_image_client.h and shared_memory_image_client_priv.h,
 * which include this one) and this library's extensions (the extended
 * layout, zero-copy publishing, blocking wait, pixel formats, 3-D frames,
 * metadata, inspection). The file layouts are specified in Core/LAYOUT.md.
 *
 * A server (publisher) writes frames of pixels into a memory-mapped file; a
 * client maps the same file and locks the newest frame to read its pixels in
 * place.
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
 *
 * Tables: SMI_ERROR_LIST and SMI_FORMAT_LIST below are the one list of the
 * return codes and of the pixel formats; the library's functions, the
 * Python modules, the tools and the ParaView plugin are generated from them.
 *
 * Growing structs. A caller's SharedMemoryImageDesc starts with a `size`
 * member: set it to sizeof the struct (SMI_DESC_INIT), or leave it 0 for the
 * first version of the struct (as it is in 1.1). The library reads only the
 * members that `size` covers, so a struct that gains members at its end in
 * a later version still works both ways: an older program with a newer
 * library, a newer program with an older one (whose members beyond its
 * own are ignored). Structs the library fills in (SharedMemoryStreamInfo,
 * and a SharedMemoryImageDesc from describe()) are written as their first
 * version, always: a later version that adds members adds functions that
 * take the caller's size with them, so code built today never gets more
 * bytes than its struct holds. SharedMemoryFrame and
 * SharedMemoryImageFormatInfo are the library's own, read through pointers.
 */
#ifndef SHARED_MEMORY_IMAGE_H
#define SHARED_MEMORY_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* ---- Version ------------------------------------------------------------- */

#define SMI_VERSION_MAJOR 1
#define SMI_VERSION_MINOR 2
#define SMI_VERSION_PATCH 0
/** The version this header belongs to, as one comparable number: 10200 = 1.2.0. */
#define SMI_VERSION_NUMBER (SMI_VERSION_MAJOR * 10000 + SMI_VERSION_MINOR * 100 + SMI_VERSION_PATCH)

/* ---- Export -------------------------------------------------------------- */

/* SMI_EXPORT marks the library's functions: exported when the library is
   built (SMI_BUILDING_LIBRARY), imported from the DLL on Windows otherwise;
   define SMI_STATIC when linking the static library there. */
#if defined(_WIN32) && !defined(SMI_STATIC)
#if defined(SMI_BUILDING_LIBRARY)
#define SMI_EXPORT __declspec(dllexport)
#else
#define SMI_EXPORT __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define SMI_EXPORT __attribute__((visibility("default")))
#else
#define SMI_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
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
 * effective uid, and a file another user could change (see
 * IMAGESTREAM_UNSAFE_FILE) are refused with UNSAFE_FILE, unless the options
 * include IMAGESTREAM_OPTIONS_ANYFILE, which accepts any owner, mode and
 * folder and follows links. SharedMemoryImageStream_checkfile() says why.
 * @return NOERROR, or RECONNECTING when the stream was already active (not an
 *   error: the client takes it over; a server takes over an extended-layout
 *   stream whose last server did not end with destroy(), one that crashed or
 *   was killed, and serves again with NOERROR one that ended cleanly; a
 *   missing file or folder, a folder, no permission: checkfile() says
 *   which); a negative code on failure, and then
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
 * unlock(); the server never writes into a locked buffer. Its pixels are in
 * the shared mapping, except for an EnSight-layout frame split over both
 * blocks (larger than one block), which the client copies into its own
 * memory to hand it out whole (Core/LAYOUT.md, "Frames split over both
 * blocks").
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
    device), owned by another user than the effective uid, or one another
    user could change: in a folder another user owns, or may write and that
    is not sticky; or writable by others, or by a group that is not the
    owner's private group (group and others may write a file in a folder of
    the owner's that only the owner can enter, 0700). Stream files are input
    from other, possibly hostile, users: create() refuses such files unless
    the caller opts in with IMAGESTREAM_OPTIONS_ANYFILE; createfile*() always
    refuses them; inspect() refuses symbolic links and anything but a
    regular file. SharedMemoryImageStream_checkfile() tells which rule
    failed and the fix. Core/LAYOUT.md, "Opening files". */
#define IMAGESTREAM_UNSAFE_FILE -17
/** The file system has no room for the stream file: createfile*() could not
    reserve the blocks of the file it makes, or a server's create() could
    not reserve the blocks of the file it maps (nothing is written then).
    Writing into an unreserved page of a full tmpfs would end the process
    with SIGBUS instead. */
#define IMAGESTREAM_NO_SPACE -18
/** A server's create() or createfile*() found a file that holds something
    else than a stream: only a file that is empty, all zeros, or a stream of
    either layout (a stale one too) is taken over. The file is left byte for
    byte as it was; choose another path, or remove the file. */
#define IMAGESTREAM_NOT_A_STREAM -19

/**
 * Every return code, once: X(NAME, description) for IMAGESTREAM_NAME, from
 * the largest value to the smallest. Bindings generate their tables from it:
 *   #define MY_CASE(name, text) case IMAGESTREAM_##name: return text;
 *   switch (code) { SMI_ERROR_LIST(MY_CASE) }
 */
#define SMI_ERROR_LIST(X)                                                                  \
    X(FORMAT_SKIPPED, "a new frame was skipped: its pixel format is not packed RGB "       \
                      "(create the client with IMAGESTREAM_OPTIONS_ANYFORMAT to get it)")  \
    X(UNCONNECTED, "no client is attached to the stream")                                  \
    X(RECONNECTING, "the stream was already active and has been taken over")               \
    X(NO_FRAMEAVAILABLE, "no new frame is available")                                      \
    X(NO_BUFFERAVAILABLE, "no free buffer: clients hold every buffer, frame dropped")      \
    X(NOERROR, "success")                                                                  \
    X(BAD_ARGS, "invalid argument (NULL pointer, zero size or unknown option)")            \
    X(NOT_LOCKED, "no frame is locked (or acquired)")                                      \
    X(BAD_FILE_SIZE, "stream file is missing or too small")                                \
    X(UNABLE_TO_OPEN_FILE, "cannot open the stream file")                                  \
    X(UNABLE_TO_MAP_FILE, "cannot memory-map the stream file")                             \
    X(MEMORY_ALLOC_ERROR, "out of memory")                                                 \
    X(THREAD_CREATE_ERROR, "cannot create a background thread")                            \
    X(IS_SERVER, "call not valid on a server stream")                                      \
    X(IS_NOTSERVER, "call not valid on a client stream")                                   \
    X(FRAME_TOO_LARGE, "frame is larger than the stream file's buffers")                   \
    X(LOCKED, "not allowed while a frame is locked (or acquired)")                         \
    X(BAD_FILE_FORMAT, "stream file has an invalid header (not a stream, or corrupted)")   \
    X(VERSION_MISMATCH, "stream file uses an unsupported layout version "                  \
                        "(this library reads extended layout version 1)")                  \
    X(SERVER_ACTIVE, "another live server is already publishing to this stream file")      \
    X(TOO_MANY_CLIENTS, "every client slot of the stream is in use")                       \
    X(BAD_FORMAT, "pixel format, depth or size not supported by this stream's layout")    \
    X(UNSAFE_FILE, "the stream file is a symbolic link, not a regular file, owned by "      \
                   "another user, or another user could write or replace it")              \
    X(NO_SPACE, "not enough space on the file system for the stream file")                 \
    X(NOT_A_STREAM, "the file holds other data, not a stream: it was left as it was "       \
                    "(choose another path, or remove the file)")

/**
 * The name of a return code's macro ("IMAGESTREAM_BAD_FILE_SIZE"), or NULL
 * for a value that is no code. The string is static.
 */
SMI_EXPORT const char *SharedMemoryImageStream_errorname(SharedMemoryImageError err);

/**
 * The version of the library running (which may be newer than the header a
 * program was built with): "1.2.0". *number, when not NULL, gets it as
 * SMI_VERSION_NUMBER does.
 */
SMI_EXPORT const char *SharedMemoryImageStream_version(uint32_t *number);

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
 *   buffer); FRAME_TOO_LARGE (in the EnSight layout: larger than both blocks
 *   together; a frame larger than one block is split over both); IS_NOTSERVER
 *   on a client stream; LOCKED while a frame is acquired; BAD_ARGS for NULL
 *   arguments or a zero size.
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
    file another user could write or replace; with it, create() follows
    symbolic links and accepts any owner, mode and folder, as EnSight's own
    library does (for streams shared on purpose between users). Anything but
    a regular file is refused either way. Core/LAYOUT.md, "Opening files". */
#define IMAGESTREAM_OPTIONS_ANYFILE 0x00040000
/** Client option (extended layout): read every frame in publish order
    instead of the newest. lock() and next() hand out the oldest frame
    published after the last one this client read, each frame once; frames
    the client will never get (the server overwrote them first) are counted
    (next()'s `lost`): every frame published after the client attached is
    either handed out once or counted once. The first frame is the oldest
    the file holds when the client attaches. While such a client is attached the server overwrites
    its oldest frame, so a stream with N buffers (setbuffers()) keeps the
    last N frames. Core/LAYOUT.md, "Queue reading". */
#define IMAGESTREAM_OPTIONS_QUEUE 0x00080000
/** Client option (extended layout): a queue reader (implies
    IMAGESTREAM_OPTIONS_QUEUE) that is never overrun: the server never
    overwrites a frame this reader has not read. When every buffer holds
    such a frame (or one a client has locked) and none can be added, the
    server's acquire()/putframe() answer NO_BUFFERAVAILABLE (or wait, see
    setacquiretimeout()). A reader that dies (even by kill -9) holds the
    server back no longer: the server finds its slot's byte lock gone and
    releases its claim, as it does a dead client's lock. */
#define IMAGESTREAM_OPTIONS_RELIABLE 0x00100000

/* Pixel formats (extended layout; the EnSight layout is always RGB8).
   Multi-byte values are little-endian. */
#define IMAGESTREAM_FORMAT_RGB8 0    /**< 3 x uint8 per pixel */
#define IMAGESTREAM_FORMAT_RGBA8 1   /**< 4 x uint8 per pixel */
#define IMAGESTREAM_FORMAT_GRAY8 2   /**< 1 x uint8 per pixel */
#define IMAGESTREAM_FORMAT_GRAY16 3  /**< 1 x uint16 per pixel */
#define IMAGESTREAM_FORMAT_FLOAT32 4 /**< 1 x IEEE float32 per pixel (e.g. depth) */
#define IMAGESTREAM_FORMAT_INT16 5   /**< 1 x int16 per pixel (two's complement) */
#define IMAGESTREAM_FORMAT_INT32 6   /**< 1 x int32 per pixel (two's complement) */
#define IMAGESTREAM_FORMAT_UINT32 7  /**< 1 x uint32 per pixel */
#define IMAGESTREAM_FORMAT_FLOAT64 8 /**< 1 x IEEE float64 per pixel */

/* Kinds of a format's channel values. */
#define IMAGESTREAM_KIND_UINT 0  /**< unsigned integers */
#define IMAGESTREAM_KIND_FLOAT 1 /**< IEEE floating point */
#define IMAGESTREAM_KIND_INT 2   /**< signed integers, two's complement */

/**
 * Every pixel format, once: X(NAME, channels, bytes per channel, kind, name)
 * for IMAGESTREAM_FORMAT_NAME. Bindings generate their tables from it.
 */
#define SMI_FORMAT_LIST(X)                              \
    X(RGB8, 3, 1, IMAGESTREAM_KIND_UINT, "rgb8")        \
    X(RGBA8, 4, 1, IMAGESTREAM_KIND_UINT, "rgba8")      \
    X(GRAY8, 1, 1, IMAGESTREAM_KIND_UINT, "gray8")      \
    X(GRAY16, 1, 2, IMAGESTREAM_KIND_UINT, "gray16")    \
    X(FLOAT32, 1, 4, IMAGESTREAM_KIND_FLOAT, "float32") \
    X(INT16, 1, 2, IMAGESTREAM_KIND_INT, "int16")       \
    X(INT32, 1, 4, IMAGESTREAM_KIND_INT, "int32")       \
    X(UINT32, 1, 4, IMAGESTREAM_KIND_UINT, "uint32")    \
    X(FLOAT64, 1, 8, IMAGESTREAM_KIND_FLOAT, "float64")

/** What a pixel format is, from SharedMemoryImageStream_formatinfo(). */
typedef struct _SharedMemoryImageFormatInfo {
    uint32_t format;            /**< IMAGESTREAM_FORMAT_* */
    uint32_t channels;          /**< values per pixel */
    uint32_t bytes_per_channel; /**< bytes per value */
    uint32_t kind;              /**< IMAGESTREAM_KIND_* */
    const char *name;           /**< short name, "rgb8" */
} SharedMemoryImageFormatInfo;

/**
 * The description of an IMAGESTREAM_FORMAT_*, or NULL for an unknown
 * format. The struct is the library's (static): read it through the pointer.
 */
SMI_EXPORT const SharedMemoryImageFormatInfo *SharedMemoryImageStream_formatinfo(uint32_t format);

/** Layout of a stream file, as reported by SharedMemoryImageStream_inspect(). */
#define IMAGESTREAM_LAYOUT_ENSIGHT 1
#define IMAGESTREAM_LAYOUT_EXTENDED 2

/**
 * Describes a frame beyond SharedMemoryFrame: pixel format, depth (slices of
 * a volume; x fastest, then y, then z) and metadata. Zero-initialize it, then
 * set what you need: a zero depth counts as 1 and zero spacing as 1.
 */
typedef struct _SharedMemoryImageDesc {
    uint32_t size;      /**< sizeof(SharedMemoryImageDesc), or 0 (see "Growing structs") */
    uint32_t format;    /**< IMAGESTREAM_FORMAT_* */
    uint32_t width;     /**< pixels per row */
    uint32_t height;    /**< rows per slice */
    uint32_t depth;     /**< slices; 1 for an image */
    double timestamp;   /**< seconds; acquire presets the current UNIX time */
    double spacing[3];  /**< size of a pixel (x, y, z) */
    double origin[3];   /**< position of the first pixel */
    /* A later member (the library reads it only when `size` covers it): */
    uint32_t flags;     /**< IMAGESTREAM_FRAME_* (0: top row first) */
} SharedMemoryImageDesc;

/** Bytes of the first version of SharedMemoryImageDesc (before `flags`):
    what describe() writes, and the smallest non-zero `size` accepted. */
#define SMI_DESC_SIZE_V1 offsetof(SharedMemoryImageDesc, flags)

/**
 * Frame flag (SharedMemoryImageDesc.flags): the frame's first row is the
 * bottom of the picture (OpenGL's and VTK's order), not the top (EnSight's
 * order, the default). A server sets it on acquireformat()/putframeformat()
 * when the rows it gives run bottom first. The extended layout stores such a
 * frame as it is and marks it (Core/LAYOUT.md, "Row order"), so that a VTK
 * client can use it without reversing it; the EnSight layout is always top
 * row first, so there the library reverses the rows (putframeformat while
 * copying, publish in place for an acquired buffer). A client learns a
 * locked frame's order from SharedMemoryImageStream_frameflags();
 * copyframe() hands out the order its caller asks for. A client created
 * without IMAGESTREAM_OPTIONS_ANYFORMAT (EnSight's API: frame->buffer top row
 * first) gets such a frame as an upright copy in the library's memory.
 */
#define IMAGESTREAM_FRAME_BOTTOMUP 0x00000001u

/** An initializer for a SharedMemoryImageDesc: its size set, the rest zero. */
#ifdef __cplusplus
#define SMI_DESC_INIT {sizeof(SharedMemoryImageDesc), 0, 0, 0, 0, 0.0, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}, 0u}
#else
#define SMI_DESC_INIT {.size = sizeof(SharedMemoryImageDesc)}
#endif

/**
 * Create `filename`, or grow it, so that it holds two packed-RGB frames of
 * max_width x max_height in either layout: for the EnSight layout that means
 * at least 20 MiB (EnSight's own client asks for 20 MB), or twice the frame
 * plus 2 KiB when that is more. An existing larger file keeps its size and
 * bytes. Use createfilelayout() for a file sized for the extended layout only.
 *
 * A new file is made with O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600; an
 * existing one must pass the rules of create() (a regular file of the
 * effective uid that no other user could change, reached without a
 * symbolic link: Core/LAYOUT.md, "Opening files"), and a new one is removed
 * again when its folder does not. The file's blocks are reserved
 * (fallocate), so that a full file system shows now, not as a SIGBUS at the
 * first frame.
 * @return NOERROR; BAD_ARGS (NULL name, zero size, overflow, or a file above
 *   2^46 bytes, which no process could map: refused before the file is
 *   touched); UNSAFE_FILE (a symbolic link, not a regular file, another
 *   owner, another user could write or replace it); NO_SPACE when the file
 *   system cannot hold the file (a file made by this call is removed again, an
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
 * Serve `filename` in one call, as every face of this library does: make
 * the file, or grow it, for two frames like `max_frame` in `layout`
 * (IMAGESTREAM_LAYOUT_EXTENDED or _ENSIGHT, as createfilelayout()), then
 * create() its server end with IMAGESTREAM_OPTIONS_SERVER, the layout's
 * option and `options` (IMAGESTREAM_OPTIONS_FLIPVERTICAL, _ANYFILE).
 * - A file a live server holds is left alone (SERVER_ACTIVE), never resized.
 * - An EnSight-layout file whose two blocks together hold `max_frame` (the
 *   25 MiB file pyensight makes, for a 4K frame) is served as it is: frames
 *   larger than one block are split over both.
 * - With IMAGESTREAM_OPTIONS_ANYFILE a regular file the open rules refuse
 *   is served as it is (not grown). Without it such a file, or a file of
 *   other data (NOT_A_STREAM), is refused and left byte for byte as it was.
 * @param capacity when not NULL: bytes of the largest frame the stream
 *   takes (one buffer; max_frame's bytes when it is split over both
 *   blocks); a frame larger than that needs serve() again.
 * @return create()'s NOERROR or RECONNECTING (a crashed server's stream
 *   taken over) with *stream set; else a negative code of createfilelayout()
 *   or create(), *stream NULL (openerrorstring() gives the message);
 *   BAD_ARGS for NULL arguments, an unknown layout, or layout bits in
 *   `options`.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_serve(
    const char *filename, uint32_t layout, const SharedMemoryImageDesc *max_frame,
    uint32_t options, SharedMemoryImageStream *stream, uint64_t *capacity);

/**
 * Server, zero-copy: take a writable buffer for a width x height packed-RGB
 * frame. On NOERROR, (*frame)->buffer points into the file (fill it top row
 * first; FLIPVERTICAL does not apply; an EnSight-layout frame larger than one
 * block gets the server's own memory instead, which publish() copies into
 * both blocks) and (*frame)->iFrame is preset to the
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
 * Extended layout: when clients held every other buffer, acquire() took the
 * buffer of the newest published frame (the server never waits for its
 * clients), so after abandon() that frame is gone too: clients get the next
 * frame published.
 * @return NOERROR; NOT_LOCKED when nothing is acquired; IS_NOTSERVER; BAD_ARGS.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_abandon(SharedMemoryImageStream stream);

/**
 * Server: how many pixel buffers an extended-layout stream may use. A stream
 * starts with two. When live clients hold every buffer, acquire() and
 * putframe() add one (the file grows by one buffer) instead of dropping the
 * frame, up to max_buffers; so a server with N clients needs at most N + 1
 * buffers and is never starved while N < IMAGESTREAM_MAX_BUFFERS. This call
 * adds buffers at once until there are min_buffers, and sets the limit
 * (default IMAGESTREAM_MAX_BUFFERS; 2 keeps the file at two buffers, as
 * earlier versions of this library did). Memory: each buffer is one frame of the file's
 * largest size (Core/LAYOUT.md, "Growing"). Buffers are never removed.
 * @return NOERROR; BAD_ARGS for NULL, min_buffers > max_buffers, or
 *   max_buffers outside 1..IMAGESTREAM_MAX_BUFFERS; IS_NOTSERVER; LOCKED
 *   while a frame is acquired; BAD_FORMAT on an EnSight-layout stream
 *   (always two blocks) unless min_buffers <= 2 <= max_buffers; NO_SPACE
 *   when the file system cannot hold the added buffers (those added before
 *   stay); BAD_FILE_SIZE when the file was truncated.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_setbuffers(SharedMemoryImageStream stream,
                                                                     uint32_t min_buffers,
                                                                     uint32_t max_buffers);

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
 * Client: like wait(), but first spin in user space for up to spin_us
 * microseconds (bounded by the timeout), watching the stream's publish
 * counter with no system call, before sleeping in the kernel. A frame
 * published while it spins is seen within about a microsecond instead of
 * a kernel wake-up's tens of microseconds, at the cost of a CPU kept busy
 * for the spin. spin_us 0 is wait(). EnSight layout: as wait() (it polls).
 * @return as wait().
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_spinwait(SharedMemoryImageStream stream,
                                                                   int32_t timeout_ms,
                                                                   uint32_t spin_us);

/**
 * Client of a queue (IMAGESTREAM_OPTIONS_QUEUE or _RELIABLE): lock the
 * oldest frame published after the last one this client read, as lock()
 * does for such a client, and tell how many frames in between this client
 * will never get (the server overwrote them before it got to them). Frames
 * come in publish order, each once; a frame of a format this client does
 * not take (FORMAT_SKIPPED) counts as read, not lost. Exact: every frame
 * published after the client attached (its queue's start, which the frames
 * the file held then are after) is either handed out once or counted once
 * in the `lost` of the next frame handed out, so frames got + the sum of
 * `lost` = frames published since the start, up to the last one got; lock()
 * hands out the same frames without the count. Core/LAYOUT.md, "What `lost`
 * counts, exactly".
 * @param lost  when not NULL: the frames published after the last frame
 *   this client was handed (or its start) and before this one (0 when none
 *   was missed; 0 on anything but NOERROR and FORMAT_SKIPPED, the missed
 *   frames then counted with the next frame).
 * @return as lock(); BAD_ARGS on a client created without the queue
 *   option, or on an EnSight-layout stream (one frame at a time, no
 *   history to read in order).
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_next(SharedMemoryImageStream stream,
                                                               SharedMemoryFrame *frame,
                                                               uint64_t *lost);

/**
 * Server (extended layout): how long acquire(), acquireformat(),
 * putframe() and putframeformat() wait for a buffer when none can be
 * taken (live clients hold every buffer at the limit of setbuffers(), or a
 * reliable queue reader has not read the frames in them), instead of
 * answering NO_BUFFERAVAILABLE at once. The server sleeps in the kernel
 * and wakes when a client unlocks or a reliable reader moves on, and
 * looks again at least every 10 ms (a reader killed meanwhile is noticed
 * then). timeout_ms 0 (the default) never waits; negative waits for ever.
 * @return NOERROR; BAD_ARGS for NULL; IS_NOTSERVER.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_setacquiretimeout(
    SharedMemoryImageStream stream, int32_t timeout_ms);

/**
 * Describe the frame currently locked (client) or acquired (server): format,
 * size, depth and metadata. EnSight-layout frames are RGB8, depth 1, spacing
 * 1, origin 0, timestamp 0. Writes the struct's first version
 * (SMI_DESC_SIZE_V1 bytes, `size` set to that): its flags come from
 * frameflags().
 * @return NOERROR; NOT_LOCKED when no frame is held; BAD_ARGS for NULL.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_describe(SharedMemoryImageStream stream,
                                                                   SharedMemoryImageDesc *desc);

/**
 * The flags (IMAGESTREAM_FRAME_*) of the frame currently locked (client) or
 * acquired (server) into *flags: IMAGESTREAM_FRAME_BOTTOMUP when its
 * buffer's first row is the bottom of the picture (frame->buffer as lock()
 * handed it out). EnSight-layout frames are always top row first (0).
 * @return NOERROR; NOT_LOCKED when no frame is held; BAD_ARGS for NULL.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_frameflags(SharedMemoryImageStream stream,
                                                                     uint32_t *flags);

/**
 * Client: copy the locked frame's pixels into `dst` (at least the frame's
 * width*height*depth*pixel-size bytes, given as dst_bytes), in the row order
 * the caller asks for: flip_vertical 0 gives each slice top row first (the
 * picture upright, as EnSight's API has it), non-zero bottom row first (VTK
 * images). The rows are reversed when the frame is stored the other way
 * (IMAGESTREAM_FRAME_BOTTOMUP, see frameflags()); frames without that flag
 * are top row first, so for them non-zero reverses the rows, as it always
 * did. The one copy a client that keeps pixels needs: memcpy, row by row
 * when reversing.
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

/** One attached client, as inspectclients() reports it. */
typedef struct _SharedMemoryClientInfo {
    uint32_t slot;          /**< its client slot */
    uint32_t options;       /**< 0 (the newest frame), IMAGESTREAM_OPTIONS_QUEUE, or
                                 IMAGESTREAM_OPTIONS_RELIABLE | _QUEUE: how it reads */
    uint32_t holds;         /**< index + 1 of the buffer it holds locked, 0 none */
    uint32_t waiting;       /**< 1 while it sleeps waiting for a frame */
    uint64_t last_sequence; /**< sequence of the last frame it locked (a queue
                                 reader: its place in the queue) */
    uint64_t frames_locked; /**< frames it has locked since it attached */
    uint64_t frames_lost;   /**< queue reader: frames published since it attached
                                 that it passed over unread (next()'s `lost`, summed) */
} SharedMemoryClientInfo;

/**
 * The live clients of the stream in `filename`, slot by slot, read as
 * inspect() reads (through the descriptor, nothing changed, any owner and
 * mode, never a symbolic link). Up to max_clients of them go into
 * clients[]; *count gets how many are attached (which may be more).
 * Extended layout: each slot's mode, lock, wait and counts (Core/LAYOUT.md,
 * section 2.3). EnSight layout: its one client of this library, slot 0,
 * when one is attached, with nothing else known (zeros).
 * @return as inspect(); BAD_ARGS when filename or count is NULL, or
 *   clients is NULL with max_clients above 0.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_inspectclients(
    const char *filename, SharedMemoryClientInfo *clients, uint32_t max_clients,
    uint32_t *count);

/**
 * Would create() with `options` refuse `filename` as unsafe, and why? The
 * rules of IMAGESTREAM_UNSAFE_FILE, checked without opening the file for
 * reading or writing (nothing changes), for a message that tells the user
 * what to fix. `why` (when not NULL) gets one NUL-terminated line, cut to
 * why_size bytes: for UNSAFE_FILE the rule that failed and the fix ("chmod
 * g-w FILE", "chmod o-w FOLDER"; callers add how their users opt in:
 * IMAGESTREAM_OPTIONS_ANYFILE, a tool's --any-file); for other errors the
 * system's reason; "" for NOERROR.
 * @return NOERROR (the rules accept it: create() may still fail for other
 *   reasons); UNSAFE_FILE; BAD_FILE_SIZE when it is missing;
 *   UNABLE_TO_OPEN_FILE (a directory, no permission); BAD_ARGS for a NULL
 *   filename or an unknown option.
 */
SMI_EXPORT SharedMemoryImageError SharedMemoryImageStream_checkfile(const char *filename,
                                                                    uint32_t options, char *why,
                                                                    size_t why_size);

/**
 * The message for `err`, which create(), createfile*() or serve() answered
 * for `filename` with `options`: errorstring(err), and for
 * UNABLE_TO_OPEN_FILE, BAD_FILE_SIZE and UNSAFE_FILE what the path is and
 * what to do, from checkfile(), in parentheses: "cannot open the stream file
 * (the folder /x does not exist: create it with mkdir -p /x, ...)". Every
 * face shows this one text. `optin` (may be NULL) is how the caller's users
 * ask for IMAGESTREAM_OPTIONS_ANYFILE ("--any-file", "any_file=True"): when
 * only a rule that option waives refuses the file, the text ends "; or pass
 * OPTIN to use it as it is)". One NUL-terminated line, cut to text_size.
 * @return text; errorstring(err) when text is NULL or text_size 0.
 */
SMI_EXPORT const char *SharedMemoryImageStream_openerrorstring(const char *filename,
                                                               uint32_t options,
                                                               SharedMemoryImageError err,
                                                               const char *optin, char *text,
                                                               size_t text_size);

/* ---- Attaching: one policy for every client ------------------------------ */

/**
 * The situations a client's stream can be in, from attach() and refresh():
 * X(NAME, description) for IMAGESTREAM_SITUATION_NAME, in value order. The
 * first seven are worth waiting for (situationwaits()); the last three are
 * for the user to fix (a face that keeps running tries again meanwhile).
 */
#define SMI_SITUATION_LIST(X)                                                               \
    X(SERVING, "attached, server alive")                                                    \
    X(MISSING, "the stream file does not exist (yet); waiting for a server to create it")   \
    X(SETTING_UP, "the stream file is being set up; waiting for its server to finish")      \
    X(NO_SERVER, "no server has set the stream up yet; waiting for one to start")           \
    X(SERVER_GONE, "attached, its server is gone; waiting for a server to come back")       \
    X(NEW_SERVER, "a new server took over the stream")                                      \
    X(REPLACED, "the stream file was replaced; attaching to the new one")                   \
    X(NOT_A_STREAM, "the file is not a shared-memory image stream")                         \
    X(UNSAFE, "the stream file is not one this process may trust")                          \
    X(FATAL, "cannot attach to the stream")

/** The situations (values never change). */
enum {
#define SMI_SITUATION_ENUM(name, text) IMAGESTREAM_SITUATION_##name,
    SMI_SITUATION_LIST(SMI_SITUATION_ENUM)
#undef SMI_SITUATION_ENUM
};

/** Where a client's stream stands, kept by the caller between attach() and
    refresh() calls (zero it before the first; attach() fills it in). */
typedef struct _SharedMemoryStreamStatus {
    uint32_t situation;          /**< IMAGESTREAM_SITUATION_* */
    SharedMemoryImageError code; /**< the library's code behind it (create()'s, info()'s) */
    uint32_t reattach;           /**< refresh(): destroy the stream and attach() again */
    uint32_t layout;             /**< IMAGESTREAM_LAYOUT_* of the attached stream */
    uint32_t server_alive;       /**< 1 while a server holds the file */
    uint32_t served;             /**< 1 once a server was seen serving this stream */
    uint64_t device, inode;      /**< the file attached to (0: none) */
} SharedMemoryStreamStatus;

/**
 * Client: create() on `filename` with `options`, and say what situation
 * the stream is in. Attached: SERVING, or SERVER_GONE (its server crashed,
 * was killed, or ended; also an EnSight server, which cannot be detected),
 * *stream set. Not attached (*stream NULL, status->code create()'s code,
 * which openerrorstring() explains): NO_SERVER (a file no server has set
 * up yet, all zeros as createfile() makes it: not mapped until a server
 * sets it up; code BAD_FILE_SIZE), MISSING (no file, or no folder, yet),
 * SETTING_UP (a file too small, or whose header is not valid but that
 * changed in the last 3 s: its server is making it), NOT_A_STREAM (a
 * header that stays invalid, other data), UNSAFE (UNSAFE_FILE), FATAL
 * (anything else: a folder at the path, no permission, every client slot
 * taken, ...).
 * @return the situation (status->situation too; status may be NULL).
 */
SMI_EXPORT uint32_t SharedMemoryImageStream_attach(const char *filename, uint32_t options,
                                                   SharedMemoryImageStream *stream,
                                                   SharedMemoryStreamStatus *status);

/**
 * Client, attached (`status` as attach() left it): where does the stream
 * stand now? One stat() of `filename` and one info(): MISSING (the file was
 * removed), REPLACED (another file is at the path now), NEW_SERVER (a server
 * came since the last call), else SERVING, NO_SERVER or SERVER_GONE.
 * status->reattach is set when the client must destroy the stream and
 * attach() again: the file removed or replaced, the stream truncated or
 * garbled under it, or a new server on an EnSight-layout stream (an
 * extended-layout client goes on as it is). Nothing of the stream changes.
 * @return the situation (status->situation too); FATAL for NULL arguments.
 */
SMI_EXPORT uint32_t SharedMemoryImageStream_refresh(const char *filename,
                                                    SharedMemoryImageStream stream,
                                                    SharedMemoryStreamStatus *status);

/** Non-zero when `situation` is worth waiting for (SERVING up to REPLACED:
    a server or a file is coming), 0 for NOT_A_STREAM, UNSAFE and FATAL. */
SMI_EXPORT int SharedMemoryImageStream_situationwaits(uint32_t situation);

/** A description of a situation ("attached, server alive"); never NULL. */
SMI_EXPORT const char *SharedMemoryImageStream_situationstring(uint32_t situation);

/** Bytes per pixel of an IMAGESTREAM_FORMAT_*, or 0 for an unknown format. */
SMI_EXPORT uint32_t SharedMemoryImageStream_formatsize(uint32_t format);

/** Short name of an IMAGESTREAM_FORMAT_* ("rgb8", ...), or "unknown". */
SMI_EXPORT const char *SharedMemoryImageStream_formatname(uint32_t format);

#ifdef __cplusplus
}
#endif

#endif /* SHARED_MEMORY_IMAGE_H */
