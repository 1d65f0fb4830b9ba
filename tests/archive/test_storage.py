"""Managed storage: atomic writes, and what is synced when."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workstation.archive import storage as storage_mod
from workstation.archive.storage import Storage


def _record_syncs(monkeypatch) -> list[Path]:
    calls: list[Path] = []
    real = storage_mod.fsync_dir

    def spy(path):
        calls.append(Path(path))
        real(path)

    monkeypatch.setattr(storage_mod, "fsync_dir", spy)
    return calls


def test_durable_write_syncs_new_folders_at_once(tmp_path, monkeypatch):
    st = Storage(tmp_path / "s")
    calls = _record_syncs(monkeypatch)
    dest = st.write_bytes("1.2.3", b"x" * 10)
    assert dest.read_bytes() == b"x" * 10
    assert dest.parent.parent in calls and dest.parent in calls  # the new leaf's entry, and the rename
    assert st.temp_files() == []


def test_batch_write_defers_folder_syncs_until_a_durable_writer_needs_them(tmp_path, monkeypatch):
    st = Storage(tmp_path / "s")
    calls = _record_syncs(monkeypatch)
    dest = st.write_bytes("1.2.3", b"a", fsync=False, sync_dir=False)
    assert calls == []  # a batch writer pays no sync per file
    # A durable writer into the same, still unsynced, folder makes its entries durable first.
    other = next(uid for uid in (f"1.2.{i}" for i in range(100000)) if st.path_for(uid).parent == dest.parent
                 and uid != "1.2.3")
    st.write_bytes(other, b"b")
    assert dest.parent.parent in calls and dest.parent.parent.parent in calls
    calls.clear()
    st.write_bytes("1.2.3", b"c")
    assert dest.parent.parent not in calls  # synced once is enough


def test_sync_written_without_syncfs_syncs_each_file_and_folder(tmp_path, monkeypatch):
    st = Storage(tmp_path / "s")
    files = [st.write_bytes(f"1.2.{i}", b"z", fsync=False, sync_dir=False) for i in range(3)]
    monkeypatch.setattr(storage_mod, "_syncfs", lambda root: False)
    synced_files: list[Path] = []
    monkeypatch.setattr(storage_mod, "_fsync_path", lambda p: synced_files.append(Path(p)))
    calls = _record_syncs(monkeypatch)
    st.sync_written(files, {f.parent for f in files})
    assert sorted(synced_files) == sorted(files)
    for f in files:
        assert f.parent in calls and f.parent.parent in calls


def test_syncfs_is_used_on_linux(tmp_path):
    import sys

    st = Storage(tmp_path / "s")
    assert storage_mod._syncfs(st.root) is sys.platform.startswith("linux")


def test_early_writeback_starts_writing_each_file_out_without_fsync(tmp_path, monkeypatch):
    started, synced = [], []
    real = storage_mod._start_writeback
    monkeypatch.setattr(storage_mod, "_start_writeback", lambda fd: (started.append(os.fstat(fd).st_size), real(fd)))
    monkeypatch.setattr(storage_mod, "_datasync", lambda fd: synced.append(fd))
    st = Storage(tmp_path / "s")
    path = st.write_bytes("1.2.3.4", b"x" * 70000, fsync=False, sync_dir=False, early_writeback=True)
    assert path.read_bytes() == b"x" * 70000
    assert started == [70000] and not synced  # the whole file handed to writeback; nothing waited for
    st.write_bytes("1.2.3.5", b"y", fsync=False, sync_dir=False)
    assert len(started) == 1  # only when asked


def test_early_writeback_is_only_a_hint(tmp_path):
    # On a descriptor the kernel cannot write back (a pipe: ESPIPE) or off Linux, nothing is raised.
    r, w = os.pipe()
    try:
        storage_mod._start_writeback(w)
    finally:
        os.close(r)
        os.close(w)


def test_temp_files_are_written_beside_their_final_name_and_found_by_the_check(tmp_path, monkeypatch):
    st = Storage(tmp_path / "s")
    seen: list[Path] = []
    real_replace = storage_mod.os.replace

    def spy(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)

    monkeypatch.setattr(storage_mod.os, "replace", spy)
    dest = st.write_bytes("1.2.3", b"x")
    assert seen[0].parent == dest.parent and seen[0].name.startswith(".") and seen[0].suffix == ".part"
    monkeypatch.undo()
    stray = dest.parent / ".999999999-gone.part"
    stray.write_bytes(b"half")
    assert st.temp_files(everywhere=False) == []  # the quick check looks in .tmp only
    assert st.temp_files() == [stray]
    assert st.remove_temp_files(only_dead_writers=True) == 1 and not stray.exists()
    assert list(st.iter_files()) == [dest]


@pytest.mark.parametrize("ways", [("copy_file_range",), ("sendfile",), ()])
def test_copy_file_falls_back_from_kernel_copies_to_a_plain_copy(tmp_path, monkeypatch, ways):
    """The in-kernel copy (copy_file_range, else sendfile) falls back per file when the file system refuses it."""
    import errno

    src = tmp_path / "src.bin"
    payload = os.urandom(3 * 1024 * 1024 + 17)
    src.write_bytes(payload)

    def refuse(*args):
        raise OSError(errno.EXDEV, "cross-device")

    for name in ("copy_file_range", "sendfile"):
        if name not in ways and hasattr(os, name):
            monkeypatch.setattr(storage_mod.os, name, refuse)
    st = Storage(tmp_path / "s")
    dest = st.copy_file("1.2.3", src, fsync=True)
    assert dest.read_bytes() == payload
    assert st.temp_files() == []


def test_copy_file_completes_a_copy_the_kernel_stopped_short(tmp_path, monkeypatch):
    """copy_file_range reports 0 on some file systems instead of refusing: the rest is read and written."""
    src = tmp_path / "src.bin"
    payload = os.urandom(2 * 1024 * 1024 + 5)
    src.write_bytes(payload)
    calls = []

    def short(src_fd, dst_fd, count, offset_src=None, offset_dst=None):
        calls.append(count)
        if len(calls) > 1:
            return 0
        return real(src_fd, dst_fd, 1000, offset_src, offset_dst)

    real = os.copy_file_range
    monkeypatch.setattr(storage_mod.os, "copy_file_range", short)
    st = Storage(tmp_path / "s")
    assert st.copy_file("1.2.3", src).read_bytes() == payload
    assert len(calls) == 2
