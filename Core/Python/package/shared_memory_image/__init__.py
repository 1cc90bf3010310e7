# SPDX-License-Identifier: BSD-3-Clause
"""Shared-memory image streams: publish and read frames of pixels through a
memory-mapped file, with no copy on the reading side.

A thin layer over the C library libshared-memory-image (the same one the
ParaView plugin and the smi-* tools use). One process, the Server, writes
frames into the file; any number of Client processes lock the newest
frame and read it in place. Streams written by EnSight are read too, and
ensight_grpc_shmem is EnSight's own Python API over the same library.

Publish:

    import numpy as np, shared_memory_image as smi
    smi.create_file('/dev/shm/view.smi', 1920, 1080)
    with smi.Server('/dev/shm/view.smi') as server:
        image = np.zeros((1080, 1920, 3), np.uint8)
        for n in range(1000):
            image[:, :, 0] = n % 256
            server.send(image)              # one copy, into the shared buffer

Read, without a copy:

    with smi.Client('/dev/shm/view.smi') as client:
        while client.wait(timeout=1.0):    # Ctrl-C interrupts
            frame = client.lock()           # None if the frame was dropped
            if frame is None:
                continue
            with frame:                     # unlocks at the end of the block
                pixels = np.asarray(frame)  # (1080, 1920, 3) uint8 view, read-only
                print(frame.number, pixels.mean())
                del pixels                  # no view may outlive the lock

or in one call: smi.read_frame(path, timeout=5.0) returns a numpy copy.

Formats: FORMAT_RGB8 (h, w, 3) uint8, FORMAT_RGBA8 (h, w, 4) uint8,
FORMAT_GRAY8 (h, w) uint8, FORMAT_GRAY16 (h, w) uint16, FORMAT_FLOAT32
(h, w) float32; for instrument data FORMAT_INT16, FORMAT_INT32,
FORMAT_UINT32 and FORMAT_FLOAT64, (h, w) of the dtype of that name; and
volumes (d, h, w[, c]); frames carry timestamp,
spacing and origin. Clients see only RGB8 unless opened with
any_format=True.

Safety: a locked frame's buffer is read-only and stays valid until
unlock(); unlock() and close() raise BufferError while numpy arrays or
memoryviews of it exist (delete them, or copy() the frame), and a Frame
used after unlock() raises ValueError. Never a dangling view.

Errors: negative library codes raise smi.Error (code, name, message);
positive codes are returned: IMAGESTREAM_UNCONNECTED (no client yet),
IMAGESTREAM_NO_BUFFERAVAILABLE (frame dropped), ... The file layout is
documented in LAYOUT.md of the source tree.

The package is pure Python over its C extension, shared_memory_image._core
(the library calls, the buffer protocol and the locking).
"""
import enum as _enum
import math as _math
import operator as _operator
import time as _time

from . import _core
from ._core import errorstring

__version__ = _core.__version__
API_VERSION = IMAGESTREAM_API_VERSION = _core.IMAGESTREAM_API_VERSION

# The library's constants (generated from its tables in _core): every
# IMAGESTREAM_* name, and the short FORMAT_* aliases of the pixel formats.
# (The code below uses them as module globals.)
globals().update({name: value for name, value in vars(_core).items()
                  if name.startswith("IMAGESTREAM_") and isinstance(value, int)})
globals().update({name[len("IMAGESTREAM_"):]: value for name, value in vars(_core).items()
                  if name.startswith("IMAGESTREAM_FORMAT_") and _core.format_info(value)})

#: Frame.flags: the frame is stored bottom row first (OpenGL's and VTK's order).
FRAME_BOTTOMUP = _core.IMAGESTREAM_FRAME_BOTTOMUP

_U32_MAX = 0xFFFFFFFF
_LAYOUT_NAMES = {_core.IMAGESTREAM_LAYOUT_EXTENDED: "extended",
                 _core.IMAGESTREAM_LAYOUT_ENSIGHT: "ensight"}
_LAYOUTS = {None: 0, "extended": _core.IMAGESTREAM_LAYOUT_EXTENDED,
            "ensight": _core.IMAGESTREAM_LAYOUT_ENSIGHT}
_INFO_KEYS = ("layout", "version", "file_size", "server_alive", "clients", "max_clients",
              "buffer_count", "buffer_size", "last_frame", "server_generation",
              "last_sequence")
_BUFFER_KEYS = ("state", "format", "frame", "width", "height", "depth", "holders",
                "sequence", "timestamp")


def format_size(format, /):
    """Bytes per pixel of a FORMAT_* value (0 if unknown)."""
    info = _core.format_info(format)
    return info[0] * info[1] if info else 0


def format_name(format, /):
    """Name of a FORMAT_* value ('rgb8', ...; 'unknown')."""
    info = _core.format_info(format)
    return info[3] if info else "unknown"


class _SituationBase(_enum.IntEnum):
    """What Situation's members have (the members come from the library)."""

    @property
    def waits(self):
        """True when the situation is worth waiting for (a server or a file
        is coming: SERVING up to REPLACED); False for NOT_A_STREAM, UNSAFE
        and FATAL, which are for the user to fix."""
        return _core.situation_info(self)[1]

    @property
    def description(self):
        """The library's description ('attached, server alive', ...)."""
        return _core.situation_info(self)[2]

    def __str__(self):
        """The name ('SERVING', ...)."""
        return self.name


