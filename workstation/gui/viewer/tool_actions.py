"""The viewer's tool and window actions as QActions with their shortcuts, for the menu bar and the tool bar.

:func:`viewer_actions` builds them once per window (the same QAction objects serve the menu and the tool bar, so a
shortcut is never registered twice: Qt calls two actions on one key "ambiguous" and runs neither). Names:

* ``tool.<name>`` for every tool of :data:`workstation.gui.viewer.state.TOOLS` (checkable, exclusive; the key
  of :data:`workstation.gui.viewer.interaction.TOOL_KEYS`),
* ``window_level`` (Ctrl+L: type W/L), ``auto_window`` (A: 1st-99th percentile), ``copy_values``
  (Ctrl+Shift+C: the selected measurement's values, or all on the image, as text), ``delete_measurement``
  (Delete), ``calibrate`` (Shift+K: the calibration line tool; K marks key images), ``clear_calibration``.

:func:`fill_presets_menu` lists the modality's presets (keys 1..9) and, apart, the file's own windows
(Shift+1..9).
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.viewer import annotations, tools_roi  # noqa: F401 - tools_roi registers the tools
from workstation.gui.viewer.interaction import TOOL_KEYS
from workstation.gui.viewer.state import TOOLS
from workstation.gui.viewer.wl_dialog import open_window_level_dialog

TOOL_NAMES = {
    "window": QtCore.QT_TRANSLATE_NOOP("Tools", "Window/level"), "zoom": QtCore.QT_TRANSLATE_NOOP("Tools", "Zoom"), "pan": QtCore.QT_TRANSLATE_NOOP("Tools", "Pan"),
    "probe": QtCore.QT_TRANSLATE_NOOP("Tools", "Probe"), "distance": QtCore.QT_TRANSLATE_NOOP("Tools", "Distance"), "angle": QtCore.QT_TRANSLATE_NOOP("Tools", "Angle"),
    "rectangle": QtCore.QT_TRANSLATE_NOOP("Tools", "Rectangle ROI"), "ellipse": QtCore.QT_TRANSLATE_NOOP("Tools", "Ellipse ROI"),
    "polygon": QtCore.QT_TRANSLATE_NOOP("Tools", "Polygon ROI"), "freehand": QtCore.QT_TRANSLATE_NOOP("Tools", "Freehand ROI"), "arrow": QtCore.QT_TRANSLATE_NOOP("Tools", "Arrow"),
    "text": QtCore.QT_TRANSLATE_NOOP("Tools", "Text"), "point": QtCore.QT_TRANSLATE_NOOP("Tools", "Point"), "cobb": QtCore.QT_TRANSLATE_NOOP("Tools", "Cobb angle"),
    "calibrate": QtCore.QT_TRANSLATE_NOOP("Tools", "Calibrate (line of known length)"),
    "crosshair": QtCore.QT_TRANSLATE_NOOP("Tools", "Crosshair (3D cursor)"),
}
TOOL_HELP = {
    "polygon": QtCore.QT_TRANSLATE_NOOP("Tools", "Polygon ROI: click each vertex; double-click, Enter or a click on the first vertex "
                           "closes it (Y). Area in mm², mean/SD/min/max in the image's units"),
    "freehand": QtCore.QT_TRANSLATE_NOOP("Tools", "Freehand ROI: press and trace the outline; the release closes it (L)"),
    "arrow": QtCore.QT_TRANSLATE_NOOP("Tools", "Arrow: press on what it points at, drag to its tail (U)"),
    "text": QtCore.QT_TRANSLATE_NOOP("Tools", "Text: click where it goes and type it (X)"),
    "point": QtCore.QT_TRANSLATE_NOOP("Tools", "Point: click; shows the value there (J)"),
    "crosshair": QtCore.QT_TRANSLATE_NOOP("Tools", "Crosshair: click or drag to put the 3D cursor there - the other "
                                          "viewports of its Frame of Reference (in MPR the other planes) go through "
                                          "that point; in MPR, Ctrl+drag turns the other planes (oblique)"),
    "cobb": QtCore.QT_TRANSLATE_NOOP("Tools", "Cobb angle: drag along the first endplate, then along the second (C)"),
    "calibrate": QtCore.QT_TRANSLATE_NOOP("Tools", "Calibrate: drag along an object of known length and type its length in mm; the "
                             "series is calibrated for this session (Shift+K)"),
}

# Tools on a shifted key (a window shortcut: listed in the menu and F1's list). K itself marks key images.
SHIFTED_TOOL_KEYS = {"calibrate": "Shift+K"}


# The default presets' names (workstation.config) for the catalogues; a user's own names show as typed.
_PRESET_NAMES = (
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Brain"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Subdural"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Stroke"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Lung"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Mediastinum"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Bone"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Liver"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Abdomen"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Angio"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Auto (1-99 %)"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Wide (0.1-99.9 %)"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Narrow (5-95 %)"),
    QtCore.QT_TRANSLATE_NOOP("WindowPreset", "Full range"),
)


def _tr(text: str) -> str:
    return QtCore.QCoreApplication.translate("Tools", text)


def _key_text(key) -> str:
    return QtGui.QKeySequence(int(key.value) if hasattr(key, "value") else int(key)).toString()


def viewer_actions(window) -> dict[str, QtGui.QAction]:
    """The actions of ``window`` (a ViewerWindow: ``active`` viewport, ``set_tool``), built once."""
    existing = getattr(window, "_viewer_actions", None)
    if existing is not None:
        return existing
    acts: dict[str, QtGui.QAction] = {}
    # The tool bar's tool actions (window.tool_actions) are reused, so each tool has one action and one check.
    toolbar = getattr(window, "tool_actions", None)
    if toolbar is None:
        toolbar = window.tool_actions = {}
    group = next((a.actionGroup() for a in toolbar.values() if a.actionGroup() is not None), None)
    if group is None:
        group = QtGui.QActionGroup(window)
        group.setExclusive(True)
    keys = {name: key for key, name in TOOL_KEYS.items()}
    for name in TOOLS:
        act = toolbar.get(name)
        if act is None:
            act = QtGui.QAction(_tr(TOOL_NAMES.get(name, name)), window, checkable=True)
            act.triggered.connect(lambda _c=False, t=name: window.set_tool(t))
            group.addAction(act)
            toolbar[name] = act
        if name in keys:
            act.setShortcut(QtGui.QKeySequence(_key_text(keys[name])))
        elif name in SHIFTED_TOOL_KEYS:
            act.setShortcut(QtGui.QKeySequence(SHIFTED_TOOL_KEYS[name]))
        if name in TOOL_HELP:
            act.setToolTip(_tr(TOOL_HELP[name]))
            act.setStatusTip(_tr(TOOL_HELP[name]))
        acts[f"tool.{name}"] = act

    def add(key: str, text: str, fn, shortcut: str | None = None, tip: str = "") -> None:
        act = QtGui.QAction(text, window)
        if shortcut:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        act.triggered.connect(lambda _c=False: fn(window.active) if window.active is not None else None)
        acts[key] = act

    add("window_level", QtCore.QCoreApplication.translate("Tools", "Window/level…"), open_window_level_dialog, "Ctrl+L",
        QtCore.QCoreApplication.translate("Tools", "Type the window width and level (or the lowest and highest value shown)"))
    add("auto_window", QtCore.QCoreApplication.translate("Tools", "Auto window"), lambda vp: vp.auto_window(), "A",
        QtCore.QCoreApplication.translate("Tools", "Window from this image's histogram: 1st to 99th percentile"))
    add("copy_values", QtCore.QCoreApplication.translate("Tools", "Copy measurement values"), annotations.copy_values, "Ctrl+Shift+C",
        QtCore.QCoreApplication.translate("Tools", "Copy the selected measurement's values (or every measurement on the image) as text"))
    add("delete_measurement", QtCore.QCoreApplication.translate("Tools", "Delete measurement"), lambda vp: vp.delete_selected(), "Delete",
        QtCore.QCoreApplication.translate("Tools", "Delete the selected measurement (click one to select it)"))
    add("clear_calibration", QtCore.QCoreApplication.translate("Tools", "Remove manual calibration"), annotations.clear_manual_calibration, None,
        QtCore.QCoreApplication.translate("Tools", "Measure this series with the file's own spacing again"))
    acts["calibrate"] = acts["tool.calibrate"]
    window._viewer_actions = acts
    return acts


def fill_presets_menu(menu: QtWidgets.QMenu, window) -> None:
    """The active viewport's presets: the modality's on 1..9, then the file's own windows on Shift+1..9."""
    menu.clear()
    vp = window.active
    if vp is None:
        return
    for i, p in enumerate(vp.user_presets()):
        name = QtCore.QCoreApplication.translate("WindowPreset", p.name)
        text = (QtCore.QCoreApplication.translate("Tools", "{0}  (W {1:g} L {2:g})").format(name, p.width, p.center) if p.percentiles is None
                else name)
        act = menu.addAction(text)
        act.setShortcut(QtGui.QKeySequence(str(i + 1)))
        act.setShortcutContext(QtCore.Qt.WidgetShortcut)  # shown, not registered: the viewport handles the key
        act.triggered.connect(lambda _c=False, k=i: window.active and window.active.apply_preset(k))
    own = vp.file_presets()
    if own:
        menu.addSection(QtCore.QCoreApplication.translate("Tools", "From the file"))
    for i, p in enumerate(own):
        w = p.window
        text = p.name if p.source == "lut" else QtCore.QCoreApplication.translate("Tools", "{0}  (W {1:g} L {2:g})").format(p.name, w.width, w.center)
        act = menu.addAction(text)
        if i < 9:
            act.setShortcut(QtGui.QKeySequence(f"Shift+{i + 1}"))
            act.setShortcutContext(QtCore.Qt.WidgetShortcut)
        act.triggered.connect(lambda _c=False, k=i: window.active and window.active.apply_file_preset(k))


def install_annotation_tools(window, toolbar: QtWidgets.QToolBar) -> None:
    """Put the annotation tools (one drop-down button) and Window/level… on the viewer's tool bar."""
    acts = viewer_actions(window)
    button = QtWidgets.QToolButton(window)
    button.setText(QtCore.QCoreApplication.translate("Tools", "Annotate"))
    button.setToolTip(QtCore.QCoreApplication.translate("Tools", "Polygon and freehand ROIs, arrow, text, point, Cobb angle, calibration"))
    button.setPopupMode(QtWidgets.QToolButton.InstantPopup)
    menu = QtWidgets.QMenu(button)
    for name in ("polygon", "freehand", "arrow", "text", "point", "cobb", "calibrate"):
        menu.addAction(acts[f"tool.{name}"])
    menu.addSeparator()
    for name in ("copy_values", "delete_measurement", "clear_calibration"):
        menu.addAction(acts[name])
    button.setMenu(menu)
    toolbar.addWidget(button)
    toolbar.addAction(acts["window_level"])
    # Registered on the window: the shortcuts work with or without a menu bar holding them.
    window.addActions([acts[k] for k in ("window_level", "copy_values")])
