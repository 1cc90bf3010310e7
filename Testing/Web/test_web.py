# SPDX-License-Identifier: BSD-3-Clause
"""smi-web in a real headless Chromium: test_web.py CASE (run by ctest, label Web).

Cases (each one process tree: publisher, smi-web, Chromium; all stopped at the end):
  play      the list page shows the stream; /view/NAME plays; frames drawn to a
            canvas match the published test pattern (PSNR >= 30 dB); unknown
            and odd paths answer 404 (400); a screenshot is saved and checked
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib as W  # noqa: E402


def case_play():
    with W.Processes() as P:
        stream = P.path("demo.smi")
        P.publisher(stream, "320x240", 30)
        _, url = P.web([stream])

        # The list: name, size and format (once the publisher has published).
        def listed():
            status, body = W.http_get(url + "/")
            text = body.decode()
            return status == 200 and "/view/demo" in text and "320&times;240" in text and "rgb8" in text
        W.wait_until("the list page to show demo, 320x240, rgb8", listed, timeout=30, step=0.3)
        # Only named streams, no path reaches the file system.
        for path in ("/view/nosuch", "/view/../../etc/passwd", "/view/%2e%2e%2fetc%2fpasswd",
                     "/etc/passwd", "/view/demo/x", "/ws-not"):
            status, _ = W.http_get(url + path)
            if status not in (400, 404):
                W.fail("GET %s answered %d, not 404 (or 400)" % (path, status))
        W.log("ok: unknown streams and paths answer 404 (or 400)")

        d = P.browser()
        d.get(url + "/view/demo")
        state = W.wait_playing(d, frames=15, timeout=60)
        W.log("ok: the page plays (%s frames shown, %dx%d)" % (state["frames"], state["width"], state["height"]))
        W.check_pattern(d, 320, 240)
        # The page as a user sees it: the video fills the window's middle.
        shot = P.path("play.png")
        d.save_screenshot(shot)
        import PIL.Image  # python3-pil, a dependency of python3-matplotlib
        image = W.np.asarray(PIL.Image.open(shot).convert("RGB"))
        middle = image[image.shape[0] // 4: 3 * image.shape[0] // 4, image.shape[1] // 4: 3 * image.shape[1] // 4]
        if middle.std() < 20:
            W.fail("the screenshot's middle is flat (std %.1f): no picture" % middle.std())
        if os.environ.get("SMI_WEB_SCREENSHOT"):
            import shutil
            shutil.copy(shot, os.environ["SMI_WEB_SCREENSHOT"])
        W.log("ok: the screenshot shows a picture")
        state = W.page_state(d)
        if state["status"] != "playing":
            W.fail("the page's status is %r" % state["status"])
    W.log("PASS")


CASES = {"play": case_play}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: test_web.py " + "|".join(CASES), file=sys.stderr)
        return 2
    W.watchdog(float(os.environ.get("SMI_WEB_TEST_TIMEOUT", "170")))
    CASES[sys.argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