#: Where a client's stream stands, by the library's one attach policy
#: (SharedMemoryImageStream_attach/_refresh; the values are its
#: IMAGESTREAM_SITUATION_*): SERVING, MISSING, SETTING_UP, NO_SERVER,
#: SERVER_GONE, NEW_SERVER, REPLACED, NOT_A_STREAM, UNSAFE, FATAL. Each has
#: .waits and .description. Client.situation, Client.refresh() and
#: Error.situation answer one.
Situation = _SituationBase("Situation", [
    (_core.situation_info(value)[0], value)
    for value in range(64) if _core.situation_info(value)], module=__name__)


class Error(RuntimeError):
    """Raised when the library answers a negative IMAGESTREAM_* code.

    Attributes: code (the negative code, compare with smi.IMAGESTREAM_*),
    name (the code's macro name) and message (what failed and the library's
    error string; also str(error)). A subclass of RuntimeError, like the
    errors ensight_grpc_shmem raises. When a Client could not attach,
    situation is the Situation that says why (situation.waits: a server or
    a file is coming); else None.
    """

    situation = None

    def __init__(self, code, message=None):
        """`message` defaults to the library's string for `code`."""
        code = _operator.index(code)
        if not -0x80000000 <= code <= 0x7FFFFFFF:
            raise OverflowError("code must fit in 32 bits")
        super().__init__(*((code,) if message is None else (code, message)))
        self.code = code
        self.message = errorstring(code) if message is None else str(message)

    def __str__(self):
        """The message."""
        return self.message

    def __setattr__(self, name, value):
        """Keeps situation a Situation (the C half sets the number)."""
        if name == "situation" and value is not None:
            value = Situation(value)
        super().__setattr__(name, value)

    @property
    def name(self):
        """Name of the code's C macro, e.g. 'IMAGESTREAM_BAD_FILE_SIZE'."""
        return _core.errorname(self.code) or "unknown"


_core.set_error_class(Error)


# ---- arguments ----------------------------------------------------------------

def _u32(value, name, minimum=0):
    """An integer argument in minimum..2**32-1 (TypeError for a float)."""
    if type(value) is int and minimum <= value <= _U32_MAX:  # the common case, fast
        return value
    if isinstance(value, float) or not hasattr(type(value), "__index__"):
        raise TypeError("%s must be an integer, not %s" % (name, type(value).__name__))
    value = _operator.index(value)
    if not minimum <= value <= _U32_MAX:
        raise ValueError("%s must be in %d..%d" % (name, minimum, _U32_MAX))
    return value


def _format(value):
    """A known FORMAT_* value."""
    fmt = _u32(value, "format")
    if format_size(fmt) == 0:
        raise ValueError("unknown pixel format %d: use one of the FORMAT_* constants" % fmt)
    return fmt


def _real(value, name):
    """A number argument as a float (TypeError for str, as for any non-number)."""
    if isinstance(value, (str, bytes, bytearray)):
        raise TypeError("%s must be a real number, not %s" % (name, type(value).__name__))
    return float(value)


def _vec3(value, name, default):
    """2 or 3 numbers (a missing z keeps its default), as a 3-tuple."""
    if value is None:
        return default
    try:
        items = list(value)
    except TypeError:
        raise TypeError("%s must be a sequence of 2 or 3 numbers" % name) from None
    if len(items) not in (2, 3):
        raise ValueError("%s must have 2 or 3 components, not %d" % (name, len(items)))
    items = [_real(v, name) for v in items]
    return tuple(items) if len(items) == 3 else (items[0], items[1], default[2])


_DEFAULT_METADATA = (0.0, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))


def _metadata(timestamp, spacing, origin):
    """timestamp (0: the library stamps the current time), spacing, origin."""
    if timestamp is None and spacing is None and origin is None:
        return _DEFAULT_METADATA
    return (0.0 if timestamp is None else _real(timestamp, "timestamp"),
            _vec3(spacing, "spacing", (1.0, 1.0, 1.0)),
            _vec3(origin, "origin", (0.0, 0.0, 0.0)))


def _seconds(timeout):
    """A timeout in seconds for _core: None or infinity -> -1 (for ever)."""
    if timeout is None:
        return -1.0
    if type(timeout) is float and 0.0 <= timeout < _math.inf:  # the common case, fast
        return timeout
    if _math.isnan(timeout) or timeout < 0:  # TypeError for what is no number
        raise ValueError("timeout must be a number of seconds >= 0, or None")
    return -1.0 if _math.isinf(timeout) else float(timeout)


def _info_dict(raw):
    """inspect()/info() dictionary from _core's tuple (the C struct's order)."""
    info = dict(zip(_INFO_KEYS, raw))
    info["layout"] = _LAYOUT_NAMES.get(info["layout"])
    info["server_alive"] = bool(info["server_alive"])
    buffers = []
    for values in raw[len(_INFO_KEYS)]:
        b = dict(zip(_BUFFER_KEYS, values))
        buffers.append({"state": b["state"], "format": b["format"],
                        "format_name": format_name(b["format"]), **b})
    info["buffers"] = buffers
    return info


_KIND_PREFIX = {_core.KIND_UINT: "uint", _core.KIND_INT: "int", _core.KIND_FLOAT: "float"}


def _dtype_name(fmt):
    """numpy name of a format's item type: 'uint8', 'uint16', 'int16',
    'int32', 'uint32', 'float32' or 'float64'."""
    info = _core.format_info(fmt)
    channels, size, kind, _ = info if info else (1, 1, _core.KIND_UINT, None)
    return "%s%d" % (_KIND_PREFIX[kind], 8 * size)


