"""Moving an older archive to the series layout: nothing copied, nothing lost, a crash at any step repaired."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pydicom
import pytest

from tests.archive.test_layout import _archive_of_an_older_version, _schema
from tests.peers import make_ct_series
from workstation.archive import Archive
from workstation.archive import relayout
from workstation.archive.relayout import RelayoutError, to_series_layout
from workstation.archive.storage import INSTANCE_LAYOUT, SERIES_LAYOUT, Storage


def _older_archive(settings, tmp_path) -> tuple[list[Path], Path]:
    """Two series in the instance layout, plus a file without a row (a store a crash interrupted)."""
    a = make_ct_series(tmp_path / "a", 3, series_uid="1.2.826.0.1.3680043.9.8.1")
    b = make_ct_series(tmp_path / "b", 2, series_uid="1.2.826.0.1.3680043.9.8.2", series_number=2)
    placed = _archive_of_an_older_version(settings, a + b)
    orphan = placed.pop()  # its row goes: the check indexes such a file once it has its series name
    con = sqlite3.connect(settings.data_dir / "index.sqlite")
    con.execute("DELETE FROM instances WHERE sop_uid = (SELECT sop_uid FROM instances ORDER BY pk DESC LIMIT 1)")
    con.commit()
    con.close()
    return placed, orphan


def _rows(arc) -> dict[str, Path]:
    return {r["SOPInstanceUID"]: Path(r["path"]) for r in arc.query("instance")}


def _contents(files: list[Path]) -> dict[str, bytes]:
    return {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p.read_bytes() for p in files}


def test_an_older_archive_moves_to_a_folder_per_series_without_copying(settings, tmp_path):
    placed, orphan = _older_archive(settings, tmp_path)
    before = _contents(placed + [orphan])
    inodes = {p.stat().st_ino for p in placed + [orphan]}
    junk = orphan.parent / "not-dicom.dcm"  # in the older layout's folders, not ours to delete
    junk.write_bytes(b"junk")
    with Archive.open(settings, check=False) as arc:
        assert arc.storage.layout == INSTANCE_LAYOUT
        result = to_series_layout(arc)
        assert result["moved"] == 5 and not result["already"]
        assert result["not_moved"] == [f"{junk}: not in the index (see `workstation check`)"] and junk.exists()
        assert arc.storage.layout == SERIES_LAYOUT
        rows = _rows(arc)  # the file without a row got one first (the move runs the check)
        assert {sop: p.read_bytes() for sop, p in rows.items()} == before
        assert len({p.parent for p in rows.values()}) == 2  # two series, two folders
        assert {p.stat().st_ino for p in rows.values()} == inodes  # renamed, not copied
        assert not any(p.exists() for p in placed + [orphan])
        report = arc.check(full=True)
        assert report.files_unreadable == [f"{junk}: not a DICOM file (no preamble and no recognisable DICOM elements)"]
        assert not (report.files_indexed or report.superseded_removed or report.rows_without_file)
        assert to_series_layout(arc)["already"]
    assert _schema(settings) == 2
    assert Storage(settings.data_dir / "storage").layout == SERIES_LAYOUT


def test_the_move_is_refused_while_another_process_has_the_archive_open(settings, tmp_path):
    placed, _ = _older_archive(settings, tmp_path)
    with Archive.open(settings, check=False) as arc, Archive.open(settings, check=False):
        with pytest.raises(RelayoutError, match="open in another process"):
            to_series_layout(arc)
        assert arc.storage.layout == INSTANCE_LAYOUT and all(p.exists() for p in placed)


@pytest.mark.parametrize("step", ["linking", "dropping the old names"])
def test_a_move_interrupted_at_any_step_loses_nothing_and_can_be_run_again(settings, tmp_path, monkeypatch, step):
    placed, orphan = _older_archive(settings, tmp_path)
    before = _contents(placed + [orphan])
    calls = []
    if step == "linking":
        real_link = os.link

        def link(src, dst):  # the process dies after two new names (os.link is global: count only files)
            if str(dst).endswith(".dcm"):
                if len(calls) == 2:
                    raise KeyboardInterrupt
                calls.append(dst)
            real_link(src, dst)

        monkeypatch.setattr(relayout.os, "link", link)
    else:
        monkeypatch.setattr(relayout, "_drop_old_names", lambda pairs: (_ for _ in ()).throw(KeyboardInterrupt))
    arc = Archive.open(settings, check=False)
    with pytest.raises(KeyboardInterrupt):
        to_series_layout(arc)
    arc.index.close()
    arc._lock._fd and os.close(arc._lock._fd)  # killed: the lock goes with the process, the ".open" marker stays
    arc._lock._fd = None
    monkeypatch.undo()

    with Archive.open(settings) as arc:  # the startup check runs in full: the last session did not close
        report = arc.last_check
        assert report is not None and len(report.superseded_removed) == (2 if step == "linking" else 5)
        assert arc.storage.layout == (INSTANCE_LAYOUT if step == "linking" else SERIES_LAYOUT)
        assert {sop: p.read_bytes() for sop, p in _rows(arc).items()} == before
        assert arc.check(full=True).clean
        result = to_series_layout(arc)
        assert result["already"] == (step != "linking")
        assert {sop: p.read_bytes() for sop, p in _rows(arc).items()} == before
        assert arc.storage.layout == SERIES_LAYOUT
        assert arc.check(full=True).clean


def test_migrate_storage_command(settings, tmp_path):
    import json
    import subprocess
    import sys

    placed, orphan = _older_archive(settings, tmp_path)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(settings.data_dir), *args],
                              capture_output=True, text=True, timeout=120)

    r = run("migrate-storage")
    assert r.returncode == 0 and r.stdout.strip() == "moved 5 files to a folder per series", r.stdout + r.stderr
    assert run("migrate-storage").stdout.strip() == "the archive already keeps a folder per series"
    assert run("check").stdout.strip() == "the archive is consistent"
    rows = json.loads(run("ls", "--level", "instance", "--json").stdout)
    assert len(rows) == 5 and all(Path(r["path"]).is_file() for r in rows)
    assert not any(p.exists() for p in placed + [orphan])
