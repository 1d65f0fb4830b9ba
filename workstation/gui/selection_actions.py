"""What the main window does with the studies/series selected in the browser: send, delete, show tags, export,
reveal in the file manager (a mixin of MainWindow). Texts stay in the "MainWindow" translation context."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui import operations as ops
from workstation.gui.common import show_error
from workstation.gui.dialogs import NodePicker, ReportDialog, TagsDialog
from workstation.gui.export_dialog import ExportDialog, export_items, summarize_export
from workstation.gui.jobs import DONE, FAILED, PARTIAL, Job


class Counts(QtCore.QObject):
    """The counted nouns of a selection, as Qt plural forms. A class of their own: lupdate marks a text as plural
    only in a ``self.tr`` call, and a mixin's ``self.tr`` would run in the main window's context."""

    def studies(self, n: int) -> str:
        return self.tr("%n study(ies)", "", n)

    def series(self, n: int) -> str:
        return self.tr("%n series", "", n)

    def images(self, n: int) -> str:
        return self.tr("%n image(s)", "", n)

    def files(self, n: int) -> str:
        return self.tr("%n file(s)", "", n)

    def all_files(self, n: int) -> str:
        return self.tr("all %n file(s)", "", n)

    def deleted(self, n: int) -> str:
        return self.tr("%n instance(s) deleted", "", n)


@functools.lru_cache(maxsize=1)
def _counts() -> Counts:
    return Counts()


class SelectionActions:
    """Mixed into MainWindow; uses its ``settings``, ``archive``, ``jobs``, ``browser`` and ``_selection()``."""

    # --- send ----------------------------------------------------------------------------------------------------
    def send_selection(self) -> None:
        level, rows = self._selection()
        if rows:
            self.send_rows(level, rows)

    def send_rows(self, level: str, rows: list[dict[str, Any]], node_name: str | None = None) -> Job | None:
        if not self.settings.nodes:
            show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Send"), QtCore.QCoreApplication.translate("MainWindow", "No remote node is configured: add one with Network ▸ "
                                                      "Nodes… first."))
            return None
        if node_name is None:
            picker = NodePicker(self.settings, QtCore.QCoreApplication.translate("MainWindow", "Send to"),
                                QtCore.QCoreApplication.translate("MainWindow", "Send %1 to:").replace("%1", self.selection_text(level, rows)),
                                self.last_send_node, self)
            if picker.exec() != QtWidgets.QDialog.Accepted:
                return None
            node_name = picker.node_name()
        node = self.settings.node(node_name)
        if node is None:
            return None
        self.last_send_node = node.name
        key = "StudyInstanceUID" if level == "study" else "SeriesInstanceUID"
        uids = [r[key] for r in rows]
        return self.send_uids(level, uids, node, what=self.selection_text(level, rows))

    def selection_text(self, level: str, rows: list[dict[str, Any]]) -> str:
        """What a selection is, for people: "1 study (340 images)", "3 series (120 images)"."""
        n_rows = len(rows)  # lupdate sees a plural's count only as a plain name
        if level == "study":
            what = _counts().studies(n_rows)
        elif level == "series":
            what = _counts().series(n_rows)
        else:
            what = _counts().images(n_rows)
        images = sum(int(r.get("NumberOfInstances") or r.get("NumberOfStudyRelatedInstances")
                         or r.get("NumberOfSeriesRelatedInstances") or 0) for r in rows)
        if level in ("study", "series") and images:
            what = QtCore.QCoreApplication.translate("MainWindow", "%1 (%2)", "a selection and its images: 1 study (340 images)").replace(
                "%1", what).replace("%2", _counts().images(images))
        return what

    def send_uids(self, level: str, uids: list[str], node: Any, paths: list[str] | None = None,
                  what: str | None = None) -> Job:
        if what is None:
            n_paths = len(paths or ())
            what = (_counts().files(n_paths) if paths is not None
                    else self.selection_text(level, [{} for _ in uids]))
        job = Job("send", QtCore.QCoreApplication.translate("MainWindow", "Send %1 to %2").replace("%1", what).replace("%2", node.name), ops.send_items, self.settings, self.archive,
                  node, level, list(uids), paths, summarize=ops.summarize_send)
        job.ended.connect(lambda j=job: self._on_send_done(j, node))
        return self.jobs.submit(job)

    def _on_send_done(self, job: Job, node: Any) -> None:
        if job.state == FAILED and job.result is None:
            show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Send failed"), job.message, job.error_details)
        elif job.state in (FAILED, PARTIAL) and job.result is not None:
            report = job.result
            failed = [r for r in report.results if r.outcome in ("failed", "cancelled")]
            problems = [(r.path, r.message) for r in failed]
            if len(failed) > 1 and len({r.message for r in failed}) == 1:
                # One cause for every file (node unreachable, association refused): one row says it; the same
                # reason beside 500 storage paths only hid that nothing at all was sent.
                n_failed = len(failed)
                problems = [(_counts().all_files(n_failed),
                             failed[0].message)]
            dlg = ReportDialog(QtCore.QCoreApplication.translate("MainWindow", "Send report"), report.summary(), problems, self,
                               retry=lambda: self.send_uids("instance", [], node, [r.path for r in failed]))
            dlg.setObjectName("send_report")
            self.dialogs.append(dlg)
            dlg.show()
        self.sendFinished.emit(job)

    # --- delete / tags / reveal ----------------------------------------------------------------------------------
    def delete_selection(self) -> None:
        level, rows = self._selection()
        if rows:
            self.delete_rows(level, rows)

    def delete_rows(self, level: str, rows: list[dict[str, Any]], confirm: bool = True) -> Job | None:
        key = "StudyInstanceUID" if level == "study" else "SeriesInstanceUID"
        uids = [r[key] for r in rows]
        n_instances = sum(int(r.get("NumberOfInstances") or 0) for r in rows)
        n_rows = len(rows)  # lupdate sees a plural's count only as a plain name
        if level == "study" and n_rows == 1:
            # Say whose study: a Delete key pressed on the wrong row is caught here or never.
            from workstation.gui.study_model import cell_text

            r = rows[0]
            n_series = int(r.get("NumberOfStudyRelatedSeries") or 0)
            who = ", ".join(x for x in (cell_text(r, "PatientName") or QtCore.QCoreApplication.translate("MainWindow", "(no name)"),
                                        cell_text(r, "PatientID"), cell_text(r, "StudyDate"),
                                        cell_text(r, "StudyDescription")) if x)
            text = QtCore.QCoreApplication.translate("MainWindow", "Delete the study of %1 with %2 and %3 from the archive?", "who, series, images")
            text = text.replace("%1", who).replace(
                "%2", _counts().series(n_series)).replace(
                "%3", _counts().images(n_instances))
        elif level == "study":
            n_series = sum(int(r.get("NumberOfStudyRelatedSeries") or 0) for r in rows)
            text = QtCore.QCoreApplication.translate("MainWindow", "Delete %1 with %2 and %3 from the archive?", "studies, series, images").replace(
                "%1", _counts().studies(n_rows)).replace(
                "%2", _counts().series(n_series)).replace("%3", _counts().images(n_instances))
        else:
            text = QtCore.QCoreApplication.translate("MainWindow", "Delete %1 with %2 from the archive?", "series, images").replace(
                "%1", _counts().series(n_rows)).replace("%2", _counts().images(n_instances))
        if confirm:
            answer = QtWidgets.QMessageBox.question(
                self, QtCore.QCoreApplication.translate("MainWindow", "Delete"), text + "\n" + QtCore.QCoreApplication.translate("MainWindow", "Managed files are removed; linked files stay."),
                QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No, QtWidgets.QMessageBox.No)
            if answer != QtWidgets.QMessageBox.Yes:
                return None
        job = Job("delete", QtCore.QCoreApplication.translate("MainWindow", "Delete %1").replace("%1", self.selection_text(level, rows)), ops.delete_items, self.archive, level,
                  uids, summarize=lambda n: (DONE, _counts().deleted(n)))
        job.failed.connect(lambda exc: show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Delete failed"), str(exc), exc))
        return self.jobs.submit(job)

    def tags_selection(self) -> None:
        level, rows = self._selection()
        if rows:
            self.show_tags(level, rows)

    def show_tags(self, level: str, rows: list[dict[str, Any]]) -> None:
        path = ops.first_path(self.archive, level, rows[0])
        if not path:
            show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Show tags"), QtCore.QCoreApplication.translate("MainWindow", "No file found for the selection."))
            return
        dlg = TagsDialog(path, self)
        self.dialogs.append(dlg)
        dlg.show()

    # --- export --------------------------------------------------------------------------------------------------
    def export_selection(self) -> None:
        level, rows = self._selection()
        if rows:
            self.export_rows(level, rows)

    def export_rows(self, level: str, rows: list[dict[str, Any]], values: dict[str, Any] | None = None) -> Job | None:
        """Ask where and how (unless ``values`` says), then export in a job; the report says what failed."""
        key = "StudyInstanceUID" if level == "study" else "SeriesInstanceUID"
        selection = [(level, r[key]) for r in rows]
        if values is None:
            first = rows[0]
            name = str(first.get("PatientName") or "export").replace("^", " ").strip()
            suggested = " ".join(x for x in (name, str(first.get("StudyDate") or "")) if x)
            n_rows = len(rows)
            if level == "study":
                what = _counts().studies(n_rows)
            else:
                what = _counts().series(n_rows)
            dlg = ExportDialog(QtCore.QCoreApplication.translate("MainWindow", "Export %s") % what, suggested, self.last_export_dir, self)
            if dlg.exec() != QtWidgets.QDialog.Accepted:
                return None
            values = dlg.values()
        if not values.get("destination"):
            show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Export"), QtCore.QCoreApplication.translate("MainWindow", "Choose where to export to."))
            return None
        self.last_export_dir = str(Path(values["destination"]).parent)
        job = Job("export", QtCore.QCoreApplication.translate("MainWindow", "Export to %s") % values["destination"], export_items, self.archive, selection,
                  values["destination"], values["fmt"], values["anonymize"], values["new_name"], values["new_id"],
                  summarize=summarize_export)
        job.ended.connect(lambda j=job: self._on_export_done(j))
        return self.jobs.submit(job)

    def _on_export_done(self, job: Job) -> None:
        if job.state == FAILED and job.result is None:
            show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Export failed"), job.message, job.error_details)
            return
        report = job.result
        if report is None:
            return
        problems = [(f["SOPInstanceUID"], f["reason"]) for f in report.failed] + [("", w) for w in report.warnings]
        if problems:
            dlg = ReportDialog(QtCore.QCoreApplication.translate("MainWindow", "Export report"), job.message, problems, self)
            dlg.setObjectName("export_report")
            self.dialogs.append(dlg)
            dlg.show()
        else:
            self.statusBar().showMessage(job.message, 8000)

    def reveal_selection(self) -> None:
        level, rows = self._selection()
        if rows:
            self.reveal(level, rows)

    def reveal(self, level: str, rows: list[dict[str, Any]]) -> str | None:
        path = ops.first_path(self.archive, level, rows[0])
        if not path:
            show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Reveal files"), QtCore.QCoreApplication.translate("MainWindow", "No file found for the selection."))
            return None
        folder = os.path.dirname(path)
        if QtWidgets.QApplication.platformName() not in ("offscreen", "minimal"):
            if not QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(folder)):
                show_error(self, QtCore.QCoreApplication.translate("MainWindow", "Reveal files"), QtCore.QCoreApplication.translate("MainWindow", "No file manager could open %s.") % folder)
        self.statusBar().showMessage(folder, 8000)
        return folder
