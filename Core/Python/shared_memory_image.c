/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shared_memory_image.c -- the `shared_memory_image` Python module: a thin
 * CPython layer over the C library (shared_memory_image.h). It
 * implements no part of the protocol itself; the layouts and the locking
 * protocol are in Core/LAYOUT.md.
 *
 * Memory safety, modelled on CPython's Modules/mmapmodule.c:
 *  - A Frame exposes the locked (client) or acquired (server) buffer through
 *    the buffer protocol, without a copy, and counts its exports (+1 in
 *    getbuffer, -1 in releasebuffer).
 *  - unlock(), publish() and close() refuse with BufferError while exports
 *    remain; the frame then stays locked, so no view ever sees a buffer the
 *    server may reuse.
 *  - Once unlocked or published a Frame is invalid: asking it for its buffer
 *    raises ValueError.
 *  - Copies made with the GIL released (copy(), tobytes(), read_frame())
 *    count as an export for their duration, so another thread cannot unlock
 *    or close underneath them.
 *
 * Threads: a stream handle of the library is not thread-safe, so every call
 * on it is made under the object's own mutex. Blocking calls release the GIL
 * and wait() sleeps in slices of at most SMI_WAIT_SLICE_MS, checking for
 * signals in between, so Ctrl-C interrupts it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <structmember.h>

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "shared_memory_image.h"

#ifndef SMI_VERSION
#define SMI_VERSION "unknown"
#endif

/* Longest sleep inside the C library between two checks for signals. */
#define SMI_WAIT_SLICE_MS 50
/* Copies larger than this release the GIL. */
#define SMI_NOGIL_COPY_BYTES (64 * 1024)

#if PY_BIG_ENDIAN
#define SMI_FMT_U16 "<H"
#define SMI_FMT_F32 "<f"
#else
#define SMI_FMT_U16 "H" /* native is little-endian: memoryview understands it */
#define SMI_FMT_F32 "f"
#endif

/* ---- Return-code names: the library's (SMI_ERROR_LIST) ------------------- */

static const char *smi_code_name(int code)
{
    const char *name = SharedMemoryImageStream_errorname(code);
    return name ? name : "unknown";
}

static double smi_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- smi.Error ------------------------------------------------------------ */

typedef struct {
    PyBaseExceptionObject base;
    PyObject *code;    /* int */
    PyObject *message; /* str */
} ErrorObject;

static PyTypeObject ErrorType;

static int Error_init(ErrorObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"code", "message", NULL};
    int code;
    PyObject *message = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|O:Error", kwlist, &code, &message))
        return -1;
    /* BaseException keeps args (for pickling and repr); keywords are not its business. */
    if (((PyTypeObject *)PyExc_RuntimeError)->tp_init((PyObject *)self, args, NULL) < 0)
        return -1;
    PyObject *c = PyLong_FromLong(code);
    PyObject *m = message == Py_None
                      ? PyUnicode_FromString(SharedMemoryImageStream_errorstring(code))
                      : PyObject_Str(message);
    if (!c || !m) {
        Py_XDECREF(c);
        Py_XDECREF(m);
        return -1;
    }
    Py_XSETREF(self->code, c);
    Py_XSETREF(self->message, m);
    return 0;
}

static int Error_traverse(ErrorObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->code);
    Py_VISIT(self->message);
    return ((PyTypeObject *)PyExc_RuntimeError)->tp_traverse((PyObject *)self, visit, arg);
}

static int Error_clear(ErrorObject *self)
{
    Py_CLEAR(self->code);
    Py_CLEAR(self->message);
    return ((PyTypeObject *)PyExc_RuntimeError)->tp_clear((PyObject *)self);
}

static void Error_dealloc(ErrorObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->code);
    Py_CLEAR(self->message);
    ((PyTypeObject *)PyExc_RuntimeError)->tp_dealloc((PyObject *)self);
}

static PyObject *Error_str(ErrorObject *self)
{
    if (self->message)
        return Py_NewRef(self->message);
    return ((PyTypeObject *)PyExc_RuntimeError)->tp_str((PyObject *)self);
}

static PyObject *Error_get_name(ErrorObject *self, void *closure)
{
    (void)closure;
    if (!self->code)
        Py_RETURN_NONE;
    long code = PyLong_AsLong(self->code);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(smi_code_name((int)code));
}

static PyMemberDef Error_members[] = {
    {"code", T_OBJECT, offsetof(ErrorObject, code), READONLY,
     "The library's return code (a negative IMAGESTREAM_* value)."},
    {"message", T_OBJECT, offsetof(ErrorObject, message), READONLY,
     "What failed, followed by the library's error string."},
    {NULL},
};

static PyGetSetDef Error_getset[] = {
    {"name", (getter)Error_get_name, NULL,
     "Name of the code's C macro, e.g. 'IMAGESTREAM_BAD_FILE_SIZE'.", NULL},
    {NULL},
};

PyDoc_STRVAR(Error_doc,
"Error(code, message=None)\n"
"--\n\n"
"Raised when the library answers a negative IMAGESTREAM_* code.\n"
"\n"
"Attributes: code (the negative code, compare with smi.IMAGESTREAM_*),\n"
"name (the code's macro name) and message (what failed and the library's\n"
"error string; also str(error)). A subclass of RuntimeError, like the\n"
"errors ensight_grpc_shmem raises.");

static PyTypeObject ErrorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shared_memory_image.Error",
    .tp_basicsize = sizeof(ErrorObject),
    .tp_dealloc = (destructor)Error_dealloc,
    .tp_str = (reprfunc)Error_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = Error_doc,
    .tp_traverse = (traverseproc)Error_traverse,
    .tp_clear = (inquiry)Error_clear,
    .tp_members = Error_members,
    .tp_getset = Error_getset,
    .tp_init = (initproc)Error_init,
};

/* Raise smi.Error(code, "<what>: <library string>"); returns NULL. */
static PyObject *smi_raise(int code, const char *what_fmt, ...)
{
    va_list va;
    va_start(va, what_fmt);
    PyObject *what = PyUnicode_FromFormatV(what_fmt, va);
    va_end(va);
    if (!what)
        return NULL;
    PyObject *msg =
        PyUnicode_FromFormat("%U: %s", what, SharedMemoryImageStream_errorstring(code));
    Py_DECREF(what);
    if (!msg)
        return NULL;
    PyObject *exc = PyObject_CallFunction((PyObject *)&ErrorType, "iO", code, msg);
    Py_DECREF(msg);
    if (exc) {
        PyErr_SetObject((PyObject *)&ErrorType, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* ---- Stream objects (Client, Server) and Frame ---------------------------- */

typedef struct FrameObject FrameObject;

typedef struct {
    PyObject_HEAD
    SharedMemoryImageStream stream; /* NULL once closed */
    PyThread_type_lock mutex;       /* serializes calls on `stream` */
    PyObject *path;                 /* str, for messages and repr */
    int is_server;
    uint32_t options;
    int open_code;                  /* what create() answered: NOERROR or RECONNECTING */
    int last_code;                  /* server: code of the last send/acquire/publish */
    int pending;                    /* server: a frame is acquired and not yet published */
    FrameObject *frame;             /* borrowed: the live Frame locked/acquired, or NULL */
} StreamObject;

struct FrameObject {
    PyObject_HEAD
    StreamObject *owner;  /* strong: keeps the mapping alive */
    SharedMemoryFrame cframe; /* the library's frame (server: iFrame may be set) */
    uint8_t *data;
    Py_ssize_t nbytes;
    Py_ssize_t exports;   /* live buffer exports (and copies in progress) */
    int valid;            /* 1 while locked (client) or acquired (server) */
    int writable;         /* server frames */
    uint32_t number, width, height, depth, format;
    double timestamp, spacing[3], origin[3];
    int ndim;
    Py_ssize_t itemsize;
    const char *fmt;      /* struct format of one item */
    const char *dtype;    /* numpy name of the item type */
    Py_ssize_t shape[4], strides[4];
    Py_ssize_t one;       /* 1: the stride of the flat byte view */
};

static PyTypeObject ClientType, ServerType, FrameType, AcquiredFrameType;

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
                 s->is_server ? "Server" : "Client", s->path);
    return -1;
}

/* ---- Frame geometry ------------------------------------------------------- */

static void frame_set_geometry(FrameObject *f, const SharedMemoryImageDesc *d)
{
    /* From the library's format table; the item types the formats use:
       uint8, uint16 (little-endian), float32. */
    const SharedMemoryImageFormatInfo *info = SharedMemoryImageStream_formatinfo(d->format);
    uint32_t channels = info ? info->channels : 1;
    uint32_t bytes = info ? info->bytes_per_channel : 1;
    int is_float = info && info->kind == IMAGESTREAM_KIND_FLOAT;
    f->itemsize = bytes;
    f->fmt = is_float ? SMI_FMT_F32 : bytes == 2 ? SMI_FMT_U16 : "B";
    f->dtype = is_float ? "float32" : bytes == 2 ? "uint16" : "uint8";
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
    f->one = 1;
}

static FrameObject *frame_new(PyTypeObject *type, StreamObject *owner)
{
    FrameObject *f = PyObject_New(FrameObject, type);
    if (!f)
        return NULL;
    f->owner = (StreamObject *)Py_NewRef(owner);
    f->cframe = NULL;
    f->data = NULL;
    f->nbytes = 0;
    f->exports = 0;
    f->valid = 0;
    f->writable = type == &AcquiredFrameType;
    f->number = f->width = f->height = f->depth = f->format = 0;
    f->timestamp = 0.0;
    memset(f->spacing, 0, sizeof f->spacing);
    memset(f->origin, 0, sizeof f->origin);
    f->ndim = 0;
    f->itemsize = 1;
    f->fmt = "B";
    f->dtype = "uint8";
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
        smi_raise(rc, "unlock %R", s->path);
        return -1;
    }
    return 0;
}

