"""Our rendering against dcmtk's (an independent implementation) on the same file and window: within +-1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from tests.data import test_file as datafile
from workstation.imaging import Presentation, VOIFunction, Window, render
from workstation.imaging.decode import decode_frame, read_header

# (file, frame index) of grayscale images covering each uncompressed/RLE/deflate/JPEG syntax dcmj2pnm reads.
GRAY = [
    ("CT_small.dcm", 0),  # explicit LE, signed, rescale
    ("MR_small_implicit.dcm", 0),  # implicit LE
    ("MR_small_bigendian.dcm", 0),  # explicit BE
    ("MR_small_RLE.dcm", 0),  # RLE
    ("emri_small.dcm", 7),  # multi-frame
    ("emri_small_RLE.dcm", 3),
    ("emri_small_big_endian.dcm", 9),
    ("image_dfl.dcm", 0),  # deflate
    ("JPEG-LL.dcm", 0),  # JPEG lossless SV1, 16 bit
    ("JPGLosslessP14SV1_1s_1f_8b.dcm", 0),  # 8 bit
    ("RG1_UNCR.dcm", 0),  # MONOCHROME1, 15 bits stored
    ("RG3_UNCI.dcm", 0),
    ("MR2_UNCR.dcm", 0),
    ("693_UNCI.dcm", 0),
    ("mlut_18.dcm", 0),  # Modality LUT Sequence
    ("vlut_04.dcm", 0),  # VOI LUT Sequence
    ("rtdose.dcm", 4),  # 32 bit, multi-frame
    ("liver.dcm", 1),  # 1 bit
    ("MR_small_padded.dcm", 0),  # pixel padding
    ("MR-SIEMENS-DICOM-WithOverlays.dcm", 0),
]
LOSSY = [("JPGExtended.dcm", 0)]  # 12-bit lossy JPEG: IJG (dcmtk) and gdcm/libjpeg round differently by <= 2
JPEG_LS = ["MR_small_jpeg_ls_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm", "JPEGLSNearLossless_08.dcm",
           "JPEGLSNearLossless_16.dcm"]
COLOR = [
    "SC_rgb.dcm", "SC_rgb_expb.dcm", "SC_rgb_rle.dcm", "SC_rgb_16bit.dcm", "SC_rgb_2frame.dcm",
    "color-pl.dcm",  # planar configuration 1
    "color-px.dcm",  # planar configuration 0
    "SC_ybr_full_422_uncompressed.dcm",  # YBR_FULL_422 as stored
    "SC_rgb_dcmtk_+eb+cy+n1.dcm",  # JPEG baseline YBR_FULL
    "SC_rgb_dcmtk_+eb+cy+np.dcm",  # JPEG baseline YBR_FULL_422
    "examples_ybr_color.dcm",  # multi-frame YBR_FULL_422 JPEG (cine US)
    "SC_rgb_jpeg_gdcm.dcm",  # JPEG lossless RGB
    "SC_rgb_small_odd_jpeg.dcm",
    "OBXXXX1A.dcm",  # PALETTE COLOR 8-bit index, 16-bit entries
    "OBXXXX1A_expb.dcm",  # ... big endian LUT data (pydicom 3.0.2 reads it little endian)
    "OBXXXX1A_rle_2frame.dcm",
    "examples_palette.dcm",
    "OT-PAL-8-face.dcm",  # palette, no file meta
]


def _pres(path: Path, index: int):
    header = read_header(path)
    return Presentation.from_dataset(header, index), decode_frame(path, index, header=header)


def _assert_close(mine: np.ndarray, ref: np.ndarray, tol: int = 1) -> None:
    assert mine.shape == ref.shape
    diff = np.abs(mine.astype(int) - ref.astype(int))
    assert diff.max() <= tol, f"max difference {diff.max()} at {np.unravel_index(diff.argmax(), diff.shape)}"
    # The picture must not be trivially flat, or the comparison proves nothing.
    assert ref.max() != ref.min() or mine.max() == mine.min()


@pytest.mark.parametrize("name,index", GRAY + LOSSY)
def test_minmax_window_matches_dcmtk(name, index, dcmtk):
    path = datafile(name)
    pres, frame = _pres(path, index)
    if pres.padding is not None:
        pytest.skip("our min/max leaves pixel padding out, dcmtk's does not (tested separately)")
    ref = dcmtk(path, ["+F", str(index + 1), "+Wm"])
    _assert_close(render(pres, frame, "minmax"), ref, 2 if (name, index) in LOSSY else 1)


@pytest.mark.parametrize("name,index", GRAY)
def test_explicit_window_matches_dcmtk(name, index, dcmtk):
    path = datafile(name)
    pres, frame = _pres(path, index)
    lo, hi = pres.auto_window(frame).bounds()
    center, width = round((lo + hi) / 2 + (hi - lo) / 8, 1), round((hi - lo) / 2 + 2, 1)
    ref = dcmtk(path, ["+F", str(index + 1), "+Ww", str(center), str(width)])
    _assert_close(render(pres, frame, Window(center, width)), ref)


@pytest.mark.parametrize("name,index", [g for g in GRAY if g[0] not in ("liver.dcm",)])
def test_file_window_or_default_matches_dcmtk(name, index, dcmtk):
    """Default presentation: the file's first window (+Wi 1), its VOI LUT (+Wl 1) or the range of its values
    (+Wm, dcmtk's min-max; files with pixel padding are compared in their own test, since dcmtk counts it)."""
    path = datafile(name)
    pres, frame = _pres(path, index)
    if pres.file_windows:
        opts = ["+Wi", "1"]
    elif pres.voi_luts:
        opts = ["+Wl", "1"]
    else:
        if pres.padding is not None:
            pytest.skip("pixel padding: our min/max leaves it out, dcmtk's does not (tested separately)")
        opts = ["+Wm"]
    ref = dcmtk(path, ["+F", str(index + 1), *opts])
    _assert_close(render(pres, frame), ref)


def test_every_file_window_matches_dcmtk(dcmtk):
    path = datafile("MR2_UNCR.dcm")
    pres, frame = _pres(path, 0)
    assert pres.file_windows
    for n, win in enumerate(pres.file_windows, start=1):
        _assert_close(render(pres, frame, win), dcmtk(path, ["+Wi", str(n)]))


def test_sigmoid_matches_dcmtk(dcmtk):
    path = datafile("CT_small.dcm")
    pres, frame = _pres(path, 0)
    win = Window(40, 400, VOIFunction.SIGMOID)
    _assert_close(render(pres, frame, win), dcmtk(path, ["+Ww", "40", "400", "+Wfs"]))


def test_inverse_shape_matches_dcmtk(dcmtk):
    path = datafile("CT_small.dcm")
    pres, frame = _pres(path, 0)
    _assert_close(render(pres, frame, Window(40, 400), invert=True), dcmtk(path, ["+Ww", "40", "400", "+Piv"]))


@pytest.mark.parametrize("name", JPEG_LS)
def test_jpeg_ls_matches_dcmtk(name, dcmtk):
    path = datafile(name)
    pres, frame = _pres(path, 0)
    _assert_close(render(pres, frame, "minmax"), dcmtk(path, ["+Wm"], tool="dcml2pnm"))


@pytest.mark.parametrize("name", COLOR)
def test_color_matches_dcmtk(name, dcmtk):
    path = datafile(name)
    pres, frame = _pres(path, 0)
    assert pres.is_color and frame.dtype == np.uint8 and frame.shape[2] == 3
    _assert_close(render(pres, frame), dcmtk(path, []))


def test_ybr_full_uncompressed_close_to_dcmtk(dcmtk):
    # pydicom's YBR -> RGB conversion rounds differently from dcmtk's integer one: within 2 levels.
    path = datafile("SC_ybr_full_uncompressed.dcm")
    pres, frame = _pres(path, 0)
    _assert_close(render(pres, frame), dcmtk(path, []), tol=2)


J2K = ["MR2_J2KR.dcm", "MR2_J2KI.dcm", "RG1_J2KR.dcm", "693_J2KI.dcm", "emri_small_jpeg_2k_lossless.dcm",
       "US1_J2KR.dcm", "SC_rgb_gdcm_KY.dcm", "GDCMJ2K_TextGBR.dcm"]


@pytest.mark.parametrize("name", J2K)
def test_jpeg2000_matches_gdcm_decode_rendered_by_dcmtk(name, dcmtk, tmp_path):
    """dcmtk has no JPEG 2000 codec: gdcm decodes the file into an uncompressed copy that dcmtk renders; our
    picture (decoded by the preferred decoder) must match it."""
    path = datafile(name)
    pres, frame = _pres(path, 0)
    ds = pydicom.dcmread(path)
    ref_pixels = pydicom.pixels.pixel_array(ds, index=0, decoding_plugin="gdcm")
    ds = pydicom.dcmread(path)
    pydicom.pixels.set_pixel_data(ds, ref_pixels, "RGB" if ref_pixels.ndim == 3 else
                                  ds.PhotometricInterpretation, int(ds.BitsStored))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    if "NumberOfFrames" in ds:
        ds.NumberOfFrames = 1
    copy = tmp_path / "gdcm_decoded.dcm"
    ds.save_as(copy)
    ref = dcmtk(copy, [] if pres.is_color else ["+Wm"])
    _assert_close(render(pres, frame, None if pres.is_color else "minmax"), ref)
