"""DICOM matching over the index: universal, single value, wildcards, ranges, UID lists, names."""

from __future__ import annotations

import pytest

from workstation.archive import InstanceRecord, QueryError


def _attrs(n: int, **over):
    a = {
        "PatientID": f"P{n}",
        "IssuerOfPatientID": None,
        "PatientName": f"Name{n}^Given",
        "PatientBirthDate": "19800101",
        "PatientSex": "F",
        "StudyInstanceUID": f"1.2.3.{n}",
        "StudyDate": "20240101",
        "StudyTime": "101500",
        "StudyDescription": "CT HEAD",
        "AccessionNumber": f"ACC{n}",
        "ReferringPhysicianName": None,
        "StudyID": "1",
        "SeriesInstanceUID": f"1.2.3.{n}.1",
        "SeriesNumber": 1,
        "SeriesDescription": "axial",
        "Modality": "CT",
        "BodyPartExamined": "HEAD",
        "SOPInstanceUID": f"1.2.3.{n}.1.1",
        "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
        "InstanceNumber": 1,
        "TransferSyntaxUID": "1.2.840.10008.1.2.1",
        "NumberOfFrames": None,
        "Rows": 512,
        "Columns": 512,
    }
    a.update(over)
    return a


@pytest.fixture
def filled(archive):
    records = [
        _attrs(1, PatientName="Doe^John", StudyDate="20240101", StudyTime="080000"),
        _attrs(2, PatientName="DOE^JANE", StudyDate="20240215", StudyTime="131500", StudyDescription="MR KNEE"),
        _attrs(3, PatientName="Yamada^Tarou=山田^太郎=やまだ^たろう", StudyDate="20230630"),
        _attrs(4, PatientName="Müller^Jürgen", StudyDate="20231231"),
        # a second series (MR) in study 1, and a second instance there
        _attrs(1, PatientName="Doe^John", SeriesInstanceUID="1.2.3.1.2", SOPInstanceUID="1.2.3.1.2.1",
               Modality="MR", SeriesNumber=2),
        _attrs(1, PatientName="Doe^John", SeriesInstanceUID="1.2.3.1.2", SOPInstanceUID="1.2.3.1.2.2",
               Modality="MR", SeriesNumber=2, InstanceNumber=2),
    ]
    archive.index.add([InstanceRecord(r, 1000) for r in records])
    return archive


def uids(rows, key="StudyInstanceUID"):
    return sorted(r[key] for r in rows)


def test_universal_and_counts(filled):
    rows = filled.query("study")
    assert len(rows) == 4
    s1 = next(r for r in rows if r["StudyInstanceUID"] == "1.2.3.1")
    assert s1["NumberOfStudyRelatedSeries"] == 2
    assert s1["NumberOfStudyRelatedInstances"] == 3
    assert s1["ModalitiesInStudy"] == ["CT", "MR"]
    assert filled.query("study", {"PatientName": ""}) == rows
    assert len(filled.query("study", {"PatientName": "*"})) == 4


def test_single_value_and_wildcards(filled):
    assert uids(filled.query("study", {"PatientID": "P2"})) == ["1.2.3.2"]
    assert uids(filled.query("study", {"AccessionNumber": "ACC?"})) == ["1.2.3.1", "1.2.3.2", "1.2.3.3", "1.2.3.4"]
    assert uids(filled.query("study", {"StudyDescription": "MR*"})) == ["1.2.3.2"]
    # other strings are case-sensitive, as the standard says
    assert filled.query("study", {"StudyDescription": "mr*"}) == []


def test_names_case_insensitive_and_component_groups(filled):
    assert uids(filled.query("study", {"PatientName": "doe*"})) == ["1.2.3.1", "1.2.3.2"]
    assert uids(filled.query("study", {"PatientName": "DOE^JOHN"})) == ["1.2.3.1"]
    assert uids(filled.query("study", {"PatientName": "山田*"})) == ["1.2.3.3"]
    assert uids(filled.query("study", {"PatientName": "müller*"})) == ["1.2.3.4"]
    assert uids(filled.query("study", {"PatientName": "*jür*"})) == ["1.2.3.4"]


