"""Orthanc as a peer of our DicomServer: Orthanc sends to us (C-STORE from its REST API), queries us (C-FIND) and
retrieves from us (C-MOVE to itself). One Orthanc per module (it takes seconds to start)."""

from __future__ import annotations

import json

import pydicom
import pytest

from tests.peers import LOCAL_AE, make_ct_series, run_orthanc
from workstation.archive import Archive
from workstation.config import Node, Settings
from workstation.net.scp.server import DicomServer

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    with run_orthanc(tmp_path_factory.mktemp("orthanc")) as peer:
        yield peer


@pytest.fixture
def server(orthanc, tmp_path):
    settings = Settings(data_dir=tmp_path / "ws", ae_title=LOCAL_AE, bind="127.0.0.1", port=orthanc.workstation_port)
    settings.acse_timeout = settings.dimse_timeout = settings.network_timeout = 10.0
    settings.nodes = [orthanc.node("orthanc")]
    with Archive.open(settings) as archive, DicomServer(settings, archive) as srv:
        yield srv


def post(orthanc, path: str, body) -> object:
    return orthanc.http("POST", path, json.dumps(body).encode())


def test_orthanc_stores_to_us(orthanc, server, tmp_path):
    files = make_ct_series(tmp_path / "ct", 4, patient_id="ORTH1")
    ids = [orthanc.http("POST", "/instances", f.read_bytes())["ID"] for f in files]
    result = post(orthanc, "/modalities/workstation/store", {"Resources": ids, "Synchronous": True})
    assert result.get("FailedInstancesCount", 0) == 0, result
    rows = server.archive.query("instance", {"PatientID": "ORTH1"})
    assert len(rows) == 4
    original = pydicom.dcmread(files[0])
    stored = pydicom.dcmread(server.archive.instance_path(original.SOPInstanceUID))
    assert stored.PixelData == original.PixelData


def test_orthanc_queries_and_moves_from_us(orthanc, server, tmp_path):
    files = make_ct_series(tmp_path / "ct", 3, patient_id="ORTH2", patient_name="Query^Me")
    for f in files:
        server.archive.store_bytes(f.read_bytes())
    query = post(orthanc, "/modalities/workstation/query",
                 {"Level": "Study", "Query": {"PatientID": "ORTH2", "PatientName": "", "StudyInstanceUID": ""}})
    answers = orthanc.http("GET", f"/queries/{query['ID']}/answers?expand&simplify")
    assert len(answers) == 1
    assert answers[0]["PatientName"] == "Query^Me"
    study_uid = answers[0]["StudyInstanceUID"]
    assert study_uid == pydicom.dcmread(files[0]).StudyInstanceUID
    before = orthanc.instance_count()
    post(orthanc, "/modalities/workstation/move",
         {"Level": "Study", "Resources": [{"StudyInstanceUID": study_uid}], "TargetAet": orthanc.ae_title,
          "Synchronous": True})
    assert orthanc.instance_count() == before + 3