static void Frame_dealloc(FrameObject *f)
{
    /* exports hold references, so none are left here. */
    StreamObject *s = f->owner;
    if (f->valid && s) {
        if (!f->writable) {
            PyObject *et, *ev, *tb;
            PyErr_Fetch(&et, &ev, &tb);
            if (client_unlock_frame(f) < 0)
                PyErr_WriteUnraisable((PyObject *)f);
            PyErr_Restore(et, ev, tb);
        } else if (s->frame == f) {
            /* Acquired, never published: the buffer stays acquired; Server.publish()
               still publishes it and close() gives it back. */
            s->frame = NULL;
        }
    } else if (s && s->frame == f) {
        s->frame = NULL;
    }
    Py_CLEAR(f->owner);
    PyObject_Free(f);
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
    view->buf = f->data;
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

static PyBufferProcs Frame_as_buffer = {
    .bf_getbuffer = (getbufferproc)Frame_getbuffer,
    .bf_releasebuffer = (releasebufferproc)Frame_releasebuffer,
};

/* One copy of the frame's bytes: a client frame through the library's
   copyframe, which first checks that the file was not truncated under the
   mapping (smi.Error BAD_FILE_SIZE, not SIGBUS); an acquired server frame
   (checked by acquire) with memcpy. */
static int frame_copy_bytes(FrameObject *f, void *dst)
{
    if (f->writable) {
        memcpy(dst, f->data, (size_t)f->nbytes);
        return IMAGESTREAM_NOERROR;
    }
    return SharedMemoryImageStream_copyframe(f->owner->stream, dst, (uint64_t)f->nbytes, 0);
}

/* Copy the frame's bytes to dst, with the GIL released for large frames; the
   frame counts as exported meanwhile, so no thread can unlock or close it, and
   the stream's mutex is held. Returns 0, or -1 with smi.Error set. */
static int frame_copy_out(FrameObject *f, void *dst)
{
    int rc;
    f->exports++;
    stream_mutex_lock(f->owner);
    if (f->nbytes >= SMI_NOGIL_COPY_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        rc = frame_copy_bytes(f, dst);
        Py_END_ALLOW_THREADS
    } else {
        rc = frame_copy_bytes(f, dst);
    }
    stream_mutex_unlock(f->owner);
    f->exports--;
    if (rc < 0) {
        smi_raise(rc, "cannot copy frame %u of %R", f->number, f->owner->path);
        return -1;
    }
    return 0;
}

static PyObject *frame_shape_tuple(FrameObject *f)
{
    PyObject *t = PyTuple_New(f->ndim);
    if (!t)
        return NULL;
    for (int i = 0; i < f->ndim; i++) {
        PyObject *v = PyLong_FromSsize_t(f->shape[i]);
        if (!v) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* A numpy array holding a copy of the frame. */
static PyObject *frame_to_numpy(FrameObject *f)
{
    if (frame_check_valid(f) < 0)
        return NULL;
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np) {
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ImportError,
                            "copying a frame into an array needs numpy; without it use "
                            "Frame.tobytes() or memoryview(frame)");
        }
        return NULL;
    }
    PyObject *shape = frame_shape_tuple(f);
    PyObject *arr = shape ? PyObject_CallMethod(np, "empty", "Os", shape,
                                                f->itemsize == 1 ? "u1"
                                                : f->format == IMAGESTREAM_FORMAT_GRAY16 ? "<u2"
                                                                                          : "<f4")
                          : NULL;
    Py_XDECREF(shape);
    Py_DECREF(np);
    if (!arr)
        return NULL;
    Py_buffer dst;
    if (PyObject_GetBuffer(arr, &dst, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    if (dst.len != f->nbytes) { /* cannot happen: numpy made it from our shape */
        PyBuffer_Release(&dst);
        Py_DECREF(arr);
        PyErr_SetString(PyExc_SystemError, "numpy array of unexpected size");
        return NULL;
    }
    int rc = frame_copy_out(f, dst.buf);
    PyBuffer_Release(&dst);
    if (rc < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

PyDoc_STRVAR(Frame_copy_doc,
"copy($self, /)\n--\n\n"
"A numpy array holding a copy of the pixels, same shape and dtype as\n"
"numpy.asarray(frame). It stays valid after unlock(). Needs numpy.");

static PyObject *Frame_copy(FrameObject *f, PyObject *unused)
{
    (void)unused;
    return frame_to_numpy(f);
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

/* numpy.asarray() tries the buffer protocol first and, when that fails,
   silently makes a 0-d object array; __array__ turns that into the error. */
static PyObject *Frame_array(FrameObject *f, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"dtype", "copy", NULL};
    PyObject *dtype = Py_None, *copy = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:__array__", kwlist, &dtype, &copy))
        return NULL;
    if (frame_check_valid(f) < 0)
        return NULL;
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np)
        return NULL;
    PyObject *mv = PyMemoryView_FromObject((PyObject *)f);
    PyObject *arr = mv ? PyObject_CallMethod(np, "asarray", "OO", mv, dtype) : NULL;
    Py_XDECREF(mv);
    Py_DECREF(np);
    return arr;
}

PyDoc_STRVAR(Frame_unlock_doc,
"unlock($self, /)\n--\n\n"
"Give the frame back to the server; the Frame is invalid afterwards (its\n"
"buffer raises ValueError). Leaving a `with frame:` block does the same.\n"
"Raises BufferError, and the frame stays locked, while numpy arrays or\n"
"memoryviews of it still exist: delete them (or copy) first. Unlocking an\n"
"already unlocked frame does nothing.");

static PyObject *Frame_unlock(FrameObject *f, PyObject *unused)
{
    (void)unused;
    if (!f->valid)
        Py_RETURN_NONE;
    if (frame_check_no_exports(f, "unlock the frame") < 0)
        return NULL;
    if (client_unlock_frame(f) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Frame_enter(FrameObject *f, PyObject *unused)
{
    (void)unused;
    return Py_NewRef(f);
}

/* True when __exit__ was called for an exception leaving the block. */
static int exit_with_exception(PyObject *args)
{
    return PyTuple_GET_SIZE(args) > 0 && PyTuple_GET_ITEM(args, 0) != Py_None;
}

static PyObject *Frame_exit(FrameObject *f, PyObject *args)
{
    /* Leaving because of an exception while views exist (the traceback often
       holds them): keep the frame locked, which is safe, and let the
       original exception through instead of masking it with BufferError. */
    if (exit_with_exception(args) && f->exports > 0)
        Py_RETURN_FALSE;
    PyObject *r = Frame_unlock(f, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *Frame_get_spacing(FrameObject *f, void *c)
{
    (void)c;
    return Py_BuildValue("(ddd)", f->spacing[0], f->spacing[1], f->spacing[2]);
}

static PyObject *Frame_get_origin(FrameObject *f, void *c)
{
    (void)c;
    return Py_BuildValue("(ddd)", f->origin[0], f->origin[1], f->origin[2]);
}

static PyObject *Frame_get_shape(FrameObject *f, void *c)
{
    (void)c;
    return frame_shape_tuple(f);
}

static PyObject *Frame_get_dtype(FrameObject *f, void *c)
{
    (void)c;
    return PyUnicode_FromString(f->dtype);
}

static PyObject *Frame_get_format_name(FrameObject *f, void *c)
{
    (void)c;
    return PyUnicode_FromString(SharedMemoryImageStream_formatname(f->format));
}

static PyObject *Frame_get_nbytes(FrameObject *f, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(f->nbytes);
}

static PyObject *Frame_get_valid(FrameObject *f, void *c)
{
    (void)c;
    return PyBool_FromLong(f->valid);
}

static PyObject *Frame_get_exports(FrameObject *f, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(f->exports);
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

static PyObject *Frame_repr(FrameObject *f)
{
    char size[96];
    if (f->depth > 1)
        snprintf(size, sizeof size, "%ux%ux%u", f->width, f->height, f->depth);
    else
        snprintf(size, sizeof size, "%ux%u", f->width, f->height);
    const char *state = f->writable ? (f->valid ? "acquired" : "published")
                                    : (f->valid ? "locked" : "unlocked");
    if (f->writable && f->valid && f->cframe)
        f->number = f->cframe->iFrame;
    return PyUnicode_FromFormat("<shared_memory_image.%s #%u %s %s, %s>",
                                f->writable ? "AcquiredFrame" : "Frame", f->number, size,
                                SharedMemoryImageStream_formatname(f->format), state);
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
    {NULL},
};

#define FRAME_COMMON_GETSET                                                                  \
    {"spacing", (getter)Frame_get_spacing, NULL, "Pixel size (x, y, z).", NULL},             \
    {"origin", (getter)Frame_get_origin, NULL, "Position of the first pixel (x, y, z).", NULL}, \
    {"shape", (getter)Frame_get_shape, NULL,                                                 \
     "Shape of numpy.asarray(frame): (height, width[, channels]), or\n"                      \
     "(depth, height, width[, channels]) for a volume.", NULL},                              \
    {"dtype", (getter)Frame_get_dtype, NULL,                                                 \
     "numpy name of the item type: 'uint8', 'uint16' or 'float32'.", NULL},                  \
    {"format_name", (getter)Frame_get_format_name, NULL,                                     \
     "Name of the pixel format: 'rgb8', 'rgba8', 'gray8', 'gray16', 'float32'.", NULL},       \
    {"nbytes", (getter)Frame_get_nbytes, NULL, "Size of the pixels in bytes.", NULL},        \
    {"exports", (getter)Frame_get_exports, NULL,                                             \
     "How many views (numpy arrays, memoryviews) of the buffer exist now.", NULL}

static PyGetSetDef Frame_getset[] = {
    FRAME_COMMON_GETSET,
    {"number", (getter)Frame_get_number, NULL,
     "Frame number, as the server gave it (servers count up from 0; may skip).", NULL},
    {"locked", (getter)Frame_get_valid, NULL,
     "True until unlock(): only then may the buffer be read.", NULL},
    {NULL},
};

static PyMethodDef Frame_methods[] = {
    {"unlock", (PyCFunction)Frame_unlock, METH_NOARGS, Frame_unlock_doc},
    {"release", (PyCFunction)Frame_unlock, METH_NOARGS, "release()\n\nSame as unlock()."},
    {"copy", (PyCFunction)Frame_copy, METH_NOARGS, Frame_copy_doc},
    {"tobytes", (PyCFunction)Frame_tobytes, METH_NOARGS, Frame_tobytes_doc},
    {"__array__", (PyCFunction)(void (*)(void))Frame_array, METH_VARARGS | METH_KEYWORDS,
     "numpy's fallback: raises ValueError once the buffer is no longer valid."},
    {"__enter__", (PyCFunction)Frame_enter, METH_NOARGS, "Returns the frame itself."},
    {"__exit__", (PyCFunction)Frame_exit, METH_VARARGS,
     "Unlocks the frame (BufferError while views of it exist). When the block\n"
     "raises and views exist, the frame stays locked and the error goes on."},
    {NULL},
};

PyDoc_STRVAR(Frame_doc,
"A frame locked by a Client (Client.lock() returns it; never made directly).\n"
"\n"
"It exposes the pixels in the shared mapping through the buffer protocol,\n"
"read-only and without a copy: numpy.asarray(frame) is a view of shape\n"
"frame.shape and dtype frame.dtype:\n"
"\n"
"    rgb8     (height, width, 3) uint8       rgba8  (height, width, 4) uint8\n"
"    gray8    (height, width)    uint8       gray16 (height, width) uint16\n"
"    float32  (height, width)    float32     volumes: (depth, height, width[, c])\n"
"\n"
"Rows are top row first. Attributes: number, width, height, depth, format,\n"
"format_name, timestamp, spacing, origin, shape, dtype, nbytes, locked.\n"
"\n"
"The server never writes a locked buffer. Use the frame as a context\n"
"manager, or call unlock(), to hand it back. While views of the buffer\n"
"exist unlock() raises BufferError and the frame stays locked; after\n"
"unlock() the buffer is no longer reachable (ValueError). The metadata\n"
"attributes stay readable.");

static PyTypeObject FrameType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shared_memory_image.Frame",
    .tp_basicsize = sizeof(FrameObject),
    .tp_dealloc = (destructor)Frame_dealloc,
    .tp_repr = (reprfunc)Frame_repr,
    .tp_as_buffer = &Frame_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = Frame_doc,
    .tp_methods = Frame_methods,
    .tp_members = Frame_members,
    .tp_getset = Frame_getset,
};

/* ---- AcquiredFrame (server, zero-copy) ------------------------------------ */

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
        return smi_raise(rc, "publish to %R", s->path);
    return PyLong_FromLong(rc);
}

PyDoc_STRVAR(AcquiredFrame_publish_doc,
"publish($self, /)\n--\n\n"
"Hand the frame to the clients. Returns IMAGESTREAM_NOERROR, or\n"
"IMAGESTREAM_UNCONNECTED when no client is attached (the extended layout\n"
"still keeps the frame for clients that attach later). The frame is\n"
"invalid afterwards. Raises BufferError, and nothing is published, while\n"
"views of the buffer still exist (del them first).");

static PyObject *AcquiredFrame_publish(FrameObject *f, PyObject *unused)
{
    (void)unused;
    if (frame_check_valid(f) < 0)
        return NULL;
    return server_publish(f->owner, f);
}

/* Give the acquired buffer back unpublished, when no view of it is left
   (a writable view must never outlive the buffer being ours). */
static void server_abandon_quietly(StreamObject *s, FrameObject *f)
{
    if (f->exports > 0 || stream_enter(s) < 0) {
        PyErr_Clear();
        return;
    }
    int rc = SharedMemoryImageStream_abandon(s->stream);
    stream_mutex_unlock(s);
    if (rc == IMAGESTREAM_NOERROR) {
        s->pending = 0;
        f->valid = 0;
        if (s->frame == f)
            s->frame = NULL;
    }
}

static PyObject *AcquiredFrame_exit(FrameObject *f, PyObject *args)
{
    if (!f->valid)
        Py_RETURN_FALSE;
    if (exit_with_exception(args)) {
        /* Never show clients a half-written frame: drop it, unless views of
           the buffer still exist (then it stays acquired, as documented). */
        server_abandon_quietly(f->owner, f);
        Py_RETURN_FALSE;
    }
    PyObject *r = server_publish(f->owner, f);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyGetSetDef AcquiredFrame_getset[] = {
    FRAME_COMMON_GETSET,
    {"number", (getter)Frame_get_number, (setter)Frame_set_number,
     "Frame number clients will see: preset to the next one (0 for a new\n"
     "stream's first frame), may be set before publish() (after a takeover, a\n"
     "number not above the frames in the file is raised).", NULL},
    {"acquired", (getter)Frame_get_valid, NULL,
     "True until publish(): only then may the buffer be written.", NULL},
    {NULL},
};

static PyMethodDef AcquiredFrame_methods[] = {
    {"publish", (PyCFunction)AcquiredFrame_publish, METH_NOARGS, AcquiredFrame_publish_doc},
    {"copy", (PyCFunction)Frame_copy, METH_NOARGS, Frame_copy_doc},
    {"tobytes", (PyCFunction)Frame_tobytes, METH_NOARGS, Frame_tobytes_doc},
    {"__array__", (PyCFunction)(void (*)(void))Frame_array, METH_VARARGS | METH_KEYWORDS,
     "numpy's fallback: raises ValueError once the buffer is no longer valid."},
    {"__enter__", (PyCFunction)Frame_enter, METH_NOARGS, "Returns the frame itself."},
    {"__exit__", (PyCFunction)AcquiredFrame_exit, METH_VARARGS,
     "Publishes the frame when the block ends normally (BufferError while\n"
     "views of it exist). When the block raises, nothing is published: the\n"
     "buffer is given back, or, while views of it exist, stays acquired\n"
     "until Server.publish() or Server.close()."},
    {NULL},
};

PyDoc_STRVAR(AcquiredFrame_doc,
"A writable buffer of the stream file, from Server.acquire() (zero-copy).\n"
"\n"
"numpy.asarray(frame) is a writable view of the buffer with the frame's\n"
"shape and dtype (see Frame); fill it top row first (flip_vertical does not\n"
"apply), then publish(), or leave a `with` block. Delete the views first:\n"
"publish() raises BufferError while they exist, since clients may read the\n"
"buffer once it is published. Attributes as Frame; `number` is settable.");

static PyTypeObject AcquiredFrameType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shared_memory_image.AcquiredFrame",
    .tp_basicsize = sizeof(FrameObject),
    .tp_dealloc = (destructor)Frame_dealloc,
    .tp_repr = (reprfunc)Frame_repr,
    .tp_as_buffer = &Frame_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = AcquiredFrame_doc,
    .tp_methods = AcquiredFrame_methods,
    .tp_members = Frame_members,
    .tp_getset = AcquiredFrame_getset,
};

/* ---- Argument helpers ----------------------------------------------------- */

/* O& converter: str, bytes or os.PathLike to a bytes path. */
static int smi_path_converter(PyObject *o, void *out)
{
    return PyUnicode_FSConverter(o, out);
}

static int smi_u32_arg(PyObject *o, const char *name, uint32_t min, uint32_t *out)
{
    if (PyFloat_Check(o) || !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be an integer, not %.100s", name,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *idx = PyNumber_Index(o);
    if (!idx)
        return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
    Py_DECREF(idx);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < (long long)min || v > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s must be in %u..%u", name, min, UINT32_MAX);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* A sequence of 2 or 3 numbers into v[3] (a missing z keeps its default). */
static int smi_vec3_arg(PyObject *o, const char *name, double v[3])
{
    if (o == NULL || o == Py_None)
        return 0;
    PyObject *seq = PySequence_Fast(o, "");
    if (!seq) {
        PyErr_Format(PyExc_TypeError, "%s must be a sequence of 2 or 3 numbers", name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n != 2 && n != 3) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "%s must have 2 or 3 components, not %zd", name, n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double d = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (d == -1.0 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return -1;
        }
        v[i] = d;
    }
    Py_DECREF(seq);
    return 0;
}

static int smi_format_arg(PyObject *o, uint32_t *fmt)
{
    if (smi_u32_arg(o, "format", 0, fmt) < 0)
        return -1;
    if (SharedMemoryImageStream_formatsize(*fmt) == 0) {
        PyErr_Format(PyExc_ValueError,
                     "unknown pixel format %u: use one of the FORMAT_* constants", *fmt);
        return -1;
    }
    return 0;
}

/* Fill the metadata of d from keyword values (None: defaults). */
static int smi_metadata_args(SharedMemoryImageDesc *d, PyObject *timestamp, PyObject *spacing,
                             PyObject *origin)
{
    d->spacing[0] = d->spacing[1] = d->spacing[2] = 1.0;
    if (timestamp && timestamp != Py_None) {
        d->timestamp = PyFloat_AsDouble(timestamp);
        if (d->timestamp == -1.0 && PyErr_Occurred())
            return -1;
    }
    if (smi_vec3_arg(spacing, "spacing", d->spacing) < 0 ||
        smi_vec3_arg(origin, "origin", d->origin) < 0)
        return -1;
    return 0;
}

/* ---- inspect() / info() dictionaries --------------------------------------- */

static int dict_set(PyObject *d, const char *key, PyObject *v)
{
    if (!v)
        return -1;
    int r = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return r;
}

static PyObject *smi_info_dict(const SharedMemoryStreamInfo *in)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    const char *layout = in->layout == IMAGESTREAM_LAYOUT_EXTENDED ? "extended"
                         : in->layout == IMAGESTREAM_LAYOUT_ENSIGHT ? "ensight"
                                                                    : NULL;
    uint32_t nbuf = in->buffer_count < IMAGESTREAM_MAX_BUFFERS ? in->buffer_count
                                                               : IMAGESTREAM_MAX_BUFFERS;
    PyObject *bufs = PyList_New(0);
    if (!bufs || dict_set(d, "layout", layout ? PyUnicode_FromString(layout) : Py_NewRef(Py_None)) ||
        dict_set(d, "version", PyLong_FromUnsignedLong(in->version)) ||
        dict_set(d, "file_size", PyLong_FromUnsignedLongLong(in->file_size)) ||
        dict_set(d, "server_alive", PyBool_FromLong(in->server_alive)) ||
        dict_set(d, "clients", PyLong_FromUnsignedLong(in->clients)) ||
        dict_set(d, "max_clients", PyLong_FromUnsignedLong(in->max_clients)) ||
        dict_set(d, "buffer_count", PyLong_FromUnsignedLong(in->buffer_count)) ||
        dict_set(d, "buffer_size", PyLong_FromUnsignedLongLong(in->buffer_size)) ||
        dict_set(d, "last_frame", PyLong_FromUnsignedLong(in->last_frame)) ||
        dict_set(d, "server_generation", PyLong_FromUnsignedLong(in->server_generation)) ||
        dict_set(d, "last_sequence", PyLong_FromUnsignedLongLong(in->last_sequence)))
        goto fail;
    for (uint32_t i = 0; i < nbuf; i++) {
        const SharedMemoryBufferInfo *b = &in->buffers[i];
        PyObject *bd = Py_BuildValue(
            "{s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:K,s:d}", "state", b->state, "format",
            b->format, "format_name", SharedMemoryImageStream_formatname(b->format), "frame",
            b->frame, "width", b->width, "height", b->height, "depth", b->depth, "holders",
            b->holders, "sequence", (unsigned long long)b->sequence, "timestamp", b->timestamp);
        if (!bd || PyList_Append(bufs, bd) < 0) {
            Py_XDECREF(bd);
            goto fail;
        }
        Py_DECREF(bd);
    }
    if (dict_set(d, "buffers", bufs) < 0) {
        bufs = NULL;
        goto fail;
    }
    return d;
fail:
    Py_XDECREF(bufs);
    Py_DECREF(d);
    return NULL;
}

/* ---- Client and Server: common parts ---------------------------------------- */

static StreamObject *stream_alloc(PyTypeObject *type)
{
    StreamObject *s = (StreamObject *)type->tp_alloc(type, 0);
    if (!s)
        return NULL;
    s->mutex = PyThread_allocate_lock();
    if (!s->mutex) {
        Py_DECREF(s);
        PyErr_NoMemory();
        return NULL;
    }
    s->is_server = type == &ServerType || PyType_IsSubtype(type, &ServerType);
    return s;
}

/* Open the library stream for `pathb` (bytes). */
static int stream_open(StreamObject *s, PyObject *pathb, uint32_t options)
{
    Py_XSETREF(s->path, PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(pathb)));
    if (!s->path)
        return -1;
    if (s->stream) {
        PyErr_SetString(PyExc_RuntimeError, "__init__ called twice");
        return -1;
    }
    SharedMemoryImageStream stream = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_create(PyBytes_AS_STRING(pathb), options, &stream);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        smi_raise(rc, "cannot open %R as a %s", s->path, s->is_server ? "server" : "client");
        return -1;
    }
    s->stream = stream;
    s->options = options;
    s->open_code = rc;
    return 0;
}

/* Close: refuse while the live frame is exported; invalidate it; destroy. */
static int stream_close(StreamObject *s)
{
    if (!s->stream)
        return 0;
    FrameObject *f = s->frame;
    if (f && frame_check_no_exports(f, s->is_server ? "close the server" : "close the client") < 0)
        return -1;
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
    return 0;
}

static void Stream_dealloc(StreamObject *s)
{
    /* A live Frame holds a reference, so no frame is locked or exported here. */
    if (s->stream) {
        SharedMemoryImageStream_destroy(s->stream);
        s->stream = NULL;
    }
    if (s->mutex)
        PyThread_free_lock(s->mutex);
    Py_CLEAR(s->path);
    Py_TYPE(s)->tp_free((PyObject *)s);
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
    if (stream_close(s) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Stream_enter(StreamObject *s, PyObject *unused)
{
    (void)unused;
    if (!s->stream) {
        PyErr_Format(PyExc_ValueError, "I/O operation on a closed %s",
                     s->is_server ? "Server" : "Client");
        return NULL;
    }
    return Py_NewRef(s);
}

static PyObject *Stream_exit(StreamObject *s, PyObject *args)
{
    /* As Frame_exit: an exception leaving the block is not masked; the
       stream then stays open until close() or until it is collected. */
    if (exit_with_exception(args) && s->frame && s->frame->exports > 0)
        Py_RETURN_FALSE;
    if (stream_close(s) < 0)
        return NULL;
    Py_RETURN_FALSE;
}

PyDoc_STRVAR(Stream_info_doc,
"info($self, /)\n--\n\n"
"The stream's state, as inspect(path) reports it, from this open stream\n"
"(a client learns whether its server is alive).");

static PyObject *Stream_info(StreamObject *s, PyObject *unused)
{
    (void)unused;
    SharedMemoryStreamInfo info;
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_info(s->stream, &info);
    stream_mutex_unlock(s);
    if (rc < 0)
        return smi_raise(rc, "info of %R", s->path);
    return smi_info_dict(&info);
}

static PyObject *Stream_repr(StreamObject *s)
{
    return PyUnicode_FromFormat("<shared_memory_image.%s %R %s>",
                                s->is_server ? "Server" : "Client",
                                s->path ? s->path : Py_None, s->stream ? "open" : "closed");
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

static PyMemberDef Stream_members[] = {
    {"open_code", T_INT, offsetof(StreamObject, open_code), READONLY,
     "What opening answered: IMAGESTREAM_NOERROR, or IMAGESTREAM_RECONNECTING\n"
     "when the stream was already active (taken over: not an error)."},
    {"options", T_UINT, offsetof(StreamObject, options), READONLY,
     "The IMAGESTREAM_OPTIONS_* bits the stream was opened with."},
    {NULL},
};

/* ---- Client ----------------------------------------------------------------- */

static PyObject *Stream_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    return (PyObject *)stream_alloc(type);
}

static int Client_init(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "any_format", NULL};
    PyObject *pathb = NULL;
    int any_format = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|p:Client", kwlist, smi_path_converter,
                                     &pathb, &any_format))
        return -1;
    uint32_t options = IMAGESTREAM_OPTIONS_NONE;
    if (any_format)
        options |= IMAGESTREAM_OPTIONS_ANYFORMAT;
    int r = stream_open(s, pathb, options);
    Py_DECREF(pathb);
    return r;
}

/* Wait for a newer frame: 1 yes, 0 timed out, -1 exception. timeout < 0: for ever. */
static int client_wait(StreamObject *s, double timeout)
{
    const double deadline = timeout < 0 ? 0.0 : smi_monotonic() + timeout;
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
            return -1;
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = SharedMemoryImageStream_wait(s->stream, slice);
        Py_END_ALLOW_THREADS
        stream_mutex_unlock(s);
        if (rc == IMAGESTREAM_NOERROR)
            return 1;
        if (rc < 0) {
            smi_raise(rc, "wait on %R", s->path);
            return -1;
        }
        if (PyErr_CheckSignals() < 0)
            return -1;
        if (timeout >= 0 && (slice == 0 || smi_monotonic() >= deadline))
            return 0;
    }
}

static int smi_timeout_arg(PyObject *o, double *timeout)
{
    if (o == NULL || o == Py_None) {
        *timeout = -1.0;
        return 0;
    }
    double t = PyFloat_AsDouble(o);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (isnan(t) || t < 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be a number of seconds >= 0, or None");
        return -1;
    }
    if (isinf(t))
        t = -1.0;
    *timeout = t;
    return 0;
}

PyDoc_STRVAR(Client_wait_doc,
"wait($self, /, timeout=None)\n--\n\n"
"Block until a frame newer than the last one this client locked is\n"
"published (True) or `timeout` seconds pass (False); None waits for ever.\n"
"The GIL is released while waiting, and Ctrl-C (any signal whose handler\n"
"raises) interrupts the wait within 50 ms. Extended layout: the kernel\n"
"wakes the client as the frame is published (no polling). May be called\n"
"while a frame is locked, to wait for the next one.");

static PyObject *Client_wait(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *to = Py_None;
    double timeout;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:wait", kwlist, &to) ||
        smi_timeout_arg(to, &timeout) < 0)
        return NULL;
    int r = client_wait(s, timeout);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

/* Lock the newest frame: a new Frame, Py_None (no new frame), or NULL. */
static PyObject *client_lock(StreamObject *s)
{
    FrameObject *f = frame_new(&FrameType, s);
    if (!f)
        return NULL;
    if (stream_enter(s) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    SharedMemoryFrame cf = NULL;
    SharedMemoryImageDesc desc;
    int rc, drc = IMAGESTREAM_NOERROR;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_lock(s->stream, &cf);
    if (rc == IMAGESTREAM_NOERROR) {
        drc = SharedMemoryImageStream_describe(s->stream, &desc);
        if (drc != IMAGESTREAM_NOERROR)
            SharedMemoryImageStream_unlock(s->stream);
    }
    Py_END_ALLOW_THREADS
    stream_mutex_unlock(s);
    if (rc == IMAGESTREAM_NOERROR && drc != IMAGESTREAM_NOERROR)
        rc = drc;
    if (rc != IMAGESTREAM_NOERROR) {
        Py_DECREF(f);
        if (rc < 0) {
            if (rc == IMAGESTREAM_LOCKED)
                return smi_raise(rc, "lock %R: this client already holds a frame; unlock it "
                                     "first", s->path);
            return smi_raise(rc, "lock %R", s->path);
        }
        Py_RETURN_NONE; /* NO_FRAMEAVAILABLE, FORMAT_SKIPPED */
    }
    f->cframe = cf;
    f->data = cf->buffer;
    f->number = cf->iFrame;
    frame_set_geometry(f, &desc);
    f->valid = 1;
    s->frame = f;
    return (PyObject *)f;
}

PyDoc_STRVAR(Client_lock_doc,
"lock($self, /)\n--\n\n"
"Lock the newest published frame this client has not locked yet and\n"
"return it as a Frame (read its pixels with numpy.asarray(frame), no\n"
"copy), or return None when there is no new frame. Without any_format,\n"
"frames that are not packed RGB are skipped (None). Does not block.\n"
"Raises Error (IMAGESTREAM_LOCKED) while a frame is still locked.");

static PyObject *Client_lock(StreamObject *s, PyObject *unused)
{
    (void)unused;
    return client_lock(s);
}

PyDoc_STRVAR(Client_unlock_doc,
"unlock($self, /)\n--\n\n"
"Unlock the frame this client holds (Frame.unlock()). BufferError while\n"
"views of it exist; Error (IMAGESTREAM_NOT_LOCKED) when none is locked.");

static PyObject *Client_unlock(StreamObject *s, PyObject *unused)
{
    (void)unused;
    if (s->frame)
        return Frame_unlock(s->frame, NULL);
    if (stream_enter(s) < 0)
        return NULL;
    int rc = SharedMemoryImageStream_unlock(s->stream);
    stream_mutex_unlock(s);
    if (rc < 0)
        return smi_raise(rc, "unlock %R", s->path);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Client_read_doc,
"read($self, /, timeout=None)\n--\n\n"
"Wait for the next frame (see wait()), lock it, copy it into a new numpy\n"
"array and unlock it. None when `timeout` passes first. Needs numpy.");

static PyObject *client_read(StreamObject *s, double timeout)
{
    if (s->frame) {
        PyErr_SetString(PyExc_RuntimeError, "read(): a frame is locked; unlock it first");
        return NULL;
    }
    const double deadline = timeout < 0 ? 0.0 : smi_monotonic() + timeout;
    for (;;) {
        double left = timeout < 0 ? -1.0 : deadline - smi_monotonic();
        int r = client_wait(s, timeout < 0 ? -1.0 : (left > 0 ? left : 0.0));
        if (r < 0)
            return NULL;
        if (r == 0)
            Py_RETURN_NONE;
        PyObject *f = client_lock(s);
        if (!f)
            return NULL;
        if (f == Py_None) {
            /* The server dropped it, or it was skipped: wait for the next one. */
            Py_DECREF(f);
            if (timeout >= 0 && smi_monotonic() >= deadline)
                Py_RETURN_NONE;
            continue;
        }
        PyObject *arr = frame_to_numpy((FrameObject *)f);
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb); /* the copy's error, if any, wins */
        PyObject *u = Frame_unlock((FrameObject *)f, NULL);
        Py_DECREF(f);
        if (!arr) {
            Py_XDECREF(u);
            PyErr_Restore(type, value, tb);
            return NULL;
        }
        if (!u) {
            Py_DECREF(arr);
            return NULL;
        }
        Py_DECREF(u);
        return arr;
    }
}

static PyObject *Client_read(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *to = Py_None;
    double timeout;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:read", kwlist, &to) ||
        smi_timeout_arg(to, &timeout) < 0)
        return NULL;
    return client_read(s, timeout);
}

static PyGetSetDef Client_getset[] = {
    {"closed", (getter)Stream_get_closed, NULL, "True once closed.", NULL},
    {"path", (getter)Stream_get_path, NULL, "The stream file.", NULL},
    {"frame", (getter)Stream_get_frame, NULL, "The Frame locked now, or None.", NULL},
    {NULL},
};

static PyMethodDef Client_methods[] = {
    {"wait", (PyCFunction)(void (*)(void))Client_wait, METH_VARARGS | METH_KEYWORDS,
     Client_wait_doc},
    {"lock", (PyCFunction)Client_lock, METH_NOARGS, Client_lock_doc},
    {"unlock", (PyCFunction)Client_unlock, METH_NOARGS, Client_unlock_doc},
    {"read", (PyCFunction)(void (*)(void))Client_read, METH_VARARGS | METH_KEYWORDS,
     Client_read_doc},
    {"info", (PyCFunction)Stream_info, METH_NOARGS, Stream_info_doc},
    {"close", (PyCFunction)Stream_close, METH_NOARGS, Stream_close_doc},
    {"__enter__", (PyCFunction)Stream_enter, METH_NOARGS, "Returns the client itself."},
    {"__exit__", (PyCFunction)Stream_exit, METH_VARARGS, "Closes the client."},
    {NULL},
};

PyDoc_STRVAR(Client_doc,
"Client(path, any_format=False)\n"
"--\n\n"
"Attach to the stream in the existing file `path` as a client (either\n"
"layout, detected from the file). Raises Error when the file is missing,\n"
"not a stream, or every client slot is taken; IMAGESTREAM_UNSAFE_FILE for\n"
"a symbolic link, a FIFO or anything but a regular file, another user's\n"
"file, or one group or others may write. With any_format, frames of\n"
"every pixel format are handed out (else only packed RGB, as EnSight's\n"
"client API promises).\n"
"\n"
"    with smi.Client(path) as client:\n"
"        while client.wait(timeout=1.0):\n"
"            frame = client.lock()          # Frame or None\n"
"            if frame is None:\n"
"                continue\n"
"            with frame:                    # unlocks when the block ends\n"
"                pixels = numpy.asarray(frame)  # (h, w, 3) uint8, no copy\n"
"                total = pixels.sum()\n"
"                del pixels                 # no view may outlive the lock\n"
"\n"
"A client is one attachment: use one per thread, or share it (calls are\n"
"serialized). Do not use it in a forked child; open a new one there.");

static PyTypeObject ClientType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shared_memory_image.Client",
    .tp_basicsize = sizeof(StreamObject),
    .tp_dealloc = (destructor)Stream_dealloc,
    .tp_repr = (reprfunc)Stream_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = Client_doc,
    .tp_methods = Client_methods,
    .tp_members = Stream_members,
    .tp_getset = Client_getset,
    .tp_init = (initproc)Client_init,
    .tp_new = Stream_new,
};

/* ---- Server ----------------------------------------------------------------- */

static int Server_init(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "flip_vertical", "ensight_layout", NULL};
    PyObject *pathb = NULL;
    int flip = 0, ensight = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|pp:Server", kwlist, smi_path_converter,
                                     &pathb, &flip, &ensight))
        return -1;
    uint32_t options = IMAGESTREAM_OPTIONS_SERVER;
    if (!ensight)
        options |= IMAGESTREAM_OPTIONS_EXTENDED;
    if (flip)
        options |= IMAGESTREAM_OPTIONS_FLIPVERTICAL;
    int r = stream_open(s, pathb, options);
    Py_DECREF(pathb);
    return r;
}

