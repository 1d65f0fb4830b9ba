"""Export of odd archived instances: one that cannot be written fails alone with a one-line reason; nothing
empty or half-written is left when all fail."""

from __future__ import annotations

import io
import warnings

import pydicom
import pytest

from tests.data import test_file
from tests.robustness.hostile import elements
from workstation.archive.export import export
from workstation.dicom.anonymize import Anonymizer


def _study(archive):
    return [("study", r["StudyInstanceUID"]) for r in archive.query("study")]


def test_implicit_dataset_under_an_explicit_syntax_goes_on_dicomdir_media(archive, tmp_path):
    # SC_rgb_jpeg.dcm declares JPEG baseline (explicit VR) but its data set is implicit VR.
    assert archive.import_paths([test_file("SC_rgb_jpeg.dcm")]).imported == 1
    report = export(archive, _study(archive), tmp_path / "disc", fmt="dicomdir")
    assert (report.exported, report.failed) == (1, [])
    fs = pydicom.fileset.FileSet(tmp_path / "disc" / "DICOMDIR")
    assert len(fs) == 1
    copy = next(iter(fs)).load()
    assert copy.ImageType == ["DERIVED", "SECONDARY", "OTHER"]


def test_when_every_instance_fails_no_empty_dicomdir_is_left(archive, tmp_path):
    assert archive.import_paths([test_file("MR_small_bigendian.dcm")]).imported == 1
    report = export(archive, _study(archive), tmp_path / "disc", fmt="dicomdir")
    assert report.exported == 0
    assert len(report.failed) == 1 and "Big Endian" in report.failed[0]["reason"]
    assert not (tmp_path / "disc").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".disc")] == []


def _file_meta_element_in_dataset_and_no_sop_uid() -> bytes:
    """A file whose data set carries a group 0002 element and lacks SOPInstanceUID (the archive indexes it by its
    MediaStorageSOPInstanceUID)."""
    data = test_file("CT_small.dcm").read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
    del ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    raw = buf.getvalue()
    # Re-tag the data set's first element (0008,0005) as (0002,0005): a meta element inside the data set.
    first = next(e for e in elements(raw) if e.tag >> 16 != 2)
    return raw[: first.start] + b"\x02\x00" + raw[first.start + 2 :]


@pytest.mark.parametrize("fmt", ["folder", "zip", "dicomdir"])
def test_anonymized_export_repairs_meta_elements_and_missing_uid(archive, tmp_path, fmt):
    src = tmp_path / "odd.dcm"
    src.write_bytes(_file_meta_element_in_dataset_and_no_sop_uid())
    assert archive.import_paths([src]).imported == 1
    report = export(archive, _study(archive), tmp_path / "out", fmt=fmt, anonymizer=Anonymizer())
    assert (report.exported, report.failed) == (1, [])


def test_a_failure_reason_is_one_line(archive, tmp_path, monkeypatch):
    assert archive.import_paths([test_file("CT_small.dcm")]).imported == 1

    def broken(self, ds):
        raise TypeError("With tag (0008,0008) got exception: boom\nTraceback (most recent call last):\n  File x")

    monkeypatch.setattr(Anonymizer, "apply", broken)
    report = export(archive, _study(archive), tmp_path / "out", anonymizer=Anonymizer())
    assert report.exported == 0
    assert report.failed[0]["reason"] == "TypeError: With tag (0008,0008) got exception: boom"
