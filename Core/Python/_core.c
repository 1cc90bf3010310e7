/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * _core.c -- shared_memory_image._core, the C half of the shared_memory_image
 * package: thin wrappers of the library calls (shared_memory_image.h), the
 * buffer protocol and the per-stream locking. Every policy (argument
 * checking and inference, shapes and dtypes, dictionaries, aliases, the
 * documentation users read) is in the package's __init__.py.
 *
 * Memory safety, modelled on CPython's Modules/mmapmodule.c:
 *  - A Frame exposes the locked (client) or acquired (server) buffer through
 *    the buffer protocol, without a copy, and counts its exports (+1 in
 *    getbuffer, -1 in releasebuffer).
 *  - Unlocking, publishing and closing refuse with BufferError while exports
 *    remain; the frame then stays locked, so no view ever sees a buffer the
 *    server may reuse.
 *  - Once unlocked or published a Frame is invalid: asking it for its buffer
 *    raises ValueError.
 *  - Copies made with the GIL released (_copy_into(), tobytes()) count as an
 *    export for their duration, so another thread cannot unlock or close
 *    underneath them.
 *
 * Threads: a stream handle of the library is not thread-safe, so every call
 * on it is made under the object's own PyThread lock. Blocking calls release
 * the GIL, and _wait() sleeps in slices of at most SMI_WAIT_SLICE_MS, checking
 * for signals in between, so Ctrl-C interrupts it.
 *
 * Heap types and multi-phase init; the module state holds the types and the
 * exception class the package registers (set_error_class()).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <structmember.h>

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "shared_memory_image.h"

#if PY_VERSION_HEX < 0x030B0000
#error "shared_memory_image._core needs Python 3.11 or later (PyType_GetModuleByDef)"
#endif

#ifndef SMI_VERSION
#define SMI_VERSION "unknown"
#endif

/* Longest sleep inside the C library between two checks for signals. */
#define SMI_WAIT_SLICE_MS 50
/* Copies larger than this release the GIL. */
#define SMI_NOGIL_COPY_BYTES (64 * 1024)

typedef struct {
    PyTypeObject *stream_type;
    PyTypeObject *frame_type;
    PyObject *error_class; /* the package's Error; NULL until set_error_class() */
} smi_state;

static struct PyModuleDef smi_module;

static smi_state *smi_state_of_type(PyTypeObject *type)
{
    PyObject *m = PyType_GetModuleByDef(type, &smi_module);
    return m ? (smi_state *)PyModule_GetState(m) : NULL;
}

static double smi_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Raise Error(code, "<what>: <message>") (RuntimeError before the package
   registered its class); returns NULL. */
