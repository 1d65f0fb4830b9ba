"""Presentation pipeline: windows, VOI functions, LUTs, inversion, padding, and the mapping the viewer uses."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.data import test_file as datafile
from workstation.imaging import CT_PRESETS, Presentation, VOIFunction, VOILUT, Window, render, write_png
from workstation.imaging.decode import decode_frame, read_header
from workstation.imaging.png import read_png
from workstation.imaging.presentation import resize


def pyqtgraph_like(arr: np.ndarray, levels, lut) -> np.ndarray:
    """What ImageItem does with levels + lut (the formula documented in DisplayMapping)."""
    lo, hi = levels
    x = arr.astype(np.float64)
    if lut is None:
        return np.clip((x - lo) * 255.0 / (hi - lo), 0, 255).astype(np.uint8)
    idx = np.clip(((x - lo) * len(lut) / (hi - lo)).astype(np.int64), 0, len(lut) - 1)
    return lut[idx]


def _load(name, index=0):
    h = read_header(datafile(name))
    return Presentation.from_dataset(h, index), decode_frame(datafile(name), index, header=h)


CASES = [
    ("CT_small.dcm", Window(40, 400)),
    ("CT_small.dcm", Window(40, 400, VOIFunction.LINEAR_EXACT)),
    ("CT_small.dcm", Window(40, 400, VOIFunction.SIGMOID)),
    ("CT_small.dcm", "minmax"),
    ("RG1_UNCR.dcm", None),  # MONOCHROME1: inverted through a LUT
    ("mlut_18.dcm", Window(30000, 20000)),  # Modality LUT Sequence: per-value LUT
    ("vlut_04.dcm", None),  # VOI LUT Sequence
    ("MR_small.dcm", None),
]


@pytest.mark.parametrize("name,window", CASES)
@pytest.mark.parametrize("invert", [False, True])
def test_display_mapping_shows_what_render_computes(name, window, invert):
    pres, frame = _load(name)
    mapping = pres.display_mapping(window, invert=invert, frame=frame)
    assert mapping.lut is None or (mapping.lut.dtype == np.uint8 and mapping.lut.ndim in (1, 2))
    assert isinstance(mapping.levels[0], float) and mapping.levels[1] > mapping.levels[0]
    shown = pyqtgraph_like(frame, mapping.levels, mapping.lut)
    expected = render(pres, frame, window, invert=invert)
    assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1
    assert expected.std() > 0


def test_levels_are_float_and_do_not_wrap_with_uint16():
    # numpy 2: uint16 - 5000 wraps silently. Stored 0..100 with intercept -5000: window at -4950 HU.
    ds = _mono_ds(np.arange(101, dtype=np.uint16).reshape(1, 101), signed=False)
    ds.RescaleIntercept, ds.RescaleSlope, ds.Modality = "-5000", "1", "CT"
    pres = Presentation.from_dataset(ds)
    frame = np.arange(101, dtype=np.uint16).reshape(1, 101)
    m = pres.display_mapping(Window(-4950, 51, VOIFunction.LINEAR_EXACT))
    assert m.levels == pytest.approx((24.5, 75.5))
    out = render(pres, frame, Window(-4950, 51, VOIFunction.LINEAR_EXACT))
    assert out[0, 0] == 0 and out[0, 100] == 255 and out[0, 50] in (127, 128)
    assert pres.probe(np.uint16(3)) == (-4997.0, "HU")


def test_linear_window_follows_dicom_formula():
    w = Window(100, 51)  # LINEAR: edges at c - 0.5 -+ (w - 1)/2 = 74.5 and 124.5
    assert w.bounds() == (74.5, 124.5)
    y = w.apply(np.array([74.5, 99.5, 124.5, 200]))
    assert y.tolist() == [0.0, 0.5, 1.0, 1.0]
    assert Window(100, 50, VOIFunction.LINEAR_EXACT).apply(np.array([75, 100, 125])).tolist() == [0, 0.5, 1]
    s = Window(0, 100, VOIFunction.SIGMOID).apply(np.array([-1000, 0, 1000]))
    assert s[0] < 1e-6 and s[1] == 0.5 and s[2] > 1 - 1e-6


def _mono_ds(pixels, signed=True, photometric="MONOCHROME2"):
    ds = Dataset()
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 1 if signed else 0
    return ds


def test_presets_list_every_file_window_with_explanation_then_ct_presets():
    ds = _mono_ds(np.zeros((2, 2), np.int16))
    ds.Modality = "CT"
    ds.WindowCenter = ["40", "-600", "300"]
    ds.WindowWidth = ["400", "1500", "1500"]
    ds.WindowCenterWidthExplanation = ["SOFT", "LUNG", "BONE"]
    ds.VOILUTFunction = "LINEAR_EXACT"
    pres = Presentation.from_dataset(ds)
    names = [p.name for p in pres.presets]
    assert names[:3] == ["SOFT", "LUNG", "BONE"]
    assert [p.window.center for p in pres.presets[:3]] == [40, -600, 300]
    assert all(p.window.function is VOIFunction.LINEAR_EXACT for p in pres.presets[:3])
    assert pres.presets[3:] == list(CT_PRESETS)
    assert {"Soft tissue", "Lung", "Bone", "Brain", "Liver", "Mediastinum"} <= set(names)
    assert pres.default_window() == pres.presets[0].window
    ds.Modality = "MR"
    assert len(Presentation.from_dataset(ds).presets) == 3


def test_inversion_sources():
    assert Presentation.from_dataset(_mono_ds(np.zeros((1, 1)), photometric="MONOCHROME1")).inverse
    ds = _mono_ds(np.zeros((1, 1)))
    assert not Presentation.from_dataset(ds).inverse
    ds.PresentationLUTShape = "INVERSE"
    assert Presentation.from_dataset(ds).inverse
    ds.PhotometricInterpretation = "MONOCHROME1"  # DX: MONOCHROME1 + INVERSE name one inversion, not two
    assert Presentation.from_dataset(ds).inverse
    pres, frame = _load("RG1_UNCR.dcm")
    a = render(pres, frame, Window(15000, 30000))
    b = render(pres, frame, Window(15000, 30000), invert=True)
    assert np.abs(a.astype(int) + b.astype(int) - 255).max() <= 1


def test_pixel_padding_left_out_of_min_max():
    pixels = np.array([[-2000, 0, 100], [50, -2000, 10]], dtype=np.int16)
    ds = _mono_ds(pixels)
    ds.PixelPaddingValue = -2000
    pres = Presentation.from_dataset(ds)
    w = pres.auto_window(pixels)
    assert w.bounds() == (0, 100)
    ds.PixelPaddingRangeLimit = -1500
    pixels[0, 0] = -1600
    assert Presentation.from_dataset(ds).auto_window(pixels).bounds() == (0, 100)


def test_probe_ct_hounsfield():
    pres, frame = _load("CT_small.dcm")
    stored = frame[64, 64]
    value, unit = pres.probe(stored)
    assert unit == "HU" and value == float(stored) * 1.0 - 1024.0
    mr, _ = _load("MR_small.dcm")
    assert mr.probe(10) == (10.0, "")


def test_voi_lut_and_modality_lut_sequences():
    pres, frame = _load("vlut_04.dcm")
    assert isinstance(pres.default_window(), VOILUT)
    pres, frame = _load("mlut_18.dcm")
    assert not pres.modality_lut.is_linear
    assert pres.to_modality(frame).max() > frame.max()  # the table maps stored values elsewhere


def test_full_range_default_when_no_window():
    pres, frame = _load("MR_small_RLE.dcm")
    assert pres.file_windows
    ds = _mono_ds(np.zeros((1, 1)), signed=False)
    pres = Presentation.from_dataset(ds)
    assert pres.default_window().bounds() == (0, 4095)


def test_color_passthrough_and_resize():
    pres, frame = _load("SC_rgb.dcm")
    assert pres.is_color and pres.display_mapping().levels == (0.0, 255.0)
    np.testing.assert_array_equal(render(pres, frame), frame)
    small = render(pres, frame, size=(50, 25))
    assert small.shape == (25, 50, 3)
    big = resize(np.array([[0, 255]], np.uint8), (4, 2))
    assert big.tolist() == [[0, 0, 255, 255], [0, 0, 255, 255]]
    assert resize(np.array([[0, 255, 100, 100]], np.uint8), (2, 1)).tolist() == [[128, 100]]


def test_png_roundtrip(tmp_path):
    gray = (np.arange(60, dtype=np.uint8).reshape(6, 10) * 4)
    rgb = np.dstack([gray, 255 - gray, gray // 2])
    for img in (gray, rgb):
        write_png(tmp_path / "x.png", img)
        np.testing.assert_array_equal(read_png(tmp_path / "x.png"), img)
    with pytest.raises(ValueError):
        write_png(tmp_path / "y.png", gray.astype(np.uint16))
