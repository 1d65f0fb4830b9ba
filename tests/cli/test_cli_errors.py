"""Whatever goes wrong, the command line says it in one line on stderr: no multi-line plugin errors, no warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import test_file
from workstation.cli import one_line


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=120)


def test_one_line_folds_multi_line_messages():
    assert one_line("cannot decode:\n  pylibjpeg: bad\n\n  gdcm: worse\n") == "cannot decode:; pylibjpeg: bad; gdcm: worse"


@pytest.mark.parametrize("name", ["badVR.dcm", "JPEG-lossy.dcm"])
def test_render_failure_is_one_line_without_warnings(tmp_path, name):
    # badVR.dcm makes pydicom warn (UserWarning on stderr before the fix); JPEG-lossy.dcm fails in every decoder
    # plugin, whose combined message spans several lines.
    r = run(tmp_path / "arc", "render", str(test_file(name)), "-o", str(tmp_path / "out.png"))
    lines = r.stderr.splitlines()
    if r.returncode == 0:  # a decoder that can read it: nothing to check but silence
        assert lines == []
        return
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("workstation: ")
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr
