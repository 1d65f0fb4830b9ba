"""The database browser's study list: a QAbstractTableModel over archive study rows, filled off the GUI thread.

The model never queries on the GUI thread. :class:`StudyQuery` runs ``archive.query("study", ...)`` in a superqt
worker and builds display tuples there too; stale answers (the user typed on) are dropped by sequence number.
Refreshes keep the selection: rows are identified by StudyInstanceUID.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from PySide6 import QtCore
from shiboken6 import isValid
from superqt.utils import create_worker

from workstation.dicom.age import age_between, short_age
from workstation.gui.common import format_da, format_name, format_received, keep_while_running

Qt = QtCore.Qt

COLUMNS = [
    ("PatientName", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Patient name")),
    ("PatientID", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Patient ID")),
    ("PatientBirthDate", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Birth date (age)")),
    ("PatientSex", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Sex")),
    ("StudyDate", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Study date")),
    ("ModalitiesInStudy", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Modalities")),
    ("StudyDescription", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Description")),
    ("AccessionNumber", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Accession")),
    ("NumberOfStudyRelatedSeries", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Series")),
    ("NumberOfStudyRelatedInstances", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Images")),
    ("received", QtCore.QT_TRANSLATE_NOOP("StudyTableModel", "Received")),
]
KEYS = [c[0] for c in COLUMNS]
# A study with key images (the index's ``key_images``: a Key Object Selection that is not a rejection note) shows a
# star before its description, always in view; the cell's tooltip says it.
KEY_IMAGE_COLUMN = KEYS.index("StudyDescription")
_DECORATION = int(Qt.DecorationRole)
_STAR: list = []


def has_key_images(row: dict[str, Any]) -> bool:
    return bool(row.get("key_images"))


def star_icon():
    """The key-image star (drawn once, when the first marked study is painted)."""
    if not _STAR:
        from PySide6 import QtGui

        pix = QtGui.QPixmap(14, 14)
        pix.fill(Qt.transparent)
        p = QtGui.QPainter(pix)
        p.setRenderHint(QtGui.QPainter.Antialiasing, True)
        p.setPen(QtGui.QPen(QtGui.QColor(130, 95, 0), 1))
        p.setBrush(QtGui.QColor(255, 200, 0))
        import math
        pts = [QtCore.QPointF(7 + (6.5 if i % 2 == 0 else 2.9) * math.cos(-math.pi / 2 + i * math.pi / 5),
                              7.3 + (6.5 if i % 2 == 0 else 2.9) * math.sin(-math.pi / 2 + i * math.pi / 5))
               for i in range(10)]
        p.drawPolygon(QtGui.QPolygonF(pts))
        p.end()
        _STAR.append(QtGui.QIcon(pix))
    return _STAR[0]


def key_image_tip(text: str) -> str:
    return QtCore.QCoreApplication.translate("StudyTableModel", "{0}\n★ This study has key images").format(text)
NUMERIC = {"NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"}
NUMERIC_COLUMNS = frozenset(i for i, k in enumerate(KEYS) if k in NUMERIC)
# Plain ints: comparing a role with a PySide enum, or or-ing two flags, runs Python enum code on every cell painted.
_DISPLAY, _TOOLTIP, _ALIGNMENT = int(Qt.DisplayRole), int(Qt.ToolTipRole), int(Qt.TextAlignmentRole)
_ALIGN_RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)
DATE_PRESETS = ["all", "today", "yesterday", "7days", "30days"]


def date_range(preset: str, today: dt.date | None = None) -> str | None:
    """The StudyDate range filter for a preset name, or None for all dates."""
    today = today or dt.date.today()
    fmt = "%Y%m%d"
    if preset == "today":
        return today.strftime(fmt)
    if preset == "yesterday":
        return (today - dt.timedelta(days=1)).strftime(fmt)
    if preset == "7days":
        return (today - dt.timedelta(days=6)).strftime(fmt) + "-"
    if preset == "30days":
        return (today - dt.timedelta(days=29)).strftime(fmt) + "-"
    return None


@dataclass
class StudyFilter:
    """What the browser shows: free text, a date preset, a modality."""

    search: str = ""
    date_preset: str = "all"
    modality: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def filters(self) -> dict[str, str]:
        out = dict(self.extra)
        dr = date_range(self.date_preset)
        if dr:
            out["StudyDate"] = dr
        if self.modality:
            out["ModalitiesInStudy"] = self.modality
        return out


def cell_text(row: dict[str, Any], key: str) -> str:
    """The display text of one cell (formatted on demand: only visible cells are ever formatted)."""
    value = row.get(key)
    if key == "PatientName":
        return format_name(value)
    if key == "PatientBirthDate":
        # The age at the study beside the birth date: the index keeps no PatientAge (most files have none).
        age = short_age(age_between(value, row.get("StudyDate")))
        return f"{format_da(value)} ({age})" if age else format_da(value)
    if key == "StudyDate":
        return format_da(value)
    if key == "ModalitiesInStudy":
        return ", ".join(value or [])
    if key == "received":
        return format_received(value)
    return "" if value is None else str(value)


def sort_key(key: str):
    if key in NUMERIC:
        return lambda row: int(row.get(key) or 0)
    return lambda row: cell_text(row, key).casefold()


def default_key(row: dict[str, Any]) -> tuple[str, str]:
    """The index's own order (study date, then time; :data:`DEFAULT_SORT` runs it newest first)."""
    return (row.get("StudyDate") or "", row.get("StudyTime") or "")


