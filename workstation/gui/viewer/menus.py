"""The viewer window's chrome: its menu bar (every action with its shortcut), Help's list of shortcuts, full screen,
one viewport of a layout maximised and back, the window's title and first size.

The menus are built from the window's own actions: the tool bar's checkable ones (``play_action``,
``overlay_action``, ``planes_action``, ``sync_action``), the tools and window/level actions of
:mod:`workstation.gui.viewer.tool_actions` when that module is there (:func:`tool_actions`: one QAction per tool,
so a key is never registered twice - Qt runs neither of two actions sharing a shortcut), and small actions of its
own that call the active viewport as the tool bar does.

Keys that the viewport itself handles (arrows, I, R, Space...) are shown in the menus but registered only
while the menu is open (``Qt.WidgetShortcut`` on an action that lives in the menu alone): the viewport keeps them
and what they do there (Esc first cancels a measurement being drawn), and the menu says which key it is.
Window-wide keys (F11, Ctrl+E, Ctrl+C, Ctrl+1..4, F1) are real window shortcuts.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

Qt = QtCore.Qt

# Layout names (window.LAYOUTS) with their window-wide keys; digits alone are the viewport's preset keys.
LAYOUT_KEYS = {"1x1": "Ctrl+1", "1x2": "Ctrl+2", "2x1": "Ctrl+3", "2x2": "Ctrl+4"}
# What the viewport does with keys and the mouse that no menu item stands for (Help lists them too).
VIEWPORT_KEYS = [
    ("Up / Down, Left / Right, mouse wheel", QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Previous / next image")),
    ("Page Up / Page Down", QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "10 images back / forward")),
    ("Home / End", QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "First / last image")),
    ("1 … 9", QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Window presets")),
    ("Esc", QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Cancel the measurement being drawn, else deselect it")),
    (QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Right button drag"), QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Zoom")),
    (QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Middle button drag"), QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Pan")),
    (QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Double-click (W/L, zoom, pan, probe)"),
     QtCore.QT_TRANSLATE_NOOP("ViewerMenus", "Maximise the viewport in its layout, and back")),
]


def _tr(text: str) -> str:
    return QtCore.QCoreApplication.translate("ViewerMenus", text)


class _Plurals(QtCore.QObject):
    """Counted texts: Qt's plural forms come from ``tr`` with ``n`` (lupdate finds them in a class)."""

    def other_studies(self, n: int) -> str:
        return self.tr("(+%n other study(ies))", "", n)


# -- title and size -----------------------------------------------------------------------------------------------
def _name(value) -> str:
    parts = [p for p in str(value or "").split("=")[0].split("^") if p]
    return f"{parts[0]}, {' '.join(parts[1:])}" if len(parts) >= 2 else (parts[0] if parts else "")


def _date(value) -> str:
    v = str(value or "").strip()
    return f"{v[:4]}-{v[4:6]}-{v[6:]}" if len(v) == 8 and v.isdigit() else v


def window_title(headers) -> str:
    """"Doe, Jane — 2024-01-02 — Chest CT" from the series headers shown (the first study's), with the number of
    further studies when a window compares several; "Viewer" before anything is known."""
    headers = [h for h in headers if h]
    if not headers:
        return QtCore.QCoreApplication.translate("ViewerMenus", "Viewer")
    h = headers[0]
    parts = [x for x in (_name(h.get("PatientName")), _date(h.get("StudyDate")),
                         str(h.get("StudyDescription") or "").strip()) if x]
    title = " — ".join(parts) or QtCore.QCoreApplication.translate("ViewerMenus", "Viewer")
    others = {str(x.get("StudyInstanceUID") or "") for x in headers} - {str(h.get("StudyInstanceUID") or "")}
    if others:
        title += " " + _Plurals().other_studies(len(others))
    return title


def update_title(win) -> None:
    headers = [e.header for e in getattr(win, "entries", [])] or [vp.header for vp in win.viewports if vp.header]
    win.setWindowTitle(window_title(headers))


