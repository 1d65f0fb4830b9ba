"""The viewer window's chrome: a menu bar holding every action with its key, Help listing them, F11 full screen,
double-click to maximise one viewport of a layout and back, a title naming the study, a size from the screen."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtTest import QTest

from viewer_data import write_ct_series
from viewer_events import key
from workstation.gui.viewer import menus

Qt = QtCore.Qt


def _menu_actions(win) -> dict[str, QtGui.QAction]:
    """Every leaf action of the menu bar by its path ("View/Invert"), and by itself."""
    out: dict[str, QtGui.QAction] = {}

    def walk(menu, path):
        for act in menu.actions():
            if act.menu() is not None:
                walk(act.menu(), f"{path}/{act.menu().title().replace('&', '')}")
            elif not act.isSeparator():
                out[f"{path}/{act.text().replace('&', '').split(chr(9))[0]}"] = act

    for top in win.menuBar().actions():
        walk(top.menu(), top.menu().title().replace("&", ""))
    return out


def test_the_menu_bar_holds_every_action_with_its_key(open_viewer, tmp_path):
    win = open_viewer([write_ct_series(tmp_path / "ct", 4)])
    acts = _menu_actions(win)
    keys = {path: a.shortcut().toString() for path, a in acts.items()}
    expected = {
        "File/Export PNG…": "Ctrl+E", "File/Copy image": "Ctrl+C",
        "View/Layout/1x1": "Ctrl+1", "View/Layout/2x2": "Ctrl+4", "View/Full screen": "F11",
        "View/Reset view": "", "View/Invert": "I", "View/Rotate right": "R", "View/Rotate left": "Shift+R",
        "View/Flip horizontally": "H", "View/Flip vertically": "V", "View/Fit to window": "F",
        "View/Annotations": "O", "View/Overlay planes": "Shift+O", "View/Tag browser": "Ctrl+T",
        "View/Cine/Play / stop": "Space", "Help/Keyboard shortcuts…": "F1",
    }
    for path, sequence in expected.items():
        assert keys.get(path) == sequence, (path, keys.get(path))
    assert QtGui.QKeySequence("Ctrl+W") in acts["File/Close"].shortcuts()
    assert any(p.startswith("View/Maximise viewport") for p in acts)
    # Every tool, with its key.
    tool_keys = {a.text(): a.shortcut().toString() for p, a in acts.items() if p.startswith("Tools/")}
    assert {"W", "Z", "P", "D", "G", "T", "E"} <= set(tool_keys.values()), tool_keys
    # Every action of the tool bar is in the menus (the same action, or the menu item doing the same).
    same = {"Auto": "Window/Auto", "Invert": "View/Invert", "Rotate": "View/Rotate right",
            "Flip H": "View/Flip horizontally", "Flip V": "View/Flip vertically", "Fit": "View/Fit to window",
            "1:1": "View/Actual pixels (1:1)", "Reset": "View/Reset view", "Tags": "View/Tag browser"}
    menu_objects = set(acts.values())
    for tb in win.findChildren(QtWidgets.QToolBar):
        for act in tb.actions():
            if act.isSeparator() or isinstance(act, QtWidgets.QWidgetAction) or not act.text():
                continue
            if act in menu_objects:
                continue
            path = same.get(act.text())
            assert path is not None and any(p.startswith(path) for p in acts), act.text()


def test_export_and_copy_are_never_hidden_in_the_tool_bar_overflow(open_viewer, tmp_path, qtbot):
    win = open_viewer([write_ct_series(tmp_path / "ct", 4)])
    win.resize(700, 600)
    qtbot.wait(50)
    for act in (win.export_action, win.copy_action):
        button = next(tb.widgetForAction(act) for tb in win.findChildren(QtWidgets.QToolBar)
                      if tb.widgetForAction(act) is not None)
        assert button.isVisible()
        corner = button.mapTo(win, QtCore.QPoint(button.width(), button.height()))
        assert win.rect().contains(corner)


def test_viewport_keys_stay_with_the_viewport(open_viewer, tmp_path):
    """A key shown in a menu but handled by the viewport runs once (a window shortcut as well would make Qt call
    it ambiguous and run nothing, or run it twice)."""
    vp = open_viewer([write_ct_series(tmp_path / "ct", 4)]).active
    key(vp, Qt.Key_I)
    assert vp.state.invert is True
    key(vp, Qt.Key_R)
    assert vp.state.rotation == 90


def test_menu_items_act_on_the_active_viewport(open_viewer, tmp_path):
    win = open_viewer([write_ct_series(tmp_path / "ct", 4)])
    acts = _menu_actions(win)
    acts["View/Invert"].trigger()
    assert win.active.state.invert is True
    acts["View/Layout/1x2"].trigger()
    assert win.layout_name == "1x2"
    acts["View/Tag browser"].trigger()
    assert win.tags_dock.isVisible()


def test_f11_switches_full_screen(open_viewer, tmp_path, qtbot):
    win = open_viewer([write_ct_series(tmp_path / "ct", 4)])
    win.activateWindow()
    win.active.canvas.setFocus()
    QTest.keyClick(win.active.canvas, Qt.Key_F11)
    qtbot.waitUntil(lambda: bool(win.windowState() & Qt.WindowFullScreen), timeout=3000)
    assert win.full_screen_action.isChecked()
    QTest.keyClick(win.active.canvas, Qt.Key_F11)
    qtbot.waitUntil(lambda: not win.windowState() & Qt.WindowFullScreen, timeout=3000)


def test_double_click_maximises_a_viewport_of_the_layout_and_back(open_viewer, tmp_path, qtbot):
    a = write_ct_series(tmp_path / "a", 4)
    b = write_ct_series(tmp_path / "b", 4, series_number=2)
    win = open_viewer([a, b], layout="2x2")
    target = win.viewports[1]
    center = target.canvas.viewport().rect().center()
    QTest.mouseDClick(target.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, center)
    qtbot.waitUntil(lambda: menus.maximised_viewport(win) is target, timeout=2000)
    assert [vp.isVisible() for vp in win.visible_viewports] == [False, True, False, False]
    assert win.active is target
    qtbot.waitUntil(lambda: target.width() > win.centralWidget().width() * 0.9, timeout=2000)
    QTest.mouseDClick(target.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, center)
    qtbot.waitUntil(lambda: all(vp.isVisible() for vp in win.visible_viewports), timeout=2000)
    assert menus.maximised_viewport(win) is None
    # With a drawing tool, a double-click is the tool's (no maximising).
    win.set_tool("distance")
    QTest.mouseDClick(target.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, center)
    assert menus.maximised_viewport(win) is None


def test_the_title_names_patient_date_and_description(open_viewer, tmp_path):
    win = open_viewer([write_ct_series(tmp_path / "ct", 4)])
    assert win.windowTitle() == "Patient, Test — 2024-01-02 — Chest CT".replace("Patient, Test", "Test, Patient")
    other = write_ct_series(tmp_path / "other", 2)  # another study
    win2 = open_viewer([write_ct_series(tmp_path / "ct2", 2), other])
    assert win2.windowTitle().endswith("(+1 other study)")


def test_the_first_size_comes_from_the_screen(qtbot):
    from workstation.gui.viewer.window import ViewerWindow

    assert menus.initial_size(QtCore.QSize(3840, 2160)) == QtCore.QSize(3456, 1944)
    win = ViewerWindow([])
    try:
        avail = win.screen().availableGeometry().size()
        assert win.size() == menus.initial_size(avail).boundedTo(avail)
        assert win.size() != QtCore.QSize(1400, 900)
    finally:
        win.close()


def test_help_lists_the_shortcuts(open_viewer, tmp_path):
    win = open_viewer([write_ct_series(tmp_path / "ct", 4)])
    rows = menus.shortcut_rows(win)
    assert ("File", "Export PNG…", "Ctrl+E") in rows
    assert ("View", "Full screen", "F11") in rows
    assert any(r[2] == "Page Up / Page Down" for r in rows)
    dlg = menus.show_shortcuts(win)
    table = dlg.findChild(QtWidgets.QTableWidget)
    assert table.rowCount() == len(rows)
    dlg.close()