static PyObject *smi_raise_v(smi_state *st, int code, const char *message, const char *what_fmt,
                             va_list va)
{
    PyObject *what = PyUnicode_FromFormatV(what_fmt, va);
    if (!what)
        return NULL;
    PyObject *msg = PyUnicode_FromFormat("%U: %s", what, message);
    Py_DECREF(what);
    if (!msg)
        return NULL;
    PyObject *cls = st && st->error_class ? st->error_class : PyExc_RuntimeError;
    PyObject *exc = PyObject_CallFunction(cls, "iO", code, msg);
    Py_DECREF(msg);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* Raise Error(code, "<what>: <library string>"); returns NULL. */
static PyObject *smi_raise(smi_state *st, int code, const char *what_fmt, ...)
{
    va_list va;
    va_start(va, what_fmt);
    smi_raise_v(st, code, SharedMemoryImageStream_errorstring(code), what_fmt, va);
    va_end(va);
    return NULL;
}

/* How this module's users ask for IMAGESTREAM_OPTIONS_ANYFILE. */
#define SMI_OPTIN "any_file=True"

/* Raise Error(code, "<what>: <the library's message for opening `path` with
   `options`>"): SharedMemoryImageStream_openerrorstring(), what the path is
   and what to do; returns NULL. */
static PyObject *smi_raise_open(smi_state *st, int code, const char *path, uint32_t options,
                                const char *what_fmt, ...)
{
    char text[1400];
    SharedMemoryImageStream_openerrorstring(path, options, code, SMI_OPTIN, text, sizeof text);
    va_list va;
    va_start(va, what_fmt);
    smi_raise_v(st, code, text, what_fmt, va);
    va_end(va);
    return NULL;
}

/* As smi_raise_open() for a client that could not attach, the exception's
   `situation` attribute set to the attach policy's IMAGESTREAM_SITUATION_*. */
static PyObject *smi_raise_attach(smi_state *st, int code, uint32_t situation, const char *path,
                                  uint32_t options, PyObject *shown)
{
    smi_raise_open(st, code, path, options, "cannot open %R as a client", shown);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *sit = PyLong_FromUnsignedLong(situation);
    if (!sit || !value || PyObject_SetAttrString(value, "situation", sit) < 0) {
        Py_XDECREF(sit);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return NULL;
    }
    Py_DECREF(sit);
    PyErr_Restore(type, value, tb);
    return NULL;
}

/* ---- Objects ---------------------------------------------------------------- */

typedef struct FrameObject FrameObject;

typedef struct {
    PyObject_HEAD
    SharedMemoryImageStream stream; /* NULL once closed */
    PyThread_type_lock mutex;       /* serializes calls on `stream` */
    PyObject *path;                 /* str, for messages */
    PyObject *pathb;                /* bytes, as the library takes it */
    PyTypeObject *frame_class;      /* what _lock() and _acquire() make */
    int is_server;
    uint32_t options;
    int open_code;                  /* what create() answered: NOERROR or RECONNECTING */
    int last_code;                  /* server: code of the last send/acquire/publish */
    int pending;                    /* server: a frame is acquired and not yet published */
    FrameObject *frame;             /* borrowed: the live Frame locked/acquired, or NULL */
    unsigned long long lost;        /* queue client: frames lost in all (next()) */
    int acquire_waits;              /* server: acquire may wait (setacquiretimeout) */
    SharedMemoryStreamStatus status; /* client: the attach policy's (attach(), refresh()) */
} StreamObject;

struct FrameObject {
    PyObject_HEAD
    StreamObject *owner;      /* strong: keeps the mapping alive */
    SharedMemoryFrame cframe; /* the library's frame (server: iFrame may be set) */
    uint8_t *data;
    Py_ssize_t nbytes;
    Py_ssize_t exports;       /* live buffer exports (and copies in progress) */
    int valid;                /* 1 while locked (client) or acquired (server) */
    int writable;             /* server frames */
    uint32_t number, width, height, depth, format;
    unsigned long long lost;  /* queue client: frames lost just before this one */
    double timestamp, spacing[3], origin[3];
    int ndim;
    Py_ssize_t itemsize;
    const char *fmt;          /* struct format of one item */
    uint32_t flags;           /* IMAGESTREAM_FRAME_* of a locked frame */
    Py_ssize_t start;         /* bytes from data to the first item of the view
                                 (a bottom-up frame's top row: its last stored row) */
    Py_ssize_t shape[4], strides[4];
    Py_ssize_t one;           /* 1: the stride of the flat byte view */
};

static void stream_mutex_lock(StreamObject *s)
{
    if (!PyThread_acquire_lock(s->mutex, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(s->mutex, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

static void stream_mutex_unlock(StreamObject *s)
{
    PyThread_release_lock(s->mutex);
}

/* Lock the mutex of an open stream; 0, or -1 with ValueError when closed. */
static int stream_enter(StreamObject *s)
{
    if (s->stream) {
        stream_mutex_lock(s);
        if (s->stream)
            return 0;
        stream_mutex_unlock(s);
    }
    PyErr_Format(PyExc_ValueError, "I/O operation on a closed %s (%R)",
                 s->is_server ? "Server" : "Client", s->path ? s->path : Py_None);
    return -1;
}

static smi_state *stream_state(StreamObject *s)
{
    return smi_state_of_type(Py_TYPE(s));
}

/* ---- Frame ------------------------------------------------------------------ */

/* The struct code of a format's items (as the buffer protocol and numpy
   read it): "B", "H", "h", "i", "I", "f" or "d", for the library's (kind,
   bytes per channel); "B" for anything else. Little-endian, as the stream
   stores them: native on little-endian hosts, '<' elsewhere. */
static const char *smi_item_code(uint32_t kind, uint32_t bytes)
{
#if PY_BIG_ENDIAN
#define SMI_LE "<"
#else
#define SMI_LE ""
#endif
    static const struct {
        uint32_t kind, bytes;
        const char *code;
    } codes[] = {
        {IMAGESTREAM_KIND_UINT, 2, SMI_LE "H"}, {IMAGESTREAM_KIND_UINT, 4, SMI_LE "I"},
        {IMAGESTREAM_KIND_INT, 2, SMI_LE "h"},  {IMAGESTREAM_KIND_INT, 4, SMI_LE "i"},
        {IMAGESTREAM_KIND_FLOAT, 4, SMI_LE "f"}, {IMAGESTREAM_KIND_FLOAT, 8, SMI_LE "d"},
    };
#undef SMI_LE
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].kind == kind && codes[i].bytes == bytes)
            return codes[i].code;
    return "B";
}

/* Shape, strides and item type of the buffer, from the library's format table. */
static void frame_set_geometry(FrameObject *f, const SharedMemoryImageDesc *d)
{
    const SharedMemoryImageFormatInfo *info = SharedMemoryImageStream_formatinfo(d->format);
    uint32_t channels = info ? info->channels : 1;
    uint32_t bytes = info ? info->bytes_per_channel : 1;
    f->itemsize = bytes;
    f->fmt = smi_item_code(info ? info->kind : IMAGESTREAM_KIND_UINT, bytes);
    f->format = d->format;
    f->width = d->width;
    f->height = d->height;
    f->depth = d->depth ? d->depth : 1;
    f->timestamp = d->timestamp;
    memcpy(f->spacing, d->spacing, sizeof f->spacing);
    memcpy(f->origin, d->origin, sizeof f->origin);
    int n = 0;
    if (f->depth > 1)
        f->shape[n++] = f->depth;
    f->shape[n++] = f->height;
    f->shape[n++] = f->width;
    if (channels > 1)
        f->shape[n++] = channels;
    f->ndim = n;
    Py_ssize_t stride = f->itemsize;
    for (int i = n - 1; i >= 0; i--) {
        f->strides[i] = stride;
        stride *= f->shape[i];
    }
    f->nbytes = stride;
    /* A frame stored bottom row first is viewed upright: from its last
       stored row, a negative row stride (in each slice). */
    f->start = 0;
    if (f->flags & IMAGESTREAM_FRAME_BOTTOMUP) {
        int y = f->depth > 1 ? 1 : 0; /* the axis of rows */
        f->start = (f->shape[y] - 1) * f->strides[y];
        f->strides[y] = -f->strides[y];
    }
}

static FrameObject *frame_new(StreamObject *owner)
{
    PyTypeObject *type = owner->frame_class;
    FrameObject *f = (FrameObject *)type->tp_alloc(type, 0); /* zeroed */
    if (!f)
        return NULL;
    f->owner = (StreamObject *)Py_NewRef(owner);
    f->writable = owner->is_server;
    f->itemsize = 1;
    f->fmt = "B";
    f->one = 1;
    return f;
}

static int frame_check_valid(FrameObject *f)
{
    if (f->valid)
        return 0;
    PyErr_SetString(PyExc_ValueError,
                    f->writable ? "the frame was published (or its server closed): its buffer "
                                  "belongs to the clients now"
                                : "the frame is unlocked (or its client closed): its buffer may "
                                  "already hold another frame");
    return -1;
}

static int frame_check_no_exports(FrameObject *f, const char *what)
{
    if (f->exports == 0)
        return 0;
    PyErr_Format(PyExc_BufferError,
                 "cannot %s: %zd view(s) of the frame's buffer (numpy arrays, memoryviews) "
                 "still exist; delete them (del array) or copy what you need first",
                 what, f->exports);
    return -1;
}

/* Client: unlock f (already checked: valid, no exports). */
static int client_unlock_frame(FrameObject *f)
{
    StreamObject *s = f->owner;
    f->valid = 0;
    if (s->frame == f)
        s->frame = NULL;
    if (!s->stream)
        return 0;
    stream_mutex_lock(s);
    int rc = s->stream ? SharedMemoryImageStream_unlock(s->stream) : IMAGESTREAM_NOERROR;
    stream_mutex_unlock(s);
    if (rc < 0) {
        smi_raise(stream_state(s), rc, "unlock %R", s->path);
        return -1;
    }
    return 0;
}

static int Frame_traverse(FrameObject *f, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(f));
    Py_VISIT(f->owner);
    return 0;
}

static void Frame_dealloc(FrameObject *f)
{
    /* exports hold references, so none are left here. */
    PyTypeObject *tp = Py_TYPE(f);
    PyObject_GC_UnTrack(f);
    StreamObject *s = f->owner;
    if (f->valid && s && !f->writable) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (client_unlock_frame(f) < 0) {
            /* Never hand f itself to the hook: its refcount is 0, and the
               reference the hook takes and drops would free it a second time
               (a crash). Its stream is alive: f->owner still holds it. */
#if PY_VERSION_HEX >= 0x030D0000
            PyErr_FormatUnraisable("Exception ignored while unlocking frame #%lu of %R "
                                   "(deleted while locked)",
                                   (unsigned long)f->number, s->path);
#else
            PyErr_WriteUnraisable((PyObject *)s);
#endif
        }
        PyErr_Restore(et, ev, tb);
    }
    /* An acquired, never published frame stays acquired: Server.publish()
       still publishes it and close() gives it back. */
    if (s && s->frame == f)
        s->frame = NULL;
    Py_CLEAR(f->owner);
    tp->tp_free((PyObject *)f);
    Py_DECREF(tp);
}

static int Frame_getbuffer(FrameObject *f, Py_buffer *view, int flags)
{
    view->obj = NULL;
    if (frame_check_valid(f) < 0)
        return -1;
    if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE && !f->writable) {
        PyErr_SetString(PyExc_BufferError,
                        "a locked frame is read-only (clients map the pixels read-only)");
        return -1;
    }
    /* Typed (items of the frame's format, its shape) when the consumer asks for
       the format, or when items are bytes anyway; otherwise plain bytes. */
    int want_format = (flags & PyBUF_FORMAT) == PyBUF_FORMAT;
    int typed = want_format || f->itemsize == 1;
    if (f->start != 0 && !(typed && (flags & PyBUF_STRIDES) == PyBUF_STRIDES)) {
        PyErr_SetString(PyExc_BufferError,
                        "the frame is stored bottom row first: its upright view has a negative "
                        "row stride (numpy.asarray(frame) and memoryview(frame) take it); "
                        "frame.tobytes() and frame.copy() give the pixels top row first");
        return -1;
    }
    view->buf = f->data + f->start;
    view->obj = Py_NewRef(f);
    view->len = f->nbytes;
    view->readonly = !f->writable;
    view->itemsize = typed ? f->itemsize : 1;
    view->format = want_format ? (char *)f->fmt : NULL;
    view->ndim = typed ? f->ndim : 1;
    view->shape = NULL;
    view->strides = NULL;
    if ((flags & PyBUF_ND) == PyBUF_ND)
        view->shape = typed ? f->shape : &f->nbytes;
    else
        view->ndim = 1;
    if ((flags & PyBUF_STRIDES) == PyBUF_STRIDES)
        view->strides = typed && view->shape ? f->strides : &f->one;
    view->suboffsets = NULL;
    view->internal = NULL;
    f->exports++;
    return 0;
}

static void Frame_releasebuffer(FrameObject *f, Py_buffer *view)
{
    (void)view;
    f->exports--;
}

/* Copy the frame's bytes to dst: a client frame through the library's
   copyframe (which first checks that the file was not truncated under the
   mapping: Error BAD_FILE_SIZE, not SIGBUS), an acquired one with memcpy. The
   GIL is released for large frames; the frame counts as exported meanwhile,
   so no thread can unlock or close it, and the stream's lock is held. */
