"""Export to a folder, a ZIP and a DICOMDIR folder; re-imported elsewhere, the instances come back whole."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import pydicom
import pydicom.filebase
import pydicom.filewriter
import pytest
from pydicom.fileset import FileSet

from tests.data import test_file
from tests.peers import make_ct_series
from workstation.archive import Archive
from workstation.archive.export import ExportError, export
from workstation.dicom.anonymize import Anonymizer


@pytest.fixture
def filled(archive, tmp_path):
    series = make_ct_series(tmp_path / "ct", 6, patient_name="Doe^Jane", patient_id="MRN1")
    report = archive.import_paths([*series, test_file("JPEG2000.dcm"), test_file("MR_small.dcm")])
    assert report.imported == 8
    return archive, {pydicom.dcmread(p).SOPInstanceUID: p.read_bytes() for p in series}


def _other_archive(settings, tmp_path, name):
    settings.data_dir = tmp_path / name
    return Archive.open(settings)


def test_folder_export_copies_bytes_under_readable_names(filled, tmp_path):
    archive, originals = filled
    study = pydicom.dcmread(archive.instance_path(next(iter(originals)))).StudyInstanceUID
    report = export(archive, [("study", study)], tmp_path / "out")
    assert (report.exported, report.failed) == (6, [])
    files = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(files) == 6
    assert {f.read_bytes() for f in files} == set(originals.values())
    assert files[0].parent.parent.parent.name == "Doe Jane (MRN1)"
    assert [f.name for f in files] == [f"IM{n:05d}.dcm" for n in range(1, 7)]
    assert not list((tmp_path / "out").rglob("*.part"))
    # Exporting again into the same folder never overwrites: new names.
    export(archive, [("study", study)], tmp_path / "out")
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 12


def test_zip_export_reimports_whole(filled, settings, tmp_path):
    archive, originals = filled
    report = export(archive, [("patient", "MRN1")], tmp_path / "case", fmt="zip")
    assert report.destination.endswith("case.zip") and report.exported == 6
    with zipfile.ZipFile(tmp_path / "case.zip") as zf:
        assert zf.testzip() is None and len(zf.namelist()) == 6
    other = _other_archive(settings, tmp_path, "other")
    try:
        again = other.import_paths([tmp_path / "case.zip"])
        assert (again.imported, again.rejected) == (6, [])
        for sop, data in originals.items():
            assert other.instance_path(sop).read_bytes() == data
    finally:
        other.close()


def test_dicomdir_export_is_a_readable_medium(filled, settings, tmp_path):
    archive, _ = filled
    everything = [("patient", r["PatientID"]) for r in archive.query("patient")]
    report = export(archive, everything, tmp_path / "cd", fmt="dicomdir")
    assert report.exported == 8 and report.failed == []
    assert any("StudyID" in w for w in report.warnings) or all(
        "StudyID" in pydicom.dcmread(archive.instance_path(r["SOPInstanceUID"]))
        for r in archive.query("instance"))
    fs = FileSet(tmp_path / "cd" / "DICOMDIR")
    assert len(fs) == 8
    for name in (p.name for p in (tmp_path / "cd").rglob("*") if p.is_file()):
        assert len(name) <= 8 and name == name.upper()  # ISO 9660 level 1 names
    other = _other_archive(settings, tmp_path, "fromcd")
    try:
        again = other.import_paths([tmp_path / "cd"])
        assert again.imported == 8
        listing = again.dicomdirs[0]
        assert listing["listed"] == listing["found"] == 8 and not listing["missing"]
    finally:
        other.close()


def test_anonymized_export_carries_no_identifier(filled, tmp_path):
    archive, originals = filled
    report = export(archive, [("patient", "MRN1")], tmp_path / "anon", fmt="zip",
                    anonymizer=Anonymizer("Teaching^Case", "CASE1"))
    assert report.exported == 6
    with zipfile.ZipFile(tmp_path / "anon.zip") as zf:
        names = zf.namelist()
        blobs = [zf.read(n) for n in names]
    assert all(n.startswith("Teaching Case (CASE1)/") for n in names)
    studies = set()
    for blob in blobs:
        assert b"Doe^Jane" not in blob and b"MRN1" not in blob
        for sop in originals:
            assert sop.encode() not in blob
        ds = pydicom.dcmread(__import__("io").BytesIO(blob))
        studies.add(ds.StudyInstanceUID)
    assert len(studies) == 1  # one study stays one study


def test_cancelled_zip_leaves_nothing(filled, tmp_path):
    archive, _ = filled
    cancel = threading.Event()

    def progress(done, total):
        if done == 2:
            cancel.set()

    report = export(archive, [("patient", "MRN1")], tmp_path / "c", fmt="zip", progress=progress, cancel=cancel)
    assert report.cancelled
    assert list(tmp_path.glob("*c.zip*")) == []


def test_missing_file_is_reported_and_the_rest_exported(filled, tmp_path):
    archive, originals = filled
    victim = next(iter(originals))
    archive.instance_path(victim).unlink()
    report = export(archive, [("patient", "MRN1")], tmp_path / "out")
    assert report.exported == 5
    assert report.failed[0]["SOPInstanceUID"] == victim and "missing" in report.failed[0]["reason"]


def test_refusals_are_clear(filled, tmp_path):
    archive, _ = filled
    with pytest.raises(ExportError, match="nothing to export"):
        export(archive, [("study", "1.2.3.999")], tmp_path / "x")
    (tmp_path / "taken.zip").write_bytes(b"x")
    with pytest.raises(ExportError, match="already exists"):
        export(archive, [("patient", "MRN1")], tmp_path / "taken", fmt="zip")
    assert (tmp_path / "taken.zip").read_bytes() == b"x"


def test_selection_matches_exactly_not_by_dicom_wildcards(archive, tmp_path):
    """An empty PatientID (or one with * or ?) names that patient only; DICOM matching would take everyone."""
    make_ct_series(tmp_path / "a", 2, patient_id="", patient_name="No^Id")
    make_ct_series(tmp_path / "b", 3, patient_id="P*", patient_name="Star^Id", study_uid="1.2.3.77")
    make_ct_series(tmp_path / "c", 4, patient_id="PX", patient_name="Other^Id", study_uid="1.2.3.78")
    assert archive.import_paths([tmp_path / "a", tmp_path / "b", tmp_path / "c"]).imported == 9
    assert export(archive, [("patient", "")], tmp_path / "e1").exported == 2
    assert export(archive, [("patient", "P*")], tmp_path / "e2").exported == 3


def test_old_files_and_big_endian_in_dicomdir_and_anonymized_exports(archive, tmp_path):
    """A file without preamble/meta (archived with its inferred syntax) exports de-identified and onto DICOMDIR
    media; a retired big-endian file cannot go on media and says so, while the rest is written."""
    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    raw = tmp_path / "old.dcm"
    buf = pydicom.filebase.DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, True
    pydicom.filewriter.write_dataset(buf, pydicom.Dataset(ds))  # implicit VR LE, no preamble, no meta
    raw.write_bytes(buf.getvalue())
    big = test_file("ExplVR_BigEnd.dcm")
    assert archive.import_paths([raw, big]).imported == 2
    everyone = [("patient", r["PatientID"] or "") for r in archive.query("patient")]
    report = export(archive, everyone, tmp_path / "cd", fmt="dicomdir")
    assert report.exported == 1 and len(report.failed) == 1
    assert "Big Endian" in report.failed[0]["reason"] and "folder" in report.failed[0]["reason"]
    assert len(FileSet(tmp_path / "cd" / "DICOMDIR")) == 1
    report = export(archive, [("patient", pydicom.dcmread(test_file("CT_small.dcm")).PatientID)], tmp_path / "anon",
                    anonymizer=Anonymizer("A^B", "AB"))
    assert report.exported == 1, report.failed
    out = pydicom.dcmread(next((tmp_path / "anon").rglob("*.dcm")))
    assert out.PatientID == "AB" and out.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2"
