"""Logging set-up: a rotating file for the detail, stderr for what a person must see."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def setup_logging(log_dir: Path, verbose: bool = False, console: bool = True) -> Path | None:
    """Log everything at INFO (DEBUG when verbose) to ``log_dir/workstation.log``; warnings to stderr when verbose.

    Returns the log file path, or None when the folder cannot be written (logging then goes to stderr only).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_workstation", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    path: Path | None = log_dir / "workstation.log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        file_handler.setFormatter(logging.Formatter(_FORMAT))
        file_handler._workstation = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
    except OSError:
        path = None
    if console and verbose:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        stream.setLevel(logging.DEBUG)
        stream._workstation = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    # pynetdicom is chatty at DEBUG (every PDU); keep it at INFO unless asked.
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if verbose else logging.WARNING)
    return path
