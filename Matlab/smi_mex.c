/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smi_mex.c -- the one MEX gateway of SharedMemoryImage for GNU Octave and
 * MATLAB: a thin layer over the C library (shared_memory_image.h) that the
 * .m functions in this folder call (smi_open, smi_read, smi_info, smi_close,
 * smi_publish_open, smi_send). Users call those, not smi_mex itself.
 *
 *   Octave:  mkoctfile --mex smi_mex.c -I<include> <libshared-memory-image>
 *   MATLAB:  mex -R2018a smi_mex.c -I<include> -L<lib> -lshared-memory-image -lut
 *
 * Calls, by their first argument (a command name):
 *   id = smi_mex('open', path, anyfile)             client (every pixel format)
 *   [img, info] = smi_mex('read', id, seconds)      newest frame not read yet
 *   smi_mex('close', id)                            unknown ids are ignored
 *   info = smi_mex('info', path_or_id)              the stream's state
 *   tf = smi_mex('isopen', id)
 *   id = smi_mex('serve', path, layout, anyfile, like, format)
 *   [status, n] = smi_mex('send', id, img, format, number, timestamp, spacing, origin)
 *   f = smi_mex('formats')                          the library's pixel formats
 *   v = smi_mex('version')                          the library's version
 *   t = smi_mex('transpose_time', format, w, h, reps)  benchmark of the transpose
 *
 * Streams live in a table of this MEX file; a handle is a uint64 that holds
 * a slot and a random generation, so a handle from before `clear mex` (which
 * destroys every stream, through mexAtExit) is recognized as closed and
 * never reaches a stream opened since.
 *
 * Shared memory is input from other processes: pixels are taken out of the
 * stream with the library's guarded SharedMemoryImageStream_copyframe (a
 * file shrunk under the stream gives an error, not a SIGBUS), the lock is
 * released at once, and only then is the copy transposed into the MATLAB
 * array (row-major, channels interleaved -> column-major h x w [x d] [x c]).
 * Publishing transposes into a buffer of this file and hands it to
 * SharedMemoryImageStream_putframeformat (which writes through the file
 * descriptor). No byte of the mapping is read or written here directly.
 *
 * Waits are cut into slices of at most SMI_WAIT_SLICE_MS; between slices
 * Ctrl-C is looked for (Octave: octave_signal_caught, then Octave's own
 * OCTAVE_QUIT handles it; MATLAB: utIsInterruptPending from libut), so an
 * interrupted wait returns within a slice.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mex.h"
#include "shared_memory_image.h"

#if defined(HAVE_OCTAVE)
#include <octave/quit.h>
#elif defined(MATLAB_MEX_FILE)
#include <stdbool.h>
/* libut (MATLAB's, link with -lut): true once the user pressed Ctrl-C. */
extern bool utIsInterruptPending(void);
#endif

/* GCC/Clang spellings, empty elsewhere. */
#if defined(__GNUC__)
#define SMI_ALWAYS_INLINE inline __attribute__((always_inline))
#define SMI_KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")
#else
#define SMI_ALWAYS_INLINE inline
#define SMI_KEEP(p) ((void)(p))
#endif

/* Longest single wait in the library between two looks for Ctrl-C. */
#define SMI_WAIT_SLICE_MS 50
/* Streams one MEX file holds at once. */
#define SMI_MAX_STREAMS 256
/* Pixels per side of the square tiles the transposes copy. */
#define SMI_TILE 64

/* One open stream, client or server. */
typedef struct {
    SharedMemoryImageStream stream; /* NULL: free slot */
    int server;                     /* 1 for a server */
    uint32_t layout;                /* server: IMAGESTREAM_LAYOUT_* it serves */
    uint32_t options;               /* options it was created with */
    uint64_t capacity;              /* server: bytes per frame the file holds */
    char *path;                     /* malloc'ed */
    void *scratch;                  /* row-major copy of one frame, malloc'ed */
    size_t scratch_bytes;
} smi_slot_t;

static smi_slot_t smi_slots[SMI_MAX_STREAMS];
static uint64_t smi_generation; /* 0 until the first call of this load */

/* ---- errors ------------------------------------------------------------- */

/* The MATLAB error identifier of a library code. */
static const char *smi_error_id(int code)
{
    switch (code) {
    case IMAGESTREAM_BAD_ARGS: return "smi:badArgs";
    case IMAGESTREAM_BAD_FILE_SIZE: return "smi:badFile";
    case IMAGESTREAM_BAD_FILE_FORMAT: return "smi:badFile";
    case IMAGESTREAM_VERSION_MISMATCH: return "smi:badFile";
    case IMAGESTREAM_UNABLE_TO_OPEN_FILE: return "smi:cannotOpen";
    case IMAGESTREAM_UNABLE_TO_MAP_FILE: return "smi:cannotOpen";
    case IMAGESTREAM_UNSAFE_FILE: return "smi:unsafeFile";
    case IMAGESTREAM_MEMORY_ALLOC_ERROR: return "smi:outOfMemory";
    case IMAGESTREAM_SERVER_ACTIVE: return "smi:serverActive";
    case IMAGESTREAM_TOO_MANY_CLIENTS: return "smi:tooManyClients";
    case IMAGESTREAM_BAD_FORMAT: return "smi:badFormat";
    case IMAGESTREAM_FRAME_TOO_LARGE: return "smi:frameTooLarge";
    case IMAGESTREAM_NO_SPACE: return "smi:noSpace";
    case IMAGESTREAM_IS_SERVER: return "smi:isServer";
    case IMAGESTREAM_IS_NOTSERVER: return "smi:notServer";
    default: return "smi:error";
    }
}

/* Raise a MATLAB error for library code `code` about `path`, in `call`:
   "smi_open /dev/shm/x.smi: stream file is missing or too small
   (IMAGESTREAM_BAD_FILE_SIZE)". A missing file is smi:missing. Never returns. */
static void smi_fail(const char *call, const char *path, int code)
{
    const char *id = smi_error_id(code);
    struct stat st;
    if (code == IMAGESTREAM_BAD_FILE_SIZE && path && stat(path, &st) != 0 && errno == ENOENT)
        id = "smi:missing";
    const char *name = SharedMemoryImageStream_errorname(code);
    char text[1400];
    mexErrMsgIdAndTxt(id, "%s %s: %s (%s)", call, path ? path : "",
                      SharedMemoryImageStream_openerrorstring(path, IMAGESTREAM_OPTIONS_NONE, code,
                                                              "'AnyFile', true", text,
                                                              sizeof text),
                      name ? name : "unknown code");
}

