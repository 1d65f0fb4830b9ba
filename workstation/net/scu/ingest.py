"""C-GET into the archive with one durability barrier per batch instead of one fsync per instance.

In a C-GET the node keeps its copy of every instance it sends us, so the C-STORE sub-operation response does not
have to wait for the instance to be on disk: what must be durable is what we *report* - the retrieve is done only
when every instance it counts is on disk and indexed. :class:`ArchiveIngest` therefore, for each sub-operation:

1. answers Success (on the fast path, ``DirectGet``, before anything else);
2. parses the header on the association's thread, while the node prepares the next instance (an instance the
   archive cannot index is counted as failed and never written);
3. writes the file atomically (temp file, rename into storage) **without** fsync, on a writer thread and around the
   page cache where the file system allows it (:mod:`workstation.archive.direct_io`).

Every ``batch_files`` instances or ``batch_seconds`` (and at the end) a background thread makes the batch durable
with one sync of the storage filesystem (:meth:`Archive.sync_storage`: a single journal commit for hundreds of
files) and only then commits the batch's index rows (:meth:`Archive.add_records`). :meth:`ArchiveIngest.finish`
returns once the last batch is synced and indexed; ``retrieve`` calls it before it reports anything.

Crash safety, which the archive's consistency check (``Archive.check(full=True)``: at open after an unclean stop,
and ``workstation check``) provides:

* a killed process (SIGKILL, crash): the renamed files are complete (on the disk or in the page cache) and
  survive; files without a row are indexed by the check, temp files of the dead writer are removed. Nothing was
  reported to the user yet.
* a power loss before a batch's sync: a file whose data never reached the disk is empty or unreadable and the check
  does not index it (it reports it); the node still has the instance, and nothing about it was reported done.
* a failed sync or index commit: the batch's new files are removed again and counted as failed in the result.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

from workstation.give_way import give_way

log = logging.getLogger("workstation.net.retrieve")

BATCH_FILES = 200
BATCH_SECONDS = 0.5
WRITE_BEHIND_BYTES = 128 * 1024 * 1024  # received data not yet written and parsed, at most
# Threads writing files: the write itself runs without the GIL, and page-cache writes on a machine whose memory is
# full of cache (reclaim on every allocation) are slow enough that one writer paced the whole C-GET (500 x 512 KiB
# from Orthanc: 1.35-1.96x getscu's time with one writer, 1.03-1.48x with two, same runs interleaved).
WRITERS = 2

# While an ingest's threads run, the interpreter hands the GIL over after at most this long (default 5 ms): the
# association's thread must answer each C-STORE sub-operation before the node sends the next, and a parser thread
# busy with a backlog of headers otherwise keeps it waiting up to the default interval each time (500 x 512 KiB
# from Orthanc, paired rounds in one process: median 0.93 s at 5 ms, 0.76 s at 0.5 ms).
SWITCH_INTERVAL = 0.0005
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


def _fast_switching(on: bool) -> None:
    """Lower the GIL switch interval while at least one ingest runs; restore the previous one after the last."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if on:
            if _switch_users == 0:
                _switch_saved = sys.getswitchinterval()
                if _switch_saved > SWITCH_INTERVAL:
                    sys.setswitchinterval(SWITCH_INTERVAL)
            _switch_users += 1
        else:
            _switch_users -= 1
            # Only if nobody else changed it meanwhile (the GUI sets its own at start).
            if _switch_users == 0 and abs(sys.getswitchinterval() - min(SWITCH_INTERVAL, _switch_saved)) < 1e-7:
                sys.setswitchinterval(_switch_saved)


