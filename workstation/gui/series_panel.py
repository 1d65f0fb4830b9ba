"""Series of the selected study: a list with thumbnails rendered by the imaging pipeline in a worker."""

from __future__ import annotations

import logging
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid
from superqt.utils import create_worker

log = logging.getLogger("workstation.gui.series")
Qt = QtCore.Qt
THUMB = 96


def render_thumbnail(path: str, size: int = THUMB) -> QtGui.QImage | None:
    """A QImage thumbnail of the first frame of ``path`` (worker thread; QImage is thread-safe, QPixmap not)."""
    import numpy as np

    from workstation import imaging

    stacks = imaging.open_file(path)
    if not stacks:
        return None
    stack = stacks[0]
    try:
        frame = stack.get_frame(len(stack) // 2 if len(stack) > 1 else 0, timeout=10.0)
        pres = stack.presentation(0)
        rows, cols = frame.shape[:2]
        scale = size / max(rows, cols)
        w, h = max(1, int(cols * scale)), max(1, int(rows * scale))
        img = imaging.render(pres, frame, size=(w, h))
        if not pres.is_color and int(img.max()) - int(img.min()) < 8:
            # The file's window shows nothing of this frame (all below or above it): a blank tile tells the user
            # nothing, so the thumbnail falls back to the frame's own range.
            img = imaging.render(pres, frame, "minmax", size=(w, h))
    finally:
        stack.close()
    img = np.ascontiguousarray(img)
    if img.ndim == 2:
        q = QtGui.QImage(img.data, img.shape[1], img.shape[0], img.strides[0], QtGui.QImage.Format_Grayscale8)
    else:
        q = QtGui.QImage(img.data, img.shape[1], img.shape[0], img.strides[0], QtGui.QImage.Format_RGB888)
    return q.copy()  # own the pixels: ``img`` dies with this frame


def thumbnails_for(archive: Any, series_rows: list[dict[str, Any]]):
    """Generator (worker): yield (series_uid, QImage | None, error) for each series' middle instance."""
    for row in series_rows:
        uid = row["SeriesInstanceUID"]
        try:
            inst = archive.query("instance", {"SeriesInstanceUID": uid})
            if not inst:
                yield uid, None, "no instances"
                continue
            path = inst[len(inst) // 2]["path"]
            yield uid, render_thumbnail(path), ""
        except Exception as exc:  # noqa: BLE001 - one bad series must not stop the others
            log.info("no thumbnail for series %s: %s", uid, exc)
            yield uid, None, str(exc)


class SeriesPanel(QtWidgets.QListWidget):
    """Icon list of the selected study's series; double-click / Enter opens one (``openRequested``)."""

    openRequested = QtCore.Signal(list)  # list of series rows
    UID_ROLE = Qt.UserRole + 1
    ROW_ROLE = Qt.UserRole + 2
    PREVIEW_ROLE = Qt.UserRole + 3

    def __init__(self, archive: Any, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.archive = archive
        self.setObjectName("series_panel")
        self.setViewMode(QtWidgets.QListView.IconMode)
        self.setIconSize(QtCore.QSize(THUMB, THUMB))
        # Room for three lines under the tile (modality/number, description, count) in any font.
        line = self.fontMetrics().lineSpacing()
        self.setGridSize(QtCore.QSize(THUMB + 56, THUMB + 3 * line + 16))
        # Never shorter than one row of tiles with their labels (the splitter would clip the labels).
        scrollbar = self.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
        self.setMinimumHeight(self.gridSize().height() + 2 * self.frameWidth() + scrollbar + 4)
        self.setResizeMode(QtWidgets.QListView.Adjust)
        self.setMovement(QtWidgets.QListView.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.itemActivated.connect(lambda item: self.openRequested.emit([item.data(self.ROW_ROLE)]))
        self._study_uid: str | None = None
        self._worker = None
        self._seq = 0
        self.thumbnails_done = False
        placeholder = QtGui.QPixmap(THUMB, THUMB)
        placeholder.fill(QtGui.QColor(40, 40, 40))
        self._placeholder = QtGui.QIcon(placeholder)

    def show_study(self, study_uid: str | None, force: bool = False) -> None:
        if study_uid == self._study_uid and not force:
            return
        self._study_uid = study_uid
        self._seq += 1
        self.clear()
        self.thumbnails_done = False
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
        if not study_uid:
            return
        seq = self._seq
        worker = create_worker(self.archive.query, "series", {"StudyInstanceUID": study_uid}, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda rows, s=seq: self._on_series(s, rows))
        worker.errored.connect(lambda exc: log.warning("series query failed: %s", exc))
        worker.start()

    def _on_series(self, seq: int, rows: list[dict[str, Any]]) -> None:
        if not isValid(self):
            return
        if seq != self._seq:
            return
        for row in rows:
            number = row.get("SeriesNumber")
            desc = row.get("SeriesDescription") or ""
            n = row.get("NumberOfSeriesRelatedInstances") or row.get("NumberOfInstances") or 0
            label = f"{row.get('Modality') or ''} {number if number is not None else ''}\n{desc}\n" + self.tr(
                "%n image(s)", "", int(n))
            item = QtWidgets.QListWidgetItem(self._placeholder, label.strip())
            item.setData(self.UID_ROLE, row["SeriesInstanceUID"])
            item.setData(self.ROW_ROLE, row)
            item.setToolTip(f"{desc}\n{row['SeriesInstanceUID']}")
            self.addItem(item)
        if not rows:
            self.thumbnails_done = True
            return
        worker = create_worker(thumbnails_for, self.archive, rows, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda res, s=seq: self._on_thumbnail(s, res))
        worker.finished.connect(lambda s=seq: self._on_thumbs_done(s))
        self._worker = worker
        worker.start()

    def _on_thumbnail(self, seq: int, result: tuple) -> None:
        if not isValid(self):
            return
        if seq != self._seq:
            return
        uid, image, error = result
        for i in range(self.count()):
            item = self.item(i)
            if item.data(self.UID_ROLE) == uid:
                if image is not None:
                    item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))
                else:
                    # Say why instead of leaving a dark tile: header-only images, SR, RT plans, decode errors.
                    item.setIcon(self._text_tile(self.tr("No preview") if error else self.tr("No pixel data")))
                    item.setData(self.PREVIEW_ROLE, "none")
                    if error:
                        item.setToolTip(item.toolTip() + "\n" + self.tr("No preview: %s") % error)
                break

    def _text_tile(self, text: str) -> QtGui.QIcon:
        pixmap = QtGui.QPixmap(THUMB, THUMB)
        pixmap.fill(QtGui.QColor(40, 40, 40))
        painter = QtGui.QPainter(pixmap)
        painter.setPen(QtGui.QColor(200, 200, 200))
        painter.drawText(pixmap.rect(), Qt.AlignCenter | Qt.TextWordWrap, text)
        painter.end()
        return QtGui.QIcon(pixmap)

    def _on_thumbs_done(self, seq: int) -> None:
        if not isValid(self):
            return
        if seq == self._seq:
            self.thumbnails_done = True
            self._worker = None

    def selected_rows(self) -> list[dict[str, Any]]:
        return [item.data(self.ROW_ROLE) for item in self.selectedItems()]

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.selectedItems():
            self.openRequested.emit(self.selected_rows())
            return
        super().keyPressEvent(event)
