# SPDX-License-Identifier: BSD-3-Clause
"""Hostile-SIZE attack harness: a live stream whose file is shrunk, grown,
replaced and scribbled on while every face of the project reads it; counts
the processes that die of a signal (issue 19, "Memory safety when the file
shrinks").

Faces, each a child process, restarted whenever it exits:
  smi-publish  the server, the test pattern at a steady rate (extended or
               EnSight layout; it may exit on IMAGESTREAM_BAD_FILE_SIZE), with
               --copy (putframe): only the library writes the mapping
  smi-read     2 C clients, -q only: no --verify/--touch/--save, so only the
               library itself touches the mapping
  smi-info     the file inspected in a loop
  python       a shared_memory_image Client (wait, lock, copy through the
               library's copyframe, unlock, info(), now and then inspect()),
               catching smi.Error, reconnecting when the stream is unusable;
               run with -X faulthandler
  smisrc       gst-launch-1.0 smisrc location=FILE ! fakesink (when
               gst-inspect-1.0 finds smisrc in the build's plugin folder)

The attacker (this process), at random moments with pauses of 0 to a few ms
(now and then longer, so that the stream comes back to life), does one of:
  truncate   ftruncate to 0, a few bytes, one page, just below/at/above the
             header, size-1, half, a random size; later the size and the
             header saved while the stream was good are put back (pwrite)
  grow       ftruncate to a larger size; later back to the size
  replace    open(O_TRUNC) + write of a smaller valid stream file made
             beforehand (what `cp small.smi FILE` does); later restored
  flip       XOR random bytes of the header(s); later the originals are
             written back
Owner and mode stay as they were (everything is made with umask 077).

A child that dies of a signal (other than the SIGTERM/SIGKILL this harness
sends it at shutdown or at a layout switch) is a CRASH: its face, signal and
stderr tail are reported. So is smi-publish's exit through its own SIGBUS
handler ("SIGBUS(handler)": with --copy only the library touches the
mapping). --backtrace runs every face under gdb, so that a crash's report
holds its stack. Exit status: 0 no crash, 1 crash(es), 2 usage or
set-up error. Standard library only; run it with Debian's /usr/bin/python3.

  smi_size_attack.py [--seconds S] [--build DIR] [--file PATH]
                     [--layout ensight|extended|both] [--no-gst] [--no-python]
                     [--seed N] [--backtrace]

The tools are found under DIR/Core/Tools or DIR/bin (or given by SMI_PUBLISH,
SMI_READ, SMI_INFO), the Python package under DIR/python (or PYTHONPATH), the
GStreamer plugin under DIR/gstreamer-1.0 (or --gst-plugin-dir).
"""

import argparse
import collections
import ctypes
import errno
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

EXT_MAGIC = b"\x89SMI\r\n\x1a\n"
EXT_HEADER = 4096
ENSIGHT_BLOCK_HEADER = 24
PAGE = 4096
FRAME_SIZE = "160x120"
RATE = "120"
PUBLISH_SIGBUS = "the stream file was truncated under the server (SIGBUS)"
GDB_SIGNAL = re.compile(r"^(?:Program|Thread \d+.*) (?:received|terminated with) signal "
                        r"(SIG[A-Z0-9]+)")
GDB_EXITED = re.compile(r"^\[Inferior \d+ \(process \d+\) exited (?:normally|with code (\d+))\]",
                        re.M)
GDB_NOISE = ("[Inferior ", "[Thread debugging", "Using host libthread_db", "No stack.",
             "The program has no registers now.", "The program is not being run.")
SIGNAL_NAMES = {s.value: s.name for s in signal.Signals}

# ---- the Python face (a child process) ---------------------------------------