def test_date_and_time_ranges(filled):
    assert uids(filled.query("study", {"StudyDate": "20240101-20240131"})) == ["1.2.3.1"]
    assert uids(filled.query("study", {"StudyDate": "20240101-"})) == ["1.2.3.1", "1.2.3.2"]
    assert uids(filled.query("study", {"StudyDate": "-20231231"})) == ["1.2.3.3", "1.2.3.4"]
    assert uids(filled.query("study", {"StudyDate": "20230630"})) == ["1.2.3.3"]
    assert uids(filled.query("study", {"StudyTime": "1300-1400"})) == ["1.2.3.2"]
    assert uids(filled.query("study", {"StudyTime": "-0900"})) == ["1.2.3.1"]
    with pytest.raises(QueryError):
        filled.query("study", {"StudyDate": "2024-01-01x"})


def test_uid_lists_and_lower_level_keys(filled):
    assert uids(filled.query("study", {"StudyInstanceUID": "1.2.3.1\\1.2.3.4"})) == ["1.2.3.1", "1.2.3.4"]
    # ModalitiesInStudy matches any of the study's modalities
    assert uids(filled.query("study", {"ModalitiesInStudy": "MR"})) == ["1.2.3.1"]
    # a series-level key at study level goes through the study's series
    assert uids(filled.query("study", {"Modality": "MR"})) == ["1.2.3.1"]
    series = filled.query("series", {"StudyInstanceUID": "1.2.3.1"})
    assert uids(series, "SeriesInstanceUID") == ["1.2.3.1.1", "1.2.3.1.2"]
    assert next(s for s in series if s["Modality"] == "MR")["NumberOfSeriesRelatedInstances"] == 2
    inst = filled.query("instance", {"SeriesInstanceUID": "1.2.3.1.2"})
    assert [i["InstanceNumber"] for i in inst] == [1, 2]
    assert all(i["path"].endswith(".dcm") for i in inst)


def test_patient_level(filled):
    rows = filled.query("patient", {"PatientName": "doe*"})
    assert sorted(r["PatientID"] for r in rows) == ["P1", "P2"]
    p1 = next(r for r in rows if r["PatientID"] == "P1")
    assert p1["NumberOfPatientRelatedStudies"] == 1
    assert p1["NumberOfPatientRelatedInstances"] == 3


def test_same_patient_id_different_name_stays_visible(archive):
    archive.index.add([
        InstanceRecord(_attrs(1, PatientID="X", PatientName="Smith^Ann"), 10),
        InstanceRecord(_attrs(2, PatientID="X", PatientName="Smyth^Ann"), 10),
        InstanceRecord(_attrs(3, PatientID="X", PatientName="Smith^Ann", IssuerOfPatientID="OTHER"), 10),
    ])
    patients = archive.query("patient", {"PatientID": "X"})
    assert sorted((p["PatientName"], p["IssuerOfPatientID"] or "") for p in patients) == [
        ("Smith^Ann", ""), ("Smith^Ann", "OTHER"), ("Smyth^Ann", "")]


def test_free_text_search(filled):
    assert uids(filled.query("study", search="knee")) == ["1.2.3.2"]
    assert uids(filled.query("study", search="doe acc2")) == ["1.2.3.2"]
    assert uids(filled.query("study", search="山田")) == ["1.2.3.3"]


def test_lookup_every_identifier(filled):
    assert [r["level"] for r in filled.lookup("1.2.3.1.2.1")] == ["instance"]
    assert [r["level"] for r in filled.lookup("1.2.3.1.2")] == ["series"]
    assert [r["level"] for r in filled.lookup("1.2.3.1")] == ["study"]
    hits = filled.lookup("ACC2")
    assert [(r["level"], r["matched"]) for r in hits] == [("study", "AccessionNumber")]
    assert [(r["level"], r["PatientID"]) for r in filled.lookup("P4")] == [("patient", "P4")]
    assert filled.lookup("nothing") == []
