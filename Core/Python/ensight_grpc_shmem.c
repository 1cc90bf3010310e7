/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ensight_grpc_shmem.c -- EnSight's Python module for shared-memory image
 * streams (its calls, keyword names and constants) over this project's C
 * library, so that pyensight's shared-memory image path and scripts written
 * for EnSight run unchanged. Streams are named by small integer ids (from 1, so that an id is
 * always true in an `if`); frames are handed out as copies (bytes), so no
 * Python object ever points into the mapping.
 *
 * Every call keeps the GIL: the table of streams and the library's handles
 * are then never used by two threads at once (pyensight's polling thread
 * locks while the main thread may destroy the stream).
 *
 * Multi-phase init: the table of streams is the module's state, and the
 * streams still open are destroyed with the module.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "shared_memory_image.h"

/* Most streams open at once (EnSight's module allows 50). */
#define ESHM_MAX_STREAMS 256

typedef struct {
    SharedMemoryImageStream streams[ESHM_MAX_STREAMS + 1]; /* index = id; 0 unused */
} eshm_state;

static SharedMemoryImageStream *eshm_streams(PyObject *m)
{
    return ((eshm_state *)PyModule_GetState(m))->streams;
}

/* Return a non-negative code as an int; raise RuntimeError for a negative one. */
static PyObject *eshm_result(int code)
{
    if (code >= IMAGESTREAM_NOERROR)
        return PyLong_FromLong(code);
    PyErr_SetString(PyExc_RuntimeError, SharedMemoryImageStream_errorstring(code));
    return NULL;
}

/* The stream of an id, or NULL with RuntimeError (the BAD_ARGS string). */
static SharedMemoryImageStream eshm_lookup(PyObject *m, long id)
{
    SharedMemoryImageStream *streams = eshm_streams(m);
    if (id < 1 || id > ESHM_MAX_STREAMS || !streams[id]) {
        PyErr_Format(PyExc_RuntimeError, "%s (no open stream has id %ld)",
                     SharedMemoryImageStream_errorstring(IMAGESTREAM_BAD_ARGS), id);
        return NULL;
    }
    return streams[id];
}

PyDoc_STRVAR(stream_create_doc,
"stream_create(filename, options=0)\n--\n\n"
"Open the stream in the existing file `filename` and return its id (an int\n"
"above 0). Options: OPTIONS_NONE for a client (it detects the layout);\n"
"OPTIONS_SERVER to publish (EnSight's layout), optionally with\n"
"OPTIONS_FLIPVERTICAL (rows of putframe's input bottom first) and\n"
"OPTIONS_EXTENDED (this library's layout: many clients). Opening a stream\n"
"that was already active is not an error (ERROR_RECONNECTING is not\n"
"raised). A file another user could change is refused (Core/LAYOUT.md,\n"
"\"Opening files\"; the message names the rule and the fix) unless\n"
"options include OPTIONS_ANYFILE. Raises RuntimeError with the library's\n"
"error string.");

static PyObject *stream_create(PyObject *m, PyObject *args, PyObject *kwds)
{
    SharedMemoryImageStream *streams = eshm_streams(m);
    static char *kwlist[] = {"filename", "options", NULL};
    PyObject *pathb = NULL;
    unsigned long options = IMAGESTREAM_OPTIONS_NONE;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|k:stream_create", kwlist,
                                     PyUnicode_FSConverter, &pathb, &options))
        return NULL;
    if (options > UINT32_MAX) {
        Py_DECREF(pathb);
        return eshm_result(IMAGESTREAM_BAD_ARGS);
    }
    long id = 1;
    while (id <= ESHM_MAX_STREAMS && streams[id])
        id++;
    if (id > ESHM_MAX_STREAMS) {
        Py_DECREF(pathb);
        PyErr_Format(PyExc_RuntimeError, "%s (%d streams are open already)",
                     SharedMemoryImageStream_errorstring(IMAGESTREAM_MEMORY_ALLOC_ERROR),
                     ESHM_MAX_STREAMS);
        return NULL;
    }
    SharedMemoryImageStream stream = NULL;
    int rc = SharedMemoryImageStream_create(PyBytes_AS_STRING(pathb), (uint32_t)options, &stream);
    if (rc < 0) {
        /* What the path is, which rule failed, and the fix: pyensight falls
           back to its slow path on any error, so the message is all a user
           sees. */
        char text[1400];
        SharedMemoryImageStream_openerrorstring(PyBytes_AS_STRING(pathb), (uint32_t)options, rc,
                                                "options=OPTIONS_ANYFILE", text, sizeof text);
        Py_DECREF(pathb);
        PyErr_SetString(PyExc_RuntimeError, text);
        return NULL;
    }
    Py_DECREF(pathb);
    streams[id] = stream;
    return PyLong_FromLong(id);
}

