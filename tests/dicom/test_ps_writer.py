"""Presentation states written by workstation.dicom.ps_writer: every kind comes back from the existing reader
(presentation_state.py) with the same points within 1e-3 px, the display state is in force, bad marks are left out
with a named warning, and dcmtk's dcmpschk and dicom3tools' dciodvfy find no error in the file."""

from __future__ import annotations

import math

import numpy as np
import pydicom
import pytest

from tests.peers import make_ct_series, run_tool
from workstation.dicom.presentation_state import read_presentation_state
from workstation.dicom.ps_writer import DisplayState, Mark, build_presentation_state, encode, marks_from_state


@pytest.fixture
def images(tmp_path):
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in make_ct_series(tmp_path / "ct", 2)]


def every_kind(u: str, v: str) -> list[Mark]:
    return [
        Mark("distance", [(10.25, 20.5), (30.125, 40.75)], u, 0, "14.2 mm"),
        Mark("angle", [(1.5, 2.25), (3.0, 4.0), (5.75, 1.0)], u, 0, "45.0°"),
        Mark("cobb", [(1, 2), (3, 4), (5, 1), (7, 8.5)], u, 0, "Cobb 10.0°"),
        Mark("rectangle", [(30.5, 20.25), (10.125, 5.0)], u, 0, "mean 1.0 HU  SD 2.0\narea 3.0 mm²"),
        Mark("ellipse", [(30.0, 20.0), (10.0, 5.0)], v, 0, "e"),  # wider than high
        Mark("ellipse", [(3.0, 2.0), (10.0, 50.0)], u, 0, ""),  # higher than wide: vertical axis is the major
        Mark("polygon", [(3, 2), (10, 50), (20, 3.3)], u, 0, "p"),
        Mark("freehand", [(3, 2), (10, 50), (20, 3.3), (1.0001, 1.0002)], u, 0, "f"),
        Mark("circle", [(30.5, 20.5), (35.0, 22.0)], u, 0, "c"),
        Mark("point", [(3.75, 2.5)], u, 0, "-20 HU"),
        Mark("arrow", [(3, 2), (4, 5)], u, 0, ""),
        Mark("text", [(12.5, 8.25)], v, 0, "see prior"),
    ]


def assert_same(written: list[Mark], back: list[Mark]) -> None:
    assert len(back) == len(written)
    for a, b in zip(written, back):
        assert (a.kind, a.sop_instance_uid, a.frame, a.text) == (b.kind, b.sop_instance_uid, b.frame, b.text)
        assert np.allclose(np.asarray(a.points, float), np.asarray(b.points, float), atol=1e-3, rtol=0), (a, b)


def test_every_kind_comes_back_from_the_reader_within_a_thousandth_of_a_pixel(images, tmp_path):
    u, v = str(images[0].SOPInstanceUID), str(images[1].SOPInstanceUID)
    marks = every_kind(u, v)
    written = build_presentation_state(images, marks, creator="Doe^Jane", label="my reading")
    assert not written.warnings and written.marks == marks
    path = tmp_path / "ps.dcm"
    path.write_bytes(written.encode())
    ps = read_presentation_state(path)
    assert not ps.warnings, ps.warnings
    back, warnings = marks_from_state(ps)
    assert not warnings
    assert_same(marks, back)
    # What another viewer sees: graphics of the standard types in PIXEL units, on the image they were drawn on.
    types = {a.layer: [g.type for g in a.graphics] for a in ps.annotations}
    assert types["DISTANCE"] == ["POLYLINE"] and types["ELLIPSE"] == ["ELLIPSE"] and types["CIRCLE"] == ["CIRCLE"]
    assert types["POINT"] == ["POINT"] and types["COBB"] == ["POLYLINE", "POLYLINE"] and types["TEXT"] == []
    assert all(g.units == "PIXEL" for a in ps.annotations for g in a.graphics)
    rect = next(a for a in ps.annotations if a.layer == "RECTANGLE")
    assert rect.texts[0].text.startswith("mean 1.0 HU") and rect.texts[0].anchor_units == "PIXEL"
    assert [a.refs[0].sop_instance_uid for a in ps.annotations if a.layer == "TEXT"] == [v]
    # Identity: a new PR series of the image's study, label and creator named.
    ds = pydicom.dcmread(path)
    assert ds.Modality == "PR" and ds.StudyInstanceUID == images[0].StudyInstanceUID
    assert ds.SeriesInstanceUID != images[0].SeriesInstanceUID
    assert (ps.content_label, ps.creator) == ("MY READING", "Doe^Jane")


