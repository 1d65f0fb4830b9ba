"""The core calls behind the main window's actions, as plain functions a job (or a test) can run.

Nothing here touches a widget except :func:`run_quick` and :func:`count_received_since`, which only start workers
and hand results to callbacks on the GUI thread.
"""

from __future__ import annotations

import getpass
import glob
import os
import sqlite3
from typing import Any, Callable

from PySide6 import QtCore
from superqt.utils import create_worker

from workstation.gui.jobs import CANCELLED, DONE, FAILED, PARTIAL
from workstation.gui.common import keep_while_running


# --- import --------------------------------------------------------------------------------------------------
def import_paths(archive: Any, paths: list[str], *, progress=None, cancel=None) -> Any:
    def report(p: Any) -> None:
        if progress is not None:
            progress((getattr(p, "done", 0), getattr(p, "total", None) or None))

    return archive.import_paths(paths, progress=report, cancel=cancel)


def _count(value: Any) -> int:
    return len(value) if isinstance(value, (list, tuple, set)) else int(value or 0)


class _ImportText(QtCore.QObject):
    """Counted texts through self.tr: lupdate marks those as plural forms (not module-level translate calls)."""

    def parts(self, imported: int, dups: int, skipped: int, rejected: int) -> list[str]:
        out = [self.tr("%n imported", "", imported)]
        if dups:
            out.append(self.tr("%n already in the archive", "", dups))
        if skipped:
            out.append(self.tr("%n skipped", "", skipped))
        if rejected:
            out.append(self.tr("%n rejected", "", rejected))
        return out

    def cancelled(self) -> str:
        return self.tr("(cancelled)")


def summarize_import(report: Any) -> tuple[str, str]:
    imported = _count(getattr(report, "imported", 0))
    dups = _count(getattr(report, "duplicates", 0))
    rejected = _count(getattr(report, "rejected", []))
    skipped = _count(getattr(report, "skipped", 0))
    words = _ImportText()
    text = ", ".join(words.parts(imported, dups, skipped, rejected))
    if getattr(report, "cancelled", False):
        return CANCELLED, text + " " + words.cancelled()
    if rejected and not imported and not dups:
        return FAILED, text
    return (PARTIAL if rejected else DONE), text


MEDIA_PATTERNS = ("/media/*", "/media/*/*", "/run/media/*/*", "/mnt/*", "/Volumes/*", "/cdrom")


def media_roots() -> list[str]:
    roots: list[str] = []
    for pattern in MEDIA_PATTERNS:
        roots.extend(p for p in glob.glob(pattern) if os.path.isdir(p))
    if os.name == "nt":  # pragma: no cover - drive letters
        roots.extend(f"{c}:\\" for c in "DEFGHIJKLMNOPQRSTUVWXYZ" if os.path.isdir(f"{c}:\\"))
    return roots


def find_dicomdir_media(roots: list[str] | None = None) -> list[str]:
    """Mounted media (or folders) whose top level holds a DICOMDIR (any case); the DICOMDIR paths."""
    found: list[str] = []
    for root in roots if roots is not None else media_roots():
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            if name.upper() in ("DICOMDIR", "DICOMDIR."):
                found.append(os.path.join(root, name))
                break
    return found


# --- paths ---------------------------------------------------------------------------------------------------
def series_groups(archive: Any, study_uid: str | None, series_uids: list[str] | None) -> list[list[str]]:
    """File paths grouped by series (the viewer's input), for a study or a list of series: each a
    :class:`workstation.reading.order.SeriesFiles` whose first path is the first image to show when the index
    knows it (so the viewer shows it before reading every header)."""
    from workstation.reading.order import series_files

    if study_uid:
        rows = archive.query("instance", {"StudyInstanceUID": study_uid})
    else:
        rows = archive.query("instance", {"SeriesInstanceUID": "\\".join(series_uids or [])})
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["SeriesInstanceUID"], []).append(r)
    return [series_files(g) for g in groups.values()]


def instance_paths(archive: Any, level: str, uids: list[str]) -> list[str]:
    key = {"study": "StudyInstanceUID", "series": "SeriesInstanceUID", "instance": "SOPInstanceUID"}[level]
    out: list[str] = []
    for start in range(0, len(uids), 200):
        chunk = uids[start:start + 200]
        out.extend(r["path"] for r in archive.query("instance", {key: "\\".join(chunk)}))
    return out


def first_path(archive: Any, level: str, row: dict[str, Any]) -> str | None:
    key = "StudyInstanceUID" if level == "study" else "SeriesInstanceUID"
    rows = archive.query("instance", {key: row[key]}, limit=1)
    return rows[0]["path"] if rows else None


# --- send / delete -------------------------------------------------------------------------------------------
def send_items(settings: Any, archive: Any, node: Any, level: str, uids: list[str], paths: list[str] | None, *,
               progress=None, cancel=None) -> Any:
    from workstation.net.scu.send import send

    if paths is None:
        paths = instance_paths(archive, level, uids)
    return send(settings, node, paths, progress=progress, cancel=cancel)


def summarize_send(report: Any) -> tuple[str, str]:
    if report.cancelled:
        return CANCELLED, report.summary()
    if report.exit_code == 0:
        return DONE, report.summary()
    return (PARTIAL if report.sent or report.warning else FAILED), report.summary()


def delete_items(archive: Any, level: str, uids: list[str], *, progress=None, cancel=None) -> int:
    total = 0
    for n, uid in enumerate(uids):
        if cancel is not None and cancel.is_set():
            break
        total += archive.delete(level, uid)
        if progress:
            progress((n + 1, len(uids)))
    return total


# --- small GUI helpers ---------------------------------------------------------------------------------------
def run_quick(owner: Any, func: Callable[..., Any], *args: Any, on_result: Callable[[Any], Any],
              on_error: Callable[[BaseException], Any] | None = None) -> Any:
    """A short query off the GUI thread (not an Activity job); the worker is kept alive on ``owner``."""
    worker = create_worker(func, *args, _start_thread=False, _ignore_errors=True)
    worker.returned.connect(on_result)
    if on_error is not None:
        worker.errored.connect(on_error)
    keep_while_running(worker, owner.__dict__.setdefault("_quick_workers", set()))
    return worker


def received_since(archive: Any, since: float) -> int:
    """Instances indexed since ``since`` (epoch seconds)."""
    try:
        return int(archive.count_received_since(since))
    except sqlite3.Error:
        return 0


def count_received_since(owner: Any, archive: Any, since: float, on_result: Callable[[int], Any]) -> None:
    run_quick(owner, received_since, archive, since, on_result=on_result)


def user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return ""
