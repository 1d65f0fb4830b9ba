"""The MPR window in the GUI (issue 11): a 512x512x400 CT opened in it, the crosshair dragged, the axes turned.

Run: ``python -m tests.bench.bench_mpr`` (``--quick``: 256x256x120; ``--json`` for the figures as JSON). Offscreen,
the real window and event loop, the mouse driven through QTest at 60 events per second as a hand drags:

- building the volume (frames already decoded, as after the viewer showed the series): time until the three
  planes show, and the longest stall of the GUI event loop meanwhile (target <= 50 ms: the GUI never freezes;
  a second opening in the process - the first one's VTK/OpenGL setup is measured apart);
- dragging the crosshair (the three planes follow) and Ctrl+dragging an axis around it (the two other planes turn:
  oblique reslices), each for a few seconds: planes shown per second in each view (targets: >= 30 fps for the
  oblique planes, issue 11) and the longest GUI stall (<= 50 ms);
- the same drag with a 10 mm MIP slab (target: previews >= 15 fps; the window reslices at half resolution while a
  button is down on a slab or oblique plane, gui/mpr/preview.py);
- the memory the open window adds (volume, reslice caches, 3D renderer), against the raw size of the series.

The peer, measured in the same run: the same reslices called directly (no GUI) - what the window could reach.
Prints the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from tests.bench.bench_app import StallMeter  # noqa: E402
from tests.bench.bench_imaging import phantom  # noqa: E402
from tests.bench.bench_volume import rss  # noqa: E402
from tests.imaging.synth import make_series  # noqa: E402
from workstation.imaging import MemoryBudget, open_series  # noqa: E402

EVENT_MS = 16  # one mouse move every 16 ms: a hand dragging at the screen's 60 Hz
TRACE_MS: float | None = None  # --trace MS: what the threads did during each stall longer than MS


def pump(app, seconds: float, until=None) -> float:
    """Run the event loop until ``until()`` or ``seconds``; the time it took."""
    from PySide6 import QtCore

    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        app.processEvents(QtCore.QEventLoop.AllEvents, 5)
        if until is not None and until():
            break
        time.sleep(0.0005)
    return time.perf_counter() - start


class ShownCounter:
    """Counts each view's ``imageShown`` (a new reslice on the screen) with the time it came."""

    def __init__(self, views: dict):
        self.times: dict[str, list[float]] = {v: [] for v in views}
        for view, vp in views.items():
            vp.imageShown.connect(lambda v=view: self.times[v].append(time.perf_counter()))

    def reset(self) -> None:
        for t in self.times.values():
            t.clear()

    def fps(self, view: str, seconds: float) -> float:
        return round(len(self.times[view]) / seconds, 1)


def drag(app, m, view: str, seconds: float, turning: bool) -> tuple[float, float]:
    """Drag in ``view`` for ``seconds`` with one mouse move per EVENT_MS: round the crosshair (``turning``: with
    Ctrl, turning the other planes; else moving the crosshair along a circle). (seconds taken, longest stall)."""
    from PySide6 import QtCore
    from PySide6.QtTest import QTest

    Qt = QtCore.Qt
    vp = m.views[view]
    target = vp.canvas.viewport()
    _f, r, c = vp.cursor_mark
    centre = vp.widget_point((c + 0.5, r + 0.5))
    radius = min(target.width(), target.height()) * (0.3 if turning else 0.15)
    mods = Qt.ControlModifier if turning else Qt.NoModifier

    def at(k: int) -> QtCore.QPoint:
        t = math.radians(3.0 * k)  # 3 degrees per event: a turn in two seconds
        return (centre + QtCore.QPointF(radius * math.cos(t), radius * math.sin(t))).toPoint()

    if turning:
        QTest.keyPress(target, Qt.Key_Control)
    QTest.mousePress(target, Qt.LeftButton, mods, at(0))
    meter = StallMeter(trace_ms=TRACE_MS)
    meter.start()
    start = time.perf_counter()
    k = 0
    while time.perf_counter() - start < seconds:
        k += 1
        QTest.mouseMove(target, at(k))
        next_event = start + k * EVENT_MS / 1000
        pump(app, max(0.0, next_event - time.perf_counter()))
    took = time.perf_counter() - start
    QTest.mouseRelease(target, Qt.LeftButton, mods, at(k))
    if turning:
        QTest.keyRelease(target, Qt.Key_Control)
    meter.stop()
    if TRACE_MS:
        meter.report(start)
    pump(app, 0.3)  # the planes settle (full resolution after the drag)
    return took, meter.worst()


