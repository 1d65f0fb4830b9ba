"""Managed file layout: atomic writes under names derived from UIDs, a trash for deletes, temp-file cleanup.

Layout below ``storage/`` (never a name or a path taken from a file)::

    ab/cdef0123456789abcd/<key>.dcm   "series" layout (archives made by this version): one folder per series,
                                      sha256(SeriesInstanceUID) split 2 + 18; <key> = sha256(SOPInstanceUID)[:40]
    ab/cd/<key>.dcm                   "instance" layout (archives made before it): two levels of the key itself
    .layout                           which of the two; written once, when the store is made
    <folder>/.<pid>-<hex>.part        a file being written beside its final name (removed by the consistency check)
    .tmp/                             temp files of older versions (removed by the consistency check)
    .trash/                           files whose rows are being deleted (restored or emptied by the check)

Why a folder per series: a series' files are made, read and deleted together. Making a folder costs as much as
making a file (more on a file system that has seen many deletes), and the instance layout made one per file in a
new archive: a copy import of 1,000 files spent a fifth of its time in mkdir. A series' files also tend to land
near each other on disk (ext4 puts a folder's files in its block group); what that saves when a series is read
from a cold disk was not measured (the development VM cannot drop its caches).
The series, not the study: the index files an instance under its series (by SeriesInstanceUID), and a series
whose instances name different studies (it happens) stays one series there, so only the series UID names the
same folder both when a file is written and when its path is derived from the index.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import logging
import os
import shutil
import sys
import threading
import uuid
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

from workstation.archive.direct_io import DirectBuffer, DirectUnsupported, write_direct

log = logging.getLogger("workstation.archive.storage")


class StorageFull(OSError):
    """No space left (or quota exceeded) while writing; nothing partial stays behind."""


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


SERIES_LAYOUT = "series"
INSTANCE_LAYOUT = "instance"
_LAYOUT_FILE = ".layout"
_SERIES_FOLDER = 18  # hex digits of a series folder's name (below the 2 of its parent)


class StorageError(OSError):
    """The store cannot be used by this version (a layout it does not know)."""


class Storage:
    """The archive's file store."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._root_text = str(self.root)
        self.tmp_dir = self.root / ".tmp"
        self.trash_dir = self.root / ".trash"
        for d in (self.root, self.tmp_dir, self.trash_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.layout = self._layout()
        self._made_dirs: set[str] = set()
        self._first_level: set[str] = set()  # first-level folders known to exist
        self._unsynced_dirs: set[str] = set()  # made without a sync, until sync_written
        self._mkdir_lock = threading.Lock()
        self._direct_ok = True  # until the file system refuses an O_DIRECT write
        self._direct_buffers = threading.local()

    def _layout(self) -> str:
        """The store's layout, from its ``.layout`` file. A store without one is given one now, read from the
        shape of its folders: the instance layout where files of an older version are there already, the series
        layout where it is empty or its folders are series folders (a copy that left the dot file behind)."""
        marker = self.root / _LAYOUT_FILE
        try:
            text = marker.read_text(encoding="ascii", errors="replace").strip()
        except FileNotFoundError:
            text = None
        if text in (SERIES_LAYOUT, INSTANCE_LAYOUT):
            return text
        if text is not None:
            raise StorageError(errno.EINVAL, f"unknown storage layout {text!r}: written by a newer version?",
                               str(marker))
        layout = self._layout_of_folders() or SERIES_LAYOUT
        if not self._write_layout_file(layout, replace=False):
            return self._layout()  # another process opening the store named it first
        return layout

    def _write_layout_file(self, layout: str, replace: bool) -> bool:
        """Name ``layout`` in the ``.layout`` file, durably (before any file is stored by it). Without ``replace``
        the file is made by a link, which fails (False) where another process made it first."""
        marker = self.root / _LAYOUT_FILE
        tmp = self.root / f".layout.{os.getpid()}-{uuid.uuid4().hex}"
        try:
            with open(tmp, "w", encoding="ascii") as fh:
                fh.write(layout + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            if replace:
                os.replace(tmp, marker)
            else:
                try:
                    os.link(tmp, marker)
                except FileExistsError:
                    return False
                except OSError:  # no hard links here (FAT, some network file systems)
                    os.replace(tmp, marker)
        finally:
            _unlink_quietly(tmp)
        fsync_dir(self.root)
        return True

    def _layout_of_folders(self) -> str | None:
        """The layout the second-level folders show (2 hex digits: instance; 18: series), None if there are none."""
        with os.scandir(self.root) as firsts:
            for first in firsts:
                if first.name.startswith(".") or not first.is_dir():
                    continue
                with os.scandir(first.path) as seconds:
                    for second in seconds:
                        if second.is_dir() and not second.name.startswith("."):
                            return SERIES_LAYOUT if len(second.name) == _SERIES_FOLDER else INSTANCE_LAYOUT
        return None

    # --- names -----------------------------------------------------------------------------------------------
    @staticmethod
    def key(sop_instance_uid: str) -> str:
        return _sha(sop_instance_uid)[:40]

    def path_for(self, sop_instance_uid: str, series_instance_uid: str) -> Path:
        return Path(self.path_text_for(sop_instance_uid, series_instance_uid))

    def path_text_for(self, sop_instance_uid: str, series_instance_uid: str, layout: str | None = None) -> str:
        """``str(path_for(...))`` without pathlib (a study's 2,000 paths took 20 ms as Path objects); in
        ``layout`` when given, else in the store's."""
        k = self.key(sop_instance_uid)
        if (layout or self.layout) == SERIES_LAYOUT:
            s = _sha(series_instance_uid)
            return os.path.join(self._root_text, s[:2], s[2 : 2 + _SERIES_FOLDER], f"{k}.dcm")
        return os.path.join(self._root_text, k[:2], k[2:4], f"{k}.dcm")

    def switch_layout(self, layout: str) -> None:
        """Name ``layout`` in the ``.layout`` file, durably, and use it from now on (``workstation.archive.relayout``
        moves the files first)."""
        self._write_layout_file(layout, replace=True)
        self.layout = layout

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def contains(self, path: Path | str) -> bool:
        try:
            Path(path).resolve().relative_to(self.root.resolve())
            return True
        except ValueError:
            return False

    def _ensure_parent(self, path: Path, sync: bool = True) -> None:
        """Create the two hash levels above ``path``. A new folder's own entry must be durable before a file in it
        is relied on, or a power loss could take a synced file away with its folder: at once with ``sync``, else
        by the caller's later :meth:`sync_written` (which covers the folders' parents)."""
        key = str(path.parent)
        if key in self._made_dirs and (not sync or key not in self._unsynced_dirs):
            return
        with self._mkdir_lock:
            if key in self._made_dirs and (not sync or key not in self._unsynced_dirs):
                return
            # One mkdir per new folder: a failed one costs as much as one that works (0.15 ms). The first level is
            # made as needed, tried once per process (making all 256 when a new archive opened took 20 ms of every
            # `workstation retrieve` into a new data folder).
            made = []
            first = path.parent.parent
            if str(first) not in self._first_level:
                try:
                    os.mkdir(first)
                    made.append(first)
                except FileExistsError:
                    pass
                self._first_level.add(str(first))
            try:
                os.mkdir(path.parent)
                made.append(path.parent)
            except FileExistsError:
                pass
            except FileNotFoundError:  # the first level went away meanwhile (removed by hand)
                os.makedirs(path.parent, exist_ok=True)
                made += [first, path.parent]
            for folder in made:
                if sync:
                    fsync_dir(folder.parent)
                else:
                    self._unsynced_dirs.add(key)
            if sync and key in self._unsynced_dirs:
                # Made earlier by a batch whose sync may not have happened yet.
                fsync_dir(path.parent.parent)
                fsync_dir(path.parent.parent.parent)
                self._unsynced_dirs.discard(key)
            self._made_dirs.add(key)

    @staticmethod
    def _tmp_path(dest: Path) -> Path:
        """A temp name beside ``dest``: the rename stays inside one folder. (Renaming out of one shared temp folder
        serialized concurrent writers on that folder's lock: +0.3 ms per file with 4 writers.) The pid lets the
        check tell a dead writer's leftovers from a live one's."""
        return dest.parent / f".{os.getpid()}-{uuid.uuid4().hex}.part"

    # --- writing ---------------------------------------------------------------------------------------------
    def write_bytes(
        self, sop_instance_uid: str, series_instance_uid: str, data: bytes | memoryview, fsync: bool = True,
        sync_dir: bool = True, early_writeback: bool = False, direct: bool = False,
    ) -> Path:
        """Write ``data`` as the file of ``sop_instance_uid`` (of ``series_instance_uid``) atomically: temp file,
        fsync, rename.

        ``early_writeback`` (without fsync) asks the kernel to start writing the file out now, without waiting:
        a batch's later sync then finds less to flush, so the disk works while the network still delivers.
        ``direct`` (without fsync) writes around the page cache instead, where the file system allows it: for bulk
        writes whose batch is synced anyway (see ``direct_io``).

        With ``sync_dir=False`` the rename is not yet durable: the caller must pass the returned path's folder to
        :meth:`sync_dirs` before it commits anything that relies on the file (the importer does, once per batch).
        """

        def write(tmp: Path) -> None:
            if direct and not fsync and self._direct_ok:
                try:
                    write_direct(tmp, (data,), self._direct_buffer())
                    return
                except DirectUnsupported as exc:  # the partial file is gone: write it again below
                    self._no_direct(exc)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
            try:
                _write_all(fd, data)
                if fsync:
                    _datasync(fd)
                elif early_writeback:
                    _start_writeback(fd)
            finally:
                os.close(fd)

        return self._put(self.path_for(sop_instance_uid, series_instance_uid), fsync and sync_dir, write)

    def copy_file(
        self, sop_instance_uid: str, series_instance_uid: str, source: Path | BinaryIO, fsync: bool = True,
        sync_dir: bool = True,
    ) -> Path:
        """Copy a file (path or open binary file) into storage atomically (``sync_dir`` as in write_bytes)."""

        def write(tmp: Path) -> None:
            if isinstance(source, (str, os.PathLike)):
                _copy_path(source, tmp, fsync)
            else:
                with open(tmp, "wb") as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
                    out.flush()
                    if fsync:
                        _datasync(out.fileno())

        return self._put(self.path_for(sop_instance_uid, series_instance_uid), fsync and sync_dir, write)

    def _put(self, dest: Path, durable: bool, write: Callable[[Path], None]) -> Path:
        """``write`` a temp file beside ``dest``, then rename it to ``dest`` (and make the rename durable at once
        with ``durable``). Nothing partial stays behind. A folder that another process removed as empty since this
        one made it (the last files of a series deleted there) is made again, once."""
        self._ensure_parent(dest, sync=durable)
        for attempt in (1, 2):
            tmp = self._tmp_path(dest)
            try:
                write(tmp)
                os.replace(tmp, dest)
                if durable:
                    fsync_dir(dest.parent)
                return dest
            except FileNotFoundError:
                _unlink_quietly(tmp)
                if attempt == 2 or os.path.isdir(dest.parent):  # a source that is gone, not our folder
                    raise
                with self._mkdir_lock:
                    self._made_dirs.discard(str(dest.parent))
                self._ensure_parent(dest, sync=durable)
            except BaseException as exc:
                _unlink_quietly(tmp)
                if is_disk_full(exc):
                    raise StorageFull(exc.errno, "no space left on the archive's disk", str(self.root)) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _direct_buffer(self) -> DirectBuffer:
        """The calling thread's buffer for direct writes (a few MiB, freed with the thread)."""
        buffer = getattr(self._direct_buffers, "buffer", None)
        if buffer is None:
            buffer = self._direct_buffers.buffer = DirectBuffer()
        return buffer

    def _no_direct(self, exc: OSError) -> None:
        self._direct_ok = False  # once per storage: the file system will not change
        log.info("storage writes go through the page cache: %s", exc)

    def sync_written(self, files: Iterable[Path], folders: Iterable[Path]) -> None:
        """Make files written with ``fsync=False, sync_dir=False`` durable, data and names, before anything that
        relies on them is committed. On Linux one syncfs(2) of the archive's file system does it for a whole batch
        (the kernel writes the batch back in large runs and commits the journal once); elsewhere each file and
        folder is synced."""
        folders = set(folders)
        try:
            if not _syncfs(self.root):
                for f in files:
                    _fsync_path(f)
                # The folders may be new: their own entries too (two hash levels).
                self.sync_dirs(folders | {f.parent for f in folders} | {f.parent.parent for f in folders})
        except OSError as exc:
            if is_disk_full(exc):  # file systems that report it at writeback (NFS, thin volumes)
                raise StorageFull(exc.errno, "no space left on the archive's disk", str(self.root)) from None
            raise
        with self._mkdir_lock:
            self._unsynced_dirs.difference_update(str(f) for f in folders)

    def sync_dirs(self, folders: Iterable[Path]) -> None:
        """Make the renames into ``folders`` durable (after writes with ``sync_dir=False``).

        On ext4/XFS the first fsync commits the journal holding every pending rename, so the others are cheap:
        one batch pays about one journal commit instead of one per file.
        """
        for folder in set(folders):
            fsync_dir(folder)

    # --- deleting --------------------------------------------------------------------------------------------
    def move_to_trash(self, path: Path) -> Path | None:
        """Step one of a delete: the file leaves the store but can come back if the index update fails."""
        target = self.trash_dir / f"{path.name}.{uuid.uuid4().hex[:8]}"
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None
        return target

    def restore_from_trash(self, trashed: Path, original: Path) -> None:
        self._ensure_parent(original)
        os.replace(trashed, original)

    def empty_trash(self, paths: list[Path] | None = None) -> int:
        victims = paths if paths is not None else list(self.trash_dir.iterdir())
        removed = 0
        for p in victims:
            if _unlink_quietly(p):
                removed += 1
        return removed

    def remove_empty_folders(self, folders: Iterable[Path]) -> int:
        """Remove those of ``folders`` (a file's folder: a series' in the series layout) that are empty now, as a
        delete leaves them; a folder that is not empty stays (rmdir refuses). A writer of another process that made
        one of them earlier makes it again (:meth:`_put`)."""
        removed = 0
        with self._mkdir_lock:
            for folder in set(folders):
                if folder.parent.parent != self.root:
                    continue  # only the file folders of the store, never anything above them
                try:
                    os.rmdir(folder)
                except OSError:
                    continue
                self._made_dirs.discard(str(folder))
                self._unsynced_dirs.discard(str(folder))
                removed += 1
        return removed

    def empty_folders(self) -> list[Path]:
        """The store's empty file folders (a walk over the whole store)."""
        found = []
        for first in self.root.iterdir():
            if first.name.startswith(".") or not first.is_dir():
                continue
            for second in first.iterdir():
                if second.is_dir() and not second.name.startswith("."):
                    with os.scandir(second) as entries:
                        if next(entries, None) is None:
                            found.append(second)
        return found

    # --- consistency -----------------------------------------------------------------------------------------
    def temp_files(self, everywhere: bool = True) -> list[Path]:
        """Temp files of writes in flight or interrupted: in ``.tmp/`` and (``everywhere``) beside the stored
        files, which takes a walk over the whole store."""
        found = list(self.tmp_dir.iterdir())
        if everywhere:
            for first in self.root.iterdir():
                if first.name.startswith(".") or not first.is_dir():
                    continue
                for second in first.iterdir():
                    if second.is_dir():
                        found.extend(f for f in second.iterdir() if f.name.endswith(".part"))
        return found

    def remove_temp_files(self, only_dead_writers: bool = False, everywhere: bool = True) -> int:
        """Remove the temp files of interrupted writes; with ``only_dead_writers``, only those whose writing
        process (the pid in the name) is gone, because other processes may be writing right now. Without
        ``everywhere`` only ``.tmp/`` is looked at (a quick start-up check; a crash makes the next check full)."""
        victims = self.temp_files(everywhere)
        if only_dead_writers:
            victims = [p for p in victims if not _writer_alive(p.name)]
        return sum(1 for p in victims if _unlink_quietly(p))

    def iter_files(self) -> Iterator[Path]:
        """Every stored instance file (not temp, not trash)."""
        for first in sorted(self.root.iterdir()):
            if first.name.startswith(".") or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if second.is_dir():
                    for f in second.iterdir():
                        if f.suffix == ".dcm":
                            yield f


def _writer_alive(name: str) -> bool:
    """Whether the process that named a temp file ``<pid>-<hex>.part`` still runs (unknown names: assume so)."""
    try:
        pid = int(name.lstrip(".").split("-", 1)[0])
    except ValueError:
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user's process
        return True
    return True


def _sha(uid: str) -> str:
    return hashlib.sha256(uid.encode("utf-8", "surrogateescape")).hexdigest()


_LIBC: object | None = None


def _syncfs(path: Path) -> bool:
    """syncfs(2) of the file system holding ``path``; False where it is not available (not Linux)."""
    libc = _libc()
    if not libc:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs: {os.strerror(err)}", str(path))
    finally:
        os.close(fd)
    return True


_SYNC_FILE_RANGE_WRITE = 2


def _start_writeback(fd: int) -> None:
    """sync_file_range(2) with SYNC_FILE_RANGE_WRITE: start writeback of the whole file, wait for nothing. Only a
    hint (durability stays with the batch's sync), so a failure or another system is ignored."""
    libc = _libc()
    if libc:
        libc.sync_file_range(fd, ctypes.c_int64(0), ctypes.c_int64(0), _SYNC_FILE_RANGE_WRITE)


def _libc() -> Any:
    """The C library on Linux (for syncfs and sync_file_range), else False."""
    global _LIBC
    if _LIBC is None:
        _LIBC = False
        if sys.platform.startswith("linux"):
            try:
                _LIBC = ctypes.CDLL(None, use_errno=True)
                _LIBC.syncfs  # noqa: B018 - present since glibc 2.14
                _LIBC.sync_file_range  # noqa: B018 - present since glibc 2.6
            except (OSError, AttributeError):
                _LIBC = False
    return _LIBC


def _datasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        _datasync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); directories cannot be opened for fsync on Windows."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return False


def _copy_path(source: str | os.PathLike[str], dest: Path, fsync: bool) -> None:
    """Copy ``source`` to the new file ``dest`` inside the kernel: copy_file_range(2) (a reflink or a server-side
    copy where the file system can), else sendfile(2). Leaner than shutil.copyfile, whose stat calls and checks
    cost a third as much as the copy itself for a 0.5 MB file."""
    src = os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        dst = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        try:
            size = os.fstat(src).st_size
            done = 0
            kernel = _KERNEL_COPY[0]
            while kernel is not None and done < size:
                try:
                    n = kernel(src, dst, size - done, done)
                except OSError as exc:
                    if done or exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP,
                                                 errno.ENOTSUP, errno.EBADF, errno.EPERM):
                        raise
                    kernel = _next_kernel_copy(kernel)
                    continue
                if n == 0:
                    break  # some file systems (procfs-like, some FUSE) report 0 instead of refusing
                done += n
            # Whatever the kernel did not copy (nothing, or a file that grew since fstat), read and write to EOF.
            os.lseek(src, done, os.SEEK_SET)
            os.lseek(dst, done, os.SEEK_SET)
            while chunk := os.read(src, 1 << 20):
                _write_all(dst, chunk)
            if fsync:
                _datasync(dst)
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _copy_file_range(src: int, dst: int, count: int, offset: int) -> int:
    return os.copy_file_range(src, dst, count, offset, offset)  # type: ignore[attr-defined]


def _sendfile(src: int, dst: int, count: int, offset: int) -> int:
    return os.sendfile(dst, src, offset, count)


def _next_kernel_copy(current: Any) -> Any:
    """The next way down once ``current`` failed for this file (copy_file_range -> sendfile -> plain read/write)."""
    return _sendfile if current is _copy_file_range and hasattr(os, "sendfile") else None


_KERNEL_COPY: list[Any] = [_copy_file_range if hasattr(os, "copy_file_range")
                           else _sendfile if hasattr(os, "sendfile") else None]


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """All of ``data`` to ``fd``, whatever short writes the kernel makes (a seam the disk-full tests use)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
