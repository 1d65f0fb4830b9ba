"""Calibration of measurements: ultrasound regions, detector vs patient spacing, manual calibration.

Each file holds a bar of known physical size; the bar's ends are found in the pixels and measured with the
calibration the file gives: a 10 mm object must read 10 mm (and say on which plane).
"""

from __future__ import annotations

import pydicom
import pytest

from tests.imaging.calib_data import bar_ends, write_projection, write_unspaced, write_us
from workstation.imaging import calibration as cal


def _open(path):
    ds = pydicom.dcmread(path)
    return ds, ds.pixel_array


def test_us_region_calibration_reads_the_cyst_in_mm(tmp_path):
    # Defect 5: the 10 mm bar read "39.8 px (no spacing)" - the regions' PhysicalDeltaX/Y were ignored.
    ds, arr = _open(write_us(tmp_path / "us.dcm"))
    c = cal.image_calibration(ds)
    p0, p1 = bar_ends(arr, 150)
    s = c.scale([p0, p1])
    assert s.source == cal.US_REGION and s.region.index == 1
    assert s.length(p0, p1) == pytest.approx(10.0, abs=1e-9)
    assert s.describe() == "US region 1"
    # An ROI of 100 x 50 pixels inside the B-mode region: 10 mm x 5 mm.
    assert c.scale([(100, 50), (200, 100)]).area(100 * 50) == pytest.approx(50.0)


def test_us_doppler_region_gives_time_and_velocity_not_mm(tmp_path):
    ds, _ = _open(write_us(tmp_path / "us.dcm"))
    c = cal.image_calibration(ds)
    p0, p1 = (100.0, 300.0), (150.0, 320.0)  # in the spectral strip (rows 260-389)
    s = c.scale([p0, p1])
    assert s.source == cal.US_REGION and s.region.index == 2 and s.spacing is None
    assert s.length(p0, p1) is None
    (dt, ut), (dv, uv) = s.components(p0, p1)
    assert (round(dt, 6), ut) == (0.5, "s") and (round(dv, 6), uv) == (10.0, "cm/s")
    # The baseline is row 260 + 80; a point 40 rows above it reads +20 cm/s (PhysicalDeltaY is negative).
    assert s.region.value_at(50, 300)[1] == pytest.approx(20.0)


def test_us_measurement_across_regions_or_outside_says_so(tmp_path):
    ds, _ = _open(write_us(tmp_path / "us.dcm"))
    c = cal.image_calibration(ds)
    across = c.scale([(100, 100), (100, 300)])
    assert across.source == cal.NONE and across.reason == cal.CROSSES_REGIONS and across.length((0, 0), (1, 1)) is None
    outside = c.scale([(10, 5), (20, 8)])
    assert outside.source == cal.NONE and outside.reason == cal.OUTSIDE_REGIONS
    assert "outside" in outside.describe()


def test_imager_pixel_spacing_alone_is_at_the_detector(tmp_path):
    ds, arr = _open(write_projection(tmp_path / "cr.dcm", "CR", imager=(0.1, 0.1)))
    s = cal.image_calibration(ds).scale()
    p0, p1 = bar_ends(arr, 128)
    assert s.source == cal.DETECTOR and s.describe() == "at detector"
    assert s.length(p0, p1) == pytest.approx(10.0)


def test_magnification_factor_corrects_imager_spacing(tmp_path):
    # 10 mm in the patient, magnified 1.25x onto a 0.125 mm detector: 100 pixels. ERMF brings it back to 10 mm.
    ds, arr = _open(write_projection(tmp_path / "dx.dcm", "DX", imager=(0.125, 0.125), ermf=1.25))
    s = cal.image_calibration(ds).scale()
    p0, p1 = bar_ends(arr, 128)
    assert s.source == cal.MAGNIFICATION and s.factor == 1.25
    assert s.length(p0, p1) == pytest.approx(10.0)
    assert "magnification corrected" in s.describe()


def test_pixel_spacing_equal_to_imager_spacing_is_not_a_calibration(tmp_path):
    ds, arr = _open(write_projection(tmp_path / "dx.dcm", "DX", imager=(0.1, 0.1), pixel=(0.1, 0.1)))
    s = cal.image_calibration(ds).scale()
    assert s.source == cal.DETECTOR and s.length(*bar_ends(arr, 128)) == pytest.approx(10.0)


