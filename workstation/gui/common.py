"""Small shared pieces of the GUI: the error dialog, the archive-change bridge, text formatting."""

from __future__ import annotations

import logging
import threading
import time
import traceback
import weakref
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.core_text import core_text

log = logging.getLogger("workstation.gui")

COALESCE_MS = 250  # archive changes within this window become one browser refresh


def show_error(parent: QtWidgets.QWidget | None, title: str, message: str, details: str | BaseException = "",
               *, modal: bool = True) -> QtWidgets.QMessageBox:
    """The one error dialog: a sentence for the user, the details expandable, everything logged.

    In tests (``QT_QPA_PLATFORM=offscreen``) the dialog is shown non-modally so nothing blocks.
    """
    if isinstance(details, BaseException):
        exc = details
        details = getattr(exc, "__workstation_details__", "") or "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("%s: %s\n%s", title, message, details or "")
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Critical)
    box.setWindowTitle(title)
    box.setText(core_text(message))  # a core message in the user's language
    if details:
        box.setDetailedText(str(details))
    box.setStandardButtons(QtWidgets.QMessageBox.Close)
    box.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    box.setObjectName("error_dialog")
    if modal and QtWidgets.QApplication.platformName() not in ("offscreen", "minimal"):
        box.exec()
    else:
        box.show()
    return box


class ArchiveBridge(QtCore.QObject):
    """Turns archive listener calls (any thread, one per stored instance) into coalesced GUI-thread signals.

    ``changed(kind_set, study_uids, series_uids, added_count)`` fires at most every :data:`COALESCE_MS`.

    The listener thread only records what changed, under a lock, and never calls Qt: a GUI-thread timer collects.
    (superqt's ``ensure_main_thread`` creates a QObject in the calling thread; called from pynetdicom's short-lived
    association threads under load it crashed the process -- bus error / segfault -- in the app benchmark.)
    """

    changed = QtCore.Signal(object, object, object, int)

    def __init__(self, archive: Any, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.archive = archive
        self._lock = threading.Lock()
        self._kinds: set[str] = set()
        self._studies: set[str] = set()
        self._series: set[str] = set()
        self._added = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._timer.start()
        archive.add_listener(self._on_event)

    def close(self) -> None:
        self.archive.remove_listener(self._on_event)

    def _on_event(self, event: Any) -> None:
        """Archive listener: runs in the storing thread (SCP association, import worker): only collect."""
        with self._lock:
            self._kinds.add(event.kind)
            self._studies.update(event.study_uids)
            self._series.update(event.series_uids)
            if event.kind == "added":
                self._added += len(event.instances)

    def _flush(self) -> None:
        with self._lock:
            if not self._kinds:
                return
            kinds, studies, series, added = self._kinds, self._studies, self._series, self._added
            self._kinds, self._studies, self._series, self._added = set(), set(), set(), 0
        if kinds:
            self.changed.emit(kinds, studies, series, added)


_GC_TUNED = False


def tune_gc() -> None:
    """Keep the cyclic GC from pausing the GUI thread for 50-75 ms (measured: full collections over the
    interpreter's ~300k start-up objects while a 10,000-study list is open and images arrive).

    Once the app is up, everything alive is moved out of the collector's sight (``gc.freeze``), and the young
    generation is collected less often. Called once, after the first complete study list.
    """
    global _GC_TUNED
    if _GC_TUNED:
        return
    import gc

    _GC_TUNED = True
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 10_000), gen1, gen2)


GUI_DUL_POLL = 0.001  # pynetdicom's own default


def tame_network_polling() -> None:
    """In the GUI, network transfers poll pynetdicom's DUL at its default 1 ms, not net-client's 50 us.

    net-client shortens the poll for bulk transfers (``workstation.net.scu.tuning.FAST_POLL``) to speed the CLI up;
    in the app, a C-GET's association thread then wakes 20,000 times a second and each wake takes the GIL: the
    GUI thread, which needs the GIL for every cell it paints, measured 130-200 ms stalls during a C-GET, against
    23-39 ms at 1 ms (app benchmark). The Store SCP's guard (net-server) does the same
    while data flows. Asked both for a supported switch; until then, set here.
    """
    import importlib

    for name in ("workstation.net.scu.tuning", "workstation.net.guard"):  # the SCU's associations, the SCP's
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover
            continue
        if getattr(module, "FAST_POLL", GUI_DUL_POLL) < GUI_DUL_POLL:
            module.FAST_POLL = GUI_DUL_POLL


GUI_SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