def direct_fps(m, views, turning: bool, count: int = 20) -> dict[str, float]:
    """The peer: the same planes resliced directly (the window's reslicer, no GUI): planes per second possible."""
    out = {}
    st = m.state
    for view in views:
        ps = m.planes[view]
        plane = st.plane(view)
        t = time.perf_counter()
        for i in range(count):
            p = plane.through(st.point + plane.normal * (i % 10))
            ps.reslicer.reslice(p, ps.slab_mm, ps.mode) if ps.slab_mm else ps.reslicer.reslice(p)
        out[view] = round(count / (time.perf_counter() - t), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--slices", type=int, default=400)
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each drag")
    ap.add_argument("--trace", type=float, default=None, metavar="MS",
                    help="print what every thread did during each GUI stall longer than MS")
    args = ap.parse_args(argv)
    global TRACE_MS
    TRACE_MS = args.trace
    rows, n = (256, 120) if args.quick else (512, args.slices)
    results: dict[str, object] = {"size": f"{rows}x{rows}x{n}"}
    figures: list[tuple[str, object, str, bool | None]] = []

    def report(name: str, value, target: str, ok: bool | None) -> None:
        figures.append((name, value, target, ok))
        results[name] = value

    from PySide6 import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from workstation.gui.mpr.window import MPRWindow
    from workstation.imaging.reslice import vtk_available

    if vtk_available():  # the libraries' code first, so the memory figure is the window's data
        import workstation.imaging.render3d  # noqa: F401
        from vtkmodules import vtkImagingCore  # noqa: F401
    import scipy.ndimage  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="bench_mpr_") as tmp:
        folder = Path(tmp)
        make_series(folder, n, rows=rows, cols=rows, pixels=phantom(rows, rows), spacing=1.0, shuffle=False)
        stacks = open_series(sorted(folder.glob("*.dcm")), memory_budget=MemoryBudget.fraction_of_ram(0.25))
        for s in stacks:
            s.volume()  # decoded, as after the viewer has shown the series
        raw = sum(s.raw_bytes for s in stacks)
        # A first window opened and closed: what the libraries set up once per process (OpenGL for the 3D view,
        # pyqtgraph, VTK's pipelines) is then not counted as the window's memory.
        warm = MPRWindow(stacks, {}, title="warm-up")
        warm.show()
        pump(app, 120, until=lambda: warm.view3d is not None and (warm.view3d.last_rgb is not None
                                                                  or bool(warm.view3d.error)) or bool(warm.error))
        warm.close()
        del warm
        import gc

        for _ in range(10):
            pump(app, 0.05)
            gc.collect()
        base = rss()

        # -- opening ---------------------------------------------------------------------------------------
        meter = StallMeter(trace_ms=TRACE_MS)
        meter.start()
        t = time.perf_counter()
        m = MPRWindow(stacks, {"PatientName": "BENCH", "SeriesDescription": "CT"}, title="bench")
        m.show()
        pump(app, 120, until=lambda: m.state is not None and all(vp.current_array() is not None
                                                                 for vp in m.views.values()))
        shown = time.perf_counter() - t
        meter.stop()
        if TRACE_MS:
            meter.report(t)
        if m.state is None:
            print(f"the MPR window did not open: {m.error}")
            return 1
        report("open_three_planes_shown_s", round(shown, 2), "(volume from decoded frames)", None)
        report("open_longest_gui_stall_ms", round(meter.worst() * 1000, 1), "<= 50 ms", meter.worst() <= 0.05)
        if m.view3d is not None:
            t3 = time.perf_counter()
            pump(app, 60, until=lambda: m.view3d.last_rgb is not None or m.view3d.error)
            report("open_3d_first_picture_s", round(shown + time.perf_counter() - t3, 2), "(after the planes)", None)
        pump(app, 0.5)
        grown = rss() - base
        report("window_memory_x_raw", round(grown / raw, 3), "(what the open window adds / raw series)", None)
        report("volume_buffer_x_raw", round(m.volume.nbytes / raw, 3) if m.volume.data.base is None else 0.0,
               "(0: the volume is the frame cache itself)", None)

        # -- dragging ----------------------------------------------------------------------------------------
        counter = ShownCounter(m.views)
        for label, turning, slab in (("crosshair", False, 0.0), ("oblique", True, 0.0), ("crosshair_mip10", False, 10.0)):
            if slab:
                m.mode_box.setCurrentIndex(m.mode_box.findData("mip"))
                m.slab_box.setValue(slab)
                pump(app, 10, until=lambda: all(vp.current_array() is not None for vp in m.views.values()))
            counter.reset()
            took, stall = drag(app, m, "axial", args.seconds, turning)
            moved = ("coronal", "sagittal")  # a drag in the axial plane moves (or turns) the two others
            for view in moved:
                fps = counter.fps(view, took)
                target = ">= 15 fps" if slab else ">= 30 fps"
                report(f"drag_{label}_{view}_fps", fps, target, fps >= (15 if slab else 30))
            report(f"drag_{label}_longest_gui_stall_ms", round(stall * 1000, 1), "<= 50 ms", stall <= 0.05)
            peer = direct_fps(m, moved, turning)
            for view, fps in peer.items():
                note = "(peer: the reslicer alone, full resolution" + ("; the window previews at half)" if slab else ")")
                report(f"direct_{label}_{view}_fps", fps, note, None)
        report("window_memory_after_drags_x_raw", round((rss() - base) / raw, 3),
               "(plus the planes' caches, up to 64 MB each)", None)
        m.reset()
        pump(app, 0.5)

        # -- closing -----------------------------------------------------------------------------------------
        m.close()
        del m, counter
        for _ in range(10):
            pump(app, 0.05)
            gc.collect()
        report("after_close_memory_x_raw", round((rss() - base) / raw, 3), "(back near 0: the window freed)", None)
        for s in stacks:
            s.close()
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"MPR window, volume {results['size']} int16, offscreen, mouse moves every {EVENT_MS} ms")
        for name, value, target, ok in figures:
            mark = "" if ok is None else ("  ok" if ok else "  MISSED")
            print(f"  {name:<44} {value:>10}  {target}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