def _all_formats():
    """Every format of the library's table, in its order."""
    return sorted(value for name, value in vars(_core).items()
                  if name.startswith("IMAGESTREAM_FORMAT_") and _core.format_info(value))


# The one-channel formats by the numpy name of their items (uint8 is GRAY8
# or a colour format, chosen by shape), generated from the library's table.
_ONE_CHANNEL = {_dtype_name(f): f for f in _all_formats()
                if _core.format_info(f)[0] == 1 and _core.format_info(f)[1] > 1}
_UINT8_CHANNELS = {FORMAT_RGB8: 3, FORMAT_RGBA8: 4}
# Kinds of the buffer protocol's struct codes (numpy's int32 is 'i', or 'l'
# where a C long has 4 bytes).
_CODE_KINDS = dict([(c, "uint") for c in "BHILQN"] + [(c, "int") for c in "bhilqn"] +
                   [(c, "float") for c in "efd"])
_SEND_TYPES = ("use uint8 (RGB8 (h, w, 3), RGBA8 (h, w, 4), GRAY8 (h, w)) or {}"
               + ", ".join("%s (%s)" % (item, format_name(f).upper())
                           for item, f in _ONE_CHANNEL.items()))


def _item_code(view):
    """The one struct code of the buffer's items ('B', 'H', 'f', ...), or None
    for anything else (structs, big-endian multi-byte items)."""
    code = view.format
    order = "@"
    if code[:1] in ("@", "=", "<", ">", "!"):
        order, code = code[0], code[1:]
    if len(code) != 1 or (view.itemsize > 1 and order in (">", "!")):
        return None
    return code


def _describe_send(view, width, height, fmt, depth):
    """(format, width, height, depth) of the frame in memoryview `view`."""
    have_fmt, have_depth = fmt is not None, depth is not None
    fmt = _format(fmt) if have_fmt else FORMAT_RGB8
    depth = _u32(depth, "depth", 1) if have_depth else 1
    if (width is None) != (height is None):
        raise TypeError("send(): give both width and height, or neither")
    if width is not None:  # raw bytes of a described frame
        width, height = _u32(width, "width", 1), _u32(height, "height", 1)
        need = width * height * depth * format_size(fmt)
        if need != view.nbytes:
            raise ValueError("send(): the buffer holds %d bytes, but a %dx%d%s %s frame "
                             "needs %d" % (view.nbytes, width, height,
                                           " (x depth)" if depth > 1 else "",
                                           format_name(fmt), need))
        return fmt, width, height, depth

    code = _item_code(view)
    if code is None:
        raise TypeError("send(): cannot send items of struct format '%s': %s"
                        % (view.format, _SEND_TYPES.format("little-endian ")))
    item = "%s%d" % (_CODE_KINDS.get(code, "?"), 8 * view.itemsize)
    if item != "uint8" and item not in _ONE_CHANNEL:
        raise TypeError("send(): cannot send items of struct format '%s' (itemsize %d): %s"
                        % (view.format, view.itemsize, _SEND_TYPES.format("")))
    shape = view.shape
    nd = len(shape)
    channels = 1
    if item == "uint8":
        if have_fmt:
            if fmt in _ONE_CHANNEL.values():
                item = _dtype_name(fmt)
                raise TypeError("send(): format %s needs %s %s array, not uint8"
                                % (format_name(fmt), "an" if item[0] == "i" else "a", item))
            channels = _UINT8_CHANNELS.get(fmt, 1)
        elif nd in (3, 4) and shape[-1] in (3, 4):
            channels = shape[-1]
            fmt = FORMAT_RGB8 if channels == 3 else FORMAT_RGBA8
        elif nd == 3 and not have_depth:
            raise ValueError("send(): a uint8 array of shape %r is ambiguous: an RGB8 or "
                             "RGBA8 image is (height, width, 3 or 4); for a GRAY8 volume "
                             "(depth, height, width) pass format=FORMAT_GRAY8 or depth=%d"
                             % (tuple(shape), shape[0]))
        else:
            fmt = FORMAT_GRAY8
    else:
        if have_fmt and fmt != _ONE_CHANNEL[item]:
            raise TypeError("send(): a %s array cannot be sent as format %s"
                            % (item, format_name(fmt)))
        fmt = _ONE_CHANNEL[item]

    # Image: (h, w[, c]); volume: (d, h, w[, c]).
    spatial = nd - (1 if channels > 1 else 0)
    if (channels > 1 and (nd < 3 or shape[-1] != channels)) or not 2 <= spatial <= 3:
        pixel = ", %d" % channels if channels > 1 else ""
        raise ValueError("send(): an array of shape %r is not a %s frame: expected "
                         "(height, width%s), or a volume (depth, height, width%s); or pass "
                         "width= and height=" % (tuple(shape), format_name(fmt), pixel, pixel))
    d, h, w = (shape[0] if spatial == 3 else 1), shape[spatial - 2], shape[spatial - 1]
    if not (1 <= d <= _U32_MAX and 1 <= h <= _U32_MAX and 1 <= w <= _U32_MAX):
        raise ValueError("send(): the frame is empty or too large")
    if have_depth and depth != d:
        raise ValueError("send(): depth=%d does not match the array (%d slices)" % (depth, d))
    return fmt, w, h, d


# ---- frames -------------------------------------------------------------------

