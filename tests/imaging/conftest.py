"""Shared helpers for imaging tests: dcmtk reference renders and PNM reading."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest


def dcmtk_tool(name: str) -> str:
    """Path of a dcmtk tool; skips (loudly) only on a developer machine without it, fails in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (dcmtk) is required in CI")
        pytest.skip(f"SKIPPED: dcmtk's {name} is not installed (install dcmtk; required in CI)")
    return path


def read_pnm(path: Path) -> np.ndarray:
    """8-bit binary PGM (P5) / PPM (P6) as written by dcmtk's +op."""
    data = Path(path).read_bytes()
    m = re.match(rb"(P[56])\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert m, "not a binary PGM/PPM"
    magic, w, h, maxval = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
    assert maxval == 255
    ch = 3 if magic == b"P6" else 1
    px = np.frombuffer(data[m.end(): m.end() + w * h * ch], np.uint8)
    return px.reshape(h, w, 3) if ch == 3 else px.reshape(h, w)


def dcmtk_render(src: Path, options: list[str], out_dir: Path, tool: str = "dcmj2pnm") -> np.ndarray:
    """dcmtk's rendering of ``src`` with ``options`` (overlays off), as an array."""
    exe = dcmtk_tool(tool)
    out = out_dir / f"ref_{src.stem}.pnm"
    proc = subprocess.run([exe, "-O", "+op", *options, str(src), str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, f"{tool} failed on {src.name}: {proc.stderr.strip()}"
    return read_pnm(out)


@pytest.fixture
def dcmtk(tmp_path):
    def run(src: Path, options: list[str], tool: str = "dcmj2pnm") -> np.ndarray:
        return dcmtk_render(Path(src), options, tmp_path, tool)

    return run
