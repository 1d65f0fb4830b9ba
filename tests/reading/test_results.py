"""Results as archive instances: a presentation state saved for a series is a PR instance of the study, indexed
and found by ps_catalog; key images saved as a KOS (and another system's KOS) are listed for the study; a
measurements.json is migrated into presentation states (the file kept, bad items named); `workstation report`
writes the study's TID 1500 report from the saved presentation states."""

from __future__ import annotations

import json
import math

import pydicom
import pytest

from tests.dicom.test_key_objects import other_systems_kos
from tests.peers import make_ct_series
from workstation.archive import Archive
from workstation.cli import main
from workstation.config import Settings
from workstation.dicom.ps_catalog import archive_catalog
from workstation.dicom.ps_writer import DisplayState, Mark, encode
from workstation.dicom.key_objects import study_key_images
from workstation.dicom.reports import report_values
from workstation.reading.results import (
    ResultsError,
    migrate_measurements,
    save_key_images,
    save_presentation_state,
    study_marks,
)


@pytest.fixture
def archive(tmp_path):
    a = Archive.open(Settings(data_dir=tmp_path / "ws"))
    yield a
    a.close()


@pytest.fixture
def study(archive, tmp_path):
    paths = make_ct_series(tmp_path / "ct", 3)
    archive.import_paths(paths)
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    return str(headers[0].StudyInstanceUID), [str(h.SOPInstanceUID) for h in headers]


def test_saved_presentation_state_is_an_indexed_pr_instance_the_catalog_lists(archive, study):
    study_uid, uids = study
    marks = [Mark("distance", [(1.5, 2.5), (30.25, 40.75)], uids[0], 0, "25.0 mm"),
             Mark("distance", [(1, 1)], uids[0])]
    saved = save_presentation_state(archive, marks, DisplayState(window=(40, 400)), images=uids, creator="Doe^Jane")
    assert [w.code for w in saved.warnings] == ["mark.points"] and saved.marks == marks[:1]
    rows = archive.query("instance", {"StudyInstanceUID": study_uid, "Modality": "PR"})
    assert [r["SOPInstanceUID"] for r in rows] == [saved.sop_instance_uid]
    entries = archive_catalog(archive, study_uid, uids)
    assert [e.sop_instance_uid for e in entries] == [saved.sop_instance_uid]
    assert entries[0].creator == "Doe^Jane" and entries[0].in_series == 3 and entries[0].outside == 0
    back, _ = study_marks(archive, study_uid)
    assert [(m.kind, m.points, m.text) for m in back] == [("distance", [(1.5, 2.5), (30.25, 40.75)], "25.0 mm")]


def test_saving_again_supersedes_and_the_report_uses_the_newest(archive, study):
    study_uid, uids = study
    save_presentation_state(archive, [Mark("distance", [(1, 1), (4, 5)], uids[0])])
    save_presentation_state(archive, [Mark("distance", [(1, 1), (7, 9)], uids[0])])
    marks, _ = study_marks(archive, study_uid)
    assert [m.points for m in marks] == [[(1.0, 1.0), (7.0, 9.0)]]


def test_unknown_images_are_a_one_line_error(archive):
    with pytest.raises(ResultsError, match="is in the archive"):
        save_presentation_state(archive, [Mark("point", [(1, 1)], "1.2.3")])


