"""App benchmarks (standalone: ``.venv/bin/python tests/bench/bench_app.py [--studies N] [--skip-network]``).

Figures printed:

1. start to usable window over an archive of 10,000 studies / 200,000 instances (target <= 1.5 s): from process
   start, and from the first line of ``main`` (imports done), to the study list showing its rows;
2. search as you type: keystroke -> study list updated (target <= 100 ms), per keystroke, median and worst;
4. opening a series from the study list (issue 10's target: the sorted first image painted <= 150 ms after the
   double-click for 300 and 2,000 slices, no GUI stall over 50 ms while it opens): a 512x512 CT series numbered
   head-first (InstanceNumber 1 at the top) is imported into the archive; a real double-click on its study row
   opens the viewer; figures: double-click -> first image painted (and whether it was InstanceNumber 1 of the
   sorted stack), -> the whole stack sorted and shown, the longest event-loop stall meanwhile, and the longest
   while the viewer closes (``--open-only`` runs just this one).
3. longest GUI event-loop stall while a C-STORE of 500 instances arrives (dcmtk storescu) and a C-GET retrieve
   of 300 from Orthanc runs (target <= 50 ms), over ``--runs`` runs, the event loop run by ``QEventLoop.exec`` as
   in the app; both studies are dated today, so they appear at the top of the list while they grow.
   ``--trace MS`` prints every thread's stack during each stall longer than MS (see :class:`StallMeter`).

The big archive is built once (index rows only, via ``archive.index.add`` with InstanceRecord batches) and kept in
``$TMPDIR/workstation-bench-app-<N>`` for the next run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

FAMILY = ["Garcia", "Smith", "Nguyen", "Müller", "Kowalski", "Okafor", "Rossi", "Tanaka", "Dubois", "Silva",
          "Johnson", "Brown", "Lee", "Martin", "Schmidt", "Novak", "Hansen", "Ivanova", "Cohen", "Khan"]
GIVEN = ["Maria", "John", "Bao", "Anna", "Ewa", "Chidi", "Luca", "Yuki", "Claire", "Pedro", "Emma", "Noah"]
MODALITIES = ["CT", "MR", "CR", "US", "DX", "MG", "PT", "NM"]
DESCRIPTIONS = ["Chest", "Abdomen pelvis", "Head", "Knee left", "Spine lumbar", "Mammo screening", "Whole body"]


def build_archive(data_dir: Path, studies: int, per_study: int = 20) -> None:
    from pydicom.uid import generate_uid

    from workstation.archive import Archive, InstanceRecord
    from workstation.config import Settings

    marker = data_dir / ".complete"
    if marker.exists():
        return
    import shutil

    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir, path=data_dir / "settings.toml")
    rng = random.Random(42)
    t0 = time.perf_counter()
    with Archive.open(settings) as archive:
        batch: list = []
        for s in range(studies):
            pid = f"MRN{s // 2:06d}"
            name = f"{FAMILY[(s // 2) % len(FAMILY)]}^{GIVEN[(s // 7) % len(GIVEN)]}{s // 2}"
            study = generate_uid()
            date = f"{2015 + rng.randrange(11)}{1 + rng.randrange(12):02d}{1 + rng.randrange(28):02d}"
            modality = MODALITIES[rng.randrange(len(MODALITIES))]
            desc = DESCRIPTIONS[rng.randrange(len(DESCRIPTIONS))]
            for se in range(2):
                series = generate_uid()
                for i in range(per_study // 2):
                    batch.append(InstanceRecord({
                        "PatientName": name, "PatientID": pid, "PatientBirthDate": "19700101", "PatientSex": "F",
                        "StudyInstanceUID": study, "StudyDate": date, "StudyTime": "101010",
                        "StudyDescription": desc, "AccessionNumber": f"ACC{s:07d}", "StudyID": str(s),
                        "SeriesInstanceUID": series, "SeriesNumber": se + 1, "SeriesDescription": f"{desc} {se}",
                        "Modality": modality, "SOPInstanceUID": generate_uid(),
                        "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "InstanceNumber": i + 1,
                        "TransferSyntaxUID": "1.2.840.10008.1.2.1", "Rows": 512, "Columns": 512,
                    }, 500_000, linked_path=f"/nonexistent/{s}/{se}/{i}.dcm"))
            if len(batch) >= 5000:
                archive.index.add(batch)
                batch = []
        if batch:
            archive.index.add(batch)
    marker.write_text("ok")
    print(f"built archive: {studies} studies, {studies * per_study} instances in {time.perf_counter() - t0:.1f} s")


# --- 1. start-up (in a fresh process) ---------------------------------------------------------------------------
STARTUP_CHILD = r"""
import os, sys, time
t_main = time.perf_counter()
sys.path.insert(0, {root!r})
from PySide6 import QtWidgets, QtCore
from workstation.config import Settings
from workstation.archive import Archive
from workstation.gui.main_window import MainWindow
t_imports = time.perf_counter()
app = QtWidgets.QApplication([])
settings = Settings(data_dir={data!r}, path=None)
archive = Archive.open(settings, check=False)
win = MainWindow(settings, archive, start_listener=False)
win.show()
while win.browser.model.rowCount() == 0:
    app.processEvents(QtCore.QEventLoop.AllEvents, 5)
