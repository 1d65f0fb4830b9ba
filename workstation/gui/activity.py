"""The Activity panel: every job of the session (import, send, find, retrieve, incoming associations).

A table model over :class:`~workstation.gui.jobs.JobManager` with a progress-bar delegate, and buttons to cancel,
retry and read a job's report.
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.jobs import ACTIVE_STATES, CANCELLED, DONE, FAILED, PARTIAL, QUEUED, RUNNING, Job, JobManager

Qt = QtCore.Qt
HEADERS = [
    QtCore.QT_TRANSLATE_NOOP("JobTableModel", "Job"), QtCore.QT_TRANSLATE_NOOP("JobTableModel", "State"),
    QtCore.QT_TRANSLATE_NOOP("JobTableModel", "Progress"), QtCore.QT_TRANSLATE_NOOP("JobTableModel", "Speed"),
    QtCore.QT_TRANSLATE_NOOP("JobTableModel", "Started"), QtCore.QT_TRANSLATE_NOOP("JobTableModel", "Details")]
_DISPLAY, _TOOLTIP, _FOREGROUND, _USER = (int(Qt.DisplayRole), int(Qt.ToolTipRole), int(Qt.ForegroundRole),
                                         int(Qt.UserRole))
# The state column in the user's language (the state itself stays the plain word the code compares).
STATE_NAMES = {QUEUED: QtCore.QT_TRANSLATE_NOOP("JobState", "queued"),
               RUNNING: QtCore.QT_TRANSLATE_NOOP("JobState", "running"),
               DONE: QtCore.QT_TRANSLATE_NOOP("JobState", "done"), FAILED: QtCore.QT_TRANSLATE_NOOP("JobState", "failed"),
               CANCELLED: QtCore.QT_TRANSLATE_NOOP("JobState", "cancelled"),
               PARTIAL: QtCore.QT_TRANSLATE_NOOP("JobState", "partial")}
STATE_COLORS = {FAILED: QtGui.QColor(200, 60, 60), PARTIAL: QtGui.QColor(200, 140, 40),
                CANCELLED: QtGui.QColor(130, 130, 130), DONE: QtGui.QColor(60, 150, 60)}


def bar_parts(job: Job) -> tuple[float | None, float]:
    """What the Progress bar fills: (items that went well, items that failed), as fractions of the total.

    Failed items count as processed but are not progress: a send where every instance failed fills no bar (its
    failed part is painted red instead), where the old bar read full as if everything went. None: unknown total
    of a running job (busy bar)."""
    p = job.progress
    if p.total:
        failed = min(p.failed, p.done)
        return min(1.0, (p.done - failed) / p.total), min(1.0, failed / p.total)
    if job.state == DONE:
        return 1.0, 0.0
    if job.state in ACTIVE_STATES:
        return None, 0.0
    return 0.0, 0.0


def good_speed(job: Job) -> float | None:
    """Items per second that went well; None when none did (a speed beside a send that sent nothing misleads)."""
    speed = job.speed()
    p = job.progress
    if not speed or not p.done:
        return None
    good = max(0, p.done - p.failed)
    if good == 0 or (job.state == FAILED and p.failed):
        return None
    return speed * good / p.done


class JobTableModel(QtCore.QAbstractTableModel):
    """Jobs, newest first; updates are coalesced by a timer so progress never floods the view."""

    JOB_ROLE = Qt.UserRole + 1

    def __init__(self, manager: JobManager, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.manager = manager
        self._jobs: list[Job] = []
        self._dirty: set[int] = set()
        manager.jobAdded.connect(self._on_added)
        manager.jobChanged.connect(self._on_changed)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._flush)
        self._timer.start()

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        # Asked for every role of every section at each header repaint: the cheap test first.
        if role != _DISPLAY or orientation != Qt.Horizontal:
            return None
        return QtCore.QCoreApplication.translate("JobTableModel", HEADERS[section])

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        return self._value(self._jobs[index.row()], index.column(), int(role))

    def _value(self, job: Job, col: int, role: int):
        if role == _DISPLAY:
            if col == 0:
                return job.title
            if col == 1:
                return QtCore.QCoreApplication.translate("JobState", STATE_NAMES.get(job.state, job.state))
            if col == 2:
                p = job.progress
                if p.total:
                    if p.failed:
                        return QtCore.QCoreApplication.translate("JobTableModel", "%1/%2 (%3 failed)").replace(
                            "%1", str(p.done)).replace("%2", str(p.total)).replace("%3", str(p.failed))
                    return f"{p.done}/{p.total}"
                return str(p.done) if p.done else ""
            if col == 3:
                speed = good_speed(job)
                return f"{speed:.1f}/s" if speed else ""
            if col == 4:
                return time.strftime("%H:%M:%S", time.localtime(job.created))
            if col == 5:
                return job.message or job.progress.message
            return None
        if role == self.JOB_ROLE:
            return job
        if role == _FOREGROUND and col == 1:
            return STATE_COLORS.get(job.state)
        if role == _TOOLTIP and col in (0, 5):
            return job.message or job.title
        if role == _USER and col == 2:
            return job.fraction()
        return None

    def multiData(self, index, span) -> None:
        """All roles of a cell in one Python call (painting asks ~7 per cell, each a GIL acquisition from C++)."""
        if not index.isValid():
            return
        job = self._jobs[index.row()]
        col = index.column()
        for item in span:
            value = self._value(job, col, item.role())
            if value is None:
                item.clearData()  # the view reuses the span between cells
            else:
                item.setData(value)

    def job_at(self, row: int) -> Job:
        return self._jobs[row]

    def _on_added(self, job: Job) -> None:
        self.beginInsertRows(QtCore.QModelIndex(), 0, 0)
        self._jobs.insert(0, job)
        self.endInsertRows()

    def _on_changed(self, job: Job) -> None:
        self._dirty.add(job)

    def _flush(self) -> None:
        """Repaint only the rows that changed (and running ones, whose speed changes): painting calls Python."""
        changed = set(self._dirty)
        self._dirty.clear()
        changed.update(j for j in self._jobs[:50] if j.is_active)
        if not changed:
            return
        # One dataChanged per cell: a range would make the view repaint every visible cell (Python calls).
        for i, job in enumerate(self._jobs):
            if job in changed:
                for col in (1, 2, 3, 5):
                    idx = self.index(i, col)
                    self.dataChanged.emit(idx, idx)


class ProgressDelegate(QtWidgets.QStyledItemDelegate):
    """Paints a progress bar in the Progress column (busy bar when the total is unknown)."""

    def paint(self, painter, option, index):
        job = index.data(JobTableModel.JOB_ROLE)  # one call into the model; the rest from the job itself
        good, failed = bar_parts(job) if job is not None else (None, 0.0)
        bar = QtWidgets.QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int((good or 0) * 1000)
        if good is None and job is not None and job.state in ACTIVE_STATES:
            bar.minimum = bar.maximum = 0
        bar.text = (index.model()._value(job, 2, _DISPLAY) if job is not None else "") or ""
        bar.textVisible = True
        bar.state = option.state | QtWidgets.QStyle.State_Enabled
        if job is not None and job.state == FAILED:
            bar.palette = QtGui.QPalette(option.palette)
            bar.palette.setColor(QtGui.QPalette.Highlight, STATE_COLORS[FAILED])
        QtWidgets.QApplication.style().drawControl(QtWidgets.QStyle.CE_ProgressBar, bar, painter)
        if failed > 0:
            # The failed items: a red stretch after the good ones, so "processed" never reads as "done".
            r = bar.rect.adjusted(1, 1, -1, -1)
            x0 = r.x() + int(r.width() * (good or 0))
            width = max(1, int(r.width() * failed))
            painter.save()
            color = QtGui.QColor(STATE_COLORS[FAILED])
            color.setAlpha(150)
            painter.fillRect(QtCore.QRect(x0, r.y(), width, r.height()), color)
            painter.setPen(option.palette.color(QtGui.QPalette.Text))
            painter.drawText(bar.rect, Qt.AlignCenter, bar.text)
            painter.restore()


class ActivityPanel(QtWidgets.QWidget):
    """Jobs table with Cancel / Retry / Report buttons."""

    def __init__(self, manager: JobManager, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.manager = manager
        self.model = JobTableModel(manager, self)
        self.view = QtWidgets.QTableView(self)
        self.view.setObjectName("activity_table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setItemDelegateForColumn(2, ProgressDelegate(self.view))
        for i, w in enumerate((470, 75, 150, 65, 65)):
            self.view.setColumnWidth(i, w)
        self.view.doubleClicked.connect(lambda _i: self.show_report())
        self.cancel_button = QtWidgets.QPushButton(self.tr("Cancel"), self)
        self.retry_button = QtWidgets.QPushButton(self.tr("Retry"), self)
        self.report_button = QtWidgets.QPushButton(self.tr("Report…"), self)
        self.clear_button = QtWidgets.QPushButton(self.tr("Clear finished"), self)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.report_button.clicked.connect(self.show_report)
        self.clear_button.clicked.connect(self.clear_finished)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.cancel_button, self.retry_button, self.report_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        manager.jobChanged.connect(lambda _j: self._update_buttons())
        self._update_buttons()

    def selected_job(self) -> Job | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.job_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        job = self.selected_job()
        self.cancel_button.setEnabled(bool(job and job.is_active and not job.external))
        self.retry_button.setEnabled(bool(job and not job.is_active and not job.external
                                          and job.state in (FAILED, PARTIAL, CANCELLED)))
        self.report_button.setEnabled(job is not None)

    def cancel_selected(self) -> None:
        job = self.selected_job()
        if job:
            job.cancel()

    def retry_selected(self) -> None:
        job = self.selected_job()
        if job:
            self.manager.retry(job)

    def clear_finished(self) -> None:
        self.model.beginResetModel()
        self.model._jobs = [j for j in self.model._jobs if j.is_active]
        self.model.endResetModel()

    def show_report(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        dlg = QtWidgets.QDialog(self)
        dlg.setWindowTitle(self.tr("Report: %s") % job.title)
        text = QtWidgets.QPlainTextEdit(dlg)
        text.setReadOnly(True)
        text.setPlainText(job.report_text())
        box = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close, parent=dlg)
        box.rejected.connect(dlg.reject)
        lay = QtWidgets.QVBoxLayout(dlg)
        lay.addWidget(text)
        lay.addWidget(box)
        dlg.resize(700, 450)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.show()
