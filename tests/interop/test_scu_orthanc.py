"""Our client against Orthanc: echo, find, retrieve by C-MOVE and C-GET, send, unknown destination."""

from __future__ import annotations

import io

import pydicom
import pytest

from tests.peers import LOCAL_AE, ct_series, make_ct_series, orthanc, run_storescp  # noqa: F401 - fixtures
from workstation.config import Settings
from workstation.net.scu.client import QuerySession, echo, find
from workstation.net.scu.retrieve import retrieve
from workstation.net.scu.send import send

pytestmark = pytest.mark.interop


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "ws")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 15.0
    return s


def test_echo_and_find(orthanc, ct_series, settings):
    orthanc.upload(ct_series)
    node = orthanc.node()
    assert echo(settings, node) < 5
    ds = pydicom.dcmread(ct_series[0], stop_before_pixels=True)
    studies = find(settings, node, "study", {"PatientID": "PAT001"})
    assert len(studies) == 1
    row = studies[0]
    assert row["StudyInstanceUID"] == ds.StudyInstanceUID and row["PatientName"] == "Test^Patient"
    assert row["ModalitiesInStudy"] == ["CT"] and row["NumberOfInstances"] == 5
    series = find(settings, node, "series", {"SeriesInstanceUID": ds.SeriesInstanceUID})
    assert series[0]["NumberOfInstances"] == 5 and series[0]["Modality"] == "CT"
    images = find(settings, node, "image", {"SeriesInstanceUID": ds.SeriesInstanceUID})
    assert sorted(i["InstanceNumber"] for i in images) == [1, 2, 3, 4, 5]
    assert find(settings, node, "patient", {"PatientName": "test*"})[0]["PatientID"] == "PAT001"
    with QuerySession(settings, node) as session:
        assert session.find("study", {"AccessionNumber": "NOPE"}) == []
        assert len(session.find("study", {"StudyDate": "20240101-20240131"})) == 1


def test_unicode_names_round_trip(orthanc, tmp_path, settings):
    orthanc.upload(make_ct_series(tmp_path / "u", 1, rows=8, columns=8, patient_name="Müller^Jörg", patient_id="U1"))
    rows = find(settings, orthanc.node(), "patient", {"PatientID": "U1"})
    assert rows[0]["PatientName"] == "Müller^Jörg"


def test_get_study(orthanc, ct_series, settings):
    orthanc.upload(ct_series)
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    got: list[bytes] = []
    result = retrieve(settings, orthanc.node(), study_uid=study, method="get", store=got.append)
    assert result.ok and result.completed == 5 and len(got) == 5, result.summary()
    sent = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p).PixelData for p in ct_series}
    for data in got:
        ds = pydicom.dcmread(io.BytesIO(data))
        assert sent[ds.SOPInstanceUID] == ds.PixelData


def test_move_series_to_our_store_scp(orthanc, ct_series, settings, tmp_path):
    orthanc.upload(ct_series)
    series = pydicom.dcmread(ct_series[0], stop_before_pixels=True).SeriesInstanceUID
    with run_storescp(tmp_path / "dest", ae_title=LOCAL_AE, port=orthanc.workstation_port) as dest:
        result = retrieve(settings, orthanc.node(method="move"), series_uid=series)
        assert result.method == "move" and result.ok and result.completed == 5, result.summary()
        assert len(dest.files()) == 5


def test_move_to_unknown_destination(orthanc, ct_series, settings):
    orthanc.upload(ct_series)
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    result = retrieve(settings, orthanc.node(), study_uid=study, method="move", destination="NOBODY")
    assert result.exit_code == 1 and not result.ok
    assert "NOBODY" in result.message  # Orthanc answers C000 rather than A801; we still name the fix


def test_move_from_unknown_calling_ae(orthanc, ct_series, settings):
    orthanc.upload(ct_series)
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    settings.ae_title = "STRANGER"
    result = retrieve(settings, orthanc.node(), study_uid=study, method="move")
    assert result.exit_code == 1
    assert "STRANGER" in result.message and "configuration" in result.message, result.message


def test_send_to_orthanc(orthanc, ct_series, settings, tmp_path):
    rle = make_ct_series(tmp_path / "rle", 2, rows=16, columns=16, transfer_syntax="1.2.840.10008.1.2.5")
    report = send(settings, orthanc.node(), ct_series + rle)
    assert report.exit_code == 0, report.summary()
    assert orthanc.instance_count() == 7
