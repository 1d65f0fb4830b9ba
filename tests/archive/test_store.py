"""Receiving bytes, duplicates, delete, listeners, consistency check and rebuild."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pydicom
import pytest

from tests.data import test_file
from tests.peers import make_ct_series
from workstation.archive import Archive, InvalidInstance, StorageFull


def test_store_bytes_writes_then_indexes(archive):
    data = test_file("CT_small.dcm").read_bytes()
    events = []
    archive.add_listener(events.append)
    out = archive.store_bytes(data)
    assert out.status == "stored"
    assert out.path.read_bytes() == data  # the received bytes, not a re-encoding
    assert archive.instance_path(out.sop_instance_uid) == out.path
    assert out.path.is_relative_to(archive.storage.root)
    assert events and events[0].kind == "added" and events[0].instances[0][2] == out.sop_instance_uid
    assert archive.storage.temp_files() == []


def test_duplicate_keep_and_overwrite(archive, settings, tmp_path):
    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    first = test_file("CT_small.dcm").read_bytes()
    ds.StudyDescription = "CHANGED"
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    assert archive.store_bytes(first).status == "stored"
    out = archive.store_bytes(changed.read_bytes())
    assert out.status == "duplicate"
    assert out.path.read_bytes() == first
    settings.duplicate_policy = "overwrite"
    out = archive.store_bytes(changed.read_bytes())
    assert out.status == "replaced"
    assert out.path.read_bytes() == changed.read_bytes()
    rows = archive.query("study")
    assert [r["StudyDescription"] for r in rows] == ["CHANGED"]
    assert rows[0]["NumberOfInstances"] == 1
    assert archive.storage.temp_files() == []


def test_an_overwrite_whose_index_update_fails_keeps_the_old_file_with_its_row(archive, settings, tmp_path,
                                                                                 monkeypatch):
    import sqlite3

    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    first = test_file("CT_small.dcm").read_bytes()
    ds.StudyDescription = "CHANGED"
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    stored = archive.store_bytes(first)
    settings.duplicate_policy = "overwrite"

    def locked(records, replace=False):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(archive.index, "add", locked)
    with pytest.raises(sqlite3.OperationalError):
        archive.store_bytes(changed.read_bytes())
    assert stored.path.read_bytes() == first  # the file still matches its row
    original = pydicom.dcmread(test_file("CT_small.dcm")).get("StudyDescription", "") or None
    assert [r["StudyDescription"] for r in archive.query("study")] == [original]
    assert archive.storage.temp_files() == []


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"hello world, not dicom" * 10, "not a DICOM"),
])
def test_store_bytes_rejects_non_dicom(archive, data, reason):
    with pytest.raises(InvalidInstance, match=reason):
        archive.store_bytes(data)
    assert archive.query("instance") == []


def test_store_bytes_rejects_truncated(archive):
    data = test_file("CT_small.dcm").read_bytes()
    with pytest.raises(InvalidInstance, match="truncated"):
        archive.store_bytes(data[:-100])
    assert archive.query("instance") == []
    assert list(archive.storage.iter_files()) == []


def test_disk_full_leaves_nothing(archive, monkeypatch):
    real_write = os.write

    def full(fd, data):
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageFull):
        archive.store_bytes(test_file("CT_small.dcm").read_bytes())
    monkeypatch.undo()
    assert archive.storage.temp_files() == []
    assert list(archive.storage.iter_files()) == []
    assert archive.query("instance") == []


def test_delete_levels_remove_rows_and_files(archive, tmp_path):
    s1 = make_ct_series(tmp_path / "a", 3, patient_id="A")
    s2 = make_ct_series(tmp_path / "b", 2, patient_id="B")
    for p in s1 + s2:
        archive.store_bytes(p.read_bytes())
    events = []
    archive.add_listener(events.append)
    inst = archive.query("instance", {"PatientID": "A"})
    assert archive.delete("instance", inst[0]["SOPInstanceUID"]) == 1
    assert not Path(inst[0]["path"]).exists()
    assert archive.delete("series", inst[1]["SeriesInstanceUID"]) == 2
    assert archive.query("study", {"PatientID": "A"}) == []
    assert archive.query("patient", {"PatientID": "A"}) == []
    assert archive.delete("patient", "B") == 2
    assert archive.query("instance") == []
    assert list(archive.storage.iter_files()) == []
    assert list(archive.storage.trash_dir.iterdir()) == []
    assert [e.kind for e in events] == ["removed"] * 3
    assert archive.delete("study", "9.9.9") == 0


def test_check_repairs_crash_leftovers(settings, tmp_path):
    files = make_ct_series(tmp_path / "s", 4)
    arc = Archive.open(settings)
    outs = [arc.store_bytes(p.read_bytes()) for p in files[:3]]
    # what a crash can leave: a temp file, a file without its row, a row without its file, a half-done delete
    (arc.storage.tmp_dir / "123-dead.part").write_bytes(b"partial")
    beside = outs[2].path.parent / ".123-dead.part"  # a temp file beside its final name, where writes go now
    beside.write_bytes(b"partial")
    ds = pydicom.dcmread(files[3])
    orphan = arc.storage.write_bytes(ds.SOPInstanceUID, ds.SeriesInstanceUID, files[3].read_bytes())
    outs[0].path.unlink()
    trashed = arc.storage.move_to_trash(outs[1].path)
    arc.close()
    (settings.data_dir / ".open").touch()  # as if the last session had not closed
    arc = Archive.open(settings)
    report = arc.last_check
    assert report is not None
    assert report.temp_files_removed == 2 and not beside.exists()
    assert report.rows_without_file == [outs[0].sop_instance_uid]
    assert report.files_indexed == [pydicom.dcmread(files[3]).SOPInstanceUID]
    assert report.trash_restored == 1 and not trashed.exists() and outs[1].path.exists()
    uids = {r["SOPInstanceUID"] for r in arc.query("instance")}
    assert uids == {outs[1].sop_instance_uid, outs[2].sop_instance_uid, pydicom.dcmread(orphan).SOPInstanceUID}
    assert arc.check().clean
    arc.close()


def test_second_process_does_not_clean_up_under_the_first(settings):
    first = Archive.open(settings)
    tmp = first.storage.tmp_dir / "999-busy.part"
    tmp.write_bytes(b"being written")
    second = Archive.open(settings)
    assert tmp.exists(), "another process's temp file must survive"
    second.close()
    first.close()


def test_check_on_demand_leaves_another_process_writes_and_deletes_alone(settings, tmp_path):
    # `workstation check` while `serve` runs: the server's temp file is a C-STORE in flight and its trash a delete
    # in progress; removing the one fails the store, restoring the other resurrects a deleted instance.
    import subprocess
    import sys

    files = make_ct_series(tmp_path / "s", 2)
    server = Archive.open(settings)
    outs = [server.store_bytes(p.read_bytes()) for p in files]
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = server.storage.tmp_dir / f"{writer.pid}-busy.part"
        busy.write_bytes(b"being written")
        dead = server.storage.tmp_dir / "999999999-dead.part"
        dead.write_bytes(b"left by a crash")
        trashed = server.storage.move_to_trash(outs[0].path)  # its row goes next, in the other process
        checker = Archive.open(settings)
        report = checker.check(full=False)
        assert busy.exists(), "a live writer's temp file must survive"
        assert not dead.exists() and report.temp_files_removed == 1
        assert trashed.exists() and not outs[0].path.exists() and report.trash_restored == 0
        checker.close()
    finally:
        writer.kill()
        writer.wait()
    server.close()


def test_rebuild_from_files_alone(archive, tmp_path):
    files = make_ct_series(tmp_path / "s", 5)
    for p in files:
        archive.store_bytes(p.read_bytes())
    linked_dir = tmp_path / "linked"
    linked = make_ct_series(linked_dir, 2, patient_id="LINKED")
    archive.import_paths([linked_dir], link=True)
    before = sorted((r["SOPInstanceUID"], r["path"]) for r in archive.query("instance"))
    # a damaged index: the managed instances' rows are gone (linked files can only be known from the index)
    archive.index.connection().execute("DELETE FROM instances WHERE linked_path IS NULL")
    result = archive.rebuild()
    assert result["indexed"] == 7
    after = sorted((r["SOPInstanceUID"], r["path"]) for r in archive.query("instance"))
    assert after == before
    assert all(p.exists() for p in linked)


def test_connections_of_finished_threads_are_closed(archive):
    import threading
    import time

    from workstation.archive.index import _thread_alive

    ids = []

    def worker():
        ids.append(threading.get_native_id())
        archive.query("study")

    def run_one():
        t = threading.Thread(target=worker)
        t.start()
        t.join()

    for _ in range(50):
        run_one()
    assert len(archive.index._connections) < 10  # bounded along the way, not one per thread
    # join() returns before the OS thread is gone (a loaded machine shows it): wait for them, then one more
    # thread's first query closes the connections of all that went.
    deadline = time.monotonic() + 10
    while any(_thread_alive(i) for i in ids) and time.monotonic() < deadline:
        time.sleep(0.01)
    run_one()
    assert len(archive.index._connections) <= 2  # this thread's and the last worker's


def test_check_repairs_a_damaged_sqlite_index(archive, tmp_path):
    for p in make_ct_series(tmp_path / "s", 3):
        archive.store_bytes(p.read_bytes())
    con = archive.index.connection()
    # Damage an index the way a crash with a corrupted heap did once: a row missing from an index.
    con.execute("PRAGMA writable_schema=ON")
    rootpage = con.execute("SELECT rootpage FROM sqlite_master WHERE name='studies_date'").fetchone()[0]
    assert rootpage
    con.execute("PRAGMA writable_schema=OFF")
    con.execute("DROP INDEX studies_date")
    con.execute("CREATE INDEX studies_date ON studies (study_date) WHERE 0")  # an index missing every row
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_master SET sql='CREATE INDEX studies_date ON studies (study_date)' "
                "WHERE name='studies_date'")
    con.execute("PRAGMA writable_schema=OFF")
    archive.index.close()
    assert archive.index.integrity_problems()
    report = archive.check(full=True)
    assert report.index_repaired and not report.index_damaged
    assert archive.index.integrity_problems() == []
    assert len(archive.query("study", {"StudyDate": "20240102"})) == 1


def test_count_received_since(archive, tmp_path):
    import time

    before = time.time() - 1
    for p in make_ct_series(tmp_path / "s", 4):
        archive.store_bytes(p.read_bytes())
    assert archive.count_received_since(before) == 4
    assert archive.count_received_since(time.time() + 10) == 0


def test_check_keeps_linked_rows_of_unmounted_media(archive, tmp_path):
    media = tmp_path / "usb" / "DICOM"
    files = make_ct_series(media, 2)
    archive.import_paths([media], link=True)
    gone = make_ct_series(tmp_path / "local", 1)
    archive.import_paths([gone[0]], link=True)
    (tmp_path / "usb").rename(tmp_path / "usb-unplugged")  # the stick is pulled
    gone[0].unlink()  # this one really was deleted from a folder that still exists
    report = archive.check(full=True)
    assert report.linked_offline == 2
    assert len(report.rows_without_file) == 1
    assert len(archive.query("instance")) == 2
    assert files


def test_failed_upgrade_keeps_the_shared_lock(settings):
    from workstation.archive import ArchiveError

    first = Archive.open(settings)
    second = Archive.open(settings)
    with pytest.raises(ArchiveError):
        second.rebuild()  # the first has it open: refused
    # the second must still count as a user: a third opener is not "first in" and cleans nothing
    tmp = first.storage.tmp_dir / "4242-inflight.part"
    tmp.write_bytes(b"x")
    first.close()
    third = Archive.open(settings)
    assert tmp.exists()
    third.close()
    second.close()


def test_an_instance_imported_twice_in_one_batch_is_announced_once(archive, tmp_path):
    import shutil

    files = make_ct_series(tmp_path / "s", 3)
    shutil.copy(files[0], tmp_path / "s" / "copy-of-first.dcm")  # the same instance under a second name
    events = []
    archive.add_listener(events.append)
    report = archive.import_paths([tmp_path / "s"])
    assert report.imported == 3 and report.duplicates == 1
    announced = [sop for e in events if e.kind == "added" for _, _, sop in e.instances]
    assert sorted(announced) == sorted(r["SOPInstanceUID"] for r in archive.query("instance"))