static int eshm_id_arg(PyObject *args, PyObject *kwds, const char *fname, long *id)
{
    static char *kwlist[] = {"stream_id", NULL};
    char fmt[64];
    snprintf(fmt, sizeof fmt, "l:%s", fname);
    return PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, id);
}

static int eshm_dict_set(PyObject *d, const char *key, PyObject *v)
{
    if (!v)
        return -1;
    int r = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return r;
}

PyDoc_STRVAR(stream_lock_doc,
"stream_lock(stream_id)\n--\n\n"
"Client: lock the newest new frame and return a dict with 'width',\n"
"'height', 'framenumber' and 'pixeldata' (bytes: packed RGB, top row first,\n"
"a copy); call stream_unlock(stream_id) afterwards. Returns an int code instead\n"
"when there is no new frame (ERROR_NO_FRAMEAVAILABLE). Raises RuntimeError\n"
"for a negative code (e.g. a frame is already locked, or id is a server).");

static PyObject *stream_lock(PyObject *m, PyObject *args, PyObject *kwds)
{
    long id;
    if (!eshm_id_arg(args, kwds, "stream_lock", &id))
        return NULL;
    SharedMemoryImageStream s = eshm_lookup(m, id);
    if (!s)
        return NULL;
    SharedMemoryFrame frame = NULL;
    int rc = SharedMemoryImageStream_lock(s, &frame);
    if (rc != IMAGESTREAM_NOERROR)
        return eshm_result(rc);
    /* The frame's size in bytes: packed RGB, or (ANYFORMAT clients) its format. */
    SharedMemoryImageDesc desc;
    uint64_t bytes = (uint64_t)frame->iWidth * frame->iHeight * 3u;
    if (SharedMemoryImageStream_describe(s, &desc) == IMAGESTREAM_NOERROR)
        bytes = (uint64_t)desc.width * desc.height * (desc.depth ? desc.depth : 1) *
                SharedMemoryImageStream_formatsize(desc.format);
    /* The copy goes through the library, which first checks that the file was
       not truncated under the mapping (an error, not SIGBUS). */
    PyObject *pixels = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bytes);
    if (!pixels) {
        SharedMemoryImageStream_unlock(s);
        return NULL;
    }
    rc = SharedMemoryImageStream_copyframe(s, PyBytes_AS_STRING(pixels), bytes, 0);
    if (rc != IMAGESTREAM_NOERROR) {
        Py_DECREF(pixels);
        SharedMemoryImageStream_unlock(s); /* nothing was handed out */
        return eshm_result(rc);
    }
    PyObject *d = PyDict_New();
    int bad = !d || eshm_dict_set(d, "width", PyLong_FromUnsignedLong(frame->iWidth)) < 0 ||
              eshm_dict_set(d, "height", PyLong_FromUnsignedLong(frame->iHeight)) < 0 ||
              eshm_dict_set(d, "framenumber", PyLong_FromUnsignedLong(frame->iFrame)) < 0;
    if (bad)
        Py_DECREF(pixels);
    else
        bad = eshm_dict_set(d, "pixeldata", pixels) < 0; /* takes pixels */
    if (bad) {
        Py_XDECREF(d);
        SharedMemoryImageStream_unlock(s); /* nothing was handed out */
        return NULL;
    }
    return d;
}

PyDoc_STRVAR(stream_unlock_doc,
"stream_unlock(stream_id)\n--\n\n"
"Client: hand the frame locked by stream_lock() back to the server.\n"
"Returns ERROR_NOERROR; raises RuntimeError when nothing is locked.");