class _FrameBase(_core.Frame):
    """What Frame and AcquiredFrame share."""
    __slots__ = ()

    @property
    def dtype(self):
        """numpy name of the item type: 'uint8', 'uint16', 'int16', 'int32',
        'uint32', 'float32' or 'float64'."""
        return _dtype_name(self.format)

    @property
    def format_name(self):
        """Name of the pixel format: 'rgb8', 'rgba8', 'gray8', 'gray16', 'float32',
        'int16', 'int32', 'uint32', 'float64'."""
        return format_name(self.format)

    def copy(self):
        """A numpy array holding a copy of the pixels, same shape and dtype as
        numpy.asarray(frame). It stays valid after unlock(). Needs numpy."""
        if not self._valid:
            memoryview(self)  # raises the ValueError that says why
        try:
            import numpy
        except ImportError:
            raise ImportError("copying a frame into an array needs numpy; without it use "
                              "Frame.tobytes() or memoryview(frame)") from None
        info = _core.format_info(self.format)
        kind, size = (info[2], info[1]) if info else (_core.KIND_UINT, 1)
        array = numpy.empty(self.shape, "%s%s%d" % ("<" if size > 1 else "|",
                                                    _KIND_PREFIX[kind][0], size))
        self._copy_into(array)
        return array

    def __array__(self, dtype=None, copy=None):
        """numpy's fallback: raises ValueError once the buffer is no longer valid."""
        import numpy
        return numpy.asarray(memoryview(self), dtype)

    def __enter__(self):
        """Returns the frame itself."""
        return self

    def __repr__(self):
        """<shared_memory_image.Kind ... state>"""
        size = "%dx%d" % (self.width, self.height)
        if self.depth > 1:
            size += "x%d" % self.depth
        return "<shared_memory_image.%s #%d %s %s, %s>" % (
            type(self).__name__, self.number, size, self.format_name, self._state())


class Frame(_FrameBase):
    """A frame locked by a Client (Client.lock() returns it; never made directly).

    It exposes the pixels in the shared mapping through the buffer protocol,
    read-only and without a copy: numpy.asarray(frame) is a view of shape
    frame.shape and dtype frame.dtype:

        rgb8     (height, width, 3) uint8       rgba8  (height, width, 4) uint8
        gray8    (height, width)    uint8       gray16 (height, width) uint16
        float32  (height, width)    float32     float64 (height, width) float64
        int16, int32, uint32: (height, width) of that dtype
        volumes: (depth, height, width[, c])

    Rows are top row first: a frame stored bottom row first (bottom_up, as
    ParaView's view publisher and writer publish them) is viewed upright all
    the same, with a negative row stride (still no copy); copy() and
    tobytes() give it top row first. Attributes: number, width, height, depth,
    format, format_name, timestamp, spacing, origin, shape, dtype, nbytes,
    flags, bottom_up, locked.

    The server never writes a locked buffer. Use the frame as a context
    manager, or call unlock(), to hand it back. While views of the buffer
    exist unlock() raises BufferError and the frame stays locked; after
    unlock() the buffer is no longer reachable (ValueError). The metadata
    attributes stay readable.
    """
    __slots__ = ()

    @property
    def locked(self):
        """True until unlock(): only then may the buffer be read."""
        return self._valid

    @property
    def bottom_up(self):
        """True when the frame is stored bottom row first (FRAME_BOTTOMUP)."""
        return bool(self.flags & FRAME_BOTTOMUP)

    def unlock(self):
        """Give the frame back to the server; the Frame is invalid afterwards (its
        buffer raises ValueError). Leaving a `with frame:` block does the same.
        Raises BufferError, and the frame stays locked, while numpy arrays or
        memoryviews of it still exist: delete them (or copy) first. Unlocking an
        already unlocked frame does nothing."""
        self._unlock()

    release = unlock

    def __exit__(self, exc_type, exc, tb):
        """Unlocks the frame (BufferError while views of it exist). When the block
        raises and views exist, the frame stays locked and the error goes on."""
        # The traceback often holds the views: keep the frame locked (safe)
        # and let the original exception through instead of a BufferError.
        if exc_type is None or self.exports == 0:
            self._unlock()
        return False

    def _state(self):
        return "locked" if self._valid else "unlocked"


class AcquiredFrame(_FrameBase):
    """A writable buffer of the stream file, from Server.acquire() (zero-copy).

    numpy.asarray(frame) is a writable view of the buffer with the frame's
    shape and dtype (see Frame); fill it top row first (flip_vertical does not
    apply), then publish(), or leave a `with` block. Delete the views first:
    publish() raises BufferError while they exist, since clients may read the
    buffer once it is published. Attributes as Frame; `number` is settable
    (preset to the next number, 0 for a new stream's first frame; after a
    takeover, a number not above the frames in the file is raised).
    """
    __slots__ = ()

    @property
    def acquired(self):
        """True until publish(): only then may the buffer be written."""
        return self._valid

    def publish(self):
        """Hand the frame to the clients. Returns IMAGESTREAM_NOERROR, or
        IMAGESTREAM_UNCONNECTED when no client is attached (the extended layout
        still keeps the frame for clients that attach later). The frame is
        invalid afterwards. Raises BufferError, and nothing is published, while
        views of the buffer still exist (del them first)."""
        return self._publish()

    def __exit__(self, exc_type, exc, tb):
        """Publishes the frame when the block ends normally (BufferError while
        views of it exist). When the block raises, nothing is published: the
        buffer is given back, or, while views of it exist, stays acquired
        until Server.publish() or Server.close()."""
        if not self._valid:
            return False
        if exc_type is not None:
            try:  # never show clients a half-written frame
                self._abandon()
            except Exception:
                pass
            return False
        self._publish()
        return False

    def _state(self):
        return "acquired" if self._valid else "published"


