"""Series of the selected study: a list with thumbnails rendered by the imaging pipeline in a worker."""

from __future__ import annotations

import logging
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid
from superqt.utils import create_worker

from workstation.gui.common import keep_while_running

log = logging.getLogger("workstation.gui.series")
Qt = QtCore.Qt
THUMB = 96


class NoPixels(Exception):
    """The series' objects have nothing to draw (header-only images, SR, RT plans...); the text says what."""


def render_thumbnail(path: str, size: int = THUMB) -> QtGui.QImage | None:
    """A QImage thumbnail of ``path`` (worker thread; QImage is thread-safe, QPixmap not): its middle frame, drawn
    with the default presentation ``workstation render`` and the viewer use -- the file's window, else its VOI LUT,
    else the frame's min/max (:func:`workstation.imaging.render` with ``window=None``)."""
    import numpy as np

    from workstation import imaging
    from workstation.gui.viewer.voi import fitted_size, pixel_aspect
    from workstation.imaging.errors import ImagingError, NotAnImageError

    try:
        stacks = imaging.open_file(path)
    except NotAnImageError as exc:
        raise NoPixels(_no_pixels_reason(path, exc)) from None
    if not stacks:
        return None
    stack = stacks[0]
    try:
        index = len(stack) // 2
        try:
            frame = stack.get_frame(index, timeout=10.0)
        except ImagingError as exc:
            # Image attributes without a Pixel Data element (header-only objects): say so, not "no preview".
            if "no pixel data" in str(exc).lower():
                raise NoPixels(_no_pixels_reason(path, exc)) from None
            raise
        pres = stack.presentation(index)
        rows, cols = frame.shape[:2]
        # The pixels' real proportions: a coronal of 0.7 x 2.0 mm pixels drawn square was squashed.
        aspect = pixel_aspect(stack.geometry(index).pixel_spacing, stack.header(index))
        img = imaging.render(pres, frame, None, size=fitted_size(rows, cols, aspect, size))
    finally:
        for st in stacks:
            st.close()
    img = np.ascontiguousarray(img)
    if img.ndim == 2:
        q = QtGui.QImage(img.data, img.shape[1], img.shape[0], img.strides[0], QtGui.QImage.Format_Grayscale8)
    else:
        q = QtGui.QImage(img.data, img.shape[1], img.shape[0], img.strides[0], QtGui.QImage.Format_RGB888)
    return q.copy()  # own the pixels: ``img`` dies with this frame


def _no_pixels_reason(path: str, exc: Exception) -> str:
    """Why a file gives no picture, for the tile's tooltip: an image class without pixel data, or what it is."""
    try:
        from workstation.imaging.decode import read_header
        from workstation.imaging.series import describe_object

        ds = read_header(path)
        what = describe_object(ds)
    except Exception:  # noqa: BLE001 - the imaging error says enough then
        return str(exc)
    if "PixelData" not in ds and "Image" in what:
        return f"{what}: no pixel data in the file"
    return f"{what}: not an image"


def _instance_order(row: dict[str, Any]) -> tuple:
    n = row.get("InstanceNumber")
    try:
        n = int(n)
    except (TypeError, ValueError):
        n = None
    return (n is None, n or 0, str(row.get("path") or ""))


