"""Rendering with a presentation state: against dcmtk's dcmp2pgm -p (an independent GSPS implementation) on PS
made by dcmpsmk and varied with pydicom, and shutters/displayed area against the standard's geometry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.data import test_file
from tests.dicom import gsps
from tests.imaging.conftest import dcmtk_tool, read_pnm
from workstation.dicom.presentation_state import read_presentation_state
from workstation.imaging.decode import decode_frame, read_header
from workstation.imaging.pstate import ImageNotReferenced, render_with_state, shutter_mask

CT = "CT_small.dcm"  # signed, rescale -1024, 128x128
RG = "RG1_UNCR.dcm"  # MONOCHROME1, 15 bits stored, 1841x1955 (not square)
MR = "MR_small.dcm"  # 64x64 unsigned
AGREEMENT = 0.995  # share of pixels within +-1 gray level of dcmp2pgm


def _window(center, width):
    def change(ps):
        item = Dataset()
        item.WindowCenter, item.WindowWidth = center, width
        ps.SoftcopyVOILUTSequence = Sequence([item])
    return change


def _voi_lut(first, n, bits):
    def change(ps):
        lut = Dataset()
        lut.LUTDescriptor = [n, first & 0xFFFF, bits]  # US: a negative first value as its 16-bit pattern
        # A gamma-like curve, so a LUT read as a straight line would not pass.
        lut.LUTData = [int(round(((i / (n - 1)) ** 0.5) * ((1 << bits) - 1))) for i in range(n)]
        lut["LUTData"].VR = "US"
        item = Dataset()
        item.VOILUTSequence = Sequence([lut])
        ps.SoftcopyVOILUTSequence = Sequence([item])
    return change


def _presentation_lut(n, bits):
    def change(ps):
        lut = Dataset()
        lut.LUTDescriptor = [n, 0, bits]
        lut.LUTData = [int(round(((i / (n - 1)) ** 2) * ((1 << bits) - 1))) for i in range(n)]  # steep at the top
        lut["LUTData"].VR = "US"
        ps.PresentationLUTSequence = Sequence([lut])
        del ps.PresentationLUTShape
    return change


def _set(**values):
    def change(ps):
        for k, v in values.items():
            setattr(ps, k, v)
    return change


def _spatial(rotation=0, flip="N"):
    # The Spatial Transformation module is all or nothing: both attributes (dcmtk refuses one without the other).
    return _set(ImageRotation=rotation, ImageHorizontalFlip=flip)


def _both(*changes):
    def change(ps):
        for c in changes:
            c(ps)
    return change


CASES = {
    "ct-dcmpsmk": (CT, _set()),
    "ct-window": (CT, _window(40, 400)),
    "ct-window-narrow": (CT, _window(150, 60)),
    "ct-voi-lut": (CT, _voi_lut(0, 2400, 12)),
    "ct-voi-lut-8bit": (CT, _voi_lut(-1100, 2400, 8)),
    "ct-modality-override": (CT, _both(_set(RescaleSlope=2, RescaleIntercept=-3000), _window(-1000, 2000))),
    "ct-presentation-lut-256": (CT, _both(_window(40, 400), _presentation_lut(256, 12))),
    "ct-presentation-lut-4096": (CT, _both(_window(40, 400), _presentation_lut(4096, 16))),
    "ct-linear-exact": (CT, _both(_window(40, 400), lambda ps: setattr(ps.SoftcopyVOILUTSequence[0],
                                                                      "VOILUTFunction", "LINEAR_EXACT"))),
    "ct-inverse": (CT, _both(_set(PresentationLUTShape="INVERSE"), _window(40, 400))),
    "mr-dcmpsmk": (MR, _set()),
    "ct-rot90": (CT, _both(_spatial(90), _window(40, 400))),
    "ct-rot180": (CT, _both(_spatial(180), _window(40, 400))),
    "ct-rot270": (CT, _both(_spatial(270), _window(40, 400))),
    "ct-flip": (CT, _both(_spatial(0, "Y"), _window(40, 400))),
    "ct-flip-rot90-window": (CT, _both(_spatial(90, "Y"), _window(100, 300))),
    "ct-flip-rot270-inverse-lut": (CT, _both(_spatial(270, "Y"),
                                                  _set(PresentationLUTShape="INVERSE"), _voi_lut(0, 2400, 12))),
    "mr-window-rot180": (MR, _both(_spatial(180), _window(600, 800))),
    "mono1-inverse": (RG, _set()),  # dcmpsmk writes INVERSE for MONOCHROME1: shown once inverted, not twice
    "mono1-identity": (RG, _set(PresentationLUTShape="IDENTITY")),
    "mono1-identity-window-rot90": (RG, _both(_set(PresentationLUTShape="IDENTITY"), _spatial(90),
                                              _window(12000, 8000))),
    "mono1-inverse-flip-rot270": (RG, _spatial(270, "Y")),
}


def _dcmtk_ps(image: Path, change, tmp_path: Path) -> tuple[Path, np.ndarray]:
    """dcmpsmk's PS for ``image``, changed, and dcmp2pgm's rendering of the image with it."""
    ps_path = tmp_path / "ps.dcm"
    subprocess.run([dcmtk_tool("dcmpsmk"), str(image), str(ps_path)], check=True, capture_output=True)
    ds = pydicom.dcmread(str(ps_path))
    change(ds)
    ds.save_as(str(ps_path))
    out = tmp_path / "ref.pgm"
    proc = subprocess.run([dcmtk_tool("dcmp2pgm"), "-p", str(ps_path), str(image), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return ps_path, read_pnm(out)


@pytest.mark.parametrize("case", sorted(CASES))
def test_agrees_with_dcmp2pgm(case, tmp_path):
    name, change = CASES[case]
    image = test_file(name)
    ps_path, ref = _dcmtk_ps(image, change, tmp_path)
    header = read_header(image)
    result = render_with_state(read_presentation_state(ps_path), header, decode_frame(image, 0, header=header))
    assert result.warnings == []
    assert result.image.shape == ref.shape
    diff = np.abs(result.image.astype(int) - ref.astype(int))
    share = float((diff <= 1).mean())
    assert share >= AGREEMENT, f"{case}: {share:.4%} within +-1 (max difference {diff.max()})"
    # A flat picture would prove nothing; CT_small without a VOI spans 16 bits of range in a few hundred values.
    assert ref.std() > (1 if case == "ct-dcmpsmk" else 10)


HIGHDICOM = {
    "hd-ct-window-inverse": (CT, {"window": (40, 400), "shape": "INVERSE"}),
    # highdicom takes no negative first value: the VOI LUT case is on MR (unsigned), a square-root curve (16-bit entries).
    "hd-mr-voi-lut": (MR, {"voi_lut": (0, np.sqrt(np.arange(1500) / 1499) * 65535), "annotations": False}),
    "hd-mr-identity": (MR, {"shape": "IDENTITY", "window": (600, 800), "annotations": False}),  # annotations lie beyond 64x64
    "hd-mono1-default": (RG, {}),  # highdicom picks the shape for a MONOCHROME1 image itself
    "hd-mono1-identity-window": (RG, {"window": (12000, 8000), "shape": "IDENTITY"}),
}


@pytest.mark.parametrize("case", sorted(HIGHDICOM))
def test_highdicom_ps_agrees_with_dcmp2pgm(case, tmp_path):
    pytest.importorskip("highdicom")
    name, kwargs = HIGHDICOM[case]
    image = test_file(name)
    ds = gsps.highdicom_gsps(pydicom.dcmread(str(image)), **kwargs)
    ps_path = tmp_path / "hd.dcm"
    ds.save_as(str(ps_path))
    out = tmp_path / "ref.pgm"
    proc = subprocess.run([dcmtk_tool("dcmp2pgm"), "-p", str(ps_path), str(image), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ref = read_pnm(out)
    header = read_header(image)
    result = render_with_state(read_presentation_state(ps_path), header, decode_frame(image, 0, header=header))
    assert [w.code for w in result.warnings] == (["annotation.not-drawn"] if name != MR else [])
    diff = np.abs(result.image.astype(int) - ref.astype(int))
    share = float((diff <= 1).mean())
    assert share >= AGREEMENT, f"{case}: {share:.4%} within +-1 (max difference {diff.max()})"
    assert ref.std() > 10


def test_sigmoid_softcopy_voi_follows_the_standard():
    # dcmp2pgm ignores VOI LUT Function in a PS (draws SIGMOID as LINEAR), so this one is checked against the
    # formula of PS3.3 C.11.2.1.3.1: y = 1 / (1 + exp(-4 (x - c) / w)).
    header, frame = _synthetic()
    frame = np.arange(40 * 60, dtype=np.uint8).reshape(40, 60) % 200
    ds = gsps.make_gsps(header)
    gsps.set_window(ds, 100, 80)
    ds.SoftcopyVOILUTSequence[0].VOILUTFunction = "SIGMOID"
    out = render_with_state(read_presentation_state(ds), header, frame).image
    expect = np.floor(255 / (1 + np.exp(-4 * (frame.astype(float) - 100) / 80)) + 0.5)
    assert np.array_equal(out, expect.astype(np.uint8))


def test_mono1_shape_decides_not_the_photometric(tmp_path):
    # The same MONOCHROME1 image under IDENTITY and INVERSE: exact complements, and INVERSE is the way the
    # modality shows it (low values bright), so it is not inverted a second time.
    image = test_file(RG)
    header = read_header(image)
    frame = decode_frame(image, 0, header=header)
    ds = gsps.make_gsps(header, shape="IDENTITY")
    ident = render_with_state(read_presentation_state(ds), header, frame).image
    ds.PresentationLUTShape = "INVERSE"
    inv = render_with_state(read_presentation_state(ds), header, frame).image
    assert np.array_equal(ident.astype(int) + inv.astype(int), np.full(ident.shape, 255))
    low = frame == frame.min()
    assert inv[low].min() >= 192 and ident[low].max() <= 63  # the lowest values: bright only under INVERSE


# -- shutters and displayed area against the standard's geometry (dcmp2pgm does not draw them) ----------------
def _synthetic(rows=40, cols=60) -> tuple[Dataset, np.ndarray]:
    from pydicom.uid import generate_uid

    header = Dataset()
    header.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    header.SOPInstanceUID = generate_uid()
    header.Modality = "OT"
    header.Rows, header.Columns = rows, cols
    header.PhotometricInterpretation = "MONOCHROME2"
    header.BitsAllocated, header.BitsStored, header.HighBit, header.PixelRepresentation = 8, 8, 7, 0
    header.SamplesPerPixel = 1
    frame = np.full((rows, cols), 200, np.uint8)
    return header, frame


def _ps(header: Dataset, **values) -> Dataset:
    ds = gsps.make_gsps(header)
    gsps.set_window(ds, 100.5, 201)  # 0..200 -> 0..255: the image is white (255) where shown
    for k, v in values.items():
        setattr(ds, k, v)
    return ds


def _shown(header, frame, ds) -> np.ndarray:
    return render_with_state(read_presentation_state(ds), header, frame).image == 255


def test_rectangular_shutter_edges_inside():
    header, frame = _synthetic()
    ds = _ps(header, ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=5, ShutterRightVerticalEdge=20,
             ShutterUpperHorizontalEdge=3, ShutterLowerHorizontalEdge=10, ShutterPresentationValue=0x8000)
    out = render_with_state(read_presentation_state(ds), header, frame).image
    truth = np.zeros(frame.shape, bool)
    truth[3 - 1:10, 5 - 1:20] = True  # 1-based rows 3..10 and columns 5..20, edges included
    assert np.array_equal(out == 255, truth)
    assert set(np.unique(out[~truth])) == {128}  # P-value 0x8000 of 0xFFFF -> 128 of 255


def test_circular_shutter_pixel_centres():
    header, frame = _synthetic()
    ds = _ps(header, ShutterShape="CIRCULAR", CenterOfCircularShutter=[20, 30], RadiusOfCircularShutter=10)
    r, c = np.mgrid[1:41, 1:61]
    truth = (r - 20) ** 2 + (c - 30) ** 2 <= 100  # on the circle: inside
    assert np.array_equal(_shown(header, frame, ds), truth)
    assert truth[20 - 1, 40 - 1] and not truth[20 - 1, 41 - 1]  # (20, 40) lies on the edge


def test_polygonal_shutter_vertices_and_edges_inside():
    header, frame = _synthetic()
    # A right triangle (row, column): (5, 5), (5, 35), (35, 5); its hypotenuse passes through pixel centres.
    ds = _ps(header, ShutterShape="POLYGONAL", VerticesOfThePolygonalShutter=[5, 5, 5, 35, 35, 5])
    r, c = np.mgrid[1:41, 1:61]
    truth = (r >= 5) & (c >= 5) & (r + c <= 40)
    assert np.array_equal(_shown(header, frame, ds), truth)


def test_shutters_combine_and_are_defined_on_the_unrotated_image():
    header, frame = _synthetic()
    ds = _ps(header, ShutterShape="RECTANGULAR\\CIRCULAR", ShutterLeftVerticalEdge=1, ShutterRightVerticalEdge=30,
             ShutterUpperHorizontalEdge=1, ShutterLowerHorizontalEdge=40, CenterOfCircularShutter=[20, 30],
             RadiusOfCircularShutter=10, ImageRotation=90, ImageHorizontalFlip="Y")
    r, c = np.mgrid[1:41, 1:61]
    truth = (c <= 30) & ((r - 20) ** 2 + (c - 30) ** 2 <= 100)
    shown = _shown(header, frame, ds)
    assert shown.shape == (60, 40)
    assert np.array_equal(shown, np.rot90(truth, -1)[:, ::-1])


def test_bitmap_shutter():
    header, frame = _synthetic()
    ds = _ps(header, ShutterShape="BITMAP", ShutterOverlayGroup=0x6000)
    bits = np.zeros((4, 8), np.uint8)
    bits[1, 2:5] = 1
    for tag, vr, value in ((0x60000010, "US", 4), (0x60000011, "US", 8), (0x60000040, "CS", "G"),
                           (0x60000050, "SS", [10, 20]), (0x60000100, "US", 1), (0x60000102, "US", 0),
                           (0x60003000, "OW", np.packbits(bits.ravel(), bitorder="little").tobytes())):
        ds.add_new(tag, vr, value)
    hidden = ~_shown(header, frame, ds)
    assert list(zip(*np.nonzero(hidden))) == [(10, 21), (10, 22), (10, 23)]  # 0-based: row 11, columns 22..24


def test_displayed_area_crop_then_rotation():
    header, frame = _synthetic()
    frame = (np.arange(40 * 60).reshape(40, 60) % 200).astype(np.uint8)
    ds = gsps.make_gsps(header)
    gsps.set_window(ds, 100.5, 201)
    ds.DisplayedAreaSelectionSequence[0].DisplayedAreaTopLeftHandCorner = [11, 5]  # column 11, row 5
    ds.DisplayedAreaSelectionSequence[0].DisplayedAreaBottomRightHandCorner = [30, 12]
    ds.ImageRotation = 90
    out = render_with_state(read_presentation_state(ds), header, frame).image
    full = render_with_state(read_presentation_state(_drop_area(ds)), header, frame).image
    expect = np.rot90(np.rot90(full, 1)[4:12, 10:30], -1)
    assert out.shape == (20, 8) and np.array_equal(out, expect)


def _drop_area(ds: Dataset) -> Dataset:
    ds = ds.copy()
    del ds.DisplayedAreaSelectionSequence
    return ds


def test_shutter_mask_pixel_centre_rule_directly():
    from workstation.dicom.presentation_state import Shutters

    mask = shutter_mask(Shutters(("CIRCULAR",), circle=(2, 2, 1)), 3, 3)
    assert mask.tolist() == [[True, False, True], [False, False, False], [True, False, True]]


# -- bad input: the image still shows, the problem is named ------------------------------------------------------
def test_bad_input_still_renders_and_is_named():
    header, frame = _synthetic()
    ds = gsps.make_gsps(header)
    gsps.set_voi_lut(ds, 0, np.arange(100), 8, n=256)  # VOI LUT of the wrong length
    gsps.add_annotation(ds, "L", graphics=[("POLYLINE", [1, 1, 2]), ("SPLINE", [1, 1, 2, 2])])
    result = render_with_state(read_presentation_state(ds), header, frame)
    assert result.image.shape == frame.shape and result.image.max() > 0
    codes = [w.code for w in result.warnings]
    assert codes[:3] == ["voi-lut.length", "graphic.odd-coordinates", "graphic.type"]


def test_not_referenced_image_is_refused(tmp_path):
    header, frame = _synthetic()
    other, _ = _synthetic()
    with pytest.raises(ImageNotReferenced, match="does not reference"):
        render_with_state(read_presentation_state(gsps.make_gsps(other)), header, frame)


def test_multiframe_frame_references(tmp_path):
    image = test_file("emri_small.dcm")  # 10 frames
    header = read_header(image)

    def frames_2_3(ps):
        ps.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedFrameNumber = [2, 3]
        _window(300, 500)(ps)
        _spatial(90)(ps)

    ps_path, _ = _dcmtk_ps(image, frames_2_3, tmp_path)
    ref = tmp_path / "f3.pgm"
    subprocess.run([dcmtk_tool("dcmp2pgm"), "-p", str(ps_path), "-f", "3", str(image), str(ref)], check=True,
                   capture_output=True)
    ps = read_presentation_state(ps_path)
    out = render_with_state(ps, header, decode_frame(image, 2, header=header), frame_number=3).image
    diff = np.abs(out.astype(int) - read_pnm(ref).astype(int))
    assert (diff <= 1).mean() >= AGREEMENT and read_pnm(ref).std() > 10
    with pytest.raises(ImageNotReferenced, match="references frames 2, 3 of this image, not frame 1"):
        render_with_state(ps, header, decode_frame(image, 0, header=header), frame_number=1)
