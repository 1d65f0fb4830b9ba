"""The GUI's doors from the command line: ``workstation`` (no command) and ``workstation view PATH_OR_UID``.

Qt is imported lazily inside the handlers, so every other command stays headless (import-linter allows
``workstation.cli.gui_cmds -> workstation.gui.**`` and nothing else).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from workstation.cli.context import CommandError, Context


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "view",
        help="open the image viewer on files, folders or archived UIDs",
        description="Open the viewer on DICOM files, folders (every file under them), or the series, study or "
        "instance UID (also accession number or patient ID) of something in the archive.",
    )
    p.add_argument("targets", nargs="+", metavar="PATH_OR_UID", help="file, folder or archived identifier")
    p.set_defaults(func=view_cmd)


def _require_display() -> None:
    if os.name == "posix" and not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY")) \
            and not os.environ.get("QT_QPA_PLATFORM") and not _is_macos():
        raise CommandError("no display: the GUI needs an X11 or Wayland session (set DISPLAY, or run "
                           "the headless commands; see `workstation --help`)", 2)


def _require_system_libraries() -> None:
    """Qt aborts the process when its platform plugin cannot load: find out first and say what to install."""
    import logging

    from workstation.gui.system_libs import check_x11

    problem = check_x11()
    if problem:
        logging.getLogger("workstation.gui").error("%s", problem)
        raise CommandError(problem, 2)


def _is_macos() -> bool:
    import sys

    return sys.platform == "darwin"


def open_gui(args: argparse.Namespace, ctx: Context) -> int:
    """No command: the main window over the archive of ``--data-dir`` / the default data dir."""
    _require_display()
    settings = ctx.settings
    _require_system_libraries()
    archive = ctx.archive
    from workstation.gui.main_window import run_app

    return run_app(settings, archive)


def resolve_targets(targets: list[str], ctx: Context) -> list[Any]:
    """Viewer items: file paths (a group) and, for archived identifiers, one path list per series."""
    from workstation.archive import ArchiveError

    items: list[Any] = []
    for target in targets:
        if os.path.exists(target):
            if os.path.basename(target).upper() == "DICOMDIR":  # "Open with" on a CD's DICOMDIR: the whole medium
                target = os.path.dirname(os.path.abspath(target))
            if os.path.isdir(target):
                files = []
                for root, _dirs, names in os.walk(target):
                    files.extend(os.path.join(root, n) for n in sorted(names) if n.upper() != "DICOMDIR")
                if not files:
                    raise CommandError(f"the folder {target} holds no files")
                items.extend(files)
            else:
                items.append(os.path.abspath(target))
            continue
        try:
            found = ctx.archive.lookup(target)
        except ArchiveError as exc:
            raise CommandError(str(exc)) from None
        if not found:
            raise CommandError(f"{target!r} is neither a file or folder nor a UID, accession number or patient ID "
                               f"in the archive at {ctx.settings.data_dir}")
        hit = found[0]
        level = hit["level"]
        key = {"instance": "SOPInstanceUID", "series": "SeriesInstanceUID", "study": "StudyInstanceUID",
               "patient": "PatientID"}[level]
        rows = ctx.archive.query("instance", {key: hit[key]})
        groups: dict[str, list[str]] = {}
        for r in rows:
            groups.setdefault(r["SeriesInstanceUID"], []).append(r["path"])
        items.extend(groups.values())
    return items


def view_cmd(args: argparse.Namespace, ctx: Context) -> int:
    items = resolve_targets(args.targets, ctx)
    _require_display()
    _require_system_libraries()
    from workstation.gui.viewer.launch import run_viewer

    return run_viewer(items, ctx.settings)
