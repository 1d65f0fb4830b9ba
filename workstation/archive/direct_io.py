"""Writing a file around the page cache (O_DIRECT), for bulk ingest whose data must reach the disk anyway.

A C-GET into the archive writes hundreds of megabytes that are synced before the retrieve reports anything. Written
through the page cache, every byte first takes a fresh cache page; on a virtual machine whose free memory the host
has reclaimed, taking those pages became the slowest part of the whole retrieve (157 MB as 300 files: 0.06-0.10 s
of system time while the guest's free pages were warm, 0.57-0.69 s once they were not; the same files written
with O_DIRECT took 0.14-0.18 s every time, on the 2-core VM the benchmarks run on). getscu pays that cost too,
but it never syncs: ours was paid on top of a sync that has to wait for the disk in any case.

O_DIRECT wants the buffer, the length and the file offset aligned to the device's logical block. Each writer owns a
:class:`DirectBuffer` (page-aligned, a few MiB, reused); a file is copied through it in chunks of whole blocks, and
the last partial block goes through the page cache (the same descriptor, O_DIRECT switched off). Where the file
system refuses O_DIRECT (at open or at the first write: some FUSE and network file systems; other platforms),
:class:`DirectUnsupported` is raised, the partial file removed, and the caller writes through the page cache.

The C-GET ingest uses it. The copy-mode import does not: copying around the page cache did no better there than
the kernel's copy_file_range, which can also share blocks (reflinks) on file systems that have them.

Durability is unchanged: a direct write is on the device when it returns, but the file's size, its name and the
device's own write cache are made durable by the batch's ``syncfs`` like every other write.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import sys
from collections.abc import Sequence

ALIGN = 4096  # a multiple of every logical block size in use (512 and 4096)
CHUNK = 4 * 1024 * 1024
AVAILABLE = sys.platform.startswith("linux") and hasattr(os, "O_DIRECT")


class DirectUnsupported(OSError):
    """This file system does not take O_DIRECT writes; nothing was left behind."""


class DirectBuffer:
    """A page-aligned buffer of ``size`` bytes (a multiple of :data:`ALIGN`) for one writer thread at a time."""

    def __init__(self, size: int = CHUNK):
        size = max(ALIGN, size // ALIGN * ALIGN)
        self._map = mmap.mmap(-1, size)  # anonymous maps are page aligned
        self.view = memoryview(self._map)
        self._anchor = (ctypes.c_char * size).from_buffer(self._map)
        self.address = ctypes.addressof(self._anchor)
        self.size = size

    def close(self) -> None:
        del self._anchor
        self.view.release()
        self._map.close()


def write_direct(path: str | os.PathLike[str], pieces: Sequence[bytes | bytearray | memoryview],
                 buffer: DirectBuffer) -> int:
    """Create ``path`` (it must not exist) holding ``pieces`` one after the other, written with O_DIRECT; returns
    the size. Raises :class:`DirectUnsupported` (and removes the file) when the file system refuses O_DIRECT, and
    any other OSError (ENOSPC...) as ``os.write`` does, also removing the partial file."""
    out = _DirectFile(path, buffer)
    try:
        for piece in pieces:
            piece = memoryview(piece).cast("B")
            start = 0
            while start < len(piece):
                n = min(buffer.size - out.filled, len(piece) - start)
                _copy(buffer, out.filled, piece[start:start + n])
                out.filled += n
                start += n
                if out.filled == buffer.size:
                    out.flush()
        return out.finish()
    except BaseException:
        out.abandon()
        raise


class _DirectFile:
    """A new file written through a :class:`DirectBuffer`: whole buffers as they fill, then the whole blocks of the
    last one, then its partial block through the page cache (the same descriptor, O_DIRECT switched off: padding
    it and truncating the file afterwards made ext4 read the last block back from the disk)."""

    def __init__(self, path: str | os.PathLike[str], buffer: DirectBuffer):
        if not AVAILABLE:
            raise DirectUnsupported(errno.EINVAL, "O_DIRECT is not available on this platform")
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_DIRECT, 0o644)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise DirectUnsupported(exc.errno, f"no O_DIRECT here: {exc.strerror}") from None
            raise
        self.path = path
        self.buffer = buffer
        self.filled = 0  # bytes in the buffer, not yet written
        self.total = 0  # bytes written
        self._closed = False

    def flush(self) -> None:
        """Write the full buffer."""
        self._write_direct(self.buffer.view[:self.filled])
        self.filled = 0

    def finish(self) -> int:
        whole = self.filled // ALIGN * ALIGN
        if whole:
            self._write_direct(self.buffer.view[:whole])
        if whole != self.filled:
            fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~os.O_DIRECT)
            tail = self.buffer.view[whole:self.filled]
            while len(tail):
                tail = tail[os.write(self.fd, tail):]
        self.total += self.filled - whole
        self.filled = 0
        self._closed = True
        os.close(self.fd)
        return self.total

    def abandon(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _write_direct(self, view: memoryview) -> None:
        try:
            _write_all(self.fd, view)
        except OSError as exc:
            if exc.errno == errno.EINVAL and not self.total:
                raise DirectUnsupported(exc.errno, f"no O_DIRECT writes here: {exc.strerror}") from None
            raise
        self.total += len(view)


# Copies of at least this size go through ctypes.memmove, which runs without the GIL: a slice assignment holds it
# for the whole copy (0.1 ms per 512 KiB), and the association's thread waits for the GIL after every recv.
_GIL_FREE_COPY = 64 * 1024


def _copy(buffer: DirectBuffer, offset: int, piece: memoryview) -> None:
    n = len(piece)
    if n >= _GIL_FREE_COPY:
        source = _source_address(piece)
        if source is not None:
            ctypes.memmove(buffer.address + offset, source[0], n)
            del source
            return
    buffer.view[offset:offset + n] = piece


def _source_address(piece: memoryview) -> tuple[int, object] | None:
    """The address of a contiguous piece's first byte and the object that keeps it valid, or None where ctypes
    cannot take one (a read-only view into part of an object)."""
    if not piece.readonly:
        anchor = (ctypes.c_char * len(piece)).from_buffer(piece)
        return ctypes.addressof(anchor), anchor
    obj = piece.obj
    if isinstance(obj, bytes) and len(obj) == len(piece):  # the whole of a bytes object
        anchor = ctypes.c_char_p(obj)
        return ctypes.cast(anchor, ctypes.c_void_p).value or 0, anchor
    return None


def _write_all(fd: int, view: memoryview) -> None:
    # A short write leaves the rest at an aligned offset only if the kernel wrote whole blocks, which it does for
    # O_DIRECT; anything else is an error worth raising rather than a misaligned retry.
    while len(view):
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "the disk took no bytes")
        if n % ALIGN and n != len(view):
            raise OSError(errno.EIO, "a direct write stopped off a block boundary")
        view = view[n:]
