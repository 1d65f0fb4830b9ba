"""The stack viewport: one image stack on a pyqtgraph ``ImageItem`` in a ``ViewBox``, driven by ViewportState.

The widget owns no view state: mouse and keyboard handlers call :class:`ViewportState` operations; the state
notifies :meth:`StackViewport._on_state`, which pushes levels/LUT, transform and range to pyqtgraph. Raw frames are
shown as stored; window/level is applied at render time (``setLevels``/``setLookupTable``).
Frames come from a :class:`workstation.imaging.Stack`: ``stack.frame(i)`` never blocks (``None`` means "decode
queued"), and the stack's listener, called from a worker thread, is marshalled to the GUI thread by a Signal.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workstation import imaging
from workstation.gui.viewer.measure import POINTS_NEEDED, Measurement, MeasurementStore
from workstation.gui.viewer.overlay import paint_overlay
from workstation.gui.viewer.series import source_frame, source_uid
from workstation.gui.viewer.state import ViewportState, screen_transform
from workstation.gui.viewer.voi import file_frame_rate, lut_window, voi_lut_name
from workstation.imaging.overlays import composite, overlay_planes

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

Qt = QtCore.Qt
DRAW_TOOLS = ("distance", "angle", "rectangle", "ellipse")


class CountingImageItem(pg.ImageItem):
    """An ImageItem that counts the times it was actually painted (for tests and benchmarks)."""

    paints = 0

    def paint(self, p, *args):
        super().paint(p, *args)
        self.paints += 1


class _Canvas(pg.GraphicsView):
    """The drawing surface: forwards input to its viewport and paints the annotations on top."""

    def __init__(self, viewport: "StackViewport"):
        super().__init__(background="k")
        self._vp = viewport
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAcceptDrops(True)
        self.draw_annotations = True

    # Input goes to the viewport, not to pyqtgraph's scene (we want OsiriX-style buttons, not ViewBox defaults).
    def mousePressEvent(self, ev):
        self._vp._mouse_press(ev)

    def mouseMoveEvent(self, ev):
        self._vp._mouse_move(ev)

    def mouseReleaseEvent(self, ev):
        self._vp._mouse_release(ev)

    def mouseDoubleClickEvent(self, ev):
        self._vp._double_click(ev)

    def wheelEvent(self, ev):
        self._vp._wheel(ev)

    def keyPressEvent(self, ev):
        if not self._vp.handle_key(ev.key(), ev.modifiers()):
            super().keyPressEvent(ev)

    def leaveEvent(self, ev):
        self._vp._leave()
        super().leaveEvent(ev)

    def drawForeground(self, painter, rect):
        super().drawForeground(painter, rect)
        painter.save()
        painter.resetTransform()
        self._vp._paint_foreground(painter, self.draw_annotations)
        painter.restore()

    # Drops of thumbnails are handled by the viewport's owner through a signal.
    def dragEnterEvent(self, ev):
        if ev.mimeData().hasFormat(SERIES_MIME):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dragMoveEvent(self, ev):
        if ev.mimeData().hasFormat(SERIES_MIME):
            ev.acceptProposedAction()

    def dragLeaveEvent(self, ev):
        # QGraphicsView's own handler never saw the enter (ours took it) and warned on stderr at every drag that
        # crossed a viewport.
        ev.accept()

    def dropEvent(self, ev):
        if ev.mimeData().hasFormat(SERIES_MIME):
            index = int(bytes(ev.mimeData().data(SERIES_MIME)).decode())
            ev.acceptProposedAction()
            self._vp.seriesDropped.emit(index)


SERIES_MIME = "application/x-workstation-series-index"


class StackViewport(QtWidgets.QWidget):
    """One viewport showing one image stack (or a message for a non-image object).

    Signals: ``frameChanged(int)``, ``activated()`` (clicked/focused), ``seriesDropped(int)`` (a thumbnail index
    dropped on it), ``probeChanged(dict)`` (the pixel under the cursor), ``viewChanged(set)`` (state changes).
    """

    frameChanged = QtCore.Signal(int)
    activated = QtCore.Signal()
    seriesDropped = QtCore.Signal(int)
    probeChanged = QtCore.Signal(dict)
    viewChanged = QtCore.Signal(object)
    _frameReady = QtCore.Signal(object, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = ViewportState()
        self.measurements = MeasurementStore()
        self.persistent_measurements: MeasurementStore | None = None  # set by the window: kept across openings
        self.stack = None
        self.entry = None
        self.header: dict = {}
        self.presentation = None
        self.probe: dict = {}
        self._hover: QtCore.QPointF | None = None  # last cursor position over the canvas (probe refresh)
        self.message = ""
        self.document_path: str | None = None
        self.active = False
        self._shown_index: int | None = None
        self._array = None
        self._last_levels = None
        self._last_lut = None
        self._drag = None  # (button, last QPointF) while a button is down
        self._draft: Measurement | None = None
        self._editing: tuple[Measurement, int] | None = None  # a measurement's point being dragged
        self.selected: Measurement | None = None  # the measurement Delete removes
        self._direction = 0
        self._needs_auto = False
        self.frame_error = ""
        self._auto_center_width = (40.0, 400.0)

        self.canvas = _Canvas(self)
        self.view = pg.ViewBox(enableMouse=False, invertY=True, enableMenu=False, defaultPadding=0.0)
        self.view.setMouseEnabled(False, False)
        self.canvas.setCentralItem(self.view)
        self.content = pg.ItemGroup()
        self.view.addItem(self.content, ignoreBounds=True)
        self.image = CountingImageItem(autoDownsample=False)
        self.image.setParentItem(self.content)
        # Overlay planes (60xx) above the image, in image pixels; rebuilt only when the frame's file/frame changes.
        self.planes = pg.ImageItem(autoDownsample=False)
        self.planes.setParentItem(self.content)
        self.planes.setZValue(1)
        self._planes_key: tuple | None = None
        self.view.sigResized.connect(self._apply_view)

        self._label = QtWidgets.QLabel()
        self._label.setAlignment(Qt.AlignCenter)
        self._label.setWordWrap(True)
        self._label.setStyleSheet("color: #ddd; background: #111; font-size: 14px; padding: 12px;")
        # In a scroll area: a report (SR content) scrolls instead of making this cell taller than its neighbours.
        self._label_area = QtWidgets.QScrollArea(self)
        self._label_area.setWidget(self._label)
        self._label_area.setWidgetResizable(True)
        self._label_area.setFrameShape(QtWidgets.QFrame.NoFrame)
        self._label_area.setStyleSheet("QScrollArea { background: #111; }")
        self._doc_button = QtWidgets.QPushButton("Open document", self)
        self._doc_button.clicked.connect(self.open_document)
        self._label_area.hide()
        self._doc_button.hide()

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(1, 1, 1, 1)
        lay.addWidget(self.canvas)
        lay.addWidget(self._label_area)
        lay.addWidget(self._doc_button, 0, Qt.AlignCenter)

        self._cine = QtCore.QTimer(self)
        self._cine.timeout.connect(lambda: self.state.scroll(1, wrap=True))

        self.state.subscribe(self._on_state)
        self._frameReady.connect(self._on_frame_ready, Qt.QueuedConnection)
        self.set_active(False)

    # -- content ---------------------------------------------------------------------------------------------
    def set_entry(self, entry) -> None:
        """Show a :class:`workstation.gui.viewer.series.SeriesEntry` (image stack or non-image object)."""
        self.entry = entry
        if entry is None or entry.stack is None:
            self.set_stack(None)
            self.show_message(entry.message if entry else "Drop a series here", entry.document_path if entry else None)
            self.header = dict(entry.header) if entry else {}
            return
        self.set_stack(entry.stack, entry.header)

    def set_stack(self, stack, header: dict | None = None, frame: int | None = None) -> None:
        """Show ``stack`` from ``frame`` (default: the middle for volumes, the first otherwise)."""
        if self.stack is not None:
            try:
                self.stack.remove_listener(self._listener)
            except Exception:  # noqa: BLE001
                pass
        self.stop_cine()
        self.stack = stack
        self.header = dict(header or {})
        self._shown_index = None
        self._array = None
        self._last_levels = self._last_lut = None
        self.image.clear()
        self.planes.clear()
        self._planes_key = None
        if stack is None:
            return
        self.show_message("")
        stack.add_listener(self._listener)
        n = len(stack)
        if frame is None:
            frame = 0
        pres = stack.presentation(frame)
        self.presentation = pres
        center, width, lut = self._initial_voi(pres, frame)
        self._auto_center_width = (center, width)
        self._initial_lut = lut
        self.measurements = (self.persistent_measurements if self.persistent_measurements is not None
                             else MeasurementStore())
        self.selected = None
        self._draft = None
        extra = {}
        fps = file_frame_rate(stack.header(frame)) if n > 1 else None
        if fps:
            extra["fps"] = fps
        # One update: frame, window and geometry reset together, then one render.
        self.state.update(n_frames=n, frame=frame, center=center, width=width, lut=lut, zoom=None, pan=None,
                          rotation=0, flip_h=False, flip_v=False, invert=False, **extra)
        self._show_frame(force=True)
        self._apply_view()

    def _initial_voi(self, pres, frame) -> tuple[float, float, int | None]:
        """The default presentation, as ``workstation render`` draws it (``Presentation.default_window``):
        the file's first window, else its first VOI LUT, else the full range of modality values.
        Returns (center, width, VOI LUT index or None)."""
        self._needs_auto = False
        # Own windows or VOI LUTs first; otherwise the frame's range of values (needs the decoded frame).
        win = pres.default_window() if pres is not None and (pres.file_windows or pres.voi_luts) else None
        self._voi_function = getattr(win, "function", None) if isinstance(win, imaging.Window) else None
        if isinstance(win, imaging.VOILUT):
            center, width = lut_window(win)
            return center, width, 0
        if win is None and pres is not None and not pres.is_color and self.stack is not None:
            # Float pixel data has no stored range: min/max of the frame once it is decoded.
            arr = self.stack.frame(frame)
            if arr is not None:
                win = pres.auto_window(arr)
            else:
                self._needs_auto = True
        if win is None:
            lo, hi = ((pres.stored_range or (0, 255)) if pres is not None else (0, 255))
            return (lo + hi) / 2, max(1.0, hi - lo), None
        return float(win.center), float(win.width), None

    def show_message(self, text: str, document_path: str | None = None) -> None:
        """Replace the image with a message (non-image objects, errors); empty text shows the image again."""
        self.message = text
        self.document_path = document_path
        # A one-line "what it is" sits in the middle; a report (several lines) reads from the top left.
        multi = text.count("\n") >= 3
        self._label.setAlignment(Qt.AlignLeft | Qt.AlignTop if multi else Qt.AlignCenter)
        self._label.setTextFormat(Qt.PlainText)
        self._label.setText(text)
        self._label_area.setVisible(bool(text))
        self.canvas.setVisible(not text)
        self._doc_button.setVisible(bool(document_path))

    def open_document(self) -> bool:
        """Open the encapsulated document (PDF) in the system viewer."""
        if not self.document_path:
            return False
        return QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(self.document_path))

    def set_active(self, active: bool) -> None:
        self.active = active
        self.setStyleSheet("StackViewport { background: %s; }" % ("#e8a33d" if active else "#333"))
        self.setAttribute(Qt.WA_StyledBackground, True)

    # -- frames ----------------------------------------------------------------------------------------------
    def _listener(self, stack, index):  # worker thread
        self._frameReady.emit(stack, int(index))

    def _on_frame_ready(self, stack, index):
        if stack is self.stack and index == self.state.frame and self._shown_index != index:
            self._show_frame()

    @property
    def frame_key(self):
        """The identity of the shown frame, for measurements: (SOPInstanceUID, frame in file)."""
        if self.stack is None:
            return None
        i = self.state.frame
        try:
            src = self.stack.source(i)
            return (source_uid(src) or str(getattr(src, "path", i)), source_frame(src))
        except Exception:  # noqa: BLE001
            return i

    def current_array(self):
        return self._array if self._shown_index == self.state.frame else None

    def _show_frame(self, force: bool = False) -> None:
        if self.stack is None:
            return
        i = self.state.frame
        arr = self.stack.frame(i)
        self.stack.prefetch(i, direction=self._direction)
        if arr is None:
            err = getattr(self.stack, "frame_error", lambda _i: None)(i)
            self.frame_error = str(err) if err is not None else ""
            self._refresh_probe()
            self.canvas.viewport().update()  # the annotations say "loading" (or why not)
            return
        self.frame_error = ""
        pres = self.stack.presentation(i)
        self.presentation = pres
        self._array = arr
        self._shown_index = i
        if self._needs_auto:
            self._needs_auto = False
            win = pres.auto_window(arr) if not pres.is_color else None
            if win is not None:
                self._auto_center_width = (float(win.center), float(win.width))
                self.state.update(center=float(win.center), width=float(win.width))
        levels, lut = self._mapping()
        shape_changed = self.image.image is None or self.image.image.shape[:2] != arr.shape[:2]
        self._last_levels, self._last_lut = levels, lut
        if levels is None:
            self.image.setImage(arr, autoLevels=False, levels=None, lut=None)
        else:
            self.image.setImage(arr, autoLevels=False, levels=levels, lut=lut)
        self._show_planes(i, arr.shape[0], arr.shape[1])
        if shape_changed or force:
            self._apply_view()
        self._refresh_probe()
        self.canvas.viewport().update()

    def _show_planes(self, index: int, rows: int, columns: int) -> None:
        """Draw the overlay planes of frame ``index``'s file and frame (none when ``state.planes`` is off)."""
        source = self.stack.source(index) if hasattr(self.stack, "source") else None
        key = (source.path, source.frame, rows, columns) if source is not None else None
        if key != self._planes_key:
            self._planes_key = key
            rgba = None
            if key is not None:
                try:
                    rgba = composite(overlay_planes(self.stack.header(index), source.frame), rows, columns)
                except Exception:  # noqa: BLE001 - overlays are an extra: never keep the image from showing
                    rgba = None
            if rgba is None:
                self.planes.clear()
            else:
                self.planes.setImage(rgba, autoLevels=False, levels=None)
        self.planes.setVisible(self.state.planes and self.planes.image is not None)

    @property
    def has_planes(self) -> bool:
        """Whether the frame shown has overlay planes (drawn or hidden)."""
        return self.planes.image is not None

    def current_voi_lut(self):
        """The VOI LUT shown now (a :class:`workstation.imaging.VOILUT`), or None when a window is shown."""
        pres, k = self.presentation, self.state.lut
        if pres is None or k is None or pres.is_color:
            return None
        luts = getattr(pres, "voi_luts", None) or []
        return luts[k] if k < len(luts) else None

    def _mapping(self):
        pres = self.presentation
        if pres is None or pres.is_color:
            return None, None
        lut = self.current_voi_lut()
        if lut is not None:
            m = pres.display_mapping(lut, invert=self.state.invert, frame=self._array)
            return tuple(m.levels), m.lut
        fn = getattr(self, "_voi_function", None)
        win = (imaging.Window(self.state.center, self.state.width, fn) if fn is not None
               else imaging.Window(self.state.center, self.state.width))
        m = pres.display_mapping(win, invert=self.state.invert)
        return tuple(m.levels), m.lut

    def _apply_window(self) -> None:
        if self._array is None:
            return
        levels, lut = self._mapping()
        if levels is None:
            return
        if lut is not self._last_lut and not (lut is not None and self._last_lut is not None
                                              and np.array_equal(lut, self._last_lut)):
            self.image.setLookupTable(lut, update=False)
            self._last_lut = lut
        self.image.setLevels(levels)
        self._last_levels = levels

    # -- state -> view ---------------------------------------------------------------------------------------
    def _on_state(self, changed: set[str]) -> None:
        if "frame" in changed:
            self._show_frame()
            self.frameChanged.emit(self.state.frame)
        if changed & {"center", "width", "invert", "lut"} and "frame" not in changed:
            self._apply_window()
        if changed & {"zoom", "pan", "rotation", "flip_h", "flip_v"}:
            self._apply_view()
            self._refresh_probe()
        if "planes" in changed:
            self.planes.setVisible(self.state.planes and self.planes.image is not None)
        if "playing" in changed or "fps" in changed:
            if self.state.playing:
                self._cine.start(max(1, int(round(1000.0 / self.state.fps))))
            else:
                self._cine.stop()
        if "tool" in changed:
            self._draft = None
        if "frame" in changed:
            self.selected = None
        self.canvas.viewport().update()
        self.viewChanged.emit(changed)

    def spacing(self):
        """PixelSpacing (row, column) in mm of the current frame, or None."""
        if self.stack is None:
            return None
        sp = self.stack.geometry(self.state.frame).pixel_spacing
        return (float(sp[0]), float(sp[1])) if sp else None

    def _scale(self) -> tuple[float, float]:
        sp = self.spacing()
        return (sp[1], sp[0]) if sp else (1.0, 1.0)

    def _image_size(self) -> tuple[int, int]:
        if self.stack is None:
            return (1, 1)
        return int(self.stack.columns), int(self.stack.rows)

    def content_transform(self) -> QtGui.QTransform:
        """Image (column, row) -> view coordinates: pixel spacing scale, then rotation and flips."""
        sx, sy = self._scale()
        m = screen_transform(self.state.rotation, self.state.flip_h, self.state.flip_v)
        return QtGui.QTransform(m[0][0] * sx, m[1][0] * sx, m[0][1] * sy, m[1][1] * sy, 0.0, 0.0)

    def fit_zoom(self) -> float:
        """Screen pixels per image column at "fit"."""
        t = self.content_transform()
        cols, rows = self._image_size()
        r = t.mapRect(QtCore.QRectF(0, 0, cols, rows))
        w, h = max(1.0, self.view.width()), max(1.0, self.view.height())
        s = min(w / max(r.width(), 1e-6), h / max(r.height(), 1e-6))
        return s * self._scale()[0]

    def effective_zoom(self) -> float:
        return self.state.zoom if self.state.zoom is not None else self.fit_zoom()

    def _apply_view(self, *_):
        t = self.content_transform()
        self.content.setTransform(t)
        cols, rows = self._image_size()
        r = t.mapRect(QtCore.QRectF(0, 0, cols, rows))
        s = self.effective_zoom() / self._scale()[0]
        w, h = max(1.0, self.view.width()), max(1.0, self.view.height())
        if self.state.pan is None:
            c = r.center()
        else:
            c = t.map(QtCore.QPointF(*self.state.pan))
        hw, hh = w / (2 * s), h / (2 * s)
        self.view.setRange(xRange=(c.x() - hw, c.x() + hw), yRange=(c.y() - hh, c.y() + hh), padding=0,
                           update=True)
        self.canvas.viewport().update()

    def image_point(self, widget_pos: QtCore.QPointF) -> QtCore.QPointF:
        """Map a position in the canvas widget to image (column, row) coordinates."""
        scene = self.canvas.mapToScene(QtCore.QPoint(int(widget_pos.x()), int(widget_pos.y())))
        return self.content.mapFromScene(scene)

    def widget_point(self, image_pos) -> QtCore.QPointF:
        """Map image (column, row) coordinates to a canvas widget position."""
        scene = self.content.mapToScene(QtCore.QPointF(float(image_pos[0]), float(image_pos[1])))
        return QtCore.QPointF(self.canvas.mapFromScene(scene))

    # -- input -----------------------------------------------------------------------------------------------
    def _mouse_press(self, ev):
        self.activated.emit()
        self.canvas.setFocus()
        pos = ev.position()
        button = ev.button()
        tool = self.state.tool
        self._drag = (button, pos, pos)
        if button != Qt.LeftButton or self.stack is None:
            return
        d = self._draft
        if d is not None and d.kind == "angle":
            # The moving point is fixed where the user clicks; the third fixed point completes the angle.
            p = self.image_point(pos)
            d.points[-1] = (p.x(), p.y())
            if len(d.points) >= 3:
                self._commit_draft()
                self._drag = None
            else:
                d.points.append((p.x(), p.y()))
            self.canvas.viewport().update()
            return
        # A press on a point (handle) of the selected measurement drags that point: the measurement is edited.
        # (Only the selected one: a new measurement may start on another one's point.)
        handle = self.handle_at(pos, only=self.selected) if self.selected is not None else None
        if handle is not None:
            self._editing = handle
            self.selected = handle[0]
            self._draft = None
            self.canvas.viewport().update()
            return
        # A click (no drag) on a measurement's outline selects it on release; a drag still draws/windows.
        self._press_hit = self.measurement_at(pos)
        if tool in DRAW_TOOLS:
            p = self.image_point(pos)
            pt = (p.x(), p.y())
            self._draft = Measurement(tool, [pt, pt], key=self.frame_key)

    def _mouse_move(self, ev):
        pos = ev.position()
        self._update_probe(pos)
        d = self._draft
        if self._drag is None:
            if d is not None and d.kind == "angle":
                p = self.image_point(pos)  # rubber band to the next point
                d.points[-1] = (p.x(), p.y())
                self.canvas.viewport().update()
            return
        button, start, last = self._drag
        dx, dy = pos.x() - last.x(), pos.y() - last.y()
        self._drag = (button, start, pos)
        tool = self.state.tool
        if button == Qt.LeftButton and self._editing is not None:
            m, index = self._editing
            p = self.image_point(pos)
            m.points[index] = (p.x(), p.y())
            self.canvas.viewport().update()
            return
        if button == Qt.LeftButton:
            if tool in DRAW_TOOLS and d is not None:
                p = self.image_point(pos)
                d.points[-1] = (p.x(), p.y())
                self.canvas.viewport().update()
                return
            tool = {"zoom": "zoom", "pan": "pan"}.get(tool, "window")
        elif button == Qt.RightButton:
            tool = "zoom"
        elif button == Qt.MiddleButton:
            tool = "pan"
        else:
            return
        if tool == "window":
            self.drag_window(dx, dy)
        elif tool == "zoom":
            self.state.zoom_by(math.exp(-dy * 0.01), self.fit_zoom())
        elif tool == "pan":
            a, b = self.image_point(last), self.image_point(pos)
            cols, rows = self._image_size()
            self.state.pan_by(a.x() - b.x(), a.y() - b.y(), (cols / 2, rows / 2))

    def _mouse_release(self, ev):
        if self._drag is None:
            return
        button, start = self._drag[0], self._drag[1]
        self._drag = None
        d = self._draft
        if button != Qt.LeftButton:
            return
        if self._editing is not None:
            m, self._editing = self._editing[0], None
            self.measurements.changed(m)
            self.canvas.viewport().update()
            return
        pos = ev.position()
        moved = math.hypot(pos.x() - start.x(), pos.y() - start.y()) > 3
        hit, self._press_hit = getattr(self, "_press_hit", None), None
        if not moved and (hit is not None or self.selected is not None):
            self.selected = hit  # click on a measurement: select it (Delete removes it); elsewhere: deselect
            if hit is not None and d is not None and len(d.points) <= 2:
                self._draft = None
            self.canvas.viewport().update()
            if hit is not None:
                return
        if d is None:
            return
        if d.kind == "angle":
            # Angle: three clicks (end, vertex, end), or drag the first arm and click the third point.
            if moved:
                p = self.image_point(pos)
                d.points[-1] = (p.x(), p.y())
                if len(d.points) >= 3:
                    self._commit_draft()
                else:
                    d.points.append((p.x(), p.y()))
        elif not moved:
            self._draft = None  # a click without a drag draws nothing
        else:
            self._commit_draft()
        self.canvas.viewport().update()

    def handle_at(self, widget_pos, tolerance: float = 6.0, only: Measurement | None = None):
        """(measurement, point index) of a point of a measurement on the shown image (or of ``only``) within
        ``tolerance`` screen pixels of ``widget_pos`` (the topmost), or None."""
        x, y = float(widget_pos.x()), float(widget_pos.y())
        shown = self.measurements.on(self.frame_key)
        if only is not None:
            shown = [only] if only in shown else []
        for m in reversed(shown):
            for index, pt in enumerate(m.points):
                w = self.widget_point(pt)
                if math.hypot(w.x() - x, w.y() - y) <= tolerance:
                    return m, index
        return None

    def measurement_at(self, widget_pos, tolerance: float = 6.0):
        """The measurement of the shown image whose outline passes within ``tolerance`` screen pixels of
        ``widget_pos`` (the topmost one), or None."""
        x, y = float(widget_pos.x()), float(widget_pos.y())
        for m in reversed(self.measurements.on(self.frame_key)):
            pts = [self.widget_point(pt) for pt in m.points]
            if m.kind in ("distance", "angle"):
                if any(_segment_distance(x, y, a, b) <= tolerance for a, b in zip(pts, pts[1:])):
                    return m
                continue
            r = QtCore.QRectF(pts[0], pts[-1]).normalized()
            if m.kind == "rectangle":
                inside = r.adjusted(-tolerance, -tolerance, tolerance, tolerance).contains(x, y)
                deep = r.adjusted(tolerance, tolerance, -tolerance, -tolerance)
                if inside and not (deep.isValid() and deep.contains(x, y)):
                    return m
            else:
                ax, ay = max(r.width() / 2, 1e-6), max(r.height() / 2, 1e-6)
                nx, ny = (x - r.center().x()) / ax, (y - r.center().y()) / ay
                radial = math.hypot(nx, ny)
                if abs(radial - 1.0) * min(ax, ay) <= tolerance:
                    return m
        return None

    def delete_selected(self) -> bool:
        """Remove the selected measurement; False when none is selected."""
        if self.selected is None:
            return False
        self.measurements.remove(self.selected)
        self.selected = None
        self.canvas.viewport().update()
        return True

    def _commit_draft(self):
        d = self._draft
        self._draft = None
        if d is not None and len(d.points) >= POINTS_NEEDED[d.kind]:
            self.measurements.add(d)
        self.canvas.viewport().update()

    def _double_click(self, ev):
        self.activated.emit()

    def _wheel(self, ev):
        steps = ev.angleDelta().y() / 120.0
        if steps == 0:
            return
        n = -int(math.copysign(max(1, round(abs(steps))), steps))  # wheel down (negative) = next frame
        self.scroll(n)

    def scroll(self, delta: int) -> None:
        self._direction = 1 if delta > 0 else -1
        self.state.scroll(delta)

    def drag_window(self, dx: float, dy: float) -> None:
        """Left-drag window/level: right widens the window, down raises the centre (OsiriX/Horos)."""
        if self.presentation is not None and self.presentation.is_color:
            return
        sensitivity = max(0.1, self.state.width / 256.0)
        self.state.drag_window(dx, dy, sensitivity)

    def _leave(self):
        self._hover = None
        self.probe = {}
        self.canvas.viewport().update()

    def _refresh_probe(self) -> None:
        # Scrolling or zooming with the keyboard or wheel moves another pixel under a still cursor: a probe
        # left from the previous slice would show a value (and position) that is not on the screen.
        if self._hover is not None:
            self._update_probe(self._hover)
        elif self.probe:
            self.probe = {}

    def _update_probe(self, pos):
        self._hover = QtCore.QPointF(pos)
        arr = self.current_array()
        if arr is None:
            self.probe = {}
            return
        p = self.image_point(pos)
        c, r = int(math.floor(p.x())), int(math.floor(p.y()))
        if not (0 <= r < arr.shape[0] and 0 <= c < arr.shape[1]):
            if self.probe:
                self.probe = {}
                self.canvas.viewport().update()
            return
        stored = arr[r, c]
        info = {"row": r, "column": c}
        if np.ndim(stored) == 0:
            info["stored"] = stored.item() if hasattr(stored, "item") else stored
            value, unit = self.presentation.probe(stored)
            info["value"], info["unit"] = float(value), unit
        else:
            info["stored"] = tuple(int(v) for v in stored)
        geo = self.stack.geometry(self.state.frame)
        if geo.image_position is not None and geo.image_orientation is not None and geo.pixel_spacing:
            ipp, iop, sp = geo.image_position, geo.image_orientation, geo.pixel_spacing
            info["position_mm"] = tuple(
                float(ipp[k]) + c * float(sp[1]) * float(iop[k]) + r * float(sp[0]) * float(iop[3 + k])
                for k in range(3))
        self.probe = info
        self.probeChanged.emit(info)
        self.canvas.viewport().update()

    def handle_key(self, key: int, modifiers=Qt.NoModifier) -> bool:
        """Keyboard commands; returns False for keys the viewport does not use."""
        st = self.state
        shift = bool(modifiers & Qt.ShiftModifier)
        ctrl = bool(modifiers & Qt.ControlModifier)
        if key in (Qt.Key_Down, Qt.Key_Right):
            self.scroll(1)
        elif key in (Qt.Key_Up, Qt.Key_Left):
            self.scroll(-1)
        elif key == Qt.Key_PageDown:
            self.scroll(10)
        elif key == Qt.Key_PageUp:
            self.scroll(-10)
        elif key == Qt.Key_Home:
            self.scroll(-st.n_frames)
        elif key == Qt.Key_End:
            self.scroll(st.n_frames)
        elif Qt.Key_1 <= key <= Qt.Key_9 and not ctrl:
            return self.apply_preset(key - Qt.Key_1)
        elif key == Qt.Key_0:
            self.auto_window()
        elif key == Qt.Key_A:
            self.auto_window()
        elif key == Qt.Key_I:
            st.toggle_invert()
        elif key == Qt.Key_R:
            st.rotate(-1 if shift else 1)
        elif key == Qt.Key_H:
            st.flip_horizontal()
        elif key == Qt.Key_V:
            st.flip_vertical()
        elif key == Qt.Key_F:
            st.fit()
        elif key == Qt.Key_N:
            st.one_to_one()
        elif key in (Qt.Key_Delete, Qt.Key_Backspace) and self.selected is not None:
            self.delete_selected()
        elif key in (Qt.Key_Escape, Qt.Key_Backspace):
            if self._draft is not None:
                self._draft = None
                self.canvas.viewport().update()
            elif key == Qt.Key_Escape and self.selected is not None:
                self.selected = None
                self.canvas.viewport().update()
            else:
                self.reset()
        elif key == Qt.Key_Space:
            self.toggle_cine()
        elif key in (Qt.Key_Plus, Qt.Key_Equal):
            st.update(fps=st.fps + (5 if st.fps >= 5 else 1))
        elif key == Qt.Key_Minus:
            st.update(fps=st.fps - (5 if st.fps > 5 else 1))
        elif key == Qt.Key_O and shift:
            st.update(planes=not st.planes)
        elif key == Qt.Key_O:
            st.update(overlay=not st.overlay)
        elif key == Qt.Key_Delete:
            pass  # nothing selected: click a measurement first
        else:
            shortcuts = {Qt.Key_W: "window", Qt.Key_Z: "zoom", Qt.Key_P: "pan", Qt.Key_D: "distance",
                         Qt.Key_G: "angle", Qt.Key_T: "rectangle", Qt.Key_E: "ellipse"}
            if key in shortcuts:
                st.update(tool=shortcuts[key])
            else:
                return False
        return True

    # -- commands ----------------------------------------------------------------------------------------------
    def presets(self) -> list:
        """The file's windows, then its VOI LUTs (``window`` is a VOILUT, ``source`` "lut"), then CT presets."""
        pres = self.presentation
        if pres is None or pres.is_color:
            return []
        out = list(pres.presets)
        n_file = sum(1 for p in out if p.source == "file")
        luts = [imaging.WindowPreset(voi_lut_name(pres, k), lut, "lut")
                for k, lut in enumerate(getattr(pres, "voi_luts", None) or [])]
        return out[:n_file] + luts + out[n_file:]

    def apply_preset(self, index: int) -> bool:
        presets = self.presets()
        if not 0 <= index < len(presets):
            return False
        w = presets[index].window
        if isinstance(w, imaging.VOILUT):
            k = next(i for i, lut in enumerate(self.presentation.voi_luts) if lut is w)
            self.state.set_voi_lut(k, *lut_window(w))
            return True
        self._voi_function = w.function
        self.state.set_window(w.center, w.width)
        return True

    def auto_window(self) -> None:
        arr = self.current_array()
        if arr is None or self.presentation is None or self.presentation.is_color:
            return
        win = self.presentation.auto_window(arr)
        if win is not None:
            self.state.set_window(win.center, win.width)

    def reset(self) -> None:
        c, w = self._auto_center_width
        self.state.reset(c, w, getattr(self, "_initial_lut", None))

    def toggle_cine(self) -> None:
        self.state.update(playing=not self.state.playing)

    def stop_cine(self) -> None:
        self.state.update(playing=False)

    def render_png(self, path: str, annotations: bool = True) -> bool:
        """Save the current view (what the user sees) as PNG, with or without annotations."""
        return self.grab_view(annotations).save(path, "PNG")

    def grab_view(self, annotations: bool = True) -> QtGui.QPixmap:
        old = self.canvas.draw_annotations
        self.canvas.draw_annotations = annotations
        try:
            self.canvas.viewport().repaint()
            return self.canvas.grab()
        finally:
            self.canvas.draw_annotations = old
            self.canvas.viewport().update()

    def copy_to_clipboard(self, annotations: bool = True) -> None:
        QtGui.QGuiApplication.clipboard().setPixmap(self.grab_view(annotations))

    # -- painting on top -------------------------------------------------------------------------------------
    def _paint_foreground(self, painter: QtGui.QPainter, annotations: bool) -> None:
        if self.stack is None:
            return
        paint_overlay(self, painter, annotations and self.state.overlay)



def _segment_distance(x: float, y: float, a: QtCore.QPointF, b: QtCore.QPointF) -> float:
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    dx, dy = bx - ax, by - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / n))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))
