"""The Linux bundle (PyInstaller, one folder): built once here as `make bundle` builds it, then smoke-tested as a user
without Python would run it - version, headless import/ls/render, every compressed syntax decoded by the bundle's own
(non-GPL) decoders with the venv's pixels, and a GUI window under Xvfb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging" / "pyinstaller"))
from bundle_policy import GPL_MARKERS, SIZE_LIMIT_MB  # noqa: E402

pytestmark = pytest.mark.slow
SAMPLES = [  # (file, lossless): one file per compressed syntax the bundle must decode without libjpeg (GPL)
    ("SC_rgb_jpeg_dcmtk.dcm", False),  # JPEG baseline, YBR
    ("JPEG-LL.dcm", True),  # JPEG lossless (process 14 SV1)
    ("MR_small_jpeg_ls_lossless.dcm", True),  # JPEG-LS
    ("US1_J2KR.dcm", True),  # JPEG 2000 lossless
    ("MR_small_RLE.dcm", True),  # RLE
    ("MR_small.dcm", True),  # native
]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) is None:
        if os.environ.get("CI"):
            pytest.fail("pyinstaller is not installed in the venv (pip install -e '.[test]')")
        pytest.skip("pyinstaller not installed")
    work = tmp_path_factory.mktemp("bundle")
    subprocess.run([sys.executable, str(ROOT / "packaging" / "translations.py"), "build"], check=True, timeout=120)
    out = subprocess.run([str(Path(sys.executable).parent / "pyinstaller"), "--noconfirm", "--log-level", "WARN",
                          "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
                          str(ROOT / "packaging" / "pyinstaller" / "workstation.spec")],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return work / "dist" / "workstation"


def clean_env(**extra: str) -> dict[str, str]:
    """No venv, no PYTHONPATH: what a clinician's desktop has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/bin:/bin"
    env.update(extra)
    return env


def run(bundle: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bundle / "workstation"), *args], capture_output=True, text=True, timeout=180,
                          env=clean_env(**env))


