"""Query/Retrieve: find studies on a remote node, expand them to series, retrieve by C-MOVE or C-GET.

Every network call is a job (find, series find, one retrieve per selected study or series) so the Activity panel
shows it; results come back by signals. Studies already in the local archive are marked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.config import Settings
from workstation.gui.common import format_da, format_name
from workstation.gui.jobs import CANCELLED, DONE, FAILED, PARTIAL, Job, JobManager

Qt = QtCore.Qt
STUDY_HEADERS = ["Patient name", "Patient ID", "Study date", "Modalities", "Description", "Accession", "Images",
                 "Local", "Retrieve"]
UID_ROLE = Qt.UserRole + 1
ROW_ROLE = Qt.UserRole + 2
LEVEL_ROLE = Qt.UserRole + 3
COL_LOCAL, COL_STATUS = 7, 8


def find_studies(settings: Settings, node: Any, filters: dict[str, str], *, progress=None, cancel=None):
    from workstation.net.client import find

    return find(settings, node, "study", filters, progress=progress, cancel=cancel)


def find_series(settings: Settings, node: Any, study_uid: str, *, progress=None, cancel=None):
    from workstation.net.client import find

    return find(settings, node, "series", {"StudyInstanceUID": study_uid}, progress=progress, cancel=cancel)


def retrieve_one(settings: Settings, node: Any, archive: Any, study_uid: str, series_uid: str | None,
                 method: str, *, progress=None, cancel=None):
    from workstation.net.scu_retrieve import retrieve

    store = (lambda data: archive.store_bytes(data, source=f"C-GET from {node.ae_title}")) if method == "get" else None
    return retrieve(settings, node, study_uid=study_uid, series_uid=series_uid, method=method, store=store,
                    cancel=cancel, progress=progress)


def summarize_retrieve(result: Any) -> tuple[str, str]:
    if result.cancelled:
        return CANCELLED, result.summary()
    if result.ok:
        return DONE, result.summary()
    return (PARTIAL if (result.completed or result.received) else FAILED), result.summary()


class QueryRetrievePanel(QtWidgets.QWidget):
    """Node, filters, results tree (studies expandable to series), retrieve buttons."""

    retrieved = QtCore.Signal(object)  # the Job, when a retrieve ends
    findDone = QtCore.Signal(int)  # number of studies found (tests)
    errorRaised = QtCore.Signal(str, str, object)  # title, message, details

    def __init__(self, settings: Settings, archive: Any, jobs: JobManager, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.archive = archive
        self.jobs = jobs
        self.node_combo = QtWidgets.QComboBox(self)
        self.node_combo.setObjectName("qr_node")
        self.method_combo = QtWidgets.QComboBox(self)
        self.method_combo.setObjectName("qr_method")
        self.method_combo.addItem(self.tr("Node default"), "")
        self.method_combo.addItem("C-MOVE", "move")
        self.method_combo.addItem("C-GET", "get")
        self.name = QtWidgets.QLineEdit(self)
        self.name.setPlaceholderText(self.tr("Patient name (Doe*)"))
        self.patient_id = QtWidgets.QLineEdit(self)
        self.patient_id.setPlaceholderText(self.tr("Patient ID"))
        self.accession = QtWidgets.QLineEdit(self)
        self.accession.setPlaceholderText(self.tr("Accession"))
        self.description = QtWidgets.QLineEdit(self)
        self.description.setPlaceholderText(self.tr("Study description (*chest*)"))
        self.modality = QtWidgets.QLineEdit(self)
        self.modality.setPlaceholderText(self.tr("Modality (CT)"))
        self.modality.setMaximumWidth(90)
        self.date_preset = QtWidgets.QComboBox(self)
        for key, label in (("any", self.tr("Any date")), ("today", self.tr("Today")),
                           ("yesterday", self.tr("Yesterday")), ("7days", self.tr("Last 7 days")),
                           ("30days", self.tr("Last 30 days")), ("range", self.tr("Range…"))):
            self.date_preset.addItem(label, key)
        self.date_from = QtWidgets.QDateEdit(self)
        self.date_to = QtWidgets.QDateEdit(self)
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setDate(QtCore.QDate.currentDate())
            d.setEnabled(False)
        self.date_preset.currentIndexChanged.connect(self._on_preset)
        self.find_button = QtWidgets.QPushButton(self.tr("Find"), self)
        self.find_button.setObjectName("qr_find")
        self.find_button.setDefault(True)
        self.retrieve_button = QtWidgets.QPushButton(self.tr("Retrieve selected"), self)
        self.retrieve_button.setObjectName("qr_retrieve")
        self.status = QtWidgets.QLabel(self)
        self.status.setObjectName("qr_status")
        self.status.setWordWrap(True)

        row1 = QtWidgets.QHBoxLayout()
        row1.addWidget(QtWidgets.QLabel(self.tr("Node")))
        row1.addWidget(self.node_combo, 1)
        row1.addSpacing(12)
        row1.addWidget(QtWidgets.QLabel(self.tr("Retrieve by")))
        row1.addWidget(self.method_combo)
        row2 = QtWidgets.QHBoxLayout()
        row2.addWidget(self.name, 2)
        row2.addWidget(self.patient_id, 1)
        row2.addWidget(self.accession, 1)
        row2.addWidget(self.description, 2)
        row2.addWidget(self.modality)
        row3 = QtWidgets.QHBoxLayout()
        row3.addWidget(QtWidgets.QLabel(self.tr("Study date")))
        row3.addWidget(self.date_preset)
        row3.addWidget(self.date_from)
        row3.addWidget(QtWidgets.QLabel("–"))
        row3.addWidget(self.date_to)
        row3.addStretch(1)
        row3.addWidget(self.find_button)
        grid = QtWidgets.QVBoxLayout()
        grid.addLayout(row1)
        grid.addLayout(row2)
        grid.addLayout(row3)

        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setObjectName("qr_results")
        self.tree.setHeaderLabels([self.tr(h) for h in STUDY_HEADERS])
        self.tree.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(True)
        self.tree.setUniformRowHeights(True)
        for i, w in enumerate((180, 100, 90, 80, 200, 100, 60, 50)):
            self.tree.setColumnWidth(i, w)
        self.tree.itemExpanded.connect(self._on_expand)
        self.tree.itemDoubleClicked.connect(lambda *_: self.retrieve_selected())

        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.retrieve_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(grid)
        lay.addWidget(self.tree, 1)
        lay.addLayout(bottom)

        self.find_button.clicked.connect(self.find)
        for edit in (self.name, self.patient_id, self.accession, self.description, self.modality):
            edit.returnPressed.connect(self.find)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.find_job: Job | None = None
        self.retrieve_jobs: dict[str, Job] = {}
        self.reload_nodes()

    # --- nodes -------------------------------------------------------------------------------------------------
    def reload_nodes(self, select: str = "") -> None:
        current = select or self.node_combo.currentData() or ""
        self.node_combo.clear()
        for n in self.settings.nodes:
            self.node_combo.addItem(f"{n.name} ({n.ae_title}@{n.host}:{n.port})", n.name)
        if current:
            self.node_combo.setCurrentIndex(max(0, self.node_combo.findData(current)))
        has = bool(self.settings.nodes)
        self.find_button.setEnabled(has)
        if not has:
            self.status.setText(self.tr("No remote node yet: add one with Network ▸ Nodes… (Ctrl+Shift+N)."))

    def node(self):
        name = self.node_combo.currentData()
        return self.settings.node(name) if name else None

    # --- filters -----------------------------------------------------------------------------------------------
    def _on_preset(self, _i: int) -> None:
        custom = self.date_preset.currentData() == "range"
        self.date_from.setEnabled(custom)
        self.date_to.setEnabled(custom)

    def filters(self) -> dict[str, str]:
        f: dict[str, str] = {}
        if self.name.text().strip():
            name = self.name.text().strip()
            f["PatientName"] = name if any(c in name for c in "*?") else name + "*"
        if self.patient_id.text().strip():
            f["PatientID"] = self.patient_id.text().strip()
        if self.accession.text().strip():
            f["AccessionNumber"] = self.accession.text().strip()
        if self.description.text().strip():
            f["StudyDescription"] = self.description.text().strip()
        if self.modality.text().strip():
            f["ModalitiesInStudy"] = self.modality.text().strip().upper()
        preset = self.date_preset.currentData()
        today = dt.date.today()
        fmt = "%Y%m%d"
        if preset == "today":
            f["StudyDate"] = today.strftime(fmt)
        elif preset == "yesterday":
            f["StudyDate"] = (today - dt.timedelta(days=1)).strftime(fmt)
        elif preset == "7days":
            f["StudyDate"] = (today - dt.timedelta(days=6)).strftime(fmt) + "-"
        elif preset == "30days":
            f["StudyDate"] = (today - dt.timedelta(days=29)).strftime(fmt) + "-"
        elif preset == "range":
            f["StudyDate"] = (self.date_from.date().toString("yyyyMMdd") + "-"
                              + self.date_to.date().toString("yyyyMMdd"))
        return f

    # --- find --------------------------------------------------------------------------------------------------
    def find(self) -> Job | None:
        node = self.node()
        if node is None:
            self.status.setText(self.tr("Choose a node first (Network ▸ Nodes… to add one)."))
            return None
        if self.find_job is not None and self.find_job.is_active:
            self.find_job.cancel()
        flt = self.filters()
        self.status.setText(self.tr("Searching %s…") % node.name)
        self.find_button.setEnabled(False)
        job = Job("find", self.tr("Find studies on %s") % node.name, find_studies, self.settings, node, flt)
        job.succeeded.connect(lambda rows, j=job: self._on_found(j, rows))
        job.failed.connect(lambda exc, j=job: self._on_find_failed(j, exc))
        job.ended.connect(lambda: self.find_button.setEnabled(True))
        self.find_job = job
        self.jobs.submit(job)
        return job

    def _on_found(self, job: Job, rows: list[dict[str, Any]]) -> None:
        if job is not self.find_job:
            return
        job.message = self.tr("%n study(ies) found", "", len(rows))
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        local = self._local_studies([r.get("StudyInstanceUID", "") for r in rows])
        for row in rows:
            uid = row.get("StudyInstanceUID") or ""
            n = row.get("NumberOfStudyRelatedInstances")
            item = QtWidgets.QTreeWidgetItem([
                format_name(row.get("PatientName")), str(row.get("PatientID") or ""),
                format_da(row.get("StudyDate")), ", ".join(row.get("ModalitiesInStudy") or []),
                str(row.get("StudyDescription") or ""), str(row.get("AccessionNumber") or ""),
                "" if n is None else str(n), "", ""])
            item.setData(0, UID_ROLE, uid)
            item.setData(0, ROW_ROLE, row)
            item.setData(0, LEVEL_ROLE, "study")
            item.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.ShowIndicator)
            self._mark_local(item, local.get(uid))
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(True)
        self.status.setText(self.tr("%n study(ies) found on %1", "", len(rows)).replace("%1", self.node().name
                                                                                         if self.node() else ""))
        self.findDone.emit(len(rows))

    def _on_find_failed(self, job: Job, exc: BaseException) -> None:
        if job is not self.find_job:
            return
        if job.state == CANCELLED:
            self.status.setText(self.tr("Search cancelled."))
            return
        self.status.setText(self.tr("Search failed: %s") % exc)
        self.errorRaised.emit(self.tr("Query failed"), str(exc), exc)
        self.findDone.emit(-1)

    def _local_studies(self, uids: list[str]) -> dict[str, int]:
        """{study uid: local instance count} for those already in the archive."""
        uids = [u for u in uids if u]
        out: dict[str, int] = {}
        for start in range(0, len(uids), 200):
            chunk = uids[start:start + 200]
            for r in self.archive.query("study", {"StudyInstanceUID": "\\".join(chunk)}):
                out[r["StudyInstanceUID"]] = int(r.get("NumberOfStudyRelatedInstances") or 0)
        return out

    def _mark_local(self, item: QtWidgets.QTreeWidgetItem, count: int | None) -> None:
        if count:
            item.setText(COL_LOCAL, "✔ %d" % count)
            item.setToolTip(COL_LOCAL, self.tr("%n instance(s) already in the local archive", "", count))
            for c in range(COL_LOCAL):
                item.setForeground(c, QtGui.QBrush(QtGui.QColor(120, 120, 120)))
        else:
            item.setText(COL_LOCAL, "")

    def refresh_local_marks(self) -> None:
        items = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        local = self._local_studies([it.data(0, UID_ROLE) for it in items])
        for it in items:
            self._mark_local(it, local.get(it.data(0, UID_ROLE)))

    def _on_expand(self, item: QtWidgets.QTreeWidgetItem) -> None:
        if item.data(0, LEVEL_ROLE) != "study" or item.childCount():
            return
        node = self.node()
        if node is None:
            return
        uid = item.data(0, UID_ROLE)
        who = " ".join(t for t in (item.text(0), item.text(2), item.text(4)) if t)
        job = Job("find", self.tr("Find series of %s on %s") % (who, node.name), find_series, self.settings, node,
                  uid)
        job.succeeded.connect(lambda rows, it=item: self._on_series(it, rows))
        job.failed.connect(lambda exc: self.status.setText(self.tr("Series search failed: %s") % exc))
        self.jobs.submit(job)

    def _on_series(self, item: QtWidgets.QTreeWidgetItem, rows: list[dict[str, Any]]) -> None:
        try:
            item.childCount()
        except RuntimeError:
            return  # the tree was cleared meanwhile
        for row in sorted(rows, key=lambda r: (r.get("SeriesNumber") is None, r.get("SeriesNumber") or 0)):
            n = row.get("NumberOfSeriesRelatedInstances")
            child = QtWidgets.QTreeWidgetItem([
                f"{row.get('Modality') or ''} #{row.get('SeriesNumber') if row.get('SeriesNumber') is not None else ''}",
                "", "", str(row.get("Modality") or ""), str(row.get("SeriesDescription") or ""), "",
                "" if n is None else str(n), "", ""])
            child.setData(0, UID_ROLE, row.get("SeriesInstanceUID"))
            child.setData(0, ROW_ROLE, row)
            child.setData(0, LEVEL_ROLE, "series")
            item.addChild(child)
        if not rows:
            item.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.DontShowIndicator)

    # --- retrieve ----------------------------------------------------------------------------------------------
    def selected_targets(self) -> list[tuple[QtWidgets.QTreeWidgetItem, str, str | None]]:
        """(item, study uid, series uid or None) for the selection; a study covers its selected series."""
        out = []
        studies = set()
        for item in self.tree.selectedItems():
            if item.data(0, LEVEL_ROLE) == "study":
                studies.add(item.data(0, UID_ROLE))
                out.append((item, item.data(0, UID_ROLE), None))
        for item in self.tree.selectedItems():
            if item.data(0, LEVEL_ROLE) == "series":
                parent = item.parent()
                study_uid = parent.data(0, UID_ROLE)
                if study_uid not in studies:
                    out.append((item, study_uid, item.data(0, UID_ROLE)))
        return out

    def retrieve_selected(self) -> list[Job]:
        node = self.node()
        targets = self.selected_targets()
        if node is None or not targets:
            self.status.setText(self.tr("Select one or more studies or series to retrieve."))
            return []
        method = self.method_combo.currentData() or node.method or "move"
        jobs = []
        for item, study_uid, series_uid in targets:
            key = series_uid or study_uid
            running = self.retrieve_jobs.get(key)
            if running is not None and running.is_active:
                continue
            what = self.tr("series") if series_uid else self.tr("study")
            desc = " ".join(t for t in (item.text(0) if not series_uid else item.parent().text(0),
                                        item.text(2) if not series_uid else "", item.text(4)) if t)
            job = Job("retrieve", self.tr("Retrieve %s %s from %s (C-%s)") % (what, desc, node.name, method.upper()),
                      retrieve_one, self.settings, node, self.archive, study_uid, series_uid, method,
                      summarize=summarize_retrieve)
            job.progressed.connect(lambda p, it=item: self._set_item_status(it, self._progress_text(p)))
            job.ended.connect(lambda j=job, it=item: self._on_retrieved(j, it))
            self.retrieve_jobs[key] = job
            self._set_item_status(item, self.tr("waiting…"))
            self.jobs.submit(job)
            jobs.append(job)
        self.status.setText(self.tr("%n retrieve(s) started; see the Activity panel.", "", len(jobs)))
        return jobs

    @staticmethod
    def _progress_text(p: Any) -> str:
        if p.total:
            return f"{p.done}/{p.total}" + (f" ({p.failed} failed)" if p.failed else "")
        return p.message or "…"

    def _set_item_status(self, item: QtWidgets.QTreeWidgetItem, text: str) -> None:
        try:
            item.setText(COL_STATUS, text)
        except RuntimeError:
            pass

    def _on_retrieved(self, job: Job, item: QtWidgets.QTreeWidgetItem) -> None:
        if job.state == DONE:
            self._set_item_status(item, self.tr("✔ done"))
        elif job.state == CANCELLED:
            self._set_item_status(item, self.tr("cancelled"))
        else:
            self._set_item_status(item, self.tr("✘ %s") % job.state)
            self.status.setText(job.message)
        try:
            self.refresh_local_marks()
        except Exception:  # noqa: BLE001 - marks are cosmetic
            pass
        self.retrieved.emit(job)
