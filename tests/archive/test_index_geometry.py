"""Per-instance geometry in the index (for sorting a series without reading its files): ImagePositionPatient and
ImageOrientationPatient next to InstanceNumber, and the migration that adds them to an index made before."""

from __future__ import annotations

import sqlite3

from workstation.archive import Archive
from workstation.archive.index import Index

from tests.peers import make_ct_series


def test_instance_rows_carry_position_orientation_and_number(archive, tmp_path):
    make_ct_series(tmp_path / "in", 3)
    archive.import_paths([tmp_path / "in"])
    rows = archive.query("instance")
    assert [r["InstanceNumber"] for r in rows] == [1, 2, 3]
    assert [r["ImagePositionPatient"] for r in rows] == [(0.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, 2.0)]
    assert {r["ImageOrientationPatient"] for r in rows} == {(1.0, 0.0, 0.0, 0.0, 1.0, 0.0)}


def test_an_index_without_the_columns_is_migrated_in_place(settings, tmp_path):
    files = make_ct_series(tmp_path / "in", 2)
    db = settings.data_dir / "index.sqlite"
    settings.data_dir.mkdir(parents=True)
    # The instances table as schema 1 made it, with one row already in.
    with Archive.open(settings) as arc:
        arc.import_paths([files[0]])
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE old AS SELECT pk, series_pk, sop_uid, sop_class, instance_number, transfer_syntax, frames,"
        " rows, columns, size, received, linked_path FROM instances; DROP TABLE instances;"
        " ALTER TABLE old RENAME TO instances;")
    con.close()
    assert "image_position" not in {r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(instances)")}
    with Archive.open(settings) as arc:
        old = arc.query("instance")
        assert len(old) == 1 and old[0]["ImagePositionPatient"] is None  # indexed before: read from its file
        arc.import_paths([files[1]])
        rows = {r["InstanceNumber"]: r for r in arc.query("instance")}
        assert rows[2]["ImagePositionPatient"] == (0.0, 0.0, 1.0)
    Index(db).close()  # opening again (another process, a later start) finds the columns and changes nothing


def test_vectors_of_the_wrong_length_or_not_numbers_are_not_stored(archive, tmp_path):
    import pydicom

    path = make_ct_series(tmp_path / "in", 1)[0]
    ds = pydicom.dcmread(path)
    ds.ImagePositionPatient = [1.0, 2.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1]
    ds.save_as(path)
    archive.import_paths([path])
    row = archive.query("instance")[0]
    assert row["ImagePositionPatient"] is None and row["ImageOrientationPatient"] is None
