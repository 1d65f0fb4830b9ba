"""The stack viewport: one image stack on a pyqtgraph ``ImageItem`` in a ``ViewBox``, driven by ViewportState.

The widget owns no view state: input goes to its :class:`workstation.gui.viewer.interaction.Interaction` (tools as
small objects; which tool does a drag is data), which calls :class:`ViewportState` operations; the state notifies :meth:`StackViewport._on_state`, which pushes levels/LUT, transform and range to pyqtgraph. Raw frames are
shown as stored; window/level is applied at render time (``setLevels``/``setLookupTable``).
Frames come from a :class:`workstation.imaging.Stack`: ``stack.frame(i)`` never blocks (``None`` means "decode
queued"), and the stack's listener, called from a worker thread, is marshalled to the GUI thread by a Signal.
The canvas, what is painted over the image and the export grab are in painting.py.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.viewer.dragdrop import SERIES_MIME
from workstation.gui.viewer.interaction import Interaction
from workstation.gui.viewer.measure import Measurement, MeasurementStore
from workstation.gui.viewer.painting import Canvas, CountingImageItem, grab_view
from workstation.gui.viewer.series import source_frame, source_uid
from workstation.gui.viewer.state import ViewportState, screen_transform
from workstation.gui.viewer import tools_roi  # noqa: F401 - registers the annotation tools
from workstation.gui.viewer.voi import file_frame_rate
from workstation.imaging.overlays import composite, overlay_planes
from workstation.gui.viewer.ps_layers import PSLayers
from workstation.gui.viewer.windowing import PS_VOI_LUT, Windowing  # noqa: F401 - PS_VOI_LUT re-exported

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
STALE_MS = 150  # a frame still loading after this long: the frame before it leaves the screen

Qt = QtCore.Qt
__all__ = ["StackViewport", "CountingImageItem", "SERIES_MIME"]


class StackViewport(Windowing, QtWidgets.QWidget):
    """One viewport showing one image stack (or a message for a non-image object).

    Signals: ``frameChanged(int)``, ``activated()`` (clicked/focused), ``seriesDropped(object)`` (a
    :class:`workstation.gui.viewer.dragdrop.SeriesPayload` dropped on it), ``probeChanged(dict)`` (the pixel under the cursor), ``viewChanged(set)`` (state changes).
    """

    frameChanged = QtCore.Signal(int)
    activated = QtCore.Signal()
    doubleClicked = QtCore.Signal()  # with a navigation tool: the window maximises this viewport (and back)
    seriesDropped = QtCore.Signal(object)
    probeChanged = QtCore.Signal(dict)
    viewChanged = QtCore.Signal(object)
    cursorPicked = QtCore.Signal(object)  # Shift+click: image (column, row) of the 3D cursor (scout_lines.py)
    imageShown = QtCore.Signal()  # a decoded frame is on the screen (or cannot be: see frame_error)
    _frameReady = QtCore.Signal(object, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = ViewportState()
        self.measurements = MeasurementStore()
        self.persistent_measurements: MeasurementStore | None = None  # set by the window: kept across openings
        self.stack = None
        self.entry = None
        self.pending_drop = None  # the key of a series opening in the window for a drop here
        self.expected_frames: int | None = None  # the sorted stack's length while its first image shows alone
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
        self.interaction = Interaction(self)  # mouse, wheel and keys -> tools (and the draft, the selection)
        self._direction = 0
        self._needs_auto: int | None = None  # the frame whose decoded values give the opening window
        self.frame_error = ""
        self._auto_center_width = (40.0, 400.0)

        self.canvas = Canvas(self)
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
        self.ps_layers = PSLayers(self)  # an applied presentation state's shutters and overlays
        self.ps_note = ""  # the PS applied, and what of it is not shown (bottom-left corner)
        self.ps_voi_lut = None  # the VOI LUT of the PS applied, shown while state.lut is PS_VOI_LUT
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
        self._doc_button = QtWidgets.QPushButton(self.tr("Open document"), self)
        self._doc_button.clicked.connect(self.open_document)
        self._label_area.hide()
        self._doc_button.hide()

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(1, 1, 1, 1)
        lay.addWidget(self.canvas)
        lay.addWidget(self._label_area)
        lay.addWidget(self._doc_button, 0, Qt.AlignCenter)

        # A frame still loading after STALE_MS: the one before it leaves the screen (see _show_frame).
        self._stale = QtCore.QTimer(self)
        self._stale.setSingleShot(True)
        self._stale.setInterval(STALE_MS)
        self._stale.timeout.connect(self._hide_stale_frame)

        self._cine = QtCore.QTimer(self)
        self._cine.timeout.connect(lambda: self.state.scroll(1, wrap=True))

        self.state.subscribe(self._on_state)
        self._frameReady.connect(self._on_frame_ready, Qt.QueuedConnection)
        self.set_active(False)

    # -- content ---------------------------------------------------------------------------------------------
    def set_entry(self, entry) -> None:
        """Show a :class:`workstation.gui.viewer.series.SeriesEntry` (image stack or non-image object)."""
        if entry is not None and entry is self.entry and entry.stack is not None and entry.stack is self.stack:
            return  # already shown: a hanging protocol placing it again keeps its image, W/L and presentation state
        self.entry = entry
        if entry is None or entry.stack is None:
            self.set_stack(None)
            self.show_message(entry.message if entry else self.tr("Drag a series here"),
                              entry.document_path if entry else None)
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
        self.ps_layers.clear()  # a presentation state belongs to the series it was applied to
        self.ps_note = ""
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
        self.interaction.reset_annotations()
        extra = {}
        fps = file_frame_rate(stack.header(frame)) if n > 1 else None
        if fps:
            extra["fps"] = fps
        # One update: frame, window and geometry reset together, then one render. Its window is the placeholder
        # of an opening window still to come (_initial_voi): the update must not cancel that one.
        pending = self._needs_auto
        self.state.update(n_frames=n, frame=frame, center=center, width=width, lut=lut, zoom=None, pan=None,
                          rotation=0, flip_h=False, flip_v=False, invert=False, **extra)
        self._needs_auto = pending
        self._show_frame(force=True)
        self._apply_view()

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

    def release(self) -> None:
        """Let go of everything shown and of the references that tie this viewport into cycles (the window is
        closing): the objects are then freed by reference counting, without a full garbage collection."""
        self.stop_cine()
        self.set_entry(None)
        self.entry = None
        self.header = {}
        self.presentation = None
        self._array = None
        self.interaction.reset_annotations()
        self.ps_layers.release()
        for item in (self.image, self.planes):
            item.clear()
            # pyqtgraph keeps the last rendering (rows x columns x 4 bytes) until the next one.
            item.qimage = None
            item._displayBuffer = item._processingBuffer = None
        self.state.unsubscribe(self._on_state)
        self.interaction.vp = None
        self.canvas._vp = None

    # -- frames ----------------------------------------------------------------------------------------------
    def _listener(self, stack, index):  # worker thread
        self._frameReady.emit(stack, int(index))

    def _on_frame_ready(self, stack, index):
        if stack is self.stack and index == self._needs_auto and index != self.state.frame:
            arr = stack.frame(index)  # the representative frame, decoded: the opening window comes from it
            if arr is not None:
                self._apply_auto_window(stack.presentation(index), arr)
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

    def image_number_text(self) -> str:
        """"Im 12/300 (#12)": the position in the stack and, for a stack of separate images, the InstanceNumber
        (the number the PACS and the dictation use)."""
        st = self.state
        n = self.expected_frames or st.n_frames
        number = None
        if self.stack is not None:
            src = self.stack.source(st.frame)
            last = self.stack.source(len(self.stack) - 1)
            if source_frame(src) == 0 and (len(self.stack) == 1 or last.path != src.path):
                number = self.stack.geometry(st.frame).instance_number
        if number is None:
            return QtCore.QCoreApplication.translate("Overlay", "Im {0}/{1}").format(st.frame + 1, n)
        return QtCore.QCoreApplication.translate("Overlay", "Im {0}/{1} (#{2})").format(st.frame + 1, n, number)

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
            if err is not None:
                # Only the reason shows: the frame before this one stayed on the screen under the message, its
                # pixels read as this frame's.
                self._hide_stale_frame()
                self.imageShown.emit()  # what shows is the reason: nothing more will come for this frame
            elif not self._stale.isActive():
                # While it loads, the frame before it stays, "loading" in the corner: for a scroll through cached
                # or quickly decoded frames that is a few milliseconds. Longer (a large JPEG 2000 frame, a slow
                # disk), it leaves the screen rather than be read as this frame, measurements and all.
                self._stale.start()
            return
        self._stale.stop()
        self.frame_error = ""
        self.image.setVisible(True)
        pres = self.stack.presentation(i)
        self.presentation = pres
        self._array = arr
        self._shown_index = i
        if self._needs_auto == i:
            self._apply_auto_window(pres, arr)
        levels, lut = self._mapping()
        shape_changed = self.image.image is None or self.image.image.shape[:2] != arr.shape[:2]
        self._last_levels, self._last_lut = levels, lut
        if levels is None:
            self.image.setImage(arr, autoLevels=False, levels=None, lut=None)
        else:
            self.image.setImage(arr, autoLevels=False, levels=levels, lut=lut)
        self._show_planes(i, arr.shape[0], arr.shape[1])
        self.ps_layers.refresh()
        if shape_changed or force:
            self._apply_view()
        self._refresh_probe()
        self.canvas.viewport().update()
        self.imageShown.emit()

    def _hide_stale_frame(self) -> None:
        if self.current_array() is None:
            self.image.setVisible(False)
            self.planes.setVisible(False)
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

    # -- state -> view ---------------------------------------------------------------------------------------
    def _on_state(self, changed: set[str]) -> None:
        if changed & {"center", "width", "lut"}:
            # A window set meanwhile (the reader's, a presentation state's) is not overridden by the opening
            # window when its frame arrives.
            self._needs_auto = None
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
        if changed & {"planes", "overlay"}:
            self.ps_layers.refresh()
        if "playing" in changed or "fps" in changed:
            if self.state.playing:
                self._cine.start(max(1, int(round(1000.0 / self.state.fps))))
            else:
                self._cine.stop()
        if "tool" in changed:
            self.interaction.tool_changed()
        if "frame" in changed:
            self.interaction.frame_changed()
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

    # -- input (the tools and the dispatch are in interaction.py) ------------------------------------------------
    @property
    def _draft(self) -> Measurement | None:
        """The measurement being drawn (painted by the overlay)."""
        return self.interaction.draft

    @property
    def selected(self) -> Measurement | None:
        """The selected measurement (Delete removes it)."""
        return self.interaction.selected

    @selected.setter
    def selected(self, m: Measurement | None) -> None:
        self.interaction.selected = m

    def handle_key(self, key: int, modifiers=Qt.NoModifier) -> bool:
        """Keyboard commands; returns False for keys the viewport does not use."""
        return self.interaction.key(key, modifiers)

    def handle_at(self, widget_pos, tolerance: float = 6.0, only: Measurement | None = None):
        return self.interaction.handle_at(widget_pos, tolerance, only)

    def measurement_at(self, widget_pos, tolerance: float = 6.0):
        return self.interaction.measurement_at(widget_pos, tolerance)

    def delete_selected(self) -> bool:
        """Remove the selected measurement; False when none is selected."""
        return self.interaction.delete_selected()

    def scroll(self, delta: int) -> None:
        self._direction = 1 if delta > 0 else -1
        self.state.scroll(delta)

    def drag_window(self, dx: float, dy: float) -> None:
        """Left-drag window/level: right widens the window, down raises the centre (OsiriX/Horos)."""
        if self.presentation is not None and self.presentation.is_color:
            return
        sensitivity = max(0.1, self.state.width / 256.0)
        self.state.drag_window(dx, dy, sensitivity)

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

    # -- commands ----------------------------------------------------------------------------------------------
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
        return grab_view(self, annotations)

    def copy_to_clipboard(self, annotations: bool = True) -> None:
        QtGui.QGuiApplication.clipboard().setPixmap(self.grab_view(annotations))