/* ---- Ctrl-C ------------------------------------------------------------- */

/* Non-zero when the user asked to interrupt (Ctrl-C) since the call began. */
static int smi_interrupt_pending(void)
{
#if defined(HAVE_OCTAVE)
    return octave_signal_caught != 0;
#elif defined(MATLAB_MEX_FILE)
    return utIsInterruptPending();
#else
    return 0;
#endif
}

/* Act on a pending interrupt; the caller holds nothing that needs release.
   Octave handles its signal (an interrupt leaves this call as Ctrl-C does
   anywhere in Octave); elsewhere the call fails with smi:interrupted. */
static void smi_interrupt(void)
{
#if defined(HAVE_OCTAVE)
    OCTAVE_QUIT;
#endif
    mexErrMsgIdAndTxt("smi:interrupted", "interrupted (Ctrl-C) while waiting for a frame");
}

/* ---- the stream table --------------------------------------------------- */

/* Destroy the slot's stream (a held lock is released first) and free it. */
static void smi_slot_close(smi_slot_t *slot)
{
    if (slot->stream)
        SharedMemoryImageStream_destroy(slot->stream);
    free(slot->path);
    free(slot->scratch);
    memset(slot, 0, sizeof *slot);
}

/* mexAtExit: `clear mex`, `clear all`, or Octave/MATLAB ending. */
static void smi_at_exit(void)
{
    for (int i = 0; i < SMI_MAX_STREAMS; i++)
        smi_slot_close(&smi_slots[i]);
    smi_generation = 0;
}

/* The MATLAB-side handle of slot index `slot` in this load of the MEX file. */
static uint64_t smi_handle_of(int slot)
{
    return (smi_generation << 16) | (uint64_t)(slot + 1);
}

/* The slot of handle `arg`, or NULL when it is closed (or of an earlier
   load of this MEX file). Raises smi:usage when `arg` is no handle. */
static smi_slot_t *smi_slot_of(const mxArray *arg)
{
    if (!mxIsUint64(arg) || mxGetNumberOfElements(arg) != 1)
        mexErrMsgIdAndTxt("smi:usage", "expected a stream handle (from smi_open or smi_publish_open)");
    uint64_t h;
    memcpy(&h, mxGetData(arg), sizeof h);
    uint64_t index = h & 0xffff;
    if (h >> 16 != smi_generation || index == 0 || index > SMI_MAX_STREAMS)
        return NULL;
    smi_slot_t *slot = &smi_slots[index - 1];
    return slot->stream ? slot : NULL;
}

/* The open slot of handle `arg`; raises smi:closed when it is closed. */
static smi_slot_t *smi_slot_open(const mxArray *arg, const char *call)
{
    smi_slot_t *slot = smi_slot_of(arg);
    if (!slot)
        mexErrMsgIdAndTxt("smi:closed", "%s: the stream is closed (by smi_close, or when the "
                          "MEX file was unloaded: clear smi_mex, clear all)", call);
    return slot;
}

/* The index of a free slot; raises smi:tooManyStreams when none is. */
static int smi_slot_free(void)
{
    for (int i = 0; i < SMI_MAX_STREAMS; i++)
        if (!smi_slots[i].stream)
            return i;
    mexErrMsgIdAndTxt("smi:tooManyStreams", "more than %d streams are open: close some (smi_close)",
                      SMI_MAX_STREAMS);
    return -1;
}

/* Make the slot's scratch buffer at least `bytes` long (raises on failure). */
static void *smi_scratch(smi_slot_t *slot, size_t bytes)
{
    if (slot->scratch_bytes < bytes) {
        void *p = malloc(bytes ? bytes : 1);
        if (!p)
            mexErrMsgIdAndTxt("smi:outOfMemory", "out of memory for a frame of %zu bytes", bytes);
        free(slot->scratch);
        slot->scratch = p;
        slot->scratch_bytes = bytes;
    }
    return slot->scratch;
}

/* ---- arguments ---------------------------------------------------------- */

/* A char argument as a new mxMalloc'ed string (raises smi:usage). */
static char *smi_string(const mxArray *arg, const char *what)
{
    char *s = mxIsChar(arg) ? mxArrayToString(arg) : NULL;
    if (!s)
        mexErrMsgIdAndTxt("smi:usage", "%s must be a character string", what);
    return s;
}

/* A real numeric or logical scalar argument (raises smi:usage). */
static double smi_scalar(const mxArray *arg, const char *what)
{
    if (!arg || !(mxIsNumeric(arg) || mxIsLogical(arg)) || mxGetNumberOfElements(arg) != 1 ||
        mxIsComplex(arg))
        mexErrMsgIdAndTxt("smi:usage", "%s must be a real scalar", what);
    return mxGetScalar(arg);
}

/* A non-negative integer below 2^32 (raises smi:usage). */
static uint32_t smi_u32(const mxArray *arg, const char *what)
{
    double v = smi_scalar(arg, what);
    if (!(v >= 0 && v <= 4294967295.0) || v != floor(v))
        mexErrMsgIdAndTxt("smi:usage", "%s must be an integer from 0 to 2^32-1", what);
    return (uint32_t)v;
}

/* ---- pixel formats ------------------------------------------------------ */

/* The MATLAB class of a format's channel values, mxUNKNOWN_CLASS if none. */
static mxClassID smi_class_of(const SharedMemoryImageFormatInfo *f)
{
    if (f->kind == IMAGESTREAM_KIND_FLOAT)
        return f->bytes_per_channel == 4 ? mxSINGLE_CLASS
             : f->bytes_per_channel == 8 ? mxDOUBLE_CLASS : mxUNKNOWN_CLASS;
    if (f->kind == IMAGESTREAM_KIND_INT)
        return f->bytes_per_channel == 1 ? mxINT8_CLASS
             : f->bytes_per_channel == 2 ? mxINT16_CLASS
             : f->bytes_per_channel == 4 ? mxINT32_CLASS
             : f->bytes_per_channel == 8 ? mxINT64_CLASS : mxUNKNOWN_CLASS;
    if (f->kind == IMAGESTREAM_KIND_UINT)
        return f->bytes_per_channel == 1 ? mxUINT8_CLASS
             : f->bytes_per_channel == 2 ? mxUINT16_CLASS
             : f->bytes_per_channel == 4 ? mxUINT32_CLASS
             : f->bytes_per_channel == 8 ? mxUINT64_CLASS : mxUNKNOWN_CLASS;
    return mxUNKNOWN_CLASS;
}