/* The one struct code of a buffer's items (numpy: 'B', 'H', 'f', ...), or NULL
   for anything else (structs, big-endian multi-byte items). */
static const char *smi_struct_kind(const Py_buffer *v, char *kind)
{
    const char *f = v->format ? v->format : "B";
    char order = '@';
    if (strchr("@=<>!", *f) && *f != '\0')
        order = *f++;
    if (f[0] == '\0' || f[1] != '\0')
        return NULL;
    if (v->itemsize > 1) {
#if PY_BIG_ENDIAN
        if (order != '<')
            return NULL;
#else
        if (order == '>' || order == '!')
            return NULL;
#endif
    }
    *kind = f[0];
    return f;
}

/* Work out the frame description of `v` for send(). */
static int send_describe(const Py_buffer *v, PyObject *width_o, PyObject *height_o,
                         PyObject *format_o, PyObject *depth_o, SharedMemoryImageDesc *d)
{
    uint32_t fmt = IMAGESTREAM_FORMAT_RGB8, depth = 1;
    int have_fmt = format_o && format_o != Py_None;
    int have_depth = depth_o && depth_o != Py_None;
    if (have_fmt && smi_format_arg(format_o, &fmt) < 0)
        return -1;
    if (have_depth && smi_u32_arg(depth_o, "depth", 1, &depth) < 0)
        return -1;
    int have_w = width_o && width_o != Py_None, have_h = height_o && height_o != Py_None;
    if (have_w != have_h) {
        PyErr_SetString(PyExc_TypeError, "send(): give both width and height, or neither");
        return -1;
    }
    if (have_w) {
        /* Raw bytes of a described frame. */
        if (smi_u32_arg(width_o, "width", 1, &d->width) < 0 ||
            smi_u32_arg(height_o, "height", 1, &d->height) < 0)
            return -1;
        unsigned long long need = (unsigned long long)d->width * d->height;
        if (__builtin_mul_overflow(need, (unsigned long long)depth, &need) ||
            __builtin_mul_overflow(need, SharedMemoryImageStream_formatsize(fmt), &need) ||
            need != (unsigned long long)v->len) {
            PyErr_Format(PyExc_ValueError,
                         "send(): the buffer holds %zd bytes, but a %ux%u%s %s frame needs %llu",
                         v->len, d->width, d->height, depth > 1 ? " (x depth)" : "",
                         SharedMemoryImageStream_formatname(fmt), need);
            return -1;
        }
        d->format = fmt;
        d->depth = depth;
        return 0;
    }

    char kind;
    if (!smi_struct_kind(v, &kind)) {
        PyErr_Format(PyExc_TypeError,
                     "send(): cannot send items of struct format '%s': use uint8 (RGB8 "
                     "(h, w, 3), RGBA8 (h, w, 4), GRAY8 (h, w)), little-endian uint16 "
                     "(GRAY16) or float32 (FLOAT32)", v->format ? v->format : "B");
        return -1;
    }
    const Py_ssize_t *sh = v->shape;
    int nd = v->ndim;
    Py_ssize_t one_d[1] = {v->len / (v->itemsize ? v->itemsize : 1)};
    if (!sh) {
        sh = one_d;
        nd = 1;
    }
    uint32_t channels = 1;
    if (kind == 'B' && v->itemsize == 1) {
        if (have_fmt) {
            if (fmt == IMAGESTREAM_FORMAT_GRAY16 || fmt == IMAGESTREAM_FORMAT_FLOAT32) {
                PyErr_Format(PyExc_TypeError, "send(): format %s needs a %s array, not uint8",
                             SharedMemoryImageStream_formatname(fmt),
                             fmt == IMAGESTREAM_FORMAT_GRAY16 ? "uint16" : "float32");
                return -1;
            }
            channels = fmt == IMAGESTREAM_FORMAT_RGB8 ? 3 : fmt == IMAGESTREAM_FORMAT_RGBA8 ? 4 : 1;
        } else if ((nd == 3 || nd == 4) && (sh[nd - 1] == 3 || sh[nd - 1] == 4)) {
            channels = (uint32_t)sh[nd - 1];
            fmt = channels == 3 ? IMAGESTREAM_FORMAT_RGB8 : IMAGESTREAM_FORMAT_RGBA8;
        } else if (nd == 3 && !have_depth) {
            PyErr_Format(PyExc_ValueError,
                         "send(): a uint8 array of shape (%zd, %zd, %zd) is ambiguous: an RGB8 or "
                         "RGBA8 image is (height, width, 3 or 4); for a GRAY8 volume (depth, "
                         "height, width) pass format=FORMAT_GRAY8 or depth=%zd",
                         sh[0], sh[1], sh[2], sh[0]);
            return -1;
        } else {
            fmt = IMAGESTREAM_FORMAT_GRAY8;
        }
    } else if ((kind == 'H' && v->itemsize == 2) || (kind == 'f' && v->itemsize == 4)) {
        uint32_t want = kind == 'H' ? IMAGESTREAM_FORMAT_GRAY16 : IMAGESTREAM_FORMAT_FLOAT32;
        if (have_fmt && fmt != want) {
            PyErr_Format(PyExc_TypeError, "send(): a %s array cannot be sent as format %s",
                         kind == 'H' ? "uint16" : "float32",
                         SharedMemoryImageStream_formatname(fmt));
            return -1;
        }
        fmt = want;
    } else {
        PyErr_Format(PyExc_TypeError,
                     "send(): cannot send items of struct format '%s' (itemsize %zd): use "
                     "uint8 (RGB8 (h, w, 3), RGBA8 (h, w, 4), GRAY8 (h, w)), uint16 (GRAY16) "
                     "or float32 (FLOAT32)", v->format ? v->format : "B", v->itemsize);
        return -1;
    }

    /* Image: (h, w[, c]); volume: (d, h, w[, c]). */
    int spatial = nd - (channels > 1 ? 1 : 0);
    if ((channels > 1 && (nd < 3 || sh[nd - 1] != (Py_ssize_t)channels)) || spatial < 2 ||
        spatial > 3) {
        PyObject *shape = PyTuple_New(nd);
        for (int i = 0; shape && i < nd; i++)
            PyTuple_SET_ITEM(shape, i, PyLong_FromSsize_t(sh[i]));
        if (shape)
            PyErr_Format(PyExc_ValueError,
                         "send(): an array of shape %R is not a %s frame: expected %s, or a "
                         "volume (depth, height, width%s); or pass width= and height=",
                         shape, SharedMemoryImageStream_formatname(fmt),
                         channels == 3   ? "(height, width, 3)"
                         : channels == 4 ? "(height, width, 4)"
                                         : "(height, width)",
                         channels == 3 ? ", 3)" : channels == 4 ? ", 4)" : ")");
        Py_XDECREF(shape);
        return -1;
    }
    Py_ssize_t vd = spatial == 3 ? sh[0] : 1, vh = sh[spatial - 2], vw = sh[spatial - 1];
    if (vd < 1 || vh < 1 || vw < 1 || vd > UINT32_MAX || vh > UINT32_MAX || vw > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "send(): the frame is empty or too large");
        return -1;
    }
    if (have_depth && (Py_ssize_t)depth != vd) {
        PyErr_Format(PyExc_ValueError, "send(): depth=%u does not match the array (%zd slices)",
                     depth, vd);
        return -1;
    }
    d->format = fmt;
    d->width = (uint32_t)vw;
    d->height = (uint32_t)vh;
    d->depth = (uint32_t)vd;
    return 0;
}

