"""ArchiveIngest: a C-GET into the archive is durable (one sync per batch) before its rows, and its rows before
the end; refused and failed instances leave neither file nor row; the check repairs what a crash leaves."""

from __future__ import annotations

import os
import threading

import pytest

from tests.peers import make_ct_series
from workstation.archive import Archive, InvalidInstance
from workstation.config import Settings
from workstation.net.scu.ingest import ArchiveIngest


@pytest.fixture
def archive(tmp_path):
    a = Archive.open(Settings(data_dir=tmp_path / "ws"))
    yield a
    a.close()


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    return [p.read_bytes() for p in make_ct_series(tmp_path_factory.mktemp("ct"), 25, rows=32, columns=32)]


def _storage_files(archive) -> set[str]:
    return {str(p) for p in archive.storage.iter_files()}


def _rows(archive) -> set[str]:
    return {r["path"] for r in archive.query("instance")}


def _journal(archive, monkeypatch):
    """Record, in order, every file written into storage, every sync and every index commit."""
    events: list[tuple[str, object]] = []
    lock = threading.Lock()
    write, sync, add = archive.storage.write_bytes, archive.sync_storage, archive.add_records

    def write_bytes(uid, series, data, **kw):
        path = write(uid, series, data, **kw)
        with lock:
            events.append(("write", str(path)))
        return path

    def sync_storage(paths=()):
        sync(paths)
        with lock:
            events.append(("sync", None))

    def add_records(records):
        with lock:
            events.append(("index", [r.attributes["SOPInstanceUID"] for r in records]))
        return add(records)

    monkeypatch.setattr(archive.storage, "write_bytes", write_bytes)
    monkeypatch.setattr(archive, "sync_storage", sync_storage)
    monkeypatch.setattr(archive, "add_records", add_records)
    return events


@pytest.mark.parametrize("write_behind", [True, False])
def test_every_instance_is_synced_before_its_row_and_all_before_finish_returns(archive, series, monkeypatch,
                                                                              write_behind):
    events = _journal(archive, monkeypatch)
    ingest = ArchiveIngest(archive, batch_files=10, batch_seconds=60, write_behind=write_behind)
    for data in series:
        assert ingest(data) in ("queued", "staged")
    ingest.finish()
    assert ingest.stored == 25 and ingest.failed == 0 and ingest.duplicates == 0, ingest.errors
    assert ingest.syncs == 3  # 10 + 10 + 5
    # Every index commit comes after a sync that came after the writes of the files it indexes.
    written_since_sync: set[str] = set()
    synced: set[str] = set()
    for kind, what in events:
        if kind == "write":
            written_since_sync.add(what)
        elif kind == "sync":
            synced |= written_since_sync
            written_since_sync = set()
        else:
            for uid in what:
                assert str(archive.instance_path(uid)) in synced
    assert events[-1][0] == "index"  # finish returned after the last commit
    assert _storage_files(archive) == _rows(archive) and len(_rows(archive)) == 25
    assert not archive.storage.temp_files()


def test_duplicates_are_kept_and_counted(archive, series):
    first = ArchiveIngest(archive)
    for data in series[:5]:
        first(data)
    first.finish()
    before = {p: os.stat(p).st_mtime_ns for p in _storage_files(archive)}
    again = ArchiveIngest(archive)
    for data in series[:5] + series[:1]:
        again(data)
    again.finish()
    assert again.duplicates == 6 and again.stored == 0
    assert {p: os.stat(p).st_mtime_ns for p in _storage_files(archive)} == before  # not rewritten


def test_an_instance_the_archive_cannot_index_leaves_no_file_and_no_row(archive, series):
    truncated = series[1][:-100]  # pixel data shorter than its dimensions
    ingest = ArchiveIngest(archive)
    ingest(series[0])
    ingest(truncated)
    ingest(b"not dicom at all" * 20)
    ingest(series[2])
    ingest.finish()
    assert ingest.stored == 2 and ingest.failed == 2, ingest.errors
    assert _storage_files(archive) == _rows(archive) and len(_rows(archive)) == 2
    assert not archive.storage.temp_files()
    # Without write-behind the refusal reaches the caller (the node gets C000).
    sync = ArchiveIngest(archive, write_behind=False)
    with pytest.raises(InvalidInstance):
        sync(truncated)
    sync.finish()


