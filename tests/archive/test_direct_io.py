"""Writing around the page cache (archive.direct_io): exact bytes whatever the sizes and pieces, a clean refusal where
the file system has no O_DIRECT, and storage falling back to the page cache there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workstation.archive import direct_io
from workstation.archive.storage import Storage

pytestmark = pytest.mark.skipif(not direct_io.AVAILABLE, reason="O_DIRECT is a Linux feature")

SERIES = "1.2.840.99.1"  # the series every file of these tests belongs to


def _direct_works(folder: Path) -> bool:
    buffer = direct_io.DirectBuffer(direct_io.ALIGN)
    try:
        direct_io.write_direct(folder / "probe", [b"x" * direct_io.ALIGN], buffer)
    except direct_io.DirectUnsupported:
        return False
    finally:
        buffer.close()
    os.unlink(folder / "probe")
    return True


@pytest.fixture
def disk_dir(tmp_path):
    if not _direct_works(tmp_path):
        pytest.skip(f"{tmp_path} takes no O_DIRECT writes")
    return tmp_path


@pytest.mark.parametrize("size", [1, 4095, 4096, 4097, 3 * 4096, 64 * 1024 + 17, 2 * 1024 * 1024 + 5])
def test_the_file_holds_exactly_the_bytes_given(disk_dir, size):
    data = os.urandom(size)
    buffer = direct_io.DirectBuffer(1024 * 1024)  # smaller than some files: they go through it in chunks
    try:
        assert direct_io.write_direct(disk_dir / "f", [data], buffer) == size
    finally:
        buffer.close()
    assert (disk_dir / "f").read_bytes() == data


def test_pieces_of_every_kind_are_written_in_order(disk_dir):
    received = bytearray(os.urandom(700_000))  # a PDU, as the C-GET reads it
    meta = os.urandom(300)
    whole = os.urandom(200_000)
    pieces = [meta, memoryview(received)[6:500_006], whole, memoryview(whole)[10:100_010],  # read-only slice
              memoryview(received)[:3], b""]
    buffer = direct_io.DirectBuffer()
    try:
        direct_io.write_direct(disk_dir / "f", pieces, buffer)
        # The buffer is reused: a shorter file after a longer one carries nothing of it.
        direct_io.write_direct(disk_dir / "g", [b"short"], buffer)
    finally:
        buffer.close()
    assert (disk_dir / "f").read_bytes() == b"".join(bytes(p) for p in pieces)
    assert (disk_dir / "g").read_bytes() == b"short"


def test_an_existing_file_is_never_replaced(disk_dir):
    (disk_dir / "f").write_bytes(b"old")
    buffer = direct_io.DirectBuffer()
    try:
        with pytest.raises(FileExistsError):
            direct_io.write_direct(disk_dir / "f", [b"new"], buffer)
    finally:
        buffer.close()
    assert (disk_dir / "f").read_bytes() == b"old"


@pytest.mark.parametrize("refused_at", ["open", "write"])
def test_a_file_system_without_o_direct_is_refused_cleanly_and_storage_falls_back(tmp_path, monkeypatch,
                                                                                  refused_at):
    """Some file systems refuse O_DIRECT when the file is opened (older tmpfs), others at the first write (some
    network and FUSE file systems): both are a DirectUnsupported with nothing left behind, and storage writes
    through the page cache from then on."""
    import errno
    import fcntl

    real_open, real_write = os.open, os.write

    def open_(path, flags, *args, **kwargs):
        if refused_at == "open" and flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args, **kwargs)

    def write_(fd, data):
        if refused_at == "write" and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "write", write_)
    buffer = direct_io.DirectBuffer()
    try:
        with pytest.raises(direct_io.DirectUnsupported):
            direct_io.write_direct(tmp_path / "f", [os.urandom(10_000)], buffer)
    finally:
        buffer.close()
    assert not (tmp_path / "f").exists()
    storage = Storage(tmp_path / "storage")
    data = os.urandom(10_000)
    path = storage.write_bytes("1.2.3.4", SERIES, data, fsync=False, sync_dir=False, direct=True)
    again = storage.write_bytes("1.2.3.5", SERIES, data, fsync=False, sync_dir=False, direct=True)
    assert path.read_bytes() == data and again.read_bytes() == data
    assert not storage._direct_ok  # asked once, then the page cache
    assert not storage.temp_files()


def test_a_full_disk_during_a_direct_write_leaves_no_file(disk_dir, monkeypatch):
    import errno

    from workstation.archive.storage import StorageFull

    real_write = os.write
    calls = []

    def write_(fd, data):
        calls.append(len(data))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write_)
    storage = Storage(disk_dir / "storage")
    with pytest.raises(StorageFull):
        storage.write_bytes("1.2.3.4", SERIES, os.urandom(9 * 1024 * 1024), fsync=False, sync_dir=False, direct=True)
    assert storage._direct_ok and not storage.temp_files() and not storage.path_for("1.2.3.4", SERIES).exists()


def test_storage_writes_direct_where_it_can(disk_dir, monkeypatch):
    from workstation.archive import storage as storage_module

    calls = []
    real = direct_io.write_direct
    monkeypatch.setattr(storage_module, "write_direct",
                        lambda path, pieces, buffer: calls.append(path) or real(path, pieces, buffer))
    storage = Storage(disk_dir / "storage")
    data = os.urandom(600_000)
    path = storage.write_bytes("1.2.3.4", SERIES, data, fsync=False, sync_dir=False, direct=True)
    synced = storage.write_bytes("1.2.3.6", SERIES, data)  # fsync per file: through the page cache, as before
    assert len(calls) == 1 and path.read_bytes() == data and synced.read_bytes() == data
    assert not storage.temp_files()
