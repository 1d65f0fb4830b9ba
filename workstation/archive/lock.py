"""Who else has the archive open: a shared lock per process, exclusive only to the first one in.

The first process to open an archive may clean up temp files and the trash (nobody else is writing); a marker
file tells it whether the previous session ended without closing, which calls for a full consistency check.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from workstation.archive.storage import fsync_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process cleanup coordination
    fcntl = None  # type: ignore[assignment]


_LOCKS: "weakref.WeakSet[ArchiveLock]" = weakref.WeakSet()


def _forget_in_child() -> None:
    """In a forked child (the importer's parser processes): drop the inherited descriptors of every archive lock
    without unlocking (an unlock would release the parent's lock, which shares the open file), so that the child
    never keeps an archive "open" after its parent is gone (a killed parent's next start must see the crash)."""
    for lock in list(_LOCKS):
        if lock._fd is not None:
            try:
                os.close(lock._fd)
            except OSError:
                pass
            lock._fd = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class ArchiveLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.marker = self.path.with_name(".open")
        self._fd: int | None = None
        _LOCKS.add(self)

    def acquire(self) -> tuple[bool, bool]:
        """Take the shared lock. Returns (first_user, previous_session_crashed)."""
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        first = True
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                first = False
        crashed = first and self.marker.exists()
        if first and not self.marker.exists():
            self.marker.touch()
            fsync_dir(self.marker.parent)  # the marker must survive a power loss: it triggers the full check
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        return first, crashed

    def try_exclusive(self) -> bool:
        if fcntl is None or self._fd is None:
            return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            # flock converts by unlocking first: a failed upgrade may have dropped our shared lock. Take it back.
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            return False

    def downgrade(self) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fd is None:
            return
        # The last one out removes the marker: a clean stop.
        if self.try_exclusive():
            try:
                self.marker.unlink()
            except FileNotFoundError:
                pass
        os.close(self._fd)
        self._fd = None