class ArchiveIngest:
    """The ``store`` callable of a C-GET into ``archive``, with a job-level durability barrier (module docstring).

    Call it with each received file (bytes: preamble, file meta, data set), then call :meth:`finish` (always,
    also after a cancel or an abort). Counts: ``stored``, ``duplicates``, ``failed`` (instances we could not
    archive after answering Success) and ``errors`` (reasons). Instances are handed over from one thread (the
    association's); :meth:`finish` from the same thread.

    With ``write_behind`` (the default) the call reads the header (the archive's checks, the repair of a missing
    UID, the duplicate check) and queues the file (at most ``WRITE_BEHIND_BYTES`` waiting; the call blocks beyond)
    and returns ``"queued"``: writer threads write each file around the page cache (``archive.direct_io``), a
    committer thread syncs and indexes the batches - each C-STORE response waits for neither, and they overlap.
    With ``deferred`` the header is read later, by :meth:`after_response`, which the association's thread calls
    once it has answered the node (``DirectGet.after_store``): the node then prepares the next instance while
    we parse, and no parser thread takes the GIL from the association's thread (each handover cost it up to the
    switch interval, after every recv). An instance the archive refuses is counted in ``failed`` rather than
    refused to the node (C000), and once the disk is full the following ones are refused with ``StorageFull``
    (A700). Without ``write_behind`` the call parses and writes before it returns (``"staged"`` or
    ``"duplicate"``; ``InvalidInstance`` / ``StorageFull`` / ``OSError`` raised as ``Archive.store_bytes`` does).
    Either way nothing is fsynced on the way: durability is the batch's sync.
    """

    def __init__(self, archive: Any, *, source: str = "", batch_files: int = BATCH_FILES,
                 batch_seconds: float = BATCH_SECONDS, write_behind: bool = True, deferred: bool = False):
        self.archive = archive
        self.source = source
        self.batch_files = max(1, batch_files)
        self.batch_seconds = batch_seconds
        self.write_behind = write_behind
        self.deferred = deferred and write_behind
        self.overwrite = getattr(archive.settings, "duplicate_policy", "keep") == "overwrite"
        self.stored = 0
        self.duplicates = 0
        self.failed = 0
        self.errors: list[str] = []
        self.repaired: list[str] = []  # what was repaired on the way in, one line per instance (as the Store SCP)
        self.syncs = 0
        self._batch: list[tuple[Any, Path, bool]] = []  # (InstanceRecord, path, a row existed before)
        self._batch_started = 0.0
        self._staged: set[str] = set()  # SOP Instance UIDs written in this job
        # SimpleQueue (C, no Python-level condition per put and get): the bound on what waits is ``_room``.
        self._commits: queue.SimpleQueue[list[tuple[Any, Path, bool]] | None] = queue.SimpleQueue()
        self._writes: queue.SimpleQueue[tuple[bytes, Any, str, bool, int] | None] = queue.SimpleQueue()
        self._pending: list[bytes | list[Any]] = []  # received, header not yet read (``deferred``)
        self._threads: list[threading.Thread] = []
        self._writers_left = 0
        self._queued_bytes = 0
        self._room = threading.Condition(threading.Lock())
        self._disk_full: BaseException | None = None
        self._lock = threading.Lock()
        self._finished = False

    # --- the association's thread ----------------------------------------------------------------------------
    def __call__(self, data: bytes | list[Any]) -> str:
        """Take one received file: ``bytes``, or with ``write_behind`` also the list of its pieces in order (file
        meta, then the data set's fragments as received)."""
        if self._finished:
            raise RuntimeError("this ingest is finished")
        if not self.write_behind:
            return self._stage(data if isinstance(data, bytes) else b"".join(data))
        self.after_response()  # a caller that does not call it itself
        if self._disk_full is not None:
            raise self._disk_full
        with self._room:
            while self._queued_bytes > WRITE_BEHIND_BYTES:
                self._room.wait()
            self._queued_bytes += _size(data)
        if not self._threads:
            _fast_switching(True)
            self._writers_left = WRITERS
            for name, target in [("write", self._write_loop)] * WRITERS + [("sync", self._commit_loop)]:
                thread = threading.Thread(target=target, name=f"get-ingest-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        if self.deferred:
            self._pending.append(data)
        else:
            self._prepare(data)
        return "queued"

    def after_response(self) -> None:
        """Read the headers of what was received (``deferred``) and pass the files on to the writers; called by
        the association's thread after it answered the node. In the app, it first gives way while the GUI thread
        is busy (bounded; ``workstation.give_way``): the header is Python holding the GIL the GUI needs."""
        while self._pending:
            give_way()
            self._prepare(self._pending.pop(0))

    def finish(self) -> None:
        """Write what is queued, make the last batch durable and indexed, and wait for all of it; idempotent."""
        if self._finished:
            return
        self.after_response()
        self._finished = True
        if self._threads:
            for _ in range(WRITERS):
                self._writes.put(None)  # the last writer passes the end on to the committer
            try:
                for thread in self._threads:
                    thread.join()
            finally:
                _fast_switching(False)
        else:
            if self._batch:
                self._submit()
                self._commits.put(None)
                self._commit_loop()

    # --- parse, write atomically without fsync, collect the batch --------------------------------------------
    def _parse(self, data: bytes) -> Any:
        from workstation.archive import InvalidInstance
        from workstation.dicom.header import NotDicom, Unusable, read_header

        try:
            return read_header(data, name=self.source or "<received>")
        except (NotDicom, Unusable) as exc:
            raise InvalidInstance(str(exc)) from None

    def _exists(self, sop_uid: str, series_uid: str) -> bool:
        """Already here (this job or the archive). The index is asked only when the instance's file exists: a stat
        instead of a query per instance on the association's thread. (A row whose file went missing is then
        treated as new: the file is written again, and the commit counts it as a duplicate.)"""
        if sop_uid in self._staged:
            return True
        path = self.archive.storage.path_text_for(sop_uid, series_uid)
        return os.path.exists(path) and self.archive.index.has_instance(sop_uid)

    def _write(self, sop_uid: str, series_uid: str, data: bytes, direct: bool = False) -> Path:
        # New folders are made without the directory fsync a synced write gives them (in a fresh archive nearly
        # every instance makes one: a journal commit per instance); the batch's sync covers them.
        path = self.archive.storage.write_bytes(sop_uid, series_uid, data, fsync=False, sync_dir=False,
                                                early_writeback=True, direct=direct)
        self._staged.add(sop_uid)
        return path

    def _add(self, record: Any, path: Path, existed: bool) -> None:
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append((record, path, existed))
        if len(self._batch) >= self.batch_files or time.monotonic() - self._batch_started >= self.batch_seconds:
            self._submit()

    def _stage(self, data: bytes) -> str:
        """Everything for one instance, in the calling thread (without ``write_behind``)."""
        from workstation.archive.index import InstanceRecord

        header = self._parse(data)
        data, header = self._repaired(data, header)
        sop_uid = header.sop_instance_uid
        series_uid = header.attributes["SeriesInstanceUID"]
        existed = self._exists(sop_uid, series_uid)
        if existed and not self.overwrite:
            with self._lock:
                self.duplicates += 1
            return "duplicate"
        path = self._write(sop_uid, series_uid, data)
        self._add(InstanceRecord(header.attributes, len(data)), path, existed)
        return "staged"

    def _repaired(self, data: bytes, header: Any) -> tuple[bytes, Any]:
        """A data set lacking its SOP Instance/Class UID (only the file meta, built from the C-STORE request, has
        them) is repaired as the Store SCP and copy import repair it: stored as it was, it could not be sent on."""
        if not getattr(header, "from_meta", None):
            return data, header
        from workstation.archive import InvalidInstance
        from workstation.archive.repair import repair
        from workstation.dicom.header import Unusable

        try:
            data, header, note = repair(data, header, self.source or "<received>")
        except Unusable as exc:
            raise InvalidInstance(str(exc)) from None
        log.warning("retrieved instance %s %s", header.sop_instance_uid, note)
        with self._lock:
            self.repaired.append(f"{header.sop_instance_uid}: {note}")
        return data, header

    def _failed(self, text: str) -> None:
        log.warning("could not archive a retrieved instance: %s", text)
        with self._lock:
            self.failed += 1
            self.errors.append(text)

    def _release(self, size: int) -> None:
        with self._room:
            self._queued_bytes -= size
            self._room.notify_all()

    def _prepare(self, data: bytes | list[Any]) -> None:
        """The association's thread: the header of a received file (the archive's checks, a repair, the duplicate
        check), then on to a writer. Read from the received bytes, never back from the written file: pydicom
        seeks its way through a file (~60 lseek calls per instance), and each call hands the GIL to another thread
        and back - seven times the futex traffic of the whole C-GET, measured with strace."""
        from workstation.archive.index import InstanceRecord

        size = _size(data)
        data = data if isinstance(data, bytes) else b"".join(data)
        try:
            header = self._parse(data)
            sop_uid = header.sop_instance_uid
            meta = getattr(header.dataset, "file_meta", None)  # written from the C-STORE request
            named = str(meta.get("MediaStorageSOPInstanceUID", "") or "") if meta is not None else ""
            if named and named != sop_uid:
                raise ValueError(f"its SOP Instance UID {sop_uid} is not its file meta's {named}")
            if header.from_meta:
                data, header = self._repaired(data, header)
            existed = self._exists(sop_uid, header.attributes["SeriesInstanceUID"])
            if existed and not self.overwrite:
                with self._lock:
                    self.duplicates += 1
                self._release(size)
                return
            self._staged.add(sop_uid)  # a second copy in this job is a duplicate, whichever writer is first
            record = InstanceRecord(header.attributes, len(data))
        except Exception as exc:  # noqa: BLE001 - counted and reported; the next ones still come
            self._failed(f"{type(exc).__name__}: {exc}")
            self._release(size)
            return
        self._writes.put((data, record, sop_uid, existed, size))

    def _write_loop(self) -> None:
        """Writer thread: each file under its name, around the page cache where the file system allows
        (``archive.direct_io``: the batch's sync waits for the disk anyway, and taking fresh cache pages was the
        slowest part of a retrieve), then into the batch."""
        try:
            self._write_items()
        except BaseException:  # never leave finish() waiting for a committer that waits for us
            log.exception("a C-GET ingest writer failed; the archive check indexes what it wrote")
            self._failed("a writer failed: see the log")
            self._discard_rest()
        finally:
            self._writer_done()

    def _write_items(self) -> None:
        while True:
            item = self._writes.get()
            if item is None:
                return
            data, record, sop_uid, existed, size = item
            del item
            try:
                path = self._write(sop_uid, record.attributes["SeriesInstanceUID"], data, direct=True)
            except Exception as exc:  # noqa: BLE001 - counted and reported; the next ones still come
                if not existed:
                    self._staged.discard(sop_uid)  # a good copy sent later is not a duplicate
                self._failed(f"{type(exc).__name__}: {exc}")
                if type(exc).__name__ == "StorageFull":
                    self._disk_full = exc
            else:
                with self._lock:
                    self._add(record, path, existed)
            finally:
                self._release(size)

    def _discard_rest(self) -> None:
        while True:
            item = self._writes.get()
            if item is None:
                return
            self._failed(f"{item[2]}: not written, a writer failed")
            self._release(item[4])

    def _writer_done(self) -> None:
        with self._lock:
            self._writers_left -= 1
            if self._writers_left:
                return
            if self._batch:
                self._submit()
        self._commits.put(None)

    def _submit(self) -> None:
        batch, self._batch = self._batch, []
        self._commits.put(batch)

    # --- committing: one filesystem sync, then the batch's rows ----------------------------------------------
    def _commit_loop(self) -> None:
        while True:
            batch = self._commits.get()
            if batch is None:
                return
            self._commit(batch)

    def _commit(self, batch: list[tuple[Any, Path, bool]]) -> None:
        try:
            self.archive.sync_storage([path for _, path, _ in batch])
            self.syncs += 1
            added, dups = self.archive.add_records([record for record, _, _ in batch])
        except Exception as exc:  # noqa: BLE001 - counted and reported; the thread must go on
            for _, path, existed in batch:
                if not existed:
                    _unlink(path)
            text = f"{type(exc).__name__}: {exc}"
            log.error("could not make %d retrieved instances durable and indexed: %s", len(batch), text)
            with self._lock:
                self.failed += len(batch)
                self.errors.append(f"{len(batch)} instances could not be made durable and indexed: {text}")
            return
        if dups:
            # Archived before under another series (the stat of _exists looked in this one's folder): the index
            # keeps the instance where it was, and the copy written here goes.
            known = set(dups)
            for record, path, existed in batch:
                sop = record.attributes["SOPInstanceUID"]
                if sop in known and not existed and self.archive.instance_path(sop) != path:
                    _unlink(path)
        with self._lock:
            self.stored += len(added)
            self.duplicates += len(dups)


def _size(data: bytes | list[Any]) -> int:
    return len(data) if isinstance(data, (bytes, bytearray)) else sum(len(part) for part in data)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