PyDoc_STRVAR(Server_send_doc,
"send($self, /, pixels, width=None, height=None, *, format=None, depth=None,\n"
"     frame_number=0, timestamp=None, spacing=None, origin=None)\n--\n\n"
"Copy one frame into the stream (one copy, straight into the shared\n"
"buffer, GIL released) and publish it. `pixels` is a C-contiguous numpy\n"
"array (or any buffer) whose dtype and shape give the format:\n"
"\n"
"    (h, w, 3) uint8 RGB8         (h, w, 4) uint8 RGBA8     (h, w) uint8 GRAY8\n"
"    (h, w) uint16 GRAY16         (h, w) float32 FLOAT32\n"
"    (d, h, w[, c]): a volume of d slices (x fastest, then y, then z);\n"
"    a uint8 (d, h, w) volume needs format=FORMAT_GRAY8 or depth=d\n"
"\n"
"or any buffer of raw bytes with width and height (and format, depth)\n"
"given. Rows top row first (bottom first with flip_vertical=True).\n"
"frame_number 0 numbers frames on by themselves (0, 1, 2, ... in a new\n"
"stream); timestamp defaults to\n"
"now; spacing/origin are 2 or 3 numbers.\n"
"\n"
"Returns IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED (no client attached)\n"
"or IMAGESTREAM_NO_BUFFERAVAILABLE (clients hold every buffer: dropped).\n"
"Raises TypeError/ValueError for an unusable array and Error for a\n"
"negative code (e.g. IMAGESTREAM_FRAME_TOO_LARGE: make the file larger\n"
"with create_file()).");