def test_a_batch_that_cannot_be_made_durable_is_removed_and_counted(archive, series, monkeypatch):
    def broken_sync(paths=()):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(archive, "sync_storage", broken_sync)
    ingest = ArchiveIngest(archive, batch_files=4)
    for data in series[:6]:
        ingest(data)
    ingest.finish()
    assert ingest.stored == 0 and ingest.failed == 6 and "Input/output error" in ingest.errors[0]
    assert not _storage_files(archive) and not _rows(archive)


def test_disk_full_refuses_the_following_instances(archive, series, monkeypatch):
    from workstation.archive import StorageFull

    def full(uid, series, data, **kw):
        raise StorageFull(28, "no space left on the archive's disk")

    monkeypatch.setattr(archive.storage, "write_bytes", full)
    ingest = ArchiveIngest(archive)
    ingest(series[0])
    for _ in range(200):  # the writer thread meets the full disk
        if ingest.failed:
            break
        threading.Event().wait(0.01)
    with pytest.raises(StorageFull):
        ingest(series[1])
    ingest.finish()
    assert ingest.failed == 1 and not _rows(archive)


def test_check_indexes_files_written_before_a_crash_and_never_garbage(tmp_path, series):
    """What a killed C-GET leaves: renamed files without rows (indexed by the check) and, after a power loss,
    empty or garbage files under storage names (reported, never indexed)."""
    settings = Settings(data_dir=tmp_path / "ws")
    archive = Archive.open(settings)
    ingest = ArchiveIngest(archive, write_behind=False)
    for data in series[:3]:
        header = ingest._parse(data)
        # Written and renamed, never synced nor indexed: the process died here.
        ingest._write(header.sop_instance_uid, header.attributes["SeriesInstanceUID"], data)
    empty = archive.storage.path_for("1.2.3.999.1", "1.2.3.999")
    garbage = archive.storage.path_for("1.2.3.999.2", "1.2.3.999")
    for path, content in ((empty, b""), (garbage, b"\x00" * 4096)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (archive.storage.tmp_dir / "999999-deadbeef.part").write_bytes(b"half")  # a dead writer's temp file
    archive.close()
    archive = Archive.open(settings, check=False)
    report = archive.check(full=True)
    assert len(report.files_indexed) == 3 and report.temp_files_removed == 1
    assert {r.split(":")[0] for r in report.files_unreadable} == {str(empty), str(garbage)}
    rows = _rows(archive)
    assert len(rows) == 3 and str(empty) not in rows and str(garbage) not in rows
    archive.close()


def test_a_damaged_copy_then_a_good_one_of_the_same_instance_is_stored(archive, series):
    ingest = ArchiveIngest(archive)
    ingest(series[4][:-100])  # cut short: refused after it was written
    for _ in range(200):  # the parser has refused it before the good copy arrives (a node's retry)
        if ingest.failed:
            break
        threading.Event().wait(0.01)
    ingest(series[4])
    ingest.finish()
    assert ingest.failed == 1 and ingest.stored == 1 and ingest.duplicates == 0, ingest.errors
    assert len(_rows(archive)) == 1 and _storage_files(archive) == _rows(archive)


def test_a_writer_that_fails_unexpectedly_does_not_hang_finish(archive, series, monkeypatch):
    from workstation.net.scu import ingest as scu_ingest

    monkeypatch.setattr(scu_ingest.ArchiveIngest, "_write_items",
                        lambda self: (_ for _ in ()).throw(KeyboardInterrupt()))
    ingest = ArchiveIngest(archive)
    for data in series[:4]:
        ingest(data)
    done = threading.Event()
    threading.Thread(target=lambda: (ingest.finish(), done.set()), daemon=True).start()
    assert done.wait(10), "finish() hung after its writer threads died"
    assert ingest.failed >= 4 and not _rows(archive)


def test_deferred_headers_are_read_after_the_response_and_nothing_is_lost(archive, series, monkeypatch):
    """With ``deferred`` (the C-GET's fast path) the call returns before the header is read; the association's
    thread reads it in after_response, and finish reads whatever is still pending."""
    from workstation.net.scu import ingest as scu_ingest

    parsed: list[str] = []
    real = scu_ingest.ArchiveIngest._parse
    monkeypatch.setattr(scu_ingest.ArchiveIngest, "_parse",
                        lambda self, data: parsed.append(threading.current_thread().name) or real(self, data))
    ingest = ArchiveIngest(archive, deferred=True)
    assert ingest(series[0]) == "queued" and parsed == []
    ingest.after_response()
    assert parsed == [threading.current_thread().name]
    ingest(series[1])
    ingest(series[1][:-100])  # the previous one is read first, then this one waits for the next response
    assert len(parsed) == 2
    ingest(series[2])
    ingest.finish()  # reads the last ones
    assert len(parsed) == 4 and set(parsed) == {threading.current_thread().name}
    assert ingest.stored == 3 and ingest.failed == 1 and ingest.duplicates == 0, ingest.errors
    assert _storage_files(archive) == _rows(archive) and len(_rows(archive)) == 3


def test_the_gil_switch_interval_is_short_while_an_ingest_runs_and_restored_after(archive, series):
    import sys

    from workstation.net.scu import ingest as scu_ingest

    before = sys.getswitchinterval()
    first, second = ArchiveIngest(archive), ArchiveIngest(archive)
    first(series[0])
    assert abs(sys.getswitchinterval() - min(before, scu_ingest.SWITCH_INTERVAL)) < 1e-7
    second(series[1])
    first.finish()
    assert abs(sys.getswitchinterval() - min(before, scu_ingest.SWITCH_INTERVAL)) < 1e-7  # the other still runs
    second.finish()
    assert sys.getswitchinterval() == before
    assert first.stored == 1 and second.stored == 1


@pytest.mark.parametrize("deferred", [True, False])
def test_a_row_whose_file_went_missing_gets_its_file_back(archive, series, deferred):
    """The duplicate check asks the index only when the file exists: an indexed instance whose file was lost is
    written again (and counted as already in the archive); the others stay as they were."""
    first = ArchiveIngest(archive)
    for data in series[:3]:
        first(data)
    first.finish()
    lost = sorted(_rows(archive))[0]
    kept = {p: os.stat(p).st_mtime_ns for p in _rows(archive) if p != lost}
    os.unlink(lost)
    again = ArchiveIngest(archive, deferred=deferred)
    for data in series[:3]:
        again(data)
    again.finish()
    assert again.duplicates == 3 and again.stored == 0 and again.failed == 0, again.errors
    assert os.path.exists(lost) and len(_rows(archive)) == 3
    assert {p: os.stat(p).st_mtime_ns for p in kept} == kept  # not rewritten


def test_deferred_headers_give_way_to_the_gui_first(archive, series, monkeypatch):
    """In the app, each header read after a response first passes the GUI's gate (workstation.give_way): the parse
    holds the GIL the GUI thread needs, and a busy GUI stalled 33-74 ms while a C-GET came in."""
    from workstation import give_way
    from workstation.net.scu import ingest as scu_ingest

    order: list[str] = []
    real = scu_ingest.ArchiveIngest._parse
    monkeypatch.setattr(scu_ingest.ArchiveIngest, "_parse",
                        lambda self, data: order.append("parse") or real(self, data))
    previous = give_way._gate  # the app's gate, if a GUI test installed one
    give_way.set_gate(lambda: order.append("gate"))
    try:
        ingest = ArchiveIngest(archive, deferred=True)
        for data in series[:3]:
            ingest(data)
            ingest.after_response()
        ingest.finish()
    finally:
        give_way.set_gate(previous)
    assert order == ["gate", "parse"] * 3 and ingest.stored == 3
