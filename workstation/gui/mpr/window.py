"""The MPR window: axial, coronal and sagittal planes through one crosshair point, plus a 3D view.

Each plane is an ordinary viewer viewport over a :class:`workstation.imaging.plane_stack.PlaneStack`, so
measurements, probe, orientation letters and the scale bar work on reslices as on acquired images. The crosshair
(imaging/mpr.py ``MPRState``) is shared: a click or drag with the crosshair tool (or Shift+click, as the 3D cursor
elsewhere) moves it and the other planes follow; scrolling a plane moves the point along that plane's normal;
Ctrl+drag turns the other two planes about this one's normal (oblique planes). Slab thickness and mode (MIP, MinIP,
average) apply to the three planes; W/L follows across them. Building the volume runs off the GUI thread with a
progress bar; a series that cannot be reconstructed shows why. A 4D series (several time points at each position)
gets a time point box: the chosen time point is built off the GUI thread and replaces the shown one with the
crosshair, planes, slab and W/L kept. Closing frees the volume and the reslices.
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import create_worker

from workstation.gui.common import lower_thread_priority
from workstation.gui.core_text import core_text
from workstation.gui.mpr.crosshair import register_crosshair_tool
from workstation.gui.viewer.viewport import StackViewport
from workstation.imaging.mpr import VIEWS, MPRState

Qt = QtCore.Qt
COLOURS = {"axial": QtGui.QColor(255, 80, 80), "coronal": QtGui.QColor(80, 220, 110),
           "sagittal": QtGui.QColor(80, 170, 255)}  # each plane's colour: its lines on the others, its frame
VIEW_NAMES = {"axial": QtCore.QT_TRANSLATE_NOOP("MPRWindow", "Axial"),
              "coronal": QtCore.QT_TRANSLATE_NOOP("MPRWindow", "Coronal"),
              "sagittal": QtCore.QT_TRANSLATE_NOOP("MPRWindow", "Sagittal")}
MODES = (("avg", QtCore.QT_TRANSLATE_NOOP("MPRWindow", "Average")),
         ("mip", QtCore.QT_TRANSLATE_NOOP("MPRWindow", "MIP")),
         ("minip", QtCore.QT_TRANSLATE_NOOP("MPRWindow", "MinIP")))


def build_volume(stacks, progress=None):
    """(plan, volume of its first time point): the plan builds the other time points of a 4D series."""
    from workstation.imaging.volume import build_volume as build, check_series, plan_volume

    plan = plan_volume(check_series(stacks))
    return plan, build(plan, progress=progress)


def build_phase(plan, phase: int):
    from workstation.imaging.volume import build_volume as build

    return build(plan, phase)


class MPRWindow(QtWidgets.QMainWindow):
    """MPR of the series of ``stacks`` (its image stacks as the viewer opened them; ``header`` its annotations)."""

    ready = QtCore.Signal()
    failed = QtCore.Signal(str)
    _progress = QtCore.Signal(int, int)

    def __init__(self, stacks, header: dict | None = None, parent=None, title: str = ""):
        super().__init__(parent)
        register_crosshair_tool()
        self.setAttribute(Qt.WA_DeleteOnClose, True)
        self.setWindowTitle(self.tr("MPR — %1").replace("%1", title) if title else self.tr("MPR"))
        self.header = dict(header or {})
        self.volume = None
        self.plan = None
        self._phase_worker = None
        self.state: MPRState | None = None
        self.views: dict[str, StackViewport] = {}
        self.planes: dict[str, object] = {}
        self.view3d = None
        self.error = ""
        self._syncing = False
        self._closed = False
        # One reslice thread per plane: a plane's newest request never waits behind another plane's (with one
        # shared pool the sagittal slab previews came at half the coronal's rate, bench_mpr).
        self._executors = {view: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mpr-{view}",
                                                    initializer=lower_thread_priority) for view in VIEWS}
        self._rebuild_timer = QtCore.QTimer(self, singleShot=True, interval=0)
        self._rebuild_timer.timeout.connect(self._rebuild_turned)
        self._turned: set[str] = set()
        self._in_flight: set[str] = set()  # turned planes rebuilt and not yet on the screen
        self._building: MPRState | None = None  # the crosshair state while the views are being built
        self._build_steps: list = []
        self._first_shown: set[str] = set()  # planes shown once (the 3D view renders after them)
        self._3d_started = False
        self._dragging = False

        self.message = QtWidgets.QLabel(self.tr("Building the volume…"), self)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.bar = QtWidgets.QProgressBar(self)
        host = QtWidgets.QWidget(self)
        lay = QtWidgets.QVBoxLayout(host)
        lay.addStretch(1)
        lay.addWidget(self.message)
        lay.addWidget(self.bar)
        lay.addStretch(1)
        self.setCentralWidget(host)
        self._build_toolbar()
        self.resize(1200, 900)
        self._progress.connect(lambda done, total: (self.bar.setMaximum(max(1, total)), self.bar.setValue(done)))
        emit = self._progress.emit
        worker = create_worker(build_volume, list(stacks), progress=lambda d, t: emit(int(d), int(t)),
                               _start_thread=False, _ignore_errors=True)
        ref = weakref.ref(self)
        worker.returned.connect(partial(_call, ref, "_on_volume"))
        worker.errored.connect(partial(_call, ref, "_on_error"))
        self._worker = worker
        worker.start()

    # -- building ----------------------------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        tb = self.addToolBar(self.tr("MPR"))
        tb.setObjectName("mpr_toolbar")
        tb.addWidget(QtWidgets.QLabel(self.tr("Slab") + " ", self))
        self.slab_box = QtWidgets.QDoubleSpinBox(self)
        self.slab_box.setRange(0.0, 100.0)
        self.slab_box.setSingleStep(1.0)
        self.slab_box.setDecimals(1)
        self.slab_box.setSuffix(" " + self.tr("mm"))
        self.slab_box.setToolTip(self.tr("Slab thickness (0: a single plane)"))
        tb.addWidget(self.slab_box)
        self.mode_box = QtWidgets.QComboBox(self)
        for key, label in MODES:
            self.mode_box.addItem(self.tr(label), key)
        self.mode_box.setCurrentIndex(1)  # a slab is read as a MIP most often
        tb.addWidget(self.mode_box)
        self.slab_box.valueChanged.connect(lambda _v: self.apply_slab())
        self.mode_box.currentIndexChanged.connect(lambda _i: self.apply_slab())
        tb.addSeparator()
        reset = QtGui.QAction(self.tr("Reset"), self)
        reset.setToolTip(self.tr("Crosshair to the volume's centre, planes back to axial/coronal/sagittal"))
        reset.triggered.connect(self.reset)
        tb.addAction(reset)
        self.phase_label = QtWidgets.QLabel(self.tr("Time point") + " ", self)
        self.phase_box = QtWidgets.QSpinBox(self)
        self.phase_box.setToolTip(self.tr("Time point of a 4D series shown in the three planes and the 3D view"))
        self.phase_box.setMinimum(1)
        self.phase_box.valueChanged.connect(lambda v: self.show_phase(v - 1))
        self._phase_actions = [tb.addSeparator(), tb.addWidget(self.phase_label), tb.addWidget(self.phase_box)]
        for action in self._phase_actions:
            action.setVisible(False)
        self.warning = QtWidgets.QLabel(self)
        self.warning.setStyleSheet("color: #c60")
        tb.addSeparator()
        tb.addWidget(self.warning)
        tb.setEnabled(False)
        self.toolbar = tb
        close = QtGui.QAction(self.tr("Close"), self)
        close.setShortcuts([QtGui.QKeySequence("Ctrl+W"), QtGui.QKeySequence("Esc")])
        close.triggered.connect(self.close)
        self.addAction(close)

    def _on_error(self, exc) -> None:
        self.error = core_text(exc)
        self.message.setText(self.tr("MPR is not possible for this series: %1").replace("%1", self.error))
        self.bar.hide()
        self.failed.emit(self.error)

    def _on_volume(self, built) -> None:
        if self._closed:
            return
        self.plan, volume = built
        self.volume = volume
        if self.plan.phase_count > 1:
            self.phase_box.blockSignals(True)
            self.phase_box.setMaximum(self.plan.phase_count)
            self.phase_box.setSuffix(" / {}".format(self.plan.phase_count))
            self.phase_box.blockSignals(False)
            for action in self._phase_actions:
                action.setVisible(True)
        self._building = MPRState(volume)
        grid_host = QtWidgets.QWidget(self)
        self._grid = QtWidgets.QGridLayout(grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.setCentralWidget(grid_host)
        self.warning.setText("; ".join(core_text(w) for w in volume.warnings))
        # Built in steps a timer turn apart (each plane's viewport, then the 3D view): in one go the GUI stalled
        # 50-60 ms (bench_mpr), each step takes a fraction of that and the window paints in between.
        self._build_steps = [partial(self._add_view, k, view) for k, view in enumerate(VIEWS)] + [
            self._add_view3d, self._built]
        QtCore.QTimer.singleShot(0, self._next_build_step)

    def _next_build_step(self) -> None:
        if self._closed or not self._build_steps:
            return
        self._build_steps.pop(0)()
        if self._build_steps:
            QtCore.QTimer.singleShot(0, self._next_build_step)

    def _add_view(self, k: int, view: str) -> None:
        host = self._grid.parentWidget()
        vp = StackViewport(host)
        vp.view_name = view
        vp.state.update(tool="crosshair")
        vp.frameChanged.connect(partial(self._on_frame, view))
        vp.imageShown.connect(partial(self._on_shown, view))
        vp.cursorPicked.connect(partial(self._on_pick, view))
        vp.viewChanged.connect(partial(self._on_view_changed, view))
        vp.on_axis_drag = partial(self.turn, view)
        vp.on_drag_start = self.start_preview
        vp.on_drag_end = self.end_preview
        frame = QtWidgets.QFrame(host)
        frame.setStyleSheet(f"QFrame {{ border: 2px solid {COLOURS[view].name()}; }}")
        inner = QtWidgets.QVBoxLayout(frame)
        inner.setContentsMargins(2, 2, 2, 2)
        inner.addWidget(vp)
        self._grid.addWidget(frame, k // 2, k % 2)
        self.views[view] = vp
        self._set_plane_stack(view)

    def _add_view3d(self) -> None:
        from workstation.gui.mpr.view3d import View3D

        # Its first picture is asked for once the planes show (see _on_shown): the renderer's setup competes with
        # the planes' first paints for the GIL (a 126 ms stall on a first opening, 47 ms on later ones).
        self.view3d = View3D(self.volume, self._grid.parentWidget(), render=False)
        self._grid.addWidget(self.view3d, 1, 1)

    def _built(self) -> None:
        """Every view is in place: the window is ready (the crosshair state goes live)."""
        self.state, self._building = self._building, None
        self.toolbar.setEnabled(True)
        self.state.add_listener(self._on_state)
        self._on_state(self.state)
        if len(self._first_shown) == len(VIEWS):
            self._start_3d()
        else:
            QtCore.QTimer.singleShot(1000, self._start_3d)  # at the latest, should a plane never show
        self.ready.emit()

    def _start_3d(self) -> None:
        if self.view3d is not None and not self._3d_started and not self._closed:
            self._3d_started = True
            self.view3d.request()

    def _set_plane_stack(self, view: str) -> None:
        from workstation.gui.mpr.preview import PreviewPlaneStack

        st = self.state or self._building
        new = PreviewPlaneStack(self.volume, st.plane(view), slab_mm=st.slab_mm, mode=st.mode, executor=self._executors[view],
                         description=self.tr(VIEW_NAMES[view]))
        new.prefetch = partial(_prefetch_unless_dragging, new)
        new.preview = self._previewing()
        old = self.planes.get(view)
        self.planes[view] = new
        vp = self.views[view]
        keep = self._view_to_keep(vp, old, new) if old is not None else None
        self._syncing = True
        try:
            vp.set_stack(new, self._header_for(view), frame=new.index_of(st.point))
            if keep is not None:
                vp.state.update(**keep)
        finally:
            self._syncing = False
        if old is not None:
            old.close()

    def _view_to_keep(self, vp, old, new) -> dict:
        """What the reader set in a view whose planes are rebuilt (turned, another slab or time point): W/L, zoom,
        rotation, flips, inversion, and the pan moved with the crosshair so that it stays where it was on the
        screen (set_stack alone would fit the new plane: every step of an axis drag reset the zoom)."""
        s = vp.state
        keep = dict(center=s.center, width=s.width, zoom=s.zoom, rotation=s.rotation, flip_h=s.flip_h,
                    flip_v=s.flip_v, invert=s.invert)
        if s.pan is not None:
            r0, c0, _ = old.plane(0).patient_to_pixel(self.state.point)
            r1, c1, _ = new.plane(0).patient_to_pixel(self.state.point)
            keep["pan"] = (s.pan[0] + float(c1 - c0), s.pan[1] + float(r1 - r0))
        return keep

    def _header_for(self, view: str) -> dict:
        h = dict(self.header)
        h["SeriesDescription"] = f"{self.tr(VIEW_NAMES[view])}  {h.get('SeriesDescription', '')}".strip()
        return h

    # -- previews while dragging -------------------------------------------------------------------------------
    def _previewing(self) -> bool:
        """Half-resolution planes while a drag is on, when full ones are slow: a slab, or oblique planes."""
        st = self.state
        return self._dragging and st is not None and (st.slab_mm > 0 or st.is_oblique())

    def start_preview(self) -> None:
        self._dragging = True
        for ps in self.planes.values():
            ps.preview = self._previewing()

    def end_preview(self) -> None:
        """The drag ended: each plane shown as a preview is resliced at full resolution."""
        self._dragging = False
        if self._turned:  # the last turn of the drag, rebuilt now and in full
            self._rebuild_timer.stop()
            self._rebuild_turned()
        for view, ps in self.planes.items():
            vp = self.views[view]
            was_preview = ps.is_preview(vp.state.frame)
            ps.end_preview()
            if was_preview:
                # The preview stays on the screen until the full plane is ready; the viewport shows a frame that
                # arrives only when it is not the one shown (hence forgetting which one that is).
                vp._shown_index = None
                ps.frame(vp.state.frame)

    # -- 4D: time points ---------------------------------------------------------------------------------------
    def show_phase(self, phase: int) -> None:
        """Build time point ``phase`` (0-based) off the GUI thread; it replaces the shown one when ready (the newest
        choice wins when the reader steps through several)."""
        if self.plan is None or self._closed or phase == getattr(self.volume, "phase", 0):
            return
        self.statusBar().showMessage(self.tr("Building time point %1…").replace("%1", str(phase + 1)))
        worker = create_worker(build_phase, self.plan, phase, _start_thread=False, _ignore_errors=True)
        ref = weakref.ref(self)
        worker.returned.connect(partial(_call, ref, "_on_phase"))
        worker.errored.connect(partial(_call, ref, "_on_phase_error"))
        self._phase_worker = worker
        worker.start()

    def _on_phase(self, volume) -> None:
        if self.state is None or volume.phase != self.phase_box.value() - 1:
            return  # the reader has moved on to another time point meanwhile
        self.volume = volume
        self.state.volume = volume  # the same grid: the crosshair, turned planes and slab stay as they are
        self.state._frames.clear()
        for view in VIEWS:
            self._set_plane_stack(view)
        if self.view3d is not None:
            self.view3d.set_volume(volume)
        self.warning.setText("; ".join(core_text(w) for w in volume.warnings))
        self.statusBar().clearMessage()
        self._on_state(self.state)

    def _on_phase_error(self, exc) -> None:
        self.statusBar().showMessage(self.tr("Time point not shown: %1").replace("%1", core_text(exc)), 8000)

    # -- the crosshair -----------------------------------------------------------------------------------------
    def _on_state(self, state: MPRState) -> None:
        """The point (or the planes) changed: each view shows the plane through it, with the others' lines."""
        if self._closed or not self.views:
            return
        self._syncing = True
        try:
            for view, vp in self.views.items():
                k = self.planes[view].index_of(state.point)
                if k != vp.state.frame:
                    vp.state.update(frame=k)
                    self.planes[view].drop_queued(keep=k)  # the planes passed over while dragging
        finally:
            self._syncing = False
        self._draw_lines()

    def _draw_lines(self) -> None:
        st = self.state
        for view, vp in self.views.items():
            plane = self.planes[view].plane(vp.state.frame)
            lines = []
            for other in VIEWS:
                if other == view:
                    continue
                from workstation.imaging.mpr import reference_line

                seg = reference_line(st.plane(other), plane)
                if seg is not None:
                    lines.append((seg, COLOURS[other]))
            vp.reference_lines = lines
            r, c, _d = plane.patient_to_pixel(st.point)
            vp.cursor_mark = (vp.state.frame, float(r), float(c))
            vp.canvas.viewport().update()

    def point_in(self, view: str, image_pos) -> np.ndarray:
        """Patient point (LPS mm) of image (column, row) ``image_pos`` of ``view``'s current plane."""
        vp = self.views[view]
        return self.planes[view].plane(vp.state.frame).pixel_to_patient(image_pos.y() - 0.5, image_pos.x() - 0.5)

    def _on_pick(self, view: str, image_pos) -> None:
        if self.state is not None:
            self.state.set_point(self.point_in(view, image_pos))

    def _on_frame(self, view: str, frame: int) -> None:
        """Scrolling a plane moves the crosshair along its normal (the other planes follow)."""
        if self._syncing or self.state is None:
            return
        plane = self.planes[view].plane(frame)
        n = plane.normal
        depth = float((np.asarray(plane.image_position) - self.state.point) @ n)
        self.state.set_point(self.state.point + depth * n)

    def turn(self, view: str, degrees: float) -> None:
        """Turn the other two planes about ``view``'s normal (Ctrl+drag in ``view``): oblique MPR."""
        if self.state is None or abs(degrees) < 1e-9:
            return
        self._turned |= {v for v in VIEWS if v != view}
        self.state.rotate(view, degrees)  # its listener draws the turned lines at once
        # Paced by the screen, not by a clock: the turned planes are rebuilt as soon as the previous rebuild is
        # shown, so the rate follows what the machine can reslice and paint (a fixed 15 ms timer capped it near 31
        # planes a second; rebuilding on every mouse event queued work faster than it was shown - 16-26). A plane
        # that never shows (an error) holds the others at most 60 ms.
        if not self._rebuild_timer.isActive():
            self._rebuild_timer.start(60 if self._in_flight else 0)

    def _on_shown(self, view: str) -> None:
        if not self._3d_started:
            self._first_shown.add(view)
            if len(self._first_shown) == len(VIEWS):
                self._start_3d()  # (no view yet when the planes show before the window is built: then _built)
        if view in self._in_flight:
            self._in_flight.discard(view)
            if not self._in_flight and self._turned:
                self._rebuild_timer.start(0)

    def _rebuild_turned(self) -> None:
        if self._closed or self.state is None:
            return
        turned, self._turned = sorted(self._turned), set()
        self._in_flight = set(turned)
        for view in turned:
            self._set_plane_stack(view)
        self._draw_lines()

    def apply_slab(self) -> None:
        if self.state is None:
            return
        self.state.set_slab(self.slab_box.value(), self.mode_box.currentData())
        for view in VIEWS:
            self._set_plane_stack(view)
        self._draw_lines()

    def reset(self) -> None:
        if self.state is None:
            return
        self.state.reset()
        self.slab_box.blockSignals(True)
        self.slab_box.setValue(0.0)
        self.slab_box.blockSignals(False)
        for view in VIEWS:
            self._set_plane_stack(view)
        self._on_state(self.state)
        if self.view3d is not None:
            self.view3d.reset_view()

    def _on_view_changed(self, view: str, changed) -> None:
        """W/L follows across the three planes (they show one volume)."""
        if self._syncing or not changed & {"center", "width"}:
            return
        st = self.views[view].state
        self._syncing = True
        try:
            for other, vp in self.views.items():
                if other != view and (vp.state.center, vp.state.width) != (st.center, st.width):
                    vp.state.update(center=st.center, width=st.width)
        finally:
            self._syncing = False

    # -- closing -----------------------------------------------------------------------------------------------
    def closeEvent(self, ev) -> None:
        self._closed = True
        if self.state is not None:
            self.state.remove_listener(self._on_state)
        for vp in self.views.values():
            vp.release()
        for ps in self.planes.values():
            ps.close()
        if self.view3d is not None:
            self.view3d.close_renderer()
        self.planes.clear()
        self.views.clear()
        self.state = None
        self._building, self._build_steps = None, []  # closed while the views were being built
        self.volume = None
        self.plan = None
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
        for worker in (self._worker, self._phase_worker):
            try:
                if worker is not None:
                    worker.quit()
            except Exception:  # noqa: BLE001
                pass
        super().closeEvent(ev)


def _prefetch_unless_dragging(stack, index: int, direction: int = 1, count: int | None = None) -> None:
    """A plane stack's look-ahead, except while a mouse button is down: during a crosshair or axis drag the planes
    next to the shown one are not read next, and reslicing them kept the shown planes waiting in the queue
    (bench_mpr: the sagittal plane of an axis drag updated 0.3 times a second behind the coronal's look-ahead)."""
    if QtWidgets.QApplication.mouseButtons() != Qt.NoButton:
        return
    type(stack).prefetch(stack, index, direction, count)


def _call(ref, method: str, *args) -> None:
    win = ref()
    if win is not None and not getattr(win, "_closed", True):
        getattr(win, method)(*args)

