"""The thumbnail strip: one icon per series of the study, dragged into a viewport to show it there."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError
from functools import partial

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import create_worker

from workstation import imaging
from workstation.gui.viewer.dragdrop import SERIES_MIME, encode_series
from workstation.gui.viewer.voi import fitted_size, pixel_aspect

Qt = QtCore.Qt
ICON = 96


class ThumbnailCancelled(Exception):
    """The window that asked for a thumbnail is gone: nothing was decoded for it."""


def thumbnail_image(entry, cancelled=None) -> QtGui.QImage:
    """A small picture of a series' middle frame at its default window (call in a worker: it decodes).

    ``cancelled()`` (optional) is asked before every decode; True raises :class:`ThumbnailCancelled`.
    """
    img = QtGui.QImage(ICON, ICON, QtGui.QImage.Format_RGB888)
    img.fill(QtGui.QColor(30, 30, 30))
    if entry.stack is None:
        return img
    stack = entry.stack
    i = len(stack) // 2
    arr = _frame_for_thumbnail(stack, i, cancelled or (lambda: False))
    pres = stack.presentation(i)
    # The file's window when it has one, else min/max (the full stored range would be a flat gray).
    window = None if pres.is_color or getattr(pres, "file_windows", None) else "minmax"
    rgb = imaging.render(pres, arr, window)
    rgb = np.ascontiguousarray(rgb)
    if rgb.ndim == 2:
        rgb = np.ascontiguousarray(np.repeat(rgb[:, :, None], 3, axis=2))
    h, w = rgb.shape[:2]
    q = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()
    # Drawn with the pixels' real proportions (a coronal of 0.7 x 2.0 mm pixels is not squashed).
    size = fitted_size(h, w, pixel_aspect(stack.geometry(i).pixel_spacing, stack.header(i)), ICON)
    return q.scaled(*size, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)


def _frame_for_thumbnail(stack, index: int, cancelled):
    # The middle frame of a multi-frame series is queued on the stack's decoder like any frame, and the viewport's
    # prefetch cancels queued frames outside its window (it showed frame 1 meanwhile): ask again, then decode the
    # frame directly, outside the cache - unless the window was closed meanwhile (its stacks then refuse every
    # frame, and the direct decode would be work nobody waits for).
    for _attempt in range(3):
        if cancelled():
            raise ThumbnailCancelled()
        try:
            return stack.get_frame(index, timeout=30)
        except CancelledError:
            continue
    if cancelled():
        raise ThumbnailCancelled()
    src = stack.source(index)
    return imaging.decode_frame(src.path, src.frame, header=stack.header(index))


def _render_thumbnails(todo, cancel: threading.Event):
    """Generator (worker): (index, QImage) per entry until ``cancel`` is set; then nothing more is decoded."""
    for i, entry in todo:
        if cancel.is_set():
            return
        try:
            yield i, thumbnail_image(entry, cancel.is_set)
        except ThumbnailCancelled:
            return
        except Exception:  # noqa: BLE001 - one bad series must not stop the others; its tile says so
            yield i, _text_tile(QtCore.QCoreApplication.translate("ThumbnailStrip", "Cannot decode"))


def _text_tile(text: str) -> QtGui.QImage:
    # A QImage (not a QPixmap): painted in the worker thread.
    img = QtGui.QImage(ICON, ICON, QtGui.QImage.Format_RGB888)
    img.fill(QtGui.QColor(30, 30, 30))
    painter = QtGui.QPainter(img)
    painter.setPen(QtGui.QColor(220, 120, 120))
    painter.drawText(img.rect().adjusted(4, 4, -4, -4), Qt.AlignCenter | Qt.TextWordWrap, text)
    painter.end()
    return img


class ThumbnailJobs:
    """The thumbnail renders of one viewer window, off the GUI thread.

    ``start(worker)`` runs a superqt worker on the app's pool (the window's ``_start``); ``on_ready((index,
    QImage))`` is called on the GUI thread. :meth:`cancel` (window closed) drops every thumbnail not yet rendered:
    queued ones never decode, and one waiting for its frame stops before the direct decode it would fall back to.
    """

    def __init__(self, start, on_ready):
        self._start = start
        self._on_ready = on_ready
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def request(self, todo) -> None:
        """Render thumbnails for ``todo`` = [(index, entry), ...] in that order."""
        if self._cancel.is_set() or not todo:
            return
        worker = create_worker(_render_thumbnails, list(todo), self._cancel, _start_thread=False)
        # A partial, not the bound method: PySide keeps a bound method of a plain object without a reference to
        # it, and a window freed while this worker ran left the signal calling freed memory (crash).
        worker.yielded.connect(partial(ThumbnailJobs._deliver, self))
        self._start(worker)

    def _deliver(self, item) -> None:
        if not self._cancel.is_set():
            self._on_ready(item)

    def cancel(self) -> None:
        self._cancel.set()


class ThumbnailStrip(QtWidgets.QListWidget):
    """Series thumbnails; each item's data is its index in the window's entry list.

    A drag carries :attr:`payload_for` (index) -> :class:`workstation.gui.viewer.dragdrop.SeriesPayload`, set by
    the window: the series' identity, never the index (which means another series in another window).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.payload_for = None
        self.setViewMode(QtWidgets.QListView.IconMode)
        self.setFlow(QtWidgets.QListView.TopToBottom)
        self.setWrapping(False)
        self.setIconSize(QtCore.QSize(ICON, ICON))
        self.setMovement(QtWidgets.QListView.Static)
        self.setDragEnabled(True)
        self.setDragDropMode(QtWidgets.QAbstractItemView.DragOnly)
        self.setFixedWidth(ICON + 40)
        self.setSpacing(4)
        self.setGridSize(QtCore.QSize(ICON + 24, ICON + 40))
        self.setUniformItemSizes(True)
        self.setWordWrap(True)

    def entry_text(self, entry, study: str = "") -> str:
        n = len(entry.stack) if entry.stack is not None else 0
        text = entry.title + "\n" + (self.tr("%n image(s)", "", n) if n
                                     else entry.header.get("Modality", "") or self.tr("object"))
        return f"{study}\n{text}" if study else text

    def label_studies(self, entries) -> None:
        """With several studies in the window, each tile names its study first ("Prior 2022-03-10"), the current
        study's tiles before the priors' (newest first): the strip reads like a comparison."""
        from workstation.gui.viewer.overlay import study_label

        labels = study_label(entries)
        keys = {}
        for row in range(self.count()):
            item = self.item(row)
            index = item.data(Qt.UserRole)
            if isinstance(index, int) and 0 <= index < len(entries):
                item.setText(self.entry_text(entries[index], labels.get(index, ("", 0))[0]))
                keys[row] = (labels.get(index, ("", 0))[1], row)
        # Room for the study line above the two of the series (else the series' own lines are cut).
        lines = 3 if labels else 2
        self.setGridSize(QtCore.QSize(ICON + 24, ICON + 12 + lines * self.fontMetrics().lineSpacing()))
        if labels:
            items = [self.takeItem(0) for _ in range(self.count())]
            order = sorted(range(len(items)), key=lambda r: keys.get(r, (0, r)))
            for r in order:
                self.addItem(items[r])

    def add_entry(self, index: int, entry) -> QtWidgets.QListWidgetItem:
        text = self.entry_text(entry)
        pix = QtGui.QPixmap(ICON, ICON)
        pix.fill(QtGui.QColor(30, 30, 30))
        item = QtWidgets.QListWidgetItem(QtGui.QIcon(pix), text)
        item.setData(Qt.UserRole, index)
        item.setToolTip(entry.message or entry.title)
        self.addItem(item)
        return item

    def set_thumbnail(self, index: int, image: QtGui.QImage) -> None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(Qt.UserRole) == index:
                item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))

    def mimeData(self, items):
        payload = self.payload_for(items[0].data(Qt.UserRole)) if items and self.payload_for else None
        return encode_series(payload) if payload is not None else QtCore.QMimeData()

    def mimeTypes(self):
        return [SERIES_MIME]
