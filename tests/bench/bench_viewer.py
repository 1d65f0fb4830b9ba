"""Viewer benchmark: frames painted per second, W/L repaints per second, time to first frame.

Runs standalone and offscreen:  ``.venv/bin/python tests/bench/bench_viewer.py [--quick]``

Figures (targets): scrolling a cached 512x512 series (>= 60 fps); scrolling a JPEG 2000 lossless series decoded
just in time with prefetch (>= 25 fps); window/level drag repaints at 512x512 (>= 60/s) and 2048x2048 (>= 30/s);
first frame painted after opening a 50/500/2000-slice series given as the archive gives it, first image known
from the index (<= 150 ms, independent of length); bench_app.py measures the same from a double-click in the app.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gui", "viewer"))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from viewer_data import write_ct_series  # noqa: E402
from workstation.reading.order import SeriesFiles  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402

from workstation import imaging  # noqa: E402
from workstation.gui.viewer.viewport import StackViewport  # noqa: E402
from workstation.gui.viewer.window import ViewerWindow  # noqa: E402

RESULTS: list[tuple[str, float, str, str]] = []


def report(name, value, unit, target):
    RESULTS.append((name, value, unit, target))
    print(f"{name:<58} {value:9.1f} {unit:<6} (target {target})", flush=True)


STALL = {"max": 0.0}


def pump(app, until=None, timeout=10.0):
    """Run the event loop until ``until()``; remembers the longest single iteration (a GUI stall)."""
    end = time.perf_counter() + timeout
    while True:
        t = time.perf_counter()
        app.processEvents()
        STALL["max"] = max(STALL["max"], time.perf_counter() - t)
        if until is None or until() or time.perf_counter() > end:
            return


def make_viewport(app, stack):
    vp = StackViewport()
    vp.resize(900, 900)
    vp.show()
    vp.set_stack(stack, {})
    pump(app, lambda: vp.current_array() is not None)
    pump(app)
    return vp


def scroll_fps(app, vp, seconds, wait_decoded):
    """Scroll one frame at a time, as fast as frames get painted; returns painted frames per second.

    With ``wait_decoded`` (a series not decoded yet) it makes exactly one pass from the first frame to the last,
    so every frame shown was decoded just in time (or prefetched while the previous ones were shown).
    """
    n = vp.state.n_frames
    painted = 0
    t0 = time.perf_counter()
    while (vp.state.frame < n - 1) if wait_decoded else (time.perf_counter() - t0 < seconds):
        vp.scroll(1 if vp.state.frame < n - 1 else -(n - 1))
        before = vp.image.paints
        if wait_decoded:
            pump(app, lambda: vp.current_array() is not None, timeout=5)
        pump(app, lambda: vp.image.paints > before, timeout=1)
        painted += vp.image.paints > before
    return painted / (time.perf_counter() - t0)


def wl_rate(app, vp, seconds):
    count = 0
    t0 = time.perf_counter()
    sign = 1
    while time.perf_counter() - t0 < seconds:
        before = vp.image.paints
        vp.drag_window(3 * sign, 1 * sign)
        sign = -sign if count % 40 == 39 else sign
        pump(app, lambda: vp.image.paints > before, timeout=1)
        count += vp.image.paints > before
    return count / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs and fewer slices")
    args = ap.parse_args(argv)
    secs = 1.0 if args.quick else 3.0
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    pool = ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)))
    print(f"cpus {os.cpu_count()}; platform {app.platformName()}")
    with tempfile.TemporaryDirectory(prefix="bench-viewer-") as tmp:
        n = 40 if args.quick else 100
        raw = write_ct_series(os.path.join(tmp, "raw512"), n, 512, 512, shuffle=False)
        stack = imaging.open_series(raw, executor=pool)[0]
        for i in range(len(stack)):
            stack.get_frame(i, timeout=30)
        vp = make_viewport(app, stack)
        report("scroll cached 512x512, painted frames/s", scroll_fps(app, vp, secs, False), "fps", ">= 60")
        report("W/L drag 512x512, repaints/s", wl_rate(app, vp, secs), "/s", ">= 60")
        vp.close()

        j2k = write_ct_series(os.path.join(tmp, "j2k512"), 40 if args.quick else 80, 512, 512, j2k=True,
                              shuffle=False)
        stack = imaging.open_series(j2k, executor=pool)[0]
        import pydicom

        assert pydicom.dcmread(j2k[0], stop_before_pixels=True).file_meta.TransferSyntaxUID == \
            pydicom.uid.JPEG2000Lossless
        vp = make_viewport(app, stack)
        vp.state.update(frame=0)
        STALL["max"] = 0.0
        report("scroll J2K lossless 512x512 just in time + prefetch, fps",
               scroll_fps(app, vp, secs, True), "fps", ">= 25")
        report("  longest GUI event-loop iteration while scrolling J2K", STALL["max"] * 1000, "ms", "<= 50")
        vp.close()

        big = write_ct_series(os.path.join(tmp, "big"), 2, 2048, 2048, shuffle=False)
        stack = imaging.open_series(big, executor=pool)[0]
        stack.get_frame(0, timeout=30)
        vp = make_viewport(app, stack)
        report("W/L drag 2048x2048, repaints/s", wl_rate(app, vp, secs), "/s", ">= 30")
        vp.close()

        for count in ((50, 200) if args.quick else (50, 500, 2000)):
            paths = write_ct_series(os.path.join(tmp, f"len{count}"), count, 256, 256, shuffle=False)
            # As the archive gives a series (gui/operations.series_groups): the first image in reading order
            # (InstanceNumber 1, known from the index) first; plain paths show "Loading…" until sorted.
            files = SeriesFiles(sorted(paths))
            files.first_known, files.count = True, count
            STALL["max"] = 0.0
            t0 = time.perf_counter()
            win = ViewerWindow([files], executor=pool)
            win.resize(1200, 900)
            win.show()
            pump(app, lambda: win.active is not None and win.active.image.paints > 0, timeout=60)
            first = (time.perf_counter() - t0) * 1000
            pump(app, lambda: win.is_loaded, timeout=120)
            full = (time.perf_counter() - t0) * 1000
            report(f"first frame painted, {count}-slice series (256x256)", first, "ms", "<= 150")
            report(f"  (whole {count}-slice series sorted and shown)", full, "ms", "-")
            report("  longest GUI event-loop iteration while opening", STALL["max"] * 1000, "ms", "<= 50")
            win.close()
            # As the app's event loop does after a close (processEvents alone leaves the deferred delete, and the
            # window's release of frozen garbage, to the next measurement).
            QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
            pump(app)
            pump(app, timeout=0.3)
    pool.shutdown(wait=False, cancel_futures=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
