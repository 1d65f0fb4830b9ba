"""Import of files, folders, ZIPs and DICOMDIR media, and every kind of bad input."""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.fileset import FileSet

from tests.data import test_file, test_file_dirs
from tests.peers import make_ct_series


def test_folder_import_copies_under_uid_names(archive, tmp_path):
    files = make_ct_series(tmp_path / "in", 5)
    report = archive.import_paths([tmp_path / "in"])
    assert (report.imported, report.duplicates, report.skipped, report.rejected) == (5, 0, 0, [])
    rows = archive.query("instance")
    assert len(rows) == 5
    for row in rows:
        path = Path(row["path"])
        assert path.is_relative_to(archive.storage.root)
        assert path.name == archive.storage.key(row["SOPInstanceUID"]) + ".dcm"
    sources = {f.read_bytes() for f in files}
    assert {Path(r["path"]).read_bytes() for r in rows} == sources
    again = archive.import_paths([tmp_path / "in"])
    assert (again.imported, again.duplicates) == (0, 5)


def test_link_mode_indexes_in_place(archive, tmp_path):
    files = make_ct_series(tmp_path / "in", 3)
    report = archive.import_paths([tmp_path / "in"], link=True)
    assert report.imported == 3
    assert sorted(r["path"] for r in archive.query("instance")) == sorted(str(f.resolve()) for f in files)
    assert list(archive.storage.iter_files()) == []
    # deleting a linked instance removes its row, never the user's file
    archive.delete("study", archive.query("study")[0]["StudyInstanceUID"])
    assert all(f.exists() for f in files)


def test_every_bundled_test_file_imports_or_is_explained(archive):
    """pydicom's own test files: every transfer syntax, charsets, broken ones. No crash; reasons given."""
    report = archive.import_paths(list(test_file_dirs()))
    assert report.imported > 130
    for r in report.rejected:
        assert r["reason"]
    rejected = {Path(r["path"]).name: r["reason"] for r in report.rejected}
    assert "truncated" in rejected["MR_truncated.dcm"]
    assert "truncated" in rejected["rtplan_truncated.dcm"]
    names = {r["PatientName"] for r in archive.query("patient")}
    for expected in ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Wang^XiaoDong=王^小东", "Buc^Jérôme", "Διονυσιος",
                     "Hong^Gildong=洪^吉洞=홍^길동", "Люкceмбypг", "Äneas^Rüdiger"):
        assert expected in names


