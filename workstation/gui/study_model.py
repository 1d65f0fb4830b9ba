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

from workstation.gui.common import format_da, format_name, format_received

Qt = QtCore.Qt

COLUMNS = [
    ("PatientName", "Patient name"),
    ("PatientID", "Patient ID"),
    ("PatientBirthDate", "Birth date"),
    ("PatientSex", "Sex"),
    ("StudyDate", "Study date"),
    ("ModalitiesInStudy", "Modalities"),
    ("StudyDescription", "Description"),
    ("AccessionNumber", "Accession"),
    ("NumberOfStudyRelatedSeries", "Series"),
    ("NumberOfStudyRelatedInstances", "Images"),
    ("received", "Received"),
]
KEYS = [c[0] for c in COLUMNS]
NUMERIC = {"NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"}
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


def display_row(row: dict[str, Any]) -> tuple:
    """(display strings..., sort keys..., uid) for one study row; built in the worker."""
    shown = []
    sort = []
    for key in KEYS:
        value = row.get(key)
        if key == "PatientName":
            text = format_name(value)
        elif key in ("PatientBirthDate", "StudyDate"):
            text = format_da(value)
        elif key == "ModalitiesInStudy":
            text = ", ".join(value or [])
        elif key == "received":
            text = format_received(value)
        else:
            text = "" if value is None else str(value)
        shown.append(text)
        sort.append(int(value or 0) if key in NUMERIC else text.casefold())
    return tuple(shown), tuple(sort), row["StudyInstanceUID"], row


def run_study_query(archive: Any, flt: StudyFilter) -> tuple[list[tuple], float]:
    """The worker's body: query and build the display rows. Returns (rows, seconds)."""
    t0 = time.perf_counter()
    rows = archive.query("study", flt.filters(), search=flt.search or None)
    out = [display_row(r) for r in rows]
    return out, time.perf_counter() - t0


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
        self._pending = False
        self.last_update = 0.0  # perf_counter() of the last applied result (benchmarks)
        self.sorted_by_user = False

    # --- Qt model ----------------------------------------------------------------------------------------------
    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return QtCore.QCoreApplication.translate("StudyTableModel", COLUMNS[section][1])
        return None

    def data(self, index: QtCore.QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.DisplayRole:
            return row[0][index.column()]
        if role == Qt.TextAlignmentRole and KEYS[index.column()] in NUMERIC:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == self.UID_ROLE:
            return row[2]
        if role == self.ROW_ROLE:
            return row[3]
        return None

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        self._apply_sort()
        self.layoutChanged.emit()

    def _apply_sort(self) -> None:
        col = self._sort_column
        self._rows.sort(key=lambda r: r[1][col], reverse=self._sort_order == Qt.DescendingOrder)

    # --- access ------------------------------------------------------------------------------------------------
    def uid_at(self, row: int) -> str:
        return self._rows[row][2]

    def row_at(self, row: int) -> dict[str, Any]:
        return self._rows[row][3]

    def row_of(self, uid: str) -> int:
        for i, r in enumerate(self._rows):
            if r[2] == uid:
                return i
        return -1

    def uids(self) -> list[str]:
        return [r[2] for r in self._rows]

    # --- refresh -----------------------------------------------------------------------------------------------
    def set_filter(self, flt: StudyFilter) -> None:
        self.filter = flt
        self.refresh()

    def refresh(self) -> None:
        """Run the query in a worker; if one is running, run once more when it ends (coalesced)."""
        if self._running:
            self._pending = True
            return
        self._running = True
        self._pending = False
        self._seq += 1
        seq = self._seq
        flt = StudyFilter(self.filter.search, self.filter.date_preset, self.filter.modality, dict(self.filter.extra))
        self.queryStarted.emit()
        worker = create_worker(run_study_query, self.archive, flt, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda res, s=seq: self._on_result(s, res))
        worker.errored.connect(self._on_error)
        worker.start()

    def refresh_now(self) -> None:
        """Synchronous refresh (start-up with a known-small query, tests)."""
        rows, seconds = run_study_query(self.archive, self.filter)
        self._seq += 1
        self._apply(rows, seconds)

    def _on_error(self, exc: Exception) -> None:
        if not isValid(self):
            return
        self._running = False
        self.queryFailed.emit(exc)
        if self._pending:
            self.refresh()

    def _on_result(self, seq: int, result: tuple[list[tuple], float]) -> None:
        if not isValid(self):
            return
        self._running = False
        if self._pending:
            # The filter changed while this ran: its rows are stale, ask again right away.
            self.refresh()
            return
        if seq != self._seq:
            return
        self._apply(*result)

    def _apply(self, rows: list[tuple], seconds: float) -> None:
        col = self._sort_column
        if self.sorted_by_user or col != 4 or self._sort_order != Qt.DescendingOrder:
            rows.sort(key=lambda r: r[1][col], reverse=self._sort_order == Qt.DescendingOrder)
        same = [r[2] for r in self._rows] == [r[2] for r in rows]
        if same and rows:
            self._rows = rows
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))
        else:
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
        self.last_update = time.perf_counter()
        self.queryFinished.emit(len(rows), seconds)
