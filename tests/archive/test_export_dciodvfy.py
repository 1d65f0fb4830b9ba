"""What we write is valid DICOM: de-identified copies and DICOMDIR media checked with dicom3tools' dciodvfy.
Only findings the input did not have already are ours (values are normalized away before comparing)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pydicom
import pytest

from tests.data import test_file
from workstation.archive.export import export
from workstation.dicom.anonymize import Anonymizer

INPUTS = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "SC_rgb.dcm", "US1_J2KR.dcm")


def _tool(name):
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (dicom3tools) is missing on CI")
        pytest.skip(f"{name} (dicom3tools) is not installed; apt-get install dicom3tools")
    return path


def _findings(path) -> set[str]:
    out = subprocess.run([_tool("dciodvfy"), str(path)], capture_output=True, text=True, timeout=60)
    found = set()
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith(("Error", "Warning")):
            line = re.sub(r"<[^>]*>", "<>", line)
            line = re.sub(r"\[\d+\]", "[]", line)
            found.add(line)
    return found


@pytest.fixture
def exported(archive, tmp_path):
    report = archive.import_paths([test_file(n) for n in INPUTS])
    assert report.imported == len(INPUTS)
    selection = [("study", r["StudyInstanceUID"]) for r in archive.query("study")]
    return archive, selection, [test_file(n) for n in INPUTS]


def _by_pixels(path):
    """Pixel data and SOP class survive de-identification: they pair a copy with its original."""
    ds = pydicom.dcmread(path)
    return bytes(ds.get("PixelData", b""))[:4096], str(ds.SOPClassUID)


def _ours(finding: str) -> bool:
    # Study ID is emptied by the profile (dciodvfy only notes a DICOMDIR could not be built from it); a family
    # name alone ("ANONYMOUS") is a valid PN that dciodvfy's heuristic calls the retired form.
    return "needed to build DICOMDIR - Study ID" not in finding and not (
        "Retired Person Name form" in finding and "(0x0010,0x0010)" in finding)


@pytest.mark.parametrize("fmt", ["folder", "dicomdir"])
def test_deidentified_export_adds_no_dciodvfy_finding(exported, tmp_path, fmt):
    archive, selection, source = exported
    report = export(archive, selection, tmp_path / "out", fmt=fmt, anonymizer=Anonymizer())
    assert report.exported == len(INPUTS) and not report.failed
    originals = {_by_pixels(p): p for p in source}
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and p.name != "DICOMDIR"]
    assert len(written) == len(INPUTS)
    new = {}
    for path in written:
        original = originals[_by_pixels(path)]
        ours = {f for f in _findings(path) - _findings(original) if _ours(f)}
        if ours:
            new[original.name] = sorted(ours)
    assert new == {}


def test_dicomdir_passes_dciodvfy_dcentvfy_and_dcmtk(exported, tmp_path):
    archive, selection, _ = exported
    export(archive, selection, tmp_path / "disc", fmt="dicomdir", anonymizer=Anonymizer())
    dicomdir = tmp_path / "disc" / "DICOMDIR"
    assert {f for f in _findings(dicomdir) if _ours(f)} == set()
    files = [str(p) for p in (tmp_path / "disc").rglob("*") if p.is_file() and p.name != "DICOMDIR"]
    out = subprocess.run([_tool("dcentvfy"), *files], capture_output=True, text=True, timeout=60)
    assert not re.search(r"^(Error|Warning)", out.stdout + out.stderr, re.M), out.stdout + out.stderr
    dcmftest = shutil.which("dcmftest")
    if dcmftest is None:
        if os.environ.get("CI"):
            pytest.fail("dcmftest (dcmtk) is missing on CI")
        pytest.skip("dcmftest (dcmtk) is not installed")
    ok = subprocess.run([dcmftest, str(dicomdir)], capture_output=True, text=True, timeout=60)
    assert ok.stdout.startswith("yes"), ok.stdout
    dump = subprocess.run([shutil.which("dcmdump") or "dcmdump", "-q", str(dicomdir)], capture_output=True,
                          text=True, timeout=60)
    assert dump.returncode == 0 and not re.search(r"^[WE]:", dump.stderr, re.M), dump.stderr
