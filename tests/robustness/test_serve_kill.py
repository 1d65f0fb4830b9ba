"""SIGKILL of `workstation serve` while instances arrive: every instance acknowledged with Success is on disk,
complete and indexed after the restart; nothing half-written remains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from tests.peers import free_port, make_ct_series, wait_for_port
from workstation.archive import Archive
from workstation.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_during_receive_loses_nothing_acknowledged(tmp_path):
    files = make_ct_series(tmp_path / "ct", 400, rows=256, columns=256)
    data_dir = tmp_path / "ws"
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "--data-dir", str(data_dir), "serve", "--port", str(port),
         "--bind", "127.0.0.1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    acknowledged: list[str] = []
    try:
        wait_for_port("127.0.0.1", port, process=proc)
        ae = AE(ae_title="KILLTEST")
        ae.add_requested_context(CTImageStorage)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        assoc = ae.associate("127.0.0.1", port, ae_title="WORKSTATION")
        assert assoc.is_established

        def killer():
            while len(acknowledged) < 60:
                time.sleep(0.005)
            os.kill(proc.pid, signal.SIGKILL)

        threading.Thread(target=killer, daemon=True).start()
        for f in files:
            ds = pydicom.dcmread(f)
            try:
                status = assoc.send_c_store(ds)
            except Exception:  # noqa: BLE001 - the peer died under us
                break
            if not status or getattr(status, "Status", None) != 0x0000:
                break
            acknowledged.append(ds.SOPInstanceUID)
        assoc.abort()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the server should have been killed mid-transfer"
    assert 60 <= len(acknowledged) < 400

    with Archive.open(Settings(data_dir=data_dir)) as archive:  # the startup check runs: the server did not close
        rows = {r["SOPInstanceUID"]: r for r in archive.query("instance")}
        missing = [uid for uid in acknowledged if uid not in rows]
        assert missing == [], f"{len(missing)} acknowledged instances lost"
        for uid in acknowledged:
            stored = pydicom.dcmread(rows[uid]["path"])
            assert stored.SOPInstanceUID == uid and len(stored.PixelData) == 256 * 256 * 2
        assert archive.storage.temp_files() == []
        assert {Path(r["path"]) for r in rows.values()} == set(archive.storage.iter_files())