static PyObject *stream_unlock(PyObject *m, PyObject *args, PyObject *kwds)
{
    long id;
    if (!eshm_id_arg(args, kwds, "stream_unlock", &id))
        return NULL;
    SharedMemoryImageStream s = eshm_lookup(m, id);
    if (!s)
        return NULL;
    return eshm_result(SharedMemoryImageStream_unlock(s));
}

PyDoc_STRVAR(stream_putframe_doc,
"stream_putframe(stream_id, width, height, framenumber, pixeldata)\n--\n\n"
"Server: copy one frame into the stream. `pixeldata` is bytes (or any\n"
"buffer) of at least width*height*3 bytes of packed RGB, top row first\n"
"(bottom first with OPTIONS_FLIPVERTICAL). Returns ERROR_NOERROR,\n"
"ERROR_UNCONNECTED (no client attached yet) or ERROR_NO_BUFFERAVAILABLE\n"
"(the client holds the buffers: dropped). Raises RuntimeError for a\n"
"negative code (frame too large for the file, id is a client, ...).");

static PyObject *stream_putframe(PyObject *m, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"stream_id", "width", "height", "framenumber", "pixeldata", NULL};
    long id, width, height;
    unsigned long long number;
    Py_buffer pixels;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "lllKy*:stream_putframe", kwlist, &id, &width,
                                     &height, &number, &pixels))
        return NULL;
    SharedMemoryImageStream s = eshm_lookup(m, id);
    if (!s) {
        PyBuffer_Release(&pixels);
        return NULL;
    }
    if (width < 1 || height < 1 || width > UINT32_MAX || height > UINT32_MAX ||
        number > UINT32_MAX) {
        PyBuffer_Release(&pixels);
        return eshm_result(IMAGESTREAM_BAD_ARGS);
    }
    uint64_t need = (uint64_t)width * (uint64_t)height * 3u;
    if ((uint64_t)pixels.len < need) {
        PyErr_Format(PyExc_RuntimeError, "%s (pixeldata holds %zd bytes, a %ldx%ld frame needs %llu)",
                     SharedMemoryImageStream_errorstring(IMAGESTREAM_BAD_ARGS), pixels.len, width,
                     height, (unsigned long long)need);
        PyBuffer_Release(&pixels);
        return NULL;
    }
    struct _SharedMemoryFrame frame = {(uint32_t)number, (uint32_t)width, (uint32_t)height,
                                       (uint8_t *)pixels.buf};
    int rc = SharedMemoryImageStream_putframe(s, &frame);
    PyBuffer_Release(&pixels);
    return eshm_result(rc);
}

PyDoc_STRVAR(stream_destroy_doc,
"stream_destroy(stream_id)\n--\n\n"
"Close the stream (a locked frame is unlocked first; the file stays) and\n"
"free its id. Returns ERROR_NOERROR; raises RuntimeError for an unknown id.");

static PyObject *stream_destroy(PyObject *m, PyObject *args, PyObject *kwds)
{
    long id;
    if (!eshm_id_arg(args, kwds, "stream_destroy", &id))
        return NULL;
    SharedMemoryImageStream s = eshm_lookup(m, id);
    if (!s)
        return NULL;
    eshm_streams(m)[id] = NULL;
    return eshm_result(SharedMemoryImageStream_destroy(s));
}

static PyMethodDef eshm_methods[] = {
    {"stream_create", (PyCFunction)(void (*)(void))stream_create, METH_VARARGS | METH_KEYWORDS,
     stream_create_doc},
    {"stream_lock", (PyCFunction)(void (*)(void))stream_lock, METH_VARARGS | METH_KEYWORDS,
     stream_lock_doc},
    {"stream_unlock", (PyCFunction)(void (*)(void))stream_unlock, METH_VARARGS | METH_KEYWORDS,
     stream_unlock_doc},
    {"stream_putframe", (PyCFunction)(void (*)(void))stream_putframe,
     METH_VARARGS | METH_KEYWORDS, stream_putframe_doc},
    {"stream_destroy", (PyCFunction)(void (*)(void))stream_destroy, METH_VARARGS | METH_KEYWORDS,
     stream_destroy_doc},
    {NULL},
};