def thumbnails_for(archive: Any, series_rows: list[dict[str, Any]]):
    """Generator (worker): yield (series_uid, QImage | None, error) for each series' middle instance (in instance
    number order). ``error`` starts with "no pixels: " when the series has nothing to draw."""
    for row in series_rows:
        uid = row["SeriesInstanceUID"]
        try:
            inst = sorted(archive.query("instance", {"SeriesInstanceUID": uid}), key=_instance_order)
            if not inst:
                yield uid, None, "no instances"
                continue
            path = inst[len(inst) // 2]["path"]
            yield uid, render_thumbnail(path), ""
        except NoPixels as exc:
            yield uid, None, f"no pixels: {exc}"
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
        # Room for three lines under the tile (modality/number, description, count) in any font; labels are built
        # to fit (the description elided to one line), so nothing is clipped.
        line = self.fontMetrics().lineSpacing()
        self.setSpacing(4)
        self.setGridSize(QtCore.QSize(THUMB + 64, THUMB + 3 * line + 4 * 6 + 12))
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
        self._thumb_workers: set = set()
        self._seq = 0
        self._queries: set = set()
        self._pending_thumbs = 0  # thumbnail workers of the study shown still running
        self.thumbnails_done = False
        placeholder = QtGui.QPixmap(THUMB, THUMB)
        placeholder.fill(QtGui.QColor(40, 40, 40))
        self._placeholder = QtGui.QIcon(placeholder)

    def show_study(self, study_uid: str | None, force: bool = False) -> None:
        """Show a study's series. ``force`` on the study shown (instances arrived): re-read its series and update
        the tiles in place -- labels and counts, new series added, thumbnails rendered only for new series -- so
        the selection stays and a study that keeps receiving costs no re-render of every thumbnail."""
        if study_uid == self._study_uid:
            if force and study_uid:
                self._query(study_uid, update=True)
            return
        self._study_uid = study_uid
        self.clear()
        self.thumbnails_done = False
        self._pending_thumbs = 0
        for worker in self._thumb_workers:
            worker.quit()
        self._thumb_workers.clear()
        self._seq += 1
        if study_uid:
            self._query(study_uid, update=False)

    def _query(self, study_uid: str, update: bool) -> None:
        seq = self._seq
        worker = create_worker(self.archive.query, "series", {"StudyInstanceUID": study_uid}, _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(lambda rows, s=seq: self._on_series(s, rows, update))
        worker.errored.connect(lambda exc: log.warning("series query failed: %s", exc))
        keep_while_running(worker, self._queries)

    def _on_series(self, seq: int, rows: list[dict[str, Any]], update: bool = False) -> None:
        if not isValid(self):
            return
        if seq != self._seq:
            return
        items = {}
        if update:
            for i in range(self.count()):
                item = self.item(i)
                items[item.data(self.UID_ROLE)] = item
        new_rows = []
        current = {row["SeriesInstanceUID"] for row in rows}
        for uid, item in items.items():
            if uid not in current:  # deleted meanwhile
                self.takeItem(self.row(item))
        for row in rows:
            item = items.get(row["SeriesInstanceUID"])
            if item is not None:
                label = self.label_for(row)
                if item.text() != label:
                    item.setText(label)
                item.setData(self.ROW_ROLE, row)
                continue
            desc = row.get("SeriesDescription") or ""
            item = QtWidgets.QListWidgetItem(self._placeholder, self.label_for(row))
            item.setData(self.UID_ROLE, row["SeriesInstanceUID"])
            item.setData(self.ROW_ROLE, row)
            item.setToolTip(f"{desc}\n{row['SeriesInstanceUID']}")
            self.addItem(item)
            new_rows.append(row)
        if not new_rows:
            if not update:
                self.thumbnails_done = True
            return
        self.thumbnails_done = False
        self._pending_thumbs += 1
        worker = create_worker(thumbnails_for, self.archive, new_rows, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda res, s=seq: self._on_thumbnail(s, res))
        worker.finished.connect(lambda s=seq: self._on_thumbs_done(s))
        keep_while_running(worker, self._thumb_workers)

    def label_for(self, row: dict[str, Any]) -> str:
        """Modality and number, description (elided to one line; empty: left out), image count."""
        number = row.get("SeriesNumber")
        n = row.get("NumberOfSeriesRelatedInstances") or row.get("NumberOfInstances") or 0
        width = self.gridSize().width() - 12
        fm = self.fontMetrics()
        lines = [fm.elidedText(f"{row.get('Modality') or ''} {number if number is not None else ''}".strip(),
                               Qt.ElideRight, width)]
        desc = " ".join(str(row.get("SeriesDescription") or "").split())
        if desc:
            lines.append(fm.elidedText(desc, Qt.ElideRight, width))
        lines.append(self.tr("%n image(s)", "", int(n)))
        return "\n".join(line for line in lines if line)

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
                    no_pixels = not error or error.startswith("no pixels: ")
                    item.setIcon(self._text_tile(self.tr("No pixel data") if no_pixels else self.tr("No preview")))
                    item.setData(self.PREVIEW_ROLE, "none")
                    if error:
                        reason = error.removeprefix("no pixels: ")
                        item.setToolTip(item.toolTip() + "\n" + self.tr("No preview: %s") % reason)
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
            self._pending_thumbs -= 1
            if self._pending_thumbs <= 0:
                self._pending_thumbs = 0
                self.thumbnails_done = True

    def selected_rows(self) -> list[dict[str, Any]]:
        return [item.data(self.ROW_ROLE) for item in self.selectedItems()]

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.selectedItems():
            self.openRequested.emit(self.selected_rows())
            return
        super().keyPressEvent(event)
