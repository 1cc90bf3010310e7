# SPDX-License-Identifier: BSD-3-Clause
"""Helpers of smi-web's browser tests: real processes, a real headless Chromium.

Every test runs a publisher (smi-publish, or the Python module), smi-web on a
free port, and Chromium driven through chromedriver (selenium), and stops
them all at the end, whatever happens. A test that cannot run here (no
Chromium, chromedriver or selenium) exits 77, which ctest reports as skipped.

Environment (set by CMake): SMI_WEB (smi-web), SMI_PUBLISH (smi-publish),
GST_PLUGIN_PATH (smisrc's folder), optional SMI_CHROMIUM, SMI_CHROMEDRIVER.
"""

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SKIP = 77
try:
    import numpy as np
except ImportError:
    print("SKIP: python3-numpy is needed", flush=True)
    sys.exit(SKIP)

# The test pattern, one Python copy of Core/Tools/smi_pattern.h's formula.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "Tools"))
import smi_pattern  # noqa: E402


def log(*args):
    print(*args, flush=True)


def skip(why):
    print("SKIP: " + why, flush=True)
    sys.exit(SKIP)


def fail(why):
    raise AssertionError(why)


def wait_until(what, check, timeout=30.0, step=0.1):
    """Call check() until it returns something true; that value, or fail after timeout s."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            fail("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(step)


def pattern(width, height, n):
    """Frame n of the tools' RGB8 test pattern (Core/Tools/smi_pattern.h), (h, w, 3) uint8."""
    return smi_pattern.pattern_array("rgb8", width, height, n)


def gray_pattern(width, height, n):
    """Frame n of the tools' GRAY8 test pattern, V = (x + 2y + n) & 255, (h, w) uint8."""
    return smi_pattern.pattern_array("gray8", width, height, n)


CODE_BITS = 24