static PyObject *Server_send(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"pixels", "width", "height", "format", "depth", "frame_number",
                             "timestamp", "spacing", "origin", NULL};
    PyObject *obj, *width_o = Py_None, *height_o = Py_None, *format_o = Py_None,
                   *depth_o = Py_None, *number_o = NULL, *ts = Py_None, *spacing = Py_None,
                   *origin = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OO$OOOOOO:send", kwlist, &obj, &width_o,
                                     &height_o, &format_o, &depth_o, &number_o, &ts, &spacing,
                                     &origin))
        return NULL;
    if (!s->stream)
        return Stream_enter(s, NULL); /* raises ValueError */
    uint32_t number = 0;
    if (number_o && smi_u32_arg(number_o, "frame_number", 0, &number) < 0)
        return NULL;
    Py_buffer v;
    if (PyObject_GetBuffer(obj, &v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        if (PyErr_ExceptionMatches(PyExc_BufferError) || PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError,
                            "send(): the pixels must be C-contiguous (numpy.ascontiguousarray() "
                            "makes a contiguous copy)");
        } else if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "send(): pixels must be a numpy array or another buffer (bytes, "
                         "bytearray, memoryview), not %.100s", Py_TYPE(obj)->tp_name);
        }
        return NULL;
    }
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    if (send_describe(&v, width_o, height_o, format_o, depth_o, &d) < 0 ||
        smi_metadata_args(&d, ts, spacing, origin) < 0) {
        PyBuffer_Release(&v);
        return NULL;
    }
    if (stream_enter(s) < 0) {
        PyBuffer_Release(&v);
        return NULL;
    }
    int rc;
    if (v.len >= SMI_NOGIL_COPY_BYTES) {
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
        if (rc == IMAGESTREAM_LOCKED)
            return smi_raise(rc, "send to %R: a frame from acquire() is not published yet "
                                 "(publish() it, or close the server)", s->path);
        if (rc == IMAGESTREAM_FRAME_TOO_LARGE)
            return smi_raise(rc, "send to %R: a %ux%u%s %s frame does not fit (create_file() "
                                 "makes the file larger, before the server opens it)",
                             s->path, d.width, d.height, d.depth > 1 ? " (x depth)" : "",
                             SharedMemoryImageStream_formatname(d.format));
        return smi_raise(rc, "send to %R", s->path);
    }
    return PyLong_FromLong(rc);
}

