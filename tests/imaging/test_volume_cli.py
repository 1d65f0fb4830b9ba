"""``workstation render SOURCE --plane/--normal``: the --json geometry checked analytically, the PNG shows the
spheres where that geometry says, refusals are one line with exit 1, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.imaging import phantoms as ph
from workstation.cli import main
from workstation.imaging.png import read_png

# The regular phantom: 48x48 pixels of 1.5 mm from (-36, -36), 40 axial images from z=-2 every 1.5 mm.
ORIGIN = np.array([-36.0, -36.0, -2.0])
CENTRE = ORIGIN + np.array([47, 47, 39]) * 1.5 / 2


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("series")
    ph.regular(folder)
    return folder


def run(args, capsys, tmp_path):
    code = main(["--data-dir", str(tmp_path / "archive"), *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def render_json(args, capsys, tmp_path):
    code, out, err = run(["render", *args, "--json"], capsys, tmp_path)
    assert code == 0, err
    return json.loads(out)


def test_axial_default_through_the_centre(series, tmp_path, capsys):
    out = tmp_path / "a.png"
    g = render_json([series, "-o", out, "--plane", "axial"], capsys, tmp_path)
    assert g["rows"] == g["columns"] == 48
    assert g["pixel_spacing"] == [1.5, 1.5]
    assert g["image_orientation"] == [1, 0, 0, 0, 1, 0]
    assert g["image_position"] == pytest.approx([-36.0, -36.0, CENTRE[2]])
    assert g["slab_mm"] == 0 and g["mode"] is None and g["warnings"] == []
    assert read_png(out).shape == (48, 48)


def sphere_pixel_in_png(g: dict, png: np.ndarray, sphere: ph.Sphere) -> tuple[float, float]:
    """Where the JSON geometry puts the sphere's centre, checked against the PNG's bright blob centroid."""
    pos = np.array(g["image_position"])
    row, col = np.array(g["image_orientation"][:3]), np.array(g["image_orientation"][3:])
    rel = np.asarray(sphere.centre) - pos
    r, c = rel @ col / g["pixel_spacing"][0], rel @ row / g["pixel_spacing"][1]
    assert abs(rel @ np.cross(row, col)) < 1e-3  # the plane passes through it
    rr, cc = np.mgrid[0:g["rows"], 0:g["columns"]]
    near = np.hypot(rr - r, cc - c) * g["pixel_spacing"][0] < sphere.radius + 4
    w = png.astype(float) * near
    assert w.sum() > 0
    return ((w * rr).sum() / w.sum() - r) * g["pixel_spacing"][0], ((w * cc).sum() / w.sum() - c) * g[
        "pixel_spacing"][1]


@pytest.mark.parametrize("plane", ["axial", "coronal", "sagittal"])
def test_standard_planes_through_a_point(series, tmp_path, capsys, plane):
    sphere = ph.DEFAULT_SPHERES[1]
    x, y, z = sphere.centre
    out = tmp_path / f"{plane}.png"
    g = render_json([series, "-o", out, "--plane", plane, f"--through={x:g},{y:g},{z:g}", "--window", "0", "2000"],
                    capsys, tmp_path)
    expected = {
        # (rows, columns, top-left pixel centre, orientation): analytic from the phantom's extent.
        "axial": (48, 48, [-36.0, -36.0, z], [1, 0, 0, 0, 1, 0]),
        "coronal": (40, 48, [-36.0, y, 56.5], [1, 0, 0, 0, 0, -1]),
        "sagittal": (40, 48, [x, -36.0, 56.5], [0, 1, 0, 0, 0, -1]),
    }[plane]
    assert (g["rows"], g["columns"]) == expected[:2]
    assert g["image_position"] == pytest.approx(expected[2])
    assert g["image_orientation"] == expected[3]
    png = read_png(out)
    assert png.shape == (g["rows"], g["columns"])
    dr, dc = sphere_pixel_in_png(g, png, sphere)
    assert abs(dr) <= 1.0 and abs(dc) <= 1.0  # mm


def test_oblique_normal_with_slab(series, tmp_path, capsys):
    sphere = ph.DEFAULT_SPHERES[0]
    out = tmp_path / "o.png"
    n = np.array([0.35, -0.45, 0.82])
    g = render_json([series, "-o", out, "--normal=0.35,-0.45,0.82", "--through=12,-8,20", "--slab", "6",
                     "--mode", "mip", "--window", "0", "2000"], capsys, tmp_path)
    row, col = np.array(g["image_orientation"][:3]), np.array(g["image_orientation"][3:])
    assert np.linalg.norm(row) == pytest.approx(1) and np.linalg.norm(col) == pytest.approx(1)
    assert row @ col == pytest.approx(0, abs=1e-9)
    assert abs(np.cross(row, col) @ n / np.linalg.norm(n)) == pytest.approx(1)
    # Nearest standard plane is axial: the row direction is the patient's left (+x) projected onto the plane.
    nu = n / np.linalg.norm(n)
    ex = np.array([1.0, 0, 0]) - nu[0] * nu
    assert row == pytest.approx(ex / np.linalg.norm(ex), abs=1e-8)
    assert col[1] > 0.8  # anterior at the top
    # The plane's centre is the volume centre moved along the normal onto the point.
    ps = g["pixel_spacing"][0]
    centre = np.array(g["image_position"]) + (g["columns"] - 1) / 2 * ps * row + (g["rows"] - 1) / 2 * ps * col
    assert centre == pytest.approx(CENTRE + ((np.array([12, -8, 20]) - CENTRE) @ nu) * nu, abs=1e-4)
    assert (g["slab_mm"], g["mode"]) == (6.0, "mip")
    dr, dc = sphere_pixel_in_png(g, read_png(out), sphere)
    assert abs(dr) <= 1.0 and abs(dc) <= 1.0


def test_tilted_series_reports_resampling(tmp_path, capsys):
    ph.tilted(tmp_path / "tilt", 20)
    g = render_json([tmp_path / "tilt", "-o", tmp_path / "t.png", "--plane", "sagittal", "--through=12,-8,20",
                     "--window", "0", "2000"], capsys, tmp_path)
    assert g["warnings"] == ["gantry tilt 20.0°, resampled"]
    dr, dc = sphere_pixel_in_png(g, read_png(tmp_path / "t.png"), ph.DEFAULT_SPHERES[0])
    assert abs(dr) <= 1.0 and abs(dc) <= 1.0


def test_archived_series_uid(series, tmp_path, capsys):
    code, _, err = run(["import", series], capsys, tmp_path)
    assert code == 0, err
    import pydicom

    uid = pydicom.dcmread(next(series.glob("*.dcm")), stop_before_pixels=True).SeriesInstanceUID
    g = render_json([uid, "-o", tmp_path / "u.png", "--plane", "coronal"], capsys, tmp_path)
    assert (g["rows"], g["columns"]) == (40, 48)


def test_plane_missing_the_volume_is_said(series, tmp_path, capsys):
    g = render_json([series, "-o", tmp_path / "m.png", "--plane", "axial", "--through=-30,-10,-50"], capsys,
                    tmp_path)
    assert g["warnings"] == ["the plane does not cross the volume"]


def test_refusal_is_one_line_exit_1(tmp_path):
    orients = [(1, 0, 0, 0, 1, 0)] * 10 + [(0, 1, 0, 0, 0, -1)] * 2
    extra = [{}] * 10 + [{"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]}] * 2
    ph.write_series(tmp_path / "s", ph.stack_positions((0, 0, 0), (0, 0, 2), 12), orientations=orients,
                    extra=extra, rows=16, cols=16)
    proc = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(tmp_path / "a"), "render",
                           str(tmp_path / "s"), "-o", str(tmp_path / "x.png"), "--plane", "axial"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"workstation: {tmp_path / 's'}: cannot be reconstructed: localizer images mixed in (2 of 12 images)"]
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("args,message", [
    (["--plane", "axial", "--normal=0,0,1"], "give --plane or --normal, not both"),
    (["--normal=0,0"], "--normal 0,0: expected three numbers"),
    (["--normal=0,0,0"], "a plane normal must be a non-zero vector"),
    (["--slab", "5"], "--slab: only with --plane or --normal"),
    (["--plane", "axial", "--mode", "mip"], "--mode needs --slab MM"),
])
def test_bad_options_one_line(series, tmp_path, capsys, args, message):
    code, _, err = run(["render", series, "-o", tmp_path / "x.png", *args], capsys, tmp_path)
    assert code == 1
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_source(tmp_path, capsys):
    code, _, err = run(["render", "1.2.3.4", "-o", tmp_path / "x.png", "--plane", "axial"], capsys, tmp_path)
    assert code == 1 and "no such folder, nor a SeriesInstanceUID in the archive" in err
