"""ViewerWindow: viewports in a 1x1/1x2/2x1/2x2 grid, a series thumbnail strip, a tag browser and the tool bar.

Opening never happens on the GUI thread: headers are read and stacks built in a superqt worker; frames are decoded
by the stacks' executor. Stacks are in reading order (workstation.reading.order: InstanceNumber, as Weasis and
Horos). When the caller knows the first image in that order from the archive index (a
:class:`workstation.reading.order.SeriesFiles` with ``first_known``), that file alone is shown at once and the
sorted stack takes over at the same image, so the first frame does not wait for 2,000 headers; otherwise the
viewport says "Loading…" until the sorted stack is ready. An unsorted file is never shown as image 1. All series of a window share one
frame-cache budget: ``settings.memory_budget_fraction`` of the machine's RAM.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import create_worker

from workstation import imaging
from workstation.gui import foreground_gate
from workstation.gui.viewer import menus
from workstation.gui.viewer.hanging_apply import Hanging, ask_and_save
from workstation.gui.viewer.dragdrop import SeriesPayload, window_token
from workstation.gui.viewer.key_images import KeyImages
from workstation.gui.viewer.measure import MeasurementStore
from workstation.gui.viewer.series import (
    SeriesEntry, flatten, gc_paused, open_entries, give_memory_back, release_gradually,
)
from workstation.gui.viewer.pstate_session import PresentationStates
from workstation.gui.viewer.scout_lines import ReferenceLines
from workstation.gui.viewer.tag_browser import TagBrowser
from workstation.gui.viewer.linking import LINKED_VIEW, SyncLinking  # noqa: F401 - LINKED_VIEW re-exported
from workstation.gui.viewer.toolbar import LAYOUTS, TOOL_LABELS, TOOL_TIPS, ViewerToolbar  # noqa: F401
from workstation.gui.viewer.thumbnails import ThumbnailJobs, ThumbnailStrip
from workstation.gui.viewer.viewport import StackViewport
from workstation.reading.sync import SliceSync

Qt = QtCore.Qt
# The open viewer windows (weakly): a series dragged from one window to another is found in its source window.
_WINDOWS: "weakref.WeakSet[ViewerWindow]" = weakref.WeakSet()
_SERIAL = itertools.count(1)


class ViewerWindow(ViewerToolbar, SyncLinking, QtWidgets.QMainWindow):
    """The image viewer.

    Parameters
    ----------
    items: file paths (one group, split into series/stacks by the imaging core) and/or lists of paths (one group
        per list, e.g. one per series from the database browser).
    settings: the workstation Settings (optional; defaults when None). ``memory_budget_fraction`` of the
        machine's RAM is the frame-cache budget of this window, one :class:`workstation.imaging.MemoryBudget`
        shared by every series open in it (:attr:`memory_budget`).
    executor: a ``concurrent.futures`` executor for decoding; one is created (and shut down on close) if omitted.

    Signals: ``loaded()`` once every group is open (``entries`` is complete).
    """

    loaded = QtCore.Signal()
    firstFrameShown = QtCore.Signal()
    seriesAdded = QtCore.Signal(int)  # series that arrived after opening (gui/viewer/arrivals.py)

    def __init__(self, items=(), settings=None, parent=None, executor=None, layout: str = "1x1",
                 hanging: bool = False):
        super().__init__(parent)
        # Hanging protocols: applied when the series are open if ``hanging`` (the app's studies), on request always.
        self.hanging = Hanging(self)
        self.hanging.applied.connect(lambda _name: self.statusBar().showMessage(self.hanging.describe(), 10000))
        if hanging:
            self.hanging.warm()
            self.loaded.connect(self.hanging.apply_best)
        self.serial = next(_SERIAL)
        _WINDOWS.add(self)
        # Deleted when closed: a parentless window stayed alive with its series (20 MB per 300-image study).
        self.setAttribute(Qt.WA_DeleteOnClose, True)
        # Once deleted, what it freed goes back to the system (glibc keeps freed memory otherwise).
        self.destroyed.connect(partial(_after_delete, weakref.ref(self)))
        close = QtGui.QAction(self.tr("Close"), self)
        keys = QtGui.QKeySequence.keyBindings(QtGui.QKeySequence.Close)
        if QtGui.QKeySequence("Ctrl+W") not in keys:  # a sequence listed twice makes the shortcut "ambiguous"
            keys.append(QtGui.QKeySequence("Ctrl+W"))
        close.setShortcuts(keys)
        close.triggered.connect(self.close)
        self.addAction(close)  # Ctrl+W as in every other viewer window; the tool bar has no room for it
        self.settings = settings
        # Measurements are kept with the archive (its data dir) when the viewer knows it; else only in memory.
        data_dir = getattr(settings, "data_dir", None) if settings is not None else None
        self.measurement_store = MeasurementStore.shared(Path(data_dir) / "measurements.json") if data_dir else None
        self.memory_budget = imaging.MemoryBudget.fraction_of_ram(_budget_fraction(settings))
        foreground_gate.install()  # header reading and decoding give way while this thread handles events
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)),
                                                       thread_name_prefix="viewer-decode")
        self.entries: list[SeriesEntry] = []
        self.viewports: list[StackViewport] = []
        self.active: StackViewport | None = None
        self.sync_enabled = True
        self._windows: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # last W/L seen per viewport
        self._syncing = False
        self.sync = SliceSync()
        self._sync_geometries: dict = {}  # stack -> SliceGeometry (computed once per stack)
        self._workers = []
        # Weakly bound: the jobs live on in a running worker's signal after close, and must not keep the window
        # (nor be in a reference cycle with it, which the collector would clear under the running worker).
        self._thumbnail_jobs = ThumbnailJobs(_weak_method(self, "_start"), _weak_method(self, "_on_thumbnail"))
        self._quick_entry: SeriesEntry | None = None
        self._rest_started = False
        self.is_loaded = False
        self._closed = False
        self.opening_cancelled = threading.Event()

        self.grid_host = QtWidgets.QWidget(self)
        self.grid = QtWidgets.QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.setCentralWidget(self.grid_host)

        self.thumbnails = ThumbnailStrip(self)
        self.thumbnails.payload_for = self._payload
        # The strip never takes the keyboard: arrows and preset keys moved the strip instead of the image.
        self.thumbnails.setFocusPolicy(Qt.NoFocus)
        self.thumbnails.itemDoubleClicked.connect(
            lambda item: self.show_entry(self.viewports.index(self.active), item.data(Qt.UserRole)))
        dock = QtWidgets.QDockWidget(self.tr("Series"), self)
        dock.setObjectName("series_dock")
        dock.setWidget(self.thumbnails)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetMovable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)

        self.tags = TagBrowser(self)
        self.tags_dock = QtWidgets.QDockWidget(self.tr("Tags"), self)
        self.tags_dock.setObjectName("tags_dock")
        self.tags_dock.setWidget(self.tags)
        self.addDockWidget(Qt.RightDockWidgetArea, self.tags_dock)
        self.tags_dock.hide()
        self.resizeDocks([self.tags_dock], [520], Qt.Horizontal)
        self.tags_dock.visibilityChanged.connect(lambda _v: self._refresh_tags())

        self.reference_lines = ReferenceLines(self)
        self.archive = None  # set by the main window: presentation states are read and written there
        self.pstates = PresentationStates(self)
        self._build_toolbar()
        self.set_layout(layout)
        menus.install(self)  # menu bar, title from the series shown, size from the screen (menus.py)
        self.key_images = KeyImages(self)  # K/star, the study's KOS, the key-images stack (key_images.py)
        self.statusBar().showMessage(self.tr("Opening…"))
        self._groups = flatten(items)
        if self._groups:
            self._open_groups(self._groups)

    # -- opening -------------------------------------------------------------------------------------------------
    def _budget(self):
        return self.memory_budget

    def _open_groups(self, groups):
        self._rest_started = False
        first = groups[0][:1]
        if first and len(groups[0]) > 1 and getattr(groups[0], "first_known", False):
            # The first image alone first; the other headers are read once it is on the screen (read at the same
            # time they took the GIL from its decode: 2,000 headers delayed the first image by 100-200 ms).
            quick = create_worker(open_entries, first, executor=self.executor, memory_budget=self._budget())
            quick.returned.connect(self._on_quick)
            quick.errored.connect(self._open_rest)
            self._start(quick)
            QtCore.QTimer.singleShot(1000, self._open_rest)  # whatever happens to the first image
        else:
            self.viewports[0].show_message(self.tr("Loading…"))
            self._open_rest()

    def _open_rest(self, *_args) -> None:
        """Read every header and build the sorted stacks (once)."""
        if self._rest_started or self._closed:
            return
        self._rest_started = True
        # Plain values, not the window: a window closed meanwhile is emptied (see _after_delete) under the worker.
        worker = create_worker(open_all, self._groups, self.executor, self._budget(), self.opening_cancelled.is_set)
        worker.returned.connect(self._on_opened)
        worker.errored.connect(self._on_open_error)
        self._start(worker)

    def _start(self, worker):
        self._workers.append(worker)
        # Weak references only: a worker's signals are kept by Qt, and a lambda holding the window (or the worker
        # itself) there kept every closed window and its series alive.
        worker.finished.connect(partial(_worker_done, weakref.ref(self), weakref.ref(worker)))
        worker.start()


    def _on_quick(self, entries):
        if self._closed:
            _close_entries(entries)
            return
        if self.is_loaded or not entries or entries[0].stack is None:
            _close_entries(entries)
            self._open_rest()
            return
        self._quick_entry = entries[0]
        vp = self.viewports[0]
        vp.expected_frames = getattr(self._groups[0], "count", 0) or None
        vp.imageShown.connect(self._open_rest)
        vp.set_entry(entries[0])
        self._set_active(vp)
        if vp.current_array() is not None or vp.frame_error:
            self._open_rest()
        self.firstFrameShown.emit()

    def _on_open_error(self, exc):
        if self._closed:
            return
        self.statusBar().showMessage(self.tr("Cannot open: {0}").format(exc))
        self.viewports[0].show_message(self.tr("Cannot open these files:") + f"\n{exc}")
        self.is_loaded = True
        self.loaded.emit()

    def _on_opened(self, entries):
        if self._closed:
            _close_entries(entries)
            return
        self.entries = list(entries)
        quick = self._quick_entry
        if quick is not None and quick.stack is not None:
            # The image on the screen stays: its stack comes first (a localizer of the same series may be larger
            # in number of bytes, but the reader already looks at this one).
            path = quick.stack.source(0).path
            k = next((i for i, e in enumerate(self.entries)
                      if e.stack is not None and e.stack.source(0).path == path), None)
            if k:
                self.entries.insert(0, self.entries.pop(k))
            if k is not None:
                self.entries[0].stack.adopt(quick.stack)  # the image on the screen is not decoded again
        self.viewports[0].expected_frames = None
        self.is_loaded = True
        for i, e in enumerate(self.entries):
            self.thumbnails.add_entry(i, e)
        self.thumbnails.label_studies(self.entries)
        for k, vp in enumerate(self.viewports):
            if k < len(self.entries):
                # The sorted stack from its first image (as Horos does), not the file that happened to be first.
                self.show_entry(k, k, frame=0)
        if quick is not None and quick.stack is not None:
            quick.stack.close()
        self._quick_entry = None
        for vp in self.viewports[len(self.entries):]:
            vp.set_entry(None)  # an empty cell says what to do with it
        if self.viewports:
            self._set_active(self.viewports[0])
            # Keys go to the image (arrows scroll, 1-9 presets), not to the series strip.
            self.viewports[0].canvas.setFocus(Qt.OtherFocusReason)
        self.statusBar().showMessage(self.tr("%n series", "", len(self.entries)), 5000)
        self._make_thumbnails()
        self.loaded.emit()

    def _make_thumbnails(self, indices=None):
        todo = [(i, self.entries[i]) for i in (range(len(self.entries)) if indices is None else indices)]
        self._thumbnail_jobs.request(todo)

    def _on_thumbnail(self, item):
        if not self._closed:
            self.thumbnails.set_thumbnail(*item)

    # -- layout ----------------------------------------------------------------------------------------------------
    def set_layout(self, name: str) -> None:
        """Arrange 1x1, 1x2, 2x1 or 2x2 viewports (existing viewports keep their series)."""
        rows, cols = LAYOUTS[name]
        self.layout_name = name
        if hasattr(self, "layout_box") and self.layout_box.currentText() != name:
            self.layout_box.blockSignals(True)
            self.layout_box.setCurrentText(name)
            self.layout_box.blockSignals(False)
        need = rows * cols
        while len(self.viewports) < need:
            vp = self.add_viewport()
            k = len(self.viewports) - 1
            if k < len(self.entries):
                self.show_entry(k, k)
            elif self.is_loaded:
                vp.set_entry(None)  # an empty cell says what to do with it
        for vp in self.viewports:
            self.grid.removeWidget(vp)
            vp.hide()
        # Equal cells whatever each viewport holds: without stretch factors a message (SR, RT plan) got a thin
        # strip and an image the rest, by their size hints.
        for i in range(4):
            self.grid.setRowStretch(i, 1 if i < rows else 0)
            self.grid.setColumnStretch(i, 1 if i < cols else 0)
        for k in range(need):
            vp = self.viewports[k]
            self.grid.addWidget(vp, k // cols, k % cols)
            vp.show()
        for k in range(need, len(self.viewports)):
            self.viewports[k].stop_cine()
        if self.active is None or self.viewports.index(self.active) >= need:
            self._set_active(self.viewports[0])

    def add_viewport(self) -> StackViewport:
        """One more viewport, connected, not yet in the grid (``set_layout`` places it). Creating one costs
        10-20 ms (pyqtgraph's view box): a hanging protocol makes the cells it needs one per event-loop turn."""
        vp = StackViewport(self.grid_host)
        vp.hide()
        if self.measurement_store is not None:
            vp.persistent_measurements = vp.measurements = self.measurement_store
        vp.activated.connect(lambda v=vp: self._set_active(v))
        vp.doubleClicked.connect(lambda v=vp: menus.toggle_maximised(self, v))
        vp.frameChanged.connect(lambda _f, v=vp: self._on_frame(v))
        vp.seriesDropped.connect(lambda payload, v=vp: self.drop_series(v, payload))
        vp.probeChanged.connect(self._on_probe)
        vp.viewChanged.connect(lambda ch, v=vp: self._on_view_changed(v, ch))
        vp.cursorPicked.connect(lambda pos, v=vp: self.reference_lines.pick(v, pos))
        self.viewports.append(vp)
        if self.active is not None:
            vp.state.update(tool=self.active.state.tool)  # the tool the user chose, not the default
        return vp

    @property
    def visible_viewports(self) -> list[StackViewport]:
        rows, cols = LAYOUTS[self.layout_name]
        return self.viewports[: rows * cols]

    def show_entry(self, viewport_index: int, entry_index: int, frame: int | None = None,
                   activate: bool = True) -> None:
        """Show series ``entry_index`` (of :attr:`entries`) in viewport ``viewport_index`` and make it the active one
        (unless ``activate`` is false: a hanging protocol filling its cells leaves the reader's active cell)."""
        if not 0 <= entry_index < len(self.entries):
            return
        vp = self.viewports[viewport_index]
        entry = self.entries[entry_index]
        hanging = getattr(self, "hanging", None)
        if hanging is not None:
            hanging.reader_chose()
        vp.pending_drop = None  # a series opening for a drop on this viewport no longer replaces this one
        self.sync.forget(vp)  # an offset fixed for the series it showed does not hold for this one
        if vp.entry is not None and vp.entry is not entry:
            self.pstates.leaving(vp)  # its marks travel as a presentation state
        vp.set_entry(entry)
        self.pstates.apply_newest(vp)
        if frame is not None and entry.stack is not None:
            vp.state.update(frame=frame)
        if activate or vp is self.active:
            self._set_active(vp)

    # -- drag and drop of series (also between windows) --------------------------------------------------------
    def _payload(self, index: int) -> SeriesPayload | None:
        if not 0 <= index < len(self.entries):
            return None
        e = self.entries[index]
        return SeriesPayload(str(e.header.get("StudyInstanceUID", "")), str(e.header.get("SeriesInstanceUID", "")),
                             e.key, window_token(self))

    def entry_index(self, key) -> int | None:
        """The index in :attr:`entries` of the entry whose :attr:`SeriesEntry.key` is ``key``, or None."""
        key = tuple(key)
        return next((i for i, e in enumerate(self.entries) if e.key == key), None)

    def drop_series(self, vp: StackViewport, payload: SeriesPayload) -> None:
        """Show the dropped series in ``vp``: from this window's list, else opened here from the window it was
        dragged from (a comparison). Never another series: when it cannot be found, say so and change nothing."""
        if vp not in self.viewports or self._closed:
            return
        k = self.entry_index(payload.key)
        if k is not None:
            self.show_entry(self.viewports.index(vp), k)
            return
        source = next((w for w in list(_WINDOWS) if window_token(w) == payload.window and not w._closed), None)
        j = source.entry_index(payload.key) if source is not None else None
        entry = source.entries[j] if j is not None else None
        if entry is None or not entry.paths:
            self.statusBar().showMessage(self.tr("That series is no longer open: open it from the study list."))
            return
        vp.set_entry(None)
        vp.show_message(self.tr("Loading…"))
        vp.pending_drop = payload.key
        worker = create_worker(open_entries, list(entry.paths), executor=self.executor,
                               memory_budget=self._budget())
        worker.returned.connect(partial(_call_weak, weakref.ref(self), "_on_dropped_opened", weakref.ref(vp),
                                        payload.key))
        worker.errored.connect(partial(_call_weak, weakref.ref(self), "_on_dropped_error", weakref.ref(vp)))
        self._start(worker)

    def _on_dropped_error(self, vp: StackViewport, exc) -> None:
        if not self._closed and vp is not None and vp in self.viewports:
            vp.show_message(self.tr("Cannot open the series:\n{0}").format(exc))

    def _on_dropped_opened(self, vp: StackViewport, key, entries) -> None:
        key = tuple(key)
        wanted = next((e for e in entries if e.key == key), None)
        for e in entries:
            if e is not wanted and e.stack is not None:
                e.stack.close()
        if self._closed or wanted is None:
            if wanted is not None and wanted.stack is not None:
                wanted.stack.close()
            if not self._closed:
                vp.show_message(self.tr("The dropped series could not be opened."))
            return
        self.entries.append(wanted)
        index = len(self.entries) - 1
        self.statusBar().showMessage(self.tr("%n series", "", len(self.entries)), 5000)
        self.thumbnails.add_entry(index, wanted)
        self.thumbnails.label_studies(self.entries)
        self._make_thumbnails([index])
        if vp is not None and vp in self.viewports and vp.pending_drop == key:
            vp.pending_drop = None
            self.show_entry(self.viewports.index(vp), index, frame=0)

    def _set_active(self, vp: StackViewport) -> None:
        if self.active is not None and self.active is not vp:
            self.active.set_active(False)
        self.active = vp
        vp.set_active(True)
        self._sync_toolbar()
        self._refresh_tags()
        self.reference_lines.update()

    def next_protocol(self) -> str:
        """Step to the next hanging protocol that matches the window's studies (Ctrl+P)."""
        if not self.hanging.matches:
            self.hanging.load()
        return self.hanging.step(1)

    def save_protocol(self) -> str | None:
        return ask_and_save(self, self.hanging)

    def _on_probe(self, info: dict):
        if not info:
            return
        text = f"x {info['column']} y {info['row']}  stored {info['stored']}"
        if "value" in info:
            text += f"  value {info['value']:.1f} {info['unit']}"
        if "position_mm" in info:
            text += "  at (" + ", ".join(f"{v:.1f}" for v in info["position_mm"]) + ") mm"
        self.statusBar().showMessage(text)

    def _refresh_tags(self):
        if not self.tags_dock.isVisible() or self.active is None or self.active.stack is None:
            if self.active is not None and self.active.entry is not None and self.active.stack is None \
                    and self.tags_dock.isVisible() and self.active.entry.paths:
                self.tags.load_path(self.active.entry.paths[0])
            return
        src = self.active.stack.source(self.active.state.frame)
        self.tags.load_path(src.path)

    # -- export --------------------------------------------------------------------------------------------------
    def export_png(self, path: str, annotations: bool = True) -> bool:
        """Save the active viewport as PNG."""
        return self.active is not None and self.active.render_png(path, annotations)

    def export_dialog(self):
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export view", "view.png", "PNG (*.png)")
        if not path:
            return
        ann = QtWidgets.QMessageBox.question(self, self.tr("Export"), self.tr("Include annotations?")) == \
            QtWidgets.QMessageBox.Yes
        self.export_png(path, ann)

    def closeEvent(self, ev):
        """Stop everything and let go of every series: the window is deleted on close (WA_DeleteOnClose), and
        what a caller may still hold (the main window's list of viewers) is an empty shell, not a study."""
        for vp in self.visible_viewports:
            self.pstates.leaving(vp)
        self._closed = True
        self.opening_cancelled.set()  # headers still being read for this window are not read any further
        self._thumbnail_jobs.cancel()  # before the stacks close: no thumbnail falls back to a direct decode
        for vp in self.viewports:
            vp.release()
        for w in list(self._workers):
            try:
                w.quit()
            except Exception:  # noqa: BLE001
                pass
        _close_entries(self.entries)
        if self._quick_entry is not None:
            _close_entries([self._quick_entry])
            self.entries.append(self._quick_entry)
        release_gradually(self.entries)
        self.entries = []
        self._quick_entry = None
        self._groups = []
        self._sync_geometries.clear()
        self.sync = SliceSync()
        self.thumbnails.clear()
        if self._own_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)
        _WINDOWS.discard(self)
        super().closeEvent(ev)


