"""Background jobs for the GUI: one mechanism (superqt workers on the global QThreadPool).

A :class:`Job` wraps a core callable that takes ``progress`` (a callback) and ``cancel`` (a
:class:`threading.Event`) keyword arguments -- the same callables the CLI runs directly. The job runs it in a
superqt ``FunctionWorker``; progress reaches the GUI only through the job's signals, which Qt queues to the GUI
thread because the job lives there. Progress is throttled (at most one signal per :data:`PROGRESS_INTERVAL`) so a
500-instance transfer never floods the event loop.

:class:`JobManager` keeps every job of the session (the Activity panel's model) and can retry one: a job keeps
its recipe (the callable and its arguments), so retrying builds and starts a fresh job from it.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6 import QtCore

from workstation.gui.core_text import core_text
from superqt.utils import create_worker

log = logging.getLogger("workstation.gui.jobs")

PROGRESS_INTERVAL = 0.08  # seconds between progress signals of one job
QUEUED, RUNNING, DONE, FAILED, CANCELLED, PARTIAL = "queued", "running", "done", "failed", "cancelled", "partial"
ACTIVE_STATES = (QUEUED, RUNNING)


def configure_thread_pool(min_threads: int = 8) -> None:
    """Jobs block on the network for minutes; don't let two of them starve the browser's queries (2-core CI)."""
    pool = QtCore.QThreadPool.globalInstance()
    if pool.maxThreadCount() < min_threads:
        pool.setMaxThreadCount(min_threads)


@dataclass
class JobProgress:
    """A snapshot of a job's progress (any thread may build one; the GUI reads copies)."""

    done: int = 0
    total: int | None = None
    failed: int = 0
    message: str = ""


def as_job_progress(value: Any) -> JobProgress:
    """Accept the core's progress shapes: ``net.scu.client.Progress``, ``(done, total)`` tuples, or ours."""
    if isinstance(value, JobProgress):
        return value
    if isinstance(value, tuple):
        done, total = (list(value) + [None])[:2]
        return JobProgress(int(done or 0), total)
    return JobProgress(
        int(getattr(value, "done", 0) or 0),
        getattr(value, "total", None),
        int(getattr(value, "failed", 0) or 0),
        str(getattr(value, "message", "") or ""),
    )


