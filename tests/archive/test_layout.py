"""The store's layouts: a folder per series in new archives, the instance layout kept in archives made before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pydicom
import pytest

from tests.peers import make_ct_series
from workstation.archive import Archive
from workstation.archive import index as index_mod
from workstation.archive.index import Index, InstanceRecord
from workstation.archive.storage import INSTANCE_LAYOUT, SERIES_LAYOUT, Storage
from workstation.dicom.header import read_header


def _schema(settings) -> int:
    con = sqlite3.connect(settings.data_dir / "index.sqlite")
    try:
        return int(con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        con.close()


def _rewritten(src: Path, dest: Path, **changes: str) -> Path:
    ds = pydicom.dcmread(src)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    dest.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dest, enforce_file_format=True)
    return dest


def test_a_new_archive_keeps_a_series_in_one_folder(settings, tmp_path):
    a = make_ct_series(tmp_path / "a", 6, series_uid="1.2.826.0.1.3680043.9.7.1")
    b = make_ct_series(tmp_path / "b", 3, series_uid="1.2.826.0.1.3680043.9.7.2", patient_id="PAT002")
    with Archive.open(settings) as arc:
        assert arc.storage.layout == SERIES_LAYOUT
        assert arc.import_paths([tmp_path / "a"], processes=0).imported == 6
        for p in b:  # the Store SCP's way
            arc.store_bytes(p.read_bytes())
        rows = arc.query("instance")
        folders: dict[str, set[Path]] = {}
        for r in rows:
            assert Path(r["path"]).read_bytes() in {p.read_bytes() for p in a + b}
            folders.setdefault(r["SeriesInstanceUID"], set()).add(Path(r["path"]).parent)
        assert sorted(len(f) for f in folders.values()) == [1, 1] and len(set.union(*folders.values())) == 2
        assert arc.check(full=True).clean
        assert arc.delete("series", "1.2.826.0.1.3680043.9.7.1") == 6
        assert len(list(arc.storage.iter_files())) == 3
    # Versions that know only schema 1 would look for these files in the instance layout: they must refuse.
    assert _schema(settings) == 2


def test_a_series_whose_instances_name_two_studies_is_found_where_it_was_written(settings, tmp_path):
    """The index files an instance under its series whatever study it names (the series' first): the path
    derived from the index and the one written must agree all the same (they would not with a study folder)."""
    files = make_ct_series(tmp_path / "a", 2)
    _rewritten(files[1], files[1], StudyInstanceUID="1.2.826.0.1.3680043.9.7.77")
    with Archive.open(settings) as arc:
        assert arc.import_paths([tmp_path / "a"], processes=0).imported == 2
        rows = arc.query("instance")
        assert len(rows) == 2 and all(Path(r["path"]).is_file() for r in rows)
        assert arc.check(full=True).clean  # no row dropped as "file missing", no file indexed twice


def test_a_version_knowing_only_schema_1_refuses_a_new_archive(settings, monkeypatch):
    Archive.open(settings).close()
    monkeypatch.setattr(index_mod, "SCHEMA_VERSION", 1)
    with pytest.raises(sqlite3.DatabaseError, match="newer version"):
        Index(settings.data_dir / "index.sqlite")


def _archive_of_an_older_version(settings, files: list[Path]) -> list[Path]:
    """The data folder an older version left: files in the instance layout (no .layout), an index of schema 1."""
    storage = settings.data_dir / "storage"
    settings.data_dir.mkdir(parents=True)
    index = Index(settings.data_dir / "index.sqlite")
    placed = []
    for f in files:
        header = read_header(f)
        key = Storage.key(header.sop_instance_uid)
        dest = storage / key[:2] / key[2:4] / f"{key}.dcm"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(f.read_bytes())
        index.add([InstanceRecord(header.attributes, dest.stat().st_size)])
        placed.append(dest)
    index.connection().execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    index.close()
    return placed


def test_an_archive_of_an_older_version_keeps_its_layout_and_loses_nothing(settings, tmp_path):
    files = make_ct_series(tmp_path / "old", 4)
    placed = _archive_of_an_older_version(settings, files[:3])
    (settings.data_dir / ".open").touch()  # and an unclean stop: the full check runs at once
    with Archive.open(settings) as arc:
        assert arc.storage.layout == INSTANCE_LAYOUT
        report = arc.last_check
        assert report is not None and report.clean, report.to_dict()
        assert sorted(Path(r["path"]) for r in arc.query("instance")) == sorted(placed)
        # New instances go where the older version would have put them, so it can still open the archive.
        out = arc.store_bytes(files[3].read_bytes())
        key = Storage.key(out.sop_instance_uid)
        assert out.path == settings.data_dir / "storage" / key[:2] / key[2:4] / f"{key}.dcm"
        assert arc.instance_path(out.sop_instance_uid) == out.path
    assert _schema(settings) == 1


@pytest.mark.parametrize("way", ["store", "import"])
def test_an_instance_sent_again_in_another_series_leaves_no_copy_behind(settings, tmp_path, way):
    """With the overwrite policy, the file it replaces (in the old series' folder) goes once the new row is in:
    a copy left behind would be indexed again by a rebuild, under either series."""
    settings.duplicate_policy = "overwrite"
    first = make_ct_series(tmp_path / "a", 2)
    again = _rewritten(first[0], tmp_path / "b" / "again.dcm", SeriesInstanceUID="1.2.826.0.1.3680043.9.7.99")
    sop = pydicom.dcmread(again).SOPInstanceUID
    with Archive.open(settings) as arc:
        for p in first:
            arc.store_bytes(p.read_bytes())
        old = arc.instance_path(sop)
        if way == "store":
            assert arc.store_bytes(again.read_bytes()).status == "replaced"
        else:
            assert arc.import_paths([tmp_path / "b"], processes=0).imported == 1
        new = arc.instance_path(sop)
        assert new != old and new.read_bytes() == again.read_bytes() and not old.exists()
        assert len(list(arc.storage.iter_files())) == 2
        assert arc.check(full=True).clean


@pytest.mark.parametrize("write_behind", [True, False])
def test_a_retrieved_instance_archived_before_in_another_series_is_a_duplicate_and_leaves_no_copy(
        settings, tmp_path, write_behind):
    """A C-GET's duplicate check looks for the file in its own series' folder first (a stat, not a query): an
    instance archived under another series is written, found a duplicate when its row is committed, and its
    copy goes."""
    from workstation.net.scu.ingest import ArchiveIngest

    first = make_ct_series(tmp_path / "a", 2)
    again = _rewritten(first[0], tmp_path / "b" / "again.dcm", SeriesInstanceUID="1.2.826.0.1.3680043.9.7.98")
    with Archive.open(settings) as arc:
        for p in first:
            arc.store_bytes(p.read_bytes())
        kept = {p: p.read_bytes() for p in arc.storage.iter_files()}
        ingest = ArchiveIngest(arc, write_behind=write_behind)
        ingest(again.read_bytes())
        ingest.finish()
        assert (ingest.stored, ingest.duplicates, ingest.failed) == (0, 1, 0)
        assert {p: p.read_bytes() for p in arc.storage.iter_files()} == kept
        assert arc.check(full=True).clean


def test_the_check_removes_a_replaced_copy_a_crash_left_in_another_series_folder(settings, tmp_path):
    """A crash between the commit of a replacement in another series and the removal of the replaced file leaves
    two files of one instance; the row names the new one. The check removes the old copy, but only while no other
    process has the archive open (one could be between writing a replacement and committing it)."""
    first = make_ct_series(tmp_path / "a", 2)
    with Archive.open(settings) as arc:
        for p in first:
            arc.store_bytes(p.read_bytes())
        sop = pydicom.dcmread(first[0]).SOPInstanceUID
        current = arc.instance_path(sop)
        stale = _rewritten(first[0], arc.storage.path_for(sop, "1.2.826.0.1.3680043.9.7.97"),
                           SeriesInstanceUID="1.2.826.0.1.3680043.9.7.97")
        with Archive.open(settings, check=False):  # another process has it open (its own lock)
            assert arc.check(full=True).clean and stale.exists()
        report = arc.check(full=True)
        assert report.superseded_removed == [str(stale)] and not stale.exists()
        assert current.read_bytes() == first[0].read_bytes()
        assert arc.check(full=True).clean
        assert {Path(r["path"]) for r in arc.query("instance")} == set(arc.storage.iter_files())


def test_deleting_a_series_removes_its_folder_and_the_check_removes_those_left_before(settings, tmp_path):
    """A folder per series would pile up empty with every series deleted; an instance deleted alone keeps it."""
    a = make_ct_series(tmp_path / "a", 3, series_uid="1.2.826.0.1.3680043.9.7.1")
    make_ct_series(tmp_path / "b", 2, series_uid="1.2.826.0.1.3680043.9.7.2", patient_id="PAT002")
    with Archive.open(settings) as arc:
        assert arc.import_paths([tmp_path], processes=0).imported == 5
        folder_a = arc.instance_path(pydicom.dcmread(a[0]).SOPInstanceUID).parent
        (folder_b,) = {p.parent for p in arc.storage.iter_files()} - {folder_a}
        assert arc.delete("instance", pydicom.dcmread(a[0]).SOPInstanceUID) == 1 and folder_a.is_dir()
        assert arc.delete("series", "1.2.826.0.1.3680043.9.7.1") == 2
        assert not folder_a.exists() and folder_b.is_dir() and arc.storage.empty_folders() == []
        # The same series sent again: its folder is made again.
        assert arc.import_paths([tmp_path / "a"], processes=0).imported == 3 and folder_a.is_dir()
        # Left by an older version: removed by a full check that has the archive to itself, reported, not a repair.
        left = arc.storage.root / "ab" / ("0" * 18)
        left.mkdir(parents=True)
        with Archive.open(settings, check=False):  # another process has it open: it could be about to write there
            assert arc.check(full=True).empty_folders_removed == 0 and left.exists()
        report = arc.check(full=True)
        assert report.empty_folders_removed == 1 and report.clean and not left.exists()
        assert len(list(arc.storage.iter_files())) == 5