def shorten_switch_interval() -> None:
    """Let the GUI thread get the GIL back sooner from the network threads (``sys.setswitchinterval``).

    Every paint of a Python model and every slot is a call from Qt into Python that must take the GIL; while the
    Store SCP, a C-GET and the archive's writes run in this process, a thread waiting for it asks the holder to
    drop it only after the switch interval, and may lose the hand-over to another thread and wait again. Measured
    in the app benchmark (500 instances arriving + a 300-instance C-GET, load ~2 on 2 cores, 8 runs each): longest
    stall 10-67 ms (99th percentile 3.3-7.1 ms) at the default 5 ms, 7-39 ms (2.0-5.1 ms) at 1 ms, with the
    same transfer times; 0.5 ms was no better than 1 ms.
    """
    import sys

    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL)


def format_da(value: Any) -> str:
    """DICOM DA ``YYYYMMDD`` as ``YYYY-MM-DD`` (anything else unchanged)."""
    text = str(value or "")
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def format_name(value: Any) -> str:
    """A person name for display: ``Family^Given`` -> ``Family, Given``."""
    text = str(value or "")
    parts = [p for p in text.split("=")[0].split("^") if p]
    if len(parts) >= 2:
        return f"{parts[0]}, {' '.join(parts[1:])}"
    return parts[0] if parts else ""


def format_received(value: Any) -> str:
    """The index's ISO timestamp as local ``YYYY-MM-DD HH:MM``."""
    text = str(value or "")
    return text.replace("T", " ")[:16]


def today_start() -> float:
    lt = time.localtime()
    return time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))


class SortArrowStyle(QtWidgets.QProxyStyle):
    """Header sort arrows that point the way the list runs: ▼ for descending (newest first), ▲ for ascending.

    QHeaderView hands styles ``SortUp`` for a descending sort, and Fusion draws that as an up arrow: a list sorted
    newest first showed ▲. This style draws the arrow itself, from the header's own sort order.
    """

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # noqa: N802 - Qt override
        if element != QtWidgets.QStyle.PE_IndicatorHeaderArrow or not isinstance(option, QtWidgets.QStyleOptionHeader):
            super().drawPrimitive(element, option, painter, widget)
            return
        if option.sortIndicator == QtWidgets.QStyleOptionHeader.None_:
            return
        if isinstance(widget, QtWidgets.QHeaderView):
            descending = widget.sortIndicatorOrder() == QtCore.Qt.DescendingOrder
        else:  # no header to ask: Qt's convention (SortUp = descending)
            descending = option.sortIndicator == QtWidgets.QStyleOptionHeader.SortUp
        paint_sort_arrow(painter, option.rect, descending, option.palette.color(QtGui.QPalette.ButtonText))


def paint_sort_arrow(painter: QtGui.QPainter, rect: QtCore.QRect, descending: bool, color: QtGui.QColor) -> None:
    """A small filled triangle centred in ``rect``: pointing down when ``descending``."""
    side = max(5, min(rect.width(), rect.height(), 9))
    half = side / 2.0
    cx, cy = rect.center().x() + 0.5, rect.center().y() + 0.5
    h = side * 0.55
    if descending:
        points = [QtCore.QPointF(cx - half, cy - h / 2), QtCore.QPointF(cx + half, cy - h / 2),
                  QtCore.QPointF(cx, cy + h / 2)]
    else:
        points = [QtCore.QPointF(cx - half, cy + h / 2), QtCore.QPointF(cx + half, cy + h / 2),
                  QtCore.QPointF(cx, cy - h / 2)]
    painter.save()
    painter.setRenderHint(QtGui.QPainter.Antialiasing)
    painter.setPen(QtCore.Qt.NoPen)
    painter.setBrush(color)
    painter.drawPolygon(QtGui.QPolygonF(points))
    painter.restore()


def use_sort_arrows(header: QtWidgets.QHeaderView) -> None:
    """Give ``header`` the arrows of :class:`SortArrowStyle` (the style is parented to the header)."""
    style = SortArrowStyle()
    style.setParent(header)
    header.setStyle(style)


def keep_while_running(worker: Any, keep: set) -> None:
    """Start ``worker`` and hold it in ``keep`` until it has finished.

    The slot that lets go of it holds the worker weakly: a slot holding it strongly (``lambda w=worker:
    keep.discard(w)``) is kept by the worker's own signal, so the worker, its arguments and its result were never
    freed - two per viewer opened, one per browser refresh.
    """
    keep.add(worker)
    ref = weakref.ref(worker)
    worker.finished.connect(lambda: keep.discard(ref()))
    worker.start()


def lower_thread_priority(niceness: int = 5) -> None:
    """Run the calling worker thread at a lower CPU priority (Linux: threads have their own nice value; the threads
    it starts inherit it). On two cores, two reslice workers (and VTK's own threads) left the GUI thread runnable
    but not scheduled for 30 ms at a time while the crosshair was dragged (bench_mpr --trace)."""
    import os
    import threading

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):  # not Linux, or not allowed: the default priority
        pass
