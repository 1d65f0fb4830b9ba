"""Closing the archive while other threads still query it (a priors lookup, the study list) must not crash: the
connection another thread is using is let go of, never closed under it. The race runs in a child process, since
the failure it guards against is the interpreter dying (a segmentation fault seen in CI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_RACE = r"""
import sys, threading, time
from pathlib import Path
from workstation.archive import Archive
from workstation.config import Settings
from tests.peers import make_ct_series

work = Path(sys.argv[1])
make_ct_series(work / "ct", 40, rows=16, columns=16)
for round_ in range(20):
    archive = Archive.open(Settings(data_dir=work / f"a{round_}"))
    archive.import_paths([work / "ct"], link=True)
    stop = threading.Event()
    failures = []

    def query():
        while not stop.is_set():
            try:
                assert len(archive.query("instance")) in (0, 40)
            except Exception as exc:  # a query after the close may fail cleanly; it must not crash
                failures.append(type(exc).__name__)

    threads = [threading.Thread(target=query) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.03)
    archive.close()
    time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert "AssertionError" not in failures, failures
print("no crash")
"""


def test_closing_the_archive_while_other_threads_query_it_does_not_crash(tmp_path):
    out = subprocess.run([sys.executable, "-c", _RACE, str(tmp_path)], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert out.returncode == 0, (out.returncode, out.stderr[-2000:])
    assert out.stdout.strip().endswith("no crash")
