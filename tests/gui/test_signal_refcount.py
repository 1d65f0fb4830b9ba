"""PySide6 6.12.0 on Python 3.11 drops a reference to True per Signal.emit() and aborts the interpreter after
~1,000 emits. pyproject pins PySide6 below 6.12 on Python < 3.12; this test catches a regression."""

from __future__ import annotations

import sys

from PySide6 import QtCore


class _Emitter(QtCore.QObject):
    fired = QtCore.Signal(bool)
    plain = QtCore.Signal()


def test_emit_keeps_refcount_of_true(qapp):
    emitter = _Emitter()
    seen = []
    emitter.fired.connect(lambda v: seen.append(v) if len(seen) < 1 else None)
    emitter.plain.connect(lambda: None)
    before = sys.getrefcount(True)
    for _ in range(5000):
        emitter.fired.emit(True)
        emitter.plain.emit()
    after = sys.getrefcount(True)
    # Immortal objects (3.12+) report a huge constant; on 3.11 a leak shows as a drop of ~5,000.
    assert abs(after - before) < 50, f"refcount of True went from {before} to {after}"
    assert seen == [True]
