"""The daily tools in the viewer: calibrated lengths (defect 5), ROIs, annotations, labels, presets, W/L.

Measurements are drawn with real mouse events on the canvas at the widget positions of known image points, and
their labels are read as the image shows them.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6 import QtCore, QtGui

from viewer_events import click, drag, hover, key

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.imaging.calib_data import bar_ends, write_projection, write_unspaced, write_us  # noqa: E402
from workstation.gui.viewer import annotations, tools_roi  # noqa: E402
from workstation.gui.viewer.annotations import label_text, layout_labels  # noqa: E402
from workstation.gui.viewer.measure import Measurement, MeasurementStore  # noqa: E402
from workstation.imaging import calibration as cal  # noqa: E402
from workstation.imaging.roi import polygon_area, polygon_stats  # noqa: E402

Qt = QtCore.Qt


def at(vp, x, y):
    """Widget position of image point (x, y)."""
    w = vp.widget_point((x, y))
    return (w.x(), w.y())


def shown(vp):
    return vp.measurements.on(vp.frame_key)


@pytest.fixture(autouse=True)
def _fresh_session():
    cal.SESSION.clear()
    yield
    cal.SESSION.clear()


def _draw_distance(vp, p0, p1):
    vp.state.update(tool="distance")
    drag(vp, at(vp, *p0), at(vp, *p1), steps=8)
    return shown(vp)[-1]


# -- defect 5: calibration -----------------------------------------------------------------------------------------
def test_ultrasound_length_uses_the_region_calibration(open_viewer, tmp_path):
    # Old code: the 10 mm bar read "39.8 px (no spacing)" although the regions give 0.1 mm per pixel.
    path = write_us(tmp_path / "us.dcm")
    win = open_viewer([str(path)])
    vp = win.active
    p0, p1 = bar_ends(vp.current_array(), 150)
    m = _draw_distance(vp, p0, p1)
    # The mouse lands on whole widget pixels: compare with the length of the points actually drawn.
    exact = math.hypot(m.points[1][0] - m.points[0][0], m.points[1][1] - m.points[0][1]) * 0.1
    assert label_text(vp, m) == f"{exact:.1f} mm"
    assert abs(exact - 10.0) < 0.3
    # Across the B-mode and Doppler regions: says it is not calibrated, in pixels.
    across = _draw_distance(vp, (300, 200), (300, 300))
    assert "px" in label_text(vp, across) and "crosses ultrasound regions" in label_text(vp, across)
    # In the Doppler strip: time and velocity, not mm.
    doppler = _draw_distance(vp, (100, 300), (200, 340))
    text = label_text(vp, doppler)
    assert " s" in text and "cm/s" in text and "mm" not in text


@pytest.mark.parametrize("kwargs, expect", [
    ({"imager": (0.1, 0.1)}, "at detector"),
    ({"imager": (0.125, 0.125), "ermf": 1.25}, "magnification corrected ÷1.25"),
    ({"imager": (0.125, 0.125), "pixel": (0.1, 0.1), "cal_type": "GEOMETRY"}, "calibrated, GEOMETRY"),
])
def test_projection_lengths_say_on_which_plane(open_viewer, tmp_path, kwargs, expect):
    # Old code: ImagerPixelSpacing lengths were shown as plain mm, as if measured in the patient.
    path = write_projection(tmp_path / "dx.dcm", "DX", **kwargs)
    win = open_viewer([str(path)])
    vp = win.active
    m = Measurement("distance", list(bar_ends(vp.current_array(), 128)), key=vp.frame_key)
    vp.measurements.add(m)
    assert label_text(vp, m) == f"10.0 mm ({expect})"


def test_manual_calibration_with_the_line_tool(open_viewer, tmp_path, monkeypatch):
    a = write_unspaced(tmp_path / "a.dcm", bar_px=80)
    win = open_viewer([str(a)])
    vp = win.active
    before = Measurement("distance", [(10.0, 20.0), (50.0, 20.0)], key=vp.frame_key)
    vp.measurements.add(before)
    assert label_text(vp, before) == "40.0 px (no spacing)"
    asked = []
    monkeypatch.setattr(tools_roi, "ask_length", lambda parent, measured: asked.append(measured) or 20.0)
    vp.state.update(tool="calibrate")
    p0, p1 = bar_ends(vp.current_array(), 64)
    drag(vp, at(vp, *p0), at(vp, *p1), steps=8)
    assert asked and "px" in asked[0]
    assert len(shown(vp)) == 1  # the calibration line is not kept as a measurement
    text = label_text(vp, before)
    assert text.endswith("mm (manual calibration)")
    assert float(text.split()[0]) == pytest.approx(10.0, abs=0.3)  # 40 px of an 80 px = 20 mm bar
    # The calibration belongs to this series only.
    uid = str(pydicom.dcmread(str(a), stop_before_pixels=True).SeriesInstanceUID)
    assert cal.SESSION.get(uid) is not None and len(cal.SESSION._by_series) == 1
    annotations.clear_manual_calibration(vp)
    assert label_text(vp, before) == "40.0 px (no spacing)"


# -- ROIs, annotations ---------------------------------------------------------------------------------------------
def test_polygon_roi_with_clicks_and_enter(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(tool="polygon")
    verts = [(10.0, 10.0), (50.0, 12.0), (44.0, 50.0), (14.0, 40.0)]
    for v in verts:
        click(vp, at(vp, *v))
    hover(vp, at(vp, 30, 30))
    key(vp, Qt.Key_Return)
    (m,) = shown(vp)
    assert m.kind == "polygon" and len(m.points) == 4
    values = vp.presentation.to_modality(vp.current_array())
    st = polygon_stats(values, m.points, (0.5, 0.7))
    assert st.area == pytest.approx(polygon_area(m.points) * 0.35)
    text = label_text(vp, m)
    assert f"area {st.area:.1f} mm²" in text and f"mean {st.mean:.1f} HU" in text


def test_polygon_closes_on_its_first_vertex_and_freehand_on_release(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(tool="polygon")
    for v in [(10, 10), (40, 10), (40, 40), (10, 10)]:
        click(vp, at(vp, *v))
    assert [m.kind for m in shown(vp)] == ["polygon"] and len(shown(vp)[0].points) == 3
    vp.state.update(tool="freehand")
    w = vp.canvas.viewport()
    start = QtCore.QPointF(*at(vp, 60, 48))
    from viewer_events import _mouse, _send

    _send(w, _mouse(QtCore.QEvent.MouseButtonPress, w, start, Qt.LeftButton, Qt.LeftButton))
    for t in np.linspace(0, 2 * math.pi, 60)[1:-1]:  # a circle of radius 12 around (48, 48)
        p = QtCore.QPointF(*at(vp, 48 + 12 * math.cos(t), 48 + 12 * math.sin(t)))
        _send(w, _mouse(QtCore.QEvent.MouseMove, w, p, Qt.NoButton, Qt.LeftButton))
    _send(w, _mouse(QtCore.QEvent.MouseButtonRelease, w, p, Qt.LeftButton, Qt.NoButton))
    free = [m for m in shown(vp) if m.kind == "freehand"]
    assert len(free) == 1 and len(free[0].points) > 20
    # A circle of radius 12 px at 0.5 x 0.7 mm: pi * 12 * 12 * 0.35 mm².
    assert polygon_area(free[0].points) * 0.35 == pytest.approx(math.pi * 144 * 0.35, rel=0.05)


def test_cobb_arrow_point_text(open_viewer, ct_series, monkeypatch):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(tool="cobb")
    drag(vp, at(vp, 10, 20), at(vp, 50, 20))  # horizontal
    drag(vp, at(vp, 10, 50), at(vp, 50, 30))  # rising to the right
    (cobb,) = shown(vp)
    (a0, a1, b0, b1) = cobb.points
    expected = abs(math.degrees(math.atan2((b1[1] - b0[1]) * 0.5, (b1[0] - b0[0]) * 0.7)
                                - math.atan2((a1[1] - a0[1]) * 0.5, (a1[0] - a0[0]) * 0.7)))
    assert label_text(vp, cobb) == f"Cobb {expected:.1f}°"
    vp.state.update(tool="arrow")
    drag(vp, at(vp, 30, 30), at(vp, 55, 55))
    assert shown(vp)[-1].kind == "arrow"
    vp.state.update(tool="point")
    click(vp, at(vp, 5.5, 3.5))
    pt = shown(vp)[-1]
    c, r = int(pt.points[0][0]), int(pt.points[0][1])
    assert pt.kind == "point" and label_text(vp, pt) == f"{c + r - 100:.1f} HU"  # the phantom's ramp, slice 0
    monkeypatch.setattr(tools_roi, "ask_text", lambda parent, current="": "  fracture  ")
    vp.state.update(tool="text")
    click(vp, at(vp, 20, 58))
    assert shown(vp)[-1].kind == "text" and label_text(vp, shown(vp)[-1]) == "fracture"
    # Cancelled text: nothing is added.
    monkeypatch.setattr(tools_roi, "ask_text", lambda parent, current="": None)
    click(vp, at(vp, 40, 58))
    assert len(shown(vp)) == 4


def test_new_kinds_and_label_offsets_are_kept_in_the_file(tmp_path):
    path = tmp_path / "measurements.json"
    store = MeasurementStore(path=path)
    store.add(Measurement("polygon", [(0, 0), (4, 0), (4, 3), (1, 3)], key=("u", 0)))
    store.add(Measurement("text", [(5, 5)], key=("u", 0), text="lesion 1"))
    store.add(Measurement("cobb", [(0, 0), (1, 0), (0, 1), (1, 2)], key=("u", 0), label_offset=(12.0, -30.0)))
    store.add(Measurement("calibrate", [(0, 0), (1, 0)], key=("u", 0)))  # a tool's line: never stored
    again = MeasurementStore(path=path)
    again._load()
    got = again.on(("u", 0))
    assert [(m.kind, len(m.points), m.text, m.label_offset) for m in got] == [
        ("polygon", 4, "", None), ("text", 1, "lesion 1", None), ("cobb", 4, "", (12.0, -30.0))]


# -- labels ----------------------------------------------------------------------------------------------------------
def test_labels_do_not_overlap():
    bounds = QtCore.QRectF(0, 0, 400, 300)
    size = QtCore.QSizeF(80, 30)
    anchors = [QtCore.QPointF(100, 100), QtCore.QPointF(105, 110), QtCore.QPointF(98, 95), QtCore.QPointF(390, 290)]
    rects = layout_labels([(a, size, None) for a in anchors], bounds)
    for i in range(len(rects)):
        assert bounds.contains(rects[i])
        for j in range(i):
            assert not rects[i].intersects(rects[j]), (i, j)
    # A label the user placed stays where it was put.
    placed = layout_labels([(anchors[0], size, QtCore.QPointF(50, 60)), (anchors[1], size, None)], bounds)
    assert placed[0].topLeft() == QtCore.QPointF(150, 160)


def test_labels_in_the_viewer_are_apart_and_can_be_dragged(open_viewer, ct_series):
    # Old code: two measurements ending at one spot printed their labels on top of each other, and labels
    # could not be moved.
    win = open_viewer([ct_series])
    vp = win.active
    m1 = _draw_distance(vp, (10, 10), (30, 30))
    m2 = _draw_distance(vp, (50, 12), (30.3, 30.2))
    vp.canvas.viewport().repaint()
    rects = {id(m): r for m, r, _a in vp.interaction.label_rects}
    assert not rects[id(m1)].intersects(rects[id(m2)])
    r = rects[id(m2)]
    drag(vp, (r.center().x(), r.center().y()), (r.center().x() + 60, r.center().y() + 40))
    assert m2.label_offset is not None and vp.selected is m2
    assert len(shown(vp)) == 2  # the drag moved a label, it drew nothing
    vp.canvas.viewport().repaint()
    moved = {id(m): r for m, r, _a in vp.interaction.label_rects}[id(m2)]
    assert moved.left() == pytest.approx(r.left() + 60, abs=1.5) and moved.top() == pytest.approx(r.top() + 40,
                                                                                                  abs=1.5)
    # Delete removes the selected one only.
    key(vp, Qt.Key_Delete)
    assert shown(vp) == [m1]


def test_copy_values_puts_the_selected_measurement_on_the_clipboard(open_viewer, tmp_path):
    path = write_us(tmp_path / "us.dcm")
    win = open_viewer([str(path)])
    vp = win.active
    m = Measurement("distance", list(bar_ends(vp.current_array(), 150)), key=vp.frame_key)
    vp.measurements.add(m)
    vp.selected = m
    win._viewer_actions["copy_values"].trigger()
    assert QtGui.QGuiApplication.clipboard().text() == "Distance\t10.0 mm"


# -- window presets, auto window, typed W/L -------------------------------------------------------------------------
def test_preset_keys_are_fixed_per_modality_and_the_file_windows_are_apart(open_viewer, ct_series):
    # Old code: the file's windows came first, so "Lung" moved between keys with the file (and showed twice).
    win = open_viewer([ct_series])
    vp = win.active
    key(vp, Qt.Key_4)
    assert (vp.state.center, vp.state.width) == (-600, 1500)  # 4 is Lung for every CT
    key(vp, Qt.Key_1)
    assert (vp.state.center, vp.state.width) == (40, 80)  # 1 is Brain
    key(vp, Qt.Key_1, Qt.ShiftModifier)
    assert (vp.state.center, vp.state.width) == (40, 400)  # the file's own first window
    win._fill_presets()
    texts = [a.text() for a in win.preset_menu.actions()]
    assert texts[0].startswith("Brain") and any(t.startswith("Lung") for t in texts)
    assert sum("Lung" in t for t in texts) == 1


def test_auto_window_and_histogram_presets_on_other_modalities(open_viewer, tmp_path):
    path = write_projection(tmp_path / "cr.dcm", "CR", imager=(0.1, 0.1))
    win = open_viewer([str(path)])
    vp = win.active
    arr = vp.current_array().astype(float)
    key(vp, Qt.Key_A)
    lo, hi = np.percentile(arr, [1, 99])
    assert vp.state.width == pytest.approx(hi - lo + 1)
    key(vp, Qt.Key_4)  # "Full range" for modalities without fixed values
    assert vp.state.width == pytest.approx(arr.max() - arr.min() + 1)


def test_window_level_typed_in(open_viewer, ct_series, qtbot):
    from workstation.gui.viewer.wl_dialog import open_window_level_dialog

    win = open_viewer([ct_series])
    vp = win.active
    start = (vp.state.center, vp.state.width)
    dlg = open_window_level_dialog(vp)
    dlg.width_box.setValue(350)
    dlg.level_box.setValue(50)
    assert (vp.state.center, vp.state.width) == (50, 350)
    assert dlg.low_box.value() == pytest.approx(-125) and dlg.high_box.value() == pytest.approx(225)
    dlg.low_box.setValue(-1000)
    assert (vp.state.center, vp.state.width) == (-387.5, 1225)
    dlg.reject()
    assert (vp.state.center, vp.state.width) == start


def test_actions_for_the_menu_bar(open_viewer, ct_series):
    from workstation.gui.viewer.tool_actions import viewer_actions

    win = open_viewer([ct_series], layout="1x2")
    acts = viewer_actions(win)
    assert viewer_actions(win) is acts  # built once: one action (and one shortcut) per command
    for name in ("tool.polygon", "tool.freehand", "tool.arrow", "tool.text", "tool.point", "tool.cobb",
                 "window_level", "auto_window", "copy_values", "calibrate", "delete_measurement"):
        assert name in acts
    assert acts["tool.polygon"].shortcut().toString() == "Y"
    assert acts["window_level"].shortcut().toString() == "Ctrl+L"
    acts["tool.cobb"].trigger()
    assert all(v.state.tool == "cobb" for v in win.viewports) and acts["tool.cobb"].isChecked()
    assert acts["tool.distance"] is win.tool_actions["distance"]  # the tool bar's own action, not a twin


# -- the scale bar uses the measurements' calibration --------------------------------------------------------------
def _bar_mm_per_image_pixel(vp):
    from workstation.gui.viewer.overlay import scale_bar

    mm, px = scale_bar(vp)
    return mm / (px / vp.effective_zoom())  # mm per image column


def test_the_scale_bar_of_an_ultrasound_image_uses_its_regions(open_viewer, tmp_path):
    # Old code: no PixelSpacing, so no bar at all, although the regions give 0.1 mm per pixel.
    from workstation.gui.viewer.overlay import scale_bar_label

    win = open_viewer([str(write_us(tmp_path / "us.dcm"))])
    vp = win.active
    assert _bar_mm_per_image_pixel(vp) == pytest.approx(0.1)
    from workstation.gui.viewer.overlay import scale_bar

    mm, _px = scale_bar(vp)
    assert scale_bar_label(vp, mm) == f"{mm:g} mm (US region)"


@pytest.mark.parametrize("kwargs, spacing, expect", [
    ({"imager": (0.1, 0.1)}, 0.1, "at detector"),
    ({"imager": (0.125, 0.125), "ermf": 1.25}, 0.1, "magnification corrected ÷1.25"),
])
def test_the_scale_bar_of_a_projection_says_on_which_plane(open_viewer, tmp_path, kwargs, spacing, expect):
    # Old code: the bar used the geometry's spacing and said plain "mm" - at the detector it is not the patient.
    from workstation.gui.viewer.overlay import scale_bar, scale_bar_label

    win = open_viewer([str(write_projection(tmp_path / "dx.dcm", "DX", **kwargs))])
    vp = win.active
    assert _bar_mm_per_image_pixel(vp) == pytest.approx(spacing)
    mm, _px = scale_bar(vp)
    assert scale_bar_label(vp, mm) == f"{mm:g} mm ({expect})"


def test_the_scale_bar_follows_a_manual_calibration_and_hides_without_one(open_viewer, tmp_path, monkeypatch):
    from workstation.gui.viewer.overlay import scale_bar, scale_bar_label

    win = open_viewer([str(write_unspaced(tmp_path / "a.dcm", bar_px=80))])
    vp = win.active
    assert scale_bar(vp) is None  # no calibration: no bar (never a bar in pixels passed off as mm)
    annotations.set_manual_calibration(vp, (10.0, 20.0), (50.0, 20.0), 20.0)  # 40 px = 20 mm
    assert _bar_mm_per_image_pixel(vp) == pytest.approx(0.5)
    mm, _px = scale_bar(vp)
    assert scale_bar_label(vp, mm) == f"{mm:g} mm (manual calibration)"
