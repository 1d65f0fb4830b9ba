"""Read a DICOMDIR's list of referenced files, safely (no path may leave the medium's root)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pydicom


@dataclass
class DicomdirListing:
    """Relative POSIX paths (as written on the medium) of every referenced file, and what was wrong."""

    references: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_dicomdir(path: Path) -> DicomdirListing:
    listing = DicomdirListing()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True)
            records = ds.get("DirectoryRecordSequence") or []
    except Exception as exc:  # noqa: BLE001 - a broken DICOMDIR means: scan the folder instead
        listing.problems.append(f"unreadable DICOMDIR ({type(exc).__name__}: {exc}); the folder was scanned instead")
        return listing
    seen = set()
    for record in records:
        try:
            ref = record.get("ReferencedFileID")
        except Exception:  # noqa: BLE001
            listing.problems.append("a directory record has an unreadable ReferencedFileID")
            continue
        if not ref:
            continue
        parts = [str(p).strip() for p in (ref if isinstance(ref, (list, tuple)) or hasattr(ref, "__iter__")
                                          and not isinstance(ref, str) else [ref])]
        parts = [p for p in parts if p]
        rel = PurePosixPath(*parts) if parts else None
        if rel is None:
            continue
        if rel.is_absolute() or ".." in rel.parts or any("/" in p or "\\" in p or ":" in p for p in parts):
            shown = "\\".join(parts)
            listing.problems.append(f"unsafe ReferencedFileID {shown!r} ignored")
            continue
        text = rel.as_posix()
        if text not in seen:
            seen.add(text)
            listing.references.append(text)
    return listing
