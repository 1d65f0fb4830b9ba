"""Opening the MPR window on the series of a viewer's active viewport (the "MPR" action, key M)."""

from __future__ import annotations

from PySide6 import QtCore

# Open MPR windows: parentless top-level windows need an owner on the Python side; each leaves when destroyed.
_OPEN: set = set()


def open_mpr(win):
    """An MPR window for ``win``'s active viewport's series, or None (with a status message) when it shows none."""
    vp = getattr(win, "active", None)
    entry = getattr(vp, "entry", None)
    if entry is None or entry.stack is None:
        win.statusBar().showMessage(QtCore.QCoreApplication.translate(
            "ViewerWindow", "MPR: the active viewport shows no image series"), 5000)
        return None
    from workstation.gui.mpr.window import MPRWindow

    h = entry.header or {}
    title = " ".join(str(x) for x in (h.get("PatientName", ""), h.get("SeriesDescription", "") or entry.title) if x)
    mpr = MPRWindow([entry.stack], h, title=title.replace("^", " "))
    _OPEN.add(mpr)
    mpr.destroyed.connect(lambda *_a, m=mpr: _OPEN.discard(m))
    mpr.show()
    return mpr