def initial_size(available: QtCore.QSize) -> QtCore.QSize:
    """The first size of a viewer window: most of the screen's free area (a fixed 1400x900 was a stamp on a 4K
    reading screen and larger than a laptop's)."""
    return QtCore.QSize(max(640, int(available.width() * 0.9)), max(480, int(available.height() * 0.9)))


def size_to_screen(win) -> None:
    screen = win.screen() or QtGui.QGuiApplication.primaryScreen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    size = initial_size(avail.size()).boundedTo(avail.size())
    win.resize(size)
    win.move(avail.center() - QtCore.QPoint(size.width() // 2, size.height() // 2))


# -- full screen and the maximised viewport -----------------------------------------------------------------------
def toggle_full_screen(win) -> None:
    if win.isFullScreen():
        win.showMaximized() if getattr(win, "_was_maximized", False) else win.showNormal()
    else:
        win._was_maximized = win.isMaximized()
        win.showFullScreen()
    act = getattr(win, "full_screen_action", None)
    if act is not None:
        act.setChecked(win.isFullScreen())


def maximised_viewport(win):
    """The viewport shown alone in its layout, or None."""
    shown = [vp for vp in win.visible_viewports if not vp.isHidden()]
    return shown[0] if len(shown) == 1 and len(win.visible_viewports) > 1 else None


def toggle_maximised(win, vp=None) -> None:
    """Show ``vp`` (default: the active viewport) alone in the window's layout, or the whole layout again."""
    vp = vp or win.active
    if vp is None or vp not in win.visible_viewports or len(win.visible_viewports) < 2:
        return
    if maximised_viewport(win) is not None:
        win.set_layout(win.layout_name)  # every viewport of the layout back in its cell
        win._set_active(vp)
        return
    rows, cols = win.layout_name.split("x")
    k = win.visible_viewports.index(vp)
    row, col = divmod(k, int(cols))
    for other in win.visible_viewports:
        if other is not vp:
            other.hide()
    for i in range(2):  # the empty cells take no room
        win.grid.setRowStretch(i, 1 if i == row else 0)
        win.grid.setColumnStretch(i, 1 if i == col else 0)
    win._set_active(vp)


# -- actions ------------------------------------------------------------------------------------------------------
def tool_actions(win) -> dict[str, QtGui.QAction]:
    """The tools and window/level actions: :func:`workstation.gui.viewer.tool_actions.viewer_actions` when that
    module exists (names ``tool.<name>``, ``window_level``, ``auto_window``, ``copy_values``...), else the tool
    bar's tool actions as ``tool.<name>``. HOOK for the tools work: nothing else here knows their names."""
    try:
        from workstation.gui.viewer.tool_actions import viewer_actions
    except ImportError:
        return {f"tool.{name}": act for name, act in getattr(win, "tool_actions", {}).items()}
    return dict(viewer_actions(win))


def _fill_presets(win, menu: QtWidgets.QMenu) -> None:
    try:
        from workstation.gui.viewer.tool_actions import fill_presets_menu
    except ImportError:
        fill_presets_menu = None
    menu.clear()
    if fill_presets_menu is not None:
        fill_presets_menu(menu, win)
        return
    vp = win.active
    if vp is None:
        return
    for i, p in enumerate(vp.presets()):
        w = p.window
        text = p.name if p.source == "lut" else f"{p.name}  (W {w.width:g} L {w.center:g})"
        act = menu.addAction(text)
        if i < 9:
            _show_key(act, str(i + 1))
        act.triggered.connect(lambda _c=False, k=i: win.active and win.active.apply_preset(k))


def _show_key(act: QtGui.QAction, key: str) -> None:
    """Show ``key`` beside a menu item without taking it from the viewport (active only while the menu is open)."""
    act.setShortcut(QtGui.QKeySequence(key))
    act.setShortcutContext(Qt.WidgetShortcut)


def _active(win, call):
    """A slot calling ``call(viewport)`` on the active viewport, when there is one with an image."""
    def run(*_args):
        vp = win.active
        if vp is not None and vp.stack is not None:
            call(vp)
    return run


def _popup(menu) -> None:
    if menu is not None:
        menu.popup(QtGui.QCursor.pos())


def _add(menu, text, slot, key=None, window_key=False, checkable=False, name=None) -> QtGui.QAction:
    act = QtGui.QAction(text, menu)
    act.setCheckable(checkable)
    if name:
        act.setObjectName(name)
    act.triggered.connect(slot)
    if key and window_key:
        act.setShortcut(QtGui.QKeySequence(key))
        act.setShortcutContext(Qt.WindowShortcut)
    elif key:
        _show_key(act, key)
    menu.addAction(act)
    return act


def _reuse(menu, act: QtGui.QAction | None, text: str | None = None, key: str | None = None) -> None:
    """Put an existing (tool bar) action in ``menu``; ``key`` is shown, not registered, unless it has its own."""
    if act is None:
        return
    if text:
        act.setText(text)
    if key and act.shortcut().isEmpty():
        _show_key(act, key)
    menu.addAction(act)


def build_menus(win) -> QtWidgets.QMenuBar:
    """Fill ``win``'s menu bar (File, View, Tools, Window, Help) and put Export/Copy in a tool bar of their own at
    the left, where an overflowing tool bar never hides them."""
    bar = win.menuBar()
    bar.clear()

    # File
    file_menu = bar.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "&File"))
    win.export_action = _add(file_menu, QtCore.QCoreApplication.translate("ViewerMenus", "Export PNG…"), lambda: win.export_dialog(), "Ctrl+E", True,
                             name="export_png")
    win.copy_action = _add(file_menu, QtCore.QCoreApplication.translate("ViewerMenus", "Copy image"), lambda: win.active and win.active.copy_to_clipboard(True),
                           "Ctrl+C", True, name="copy_image")
    if hasattr(win, "pstates"):
        win.save_ps_action = _add(file_menu, QtCore.QCoreApplication.translate("ViewerMenus", "Save presentation state"),
                                  lambda: win.pstates.save(), "Ctrl+S", True, name="save_ps")
    file_menu.addSeparator()
    close = next((a for a in win.actions() if a.text() in ("Close", QtCore.QCoreApplication.translate("ViewerMenus", "Close"))), None)
    if close is not None:
        file_menu.addAction(close)  # the window's own Close (Ctrl+W and the platform's key)
    else:
        _add(file_menu, QtCore.QCoreApplication.translate("ViewerMenus", "Close"), win.close, "Ctrl+W", True)

    # View
    view = bar.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "&View"))
    layouts = view.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "Layout"))
    group = QtGui.QActionGroup(layouts)
    win.layout_actions = {}
    for name, key in LAYOUT_KEYS.items():
        act = _add(layouts, name, lambda _c=False, n=name: win.set_layout(n), key, True, checkable=True)
        group.addAction(act)
        win.layout_actions[name] = act
    layouts.aboutToShow.connect(lambda: win.layout_actions[win.layout_name].setChecked(True))
    if hasattr(win, "next_protocol"):
        _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Next hanging protocol"), lambda: win.next_protocol(), "Ctrl+P", True, name="next_protocol")
        _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Save layout as protocol…"), lambda: win.save_protocol(), name="save_protocol")
    win.maximise_action = _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Maximise viewport\tDouble-click"), lambda: toggle_maximised(win),
                               name="maximise_viewport")
    win.full_screen_action = _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Full screen"), lambda: toggle_full_screen(win), "F11", True,
                                  checkable=True, name="full_screen")
    view.addSeparator()
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Reset view"), _active(win, lambda vp: vp.reset()))  # no key: Esc only cancels/deselects
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Fit to window"), _active(win, lambda vp: vp.state.fit()), "F")
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Actual pixels (1:1)"), _active(win, lambda vp: vp.state.one_to_one()), "N")
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Invert"), _active(win, lambda vp: vp.state.toggle_invert()), "I")
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Rotate right"), _active(win, lambda vp: vp.state.rotate(1)), "R")
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Rotate left"), _active(win, lambda vp: vp.state.rotate(-1)), "Shift+R")
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Flip horizontally"), _active(win, lambda vp: vp.state.flip_horizontal()), "H")
    _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Flip vertically"), _active(win, lambda vp: vp.state.flip_vertical()), "V")
    view.addSeparator()
    _reuse(view, getattr(win, "overlay_action", None), QtCore.QCoreApplication.translate("ViewerMenus", "Annotations"), "O")
    _reuse(view, getattr(win, "planes_action", None), QtCore.QCoreApplication.translate("ViewerMenus", "Overlay planes"), "Shift+O")
    _reuse(view, getattr(win, "sync_action", None), QtCore.QCoreApplication.translate("ViewerMenus", "Sync parallel stacks"))
    _reuse(view, getattr(win, "reflines_action", None), QtCore.QCoreApplication.translate("ViewerMenus", "Reference lines"))
    _reuse(view, getattr(win, "mpr_action", None), QtCore.QCoreApplication.translate("ViewerMenus", "MPR…"))
    if hasattr(win, "pstates"):
        _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Presentation states…"),
             lambda: _popup(win.pstates.picker()), "Ctrl+Shift+P", True, name="ps_picker")
    if hasattr(win, "toggle_link"):
        _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Unlink / link this viewport"),
             lambda: win.toggle_link(), "Ctrl+U", True, name="toggle_link")
    tags = _add(view, QtCore.QCoreApplication.translate("ViewerMenus", "Tag browser"), lambda: win.tags_dock.setVisible(not win.tags_dock.isVisible()),
                "Ctrl+T", True, checkable=True, name="tag_browser")
    view.aboutToShow.connect(lambda: tags.setChecked(win.tags_dock.isVisible()))
    view.addSeparator()
    cine = view.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "Cine"))
    _reuse(cine, getattr(win, "play_action", None), QtCore.QCoreApplication.translate("ViewerMenus", "Play / stop"), "Space")
    _add(cine, QtCore.QCoreApplication.translate("ViewerMenus", "Faster"), _active(win, lambda vp: vp.state.update(fps=vp.state.fps + (5 if vp.state.fps >= 5
                                                                                          else 1))), "+")
    _add(cine, QtCore.QCoreApplication.translate("ViewerMenus", "Slower"), _active(win, lambda vp: vp.state.update(fps=vp.state.fps - (5 if vp.state.fps > 5
                                                                                          else 1))), "-")

    # Tools (the tools work names its actions; see tool_actions)
    tools = bar.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "&Tools"))
    acts = tool_actions(win)
    for name, act in acts.items():
        if name.startswith("tool."):
            tools.addAction(act)
    placed = set(tools.actions())
    rest = [a for n, a in acts.items() if not n.startswith("tool.") and n != "auto_window" and a not in placed]
    if rest:
        tools.addSeparator()
        for act in dict.fromkeys(rest):  # one entry per action ("calibrate" is also "tool.calibrate")
            tools.addAction(act)
    for act in tools.actions():
        if act.shortcut().isEmpty() and not act.isSeparator():
            key = _tool_key(act, acts)
            if key:
                _show_key(act, key)

    # Window (presets, automatic window)
    window = bar.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "&Window"))
    presets = window.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "Presets"))
    presets.aboutToShow.connect(lambda: _fill_presets(win, presets))
    auto = acts.get("auto_window")
    if auto is not None:
        window.addAction(auto)
    else:
        _add(window, QtCore.QCoreApplication.translate("ViewerMenus", "Automatic window"), _active(win, lambda vp: vp.auto_window()), "A")

    # Help
    help_menu = bar.addMenu(QtCore.QCoreApplication.translate("ViewerMenus", "&Help"))
    _add(help_menu, QtCore.QCoreApplication.translate("ViewerMenus", "Keyboard shortcuts…"), lambda: show_shortcuts(win), "F1", True, name="shortcuts")

    _file_toolbar(win)
    return bar


