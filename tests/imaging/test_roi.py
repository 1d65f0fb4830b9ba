"""Polygon and freehand ROI statistics on phantoms with analytic area and mean."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workstation.imaging.roi import polygon_area, polygon_mask, polygon_perimeter, polygon_stats, simplify_path


def test_square_polygon_area_mask_and_stats():
    values = np.zeros((100, 100), dtype=np.int16)
    values[20:60, 30:70] = 100  # a 40 x 40 square of 100 HU on 0
    square = [(30, 20), (70, 20), (70, 60), (30, 60)]
    st = polygon_stats(values, square, spacing=(0.5, 0.25))
    assert st.area == pytest.approx(40 * 40 * 0.5 * 0.25) and st.area_unit == "mm²"
    assert st.count == 1600 and st.mean == 100 and st.sd == 0 and (st.min, st.max) == (100, 100)
    assert st.perimeter == pytest.approx(2 * 40 * 0.25 + 2 * 40 * 0.5)


def test_freehand_circle_matches_the_disc():
    # A disc of radius 30 px with values 50 inside, -50 outside; a freehand circle of radius 20 inside it.
    yy, xx = np.mgrid[0:128, 0:128] + 0.5
    values = np.where(np.hypot(xx - 64, yy - 64) <= 30, 50.0, -50.0)
    t = np.linspace(0, 2 * math.pi, 400, endpoint=False)
    outline = list(zip(64 + 20 * np.cos(t), 64 + 20 * np.sin(t)))
    st = polygon_stats(values, outline, spacing=(1.0, 1.0))
    assert st.area == pytest.approx(math.pi * 400, rel=1e-3)
    assert st.count == pytest.approx(math.pi * 400, rel=0.02)
    assert st.mean == 50 and st.sd == 0
    # Half in, half out: a polygon over the disc's edge has a mean between.
    half = [(64, 10), (120, 10), (120, 118), (64, 118)]
    assert -50 < polygon_stats(values, half, None).mean < 50


def test_concave_polygon_even_odd():
    # An L shape: 3 unit squares of a 2x2 block.
    ell = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
    assert polygon_area(ell) == 3
    assert polygon_mask((2, 2), ell).tolist() == [[True, True], [True, False]]


def test_ramp_mean_is_analytic():
    values = np.tile(np.arange(100, dtype=np.float64), (50, 1))  # value = column
    tri = [(10, 0), (90, 0), (90, 50), (10, 50)]  # rectangle as a polygon: columns 10..89
    st = polygon_stats(values, tri, None)
    assert st.mean == pytest.approx(49.5) and st.min == 10 and st.max == 89
    assert st.area_unit == "px²" and st.perimeter_unit == "px"


def test_degenerate_and_off_image():
    assert polygon_area([(0, 0), (1, 1)]) == 0
    st = polygon_stats(np.ones((10, 10)), [(50, 50), (60, 50), (60, 60)], None)
    assert st.count == 0 and math.isnan(st.mean)
    assert polygon_stats(None, [(0, 0), (4, 0), (4, 4)], (1, 1)).area == 8  # a right triangle
    assert polygon_perimeter([(0, 0), (3, 0), (3, 4)]) == pytest.approx(12)
    assert simplify_path([(0, 0), (0.2, 0), (1, 0), (1.1, 0)], 0.5) == [(0, 0), (1, 0)]
