"""Reference lines and the 3D cursor in the viewer, on phantoms with analytic geometry: an axial stack
(z = -2 + 1.5 k mm) and a sagittal stack (rows run down from z = 60 mm, 1.5 mm apart) of one Frame of Reference."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore
from pydicom.uid import generate_uid

from tests.imaging.phantoms import regular, stack_positions, write_series

Qt = QtCore.Qt
SAGITTAL = (0, 1, 0, 0, 0, -1)


@pytest.fixture
def two_planes(tmp_path):
    for_uid, study = generate_uid(), generate_uid()
    axial = regular(tmp_path / "ax", n=40, gap=1.5, for_uid=for_uid, study_uid=study, shuffle=False)
    sag = write_series(tmp_path / "sag", stack_positions((-30.0, -36.0, 60.0), (3.0, 0, 0), 21), SAGITTAL,
                       for_uid=for_uid, study_uid=study, shuffle=False)
    other = regular(tmp_path / "other", n=10, gap=1.5, for_uid=generate_uid(), study_uid=study, shuffle=False)
    return [[str(p) for p in axial], [str(p) for p in sag], [str(p) for p in other]]


def viewports_by_count(win):
    return {len(vp.stack): vp for vp in win.visible_viewports if vp.stack is not None}


def current_line(vp):
    return next(seg for seg, kind in vp.reference_lines if kind == "current")


def test_the_axial_slice_read_is_drawn_on_the_sagittal_image_where_it_lies(open_viewer, qtbot, two_planes):
    win = open_viewer(two_planes, layout="2x2")
    qtbot.waitUntil(lambda: len(viewports_by_count(win)) == 3, timeout=15000)
    vps = viewports_by_count(win)
    axial, sagittal, other = vps[40], vps[21], vps[10]
    win._set_active(axial)
    for k in (0, 13, 39):
        axial.state.update(frame=k)
        qtbot.waitUntil(lambda: bool(sagittal.reference_lines), timeout=3000)
        qtbot.wait(20)
        z = -2.0 + 1.5 * k
        (r0, c0), (r1, c1) = sorted(current_line(sagittal))
        assert r0 == pytest.approx((60.0 - z) / 1.5, abs=1e-6) and r1 == pytest.approx(r0, abs=1e-6)
        assert (c0, c1) == pytest.approx((-0.5, 47.5), abs=1e-6)  # the axial field of view spans the width
    # The first and last slices of the stack are drawn too (dashed); the current one is the last (39) here.
    ends = [seg for seg, kind in sagittal.reference_lines if kind == "end"]
    assert [round(seg[0][0], 4) for seg in ends] == [round((60.0 + 2.0) / 1.5, 4)]
    # Another Frame of Reference: no line, ever; a parallel stack: no line either.
    assert not getattr(other, "reference_lines", [])
    # Switched off, the lines go.
    win.reflines_action.trigger()
    assert not sagittal.reference_lines
    win.reflines_action.trigger()
    assert sagittal.reference_lines


def test_shift_click_takes_the_other_viewports_to_the_slice_through_that_point(open_viewer, qtbot, two_planes):
    win = open_viewer(two_planes, layout="2x2")
    qtbot.waitUntil(lambda: len(viewports_by_count(win)) == 3, timeout=15000)
    vps = viewports_by_count(win)
    axial, sagittal, other = vps[40], vps[21], vps[10]
    sagittal.state.update(frame=10)  # x = 0 mm
    axial.state.update(frame=0)
    other_frame = other.state.frame
    qtbot.wait(50)
    pos = sagittal.widget_point((10 + 0.5, 20 + 0.5)).toPoint()  # row 20, column 10: y = -21, z = 30 mm
    qtbot.mouseClick(sagittal.canvas.viewport(), Qt.LeftButton, Qt.ShiftModifier, pos)
    picked = sagittal.image_point(QtCore.QPointF(pos))
    z = 60.0 - 1.5 * (picked.y() - 0.5)
    y = -36.0 + 1.5 * (picked.x() - 0.5)
    expected = int(np.argmin([abs(-2.0 + 1.5 * k - z) for k in range(40)]))
    qtbot.waitUntil(lambda: axial.state.frame == expected, timeout=3000)
    frame, r, c = axial.cursor_mark
    assert frame == expected
    assert r == pytest.approx((y + 36.0) / 1.5, abs=1e-6) and c == pytest.approx(36.0 / 1.5, abs=1e-6)
    assert other.state.frame == other_frame and other.cursor_mark is None  # another Frame of Reference
    assert not sagittal.measurements.on(sagittal.frame_key)  # the click drew nothing
    assert "3D cursor at (0.0, " in win.statusBar().currentMessage()


def test_marking_the_same_point_in_two_studies_syncs_them(open_viewer, qtbot, tmp_path):
    """Current and prior from different scanners (Frames of Reference, the prior 500 mm away in its own coordinates):
    Shift+click the same place in each, then scrolling one keeps the other at the same anatomy."""
    cur = regular(tmp_path / "cur", n=30, gap=1.5, for_uid=generate_uid(), study_uid=generate_uid(), shuffle=False)
    pri = write_series(tmp_path / "pri", stack_positions((-36.0, -36.0, 489.0), (0, 0, 1.5), 30),
                       for_uid=generate_uid(), study_uid=generate_uid(), shuffle=False)
    win = open_viewer([[str(p) for p in cur], [str(p) for p in pri]], layout="1x2")
    qtbot.waitUntil(lambda: all(vp.stack is not None for vp in win.visible_viewports), timeout=15000)
    a, b = win.visible_viewports
    if float(a.stack.geometry(0).image_position[2]) > 400:  # which is which
        a, b = b, a
    a.state.update(frame=10)
    b.state.update(frame=3)
    qtbot.wait(50)
    # The same point: slice 10 of the current and the prior slice 500 mm higher in its own coordinates.
    za = float(a.stack.geometry(10).image_position[2])
    k_b = next(k for k in range(len(b.stack)) if abs(float(b.stack.geometry(k).image_position[2]) - (za + 500)) < 0.1)
    for vp, frame in ((a, 10), (b, k_b)):
        vp.state.update(frame=frame)
        qtbot.wait(20)
        pos = vp.widget_point((24 + 0.5, 24 + 0.5)).toPoint()
        qtbot.mouseClick(vp.canvas.viewport(), Qt.LeftButton, Qt.ShiftModifier, pos)
    assert "now correspond" in win.statusBar().currentMessage()
    a.state.update(frame=16)
    qtbot.wait(50)
    zb = float(b.stack.geometry(b.state.frame).image_position[2])
    assert zb - 500 == pytest.approx(float(a.stack.geometry(16).image_position[2]), abs=0.76)