/* The name of a numeric class. */
static const char *smi_class_name(mxClassID cls)
{
    switch (cls) {
    case mxUINT8_CLASS: return "uint8";
    case mxUINT16_CLASS: return "uint16";
    case mxUINT32_CLASS: return "uint32";
    case mxUINT64_CLASS: return "uint64";
    case mxINT8_CLASS: return "int8";
    case mxINT16_CLASS: return "int16";
    case mxINT32_CLASS: return "int32";
    case mxINT64_CLASS: return "int64";
    case mxSINGLE_CLASS: return "single";
    case mxDOUBLE_CLASS: return "double";
    default: return "";
    }
}

/* Every format the library knows, in its SMI_FORMAT_LIST order. */
#define SMI_FORMAT_ID(NAME, channels, bytes, kind, name) IMAGESTREAM_FORMAT_##NAME,
static const uint32_t smi_formats[] = {SMI_FORMAT_LIST(SMI_FORMAT_ID)};
#undef SMI_FORMAT_ID
#define SMI_FORMAT_COUNT (sizeof smi_formats / sizeof smi_formats[0])

/* The format called `name` ("rgb8", ...), or NULL. */
static const SharedMemoryImageFormatInfo *smi_format_named(const char *name)
{
    for (size_t i = 0; i < SMI_FORMAT_COUNT; i++) {
        const SharedMemoryImageFormatInfo *f = SharedMemoryImageStream_formatinfo(smi_formats[i]);
        if (f && strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

/* The format of an array of class `cls` with `channels` values per pixel
   (the first in the list that matches), or NULL. */
static const SharedMemoryImageFormatInfo *smi_format_for(mxClassID cls, size_t channels)
{
    for (size_t i = 0; i < SMI_FORMAT_COUNT; i++) {
        const SharedMemoryImageFormatInfo *f = SharedMemoryImageStream_formatinfo(smi_formats[i]);
        if (f && smi_class_of(f) == cls && f->channels == channels)
            return f;
    }
    return NULL;
}

/* ---- transposes --------------------------------------------------------- */

/*
 * Row-major frames (x fastest, then channels interleaved per pixel, rows top
 * first, then slices) to MATLAB's column-major h x w x d x c, and back, in
 * square tiles (a column of a tile is contiguous in MATLAB's array, the
 * tile's rows stay in cache). One kernel per element size; channel counts 1,
 * 3 and 4 get their own copies of it (constants the compiler unrolls).
 */
#define SMI_TRANSPOSE_KERNELS(T)                                                                 \
    static SMI_ALWAYS_INLINE void smi_to_cols_##T(                                               \
        const T *restrict src, T *restrict dst, size_t w, size_t h, size_t d, size_t c)          \
    {                                                                                            \
        const size_t plane = w * h, volume = plane * d, row = w * c;                             \
        for (size_t z = 0; z < d; z++)                                                           \
            for (size_t x0 = 0; x0 < w; x0 += SMI_TILE)                                          \
                for (size_t y0 = 0; y0 < h; y0 += SMI_TILE) {                                    \
                    const size_t y1 = y0 + SMI_TILE < h ? y0 + SMI_TILE : h;                     \
                    const size_t x1 = x0 + SMI_TILE < w ? x0 + SMI_TILE : w;                     \
                    for (size_t x = x0; x < x1; x++)                                             \
                        for (size_t k = 0; k < c; k++) {                                         \
                            const T *s = src + z * plane * c + x * c + k;                        \
                            T *o = dst + k * volume + z * plane + x * h;                         \
                            for (size_t y = y0; y < y1; y++)                                     \
                                o[y] = s[y * row];                                               \
                        }                                                                        \
                }                                                                                \
    }                                                                                            \
    static SMI_ALWAYS_INLINE void smi_to_rows_##T(                                               \
        const T *restrict src, T *restrict dst, size_t w, size_t h, size_t d, size_t c)          \
    {                                                                                            \
        const size_t plane = w * h, volume = plane * d, row = w * c;                             \
        for (size_t z = 0; z < d; z++)                                                           \
            for (size_t x0 = 0; x0 < w; x0 += SMI_TILE)                                          \
                for (size_t y0 = 0; y0 < h; y0 += SMI_TILE) {                                    \
                    const size_t y1 = y0 + SMI_TILE < h ? y0 + SMI_TILE : h;                     \
                    const size_t x1 = x0 + SMI_TILE < w ? x0 + SMI_TILE : w;                     \
                    for (size_t x = x0; x < x1; x++)                                             \
                        for (size_t k = 0; k < c; k++) {                                         \
                            const T *s = src + k * volume + z * plane + x * h;                   \
                            T *o = dst + z * plane * c + x * c + k;                              \
                            for (size_t y = y0; y < y1; y++)                                     \
                                o[y * row] = s[y];                                               \
                        }                                                                        \
                }                                                                                \
    }                                                                                            \
    static void smi_transpose_##T(int to_cols, const void *src, void *dst, size_t w, size_t h,   \
                                  size_t d, size_t c)                                            \
    {                                                                                            \
        if (to_cols) {                                                                           \
            if (c == 1) smi_to_cols_##T(src, dst, w, h, d, 1);                                   \
            else if (c == 3) smi_to_cols_##T(src, dst, w, h, d, 3);                              \
            else if (c == 4) smi_to_cols_##T(src, dst, w, h, d, 4);                              \
            else smi_to_cols_##T(src, dst, w, h, d, c);                                          \
        } else {                                                                                 \
            if (c == 1) smi_to_rows_##T(src, dst, w, h, d, 1);                                   \
            else if (c == 3) smi_to_rows_##T(src, dst, w, h, d, 3);                              \
            else if (c == 4) smi_to_rows_##T(src, dst, w, h, d, 4);                              \
            else smi_to_rows_##T(src, dst, w, h, d, c);                                          \
        }                                                                                        \
    }

