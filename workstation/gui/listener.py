"""The Store SCP as the GUI sees it: start/stop/restart in the background, state for the status bar, incoming
associations as observed jobs in the Activity panel.

The server itself is net-server's :class:`workstation.net.scp.server.DicomServer`; its activity callback arrives on
pynetdicom's threads, which only record it under a lock; a GUI-thread timer turns the records into jobs. (Calling
into Qt from those short-lived threads -- superqt's ``ensure_main_thread`` -- crashed the process under load.)
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from typing import Any

from PySide6 import QtCore
from superqt.utils import create_worker

from workstation.gui.core_text import core_text
from workstation.gui.jobs import DONE, FAILED, PARTIAL, RUNNING, Job, JobManager, JobProgress

log = logging.getLogger("workstation.gui.listener")

STOPPED, STARTING, LISTENING, ERROR = "stopped", "starting", "listening", "error"
ACTIVITY_COALESCE_MS = 150


def _field(event: Any, name: str, default: Any = None) -> Any:
    if isinstance(event, dict):
        return event.get(name, default)
    return getattr(event, name, default)


def explain_start_error(exc: BaseException, settings: Any) -> str:
    """One sentence with the fix, for the status bar and the log."""
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code == errno.EADDRINUSE or "in use" in text.lower():
        return (f"Port {settings.port} is already in use by another program, so {settings.ae_title} cannot receive "
                f"images: choose another port in Settings (Ctrl+,) or stop the other program.")
    if code in (errno.EACCES, errno.EPERM) or "permission" in text.lower():
        return (f"Not allowed to listen on port {settings.port} (ports below 1024 need administrator rights): "
                f"choose a port above 1024 in Settings (Ctrl+,).")
    if code == errno.EADDRNOTAVAIL or "assign requested address" in text.lower():
        return (f"This computer has no address {settings.bind}: set the listen address to 0.0.0.0 in "
                f"Settings (Ctrl+,).")
    return f"The DICOM listener could not start: {text}"


class ListenerController(QtCore.QObject):
    """Owns the DicomServer. ``stateChanged(state, text)`` for the status bar."""

    stateChanged = QtCore.Signal(str, str)

    def __init__(self, settings: Any, archive: Any, jobs: JobManager | None = None,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.archive = archive
        self.jobs = jobs
        self.server: Any = None
        self.state = STOPPED
        self.text = ""
        self.associations: dict[Any, Job] = {}
        self._lock = threading.Lock()
        self._pending: dict[Any, dict[str, Any]] = {}
        self._worker = None
        self._activity_timer = QtCore.QTimer(self)
        self._activity_timer.setInterval(ACTIVITY_COALESCE_MS)
        self._activity_timer.timeout.connect(self._flush_activity)
        self._activity_timer.start()

    @property
    def address(self) -> str:
        return f"{self.settings.ae_title}@{self.settings.bind}:{self.settings.port}"

    def _set(self, state: str, text: str) -> None:
        self.state, self.text = state, text
        self.stateChanged.emit(state, text)

    # --- start / stop ------------------------------------------------------------------------------------------
    def start(self, stop_first: Any = None) -> None:
        """Start in a worker (binding can take a moment); the window opens regardless of the outcome."""
        try:
            from workstation.net.scp.server import DicomServer
        except ImportError as exc:
            log.warning("no DICOM server module: %s", exc)
            self._set(ERROR, self.tr("The DICOM listener is not available in this build (%s).") % exc)
            return
        self._set(STARTING, self.tr("%s starting…") % self.address)

        def run() -> Any:
            if stop_first is not None:
                stop_first.stop()
            server = self._make_server(DicomServer)
            server.start()
            return server

        worker = create_worker(run, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._on_started)
        worker.errored.connect(self._on_failed)
        self._worker = worker
        worker.start()

    def _make_server(self, cls: Any) -> Any:
        return cls(self.settings, self.archive, on_event=self._on_activity)

    def _on_started(self, server: Any) -> None:
        self.server = server
        self._set(LISTENING, self.tr("%s listening") % self.address)

    def _on_failed(self, exc: BaseException) -> None:
        # PortInUse's own text names the CLI fix; in the GUI the fix is the Settings dialog.
        if type(exc).__name__ == "ServerError" and str(exc):
            message = str(exc)
        else:
            message = explain_start_error(exc, self.settings)
        log.error("listener failed to start: %s (%r)", message, exc)
        self.server = None
        self._set(ERROR, core_text(message))

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - stopping must not raise into a close event
                log.exception("stopping the listener failed")
        self._set(STOPPED, self.tr("%s stopped") % self.address)

    def restart(self) -> None:
        """Apply listener settings without restarting the program (the old server stops in the worker)."""
        server, self.server = self.server, None
        self.start(stop_first=server)

    # --- activity ----------------------------------------------------------------------------------------------
    def _on_activity(self, event: Any) -> None:
        """The server's event callback, on pynetdicom threads: collect, and schedule one GUI update."""
        number = _field(event, "association", 0)
        kind = str(_field(event, "kind", ""))
        with self._lock:
            entry = self._pending.setdefault(number, {})
            entry["calling_ae"] = _field(event, "calling_ae", "") or entry.get("calling_ae", "")
            entry["address"] = _field(event, "address", "") or entry.get("address", "")
            entry["received"] = _field(event, "received", 0)
            entry["failed"] = _field(event, "failed", 0)
            if kind in ("association-closed", "association-rejected", "protocol-violation"):
                entry["end"] = kind
            if kind not in ("instance-received",):
                entry["detail"] = f"{kind}: {_field(event, 'detail', '')}".strip(": ")

    def _flush_activity(self) -> None:
        """GUI-thread timer: turn what the network threads recorded into Activity jobs (never Qt from them)."""
        with self._lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, {}
        if self.jobs is None:
            return
        for number, entry in pending.items():
            job = self.associations.get(number)
            who = f"{entry.get('calling_ae') or '?'}@{entry.get('address') or '?'}"
            if job is None:
                job = Job("incoming", self.tr("Incoming association #%d from %s") % (number, who), lambda: None)
                job.external = True
                job.state = RUNNING
                job.started_at = time.time()
                self.associations[number] = job
                self.jobs.submit(job, start=False)
            received, failed = int(entry.get("received") or 0), int(entry.get("failed") or 0)
            message = self.tr("%n received", "", received) + (self.tr(", %n failed", "", failed) if failed else "")
            if entry.get("detail"):
                message += " — " + entry["detail"]
            snap = JobProgress(received, None, failed, message)
            end = entry.get("end")
            if end:
                state = DONE if end == "association-closed" and not failed else FAILED
                if end == "association-closed" and failed and received:
                    state = PARTIAL
                self.associations.pop(number, None)
                job.set_external_progress(snap, state, message)
            else:
                job.set_external_progress(snap, None, message)