static int frame_copy_out(FrameObject *f, void *dst)
{
    if (frame_check_valid(f) < 0)
        return -1;
    StreamObject *s = f->owner;
    int rc = IMAGESTREAM_NOERROR;
    f->exports++;
    stream_mutex_lock(s);
    int nogil = f->nbytes >= SMI_NOGIL_COPY_BYTES;
    PyThreadState *ts = nogil ? PyEval_SaveThread() : NULL;
    if (f->writable)
        memcpy(dst, f->data, (size_t)f->nbytes);
    else
        rc = SharedMemoryImageStream_copyframe(s->stream, dst, (uint64_t)f->nbytes, 0);
    if (ts)
        PyEval_RestoreThread(ts);
    stream_mutex_unlock(s);
    f->exports--;
    if (rc < 0) {
        smi_raise(stream_state(s), rc, "cannot copy frame %u of %R", f->number, s->path);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(Frame_copy_into_doc,
"_copy_into($self, buffer, /)\n--\n\n"
"Copy the pixels into a writable, C-contiguous buffer of exactly nbytes.");

static PyObject *Frame_copy_into(FrameObject *f, PyObject *arg)
{
    Py_buffer dst;
    if (PyObject_GetBuffer(arg, &dst, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    int r = -1;
    if (dst.len != f->nbytes)
        PyErr_Format(PyExc_ValueError, "the buffer holds %zd bytes, the frame %zd", dst.len,
                     f->nbytes);
    else
        r = frame_copy_out(f, dst.buf);
    PyBuffer_Release(&dst);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Frame_tobytes_doc,
"tobytes($self, /)\n--\n\n"
"A copy of the pixels as bytes (row-major, top row first; little-endian\n"
"items). Works without numpy.");

static PyObject *Frame_tobytes(FrameObject *f, PyObject *unused)
{
    (void)unused;
    if (frame_check_valid(f) < 0)
        return NULL;
    PyObject *b = PyBytes_FromStringAndSize(NULL, f->nbytes);
    if (b && frame_copy_out(f, PyBytes_AS_STRING(b)) < 0)
        Py_CLEAR(b);
    return b;
}

PyDoc_STRVAR(Frame_unlock_doc,
"_unlock($self, /)\n--\n\n"
"Client: give the frame back (nothing when already unlocked); BufferError\n"
"while views of it exist.");

static PyObject *Frame_unlock(FrameObject *f, PyObject *unused)
{
    (void)unused;
    if (f->writable) {
        PyErr_SetString(PyExc_TypeError, "an acquired frame is published, not unlocked");
        return NULL;
    }
    if (!f->valid)
        Py_RETURN_NONE;
    if (frame_check_no_exports(f, "unlock the frame") < 0 || client_unlock_frame(f) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Publish the server's acquired frame. f may be NULL (its object is gone). */
static PyObject *server_publish(StreamObject *s, FrameObject *f)
{
    if (f && frame_check_no_exports(f, "publish the frame") < 0)
        return NULL;
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_publish(s->stream);
    stream_mutex_unlock(s);
    if (rc != IMAGESTREAM_NOT_LOCKED) {
        s->pending = 0;
        if (f) {
            if (f->cframe)
                f->number = f->cframe->iFrame;
            f->valid = 0;
        }
        if (s->frame == f)
            s->frame = NULL;
    }
    s->last_code = rc;
    if (rc < 0)
        return smi_raise(stream_state(s), rc, "publish to %R", s->path);
    return PyLong_FromLong(rc);
}

PyDoc_STRVAR(Frame_publish_doc,
"_publish($self, /)\n--\n\n"
"Server: publish this acquired frame; returns the library's code.");

static PyObject *Frame_publish(FrameObject *f, PyObject *unused)
{
    (void)unused;
    if (!f->writable) {
        PyErr_SetString(PyExc_TypeError, "a locked frame is unlocked, not published");
        return NULL;
    }
    if (frame_check_valid(f) < 0)
        return NULL;
    return server_publish(f->owner, f);
}

PyDoc_STRVAR(Frame_abandon_doc,
"_abandon($self, /)\n--\n\n"
"Server: give this acquired frame back unpublished. True when it was given\n"
"back; False (nothing done) while views of it exist or when it is no longer\n"
"acquired.");

static PyObject *Frame_abandon(FrameObject *f, PyObject *unused)
{
    (void)unused;
    StreamObject *s = f->owner;
    if (!f->writable || !f->valid || f->exports > 0)
        Py_RETURN_FALSE;
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_abandon(s->stream);
    stream_mutex_unlock(s);
    if (rc != IMAGESTREAM_NOERROR)
        Py_RETURN_FALSE;
    s->pending = 0;
    f->valid = 0;
    if (s->frame == f)
        s->frame = NULL;
    Py_RETURN_TRUE;
}

static PyObject *Frame_get_vec(double v[3])
{
    return Py_BuildValue("(ddd)", v[0], v[1], v[2]);
}

static PyObject *Frame_get_spacing(FrameObject *f, void *c)
{
    (void)c;
    return Frame_get_vec(f->spacing);
}

static PyObject *Frame_get_origin(FrameObject *f, void *c)
{
    (void)c;
    return Frame_get_vec(f->origin);
}

static PyObject *Frame_get_shape(FrameObject *f, void *c)
{
    (void)c;
    PyObject *t = PyTuple_New(f->ndim);
    for (int i = 0; t && i < f->ndim; i++) {
        PyObject *v = PyLong_FromSsize_t(f->shape[i]);
        if (!v)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *Frame_get_number(FrameObject *f, void *c)
{
    (void)c;
    if (f->writable && f->valid && f->cframe)
        f->number = f->cframe->iFrame;
    return PyLong_FromUnsignedLong(f->number);
}

static int Frame_set_number(FrameObject *f, PyObject *value, void *c)
{
    (void)c;
    if (!f->writable) {
        PyErr_SetString(PyExc_AttributeError, "a locked frame's number is read-only");
        return -1;
    }
    if (!value) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete the frame number");
        return -1;
    }
    if (frame_check_valid(f) < 0)
        return -1;
    unsigned long n = PyLong_AsUnsignedLong(value);
    if (n == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    if (n > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "frame numbers are 32-bit unsigned");
        return -1;
    }
    f->cframe->iFrame = (uint32_t)n;
    f->number = (uint32_t)n;
    return 0;
}

static PyObject *Frame_get_valid(FrameObject *f, void *c)
{
    (void)c;
    return PyBool_FromLong(f->valid);
}

static PyMemberDef Frame_members[] = {
    {"width", T_UINT, offsetof(FrameObject, width), READONLY, "Pixels per row."},
    {"height", T_UINT, offsetof(FrameObject, height), READONLY, "Rows (per slice)."},
    {"depth", T_UINT, offsetof(FrameObject, depth), READONLY, "Slices: 1 for an image."},
    {"format", T_UINT, offsetof(FrameObject, format), READONLY,
     "Pixel format, one of the FORMAT_* constants."},
    {"timestamp", T_DOUBLE, offsetof(FrameObject, timestamp), READONLY,
     "Seconds, as the server stamped the frame (UNIX time by default; 0 for\n"
     "EnSight-layout frames)."},
    {"lost", T_ULONGLONG, offsetof(FrameObject, lost), READONLY,
     "Frames published just before this one (after the previous frame this\n"
     "client got or skipped, or after it attached) that it will never get: the\n"
     "server overwrote them first (a queue client's next(); else 0)."},
    {"nbytes", T_PYSSIZET, offsetof(FrameObject, nbytes), READONLY,
     "Size of the pixels in bytes."},
    {"exports", T_PYSSIZET, offsetof(FrameObject, exports), READONLY,
     "How many views (numpy arrays, memoryviews) of the buffer exist now."},
    {"flags", T_UINT, offsetof(FrameObject, flags), READONLY,
     "FRAME_* flags of a locked frame: FRAME_BOTTOMUP when it is stored bottom\n"
     "row first (its view is upright all the same, with a negative row stride)."},
    {NULL},
};

static PyGetSetDef Frame_getset[] = {
    {"spacing", (getter)Frame_get_spacing, NULL, "Pixel size (x, y, z).", NULL},
    {"origin", (getter)Frame_get_origin, NULL, "Position of the first pixel (x, y, z).", NULL},
    {"shape", (getter)Frame_get_shape, NULL,
     "Shape of numpy.asarray(frame): (height, width[, channels]), or\n"
     "(depth, height, width[, channels]) for a volume.", NULL},
    {"number", (getter)Frame_get_number, (setter)Frame_set_number,
     "Frame number, as the server gave it (servers count up from 0; may skip).\n"
     "Settable on an acquired frame, before it is published.", NULL},
    {"_valid", (getter)Frame_get_valid, NULL,
     "True while the buffer may be used (locked, or acquired).", NULL},
    {NULL},
};

static PyMethodDef Frame_methods[] = {
    {"_copy_into", (PyCFunction)Frame_copy_into, METH_O, Frame_copy_into_doc},
    {"tobytes", (PyCFunction)Frame_tobytes, METH_NOARGS, Frame_tobytes_doc},
    {"_unlock", (PyCFunction)Frame_unlock, METH_NOARGS, Frame_unlock_doc},
    {"_publish", (PyCFunction)Frame_publish, METH_NOARGS, Frame_publish_doc},
    {"_abandon", (PyCFunction)Frame_abandon, METH_NOARGS, Frame_abandon_doc},
    {NULL},
};

PyDoc_STRVAR(Frame_doc,
"The buffer of one locked (client) or acquired (server) frame, exported\n"
"through the buffer protocol without a copy. Made by Stream._lock() and\n"
"Stream._acquire() as instances of the class given to Stream().");

static PyType_Slot Frame_slots[] = {
    {Py_tp_dealloc, Frame_dealloc},
    {Py_tp_traverse, Frame_traverse},
    {Py_tp_doc, (void *)Frame_doc},
    {Py_tp_methods, Frame_methods},
    {Py_tp_members, Frame_members},
    {Py_tp_getset, Frame_getset},
    {Py_bf_getbuffer, Frame_getbuffer},
    {Py_bf_releasebuffer, Frame_releasebuffer},
    {0, NULL},
};

static PyType_Spec Frame_spec = {
    .name = "shared_memory_image._core.Frame",
    .basicsize = sizeof(FrameObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Frame_slots,
};

/* ---- Stream ----------------------------------------------------------------- */

static PyObject *Stream_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    StreamObject *s = (StreamObject *)type->tp_alloc(type, 0);
    if (!s)
        return NULL;
    s->mutex = PyThread_allocate_lock();
    if (!s->mutex) {
        Py_DECREF(s);
        return PyErr_NoMemory();
    }
    return (PyObject *)s;
}

static int Stream_init(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "options", "frame_class", "serve", "attach", NULL};
    PyObject *pathb = NULL;
    unsigned int options;
    PyTypeObject *frame_class;
    PyObject *serve = Py_None;
    int attach = 0;
    smi_state *st = stream_state(s);
    if (!st || !PyArg_ParseTupleAndKeywords(args, kwds, "O&IO!|Oi:Stream", kwlist,
                                            PyUnicode_FSConverter, &pathb, &options,
                                            &PyType_Type, &frame_class, &serve, &attach))
        return -1;
    /* serve=(format, width, height, depth): a server made in one call, the
       file made or grown first for two such frames in the layout `options`
       names (SharedMemoryImageStream_serve). */
    SharedMemoryImageDesc d = SMI_DESC_INIT;
    if (serve != Py_None && !PyArg_ParseTuple(serve, "IIII:serve", &d.format, &d.width,
                                              &d.height, &d.depth)) {
        Py_DECREF(pathb);
        return -1;
    }
    if (!PyType_IsSubtype(frame_class, st->frame_type)) {
        PyErr_SetString(PyExc_TypeError, "frame_class must be a subclass of _core.Frame");
        Py_DECREF(pathb);
        return -1;
    }
    if (s->stream) {
        PyErr_SetString(PyExc_RuntimeError, "__init__ called twice");
        Py_DECREF(pathb);
        return -1;
    }
    Py_XSETREF(s->path, PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(pathb)));
    Py_XSETREF(s->frame_class, (PyTypeObject *)Py_NewRef(frame_class));
    s->is_server = (options & IMAGESTREAM_OPTIONS_SERVER) == IMAGESTREAM_OPTIONS_SERVER;
    if (!s->path) {
        Py_DECREF(pathb);
        return -1;
    }
    SharedMemoryImageStream stream = NULL;
    int rc;
    if (attach && !s->is_server && serve == Py_None) {
        /* A client through the one attach policy (SharedMemoryImageStream_attach).
           attach=1 takes a file no server has set up yet as create() does
           (an EnSight stream with no frame yet, as smi-read does without
           --wait-file); attach=2 leaves it, for the caller to wait. */
        SharedMemoryStreamStatus status;
        uint32_t situation;
        struct stat sb;
        int known = 0;
        Py_BEGIN_ALLOW_THREADS
        situation = SharedMemoryImageStream_attach(PyBytes_AS_STRING(pathb), options, &stream,
                                                   &status);
        if (situation == IMAGESTREAM_SITUATION_NO_SERVER && attach == 1) {
            status.code = SharedMemoryImageStream_create(PyBytes_AS_STRING(pathb), options,
                                                         &stream);
            known = stream && stat(PyBytes_AS_STRING(pathb), &sb) == 0;
        }
        Py_END_ALLOW_THREADS
        if (!stream) {
            smi_raise_attach(st, status.code < 0 ? status.code : IMAGESTREAM_BAD_FILE_SIZE,
                             situation, PyBytes_AS_STRING(pathb), options, s->path);
            Py_DECREF(pathb);
            return -1;
        }
        if (known) { /* what refresh() compares with later */
            status.layout = IMAGESTREAM_LAYOUT_ENSIGHT;
            status.device = (uint64_t)sb.st_dev;
            status.inode = (uint64_t)sb.st_ino;
        }
        s->status = status;
        Py_XSETREF(s->pathb, pathb);
        s->stream = stream;
        s->options = options;
        s->open_code = status.code;
        return 0;
    }
    Py_BEGIN_ALLOW_THREADS
    if (serve != Py_None)
        rc = SharedMemoryImageStream_serve(
            PyBytes_AS_STRING(pathb),
            (options & IMAGESTREAM_OPTIONS_EXTENDED) ? IMAGESTREAM_LAYOUT_EXTENDED
                                                     : IMAGESTREAM_LAYOUT_ENSIGHT,
            &d,
            options & ~(uint32_t)(IMAGESTREAM_OPTIONS_SERVER | IMAGESTREAM_OPTIONS_EXTENDED),
            &stream, NULL);
    else
        rc = SharedMemoryImageStream_create(PyBytes_AS_STRING(pathb), options, &stream);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        smi_raise_open(st, rc, PyBytes_AS_STRING(pathb), options, "cannot open %R as a %s",
                       s->path, s->is_server ? "server" : "client");
        Py_DECREF(pathb);
        return -1;
    }
    Py_DECREF(pathb);
    s->stream = stream;
    s->options = options;
    s->open_code = rc;
    return 0;
}

static int Stream_traverse(StreamObject *s, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(s));
    Py_VISIT(s->frame_class);
    return 0;
}

static void Stream_dealloc(StreamObject *s)
{
    /* A live Frame holds a reference, so no frame is locked or exported here. */
    PyTypeObject *tp = Py_TYPE(s);
    PyObject_GC_UnTrack(s);
    if (s->stream) {
        SharedMemoryImageStream_destroy(s->stream);
        s->stream = NULL;
    }
    if (s->mutex)
        PyThread_free_lock(s->mutex);
    Py_CLEAR(s->path);
    Py_CLEAR(s->pathb);
    Py_CLEAR(s->frame_class);
    tp->tp_free((PyObject *)s);
    Py_DECREF(tp);
}

PyDoc_STRVAR(Stream_close_doc,
"close($self, /)\n--\n\n"
"Detach from the stream (a locked frame is unlocked; a server's acquired,\n"
"unpublished frame is dropped). The file stays. Raises BufferError, and\n"
"stays open, while views of the current frame exist. Closing twice does\n"
"nothing; leaving a `with` block closes.");

static PyObject *Stream_close(StreamObject *s, PyObject *unused)
{
    (void)unused;
    if (!s->stream)
        Py_RETURN_NONE;
    FrameObject *f = s->frame;
    if (f && frame_check_no_exports(f, s->is_server ? "close the server" : "close the client") < 0)
        return NULL;
    if (f) {
        f->valid = 0;
        s->frame = NULL;
    }
    stream_mutex_lock(s);
    SharedMemoryImageStream stream = s->stream;
    s->stream = NULL;
    s->pending = 0;
    if (stream) {
        Py_BEGIN_ALLOW_THREADS
        SharedMemoryImageStream_destroy(stream); /* unlocks, or abandons an acquired frame */
        Py_END_ALLOW_THREADS
    }
    stream_mutex_unlock(s);
    Py_RETURN_NONE;
}

/* SharedMemoryStreamInfo as a tuple, in the struct's order; the buffers as a
   tuple of tuples. The package names the fields. */
static PyObject *smi_info_tuple(const SharedMemoryStreamInfo *in)
{
    uint32_t n = in->buffer_count < IMAGESTREAM_MAX_BUFFERS ? in->buffer_count
                                                            : IMAGESTREAM_MAX_BUFFERS;
    PyObject *bufs = PyTuple_New(n);
    for (uint32_t i = 0; bufs && i < n; i++) {
        const SharedMemoryBufferInfo *b = &in->buffers[i];
        PyObject *t = Py_BuildValue("(IIIIIIIKd)", b->state, b->format, b->frame, b->width,
                                    b->height, b->depth, b->holders,
                                    (unsigned long long)b->sequence, b->timestamp);
        if (!t)
            Py_CLEAR(bufs);
        else
            PyTuple_SET_ITEM(bufs, i, t);
    }
    if (!bufs)
        return NULL;
    return Py_BuildValue("(IIKIIIIKIIKN)", in->layout, in->version,
                         (unsigned long long)in->file_size, in->server_alive, in->clients,
                         in->max_clients, in->buffer_count, (unsigned long long)in->buffer_size,
                         in->last_frame, in->server_generation,
                         (unsigned long long)in->last_sequence, bufs);
}

PyDoc_STRVAR(Stream_info_doc,
"_info($self, /)\n--\n\n"
"SharedMemoryImageStream_info() as a tuple in the struct's order.");

static PyObject *Stream_info(StreamObject *s, PyObject *unused)
{
    (void)unused;
    SharedMemoryStreamInfo info;
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_info(s->stream, &info);
    stream_mutex_unlock(s);
    if (rc < 0)
        return smi_raise(stream_state(s), rc, "info of %R", s->path);
    return smi_info_tuple(&info);
}

PyDoc_STRVAR(Stream_refresh_doc,
"_refresh($self, /)\n--\n\n"
"Client opened with attach: SharedMemoryImageStream_refresh(), the\n"
"situation now (_situation and _reattach keep it).");

static PyObject *Stream_refresh(StreamObject *s, PyObject *unused)
{
    (void)unused;
    if (!s->pathb) {
        PyErr_SetString(PyExc_ValueError, "refresh() needs a client opened with attach");
        return NULL;
    }
    if (stream_enter(s) < 0)
        return NULL;
    uint32_t situation;
    Py_BEGIN_ALLOW_THREADS
    situation = SharedMemoryImageStream_refresh(PyBytes_AS_STRING(s->pathb), s->stream,
                                                &s->status);
    Py_END_ALLOW_THREADS
    stream_mutex_unlock(s);
    return PyLong_FromUnsignedLong(situation);
}

PyDoc_STRVAR(Stream_setbuffers_doc,
"_setbuffers($self, min_buffers, max_buffers, /)\n--\n\n"
"Server: SharedMemoryImageStream_setbuffers(); raises Error on failure.");

static PyObject *Stream_setbuffers(StreamObject *s, PyObject *args)
{
    unsigned int lo, hi;
    if (!PyArg_ParseTuple(args, "II:_setbuffers", &lo, &hi))
        return NULL;
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_setbuffers(s->stream, lo, hi);
    stream_mutex_unlock(s);
    if (rc < 0)
        return smi_raise(stream_state(s), rc, "set_buffers(%u, %u) on %R", lo, hi, s->path);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Stream_wait_doc,
"_wait($self, seconds, spin=0.0, /)\n--\n\n"
"Client: wait for a newer frame, at most `seconds` (negative: for ever),\n"
"in slices of 50 ms with the GIL released, checking for signals between\n"
"them; the first `spin` seconds spin in user space (spinwait()) before\n"
"the kernel sleeps. True when a frame came, False on timeout.");

static PyObject *Stream_wait(StreamObject *s, PyObject *args)
{
    double timeout, spin = 0.0;
    if (!PyArg_ParseTuple(args, "d|d:_wait", &timeout, &spin))
        return NULL;
    const double deadline = timeout < 0 ? 0.0 : smi_monotonic() + timeout;
    const double spin_until = smi_monotonic() + (spin > 0.0 ? spin : 0.0);
    for (;;) {
        int32_t slice = SMI_WAIT_SLICE_MS;
        if (timeout >= 0) {
            double left = deadline - smi_monotonic();
            if (left <= 0)
                slice = 0;
            else if (left * 1000.0 < SMI_WAIT_SLICE_MS)
                slice = (int32_t)ceil(left * 1000.0);
        }
        if (stream_enter(s) < 0)
            return NULL;
        int rc;
        Py_BEGIN_ALLOW_THREADS
        double spin_left = spin_until - smi_monotonic();
        uint32_t spin_us = spin_left <= 0.0 ? 0 : spin_left >= 0.05 ? 50000 : (uint32_t)(spin_left * 1e6);
        rc = SharedMemoryImageStream_spinwait(s->stream, slice, spin_us);
        Py_END_ALLOW_THREADS
        stream_mutex_unlock(s);
        if (rc == IMAGESTREAM_NOERROR)
            Py_RETURN_TRUE;
        if (rc < 0)
            return smi_raise(stream_state(s), rc, "wait on %R", s->path);
        if (PyErr_CheckSignals() < 0)
            return NULL;
        if (timeout >= 0 && (slice == 0 || smi_monotonic() >= deadline))
            Py_RETURN_FALSE;
    }
}

PyDoc_STRVAR(Stream_lock_doc,
"_lock($self, /)\n--\n\n"
"Client: lock the newest frame; a new frame object, or None when there is\n"
"no new frame (NO_FRAMEAVAILABLE, FORMAT_SKIPPED).");

/* lock() (queue: next(), its lost count kept in the frame and the stream). */
static PyObject *stream_take(StreamObject *s, int queue)
{
    /* Made before the stream's lock is taken: allocating may run the GC,
       and a collected frame of this stream takes that lock to unlock. */
    FrameObject *f = s->frame_class ? frame_new(s) : NULL;
    if (!f)
        return NULL;
    if (stream_enter(s) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    SharedMemoryFrame cf = NULL;
    SharedMemoryImageDesc desc;
    uint64_t lost = 0;
    uint32_t flags = 0;
    int rc, drc = IMAGESTREAM_NOERROR;
    Py_BEGIN_ALLOW_THREADS
    rc = queue ? SharedMemoryImageStream_next(s->stream, &cf, &lost)
               : SharedMemoryImageStream_lock(s->stream, &cf);
    if (rc == IMAGESTREAM_NOERROR) {
        drc = SharedMemoryImageStream_describe(s->stream, &desc);
        if (drc == IMAGESTREAM_NOERROR)
            drc = SharedMemoryImageStream_frameflags(s->stream, &flags);
        if (drc != IMAGESTREAM_NOERROR)
            SharedMemoryImageStream_unlock(s->stream);
    }
    Py_END_ALLOW_THREADS
    s->lost += lost;
    stream_mutex_unlock(s);
    if (rc == IMAGESTREAM_NOERROR && drc != IMAGESTREAM_NOERROR)
        rc = drc;
    if (rc != IMAGESTREAM_NOERROR) {
        Py_DECREF(f);
        if (rc == IMAGESTREAM_LOCKED)
            return smi_raise(stream_state(s), rc,
                             "lock %R: this client already holds a frame; unlock it first",
                             s->path);
        if (rc == IMAGESTREAM_BAD_ARGS && queue)
            return smi_raise(stream_state(s), rc,
                             "next on %R: a queue client (queue=True or reliable=True) of "
                             "an extended-layout stream reads in order; the EnSight layout "
                             "holds one frame at a time (use lock())",
                             s->path);
        if (rc < 0)
            return smi_raise(stream_state(s), rc, "lock %R", s->path);
        Py_RETURN_NONE;
    }
    f->lost = lost;
    f->cframe = cf;
    f->data = cf->buffer;
    f->number = cf->iFrame;
    f->flags = flags;
    frame_set_geometry(f, &desc);
    f->valid = 1;
    s->frame = f;
    return (PyObject *)f;
}

static PyObject *Stream_lock(StreamObject *s, PyObject *unused)
{
    (void)unused;
    return stream_take(s, 0);
}

PyDoc_STRVAR(Stream_next_doc,
"_next($self, /)\n--\n\n"
"Queue client: lock the next frame in order (next()); a new frame object\n"
"whose `lost` counts the frames missed just before it, or None when\n"
"there is none (NO_FRAMEAVAILABLE, FORMAT_SKIPPED).");

static PyObject *Stream_next(StreamObject *s, PyObject *unused)
{
    (void)unused;
    return stream_take(s, 1);
}

PyDoc_STRVAR(Stream_setacquiretimeout_doc,
"_setacquiretimeout($self, ms, /)\n--\n\n"
"Server: SharedMemoryImageStream_setacquiretimeout(); raises Error on failure.");

static PyObject *Stream_setacquiretimeout(StreamObject *s, PyObject *arg)
{
    int ms;
    if (!PyArg_Parse(arg, "i:_setacquiretimeout", &ms))
        return NULL;
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_setacquiretimeout(s->stream, ms);
    if (rc == IMAGESTREAM_NOERROR)
        s->acquire_waits = ms != 0; /* then send/acquire release the GIL */
    stream_mutex_unlock(s);
    if (rc < 0)
        return smi_raise(stream_state(s), rc, "set_acquire_timeout on %R", s->path);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Stream_unlock_doc,
"_unlock($self, /)\n--\n\n"
"Client: unlock the frame this client holds (as Frame._unlock()).\n"
"BufferError while views of it exist; Error (IMAGESTREAM_NOT_LOCKED)\n"
"when none is locked.");

static PyObject *Stream_unlock(StreamObject *s, PyObject *unused)
{
    (void)unused;
    if (s->frame)
        return Frame_unlock(s->frame, NULL);
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_unlock(s->stream);
    stream_mutex_unlock(s);
    if (rc < 0)
        return smi_raise(stream_state(s), rc, "unlock %R", s->path);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Stream_send_doc,
"_send($self, pixels, format, width, height, depth, frame_number, timestamp,\n"
"      spacing, origin, flags=0, /)\n--\n\n"
"Server: SharedMemoryImageStream_putframeformat() of the buffer `pixels`\n"
"(C-contiguous, at least the frame's bytes), GIL released for large\n"
"frames. spacing and origin are 3-tuples. Returns the library's code.");

static PyObject *Stream_send(StreamObject *s, PyObject *args)
{
    Py_buffer v;
    SharedMemoryImageDesc d;
    unsigned int number;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    if (!PyArg_ParseTuple(args, "y*IIIIId(ddd)(ddd)|I:_send", &v, &d.format, &d.width,
                          &d.height, &d.depth, &number, &d.timestamp, &d.spacing[0],
                          &d.spacing[1], &d.spacing[2], &d.origin[0], &d.origin[1],
                          &d.origin[2], &d.flags))
        return NULL;
    /* The library reads the frame's bytes from the buffer: it must hold them. */
    unsigned long long need = (unsigned long long)d.width * d.height;
    if (__builtin_mul_overflow(need, (unsigned long long)(d.depth ? d.depth : 1), &need) ||
        __builtin_mul_overflow(need, SharedMemoryImageStream_formatsize(d.format), &need) ||
        need > (unsigned long long)v.len) {
        PyErr_Format(PyExc_ValueError, "send(): the buffer holds %zd bytes, less than the frame",
                     v.len);
        PyBuffer_Release(&v);
        return NULL;
    }
    if (stream_enter(s) < 0) {
        PyBuffer_Release(&v);
        return NULL;
    }
    int rc;
    if (v.len >= SMI_NOGIL_COPY_BYTES || s->acquire_waits) {
        Py_BEGIN_ALLOW_THREADS
        rc = SharedMemoryImageStream_putframeformat(s->stream, &d, number, v.buf);
        Py_END_ALLOW_THREADS
    } else {
        rc = SharedMemoryImageStream_putframeformat(s->stream, &d, number, v.buf);
    }
    stream_mutex_unlock(s);
    PyBuffer_Release(&v);
    s->last_code = rc;
    if (rc < 0) {
        smi_state *st = stream_state(s);
        if (rc == IMAGESTREAM_LOCKED)
            return smi_raise(st, rc, "send to %R: a frame from acquire() is not published yet "
                                     "(publish() it, or close the server)", s->path);
        if (rc == IMAGESTREAM_FRAME_TOO_LARGE)
            return smi_raise(st, rc, "send to %R: a %ux%u%s %s frame does not fit (create_file() "
                                     "makes the file larger, before the server opens it)",
                             s->path, d.width, d.height, d.depth > 1 ? " (x depth)" : "",
                             SharedMemoryImageStream_formatname(d.format));
        return smi_raise(st, rc, "send to %R", s->path);
    }
    return PyLong_FromLong(rc);
}

PyDoc_STRVAR(Stream_acquire_doc,
"_acquire($self, format, width, height, depth, frame_number, timestamp,\n"
"         spacing, origin, /)\n--\n\n"
"Server: SharedMemoryImageStream_acquireformat(); a new frame object\n"
"writing into the shared buffer, or None when no buffer is free (see\n"
"last_code). frame_number None keeps the library's next number.");

static PyObject *Stream_acquire(StreamObject *s, PyObject *args)
{
    SharedMemoryImageDesc d;
    PyObject *number_o;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    if (!PyArg_ParseTuple(args, "IIIIOd(ddd)(ddd):_acquire", &d.format, &d.width, &d.height,
                          &d.depth, &number_o, &d.timestamp, &d.spacing[0], &d.spacing[1],
                          &d.spacing[2], &d.origin[0], &d.origin[1], &d.origin[2]))
        return NULL;
    unsigned long number = 0;
    if (number_o != Py_None) {
        number = PyLong_AsUnsignedLong(number_o);
        if (number == (unsigned long)-1 && PyErr_Occurred())
            return NULL;
        if (number > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "frame numbers are 32-bit unsigned");
            return NULL;
        }
    }
    FrameObject *f = s->frame_class ? frame_new(s) : NULL; /* before the lock: see _lock */
    if (!f)
        return NULL;
    if (stream_enter(s) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    SharedMemoryFrame cf = NULL;
    SharedMemoryImageDesc got;
    int rc;
    if (s->acquire_waits) {
        Py_BEGIN_ALLOW_THREADS
        rc = SharedMemoryImageStream_acquireformat(s->stream, &d, &cf);
        Py_END_ALLOW_THREADS
    } else {
        rc = SharedMemoryImageStream_acquireformat(s->stream, &d, &cf);
    }
    if (rc == IMAGESTREAM_NOERROR) {
        if (SharedMemoryImageStream_describe(s->stream, &got) != IMAGESTREAM_NOERROR)
            got = d;
        if (number_o != Py_None)
            cf->iFrame = (uint32_t)number;
    }
    stream_mutex_unlock(s);
    s->last_code = rc;
    if (rc != IMAGESTREAM_NOERROR) {
        Py_DECREF(f);
        smi_state *st = stream_state(s);
        if (rc == IMAGESTREAM_LOCKED)
            return smi_raise(st, rc, "acquire on %R: an earlier acquired frame is not published "
                                     "yet (publish() it, or close the server)", s->path);
        if (rc < 0)
            return smi_raise(st, rc, "acquire a %ux%u %s frame on %R", d.width, d.height,
                             SharedMemoryImageStream_formatname(d.format), s->path);
        Py_RETURN_NONE;
    }
    f->cframe = cf;
    f->data = cf->buffer;
    f->number = cf->iFrame;
    frame_set_geometry(f, &got);
    f->valid = 1;
    s->pending = 1;
    s->frame = f;
    return (PyObject *)f;
}

PyDoc_STRVAR(Stream_publish_doc,
"_publish($self, /)\n--\n\n"
"Server: publish the acquired frame, also when its object is gone;\n"
"BufferError while views of it exist. Returns the library's code.");

static PyObject *Stream_publish(StreamObject *s, PyObject *unused)
{
    (void)unused;
    return server_publish(s, s->frame);
}

static PyObject *Stream_get_closed(StreamObject *s, void *c)
{
    (void)c;
    return PyBool_FromLong(s->stream == NULL);
}

static PyObject *Stream_get_path(StreamObject *s, void *c)
{
    (void)c;
    return Py_NewRef(s->path ? s->path : Py_None);
}

static PyObject *Stream_get_frame(StreamObject *s, void *c)
{
    (void)c;
    return Py_NewRef(s->frame ? (PyObject *)s->frame : Py_None);
}

static PyObject *Stream_get_lost(StreamObject *s, void *c)
{
    (void)c;
    return PyLong_FromUnsignedLongLong(s->lost);
}

static PyObject *Stream_get_pending(StreamObject *s, void *c)
{
    (void)c;
    return PyBool_FromLong(s->pending);
}

static PyMemberDef Stream_members[] = {
    {"open_code", T_INT, offsetof(StreamObject, open_code), READONLY,
     "What opening answered: IMAGESTREAM_NOERROR, or IMAGESTREAM_RECONNECTING\n"
     "when the stream was already active (taken over: not an error)."},
    {"options", T_UINT, offsetof(StreamObject, options), READONLY,
     "The IMAGESTREAM_OPTIONS_* bits the stream was opened with."},
    {"_last_code", T_INT, offsetof(StreamObject, last_code), READONLY,
     "Server: code of the last send(), acquire() or publish()."},
    {"_situation", T_UINT, offsetof(StreamObject, status.situation), READONLY,
     "Client opened with attach: IMAGESTREAM_SITUATION_* from attach() or the\n"
     "last refresh()."},
    {"_reattach", T_UINT, offsetof(StreamObject, status.reattach), READONLY,
     "Client opened with attach: 1 when the last refresh() said to attach anew."},
    {NULL},
};

static PyGetSetDef Stream_getset[] = {
    {"closed", (getter)Stream_get_closed, NULL, "True once closed.", NULL},
    {"path", (getter)Stream_get_path, NULL, "The stream file.", NULL},
    {"frame", (getter)Stream_get_frame, NULL,
     "The frame locked (client) or acquired (server) now, or None.", NULL},
    {"lost", (getter)Stream_get_lost, NULL,
     "Queue client: frames published since it attached that it will never\n"
     "get, in all (exact: frames got or skipped + lost = frames published\n"
     "since then, up to the last one got).", NULL},
    {"_pending", (getter)Stream_get_pending, NULL,
     "Server: True while an acquired frame waits to be published.", NULL},
    {NULL},
};

static PyMethodDef Stream_methods[] = {
    {"close", (PyCFunction)Stream_close, METH_NOARGS, Stream_close_doc},
    {"_unlock", (PyCFunction)Stream_unlock, METH_NOARGS, Stream_unlock_doc},
    {"_info", (PyCFunction)Stream_info, METH_NOARGS, Stream_info_doc},
    {"_refresh", (PyCFunction)Stream_refresh, METH_NOARGS, Stream_refresh_doc},
    {"_wait", (PyCFunction)Stream_wait, METH_VARARGS, Stream_wait_doc},
    {"_next", (PyCFunction)Stream_next, METH_NOARGS, Stream_next_doc},
    {"_setacquiretimeout", (PyCFunction)Stream_setacquiretimeout, METH_O,
     Stream_setacquiretimeout_doc},
    {"_setbuffers", (PyCFunction)Stream_setbuffers, METH_VARARGS, Stream_setbuffers_doc},
    {"_lock", (PyCFunction)Stream_lock, METH_NOARGS, Stream_lock_doc},
    {"_send", (PyCFunction)Stream_send, METH_VARARGS, Stream_send_doc},
    {"_acquire", (PyCFunction)Stream_acquire, METH_VARARGS, Stream_acquire_doc},
    {"_publish", (PyCFunction)Stream_publish, METH_NOARGS, Stream_publish_doc},
    {NULL},
};

PyDoc_STRVAR(Stream_doc,
"Stream(path, options, frame_class, serve=None, attach=0)\n--\n\n"
"One end of a stream: SharedMemoryImageStream_create(path, options), or with\n"
"serve=(format, width, height, depth) a server made by\n"
"SharedMemoryImageStream_serve() (the file made or grown first), or with\n"
"attach=1 or 2 a client attached by SharedMemoryImageStream_attach()\n"
"(1: a file no server has set up yet is taken as create() takes it;\n"
"2: it is not; Error.situation says why it did not attach). Its\n"
"frames are made as instances of frame_class (a subclass of Frame).\n"
"Calls on one stream are serialized by its own lock.");

static PyType_Slot Stream_slots[] = {
    {Py_tp_new, Stream_new},
    {Py_tp_init, Stream_init},
    {Py_tp_dealloc, Stream_dealloc},
    {Py_tp_traverse, Stream_traverse},
    {Py_tp_doc, (void *)Stream_doc},
    {Py_tp_methods, Stream_methods},
    {Py_tp_members, Stream_members},
    {Py_tp_getset, Stream_getset},
    {0, NULL},
};

static PyType_Spec Stream_spec = {
    .name = "shared_memory_image._core.Stream",
    .basicsize = sizeof(StreamObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Stream_slots,
};

/* ---- Module functions ------------------------------------------------------- */

PyDoc_STRVAR(create_file_doc,
"create_file(path, layout, format, width, height, depth, /)\n--\n\n"
"SharedMemoryImageStream_createfilelayout(): make or grow the stream file.");

static PyObject *smi_create_file(PyObject *m, PyObject *args)
{
    PyObject *pathb = NULL;
    unsigned int layout;
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    if (!PyArg_ParseTuple(args, "O&IIIII:create_file", PyUnicode_FSConverter, &pathb, &layout,
                          &d.format, &d.width, &d.height, &d.depth))
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_createfilelayout(PyBytes_AS_STRING(pathb), layout, &d);
    Py_END_ALLOW_THREADS
    PyObject *p = rc < 0 ? PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(pathb)) : NULL;
    if (rc >= 0) {
        Py_DECREF(pathb);
        Py_RETURN_NONE;
    }
    if (p) {
        smi_raise_open(PyModule_GetState(m), rc, PyBytes_AS_STRING(pathb),
                       IMAGESTREAM_OPTIONS_NONE, "cannot create %R for %ux%u %s frames", p,
                       d.width, d.height, SharedMemoryImageStream_formatname(d.format));
    }
    Py_DECREF(pathb);
    Py_XDECREF(p);
    return NULL;
}

PyDoc_STRVAR(check_file_doc,
"check_file(path, options, /)\n--\n\n"
"SharedMemoryImageStream_checkfile(): (code, why).");

static PyObject *smi_check_file(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *pathb = NULL;
    unsigned int options;
    if (!PyArg_ParseTuple(args, "O&I:check_file", PyUnicode_FSConverter, &pathb, &options))
        return NULL;
    char why[1024];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_checkfile(PyBytes_AS_STRING(pathb), options, why, sizeof why);
    Py_END_ALLOW_THREADS
    Py_DECREF(pathb);
    return Py_BuildValue("(is)", rc, why);
}

PyDoc_STRVAR(inspect_doc,
"inspect(path, /)\n--\n\n"
"SharedMemoryImageStream_inspect() as a tuple in the struct's order.");

static PyObject *smi_inspect(PyObject *m, PyObject *arg)
{
    PyObject *pathb = NULL;
    if (!PyUnicode_FSConverter(arg, &pathb))
        return NULL;
    SharedMemoryStreamInfo info;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_inspect(PyBytes_AS_STRING(pathb), &info);
    Py_END_ALLOW_THREADS
    PyObject *p = rc < 0 ? PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(pathb)) : NULL;
    Py_DECREF(pathb);
    if (rc >= 0)
        return smi_info_tuple(&info);
    if (p)
        smi_raise(PyModule_GetState(m), rc, "cannot inspect %R", p);
    Py_XDECREF(p);
    return NULL;
}

/* An int argument as a library code or format; out-of-range values map to
   `outside` (no code, no format). */
static int smi_u32_or(PyObject *arg, long long outside, long long *out)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = overflow ? outside : v;
    return 0;
}

PyDoc_STRVAR(errorstring_doc,
"errorstring(code, /)\n--\n\n"
"The library's description of an IMAGESTREAM_* return code.");

static PyObject *smi_errorstring(PyObject *m, PyObject *arg)
{
    (void)m;
    long long code;
    if (smi_u32_or(arg, INT32_MIN, &code) < 0)
        return NULL;
    if (code < INT32_MIN || code > INT32_MAX)
        code = INT32_MIN;
    return PyUnicode_FromString(SharedMemoryImageStream_errorstring((int)code));
}

PyDoc_STRVAR(errorname_doc,
"errorname(code, /)\n--\n\n"
"Name of a return code's C macro ('IMAGESTREAM_BAD_FILE_SIZE'), or None.");

static PyObject *smi_errorname(PyObject *m, PyObject *arg)
{
    (void)m;
    long long code;
    if (smi_u32_or(arg, INT32_MIN, &code) < 0)
        return NULL;
    const char *name = code < INT32_MIN || code > INT32_MAX
                           ? NULL
                           : SharedMemoryImageStream_errorname((int)code);
    if (!name)
        Py_RETURN_NONE;
    return PyUnicode_FromString(name);
}

PyDoc_STRVAR(format_info_doc,
"format_info(format, /)\n--\n\n"
"(channels, bytes_per_channel, kind, name) of a FORMAT_* value, from the\n"
"library's table (kind: KIND_UINT, KIND_INT or KIND_FLOAT), or None if\n"
"unknown.");

static PyObject *smi_format_info(PyObject *m, PyObject *arg)
{
    (void)m;
    long long f;
    if (smi_u32_or(arg, -1, &f) < 0)
        return NULL;
    const SharedMemoryImageFormatInfo *info =
        f < 0 || f > UINT32_MAX ? NULL : SharedMemoryImageStream_formatinfo((uint32_t)f);
    if (!info)
        Py_RETURN_NONE;
    return Py_BuildValue("(IIIs)", info->channels, info->bytes_per_channel, info->kind,
                         info->name);
}

PyDoc_STRVAR(situation_info_doc,
"situation_info(situation, /)\n--\n\n"
"(name, waits, description) of an IMAGESTREAM_SITUATION_* value, from the\n"
"library's list (waits: SharedMemoryImageStream_situationwaits()), or None\n"
"if unknown.");

static PyObject *smi_situation_info(PyObject *m, PyObject *arg)
{
    (void)m;
    long long v;
    if (smi_u32_or(arg, -1, &v) < 0)
        return NULL;
    const char *name = NULL;
    switch (v) {
#define SMI_SITUATION_NAME(n, text) \
    case IMAGESTREAM_SITUATION_##n: \
        name = #n;                  \
        break;
        SMI_SITUATION_LIST(SMI_SITUATION_NAME)
#undef SMI_SITUATION_NAME
    default: Py_RETURN_NONE;
    }
    return Py_BuildValue("(sOs)", name,
                         SharedMemoryImageStream_situationwaits((uint32_t)v) ? Py_True
                                                                             : Py_False,
                         SharedMemoryImageStream_situationstring((uint32_t)v));
}

PyDoc_STRVAR(set_error_class_doc,
"set_error_class(cls, /)\n--\n\n"
"The exception class raised for negative codes, called as cls(code,\n"
"message). The package registers its Error class once, at import.");

static PyObject *smi_set_error_class(PyObject *m, PyObject *arg)
{
    if (!PyType_Check(arg) || !PyType_IsSubtype((PyTypeObject *)arg,
                                                (PyTypeObject *)PyExc_Exception)) {
        PyErr_SetString(PyExc_TypeError, "set_error_class() needs an exception class");
        return NULL;
    }
    smi_state *st = PyModule_GetState(m);
    Py_XSETREF(st->error_class, Py_NewRef(arg));
    Py_RETURN_NONE;
}

static PyMethodDef smi_methods[] = {
    {"create_file", (PyCFunction)smi_create_file, METH_VARARGS, create_file_doc},
    {"inspect", (PyCFunction)smi_inspect, METH_O, inspect_doc},
    {"check_file", (PyCFunction)smi_check_file, METH_VARARGS, check_file_doc},
    {"errorstring", (PyCFunction)smi_errorstring, METH_O, errorstring_doc},
    {"errorname", (PyCFunction)smi_errorname, METH_O, errorname_doc},
    {"format_info", (PyCFunction)smi_format_info, METH_O, format_info_doc},
    {"situation_info", (PyCFunction)smi_situation_info, METH_O, situation_info_doc},
    {"set_error_class", (PyCFunction)smi_set_error_class, METH_O, set_error_class_doc},
    {NULL},
};

/* ---- Module ----------------------------------------------------------------- */

static int smi_exec(PyObject *m)
{
    smi_state *st = PyModule_GetState(m);
    st->frame_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Frame_spec, NULL);
    if (!st->frame_type || PyModule_AddType(m, st->frame_type) < 0)
        return -1;
    st->stream_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Stream_spec, NULL);
    if (!st->stream_type || PyModule_AddType(m, st->stream_type) < 0)
        return -1;
    if (PyModule_AddStringConstant(m, "__version__", SMI_VERSION) < 0 ||
        PyModule_AddStringConstant(m, "IMAGESTREAM_API_VERSION", IMAGESTREAM_API_VERSION) < 0)
        return -1;
#define SMI_ADD(name, value)                                   \
    if (PyModule_AddIntConstant(m, name, (long)(value)) < 0) \
        return -1;
#define SMI_ADD_CODE(name, text) SMI_ADD("IMAGESTREAM_" #name, IMAGESTREAM_##name)
    SMI_ERROR_LIST(SMI_ADD_CODE)
#define SMI_ADD_FORMAT(name, channels, bytes, kind, text) \
    SMI_ADD("IMAGESTREAM_FORMAT_" #name, IMAGESTREAM_FORMAT_##name)
    SMI_FORMAT_LIST(SMI_ADD_FORMAT)
#define SMI_ADD_SITUATION(name, text) \
    SMI_ADD("IMAGESTREAM_SITUATION_" #name, IMAGESTREAM_SITUATION_##name)
    SMI_SITUATION_LIST(SMI_ADD_SITUATION)
#undef SMI_ADD_SITUATION
#define SMI_ADD_CONSTANT(name) SMI_ADD("IMAGESTREAM_" #name, IMAGESTREAM_##name)
    SMI_ADD_CONSTANT(OPTIONS_NONE)
    SMI_ADD_CONSTANT(OPTIONS_FLIPVERTICAL)
    SMI_ADD_CONSTANT(OPTIONS_INITBUFFERHEADERS)
    SMI_ADD_CONSTANT(OPTIONS_NOTHREADS)
    SMI_ADD_CONSTANT(OPTIONS_SERVER)
    SMI_ADD_CONSTANT(OPTIONS_EXTENDED)
    SMI_ADD_CONSTANT(OPTIONS_ANYFORMAT)
    SMI_ADD_CONSTANT(OPTIONS_ANYFILE)
    SMI_ADD_CONSTANT(OPTIONS_QUEUE)
    SMI_ADD_CONSTANT(OPTIONS_RELIABLE)
    SMI_ADD_CONSTANT(LAYOUT_ENSIGHT)
    SMI_ADD_CONSTANT(LAYOUT_EXTENDED)
    SMI_ADD_CONSTANT(MAX_BUFFERS)
    SMI_ADD_CONSTANT(MAX_CLIENTS)
    SMI_ADD_CONSTANT(FRAME_BOTTOMUP)
    SMI_ADD("KIND_UINT", IMAGESTREAM_KIND_UINT)
    SMI_ADD("KIND_FLOAT", IMAGESTREAM_KIND_FLOAT)
    SMI_ADD("KIND_INT", IMAGESTREAM_KIND_INT)
#undef SMI_ADD_CONSTANT
#undef SMI_ADD_FORMAT
#undef SMI_ADD_CODE
#undef SMI_ADD
    return 0;
}

static int smi_traverse(PyObject *m, visitproc visit, void *arg)
{
    smi_state *st = PyModule_GetState(m);
    Py_VISIT(st->stream_type);
    Py_VISIT(st->frame_type);
    Py_VISIT(st->error_class);
    return 0;
}

static int smi_clear(PyObject *m)
{
    smi_state *st = PyModule_GetState(m);
    Py_CLEAR(st->stream_type);
    Py_CLEAR(st->frame_type);
    Py_CLEAR(st->error_class);
    return 0;
}

static void smi_free(void *m)
{
    smi_clear((PyObject *)m);
}

static PyModuleDef_Slot smi_slots[] = {
    {Py_mod_exec, smi_exec},
    {0, NULL},
};

PyDoc_STRVAR(smi_doc,
"The C half of shared_memory_image: thin wrappers of the library calls,\n"
"the buffer protocol of frames and the per-stream locking. Use the\n"
"shared_memory_image package, not this module.");

static struct PyModuleDef smi_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "shared_memory_image._core",
    .m_doc = smi_doc,
    .m_size = sizeof(smi_state),
    .m_methods = smi_methods,
    .m_slots = smi_slots,
    .m_traverse = smi_traverse,
    .m_clear = smi_clear,
    .m_free = smi_free,
};

PyMODINIT_FUNC PyInit__core(void); /* the one exported symbol */

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&smi_module);
}
