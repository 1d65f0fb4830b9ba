"""The Store SCP as the GUI sees it: start/stop/restart in the background, state for the status bar, incoming
associations as observed jobs in the Activity panel.

The server itself is net-server's :class:`workstation.net.server.DicomServer`; its activity callback arrives on
pynetdicom's threads and is marshalled with ``ensure_main_thread``.
"""

from __future__ import annotations

import errno
import logging
import threading
from typing import Any

from PySide6 import QtCore
from superqt.utils import create_worker, ensure_main_thread

from workstation.gui.jobs import DONE, FAILED, RUNNING, Job, JobManager, JobProgress

log = logging.getLogger("workstation.gui.listener")

STOPPED, STARTING, LISTENING, ERROR = "stopped", "starting", "listening", "error"


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
        self._worker = None

    @property
    def address(self) -> str:
        return f"{self.settings.ae_title}@{self.settings.bind}:{self.settings.port}"

    def _set(self, state: str, text: str) -> None:
        self.state, self.text = state, text
        self.stateChanged.emit(state, text)

    # --- start / stop ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start in a worker (binding can take a moment); the window opens regardless of the outcome."""
        try:
            from workstation.net.server import DicomServer
        except ImportError as exc:
            log.warning("no DICOM server module: %s", exc)
            self._set(ERROR, self.tr("The DICOM listener is not available in this build (%s).") % exc)
            return
        self._set(STARTING, self.tr("%s starting…") % self.address)

        def run() -> Any:
            server = self._make_server(DicomServer)
            server.start()
            return server

        worker = create_worker(run, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._on_started)
        worker.errored.connect(self._on_failed)
        self._worker = worker
        worker.start()

    def _make_server(self, cls: Any) -> Any:
        # net-server's constructor is still settling: pass the activity callback the way it accepts.
        for kwargs in ({"activity": self._on_activity}, {"on_activity": self._on_activity}):
            try:
                return cls(self.settings, self.archive, **kwargs)
            except TypeError:
                continue
        server = cls(self.settings, self.archive)
        for name in ("add_activity_listener", "add_listener"):
            fn = getattr(server, name, None)
            if callable(fn):
                fn(self._on_activity)
                break
        return server

    def _on_started(self, server: Any) -> None:
        self.server = server
        self._set(LISTENING, self.tr("%s listening") % self.address)

    def _on_failed(self, exc: BaseException) -> None:
        message = explain_start_error(exc, self.settings)
        log.error("listener failed to start: %s (%r)", message, exc)
        self.server = None
        self._set(ERROR, message)

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - stopping must not raise into a close event
                log.exception("stopping the listener failed")
        self._set(STOPPED, self.tr("%s stopped") % self.address)

    def restart(self) -> None:
        """Apply listener settings without restarting the program."""
        self.stop()
        self.start()

    # --- activity ----------------------------------------------------------------------------------------------
    def _on_activity(self, event: Any) -> None:
        """Called by the server on pynetdicom threads."""
        self._on_activity_gui(event)

    @ensure_main_thread
    def _on_activity_gui(self, event: Any) -> None:
        if self.jobs is None:
            return
        kind = str(_field(event, "kind", "") or _field(event, "event", "") or "")
        assoc_id = _field(event, "association", None) or _field(event, "assoc_id", None) or _field(event, "id", None)
        peer = _field(event, "peer", None) or _field(event, "calling_ae", "") or "?"
        job = self.associations.get(assoc_id)
        if job is None:
            job = Job("incoming", self.tr("Incoming from %s") % peer, lambda: None)
            job.external = True
            job.state = RUNNING
            import time as _t

            job.started_at = _t.time()
            self.associations[assoc_id] = job
            self.jobs.submit(job, start=False)
        done = _field(event, "received", None)
        if done is None:
            done = _field(event, "stored", None)
        failed = _field(event, "failed", 0) or 0
        message = _field(event, "message", "") or kind
        snap = JobProgress(int(done if done is not None else job.progress.done), None, int(failed), str(message))
        if kind in ("closed", "close", "released", "aborted", "end"):
            state = FAILED if kind == "aborted" or _field(event, "error", None) else DONE
            job.set_external_progress(snap, state, str(message))
            self.associations.pop(assoc_id, None)
        else:
            job.set_external_progress(snap, None, str(message))
