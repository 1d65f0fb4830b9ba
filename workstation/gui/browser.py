"""The database browser: search + date/modality filters, the study table, the selected study's series."""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.common import tune_gc, use_sort_arrows
from workstation.gui.series_panel import SeriesPanel
from workstation.gui.study_model import COLUMNS, StudyFilter, StudyTableModel

Qt = QtCore.Qt
SEARCH_DEBOUNCE_MS = 40
MODALITIES = ["CT", "MR", "CR", "DX", "MG", "US", "NM", "PT", "XA", "RF", "OT", "SR", "SC", "RTSTRUCT", "RTPLAN",
              "SEG", "PR", "ECG", "KO", "DOC"]


class SearchEdit(QtWidgets.QLineEdit):
    """The search field: Esc clears it; Down, Enter and Return go to the results (``toResults``)."""

    toResults = QtCore.Signal()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key_Escape and self.text():
            self.clear()
            return
        if event.key() in (Qt.Key_Down, Qt.Key_Return, Qt.Key_Enter):
            self.toResults.emit()
            return
        super().keyPressEvent(event)


class StudyView(QtWidgets.QTableView):
    """The study table; Enter opens the selection (``openRequested``). An empty table says why
    (``empty_text``): on a first start a blank grid gave no hint of what to do."""

    openRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.empty_text = ""

    def set_empty_text(self, text: str) -> None:
        if text != self.empty_text:
            self.empty_text = text
            self.viewport().update()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.selectionModel().selectedRows():
            self.openRequested.emit()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        super().paintEvent(event)
        if self.empty_text and self.model() is not None and self.model().rowCount() == 0:
            painter = QtGui.QPainter(self.viewport())
            painter.setPen(self.palette().color(QtGui.QPalette.PlaceholderText))
            area = self.viewport().rect().adjusted(24, 24, -24, -24)
            rect = QtCore.QRect(0, 0, min(area.width(), 560), area.height())  # a readable line length
            rect.moveCenter(area.center())
            painter.drawText(rect, Qt.AlignCenter | Qt.TextWordWrap, self.empty_text)
            painter.end()