DEFAULT_SORT = (4, Qt.DescendingOrder)  # the index's own order: study date, newest first
FIRST_PAGE = 300


def study_query_phases(archive: Any, flt: StudyFilter, sort: tuple[int, Any], first_page: int | None = FIRST_PAGE):
    """Worker generator: yield ``(rows, seconds, complete)`` -- first the top page (fast, in the index's order),
    then every matching row, sorted as the view is. A newer query aborts this one between the two phases."""
    t0 = time.perf_counter()
    filters = flt.filters()
    search = flt.search or None
    default_sort = (sort[0], Qt.SortOrder(sort[1])) == DEFAULT_SORT
    if first_page and default_sort:
        rows = archive.query("study", filters, search=search, limit=first_page)
        complete = len(rows) < first_page
        yield rows, time.perf_counter() - t0, complete
        if complete:
            return
    rows = archive.query("study", filters, search=search)
    if not default_sort:
        rows.sort(key=sort_key(KEYS[sort[0]]), reverse=Qt.SortOrder(sort[1]) == Qt.DescendingOrder)
    yield rows, time.perf_counter() - t0, True


def query_changed_studies(archive: Any, flt: StudyFilter, uids: list[str]) -> list[dict[str, Any]]:
    """The rows of ``uids`` that match the current filter (worker)."""
    out: list[dict[str, Any]] = []
    uids = sorted(uids)
    for start in range(0, len(uids), 200):
        filters = flt.filters()
        filters["StudyInstanceUID"] = "\\".join(uids[start:start + 200])
        out.extend(archive.query("study", filters, search=flt.search or None))
    return out


def run_study_query(archive: Any, flt: StudyFilter) -> tuple[list[dict[str, Any]], float]:
    """Every matching study row in the index's order (tests, CLI-like callers)."""
    t0 = time.perf_counter()
    rows = archive.query("study", flt.filters(), search=flt.search or None)
    return rows, time.perf_counter() - t0


