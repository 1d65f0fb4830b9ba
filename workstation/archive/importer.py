"""Import files, folders, ZIP archives and CD/DVD media (DICOMDIR) into the archive, with a report.

Flow: walk the inputs (symlink loops cut, ZIP entries and DICOMDIR-listed files included) -> read each header
without pixel data in a small thread pool (I/O overlaps; pydicom holds the GIL for parsing) -> write the file
into storage atomically (copy mode) -> index in batches -> progress. Cancel stops at the next file: what was
written is indexed, nothing half-written stays (temp files are removed by the write itself).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

from workstation.archive.index import InstanceRecord
from workstation.archive.storage import StorageFull
from workstation.dicom.dicomdir import DicomdirListing, read_dicomdir
from workstation.dicom.header import Header, NotDicom, Unusable, read_header

if TYPE_CHECKING:
    from workstation.archive.archive import Archive

log = logging.getLogger(__name__)

_BATCH = 200
_BATCH_SECONDS = 0.5
_MAX_ZIP_MEMBER = 2 * 1024**3


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class ImportProgress:
    done: int
    total: int
    bytes_done: int
    current: str = ""


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    dicomdirs: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    bytes: int = 0
    seconds: float = 0.0

    def reject(self, path: str, reason: str) -> None:
        self.rejected.append({"path": path, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }
        if self.dicomdirs:
            out["dicomdir"] = self.dicomdirs
        if self.cancelled:
            out["cancelled"] = True
        return out


@dataclass
class _Source:
    label: str  # what the user sees in the report
    path: Path  # the file, or the ZIP archive holding it
    member: str | None = None  # ZIP entry name
    size: int = 0


@dataclass
class _Result:
    source: _Source
    kind: str  # "ok" | "duplicate" | "skipped" | "rejected"
    record: InstanceRecord | None = None
    reason: str = ""


def import_paths(
    archive: "Archive",
    paths: Iterable[str | os.PathLike[str]],
    *,
    link: bool | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import ``paths`` into ``archive``. ``link`` (default: the import_mode setting) indexes files in place."""
    started = time.monotonic()
    link = archive.settings.import_mode == "link" if link is None else link
    report = ImportReport()
    sources = list(_walk(archive, [Path(p) for p in paths], report))
    total = len(sources)
    overwrite = archive.settings.duplicate_policy == "overwrite"
    workers = workers or min(4, (os.cpu_count() or 2) * 2)
    zips: dict[Path, zipfile.ZipFile] = {}
    zips_lock = threading.Lock()
    batch: list[InstanceRecord] = []
    last_flush = time.monotonic()
    done = 0

    def flush() -> None:
        nonlocal batch, last_flush
        if batch:
            added, dups = archive.add_records(batch)
            report.imported += len(added)
            report.duplicates += len(dups)
            batch = []
        last_flush = time.monotonic()

    def prepare(src: _Source) -> _Result:
        return _prepare(archive, src, link, overwrite, zips, zips_lock)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
            pending: set[Future[_Result]] = set()
            queue = iter(sources)
            exhausted = False
            while True:
                while not exhausted and len(pending) < workers * 4:
                    if cancel is not None and cancel.is_set():
                        report.cancelled = True
                        exhausted = True
                        break
                    src = next(queue, None)
                    if src is None:
                        exhausted = True
                        break
                    pending.add(pool.submit(prepare, src))
                if not pending:
                    break
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    try:
                        res = fut.result()
                    except StorageFull:
                        # The disk is full: index what was completely written, then stop with the error.
                        flush()
                        raise
                    done += 1
                    report.bytes += res.source.size
                    if res.kind == "ok" and res.record is not None:
                        batch.append(res.record)
                    elif res.kind == "duplicate":
                        report.duplicates += 1
                    elif res.kind == "skipped":
                        report.skipped += 1
                    else:
                        report.reject(res.source.label, res.reason)
                    if progress is not None:
                        progress(ImportProgress(done, total, report.bytes, res.source.label))
                if len(batch) >= _BATCH or time.monotonic() - last_flush > _BATCH_SECONDS:
                    flush()
            flush()
    finally:
        for zf in zips.values():
            zf.close()
    report.seconds = time.monotonic() - started
    log.info(
        "import: %d imported, %d duplicates, %d skipped, %d rejected%s in %.1f s",
        report.imported, report.duplicates, report.skipped, len(report.rejected),
        " (cancelled)" if report.cancelled else "", report.seconds,
    )
    return report