SMI_TRANSPOSE_KERNELS(uint8_t)
SMI_TRANSPOSE_KERNELS(uint16_t)
SMI_TRANSPOSE_KERNELS(uint32_t)
SMI_TRANSPOSE_KERNELS(uint64_t)

/* Transpose w x h x d pixels of c channels of `bytes` bytes each (1, 2, 4
   or 8) from row-major `src` to column-major `dst` (to_cols) or back. Both
   buffers are this file's or MATLAB's, aligned for their element type. */
static void smi_transpose(int to_cols, const void *src, void *dst, size_t bytes, size_t w,
                          size_t h, size_t d, size_t c)
{
    switch (bytes) {
    case 1: smi_transpose_uint8_t(to_cols, src, dst, w, h, d, c); break;
    case 2: smi_transpose_uint16_t(to_cols, src, dst, w, h, d, c); break;
    case 4: smi_transpose_uint32_t(to_cols, src, dst, w, h, d, c); break;
    case 8: smi_transpose_uint64_t(to_cols, src, dst, w, h, d, c); break;
    default: break;
    }
}

/* MATLAB's dimensions of a frame: h x w, h x w x c, h x w x d, h x w x d x c. */
static mwSize smi_dims(mwSize *dims, size_t w, size_t h, size_t d, size_t c)
{
    mwSize n = 0;
    dims[n++] = (mwSize)h;
    dims[n++] = (mwSize)w;
    if (d > 1)
        dims[n++] = (mwSize)d;
    if (c > 1)
        dims[n++] = (mwSize)c;
    return n;
}

/* ---- time --------------------------------------------------------------- */

/* Monotonic seconds. */
static double smi_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- structs for MATLAB ------------------------------------------------- */

/* A 1 x 3 double row vector of v. */
static mxArray *smi_vec3(const double v[3])
{
    mxArray *a = mxCreateDoubleMatrix(1, 3, mxREAL);
    memcpy(mxGetPr(a), v, 3 * sizeof(double));
    return a;
}

/* The info struct of smi_read and smi_next: frame, timestamp, format,
   width, height, depth, spacing, origin, lost (smi_next: the frames
   published before this one, after the previous one or the attach, that
   this client will never get; smi_read: 0). */
static mxArray *smi_frame_info(uint32_t number, const SharedMemoryImageDesc *d, uint64_t lost)
{
    static const char *fields[] = {"frame", "timestamp", "format", "width", "height",
                                   "depth", "spacing", "origin", "lost"};
    mxArray *s = mxCreateStructMatrix(1, 1, 9, fields);
    mxSetField(s, 0, "frame", mxCreateDoubleScalar(number));
    mxSetField(s, 0, "timestamp", mxCreateDoubleScalar(d->timestamp));
    mxSetField(s, 0, "format", mxCreateString(SharedMemoryImageStream_formatname(d->format)));
    mxSetField(s, 0, "width", mxCreateDoubleScalar(d->width));
    mxSetField(s, 0, "height", mxCreateDoubleScalar(d->height));
    mxSetField(s, 0, "depth", mxCreateDoubleScalar(d->depth ? d->depth : 1));
    mxSetField(s, 0, "spacing", smi_vec3(d->spacing));
    mxSetField(s, 0, "origin", smi_vec3(d->origin));
    mxSetField(s, 0, "lost", mxCreateDoubleScalar((double)lost));
    return s;
}

/* The struct of smi_info from a SharedMemoryStreamInfo. */
static mxArray *smi_stream_info(const char *path, const SharedMemoryStreamInfo *in)
{
    static const char *fields[] = {"path", "layout", "version", "file_size", "server_alive",
                                   "clients", "max_clients", "buffer_count", "buffer_size",
                                   "last_frame", "server_generation", "buffers"};
    static const char *bfields[] = {"state", "format", "frame", "width", "height",
                                    "depth", "holders", "sequence", "timestamp"};
    mxArray *s = mxCreateStructMatrix(1, 1, 12, fields);
    const char *layout = in->layout == IMAGESTREAM_LAYOUT_EXTENDED ? "extended"
                       : in->layout == IMAGESTREAM_LAYOUT_ENSIGHT  ? "ensight" : "unknown";
    mxSetField(s, 0, "path", mxCreateString(path));
    mxSetField(s, 0, "layout", mxCreateString(layout));
    mxSetField(s, 0, "version", mxCreateDoubleScalar(in->version));
    mxSetField(s, 0, "file_size", mxCreateDoubleScalar((double)in->file_size));
    mxSetField(s, 0, "server_alive", mxCreateLogicalScalar(in->server_alive != 0));
    mxSetField(s, 0, "clients", mxCreateDoubleScalar(in->clients));
    mxSetField(s, 0, "max_clients", mxCreateDoubleScalar(in->max_clients));
    mxSetField(s, 0, "buffer_count", mxCreateDoubleScalar(in->buffer_count));
    mxSetField(s, 0, "buffer_size", mxCreateDoubleScalar((double)in->buffer_size));
    mxSetField(s, 0, "last_frame", mxCreateDoubleScalar(in->last_frame));
    mxSetField(s, 0, "server_generation", mxCreateDoubleScalar(in->server_generation));
    uint32_t n = in->buffer_count < IMAGESTREAM_MAX_BUFFERS ? in->buffer_count
                                                            : IMAGESTREAM_MAX_BUFFERS;
    mxArray *b = mxCreateStructMatrix(1, n, 9, bfields);
    for (uint32_t i = 0; i < n; i++) {
        const SharedMemoryBufferInfo *bi = &in->buffers[i];
        mxSetField(b, i, "state", mxCreateDoubleScalar(bi->state));
        mxSetField(b, i, "format", mxCreateString(SharedMemoryImageStream_formatname(bi->format)));
        mxSetField(b, i, "frame", mxCreateDoubleScalar(bi->frame));
        mxSetField(b, i, "width", mxCreateDoubleScalar(bi->width));
        mxSetField(b, i, "height", mxCreateDoubleScalar(bi->height));
        mxSetField(b, i, "depth", mxCreateDoubleScalar(bi->depth));
        mxSetField(b, i, "holders", mxCreateDoubleScalar(bi->holders));
        mxSetField(b, i, "sequence", mxCreateDoubleScalar((double)bi->sequence));
        mxSetField(b, i, "timestamp", mxCreateDoubleScalar(bi->timestamp));
    }
    mxSetField(s, 0, "buffers", b);
    return s;
}

