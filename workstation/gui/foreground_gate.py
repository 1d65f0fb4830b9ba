"""The GUI side of :mod:`workstation.give_way`: background loops wait while the GUI thread handles events.

The GUI thread counts as busy from the first event it handles after being idle until its event loop is about to
wait again (``QAbstractEventDispatcher.aboutToBlock``; glib's ``awake`` comes only after the handlers, so events
are watched with an application event filter). A waiting thread goes on when the GUI is idle, or once the GUI has
been busy for :data:`MAX_BUSY_S`: a longer pass is a stall anyway (or the GUI thread is blocked outside its event
loop), and starving the background would only make the series open later.
"""

from __future__ import annotations

import threading
import time

from PySide6 import QtCore, QtWidgets

from workstation import give_way

MAX_BUSY_S = 0.05


class ForegroundGate(QtCore.QObject):
    """Installed once per application (:func:`install`)."""

    def __init__(self, app: QtCore.QCoreApplication):
        super().__init__(app)
        self._idle = threading.Event()
        self._idle.set()
        self._busy_since = 0.0
        self._gui_thread = threading.main_thread()
        dispatcher = QtCore.QAbstractEventDispatcher.instance(app.thread())
        if dispatcher is not None:
            dispatcher.aboutToBlock.connect(self._idle.set, QtCore.Qt.DirectConnection)
        app.installEventFilter(self)

    def eventFilter(self, _obj, _event) -> bool:  # noqa: N802 - Qt's name
        if self._idle.is_set():
            self._busy_since = time.monotonic()
            self._idle.clear()
        return False

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def wait(self) -> None:
        """Return when the GUI thread is idle, or has been busy for MAX_BUSY_S (at once on the GUI thread)."""
        if self._idle.is_set() or threading.current_thread() is self._gui_thread:
            return
        left = MAX_BUSY_S - (time.monotonic() - self._busy_since)
        if left > 0:
            self._idle.wait(left)


_GATE: ForegroundGate | None = None


def install() -> ForegroundGate | None:
    """The application's gate, installed on first call (None without a QApplication)."""
    global _GATE
    app = QtWidgets.QApplication.instance()
    if app is None:
        return None
    try:
        current = _GATE is not None and _GATE.parent() is app
    except RuntimeError:  # the gate's application was destroyed
        current = False
    if not current:
        _GATE = ForegroundGate(app)
        give_way.set_gate(_GATE.wait)
    return _GATE
