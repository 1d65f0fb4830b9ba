"""Reference lines and the 3D cursor on planes with analytic truth (patient coordinates in mm, LPS)."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.imaging.localizer import locate, nearest_slice, reference_segment
from workstation.imaging.reslice import Plane


def axial(z: float, rows: int = 100, columns: int = 100, spacing: float = 1.0) -> Plane:
    # Rows run posterior (+y), columns to the patient's left (+x): the axial display convention.
    return Plane(rows, columns, (spacing, spacing), (-50.0, -50.0, z), (1, 0, 0, 0, 1, 0))


def sagittal(x: float, rows: int = 100, columns: int = 100) -> Plane:
    # Columns run posterior (+y), rows downwards (-z): top of the image is superior.
    return Plane(rows, columns, (1.0, 1.0), (x, -50.0, 50.0), (0, 1, 0, 0, 0, -1))


def coronal(y: float) -> Plane:
    return Plane(80, 100, (1.0, 1.0), (-50.0, y, 40.0), (1, 0, 0, 0, 0, -1))


def ends(segment):
    return sorted((round(r, 6), round(c, 6)) for r, c in segment)


def test_an_axial_slice_cuts_a_sagittal_image_along_its_row_of_that_height():
    # z = 10 mm is row 50 - 10 = 40 of the sagittal image; the axial image spans y -50.5..49.5: the whole width.
    assert ends(reference_segment(axial(10.0), sagittal(0.0))) == [(40.0, -0.5), (40.0, 99.5)]
    # And the sagittal plane x = 0 is column 50 of the axial image, from z 49.5 down to the axial's own height.
    assert ends(reference_segment(sagittal(0.0), axial(10.0))) == [(-0.5, 50.0), (99.5, 50.0)]


def test_the_line_is_clipped_to_the_source_images_extent():
    # An axial field of view of 40 rows covers y -50.5..-10.5 only: the line stops at sagittal column 39.5.
    assert ends(reference_segment(axial(-20.0, rows=40), sagittal(-30.0))) == [(70.0, -0.5), (70.0, 39.5)]
    # A field of view that does not reach the target plane draws nothing.
    assert reference_segment(axial(0.0, columns=40), sagittal(20.0)) is None


def test_parallel_planes_and_planes_outside_the_image_draw_nothing():
    assert reference_segment(axial(0.0), axial(5.0)) is None
    assert reference_segment(axial(80.0), sagittal(0.0)) is None  # z = 80 is above the sagittal image (top 50.5)


def test_an_oblique_plane_meets_the_target_where_the_geometry_says():
    # A plane through (0, 0, 0) tilted 30 degrees about x: its cut with the coronal plane y = 10 is z = 10 tan 30.
    t = np.radians(30)
    oblique = Plane(200, 200, (1.0, 1.0), (-100.0, -100 * np.cos(t), -100 * np.sin(t)),
                    (1, 0, 0, 0, np.cos(t), np.sin(t)))
    seg = reference_segment(oblique, coronal(10.0))
    z = 10 * np.tan(t)
    for r, c in seg:
        assert r == pytest.approx(40.0 - z, abs=1e-6)
    assert ends(seg)[0][1] == pytest.approx(-0.5) and ends(seg)[1][1] == pytest.approx(99.5)


def test_the_3d_cursor_finds_the_slice_and_pixel_of_a_patient_point():
    stack = [axial(z, spacing=0.5) for z in np.arange(-20.0, 20.0, 2.5)]
    point = (-30.0, -40.0, 6.0)  # between the slices at 5.0 and 7.5: 5.0 is nearer
    k, r, c = nearest_slice(stack, point)
    assert stack[k].image_position[2] == 5.0
    assert (r, c) == pytest.approx((20.0, 40.0))
    assert locate(stack[k], point)[2] == pytest.approx(1.0)
    assert nearest_slice(stack, (-30.0, -40.0, 40.0)) is None  # above the stack by more than half a spacing
    assert nearest_slice(stack, (90.0, -40.0, 5.0)) is None  # beside every image