# ---- streams ------------------------------------------------------------------

class _Stream(_core.Stream):
    """What Client and Server share."""
    __slots__ = ()

    def info(self):
        """The stream's state, as inspect(path) reports it, from this open stream
        (a client learns whether its server is alive)."""
        return _info_dict(self._info())

    def __enter__(self):
        """Returns the stream itself."""
        if self.closed:
            raise ValueError("I/O operation on a closed %s" % self._kind)
        return self

    def __exit__(self, exc_type, exc, tb):
        """Closes the stream. When the block raises while views of the current
        frame exist, the stream stays open and the error goes on."""
        frame = self.frame
        if exc_type is None or frame is None or frame.exports == 0:
            self.close()
        return False

    def __repr__(self):
        """<shared_memory_image.Kind ... state>"""
        return "<shared_memory_image.%s %r %s>" % (self._kind, self.path,
                                                   "closed" if self.closed else "open")


class Client(_Stream):
    """Attach to the stream in the existing file `path` as a client (either
    layout, detected from the file). Raises Error when the file is missing,
    not a stream, or every client slot is taken; IMAGESTREAM_UNSAFE_FILE for
    a symbolic link, a FIFO or anything but a regular file, another user's
    file, or one another user could change (see check_file(); the message
    names the rule and the fix). With any_format, frames of every pixel
    format are handed out (else only packed RGB, as EnSight's client API
    promises). With any_file (IMAGESTREAM_OPTIONS_ANYFILE), the file is used
    as it is, whoever could change it, through a symbolic link too: for
    streams shared between users on purpose.

    With queue=True (IMAGESTREAM_OPTIONS_QUEUE, extended layout) the client
    reads every frame in publish order with next(): each frame once,
    starting with the oldest the file holds, and counts exactly the frames
    it will never get, which the server overwrote before it got to them
    (frame.lost, client.lost): every frame published after the client
    attached is got once or counted once, so frames got (and skipped, see
    next()) + client.lost = frames published since then, up to the last
    one got. The server keeps its last N frames (N buffers:
    Server.set_buffers()).
    reliable=True (implies queue) is never overrun: the server drops its
    frame, or waits (Server.set_acquire_timeout()), rather than overwrite
    one this client has not read; a reliable client that dies (even by kill
    -9) holds it back no longer.

        with smi.Client(path, queue=True) as client:
            while (frame := client.next(timeout=1.0)) is not None:
                with frame:
                    print(frame.number, frame.lost)  # lost: 0 unless overrun

        with smi.Client(path) as client:
            while client.wait(timeout=1.0):
                frame = client.lock()          # Frame or None
                if frame is None:
                    continue
                with frame:                    # unlocks when the block ends
                    pixels = numpy.asarray(frame)  # (h, w, 3) uint8, no copy
                    total = pixels.sum()
                    del pixels                 # no view may outlive the lock

    A client is one attachment: use one per thread, or share it (calls are
    serialized). Do not use it in a forked child; open a new one there.

    Attaching follows the library's one attach policy, as smi-read, smisrc
    and the ParaView source do (SharedMemoryImageStream_attach):
    client.situation says where the stream stood (Situation.SERVING, or
    SERVER_GONE: attached, its server crashed or ended). When it cannot
    attach, Error says why with the library's text, and error.situation
    whether that is worth waiting for (MISSING, SETTING_UP, NO_SERVER) or
    for the user to fix (NOT_A_STREAM, UNSAFE, FATAL). wait=seconds (None:
    for ever) waits that long for a server instead, attaching again every
    20 ms while the situation is worth waiting for (a file no server has
    set up yet is then not mapped until one does); Error at once for the
    others, TimeoutError when the time is up. Without wait, a file no
    server has set up yet is taken as EnSight's create() takes it.
    refresh() looks again later (file removed or replaced, server gone or
    new) and client.reattach says when to close and attach anew:

        client = smi.Client(path, wait=None)   # until a server sets it up
        while True:
            if client.wait(timeout=1.0):
                ...                            # lock() and read, as above
                continue
            client.refresh()                   # no frame: has anything changed?
            if client.reattach:
                client.close()
                client = smi.Client(path, wait=None)
    """
    __slots__ = ()
    _kind = "Client"

    def __init__(self, path, any_format=False, any_file=False, *, queue=False, reliable=False,
                 wait=0.0):
        """Attach to `path` (str, bytes or os.PathLike), waiting up to `wait`
        seconds (None: for ever) for a server; see the class."""
        options = IMAGESTREAM_OPTIONS_NONE
        if any_format:
            options |= IMAGESTREAM_OPTIONS_ANYFORMAT
        if any_file:
            options |= IMAGESTREAM_OPTIONS_ANYFILE
        if queue:
            options |= IMAGESTREAM_OPTIONS_QUEUE
        if reliable:
            options |= IMAGESTREAM_OPTIONS_RELIABLE
        seconds = _seconds(wait)
        if seconds == 0.0:
            super().__init__(path, options, Frame, None, 1)
            return
        deadline = None if seconds < 0 else _time.monotonic() + seconds
        while True:
            try:
                super().__init__(path, options, Frame, None, 2)
                return
            except Error as error:
                if error.situation is None or not error.situation.waits:
                    raise
                left = None if deadline is None else deadline - _time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("no stream to attach to within %g s (%s: %s): %s"
                                       % (seconds, error.situation.name,
                                          error.situation.description, error)) from error
            _time.sleep(0.02 if left is None else min(0.02, left))

    @property
    def situation(self):
        """Where the stream stood at attaching, or at the last refresh(): a
        Situation (SERVING, SERVER_GONE, ...)."""
        return Situation(self._situation)

    @property
    def reattach(self):
        """True when the last refresh() said to close this client and attach
        anew: the file was removed or replaced, the stream was truncated or
        garbled under it, or a new server set up an EnSight-layout stream."""
        return bool(self._reattach)

    def refresh(self):
        """Look where the stream stands now, without changing it
        (SharedMemoryImageStream_refresh: one look at the file and one at
        the stream): returns the Situation (also client.situation): SERVING,
        SERVER_GONE, NO_SERVER, NEW_SERVER (a server came since the last
        look), MISSING (the file was removed) or REPLACED (another file is
        at the path), and sets client.reattach when this client must be
        closed and a new one attached. ValueError once closed."""
        return Situation(self._refresh())

    def wait(self, timeout=None, spin=0.0):
        """Block until a frame newer than the last one this client locked is
        published (True) or `timeout` seconds pass (False); None waits for ever.
        The GIL is released while waiting, and Ctrl-C (any signal whose handler
        raises) interrupts the wait within 50 ms. Extended layout: the kernel
        wakes the client as the frame is published (no polling); with `spin`
        (seconds) the wait first spins in user space that long, no system
        call, and sees a frame about a microsecond after it is published
        instead of a kernel wake-up's tens (at the cost of a busy CPU). May
        be called while a frame is locked, to wait for the next one."""
        spin = _real(spin, "spin")
        if not 0.0 <= spin < _math.inf:
            raise ValueError("spin must be a number of seconds >= 0")
        return self._wait(_seconds(timeout), spin)

    def next(self, timeout=None):
        """Queue client (queue=True or reliable=True): wait up to `timeout`
        seconds (None: for ever) for the next frame in publish order, lock it
        and return it as a Frame (frame.lost: the frames published after
        the previous one this client got or skipped, or after it attached,
        that it will never get; client.lost: all of them), or None on
        timeout. Frames not in packed RGB are skipped without any_format
        (counted as read, not lost; the frames lost before a skipped one
        are in client.lost only). Raises Error (IMAGESTREAM_BAD_ARGS) on a client without the
        queue option or on an EnSight-layout stream."""
        seconds = _seconds(timeout)
        deadline = None if seconds < 0 else _time.monotonic() + seconds
        while True:
            frame = self._next()
            if frame is not None:
                return frame
            left = -1.0 if deadline is None else max(0.0, deadline - _time.monotonic())
            if not self._wait(left):
                return self._next()  # (one last look: a frame of the last moment)

    def unlock(self):
        """Unlock the frame this client holds (Frame.unlock()). BufferError while
        views of it exist; Error (IMAGESTREAM_NOT_LOCKED) when none is locked."""
        self._unlock()

    def lock(self):
        """Lock the newest published frame this client has not locked yet and
        return it as a Frame (read its pixels with numpy.asarray(frame), no
        copy), or return None when there is no new frame. Without any_format,
        frames that are not packed RGB are skipped (None). Does not block.
        Raises Error (IMAGESTREAM_LOCKED) while a frame is still locked."""
        return self._lock()

    def read(self, timeout=None):
        """Wait for the next frame (see wait()), lock it, copy it into a new numpy
        array and unlock it. None when `timeout` passes first. Needs numpy."""
        seconds = _seconds(timeout)
        if self.frame is not None:
            raise RuntimeError("read(): a frame is locked; unlock it first")
        deadline = None if seconds < 0 else _time.monotonic() + seconds
        while True:
            left = -1.0 if deadline is None else max(0.0, deadline - _time.monotonic())
            if not self._wait(left):
                return None
            frame = self._lock()
            if frame is None:  # dropped by the server, or skipped: wait for the next
                if deadline is not None and _time.monotonic() >= deadline:
                    return None
                continue
            try:
                array = frame.copy()
            except BaseException:
                try:
                    frame.unlock()
                except Exception:
                    pass  # the copy's error wins
                raise
            frame.unlock()
            return array


