"""``workstation render IMAGE --presentation-state PS``: dcmp2pgm's picture, PS by file or archived UID; refusals
in one line (PS not referencing the image, not a PS)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.data import test_file
from tests.dicom import gsps
from tests.imaging.conftest import dcmtk_tool, read_pnm
from workstation.imaging.png import read_png


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def ct_ps(tmp_path):
    """CT_small, a dcmpsmk PS for it rotated 90 + flipped with a 40/400 window, and dcmp2pgm's rendering."""
    image = test_file("CT_small.dcm")
    ps_path = tmp_path / "ps.dcm"
    subprocess.run([dcmtk_tool("dcmpsmk"), str(image), str(ps_path)], check=True, capture_output=True)
    ds = pydicom.dcmread(str(ps_path))
    ds.ImageRotation, ds.ImageHorizontalFlip = 90, "Y"
    gsps.set_window(ds, 40, 400)
    ds.save_as(str(ps_path))
    ref = tmp_path / "ref.pgm"
    subprocess.run([dcmtk_tool("dcmp2pgm"), "-p", str(ps_path), str(image), str(ref)], check=True,
                   capture_output=True)
    return image, ps_path, ds, read_pnm(ref)


def _agreement(png: Path, ref: np.ndarray) -> float:
    mine = read_png(png)
    assert mine.shape == ref.shape
    return float((np.abs(mine.astype(int) - ref.astype(int)) <= 1).mean())


def test_ps_file_and_archived_uid_render_as_dcmp2pgm(ct_ps, tmp_path):
    image, ps_path, ds, ref = ct_ps
    out = tmp_path / "a.png"
    r = run(tmp_path / "arc", "render", str(image), "-o", str(out), "--presentation-state", str(ps_path))
    assert r.returncode == 0, r.stderr
    assert "presentation state" in r.stdout and r.stderr == ""
    assert _agreement(out, ref) >= 0.995
    # The same PS from the archive, by its SOPInstanceUID.
    r = run(tmp_path / "arc", "import", str(ps_path))
    assert r.returncode == 0, r.stderr
    out2 = tmp_path / "b.png"
    r = run(tmp_path / "arc", "render", str(image), "-o", str(out2), "--presentation-state", ds.SOPInstanceUID)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(read_png(out), read_png(out2))


def test_ps_not_referencing_the_image_exits_1_with_one_line(ct_ps, tmp_path):
    _, ps_path, _, _ = ct_ps
    r = run(tmp_path / "arc", "render", str(test_file("MR_small.dcm")), "-o", str(tmp_path / "x.png"),
            "--presentation-state", str(ps_path))
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "does not reference this image" in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_not_a_ps_exits_1_with_one_line(tmp_path):
    image = test_file("CT_small.dcm")
    r = run(tmp_path / "arc", "render", str(image), "-o", str(tmp_path / "x.png"),
            "--presentation-state", str(test_file("MR_small.dcm")))
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "not a presentation state" in r.stderr
    r = run(tmp_path / "arc", "render", str(image), "-o", str(tmp_path / "x.png"),
            "--presentation-state", "1.2.3.4.5")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1


def test_window_with_ps_refused_and_unapplied_parts_named(tmp_path):
    image = test_file("CT_small.dcm")
    header = pydicom.dcmread(str(image), stop_before_pixels=True)
    ds = gsps.make_gsps(header)
    gsps.add_annotation(ds, "M", graphics=[("POLYLINE", [1, 1, 5, 5, 9]), ("POLYLINE", [10, 10, 50, 50])])
    ps_path = gsps.save(ds, tmp_path / "ann.dcm")
    r = run(tmp_path / "arc", "render", str(image), "-o", str(tmp_path / "x.png"), "--presentation-state",
            str(ps_path), "--window", "40", "400")
    assert r.returncode == 1 and "not with --presentation-state" in r.stderr
    r = run(tmp_path / "arc", "render", str(image), "-o", str(tmp_path / "x.png"), "--presentation-state",
            str(ps_path), "--plane", "axial")
    assert r.returncode == 1 and "not with --plane" in r.stderr
    r = run(tmp_path / "arc", "render", str(image), "-o", str(tmp_path / "x.png"), "--presentation-state",
            str(ps_path))
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert any("odd number of coordinates" in line for line in lines)
    assert not any("annotations are not drawn" in line for line in lines)  # they are drawn (imaging.ps_draw)
    assert all(line.startswith("warning: ") for line in lines)
    drawn = read_png(tmp_path / "x.png")
    assert all(int(drawn[k, k]) == 255 for k in range(12, 48))  # the polyline (10,10)-(50,50), white
