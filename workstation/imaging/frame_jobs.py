"""The job side shared by the stacks the viewer reads (:class:`~workstation.imaging.stack.Stack` decodes frames,
:class:`~workstation.imaging.plane_stack.PlaneStack` reslices planes): one queued job per frame on an executor,
the error that stopped a frame, and listeners told from the worker thread when a frame is ready or failed.

A stack subclasses :class:`FrameJobs`, calls :meth:`_start_jobs` in its ``__init__`` and implements ``_job(index)``
(make the frame, keep it, return it; call :meth:`_finish` in its ``finally``). Caching stays the stack's own.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, Callable

log = logging.getLogger(__name__)


class FrameJobs:
    """Per-frame jobs, errors and listeners of a stack (thread-safe under ``self._lock``, an RLock)."""

    _listener_failure = "frame listener failed"  # the log line when a listener raises (the worker goes on)

    def _start_jobs(self, executor: Executor | None, max_workers: int, thread_name_prefix: str) -> None:
        """Set up the job state; without ``executor`` the stack owns a pool of ``max_workers`` threads."""
        self._lock = threading.RLock()
        self._own_executor = executor is None
        self._executor: Executor = executor or ThreadPoolExecutor(max_workers=max_workers,
                                                                  thread_name_prefix=thread_name_prefix)
        self._pending: dict[int, Future] = {}
        self._errors: dict[int, Exception] = {}
        self._listeners: list[Callable[[Any, int], None]] = []
        self._closed = False

    def _job(self, index: int) -> Any:  # pragma: no cover - every stack implements it
        raise NotImplementedError

    # -- listeners ---------------------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[Any, int], None]) -> None:
        """``callback(stack, index)`` is called from a worker thread when frame ``index`` is ready or failed."""
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Any, int], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    # -- jobs --------------------------------------------------------------------------------------------------
    def frame_error(self, index: int) -> Exception | None:
        """The error that stopped frame ``index``, if any."""
        with self._lock:
            return self._errors.get(index)

    def _submit(self, index: int) -> Future:
        """The job making frame ``index``: the queued one, else a new one."""
        with self._lock:
            fut = self._pending.get(index)
            if fut is None:
                fut = self._executor.submit(self._job, index)
                self._pending[index] = fut
            return fut

    def _finish(self, index: int) -> None:
        """End of a job (success or failure): no longer pending, every listener told."""
        with self._lock:
            self._pending.pop(index, None)
            listeners = list(self._listeners)
        for cb in listeners:
            try:
                cb(self, index)
            except Exception:  # noqa: BLE001 - a listener must not kill the worker thread
                log.exception(self._listener_failure)

    def _stop_jobs(self) -> None:
        """Mark closed and cancel the queued jobs (the caller drops its cache under the same lock)."""
        self._closed = True
        with self._lock:
            for fut in self._pending.values():
                fut.cancel()
            self._pending.clear()

    def _shutdown_executor(self) -> None:
        """Stop the pool if this stack owns it (a shared one belongs to its owner)."""
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["FrameJobs"]
