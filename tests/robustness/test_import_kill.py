"""A killed import loses nothing that was indexed and leaves nothing the next start cannot repair."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.peers import make_ct_series
from workstation.archive import Archive


def test_sigkill_mid_import_then_reimport(settings, tmp_path):
    source = tmp_path / "in"
    make_ct_series(source, 400, rows=128, columns=128)
    data_dir = settings.data_dir
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "--data-dir", str(data_dir), "import", str(source)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    storage = data_dir / "storage"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = sum(1 for _ in storage.glob("*/*/*.dcm")) if storage.exists() else 0
        if stored >= 40 or proc.poll() is not None:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the import finished before it could be killed: make the input larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    archive = Archive.open(settings)  # the startup check runs: the last session did not close
    try:
        assert archive.last_check is not None
        rows = archive.query("instance")
        files = list(archive.storage.iter_files())
        assert {Path(r["path"]) for r in rows} == set(files)
        assert all(Path(r["path"]).stat().st_size == r["size"] for r in rows)
        assert archive.storage.temp_files() == []
        assert 0 < len(rows) < 400
        report = archive.import_paths([source])
        assert report.imported + report.duplicates == 400
        assert report.rejected == []
        assert len(archive.query("instance")) == 400
        assert archive.query("series")[0]["NumberOfInstances"] == 400
    finally:
        archive.close()
