"""``workstation serve`` as a real process: receives from dcmtk storescu, stops cleanly on SIGTERM, reports a port
in use as one line with exit code 1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.peers import free_port, make_ct_series, run_tool, wait_for_port

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]


def serve(data_dir: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "workstation", "--data-dir", str(data_dir), "serve", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_receives_and_stops_on_sigterm(tmp_path):
    port = free_port()
    proc = serve(tmp_path / "ws", "--aet", "MYNODE", "--port", str(port), "--bind", "127.0.0.1")
    try:
        wait_for_port("127.0.0.1", port, process=proc)
        files = make_ct_series(tmp_path / "ct", 3)
        run_tool("storescu", ["-aet", "SENDER", "-aec", "MYNODE", "127.0.0.1", port, *map(str, files)])
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "listening on 127.0.0.1:" in err and "3 instances received" in err
    assert "Traceback" not in err
    log = (tmp_path / "ws" / "logs" / "workstation.log").read_text()
    assert "association #1 from SENDER@127.0.0.1" in log and "released: 3 instances received, 0 failed" in log

    from workstation.archive import Archive
    from workstation.config import Settings

    with Archive.open(Settings(data_dir=tmp_path / "ws")) as archive:
        assert len(archive.query("instance")) == 3


def test_serve_port_in_use_is_one_line_exit_1(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        proc = serve(tmp_path / "ws", "--port", str(port), "--bind", "127.0.0.1")
        out, err = proc.communicate(timeout=30)
    finally:
        blocker.close()
    assert proc.returncode == 1
    assert err.strip().splitlines() == [
        f"workstation: port {port} is already in use (another DICOM server?): choose another with "
        "`workstation config set port N`"
    ]


def test_serve_rejects_a_bad_ae_title(tmp_path):
    proc = serve(tmp_path / "ws", "--aet", "A" * 20, "--port", str(free_port()))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "longer than 16 characters" in err and "Traceback" not in err


def test_twenty_storescu_at_once_against_serve_defaults(tmp_path):
    """Issue 15 (8): a burst of twenty modalities is served with the default settings: nothing refused, every
    instance indexed exactly once, ``workstation check`` clean afterwards."""
    port = free_port()
    proc = serve(tmp_path / "ws", "--aet", "MYNODE", "--port", str(port), "--bind", "127.0.0.1")
    uids: set[str] = set()
    try:
        wait_for_port("127.0.0.1", port, process=proc)
        batches = [make_ct_series(tmp_path / f"s{i}", 10, rows=128, columns=128, patient_id=f"P{i}") for i in range(20)]
        import pydicom

        for batch in batches:
            uids.update(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in batch)
        senders = [subprocess.Popen(["storescu", "-aet", f"SENDER{i}", "-aec", "MYNODE", "127.0.0.1", str(port),
                                     *map(str, batch)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env=dict(os.environ, TCP_NODELAY="1"))
                   for i, batch in enumerate(batches)]
        outputs = []
        for s in senders:  # communicate() also closes the pipes (left open, they showed as ResourceWarnings)
            text, _ = s.communicate(timeout=120)
            outputs.append((s.returncode, text))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    failed = [(i, text) for i, (code, text) in enumerate(outputs) if code != 0 or "Rejected" in text]
    assert not failed, failed
    assert ") rejected: " not in (tmp_path / "ws" / "logs" / "workstation.log").read_text()

    from workstation.archive import Archive
    from workstation.config import Settings

    with Archive.open(Settings(data_dir=tmp_path / "ws")) as archive:
        rows = archive.query("instance")
        assert len(rows) == 200 and {r["SOPInstanceUID"] for r in rows} == uids
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    check = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(tmp_path / "ws"), "check"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
