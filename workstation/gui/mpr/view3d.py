"""The MPR window's 3D view: CPU volume rendering (imaging/render3d.py) shown as a picture, turned by dragging.

VTK renders offscreen on one thread of its own (its render window must stay on the thread that made it); the GUI
asks for a picture and shows the newest one that arrives. While the reader drags, pictures are rendered coarse
and requests coalesce (only the latest angle is rendered next), so the GUI never waits on a render.

The clip box (the "Clip" button) keeps what lies between two limits along each patient axis (right-left,
anterior-posterior, inferior-superior; range sliders in mm over the volume's extent), as Horos' and RadiAnt's crop
box do: what is in front of a structure is cut away instead of hiding it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt import QDoubleRangeSlider

Qt = QtCore.Qt
PRESETS = (("bone", QtCore.QT_TRANSLATE_NOOP("View3D", "Bone")),
           ("soft", QtCore.QT_TRANSLATE_NOOP("View3D", "Soft tissue")),
           ("angio", QtCore.QT_TRANSLATE_NOOP("View3D", "Angio")),
           ("mip", QtCore.QT_TRANSLATE_NOOP("View3D", "MIP")))
# The clip box's axes (patient LPS: x grows to the patient's left, y to posterior, z to superior), named by the
# directions at the slider's two ends.
CLIP_AXES = (QtCore.QT_TRANSLATE_NOOP("View3D", "R–L"), QtCore.QT_TRANSLATE_NOOP("View3D", "A–P"),
             QtCore.QT_TRANSLATE_NOOP("View3D", "I–S"))


class View3D(QtWidgets.QWidget):
    """Volume rendering of ``volume``: drag to rotate, wheel to zoom, a preset box."""

    rendered = QtCore.Signal(object, int)  # (RGB array, request number), from the render thread

    def __init__(self, volume, parent=None, render: bool = True):
        super().__init__(parent)
        self.volume = volume
        self.azimuth, self.elevation, self.zoom = 0.0, 0.0, 1.0
        self.preset = "bone"
        self._renderer = None
        from workstation.gui.common import lower_thread_priority

        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render3d",
                                            initializer=lower_thread_priority)
        self._lock = threading.Lock()
        self._wanted = 0  # newest request number
        self._busy = False
        self._last: QtCore.QPointF | None = None
        self._coarse = self._dragging = False
        self.error = ""
        self.picture = QtWidgets.QLabel(self)
        self.picture.setAlignment(Qt.AlignCenter)
        self.picture.setMinimumSize(160, 160)
        self.picture.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Ignored)
        self.picture.setStyleSheet("background: black; color: #ddd")
        self.picture.setText(self.tr("3D: rendering…"))
        self.box = QtWidgets.QComboBox(self)
        for key, label in PRESETS:
            self.box.addItem(self.tr(label), key)
        self.box.currentIndexChanged.connect(lambda _i: self.set_preset(self.box.currentData()))
        self.clip: tuple[float, ...] | None = None  # the clip box asked for (LPS mm), None: the whole volume
        self._clip_done: tuple[float, ...] | None = None  # the one the renderer has
        self.last_rgb = None  # the newest picture (what the tests look at)
        self.clip_button = QtWidgets.QToolButton(self)
        self.clip_button.setText(self.tr("Clip"))
        self.clip_button.setToolTip(self.tr("Clip box: keep only what lies between the limits along each axis"))
        self.clip_button.setCheckable(True)
        self.clip_button.toggled.connect(self._on_clip_toggled)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.box, 1)
        row.addWidget(self.clip_button)
        self.clip_panel = self._make_clip_panel()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.picture, 1)
        lay.addWidget(self.clip_panel)
        lay.addLayout(row)
        self.rendered.connect(self._on_rendered, Qt.QueuedConnection)
        self.picture.installEventFilter(self)
        if render:
            self.request()

    # -- the clip box ------------------------------------------------------------------------------------------
    def volume_bounds(self) -> np.ndarray:
        """(3, 2): the volume's extent along x, y, z (LPS mm)."""
        corners = self.volume.corners()
        return np.stack([corners.min(axis=0), corners.max(axis=0)], axis=1)

    def _make_clip_panel(self) -> QtWidgets.QWidget:
        panel = QtWidgets.QWidget(self)
        grid = QtWidgets.QGridLayout(panel)
        grid.setContentsMargins(4, 0, 4, 0)
        self.clip_sliders = []
        for axis, (name, (lo, hi)) in enumerate(zip(CLIP_AXES, self.volume_bounds())):
            slider = QDoubleRangeSlider(Qt.Horizontal, panel)
            slider.setRange(float(lo), float(hi))
            slider.setValue((float(lo), float(hi)))
            slider.setToolTip(self.tr("Clip box limits along %1 (mm)").replace("%1", self.tr(name)))
            slider.valueChanged.connect(lambda _v: self._on_clip_moved())
            slider.sliderReleased.connect(self._on_clip_released)
            grid.addWidget(QtWidgets.QLabel(self.tr(name), panel), axis, 0)
            grid.addWidget(slider, axis, 1)
            self.clip_sliders.append(slider)
        panel.setVisible(False)
        return panel

    def _on_clip_toggled(self, on: bool) -> None:
        self.clip_panel.setVisible(on)
        self._apply_clip(interactive=False)

    def _on_clip_moved(self) -> None:
        dragging = any(s.isSliderDown() for s in self.clip_sliders)
        self._coarse = self._coarse or dragging
        self._apply_clip(interactive=dragging)

    def _on_clip_released(self) -> None:
        self._apply_clip(interactive=False)

    def _apply_clip(self, interactive: bool) -> None:
        if not self.clip_button.isChecked():
            self.set_clip_box(None)
            return
        bounds = []
        for slider in self.clip_sliders:
            lo, hi = slider.value()
            bounds += [float(lo), float(max(hi, lo + 0.5))]  # an empty box would render nothing: keep 0.5 mm
        self.set_clip_box(tuple(bounds), interactive)

    def set_clip_box(self, bounds, interactive: bool = False) -> None:
        """Render with only (xmin, xmax, ymin, ymax, zmin, zmax) (LPS mm) kept; None: the whole volume."""
        self.clip = None if bounds is None else tuple(float(v) for v in bounds)
        self.request(interactive=interactive)

    def reset_view(self) -> None:
        """The first picture again: anterior view, zoom 1, the whole volume (clip box off, its limits opened);
        the preset stays (a choice of what to look at, not of where)."""
        self.azimuth, self.elevation, self.zoom = 0.0, 0.0, 1.0
        self.clip_button.blockSignals(True)
        self.clip_button.setChecked(False)
        self.clip_button.blockSignals(False)
        self.clip_panel.setVisible(False)
        for slider, (lo, hi) in zip(self.clip_sliders, self.volume_bounds()):
            slider.blockSignals(True)
            slider.setValue((float(lo), float(hi)))
            slider.blockSignals(False)
        self.set_clip_box(None)

    # -- requests ----------------------------------------------------------------------------------------------
    def set_preset(self, name: str) -> None:
        self.preset = name
        self.request()

    def request(self, interactive: bool = False) -> None:
        """Render the current angle (coalesced: while one renders, only the newest request follows)."""
        with self._lock:
            self._wanted += 1
            if self._busy:
                return
            self._busy = True
        self._executor.submit(self._render_loop, interactive)

    def _render_loop(self, interactive: bool) -> None:
        while True:
            with self._lock:
                number = self._wanted
                args = (self.preset, self.azimuth, self.elevation, self.zoom, self.clip)
                volume = self.volume
            try:
                if self._renderer is not None and self._renderer.volume is not volume:
                    self._renderer.close()  # another time point: its own renderer
                    self._renderer = None
                if self._renderer is None:
                    from workstation.imaging.render3d import VolumeRenderer

                    self._renderer = VolumeRenderer(volume, size=(384, 384), preset=args[0])
                    self._preset_done = args[0]
                    self._clip_done = None
                if self._preset_done != args[0]:
                    self._renderer.set_preset(args[0])
                    self._preset_done = args[0]
                if self._clip_done != args[4]:
                    self._renderer.set_clip_box(args[4])
                    self._clip_done = args[4]
                rgb = self._renderer.render(args[1], args[2], args[3], interactive=interactive)
            except Exception as exc:  # noqa: BLE001 - no 3D (no OpenGL at all): said in the view, MPR goes on
                self.error = str(exc) or type(exc).__name__
                rgb = None
            try:
                self.rendered.emit(rgb, number)
            except RuntimeError:  # the widget is gone
                return
            with self._lock:
                if self._wanted == number:
                    self._busy = False
                    return
            interactive = True  # more requests came while rendering: the reader is dragging

    def _on_rendered(self, rgb, number: int) -> None:
        if rgb is None:
            self.picture.setText(self.tr("3D view not available: %1").replace("%1", self.error))
            return
        rgb = np.ascontiguousarray(rgb)
        self.last_rgb = rgb
        h, w, _ = rgb.shape
        image = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()
        pix = QtGui.QPixmap.fromImage(image).scaled(self.picture.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.picture.setPixmap(pix)
        self.shown = number
        if number == self._wanted:
            with self._lock:
                idle = not self._busy
            if idle and getattr(self, "_dragging", False) is False and getattr(self, "_coarse", False):
                self._coarse = False
                self.request()  # the full-quality picture once the drag has ended

    # -- mouse -------------------------------------------------------------------------------------------------
    def eventFilter(self, obj, ev):
        t = ev.type()
        if t == QtCore.QEvent.MouseButtonPress:
            self._last = ev.position()
            self._dragging = True
            return True
        if t == QtCore.QEvent.MouseMove and self._last is not None:
            d = ev.position() - self._last
            self._last = ev.position()
            self.azimuth -= d.x() * 0.5
            self.elevation = float(np.clip(self.elevation + d.y() * 0.5, -89, 89))
            self._coarse = True
            self.request(interactive=True)
            return True
        if t == QtCore.QEvent.MouseButtonRelease:
            self._last = None
            self._dragging = False
            self.request()
            return True
        if t == QtCore.QEvent.Wheel:
            self.zoom = float(np.clip(self.zoom * (1.1 if ev.angleDelta().y() > 0 else 1 / 1.1), 0.3, 8))
            self.request()
            return True
        return super().eventFilter(obj, ev)

    def set_volume(self, volume) -> None:
        """Show another volume of the same grid (a time point of a 4D series): the render thread makes a renderer
        for it on its next picture (the old one closed there), the angle, preset and clip box kept."""
        with self._lock:
            self.volume = volume
        self.request()

    def close_renderer(self) -> None:
        """Free VTK's copy of the volume (on its own thread) and stop the thread."""
        renderer, self._renderer = self._renderer, None

        def close():
            if renderer is not None:
                renderer.close()

        self._executor.submit(close)
        self._executor.shutdown(wait=False)
        self.volume = None