def _prepare(
    archive: "Archive",
    src: _Source,
    link: bool,
    overwrite: bool,
    zips: dict[Path, zipfile.ZipFile],
    zips_lock: threading.Lock,
) -> _Result:
    """Read, check and (copy mode) store one source. Runs on a worker thread; never raises."""
    try:
        data: bytes | None = None
        if src.member is not None:
            with zips_lock:
                zf = zips.get(src.path)
                if zf is None:
                    zf = zips[src.path] = zipfile.ZipFile(src.path)
                data = zf.read(src.member)
            header = read_header(data, name=src.label)
        else:
            header = read_header(src.path, name=src.label)
    except NotDicom as exc:
        return _Result(src, "skipped", reason=str(exc))
    except Unusable as exc:
        return _Result(src, "rejected", reason=str(exc))
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:
        return _Result(src, "rejected", reason=f"unreadable: {exc}")
    except Exception as exc:  # noqa: BLE001 - no input may crash an import
        log.exception("unexpected failure reading %s", src.label)
        return _Result(src, "rejected", reason=f"unreadable: {type(exc).__name__}: {exc}")
    sop_uid = header.sop_instance_uid
    if not overwrite and archive.index.has_instance(sop_uid):
        return _Result(src, "duplicate")
    try:
        if link and data is None:
            path = src.path.resolve()
            return _Result(src, "ok", InstanceRecord(header.attributes, src.size, str(path)))
        if data is not None:
            archive.storage.write_bytes(sop_uid, data)
        else:
            archive.storage.copy_file(sop_uid, src.path)
    except StorageFull:
        raise
    except OSError as exc:
        return _Result(src, "rejected", reason=f"cannot copy into the archive: {exc.strerror or exc}")
    return _Result(src, "ok", InstanceRecord(header.attributes, src.size or len(data or b"")))


# --- walking the inputs --------------------------------------------------------------------------------------


def _walk(archive: "Archive", roots: list[Path], report: ImportReport) -> Iterator[_Source]:
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    storage_root = archive.storage.root.resolve()
    for root in roots:
        try:
            st = root.stat()
        except OSError as exc:
            report.reject(str(root), f"cannot read: {exc.strerror or exc}")
            continue
        if root.is_dir():
            yield from _walk_dir(root, report, seen_dirs, seen_files, storage_root)
        elif root.name.upper() == "DICOMDIR":
            # The DICOMDIR itself names the medium: import its folder and check it against the listing.
            yield from _walk_dir(root.parent, report, seen_dirs, seen_files, storage_root)
        elif _is_zip(root):
            yield from _walk_zip(root, report)
        else:
            key = (st.st_dev, st.st_ino)
            if key not in seen_files:
                seen_files.add(key)
                yield _Source(str(root), root, size=st.st_size)


def _walk_dir(
    top: Path,
    report: ImportReport,
    seen_dirs: set[tuple[int, int]],
    seen_files: set[tuple[int, int]],
    storage_root: Path,
) -> Iterator[_Source]:
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
            if name.upper() == "DICOMDIR":
                report.skipped += 1
                listing = read_dicomdir(path)
                listings.append((path, listing))
                continue
            if _is_zip(path):
                yield from _walk_zip(path, report)
                continue
            found.setdefault(here, []).append(path)
            yield _Source(str(path), path, size=fst.st_size)
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


def _walk_zip(path: Path, report: ImportReport) -> Iterator[_Source]:
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
            report.skipped += 1
            continue
        yield _Source(label, path, member=info.filename, size=info.file_size)


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