/* ---- commands ----------------------------------------------------------- */

/* id = smi_mex('open', path, anyfile, queue): queue 0 reads the newest
   frame, 1 every frame in order (IMAGESTREAM_OPTIONS_QUEUE), 2 never
   overrun (IMAGESTREAM_OPTIONS_RELIABLE). */
static void smi_cmd_open(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    (void)nlhs;
    if (nrhs < 2)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('open', path[, anyfile[, queue]])");
    char *path = smi_string(prhs[1], "the stream file");
    uint32_t options = IMAGESTREAM_OPTIONS_ANYFORMAT;
    if (nrhs > 2 && smi_scalar(prhs[2], "AnyFile") != 0)
        options |= IMAGESTREAM_OPTIONS_ANYFILE;
    double queue = nrhs > 3 ? smi_scalar(prhs[3], "the queue mode") : 0;
    if (queue == 2)
        options |= IMAGESTREAM_OPTIONS_RELIABLE;
    else if (queue == 1)
        options |= IMAGESTREAM_OPTIONS_QUEUE;
    else if (queue != 0)
        mexErrMsgIdAndTxt("smi:usage", "smi_mex('open'): the queue mode is 0, 1 or 2");
    int index = smi_slot_free();
    SharedMemoryImageStream stream = NULL;
    int rc = SharedMemoryImageStream_create(path, options, &stream);
    if (rc < IMAGESTREAM_NOERROR)
        smi_fail("smi_open", path, rc);
    smi_slot_t *slot = &smi_slots[index];
    slot->stream = stream;
    slot->options = options;
    slot->path = strdup(path);
    plhs[0] = mxCreateNumericMatrix(1, 1, mxUINT64_CLASS, mxREAL);
    uint64_t h = smi_handle_of(index);
    memcpy(mxGetData(plhs[0]), &h, sizeof h);
    mxFree(path);
}

/* [img, info] = smi_mex('read', id, seconds, next): the newest frame this
   client has not read, or with `next` (a queue client: smi_next) the next
   one in publish order with the count of those it lost, waiting up to
   `seconds` (Inf: for ever) for one. */
static void smi_cmd_read(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    if (nrhs < 3)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('read', id, seconds[, next])");
    const int next = nrhs > 3 && smi_scalar(prhs[3], "next") != 0;
    const char *call = next ? "smi_next" : "smi_read";
    smi_slot_t *slot = smi_slot_open(prhs[1], call);
    if (slot->server)
        mexErrMsgIdAndTxt("smi:isServer", "%s %s: this handle publishes (smi_publish_open); "
                          "open a client with smi_open", call, slot->path);
    if (next && !(slot->options & (IMAGESTREAM_OPTIONS_QUEUE | IMAGESTREAM_OPTIONS_RELIABLE)))
        mexErrMsgIdAndTxt("smi:usage", "smi_next %s: this client reads the newest frame; open "
                          "it with smi_open(path, 'Queue', true) to read every frame in order",
                          slot->path);
    double timeout = smi_scalar(prhs[2], "the timeout");
    if (isnan(timeout) || timeout < 0)
        mexErrMsgIdAndTxt("smi:usage", "%s: the timeout must be seconds >= 0 or Inf", call);
    const int forever = isinf(timeout);
    const double deadline = smi_now() + (forever ? 0 : timeout);
    SharedMemoryFrame frame = NULL;
    uint64_t lost = 0; /* (summed: a skipped frame's count comes with the next one) */
    for (;;) {
        uint64_t gap = 0;
        int rc = next ? SharedMemoryImageStream_next(slot->stream, &frame, &gap)
                      : SharedMemoryImageStream_lock(slot->stream, &frame);
        lost += gap;
        if (rc == IMAGESTREAM_NOERROR)
            break;
        if (rc == IMAGESTREAM_BAD_ARGS && next)
            mexErrMsgIdAndTxt("smi:badFile", "smi_next %s: an EnSight-layout stream holds one "
                              "frame at a time, no queue to read in order: use smi_read",
                              slot->path);
        if (rc < IMAGESTREAM_NOERROR)
            smi_fail(call, slot->path, rc);
        /* NO_FRAMEAVAILABLE (or a skipped frame): wait a slice for one. */
        int32_t slice = SMI_WAIT_SLICE_MS;
        if (!forever) {
            double left = deadline - smi_now();
            if (left <= 0)
                mexErrMsgIdAndTxt("smi:timeout", "%s %s: no new frame within %g s", call,
                                  slot->path, timeout);
            if (left * 1000.0 < SMI_WAIT_SLICE_MS)
                slice = (int32_t)ceil(left * 1000.0);
        }
        rc = SharedMemoryImageStream_wait(slot->stream, slice);
        if (rc < IMAGESTREAM_NOERROR)
            smi_fail(call, slot->path, rc);
        if (smi_interrupt_pending())
            smi_interrupt();
    }
    /* Locked: copy out through the library, then unlock before anything
       that may raise. */
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    int rc = SharedMemoryImageStream_describe(slot->stream, &desc);
    const SharedMemoryImageFormatInfo *fi = SharedMemoryImageStream_formatinfo(desc.format);
    const uint32_t number = frame->iFrame;
    const size_t depth = desc.depth ? desc.depth : 1;
    size_t bytes = 0;
    if (rc == IMAGESTREAM_NOERROR && fi)
        bytes = (size_t)desc.width * desc.height * depth * fi->channels * fi->bytes_per_channel;
    void *copy = NULL;
    if (rc == IMAGESTREAM_NOERROR && fi && smi_class_of(fi) != mxUNKNOWN_CLASS) {
        copy = bytes <= slot->scratch_bytes ? slot->scratch : NULL;
        if (!copy) {
            free(slot->scratch);
            slot->scratch = NULL;
            slot->scratch_bytes = 0;
            copy = malloc(bytes ? bytes : 1);
            if (copy) {
                slot->scratch = copy;
                slot->scratch_bytes = bytes;
            } else {
                rc = IMAGESTREAM_MEMORY_ALLOC_ERROR;
            }
        }
        if (copy)
            rc = SharedMemoryImageStream_copyframe(slot->stream, copy, bytes, 0);
    } else if (rc == IMAGESTREAM_NOERROR) {
        rc = IMAGESTREAM_BAD_FORMAT; /* a format this gateway has no class for */
    }
    int urc = SharedMemoryImageStream_unlock(slot->stream);
    if (rc < IMAGESTREAM_NOERROR)
        smi_fail(call, slot->path, rc);
    if (urc < IMAGESTREAM_NOERROR)
        smi_fail(call, slot->path, urc);

    mwSize dims[4];
    mwSize nd = smi_dims(dims, desc.width, desc.height, depth, fi->channels);
    plhs[0] = mxCreateUninitNumericArray(nd, dims, smi_class_of(fi), mxREAL);
    smi_transpose(1, copy, mxGetData(plhs[0]), fi->bytes_per_channel, desc.width, desc.height,
                  depth, fi->channels);
    if (nlhs > 1)
        plhs[1] = smi_frame_info(number, &desc, lost);
}

