"""The patient's prior studies beside the selected one: local at once, each node's as it answers, never blocking.

The list is :func:`workstation.reading.priors.list_priors` run in a worker; a node that is down or refuses is a line
in the list with its reason. Double-click (or "Open with current") opens the selected study and the chosen local
priors in one viewer window; a prior that is only on a node is retrieved first (an ordinary retrieve job in the
Activity panel) and opened when it has arrived.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid
from superqt.utils import create_worker

from workstation.gui.core_text import core_text
from workstation.gui.jobs import Job
from workstation.gui.operations import run_quick
from workstation.gui.qr_panel import retrieve_one, summarize_retrieve

log = logging.getLogger(__name__)
Qt = QtCore.Qt
PRIOR_ROLE = Qt.UserRole + 1


def stream_priors(archive: Any, settings: Any, study_uid: str, nodes: list):
    """Worker generator: the local list first, then the list with every node's answer."""
    from workstation.reading.priors import PriorList, current_study, list_priors, local_priors

    current = current_study(archive, study_uid)
    yield PriorList(current, local_priors(archive, current))
    if nodes:
        yield list_priors(archive, settings, study_uid, nodes)


def format_date(value: Any) -> str:
    text = str(value or "")
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


class PriorsPanel(QtWidgets.QWidget):
    """Priors of the study given to :meth:`set_study`.

    Signals: ``openRequested(list of StudyInstanceUIDs)``, the current study first.
    """

    openRequested = QtCore.Signal(list)
    COLUMNS = ("Date", "Modality", "Description", "Images", "Where")

    def __init__(self, settings: Any, archive: Any, jobs: Any, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.settings, self.archive, self.jobs = settings, archive, jobs
        self.study_uid: str | None = None
        self.result: Any = None
        self._token = 0
        self._worker = None
        self._pending_open: dict[str, list[str]] = {}  # prior uid being retrieved -> what to open after
        self._checked: set[str] = set()  # studies that arrived and were looked at for this list (archive_changed)
        self.title = QtWidgets.QLabel(self)
        self.title.setWordWrap(True)
        self.table = QtWidgets.QTreeWidget(self)
        self.table.setObjectName("priors_table")
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.table.setHeaderLabels([self.tr("Date"), self.tr("Modality"), self.tr("Description"),
                                    self.tr("Images"), self.tr("Where")])
        header = self.table.header()
        header.setStretchLastSection(False)
        for i in (0, 1, 3, 4):
            header.setSectionResizeMode(i, QtWidgets.QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.Stretch)
        self.failures = QtWidgets.QLabel(self)
        self.failures.setObjectName("priors_failures")
        self.failures.setWordWrap(True)
        self.failures.setStyleSheet("color: #a33")
        self.failures.hide()
        self.table.itemDoubleClicked.connect(lambda *_: self.open_selected())
        self.open_button = QtWidgets.QPushButton(self.tr("Open with current"), self)
        self.open_button.setToolTip(self.tr("Open the selected study and the chosen priors side by side in one "
                                            "viewer window; priors only on a node are retrieved first"))
        self.open_button.clicked.connect(self.open_selected)
        self.refresh_button = QtWidgets.QPushButton(self.tr("Ask the nodes again"), self)
        self.refresh_button.clicked.connect(lambda: self.set_study(self.study_uid, force=True))
        # Stacked, so the dock stays narrow enough for a small main window.
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.refresh_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.failures)
        layout.addLayout(buttons)
        self._show_empty(self.tr("Select a study to see the patient's other studies."))

    # --- listing ---------------------------------------------------------------------------------------------
    def nodes(self) -> list:
        return [n for n in self.settings.nodes if getattr(n, "search_priors", False)]

    def set_study(self, study_uid: str | None, force: bool = False) -> None:
        if study_uid == self.study_uid and not force:
            return
        self.study_uid = study_uid
        self._token += 1
        self._checked = set()
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
        if not study_uid:
            self.result = None
            self._show_empty(self.tr("Select a study to see the patient's other studies."))
            return
        token = self._token
        asking = [n.name for n in self.nodes()]
        self.title.setText(self.tr("Looking for priors locally and on %s…") % ", ".join(asking) if asking
                           else self.tr("Looking for priors…"))
        worker = create_worker(stream_priors, self.archive, self.settings, study_uid, self.nodes(),
                               _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(lambda result, t=token: self._on_result(t, result))
        worker.errored.connect(lambda exc, t=token: self._on_error(t, exc))
        self._worker = worker
        worker.start()

    def archive_changed(self, kinds: set, study_uids: set) -> None:
        """The archive changed (``ArchiveBridge.changed``): the local part of the list is read again, off the GUI
        thread, when the change touches it - a listed study deleted or grown, the current one gone, a study not
        seen before arrived (it may be this patient's) - so a deleted prior is never offered, nor a stale count."""
        if not self.study_uid or self.result is None:
            return
        listed = {p.uid for p in self.result.priors} | {self.study_uid}
        new = study_uids - listed - self._checked if "added" in kinds else set()
        if not (study_uids & listed or new):
            return
        self._checked |= new
        from workstation.reading.priors import relist_local

        token = self._token
        run_quick(self, relist_local, self.archive, self.result,
                  on_result=lambda result, t=token: self._on_result(t, result),
                  on_error=lambda exc, t=token: self._on_error(t, exc))

    def _on_error(self, token: int, exc: BaseException) -> None:
        if token == self._token and isValid(self.table):
            self._show_empty(self.tr("Priors could not be listed: %s") % exc)

    def _show_empty(self, text: str) -> None:
        self.table.clear()
        self.failures.hide()
        self.title.setText(text)
        self.open_button.setEnabled(False)

    def _on_result(self, token: int, result: Any) -> None:
        if token != self._token:
            return  # an answer for a study the user has left
        if not isValid(self.table):
            return  # the window is gone (deleted without a close): the worker's answer comes after it
        self.result = result
        chosen = {p.uid for p in self.selected_priors()}  # kept when the same list is read again
        self.table.clear()
        cur = result.current
        name = str(cur.get("PatientName") or "").split("=")[0].replace("^", " ").strip()
        self.title.setText(self.tr("%n other study(ies) of %1 (%2)", "", len(result.priors))
                           .replace("%1", name or "?").replace("%2", str(cur.get("PatientID") or "")))
        for prior in result.priors:
            row = prior.row
            mods = "/".join(prior.as_json()["ModalitiesInStudy"])
            count = row.get("NumberOfStudyRelatedInstances")
            where = self.tr("local") if prior.is_local else prior.source
            item = QtWidgets.QTreeWidgetItem([format_date(row.get("StudyDate")), mods,
                                              str(row.get("StudyDescription") or ""),
                                              "" if count is None else str(count), where])
            item.setData(0, PRIOR_ROLE, prior)
            item.setTextAlignment(3, Qt.AlignRight | Qt.AlignVCenter)
            if not prior.is_local:
                item.setToolTip(4, self.tr("On %s only: opening it retrieves it first") % prior.source)
                for col in range(5):
                    item.setForeground(col, QtGui.QBrush(QtGui.QColor("#2f6fb0")))
            if prior.name_mismatch:
                text = self.tr("Same patient ID, different name: %s") % row.get("PatientName")
                item.setText(2, "⚠ " + item.text(2))
                for col in range(5):
                    item.setToolTip(col, text)
                    item.setBackground(col, QtGui.QBrush(QtGui.QColor("#fff2cc")))
            self.table.addTopLevelItem(item)
            item.setSelected(prior.uid in chosen)
        lines = [self.tr("%1 could not be asked: %2").replace("%1", f.node).replace("%2", core_text(f.error))
                 for f in result.failures]
        self.failures.setText("\n".join("✘ " + line for line in lines))
        self.failures.setVisible(bool(lines))
        self.open_button.setEnabled(bool(result.priors))
        if result.priors and not self.table.selectedItems():
            self.table.topLevelItem(0).setSelected(True)

    # --- opening and retrieving ----------------------------------------------------------------------------------
    def selected_priors(self) -> list:
        return [it.data(0, PRIOR_ROLE) for it in self.table.selectedItems() if it.data(0, PRIOR_ROLE) is not None]

    def open_selected(self) -> None:
        if not self.study_uid:
            return
        priors = self.selected_priors()
        wanted = [self.study_uid] + [p.uid for p in priors]
        remote = [p for p in priors if not p.is_local]
        if not remote:
            self.openRequested.emit(wanted)
            return
        for prior in remote:
            self.retrieve(prior, then_open=wanted)

    def retrieve(self, prior: Any, then_open: list[str] | None = None) -> Job | None:
        node = self.settings.node(prior.source)
        if node is None:
            self.title.setText(self.tr("Node %s is no longer configured.") % prior.source)
            return None
        method = node.method or "move"
        date = format_date(prior.row.get("StudyDate"))
        job = Job("retrieve", self.tr("Retrieve prior %1 %2 from %3").replace("%1", date)
                  .replace("%2", str(prior.row.get("StudyDescription") or "")).replace("%3", node.name),
                  retrieve_one, self.settings, node, self.archive, prior.uid, None, method,
                  summarize=summarize_retrieve)
        if then_open:
            self._pending_open[prior.uid] = then_open
        job.ended.connect(lambda j=job, uid=prior.uid: self._on_retrieved(j, uid))
        self.jobs.submit(job)
        self.title.setText(self.tr("Retrieving the prior of %s; it opens when it has arrived.") % date)
        return job

    def _on_retrieved(self, job: Job, prior_uid: str) -> None:
        wanted = self._pending_open.pop(prior_uid, None)
        ok = job.result is not None and getattr(job.result, "ok", False)
        if self.study_uid:
            self.set_study(self.study_uid, force=True)
        if not ok:
            self.title.setText(self.tr("The prior could not be retrieved: %s") % (job.message or job.error or ""))
            return
        if wanted and not any(uid in self._pending_open for uid in wanted[1:]):
            self.openRequested.emit(wanted)