app.processEvents()
t_ready = time.perf_counter()
while not win.browser.model.complete:
    app.processEvents(QtCore.QEventLoop.AllEvents, 5)
t_complete = time.perf_counter()
print(f"{{t_main}} {{t_imports}} {{t_ready}} {{win.browser.model.rowCount()}} {{t_complete}}")
win.close()
archive.close()
"""


def bench_startup(data_dir: Path, runs: int = 3) -> None:
    figures = []
    for _ in range(runs):
        code = STARTUP_CHILD.format(root=str(ROOT), data=str(data_dir))
        t_launch = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
        t_end = time.perf_counter()
        if out.returncode != 0:
            print(out.stderr[-2000:])
            raise SystemExit("start-up child failed")
        t_main, t_imports, t_ready, rows, t_complete = out.stdout.split()
        # perf_counter is CLOCK_MONOTONIC on Linux: comparable across processes.
        figures.append((float(t_ready) - t_launch, float(t_ready) - float(t_main),
                        float(t_ready) - float(t_imports), int(rows), float(t_complete) - t_launch))
        del t_end
    best = min(figures)
    print(f"start to usable window ({best[3]} studies in the list): {best[0]:.2f} s from process launch, "
          f"{best[1]:.2f} s from main, {best[2]:.2f} s after imports (best of {runs}; target <= 1.5 s); "
          f"all 10,000 listed at {best[4]:.2f} s")


# --- 2 + 3 in this process -----------------------------------------------------------------------------------------
class StallMeter:
    """A 2 ms timer; the longest gap between ticks beyond its interval is the longest stall of the event loop.

    With ``trace_ms``, a watchdog thread samples every thread's Python stack (``sys._current_frames``) every 2 ms
    while the GUI thread's heartbeat is later than ``trace_ms``; :meth:`report` prints, for each stall longer than
    that, what the GUI thread was doing and what the other threads were doing meanwhile. The watchdog also records
    how late its own 2 ms sleeps wake (a late wake = it waited for the GIL).
    """

    def __init__(self, interval_ms: int = 2, trace_ms: float | None = None):
        from PySide6 import QtCore

        self.interval = interval_ms / 1000
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.gaps: list[float] = []
        self.trace = trace_ms / 1000 if trace_ms else None
        self.samples: dict[float, list] = {}  # heartbeat time the stall started after -> [(t, {thread: stack})]
        self.stalls: list[tuple[float, float, list]] = []  # (start, gap, samples)
        self.watchdog_late: list[float] = []
        self._stop = threading.Event()
        self._gui_ident = threading.get_ident()
        self._gui_schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self._thread = None

    def _gc(self, phase, info) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.collections.append((self._gc_start, time.perf_counter(), info.get("generation"),
                                     threading.current_thread().name))

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()
        if self.trace:
            import gc

            self.collections: list[tuple[float, float, int, str]] = []
            gc.callbacks.append(self._gc)
            self._thread = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self.timer.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            import gc

            gc.callbacks.remove(self._gc)

    def _tick(self) -> None:
        now = time.perf_counter()
        last, self.last = self.last, now
        gap = now - last - self.interval
        self.gaps.append(gap)
        if self.trace and gap > self.trace:
            self.stalls.append((last, gap, self.samples.pop(last, [])))

    def _watch(self) -> None:
        names = {}
        own = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self.watchdog_long: list[tuple[float, float, float]] = []  # (late, on CPU, runnable not scheduled)
        while not self._stop.is_set():
            before = _read_sched(own)
            t_sleep = time.perf_counter()
            time.sleep(0.002)
            now = time.perf_counter()
            self.watchdog_late.append(now - t_sleep - 0.002)
            if now - t_sleep - 0.002 > self.trace and before:
                after = _read_sched(own)
                self.watchdog_long.append((now - t_sleep - 0.002, after[0] - before[0], after[1] - before[1]))
            last = self.last
            if now - last < self.trace:
                continue
            frames = sys._current_frames()
            for t in threading.enumerate():
                names[t.ident] = t.name
            stacks = {}
            for ident, frame in frames.items():
                if ident == threading.get_ident():
                    continue
                name = "GUI" if ident == self._gui_ident else names.get(ident, str(ident))
                stacks[name] = traceback.StackSummary.extract(traceback.walk_stack(frame), limit=12,
                                                              lookup_lines=False)[::-1]
            self.samples.setdefault(last, []).append((now - last, stacks, self._sched()))

    def _sched(self) -> tuple[float, float] | None:
        return _read_sched(self._gui_schedstat)

    def worst(self) -> float:
        return max(self.gaps) if self.gaps else 0.0

    def report(self, t0: float) -> None:
        def short(stack, n=6):
            return " < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(stack[-n:]))

        long_gc = [c for c in self.collections if c[1] - c[0] > 0.005]
        print(f"    {len(self.collections)} garbage collections, {len(long_gc)} over 5 ms"
              + "".join(f"; gen {g} {(b - a) * 1000:.0f} ms in {t}" for a, b, g, t in long_gc[:5]))
        late = sorted(self.watchdog_late)
        if late:
            print(f"    watchdog 2 ms sleeps woke late by: median {statistics.median(late) * 1000:.1f} ms, "
                  f"99th {late[int(len(late) * 0.99)] * 1000:.1f} ms, worst {late[-1] * 1000:.1f} ms")
            for late_by, run, queued in self.watchdog_long:
                print(f"      watchdog late {late_by * 1000:.0f} ms: runnable but not scheduled {queued * 1000:.0f} ms,"
                      f" blocked (waiting for the GIL) {(late_by + 0.002 - run - queued) * 1000:.0f} ms")
        for start, gap, samples in self.stalls:
            print(f"    stall {gap * 1000:.0f} ms at t={start - t0:.2f} s, {len(samples)} samples")
            if GUI_CALLS is not None:
                print("      GUI thread: " + GUI_CALLS.summary(start, start + gap + self.interval))
            for a, b, gen, thread in self.collections:
                if b > start and a < start + gap + self.interval:
                    print(f"      gc generation {gen} in {thread}: {(b - a) * 1000:.1f} ms")
            if len(samples) >= 2 and samples[0][2] and samples[-1][2]:
                span = samples[-1][0] - samples[0][0]
                run = samples[-1][2][0] - samples[0][2][0]
                queued = samples[-1][2][1] - samples[0][2][1]
                print(f"      GUI thread over the {span * 1000:.0f} ms sampled: on a CPU {run * 1000:.0f} ms, "
                      f"runnable but not scheduled {queued * 1000:.0f} ms, blocked (GIL, lock, I/O) "
                      f"{(span - run - queued) * 1000:.0f} ms")
            seen = set()
            for when, stacks, _sched in samples:
                gui = short(stacks.get("GUI", []), 10)
                others = sorted(f"{name}: {short(st, 3)}" for name, st in stacks.items()
                                if name != "GUI" and not _idle(st))
                key = (gui, tuple(others))
                if key in seen:
                    continue
                seen.add(key)
                print(f"      +{when * 1000:.0f} ms GUI: {gui}")
                for o in others:
                    print(f"          {o}")


class GuiCalls:
    """Every entry from Qt into Python on the GUI thread (slot, timer, model data(), delegate paint) with its start
    and end (a ``sys.setprofile`` hook, installed by :func:`run_loop`): a stall made of many short entries separated
    by long gaps is the GUI thread waiting for the GIL between calls; one long entry is Python work to move."""

    def __init__(self):
        self.entries: list[tuple[float, float, str]] = []
        self._depth = 0
        self._start = 0.0
        self._name = ""

    def hook(self, frame, event, arg):
        if event == "call":
            if self._depth == 0:
                self._start = time.perf_counter()
                code = frame.f_code
                self._name = f"{Path(code.co_filename).name}:{code.co_firstlineno}:{code.co_qualname}"
            self._depth += 1
        elif event == "return":
            self._depth -= 1
            if self._depth == 0:
                self.entries.append((self._start, time.perf_counter(), self._name))
            elif self._depth < 0:
                self._depth = 0

    def summary(self, start: float, end: float) -> str:
        inside = [e for e in self.entries if e[1] > start and e[0] < end]
        if not inside:
            return "no Python entry"
        busy = sum(min(b, end) - max(a, start) for a, b, _ in inside)
        gaps = [inside[0][0] - start] + [b[0] - a[1] for a, b in zip(inside, inside[1:])] + [end - inside[-1][1]]
        names: dict[str, list] = {}
        for a, b, n in inside:
            names.setdefault(n, []).append(b - a)
        top = sorted(names.items(), key=lambda kv: -sum(kv[1]))[:5]
        return (f"{len(inside)} Python entries, {busy * 1000:.1f} ms in Python, longest gap {max(gaps) * 1000:.1f} ms"
                + "".join(f"\n          {len(v)} x {n}: {sum(v) * 1000:.1f} ms (max {max(v) * 1000:.1f})"
                          for n, v in top))


GUI_CALLS: GuiCalls | None = None


def _read_sched(path: str) -> tuple[float, float] | None:
    """A thread's time on a CPU and waiting for one (runnable, not scheduled), in seconds (Linux schedstat)."""
    try:
        with open(path) as f:
            run, wait, _ = f.read().split()
        return int(run) / 1e9, int(wait) / 1e9
    except OSError:
        return None