def code_geometry(width):
    """Block size of the frame-number code (two rows of CODE_BITS square blocks at the top)."""
    return max(4, min(32, width // (CODE_BITS + 2)))


def code_background(width, height):
    """A still, smooth picture for the latency benchmark's frames, (h, w, 3) uint8."""
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    r, g, b = np.broadcast_arrays(60 + 120 * x, 60 + 120 * y, 140 - 60 * x * y)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def draw_code(image, n):
    """Draw frame number n into the top rows of image: its bits, then the bits inverted."""
    s = code_geometry(image.shape[1])
    for i in range(CODE_BITS):
        bit = (n >> (CODE_BITS - 1 - i)) & 1
        image[0:s, (i + 1) * s:(i + 2) * s] = 255 if bit else 0
        image[s:2 * s, (i + 1) * s:(i + 2) * s] = 0 if bit else 255


def read_code(image):
    """The frame number drawn by draw_code into an (h, w, >=3) image, or None if unreadable."""
    s = code_geometry(image.shape[1])
    lum = image[:2 * s, :, :3].astype(np.float64).mean(axis=2)
    n = 0
    for i in range(CODE_BITS):
        x0, x1 = (i + 1) * s + s // 4, (i + 2) * s - s // 4
        top = lum[s // 4:s - s // 4, x0:x1].mean()
        bottom = lum[s + s // 4:2 * s - s // 4, x0:x1].mean()
        if abs(top - bottom) < 96:
            return None
        n = (n << 1) | (1 if top > bottom else 0)
    return n


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def luma(rgb):
    """BT.601 luma of RGB pixels, float."""
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def best_pattern_psnr(image):
    """PSNR of an RGB image against the closest frame of the test pattern.

    Returns (PSNR of the luma, PSNR of R, G and B, n mod 256). The luma is what
    a video codec keeps at full resolution; R, G and B also go through the
    4:2:0 chroma subsampling every WebRTC codec uses, which smears the
    pattern's sharp 255-to-0 steps over two pixels (a few dB, depending on
    where the steps fall in the frame). n is found on every 4th pixel, then
    checked on all of them around it."""
    h, w, _ = image.shape
    y = luma(image)
    coarse = max(range(256), key=lambda n: psnr(y[::4, ::4], luma(pattern(w, h, n)[::4, ::4])))
    best = (-1.0, -1.0, -1)
    for n in ((coarse - 1) & 255, coarse, (coarse + 1) & 255):
        ref = pattern(w, h, n)
        py = psnr(y, luma(ref))
        if py > best[0]:
            best = (py, psnr(image, ref), n)
    return best


class Processes:
    """The processes of one test, each stopped (SIGTERM, then SIGKILL) at exit."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="smi-web-test.", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.procs = []
        self.drivers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for d in self.drivers:
            try:
                d.quit()
            except Exception:
                pass
        for p in self.procs:
            self.stop(p)
        if exc[0] is not None:
            self.dump()
        shutil.rmtree(self.work, ignore_errors=True)
        return False

    def path(self, name):
        return os.path.join(self.work, name)

    def start(self, name, argv, env=None):
        out = open(self.path(name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                             stdin=subprocess.DEVNULL)
        p.name = name
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10.0):
        """Stop p (SIGTERM, SIGKILL after timeout s); its exit status."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def output(self, name):
        try:
            with open(self.path(name + ".log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def dump(self):
        for p in self.procs:
            print("----- %s (exit %s)\n%s" % (p.name, p.poll(), self.output(p.name)), flush=True)

    # -- the programs -------------------------------------------------------

    def publisher(self, stream, size="320x240", rate=20, name="publisher", extra=()):
        return self.start(name, [os.environ["SMI_PUBLISH"], "--size", size, "--rate", str(rate),
                                 "--quiet"] + list(extra) + [stream])

    def py_publisher(self, stream, sizes, rate=20, name="publisher", code=False, times=None):
        """web_publish.py (the Python module): sizes "WxH,WxH..." switched by SIGUSR1."""
        try:
            import shared_memory_image  # noqa: F401
        except ImportError:
            skip("the project's Python module shared_memory_image is not built")
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "web_publish.py"),
                stream, "--sizes", sizes, "--rate", str(rate)]
        if code:
            argv.append("--code")
        if times:
            argv += ["--times", times]
        p = self.start(name, argv)
        wait_until("the publisher to start", lambda: "publishing" in self.output(name) or p.poll() is not None,
                   timeout=30)
        if p.poll() is not None:
            fail("%s exited with %s:\n%s" % (name, p.returncode, self.output(name)))
        return p

    def web(self, streams, extra=(), name="smi-web", launcher=()):
        """Start smi-web on a free port of 127.0.0.1; (process, base URL)."""
        p = self.start(name, list(launcher) + [os.environ["SMI_WEB"], "--listen", "127.0.0.1:0"]
                       + list(extra) + list(streams))

        def url():
            if p.poll() is not None:
                fail("%s exited with %s:\n%s" % (name, p.returncode, self.output(name)))
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)/", self.output(name))
            return m.group(1) if m else None
        return p, wait_until("smi-web to print its URL", url, timeout=30)

    def browser(self):
        """A headless Chromium (selenium WebDriver)."""
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            skip("python3-selenium is not installed")
        chromium = os.environ.get("SMI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        driver_path = os.environ.get("SMI_CHROMEDRIVER") or shutil.which("chromedriver")
        if not chromium or not driver_path:
            skip("Chromium and chromedriver are needed (packages chromium, chromium-driver)")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--autoplay-policy=no-user-gesture-required", "--disable-gpu",
                    "--window-size=800,600", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-default-apps", "--mute-audio", "--disable-renderer-backgrounding",
                    "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
                    "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium.", dir=self.work)):
            options.add_argument(arg)
        service = Service(executable_path=driver_path, log_path=self.path("chromedriver.log"))
        driver = None
        for attempt in range(3):
            try:
                driver = webdriver.Chrome(service=service, options=options)
                break
            except Exception as e:  # a loaded machine may time Chromium's start out
                log("Chromium did not start (%s), again" % str(e).splitlines()[0] if str(e) else e)
                time.sleep(2)
                service = Service(executable_path=driver_path, log_path=self.path("chromedriver.log"))
        if driver is None:
            fail("Chromium did not start three times")
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        self.drivers.append(driver)
        return driver


def http_get(url, timeout=20):
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def page_state(driver):
    return driver.execute_script("return window.smiWeb || null;")


def wait_playing(driver, frames=10, timeout=60, since=0):
    """Wait until the page has shown `frames` frames more than `since`; its state."""
    def check():
        s = page_state(driver)
        return s if s and s["playing"] and s["frames"] >= since + frames else None
    try:
        return wait_until("the page to play %d frames" % frames, check, timeout=timeout, step=0.2)
    except AssertionError as e:
        fail("%s; the page's last state: %r" % (e, page_state(driver)))


GRAB_JS = """
const v = document.getElementById('video');
if (!v || !v.videoWidth) return null;
const c = document.createElement('canvas');
c.width = v.videoWidth; c.height = v.videoHeight;
const g = c.getContext('2d', {willReadFrequently: true});
g.drawImage(v, 0, 0);
const d = g.getImageData(0, 0, c.width, c.height).data;
let s = '';
for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
return [c.width, c.height, btoa(s)];
"""


def grab(driver):
    """The video's current frame, drawn to a canvas and read back: (h, w, 3) uint8, or None."""
    r = driver.execute_script(GRAB_JS)
    if not r:
        return None
    w, h, data = r
    rgba = np.frombuffer(base64.b64decode(data), np.uint8).reshape(h, w, 4)
    return rgba[:, :, :3].copy()


def check_gray_pattern(driver, width, height, tries=3, minimum=30.0):
    """Grab frames until one's luma matches the GRAY8 test pattern at >= minimum dB; its PSNR."""
    best = -1.0
    for _ in range(tries):
        image = grab(driver)
        if image is None or image.shape[:2] != (height, width):
            time.sleep(0.5)
            continue
        y = luma(image)
        coarse = max(range(256), key=lambda k: psnr(y[::4, ::4], gray_pattern(width, height, k)[::4, ::4]))
        p, n = max((psnr(y, gray_pattern(width, height, k & 255).astype(np.float64)), k & 255)
                   for k in (coarse - 1, coarse, coarse + 1))
        log("frame drawn to a canvas: %dx%d gray, PSNR %.1f dB against gray pattern frame n = %d (mod 256)"
            % (width, height, p, n))
        best = max(best, p)
        if p >= minimum:
            return p
        time.sleep(0.3)
    fail("gray frames drawn to a canvas do not match the published pattern: best PSNR %.1f dB" % best)


def check_pattern(driver, width, height, tries=3, minimum=30.0):
    """Grab frames until one matches the test pattern at >= minimum dB; its PSNR."""
    best = -1.0
    for _ in range(tries):
        image = grab(driver)
        if image is None:
            time.sleep(0.5)
            continue
        if image.shape[:2] != (height, width):
            fail("the video is %dx%d, the stream %dx%d" % (image.shape[1], image.shape[0], width, height))
        p, p_rgb, n = best_pattern_psnr(image)
        log("frame drawn to a canvas: %dx%d, PSNR %.1f dB (luma; R, G, B: %.1f dB) against pattern"
            " frame n = %d (mod 256)" % (width, height, p, p_rgb, n))
        best = max(best, p)
        if p >= minimum:
            return p
        time.sleep(0.3)
    fail("frames drawn to a canvas do not match the published pattern: best PSNR %.1f dB < %.0f"
         % (best, minimum))


def cpu_seconds(pid):
    """utime + stime of a process (and its reaped children), seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(v) for v in fields[11:15]) / ticks


def watchdog(seconds):
    """End the test (exit 1, processes cleaned by the OS) if it runs longer than seconds."""
    def bark():
        print("FAIL: the test ran longer than %d s" % seconds, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
    def on_term(signum, frame):
        raise SystemExit("FAIL: terminated (signal %d)" % signum)
    signal.signal(signal.SIGTERM, on_term)
    t = threading.Timer(seconds, bark)
    t.daemon = True
    t.start()


# -- a minimal WebSocket client (RFC 6455), to speak to smi-web as a hostile peer --

class WebSocket:
    """A raw WebSocket to smi-web: handshake status, masked frames out, frames in."""

    def __init__(self, base_url, path, origin=None, timeout=10.0):
        import socket
        m = re.match(r"http://([^:/]+):(\d+)", base_url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=timeout)
        self.sock.settimeout(timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = ("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (path, m.group(1), m.group(2), key))
        if origin:
            request += "Origin: %s\r\n" % origin
        self.sock.sendall((request + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buffer = head.partition(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.status = int(line.split()[1]) if len(line.split()) > 1 else 0

    def send_frame(self, payload, opcode=1, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
            (np.frombuffer(payload, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), n)).tobytes()
        self.send_raw(header + mask + masked)

    def send_raw(self, data):
        """Send bytes; a server that closes the socket meanwhile (it may, on bad input) is no error."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv(self):
        """(opcode, payload) of the next frame; (None, b'') when the connection ends."""
        import socket
        try:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._read(2), "big")
            elif n == 127:
                n = int.from_bytes(self._read(8), "big")
            return b0 & 0x0F, self._read(n)
        except (EOFError, ConnectionError, socket.timeout):
            return None, b""

    def recv_json(self, kind, timeout=30.0):
        """The next JSON message of type `kind` (others skipped); None when the connection ends."""
        import json
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            op, payload = self.recv()
            if op is None or op == 8:
                return None
            if op == 1:
                message = json.loads(payload.decode())
                if message.get("type") == kind:
                    return message
        fail("no %r message within %.0f s" % (kind, timeout))

    def wait_closed(self):
        """Read until the server closes: the close code it sent (None without a close frame)."""
        import socket
        end = time.monotonic() + 15
        code = None
        while time.monotonic() < end:
            op, payload = self.recv()
            if op is None:
                return code
            if op == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                try:
                    self.send_frame(payload[:2], opcode=8)
                except OSError:
                    pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        fail("the server did not close the WebSocket")

    def close(self):
        self.sock.close()
