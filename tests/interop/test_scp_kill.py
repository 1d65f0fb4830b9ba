"""SIGKILL of `workstation serve` during a burst from dcmtk `storescu`: every instance storescu saw acknowledged
with Success is indexed (before any repair), on disk and complete; `workstation check` finds no row without its
file; the restarted server takes the rest of the burst."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pydicom

from tests.peers import free_port, make_ct_series, require_tool, tool_env, wait_for_port
from workstation.archive import Archive
from workstation.config import Settings

ROOT = Path(__file__).resolve().parents[2]
KILL_AFTER = 40
FILES = 300


def _serve(data_dir: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "--data-dir", str(data_dir), "serve", "--port", str(port),
         "--bind", "127.0.0.1"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port("127.0.0.1", port, process=proc)
    return proc


def _indexed_without_repair(data_dir: Path) -> set[str]:
    """The SOP Instance UIDs in the index as the killed server left it (read-only: no check, no lock)."""
    con = sqlite3.connect(f"file:{data_dir / 'index.sqlite'}?mode=ro", uri=True)
    try:
        return {uid for (uid,) in con.execute("SELECT sop_uid FROM instances")}
    finally:
        con.close()


def test_sigkill_during_a_storescu_burst_loses_nothing_acknowledged(tmp_path):
    storescu = require_tool("storescu")
    files = make_ct_series(tmp_path / "ct", FILES, rows=128, columns=128)
    uid_of = {str(f): pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files}
    data_dir = tmp_path / "ws"
    port = free_port()
    server = _serve(data_dir, port)
    acknowledged: list[str] = []
    try:
        sender = subprocess.Popen([storescu, "-v", "-aet", "KILLSCU", "-aec", "WORKSTATION", "127.0.0.1", str(port),
                                   *map(str, files)], env=tool_env(), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        killed = threading.Event()
        current = None
        for line in sender.stdout:  # type: ignore[union-attr]
            if line.startswith("I: Sending file: "):
                current = line.removeprefix("I: Sending file: ").strip()
            elif "Received Store Response (Success)" in line and current:
                acknowledged.append(uid_of[current])
                if len(acknowledged) == KILL_AFTER and not killed.is_set():
                    os.kill(server.pid, signal.SIGKILL)
                    killed.set()
        sender.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)
    assert server.returncode == -signal.SIGKILL, "the server should have been killed mid-burst"
    assert KILL_AFTER <= len(acknowledged) < FILES, len(acknowledged)

    # Success meant indexed: every acknowledged instance has its row before any repair runs.
    before = _indexed_without_repair(data_dir)
    assert set(acknowledged) <= before, f"{len(set(acknowledged) - before)} acknowledged instances have no row"

    check = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(data_dir), "check", "--json"],
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["rows_without_file"] == [] and report["files_unreadable"] == [] and report["index_damaged"] == []
    assert not set(report["files_indexed"]) & set(acknowledged)  # adopted files were never acknowledged

    # The restarted server takes the rest.
    port = free_port()
    server = _serve(data_dir, port)
    try:
        rest = [f for f in files if uid_of[str(f)] not in set(acknowledged)]
        result = subprocess.run([storescu, "-aet", "KILLSCU", "-aec", "WORKSTATION", "127.0.0.1", str(port),
                                 *map(str, rest)], env=tool_env(), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    with Archive.open(Settings(data_dir=data_dir)) as archive:
        rows = {r["SOPInstanceUID"]: Path(r["path"]) for r in archive.query("instance")}
        assert set(rows) == set(uid_of.values())
        assert set(rows.values()) == set(archive.storage.iter_files())
        assert archive.storage.temp_files() == []
        for uid in acknowledged[:: max(1, len(acknowledged) // 10)]:
            stored = pydicom.dcmread(rows[uid])
            assert stored.SOPInstanceUID == uid and len(stored.PixelData) == 128 * 128 * 2
        assert archive.check(full=True).clean