PY_CLIENT = r'''
import os, random, signal, sys, time
import shared_memory_image as smi

path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
stop = False

def on_term(signum, frame):
    global stop
    stop = True

signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
try:
    import numpy  # noqa: F401
    def copy(frame):
        return frame.copy()          # numpy array, through the library's copyframe
except ImportError:
    def copy(frame):
        return frame.tobytes()       # bytes, through the library's copyframe

frames = errors = connects = infos = inspects = 0
names = {}
client = None
failures = 0                         # consecutive errors on this handle
last_report = time.monotonic()

def report(final=False):
    print("py-client: frames=%d errors=%d connects=%d infos=%d inspects=%d%s %s"
          % (frames, errors, connects, infos, inspects, " final" if final else "",
             " ".join("%s=%d" % kv for kv in sorted(names.items()))), flush=True)

def close():
    global client
    if client is not None:
        try:
            client.close()
        except Exception:
            pass
    client = None

while not stop:
    now = time.monotonic()
    if now - last_report >= 0.5:
        report()
        last_report = now
    try:
        if client is None:
            client = smi.Client(path)
            connects += 1
            failures = 0
        if client.wait(timeout=0.05):
            frame = client.lock()
            if frame is not None:
                try:
                    copy(frame)
                    frames += 1
                finally:
                    frame.unlock()
        client.info()
        infos += 1
        if rng.random() < 0.05:
            smi.inspect(path)
            inspects += 1
        failures = 0
    except smi.Error as e:
        errors += 1
        names[e.name] = names.get(e.name, 0) + 1
        failures += 1
        if client is None:
            time.sleep(0.002)         # no stream to attach to yet
        elif failures > 50 or rng.random() < 0.5:
            close()                   # unusable: attach again
        # else: go on with the same handle (it must fail, not crash)
close()
report(final=True)
'''

# ---- helpers -----------------------------------------------------------------


def die(message, status=2):
    print("smi_size_attack: " + message, file=sys.stderr)
    sys.exit(status)


_libc = None


