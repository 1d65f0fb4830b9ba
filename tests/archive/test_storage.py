"""Managed storage: atomic writes, and what is synced when."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workstation.archive import storage as storage_mod
from workstation.archive.storage import INSTANCE_LAYOUT, SERIES_LAYOUT, Storage, StorageError

SERIES = "1.2.840.99.1"  # the series every file of these tests belongs to


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
    dest = st.write_bytes("1.2.3", SERIES, b"x" * 10)
    assert dest.read_bytes() == b"x" * 10
    assert dest.parent.parent in calls and dest.parent in calls  # the new leaf's entry, and the rename
    assert st.temp_files() == []


def test_batch_write_defers_folder_syncs_until_a_durable_writer_needs_them(tmp_path, monkeypatch):
    st = Storage(tmp_path / "s")
    calls = _record_syncs(monkeypatch)
    dest = st.write_bytes("1.2.3", SERIES, b"a", fsync=False, sync_dir=False)
    assert calls == []  # a batch writer pays no sync per file
    # A durable writer into the same, still unsynced, folder makes its entries durable first.
    other = "1.2.4"
    assert st.path_for(other, SERIES).parent == dest.parent  # a series' files share its folder
    st.write_bytes(other, SERIES, b"b")
    assert dest.parent.parent in calls and dest.parent.parent.parent in calls
    calls.clear()
    st.write_bytes("1.2.3", SERIES, b"c")
    assert dest.parent.parent not in calls  # synced once is enough


def test_sync_written_without_syncfs_syncs_each_file_and_folder(tmp_path, monkeypatch):
    st = Storage(tmp_path / "s")
    files = [st.write_bytes(f"1.2.{i}", SERIES, b"z", fsync=False, sync_dir=False) for i in range(3)]
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
    path = st.write_bytes("1.2.3.4", SERIES, b"x" * 70000, fsync=False, sync_dir=False, early_writeback=True)
    assert path.read_bytes() == b"x" * 70000
    assert started == [70000] and not synced  # the whole file handed to writeback; nothing waited for
    st.write_bytes("1.2.3.5", SERIES, b"y", fsync=False, sync_dir=False)
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
    dest = st.write_bytes("1.2.3", SERIES, b"x")
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
    dest = st.copy_file("1.2.3", SERIES, src, fsync=True)
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
    assert st.copy_file("1.2.3", SERIES, src).read_bytes() == payload
    assert len(calls) == 2


# --- layouts -------------------------------------------------------------------------------------------------


def test_a_new_store_keeps_each_series_in_a_folder_of_its_own(tmp_path):
    st = Storage(tmp_path / "s")
    assert st.layout == SERIES_LAYOUT and (st.root / ".layout").read_text().strip() == SERIES_LAYOUT
    a = [st.write_bytes(f"1.2.{i}", SERIES, b"a", fsync=False, sync_dir=False) for i in range(5)]
    b = st.write_bytes("1.2.9", "1.2.840.99.2", b"b", fsync=False, sync_dir=False)
    assert {p.parent for p in a} == {a[0].parent} and b.parent != a[0].parent
    assert all(p.name == f"{Storage.key(f'1.2.{i}')}.dcm" for i, p in enumerate(a))  # named by the SOP UID
    assert len(a[0].relative_to(st.root).parts) == 3  # the walks (iter_files, temp_files) see two levels
    assert sorted(st.iter_files()) == sorted(a + [b])
    # Opened again (another process, the next start): the same layout, the same paths.
    again = Storage(tmp_path / "s")
    assert again.layout == SERIES_LAYOUT and again.path_for("1.2.9", "1.2.840.99.2") == b


def test_a_store_made_before_layouts_keeps_its_instance_layout(tmp_path):
    root = tmp_path / "s"
    key = Storage.key("1.2.3")
    old = root / key[:2] / key[2:4] / f"{key}.dcm"  # where versions before the series layout put it
    old.parent.mkdir(parents=True)
    old.write_bytes(b"old")
    st = Storage(root)
    assert st.layout == INSTANCE_LAYOUT and (root / ".layout").read_text().strip() == INSTANCE_LAYOUT
    assert st.path_for("1.2.3", SERIES) == old
    new = st.write_bytes("1.2.4", SERIES, b"new")
    k4 = Storage.key("1.2.4")
    assert new == root / k4[:2] / k4[2:4] / f"{k4}.dcm"
    assert Storage(root).layout == INSTANCE_LAYOUT


def test_a_store_copied_without_its_layout_file_is_read_by_the_shape_of_its_folders(tmp_path):
    """A copy made with ``cp -r storage/*`` leaves the dot file behind: the folders still tell the layout, and a
    series store must not be taken for an older one (its files would not be found)."""
    st = Storage(tmp_path / "s")
    path = st.write_bytes("1.2.3", SERIES, b"a")
    (st.root / ".layout").unlink()
    again = Storage(tmp_path / "s")
    assert again.layout == SERIES_LAYOUT and again.path_for("1.2.3", SERIES) == path
    assert (st.root / ".layout").read_text().strip() == SERIES_LAYOUT


def test_a_store_of_an_unknown_layout_is_refused(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    (root / ".layout").write_text("by-date\n")
    with pytest.raises(StorageError, match="unknown storage layout 'by-date'"):
        Storage(root)


# --- folders of deleted series -------------------------------------------------------------------------------


@pytest.mark.parametrize("way", ["bytes", "direct", "durable", "copy"])
def test_a_writer_makes_a_folder_again_that_another_process_removed_as_empty(tmp_path, way):
    """This process made the series' folder earlier (and remembers it); another one deleted the series and removed
    the folder: the next file of that series must still be written, not fail on a folder that is gone."""
    st = Storage(tmp_path / "s")
    first = st.write_bytes("1.2.1", SERIES, b"a", fsync=False, sync_dir=False)
    first.unlink()
    os.rmdir(first.parent)  # as another process's Storage.remove_empty_folders does
    source = tmp_path / "src.dcm"
    source.write_bytes(b"b" * 5000)
    if way == "copy":
        dest = st.copy_file("1.2.2", SERIES, source, fsync=False, sync_dir=False)
    else:
        dest = st.write_bytes("1.2.2", SERIES, source.read_bytes(), fsync=way == "durable", direct=way == "direct",
                              sync_dir=way == "durable")
    assert dest.parent == first.parent and dest.read_bytes() == source.read_bytes()
    assert st.temp_files() == []


def test_a_missing_source_is_still_an_error_and_leaves_nothing(tmp_path):
    st = Storage(tmp_path / "s")
    with pytest.raises(FileNotFoundError):
        st.copy_file("1.2.1", SERIES, tmp_path / "gone.dcm", fsync=False)
    assert st.temp_files() == [] and list(st.iter_files()) == []


def test_only_empty_file_folders_are_removed(tmp_path):
    st = Storage(tmp_path / "s")
    kept = st.write_bytes("1.2.1", SERIES, b"a", fsync=False, sync_dir=False)
    gone = st.write_bytes("1.2.2", "1.2.840.99.2", b"b", fsync=False, sync_dir=False)
    gone.unlink()
    assert st.empty_folders() == [gone.parent]
    # Not a file folder of the store (the store itself, a first level, its trash): never removed.
    assert st.remove_empty_folders([kept.parent, st.root, gone.parent.parent, st.trash_dir, gone.parent]) == 1
    assert kept.exists() and not gone.parent.exists() and gone.parent.parent.exists() and st.trash_dir.exists()
    assert st.empty_folders() == []