def test_calibrated_pixel_spacing_is_used_with_its_type(tmp_path):
    ds, arr = _open(write_projection(tmp_path / "dx.dcm", "DX", imager=(0.125, 0.125), pixel=(0.1, 0.1),
                                     ermf=1.3, cal_type="FIDUCIAL"))
    s = cal.image_calibration(ds).scale()
    assert s.source == cal.CALIBRATED and s.calibration_type == "FIDUCIAL"
    assert s.length(*bar_ends(arr, 128)) == pytest.approx(10.0)
    assert s.describe() == "calibrated (FIDUCIAL)"


def test_cross_sectional_pixel_spacing_has_no_qualifier():
    ds = pydicom.Dataset()
    ds.Modality, ds.PixelSpacing = "CT", [0.5, 0.7]
    s = cal.image_calibration(ds).scale()
    assert s.source == cal.PATIENT and s.spacing == (0.5, 0.7) and s.describe() == ""
    assert s.length((0, 0), (10, 0)) == pytest.approx(7.0)


def test_manual_calibration_per_series(tmp_path):
    ds, arr = _open(write_unspaced(tmp_path / "sc.dcm", bar_px=80))
    base = cal.image_calibration(ds)
    assert base.scale().source == cal.NONE and base.scale().reason == cal.NO_SPACING
    p0, p1 = bar_ends(arr, 64)
    manual = cal.manual_calibration(p0, p1, 20.0, base.scale())
    session = cal.SessionCalibrations()
    session.set(ds.SeriesInstanceUID, manual)
    c = cal.image_calibration(ds, manual=session.get(ds.SeriesInstanceUID))
    s = c.scale([(0, 0), (40, 0)])
    assert s.source == cal.MANUAL and s.length((0, 0), (40, 0)) == pytest.approx(10.0)
    assert session.get("another series") is None
    with pytest.raises(ValueError):
        cal.manual_calibration(p0, p1, 0.0)
    with pytest.raises(ValueError):
        cal.manual_calibration(p0, p0, 10.0)


def test_manual_calibration_keeps_the_pixel_aspect():
    base = cal.Scale(cal.DETECTOR, spacing=(0.2, 0.1))  # pixels twice as tall as wide
    m = cal.manual_calibration((0, 0), (0, 50), 20.0, base)  # a vertical line of 50 rows = 20 mm
    s = m.scale()
    assert s.spacing == pytest.approx((0.4, 0.2))


def test_damaged_region_items_are_left_out():
    ds = pydicom.Dataset()
    good, bad = pydicom.Dataset(), pydicom.Dataset()
    for item, delta in ((good, 0.02), (bad, 0.0)):
        item.RegionLocationMinX0, item.RegionLocationMinY0 = 0, 0
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = 99, 99
        item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3
        item.PhysicalDeltaX = item.PhysicalDeltaY = delta
    ds.SequenceOfUltrasoundRegions = [bad, good]
    regions = cal.us_regions(ds)
    assert [r.index for r in regions] == [2] and regions[0].spatial


def test_enhanced_spacing_and_bad_values_as_calibration_and_geometry_read_them():
    # calibration and geometry share their attribute readers (geometry.attr_*, group_items); each keeps its rule.
    from pydicom.dataset import Dataset

    from workstation.imaging.geometry import frame_geometry

    def item(**kw):
        it = Dataset()
        for k, v in kw.items():
            setattr(it, k, v)
        return it

    ds = Dataset()
    ds.PixelSpacing = [0.9, 0.9]
    # Frame 0's own PixelMeasures item has a thickness but no spacing: the shared group's spacing applies.
    ds.PerFrameFunctionalGroupsSequence = [item(PixelMeasuresSequence=[item(SliceThickness=2.0)]),
                                           item(PixelMeasuresSequence=[item(PixelSpacing=[0.3, 0.4])])]
    ds.SharedFunctionalGroupsSequence = [item(PixelMeasuresSequence=[item(PixelSpacing=[0.5, 0.6])])]
    assert cal.base_scale(ds, 0).spacing == (0.5, 0.6)
    assert cal.base_scale(ds, 1).spacing == (0.3, 0.4)
    g = frame_geometry(ds, 1)
    assert g.pixel_spacing == (0.3, 0.4) and g.slice_thickness is None
    assert frame_geometry(ds, 0).slice_thickness == 2.0
    # A zero spacing is no calibration (lengths in pixels); geometry keeps it as the file says. Empty is no value.
    flat = Dataset()
    flat.PixelSpacing = [0.0, 0.5]
    flat.SliceThickness = ""
    flat.InstanceNumber = ""
    assert cal.base_scale(flat).source == cal.NONE
    g = frame_geometry(flat)
    assert g.pixel_spacing == (0.0, 0.5) and g.slice_thickness is None and g.instance_number is None