/* smi_mex('close', id): true when a stream was closed. */
static void smi_cmd_close(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    (void)nlhs;
    if (nrhs < 2)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('close', id)");
    smi_slot_t *slot = smi_slot_of(prhs[1]);
    if (slot)
        smi_slot_close(slot);
    plhs[0] = mxCreateLogicalScalar(slot != NULL);
}

/* info = smi_mex('info', path_or_id) */
static void smi_cmd_info(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    (void)nlhs;
    if (nrhs < 2)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('info', path_or_id)");
    SharedMemoryStreamInfo info;
    memset(&info, 0, sizeof info);
    if (mxIsChar(prhs[1])) {
        char *path = smi_string(prhs[1], "the stream file");
        int rc = SharedMemoryImageStream_inspect(path, &info);
        if (rc < IMAGESTREAM_NOERROR)
            smi_fail("smi_info", path, rc);
        plhs[0] = smi_stream_info(path, &info);
        mxFree(path);
    } else {
        smi_slot_t *slot = smi_slot_open(prhs[1], "smi_info");
        int rc = SharedMemoryImageStream_info(slot->stream, &info);
        if (rc < IMAGESTREAM_NOERROR)
            smi_fail("smi_info", slot->path, rc);
        plhs[0] = smi_stream_info(slot->path, &info);
    }
}

/* The format and size of a frame array `img` (h x w, h x w x c,
   h x w x d, h x w x d x c) into *desc and *info: the format named by
   `format` (a string; empty: from the array's class and shape: h x w x 3
   or x 4 of a class with a 3- or 4-channel format is color, else gray).
   Raises smi:usage or smi:badFormat for arrays no format takes. */
static void smi_array_desc(const char *call, const mxArray *img, const mxArray *format,
                           SharedMemoryImageDesc *desc, const SharedMemoryImageFormatInfo **info)
{
    if (!mxIsNumeric(img) || mxIsComplex(img) || mxIsSparse(img) || mxIsEmpty(img))
        mexErrMsgIdAndTxt("smi:usage", "%s: the image must be a real, non-empty, full numeric array",
                          call);
    const mxClassID cls = mxGetClassID(img);
    const size_t nd = (size_t)mxGetNumberOfDimensions(img);
    const mwSize *mdims = mxGetDimensions(img);
    size_t dims[4] = {1, 1, 1, 1};
    if (nd > 4)
        mexErrMsgIdAndTxt("smi:badFormat", "%s: a frame has at most 4 dimensions "
                                           "(h x w x d x channels)", call);
    for (size_t i = 0; i < nd; i++)
        dims[i] = (size_t)mdims[i];
    const SharedMemoryImageFormatInfo *fi = NULL;
    char *fname = smi_string(format, "the format");
    if (fname[0]) {
        fi = smi_format_named(fname);
        if (!fi)
            mexErrMsgIdAndTxt("smi:badFormat", "%s: unknown pixel format '%s'", call, fname);
        if (smi_class_of(fi) != cls)
            mexErrMsgIdAndTxt("smi:badFormat", "%s: format %s takes %s arrays, not %s", call,
                              fname, smi_class_name(smi_class_of(fi)), mxGetClassName(img));
    } else {
        size_t c = nd == 3 || nd == 4 ? dims[nd - 1] : 1;
        fi = c > 1 ? smi_format_for(cls, c) : NULL;
        if (!fi)
            fi = smi_format_for(cls, 1);
        if (!fi)
            mexErrMsgIdAndTxt("smi:badFormat",
                              "%s: no pixel format takes %s arrays (uint8: gray8, rgb8, rgba8; "
                              "uint16: gray16; single: float32; int16, int32, uint32: the "
                              "format of that name; double: float64)",
                              call, mxGetClassName(img));
    }
    mxFree(fname);
    size_t h = dims[0], w = dims[1], d = 1, c = fi->channels;
    if (c == 1) {
        if (nd > 3)
            mexErrMsgIdAndTxt("smi:badFormat", "%s: a %s frame is h x w or h x w x d", call,
                              fi->name);
        d = dims[2];
    } else if (nd == 3 && dims[2] == c) {
        d = 1;
    } else if (nd == 4 && dims[3] == c) {
        d = dims[2];
    } else {
        mexErrMsgIdAndTxt("smi:badFormat", "%s: a %s frame is h x w x %zu or h x w x d x %zu",
                          call, fi->name, c, c);
    }
    if (w > UINT32_MAX || h > UINT32_MAX || d > UINT32_MAX)
        mexErrMsgIdAndTxt("smi:badFormat", "%s: the frame is too large", call);
    desc->format = fi->format;
    desc->width = (uint32_t)w;
    desc->height = (uint32_t)h;
    desc->depth = (uint32_t)d;
    *info = fi;
}

/* (Re)create the server of `slot` on its file, sized for frames like `desc`.
   Returns a library code (negative: failed, the slot has no stream). */
