"""What an import reads: the files under the paths given, ZIP members and DICOMDIR media checked against their
listing (``workstation.archive.importer`` reads and stores them)."""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterator

from workstation.dicom.dicomdir import DicomdirListing, read_dicomdir

if TYPE_CHECKING:
    from workstation.archive.importer import ImportReport

_MAX_ZIP_MEMBER = 2 * 1024**3


@dataclass
class Source:
    """One file to import: a file, or an entry of a ZIP archive."""

    label: str  # what the user sees in the report
    path: Path  # the file, or the ZIP archive holding it
    member: str | None = None  # ZIP entry name
    size: int = 0


def walk(storage_root: Path, roots: list[Path], report: "ImportReport") -> Iterator[Source]:
    """The files to import under ``roots``, each once (symlink loops cut, the archive's own storage left out),
    with ZIP members; what cannot be read is rejected in ``report``, with why; DICOMDIR listings are compared
    with what was found (``report.dicomdirs``)."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    storage_root = storage_root.resolve()
    for root in roots:
        try:
            st = root.stat()
        except OSError as exc:
            report.reject(str(root), f"cannot read: {exc.strerror or exc}")
            continue
        if root.is_dir():
            yield from _walk_dir(root, report, seen_dirs, seen_files, storage_root)
        elif not stat.S_ISREG(st.st_mode):
            report.reject(str(root), _not_regular(st.st_mode))
        elif root.name.upper() == "DICOMDIR":
            # The DICOMDIR itself names the medium: import its folder and check it against the listing.
            yield from _walk_dir(root.parent, report, seen_dirs, seen_files, storage_root)
        elif _is_zip(root):
            yield from _walk_zip(root, report)
        else:
            key = (st.st_dev, st.st_ino)
            if key not in seen_files:
                seen_files.add(key)
                yield Source(str(root), root, size=st.st_size)


def _walk_dir(
    top: Path,
    report: "ImportReport",
    seen_dirs: set[tuple[int, int]],
    seen_files: set[tuple[int, int]],
    storage_root: Path,
) -> Iterator[Source]:
    listings: list[tuple[Path, DicomdirListing]] = []
    found: dict[Path, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(top, followlinks=True, onerror=lambda e: report.reject(
            str(getattr(e, "filename", top)), f"cannot read folder: {e.strerror or e}")):
        here = Path(dirpath)
        try:
            st = here.stat()
        except OSError:
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs or _inside(here, storage_root):
            dirnames[:] = []  # a symlink loop, a folder seen already, or the archive itself
            continue
        seen_dirs.add(key)
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            try:
                fst = path.stat()
            except OSError as exc:
                report.reject(str(path), f"cannot read: {exc.strerror or exc}")
                continue
            fkey = (fst.st_dev, fst.st_ino)
            if fkey in seen_files:
                continue
            seen_files.add(fkey)
            if not stat.S_ISREG(fst.st_mode):
                # A FIFO would block the first read forever; sockets and devices are no files to import.
                report.reject(str(path), _not_regular(fst.st_mode))
                continue
            if name.upper() == "DICOMDIR":
                # Not an instance, and not skipped either: it is read for the medium's reconciliation below.
                listing = read_dicomdir(path)
                listings.append((path, listing))
                continue
            if _is_zip(path):
                yield from _walk_zip(path, report)
                continue
            found.setdefault(here, []).append(path)
            yield Source(str(path), path, size=fst.st_size)
    for path, listing in listings:
        report.dicomdirs.append(_compare_listing(path, listing, found))


def _compare_listing(dicomdir: Path, listing: DicomdirListing, found: dict[Path, list[Path]]) -> dict[str, Any]:
    """What the DICOMDIR lists against what the walk found (names resolved case-insensitively, ISO 9660)."""
    base = dicomdir.parent
    present: dict[str, Path] = {}
    for folder, files in found.items():
        if not _inside(folder, base):
            continue
        for f in files:
            present[f.relative_to(base).as_posix().upper()] = f
    listed = set()
    missing = []
    for ref in listing.references:
        key = ref.upper()
        if key in present:
            listed.add(key)
        else:
            missing.append(ref)
    return {
        "path": str(dicomdir),
        "listed": len(listing.references),
        "found": len(listed),
        "missing": missing,
        "not_listed": sorted(str(present[k]) for k in set(present) - listed),
        "problems": listing.problems,
    }


def _walk_zip(path: Path, report: "ImportReport") -> Iterator[Source]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        report.reject(str(path), f"unreadable ZIP archive: {exc}")
        return
    for info in infos:
        if info.is_dir():
            continue
        label = f"{path}!{info.filename}"
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or ":" in info.filename.split("/")[0]:
            report.reject(label, "unsafe path in ZIP archive (absolute or '..'): not imported")
            continue
        if info.flag_bits & 0x1:
            report.reject(label, "encrypted ZIP entry")
            continue
        if info.file_size > _MAX_ZIP_MEMBER:
            report.reject(label, f"ZIP entry too large ({info.file_size} bytes)")
            continue
        if PurePosixPath(info.filename).name.upper() == "DICOMDIR":
            continue  # a media directory, not an instance (the ZIP's members are imported whatever it lists)
        yield Source(label, path, member=info.filename, size=info.file_size)


def _not_regular(mode: int) -> str:
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a plain file")
    return f"not a regular file ({kind}): not read"


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    if len(head) == 132 and head[128:] == b"DICM":
        return False
    return head[:4] == b"PK\x03\x04" and zipfile.is_zipfile(path)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False