def test_bad_inputs_are_reported_not_fatal(archive, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    good = make_ct_series(bad, 1)[0]
    data = good.read_bytes()
    (bad / "zero.dcm").write_bytes(b"")
    (bad / "random.dcm").write_bytes(os.urandom(5000))
    (bad / "README.TXT").write_text("Welcome to this CD\n")
    (bad / "autorun.inf").write_text("[autorun]\nopen=viewer.exe\n")
    (bad / "viewer.exe").write_bytes(b"MZ" + os.urandom(3000))
    (bad / "truncated_pixels.dcm").write_bytes(data[:-200])
    (bad / "truncated_header.dcm").write_bytes(data[:400])
    ds = pydicom.dcmread(good)
    del ds.SOPInstanceUID
    del ds.file_meta.MediaStorageSOPInstanceUID
    ds.file_meta.MediaStorageSOPInstanceUID = ""
    ds.save_as(bad / "no_sop_uid.dcm")
    ds = pydicom.dcmread(good)
    del ds.PixelData
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(bad / "no_pixels.dcm")  # an image without PixelData is not rejected for that alone
    report = archive.import_paths([bad])
    rejected = {Path(r["path"]).name: r["reason"] for r in report.rejected}
    assert set(rejected) == {"truncated_pixels.dcm", "truncated_header.dcm", "no_sop_uid.dcm"}
    assert "truncated" in rejected["truncated_pixels.dcm"] and "pixel data" in rejected["truncated_pixels.dcm"]
    assert "SOPInstanceUID" in rejected["no_sop_uid.dcm"]
    assert report.skipped == 5  # zero, random, README, autorun, exe
    # Issue 15 item 7: each skipped file is named with its reason, not only counted.
    skipped = {Path(r["path"]).name: r["reason"] for r in report.skipped_files}
    assert set(skipped) == {"zero.dcm", "random.dcm", "README.TXT", "autorun.inf", "viewer.exe"}
    assert skipped["zero.dcm"] == "empty file"
    assert all(reason.startswith("not a DICOM file") for name, reason in skipped.items() if name != "zero.dcm")
    assert report.to_dict()["skipped_files"] == report.skipped_files
    assert report.imported == 2
    assert archive.storage.temp_files() == []


def test_file_without_preamble_or_meta_is_imported_with_inferred_syntax(archive, tmp_path):
    src = test_file("ExplVR_LitEndNoMeta.dcm")
    report = archive.import_paths([src])
    assert report.imported == 1, report.to_dict()
    row = archive.query("instance")[0]
    assert row["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"
    implicit = tmp_path / "implicit_raw.dcm"
    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    buf = pydicom.filebase.DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    pydicom.filewriter.write_dataset(buf, pydicom.Dataset(ds))  # implicit VR LE, no preamble, no meta
    implicit.write_bytes(buf.getvalue())
    assert archive.import_paths([implicit]).imported == 1
    assert archive.query("instance", {"SOPInstanceUID": ds.SOPInstanceUID})[0]["TransferSyntaxUID"] == "1.2.840.10008.1.2"


def test_zip_import_refuses_traversal(archive, tmp_path):
    files = make_ct_series(tmp_path / "s", 3)
    z = tmp_path / "study.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(files[0], "DICOM/IM1")
        zf.write(files[1], "DICOM/IM2")
        zf.write(files[2], "../../evil.dcm")
        zf.writestr("/etc/abs.dcm", files[2].read_bytes())
        zf.writestr("README.txt", "hello")
    report = archive.import_paths([z])
    assert report.imported == 2
    assert report.skipped == 1
    assert [(r["path"], r["reason"].split(" (")[0]) for r in report.skipped_files] == [
        (f"{z}!README.txt", "not a DICOM file")]
    assert sorted(r["reason"].split(" (")[0] for r in report.rejected) == ["unsafe path in ZIP archive"] * 2
    assert not (tmp_path.parent / "evil.dcm").exists()


def _make_media(root: Path, count: int = 4) -> list[Path]:
    """A CD-like folder written by pydicom's FileSet: DICOMDIR + uppercase 8.3 names."""
    files = make_ct_series(root.parent / (root.name + "_src"), count)
    fs = FileSet()
    for f in files:
        fs.add(f)
    fs.write(root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR")


def test_dicomdir_media_complete(archive, tmp_path):
    media = tmp_path / "cd"
    _make_media(media)
    report = archive.import_paths([media / "DICOMDIR"])
    assert report.imported == 4
    # The DICOMDIR is read for the reconciliation below, not skipped (issue 10: it made an empty report pop up).
    assert (report.skipped, report.skipped_files, report.rejected) == (0, [], [])
    d = report.dicomdirs[0]
    assert (d["listed"], d["found"], d["missing"], d["not_listed"]) == (4, 4, [], [])


def test_dicomdir_resolves_case_insensitively_and_reports_gaps(archive, tmp_path):
    media = tmp_path / "cd"
    stored = _make_media(media, 4)
    # ISO 9660 media mounted with lower-case names, one file lost, one extra file not in the DICOMDIR
    for p in sorted(media.rglob("*"), key=lambda p: -len(p.parts)):
        if p.name != "DICOMDIR":
            p.rename(p.with_name(p.name.lower()))
    lost = [p for p in media.rglob("*") if p.is_file() and p.name != "DICOMDIR"][0]
    lost.unlink()
    extra = make_ct_series(tmp_path / "x", 1)[0]
    (media / "extra.dcm").write_bytes(extra.read_bytes())
    report = archive.import_paths([media])
    d = report.dicomdirs[0]
    assert d["listed"] == 4 and d["found"] == 3 and len(d["missing"]) == 1
    assert [Path(p).name for p in d["not_listed"]] == ["extra.dcm"]
    assert report.imported == 4
    assert len(stored) == 4


def test_dicomdir_with_traversal_and_missing_files(archive, tmp_path):
    media = tmp_path / "cd"
    _make_media(media, 2)
    ds = pydicom.dcmread(media / "DICOMDIR")
    images = [r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    images[0].ReferencedFileID = ["..", "..", "secret"]
    images[1].ReferencedFileID = ["NOPE", "MISSING"]
    ds.save_as(media / "DICOMDIR")
    (tmp_path / "secret").write_bytes(make_ct_series(tmp_path / "y", 1)[0].read_bytes())
    report = archive.import_paths([media])
    d = report.dicomdirs[0]
    assert any("unsafe" in p for p in d["problems"])
    assert d["missing"] == ["NOPE/MISSING"]
    assert report.imported == 2  # both real files were found by scanning the folder
    assert all("secret" not in r["path"] for r in archive.query("instance"))


def test_broken_dicomdir_falls_back_to_scan(archive, tmp_path):
    media = tmp_path / "cd"
    _make_media(media, 3)
    (media / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"garbage")
    report = archive.import_paths([media])
    assert report.imported == 3


def test_symlink_loop_terminates(archive, tmp_path):
    root = tmp_path / "loop"
    (root / "a").mkdir(parents=True)
    make_ct_series(root / "a", 2)
    os.symlink(root, root / "a" / "back")
    os.symlink(root / "a", root / "again")
    report = archive.import_paths([root])
    assert report.imported == 2
    assert report.duplicates == 0


def test_missing_path_is_rejected(archive, tmp_path):
    report = archive.import_paths([tmp_path / "nope"])
    assert report.rejected and "cannot read" in report.rejected[0]["reason"]


def test_cancel_stops_and_leaves_no_debris(archive, tmp_path):
    make_ct_series(tmp_path / "in", 60)
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done == 10:
            cancel.set()

    report = archive.import_paths([tmp_path / "in"], progress=progress, cancel=cancel, workers=2)
    assert report.cancelled
    assert 10 <= report.imported < 60
    assert len(archive.query("instance")) == report.imported
    assert len(list(archive.storage.iter_files())) == report.imported
    assert archive.storage.temp_files() == []
    rest = archive.import_paths([tmp_path / "in"])
    assert rest.imported + report.imported == 60


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "SC_rgb_rle.dcm",
                                  "emri_small_jpeg_ls_lossless.dcm", "image_dfl.dcm", "ExplVR_BigEnd.dcm"])
def test_transfer_syntaxes_recorded(archive, name):
    src = test_file(name)
    ds = pydicom.dcmread(src, stop_before_pixels=True)
    report = archive.import_paths([src])
    assert report.imported == 1
    assert archive.query("instance")[0]["TransferSyntaxUID"] == ds.file_meta.TransferSyntaxUID


def _mixed_folder(root: Path) -> Path:
    """Good instances, a truncated one, a non-DICOM file and an instance without SOPInstanceUID."""
    make_ct_series(root, 40)
    good = sorted(root.iterdir())[0].read_bytes()
    (root / "cut.dcm").write_bytes(good[: len(good) // 2])
    (root / "README.TXT").write_text("not dicom")
    ds = pydicom.dcmread(sorted(root.iterdir())[1])
    del ds.SOPInstanceUID
    del ds.file_meta.MediaStorageSOPInstanceUID
    ds.save_as(root / "nouid.dcm")
    return root


def _summary(report) -> tuple:
    return (report.imported, report.duplicates, report.skipped,
            sorted((Path(r["path"]).name, r["reason"]) for r in report.rejected))


@pytest.mark.parametrize("method, link", [("fork", True), ("spawn", True), ("fork", False), ("spawn", False)])
def test_parser_processes_report_what_threads_report(settings, tmp_path, monkeypatch, method, link):
    """The process-parallel import (forked where the process is single-threaded, spawned otherwise; in copy mode
    the processes store the files too) indexes the same instances and gives the same report as the threaded
    path; a second import finds every instance already there."""
    import multiprocessing

    from workstation.archive import Archive
    from workstation.archive import importer

    folder = _mixed_folder(tmp_path / "in")
    monkeypatch.setattr(importer, "_parser_context", lambda: multiprocessing.get_context(method))
    reports, rows = [], []
    for n, processes in enumerate((0, 2)):
        settings.data_dir = tmp_path / f"arc{n}"
        arc = Archive.open(settings)
        try:
            reports.append(_summary(arc.import_paths([folder], link=link, processes=processes)))
            rows.append(sorted((r["SOPInstanceUID"], Path(r["path"]).name, r["PatientName"],
                                Path(r["path"]).read_bytes()) for r in arc.query("instance")))
            assert arc.storage.temp_files() == []
            again = arc.import_paths([folder], link=link, processes=processes)
            assert (again.imported, again.duplicates) == (0, 40)
            assert len(arc.query("instance")) == 40
        finally:
            arc.close()
    assert reports[0] == reports[1]
    assert reports[0][0] == 40 and len(reports[0][3]) == 2 and reports[0][2] == 1
    assert rows[0] == rows[1] and len(rows[0]) == 40


def test_parser_context_forks_only_a_single_threaded_process():
    from workstation.archive.importer import _parser_context

    if os.name != "posix" or not __import__("sys").platform.startswith("linux"):
        pytest.skip("fork is used on Linux only")
    alone = threading.active_count() == 1
    assert _parser_context().get_start_method() == ("fork" if alone else "spawn")
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert _parser_context().get_start_method() == "spawn"
    finally:
        stop.set()
        t.join()


def test_copy_mode_commits_rows_only_after_the_batch_is_synced(archive, tmp_path, monkeypatch):
    make_ct_series(tmp_path / "in", 12)
    synced: list[tuple[int, int, bool]] = []  # (files in the call, rows indexed at that moment, all complete)
    real = archive.storage.sync_written

    def spy(files, folders):
        files = list(files)
        complete = all(f.exists() and f.stat().st_size > 0 for f in files)
        synced.append((len(files), len(archive.query("instance")), complete))
        real(files, folders)

    monkeypatch.setattr(archive.storage, "sync_written", spy)
    report = archive.import_paths([tmp_path / "in"], link=False)
    assert report.imported == 12
    assert sum(n for n, _, _ in synced) == 12
    indexed = 0
    for n, rows_then, complete in synced:
        assert rows_then == indexed and complete  # nothing of this batch was indexed before its sync
        indexed += n
    assert len(archive.query("instance")) == 12


@pytest.mark.parametrize("link", [False, True])
def test_cancel_with_parser_processes_leaves_no_debris(archive, tmp_path, link):
    """Cancel while worker processes store files (copy mode) or parse (link mode): every stored file has its row,
    no temp file stays, and a second import completes the set."""
    make_ct_series(tmp_path / "in", 300, rows=16, columns=16)
    cancel = threading.Event()

    def progress(p):
        if p.done >= 40:
            cancel.set()

    report = archive.import_paths([tmp_path / "in"], link=link, progress=progress, cancel=cancel, processes=2)
    assert report.cancelled and 40 <= report.imported < 300
    rows = archive.query("instance")
    assert len(rows) == report.imported
    if not link:
        assert {Path(r["path"]) for r in rows} == set(archive.storage.iter_files())
    assert archive.storage.temp_files() == []
    rest = archive.import_paths([tmp_path / "in"], link=link, processes=2)
    assert rest.imported + report.imported == 300 and rest.duplicates == report.imported


def test_a_full_disk_at_a_batch_sync_stops_the_import_with_only_synced_batches_indexed(archive, tmp_path,
                                                                                       monkeypatch):
    """Batches are synced and indexed on a committer thread: a sync that fails (the disk is full) stops the import
    with StorageFull, the batches synced before keep their rows, and none after the failure is indexed."""
    from workstation.archive import StorageFull, importer

    make_ct_series(tmp_path / "in", 12)
    monkeypatch.setattr(importer, "_BATCH", 3)
    real = archive.storage.sync_written
    calls = []

    def sync(files, folders):
        calls.append(len(list(files)))
        if len(calls) == 2:
            raise StorageFull(28, "no space left on the archive's disk", str(archive.storage.root))
        real(files, folders)

    monkeypatch.setattr(archive.storage, "sync_written", sync)
    with pytest.raises(StorageFull):
        archive.import_paths([tmp_path / "in"], processes=0)
    assert len(archive.query("instance")) == calls[0] >= 3  # the first batch, synced before the failure
    assert len(calls) == 2  # nothing synced or indexed after the failure


@pytest.mark.parametrize("processes", [0, 2])
def test_copy_batches_go_to_the_committer_whenever_it_is_idle(archive, tmp_path, monkeypatch, processes):
    """Batches are not held back to a size or an interval while the committer has nothing to do: many small syncs
    keep the disk busy along the way and leave a short one at the end. Each batch is still synced before its
    rows, and every file ends up indexed once."""
    from workstation.archive import importer

    monkeypatch.setattr(importer, "_BATCH", 10**6)
    monkeypatch.setattr(importer, "_BATCH_SECONDS", 10**6)
    monkeypatch.setattr(importer, "_MIN_BATCH_SECONDS", 0.0)
    paths = make_ct_series(tmp_path / "ct", 160, rows=64, columns=64)
    events: list[str] = []
    sync, add = archive.storage.sync_written, archive.add_records

    def sync_written(files, folders):
        sync(files, folders)
        events.append(f"sync {len(list(files))}")

    def add_records(records):
        events.append(f"rows {len(records)}")
        return add(records)

    monkeypatch.setattr(archive.storage, "sync_written", sync_written)
    monkeypatch.setattr(archive, "add_records", add_records)
    report = archive.import_paths([tmp_path / "ct"], link=False, processes=processes)
    assert report.imported == 160 and not report.rejected
    rows = [e for e in events if e.startswith("rows")]
    assert len(rows) > 1, events  # not one batch at the end
    for sync_event, rows_event in zip(events[::2], events[1::2]):  # each batch: its files synced, then its rows
        assert sync_event.startswith("sync") and rows_event.startswith("rows")
        assert sync_event.split()[1] == rows_event.split()[1]
    assert len(archive.query("instance")) == 160


def test_a_link_import_syncs_no_storage(archive, tmp_path, monkeypatch):
    """Link mode writes no file into storage: its batches commit rows without a file-system sync."""
    paths = make_ct_series(tmp_path / "ct", 20, rows=16, columns=16)
    calls = []
    monkeypatch.setattr(archive.storage, "sync_written", lambda files, folders: calls.append(1))
    report = archive.import_paths([tmp_path / "ct"], link=True)
    assert report.imported == 20 and not calls