class StudyTableModel(QtCore.QAbstractTableModel):
    """Study rows for the browser; sortable; rows carry the archive row dict (``Qt.UserRole``)."""

    queryStarted = QtCore.Signal()
    queryFinished = QtCore.Signal(int, float)  # rows, seconds spent in the worker
    queryFailed = QtCore.Signal(object)

    UID_ROLE = Qt.UserRole + 1
    ROW_ROLE = Qt.UserRole + 2

    def __init__(self, archive: Any, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.archive = archive
        self.filter = StudyFilter()
        self._rows: list[tuple] = []
        self._sort_column = 4  # study date
        self._sort_order = Qt.DescendingOrder
        self._seq = 0
        self._running = False
        self._worker = None
        self._update_workers: set = set()
        self._texts: dict[str, tuple[dict, tuple[str, ...]]] = {}  # uid -> (row, its cells' texts), painted rows
        self._positions: dict[str, int] | None = None  # uid -> row; None after rows moved (rebuilt on demand)
        self.complete = False  # False while only the first page of a long answer is shown
        self.last_update = 0.0  # perf_counter() of the last applied result (benchmarks)
        self.last_complete = 0.0
        self.sorted_by_user = False

    # --- Qt model ----------------------------------------------------------------------------------------------
    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):
        # Asked for every role of every section at each header repaint: the cheap test first.
        if role != _DISPLAY or orientation != Qt.Horizontal:
            return None
        return QtCore.QCoreApplication.translate("StudyTableModel", COLUMNS[section][1])

    def texts(self, row: int) -> tuple[str, ...]:
        """The display texts of a row's cells, formatted once per row object (a repaint asks every visible cell)."""
        data = self._rows[row]
        uid = data["StudyInstanceUID"]
        cached = self._texts.get(uid)
        if cached is None or cached[0] is not data:
            cached = self._texts[uid] = (data, tuple(cell_text(data, key) for key in KEYS))
        return cached[1]

    def data(self, index: QtCore.QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        role = int(role)
        if role == _DISPLAY:
            return self.texts(index.row())[index.column()]
        marked = index.column() == KEY_IMAGE_COLUMN and has_key_images(self._rows[index.row()])
        if role == _TOOLTIP:
            text = self.texts(index.row())[index.column()]
            return key_image_tip(text) if marked else text
        if role == _DECORATION:
            return star_icon() if marked else None
        if role == _ALIGNMENT and index.column() in NUMERIC_COLUMNS:
            return _ALIGN_RIGHT
        if role == self.UID_ROLE:
            return self._rows[index.row()]["StudyInstanceUID"]
        if role == self.ROW_ROLE:
            return self._rows[index.row()]
        return None

    def multiData(self, index: QtCore.QModelIndex, span: Any) -> None:
        """All roles of a cell in one Python call. Painting asks ~7 roles per cell; each call from C++ into
        Python has to take the GIL, which under network load (pynetdicom threads) can wait milliseconds: one
        call per cell instead of seven, texts formatted once per row (:meth:`texts`) and roles compared as plain
        ints made the repaint of a full view 16 -> 3 ms (offscreen, 1400x600), and as much less exposed."""
        if not index.isValid():
            return
        row = index.row()
        col = index.column()
        text = self.texts(row)[col]
        marked = col == KEY_IMAGE_COLUMN and has_key_images(self._rows[row])
        for item in span:
            role = item.role()
            if role == _DISPLAY:
                item.setData(text)
            elif role == _TOOLTIP:
                item.setData(key_image_tip(text) if marked else text)
            elif role == _DECORATION and marked:
                item.setData(star_icon())
            elif role == _ALIGNMENT and col in NUMERIC_COLUMNS:
                item.setData(_ALIGN_RIGHT)
            elif role == self.UID_ROLE:
                item.setData(self._rows[row]["StudyInstanceUID"])
            elif role == self.ROW_ROLE:
                item.setData(self._rows[row])
            else:
                item.clearData()  # the view reuses the span between cells: leave nothing from the last one

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        if (column, order) == (self._sort_column, self._sort_order) and not self.sorted_by_user:
            return
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        # Persistent indexes (the view's selection and current row) follow their study, not the row number.
        persistent = self.persistentIndexList()
        held = [(self._rows[i.row()]["StudyInstanceUID"], i.column()) for i in persistent]
        self._rows.sort(key=sort_key(KEYS[column]), reverse=order == Qt.DescendingOrder)
        self._positions = None
        positions = self._position_map()
        self.changePersistentIndexList(persistent, [self.index(positions[uid], col) for uid, col in held])
        self.layoutChanged.emit()

    # --- access ------------------------------------------------------------------------------------------------
    def uid_at(self, row: int) -> str:
        return self._rows[row]["StudyInstanceUID"]

    def row_at(self, row: int) -> dict[str, Any]:
        return self._rows[row]

    def row_of(self, uid: str) -> int:
        return self._position_map().get(uid, -1)

    def _position_map(self) -> dict[str, int]:
        if self._positions is None:
            self._positions = {r["StudyInstanceUID"]: i for i, r in enumerate(self._rows)}
        return self._positions

    def uids(self) -> list[str]:
        return [r["StudyInstanceUID"] for r in self._rows]

    # --- refresh -----------------------------------------------------------------------------------------------
    def set_filter(self, flt: StudyFilter) -> None:
        self.filter = flt
        self.refresh()

    def refresh(self) -> None:
        """Query in a worker. A running query is told to stop (its answers are dropped); the new one starts now."""
        self._seq += 1
        seq = self._seq
        if self._worker is not None:
            self._worker.quit()
        flt = StudyFilter(self.filter.search, self.filter.date_preset, self.filter.modality, dict(self.filter.extra))
        self._running = True
        self.complete = False
        self.queryStarted.emit()
        worker = create_worker(study_query_phases, self.archive, flt, (self._sort_column, self._sort_order),
                               _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda res, s=seq: self._on_result(s, res))
        worker.errored.connect(lambda exc, s=seq: self._on_error(s, exc))
        worker.finished.connect(lambda s=seq: self._on_finished(s))
        self._worker = worker
        worker.start()

    def update_studies(self, uids: set[str] | list[str]) -> None:
        """New arrivals: re-read only these studies and update/insert their rows (a full reset repaints the whole
        view, which under network load costs the GUI thread tens of milliseconds of GIL waits)."""
        if not uids:
            return
        if self._running:
            self.refresh()  # a full answer is on its way anyway; make sure it includes the change
            return
        seq = self._seq
        flt = StudyFilter(self.filter.search, self.filter.date_preset, self.filter.modality, dict(self.filter.extra))
        worker = create_worker(query_changed_studies, self.archive, flt, list(uids), _start_thread=False,
                               _ignore_errors=True)
        worker.returned.connect(lambda rows, s=seq: self._on_changed_rows(s, rows))
        worker.errored.connect(lambda exc, s=seq: self._on_error(s, exc))
        keep_while_running(worker, self._update_workers)

    def current_key(self):
        """The sort key of the order the rows are in."""
        if (self._sort_column, self._sort_order) == DEFAULT_SORT:
            return default_key
        return sort_key(KEYS[self._sort_column])

    def insert_position(self, row: dict[str, Any], key=None, rows: list | None = None) -> int:
        """Where ``row`` goes in the sorted rows: a binary search (the rows are in the view's order), after rows
        that sort equal when descending (the index puts the newest first among equal dates), before them when
        ascending... same as a full re-sort would."""
        key = key or self.current_key()
        rows = self._rows if rows is None else rows
        new = key(row)
        descending = self._sort_order == Qt.DescendingOrder
        lo, hi = 0, len(rows)
        while lo < hi:
            mid = (lo + hi) // 2
            k = key(rows[mid])
            if (k <= new) if descending else (k >= new):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _on_changed_rows(self, seq: int, rows: list[dict[str, Any]]) -> None:
        """Apply re-read rows: changed cells are signalled one by one, a row whose sort key changed moves (the
        selection moves with it), a new row is inserted where the sort puts it -- never a reset or a re-sort."""
        if not isValid(self) or seq != self._seq:
            return  # a full refresh happened meanwhile and already has these rows
        key = self.current_key()
        new_rows = []
        for row in rows:
            at = self._position_map().get(row["StudyInstanceUID"])
            if at is None:
                new_rows.append(row)
                continue
            old = self._rows[at]
            if key(old) == key(row):
                self._rows[at] = row
                self._emit_cells(at, old, row)
                continue
            # The sort key changed (e.g. sorted by image count): move the row where it now belongs.
            rest = self._rows[:at] + self._rows[at + 1:]
            to = self.insert_position(row, key, rest)
            self._rows[at] = row
            if to != at:
                self.beginMoveRows(QtCore.QModelIndex(), at, at, QtCore.QModelIndex(), to + (1 if to > at else 0))
                self._rows = rest
                self._rows.insert(to, row)
                self._positions = None
                self.endMoveRows()
            self._emit_cells(to, old, row)
        # The worker's rows come in the index's order (newest first among equal dates): inserting the last first puts
        # each newer one before its equals, as the index (and a full refresh) orders them.
        for row in reversed(new_rows):
            pos = self.insert_position(row, key)
            if pos == len(self._rows) and not self.complete:
                continue  # beyond the first page shown: the full answer will have it
            self.beginInsertRows(QtCore.QModelIndex(), pos, pos)
            self._rows.insert(pos, row)
            self._positions = None
            self.endInsertRows()
        self.last_update = time.perf_counter()
        self.queryFinished.emit(len(self._rows), 0.0)

    def _emit_cells(self, row: int, old: dict[str, Any], new: dict[str, Any]) -> None:
        """dataChanged per changed cell: QTableView repaints one cell for a one-cell change, but the whole
        viewport (every visible cell, ~1,400 Python data() calls) for any larger range."""
        for col, key in enumerate(KEYS):
            if old.get(key) != new.get(key):
                idx = self.index(row, col)
                self.dataChanged.emit(idx, idx)

    def refresh_now(self) -> None:
        """Synchronous refresh (tests)."""
        self._seq += 1
        for rows, seconds, complete in study_query_phases(self.archive, self.filter,
                                                          (self._sort_column, self._sort_order), None):
            self._apply(rows, seconds, complete)

    def _on_finished(self, seq: int) -> None:
        if not isValid(self):
            return
        if seq == self._seq:
            self._running = False
            self._worker = None

    def _on_error(self, seq: int, exc: Exception) -> None:
        if not isValid(self):
            return
        if seq == self._seq:
            self.queryFailed.emit(exc)

    def _on_result(self, seq: int, result: tuple) -> None:
        if not isValid(self):
            return
        if seq != self._seq:
            return  # the user typed on: stale
        self._apply(*result)

    def _apply(self, rows: list[dict[str, Any]], seconds: float, complete: bool) -> None:
        same = len(rows) == len(self._rows) and all(
            a["StudyInstanceUID"] == b["StudyInstanceUID"] for a, b in zip(rows, self._rows))
        if same and rows:
            old_rows, self._rows = self._rows, rows
            self._positions = None
            for i, (old, new) in enumerate(zip(old_rows, rows)):
                if old != new:
                    self._emit_cells(i, old, new)
        else:
            self.beginResetModel()
            self._rows = rows
            self._positions = None
            self._texts.clear()
            self.endResetModel()
        self.complete = complete
        self.last_update = time.perf_counter()
        if complete:
            self.last_complete = self.last_update
        self.queryFinished.emit(len(rows), seconds)
