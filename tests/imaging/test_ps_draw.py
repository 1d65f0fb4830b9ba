"""A presentation state's graphics, text and activated overlays drawn into ``render``'s picture (imaging.ps_draw).

PIXEL coordinates as the standard writes them: 0\\0 is the top left corner of the top left pixel, so (c + 0.5,
r + 0.5) is the centre of 0-based pixel (r, c). The image is a flat mid grey (100 of 0..200 under a 0..200 window)
so every mark (white) and its one-pixel halo (black) can be told from it.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests.dicom import gsps
from tests.imaging.test_pstate_render import _synthetic
from workstation.dicom.presentation_state import read_presentation_state
from workstation.imaging.ps_draw import draw_state
from workstation.imaging.pstate import render_with_state

ROWS, COLS = 40, 60
GREY = int(round(100 / 200 * 255))


def _image() -> tuple[Dataset, np.ndarray]:
    header, frame = _synthetic(ROWS, COLS)
    frame[:] = 100
    return header, frame


def _render(ds: Dataset, header: Dataset, frame: np.ndarray):
    ps = read_presentation_state(ds)
    return draw_state(render_with_state(ps, header, frame), ps, header, 1)


def _ps(header, graphics=(), texts=(), rotation=0, flip=False) -> Dataset:
    ds = gsps.make_gsps(header)
    gsps.set_window(ds, 100.5, 201)
    ds.ImageRotation = rotation
    ds.ImageHorizontalFlip = "Y" if flip else "N"
    if graphics or texts:
        gsps.add_annotation(ds, "MARKS", graphics=graphics, texts=texts)
    return ds


def _marks(out: np.ndarray) -> np.ndarray:
    return out == 255


def test_a_polyline_covers_the_pixels_it_crosses_with_a_halo():
    header, frame = _image()
    out = _render(_ps(header, graphics=[("POLYLINE", [5.5, 10.5, 25.5, 10.5])]), header, frame).image
    expected = np.zeros((ROWS, COLS), bool)
    expected[10, 5:26] = True
    np.testing.assert_array_equal(_marks(out), expected)
    assert (out[9, 5:26] == 0).all() and (out[11, 5:26] == 0).all()  # the dark halo above and below
    assert (out[20, :] == GREY).all()  # the image elsewhere untouched


@pytest.mark.parametrize("rotation,flip", [(90, False), (180, False), (270, False), (90, True), (0, True)])
def test_graphics_turn_and_flip_with_the_image(rotation, flip):
    """The marks of a rotated/flipped PS are the unrotated marks moved the way the picture's pixels move."""
    header, frame = _image()
    graphics = [("POLYLINE", [5.5, 3.5, 30.5, 20.5, 50.5, 6.5]), ("CIRCLE", [40.0, 28.0, 46.0, 28.0]),
                ("POINT", [10.5, 30.5])]
    plain = _render(_ps(header, graphics=graphics), header, frame).image
    turned = _render(_ps(header, graphics=graphics, rotation=rotation, flip=flip), header, frame).image
    expected = np.rot90(_marks(plain), k=-(rotation // 90))
    if flip:
        expected = expected[:, ::-1]
    assert turned.shape == expected.shape
    # Sampling rounds at pixel borders: allow a pixel of difference along the curves, not more.
    differ = np.argwhere(_marks(turned) != expected)
    assert len(differ) <= 0.03 * expected.sum(), len(differ)


def test_a_circle_is_its_outline_at_its_radius():
    header, frame = _image()
    out = _render(_ps(header, graphics=[("CIRCLE", [30.0, 20.0, 40.0, 20.0])]), header, frame).image
    rr, cc = np.nonzero(_marks(out))
    radii = np.hypot(cc + 0.5 - 30.0, rr + 0.5 - 20.0)
    assert len(rr) > 50 and radii.min() >= 9.2 and radii.max() <= 10.8
    assert out[20, 30] == GREY  # not filled


def test_an_ellipse_keeps_its_axes():
    header, frame = _image()
    # major axis end points, then minor axis end points
    out = _render(_ps(header, graphics=[("ELLIPSE", [15.0, 20.0, 45.0, 20.0, 30.0, 15.0, 30.0, 25.0])]),
                  header, frame).image
    rr, cc = np.nonzero(_marks(out))
    x, y = cc + 0.5 - 30.0, rr + 0.5 - 20.0
    assert np.abs((x / 15) ** 2 + (y / 5) ** 2 - 1).max() < 0.25
    assert cc.min() in (14, 15) and cc.max() in (44, 45)


def test_text_is_drawn_beside_its_anchor_and_what_cannot_be_drawn_is_named():
    header, frame = _image()
    out = _render(_ps(header, texts=[("12 mm", (20.0, 10.0))]), header, frame)
    rr, cc = np.nonzero(_marks(out.image))
    assert len(rr) > 10
    assert rr.min() >= 9 and cc.min() >= 19  # below and right of the anchor (kept inside the picture)
    assert not [w for w in out.warnings if w.code.startswith("text")]


def test_bad_graphics_are_named_and_the_picture_still_renders():
    header, frame = _image()
    ds = _ps(header, graphics=[("POLYLINE", [1, 1, 5, 5, 9]), ("SPLINE", [1, 1, 5, 5])])
    out = _render(ds, header, frame)
    assert out.image.shape == (ROWS, COLS)
    codes = {w.code for w in out.warnings}
    assert any("odd" in w.message or "coordinates" in w.message for w in out.warnings), codes
    assert any("unknown" in w.message for w in out.warnings), codes


def test_an_overlay_the_ps_holds_and_activates_is_drawn_and_turns_with_the_picture():
    header, frame = _image()
    bits = np.zeros((ROWS, COLS), np.uint8)
    bits[5, 10:40] = 1
    bits[6:30, 10] = 1
    ds = _ps(header, rotation=90)
    gsps.add_overlay(ds, bits)
    out = _render(ds, header, frame)
    np.testing.assert_array_equal(_marks(out.image), np.rot90(bits.astype(bool), k=-1))
    assert not [w for w in out.warnings if w.code.startswith("overlay")]