def test_key_images_of_a_study_from_ours_and_another_systems_kos(archive, study, tmp_path, capsys):
    study_uid, uids = study
    save_key_images(archive, uids[:2], note="compare with prior")
    other = other_systems_kos(pydicom.dcmread(archive.query("instance", {"SOPInstanceUID": uids[2]})[0]["path"]))
    other.PatientID, other.PatientName = "PAT001", "Test^Patient"
    from pydicom.dataset import FileMetaDataset

    other.file_meta = FileMetaDataset()
    other.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    archive.store_bytes(encode(other))
    keys = study_key_images(archive, study_uid)
    assert {(k.sop_instance_uid, k.title, k.note, k.frames) for k in keys} == {
        (uids[0], "Of Interest", "compare with prior", ()), (uids[1], "Of Interest", "compare with prior", ()),
        (uids[2], "For Teaching", "", (2, 3))}
    assert len(archive.query("instance", {"StudyInstanceUID": study_uid, "Modality": "KO"})) == 2
    data_dir = str(archive.settings.data_dir)
    archive.close()
    assert main(["--data-dir", data_dir, "key-images", study_uid]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and any(uids[2] in line and "frames 2,3  For Teaching" in line for line in lines)


def test_measurements_json_is_migrated_and_kept(archive, study, tmp_path):
    study_uid, uids = study
    items = [
        {"key": [uids[0], 0], "kind": "distance", "points": [[10, 20], [40, 60]]},
        {"key": [uids[1], 0], "kind": "rectangle", "points": [[30, 20], [10, 5]]},
        {"key": [uids[1], 0], "kind": "text", "points": [[5, 5]], "text": "cyst?"},
        {"key": [uids[0], 0], "kind": "angle", "points": [[1, 1], [2, 2]]},  # too few points
        {"key": [uids[0], 0], "kind": "point", "points": [[math.nan, 1]]},  # NaN (json.dumps writes NaN)
        {"key": ["1.2.3.4", 0], "kind": "point", "points": [[1, 1]]},  # image not here
        {"key": [uids[0], 0], "kind": "point"},  # no points at all
    ]
    path = tmp_path / "measurements.json"
    path.write_text(json.dumps({"version": 1, "measurements": items}))
    result = migrate_measurements(path, archive, creator="Doe^Jane")
    assert path.exists()
    assert sorted(m.kind for m in result.migrated) == ["distance", "rectangle", "text"]
    assert sorted(w.code for w in result.skipped) == ["json.item", "mark.image", "mark.nan", "mark.points"]
    assert len(result.saved) == 1  # one series
    distance = next(m for m in result.migrated if m.kind == "distance")
    assert distance.text == "25.0 mm"  # 30 x 40 px at 0.5 mm: the value written as text
    rectangle = next(m for m in result.migrated if m.kind == "rectangle")
    assert "mean" in rectangle.text and "HU" in rectangle.text and "area 75.0 mm²" in rectangle.text
    back, _ = study_marks(archive, study_uid)
    assert sorted((m.kind, m.sop_instance_uid) for m in back) == sorted(
        (m.kind, m.sop_instance_uid) for m in result.migrated)
    # Once: the same content again does nothing; changed content is migrated again.
    again = migrate_measurements(path, archive)
    assert again.already and again.saved == [] and path.exists()
    items.append({"key": [uids[2], 0], "kind": "point", "points": [[4, 4]]})
    path.write_text(json.dumps({"version": 1, "measurements": items}))
    third = migrate_measurements(path, archive)
    assert not third.already and len(third.saved) == 1
    assert len(archive.query("instance", {"StudyInstanceUID": study_uid, "Modality": "PR"})) == 2


def test_report_command_writes_and_stores_the_study_report(archive, study, tmp_path, capsys):
    study_uid, uids = study
    save_presentation_state(archive, [Mark("distance", [(10, 20), (40, 60)], uids[0], 0, "25.0 mm"),
                                      Mark("ellipse", [(10, 10), (30, 20)], uids[1]),
                                      Mark("arrow", [(1, 1), (5, 5)], uids[1])])
    data_dir = str(archive.settings.data_dir)
    archive.close()
    out = tmp_path / "report.dcm"
    assert main(["--data-dir", data_dir, "report", study_uid, "-o", str(out), "--store"]) == 0
    captured = capsys.readouterr()
    assert "Length" in captured.out and "25.00 mm" in captured.out and "stored: SR" in captured.out
    assert "left out" in captured.err and "arrow" in captured.err
    values = {v["name"]: v["value"] for v in report_values(str(out))}
    assert values["Length"] == pytest.approx(25.0) and values["Area"] == pytest.approx(math.pi * 10 * 5 * 0.25)
    again = Archive.open(Settings(data_dir=archive.settings.data_dir))
    try:
        assert len(again.query("instance", {"StudyInstanceUID": study_uid, "Modality": "SR"})) == 1
    finally:
        again.close()


def test_report_of_a_study_without_measurements_is_one_line(archive, study, capsys):
    study_uid, _ = study
    data_dir = str(archive.settings.data_dir)
    archive.close()
    assert main(["--data-dir", data_dir, "report", study_uid]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no measurements" in err[0]
    assert main(["--data-dir", data_dir, "report", "1.2.3.999"]) == 1
    assert "not in the archive" in capsys.readouterr().err


def test_report_from_a_measurements_json(archive, study, tmp_path, capsys):
    study_uid, uids = study
    path = tmp_path / "measurements.json"
    path.write_text(json.dumps({"version": 1, "measurements": [
        {"key": [uids[0], 0], "kind": "distance", "points": [[10, 20], [40, 60]]},
        {"key": ["1.2.3.4.5", 0], "kind": "distance", "points": [[1, 1], [2, 2]]},  # another study's image
        {"key": [uids[1], 0], "kind": "polygon", "points": [[10, 10], [30, 10], [30, 30], [10, 30]]}]}))
    data_dir = str(archive.settings.data_dir)
    archive.close()
    out = tmp_path / "r.dcm"
    assert main(["--data-dir", data_dir, "report", study_uid, "--measurements", str(path), "-o", str(out)]) == 0
    values = {v["name"]: v["value"] for v in report_values(str(out))}
    assert values["Length"] == pytest.approx(25.0) and values["Area"] == pytest.approx(20 * 20 * 0.25)
    assert "stored" not in capsys.readouterr().out