def _child_setup():
    """In each child before exec: no core file, and SIGKILL when the harness dies."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def tail(path, limit=2500):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    if size > limit:
        text = "..." + text[text.find("\n") + 1:]
    return text.rstrip("\n")


def find_tool(name, build, env_name):
    path = os.environ.get(env_name)
    if path:
        return path
    for sub in ("Core/Tools", "bin", "."):
        candidate = os.path.join(build, sub, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    die("cannot find %s under %s/Core/Tools or %s/bin (set %s, or --build)"
        % (name, build, build, env_name))


# ---- children ------------------------------------------------------------------


class Face:
    """One kind of child process: its statistics across restarts."""

    def __init__(self, name, slots, restart_delay):
        self.name = name
        self.slots = slots
        self.restart_delay = restart_delay
        self.starts = 0
        self.clean = 0          # exit status 0
        self.errors = collections.Counter()  # exit status > 0
        self.stopped = 0        # ended by the harness's own signal
        self.crashes = collections.Counter()  # signal name -> count
        self.frames = None      # None: not counted for this face
        self.spawn_failures = 0
        self.messages = collections.Counter()  # last stderr line of error exits


class Child:
    def __init__(self, face, slot, argv, env, out_path, err_path, parse):
        self.face, self.slot, self.argv, self.env = face, slot, argv, env
        self.out_path, self.err_path, self.parse = out_path, err_path, parse
        self.proc = None
        self.started = 0.0
        self.restart_at = 0.0   # when it may start again
        self.sent_signal = None  # what the harness sent it
        self.under_gdb = False


class Harness:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.t0 = time.monotonic()
        self.children = []
        self.faces = {}
        self.crashes = []       # dicts: face, slot, pid, signal, age, attacks, stderr
        self.attacks = collections.Counter()
        self.attack_detail = collections.Counter()
        self.recent = collections.deque(maxlen=64)  # (time, description)
        self.pending = None     # the attack to undo: (undo_at, callable, description)
        self.next_attack = 0.0
        self.saved = None       # (size, layout, [(offset, bytes)]) of a good stream
        self.templates = {}
        self.layout = None
        self.shutting_down = False
        self.switches = 0
        self.attacker_error = None
        self.stop_requested = False  # SIGINT/SIGTERM/SIGHUP
        self.running = False

    # ---- set-up --------------------------------------------------------------

    def elapsed(self):
        return time.monotonic() - self.t0

    def make_templates(self):
        """Smaller valid stream files of each layout, for the `replace` attack."""
        small = os.path.join(self.work, "template-extended.smi")
        r = subprocess.run([self.publish, "-q", "-s", "32x16", "-n", "3", "-r", "0", small],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        if r.returncode != 0:
            die("cannot make the template stream: smi-publish exited %d: %s"
                % (r.returncode, r.stderr.decode(errors="replace").strip()))
        with open(small, "rb") as f:
            self.templates["extended"] = f.read()
        os.unlink(small)
        # EnSight layout (Core/LAYOUT.md section 1), by hand: smi-publish makes
        # 20 MiB files for it. Two blocks of one 16x8 RGB frame each; block 0
        # holds a finished frame.
        w, h = 16, 8
        payload = w * h * 3

        def block(number, state):
            head = struct.pack("<5IB3x", number, w, h, 0, h, state)
            return head + bytes((i * 7 + number) & 255 for i in range(payload))

        self.templates["ensight"] = block(1, 2) + block(0, 0)

    def gst_usable(self):
        if self.args.no_gst:
            return "disabled (--no-gst)"
        inspect = shutil.which("gst-inspect-1.0")
        launch = shutil.which("gst-launch-1.0")
        if not inspect or not launch:
            return "gst-inspect-1.0/gst-launch-1.0 not found"
        plugin_dir = self.args.gst_plugin_dir or os.path.join(self.args.build, "gstreamer-1.0")
        if not os.path.isdir(plugin_dir):
            return "no plugin folder %s" % plugin_dir
        self.gst_env = dict(os.environ)
        self.gst_env["GST_PLUGIN_PATH"] = plugin_dir
        self.gst_env["GST_REGISTRY"] = self.args.gst_registry or os.path.join(
            self.work, "gst-registry.bin")
        self.gst_env.pop("GST_DEBUG", None)
        try:
            r = subprocess.run([inspect, "smisrc"], env=self.gst_env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
        except subprocess.TimeoutExpired:
            return "gst-inspect-1.0 smisrc timed out"
        if r.returncode != 0:
            return "gst-inspect-1.0 smisrc failed (GST_PLUGIN_PATH=%s)" % plugin_dir
        self.gst_launch = launch
        return None

    def python_usable(self):
        if self.args.no_python:
            return "disabled (--no-python)"
        python = self.args.python
        if not python or not os.path.exists(python):
            return "no Python interpreter (%s)" % python
        self.py_env = dict(os.environ)
        py_dir = os.path.join(self.args.build, "python")
        if os.path.isdir(os.path.join(py_dir, "shared_memory_image")):
            old = self.py_env.get("PYTHONPATH")
            self.py_env["PYTHONPATH"] = py_dir + (os.pathsep + old if old else "")
        self.py_env["PYTHONDONTWRITEBYTECODE"] = "1"
        r = subprocess.run([python, "-c", "import shared_memory_image"], env=self.py_env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            return "%s cannot import shared_memory_image: %s" % (
                python, r.stdout.decode(errors="replace").strip().splitlines()[-1:])
        return None

    def add_face(self, name, slots, restart_delay, argv_of_slot, env=None, parse=None,
                 counts_frames=False):
        face = Face(name, slots, restart_delay)
        if counts_frames:
            face.frames = 0
        self.faces[name] = face
        for slot in range(slots):
            tag = "%s.%d" % (name.replace("-", "_"), slot)
            child = Child(face, slot, argv_of_slot(slot), env,
                          os.path.join(self.work, tag + ".out") if parse else None,
                          os.path.join(self.work, tag + ".err"), parse)
            self.children.append(child)
        return face

    def server_argv(self):
        # --copy: putframe, so that only the library writes the mapping (a tool
        # writing an acquired frame in place may fault by design: README.md)
        argv = [self.publish, "-q", "-c", "-s", FRAME_SIZE, "-r", RATE]
        if self.layout == "ensight":
            argv.insert(1, "-e")
        return argv + [self.path]

    def setup(self):
        a = self.args
        self.publish = find_tool("smi-publish", a.build, "SMI_PUBLISH")
        self.read = find_tool("smi-read", a.build, "SMI_READ")
        self.info = find_tool("smi-info", a.build, "SMI_INFO")
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
            else tempfile.gettempdir()
        self.work = tempfile.mkdtemp(prefix="smi-size-attack.", dir=shm)
        if a.file:
            path = os.path.abspath(a.file)
            if os.path.lexists(path):  # (before self.path is set: cleanup() removes it)
                die("%s exists: give a path that does not (it is removed at the end)" % path)
            self.path = path
        else:
            self.path = os.path.join(self.work, "stream.smi")
        self.make_templates()
        self.layouts = ["extended", "ensight"] if a.layout == "both" else [a.layout]
        self.layout = self.layouts[0]

        self.add_face("smi-publish", 1, 0.01, lambda s: None, parse=parse_publish,
                      counts_frames=True)
        self.add_face("smi-read", 2, 0.005, lambda s: [self.read, "-q", "-w", self.path],
                      parse=parse_read, counts_frames=True)
        self.add_face("smi-info", 1, 0.001, lambda s: [self.info, self.path])
        why = self.python_usable()
        self.skipped = {}
        if why:
            self.skipped["python"] = why
        else:
            self.add_face("python", 1, 0.02, lambda s: [
                a.python, "-X", "faulthandler", "-c", PY_CLIENT, self.path,
                str(self.rng.randrange(1 << 30))], env=self.py_env, parse=parse_python,
                counts_frames=True)
        why = self.gst_usable()
        if why:
            self.skipped["smisrc"] = why
        else:
            self.add_face("smisrc", 1, 0.05, lambda s: [
                self.gst_launch, "-q", "-f", "smisrc", "location=" + self.path, "!",
                "fakesink"], env=self.gst_env)
        if a.backtrace:
            gdb = shutil.which("gdb")
            if not gdb:
                die("--backtrace needs gdb")
            self.gdb = gdb

    # ---- running children ---------------------------------------------------------

    def start(self, child):
        face = child.face
        argv = self.server_argv() if face.name == "smi-publish" else child.argv
        wrapped = argv
        if self.args.backtrace:
            # the stack of a fatal signal, else the tool's own exit status
            wrapped = [self.gdb, "-q", "-nx", "-batch", "-return-child-result",
                       "-ex", "set pagination off",
                       "-ex", "set confirm off",
                       "-ex", "handle SIGTERM nostop noprint pass",
                       "-ex", "handle SIGPIPE nostop noprint pass",
                       "-ex", "run", "-ex", "bt 20", "-ex", "info registers rip",
                       "--args"] + argv
        child.under_gdb = wrapped is not argv
        # under gdb, everything (the stack too) goes to the stderr file
        out = open(child.out_path, "wb") if child.out_path and not child.under_gdb \
            else subprocess.DEVNULL
        err = open(child.err_path, "wb")
        try:
            child.proc = subprocess.Popen(
                wrapped, stdin=subprocess.DEVNULL, stdout=err if child.under_gdb else out,
                stderr=err, env=child.env, start_new_session=True, close_fds=True,
                # not for smi-info, which ends by itself: a preexec_fn costs each
                # start three times as much (fork instead of vfork)
                preexec_fn=None if face.name == "smi-info" else _child_setup)
        except OSError as e:
            face.spawn_failures += 1
            child.proc = None
            child.restart_at = time.monotonic() + 0.5
            print("smi_size_attack: cannot start %s: %s" % (face.name, e), file=sys.stderr)
            return
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
            err.close()
        child.started = time.monotonic()
        child.sent_signal = None
        face.starts += 1

    def signal_child(self, child, sig):
        if child.proc is None or child.proc.poll() is not None:
            return
        child.sent_signal = child.sent_signal or sig
        try:
            os.killpg(child.proc.pid, sig)
        except ProcessLookupError:
            pass

    def reap(self, child, rc):
        face = child.face
        proc = child.proc
        child.proc = None
        now = time.monotonic()
        child.restart_at = now + face.restart_delay
        output = ""
        if child.out_path or child.under_gdb:
            try:
                with open(child.err_path if child.under_gdb else child.out_path, "rb") as f:
                    output = f.read().decode("utf-8", "replace")
            except OSError:
                pass
        if child.parse and face.frames is not None:
            face.frames += child.parse(output)
        gdb_signal = gdb_report = None
        if child.under_gdb:
            lines = output.splitlines()
            for i, line in enumerate(lines):
                # "Program received signal SIGBUS, Bus error." or, in a threaded
                # program, 'Thread 3 "smisrc0:src" received signal SIGBUS, ...'
                m = GDB_SIGNAL.match(line)
                if m and not (m.group(1) in ("SIGTERM", "SIGKILL", "SIGINT")
                              and child.sent_signal):
                    gdb_signal = m.group(1)
                    gdb_report = "\n".join(lines[max(0, i - 3):i + 60])
                    break
            exited = GDB_EXITED.search(output)
            if not gdb_signal and exited:
                # the tool's own exit status, whatever became of gdb afterwards
                # (gdb 13 can itself crash when signalled as it ends)
                rc = int(exited.group(1) or "0", 8)
        caught = None
        if face.name == "smi-publish" and rc == 1 and not gdb_signal and \
                PUBLISH_SIGBUS in tail(child.err_path, 1500):
            # smi-publish turns SIGBUS into exit status 1 (its own in-place
            # drawing may fault); with --copy only the library touches the
            # mapping, so this is the library's fault: a crash
            caught = "SIGBUS(handler)"
        if rc < 0 or gdb_signal or caught:
            sig = -rc if rc < 0 else None
            name = gdb_signal or caught or SIGNAL_NAMES.get(sig, "signal %d" % sig)
            if rc < 0 and child.sent_signal and sig in (signal.SIGTERM, signal.SIGKILL):
                face.stopped += 1
                return
            face.crashes[name] += 1
            self.crashes.append({
                "face": face.name, "slot": child.slot, "pid": proc.pid, "signal": name,
                "at": now - self.t0, "age": now - child.started, "layout": self.layout,
                # what the attacker did just before (the crash is seen a few ms
                # late, later under gdb)
                "attacks": [(t - self.t0, d) for t, d in list(self.recent)
                            if now - t < 0.3][-10:],
                "stderr": gdb_report or tail(child.err_path, 2500),
            })
            if self.args.verbose:
                print("smi_size_attack: %.2f s: CRASH %s#%d pid %d %s" % (
                    now - self.t0, face.name, child.slot, proc.pid, name), flush=True)
        elif child.sent_signal:
            face.stopped += 1  # ended when the harness told it to
        elif rc == 0:
            face.clean += 1
        else:
            face.errors[rc] += 1
            lines = [line for line in tail(child.err_path, 1500).splitlines()
                     if line.strip() and not line.startswith(GDB_NOISE)]
            if lines:
                face.messages[lines[-1].replace(self.path, "FILE")[:160]] += 1

    def poll_children(self):
        now = time.monotonic()
        for child in self.children:
            if child.proc is not None:
                rc = child.proc.poll()
                if rc is not None:
                    self.reap(child, rc)
            if child.proc is None and not self.shutting_down and now >= child.restart_at:
                self.start(child)

    def stop_all(self):
        self.shutting_down = True
        for child in self.children:
            self.signal_child(child, signal.SIGTERM)
        deadline = time.monotonic() + (10.0 if self.args.backtrace else 3.0)
        while time.monotonic() < deadline:
            if all(c.proc is None or c.proc.poll() is not None for c in self.children):
                break
            time.sleep(0.01)
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                child.sent_signal = signal.SIGKILL
                try:
                    os.killpg(child.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for child in self.children:
            if child.proc is not None:
                try:
                    rc = child.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    continue
                self.reap(child, rc)
            # stragglers of the session (gst-plugin-scanner, a gdb inferior)
            # die with their leader's group
        for child in self.children:
            if child.proc is not None:
                try:
                    os.killpg(child.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    # ---- the attacker ------------------------------------------------------------

    def open_file(self, flags=os.O_RDWR):
        try:
            return os.open(self.path, flags | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None

    def good_state(self, fd):
        """(size, layout, regions) when the file holds a consistent stream now."""
        try:
            size = os.fstat(fd).st_size
            head = os.pread(fd, EXT_HEADER, 0)
        except OSError:
            return None
        if len(head) >= EXT_HEADER and head[:8] == EXT_MAGIC:
            header_size, count = struct.unpack_from("<II", head, 12)
            file_size, buffer_size = struct.unpack_from("<QQ", head, 32)
            if header_size == EXT_HEADER and 1 <= count <= 8 and buffer_size % PAGE == 0 \
                    and buffer_size and header_size + count * buffer_size == file_size <= size:
                return (size, "extended", [(0, head)])
            return None
        if size >= 54 and head[:8] != EXT_MAGIC:
            p = (size - 48) // 2
            second = os.pread(fd, ENSIGHT_BLOCK_HEADER, 24 + p)
            if len(second) == ENSIGHT_BLOCK_HEADER and head[20] <= 4 and second[20] <= 4 \
                    and struct.unpack_from("<I", head, 4)[0] > 0:
                return (size, "ensight", [(0, head[:ENSIGHT_BLOCK_HEADER]), (24 + p, second)])
        return None

    def restore(self, fd):
        """The saved size and header bytes back."""
        size, _, regions = self.saved
        if os.fstat(fd).st_size != size:
            os.ftruncate(fd, size)
        for offset, data in regions:
            os.pwrite(fd, data, offset)

    def pause(self):
        """0 to a few ms; now and then long enough for the stream to recover."""
        r = self.rng.random()
        if r < 0.8:
            return self.rng.uniform(0.0, 0.004)
        if r < 0.97:
            return self.rng.uniform(0.004, 0.03)
        return self.rng.uniform(0.05, 0.3)

    def truncate_sizes(self, size, layout):
        header = EXT_HEADER if layout == "extended" else ENSIGHT_BLOCK_HEADER
        sizes = [("0", 0), ("few", self.rng.randint(1, 64)), ("page", PAGE),
                 ("header-1", header - 1), ("header", header), ("header+1", header + 1),
                 ("half", size // 2), ("random", self.rng.randint(0, size)),
                 ("size-1", size - 1), ("size-page", max(0, size - PAGE))]
        if layout == "ensight":
            sizes += [("2headers", 48), ("min-1", 53)]
        else:
            sizes += [("first-buffer", EXT_HEADER + self.rng.randint(1, 3) * PAGE)]
        return sizes

    def attack(self):
        fd = self.open_file()
        if fd is None:
            return
        try:
            state = self.good_state(fd)
            if state:
                self.saved = state
            if self.saved is None:
                return  # nothing to restore yet: wait for the server
            size, layout, regions = self.saved
            kind = self.rng.choices(["truncate", "grow", "replace", "flip"], [5, 1, 2, 3])[0]
            if kind == "truncate":
                label, new = self.rng.choice(self.truncate_sizes(size, layout))
                new = max(0, min(new, size))
                os.ftruncate(fd, new)
                desc = "truncate %d -> %d (%s)" % (size, new, label)
                self.attack_detail["truncate:" + label] += 1
                undo = self.restore
            elif kind == "grow":
                extra = self.rng.choice([1, PAGE, self.rng.randint(1, 4 << 20)])
                os.ftruncate(fd, size + extra)
                desc = "grow %d -> %d" % (size, size + extra)
                undo = self.restore
            elif kind == "replace":
                which = layout if self.rng.random() < 0.7 else self.rng.choice(
                    ["extended", "ensight"])
                data = self.templates[which]
                wfd = self.open_file(os.O_WRONLY | os.O_TRUNC)
                if wfd is None:
                    return
                try:
                    os.write(wfd, data)
                finally:
                    os.close(wfd)
                desc = "replace with a %d-byte %s stream" % (len(data), which)
                self.attack_detail["replace:" + which] += 1
                undo = self.restore
            else:
                spots = []
                for _ in range(self.rng.randint(1, 6)):
                    if layout == "extended":
                        # mostly the geometry: header_size, buffer_count, file_size,
                        # buffer_size, and the buffers' data_offset/data_size
                        region = self.rng.choice([(12, 24), (32, 48), (0, 256), (256, 1280),
                                                  (256 + 32, 256 + 48)])
                        i = self.rng.randrange(8) * 128 if region[0] == 256 + 32 else 0
                        off = self.rng.randrange(region[0], region[1]) + i
                    else:
                        base, _ = self.rng.choice(regions)
                        off = base + self.rng.randrange(ENSIGHT_BLOCK_HEADER)
                    old = os.pread(fd, 1, off)
                    if len(old) != 1:
                        continue
                    os.pwrite(fd, bytes([old[0] ^ self.rng.randint(1, 255)]), off)
                    spots.append((off, old))
                desc = "flip bytes at %s" % ",".join(str(o) for o, _ in spots)

                def undo(fd2, spots=spots):
                    for off, old in reversed(spots):
                        os.pwrite(fd2, old, off)
                    if self.rng.random() < 0.3:
                        self.restore(fd2)
            self.attacks[kind] += 1
            now = time.monotonic()
            self.recent.append((now, desc))
            self.pending = (now + self.pause(), undo, desc)
        except OSError as e:
            self.attacks["failed:" + errno.errorcode.get(e.errno, str(e.errno))] += 1
        finally:
            os.close(fd)

    def undo(self):
        _, undo, desc = self.pending
        self.pending = None
        fd = self.open_file()
        if fd is None:
            return
        try:
            undo(fd)
            self.recent.append((time.monotonic(), "undo " + desc))
        except OSError as e:
            self.attacks["failed-undo:" + errno.errorcode.get(e.errno, str(e.errno))] += 1
        finally:
            os.close(fd)

    def switch_layout(self, layout):
        """Second half of --layout both: a new server of the other layout on an
        emptied file (the clients see it shrink to 0 and attach again)."""
        if self.pending:
            self.undo()
        self.layout = layout
        self.saved = None
        self.switches += 1
        for child in self.children:
            if child.face.name == "smi-publish" and child.proc is not None:
                self.signal_child(child, signal.SIGTERM)
                try:
                    child.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.signal_child(child, signal.SIGKILL)
                    child.proc.wait()
                self.reap(child, child.proc.returncode)
                child.restart_at = 0.0
        fd = self.open_file()
        if fd is not None:
            os.ftruncate(fd, 0)
            os.close(fd)
        self.recent.append((time.monotonic(), "layout switch to " + layout))

    # ---- the run ---------------------------------------------------------------

    def attacker(self):
        try:
            self.attack_loop()
        except BaseException as e:  # reported by the main thread
            self.attacker_error = e

    def attack_loop(self):
        """The attacker's thread: attack, wait, undo, wait, ... until told to stop
        (children are started and reaped meanwhile by the main thread, whose
        fork/exec calls would otherwise space the attacks out)."""
        self.next_attack = time.monotonic() + 0.3
        while not self.stop_attacks.is_set():
            with self.attack_lock:
                now = time.monotonic()
                if self.pending and now >= self.pending[0]:
                    self.undo()
                    self.next_attack = time.monotonic() + self.pause()
                elif not self.pending and now >= self.next_attack:
                    self.attack()
                    if not self.pending:
                        self.next_attack = time.monotonic() + 0.002
                wake = self.pending[0] if self.pending else self.next_attack
            delay = wake - time.monotonic()
            if delay > 0:
                self.stop_attacks.wait(min(delay, 0.05))
        with self.attack_lock:
            if self.pending:
                self.undo()

    def run(self):
        seconds = self.args.seconds
        end = self.t0 + seconds
        switch_at = self.t0 + seconds / 2 if len(self.layouts) == 2 else None
        # the server first, so that the file exists before the clients come
        self.poll_children()
        self.stop_attacks = threading.Event()
        self.attack_lock = threading.Lock()
        thread = threading.Thread(target=self.attacker, name="attacker", daemon=True)
        thread.start()
        try:
            while True:
                now = time.monotonic()
                if now >= end or not thread.is_alive() or self.stop_requested:
                    break
                if switch_at is not None and now >= switch_at:
                    switch_at = None
                    with self.attack_lock:
                        self.switch_layout(self.layouts[1])
                self.poll_children()
                time.sleep(0.002)
        finally:
            self.stop_attacks.set()
            thread.join()
        if self.attacker_error:
            raise self.attacker_error

    # ---- the report ------------------------------------------------------------

    def summary(self, elapsed):
        a = self.args
        out = []
        out.append("smi_size_attack: %.1f s, layout %s, seed %d, file %s"
                   % (elapsed, a.layout, a.seed, getattr(self, "path", "-")))
        total = sum(v for k, v in self.attacks.items() if not k.startswith("failed"))
        kinds = ", ".join("%s %d" % (k, self.attacks[k])
                          for k in ("truncate", "grow", "replace", "flip"))
        out.append("attacks: %d (%s)" % (total, kinds))
        failed = {k: v for k, v in self.attacks.items() if k.startswith("failed")}
        if failed:
            out.append("  attack calls that failed: %s" % ", ".join(
                "%s %d" % kv for kv in sorted(failed.items())))
        trunc = sorted((k.split(":", 1)[1], v) for k, v in self.attack_detail.items()
                       if k.startswith("truncate:"))
        out.append("  truncate to: " + ", ".join("%s %d" % kv for kv in trunc))
        repl = sorted((k.split(":", 1)[1], v) for k, v in self.attack_detail.items()
                      if k.startswith("replace:"))
        if repl:
            out.append("  replace with: " + ", ".join("%s %d" % kv for kv in repl))
        for name, why in self.skipped.items():
            out.append("face %s skipped: %s" % (name, why))
        out.append("%-12s %6s %8s %6s %7s %8s %9s  %s" % (
            "face", "starts", "restarts", "clean", "errors", "stopped", "frames", "crashes"))
        for face in self.faces.values():
            crashes = ", ".join("%s x%d" % kv for kv in sorted(face.crashes.items())) or "0"
            errors = sum(face.errors.values())
            out.append("%-12s %6d %8d %6d %7d %8d %9s  %s" % (
                face.name, face.starts, max(0, face.starts - face.slots), face.clean, errors,
                face.stopped, "-" if face.frames is None else face.frames, crashes))
        for face in self.faces.values():
            if face.messages:
                out.append("%s: most frequent errors (exit status %s):" % (
                    face.name, ", ".join("%d x%d" % kv for kv in sorted(face.errors.items()))))
                for message, count in face.messages.most_common(a.messages):
                    out.append("  %5d  %s" % (count, message))
        n = len(self.crashes)
        if n:
            out.append("")
            out.append("CRASHES: %d" % n)
            by = collections.Counter((c["face"], c["signal"]) for c in self.crashes)
            for (face, sig), count in sorted(by.items()):
                out.append("  %-12s %-8s x%d" % (face, sig, count))
            shown = collections.Counter()
            for c in self.crashes:
                key = (c["face"], c["signal"])
                shown[key] += 1
                if shown[key] > a.show:
                    continue
                out.append("")
                out.append("--- crash: %s#%d pid %d %s at %.3f s (%.3f s after its start, "
                           "%s layout)" % (c["face"], c["slot"], c["pid"], c["signal"], c["at"],
                                           c["age"], c["layout"]))
                for t, d in c["attacks"]:
                    out.append("    attack at %.3f s: %s" % (t, d))
                if c["stderr"]:
                    out.append("    stderr tail:")
                    out.extend("    | " + line for line in c["stderr"].splitlines())
                else:
                    out.append("    (no stderr)")
        out.append("")
        out.append("RESULT: %s" % ("FAIL: %d crash(es)" % n if n else "ok: no crash"))
        return "\n".join(out)

    def cleanup(self):
        path = getattr(self, "path", None)
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass
        work = getattr(self, "work", None)
        if work:
            shutil.rmtree(work, ignore_errors=True)


# ---- output parsers ------------------------------------------------------------


def parse_read(text):
    """smi-read's summary: 'smi-read: N frames, ...'."""
    for line in reversed(text.splitlines()):
        if line.startswith("smi-read: ") and " frames" in line:
            try:
                return int(line.split()[1])
            except ValueError:
                pass
    return 0


