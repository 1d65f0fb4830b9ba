"""Our client against PixelMed's DicomAndWebStorageServer (a strictly hierarchical Q/R SCP that accepts only
uncompressed syntaxes): echo, send (compressed files transcoded), find at every level, retrieve by C-GET and
C-MOVE into our archive."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
import pytest

from tests.data import test_file
from tests.interop.peers_extra import run_pixelmed_server
from tests.peers import make_ct_series
from workstation.config import Settings
from workstation.net.scu.client import QuerySession, echo, find
from workstation.net.scu.retrieve import retrieve
from workstation.net.scu.send import send
from workstation.net.scp.server import running_server

pytestmark = pytest.mark.interop


@pytest.fixture
def settings(tmp_path) -> Settings:
    data = tmp_path / "ws"
    s = Settings(data_dir=data, path=data / "settings.toml", bind="127.0.0.1")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 15.0
    return s


@pytest.fixture
def seeded(tmp_path, settings):
    """A PixelMed server holding two patients, sent by our client (which is what the send test checks)."""
    with run_pixelmed_server(tmp_path / "pixelmed") as peer:
        files = make_ct_series(tmp_path / "a", 3, patient_id="PA", patient_name="Alpha^Ann", study_date="20240105")
        files += make_ct_series(tmp_path / "b", 2, patient_id="PB", patient_name="Beta^Bob", study_date="20230610")
        report = send(settings, peer.node(), files)
        assert report.exit_code == 0, report.summary()
        yield peer, files


def _uids(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True)


def test_echo(seeded, settings):
    peer, _ = seeded
    assert echo(settings, peer.node()) < 5


def test_send_transcodes_compressed_files_for_it(seeded, settings):
    peer, _ = seeded
    compressed = [Path(test_file("JPEG2000.dcm")), Path(test_file("MR_small_RLE.dcm"))]
    report = send(settings, peer.node(), compressed)
    assert report.exit_code == 0, report.summary()
    assert [r.transcoded for r in report.results] == [True, True]
    uid = _uids(compressed[1]).SOPInstanceUID
    rows = find(settings, peer.node(), "image", {"StudyInstanceUID": _uids(compressed[1]).StudyInstanceUID,
                                                 "SeriesInstanceUID": _uids(compressed[1]).SeriesInstanceUID})
    assert [r["SOPInstanceUID"] for r in rows] == [uid]


def test_find_each_level(seeded, settings):
    peer, files = seeded
    node = peer.node()
    a = _uids(files[0])
    with QuerySession(settings, node) as session:
        assert sorted(r["PatientID"] for r in session.find("patient", {"PatientID": "P*"})) == ["PA", "PB"]
        assert [r["PatientID"] for r in session.find("patient", {"PatientName": "al*"})] == ["PA"]
        studies = session.find("study", {"StudyDate": "20240101-20241231"})
        assert [(r["PatientID"], r["StudyInstanceUID"]) for r in studies] == [("PA", a.StudyInstanceUID)]
        assert session.find("study", {"StudyDate": "-20200101"}) == []
        assert [r["PatientName"] for r in session.find("study", {"PatientID": "PB"})] == ["Beta^Bob"]
        series = session.find("series", {"StudyInstanceUID": a.StudyInstanceUID, "Modality": "C?"})
        assert [r["SeriesInstanceUID"] for r in series] == [a.SeriesInstanceUID]
        images = session.find("image", {"StudyInstanceUID": a.StudyInstanceUID,
                                        "SeriesInstanceUID": a.SeriesInstanceUID})
        assert sorted(r["InstanceNumber"] for r in images) == [1, 2, 3]


def test_get_study_into_a_store(seeded, settings):
    peer, files = seeded
    got: list[bytes] = []
    result = retrieve(settings, peer.node(), study_uid=_uids(files[3]).StudyInstanceUID, method="get",
                      store=got.append)
    assert result.ok and result.completed == 2, result.summary()
    sent = {_uids(p).SOPInstanceUID: pydicom.dcmread(p).PixelData for p in files[3:]}
    for data in got:
        ds = pydicom.dcmread(io.BytesIO(data))
        assert sent.pop(ds.SOPInstanceUID) == ds.PixelData
    assert not sent


def test_move_series_to_our_store_scp(seeded, settings, archive):
    peer, files = seeded
    a = _uids(files[0])
    settings.port = peer.workstation_port
    with running_server(settings, archive):
        result = retrieve(settings, peer.node(), study_uid=a.StudyInstanceUID, series_uid=a.SeriesInstanceUID,
                          method="move")
    assert result.ok and result.completed == 3, result.summary()
    rows = archive.query("instance", {"SeriesInstanceUID": a.SeriesInstanceUID})
    assert sorted(r["SOPInstanceUID"] for r in rows) == sorted(_uids(p).SOPInstanceUID for p in files[:3])


def test_move_series_given_only_its_uid(seeded, settings, archive):
    # PixelMed is strictly hierarchical: it refuses the series-level lookup without the study UID as well, so
    # the study is found by asking each of its studies for the series.
    peer, files = seeded
    settings.port = peer.workstation_port
    with running_server(settings, archive):
        result = retrieve(settings, peer.node(), series_uid=_uids(files[0]).SeriesInstanceUID, method="move")
    assert result.ok and result.completed == 3, result.summary()