PyDoc_STRVAR(Server_acquire_doc,
"acquire($self, /, width, height, *, format=0, depth=1, frame_number=None,\n"
"        timestamp=None, spacing=None, origin=None)\n--\n\n"
"Zero-copy publishing: take a free buffer of the stream file for one frame\n"
"and return it as an AcquiredFrame; numpy.asarray(frame) writes straight\n"
"into the shared buffer. Fill it (top row first), delete the views, then\n"
"publish() it (or leave a `with` block). Returns None when no buffer is\n"
"free (server.last_code says why: IMAGESTREAM_NO_BUFFERAVAILABLE, or\n"
"IMAGESTREAM_UNCONNECTED in the EnSight layout).\n"
"\n"
"    with server.acquire(1920, 1080) as frame:\n"
"        a = numpy.asarray(frame)      # (1080, 1920, 3) uint8, writable\n"
"        render_into(a)\n"
"        del a");

static PyObject *Server_acquire(StreamObject *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"width", "height", "format", "depth", "frame_number",
                             "timestamp", "spacing", "origin", NULL};
    PyObject *width_o, *height_o, *format_o = NULL, *depth_o = NULL, *number_o = Py_None,
                                  *ts = Py_None, *spacing = Py_None, *origin = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$OOOOOO:acquire", kwlist, &width_o,
                                     &height_o, &format_o, &depth_o, &number_o, &ts, &spacing,
                                     &origin))
        return NULL;
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.depth = 1;
    uint32_t number = 0;
    if (smi_u32_arg(width_o, "width", 1, &d.width) < 0 ||
        smi_u32_arg(height_o, "height", 1, &d.height) < 0 ||
        (format_o && format_o != Py_None && smi_format_arg(format_o, &d.format) < 0) ||
        (depth_o && depth_o != Py_None && smi_u32_arg(depth_o, "depth", 1, &d.depth) < 0) ||
        (number_o != Py_None && smi_u32_arg(number_o, "frame_number", 0, &number) < 0) ||
        smi_metadata_args(&d, ts, spacing, origin) < 0)
        return NULL;
    FrameObject *f = frame_new(&AcquiredFrameType, s);
    if (!f)
        return NULL;
    if (stream_enter(s) < 0) {
        Py_DECREF(f);
        return NULL;
    }
    SharedMemoryFrame cf = NULL;
    SharedMemoryImageDesc got;
    int rc = SharedMemoryImageStream_acquireformat(s->stream, &d, &cf);
    if (rc == IMAGESTREAM_NOERROR) {
        if (SharedMemoryImageStream_describe(s->stream, &got) != IMAGESTREAM_NOERROR)
            got = d;
        if (number_o != Py_None)
            cf->iFrame = number;
    }
    stream_mutex_unlock(s);
    s->last_code = rc;
    if (rc != IMAGESTREAM_NOERROR) {
        Py_DECREF(f);
        if (rc == IMAGESTREAM_LOCKED)
            return smi_raise(rc, "acquire on %R: an earlier acquired frame is not published "
                                 "yet (publish() it, or close the server)", s->path);
        if (rc < 0)
            return smi_raise(rc, "acquire a %ux%u %s frame on %R", d.width, d.height,
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

PyDoc_STRVAR(Server_publish_doc,
"publish($self, /)\n--\n\n"
"Publish the frame taken with acquire(), like AcquiredFrame.publish(),\n"
"also when that object is gone. BufferError while views of it exist;\n"
"Error (IMAGESTREAM_NOT_LOCKED) when nothing is acquired.");

static PyObject *Server_publish(StreamObject *s, PyObject *unused)
{
    (void)unused;
    return server_publish(s, s->frame);
}

static PyObject *Server_get_acquired(StreamObject *s, void *c)
{
    (void)c;
    return PyBool_FromLong(s->pending);
}

static PyMemberDef Server_members[] = {
    {"open_code", T_INT, offsetof(StreamObject, open_code), READONLY,
     "What opening answered: IMAGESTREAM_NOERROR, or IMAGESTREAM_RECONNECTING\n"
     "when this server took over a stream an earlier server had set up."},
    {"options", T_UINT, offsetof(StreamObject, options), READONLY,
     "The IMAGESTREAM_OPTIONS_* bits the stream was opened with."},
    {"last_code", T_INT, offsetof(StreamObject, last_code), READONLY,
     "Code of the last send(), acquire() or publish()."},
    {NULL},
};

static PyGetSetDef Server_getset[] = {
    {"closed", (getter)Stream_get_closed, NULL, "True once closed.", NULL},
    {"path", (getter)Stream_get_path, NULL, "The stream file.", NULL},
    {"acquired", (getter)Server_get_acquired, NULL,
     "True while a frame from acquire() waits to be published.", NULL},
    {"frame", (getter)Stream_get_frame, NULL, "The AcquiredFrame now acquired, or None.", NULL},
    {NULL},
};

static PyMethodDef Server_methods[] = {
    {"send", (PyCFunction)(void (*)(void))Server_send, METH_VARARGS | METH_KEYWORDS,
     Server_send_doc},
    {"acquire", (PyCFunction)(void (*)(void))Server_acquire, METH_VARARGS | METH_KEYWORDS,
     Server_acquire_doc},
    {"publish", (PyCFunction)Server_publish, METH_NOARGS, Server_publish_doc},
    {"info", (PyCFunction)Stream_info, METH_NOARGS, Stream_info_doc},
    {"close", (PyCFunction)Stream_close, METH_NOARGS, Stream_close_doc},
    {"__enter__", (PyCFunction)Stream_enter, METH_NOARGS, "Returns the server itself."},
    {"__exit__", (PyCFunction)Stream_exit, METH_VARARGS, "Closes the server."},
    {NULL},
};

PyDoc_STRVAR(Server_doc,
"Server(path, flip_vertical=False, ensight_layout=False)\n"
"--\n\n"
"Serve (publish frames into) the stream in the existing file `path`; make\n"
"the file first with create_file(). One live server per file: a second\n"
"one raises Error (IMAGESTREAM_SERVER_ACTIVE). A new server takes over\n"
"from a dead one (open_code IMAGESTREAM_RECONNECTING) and attached\n"
"clients go on.\n"
"\n"
"The extended layout (default) serves many clients, any pixel format,\n"
"volumes and metadata. ensight_layout=True writes EnSight's layout: one\n"
"client, RGB8 only, readable by EnSight's own client library.\n"
"flip_vertical=True reverses the rows of send()'s input (for bottom-up\n"
"images such as OpenGL or VTK ones).\n"
"\n"
"    smi.create_file(path, 1920, 1080)\n"
"    with smi.Server(path) as server:\n"
"        for image in images:               # (1080, 1920, 3) uint8 arrays\n"
"            server.send(image)");

static PyTypeObject ServerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shared_memory_image.Server",
    .tp_basicsize = sizeof(StreamObject),
    .tp_dealloc = (destructor)Stream_dealloc,
    .tp_repr = (reprfunc)Stream_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = Server_doc,
    .tp_methods = Server_methods,
    .tp_members = Server_members,
    .tp_getset = Server_getset,
    .tp_init = (initproc)Server_init,
    .tp_new = Stream_new,
};

/* ---- Module functions ------------------------------------------------------- */

PyDoc_STRVAR(create_file_doc,
"create_file(path, max_width, max_height, *, format=0, depth=1, layout=None)\n--\n\n"
"Create the stream file `path` (mode 0600), or grow it, so that it holds\n"
"two frames of max_width x max_height pixels of `format` (x depth slices)\n"
"plus headers. layout=None fits either layout: an RGB8 file is then at\n"
"least 20 MiB, as EnSight's own client asks; layout='extended' sizes it\n"
"for the extended layout only, layout='ensight' for EnSight's. A larger\n"
"file is left as it is. Put it in /dev/shm for memory-speed streams.\n"
"A new file is made exclusively (never through a symbolic link); an\n"
"existing one must be yours and not writable by group or others. The\n"
"file's space is reserved now. Raises Error on failure (code\n"
"IMAGESTREAM_UNSAFE_FILE or IMAGESTREAM_NO_SPACE among them), ValueError\n"
"for an unknown layout.");

static PyObject *smi_create_file(PyObject *m, PyObject *args, PyObject *kwds)
{
    (void)m;
    static char *kwlist[] = {"path", "max_width", "max_height", "format", "depth", "layout", NULL};
    PyObject *pathb = NULL, *w_o, *h_o, *format_o = NULL, *depth_o = NULL;
    const char *layout_name = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&OO|$OOz:create_file", kwlist,
                                     smi_path_converter, &pathb, &w_o, &h_o, &format_o, &depth_o,
                                     &layout_name))
        return NULL;
    uint32_t layout = 0;
    if (layout_name && strcmp(layout_name, "extended") == 0) {
        layout = IMAGESTREAM_LAYOUT_EXTENDED;
    } else if (layout_name && strcmp(layout_name, "ensight") == 0) {
        layout = IMAGESTREAM_LAYOUT_ENSIGHT;
    } else if (layout_name) {
        PyErr_Format(PyExc_ValueError, "layout must be None, 'extended' or 'ensight', not '%s'",
                     layout_name);
        Py_DECREF(pathb);
        return NULL;
    }
    SharedMemoryImageDesc d;
    memset(&d, 0, sizeof d);
    d.format = IMAGESTREAM_FORMAT_RGB8;
    d.depth = 1;
    if (smi_u32_arg(w_o, "max_width", 1, &d.width) < 0 ||
        smi_u32_arg(h_o, "max_height", 1, &d.height) < 0 ||
        (format_o && format_o != Py_None && smi_format_arg(format_o, &d.format) < 0) ||
        (depth_o && depth_o != Py_None && smi_u32_arg(depth_o, "depth", 1, &d.depth) < 0)) {
        Py_DECREF(pathb);
        return NULL;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_createfilelayout(PyBytes_AS_STRING(pathb), layout, &d);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyObject *p = PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(pathb));
        Py_DECREF(pathb);
        if (!p)
            return NULL;
        smi_raise(rc, "cannot create %R for %ux%u %s frames", p, d.width, d.height,
                  SharedMemoryImageStream_formatname(d.format));
        Py_DECREF(p);
        return NULL;
    }
    Py_DECREF(pathb);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(inspect_doc,
"inspect(path, /)\n--\n\n"
"The state of the stream in `path`, read without attaching (nothing in\n"
"the file changes; safe on a live stream, EnSight's too). Keys: layout\n"
"('extended', 'ensight'), version, file_size, server_alive, clients,\n"
"max_clients, buffer_count, buffer_size, last_frame, server_generation,\n"
"last_sequence and buffers (a list of dicts: state, format, format_name,\n"
"frame, width, height, depth, holders, sequence, timestamp). Raises Error\n"
"for a missing or invalid file.");