class Server(_Stream):
    """Serve (publish frames into) the stream in the file `path`; make the
    file first with create_file(), or pass max_size. One live server per file: a second
    one raises Error (IMAGESTREAM_SERVER_ACTIVE). A new server takes over
    from a dead one (open_code IMAGESTREAM_RECONNECTING) and attached
    clients go on.

    The extended layout (default) serves many clients, any pixel format,
    volumes and metadata. ensight_layout=True writes EnSight's layout: one
    client, RGB8 only, readable by EnSight's own client library.
    flip_vertical=True reverses the rows of send()'s input (for bottom-up
    images such as OpenGL or VTK ones). A file another user could change
    raises Error (IMAGESTREAM_UNSAFE_FILE, as for Client) unless
    any_file=True.

    max_size=(width, height) serves in one call, as every tool and element
    does (SharedMemoryImageStream_serve): the file is made, or grown, for two
    frames of that size (of `format`, x `depth` slices) in the chosen layout
    first; a file a live server holds is not resized (SERVER_ACTIVE), a file
    of other data is refused (NOT_A_STREAM) and left as it was.

        with smi.Server(path, max_size=(1920, 1080)) as server:
            for image in images:               # (1080, 1920, 3) uint8 arrays
                server.send(image)
    """
    __slots__ = ()
    _kind = "Server"

    def __init__(self, path, flip_vertical=False, ensight_layout=False, any_file=False, *,
                 max_size=None, format=0, depth=1):
        """Serve `path` (str, bytes or os.PathLike); see the class."""
        options = IMAGESTREAM_OPTIONS_SERVER
        if not ensight_layout:
            options |= IMAGESTREAM_OPTIONS_EXTENDED
        if flip_vertical:
            options |= IMAGESTREAM_OPTIONS_FLIPVERTICAL
        if any_file:
            options |= IMAGESTREAM_OPTIONS_ANYFILE
        serve = None
        if max_size is not None:
            width, height = max_size
            serve = (FORMAT_RGB8 if format is None else _format(format),
                     _u32(width, "width", 1), _u32(height, "height", 1),
                     1 if depth is None else _u32(depth, "depth", 1))
        super().__init__(path, options, AcquiredFrame, serve)

    @property
    def acquired(self):
        """True while a frame from acquire() waits to be published."""
        return self._pending

    @property
    def last_code(self):
        """Code of the last send(), acquire() or publish()."""
        return self._last_code

    def send(self, pixels, width=None, height=None, *, format=None, depth=None,
             frame_number=0, timestamp=None, spacing=None, origin=None, bottom_up=False):
        """Copy one frame into the stream (one copy, straight into the shared
        buffer, GIL released) and publish it. `pixels` is a C-contiguous numpy
        array (or any buffer) whose dtype and shape give the format:

            (h, w, 3) uint8 RGB8         (h, w, 4) uint8 RGBA8     (h, w) uint8 GRAY8
            (h, w) uint16 GRAY16         (h, w) float32 FLOAT32
            (h, w) int16 INT16           (h, w) int32 INT32
            (h, w) uint32 UINT32         (h, w) float64 FLOAT64
            (d, h, w[, c]): a volume of d slices (x fastest, then y, then z);
            a uint8 (d, h, w) volume needs format=FORMAT_GRAY8 or depth=d

        or any buffer of raw bytes with width and height (and format, depth)
        given. Rows top row first (bottom first with flip_vertical=True).
        bottom_up=True says the rows are bottom row first (as VTK and OpenGL
        have them): an extended-layout stream stores them so and marks the
        frame (FRAME_BOTTOMUP), and every reader shows it upright; the EnSight
        layout, always top row first, reverses them.
        frame_number 0 numbers frames on by themselves (0, 1, 2, ... in a new
        stream); timestamp defaults to now; spacing/origin are 2 or 3 numbers.

        Returns IMAGESTREAM_NOERROR, IMAGESTREAM_UNCONNECTED (no client attached)
        or IMAGESTREAM_NO_BUFFERAVAILABLE (clients hold every buffer: dropped).
        Raises TypeError/ValueError for an unusable array and Error for a
        negative code (e.g. IMAGESTREAM_FRAME_TOO_LARGE: make the file larger
        with create_file())."""
        if self.closed:
            raise ValueError("I/O operation on a closed Server (%r)" % self.path)
        number = _u32(frame_number, "frame_number")
        try:
            view = memoryview(pixels)
        except TypeError:
            raise TypeError("send(): pixels must be a numpy array or another buffer (bytes, "
                            "bytearray, memoryview), not %s" % type(pixels).__name__) from None
        with view:
            if not view.c_contiguous:
                raise ValueError("send(): the pixels must be C-contiguous "
                                 "(numpy.ascontiguousarray() makes a contiguous copy)")
            fmt, w, h, d = _describe_send(view, width, height, format, depth)
            return self._send(view, fmt, w, h, d, number,
                              *_metadata(timestamp, spacing, origin),
                              FRAME_BOTTOMUP if bottom_up else 0)

    def acquire(self, width, height, *, format=0, depth=1, frame_number=None,
                timestamp=None, spacing=None, origin=None):
        """Zero-copy publishing: take a free buffer of the stream file for one frame
        and return it as an AcquiredFrame; numpy.asarray(frame) writes straight
        into the shared buffer. Fill it (top row first), delete the views, then
        publish() it (or leave a `with` block). Returns None when no buffer is
        free (server.last_code says why: IMAGESTREAM_NO_BUFFERAVAILABLE, or
        IMAGESTREAM_UNCONNECTED in the EnSight layout).

            with server.acquire(1920, 1080) as frame:
                a = numpy.asarray(frame)      # (1080, 1920, 3) uint8, writable
                render_into(a)
                del a"""
        fmt = FORMAT_RGB8 if format is None else _format(format)
        w, h = _u32(width, "width", 1), _u32(height, "height", 1)
        d = 1 if depth is None else _u32(depth, "depth", 1)
        if frame_number is not None:
            frame_number = _u32(frame_number, "frame_number")
        return self._acquire(fmt, w, h, d, frame_number, *_metadata(timestamp, spacing, origin))

    def set_acquire_timeout(self, timeout):
        """How long send() and acquire() wait for a buffer when none can be
        taken (clients hold them, or a reliable queue reader has not read
        their frames) before giving up (IMAGESTREAM_NO_BUFFERAVAILABLE):
        `timeout` seconds, 0 (the default) not at all, None for ever. The
        GIL is released while they may wait."""
        seconds = _seconds(timeout)
        self._setacquiretimeout(-1 if seconds < 0 else int(round(seconds * 1000)))

    def set_buffers(self, minimum=2, maximum=8):
        """How many pixel buffers this (extended-layout) stream may use. It
        starts with two; when clients hold every buffer, send() and acquire()
        add one (the file grows by one frame) instead of dropping the frame,
        up to `maximum` (at most 8), so N clients holding frames need N + 1.
        Buffers up to `minimum` are added now; none is ever removed.
        maximum=2 keeps the file at two frames. Raises Error (e.g.
        IMAGESTREAM_NO_SPACE, IMAGESTREAM_BAD_FORMAT for an EnSight-layout
        stream, which always has two blocks, unless minimum <= 2 <= maximum),
        ValueError for a bad range."""
        lo, hi = _u32(minimum, "minimum", 1), _u32(maximum, "maximum", 1)
        if lo > hi or hi > IMAGESTREAM_MAX_BUFFERS:
            raise ValueError("set_buffers(): want 1 <= minimum <= maximum <= %d, not %d, %d"
                             % (IMAGESTREAM_MAX_BUFFERS, lo, hi))
        self._setbuffers(lo, hi)

    def publish(self):
        """Publish the frame taken with acquire(), like AcquiredFrame.publish(),
        also when that object is gone. BufferError while views of it exist;
        Error (IMAGESTREAM_NOT_LOCKED) when nothing is acquired."""
        return self._publish()