def _idle(stack) -> bool:
    """A thread blocked in a wait (not competing for the GIL)."""
    if not stack:
        return True
    top = stack[-1]
    return top.name in ("wait", "_wait_for_tstate_lock", "select", "accept", "get", "recv", "_recv", "sleep",
                        "poll") or (top.name == "run" and "selectors" in top.filename)


def wait(app, seconds: float, until=None) -> None:
    from PySide6 import QtCore

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents(QtCore.QEventLoop.AllEvents, 5)
        if until is not None and until():
            return
        time.sleep(0.0005)


def bench_search(app, win) -> None:
    from PySide6 import QtCore
    from PySide6.QtTest import QTest

    model = win.browser.model
    search = win.browser.search
    search.setFocus()
    latencies = []
    complete = []
    for word in ("garc", "smith", "acc00012", "chest"):
        search.clear()
        wait(app, 0.5, until=lambda: not model._running and not win.browser._debounce.isActive())
        wait(app, 0.2)
        for ch in word:
            before = model.last_update
            t0 = time.perf_counter()
            QTest.keyClick(search, ch)
            wait(app, 3.0, until=lambda: model.last_update != before)
            latencies.append(model.last_update - t0)
            wait(app, 3.0, until=lambda: model.complete and not model._running)
            complete.append(model.last_complete - t0)
        rows = model.rowCount()
        print(f"  typed {word!r}: {rows} studies; per keystroke "
              + ", ".join(f"{x * 1000:.0f}" for x in latencies[-len(word):]) + " ms")
    print(f"search as you type: keystroke -> list updated median {statistics.median(latencies) * 1000:.0f} ms, "
          f"worst {max(latencies) * 1000:.0f} ms over {len(latencies)} keystrokes (target <= 100 ms); "
          f"complete list (every match, e.g. all 10,000 for 'a') median {statistics.median(complete) * 1000:.0f} ms, "
          f"worst {max(complete) * 1000:.0f} ms")
    search.clear()
    wait(app, 0.5, until=lambda: not model._running and not win.browser._debounce.isActive())
    del QtCore


