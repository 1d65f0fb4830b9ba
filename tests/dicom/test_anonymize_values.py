"""Values the de-identification writes are valid for their VRs and IODs (what dciodvfy flagged)."""

from __future__ import annotations

import pydicom

from tests.data import test_file
from workstation.dicom.anonymize import Anonymizer


def test_deidentification_method_fits_lo():
    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    Anonymizer().apply(ds)
    values = ds["DeidentificationMethod"].value
    values = [values] if isinstance(values, str) else list(values)
    assert values and all(0 < len(v) <= 64 for v in values)


def test_operators_name_stays_present_but_empty():
    # Type 2 in the RT Series module: removing it made rtplan.dcm's export fail dciodvfy.
    ds = pydicom.dcmread(test_file("rtplan.dcm"))
    ds.OperatorsName = "Tech^Tom"
    Anonymizer().apply(ds)
    assert "OperatorsName" in ds and not ds.OperatorsName


def test_numbered_pseudonyms_are_not_the_retired_person_name_form():
    run = Anonymizer("ANONYMOUS", "A")
    a, b = pydicom.dcmread(test_file("CT_small.dcm")), pydicom.dcmread(test_file("CT_small.dcm"))
    b.PatientID = "SOMEONE ELSE"
    run.apply(a)
    run.apply(b)
    name = str(b.PatientName)
    assert name != str(a.PatientName)
    assert " " not in name.split("^")[0], name  # a space before any '^' is the retired "Last First" form
