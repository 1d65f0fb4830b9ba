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
