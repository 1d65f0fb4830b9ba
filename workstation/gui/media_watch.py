"""Notice a disc or USB stick with a DICOMDIR being mounted, so the app can offer to import it (as Horos does)."""

from __future__ import annotations

from typing import Callable

from PySide6 import QtCore

from workstation.gui import operations as ops


class MediaWatcher(QtCore.QObject):
    """Looks for mounted media with a DICOMDIR every ``interval_ms`` (off the GUI thread: a network mount can be
    slow to list). ``appeared(dicomdir_path)`` for media that were not there at the previous look; what is mounted
    when the watcher starts is taken as known (no offer at start-up). Media that go away and come back are offered
    again."""

    appeared = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None, *, interval_ms: int = 3000,
                 roots: Callable[[], list[str]] | None = None):
        super().__init__(parent)
        self._roots = roots
        self._known: set[str] | None = None  # None until the first look
        self._busy = False
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.look)

    def start(self) -> None:
        self.look()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def look(self) -> None:
        if self._busy:
            return
        self._busy = True
        roots = self._roots() if self._roots is not None else None
        ops.run_quick(self, ops.find_dicomdir_media, roots, on_result=self._seen, on_error=self._failed)

    def _failed(self, _exc: BaseException) -> None:
        self._busy = False

    def _seen(self, found: list[str]) -> None:
        self._busy = False
        now = set(found)
        if self._known is not None:
            for path in sorted(now - self._known):
                self.appeared.emit(path)
        self._known = now
