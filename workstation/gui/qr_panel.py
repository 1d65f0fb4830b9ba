"""Query/Retrieve: find studies on one or several remote nodes, expand them to series, retrieve by C-MOVE or C-GET.

Every network call is a job (one find per chosen node, all running at once; series find; one retrieve per selected
study or series) so the Activity panel shows it; results come back by signals and are merged into one list with a
Node column. A retrieve goes to the node its row came from. A node that fails gets a red row saying why; the other
nodes' results stay. Studies already in the local archive are marked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import isValid
from superqt.utils import create_worker

from workstation.config import Settings
from workstation.gui.core_text import core_text
from workstation.gui.common import format_da, format_name, keep_while_running, use_sort_arrows
from workstation.gui.jobs import CANCELLED, DONE, FAILED, PARTIAL, Job, JobManager
from workstation.gui.node_chooser import NodeChooser

Qt = QtCore.Qt
STUDY_HEADERS = [
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Patient name"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Patient ID"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Study date"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Modalities"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Description"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Accession"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Images"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Node"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Local"),
    QtCore.QT_TRANSLATE_NOOP("QueryRetrievePanel", "Retrieve")]
UID_ROLE = Qt.UserRole + 1
ROW_ROLE = Qt.UserRole + 2
LEVEL_ROLE = Qt.UserRole + 3
NODE_ROLE = Qt.UserRole + 4
COL_IMAGES, COL_NODE, COL_LOCAL, COL_STATUS = 6, 7, 8, 9


def find_studies(settings: Settings, node: Any, filters: dict[str, str], *, progress=None, cancel=None):
    from workstation.net.scu.client import find

    return find(settings, node, "study", filters, progress=progress, cancel=cancel)


class FoundStudies(list):
    """A find job's result: the study rows, plus ``local`` -- {study uid: instances already in the local archive},
    looked up in the same worker (no SQLite on the GUI thread)."""

    local: dict[str, int]


def local_studies(archive: Any, uids: list[str]) -> dict[str, int]:
    """{study uid: local instance count} for those of ``uids`` already in the archive (worker)."""
    uids = [u for u in uids if u]
    out: dict[str, int] = {}
    for start in range(0, len(uids), 200):
        chunk = uids[start:start + 200]
        for r in archive.query("study", {"StudyInstanceUID": "\\".join(chunk)}):
            out[r["StudyInstanceUID"]] = int(r.get("NumberOfStudyRelatedInstances") or 0)
    return out


def find_studies_marked(settings: Settings, node: Any, filters: dict[str, str], archive: Any, *, progress=None,
                        cancel=None) -> FoundStudies:
    """:func:`find_studies`, and which of the studies found are already local."""
    rows = FoundStudies(find_studies(settings, node, filters, progress=progress, cancel=cancel))
    rows.local = local_studies(archive, [r.get("StudyInstanceUID", "") for r in rows]) if archive is not None else {}
    return rows


def find_series(settings: Settings, node: Any, study_uid: str, *, progress=None, cancel=None):
    from workstation.net.scu.client import find

    return find(settings, node, "series", {"StudyInstanceUID": study_uid}, progress=progress, cancel=cancel)


def retrieve_one(settings: Settings, node: Any, archive: Any, study_uid: str, series_uid: str | None,
                 method: str, *, progress=None, cancel=None):
    from workstation.net.scu.retrieve import retrieve

    # C-GET goes into the archive through the retrieve's batched durability (each batch synced, then indexed;
    # the job ends after the last one); C-MOVE arrives through our Store SCP.
    return retrieve(settings, node, study_uid=study_uid, series_uid=series_uid, method=method,
                    archive=archive if method == "get" else None, source=f"C-GET from {node.ae_title}",
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
    localMarked = QtCore.Signal()  # the "already local" marks were refreshed (after a retrieve)

    def __init__(self, settings: Settings, archive: Any, jobs: JobManager, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.archive = archive
        self.jobs = jobs
        self.node_combo = NodeChooser(self)
        self.node_combo.setObjectName("qr_node")
        self.node_combo.setToolTip(self.tr("The node(s) to search: tick one or several; they are searched at once"))
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
        row1.addWidget(QtWidgets.QLabel(self.tr("Nodes")))
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
        self.tree.sortByColumn(2, Qt.DescendingOrder)  # study date, newest first
        use_sort_arrows(self.tree.header())
        self.tree.setUniformRowHeights(True)
        for i, w in enumerate((180, 100, 90, 80, 200, 100, 60, 130, 90)):  # Local: room for "◐ 120/340"
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
        self.find_job: Job | None = None  # the last find started (tests; one node's)
        self.find_jobs: dict[str, Job] = {}  # node name -> find job of the current search
        self._find_seq = 0
        self._mark_workers: set = set()
        self._find_outcome: dict[str, str] = {}  # node name -> "n found" / "failed: ..." of the current search
        self._found_total = 0
        self.retrieve_jobs: dict[tuple[str, str], Job] = {}
        self.reload_nodes()

    # --- nodes -------------------------------------------------------------------------------------------------
    def reload_nodes(self, select: str | list[str] | tuple[str, ...] = "") -> None:
        """Refill the node list (settings changed). ``select``: node name(s) to tick; default: keep the ticks,
        or the first node when none is ticked."""
        if isinstance(select, str):
            wanted = [select] if select else self.node_combo.checked_names()
        else:
            wanted = list(select) or self.node_combo.checked_names()
        self.node_combo.clear()
        for n in self.settings.nodes:
            self.node_combo.add_node(f"{n.name} ({n.ae_title}@{n.host}:{n.port})", n.name)
        names = self.node_combo.names()
        wanted = [w for w in wanted if w in names] or names[:1]
        self.node_combo.set_checked(wanted)
        if wanted:
            self.node_combo.setCurrentIndex(self.node_combo.findData(wanted[0]))
        has = bool(self.settings.nodes)
        self.find_button.setEnabled(has)
        no_node = self.tr("No remote node yet: add one with Network ▸ Nodes… (Ctrl+Shift+N).")
        if not has:
            self.status.setText(no_node)
        elif self.status.text() == no_node:
            # The hint outlived the node added since: it told the user to do what was just done.
            self.status.setText(self.tr("Enter what to look for and press Find (Enter)."))

    def nodes(self) -> list[Any]:
        """The ticked nodes, in settings order."""
        out = []
        for name in self.node_combo.checked_names():
            node = self.settings.node(name)
            if node is not None:
                out.append(node)
        return out

    def node(self):
        """The first ticked node (None if none)."""
        nodes = self.nodes()
        return nodes[0] if nodes else None

    def set_nodes(self, names) -> None:
        self.node_combo.set_checked(names)

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
    def find(self) -> list[Job] | None:
        """Search every ticked node at once (one job each); results merge as they come."""
        nodes = self.nodes()
        if not nodes:
            self.status.setText(self.tr("Choose a node first (Network ▸ Nodes… to add one)."))
            return None
        for job in self.find_jobs.values():
            if job.is_active:
                job.cancel()
        self._find_seq += 1
        seq = self._find_seq
        flt = self.filters()
        self.tree.clear()
        self.find_jobs = {}
        self._find_outcome = {n.name: "" for n in nodes}
        self._found_total = 0
        self.status.setText(self.tr("Searching %s…") % ", ".join(n.name for n in nodes))
        self.find_button.setEnabled(False)
        jobs = []
        for node in nodes:
            job = Job("find", self.tr("Find studies on %s") % node.name, find_studies_marked, self.settings, node, flt,
                      self.archive)
            job.succeeded.connect(lambda rows, j=job, n=node, s=seq: self._on_found(s, j, n, rows))
            job.failed.connect(lambda exc, j=job, n=node, s=seq: self._on_find_failed(s, j, n, exc))
            self.find_jobs[node.name] = job
            self.find_job = job
            jobs.append(job)
        for job in jobs:
            self.jobs.submit(job)
        return jobs

    def _on_found(self, seq: int, job: Job, node: Any, rows: list[dict[str, Any]]) -> None:
        if seq != self._find_seq:
            return
        job.message = self.tr("%n study(ies) found", "", len(rows))
        self._find_outcome[node.name] = self.tr("%n found", "", len(rows))
        self._found_total += len(rows)
        sorting = self.tree.isSortingEnabled()
        self.tree.setSortingEnabled(False)
        local = getattr(rows, "local", None)
        if local is None:
            local = self._local_studies([r.get("StudyInstanceUID", "") for r in rows])
        for row in rows:
            uid = row.get("StudyInstanceUID") or ""
            n = row.get("NumberOfStudyRelatedInstances")
            item = QtWidgets.QTreeWidgetItem([
                format_name(row.get("PatientName")), str(row.get("PatientID") or ""),
                format_da(row.get("StudyDate")), ", ".join(row.get("ModalitiesInStudy") or []),
                str(row.get("StudyDescription") or ""), str(row.get("AccessionNumber") or ""),
                "" if n is None else str(n), node.name, "", ""])
            item.setData(0, UID_ROLE, uid)
            item.setData(0, ROW_ROLE, row)
            item.setData(0, LEVEL_ROLE, "study")
            item.setData(0, NODE_ROLE, node.name)
            item.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.ShowIndicator)
            self._mark_local(item, local.get(uid))
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(sorting)
        self._find_progress()

    def _on_find_failed(self, seq: int, job: Job, node: Any, exc: BaseException) -> None:
        if seq != self._find_seq:
            return
        if job.state == CANCELLED:
            self._find_outcome[node.name] = self.tr("cancelled")
        else:
            self._find_outcome[node.name] = self.tr("failed: %s") % exc
            # A row in the list itself, so one node's failure is seen next to the others' results.
            item = QtWidgets.QTreeWidgetItem([self.tr("⚠ %s: search failed: %s") % (node.name, exc)] + [""] * 6
                                             + [node.name, "", ""])
            item.setData(0, LEVEL_ROLE, "error")
            item.setData(0, NODE_ROLE, node.name)
            item.setFlags(Qt.ItemIsEnabled)
            item.setToolTip(0, core_text(exc))
            red = QtGui.QBrush(QtGui.QColor(200, 40, 40))
            for c in range(len(STUDY_HEADERS)):
                item.setForeground(c, red)
            self.tree.addTopLevelItem(item)
            item.setFirstColumnSpanned(True)
        self._find_progress()

    def _find_progress(self) -> None:
        """Status line after each node answers; ``findDone`` once all have (-1 if every node failed)."""
        outcome = self._find_outcome
        searching = self.tr("searching…")  # outside the f-string: lupdate does not look inside one
        parts = [f"{name}: {text or searching}" for name, text in outcome.items()]
        if len(outcome) == 1:
            name, text = next(iter(outcome.items()))
            if text.startswith(self.tr("failed")):
                self.status.setText(self.tr("Search failed: %s") % text.split(": ", 1)[-1])
            elif text == self.tr("cancelled"):
                self.status.setText(self.tr("Search cancelled."))
            else:
                self.status.setText(self.tr("%n study(ies) found on %1", "", self._found_total).replace("%1", name))
        else:
            self.status.setText(self.tr("%n study(ies) found", "", self._found_total) + " — " + "; ".join(parts))
        if any(not t for t in outcome.values()):
            return
        self.find_button.setEnabled(bool(self.settings.nodes))
        failed = [n for n, t in outcome.items() if t.startswith(self.tr("failed"))]
        if failed and len(failed) == len(outcome):
            job = self.find_jobs.get(failed[0])
            exc = job.error if job is not None else None
            self.errorRaised.emit(self.tr("Query failed"), "; ".join(f"{n}: {core_text(outcome[n])}" for n in failed)
                                  if len(failed) > 1 else str(exc), exc)
            self.findDone.emit(-1)
        elif all(t == self.tr("cancelled") for t in outcome.values()):
            return
        else:
            self.findDone.emit(self._found_total)

    def _local_studies(self, uids: list[str]) -> dict[str, int]:
        """{study uid: local instance count} for those already in the archive (synchronous; tests)."""
        return local_studies(self.archive, uids)

    def _mark_local(self, item: QtWidgets.QTreeWidgetItem, count: int | None) -> None:
        """Mark a study found that is local: greyed with a tick when every image the node has is here, but a
        study only partly here (an interrupted retrieve, a series sent alone) says how much, in amber and not
        greyed, so it is not taken for complete."""
        row = item.data(0, ROW_ROLE) or {}
        remote = row.get("NumberOfStudyRelatedInstances")
        try:
            remote = int(remote) if remote not in (None, "") else None
        except (TypeError, ValueError):
            remote = None
        plain = QtGui.QBrush()
        if count and remote is not None and count >= remote:
            item.setText(COL_LOCAL, "✔ %d" % count)
            item.setToolTip(COL_LOCAL, self.tr("%n instance(s) already in the local archive", "", count))
            item.setForeground(COL_LOCAL, plain)
            for c in range(COL_LOCAL):
                item.setForeground(c, QtGui.QBrush(QtGui.QColor(120, 120, 120)))
        elif count:
            if remote is None:  # the node gave no count: what is here, without claiming it is all
                item.setText(COL_LOCAL, self.tr("local %1").replace("%1", str(count)))
                item.setToolTip(COL_LOCAL, self.tr("%n instance(s) in the local archive; the node did not say how "
                                                   "many the study has", "", count))
            else:
                item.setText(COL_LOCAL, self.tr("◐ %1/%2").replace("%1", str(count)).replace("%2", str(remote)))
                item.setToolTip(COL_LOCAL, self.tr("Only %1 of the %n image(s) of this study are in the local "
                                                   "archive", "", remote).replace("%1", str(count)))
            item.setForeground(COL_LOCAL, QtGui.QBrush(QtGui.QColor(200, 130, 20)))
            for c in range(COL_LOCAL):
                item.setForeground(c, plain)
        else:
            item.setText(COL_LOCAL, "")
            item.setToolTip(COL_LOCAL, "")

    def refresh_local_marks(self) -> None:
        """Re-mark the studies listed that are local (after a retrieve): the archive is asked in a worker."""
        items = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        uids = [it.data(0, UID_ROLE) for it in items if it.data(0, LEVEL_ROLE) == "study"]
        if not uids:
            return
        seq = self._find_seq
        worker = create_worker(local_studies, self.archive, uids, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda local, s=seq: self._apply_local_marks(s, local))
        keep_while_running(worker, self._mark_workers)

    def _apply_local_marks(self, seq: int, local: dict[str, int]) -> None:
        if not isValid(self) or seq != self._find_seq:
            return  # a new find replaced the list
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, LEVEL_ROLE) == "study":
                self._mark_local(it, local.get(it.data(0, UID_ROLE)))
        self.localMarked.emit()

    def _on_expand(self, item: QtWidgets.QTreeWidgetItem) -> None:
        if item.data(0, LEVEL_ROLE) != "study" or item.childCount():
            return
        node = self.settings.node(item.data(0, NODE_ROLE) or "")
        if node is None:
            return
        uid = item.data(0, UID_ROLE)
        who = " ".join(t for t in (item.text(0), item.text(2), item.text(4)) if t)
        # Our own line: the client's progress text ("1 matches") was left as the job's result.
        job = Job("find", self.tr("Find series of %s on %s") % (who, node.name), find_series, self.settings, node,
                  uid, summarize=lambda rows: (DONE, self.tr("%n series found", "", len(rows))))
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
                "" if n is None else str(n), item.data(0, NODE_ROLE) or "", "", ""])
            child.setData(0, UID_ROLE, row.get("SeriesInstanceUID"))
            child.setData(0, NODE_ROLE, item.data(0, NODE_ROLE))
            child.setData(0, ROW_ROLE, row)
            child.setData(0, LEVEL_ROLE, "series")
            item.addChild(child)
        if not rows:
            item.setChildIndicatorPolicy(QtWidgets.QTreeWidgetItem.DontShowIndicator)

    # --- retrieve ----------------------------------------------------------------------------------------------
    def selected_targets(self) -> list[tuple[QtWidgets.QTreeWidgetItem, str, str | None]]:
        """(item, study uid, series uid or None) for the selection; a study covers its selected series.
        Each item's node is ``item.data(0, NODE_ROLE)``: the node it was found on."""
        out = []
        studies = set()
        for item in self.tree.selectedItems():
            if item.data(0, LEVEL_ROLE) == "study":
                studies.add((item.data(0, NODE_ROLE), item.data(0, UID_ROLE)))
                out.append((item, item.data(0, UID_ROLE), None))
        for item in self.tree.selectedItems():
            if item.data(0, LEVEL_ROLE) == "series":
                parent = item.parent()
                study_uid = parent.data(0, UID_ROLE)
                if (parent.data(0, NODE_ROLE), study_uid) not in studies:
                    out.append((item, study_uid, item.data(0, UID_ROLE)))
        return out

    def retrieve_selected(self) -> list[Job]:
        targets = self.selected_targets()
        if not targets:
            self.status.setText(self.tr("Select one or more studies or series to retrieve."))
            return []
        jobs = []
        missing = set()
        # The same study found on two nodes, or a study and one of its series, is retrieved once: the first
        # selected row wins (a study covers its series); a retrieve of it already running counts too.
        studies = {study_uid for _item, study_uid, series_uid in targets if not series_uid}
        taken: dict[str, str] = {uid: key[0] for key, job in self.retrieve_jobs.items() if job.is_active
                                 for uid in (key[1],)}
        for item, study_uid, series_uid in targets:
            uid = series_uid or study_uid
            if series_uid and study_uid in studies:
                self._set_item_status(item, self.tr("with its study"))
                continue
            if uid in taken and taken[uid] != (item.data(0, NODE_ROLE) or ""):
                self._set_item_status(item, self.tr("from %s") % taken[uid])
                continue
            taken.setdefault(uid, item.data(0, NODE_ROLE) or "")
            node_name = item.data(0, NODE_ROLE) or ""
            node = self.settings.node(node_name)
            if node is None:
                missing.add(node_name)
                self._set_item_status(item, self.tr("✘ node removed"))
                continue
            method = self.method_combo.currentData() or node.method or "move"
            key = (node.name, series_uid or study_uid)
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
        text = self.tr("%n retrieve(s) started; see the Activity panel.", "", len(jobs))
        if missing:
            text += " " + self.tr("Node(s) no longer configured: %s") % ", ".join(sorted(missing))
        self.status.setText(text)
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