static PyObject *smi_inspect(PyObject *m, PyObject *arg)
{
    (void)m;
    PyObject *pathb = NULL;
    if (!PyUnicode_FSConverter(arg, &pathb))
        return NULL;
    SharedMemoryStreamInfo info;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = SharedMemoryImageStream_inspect(PyBytes_AS_STRING(pathb), &info);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyObject *p = PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(pathb));
        Py_DECREF(pathb);
        if (p) {
            smi_raise(rc, "cannot inspect %R", p);
            Py_DECREF(p);
        }
        return NULL;
    }
    Py_DECREF(pathb);
    return smi_info_dict(&info);
}

PyDoc_STRVAR(read_frame_doc,
"read_frame(path, timeout=None, *, any_format=True)\n--\n\n"
"One call: attach to the stream in `path`, wait for a frame, copy it into a\n"
"new numpy array (shape and dtype as numpy.asarray(frame)), detach. An\n"
"extended-layout stream hands over its newest frame at once; an EnSight-\n"
"layout stream (one client, which a new client replaces) the next one.\n"
"Raises TimeoutError when no frame comes within `timeout` seconds (None:\n"
"wait for ever; Ctrl-C interrupts), Error when the file is not a stream.");

static PyObject *smi_read_frame(PyObject *m, PyObject *args, PyObject *kwds)
{
    (void)m;
    static char *kwlist[] = {"path", "timeout", "any_format", NULL};
    PyObject *path, *to = Py_None;
    int any_format = 1;
    double timeout;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O$p:read_frame", kwlist, &path, &to,
                                     &any_format) ||
        smi_timeout_arg(to, &timeout) < 0)
        return NULL;
    PyObject *client = PyObject_CallFunction((PyObject *)&ClientType, "Oi", path, any_format);
    if (!client)
        return NULL;
    StreamObject *s = (StreamObject *)client;
    PyObject *arr = client_read(s, timeout);
    if (arr == Py_None) {
        Py_DECREF(arr);
        arr = NULL;
        PyErr_Format(PyExc_TimeoutError, "no frame arrived on %R within %g s", s->path, timeout);
    }
    if (stream_close(s) < 0)
        Py_CLEAR(arr);
    Py_DECREF(client);
    return arr;
}

