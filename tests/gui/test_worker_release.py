"""Background workers are freed once they have finished.

A worker kept in a set until its ``finished`` signal, by a slot that held the worker itself (``lambda w=worker:
keep.discard(w)``), was held by its own signal's connection and never freed, with its arguments and result: two per
viewer opened (presentation-state catalogue, key images), one per browser refresh.
"""

from __future__ import annotations

import gc
import weakref

from superqt.utils import create_worker

from workstation.gui.common import keep_while_running


def test_a_kept_worker_is_freed_when_it_has_finished(qtbot):
    keep: set = set()
    worker = create_worker(lambda: 1, _start_thread=False)
    ref = weakref.ref(worker)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        keep_while_running(worker, keep)
    del worker
    qtbot.waitUntil(lambda: not keep, timeout=5000)
    qtbot.waitUntil(lambda: gc.collect() >= 0 and ref() is None, timeout=3000)

