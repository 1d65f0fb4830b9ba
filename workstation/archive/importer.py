"""Import files, folders, ZIP archives and CD/DVD media (DICOMDIR) into the archive, with a report.

Flow: walk the inputs (symlink loops cut, ZIP entries and DICOMDIR-listed files included) -> read each header
without pixel data -> write the file into storage atomically (copy mode) -> index in batches -> progress. Cancel
stops at the next file: what was written is indexed, nothing half-written stays (temp files are removed by the
write itself).

Where the time goes: parsing headers is pure Python and holds the GIL, so threads cannot parse in parallel (4
threads parsing and copying ran 2.5x slower than one, the copies waiting for the GIL behind the parsers). A large
import of plain files (``_PROCESS_MIN_FILES`` or more, and more than one CPU) therefore runs in a pool of parser
processes (forked where the importing process is single-threaded - the CLI -, spawned otherwise; one per CPU, fed
chunks of paths; they exit when the importer dies). In link mode they parse; in copy mode they also store each file
(their own Storage and SQLite connection, to skip instances already archived), so this process only indexes and
syncs. ZIP members and small imports use the thread pool (``processes=`` forces either way).

Durability: a row is committed to the index only after its file is durable. In copy mode a worker thread writes
a temp file (no sync) and renames it to its final name; before each index batch is committed, ``flush`` makes the
batch durable with one syncfs(2) of the archive's file system (Linux; elsewhere an fsync per file and folder), so
the kernel writes the batch back in large runs and commits its journal once, instead of once per file. So: a
committed row always has its complete file; a crash before the sync can leave a file without a row, complete
(the startup check indexes it) or, after a power loss, empty or short (the check reports it and never indexes
it; importing the file again replaces it); temp files are removed by the check.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from workstation.archive.import_walk import Source, walk
from workstation.archive.index import InstanceRecord
from workstation.archive.repair import link_reason, repair
from workstation.archive.storage import StorageFull
from workstation.dicom.header import Header, NotDicom, Unusable, read_header

if TYPE_CHECKING:
    from workstation.archive.archive import Archive

log = logging.getLogger(__name__)

_BATCH = 500
_BATCH_SECONDS = 0.5
# A batch goes to the committer as soon as it is idle and this long has passed: many small syncs keep the disk
# busy all along and leave a short one at the end (1,000 x 512 KiB in copy mode, eight paired rounds: median
# 0.83 s with 0.04 s against 1.23 s with batches of 0.5 s). A slow disk's syncs take longer, and the batches
# grow with them.
_MIN_BATCH_SECONDS = 0.04
# Parser processes pay off from about a thousand files when spawned (spawning one costs ~0.35 s of CPU, mostly
# importing pydicom, against ~0.3 ms of parsing saved per file on two CPUs); forked ones start in milliseconds.
_PROCESS_MIN_FILES = 1000
_PROCESS_MIN_FILES_FORK = 200
_CHUNK = 32  # paths per task sent to a parser process


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
    skipped_files: list[dict[str, str]] = field(default_factory=list)  # {path, reason}: why not imported
    repaired: list[dict[str, str]] = field(default_factory=list)  # {path, repair}: changed on the way in
    dicomdirs: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    bytes: int = 0
    seconds: float = 0.0

    def reject(self, path: str, reason: str) -> None:
        self.rejected.append({"path": path, "reason": reason})

    def skip(self, path: str, reason: str) -> None:
        self.skipped += 1
        self.skipped_files.append({"path": path, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "skipped_files": self.skipped_files,
            "rejected": self.rejected,
            "repaired": self.repaired,
        }
        if self.dicomdirs:
            out["dicomdir"] = self.dicomdirs
        if self.cancelled:
            out["cancelled"] = True
        return out


@dataclass
class _Result:
    source: Source
    kind: str  # "ok" | "duplicate" | "skipped" | "rejected"
    record: InstanceRecord | None = None
    reason: str = ""
    stored: Path | None = None  # the file written into storage, not yet synced (copy mode)
    note: str = ""  # a repair made on the way in (workstation.archive.repair)


def import_paths(
    archive: "Archive",
    paths: Iterable[str | os.PathLike[str]],
    *,
    link: bool | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
    processes: int | None = None,
) -> ImportReport:
    """Import ``paths`` into ``archive``. ``link`` (default: the import_mode setting) indexes files in place.

    ``workers``: I/O threads; ``processes``: header parser processes (default: one per CPU for large imports of
    plain files, 0 for none).
    """
    started = time.monotonic()
    link = archive.settings.import_mode == "link" if link is None else link
    report = ImportReport()
    sources = list(walk(archive.storage.root, [Path(p) for p in paths], report))
    total = len(sources)
    overwrite = archive.settings.duplicate_policy == "overwrite"
    workers = workers or min(4, (os.cpu_count() or 2) * 2)
    plain = [s for s in sources if s.member is None]
    context = _parser_context()
    if processes is None:
        # Not in a frozen app: a spawned child would start the app again unless its main calls freeze_support().
        cpus = os.cpu_count() or 1
        big = len(plain) >= (_PROCESS_MIN_FILES_FORK if context.get_start_method() == "fork"
                             else _PROCESS_MIN_FILES)
        processes = cpus if big and cpus > 1 and not getattr(sys, "frozen", False) else 0
    if processes > 0:
        threaded = [s for s in sources if s.member is not None]
        chunks = [plain[i : i + _CHUNK] for i in range(0, len(plain), _CHUNK)]
    else:
        threaded, chunks = sources, []
    zips: dict[Path, zipfile.ZipFile] = {}
    zips_lock = threading.Lock()
    batch: list[InstanceRecord] = []
    dirty: set[Path] = set()  # storage folders with renames not yet synced (see flush)
    written: list[Path] = []  # stored files whose data is not yet synced (see flush)
    last_flush = time.monotonic()
    done = 0

    # A batch is committed (synced, then indexed) on its own thread while the parsers go on storing the next one:
    # a syncfs takes 0.05-0.15 s, in which the loop below would otherwise feed no parser. One committer, so batches
    # are committed in order; at most two wait, so a slow disk holds the parsers back instead of piling up files.
    committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-commit")
    commits: list[Future[tuple[int, int]]] = []

    commit_failed = threading.Event()

    def commit(records: list[InstanceRecord], files: list[Path], folders: set[Path]) -> tuple[int, int]:
        # The batch's files are complete; their data and renames become durable here, before the rows. After a
        # failed commit (a full disk) the import stops as it did before: no later batch is indexed.
        if commit_failed.is_set():
            return 0, 0
        try:
            if files or folders:  # link mode writes nothing to sync
                archive.storage.sync_written(files, folders)
            added, dups = archive.add_records(records)
        except BaseException:
            commit_failed.set()
            raise
        return len(added), len(dups)

    def collect(wait_all: bool = False) -> None:
        while commits and (wait_all or commits[0].done() or len(commits) > 2):
            added, dups = commits.pop(0).result()  # StorageFull / OSError of the sync: the import stops with it
            report.imported += added
            report.duplicates += dups

    def flush(wait_all: bool = False) -> None:
        nonlocal batch, written, dirty, last_flush
        if batch:
            commits.append(committer.submit(commit, batch, written, dirty))
            batch, written, dirty = [], [], set()
        last_flush = time.monotonic()
        collect(wait_all)

    def account(res: _Result) -> None:
        nonlocal done
        done += 1
        report.bytes += res.source.size
        if res.kind == "ok" and res.record is not None:
            batch.append(res.record)
            if res.note:
                report.repaired.append({"path": res.source.label, "repair": res.note})
                log.info("import: %s: %s", res.source.label, res.note)
            if res.stored is not None:
                dirty.add(res.stored.parent)
                written.append(res.stored)
        elif res.kind == "duplicate":
            report.duplicates += 1
        elif res.kind == "skipped":
            report.skip(res.source.label, res.reason)
        else:
            report.reject(res.source.label, res.reason)
        if progress is not None:
            progress(ImportProgress(done, total, report.bytes, res.source.label))

    def parsed(chunk: list[Source], results: list[tuple[str, dict[str, Any] | None, str, str]]) -> None:
        """Results of a parser process: failures and duplicates (its own check) accounted for; in link mode the
        file's resolved path, in copy mode the file it stored (complete, not yet synced: the batch's flush)."""
        good: list[tuple[Source, dict[str, Any], str, str]] = []
        for src, (kind, attributes, extra, note) in zip(chunk, results):
            if attributes is None:
                account(_Result(src, kind, reason=extra))
            else:
                good.append((src, attributes, extra, note))
        existing: set[str] = set()
        if link and not overwrite and good:
            existing = archive.index.existing_instances(a["SOPInstanceUID"] for _, a, _, _ in good)
        for src, attributes, extra, note in good:
            if attributes["SOPInstanceUID"] in existing:
                account(_Result(src, "duplicate"))
            elif link:
                account(_Result(src, "ok", InstanceRecord(attributes, src.size, extra)))
            else:
                size = os.path.getsize(extra) if note else src.size
                account(_Result(src, "ok", InstanceRecord(attributes, size), stored=Path(extra), note=note))

    # Copy mode with parser processes: they store the files too (no GIL to share with copy threads); they need
    # the storage root and the index (their own connection) to skip instances already archived.
    target = None if link else (str(archive.storage.root), str(archive.index.path), overwrite)
    try:
        with ExitStack() as stack:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import"))
            parsers = None
            if chunks:
                parsers = stack.enter_context(ProcessPoolExecutor(
                    max_workers=processes, mp_context=context,
                    initializer=_parser_init, initargs=(os.getpid(),),
                ))
            pending: dict[Future[Any], list[Source] | None] = {}  # a chunk for a parser task, None for a thread
            in_threads = 0
            thread_queue = iter(threaded)
            fallback: list[Source] = []  # files a failed parser process left, taken first (pop from the end)
            chunk_queue = iter(chunks)
            stopping = False
            while True:
                if not stopping and cancel is not None and cancel.is_set():
                    report.cancelled = stopping = True
                if not stopping:
                    while in_threads < workers * 4:
                        src = fallback.pop() if fallback else next(thread_queue, None)
                        if src is None:
                            break
                        fut = pool.submit(_prepare, archive, src, link, overwrite, zips, zips_lock)
                        pending[fut] = None
                        in_threads += 1
                    in_parsers = len(pending) - in_threads
                    while parsers is not None and in_parsers < processes * 2:
                        chunk = next(chunk_queue, None)
                        if chunk is None:
                            break
                        try:
                            fut = parsers.submit(_parse_files, [(str(s.path), s.label) for s in chunk], link,
                                                 target)
                        except Exception:  # noqa: BLE001 - a broken pool: parse the rest in threads
                            log.warning("import: parser processes unavailable, parsing in threads", exc_info=True)
                            parsers = None
                            fallback.extend(reversed([s for c in (chunk, *chunk_queue) for s in c]))
                            break
                        pending[fut] = chunk
                        in_parsers += 1
                if not pending:
                    if fallback and not stopping:
                        continue
                    break
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = pending.pop(fut)
                    if chunk is not None:
                        try:
                            results = fut.result()
                        except Exception:  # noqa: BLE001 - a parser died (BrokenProcessPool): redo in threads
                            log.warning("import: a parser process failed, parsing its files in threads",
                                        exc_info=True)
                            fallback.extend(reversed(chunk))
                            continue
                        if not stopping or not link:
                            parsed(chunk, results)  # copy mode: stored files always get their rows
                        continue
                    in_threads -= 1
                    try:
                        res = fut.result()
                    except StorageFull:
                        # The disk is full: index what was completely written, then stop with the error.
                        flush(wait_all=True)
                        raise
                    account(res)
                since = time.monotonic() - last_flush
                if (len(batch) >= _BATCH or since > _BATCH_SECONDS
                        or (batch and since > _MIN_BATCH_SECONDS and (not commits or commits[-1].done()))):
                    flush()
                else:
                    collect()
            flush(wait_all=True)
    finally:
        # Never return (or raise) with a commit still running: its rows would land after the caller moved on.
        committer.shutdown(wait=True)
        for zf in zips.values():
            zf.close()
    if report.dicomdirs:
        # "Not listed" names files found beside a DICOMDIR that were imported all the same; those skipped or
        # rejected are named there already.
        left_out = {r["path"] for r in report.skipped_files} | {r["path"] for r in report.rejected}
        for d in report.dicomdirs:
            d["not_listed"] = [p for p in d["not_listed"] if p not in left_out]
    report.seconds = time.monotonic() - started
    log.info(
        "import: %d imported, %d duplicates, %d skipped, %d rejected%s in %.1f s",
        report.imported, report.duplicates, report.skipped, len(report.rejected),
        " (cancelled)" if report.cancelled else "", report.seconds,
    )
    return report


def _read(source: Path | str | bytes, label: str) -> tuple[Header | None, str, str]:
    """(header, "ok", "") or (None, "skipped" | "rejected", reason). Never raises."""
    try:
        return read_header(source, name=label), "ok", ""
    except NotDicom as exc:
        return None, "skipped", str(exc)
    except Unusable as exc:
        return None, "rejected", str(exc)
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:
        return None, "rejected", f"unreadable: {exc}"
    except Exception as exc:  # noqa: BLE001 - no input may crash an import
        log.exception("unexpected failure reading %s", label)
        return None, "rejected", f"unreadable: {type(exc).__name__}: {exc}"


# --- parser processes ----------------------------------------------------------------------------------------


def _parser_context() -> Any:
    """Fork where it is safe - Linux, and this process runs a single thread (the CLI; never the GUI, whose other
    threads could hold locks a forked child would inherit held) - as a forked parser starts at once with pydicom
    already imported; spawn otherwise. A forked child only parses: it never touches the index's SQLite
    connections it inherits, and leaves through os._exit (multiprocessing's way), which closes none of them."""
    if sys.platform.startswith("linux") and threading.active_count() == 1 and not getattr(sys, "frozen", False):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _parser_init(parent: int) -> None:
    """In a parser process: leave Ctrl-C to the importer, and never outlive it (a SIGKILLed importer cannot
    shut its pool down, and the workers would wait on their pipe forever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # Die with the importer at once (PR_SET_PDEATHSIG): a copy-mode worker that outlived a killed importer by
        # the watch thread's half second would store files after the next start's check had run.
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:
            os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_WORKER_STORE: dict[str, Any] = {}  # in a parser process: its Storage and index connection, made once


def _parse_files(files: list[tuple[str, str]], link: bool, target: tuple[str, str, bool] | None = None
                 ) -> list[tuple[str, dict[str, Any] | None, str, str]]:
    """In a parser process: (kind, attributes, resolved path in link mode | stored path in copy mode, repair
    note) or (kind, None, reason, "") per file. In copy mode (``target`` = storage root, index path, overwrite)
    the file is stored here without sync (the importer syncs each batch before its rows), unless the index has it
    already."""
    out: list[tuple[str, dict[str, Any] | None, str, str]] = []
    headers = [_read(path, label) for path, label in files]
    existing: set[str] = set()
    if not link and target is not None and not target[2]:
        # One query for the chunk, not one per file.
        sops = [h.sop_instance_uid for h, _, _ in headers if h is not None]
        if sops:
            con = _worker_store(target)[1]
            marks = ",".join("?" * len(sops))
            existing = {r[0] for r in con.execute(f"SELECT sop_uid FROM instances WHERE sop_uid IN ({marks})", sops)}
    for (path, label), (header, kind, reason) in zip(files, headers):
        if header is None:
            out.append((kind, None, reason, ""))
            continue
        note = ""
        try:
            if link:
                if header.from_meta:
                    out.append(("rejected", None, link_reason(header), ""))
                else:
                    out.append(("ok", header.attributes, os.path.realpath(path), ""))
                continue
            assert target is not None
            storage = _worker_store(target)[0]
            sop = header.sop_instance_uid
            if sop in existing:
                out.append(("duplicate", None, "", ""))
                continue
            if header.from_meta:
                try:
                    data, fixed, note = repair(path, header, label)
                except Unusable as exc:
                    out.append(("rejected", None, str(exc), ""))
                    continue
                header = fixed
                dest = storage.write_bytes(sop, header.attributes["SeriesInstanceUID"], data, fsync=False,
                                           sync_dir=False)
            else:
                dest = storage.copy_file(sop, header.attributes["SeriesInstanceUID"], Path(path), fsync=False,
                                         sync_dir=False)
        except StorageFull:
            raise  # the importer redoes the chunk in threads, which stop the import with it
        except OSError as exc:
            out.append(("rejected", None, f"cannot copy into the archive: {exc.strerror or exc}", ""))
            continue
        out.append(("ok", header.attributes, str(dest), note))
    return out


def _worker_store(target: tuple[str, str, bool]) -> tuple[Any, Any]:
    """The parser process's own Storage and SQLite connection (never the forked parent's)."""
    import sqlite3

    from workstation.archive.storage import Storage

    key = f"{target[0]}|{target[1]}"
    found = _WORKER_STORE.get(key)
    if found is None:
        con = sqlite3.connect(target[1], timeout=30.0, check_same_thread=False, isolation_level=None)
        found = _WORKER_STORE[key] = (Storage(Path(target[0])), con)
    return found


def _prepare(
    archive: "Archive",
    src: Source,
    link: bool,
    overwrite: bool,
    zips: dict[Path, zipfile.ZipFile],
    zips_lock: threading.Lock,
) -> _Result:
    """Read, check and (copy mode) store one source. Runs on a worker thread; never raises but StorageFull."""
    data: bytes | None = None
    if src.member is not None:
        try:
            with zips_lock:
                zf = zips.get(src.path)
                if zf is None:
                    zf = zips[src.path] = zipfile.ZipFile(src.path)
                data = zf.read(src.member)
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:
            return _Result(src, "rejected", reason=f"unreadable: {exc}")
        except Exception as exc:  # noqa: BLE001 - no input may crash an import
            log.exception("unexpected failure reading %s", src.label)
            return _Result(src, "rejected", reason=f"unreadable: {type(exc).__name__}: {exc}")
        header, kind, reason = _read(data, src.label)
    else:
        header, kind, reason = _read(src.path, src.label)
    if header is None:
        return _Result(src, kind, reason=reason)
    sop_uid = header.sop_instance_uid
    if not overwrite and archive.index.has_instance(sop_uid):
        return _Result(src, "duplicate")
    if link and data is None:
        if header.from_meta:
            return _Result(src, "rejected", reason=link_reason(header))
        try:
            path = src.path.resolve()
        except OSError as exc:
            return _Result(src, "rejected", reason=f"unreadable: {exc}")
        return _Result(src, "ok", InstanceRecord(header.attributes, src.size, str(path)))
    if header.from_meta:
        try:
            data, fixed, note = repair(data if data is not None else src.path, header, src.label)
        except Unusable as exc:
            return _Result(src, "rejected", reason=str(exc))
        res = _copy(archive, src, fixed.attributes, data)
        res.note = note if res.kind == "ok" else ""
        return res
    return _copy(archive, src, header.attributes, data)


def _copy(archive: "Archive", src: Source, attributes: dict[str, Any], data: bytes | None = None) -> _Result:
    """Store one checked source durably (see the module docstring); raises StorageFull, else never raises."""
    try:
        if data is not None:
            dest = archive.storage.write_bytes(attributes["SOPInstanceUID"], attributes["SeriesInstanceUID"], data,
                                               fsync=False, sync_dir=False)
        else:
            dest = archive.storage.copy_file(attributes["SOPInstanceUID"], attributes["SeriesInstanceUID"], src.path,
                                             fsync=False, sync_dir=False)
    except StorageFull:
        raise
    except OSError as exc:
        return _Result(src, "rejected", reason=f"cannot copy into the archive: {exc.strerror or exc}")
    size = len(data) if data is not None else src.size
    return _Result(src, "ok", InstanceRecord(attributes, size), stored=dest)