static int smi_serve(smi_slot_t *slot, const SharedMemoryImageDesc *desc)
{
    if (slot->stream) {
        SharedMemoryImageStream_destroy(slot->stream);
        slot->stream = NULL;
    }
    /* (the library's one serve call: the layout's options come from `layout`) */
    SharedMemoryImageStream stream = NULL;
    int rc = SharedMemoryImageStream_serve(
        slot->path, slot->layout, desc,
        slot->options & ~(uint32_t)(IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED),
        &stream, &slot->capacity);
    if (rc < IMAGESTREAM_NOERROR)
        return rc;
    slot->stream = stream;
    return IMAGESTREAM_NOERROR;
}

/* id = smi_mex('serve', path, layout, anyfile, like, format): layout
   'extended' or 'ensight'; the file is sized for frames like array `like`
   (of format `format`, '' to infer it as smi_send does), or for 1920 x 1080
   RGB frames when `like` is empty (it grows at a larger frame while no
   client is attached). A file that is not a stream is refused. */
static void smi_cmd_serve(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    (void)nlhs;
    if (nrhs < 6)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('serve', path, layout, anyfile, like, format)");
    char *path = smi_string(prhs[1], "the stream file");
    char *layout = smi_string(prhs[2], "Layout");
    uint32_t lay = 0;
    uint32_t options = IMAGESTREAM_OPTIONS_SERVER;
    if (strcmp(layout, "extended") == 0) {
        lay = IMAGESTREAM_LAYOUT_EXTENDED;
        options |= IMAGESTREAM_OPTIONS_EXTENDED;
    } else if (strcmp(layout, "ensight") == 0) {
        lay = IMAGESTREAM_LAYOUT_ENSIGHT;
    } else {
        mexErrMsgIdAndTxt("smi:usage", "Layout must be 'extended' or 'ensight', not '%s'", layout);
    }
    if (smi_scalar(prhs[3], "AnyFile") != 0)
        options |= IMAGESTREAM_OPTIONS_ANYFILE;
    /* A file that holds anything but a stream (someone's data, a typo in
       the path) is refused and left as it is. */
    SharedMemoryStreamInfo probe;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        int prc = SharedMemoryImageStream_inspect(path, &probe);
        if (prc == IMAGESTREAM_BAD_FILE_FORMAT || prc == IMAGESTREAM_VERSION_MISMATCH)
            mexErrMsgIdAndTxt("smi:badFile", "smi_publish_open %s: %s (%s); not served, the file "
                              "is left as it is", path, SharedMemoryImageStream_errorstring(prc),
                              SharedMemoryImageStream_errorname(prc));
    }
    /* A new file holds two full HD RGB frames unless `like` says otherwise
       (an existing larger file keeps its size). */
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    desc.format = IMAGESTREAM_FORMAT_RGB8;
    desc.width = 1920;
    desc.height = 1080;
    desc.depth = 1;
    if (!mxIsEmpty(prhs[4])) {
        const SharedMemoryImageFormatInfo *fi = NULL;
        smi_array_desc("smi_publish_open", prhs[4], prhs[5], &desc, &fi);
    }
    int index = smi_slot_free();
    smi_slot_t *slot = &smi_slots[index];
    slot->server = 1;
    slot->layout = lay;
    slot->options = options;
    slot->path = strdup(path);
    int rc = slot->path ? smi_serve(slot, &desc) : IMAGESTREAM_MEMORY_ALLOC_ERROR;
    if (rc < IMAGESTREAM_NOERROR) {
        smi_slot_close(slot);
        smi_fail("smi_publish_open", path, rc);
    }
    plhs[0] = mxCreateNumericMatrix(1, 1, mxUINT64_CLASS, mxREAL);
    uint64_t h = smi_handle_of(index);
    memcpy(mxGetData(plhs[0]), &h, sizeof h);
    mxFree(path);
    mxFree(layout);
}

/* A 1x3 double vector argument into v, or `fallback` when empty. */
static void smi_arg_vec3(const mxArray *arg, const char *what, double fallback, double v[3])
{
    if (mxIsEmpty(arg)) {
        v[0] = v[1] = v[2] = fallback;
        return;
    }
    if (!mxIsDouble(arg) || mxIsComplex(arg) || mxGetNumberOfElements(arg) != 3)
        mexErrMsgIdAndTxt("smi:usage", "%s must be 3 numbers [x y z]", what);
    memcpy(v, mxGetPr(arg), 3 * sizeof(double));
}

/* [status, n] = smi_mex('send', id, img, format, number, timestamp, spacing, origin):
   status 'sent', 'unconnected' (extended: published, nobody reads yet;
   EnSight: dropped) or 'dropped'; n the frame's number when published. */
static void smi_cmd_send(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    if (nrhs < 8)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('send', id, img, format, number, "
                                       "timestamp, spacing, origin)");
    smi_slot_t *slot = smi_slot_open(prhs[1], "smi_send");
    if (!slot->server)
        mexErrMsgIdAndTxt("smi:notServer", "smi_send %s: this handle reads (smi_open); "
                          "publish with smi_publish_open", slot->path);
    const mxArray *img = prhs[2];
    const SharedMemoryImageFormatInfo *fi = NULL;
    SharedMemoryImageDesc desc = SMI_DESC_INIT;
    smi_array_desc("smi_send", img, prhs[3], &desc, &fi);
    const size_t w = desc.width, h = desc.height, d = desc.depth, c = fi->channels;
    uint32_t number = smi_u32(prhs[4], "the frame number");
    desc.timestamp = smi_scalar(prhs[5], "Timestamp");
    smi_arg_vec3(prhs[6], "Spacing", 1.0, desc.spacing);
    smi_arg_vec3(prhs[7], "Origin", 0.0, desc.origin);

    const size_t bytes = w * h * d * c * fi->bytes_per_channel;
    void *rows = smi_scratch(slot, bytes);
    smi_transpose(0, mxGetData(img), rows, fi->bytes_per_channel, w, h, d, c);
    if (bytes > slot->capacity) {
        /* Grow the file for this frame and serve it anew (a takeover of
           our own stream: attached clients go on, but keep the buffers
           at their size while they are attached). */
        int rc = smi_serve(slot, &desc);
        if (rc < IMAGESTREAM_NOERROR) {
            /* The handle has no server any more: close it, keep its path
               (mxMalloc'ed: freed with the error) for the message. */
            char *path = mxMalloc(strlen(slot->path) + 1);
            strcpy(path, slot->path);
            smi_slot_close(slot);
            smi_fail("smi_send", path, rc);
        }
    }
    if (bytes > slot->capacity)
        mexErrMsgIdAndTxt("smi:frameTooLarge",
                          "smi_send %s: a frame of %zu bytes does not fit the stream's buffers of "
                          "%llu bytes, and attached clients keep them from growing: size the "
                          "stream up front with smi_publish_open(path, 'Like', img)",
                          slot->path, bytes, (unsigned long long)slot->capacity);
    int rc = SharedMemoryImageStream_putframeformat(slot->stream, &desc, number, rows);
    if (rc < IMAGESTREAM_NOERROR)
        smi_fail("smi_send", slot->path, rc);
    const int published = rc == IMAGESTREAM_NOERROR ||
                          (rc == IMAGESTREAM_UNCONNECTED && slot->layout == IMAGESTREAM_LAYOUT_EXTENDED);
    plhs[0] = mxCreateString(rc == IMAGESTREAM_NOERROR ? "sent"
                             : rc == IMAGESTREAM_UNCONNECTED ? "unconnected" : "dropped");
    if (nlhs > 1) {
        double n = NAN;
        SharedMemoryStreamInfo info;
        if (published && SharedMemoryImageStream_info(slot->stream, &info) == IMAGESTREAM_NOERROR)
            n = info.last_frame;
        plhs[1] = mxCreateDoubleScalar(n);
    }
}

