"""The local archive: managed storage + index behind one object that the CLI, the network node and the GUI share.

Write order, as Orthanc does it: the file first (temp, fsync, rename), then the index row; if the row fails, the
file goes. Delete order: files to the trash, then rows, then the trash is emptied. Whatever a crash leaves
between two steps is found and repaired by :meth:`Archive.check`, which runs at open when no other process has
the archive open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from workstation.archive.index import Index, InstanceRecord
from workstation.archive.lock import ArchiveLock
from workstation.archive.storage import SERIES_LAYOUT, Storage, StorageFull, is_disk_full
from workstation.config import Settings
from workstation.dicom.header import NotDicom, Unusable, read_header

log = logging.getLogger(__name__)


class ArchiveError(Exception):
    """The archive cannot be opened or used; the message is for the user."""


class InvalidInstance(Exception):
    """Received data that cannot be archived (not DICOM, no UIDs, truncated); the message says why."""


@dataclass
class StoreOutcome:
    sop_instance_uid: str
    path: Path
    status: str  # "stored" | "duplicate" | "replaced"
    repaired: str = ""  # what was repaired on the way in (workstation.archive.repair), "" for nothing


@dataclass
class ArchiveEvent:
    """What changed: ``kind`` "added" or "removed"; ``instances`` as (study, series, sop) UID triples."""

    kind: str
    instances: list[tuple[str, str, str]]

    @property
    def study_uids(self) -> set[str]:
        return {i[0] for i in self.instances}

    @property
    def series_uids(self) -> set[str]:
        return {i[1] for i in self.instances}


@dataclass
class CheckReport:
    temp_files_removed: int = 0
    trash_restored: int = 0
    trash_emptied: int = 0
    index_repaired: list[str] = field(default_factory=list)
    index_damaged: list[str] = field(default_factory=list)
    rows_without_file: list[str] = field(default_factory=list)
    linked_offline: int = 0
    files_indexed: list[str] = field(default_factory=list)
    files_unreadable: list[str] = field(default_factory=list)
    superseded_removed: list[str] = field(default_factory=list)
    # Housekeeping, not a repair: folders of deleted series that an older version (or a crash) left behind.
    empty_folders_removed: int = 0

    @property
    def clean(self) -> bool:
        return not (self.temp_files_removed or self.trash_restored or self.trash_emptied or self.rows_without_file
                    or self.files_indexed or self.files_unreadable or self.index_repaired or self.index_damaged
                    or self.superseded_removed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index_repaired": self.index_repaired,
            "index_damaged": self.index_damaged,
            "temp_files_removed": self.temp_files_removed,
            "trash_restored": self.trash_restored,
            "trash_emptied": self.trash_emptied,
            "rows_without_file": self.rows_without_file,
            "linked_offline": self.linked_offline,
            "files_indexed": self.files_indexed,
            "files_unreadable": self.files_unreadable,
            "superseded_removed": self.superseded_removed,
            "empty_folders_removed": self.empty_folders_removed,
        }


Listener = Callable[[ArchiveEvent], None]


class Archive:
    """Index + storage of one data dir. Thread-safe; several processes may open the same archive."""

    def __init__(self, settings: Settings, *, check: bool = True):
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.storage = Storage(self.data_dir / "storage")
            self._lock = ArchiveLock(self.data_dir / ".lock")
            first_user, crashed = self._lock.acquire()
            self.index = Index(self.data_dir / "index.sqlite")
            if self.storage.layout == SERIES_LAYOUT:
                self.index.require_schema(2)  # an older version would look for the files in the instance layout
        except (OSError, sqlite3.Error) as exc:
            raise ArchiveError(f"cannot open the archive in {self.data_dir}: {exc}") from None
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self.last_check: CheckReport | None = None
        if check and first_user:
            # Nobody else has the archive open, so temp files and the trash are leftovers. A full check (every
            # file against every row) only after an unclean stop: it costs a walk of the storage.
            self.last_check = self.check(full=crashed)
            if not self.last_check.clean:
                log.warning("startup check repaired the archive: %s", self.last_check.to_dict())

    @classmethod
    def open(cls, settings: Settings, *, check: bool = True) -> "Archive":
        return cls(settings, check=check)

    def close(self) -> None:
        self.index.close()
        self._lock.release()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- listeners -------------------------------------------------------------------------------------------
    def add_listener(self, callback: Listener) -> None:
        with self._listeners_lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        with self._listeners_lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _announce(self, kind: str, instances: list[tuple[str, str, str]]) -> None:
        if not instances:
            return
        event = ArchiveEvent(kind, instances)
        with self._listeners_lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - a broken listener must not break a store
                log.exception("archive listener failed")

    # --- paths -----------------------------------------------------------------------------------------------
    def path_of(self, sop_uid: str, linked_path: str | None, series_uid: str) -> Path:
        return Path(linked_path) if linked_path else self.storage.path_for(sop_uid, series_uid)

    def instance_path(self, sop_instance_uid: str) -> Path | None:
        loc = self.index.instance_location(sop_instance_uid)
        if loc is None:
            return None
        return self.path_of(sop_instance_uid, *loc)

    # --- receiving -------------------------------------------------------------------------------------------
    def store_bytes(self, data: bytes, *, source: str = "", fsync: bool = True) -> StoreOutcome:
        """Archive one complete DICOM file given as bytes (file meta included): durable and indexed on return."""
        try:
            header = read_header(data, name=source or "<received>")
        except (NotDicom, Unusable) as exc:
            raise InvalidInstance(str(exc)) from None
        return self.store_header(header, data, fsync=fsync)

    def store_header(self, header: Any, data: bytes, *, fsync: bool = True) -> StoreOutcome:
        """Store ``data`` whose header was already parsed (``workstation.dicom.header.Header``).

        A data set lacking its SOP Class/Instance UID (only the file meta has it - for a C-STORE the meta is the
        command's) is repaired before it is stored (``StoreOutcome.repaired`` says how), since it could not be
        sent on as it came; raises InvalidInstance when it cannot be."""
        attrs = header.attributes
        sop_uid = attrs["SOPInstanceUID"]
        overwrite = self.settings.duplicate_policy == "overwrite"
        loc = self.index.instance_location(sop_uid)
        existed = loc is not None
        if loc is not None and not overwrite:
            return StoreOutcome(sop_uid, self.path_of(sop_uid, *loc), "duplicate")
        note = ""
        if getattr(header, "from_meta", None):
            from workstation.archive.repair import repair

            try:
                data, fixed, note = repair(data, header)
            except Unusable as exc:
                raise InvalidInstance(str(exc)) from None
            log.warning("%s: %s", sop_uid, note)
            attrs = fixed.attributes
        # Replacing a stored file: keep the old one under a temp name (a hard link, no copy) until the new row is
        # committed, so a failed index update leaves the old file matching its old row.
        # (A linked instance's file is the user's, elsewhere: it is neither kept nor replaced.)
        old = self.storage.path_for(sop_uid, loc[1]) if loc is not None and not loc[0] else None
        keep = self._keep_old(old) if old is not None else None
        try:
            path = self.storage.write_bytes(sop_uid, attrs["SeriesInstanceUID"], data, fsync=fsync)
            try:
                added, dups = self.index.add([InstanceRecord(attrs, len(data))], replace=overwrite)
            except sqlite3.Error as exc:
                # The row failed: the file must go too (or be the old one again), never a file without its row.
                if keep is not None:
                    os.replace(keep, old)
                    keep = None
                    if path != old:
                        _unlink(path)
                elif not existed:
                    _unlink(path)
                if "full" in str(exc).lower():
                    raise StorageFull(28, "no space left for the archive's index", str(self.index.path)) from None
                raise
        finally:
            if keep is not None:
                _unlink(keep)
        if old is not None and old != path:
            # Sent again in another series (a corrected study): the replaced file is in the old series' folder.
            _unlink(old)
            self.storage.remove_empty_folders([old.parent])
        if dups:
            return StoreOutcome(sop_uid, path, "duplicate")
        self._announce("added", [(attrs["StudyInstanceUID"], attrs["SeriesInstanceUID"], sop_uid)])
        return StoreOutcome(sop_uid, path, "replaced" if existed else "stored", repaired=note)

    def _keep_old(self, path: Path) -> Path | None:
        """A second name for the stored file at ``path`` (a temp name the check would clean up), or None."""
        if not path.exists():
            return None
        keep = self.storage._tmp_path(path)
        try:
            os.link(path, keep)
        except OSError:
            return None
        return keep

    def add_records(self, records: list[InstanceRecord]) -> tuple[list[str], list[str]]:
        """Index already-written files (the importer's batches); announces what was added."""
        replace = self.settings.duplicate_policy == "overwrite"
        stale: list[Path] = []
        if replace:
            # An instance sent again in another series (a corrected study) was written into the new series' folder:
            # the file it replaces, in the old one, goes once the new row is committed.
            new = {r.attributes["SOPInstanceUID"]: r.attributes["SeriesInstanceUID"] for r in records
                   if r.linked_path is None}
            for sop, (linked, series) in self.index.locations(new).items():
                old = self.storage.path_for(sop, series)
                if not linked and old != self.storage.path_for(sop, new[sop]):
                    stale.append(old)
        added, dups = self.index.add(records, replace=replace)
        for path in stale:
            _unlink(path)
        self.storage.remove_empty_folders(path.parent for path in stale)
        if added:
            # Once per added instance: a batch may hold the same instance twice (copies under two names), and
            # listeners count arrivals.
            first = {}
            for r in records:
                first.setdefault(r.attributes["SOPInstanceUID"], r)
            self._announce(
                "added",
                [
                    (first[uid].attributes["StudyInstanceUID"], first[uid].attributes["SeriesInstanceUID"], uid)
                    for uid in dict.fromkeys(added) if uid in first
                ],
            )
        return added, dups

    def import_paths(self, paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> Any:
        """Import files, folders, ZIPs and DICOMDIR media; see :func:`workstation.archive.importer.import_paths`."""
        from workstation.archive.importer import import_paths

        return import_paths(self, paths, **kwargs)

    # --- reading ---------------------------------------------------------------------------------------------
    def query(self, level: str, filters: dict[str, str] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """Rows at a level with DICOM matching; instance rows carry ``path`` (absolute, str)."""
        rows = self.index.query(level, filters, **kwargs)
        if rows and "SOPInstanceUID" in rows[0]:
            path_text_for = self.storage.path_text_for
            for row in rows:
                linked = row.pop("linked_path", None)
                row["path"] = (str(Path(linked)) if linked
                               else path_text_for(row["SOPInstanceUID"], row["SeriesInstanceUID"]))
        return rows

    def lookup(self, identifier: str) -> list[dict[str, Any]]:
        rows = self.index.lookup(identifier)
        for row in rows:
            if row["level"] == "instance":
                row["path"] = str(self.path_of(row["SOPInstanceUID"], row.pop("linked_path", None),
                                               row["SeriesInstanceUID"]))
        return rows

    def count_received_since(self, since: float) -> int:
        """Instances received (stored or imported) at or after ``since``, epoch seconds."""
        return self.index.count_received_since(since)

    # --- deleting --------------------------------------------------------------------------------------------
    def delete(self, level: str, uid: str) -> int:
        """Delete a patient (PatientID), study, series or instance: rows and managed files together.

        Linked files (indexed in place) are the user's: their rows go, the files stay.
        """
        targets = self.index.instances_for(level, uid)
        if not targets:
            return 0
        trashed: list[tuple[Path, Path]] = []
        try:
            for sop_uid, linked, series_uid in targets:
                if linked:
                    continue
                original = self.storage.path_for(sop_uid, series_uid)
                moved = self.storage.move_to_trash(original)
                if moved is not None:
                    trashed.append((moved, original))
            removed = self.index.remove([t[0] for t in targets])
        except BaseException:
            for moved, original in trashed:
                try:
                    self.storage.restore_from_trash(moved, original)
                except OSError:
                    log.exception("could not restore %s from the trash", original)
            raise
        self.storage.empty_trash([m for m, _ in trashed])
        # A deleted series leaves its folder empty: it goes too (a folder per deleted series would pile up).
        self.storage.remove_empty_folders(original.parent for _, original in trashed)
        self._announce("removed", removed)
        return len(removed)

    # --- consistency -----------------------------------------------------------------------------------------
    def check(self, full: bool = True, progress: Callable[[int, int], None] | None = None) -> CheckReport:
        """Find and repair what a crash can leave. Never deletes a stored instance file, but a second copy its row
        no longer names (the file that replaced it exists). Runs with nothing else writing in this process (at
        open, or the ``check`` command); other processes may write meanwhile.

        * temp files of interrupted writes are removed;
        * trashed files whose rows still exist go back, the others are removed (an interrupted delete);
        * with ``full``: rows whose file is gone are removed, files without a row are indexed (an interrupted
          store: the file was complete and synced before its row was due).
        """
        report = CheckReport()
        alone = self._lock.try_exclusive()
        try:
            if alone:
                report.temp_files_removed = self.storage.remove_temp_files(everywhere=full)
                self._repair_trash(report)
                if full:  # no other process is between making a folder and writing into it
                    report.empty_folders_removed = self.storage.remove_empty_folders(self.storage.empty_folders())
            else:
                # Another process (serve, the app) has the archive open: its temp files are writes in flight and
                # its trash is a delete in progress. Only the temp files of writers that are gone are leftovers.
                report.temp_files_removed = self.storage.remove_temp_files(only_dead_writers=True, everywhere=full)
        finally:
            self._lock.downgrade()
        if not full:
            return report
        problems = self.index.integrity_problems()
        if problems:
            # Damaged SQLite indexes (not tables) are rebuilt in place; anything worse needs `rebuild`.
            self.index.reindex()
            left = self.index.integrity_problems()
            (report.index_damaged if left else report.index_repaired).extend(problems[:20])
            if left:
                log.error("the index is damaged beyond REINDEX: %s; run `workstation rebuild`", left[:5])
                return report
        known = {sop: (linked, series) for sop, linked, series in self.index.all_instances()}
        missing = []
        for sop, (linked, series) in known.items():
            path = self.path_of(sop, linked, series)
            if path.exists():
                continue
            if linked and not path.parent.exists():
                # A linked file on a medium that is not mounted now (CD, USB stick): keep the row.
                report.linked_offline += 1
                continue
            missing.append(sop)
        if missing:
            removed = self.index.remove(missing)
            report.rows_without_file = missing
            self._announce("removed", removed)
        gone = set(missing)
        expected = {self.storage.key(sop): (sop, self.storage.path_text_for(sop, series))
                    for sop, (linked, series) in known.items() if not linked and sop not in gone}
        orphans: list[Path] = []
        superseded: list[tuple[Path, str]] = []  # (file, the SOP Instance UID its name was derived from)
        for f in self.storage.iter_files():
            named = expected.get(f.stem)
            if named is None:
                orphans.append(f)
            elif str(f) != named[1]:
                superseded.append((f, named[0]))
        if superseded:
            self._remove_superseded(superseded, report)
        records: list[InstanceRecord] = []
        for n, f in enumerate(orphans):
            if progress:
                progress(n, len(orphans))
            try:
                header = read_header(f)
            except (NotDicom, Unusable) as exc:
                # Not ours to delete: a file we cannot read stays where it is, reported.
                report.files_unreadable.append(f"{f}: {exc}")
                continue
            if self.storage.path_for(header.sop_instance_uid, header.attributes["SeriesInstanceUID"]) != f:
                report.files_unreadable.append(f"{f}: its name does not match its SOP and Series Instance UIDs")
                continue
            records.append(InstanceRecord(header.attributes, f.stat().st_size))
            report.files_indexed.append(header.sop_instance_uid)
        if records:
            self.add_records(records)
        return report

    def _remove_superseded(self, files: list[tuple[Path, str]], report: CheckReport) -> None:
        """Remove second copies, in another series' folder, of instances whose rows name their file elsewhere:
        left by a crash between the commit of a replacement in another series and the removal of the file it
        replaced (a rebuild could index either). Only while no other process has the archive open (one could be
        between writing a replacement and committing it), and only where the row, read again now, still names
        another file that exists."""
        if not self._lock.try_exclusive():
            return  # the next check that has the archive to itself
        try:
            now = self.index.locations(sop for _, sop in files)
            for f, sop in files:
                loc = now.get(sop)
                if loc is None or loc[0]:
                    continue
                current = self.storage.path_for(sop, loc[1])
                if current != f and current.exists():
                    _unlink(f)
                    report.superseded_removed.append(str(f))
        finally:
            self._lock.downgrade()

    def _repair_trash(self, report: CheckReport) -> None:
        """Finish deletes a crash interrupted (only when no other process has the archive open)."""
        for trashed in list(self.storage.trash_dir.iterdir()):
            key = trashed.name.split(".")[0]
            # The trash name keeps the storage key; whether a row still names it decides restore vs. empty.
            restored = False
            if key and len(key) == 40:
                try:
                    header = read_header(trashed)
                    sop = header.sop_instance_uid
                    original = self.storage.path_for(sop, header.attributes["SeriesInstanceUID"])
                    if original.stem == key and self.index.has_instance(sop) and not original.exists():
                        self.storage.restore_from_trash(trashed, original)
                        report.trash_restored += 1
                        restored = True
                except (NotDicom, Unusable, OSError):
                    pass
            if not restored:
                report.trash_emptied += self.storage.empty_trash([trashed])

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Build a new index from the files in storage alone (linked files are re-read from the old index if they
        still exist), then swap it in. Never deletes a file."""
        if not self._lock.try_exclusive():
            raise ArchiveError("the archive is open in another process (app or serve): close it before a rebuild")
        new_path = self.data_dir / "index.sqlite.rebuild"
        for suffix in ("", "-wal", "-shm"):
            _unlink(Path(str(new_path) + suffix))
        linked = [(sop, p) for sop, p, _ in self.index.all_instances() if p]
        new_index = Index(new_path)
        files = list(self.storage.iter_files())
        indexed, unreadable = 0, []
        batch: list[InstanceRecord] = []
        sources: list[tuple[Path, bool]] = [(f, False) for f in files] + [(Path(p), True) for _, p in linked]
        for n, (f, is_linked) in enumerate(sources):
            if progress:
                progress(n, len(sources))
            try:
                header = read_header(f)
            except (NotDicom, Unusable) as exc:
                unreadable.append(f"{f}: {exc}")
                continue
            batch.append(InstanceRecord(header.attributes, f.stat().st_size, str(f) if is_linked else None))
            if len(batch) >= 500:
                indexed += len(new_index.add(batch)[0])
                batch = []
        if batch:
            indexed += len(new_index.add(batch)[0])
        new_index.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        new_index.close()
        self.index.close()
        for suffix in ("-wal", "-shm"):
            _unlink(Path(str(self.index.path) + suffix))
        os.replace(new_path, self.index.path)
        self.index = Index(self.index.path)
        self._lock.downgrade()
        return {"indexed": indexed, "unreadable": unreadable, "files": len(files), "linked": len(linked)}

    # --- job-level durability (net-client: C-GET into the archive) -------------------------------------------
    def sync_storage(self, paths: Iterable[Path] = ()) -> None:
        """Make durable every file (and rename) put into storage with ``write_bytes(fsync=False, sync_dir=False)``:
        one syncfs(2) of the storage's file system on Linux, else each of ``paths`` and its folders
        (:meth:`Storage.sync_written`). Raises OSError (StorageFull when the disk is full) if it could not."""
        paths = list(paths)
        self.storage.sync_written(paths, {p.parent for p in paths})


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveEvent",
    "CheckReport",
    "InvalidInstance",
    "StorageFull",
    "StoreOutcome",
    "is_disk_full",
]