def _tool_key(act: QtGui.QAction, acts: dict[str, QtGui.QAction]) -> str | None:
    from workstation.gui.viewer.interaction import TOOL_KEYS

    name = next((n[5:] for n, a in acts.items() if a is act and n.startswith("tool.")), None)
    key = next((k for k, t in TOOL_KEYS.items() if t == name), None)
    if key is None:
        return None
    return QtGui.QKeySequence(int(key.value) if hasattr(key, "value") else int(key)).toString()


def _file_toolbar(win) -> None:
    """Export PNG and Copy first, in a tool bar of their own: the main tool bar overflows on a normal window and
    they were the ones hidden behind its » button."""
    main = win.findChild(QtWidgets.QToolBar, "viewer_toolbar")
    tb = QtWidgets.QToolBar(QtCore.QCoreApplication.translate("ViewerMenus", "File"), win)
    tb.setObjectName("viewer_file_toolbar")
    tb.addAction(win.export_action)
    tb.addAction(win.copy_action)
    if main is not None:
        win.insertToolBar(main, tb)
    else:
        win.addToolBar(tb)


# -- Help: the shortcuts ------------------------------------------------------------------------------------------
def shortcut_rows(win) -> list[tuple[str, str, str]]:
    """(menu, action, key) for every menu item with a key, then what the viewport does with keys and the mouse."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QtWidgets.QMenu, path: str) -> None:
        for act in menu.actions():
            if act.menu() is not None:
                walk(act.menu(), f"{path} ▸ {act.menu().title().replace('&', '')}")
            elif not act.isSeparator():
                text, _tab, gesture = act.text().replace("&", "").partition("\t")
                key = act.shortcut().toString(QtGui.QKeySequence.NativeText) or gesture
                if key:
                    rows.append((path, text, key))

    for act in win.menuBar().actions():
        if act.menu() is not None:
            walk(act.menu(), act.menu().title().replace("&", ""))
    rows.extend((QtCore.QCoreApplication.translate("ViewerMenus", "Image"), _tr(what), _tr(key)) for key, what in VIEWPORT_KEYS)
    return rows


def show_shortcuts(win) -> QtWidgets.QDialog:
    dlg = QtWidgets.QDialog(win)
    dlg.setObjectName("shortcuts_dialog")
    dlg.setWindowTitle(QtCore.QCoreApplication.translate("ViewerMenus", "Keyboard shortcuts"))
    dlg.setAttribute(Qt.WA_DeleteOnClose, True)
    rows = shortcut_rows(win)
    table = QtWidgets.QTableWidget(len(rows), 3, dlg)
    table.setHorizontalHeaderLabels([QtCore.QCoreApplication.translate("ViewerMenus", "Menu"), QtCore.QCoreApplication.translate("ViewerMenus", "Action"), QtCore.QCoreApplication.translate("ViewerMenus", "Key")])
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.setItem(r, c, QtWidgets.QTableWidgetItem(value))
    table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeToContents)
    header.setSectionResizeMode(1, QtWidgets.QHeaderView.Stretch)
    header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeToContents)
    table.setWordWrap(True)
    table.resizeRowsToContents()
    buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close, parent=dlg)
    buttons.rejected.connect(dlg.reject)
    lay = QtWidgets.QVBoxLayout(dlg)
    lay.addWidget(table)
    lay.addWidget(buttons)
    dlg.resize(760, 600)
    dlg.show()
    return dlg


def install(win) -> None:
    """The chrome of a new viewer window: menus, size from its screen, a title that follows what it shows."""
    build_menus(win)
    size_to_screen(win)
    win.setWindowTitle(window_title([]))
    win.loaded.connect(lambda: update_title(win))
    win.firstFrameShown.connect(lambda: update_title(win))
