"""C-GET from Orthanc into the archive (the product path): every instance stored and indexed, the result only
after the last batch is durable and indexed, a cancel or a SIGKILL leaves nothing half-written and nothing that
`check` cannot make consistent."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pydicom
import pytest

from tests.peers import make_ct_series, orthanc  # noqa: F401 - fixtures
from workstation.archive import Archive
from workstation.cli import main
from workstation.config import Settings
from workstation.dicom.header import read_header
from workstation.net.scu.retrieve import retrieve

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "ws")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 15.0
    return s


def _consistent(archive: Archive) -> set[str]:
    """Every stored file has its row and every row its file, no temp file is left, every file is whole."""
    files = {str(p) for p in archive.storage.iter_files()}
    rows = {r["path"] for r in archive.query("instance")}
    assert files == rows
    assert not archive.storage.temp_files()
    for path in files:
        read_header(path)  # raises on a truncated or unreadable file
    return rows


def test_get_into_the_archive_is_durable_and_indexed_before_the_result(orthanc, settings, tmp_path):
    paths = make_ct_series(tmp_path / "ct", 60, rows=64, columns=64)
    orthanc.upload(paths)
    study = pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID
    archive = Archive.open(settings)
    log: list[tuple[str, int]] = []
    sync, add = archive.sync_storage, archive.add_records

    def sync_storage(paths=()):
        sync(paths)
        log.append(("sync", len(list(archive.storage.iter_files()))))

    def add_records(records):
        result = add(records)
        log.append(("index", len(archive.query("instance"))))
        return result

    archive.sync_storage = sync_storage
    archive.add_records = add_records
    try:
        result = retrieve(settings, orthanc.node(), study_uid=study, method="get", archive=archive)
        log.append(("returned", 0))
        assert result.ok and result.completed == 60 and result.received == 60, result.summary()
        # The last sync saw every file, the last commit indexed every instance, and only then the result.
        assert log[-1] == ("returned", 0) and log[-2] == ("index", 60), log
        assert max(n for kind, n in log if kind == "sync") == 60
        rows = _consistent(archive)
        assert len(rows) == 60
        sent = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p).PixelData for p in paths}
        for row in archive.query("instance"):
            assert pydicom.dcmread(row["path"]).PixelData == sent[row["SOPInstanceUID"]]
        # Again: all duplicates, nothing rewritten, still a success.
        again = retrieve(settings, orthanc.node(), study_uid=study, method="get", archive=archive)
        assert again.ok and again.received == 60 and again.duplicates == 60, again.summary()
    finally:
        archive.close()


def test_cancel_mid_get_into_the_archive_leaves_it_consistent(orthanc, settings, tmp_path):
    paths = make_ct_series(tmp_path / "ct", 150, rows=128, columns=128)
    orthanc.upload(paths)
    study = pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID
    archive = Archive.open(settings)
    cancel = threading.Event()

    def progress(p):
        if p.done >= 5:
            cancel.set()

    try:
        result = retrieve(settings, orthanc.node(), study_uid=study, method="get", archive=archive, cancel=cancel,
                          progress=progress)
        assert result.cancelled and result.exit_code == 2, result.summary()
        rows = _consistent(archive)
        assert 5 <= len(rows) < 150 and result.received == len(rows), (len(rows), result.summary())
    finally:
        archive.close()


# Runs `workstation retrieve` with a slow disk: each batch's sync takes 0.3 s more and each write 2 ms, so that
# the kill lands while some instances are synced but not indexed, some written but not synced, some in memory.
_SLOW_DISK = """
import sys, time
from workstation.archive.archive import Archive
from workstation.net.scu.ingest import ArchiveIngest
sync, write = Archive.sync_storage, ArchiveIngest._write
synced = [0]
def slow_sync(self, paths=()):
    paths = list(paths)
    sync(self, paths)
    synced[0] += len(paths)
    print(f"synced {synced[0]}", flush=True)
    time.sleep(0.3)
def slow_write(self, uid, data, *args, **kwargs):
    time.sleep(0.002)
    return write(self, uid, data, *args, **kwargs)
Archive.sync_storage = slow_sync
ArchiveIngest._write = slow_write
from workstation.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_mid_get_loses_nothing_synced_and_check_makes_it_consistent(orthanc, tmp_path):
    paths = make_ct_series(tmp_path / "ct", 400, rows=128, columns=128)
    orthanc.upload(paths)
    study = pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID
    data_dir = tmp_path / "ws"
    assert main(["--data-dir", str(data_dir), "nodes", "add", "orthanc", orthanc.ae_title, orthanc.host,
                 str(orthanc.port), "--method", "get"]) == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_DISK, "--data-dir", str(data_dir), "retrieve", "orthanc", "--study", study],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    synced = 0
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else "(nothing within 60 s)"
        # The first batch is on disk; the next ones are on their way.
        assert line.startswith("synced "), line
        synced = int(line.split()[1])
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    assert 0 < synced < 400
    assert main(["--data-dir", str(data_dir), "check"]) in (0, 2)
    archive = Archive.open(Settings(data_dir=data_dir))
    try:
        rows = _consistent(archive)
        assert synced <= len(rows) < 400, (synced, len(rows))
    finally:
        archive.close()
    # The retrieve, run again, completes the study.
    assert main(["--data-dir", str(data_dir), "retrieve", "orthanc", "--study", study]) == 0
    archive = Archive.open(Settings(data_dir=data_dir))
    try:
        assert len(_consistent(archive)) == 400
    finally:
        archive.close()