def run_loop(seconds: float, until=None) -> None:
    """Run a real event loop (``QEventLoop.exec``, as the app's ``exec``) until ``until()`` or ``seconds``."""
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    end = time.perf_counter() + seconds
    check = QtCore.QTimer()
    check.setInterval(20)

    def on_check() -> None:
        run_loop.ticks += 1
        if (until is not None and until()) or time.perf_counter() > end:
            loop.quit()

    check.timeout.connect(on_check)
    check.start()
    if GUI_CALLS is not None:
        sys.setprofile(GUI_CALLS.hook)
    try:
        loop.exec()
    finally:
        sys.setprofile(None)
    check.stop()


run_loop.ticks = 0


def bench_stall(app, win, tmp: Path, runs: int = 1, trace_ms: float | None = None) -> None:
    from tests.peers import make_ct_series, run_orthanc

    today = time.strftime("%Y%m%d")  # arrivals of today: they go to the top of the list (newest first), in view
    worst, p99s = [], []
    with run_orthanc(tmp / "orthanc") as peer:
        remote = make_ct_series(tmp / "remote", 300, patient_name="Remote^Three Hundred", patient_id="REM300",
                                study_date=today, accession="REMOTE")
        peer.upload(remote)
        win.settings.nodes = [peer.node("pacs", method="get")]
        win.qr.reload_nodes("pacs")
        run_loop(5.0, until=lambda: win.listener.state == "listening")
        assert win.listener.state == "listening", win.listener.text
        for run in range(runs):
            _remove_bench_studies(win.archive)
            run_loop(1.0)
            incoming = make_ct_series(tmp / f"incoming{run}", 500, patient_name="Incoming^Five Hundred",
                                      patient_id="INC500", study_date=today, accession=f"INC{run}")
            found = []
            win.qr.findDone.connect(found.append)
            win.qr.find()
            run_loop(20, until=lambda: bool(found))
            win.qr.findDone.disconnect(found.append)
            run_loop(0.5)
            load = os.getloadavg()[0]
            meter = StallMeter(trace_ms=trace_ms)
            meter.start()
            t0 = time.perf_counter()
            proc = subprocess.Popen(["storescu", "-aet", "MODALITY", "-aec", win.settings.ae_title, "127.0.0.1",
                                     str(win.settings.port), *map(str, incoming)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env={**os.environ, "TCP_NODELAY": "1"})
            win.qr.tree.topLevelItem(0).setSelected(True)
            jobs = win.qr.retrieve_selected()
            watching = []

            def done() -> bool:
                # As a user watching the arrival: select the incoming study once it is listed (its series panel
                # then follows the arrivals).
                if not watching:
                    uids = win.archive.query("study", {"PatientID": "INC500"}) if run_loop.ticks % 10 == 0 else []
                    if uids and win.browser.select_study(uids[0]["StudyInstanceUID"]):
                        watching.append(uids[0]["StudyInstanceUID"])
                return proc.poll() is not None and all(not j.is_active for j in jobs)

            run_loop(300, until=done)
            run_loop(1.0)  # the coalesced refreshes after the last arrival
            meter.stop()
            elapsed = time.perf_counter() - t0
            gaps = sorted(meter.gaps)
            p99 = gaps[int(len(gaps) * 0.99)] if gaps else 0
            over = sum(1 for g in gaps if g > 0.020)
            worst.append(meter.worst())
            p99s.append(p99)
            shown = [win.browser.model.row_of(u) for u in _bench_study_uids(win.archive)]
            series_tiles = win.browser.series.count() if watching else "-"
            print(f"  run {run + 1}: {elapsed:.1f} s, load {load:.2f}: longest stall {meter.worst() * 1000:.0f} ms, "
                  f"99th percentile {p99 * 1000:.1f} ms, {over} stalls > 20 ms; retrieve {jobs[0].state}, "
                  f"storescu exit {proc.returncode}; rows of the two studies in the list: {shown}, "
                  f"incoming selected: {bool(watching)}, series tiles {series_tiles}")
            if trace_ms:
                meter.report(t0)
        _remove_bench_studies(win.archive)
        run_loop(1.0)
    print(f"stall while receiving 500 (storescu) + retrieving 300 (C-GET), {runs} run(s): longest event-loop "
          f"stall {min(worst) * 1000:.0f}-{max(worst) * 1000:.0f} ms, 99th percentile "
          f"{min(p99s) * 1000:.1f}-{max(p99s) * 1000:.1f} ms (target <= 50 ms)")


def bench_open(app, win, tmp: Path, sizes=(300, 2000), runs: int = 3, trace_ms: float | None = None) -> None:
    """Figure 4: double-click on a study row -> the viewer's first image painted."""
    import pydicom
    from PySide6 import QtCore
    sys.path.insert(0, str(ROOT / "tests" / "gui" / "viewer"))
    from viewer_data import write_ct_series

    from workstation.gui.viewer import painting

    painted: list[float] = []
    real_paint = painting.CountingImageItem.paint

    def paint(self, p, *args):
        real_paint(self, p, *args)
        if self.image is not None and not painted:
            vp = self.getViewWidget().parent() if self.getViewWidget() is not None else None
            stack = getattr(vp, "stack", None)
            number = int(stack.header(vp.state.frame).InstanceNumber) if stack is not None else -1
            painted.append((time.perf_counter(), number))

    painting.CountingImageItem.paint = paint
    try:
        for n in sizes:
            study = pydicom.uid.generate_uid()
            t_write = time.perf_counter()
            paths = write_ct_series(tmp / f"open{n}", n, rows=512, cols=512, instance_order="descending",
                                    study_uid=study)
            win.archive.import_paths(paths)
            for p in paths:
                os.unlink(p)
            print(f"  {n} slices: written and imported in {time.perf_counter() - t_write:.1f} s")
            wait(app, 10, until=lambda: win.browser.model.row_of(study) >= 0)
            firsts, sorted_, stalls, numbers, releases = [], [], [], [], []
            for _run in range(runs):
                assert win.browser.select_study(study)
                wait(app, 1.0)
                view = win.browser.view
                row = win.browser.model.row_of(study)
                index = view.model().index(row, 0) if view.model() is win.browser.model else None
                if index is None:
                    index = next(view.model().index(r, 0) for r in range(view.model().rowCount())
                                 if view.selectionModel().isRowSelected(r, QtCore.QModelIndex()))
                view.scrollTo(index)
                center = view.visualRect(index).center()
                before = list(win.viewers)
                painted.clear()
                meter = StallMeter(trace_ms=trace_ms)
                meter.start()
                t0 = time.perf_counter()
                _double_click(view.viewport(), center)
                new = []

                def first_painted() -> bool:
                    if not new:
                        new.extend(v for v in win.viewers if v not in before)
                    return bool(new) and bool(painted)

                run_loop(30, until=first_painted)
                if not new:
                    print("    no viewer opened: row", row, "index", index.isValid(), "rect", view.visualRect(index),
                          "selected", [r.get("StudyInstanceUID") == study for r in win.browser.selected_studies()])
                    continue
                t_first, number = painted[0] if painted else (float("nan"), -1)
                viewer = new[0]
                vp = viewer.viewports[0]
                numbers.append(number)
                run_loop(60, until=lambda: viewer.is_loaded and vp.current_array() is not None
                         and len(vp.stack) == n)
                t_sorted = time.perf_counter()
                run_loop(0.3)
                meter.stop()
                firsts.append((t_first - t0) * 1000)
                sorted_.append((t_sorted - t0) * 1000)
                stalls.append(meter.worst() * 1000)
                if trace_ms:
                    meter.report(t0)
                closing = StallMeter(trace_ms=trace_ms)
                closing.start()
                t_close = time.perf_counter()
                viewer.close()
                run_loop(0.5)
                closing.stop()
                if trace_ms:
                    print("    closing:")
                    closing.report(t_close)
                releases.append(closing.worst() * 1000)
            print(f"open {n} slices, {runs} run(s): first image painted {_spread(firsts)} ms after the double-click "
                  f"(InstanceNumber shown first: {sorted(set(numbers))}), whole stack sorted {_spread(sorted_)} ms, "
                  f"longest stall {_spread(stalls)} ms, longest stall while it closes {_spread(releases)} ms "
                  f"(targets: <= 150 ms, InstanceNumber 1, stall <= 50 ms)")
            win.archive.delete("study", study)
            run_loop(0.5)
    finally:
        painting.CountingImageItem.paint = real_paint


def _double_click(widget, pos) -> None:
    """Press, release, double-click, release: what a mouse sends (QTest.mouseDClick alone opened nothing)."""
    from PySide6 import QtCore, QtGui, QtWidgets

    Qt = QtCore.Qt
    p = QtCore.QPointF(pos)
    g = QtCore.QPointF(widget.mapToGlobal(pos))
    for kind, buttons in ((QtCore.QEvent.MouseButtonPress, Qt.LeftButton),
                          (QtCore.QEvent.MouseButtonRelease, Qt.NoButton),
                          (QtCore.QEvent.MouseButtonDblClick, Qt.LeftButton),
                          (QtCore.QEvent.MouseButtonRelease, Qt.NoButton)):
        QtWidgets.QApplication.sendEvent(widget, QtGui.QMouseEvent(kind, p, g, Qt.LeftButton, buttons,
                                                                   Qt.NoModifier))


def _spread(values) -> str:
    values = sorted(values)
    return f"{values[0]:.0f}/{statistics.median(values):.0f}/{values[-1]:.0f} (min/median/max)"


BENCH_PATIENTS = ("Incoming^Five Hundred", "Remote^Three Hundred")


def _bench_study_uids(archive) -> list[str]:
    return [row["StudyInstanceUID"] for name in BENCH_PATIENTS for row in archive.query("study", {"PatientName": name})]


def _remove_bench_studies(archive) -> None:
    for uid in _bench_study_uids(archive):
        archive.delete("study", uid)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--skip-network", action="store_true")
    parser.add_argument("--stall-only", action="store_true", help="only the stall benchmark")
    parser.add_argument("--open-only", action="store_true", help="only the series-opening benchmark")
    parser.add_argument("--runs", type=int, default=3, help="runs of the stall benchmark")
    parser.add_argument("--trace", type=float, metavar="MS",
                        help="print the stacks of every thread during each stall longer than MS")
    parser.add_argument("--switch-interval", type=float, metavar="MS",
                        help="sys.setswitchinterval for the stall runs (after the window is up: overrides the app's)")
    parser.add_argument("--profile-gui", action="store_true",
                        help="with --trace: also time every Python call the GUI thread makes during a stall")
    args = parser.parse_args()
    data_dir = Path(tempfile.gettempdir()) / f"workstation-bench-app-{args.studies}"
    build_archive(data_dir, args.studies)
    if args.profile_gui:
        global GUI_CALLS
        GUI_CALLS = GuiCalls()
    if not args.stall_only and not args.open_only:
        bench_startup(data_dir)

    from PySide6 import QtWidgets

    from tests.peers import free_port
    from workstation.archive import Archive
    from workstation.config import Settings
    from workstation.gui.main_window import MainWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        settings = Settings(data_dir=data_dir, path=tmp / "settings.toml", bind="127.0.0.1", port=free_port())
        archive = Archive.open(settings, check=False)
        win = MainWindow(settings, archive, start_listener=not args.skip_network)
        win.resize(1400, 900)
        win.show()
        wait(app, 10, until=lambda: win.browser.model.rowCount() > 0)
        wait(app, 10, until=lambda: win.browser.model.complete)
        if not args.stall_only and not args.open_only:
            bench_search(app, win)
        if not args.stall_only:
            bench_open(app, win, tmp, runs=args.runs, trace_ms=args.trace)
        if args.open_only:
            args.skip_network = True
        if args.switch_interval:
            sys.setswitchinterval(args.switch_interval / 1000)
        print(f"switch interval {sys.getswitchinterval() * 1000:.2f} ms")
        if not args.skip_network:
            bench_stall(app, win, tmp, args.runs, args.trace)
        win.close()
        _remove_bench_studies(archive)  # the incoming/retrieved instances went into the shared bench archive
        archive.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