def test_display_state_window_rotation_flip_and_displayed_area_are_written(images, tmp_path):
    u = str(images[0].SOPInstanceUID)
    display = DisplayState(window=(-600.0, 1500.0), rotation=270, flip=True, area_tlhc=(5, 6), area_brhc=(50, 60))
    path = tmp_path / "ps.dcm"
    path.write_bytes(build_presentation_state(images, [Mark("point", [(1, 1)], u)], display).encode())
    ps = read_presentation_state(path)
    voi = ps.voi_for(u)
    assert (voi.center, voi.width) == (-600.0, 1500.0)
    assert (ps.rotation, ps.horizontal_flip) == (270, True)
    area = ps.displayed_area_for(u)
    assert (area.tlhc, area.brhc) == ((5, 6), (50, 60))
    plain = tmp_path / "plain.dcm"
    plain.write_bytes(build_presentation_state(images, [], None).encode())
    ps = read_presentation_state(plain)
    # No window given: the image's own window (highdicom copies it), no rotation, no flip, the whole image.
    assert [(x.center, x.width) for x in ps.voi] == [(float(images[0].WindowCenter), float(images[0].WindowWidth))]
    assert (ps.rotation, ps.horizontal_flip) == (0, False)
    assert ps.displayed_area_for(u).brhc == (64, 64)


def test_bad_marks_are_left_out_with_a_named_warning_and_the_rest_is_written(images, tmp_path):
    u = str(images[0].SOPInstanceUID)
    good = Mark("distance", [(1, 1), (5, 5)], u, 0, "5.7 mm")
    bad = [
        Mark("distance", [(1, 1)], u),  # too few points
        Mark("polygon", [(1, 1), (2, 2)], u),
        Mark("angle", [(1, 1), (math.nan, 2), (3, 3)], u),  # NaN
        Mark("distance", [(1, math.inf), (3, 3)], u),
        Mark("rectangle", [(1, 1), (1, 5)], u),  # no area
        Mark("spline", [(1, 1), (2, 2)], u),  # unknown kind
        Mark("point", [(1, 1)], "1.2.3.4"),  # image not referenced
        Mark("point", [(1, 1)], u, frame=3),  # single-frame image has no 4th frame
        Mark("distance", [(1, 1), (64.5, 3)], u),  # beyond the last column (64)
        Mark("circle", [(2, 2), (5, 2)], u),  # its circle reaches column -1
    ]
    written = build_presentation_state(images, [bad[0], good, *bad[1:]])
    codes = [w.code for w in written.warnings]
    assert codes == ["mark.points", "mark.points", "mark.nan", "mark.nan", "mark.empty", "mark.kind", "mark.image",
                     "mark.frame", "mark.outside", "mark.outside"]
    assert written.marks == [good]
    path = tmp_path / "ps.dcm"
    path.write_bytes(written.encode())
    back, _ = marks_from_state(read_presentation_state(path))
    assert_same([good], back)


