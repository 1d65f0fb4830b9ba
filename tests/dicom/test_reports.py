"""Measurement Report SR (TID 1500): lengths in mm and areas in mm² match the analytic values of the phantom's
geometry, ROI statistics equal those of the pixels inside (HU for CT), each group references its image and region;
marks the report does not carry are named; dsrdump and dciodvfy find no error."""

from __future__ import annotations

import math

import pydicom
import pytest

from tests.peers import make_ct_series, run_tool
from workstation.dicom.ps_writer import Mark, encode
from workstation.dicom.reports import build_measurement_report, modality_values, report_values


@pytest.fixture
def images(tmp_path):
    return {str(ds.SOPInstanceUID): ds for ds in (pydicom.dcmread(p) for p in make_ct_series(tmp_path / "ct", 2))}


def by_group(values):
    out: dict[str, dict[str, tuple[float, str]]] = {}
    for v in values:
        out.setdefault(v["group"]["tracking"], {})[v["name"]] = (v["value"], v["unit"])
    return out


def test_values_units_and_references(images, tmp_path):
    u = next(iter(images))
    ds = images[u]
    row_sp, col_sp = (float(x) for x in ds.PixelSpacing)
    marks = [
        Mark("distance", [(10.0, 20.0), (40.0, 60.0)], u),  # 30 x 40 px
        Mark("rectangle", [(30.0, 20.0), (10.0, 5.0)], u),  # 20 x 15 px
        Mark("ellipse", [(10.0, 10.0), (30.0, 20.0)], u),
        Mark("angle", [(1, 2), (3, 4), (5, 1)], u),
        Mark("distance", [(3, math.nan), (1, 1)], u),
    ]
    report = build_measurement_report(marks, images, observer="Doe^Jane")
    assert [w.code for w in report.warnings] == ["report.kind", "mark.nan"]
    path = tmp_path / "sr.dcm"
    path.write_bytes(encode(report.dataset))
    groups = by_group(report_values(str(path)))
    length, unit = groups["distance 1"]["Length"]
    assert unit == "mm" and length == pytest.approx(math.hypot(30 * col_sp, 40 * row_sp), abs=1e-9)
    assert groups["rectangle 2"]["Area"] == (pytest.approx(20 * 15 * row_sp * col_sp), "mm2")
    assert groups["ellipse 3"]["Area"][0] == pytest.approx(math.pi * 10 * 5 * row_sp * col_sp)
    # Statistics of the rectangle: the pixels whose centres are inside (rows 5..19, columns 10..29), in HU.
    hu = modality_values(ds)[5:20, 10:30]
    stats = groups["rectangle 2"]
    assert stats["Mean"] == (pytest.approx(hu.mean()), "[hnsf'U]")
    assert stats["Standard Deviation"][0] == pytest.approx(hu.std())
    assert (stats["Minimum"][0], stats["Maximum"][0]) == (hu.min(), hu.max())
    # Each group names its region on its image.
    sr = pydicom.dcmread(path)
    scoords = [v["group"]["scoord"] for v in report_values(sr) if v["name"] in ("Length", "Area")]
    assert scoords[0] == ("POLYLINE", [10.0, 20.0, 40.0, 60.0])
    assert scoords[1][0] == "POLYLINE" and scoords[1][1][:2] == [30.0, 20.0] and len(scoords[1][1]) == 10
    assert scoords[2][0] == "ELLIPSE"
    text = str(sr)
    assert text.count(u) >= 3 and sr.Modality == "SR" and sr.StudyInstanceUID == ds.StudyInstanceUID


def test_without_pixel_spacing_nothing_in_mm_is_invented(images):
    u = next(iter(images))
    del images[u].PixelSpacing
    report = build_measurement_report([Mark("distance", [(1, 1), (5, 5)], u)], images)
    assert [w.code for w in report.warnings] == ["report.spacing"]
    assert report.reported == [] and report.dataset is None


def test_dsrdump_and_dciodvfy_read_our_sr_without_errors(images, tmp_path):
    u = next(iter(images))
    marks = [Mark("distance", [(1, 1), (5, 5)], u), Mark("polygon", [(3, 2), (10, 50), (20, 3.3)], u),
             Mark("circle", [(30, 20), (35, 20)], u)]
    path = tmp_path / "sr.dcm"
    path.write_bytes(encode(build_measurement_report(marks, images).dataset))
    dump = run_tool("dsrdump", [path], check=False)
    assert dump.returncode == 0 and "Imaging Measurement Report" in dump.stdout, dump.stdout + dump.stderr
    assert not [line for line in (dump.stdout + dump.stderr).splitlines() if line.startswith("E:")]
    vfy = run_tool("dciodvfy", [path], check=False)
    assert vfy.returncode == 0 and "Error" not in vfy.stdout + vfy.stderr, vfy.stdout + vfy.stderr
