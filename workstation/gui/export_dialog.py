"""Export dialog: where, in which form (folder, ZIP, DICOMDIR for a CD/USB stick), and whether to de-identify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from workstation.gui.jobs import DONE, FAILED, PARTIAL


class ExportDialog(QtWidgets.QDialog):
    FORMATS = (("folder", QtCore.QT_TRANSLATE_NOOP("ExportDialog", "Folder (Patient/Study/Series/IMnnnnn.dcm)")),
               ("zip", QtCore.QT_TRANSLATE_NOOP("ExportDialog", "ZIP archive")),
               ("dicomdir", QtCore.QT_TRANSLATE_NOOP("ExportDialog", "DICOMDIR folder (for a CD, DVD or USB stick)")))

    def __init__(self, what: str, suggested: str, start_dir: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle(self.tr("Export"))
        self.start_dir = start_dir
        form = QtWidgets.QFormLayout()
        form.addRow(QtWidgets.QLabel(what, self))
        row = QtWidgets.QHBoxLayout()
        self.destination = QtWidgets.QLineEdit(str(Path(start_dir) / suggested), self)
        self.destination.setObjectName("export_destination")
        self.destination.setMinimumWidth(420)
        browse = QtWidgets.QPushButton(self.tr("Browse…"), self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.destination)
        row.addWidget(browse)
        form.addRow(self.tr("Destination:"), row)
        self.format = QtWidgets.QComboBox(self)
        self.format.setObjectName("export_format")
        for key, label in self.FORMATS:
            self.format.addItem(self.tr(label), key)
        form.addRow(self.tr("Format:"), self.format)
        self.anonymize = QtWidgets.QCheckBox(self.tr("De-identify (names, IDs, institution, UIDs, private tags; "
                                                     "dates kept)"), self)
        self.anonymize.setObjectName("export_anonymize")
        form.addRow(self.anonymize)
        self.new_name = QtWidgets.QLineEdit("ANONYMOUS", self)
        self.new_name.setObjectName("export_new_name")
        self.new_id = QtWidgets.QLineEdit(self)
        self.new_id.setObjectName("export_new_id")
        self.new_id.setPlaceholderText(self.tr("random"))
        form.addRow(self.tr("New patient name:"), self.new_name)
        form.addRow(self.tr("New patient ID:"), self.new_id)
        self.anonymize.toggled.connect(self._sync)
        self._sync(False)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel, self)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText(self.tr("Export"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _sync(self, on: bool) -> None:
        self.new_name.setEnabled(on)
        self.new_id.setEnabled(on)

    def _browse(self) -> None:
        if self.format.currentData() == "zip":
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, self.tr("Export to ZIP"), self.destination.text(),
                                                            self.tr("ZIP archives (*.zip)"))
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, self.tr("Export into folder"), self.start_dir)
            if path and self.format.currentData() == "dicomdir":
                path = str(Path(path) / Path(self.destination.text()).name)
        if path:
            self.destination.setText(path)

    def values(self) -> dict[str, Any]:
        return {
            "destination": self.destination.text().strip(),
            "fmt": self.format.currentData(),
            "anonymize": self.anonymize.isChecked(),
            "new_name": self.new_name.text().strip() or "ANONYMOUS",
            "new_id": self.new_id.text().strip() or None,
        }


def export_items(archive: Any, selection: list[tuple[str, str]], destination: str, fmt: str, anonymize: bool,
                 new_name: str, new_id: str | None, *, progress=None, cancel=None) -> Any:
    """The job's work (on a worker thread): the core export, optionally de-identified."""
    from workstation.archive.export import export
    from workstation.dicom.anonymize import Anonymizer

    anonymizer = Anonymizer(new_name, new_id) if anonymize else None
    return export(archive, selection, destination, fmt=fmt, anonymizer=anonymizer, progress=progress,
                  cancel=cancel)


class _ExportText(QtCore.QObject):
    """Counted texts through self.tr: lupdate marks those as plural forms (not module-level translate calls)."""

    def cancelled(self, n: int) -> str:
        return self.tr("cancelled after %n instance(s)", "", n)

    def exported(self, n: int, destination: str) -> str:
        return self.tr("%n instance(s) exported to %1", "", n).replace("%1", destination)

    def failed(self, n: int) -> str:
        return self.tr("%n failed", "", n)


def summarize_export(report: Any) -> tuple[str, str]:
    text = _ExportText()
    if report.cancelled:
        return FAILED, text.cancelled(int(report.exported))
    done = text.exported(int(report.exported), str(report.destination))
    if report.failed:
        return PARTIAL, done + "; " + text.failed(len(report.failed))
    return DONE, done
