"""Series that arrive in an open viewer window: a prior of the study being read, already local or retrieved in the
background while the reader reads.

They join the window's series strip (labelled by study, as a comparison). When the window still shows what its
hanging protocol chose — the reader has not rearranged it — the protocol is applied again, so the prior takes the
cell the protocol keeps for it (current | prior); otherwise the layout stays as the reader left it and the status
bar says where the prior is. Opening runs off the GUI thread like every other series of the window.
"""

from __future__ import annotations

import weakref
from functools import partial

from PySide6 import QtCore
from superqt.utils import create_worker


def add_series(win, groups) -> bool:
    """Open ``groups`` (lists of paths, one per series) into viewer window ``win``; False if there is nothing to do
    (window closed, no groups, or every series already in it)."""
    if win is None or getattr(win, "_closed", True) or not groups:
        return False
    if not win.is_loaded:  # its own series are still opening: they come first
        win.loaded.connect(partial(_when_loaded, weakref.ref(win), list(groups)), QtCore.Qt.SingleShotConnection)
        return True
    shown = {str(p) for e in getattr(win, "entries", []) for p in e.paths}
    groups = [g for g in groups if g and str(g[0]) not in shown]
    if not groups:
        return False
    from workstation.gui.viewer.window import open_all

    worker = create_worker(open_all, groups, win.executor, win._budget(), win.opening_cancelled.is_set)
    worker.returned.connect(partial(_opened, weakref.ref(win)))
    win._start(worker)
    return True


def _when_loaded(win_ref, groups) -> None:
    add_series(win_ref(), groups)


def shows_study(win, study_uid: str) -> bool:
    """Whether ``win`` holds a series of ``study_uid`` (the current study a prior was fetched for)."""
    if win is None or getattr(win, "_closed", True):
        return False
    return any(str(e.header.get("StudyInstanceUID", "")) == study_uid for e in getattr(win, "entries", []))


def _close(entries) -> None:
    from workstation.gui.viewer.window import _close_entries

    _close_entries(entries)


def _opened(win_ref, entries) -> None:
    win = win_ref()
    if win is None or getattr(win, "_closed", True):
        _close(entries)
        return
    known = {e.key for e in win.entries}
    new = [e for e in entries if e.key not in known]
    _close([e for e in entries if e.key in known])
    if not new:
        return
    untouched = win.hanging.untouched()
    start = len(win.entries)
    win.entries.extend(new)
    for i, e in enumerate(new, start):
        win.thumbnails.add_entry(i, e)
    win.thumbnails.label_studies(win.entries)
    win._make_thumbnails(list(range(start, len(win.entries))))
    dates = sorted({_date(e) for e in new if _date(e)})
    if untouched:
        win.hanging.apply_best()
    text = QtCore.QCoreApplication.translate("ViewerWindow", "Prior %1 has arrived: in the series strip").replace(
        "%1", ", ".join(dates) or "?")
    win.statusBar().showMessage(text, 15000)
    win.seriesAdded.emit(len(new))


def _date(entry) -> str:
    d = str(entry.header.get("StudyDate") or "")
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and d.isdigit() else d