PyDoc_STRVAR(errorstring_doc,
"errorstring(code, /)\n--\n\n"
"The library's description of an IMAGESTREAM_* return code.");

static PyObject *smi_errorstring(PyObject *m, PyObject *arg)
{
    (void)m;
    long code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (code < INT32_MIN || code > INT32_MAX)
        return PyUnicode_FromString(SharedMemoryImageStream_errorstring(INT32_MIN));
    return PyUnicode_FromString(SharedMemoryImageStream_errorstring((int)code));
}

PyDoc_STRVAR(format_size_doc,
"format_size(format, /)\n--\n\nBytes per pixel of a FORMAT_* value (0 if unknown).");

static PyObject *smi_format_size(PyObject *m, PyObject *arg)
{
    (void)m;
    unsigned long f = PyLong_AsUnsignedLong(arg);
    if (f == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromUnsignedLong(f > UINT32_MAX ? 0 : SharedMemoryImageStream_formatsize((uint32_t)f));
}

PyDoc_STRVAR(format_name_doc,
"format_name(format, /)\n--\n\nName of a FORMAT_* value ('rgb8', ...; 'unknown').");

static PyObject *smi_format_name(PyObject *m, PyObject *arg)
{
    (void)m;
    unsigned long f = PyLong_AsUnsignedLong(arg);
    if (f == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(SharedMemoryImageStream_formatname(f > UINT32_MAX ? UINT32_MAX : (uint32_t)f));
}

static PyMethodDef smi_methods[] = {
    {"create_file", (PyCFunction)(void (*)(void))smi_create_file, METH_VARARGS | METH_KEYWORDS,
     create_file_doc},
    {"inspect", (PyCFunction)smi_inspect, METH_O, inspect_doc},
    {"read_frame", (PyCFunction)(void (*)(void))smi_read_frame, METH_VARARGS | METH_KEYWORDS,
     read_frame_doc},
    {"errorstring", (PyCFunction)smi_errorstring, METH_O, errorstring_doc},
    {"format_size", (PyCFunction)smi_format_size, METH_O, format_size_doc},
    {"format_name", (PyCFunction)smi_format_name, METH_O, format_name_doc},
    {NULL},
};

PyDoc_STRVAR(smi_doc,
"Shared-memory image streams: publish and read frames of pixels through a\n"
"memory-mapped file, with no copy on the reading side.\n"
"\n"
"A thin layer over the C library libshared-memory-image (the same one the\n"
"ParaView plugin and the smi-* tools use). One process, the Server, writes\n"
"frames into the file; any number of Client processes lock the newest\n"
"frame and read it in place. Streams written by EnSight are read too, and\n"
"ensight_grpc_shmem is EnSight's own Python API over the same library.\n"
"\n"
"Publish:\n"
"\n"
"    import numpy as np, shared_memory_image as smi\n"
"    smi.create_file('/dev/shm/view.smi', 1920, 1080)\n"
"    with smi.Server('/dev/shm/view.smi') as server:\n"
"        image = np.zeros((1080, 1920, 3), np.uint8)\n"
"        for n in range(1000):\n"
"            image[:, :, 0] = n % 256\n"
"            server.send(image)              # one copy, into the shared buffer\n"
"\n"
"Read, without a copy:\n"
"\n"
"    with smi.Client('/dev/shm/view.smi') as client:\n"
"        while client.wait(timeout=1.0):    # Ctrl-C interrupts\n"
"            frame = client.lock()           # None if the frame was dropped\n"
"            if frame is None:\n"
"                continue\n"
"            with frame:                     # unlocks at the end of the block\n"
"                pixels = np.asarray(frame)  # (1080, 1920, 3) uint8 view, read-only\n"
"                print(frame.number, pixels.mean())\n"
"                del pixels                  # no view may outlive the lock\n"
"\n"
"or in one call: smi.read_frame(path, timeout=5.0) returns a numpy copy.\n"
"\n"
"Formats: FORMAT_RGB8 (h, w, 3) uint8, FORMAT_RGBA8 (h, w, 4) uint8,\n"
"FORMAT_GRAY8 (h, w) uint8, FORMAT_GRAY16 (h, w) uint16, FORMAT_FLOAT32\n"
"(h, w) float32, and volumes (d, h, w[, c]); frames carry timestamp,\n"
"spacing and origin. Clients see only RGB8 unless opened with\n"
"any_format=True.\n"
"\n"
"Safety: a locked frame's buffer is read-only and stays valid until\n"
"unlock(); unlock() and close() raise BufferError while numpy arrays or\n"
"memoryviews of it exist (delete them, or copy() the frame), and a Frame\n"
"used after unlock() raises ValueError. Never a dangling view.\n"
"\n"
"Errors: negative library codes raise smi.Error (code, name, message);\n"
"positive codes are returned: IMAGESTREAM_UNCONNECTED (no client yet),\n"
"IMAGESTREAM_NO_BUFFERAVAILABLE (frame dropped), ... The file layout is\n"
"documented in LAYOUT.md of the source tree.");

static struct PyModuleDef smi_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "shared_memory_image",
    .m_doc = smi_doc,
    .m_size = -1,
    .m_methods = smi_methods,
};

static int add_int(PyObject *m, const char *name, long value)
{
    return PyModule_AddIntConstant(m, name, value);
}

PyMODINIT_FUNC PyInit_shared_memory_image(void); /* the one exported symbol */

PyMODINIT_FUNC PyInit_shared_memory_image(void)
{
    ErrorType.tp_base = (PyTypeObject *)PyExc_RuntimeError;
    if (PyType_Ready(&ErrorType) < 0 || PyType_Ready(&FrameType) < 0 ||
        PyType_Ready(&AcquiredFrameType) < 0 || PyType_Ready(&ClientType) < 0 ||
        PyType_Ready(&ServerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&smi_module);
    if (!m)
        return NULL;
    if (PyModule_AddType(m, &ErrorType) < 0 || PyModule_AddType(m, &FrameType) < 0 ||
        PyModule_AddType(m, &AcquiredFrameType) < 0 || PyModule_AddType(m, &ClientType) < 0 ||
        PyModule_AddType(m, &ServerType) < 0)
        goto fail;
    if (PyModule_AddStringConstant(m, "__version__", SMI_VERSION) < 0 ||
        PyModule_AddStringConstant(m, "API_VERSION", IMAGESTREAM_API_VERSION) < 0 ||
        PyModule_AddStringConstant(m, "IMAGESTREAM_API_VERSION", IMAGESTREAM_API_VERSION) < 0)
        goto fail;
#define SMI_ADD_CODE(name, text)                                  \
    if (add_int(m, "IMAGESTREAM_" #name, IMAGESTREAM_##name) < 0) \
        goto fail;
    SMI_ERROR_LIST(SMI_ADD_CODE)
#undef SMI_ADD_CODE
#define SMI_ADD(name)                                \
    if (add_int(m, "IMAGESTREAM_" #name, IMAGESTREAM_##name) < 0) \
        goto fail;
    SMI_ADD(OPTIONS_NONE)
    SMI_ADD(OPTIONS_FLIPVERTICAL)
    SMI_ADD(OPTIONS_INITBUFFERHEADERS)
    SMI_ADD(OPTIONS_NOTHREADS)
    SMI_ADD(OPTIONS_SERVER)
    SMI_ADD(OPTIONS_EXTENDED)
    SMI_ADD(OPTIONS_ANYFORMAT)
    SMI_ADD(OPTIONS_ANYFILE)
    SMI_ADD(FORMAT_RGB8)
    SMI_ADD(FORMAT_RGBA8)
    SMI_ADD(FORMAT_GRAY8)
    SMI_ADD(FORMAT_GRAY16)
    SMI_ADD(FORMAT_FLOAT32)
    SMI_ADD(LAYOUT_ENSIGHT)
    SMI_ADD(LAYOUT_EXTENDED)
    SMI_ADD(MAX_BUFFERS)
    SMI_ADD(MAX_CLIENTS)
#undef SMI_ADD
    if (add_int(m, "FORMAT_RGB8", IMAGESTREAM_FORMAT_RGB8) < 0 ||
        add_int(m, "FORMAT_RGBA8", IMAGESTREAM_FORMAT_RGBA8) < 0 ||
        add_int(m, "FORMAT_GRAY8", IMAGESTREAM_FORMAT_GRAY8) < 0 ||
        add_int(m, "FORMAT_GRAY16", IMAGESTREAM_FORMAT_GRAY16) < 0 ||
        add_int(m, "FORMAT_FLOAT32", IMAGESTREAM_FORMAT_FLOAT32) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