def test_multiframe_marks_reference_their_frame(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    image = pydicom.dcmread(make_ct_series(tmp_path / "ct", 1)[0], stop_before_pixels=True)
    image.NumberOfFrames = 5
    image.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT: a multi-frame IOD
    shared, measures, voi = Dataset(), Dataset(), Dataset()
    measures.PixelSpacing, measures.SliceThickness = [0.5, 0.5], 1.0
    voi.WindowCenter, voi.WindowWidth = 40, 400
    shared.PixelMeasuresSequence, shared.FrameVOILUTSequence = [measures], [voi]
    image.SharedFunctionalGroupsSequence = [shared]
    image.PerFrameFunctionalGroupsSequence = [Dataset() for _ in range(5)]
    image.SOPInstanceUID = generate_uid()
    u = str(image.SOPInstanceUID)
    marks = [Mark("distance", [(1, 2), (3, 4)], u, 0, "a"), Mark("point", [(5, 6)], u, 3, "b")]
    path = tmp_path / "ps.dcm"
    path.write_bytes(build_presentation_state([image], marks).encode())
    ps = read_presentation_state(path)
    assert [len(ps.annotations_for(u, f)) for f in (1, 2, 4)] == [1, 0, 1]
    assert_same(marks, marks_from_state(ps)[0])


def test_other_systems_layers_are_not_taken_for_measurements(tmp_path):
    from tests.dicom.gsps import highdicom_gsps

    image = pydicom.dcmread(make_ct_series(tmp_path / "ct", 1, rows=128, columns=128)[0], stop_before_pixels=True)
    ps = read_presentation_state(highdicom_gsps(image))
    marks, warnings = marks_from_state(ps)
    assert marks == [] and [w.code for w in warnings] == ["mark.foreign"]


def _errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Error") or line.startswith("E:")]


def test_dcmpschk_and_dciodvfy_find_no_error(images, tmp_path):
    u, v = str(images[0].SOPInstanceUID), str(images[1].SOPInstanceUID)
    path = tmp_path / "ps.dcm"
    path.write_bytes(encode(build_presentation_state(
        images, every_kind(u, v), DisplayState((40, 400), 90, True, (2, 3), (60, 62)), creator="Doe^Jane").dataset))
    check = run_tool("dcmpschk", [path], check=False)
    assert check.returncode == 0 and "Test passed" in check.stdout + check.stderr, check.stdout + check.stderr
    assert not _errors(check.stdout + check.stderr)
    vfy = run_tool("dciodvfy", [path], check=False)
    assert vfy.returncode == 0 and not _errors(vfy.stdout + vfy.stderr), vfy.stdout + vfy.stderr


def colour_image() -> pydicom.Dataset:
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = generate_uid(), generate_uid(), "OT"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Colour^Case", "C1", "", ""
    ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName, ds.StudyID, ds.AccessionNumber = "20240101", "1200", "", "1", ""
    ds.Rows = ds.Columns = 32
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    return ds


def test_colour_images_get_a_colour_presentation_state(images, tmp_path):
    image = colour_image()
    u = str(image.SOPInstanceUID)
    marks = [Mark("distance", [(1.5, 1.25), (20.0, 30.5)], u, 0, "x"), Mark("text", [(3, 3)], u, 0, "t")]
    written = build_presentation_state([image], marks, DisplayState(window=(40, 400)))
    assert written.dataset.SOPClassUID == "1.2.840.10008.5.1.4.1.1.11.2"
    assert [w.code for w in written.warnings] == ["display.window"]  # a colour PS has no window: said, not dropped
    path = tmp_path / "cps.dcm"
    path.write_bytes(written.encode())
    assert_same(marks, marks_from_state(read_presentation_state(path))[0])
    check = run_tool("dcmpschk", [path], check=False)
    assert check.returncode == 0 and not _errors(check.stdout + check.stderr), check.stdout + check.stderr
    vfy = run_tool("dciodvfy", [path], check=False)
    assert vfy.returncode == 0 and not _errors(vfy.stdout + vfy.stderr), vfy.stdout + vfy.stderr
    with pytest.raises(ValueError, match="not both"):
        build_presentation_state([images[0], image], [])
