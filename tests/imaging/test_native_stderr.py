"""A C decoder's own stderr lines stay out of a command's output and go to the log (issue 15 item 6)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.data import test_file as datafile

ROOT = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
            "WORKSTATION_DATA_DIR": str(home / "data")}


def test_render_of_a_broken_jpeg2000_is_one_line_of_ours(tmp_path):
    # OpenJPEG prints "Invalid number of tiles : 14540801 x 1 ..." itself on descriptor 2 for this file.
    src = datafile("JPEG2000-embedded-sequence-delimiter.dcm")
    proc = subprocess.run([sys.executable, "-m", "workstation", "render", str(src), "-o", str(tmp_path / "x.png")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("workstation: cannot decode frame 1 of "), proc.stderr
    assert "Invalid number of tiles" not in proc.stderr
    logs = list(tmp_path.rglob("workstation.log"))
    assert logs, "no log file written"
    text = "\n".join(p.read_text() for p in logs)
    assert "Invalid number of tiles" in text  # the decoder's detail is kept, in the log


def test_only_the_main_thread_redirects_descriptor_2(tmp_path):
    """The GUI's other threads keep their stderr: outside the main thread the capture does nothing."""
    code = textwrap.dedent(
        """
        import logging, os, sys, threading
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="LOG %(message)s")
        from workstation.imaging.native_stderr import decoder_output_to_log

        def worker():
            with decoder_output_to_log("thread"):
                os.write(2, b"thread line\\n")

        t = threading.Thread(target=worker)
        t.start(); t.join()
        with decoder_output_to_log("main"):
            os.write(2, b"main line\\n")
            sys.stderr.write("python line\\n")
        os.write(2, b"after\\n")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["thread line", "after"]
    assert "LOG main: main line" in proc.stdout and "LOG main: python line" in proc.stdout
    assert "thread line" not in proc.stdout


def test_descriptor_2_is_restored_after_an_exception(tmp_path):
    code = textwrap.dedent(
        """
        import os
        from workstation.imaging.native_stderr import decoder_output_to_log
        try:
            with decoder_output_to_log():
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        os.write(2, b"restored\\n")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=_env(tmp_path))
    assert proc.returncode == 0 and proc.stderr == "restored\n", proc.stderr
