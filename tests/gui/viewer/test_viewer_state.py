"""Headless tests of the viewer's models: state, orientation letters, measurements (no Qt imported)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from workstation.gui.viewer.measure import Measurement, MeasurementStore, angle, distance, roi_mask, roi_stats
from workstation.gui.viewer.orientation import direction_letters, edge_letters
from workstation.gui.viewer.state import ViewportState


def test_state_module_does_not_import_qt():
    import importlib

    for name in ("workstation.gui.viewer.state", "workstation.gui.viewer.orientation",
                 "workstation.gui.viewer.measure"):
        mod = importlib.import_module(name)
        src = Path(mod.__file__).read_text()
        assert "PySide6" not in src and "pyqtgraph" not in src


def test_scroll_clamps_and_wraps_and_notifies_once():
    st = ViewportState(n_frames=5)
    seen = []
    st.subscribe(seen.append)
    st.scroll(3)
    st.scroll(10)
    assert st.frame == 4
    st.scroll(1, wrap=True)
    assert st.frame == 0
    st.scroll(-1)
    assert st.frame == 0
    assert seen == [{"frame"}, {"frame"}, {"frame"}]


def test_drag_window_osirix_directions():
    st = ViewportState(center=40, width=400)
    st.drag_window(10, 0, 2.0)
    assert st.width == 420 and st.center == 40
    st.drag_window(0, 5, 2.0)
    assert st.center == 50
    st.drag_window(-1000, 0, 2.0)
    assert st.width >= 1.0


def test_rotation_flips_zoom_validation():
    st = ViewportState()
    st.rotate(1)
    st.rotate(-2)
    assert st.rotation == 270
    st.zoom_by(2.0, fit_zoom=1.5)
    assert st.zoom == 3.0
    st.fit()
    assert st.zoom is None and st.pan is None
    with pytest.raises(ValueError):
        st.update(tool="laser")
    with pytest.raises(AttributeError):
        st.update(colour="red")
    st.reset(10, 20)
    assert (st.center, st.width, st.rotation) == (10, 20, 0)


def test_orientation_letters_axial_rotate_and_flip():
    axial = [1, 0, 0, 0, 1, 0]
    assert edge_letters(axial) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    # rotate clockwise: the top (anterior) goes to the right
    assert edge_letters(axial, 90) == {"left": "P", "right": "A", "top": "R", "bottom": "L"}
    assert edge_letters(axial, 0, flip_h=True)["left"] == "L"
    assert edge_letters(axial, 0, flip_v=True)["top"] == "P"
    coronal = [1, 0, 0, 0, 0, -1]
    assert edge_letters(coronal)["top"] == "H"
    assert direction_letters((0.8, 0.0, -0.6)) == "LF"
    assert edge_letters(None) is None


def test_distance_angle_units():
    assert distance((0, 0), (10, 0), (0.5, 0.7)) == pytest.approx((7.0, "mm"))
    assert distance((0, 0), (0, 10), (0.5, 0.7)) == pytest.approx((5.0, "mm"))
    assert distance((0, 0), (3, 4), None) == pytest.approx((5.0, "px"))
    assert angle((10, 0), (0, 0), (0, 10)) == pytest.approx(90.0)
    assert angle((10, 0), (0, 0), (10, 10)) == pytest.approx(45.0)


def test_roi_stats_rectangle_and_ellipse():
    values = np.arange(100, dtype=float).reshape(10, 10)
    s = roi_stats(values, "rectangle", (2, 3), (5, 6), (2.0, 1.0))
    sel = values[3:6, 2:5]
    assert s.count == 9
    assert s.mean == pytest.approx(sel.mean()) and s.sd == pytest.approx(sel.std())
    assert (s.min, s.max) == (sel.min(), sel.max())
    assert s.area == pytest.approx(9 * 2.0) and s.area_unit == "mm²"
    e = roi_stats(values, "ellipse", (0, 0), (10, 10), None)
    assert e.area == pytest.approx(math.pi * 25) and e.area_unit == "px²"
    assert 60 < roi_mask((10, 10), "ellipse", (0, 0), (10, 10)).sum() < 100


def test_measurement_store_keeps_per_image():
    store = MeasurementStore()
    m = Measurement("distance", [(0, 0), (1, 1)], key=("uid", 0))
    store.add(m)
    assert store.on(("uid", 0)) == [m] and store.on(("uid", 1)) == []
    assert "mm" in m.label((1.0, 1.0)) and "px" in m.label(None)
    store.remove(m)
    assert len(store) == 0




def test_measurement_store_kept_in_a_file(tmp_path):
    path = tmp_path / "data" / "measurements.json"
    store = MeasurementStore(path=path)
    a = Measurement("distance", [(1.5, 2.0), (10.0, 20.25)], key=("1.2.3", 0))
    b = Measurement("ellipse", [(0.0, 0.0), (4.0, 6.0)], key=("1.2.3", 2))
    store.add(a)
    store.add(b)
    again = MeasurementStore(path=path)
    again._load()
    assert [(m.kind, m.points) for m in again.on(("1.2.3", 0))] == [("distance", [(1.5, 2.0), (10.0, 20.25)])]
    assert [(m.kind, m.points) for m in again.on(("1.2.3", 2))] == [("ellipse", [(0.0, 0.0), (4.0, 6.0)])]
    store.remove(a)
    third = MeasurementStore(path=path)
    third._load()
    assert third.on(("1.2.3", 0)) == [] and len(third) == 1
    assert not list(path.parent.glob(".*.part"))
    assert MeasurementStore.shared(path) is MeasurementStore.shared(str(path))


def test_damaged_measurement_file_starts_empty_and_is_kept(tmp_path):
    path = tmp_path / "measurements.json"
    path.write_text("{not json")
    store = MeasurementStore(path=path)
    store._load()
    assert len(store) == 0 and path.read_text() == "{not json"
