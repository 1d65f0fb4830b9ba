"""The MPR window's 3D view: CPU volume rendering (imaging/render3d.py) shown as a picture, turned by dragging.

VTK renders offscreen on one thread of its own (its render window must stay on the thread that made it); the GUI
asks for a picture and shows the newest one that arrives. While the reader drags, pictures are rendered coarse
and requests coalesce (only the latest angle is rendered next), so the GUI never waits on a render.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

Qt = QtCore.Qt
PRESETS = (("bone", QtCore.QT_TRANSLATE_NOOP("View3D", "Bone")),
           ("soft", QtCore.QT_TRANSLATE_NOOP("View3D", "Soft tissue")),
           ("angio", QtCore.QT_TRANSLATE_NOOP("View3D", "Angio")),
           ("mip", QtCore.QT_TRANSLATE_NOOP("View3D", "MIP")))


class View3D(QtWidgets.QWidget):
    """Volume rendering of ``volume``: drag to rotate, wheel to zoom, a preset box."""

    rendered = QtCore.Signal(object, int)  # (RGB array, request number), from the render thread

    def __init__(self, volume, parent=None):
        super().__init__(parent)
        self.volume = volume
        self.azimuth, self.elevation, self.zoom = 0.0, 0.0, 1.0
        self.preset = "bone"
        self._renderer = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render3d")
        self._lock = threading.Lock()
        self._wanted = 0  # newest request number
        self._busy = False
        self._last: QtCore.QPointF | None = None
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
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.picture, 1)
        lay.addWidget(self.box)
        self.rendered.connect(self._on_rendered, Qt.QueuedConnection)
        self.picture.installEventFilter(self)
        self.request()

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
                args = (self.preset, self.azimuth, self.elevation, self.zoom)
            try:
                if self._renderer is None:
                    from workstation.imaging.render3d import VolumeRenderer

                    self._renderer = VolumeRenderer(self.volume, size=(384, 384), preset=args[0])
                    self._preset_done = args[0]
                if self._preset_done != args[0]:
                    self._renderer.set_preset(args[0])
                    self._preset_done = args[0]
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

    def close_renderer(self) -> None:
        """Free VTK's copy of the volume (on its own thread) and stop the thread."""
        renderer, self._renderer = self._renderer, None

        def close():
            if renderer is not None:
                renderer.close()

        self._executor.submit(close)
        self._executor.shutdown(wait=False)
        self.volume = None
