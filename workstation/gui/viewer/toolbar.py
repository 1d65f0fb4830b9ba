"""The viewer window's tool bar: the left-button tools, layouts, presets, view actions, cine, overlays, Sync, Tags
(a mixin of ViewerWindow). Texts stay in the "ViewerWindow" translation context."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.viewer.tool_actions import fill_presets_menu, install_annotation_tools

# More are added by hanging protocols (up to 4x4); window.LAYOUTS is this dict.
LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1), "2x2": (2, 2)}
TOOL_LABELS = {"window": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "W/L"), "zoom": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Zoom"),
               "pan": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Pan"), "distance": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Distance"),
               "angle": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Angle"), "rectangle": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Rectangle"),
               "ellipse": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Ellipse"), "probe": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Probe")}
TOOL_TIPS = {
    "window": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Window/level: drag right to widen the window, down to raise the level (W)"),
    "zoom": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Zoom: drag up/down (right button anywhere) (Z)"),
    "pan": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Pan: drag the image (middle button anywhere) (P)"),
    "distance": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Distance: drag from one end to the other (D). Click a measurement to select it, "
                   "Delete removes it"),
    "angle": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Angle: click the end of the first arm, the vertex, then the end of the second arm — "
                "or drag the first arm (end to vertex) and click the second arm's end (G). Esc cancels. Click a "
                "measurement to select it, Delete removes it"),
    "rectangle": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Rectangle ROI: drag corner to corner; shows mean/SD/min/max/area (T). Click "
                    "its outline to select it, Delete removes it"),
    "ellipse": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Ellipse ROI: drag the bounding box; shows mean/SD/min/max/area (E). Click its "
                  "outline to select it, Delete removes it"),
    "probe": QtCore.QT_TRANSLATE_NOOP("ViewerWindow", "Probe: the pixel value under the cursor is shown bottom left"),
}


class ViewerToolbar:
    """Mixed into ViewerWindow: builds the tool bar and keeps it showing the active viewport's state."""

    def open_mpr(self):
        from workstation.gui.mpr.launch import open_mpr

        return open_mpr(self)

    # -- toolbar ---------------------------------------------------------------------------------------------------
    def _build_toolbar(self):
        tb = self.addToolBar(QtCore.QCoreApplication.translate("ViewerWindow", "Viewer"))
        tb.setObjectName("viewer_toolbar")
        self.tool_actions: dict[str, QtGui.QAction] = {}
        group = QtGui.QActionGroup(self)
        group.setExclusive(True)
        for tool in TOOL_LABELS:  # the annotation tools are under one "Annotate" button (tool_actions.py)
            act = QtGui.QAction(QtCore.QCoreApplication.translate("ViewerWindow", TOOL_LABELS[tool]), self, checkable=True)
            act.setStatusTip(QtCore.QCoreApplication.translate("ViewerWindow", TOOL_TIPS[tool]))
            act.setToolTip(QtCore.QCoreApplication.translate("ViewerWindow", TOOL_TIPS[tool]))
            act.triggered.connect(lambda _c=False, t=tool: self.set_tool(t))
            group.addAction(act)
            tb.addAction(act)
            self.tool_actions[tool] = act
        tb.addSeparator()
        self.layout_box = QtWidgets.QComboBox(self)
        self.layout_box.addItems(list(LAYOUTS))
        self.layout_box.currentTextChanged.connect(self.set_layout)
        tb.addWidget(self.layout_box)
        tb.addSeparator()

        def add(label, fn, shortcut=None, checkable=False):
            act = QtGui.QAction(label, self, checkable=checkable)
            act.triggered.connect(fn)
            tb.addAction(act)
            return act

        self.preset_button = QtWidgets.QToolButton(self)
        self.preset_button.setText(QtCore.QCoreApplication.translate("ViewerWindow", "Presets"))
        self.preset_button.setPopupMode(QtWidgets.QToolButton.InstantPopup)
        self.preset_menu = QtWidgets.QMenu(self)
        self.preset_menu.aboutToShow.connect(self._fill_presets)
        self.preset_button.setMenu(self.preset_menu)
        tb.addWidget(self.preset_button)
        install_annotation_tools(self, tb)
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Auto"), lambda: self.active and self.active.auto_window())
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Invert"), lambda: self.active and self.active.state.toggle_invert())
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Rotate"), lambda: self.active and self.active.state.rotate(1))
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Flip H"), lambda: self.active and self.active.state.flip_horizontal())
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Flip V"), lambda: self.active and self.active.state.flip_vertical())
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Fit"), lambda: self.active and self.active.state.fit())
        add(QtCore.QCoreApplication.translate("ViewerWindow", "1:1"), lambda: self.active and self.active.state.one_to_one())
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Reset"), lambda: self.active and self.active.reset())
        tb.addSeparator()
        self.play_action = add(QtCore.QCoreApplication.translate("ViewerWindow", "Play"), lambda: self.active and self.active.toggle_cine(), checkable=True)
        self.fps_box = QtWidgets.QSpinBox(self)
        self.fps_box.setRange(1, 120)
        self.fps_box.setSuffix(" " + QtCore.QCoreApplication.translate("ViewerWindow", "fps"))
        self.fps_box.setValue(15)
        self.fps_box.valueChanged.connect(lambda v: self.active and self.active.state.update(fps=v))
        tb.addWidget(self.fps_box)
        tb.addSeparator()
        self.overlay_action = add(QtCore.QCoreApplication.translate("ViewerWindow", "Overlay"), lambda c: self.active and self.active.state.update(overlay=c),
                                  checkable=True)
        self.overlay_action.setChecked(True)
        self.planes_action = add(QtCore.QCoreApplication.translate("ViewerWindow", "Overlay planes"), lambda c: self.active and self.active.state.update(planes=c),
                                 checkable=True)
        self.planes_action.setToolTip(QtCore.QCoreApplication.translate("ViewerWindow", "Overlay planes (60xx) from the file: CAD marks, ROI outlines (Shift+O)"))
        self.planes_action.setChecked(True)
        self.sync_action = add(QtCore.QCoreApplication.translate("ViewerWindow", "Sync"), self.set_sync, checkable=True)
        self.sync_action.setToolTip(QtCore.QCoreApplication.translate("ViewerWindow", 
            "Sync: parallel stacks follow the slice being read - by patient position within one Frame of Reference;"
            " across studies with the distance between the slices shown when Sync is switched on"))
        self.sync_action.setChecked(True)
        self.reflines_action = add(QtCore.QCoreApplication.translate("ViewerWindow", "Ref lines"),
                                   self.reference_lines.set_enabled, checkable=True)
        self.reflines_action.setToolTip(QtCore.QCoreApplication.translate(
            "ViewerWindow", "Reference lines: the plane of the image being read drawn on the other viewports of its "
            "Frame of Reference (first and last image dashed). Shift+click: 3D cursor - the others show the slice "
            "through that point"))
        self.reflines_action.setChecked(True)
        self.mpr_action = add(QtCore.QCoreApplication.translate("ViewerWindow", "MPR"), self.open_mpr)
        self.mpr_action.setShortcut(QtGui.QKeySequence("M"))
        self.mpr_action.setToolTip(QtCore.QCoreApplication.translate(
            "ViewerWindow", "MPR: axial, coronal and sagittal planes of the active series with a crosshair, "
            "oblique planes, slabs (MIP/MinIP/average) and a 3D view (M)"))
        add(QtCore.QCoreApplication.translate("ViewerWindow", "Tags"), lambda: self.tags_dock.setVisible(not self.tags_dock.isVisible()))

    def set_tool(self, tool: str) -> None:
        """Select the left-button tool in every viewport (tools stay selected until changed)."""
        for vp in self.viewports:
            vp.state.update(tool=tool)
        self._sync_toolbar()

    def _sync_toolbar(self):
        if self.active is None or not hasattr(self, "tool_actions"):
            return
        st = self.active.state
        self.tool_actions[st.tool].setChecked(True)
        self.play_action.setChecked(st.playing)
        self.overlay_action.setChecked(st.overlay)
        self.planes_action.setChecked(st.planes)
        self.fps_box.blockSignals(True)
        self.fps_box.setValue(int(round(st.fps)))
        self.fps_box.blockSignals(False)

    def _fill_presets(self):
        fill_presets_menu(self.preset_menu, self)  # the modality's on 1..9, the file's own on Shift+1..9

