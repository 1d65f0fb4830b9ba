"""Entry point for ``workstation view PATH_OR_UID`` and for opening the viewer from elsewhere."""

from __future__ import annotations

import os
import sys


def run_viewer(paths_or_series: list, settings=None) -> int:
    """Open a :class:`ViewerWindow` on ``paths_or_series`` and run the Qt event loop until it closes.

    ``paths_or_series`` is a list of file paths (one group) and/or lists of paths (one per series). Creates the
    QApplication if there is none. Returns the exit code of the event loop (0 on a normal close).
    """
    from PySide6 import QtWidgets

    from workstation.gui.viewer.window import ViewerWindow

    app = QtWidgets.QApplication.instance()
    owns_app = app is None
    if owns_app:
        app = QtWidgets.QApplication(sys.argv[:1])
        app.setApplicationName("workstation viewer")
        from workstation.gui.i18n import install_translators

        install_translators(app, getattr(settings, "language", "") or None)
    win = ViewerWindow(list(paths_or_series), settings=settings)
    win.show()
    if owns_app:
        return int(app.exec())
    # Inside a running application (the app engineer's main window) the caller's loop drives the window.
    return 0


def open_viewer(paths_or_series: list, settings=None, parent=None, hanging: bool = False):
    """Create and show a viewer window inside an already running QApplication; returns the window.
    ``hanging``: arrange it by the matching hanging protocol once its series are open."""
    from workstation.gui.viewer.window import ViewerWindow

    win = ViewerWindow(list(paths_or_series), settings=settings, parent=parent, hanging=hanging)
    win.show()
    return win


def expand_paths(arguments: list[str]) -> list[str]:
    """Files as given, and every file under each directory (the CLI's PATH form)."""
    out: list[str] = []
    for a in arguments:
        if os.path.isdir(a):
            for root, _dirs, files in os.walk(a):
                out.extend(os.path.join(root, f) for f in sorted(files))
        else:
            out.append(a)
    return out
