"""App benchmarks (standalone: ``.venv/bin/python tests/bench/bench_app.py [--studies N] [--skip-network]``).

Figures printed:

1. start to usable window over an archive of 10,000 studies / 200,000 instances (target <= 1.5 s): from process
   start, and from the first line of ``main`` (imports done), to the study list showing its rows;
2. search as you type: keystroke -> study list updated (target <= 100 ms), per keystroke, median and worst;
3. longest GUI event-loop stall while a C-STORE of 500 instances arrives (dcmtk storescu) and a C-GET retrieve
   runs (target <= 50 ms).

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
import time
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
    """A 2 ms timer; the longest gap between ticks beyond its interval is the longest stall of the event loop."""

    def __init__(self, interval_ms: int = 2):
        from PySide6 import QtCore

        self.interval = interval_ms / 1000
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.gaps: list[float] = []

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last - self.interval)
        self.last = now

    def worst(self) -> float:
        return max(self.gaps) if self.gaps else 0.0


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


def bench_stall(app, win, tmp: Path) -> None:
    from tests.peers import LOCAL_AE, make_ct_series, run_orthanc, run_tool

    incoming = make_ct_series(tmp / "incoming", 500, patient_name="Incoming^Five Hundred")
    with run_orthanc(tmp / "orthanc") as peer:
        peer.upload(make_ct_series(tmp / "remote", 300, patient_name="Remote^Three Hundred"))
        win.settings.nodes = [peer.node("pacs", method="get")]
        win.qr.reload_nodes("pacs")
        wait(app, 1.0, until=lambda: win.listener.state == "listening")
        assert win.listener.state == "listening", win.listener.text
        found = []
        win.qr.findDone.connect(found.append)
        win.qr.find()
        wait(app, 20, until=lambda: bool(found))
        meter = StallMeter()
        meter.start()
        t0 = time.perf_counter()
        proc = subprocess.Popen(["storescu", "-aet", "MODALITY", "-aec", win.settings.ae_title, "127.0.0.1",
                                 str(win.settings.port), *map(str, incoming)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, "TCP_NODELAY": "1"})
        win.qr.tree.topLevelItem(0).setSelected(True)
        jobs = win.qr.retrieve_selected()
        wait(app, 300, until=lambda: proc.poll() is not None and all(not j.is_active for j in jobs))
        wait(app, 1.0)  # the coalesced refreshes after the last arrival
        meter.stop()
        elapsed = time.perf_counter() - t0
        del run_tool, LOCAL_AE
    gaps = sorted(meter.gaps)
    p99 = gaps[int(len(gaps) * 0.99)] if gaps else 0
    print(f"stall while receiving 500 (storescu) + retrieving 300 (C-GET) in {elapsed:.1f} s: longest event-loop "
          f"stall {meter.worst() * 1000:.0f} ms, 99th percentile {p99 * 1000:.1f} ms "
          f"(target <= 50 ms); retrieve: {jobs[0].state}, storescu exit {proc.returncode}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--skip-network", action="store_true")
    args = parser.parse_args()
    data_dir = Path(tempfile.gettempdir()) / f"workstation-bench-app-{args.studies}"
    build_archive(data_dir, args.studies)
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
        bench_search(app, win)
        if not args.skip_network:
            bench_stall(app, win, tmp)
        win.close()
        # The incoming/retrieved instances went into the shared bench archive: remove them again.
        for name in ("Incoming^Five Hundred", "Remote^Three Hundred"):
            for row in archive.query("study", {"PatientName": name}):
                archive.delete("study", row["StudyInstanceUID"])
        archive.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