# ---- functions ----------------------------------------------------------------

def create_file(path, max_width, max_height, *, format=0, depth=1, layout=None,
                any_file=False):
    """Create the stream file `path` (mode 0600), or grow it, so that it holds
    two frames of max_width x max_height pixels of `format` (x depth slices)
    plus headers. layout=None fits either layout: an RGB8 file is then at
    least 20 MiB, as EnSight's own client asks; layout='extended' sizes it
    for the extended layout only, layout='ensight' for EnSight's. A larger
    file is left as it is. Put it in /dev/shm for memory-speed streams.
    A new file is made exclusively (never through a symbolic link); an
    existing one must be yours and no other user may be able to change it
    (check_file() says why not), unless any_file=True: an existing regular
    file the rules refuse is then left as it is (not grown; a server opened
    with any_file=True uses it). The file's space is reserved now. Raises
    Error on failure (code IMAGESTREAM_UNSAFE_FILE, with the rule and the
    fix, or IMAGESTREAM_NO_SPACE among them), ValueError for an unknown
    layout."""
    if layout not in _LAYOUTS:
        raise ValueError("layout must be None, 'extended' or 'ensight', not %r" % (layout,))
    w, h = _u32(max_width, "max_width", 1), _u32(max_height, "max_height", 1)
    fmt = FORMAT_RGB8 if format is None else _format(format)
    d = 1 if depth is None else _u32(depth, "depth", 1)
    try:
        _core.create_file(path, _LAYOUTS[layout], fmt, w, h, d)
    except Error as error:
        if not (any_file and error.code == IMAGESTREAM_UNSAFE_FILE and
                _core.check_file(path, IMAGESTREAM_OPTIONS_ANYFILE)[0] == 0):
            raise


