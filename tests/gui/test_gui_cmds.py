"""``workstation view PATH_OR_UID`` resolution and the no-command GUI door (headless parts)."""

from __future__ import annotations

import pytest

from workstation.cli import build_parser
from workstation.cli.context import CommandError, Context
from workstation.cli.gui_cmds import resolve_targets

from tests.peers import make_ct_series


def test_view_is_registered():
    args = build_parser().parse_args(["view", "a.dcm", "b"])
    assert args.targets == ["a.dcm", "b"] and args.func.__name__ == "view_cmd"


def test_resolve_files_folders_and_uids(tmp_path):
    ctx = Context(data_dir_option=str(tmp_path / "data"))
    try:
        paths = make_ct_series(tmp_path / "ct", 3, accession="ACC9")
        report = ctx.archive.import_paths([str(tmp_path / "ct")])
        assert report.imported == 3
        assert resolve_targets([str(paths[0])], ctx) == [str(paths[0])]
        assert sorted(resolve_targets([str(tmp_path / "ct")], ctx)) == sorted(map(str, paths))
        study = ctx.archive.query("study", {})[0]
        groups = resolve_targets([study["StudyInstanceUID"]], ctx)
        assert len(groups) == 1 and len(groups[0]) == 3
        assert resolve_targets(["ACC9"], ctx) == groups
        with pytest.raises(CommandError, match="neither a file"):
            resolve_targets(["1.2.3.4.nothing"], ctx)
    finally:
        ctx.close()


def test_gui_import_is_lazy():
    import subprocess
    import sys

    code = ("import sys, workstation.cli, workstation.cli.gui_cmds; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'workstation.gui'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