/* f = smi_mex('formats'): struct array name, channels, bytes, class. */
static void smi_cmd_formats(mxArray *plhs[])
{
    static const char *fields[] = {"name", "channels", "bytes_per_channel", "class"};
    mxArray *s = mxCreateStructMatrix(1, SMI_FORMAT_COUNT, 4, fields);
    for (size_t i = 0; i < SMI_FORMAT_COUNT; i++) {
        const SharedMemoryImageFormatInfo *f = SharedMemoryImageStream_formatinfo(smi_formats[i]);
        mxSetField(s, i, "name", mxCreateString(f->name));
        mxSetField(s, i, "channels", mxCreateDoubleScalar(f->channels));
        mxSetField(s, i, "bytes_per_channel", mxCreateDoubleScalar(f->bytes_per_channel));
        mxSetField(s, i, "class", mxCreateString(smi_class_name(smi_class_of(f))));
    }
    plhs[0] = s;
}

/* t = smi_mex('transpose_time', format, w, h, reps): seconds per frame of
   [row-major -> column-major, column-major -> row-major, memcpy], the
   fastest of `reps` rounds (the three interleaved), warm buffers. */
static void smi_cmd_transpose_time(mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    if (nrhs < 5)
        mexErrMsgIdAndTxt("smi:usage", "usage: smi_mex('transpose_time', format, w, h, reps)");
    char *fname = smi_string(prhs[1], "the format");
    const SharedMemoryImageFormatInfo *fi = smi_format_named(fname);
    mxFree(fname);
    if (!fi)
        mexErrMsgIdAndTxt("smi:badFormat", "unknown pixel format");
    size_t w = smi_u32(prhs[2], "width"), h = smi_u32(prhs[3], "height");
    uint32_t reps = smi_u32(prhs[4], "reps");
    size_t bytes = w * h * fi->channels * fi->bytes_per_channel;
    uint8_t *a = mxMalloc(bytes), *b = mxMalloc(bytes);
    for (size_t i = 0; i < bytes; i++)
        a[i] = (uint8_t)(i * 7);
    memset(b, 0, bytes);
    double t[3] = {0, 0, 0};
    for (uint32_t r = 0; r < reps; r++)
        for (int kind = 0; kind < 3; kind++) {
            double t0 = smi_now();
            if (kind == 2)
                memcpy(b, a, bytes);
            else
                smi_transpose(kind == 0, a, b, fi->bytes_per_channel, w, h, 1, fi->channels);
            SMI_KEEP(b);
            double dt = smi_now() - t0;
            if (r == 0 || dt < t[kind])
                t[kind] = dt;
        }
    mxFree(a);
    mxFree(b);
    plhs[0] = mxCreateDoubleMatrix(1, 3, mxREAL);
    memcpy(mxGetPr(plhs[0]), t, sizeof t);
}

/* The one symbol the .mex exports (the build hides the others). */
#if defined(__GNUC__)
#define SMI_MEX_EXPORT __attribute__((visibility("default")))
#else
#define SMI_MEX_EXPORT
#endif

/** The MEX entry point: smi_mex(command, ...); see the top of this file. */
SMI_MEX_EXPORT void mexFunction(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    if (smi_generation == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t g = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 32);
        g = (g * 0x9E3779B97F4A7C15ull) >> 17; /* 47 bits, never 0 */
        smi_generation = g ? g : 1;
        mexAtExit(smi_at_exit);
    }
    if (nrhs < 1 || !mxIsChar(prhs[0]))
        mexErrMsgIdAndTxt("smi:usage", "smi_mex is the gateway of smi_open, smi_read, smi_next, "
                                       "smi_info, smi_close, smi_publish_open and smi_send: "
                                       "call those");
    char cmd[32];
    if (mxGetString(prhs[0], cmd, sizeof cmd) != 0)
        cmd[0] = '\0';
    if (strcmp(cmd, "open") == 0)
        smi_cmd_open(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "read") == 0)
        smi_cmd_read(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "close") == 0)
        smi_cmd_close(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "isopen") == 0)
        plhs[0] = mxCreateLogicalScalar(nrhs > 1 && smi_slot_of(prhs[1]) != NULL);
    else if (strcmp(cmd, "info") == 0)
        smi_cmd_info(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "serve") == 0)
        smi_cmd_serve(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "send") == 0)
        smi_cmd_send(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "formats") == 0)
        smi_cmd_formats(plhs);
    else if (strcmp(cmd, "version") == 0)
        plhs[0] = mxCreateString(SharedMemoryImageStream_version(NULL));
    else if (strcmp(cmd, "transpose_time") == 0)
        smi_cmd_transpose_time(plhs, nrhs, prhs);
    else
        mexErrMsgIdAndTxt("smi:usage", "smi_mex: unknown command '%s'", cmd);
}
