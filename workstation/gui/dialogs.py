"""Dialogs: remote nodes (with Echo), settings, pick a node to send to, import report, send/export report, tags."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Callable

from PySide6 import QtCore, QtWidgets

from workstation.gui.core_text import core_text
from superqt.utils import create_worker

from workstation.config import Node, Settings, SettingsError

Qt = QtCore.Qt


class NodesDialog(QtWidgets.QDialog):
    """Add, edit and remove remote nodes; Echo shows the result and the round-trip time.

    Changes are written to the settings (and saved) when the user presses Save; ``nodesChanged`` then fires.
    """

    nodesChanged = QtCore.Signal()
    echoFinished = QtCore.Signal(bool, str)  # ok, text (tests)

    def __init__(self, settings: Settings, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("DICOM nodes"))
        self.setObjectName("nodes_dialog")
        self.settings = settings
        self.nodes: list[Node] = [copy.copy(n) for n in settings.nodes]
        self.list = QtWidgets.QListWidget(self)
        self.list.setObjectName("node_list")
        self.name = QtWidgets.QLineEdit(self)
        self.ae = QtWidgets.QLineEdit(self)
        self.ae.setMaxLength(16)
        self.host = QtWidgets.QLineEdit(self)
        self.port = QtWidgets.QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(104)
        self.method = QtWidgets.QComboBox(self)
        self.method.addItem(self.tr("C-MOVE (node sends to our listener)"), "move")
        self.method.addItem(self.tr("C-GET (same association)"), "get")
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Name"), self.name)
        form.addRow(self.tr("AE title"), self.ae)
        form.addRow(self.tr("Host"), self.host)
        form.addRow(self.tr("Port"), self.port)
        form.addRow(self.tr("Retrieve by"), self.method)
        self.search_priors = QtWidgets.QCheckBox(self.tr("Search this node for the patient's prior studies"), self)
        self.fetch_priors = QtWidgets.QCheckBox(self.tr("Retrieve relevant priors automatically"), self)
        self.fetch_priors.toggled.connect(lambda on: on and self.search_priors.setChecked(True))
        self.search_priors.toggled.connect(lambda on: on or self.fetch_priors.setChecked(False))
        form.addRow(self.tr("Priors"), self.search_priors)
        form.addRow("", self.fetch_priors)
        self.add_button = QtWidgets.QPushButton(self.tr("Add"), self)
        self.update_button = QtWidgets.QPushButton(self.tr("Update"), self)
        self.remove_button = QtWidgets.QPushButton(self.tr("Remove"), self)
        self.echo_button = QtWidgets.QPushButton(self.tr("Echo"), self)
        self.echo_result = QtWidgets.QLabel(self)
        self.echo_result.setObjectName("echo_result")
        self.echo_result.setWordWrap(True)
        self.error = QtWidgets.QLabel(self)
        self.error.setStyleSheet("color: #c33")
        self.error.setWordWrap(True)
        row = QtWidgets.QHBoxLayout()
        for b in (self.add_button, self.update_button, self.remove_button, self.echo_button):
            row.addWidget(b)
        right = QtWidgets.QVBoxLayout()
        right.addLayout(form)
        right.addLayout(row)
        right.addWidget(self.echo_result)
        right.addWidget(self.error)
        right.addStretch(1)
        top = QtWidgets.QHBoxLayout()
        # Wide enough for "name — AET@host:port" of a typical node: at 1:2 the address was cut off.
        typical = "orthanc  —  ORTHANC@192.168.100.100:11112"
        self.list.setMinimumWidth(self.list.fontMetrics().horizontalAdvance(typical) + 2 * self.list.frameWidth() + 16)
        top.addWidget(self.list, 2)
        top.addLayout(right, 3)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Save | QtWidgets.QDialogButtonBox.Cancel,
                                             parent=self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(buttons)
        self.add_button.clicked.connect(self.add_node)
        self.update_button.clicked.connect(self.update_node)
        self.remove_button.clicked.connect(self.remove_node)
        self.echo_button.clicked.connect(self.echo)
        self.list.currentRowChanged.connect(self._show)
        self._worker = None
        self._fill()
        self.resize(780, 340)

    def _fill(self, select: int = 0) -> None:
        self.list.clear()
        for n in self.nodes:
            self.list.addItem(f"{n.name}  —  {n.ae_title}@{n.host}:{n.port}")
            self.list.item(self.list.count() - 1).setToolTip(f"{n.name}: {n.ae_title}@{n.host}:{n.port}")
        if self.nodes:
            self.list.setCurrentRow(min(select, len(self.nodes) - 1))

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.nodes):
            n = self.nodes[row]
            self.name.setText(n.name)
            self.ae.setText(n.ae_title)
            self.host.setText(n.host)
            self.port.setValue(int(n.port))
            self.method.setCurrentIndex(max(0, self.method.findData(n.method)))
            self.search_priors.setChecked(bool(n.search_priors))
            self.fetch_priors.setChecked(bool(n.fetch_priors))
        self.echo_result.clear()

    def _form_node(self) -> Node | None:
        node = Node(self.name.text().strip(), self.ae.text().strip(), self.host.text().strip(), self.port.value(),
                    self.method.currentData(), search_priors=self.search_priors.isChecked(),
                    fetch_priors=self.fetch_priors.isChecked())
        try:
            node.validate()
        except SettingsError as exc:
            self.error.setText(core_text(exc))
            return None
        self.error.clear()
        return node

    def add_node(self) -> None:
        node = self._form_node()
        if node is None:
            return
        if any(n.name == node.name for n in self.nodes):
            self.error.setText(self.tr("A node named %s already exists; use Update.") % node.name)
            return
        self.nodes.append(node)
        self._fill(len(self.nodes) - 1)

    def update_node(self) -> None:
        row = self.list.currentRow()
        node = self._form_node()
        if node is None or row < 0:
            return
        if any(n.name == node.name for i, n in enumerate(self.nodes) if i != row):
            self.error.setText(self.tr("Another node is named %s.") % node.name)
            return
        self.nodes[row] = node
        self._fill(row)

    def remove_node(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.nodes):
            del self.nodes[row]
            self._fill(row)

    def echo(self) -> None:
        """C-ECHO the node in the form (saved or not) in a worker."""
        node = self._form_node()
        if node is None:
            return
        from workstation.net.scu.client import echo

        self.echo_button.setEnabled(False)
        self.echo_result.setText(self.tr("Echoing %s…") % f"{node.ae_title}@{node.host}:{node.port}")
        worker = create_worker(echo, self.settings, node, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._echo_ok)
        worker.errored.connect(self._echo_failed)
        worker.finished.connect(lambda: self.echo_button.setEnabled(True))
        self._worker = worker
        worker.start()

    def _echo_ok(self, seconds: float) -> None:
        text = self.tr("Echo OK — round trip %.0f ms") % (seconds * 1000)
        self.echo_result.setText("✔ " + text)
        self.echo_result.setStyleSheet("color: #2a2")
        self.echoFinished.emit(True, text)

    def _echo_failed(self, exc: Exception) -> None:
        text = self.tr("Echo failed: %s") % exc
        self.echo_result.setText("✘ " + text)
        self.echo_result.setStyleSheet("color: #c33")
        self.echoFinished.emit(False, text)

    def save(self) -> None:
        old = self.settings.nodes
        self.settings.nodes = [copy.copy(n) for n in self.nodes]
        try:
            self.settings.validate()
            self.settings.save()
        except (SettingsError, OSError) as exc:
            self.settings.nodes = old
            self.error.setText(core_text(exc))
            return
        self.nodesChanged.emit()
        self.accept()


LISTENER_KEYS = ("ae_title", "port", "bind", "accepted_transfer_syntaxes", "allow_store_from_unknown",
                 "allow_query_from_unknown", "check_node_host", "require_called_ae_title", "max_associations")


class SettingsDialog(QtWidgets.QDialog):
    """Local node, storage and security settings. ``applied(changed_keys)`` after a successful save."""

    applied = QtCore.Signal(set)

    def __init__(self, settings: Settings, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.setObjectName("settings_dialog")
        self.settings = settings
        s = settings
        self.ae = QtWidgets.QLineEdit(s.ae_title, self)
        self.ae.setMaxLength(16)
        self.port = QtWidgets.QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(int(s.port))
        self.bind = QtWidgets.QLineEdit(s.bind, self)
        self.storage = QtWidgets.QLineEdit(str(s.data_dir), self)
        self.storage.setReadOnly(True)
        self.storage.setToolTip(self.tr("The archive folder is chosen when the program starts (--data-dir)."))
        self.mode = QtWidgets.QComboBox(self)
        self.mode.addItem(self.tr("Copy into the archive"), "copy")
        self.mode.addItem(self.tr("Link (index files where they are)"), "link")
        self.mode.setCurrentIndex(max(0, self.mode.findData(s.import_mode)))
        self.duplicates = QtWidgets.QComboBox(self)
        self.duplicates.addItem(self.tr("Keep the stored copy"), "keep")
        self.duplicates.addItem(self.tr("Overwrite with the new copy"), "overwrite")
        self.duplicates.setCurrentIndex(max(0, self.duplicates.findData(s.duplicate_policy)))
        self.syntaxes = QtWidgets.QLineEdit(", ".join(s.accepted_transfer_syntaxes), self)
        self.syntaxes.setPlaceholderText(self.tr("empty: every syntax we can decode"))
        self.store_unknown = QtWidgets.QCheckBox(self.tr("Accept C-STORE from unknown nodes"), self)
        self.store_unknown.setChecked(s.allow_store_from_unknown)
        self.query_unknown = QtWidgets.QCheckBox(self.tr("Answer C-FIND/C-MOVE/C-GET from unknown nodes"), self)
        self.query_unknown.setChecked(s.allow_query_from_unknown)
        self.check_host = QtWidgets.QCheckBox(self.tr("Check that known nodes call from their host"), self)
        self.check_host.setChecked(s.check_node_host)
        self.called_ae = QtWidgets.QCheckBox(self.tr("Require our AE title as called AE"), self)
        self.called_ae.setChecked(s.require_called_ae_title)
        self.memory = QtWidgets.QSpinBox(self)
        self.memory.setRange(1, 90)
        self.memory.setSuffix(" %")
        self.memory.setValue(int(round(s.memory_budget_fraction * 100)))
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Local AE title"), self.ae)
        form.addRow(self.tr("Port"), self.port)
        form.addRow(self.tr("Listen on address"), self.bind)
        form.addRow(self.tr("Archive folder"), self.storage)
        form.addRow(self.tr("Import mode"), self.mode)
        form.addRow(self.tr("Duplicates"), self.duplicates)
        form.addRow(self.tr("Accepted transfer syntaxes"), self.syntaxes)
        form.addRow(self.tr("Security"), self.store_unknown)
        form.addRow("", self.query_unknown)
        form.addRow("", self.check_host)
        form.addRow("", self.called_ae)
        form.addRow(self.tr("Image memory budget (of RAM)"), self.memory)
        from workstation.gui.i18n import LANGUAGES

        self.language = QtWidgets.QComboBox(self)
        self.language.setObjectName("language")
        for code, name in LANGUAGES.items():
            self.language.addItem(self.tr(name) if not code else name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(s.language or "")))
        self.language.setToolTip(self.tr("The language of the interface; it applies at the next start"))
        form.addRow(self.tr("Language (next start)"), self.language)
        self.error = QtWidgets.QLabel(self)
        self.error.setStyleSheet("color: #c33")
        self.error.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Save | QtWidgets.QDialogButtonBox.Cancel,
                                             parent=self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {
            "ae_title": self.ae.text().strip(),
            "port": self.port.value(),
            "bind": self.bind.text().strip() or "0.0.0.0",
            "import_mode": self.mode.currentData(),
            "duplicate_policy": self.duplicates.currentData(),
            "accepted_transfer_syntaxes": [t.strip() for t in self.syntaxes.text().split(",") if t.strip()],
            "allow_store_from_unknown": self.store_unknown.isChecked(),
            "allow_query_from_unknown": self.query_unknown.isChecked(),
            "check_node_host": self.check_host.isChecked(),
            "require_called_ae_title": self.called_ae.isChecked(),
            "memory_budget_fraction": self.memory.value() / 100.0,
            "language": self.language.currentData() or "",
        }

    def save(self) -> None:
        values = self.values()
        old = {k: copy.copy(getattr(self.settings, k)) for k in values}
        changed = {k for k, v in values.items() if old[k] != v}
        for k, v in values.items():
            setattr(self.settings, k, v)
        try:
            self.settings.validate()
            self.settings.save()
        except (SettingsError, OSError) as exc:
            for k, v in old.items():
                setattr(self.settings, k, v)
            self.error.setText(core_text(exc))
            return
        self.applied.emit(changed)
        self.accept()


class NodePicker(QtWidgets.QDialog):
    """Choose a configured node (for Send to…); remembers nothing itself."""

    def __init__(self, settings: Settings, title: str, text: str, last: str = "",
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.combo = QtWidgets.QComboBox(self)
        for n in settings.nodes:
            self.combo.addItem(f"{n.name} ({n.ae_title}@{n.host}:{n.port})", n.name)
        if last:
            self.combo.setCurrentIndex(max(0, self.combo.findData(last)))
        label = QtWidgets.QLabel(text, self)
        label.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel,
                                             parent=self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(label)
        lay.addWidget(self.combo)
        lay.addWidget(buttons)

    def node_name(self) -> str:
        return self.combo.currentData() or ""


class ReportDialog(QtWidgets.QDialog):
    """A summary line and a table of problems (file/instance, reason) -- import and send reports.

    ``retry`` (optional) adds a "Retry failed" button calling it.
    """

    def __init__(self, title: str, summary: str, problems: list[tuple[str, str]],
                 parent: QtWidgets.QWidget | None = None, retry: Callable[[], None] | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("report_dialog")
        self.summary = QtWidgets.QLabel(summary, self)
        self.summary.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(len(problems), 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("File"), self.tr("Reason")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        for r, (what, why) in enumerate(problems):
            self.table.setItem(r, 0, QtWidgets.QTableWidgetItem(what))
            self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(core_text(why)))
        self.table.setColumnWidth(0, 380)
        self.table.setVisible(bool(problems))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close, parent=self)
        buttons.rejected.connect(self.reject)
        if retry is not None and problems:
            b = buttons.addButton(self.tr("Retry failed"), QtWidgets.QDialogButtonBox.ActionRole)
            b.clicked.connect(lambda: (retry(), self.accept()))
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(800, 420 if problems else 140)
        self.setAttribute(Qt.WA_DeleteOnClose)


def import_report_needed(report: Any) -> bool:
    """Whether an import's report has anything to show beyond its summary line: files rejected, skipped or
    repaired, a DICOMDIR that does not match its medium, or nothing imported at all. A clean import shows none."""
    if getattr(report, "rejected", None) or getattr(report, "skipped_files", None) or getattr(report, "repaired", None):
        return True
    for d in getattr(report, "dicomdirs", None) or []:
        if d.get("missing") or d.get("not_listed") or d.get("problems") or d.get("listed") != d.get("found"):
            return True
    return not getattr(report, "imported", 0)


class ImportReportDialog(QtWidgets.QDialog):
    """The import report: the summary, how many files were rejected / skipped / repaired, each DICOMDIR's
    reconciliation with its medium (listed, found, missing), and a table naming every such file with its reason."""

    def __init__(self, report: Any, summary: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Import finished"))
        self.setObjectName("import_summary")
        rejected = list(getattr(report, "rejected", []) or [])
        skipped = list(getattr(report, "skipped_files", []) or [])
        repaired = list(getattr(report, "repaired", []) or [])
        dicomdirs = list(getattr(report, "dicomdirs", []) or [])
        self.summary = QtWidgets.QLabel(summary, self)
        self.summary.setWordWrap(True)
        counts = []
        if rejected:
            counts.append(self.tr("%n file(s) rejected", "", len(rejected)))
        if skipped:
            counts.append(self.tr("%n file(s) skipped (not DICOM)", "", len(skipped)))
        if repaired:
            counts.append(self.tr("%n file(s) repaired on the way in", "", len(repaired)))
        self.counts = QtWidgets.QLabel("\n".join(counts), self)
        self.counts.setObjectName("import_counts")
        self.counts.setVisible(bool(counts))
        # One line per DICOMDIR: what its listing says against what the medium holds.
        lines = []
        rows: list[tuple[str, str, str]] = []
        for d in dicomdirs:
            missing = list(d.get("missing") or [])
            not_listed = list(d.get("not_listed") or [])
            line = self.tr("DICOMDIR {path}: {listed} listed, {found} found, {missing} missing").format(
                path=d.get("path", ""), listed=d.get("listed", 0), found=d.get("found", 0), missing=len(missing))
            if not_listed:
                line += "\n" + self.tr("%n file(s) on the medium not listed in it (imported too)", "",
                                         len(not_listed))
            lines.append(line)
            medium = Path(d.get("path", "")).parent
            for ref in missing:
                rows.append((str(medium / ref), self.tr("Missing"), self.tr("listed in the DICOMDIR, not on the medium")))
            for path in not_listed:
                rows.append((path, self.tr("Not listed"), self.tr("on the medium, not in its DICOMDIR; imported")))
            for problem in d.get("problems") or []:
                rows.append((d.get("path", ""), self.tr("DICOMDIR"), problem))
        self.dicomdir = QtWidgets.QLabel("\n".join(lines), self)
        self.dicomdir.setObjectName("import_dicomdir")
        self.dicomdir.setWordWrap(True)
        self.dicomdir.setVisible(bool(lines))
        rows = ([(r.get("path", ""), self.tr("Rejected"), core_text(r.get("reason", ""))) for r in rejected]
                + [(r.get("path", ""), self.tr("Skipped"), core_text(r.get("reason", ""))) for r in skipped]
                + [(r.get("path", ""), self.tr("Repaired"), r.get("repair", "")) for r in repaired]
                + rows)
        self.table = QtWidgets.QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels([self.tr("File"), self.tr("Outcome"), self.tr("Reason")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, c, item)
        self.table.setColumnWidth(0, 380)
        self.table.setColumnWidth(1, 90)
        self.table.setVisible(bool(rows))
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close, parent=self)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        for w in (self.summary, self.counts, self.dicomdir, self.table):
            lay.addWidget(w)
        lay.addWidget(buttons)
        self.resize(900, 460 if rows else 160)
        self.setAttribute(Qt.WA_DeleteOnClose)

    def rows(self) -> list[tuple[str, str, str]]:
        """The table's rows as text (file, outcome, reason)."""
        return [tuple(self.table.item(r, c).text() for c in range(3))  # type: ignore[misc]
                for r in range(self.table.rowCount())]


class TagsDialog(QtWidgets.QDialog):
    """Every tag of one instance, through the viewer's tag browser."""

    def __init__(self, path: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        from workstation.gui.viewer.tag_browser import TagBrowser

        self.setWindowTitle(self.tr("Tags — %s") % path)
        self.browser = TagBrowser(self)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.browser)
        self.resize(800, 700)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.browser.load_path(path)


def elapsed_text(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(seconds))