def check_file(path, *, any_file=False):
    """Would Client(path) or Server(path) refuse the file `path` as unsafe
    (IMAGESTREAM_UNSAFE_FILE), and why? Stream files are input from other
    users: a file is used only when no other user can change it (README,
    "Careful opening"). Returns None when the rules accept it, else one line
    that names the rule that failed and the fix ("chmod g-w FILE", "chmod o-w
    FOLDER"). With any_file, only what any_file=True still refuses (anything
    but a regular file). Opens nothing for reading or writing. Raises Error
    for a missing file (IMAGESTREAM_BAD_FILE_SIZE) or one that cannot be
    looked at."""
    options = IMAGESTREAM_OPTIONS_ANYFILE if any_file else IMAGESTREAM_OPTIONS_NONE
    code, why = _core.check_file(path, options)
    if code == IMAGESTREAM_NOERROR:
        return None
    if code == IMAGESTREAM_UNSAFE_FILE:
        return why
    raise Error(code, "cannot check %r: %s (%s)" % (path, errorstring(code), why))


def inspect(path):
    """The state of the stream in `path`, read without attaching (nothing in
    the file changes; safe on a live stream, EnSight's too). Keys: layout
    ('extended', 'ensight'), version, file_size, server_alive, clients,
    max_clients, buffer_count, buffer_size, last_frame, server_generation,
    last_sequence and buffers (a list of dicts: state, format, format_name,
    frame, width, height, depth, holders, sequence, timestamp). Raises Error
    for a missing or invalid file."""
    return _info_dict(_core.inspect(path))


def read_frame(path, timeout=None, *, any_format=True, any_file=False):
    """One call: attach to the stream in `path`, wait for a frame, copy it into a
    new numpy array (shape and dtype as numpy.asarray(frame)), detach. An
    extended-layout stream hands over its newest frame at once; an EnSight-
    layout stream (one client, which a new client replaces) the next one.
    Raises TimeoutError when no frame comes within `timeout` seconds (None:
    wait for ever; Ctrl-C interrupts), Error when the file is not a stream
    (or is refused as unsafe: any_file as for Client)."""
    seconds = _seconds(timeout)
    client = Client(path, any_format, any_file)
    try:
        array = client.read(timeout)
        if array is None:
            raise TimeoutError("no frame arrived on %r within %g s" % (client.path, seconds))
        return array
    finally:
        client.close()


__all__ = sorted(name for name in globals() if not name.startswith("_"))