def parse_publish(text):
    """smi-publish's summary: 'smi-publish: N frames published, ...'."""
    for line in reversed(text.splitlines()):
        if line.startswith("smi-publish: ") and "published" in line:
            try:
                return int(line.split()[1])
            except ValueError:
                pass
    return 0


def parse_python(text):
    for line in reversed(text.splitlines()):
        if line.startswith("py-client: frames="):
            try:
                return int(line.split()[1].split("=")[1])
            except (IndexError, ValueError):
                pass
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    default_python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    p = argparse.ArgumentParser(
        description="A stream whose file is shrunk, grown, replaced and scribbled on while "
                    "smi-publish, smi-read, smi-info, a Python client and smisrc use it; "
                    "exit 1 when one of them dies of a signal.")
    p.add_argument("--seconds", type=float, default=15.0, help="length of the run (15)")
    p.add_argument("--build", default=os.path.join(repo, "build-tests"),
                   help="build folder holding Core/Tools (or bin), python/, gstreamer-1.0/ "
                        "(default: %(default)s)")
    p.add_argument("--file", help="stream file to make and attack (default: a fresh file in "
                                  "a private folder under /dev/shm); removed at the end")
    p.add_argument("--layout", choices=["ensight", "extended", "both"], default="both",
                   help="server layout; both: extended for the first half, EnSight for the "
                        "second (default)")
    p.add_argument("--no-gst", action="store_true", help="no smisrc face")
    p.add_argument("--no-python", action="store_true", help="no Python face")
    p.add_argument("--seed", type=int, help="random seed (default: random, printed)")
    p.add_argument("--python", default=default_python,
                   help="interpreter of the Python face (default: %(default)s)")
    p.add_argument("--gst-plugin-dir", help="folder of libgstsmi.so (default: BUILD/gstreamer-1.0)")
    p.add_argument("--gst-registry", help="GStreamer registry file to use (default: a "
                                          "private one, removed at the end)")
    p.add_argument("--backtrace", action="store_true",
                   help="run every face under gdb: a crash's report holds its stack "
                        "(slow: smi-info runs a few times a second)")
    p.add_argument("--show", type=int, default=2,
                   help="crash reports printed in full per face and signal (2)")
    p.add_argument("--messages", type=int, default=3,
                   help="most frequent error messages listed per face (3)")
    p.add_argument("-v", "--verbose", action="store_true", help="print crashes as they happen")
    args = p.parse_args()
    if args.seconds <= 0:
        die("--seconds must be > 0")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    args.build = os.path.abspath(args.build)

    os.umask(0o077)
    global _libc
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        _libc = None
    try:  # no core files from this process or its children
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ValueError, OSError):
        pass

    h = Harness(args)

    def on_term(signum, frame):
        # a flag the main loop looks at every few ms (an exception could land
        # inside Popen and lose a child); a second signal does not wait
        if h.stop_requested or not h.running:
            raise KeyboardInterrupt
        h.stop_requested = True

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, on_term)
    interrupted = False
    try:
        h.setup()
        print("smi_size_attack: %g s, layout %s, seed %d, file %s, faces: %s" % (
            args.seconds, args.layout, args.seed, h.path, ", ".join(h.faces)), flush=True)
        h.t0 = time.monotonic()
        h.running = True
        h.run()
        interrupted = h.stop_requested
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            h.stop_all()
        finally:
            elapsed = h.elapsed()
            h.cleanup()
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if not h.faces:
        return 2
    print(h.summary(elapsed), flush=True)
    if interrupted:
        print("smi_size_attack: interrupted", file=sys.stderr)
    return 1 if h.crashes else (130 if interrupted else 0)


if __name__ == "__main__":
    sys.exit(main())
