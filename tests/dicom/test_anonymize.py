"""De-identification: identifiers gone everywhere, UIDs consistent within a run, pixels untouched."""

from __future__ import annotations

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.data import test_file
from workstation.dicom.anonymize import Anonymizer


def _with_identifiers() -> pydicom.Dataset:
    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-123456"
    ds.PatientBirthDate = "19700101"
    ds.OtherPatientIDs = "OLD-99"
    ds.PatientAddress = "1 Main Street"
    ds.InstitutionName = "Saint Somewhere Hospital"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.OperatorsName = "Tech^Tom"
    ds.AccessionNumber = "ACC777"
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7"
    observer = Dataset()
    observer.VerifyingObserverName = "Watson^John"
    ds.ReferencedImageSequence = Sequence([ref])
    ds.VerifyingObserverSequence = Sequence([observer])
    ds.add_new(0x00091010, "LO", "private secret")
    return ds


def test_identifiers_are_gone_and_pixels_kept(tmp_path):
    ds = _with_identifiers()
    pixels = ds.PixelData
    anon = Anonymizer("Teaching^Case", "CASE1")
    warnings = anon.apply(ds)
    assert warnings == []
    out = tmp_path / "a.dcm"
    ds.save_as(out, enforce_file_format=True)
    raw = out.read_bytes()
    for secret in (b"Doe^Jane", b"MRN-123456", b"19700101", b"OLD-99", b"Main Street", b"Saint Somewhere",
                   b"House^Gregory", b"Tech^Tom", b"ACC777", b"Watson", b"private secret", b"1.2.3.4.5.6.7"):
        assert secret not in raw, secret
    back = pydicom.dcmread(out)
    assert str(back.PatientName) == "Teaching^Case" and back.PatientID == "CASE1"
    assert back.PatientIdentityRemoved == "YES" and back.DeidentificationMethod
    assert back.PixelData == pixels
    assert back.StudyDate == "20040119"  # dates retained (longitudinal option)
    assert back.SOPClassUID == pydicom.dcmread(test_file("CT_small.dcm")).SOPClassUID
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID
    assert back.file_meta.TransferSyntaxUID == pydicom.dcmread(test_file("CT_small.dcm")).file_meta.TransferSyntaxUID


def test_uids_map_consistently_within_a_run_and_differently_across_runs():
    a, b = _with_identifiers(), _with_identifiers()
    original = (a.StudyInstanceUID, a.SeriesInstanceUID, a.SOPInstanceUID)
    run = Anonymizer()
    run.apply(a)
    run.apply(b)
    assert (a.StudyInstanceUID, a.SeriesInstanceUID, a.SOPInstanceUID) == (
        b.StudyInstanceUID, b.SeriesInstanceUID, b.SOPInstanceUID)
    assert a.StudyInstanceUID not in original and a.SOPInstanceUID != original[2]
    # A reference to another instance follows that instance's new UID.
    assert a.ReferencedImageSequence[0].ReferencedSOPInstanceUID == run.new_uid("1.2.3.4.5.6.7")
    c = _with_identifiers()
    Anonymizer().apply(c)
    assert c.StudyInstanceUID != a.StudyInstanceUID


def test_different_patients_get_different_pseudonyms():
    run = Anonymizer("Case", "C1")
    a, b, a2 = _with_identifiers(), _with_identifiers(), _with_identifiers()
    b.PatientID, b.PatientName = "OTHER", "Roe^Richard"
    for ds in (a, b, a2):
        run.apply(ds)
    assert (str(a.PatientName), a.PatientID) == ("Case", "C1") == (str(a2.PatientName), a2.PatientID)
    assert (str(b.PatientName), b.PatientID) == ("Case^2", "C1-2")


def test_burned_in_annotation_is_reported():
    ds = _with_identifiers()
    ds.BurnedInAnnotation = "YES"
    assert "burned" in Anonymizer().apply(ds)[0]