def test_size_and_licences(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    vtk_mb = sum(p.stat().st_size for p in files if "vtkmodules" in p.parts) / 1e6
    scipy_mb = sum(p.stat().st_size for p in files if {"scipy", "scipy.libs"} & set(p.parts)) / 1e6
    print(f"bundle: {size_mb:.0f} MB in {len(files)} files, of which the volume stack: VTK {vtk_mb:.0f} MB, "
          f"scipy.ndimage {scipy_mb:.0f} MB")
    # The 250 MB of issue 13 hold for the workstation without its volume-reading stack (VTK, scipy.ndimage), whose
    # size the README states, as the issue asks.
    assert size_mb - vtk_mb - scipy_mb <= SIZE_LIMIT_MB
    gpl = [str(p) for p in files if any(m in str(p) for m in GPL_MARKERS)]
    assert not gpl, gpl
    third_party = (bundle / "_internal" / "licences" / "THIRD-PARTY.txt").read_text()
    assert "pydicom" in third_party and "LGPL" in third_party and "libjpeg" in third_party
    assert (bundle / "_internal" / "resources" / "translations" / "workstation_en.qm").exists()


def test_cli_without_python(bundle, tmp_path):
    from pydicom.data import get_testdata_file

    out = run(bundle, "--version")
    assert out.returncode == 0 and out.stdout.startswith("workstation "), out
    src = tmp_path / "in"
    src.mkdir()
    for name, _lossless in SAMPLES:
        shutil.copy(get_testdata_file(name), src / name)
    data = str(tmp_path / "archive")
    out = run(bundle, "--data-dir", data, "import", str(src), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    # MR_small in three syntaxes is one instance: imported once, then duplicates
    assert report["imported"] + report["duplicates"] == len(SAMPLES) and not report["rejected"], report
    out = run(bundle, "--data-dir", data, "ls", "--level", "instance", "--json")
    assert out.returncode == 0 and len(json.loads(out.stdout)) == report["imported"]
    out = run(bundle, "--data-dir", data, "render", "/no/such/file", "-o", str(tmp_path / "x.png"))
    assert out.returncode != 0 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


@pytest.mark.parametrize("name,lossless", SAMPLES)
def test_bundle_decodes_like_the_venv(bundle, tmp_path, name, lossless):
    """The bundle has no pylibjpeg-libjpeg (GPL): python-gdcm/openjpeg/rle decode each syntax to the same pixels."""
    from pydicom.data import get_testdata_file

    from workstation.imaging.png import read_png

    path = get_testdata_file(name)
    ours, theirs = tmp_path / "bundle.png", tmp_path / "venv.png"
    out = run(bundle, "render", path, "-o", str(ours), QT_QPA_PLATFORM="offscreen")
    assert out.returncode == 0, out.stderr
    ref = subprocess.run([sys.executable, "-m", "workstation", "render", path, "-o", str(theirs)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ref.returncode == 0, ref.stderr
    a, b = read_png(ours).astype(int), read_png(theirs).astype(int)
    assert a.shape == b.shape
    diff = np.abs(a - b)
    if lossless:
        assert diff.max() == 0
    else:  # lossy JPEG: decoders may round IDCT/colour conversion differently
        assert (diff <= 2).mean() >= 0.995


@pytest.mark.parametrize("what", ["main window", "viewer"])
def test_gui_window_under_xvfb(bundle, tmp_path, what):
    """The app starts, and so does the viewer on a series (``workstation FOLDER``): pyqtgraph needs QtOpenGL, which
    the bundle once left out - the main window started, and every study failed to open."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb not installed") if not os.environ.get("CI") else pytest.fail("Xvfb missing in CI")
    display = f":{200 + (os.getpid() + (7 if what == 'viewer' else 0)) % 500}"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    extra = []
    if what == "viewer":
        from tests.peers import make_ct_series

        make_ct_series(tmp_path / "ct", 3, rows=32, columns=32)
        extra = ["view", str(tmp_path / "ct")]
    try:
        time.sleep(1.0)
        app = subprocess.Popen([str(bundle / "workstation"), "--data-dir", str(tmp_path / "a"), *extra],
                               env=clean_env(DISPLAY=display), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        try:
            time.sleep(8.0)
            alive = app.poll() is None
        finally:
            app.terminate()
            try:
                _out, err = app.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                app.kill()
                _out, err = app.communicate()
        assert alive, err
        assert "could not load the Qt platform plugin" not in err and "Traceback" not in err, err
        if what == "main window":
            assert (tmp_path / "a" / "index.sqlite").exists()  # the main window opened its archive
    finally:
        server.terminate()
        server.wait(10)


def test_deb_package(bundle, tmp_path):
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not installed")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "workstation").symlink_to(bundle, target_is_directory=True)
    out = subprocess.run(["sh", str(ROOT / "packaging" / "linux" / "build-deb.sh"), str(dist), "0.1.0"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    deb = dist / "workstation_0.1.0_amd64.deb"
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, timeout=120).stdout
    for member in ("./opt/workstation/workstation", "./usr/bin/workstation",
                   "./usr/share/applications/io.github.workstation.Workstation.desktop",
                   "./usr/share/mime/packages/workstation-dicom.xml"):
        assert member in listing
    info = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True).stdout
    assert "libxcb-cursor0" in info


def test_bundle_reslices_a_volume_like_the_venv(bundle, tmp_path):
    """VTK as bundled (only the modules used, stripped) gives the venv's coronal plane."""
    from tests.peers import make_ct_series
    from workstation.imaging.png import read_png

    folder = tmp_path / "series"
    make_ct_series(folder, 24, rows=48, columns=48)
    ours, theirs = tmp_path / "bundle.png", tmp_path / "venv.png"
    out = run(bundle, "render", str(folder), "--plane", "coronal", "-o", str(ours), QT_QPA_PLATFORM="offscreen")
    assert out.returncode == 0, out.stderr
    ref = subprocess.run([sys.executable, "-m", "workstation", "render", str(folder), "--plane", "coronal",
                          "-o", str(theirs)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ref.returncode == 0, ref.stderr
    assert np.array_equal(read_png(ours), read_png(theirs))


def test_bundle_writes_a_measurement_report(bundle, tmp_path):
    """highdicom as bundled (its tables of the standard minified): the SR the venv writes."""
    import pydicom

    from tests.peers import make_ct_series

    paths = make_ct_series(tmp_path / "ct", 2, rows=32, columns=32)
    data = str(tmp_path / "archive")
    assert run(bundle, "--data-dir", data, "import", str(tmp_path / "ct")).returncode == 0
    first = pydicom.dcmread(paths[0], stop_before_pixels=True)
    measurements = tmp_path / "measurements.json"
    measurements.write_text(json.dumps({"version": 1, "measurements": [
        {"key": [str(first.SOPInstanceUID), 0], "kind": "distance", "points": [[2, 2], [10, 8]]}]}))
    out = run(bundle, "--data-dir", data, "report", str(first.StudyInstanceUID), "--measurements",
              str(measurements), "-o", str(tmp_path / "sr.dcm"))
    assert out.returncode == 0, out.stderr
    sr = pydicom.dcmread(tmp_path / "sr.dcm")
    assert sr.Modality == "SR" and "ContentSequence" in sr