class BrowserWidget(QtWidgets.QWidget):
    """Search, filters, studies and series. It owns no archive state: it asks the archive and shows the answer.

    Signals: ``openStudies(list[study rows])``, ``openSeries(list[series rows])``,
    ``contextRequested(level, rows, global_pos)``.
    """

    openStudies = QtCore.Signal(list)
    openSeries = QtCore.Signal(list)
    contextRequested = QtCore.Signal(str, list, QtCore.QPoint)
    statusMessage = QtCore.Signal(str)

    def __init__(self, archive: Any, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.archive = archive
        self.model = StudyTableModel(archive, self)

        # --- filter bar ------------------------------------------------------------------------------------
        self.search = SearchEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("Search name, patient ID, accession, description…  (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.date_combo = QtWidgets.QComboBox(self)
        self.date_combo.setObjectName("date_preset")
        for key, label in (("all", self.tr("All dates")), ("today", self.tr("Today")),
                           ("yesterday", self.tr("Yesterday")), ("7days", self.tr("Last 7 days")),
                           ("30days", self.tr("Last 30 days"))):
            self.date_combo.addItem(label, key)
        self.modality_combo = QtWidgets.QComboBox(self)
        self.modality_combo.setObjectName("modality")
        self.modality_combo.addItem(self.tr("All modalities"), "")
        for m in MODALITIES:
            self.modality_combo.addItem(m, m)
        self.count_label = QtWidgets.QLabel(self)
        self.count_label.setObjectName("study_count")
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(self.search, 3)
        bar.addWidget(self.date_combo)
        bar.addWidget(self.modality_combo)
        bar.addWidget(self.count_label)

        # --- study table -----------------------------------------------------------------------------------
        self.view = StudyView(self)
        self.view.setObjectName("study_table")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(4, Qt.DescendingOrder)  # newest first, the header says so (▼)
        use_sort_arrows(self.view.horizontalHeader())
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionsMovable(True)
        self.view.setWordWrap(False)
        self.view.setContextMenuPolicy(Qt.CustomContextMenu)
        widths = [190, 100, 125, 40, 90, 85, 220, 100, 55, 60, 130]  # birth date with the age: "1970-01-01 (45Y)"
        for i, w in enumerate(widths[: len(COLUMNS)]):
            self.view.setColumnWidth(i, w)
        self.view.doubleClicked.connect(lambda _i: self._open_selected_studies())
        self.view.openRequested.connect(self._open_selected_studies)
        self.view.customContextMenuRequested.connect(self._study_context)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._on_sorted)

        # --- series ----------------------------------------------------------------------------------------
        self.series = SeriesPanel(archive, self)
        self.series.openRequested.connect(self.openSeries)
        self.series.customContextMenuRequested.connect(self._series_context)

        self.splitter = QtWidgets.QSplitter(Qt.Vertical, self)
        self.splitter.setObjectName("browser_splitter")
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.series)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 200])

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter)

        # --- behaviour -------------------------------------------------------------------------------------
        self._debounce = QtCore.QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.toResults.connect(self._go_to_results)
        self.date_combo.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.modality_combo.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.model.queryFinished.connect(self._on_query_finished)
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._restore_selection)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._on_selection())
        self._selected_uids: list[str] = []
        self._current_study: str | None = None

    # --- filtering ---------------------------------------------------------------------------------------------
    def current_filter(self) -> StudyFilter:
        return StudyFilter(self.search.text().strip(), self.date_combo.currentData() or "all",
                           self.modality_combo.currentData() or "")

    def apply_filter(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.current_filter())

    def set_date_preset(self, key: str) -> None:
        self.date_combo.setCurrentIndex(max(0, self.date_combo.findData(key)))

    def set_modality(self, modality: str) -> None:
        self.modality_combo.setCurrentIndex(max(0, self.modality_combo.findData(modality)))

    def _on_sorted(self, *_: Any) -> None:
        self.model.sorted_by_user = True

    def _go_to_results(self) -> None:
        if self._debounce.isActive():
            self.apply_filter()  # Enter right after typing: the list must be the one for what was typed
        self.view.setFocus()
        if self.model.rowCount() and not self.view.selectionModel().selectedRows():
            self.view.selectRow(0)

    def _empty_text(self) -> str:
        f = self.current_filter()
        if f.search or f.date_preset != "all" or f.modality:
            return self.tr("No study matches the search and filters.")
        return self.tr("No studies yet.\n\nImport files or a folder (File ▸ Import files… Ctrl+O, Import folder… "
                       "Ctrl+Shift+O), drop them on this window, or retrieve them from a PACS on the "
                       "Query/Retrieve tab. Studies sent to this workstation over DICOM appear here too.")

    def _on_query_finished(self, n: int, seconds: float) -> None:
        self.view.set_empty_text(self._empty_text() if n == 0 else "")
        if self.model.complete:
            self.count_label.setText(self.tr("%n study(ies)", "", n))
            tune_gc()
        else:
            self.count_label.setText(self.tr("%n+ studies…", "", n))
        if self.view.selectionModel() and not self.view.selectionModel().selectedRows() and n:
            self.view.selectRow(0)

    # --- selection ---------------------------------------------------------------------------------------------
    def _remember_selection(self) -> None:
        self._selected_uids = [self.model.uid_at(i.row()) for i in self.view.selectionModel().selectedRows()]

    def _restore_selection(self) -> None:
        sel = self.view.selectionModel()
        first = True
        for uid in self._selected_uids:
            row = self.model.row_of(uid)
            if row < 0:
                continue
            flags = QtCore.QItemSelectionModel.Select | QtCore.QItemSelectionModel.Rows
            if first:
                flags = QtCore.QItemSelectionModel.ClearAndSelect | QtCore.QItemSelectionModel.Rows
                self.view.setCurrentIndex(self.model.index(row, 0))
            sel.select(self.model.index(row, 0), flags)
            first = False
        self._on_selection()

    def selected_studies(self) -> list[dict[str, Any]]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.row_at(r) for r in rows]

    def _on_selection(self) -> None:
        studies = self.selected_studies()
        uid = studies[0]["StudyInstanceUID"] if len(studies) >= 1 else None
        if uid != self._current_study:
            self._current_study = uid
            self.series.show_study(uid)

    def select_study(self, uid: str) -> bool:
        row = self.model.row_of(uid)
        if row < 0:
            return False
        self.view.selectRow(row)
        return True

    def refresh_series(self, series_study_uids: set[str]) -> None:
        if self._current_study and self._current_study in series_study_uids:
            self.series.show_study(self._current_study, force=True)

    # --- open / context ----------------------------------------------------------------------------------------
    def _open_selected_studies(self) -> None:
        studies = self.selected_studies()
        if studies:
            self.openStudies.emit(studies)

    def _study_context(self, pos: QtCore.QPoint) -> None:
        studies = self.selected_studies()
        if studies:
            self.contextRequested.emit("study", studies, self.view.viewport().mapToGlobal(pos))

    def _series_context(self, pos: QtCore.QPoint) -> None:
        rows = self.series.selected_rows()
        if rows:
            self.contextRequested.emit("series", rows, self.series.viewport().mapToGlobal(pos))
