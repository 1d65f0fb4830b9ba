"""The main window: database browser, Query/Retrieve, Activity, menus, tool bar, status bar, drag and drop."""

from __future__ import annotations

import logging
import os
import sys
import weakref
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from workstation.gui.i18n import install_translators
from workstation.gui.activity import ActivityPanel
from workstation.gui.browser import BrowserWidget
from workstation.gui.common import (
    ArchiveBridge,
    shorten_switch_interval,
    show_error,
    tame_network_polling,
    today_start,
)
from workstation.gui.dialogs import (LISTENER_KEYS, ImportReportDialog, NodesDialog, SettingsDialog,
                                     import_report_needed)
from workstation.gui.jobs import FAILED, Job, JobManager
from workstation.gui.listener import ERROR, ListenerController
from workstation.gui.media_watch import MediaWatcher
from workstation.gui.priors_panel import PriorsPanel
from workstation.gui.qr_panel import QueryRetrievePanel
from workstation.gui.selection_actions import SelectionActions
# The viewer (pyqtgraph and ~40 modules, 0.15-0.4 s) is imported with the app, not on the first double-click:
# imported there it froze the GUI for that long when the first study opened.
from workstation.gui.viewer.arrivals import add_series
from workstation.gui.viewer.key_images import attach as attach_key_images, open_key_images_window
from workstation.gui.viewer.launch import open_viewer
from workstation.gui.viewer import window as _viewer_window  # noqa: F401 - imported now, see above
from workstation.gui import foreground_gate
from workstation.gui import operations as ops

log = logging.getLogger("workstation.gui.main")
Qt = QtCore.Qt


def first_size(available: QtCore.QSize) -> tuple[int, int]:
    """The window's size at its first start: 1400x900, or 90 % of a smaller screen's free area."""
    return min(1400, int(available.width() * 0.9)), min(900, int(available.height() * 0.9))