def open_all(groups, executor, memory_budget, cancel=None):
    """Every group's entries (headers read, stacks sorted): a worker's job, given no window to outlive.
    ``cancel()`` true (the window closed) stops the header reading between files; nothing is returned then."""
    out = []
    with gc_paused():
        try:
            for g in groups:
                out.extend(open_entries(g, executor=executor, memory_budget=memory_budget, cancel=cancel))
        except imaging.ImagingError:
            if cancel is None or not cancel():
                raise
        if cancel is not None and cancel():
            _close_entries(out)
            return []
    return out


def _weak_method(obj, name: str):
    """``obj.name`` called through a weak reference (nothing happens once ``obj`` is gone)."""
    ref = weakref.ref(obj)

    def call(*args):
        target = ref()
        if target is not None and not getattr(target, "_closed", True):
            return getattr(target, name)(*args)
        return None

    return call


def _after_delete(window_ref, *_args) -> None:
    """The window's C++ side is gone: empty its Python side, which may still be held (the main window's list of
    viewers, a lambda in a menu action) and sits in reference cycles with its widgets' wrappers; frozen by
    gc_paused, the collector would never free them. Then give the memory back."""
    window = window_ref()
    if window is not None:
        window.__dict__.clear()
        window._closed = True  # what late callbacks check
    QtCore.QTimer.singleShot(0, give_memory_back)


def _worker_done(window_ref, worker_ref) -> None:
    window, worker = window_ref(), worker_ref()
    workers = getattr(window, "_workers", None)
    if worker is not None and workers is not None and worker in workers:
        workers.remove(worker)


def _call_weak(window_ref, method: str, vp_ref, *args) -> None:
    """Call ``window.method(vp, *args)`` when the window still lives (a worker's result may come after close)."""
    window = window_ref()
    if window is None or getattr(window, "_closed", True):
        if method == "_on_dropped_opened" and args:
            _close_entries(args[-1])
        return
    getattr(window, method)(vp_ref(), *args)


def _close_entries(entries) -> None:
    for e in entries:
        if e.stack is not None:
            try:
                e.stack.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def _budget_fraction(settings) -> float:
    """``settings.memory_budget_fraction``, else the Settings default (0.25 of RAM)."""
    value = getattr(settings, "memory_budget_fraction", None) if settings is not None else None
    if value is None:
        from workstation.config import Settings

        value = Settings.__dataclass_fields__["memory_budget_fraction"].default
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = 0.25
    return min(0.9, value) if value > 0 else 0.25
