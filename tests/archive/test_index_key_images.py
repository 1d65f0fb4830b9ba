"""The index says which studies have key images: a study row's ``key_images`` is true when the study holds a Key
Object Selection that is not a rejection note (its title code is kept per instance), and an index made before the
title column is migrated in place (its KO rows count as key images until `rebuild` reads their titles)."""

from __future__ import annotations

import sqlite3

import pydicom

from tests.dicom.test_key_objects import other_systems_kos
from tests.peers import make_ct_series
from workstation.archive import Archive
from workstation.dicom.ps_writer import encode
from workstation.reading.results import save_key_images


def _kos(image, code, meaning):
    ds = other_systems_kos(image, frames=())
    del ds.ContentSequence[0].ReferencedSOPSequence[0].ReferencedFrameNumber
    ds.ConceptNameCodeSequence[0].CodeValue, ds.ConceptNameCodeSequence[0].CodeMeaning = code, meaning
    ds.PatientName, ds.PatientID, ds.SeriesNumber, ds.InstanceNumber = image.PatientName, image.PatientID, 5, 1
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    return ds


def _flag(archive, study):
    return archive.query("study", {"StudyInstanceUID": study})[0]["key_images"]


def test_key_images_flag_follows_the_documents_and_ignores_rejection_notes(archive, tmp_path):
    files = make_ct_series(tmp_path / "ct", 2)
    archive.import_paths(files)
    image = pydicom.dcmread(files[0], stop_before_pixels=True)
    study = str(image.StudyInstanceUID)
    assert _flag(archive, study) is False
    rejection = _kos(image, "113001", "Rejected for Quality Reasons")
    archive.store_bytes(encode(rejection), source="test")
    row = archive.query("study", {"StudyInstanceUID": study})[0]
    assert "KO" in row["ModalitiesInStudy"] and row["key_images"] is False
    ours = save_key_images(archive, [str(image.SOPInstanceUID)])
    assert _flag(archive, study) is True
    archive.delete("instance", ours.sop_instance_uid)
    assert _flag(archive, study) is False
    teaching = _kos(image, "113004", "For Teaching")
    archive.store_bytes(encode(teaching), source="test")
    assert _flag(archive, study) is True


def test_an_index_without_the_title_column_is_migrated_in_place(settings, tmp_path):
    files = make_ct_series(tmp_path / "ct", 1)
    image = pydicom.dcmread(files[0], stop_before_pixels=True)
    study = str(image.StudyInstanceUID)
    settings.data_dir.mkdir(parents=True)
    with Archive.open(settings) as arc:
        arc.import_paths(files)
        arc.store_bytes(encode(_kos(image, "113001", "Rejected for Quality Reasons")), source="test")
    db = settings.data_dir / "index.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE old AS SELECT pk, series_pk, sop_uid, sop_class, instance_number, transfer_syntax, frames,"
        " rows, columns, size, received, linked_path, image_position, image_orientation FROM instances;"
        " DROP TABLE instances; ALTER TABLE old RENAME TO instances;")
    con.close()
    with Archive.open(settings) as arc:
        assert "document_title" in {r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(instances)")}
        assert _flag(arc, study) is True  # indexed before the title was kept: KO alone, as before
        arc.rebuild()
        assert _flag(arc, study) is False  # the rebuilt index read the title: a rejection note