class MainWindow(SelectionActions, QtWidgets.QMainWindow):
    """The workstation's main window over one archive.

    Parameters
    ----------
    settings, archive: the Settings and the opened Archive (the caller closes the archive).
    start_listener: start the Store SCP (tests turn it off unless they test it).
    watch_media: offer to import a disc/stick with a DICOMDIR when one is mounted (default: as start_listener).
    """

    importFinished = QtCore.Signal(object)  # the import Job (tests)
    sendFinished = QtCore.Signal(object)

    def __init__(self, settings: Any, archive: Any, *, start_listener: bool = True, watch_media: bool | None = None,
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        # Background work (C-GET and Store SCP ingest, header reading, decoding) gives way while the GUI is busy.
        foreground_gate.install()
        self.settings = settings
        self.archive = archive
        self.setObjectName("main_window")
        self.setWindowTitle(self.tr("Workstation — %s") % settings.data_dir)
        self.setAcceptDrops(True)
        self.ui_state = QtCore.QSettings(str(Path(settings.data_dir) / "gui.ini"), QtCore.QSettings.IniFormat)
        self.jobs = JobManager(self)
        tame_network_polling()
        shorten_switch_interval()
        self.viewers: list[QtWidgets.QWidget] = []
        self.dialogs: list[QtWidgets.QWidget] = []

        # --- central: browser and Q/R as tabs ------------------------------------------------------------
        self.browser = BrowserWidget(archive, self)
        self.qr = QueryRetrievePanel(settings, archive, self.jobs, self)
        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.setObjectName("main_tabs")
        self.tabs.addTab(self.browser, self.tr("Local database"))
        self.tabs.addTab(self.qr, self.tr("Query/Retrieve"))
        self.setCentralWidget(self.tabs)

        # --- activity dock -----------------------------------------------------------------------------------
        self.activity = ActivityPanel(self.jobs, self)
        self.activity_dock = QtWidgets.QDockWidget(self.tr("Activity"), self)
        self.activity_dock.setObjectName("activity_dock")
        self.activity_dock.setWidget(self.activity)
        self.addDockWidget(Qt.BottomDockWidgetArea, self.activity_dock)
        # --- priors dock: the selected study's patient's other studies (local, then nodes marked for priors) ---
        self.priors = PriorsPanel(settings, archive, self.jobs, self)
        self.priors_dock = QtWidgets.QDockWidget(self.tr("Priors"), self)
        self.priors_dock.setObjectName("priors_dock")
        self.priors_dock.setWidget(self.priors)
        self.addDockWidget(Qt.RightDockWidgetArea, self.priors_dock)

        # --- status bar --------------------------------------------------------------------------------------
        self.listener_label = QtWidgets.QLabel(self)
        self.listener_label.setObjectName("listener_state")
        self.received_label = QtWidgets.QLabel(self)
        self.received_label.setObjectName("received_today")
        self.jobs_label = QtWidgets.QLabel(self)
        self.jobs_label.setObjectName("jobs_running")
        sb = self.statusBar()
        sb.addPermanentWidget(self.listener_label)
        sb.addPermanentWidget(self.received_label)
        sb.addPermanentWidget(self.jobs_label)
        self.received_today = 0
        self._received_day = today_start()
        self._update_received()
        self._on_jobs_count(0)

        # --- services ----------------------------------------------------------------------------------------
        self.listener = ListenerController(settings, archive, self.jobs, self)
        self.listener.stateChanged.connect(self._on_listener_state)
        self.bridge = ArchiveBridge(archive, self)
        self.bridge.changed.connect(self._on_archive_changed)
        self.jobs.activeCountChanged.connect(self._on_jobs_count)
        self.browser.openStudies.connect(self.open_studies)
        self.browser.view.selectionModel().selectionChanged.connect(lambda *_: self._follow_selection_priors())
        self.priors.openRequested.connect(self.open_comparison)
        self.browser.openSeries.connect(self.open_series)
        self.browser.contextRequested.connect(self._context_menu)
        self.qr.errorRaised.connect(lambda t, m, d: show_error(self, t, m, d))
        self.qr.retrieved.connect(self._on_retrieved)
        self.browser.model.queryFailed.connect(
            lambda exc: show_error(self, self.tr("Search failed"), str(exc), exc))

        self._build_actions()
        self._restore_state()
        self.browser.apply_filter()
        ops.count_received_since(self, archive, self._received_day, self._set_received)
        if start_listener:
            self.listener.start()
        else:
            self._on_listener_state("stopped", self.tr("%s stopped") % self.listener.address)
        self.media_watch = MediaWatcher(self)
        self.media_watch.appeared.connect(self._offer_media_import)
        if start_listener if watch_media is None else watch_media:
            self.media_watch.start()

    # --- actions -------------------------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        def act(text: str, slot, shortcut: Any = None, icon: QtWidgets.QStyle.StandardPixmap | None = None,
                tip: str = "") -> QtGui.QAction:
            a = QtGui.QAction(text, self)
            if icon is not None:
                a.setIcon(self.style().standardIcon(icon))
            if shortcut is not None:
                a.setShortcut(QtGui.QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            return a

        S = QtWidgets.QStyle
        self.act_import_files = act(self.tr("Import &files…"), self.import_files_dialog, QtGui.QKeySequence.Open,
                                    S.SP_FileIcon, self.tr("Import DICOM files or ZIP archives"))
        self.act_import_folder = act(self.tr("Import f&older…"), self.import_folder_dialog, "Ctrl+Shift+O",
                                     S.SP_DirOpenIcon, self.tr("Import every DICOM file under a folder"))
        self.act_import_media = act(self.tr("Import &CD/DVD…"), self.import_media, "Ctrl+Shift+D",
                                    S.SP_DriveCDIcon, self.tr("Import from a mounted disc with a DICOMDIR"))
        self.act_quit = act(self.tr("&Quit"), self.close, QtGui.QKeySequence.Quit)
        self.act_open = act(self.tr("&Open in viewer"), self.open_selection, "Ctrl+Return",
                            S.SP_DesktopIcon)
        self.act_send = act(self.tr("&Send to…"), self.send_selection, "Ctrl+Shift+S", S.SP_ArrowForward)
        self.act_delete = act(self.tr("&Delete…"), self.delete_selection, QtGui.QKeySequence.Delete, S.SP_TrashIcon)
        self.act_tags = act(self.tr("Show &tags"), self.tags_selection, "Ctrl+T")
        self.act_reveal = act(self.tr("&Reveal files"), self.reveal_selection, "Ctrl+Shift+R")
        self.act_export = act(self.tr("&Export…"), self.export_selection, "Ctrl+E", S.SP_DialogSaveButton,
                              self.tr("Export to a folder, a ZIP or a DICOMDIR folder, optionally de-identified"))
        self.act_find = act(self.tr("&Find"), self._focus_search, QtGui.QKeySequence.Find)
        self.act_refresh = act(self.tr("&Refresh"), self.browser.apply_filter, QtGui.QKeySequence.Refresh,
                               S.SP_BrowserReload)
        self.act_db = act(self.tr("Local &database"), lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self.act_qr = act(self.tr("&Query/Retrieve"), lambda: self.tabs.setCurrentIndex(1), "Ctrl+2",
                          S.SP_FileDialogContentsView)
        self.act_activity = self.activity_dock.toggleViewAction()
        self.act_activity.setShortcut(QtGui.QKeySequence("Ctrl+3"))
        self.act_priors = self.priors_dock.toggleViewAction()
        self.act_priors.setShortcut(QtGui.QKeySequence("Ctrl+4"))
        self.act_nodes = act(self.tr("&Nodes…"), self.nodes_dialog, "Ctrl+Shift+N", S.SP_DriveNetIcon)
        self.act_listener = act(self.tr("Restart &listener"), self.listener.restart)
        self.act_settings = act(self.tr("&Settings…"), self.settings_dialog, QtGui.QKeySequence.Preferences,
                                S.SP_FileDialogDetailedView)
        if self.act_settings.shortcut().isEmpty():
            self.act_settings.setShortcut(QtGui.QKeySequence("Ctrl+,"))
        self.act_about = act(self.tr("&About"), self._about)

        mb = self.menuBar()
        m = mb.addMenu(self.tr("&File"))
        for a in (self.act_import_files, self.act_import_folder, self.act_import_media):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_export)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu(self.tr("&Edit"))
        for a in (self.act_open, self.act_send, self.act_delete, self.act_tags, self.act_reveal):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_find)
        m.addAction(self.act_settings)
        m = mb.addMenu(self.tr("&View"))
        for a in (self.act_db, self.act_qr, self.act_activity, self.act_priors, self.act_refresh):
            m.addAction(a)
        m = mb.addMenu(self.tr("&Network"))
        for a in (self.act_qr, self.act_nodes, self.act_listener):
            m.addAction(a)
        m = mb.addMenu(self.tr("&Help"))
        m.addAction(self.act_about)

        tb = self.addToolBar(self.tr("Main"))
        tb.setObjectName("main_toolbar")
        tb.setToolButtonStyle(Qt.ToolButtonTextUnderIcon)
        tb.setIconSize(QtCore.QSize(22, 22))
        for a in (self.act_import_files, self.act_import_folder, self.act_import_media, None, self.act_open,
                  self.act_send, self.act_delete, None, self.act_qr, self.act_nodes, self.act_settings):
            if a is None:
                tb.addSeparator()
            else:
                tb.addAction(a)

    def _focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.browser.search.setFocus()
        self.browser.search.selectAll()

    def _about(self) -> None:
        from workstation import __version__
        from workstation.about import component_versions, licences_folder

        rows = "".join(f"<tr><td>{name}</td><td>{version}</td><td>{licence}</td></tr>"
                       for name, version, _role, licence in component_versions())
        qt = QtCore.qVersion()
        folder = licences_folder()
        where = (self.tr("The licence texts are in %s.") % folder) if folder else \
            self.tr("The licence texts come with each installed package.")
        box = QtWidgets.QMessageBox(self)
        box.setWindowTitle(self.tr("About Workstation"))
        box.setTextFormat(Qt.RichText)
        box.setText(self.tr("<b>Workstation %1</b> — an open DICOM workstation: local archive, viewer, DICOM node. "
                            "Qt %2.").replace("%1", __version__).replace("%2", qt)
                    + "<table cellspacing='6'><tr><th align='left'>" + self.tr("Component") + "</th>"
                    + "<th align='left'>" + self.tr("Version") + "</th><th align='left'>" + self.tr("Licence")
                    + f"</th></tr>{rows}</table><p>{where}</p>")
        box.setObjectName("about_box")
        box.open()
        self.dialogs.append(box)

    # --- state (QSettings) ---------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        s = self.ui_state
        geo = s.value("main/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(*first_size(self.screen().availableGeometry().size()))
        state = s.value("main/state")
        if state is not None:
            self.restoreState(state)
        else:
            # A laptop screen keeps most of its height for the study list.
            self.resizeDocks([self.activity_dock], [max(110, min(190, self.height() // 5))], Qt.Vertical)
            self.resizeDocks([self.priors_dock], [max(260, min(460, self.width() // 3))], Qt.Horizontal)
        splitter = s.value("browser/splitter")
        if splitter is not None:
            self.browser.splitter.restoreState(splitter)
        header = s.value("browser/header")
        if header is not None:
            self.browser.view.horizontalHeader().restoreState(header)
        nodes = s.value("qr/nodes", None)
        if nodes is None:
            nodes = s.value("qr/node", "")  # written by earlier versions: one node
        if isinstance(nodes, str):
            nodes = [n for n in nodes.split("\n") if n]
        if nodes:
            self.qr.reload_nodes([str(n) for n in nodes])
        self.last_send_node = str(s.value("send/node", "") or "")
        self.last_export_dir = str(s.value("export/dir", "") or "") or str(Path.home())

    def save_state(self) -> None:
        s = self.ui_state
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())
        s.setValue("browser/splitter", self.browser.splitter.saveState())
        s.setValue("browser/header", self.browser.view.horizontalHeader().saveState())
        # One string, names separated by newlines: an INI list of one element reads back as a plain string.
        s.setValue("qr/nodes", "\n".join(self.qr.node_combo.checked_names()))
        s.setValue("send/node", self.last_send_node)
        s.setValue("export/dir", self.last_export_dir)
        s.sync()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.save_state()
        self.media_watch.stop()
        self.jobs.cancel_all()
        self.listener.stop()
        self.bridge.close()
        for v in list(self.viewers):
            try:
                v.close()
            except RuntimeError:
                pass
        self.jobs.wait_idle(5.0)
        self.browser.series.show_study(None)
        # Queries and thumbnails still running use the archive: let them end before the caller closes it.
        QtCore.QThreadPool.globalInstance().waitForDone(5000)
        super().closeEvent(event)

    # --- status bar ----------------------------------------------------------------------------------------------
    def _on_listener_state(self, state: str, text: str) -> None:
        color = {"listening": "#2a2", "error": "#c33", "starting": "#c80"}.get(state, "#888")
        self.listener_label.setText(f"<span style='color:{color}'>●</span> {text if state != ERROR else ''}"
                                    + (self.tr("%s: error") % self.listener.address if state == ERROR else ""))
        self.listener_label.setToolTip(text)
        if state == ERROR:
            self.statusBar().showMessage(text)

    def _set_received(self, n: int) -> None:
        self.received_today = n
        self._update_received()

    def _update_received(self) -> None:
        self.received_label.setText(self.tr("%n received today", "", self.received_today))

    def _on_jobs_count(self, n: int) -> None:
        self.jobs_label.setText(self.tr("%n job(s) running", "", n))

    def _on_archive_changed(self, kinds: set, studies: set, series: set, added: int) -> None:
        if today_start() != self._received_day:
            self._received_day = today_start()
            self.received_today = 0
        self.received_today += added
        self._update_received()
        if "removed" in kinds:
            self.browser.model.refresh()
        else:
            self.browser.model.update_studies(studies)
        self.browser.refresh_series(studies)
        self.priors.archive_changed(kinds, studies)

    def _on_retrieved(self, job: Job) -> None:
        if job.state == FAILED:
            show_error(self, self.tr("Retrieve failed"), job.message or self.tr("The retrieve failed."),
                       job.report_text())

    # --- drag and drop -------------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    # --- import --------------------------------------------------------------------------------------------------
    def import_files_dialog(self) -> None:
        files, _ = QtWidgets.QFileDialog.getOpenFileNames(self, self.tr("Import files"),
                                                          str(self.ui_state.value("import/dir", "") or ""))
        if files:
            self.ui_state.setValue("import/dir", os.path.dirname(files[0]))
            self.import_paths(files)

    def import_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, self.tr("Import folder"),
                                                            str(self.ui_state.value("import/dir", "") or ""))
        if folder:
            self.ui_state.setValue("import/dir", folder)
            self.import_paths([folder])

    def import_media(self) -> None:
        found = ops.find_dicomdir_media()
        if not found:
            show_error(self, self.tr("Import CD/DVD"), self.tr(
                "No mounted disc or drive with a DICOMDIR was found. Insert the disc, wait until it is mounted, "
                "and try again — or use Import folder… to pick the disc's folder yourself."),
                self.tr("Looked in: %s") % ", ".join(ops.media_roots()))
            return
        path = found[0]
        if len(found) > 1:
            path, ok = QtWidgets.QInputDialog.getItem(self, self.tr("Import CD/DVD"),
                                                      self.tr("Several media have a DICOMDIR; import which?"),
                                                      found, 0, False)
            if not ok:
                return
        self.import_paths([path])

    def _offer_media_import(self, dicomdir: str) -> QtWidgets.QMessageBox:
        """A disc or stick with a DICOMDIR was just mounted: ask (without blocking) whether to import it."""
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Question, self.tr("DICOM media found"),
                                    self.tr("A disc or drive with DICOM images was mounted:\n%s\n\nImport it into "
                                            "the local database?") % os.path.dirname(dicomdir),
                                    QtWidgets.QMessageBox.NoButton, self)
        box.setObjectName("media_offer")
        importer = box.addButton(self.tr("Import"), QtWidgets.QMessageBox.AcceptRole)
        box.addButton(self.tr("Not now"), QtWidgets.QMessageBox.RejectRole)
        box.setDefaultButton(importer)
        box.setWindowModality(Qt.NonModal)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self.import_paths([dicomdir]) if button is importer else None)
        self.dialogs.append(box)
        box.show()
        return box

    def import_paths(self, paths: list[str], show_summary: bool = True) -> Job:
        label = paths[0] if len(paths) == 1 else self.tr("%n item(s)", "", len(paths))
        job = Job("import", self.tr("Import %s") % label, ops.import_paths, self.archive, list(paths),
                  summarize=ops.summarize_import)
        job.ended.connect(lambda j=job: self._on_import_done(j, show_summary))
        self.jobs.submit(job)
        self.statusBar().showMessage(self.tr("Importing %s…") % label, 3000)
        return job

    def _on_import_done(self, job: Job, show_summary: bool) -> None:
        if job.state == FAILED and job.result is None:
            show_error(self, self.tr("Import failed"), job.message, job.error_details)
        elif show_summary and job.result is not None:
            report = job.result
            if not import_report_needed(report):
                # Everything went in: the new study in the list and the Activity row say so; a box to dismiss
                # after every clean import (Horos, Weasis show none) only got in the way.
                self.statusBar().showMessage(job.message, 10000)
                self.importFinished.emit(job)
                return
            dlg = ImportReportDialog(report, job.message, self)
            self.dialogs.append(dlg)
            dlg.show()
        self.importFinished.emit(job)

    # --- selection helpers ---------------------------------------------------------------------------------------
    def _selection(self) -> tuple[str, list[dict[str, Any]]]:
        if self.browser.series.hasFocus() and self.browser.series.selected_rows():
            return "series", self.browser.series.selected_rows()
        return "study", self.browser.selected_studies()

    def open_selection(self) -> None:
        level, rows = self._selection()
        if level == "series":
            self.open_series(rows)
        elif rows:
            self.open_studies(rows)

    # --- viewer --------------------------------------------------------------------------------------------------
    def open_studies(self, studies: list[dict[str, Any]]) -> None:
        for study in studies:
            uid = study["StudyInstanceUID"]
            ops.run_quick(self, ops.series_groups, self.archive, uid, None,
                          on_result=lambda groups, uid=uid: self.bring_priors(self._open_groups(groups), uid),
                          on_error=lambda exc: show_error(self, self.tr("Cannot open the study"), str(exc), exc))

    def _follow_selection_priors(self) -> None:
        studies = self.browser.selected_studies()
        self.priors.set_study(studies[0]["StudyInstanceUID"] if len(studies) == 1 else None)

    def open_comparison(self, study_uids: list[str]) -> None:
        """The studies' series in one viewer window, the first study's first (current, then priors)."""
        def groups(archive: Any, uids: list[str]) -> list[list[str]]:
            return [g for uid in uids for g in ops.series_groups(archive, uid, None)]

        ops.run_quick(self, groups, self.archive, list(study_uids), on_result=self._open_groups,
                      on_error=lambda exc: show_error(self, self.tr("Cannot open the studies"), str(exc), exc))

    def bring_priors(self, win: QtWidgets.QWidget | None, study_uid: str) -> None:
        """The relevant priors of a study just opened in ``win`` join it: the local ones at once, those on nodes
        marked "fetch priors" once retrieved (Activity jobs); see gui/viewer/arrivals.py."""
        if win is None:
            return
        from workstation.reading.priors import list_priors, relevant_priors

        nodes = [n for n in self.settings.nodes if getattr(n, "fetch_priors", False)]

        def relevant(archive: Any, settings: Any, uid: str, asked: list) -> list:
            result = list_priors(archive, settings, uid, asked)
            return relevant_priors(result.current, result.priors) if result.current else []

        ref = weakref.ref(win)
        # The local ones without waiting for the nodes (one may be down until its timeout).
        ops.run_quick(self, relevant, self.archive, self.settings, study_uid, [],
                      on_result=lambda priors: self._add_prior_series(ref, [p.uid for p in priors]))
        if nodes:
            ops.run_quick(self, relevant, self.archive, self.settings, study_uid, nodes,
                          on_result=lambda priors: self._fetch_relevant(ref, priors))

    def _fetch_relevant(self, win_ref: Any, priors: list) -> None:
        """Retrieve those of the relevant priors that are not local (the local ones have joined already)."""
        for prior in priors:
            if not prior.is_local:
                job = self.priors.retrieve(prior)
                if job is not None:
                    job.ended.connect(lambda j=job, uid=prior.uid: self._on_prior_fetched(j, win_ref, uid))

    def _on_prior_fetched(self, job: Job, win_ref: Any, prior_uid: str) -> None:
        if job.result is not None and getattr(job.result, "ok", False):
            self._add_prior_series(win_ref, [prior_uid])

    def _add_prior_series(self, win_ref: Any, study_uids: list[str]) -> None:
        if not study_uids:
            return
        def groups(archive: Any, uids: list[str]) -> list[list[str]]:
            return [g for uid in uids for g in ops.series_groups(archive, uid, None)]

        ops.run_quick(self, groups, self.archive, list(study_uids), on_result=lambda gs: add_series(win_ref(), gs))

    def open_series(self, series_rows: list[dict[str, Any]]) -> None:
        uids = [r["SeriesInstanceUID"] for r in series_rows]
        ops.run_quick(self, ops.series_groups, self.archive, None, uids, on_result=self._open_groups,
                      on_error=lambda exc: show_error(self, self.tr("Cannot open the series"), str(exc), exc))

    def _open_groups(self, groups: list[list[str]]) -> QtWidgets.QWidget | None:
        if not groups:
            show_error(self, self.tr("Nothing to show"), self.tr("The selection has no files in the archive."))
            return None
        try:
            win = open_viewer(groups, self.settings, hanging=True)
            win.archive = self.archive  # presentation states are read from and saved into it
            attach_key_images(win, self.archive)  # K marks key images; they are saved to the archive
        except Exception as exc:  # noqa: BLE001 - never a silent failure
            show_error(self, self.tr("The viewer could not open"), str(exc), exc)
            return None
        self.viewers = [v for v in self.viewers if _alive(v)]
        self.viewers.append(win)
        return win

    def open_key_images(self, studies: list[dict[str, Any]]) -> None:
        """Each study's key images as one stack in a viewer window (gui/viewer/key_images.py)."""
        for study in studies:
            win = open_key_images_window(self.archive, self.settings, study["StudyInstanceUID"])
            self.viewers = [v for v in self.viewers if _alive(v)] + [win]

    # --- context menu --------------------------------------------------------------------------------------------
    def _context_menu(self, level: str, rows: list[dict[str, Any]], pos: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        menu.addAction(self.tr("Open in viewer"), lambda: (self.open_studies(rows) if level == "study"
                                                           else self.open_series(rows)))
        if level == "study":
            menu.addAction(self.tr("Key images"), lambda: self.open_key_images(rows))
        send = menu.addMenu(self.tr("Send %1 to").replace("%1", self.selection_text(level, rows)))
        for node in self.settings.nodes:
            send.addAction(f"{node.name} ({node.ae_title})", lambda n=node.name: self.send_rows(level, rows, n))
        send.addSeparator()
        send.addAction(self.tr("Choose node…"), lambda: self.send_rows(level, rows))
        menu.addAction(self.tr("Show tags"), lambda: self.show_tags(level, rows))
        menu.addAction(self.tr("Reveal files"), lambda: self.reveal(level, rows))
        menu.addAction(self.tr("Export…"), lambda: self.export_rows(level, rows))
        menu.addSeparator()
        menu.addAction(self.tr("Delete…"), lambda: self.delete_rows(level, rows))
        menu.popup(pos)

    # --- dialogs -------------------------------------------------------------------------------------------------
    def nodes_dialog(self) -> NodesDialog:
        dlg = NodesDialog(self.settings, self)
        dlg.nodesChanged.connect(self.qr.reload_nodes)
        dlg.nodesChanged.connect(lambda: self.priors.set_study(self.priors.study_uid, force=True))
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        self.dialogs.append(dlg)
        dlg.show()
        return dlg

    def settings_dialog(self) -> SettingsDialog:
        dlg = SettingsDialog(self.settings, self)
        dlg.applied.connect(self._on_settings_applied)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        self.dialogs.append(dlg)
        dlg.show()
        return dlg

    def _on_settings_applied(self, changed: set) -> None:
        if changed & set(LISTENER_KEYS):
            self.listener.restart()


def _alive(widget: QtWidgets.QWidget) -> bool:
    try:
        return widget.isVisible()
    except RuntimeError:
        return False


def install_translator(app: QtWidgets.QApplication, locale: str | None = None) -> bool:
    """English plural forms, then the catalogue of ``locale`` (default: the system's) when one exists."""
    return bool(install_translators(app, locale))


def run_app(settings: Any, archive: Any, argv: list[str] | None = None) -> int:
    """Create the QApplication, show the main window, run the event loop."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or sys.argv[:1])
    app.setApplicationName("Workstation")
    app.setOrganizationName("workstation")
    install_translator(app, getattr(settings, "language", "") or None)
    win = MainWindow(settings, archive)
    win.show()
    return int(app.exec())
