"""GSPS parsing: every module read into plain values; damaged or unsupported parts named, never dropped silently."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.data import test_file
from tests.dicom import gsps
from workstation.dicom.presentation_state import NotAPresentationState, read_presentation_state


@pytest.fixture
def ct():
    return pydicom.dcmread(str(test_file("CT_small.dcm")), stop_before_pixels=True)


def codes(ps) -> list[str]:
    return [w.code for w in ps.warnings]


def test_references_descriptive_fields_and_lut_shape(ct, tmp_path):
    ds = gsps.make_gsps(ct, shape="INVERSE")
    ps = read_presentation_state(gsps.save(ds, tmp_path / "ps.dcm"))
    assert ps.sop_instance_uid == ds.SOPInstanceUID
    assert ps.content_label == "TEST" and ps.creator == "Tester^Unit" and ps.created == "20260101120000"
    assert ps.references(ct.SOPInstanceUID)
    assert not ps.references("1.2.3.4")
    assert [s.series_instance_uid for s in ps.series] == [ct.SeriesInstanceUID]
    assert ps.lut_shape == "INVERSE" and ps.presentation_lut is None
    area = ps.displayed_area_for(ct.SOPInstanceUID)
    assert (area.tlhc, area.brhc, area.size_mode) == ((1, 1), (128, 128), "SCALE TO FIT")
    assert ps.warnings == []


def test_frame_references(ct):
    ds = gsps.make_gsps(ct)
    ds.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedFrameNumber = [2, 3]
    ps = read_presentation_state(ds)
    assert ps.references(ct.SOPInstanceUID, 2) and ps.references(ct.SOPInstanceUID, 3)
    assert not ps.references(ct.SOPInstanceUID, 1)


def test_modality_override_window_per_image_rotation_flip(ct):
    ds = gsps.make_gsps(ct)
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 2, -100, "HU"
    other = Dataset()
    other.ReferencedSOPClassUID, other.ReferencedSOPInstanceUID = ct.SOPClassUID, "1.2.3.999"
    gsps.set_window(ds, 40, 400, refs=[other])
    second = Dataset()
    second.WindowCenter, second.WindowWidth = 100, 50
    second.VOILUTFunction = "SIGMOID"
    ds.SoftcopyVOILUTSequence.append(second)
    ds.ImageRotation = 270
    ds.ImageHorizontalFlip = "Y"
    ps = read_presentation_state(ds)
    assert (ps.modality_lut.slope, ps.modality_lut.intercept, ps.modality_lut.rescale_type) == (2.0, -100.0, "HU")
    # The first VOI item names another image; ours takes the second (no references: every image).
    assert (ps.voi_for("1.2.3.999").center, ps.voi_for("1.2.3.999").width) == (40.0, 400.0)
    mine = ps.voi_for(ct.SOPInstanceUID)
    assert (mine.center, mine.width, mine.function) == (100.0, 50.0, "SIGMOID")
    assert ps.rotation == 270 and ps.horizontal_flip


def test_voi_lut_and_presentation_lut(ct):
    ds = gsps.make_gsps(ct)
    gsps.set_voi_lut(ds, -1024, np.arange(0, 4096, 4), 12)
    plut = Dataset()
    plut.LUTDescriptor = [256, 0, 12]
    plut.LUTData = list(range(0, 4096, 16))
    plut["LUTData"].VR = "US"
    ds.PresentationLUTSequence = Sequence([plut])
    del ds.PresentationLUTShape
    ps = read_presentation_state(ds)
    lut = ps.voi_for(ct.SOPInstanceUID).lut
    assert (lut.first_mapped, lut.bits, len(lut.table), lut.table[5]) == (-1024, 12, 1024, 20.0)
    assert ps.presentation_lut.bits == 12 and len(ps.presentation_lut.table) == 256
    assert ps.lut_shape is None and ps.warnings == []


def test_shutters_all_kinds(ct):
    ds = gsps.make_gsps(ct)
    ds.ShutterShape = "RECTANGULAR\\CIRCULAR\\POLYGONAL\\BITMAP"
    ds.ShutterLeftVerticalEdge, ds.ShutterRightVerticalEdge = 10, 100
    ds.ShutterUpperHorizontalEdge, ds.ShutterLowerHorizontalEdge = 20, 90
    ds.CenterOfCircularShutter = [64, 60]
    ds.RadiusOfCircularShutter = 40
    ds.VerticesOfThePolygonalShutter = [5, 5, 5, 120, 120, 60]
    ds.ShutterPresentationValue = 0xFFFF
    bits = np.zeros((8, 8), np.uint8)
    bits[2:4, 3:6] = 1
    ds.ShutterOverlayGroup = 0x6000
    ds.add_new(0x60000010, "US", 8)
    ds.add_new(0x60000011, "US", 8)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [3, 4])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", np.packbits(bits.ravel(), bitorder="little").tobytes())
    ps = read_presentation_state(ds)
    sh = ps.shutters
    assert sh.rectangle == (10, 100, 20, 90) and sh.circle == (64, 60, 40)
    assert sh.polygon == ((5, 5), (5, 120), (120, 60)) and sh.presentation_value == 0xFFFF
    row0, col0, mask = sh.bitmap
    assert (row0, col0) == (3, 4) and np.array_equal(mask, bits.astype(bool))
    assert ps.warnings == []


def test_layers_and_annotations_in_layer_order(ct):
    ds = gsps.make_gsps(ct)
    gsps.add_annotation(ds, "B", graphics=[("POLYLINE", [1, 1, 10, 10, 20, 5])])
    gsps.add_annotation(ds, "A", graphics=[("CIRCLE", [50, 50, 60, 50]), ("ELLIPSE", [0, 5, 10, 5, 5, 3, 5, 7]),
                                           ("POINT", [3.5, 4.5]), ("INTERPOLATED", [1, 2, 3, 4, 5, 1])],
                        texts=[("12.3 mm", (40.5, 41.5))])
    ds.GraphicLayerSequence[0].GraphicLayerOrder = 5  # B drawn above A
    ds.GraphicAnnotationSequence[1].TextObjectSequence[0].BoundingBoxTopLeftHandCorner = [30.0, 30.0]
    ds.GraphicAnnotationSequence[1].TextObjectSequence[0].BoundingBoxBottomRightHandCorner = [60.0, 36.0]
    ds.GraphicAnnotationSequence[1].TextObjectSequence[0].BoundingBoxAnnotationUnits = "PIXEL"
    ps = read_presentation_state(ds)
    anns = ps.annotations_for(ct.SOPInstanceUID)
    assert [a.layer for a in anns] == ["A", "B"]
    types = [g.type for g in anns[0].graphics]
    assert types == ["CIRCLE", "ELLIPSE", "POINT", "INTERPOLATED"]
    assert np.allclose(anns[0].graphics[2].points, [[3.5, 4.5]])
    assert np.allclose(anns[1].graphics[0].points, [[1, 1], [10, 10], [20, 5]])
    text = anns[0].texts[0]
    assert (text.text, text.anchor, text.anchor_visible, text.tlhc, text.brhc) == (
        "12.3 mm", (40.5, 41.5), True, (30.0, 30.0), (60.0, 36.0))
    assert ps.warnings == []


def test_bad_graphics_are_named_and_the_rest_kept(ct):
    ds = gsps.make_gsps(ct)
    gsps.add_annotation(ds, "L", graphics=[("POLYLINE", [1, 1, 10, 10, 20]),  # odd number of coordinates
                                           ("SPLINE", [1, 1, 2, 2]),  # unknown type
                                           ("CIRCLE", [5, 5]),  # too few points
                                           ("POLYLINE", [0, 0, 5, 5])])
    ds.GraphicAnnotationSequence[0].GraphicObjectSequence[3].GraphicAnnotationUnits = "DISPLAY"
    ps = read_presentation_state(ds)
    assert codes(ps) == ["graphic.odd-coordinates", "graphic.type", "graphic.points", "graphic.display-units"]
    assert "odd number of coordinates (5)" in ps.warnings[0].message and "SPLINE" in ps.warnings[1].message
    (ann,) = ps.annotations
    assert [(g.type, g.units) for g in ann.graphics] == [("POLYLINE", "DISPLAY")]


def test_voi_lut_of_the_wrong_length_is_named(ct):
    ds = gsps.make_gsps(ct)
    gsps.set_voi_lut(ds, 0, np.arange(100), 8, n=256)
    ps = read_presentation_state(ds)
    assert ps.voi == [] and codes(ps) == ["voi-lut.length"]
    assert "100 entries" in ps.warnings[0].message and "256" in ps.warnings[0].message


def test_unsupported_parts_are_named(ct):
    ds = gsps.make_gsps(ct)
    ds.ImageRotation = 45
    ds.ShutterShape = "RECTANGULAR\\HEXAGONAL"
    ds.ShutterLeftVerticalEdge = 1
    ds.add_new(0x60021001, "CS", "OVERLAYS")
    ds.GraphicGroupSequence = Sequence([Dataset()])
    ps = read_presentation_state(ds)
    assert codes(ps) == ["spatial.rotation", "shutter.rectangular", "shutter.shape", "overlay.activation",
                         "graphic-group"]
    assert ps.rotation == 0 and ps.activated_overlays == [0x6002]


def test_a_damaged_module_does_not_hide_the_others(ct):
    ds = gsps.make_gsps(ct)
    ds.DisplayedAreaSelectionSequence[0].DisplayedAreaTopLeftHandCorner = [1]
    gsps.set_window(ds, 40, 400)
    ps = read_presentation_state(ds)
    assert codes(ps) == ["displayed-area.corners"]
    assert ps.voi_for(ct.SOPInstanceUID).center == 40.0


def test_not_a_presentation_state(tmp_path):
    with pytest.raises(NotAPresentationState, match="not a presentation state"):
        read_presentation_state(test_file("CT_small.dcm"))
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"hello")
    with pytest.raises(NotAPresentationState, match="junk.dcm"):
        read_presentation_state(junk)


def test_reads_a_dcmpsmk_presentation_state(tmp_path):
    import shutil
    import subprocess

    exe = shutil.which("dcmpsmk")
    if exe is None:
        pytest.skip("SKIPPED: dcmtk's dcmpsmk is not installed")
    src = test_file("CT_small.dcm")
    out = tmp_path / "ps.dcm"
    subprocess.run([exe, str(src), str(out)], check=True, capture_output=True)
    ps = read_presentation_state(out)
    ct = pydicom.dcmread(str(src), stop_before_pixels=True)
    assert ps.references(ct.SOPInstanceUID) and ps.lut_shape == "IDENTITY"
    assert ps.modality_lut.intercept == float(ct.RescaleIntercept)
    assert ps.displayed_area_for(ct.SOPInstanceUID).brhc == (ct.Columns, ct.Rows)
    assert ps.warnings == []


def test_reads_a_highdicom_presentation_state():
    pytest.importorskip("highdicom")
    ct = pydicom.dcmread(str(test_file("CT_small.dcm")))
    ps = read_presentation_state(gsps.highdicom_gsps(ct, window=(40, 400), shape="INVERSE"))
    assert ps.references(ct.SOPInstanceUID) and ps.content_label == "HIGHDICOM" and ps.lut_shape == "INVERSE"
    assert (ps.voi_for(ct.SOPInstanceUID).center, ps.voi_for(ct.SOPInstanceUID).width) == (40.0, 400.0)
    (ann,) = ps.annotations_for(ct.SOPInstanceUID)
    assert ann.layer == "MEASUREMENTS" and [layer.name for layer in ps.layers] == ["MEASUREMENTS"]
    assert [g.type for g in ann.graphics] == ["POLYLINE", "CIRCLE", "ELLIPSE", "POINT"]
    # Coordinates as written (within 1e-3 pixel: highdicom stores FL).
    assert np.allclose(ann.graphics[0].points, [[10.5, 20.5], [60.25, 70.75], [90.0, 30.0]], atol=1e-3)
    (text,) = ann.texts
    assert text.text == "12.3 mm" and text.tlhc == (30.0, 30.0) and text.brhc == (60.0, 36.0)
    assert ps.warnings == []
