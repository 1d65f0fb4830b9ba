"""The job model: progress reaches the GUI thread throttled, failures keep details, cancel and retry."""

from __future__ import annotations

import threading
import time

from workstation.gui.jobs import Job, JobManager


def _work(n, *, progress=None, cancel=None):
    for i in range(n):
        if cancel.is_set():
            raise RuntimeError("stopped")
        progress((i + 1, n))
        time.sleep(0.001)
    return n


def test_progress_result_and_thread(qtbot):
    manager = JobManager()
    seen_threads = set()
    job = Job("test", "count", _work, 300)
    job.progressed.connect(lambda _p: seen_threads.add(threading.current_thread().name))
    with qtbot.waitSignal(job.ended, timeout=10000):
        manager.submit(job)
    assert job.state == "done" and job.result == 300
    assert job.progress.done == 300 and job.fraction() == 1.0
    assert seen_threads == {threading.main_thread().name}
    assert manager.active_count() == 0


def test_failure_cancel_and_retry(qtbot):
    manager = JobManager()

    def boom(*, progress=None, cancel=None):
        raise ValueError("the file is broken")

    job = Job("test", "boom", boom)
    with qtbot.waitSignal(job.ended, timeout=10000):
        manager.submit(job)
    assert job.state == "failed" and job.message == "the file is broken"
    assert "ValueError" in job.error_details and "boom" in job.report_text()

    slow = Job("test", "slow", _work, 100000)
    manager.submit(slow)
    qtbot.waitUntil(lambda: slow.progress.done > 0, timeout=5000)
    with qtbot.waitSignal(slow.ended, timeout=10000):
        slow.cancel()
    assert slow.state == "cancelled"
    again = manager.retry(job)
    assert again.retry_of is job and again.title == job.title
    qtbot.waitUntil(lambda: not again.is_active, timeout=5000)
    assert again.state == "failed"
