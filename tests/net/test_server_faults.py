"""Faults on our side during a C-STORE: the disk fills up, the index fails. The peer gets a failure status with
a reason, nothing partial stays in storage, no row lacks its file, and the next store works once the fault is
gone. (Disk full before the rename is in tests/net/test_server.py; the SIGKILL of `workstation serve` is in
tests/robustness/test_serve_kill.py and tests/interop/test_scp_kill.py.)"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, build_context
from pynetdicom.sop_class import CTImageStorage

from tests.peers import ct_with_payload, loopback_server_settings
from workstation.net.scp.server import DicomServer


@pytest.fixture
def server_settings(settings):
    return loopback_server_settings(settings)


def ct() -> Dataset:
    return ct_with_payload(bytes(range(256)) * 64, patient_id="FAULT")  # 16 KiB: several writes' worth


def store(server: DicomServer, datasets: list[Dataset]) -> list[Dataset]:
    ae = AE(ae_title="FAULTSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    assoc = ae.associate(*server.address, contexts=[build_context(CTImageStorage, ExplicitVRLittleEndian)],
                         ae_title=server.settings.ae_title)
    assert assoc.is_established
    try:
        return [assoc.send_c_store(ds) for ds in datasets]
    finally:
        assoc.release()


def assert_consistent(archive, expected: set[str]) -> None:
    rows = {r["SOPInstanceUID"]: Path(r["path"]) for r in archive.query("instance")}
    assert set(rows) == expected
    assert set(rows.values()) == set(archive.storage.iter_files())
    assert archive.storage.temp_files() == []


def test_disk_full_mid_write_then_space_returns(server, archive, events, monkeypatch):
    import workstation.archive.storage as storage_mod

    real_write = storage_mod._write_all

    def half_then_enospc(fd, data):
        # A real full disk: part of the file reaches the temp file, then the kernel refuses the rest.
        view = memoryview(data if isinstance(data, (bytes, bytearray, memoryview)) else b"".join(data))
        real_write(fd, view[: len(view) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_mod, "_write_all", half_then_enospc)
    full = [ct(), ct()]
    statuses = store(server, full)
    assert [s.Status for s in statuses] == [0xA700, 0xA700]
    assert all(s.ErrorComment == "out of disk space" for s in statuses)
    assert_consistent(archive, set())
    failed = [e for e in events if e.kind == "instance-failed"]
    assert [e.sop_instance_uid for e in failed] == [ds.SOPInstanceUID for ds in full]
    assert all("out of disk space" in e.detail for e in failed)

    monkeypatch.setattr(storage_mod, "_write_all", real_write)  # space is back
    again = full + [ct()]
    assert [s.Status for s in store(server, again)] == [0, 0, 0]
    assert_consistent(archive, {ds.SOPInstanceUID for ds in again})


@pytest.mark.parametrize("error,status", [
    (sqlite3.OperationalError("database or disk is full"), 0xA700),
    (sqlite3.OperationalError("database is locked"), 0xA700),
    (sqlite3.DatabaseError("database disk image is malformed"), 0xA700),
], ids=["index disk full", "index locked", "index damaged"])
def test_index_failure_is_a_refusal_with_a_reason_and_leaves_no_orphan(server, archive, events, monkeypatch, caplog,
                                                                         error, status):
    real_add = archive.index.add
    calls = []

    def failing_add(records, replace=False):
        calls.append(records)
        raise error

    monkeypatch.setattr(archive.index, "add", failing_add)
    ds = ct()
    with caplog.at_level("WARNING", logger="workstation.net.scp.server"):
        (result,) = store(server, [ds])
    assert calls, "the index was not asked"
    assert result.Status == status
    assert result.ErrorComment  # a reason for the sender
    # The file written before the row failed is gone again: no orphan for the next check to adopt silently.
    assert_consistent(archive, set())
    assert not [r for r in caplog.records if r.exc_info], "a traceback for an expected failure"
    assert str(error) in caplog.text or "no space left" in caplog.text
    assert [e.kind for e in events if e.sop_instance_uid == ds.SOPInstanceUID] == ["instance-failed"]

    monkeypatch.setattr(archive.index, "add", real_add)
    assert store(server, [ds])[0].Status == 0
    assert_consistent(archive, {ds.SOPInstanceUID})
    assert archive.check(full=True).clean