class Job(QtCore.QObject):
    """One unit of background work with state, progress, speed, result and error.

    Parameters
    ----------
    kind: "import", "send", "find", "retrieve", "echo", "incoming", ... (shown in the Activity panel).
    title: what it is, for people ("Retrieve study 1.2.3 from ORTHANC").
    func: the core callable; it is called as ``func(*args, progress=cb, cancel=event, **kwargs)`` unless
        ``pass_progress``/``pass_cancel`` say it takes neither.
    summarize: ``summarize(result) -> (state, message)`` turns a result into DONE/PARTIAL/FAILED and a line.
    """

    progressed = QtCore.Signal(object)  # JobProgress, always emitted in the GUI thread
    _workerProgress = QtCore.Signal(object)  # emitted from the worker thread, queued to _on_worker_progress
    stateChanged = QtCore.Signal(str)
    succeeded = QtCore.Signal(object)  # the result
    failed = QtCore.Signal(object)  # the exception
    ended = QtCore.Signal()  # after succeeded/failed, in every case

    _next_id = 0

    def __init__(self, kind: str, title: str, func: Callable[..., Any], *args: Any,
                 summarize: Callable[[Any], tuple[str, str]] | None = None, pass_progress: bool = True,
                 pass_cancel: bool = True, parent: QtCore.QObject | None = None, **kwargs: Any):
        super().__init__(parent)
        Job._next_id += 1
        self.id = Job._next_id
        self.kind = kind
        self.title = title
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.summarize = summarize
        self.pass_progress = pass_progress
        self.pass_cancel = pass_cancel
        self.cancel_event = threading.Event()
        self.state = QUEUED
        self.progress = JobProgress()
        self.result: Any = None
        self.error: BaseException | None = None
        self.error_details = ""
        self.message = ""
        self.created = time.time()
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.retry_of: Job | None = None
        self.external = False  # True for activity we only observe (incoming associations)
        self._latest: JobProgress | None = None
        self._latest_lock = threading.Lock()
        self._last_emit = 0.0
        self._flush_pending = False
        self._worker = None
        self._workerProgress.connect(self._on_worker_progress, QtCore.Qt.QueuedConnection)

    # --- running ---------------------------------------------------------------------------------------------
    def start(self) -> "Job":
        kwargs = dict(self.kwargs)
        if self.pass_progress:
            kwargs["progress"] = self._report
        if self.pass_cancel:
            kwargs["cancel"] = self.cancel_event
        self._set_state(RUNNING)
        self.started_at = time.time()
        worker = create_worker(self._call, self.func, self.args, kwargs, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        self._worker = worker
        worker.start()
        return self

    @staticmethod
    def _call(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        try:
            return func(*args, **kwargs)
        except BaseException as exc:
            # Keep the traceback text: the worker hands only the exception object to the GUI thread.
            exc.__workstation_details__ = traceback.format_exc()  # type: ignore[attr-defined]
            raise

    def _report(self, value: Any = None, total: int | None = None) -> None:
        """The progress callback handed to the core; called from the worker thread."""
        if total is not None and not isinstance(value, tuple):
            value = (value, total)
        snap = as_job_progress(value)
        now = time.monotonic()
        with self._latest_lock:
            self._latest = snap
            if now - self._last_emit < PROGRESS_INTERVAL:
                return
            self._last_emit = now
        self._emit_progress()

    def _emit_progress(self) -> None:
        with self._latest_lock:
            snap = self._latest
        if snap is not None:
            self._workerProgress.emit(snap)

    @QtCore.Slot(object)
    def _on_worker_progress(self, snap: JobProgress) -> None:
        if self.state not in ACTIVE_STATES:
            return  # a late snapshot after the end
        self.progress = snap
        self.progressed.emit(snap)

    def _on_returned(self, result: Any) -> None:
        with self._latest_lock:
            if self._latest is not None:
                self.progress = self._latest
        self.result = result
        state, message = DONE, ""
        if self.summarize is not None:
            try:
                state, message = self.summarize(result)
            except Exception as exc:  # noqa: BLE001 - a summary must never lose the result
                log.exception("summarizing job %s failed", self.title)
                message = core_text(exc)
        if self.cancel_event.is_set() and state == DONE:
            state = CANCELLED
        self.message = message
        self.ended_at = time.time()
        self._set_state(state)
        self.succeeded.emit(result)
        self.ended.emit()

    def _on_errored(self, exc: BaseException) -> None:
        self.error = exc
        self.error_details = getattr(exc, "__workstation_details__", "") or "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))
        cancelled = self.cancel_event.is_set() or type(exc).__name__ == "Cancelled"
        self.message = self.tr("cancelled") if cancelled else (core_text(exc) or type(exc).__name__)
        self.ended_at = time.time()
        if not cancelled:
            log.error("job %r failed: %s\n%s", self.title, exc, self.error_details)
        self._set_state(CANCELLED if cancelled else FAILED)
        self.failed.emit(exc)
        self.ended.emit()

    def cancel(self) -> None:
        if self.state in ACTIVE_STATES:
            self.cancel_event.set()
            self.message = self.tr("cancelling…")
            self.stateChanged.emit(self.state)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)

    # --- observed (external) jobs ----------------------------------------------------------------------------
    def set_external_progress(self, snap: JobProgress, state: str | None = None, message: str | None = None) -> None:
        """Update an observed job (e.g. an incoming association) from the GUI thread."""
        self.progress = snap
        if message is not None:
            self.message = message
        self.progressed.emit(snap)
        if state is not None and state != self.state:
            if state not in ACTIVE_STATES:
                self.ended_at = time.time()
            self._set_state(state)

    # --- derived figures -------------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.time()) - self.started_at

    def speed(self) -> float | None:
        """Items per second so far, or None before there is anything to measure."""
        t = self.elapsed()
        if t <= 0.2 or not self.progress.done:
            return None
        return self.progress.done / t

    def fraction(self) -> float | None:
        p = self.progress
        if p.total:
            return min(1.0, p.done / p.total)
        if self.state == DONE:
            return 1.0
        return None

    def report_text(self) -> str:
        """A plain-text report for the history (what, when, outcome, details)."""
        lines = [self.title, f"state: {self.state}"]
        if self.started_at:
            lines.append("started: " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at)))
            lines.append(f"duration: {self.elapsed():.1f} s")
        p = self.progress
        if p.total or p.done:
            lines.append(f"progress: {p.done}/{p.total if p.total is not None else '?'}"
                         + (f", {p.failed} failed" if p.failed else ""))
        if self.message:
            lines.append(f"outcome: {self.message}")
        result = self.result
        if result is not None:
            to_dict = getattr(result, "to_dict", None)
            if callable(to_dict):
                try:
                    import json

                    lines.append(json.dumps(to_dict(), indent=2, default=str))
                except Exception:  # noqa: BLE001
                    lines.append(repr(result))
        if self.error_details:
            lines.append(self.error_details)
        return "\n".join(lines)

    def recipe(self) -> tuple:
        return (self.kind, self.title, self.func, self.args, self.kwargs, self.summarize, self.pass_progress,
                self.pass_cancel)


class JobManager(QtCore.QObject):
    """Every job of the session, newest last; emits when one is added or changes."""

    jobAdded = QtCore.Signal(object)
    jobChanged = QtCore.Signal(object)
    activeCountChanged = QtCore.Signal(int)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        configure_thread_pool()
        self.jobs: list[Job] = []

    def submit(self, job: Job, start: bool = True) -> Job:
        job.setParent(self)
        self.jobs.append(job)
        job.progressed.connect(lambda _snap, j=job: self.jobChanged.emit(j))
        job.stateChanged.connect(lambda _s, j=job: self._changed(j))
        self.jobAdded.emit(job)
        if start and not job.external:
            job.start()
        self.activeCountChanged.emit(self.active_count())
        return job

    def run(self, kind: str, title: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
        """Build, register and start a job (keyword arguments as for :class:`Job`)."""
        return self.submit(Job(kind, title, func, *args, **kwargs))

    def _changed(self, job: Job) -> None:
        self.jobChanged.emit(job)
        self.activeCountChanged.emit(self.active_count())

    def retry(self, job: Job) -> Job:
        kind, title, func, args, kwargs, summarize, pp, pc = job.recipe()
        new = Job(kind, title, func, *args, summarize=summarize, pass_progress=pp, pass_cancel=pc, **kwargs)
        new.retry_of = job
        return self.submit(new)

    def active_count(self) -> int:
        return sum(1 for j in self.jobs if j.is_active)

    def cancel_all(self) -> None:
        for job in self.jobs:
            job.cancel()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Process events until no job runs (tests and shutdown)."""
        from PySide6 import QtWidgets

        deadline = time.monotonic() + timeout
        app = QtWidgets.QApplication.instance()
        while self.active_count() and time.monotonic() < deadline:
            if app is not None:
                app.processEvents(QtCore.QEventLoop.AllEvents, 50)
            time.sleep(0.01)
        return not self.active_count()