/* The module goes: close the streams its ids still name. */
static void eshm_free(void *m)
{
    eshm_state *st = PyModule_GetState((PyObject *)m);
    if (!st)
        return;
    for (int id = 1; id <= ESHM_MAX_STREAMS; id++) {
        if (st->streams[id]) {
            SharedMemoryImageStream_destroy(st->streams[id]);
            st->streams[id] = NULL;
        }
    }
}

PyDoc_STRVAR(eshm_doc,
"EnSight's shared-memory image stream API (the module pyensight imports),\n"
"implemented over libshared-memory-image. For numpy arrays and zero-copy\n"
"access use the shared_memory_image module instead.\n"
"\n"
"    import ensight_grpc_shmem as shm\n"
"    server = shm.stream_create('view.bin', shm.OPTIONS_SERVER)\n"
"    client = shm.stream_create('view.bin')          # in another process\n"
"    shm.stream_putframe(server, w, h, number, rgb_bytes)\n"
"    img = shm.stream_lock(client)    # dict, or an int when no new frame\n"
"    if isinstance(img, dict):\n"
"        use(img['pixeldata'], img['width'], img['height'], img['framenumber'])\n"
"        shm.stream_unlock(client)\n"
"    shm.stream_destroy(client)\n"
"\n"
"Codes: ERROR_NOERROR (0) and the positive ERROR_NO_BUFFERAVAILABLE,\n"
"ERROR_NO_FRAMEAVAILABLE, ERROR_RECONNECTING, ERROR_UNCONNECTED are\n"
"returned; negative codes raise RuntimeError with the library's string.\n"
"The constants exist under EnSight's C names too (IMAGESTREAM_*).");

static int eshm_exec(PyObject *m)
{
    if (PyModule_AddStringConstant(m, "version", IMAGESTREAM_API_VERSION) < 0 ||
        PyModule_AddStringConstant(m, "IMAGESTREAM_API_VERSION", IMAGESTREAM_API_VERSION) < 0)
        return -1;
    /* Each constant under EnSight's Python name and its C name. */
#define ESHM_ADD(pyname, cname)                          \
    if (PyModule_AddIntConstant(m, pyname, cname) < 0 || \
        PyModule_AddIntConstant(m, #cname, cname) < 0)   \
        return -1;
    ESHM_ADD("OPTIONS_NONE", IMAGESTREAM_OPTIONS_NONE)
    ESHM_ADD("OPTIONS_SERVER", IMAGESTREAM_OPTIONS_SERVER)
    ESHM_ADD("OPTIONS_FLIPVERTICAL", IMAGESTREAM_OPTIONS_FLIPVERTICAL)
    ESHM_ADD("OPTIONS_INITBUFFERHEADERS", IMAGESTREAM_OPTIONS_INITBUFFERHEADERS)
    ESHM_ADD("OPTIONS_NOTHREADS", IMAGESTREAM_OPTIONS_NOTHREADS)
    ESHM_ADD("OPTIONS_EXTENDED", IMAGESTREAM_OPTIONS_EXTENDED)
    ESHM_ADD("OPTIONS_ANYFILE", IMAGESTREAM_OPTIONS_ANYFILE)
    /* Every return code, from the library's list: ERROR_<NAME>. */
#define ESHM_ADD_CODE(name, text) ESHM_ADD("ERROR_" #name, IMAGESTREAM_##name)
    SMI_ERROR_LIST(ESHM_ADD_CODE)
#undef ESHM_ADD_CODE
#undef ESHM_ADD
    return 0;
}

static PyModuleDef_Slot eshm_slots[] = {
    {Py_mod_exec, eshm_exec},
    {0, NULL},
};

static struct PyModuleDef eshm_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ensight_grpc_shmem",
    .m_doc = eshm_doc,
    .m_size = sizeof(eshm_state),
    .m_methods = eshm_methods,
    .m_slots = eshm_slots,
    .m_free = eshm_free,
};

PyMODINIT_FUNC PyInit_ensight_grpc_shmem(void); /* the one exported symbol */

PyMODINIT_FUNC PyInit_ensight_grpc_shmem(void)
{
    return PyModuleDef_Init(&eshm_module);
}
