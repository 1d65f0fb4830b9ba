"""Small input defects of issue 10: focus, Esc, the Probe drag, tools and hints of cells added by a layout."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest

from viewer_events import centre, drag, key

Qt = QtCore.Qt


def test_keys_go_to_the_image_when_the_viewer_opens(open_viewer, ct_series, qtbot):
    win = open_viewer([ct_series])
    win.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.focusWidget() is not None, timeout=5000)
    focus = QtWidgets.QApplication.focusWidget()
    assert focus is win.active.canvas  # the old window gave the focus to the series strip
    QTest.keyClick(focus, Qt.Key_Down)
    assert win.active.state.frame == 1
    assert win.thumbnails.focusPolicy() == Qt.NoFocus


def test_esc_with_nothing_selected_keeps_zoom_and_window(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(zoom=3.0, center=123.0, width=77.0)
    key(vp, Qt.Key_Escape)
    key(vp, Qt.Key_Backspace)
    assert (vp.state.zoom, vp.state.center, vp.state.width) == (3.0, 123.0, 77.0)  # were reset to fit and 40/400


def test_a_probe_drag_does_not_change_the_window(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    win.set_tool("probe")
    before = (vp.state.center, vp.state.width)
    x, y = centre(vp)
    drag(vp, (x, y), (x + 60, y + 40))
    assert (vp.state.center, vp.state.width) == before
    assert vp.probe  # the probe followed the pointer


def test_viewports_added_by_a_layout_get_the_current_tool_and_an_empty_cell_says_what_to_do(open_viewer, ct_series):
    win = open_viewer([ct_series])
    win.set_tool("distance")
    win.set_layout("2x2")
    assert [vp.state.tool for vp in win.visible_viewports] == ["distance"] * 4  # were "window"
    empty = win.viewports[1]
    assert empty.stack is None and empty.message == "Drag a series here"
    assert empty._label.isVisible()
