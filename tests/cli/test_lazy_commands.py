"""Start-up time (issue 15): a command imports only its own ``*_cmds`` module, and the name -> module table read
from the sources matches what the modules really register."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from workstation.cli import build_parser, command_modules

ROOT = Path(__file__).resolve().parents[2]


def _top_level(parser: argparse.ArgumentParser) -> set[str]:
    return {c for a in parser._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices}


def test_the_table_names_every_command_and_only_them():
    assert set(command_modules()) == _top_level(build_parser())


def test_each_command_builds_a_parser_with_just_its_module():
    table = command_modules()
    for command, module in table.items():
        names = _top_level(build_parser([command]))
        assert command in names
        assert names == {c for c, m in table.items() if m == module}


def test_echo_does_not_import_the_imaging_commands(tmp_path):
    code = ("import sys\nfrom workstation.cli import main\n"
            f"main(['--data-dir', {str(tmp_path / 'ws')!r}, 'nodes', 'ls'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('workstation.cli.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip().splitlines()[-1]
    assert "workstation.cli.net_cmds" in loaded
    assert "imaging_cmds" not in loaded and "pstate_render" not in loaded and "archive_cmds" not in loaded


def test_retrieve_runs_without_the_pixel_back_ends(tmp_path):
    """`workstation retrieve` as a process (sys.argv, as the console script runs it) never imports numpy or
    pydicom's pixel plugins (~0.15 s of its start-up, measured against getscu in bench_scu --cli-only), and the
    C-GET from a real dcmqrscp still lands every instance intact in the archive."""
    import pydicom

    from tests.peers import make_ct_series, run_dcmqrscp

    paths = make_ct_series(tmp_path / "ct", 3, rows=16, columns=16)
    study = str(pydicom.dcmread(paths[0]).StudyInstanceUID)
    data = tmp_path / "ws"
    with run_dcmqrscp(tmp_path / "qr", seed=paths) as peer:
        argv = ["workstation", "--data-dir", str(data), "retrieve", peer.address, "--study", study,
                "--method", "get"]
        # The command leaves through the quick exit (no interpreter teardown): the modules are listed on the way.
        code = ("import sys\nimport workstation.cli as cli\n"
                "real = cli._quick_exit\n"
                "def listed(rc):\n"
                "    print(sorted(m for m in ('numpy', 'gdcm', 'PIL', 'pylibjpeg') if sys.modules.get(m)))\n"
                "    real(rc)\n"
                "    print('no quick exit')\n"
                "cli._quick_exit = listed\n"
                f"sys.argv = {argv!r}\nrc = cli.main()\n"
                "sys.exit(rc)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout  # and nothing after: the process left there
    assert "get: 3 completed" in out.stdout, out.stdout  # the summary was flushed before the quick exit
    assert not (data / ".open").exists()  # the archive was closed cleanly before the quick exit
    from workstation.archive import Archive
    from workstation.config import Settings

    archive = Archive.open(Settings(data_dir=data, path=data / "settings.toml"))
    try:
        rows = archive.query("instance", {"StudyInstanceUID": study})
    finally:
        archive.close()
    assert len(rows) == 3
    originals = {str(pydicom.dcmread(p).SOPInstanceUID): p for p in paths}
    for row in rows:
        stored = pydicom.dcmread(row["path"])
        assert stored.PixelData == pydicom.dcmread(originals[str(stored.SOPInstanceUID)]).PixelData


def test_a_failing_command_leaves_by_the_quick_exit_with_its_code_and_message(tmp_path):
    """`workstation echo` to a port nobody listens on, as a process: the quick exit (no interpreter teardown)
    keeps the exit code and the one-line error, and the archive is closed cleanly."""
    import socket

    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "ws"
    out = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(data), "echo",
                          f"NOBODY@127.0.0.1:{port}"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert out.returncode not in (0, None), out
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("workstation: "), out.stderr
    assert not (data / ".open").exists()
