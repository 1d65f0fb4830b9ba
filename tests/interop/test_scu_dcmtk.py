"""Our client against dcmtk: storescp (send, transcoding) and dcmqrscp (echo, find, move, get, faults, cancel)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pydicom
import pytest

from tests.peers import (  # noqa: F401 - fixtures
    LOCAL_AE,
    ct_series,
    dcmqrscp,
    make_ct_series,
    run_dcmqrscp,
    run_storescp,
    storescp,
    storescu,
)
from workstation.config import Settings
from workstation.net.scu.client import NetError, QuerySession, association, echo, find
from workstation.net.scu.retrieve import retrieve
from workstation.net.scu.send import send

pytestmark = pytest.mark.interop

RLE = "1.2.840.10008.1.2.5"


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "ws")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 10.0
    return s


def _uids(path: Path) -> tuple[str, str]:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return ds.StudyInstanceUID, ds.SeriesInstanceUID


# --- storescp ------------------------------------------------------------------------------------------------


def test_send_series_to_storescp_streams_files_untouched(storescp, ct_series, settings):
    progress = []
    report = send(settings, storescp.node(), ct_series, progress=progress.append)
    assert report.exit_code == 0, report.summary()
    assert [r.outcome for r in report.results] == ["sent"] * 5
    assert progress[-1].done == 5 and progress[-1].total == 5
    received = {p.name: p for p in storescp.files()}
    for path in ct_series:
        ds = pydicom.dcmread(path)
        got = pydicom.dcmread(received[f"CT.{ds.SOPInstanceUID}.dcm"])
        assert got.PixelData == ds.PixelData and got.PatientName == ds.PatientName


def test_send_transcodes_when_the_peer_refuses_the_stored_syntax(storescp, tmp_path, settings):
    # Default storescp accepts uncompressed syntaxes only.
    rle = make_ct_series(tmp_path / "rle", 2, rows=16, columns=16, transfer_syntax=RLE)
    plain = make_ct_series(tmp_path / "plain", 1, rows=16, columns=16)
    report = send(settings, storescp.node(), rle + plain)
    assert report.exit_code == 0, report.summary()
    assert [r.transcoded for r in report.results] == [True, True, False]
    original = pydicom.dcmread(rle[0])
    got = pydicom.dcmread(storescp.storage / f"CT.{original.SOPInstanceUID}.dcm")
    assert got.file_meta.TransferSyntaxUID != RLE
    assert (got.pixel_array == original.pixel_array).all()


def test_send_compressed_file_as_is_when_accepted(tmp_path, settings):
    rle = make_ct_series(tmp_path / "rle", 1, rows=16, columns=16, transfer_syntax=RLE)
    with run_storescp(tmp_path / "all", extra_args=["+xa"]) as peer:
        report = send(settings, peer.node(), rle)
        assert report.exit_code == 0 and not report.results[0].transcoded
        assert report.results[0].transfer_syntax == RLE
        got = peer.files()[0]
        assert got.read_bytes()[-1000:] == rle[0].read_bytes()[-1000:]


def test_send_sets_tcp_nodelay(storescp, settings):
    from pynetdicom.presentation import build_context
    from pynetdicom.sop_class import Verification

    with association(settings, storescp.node(), [build_context(Verification)]) as assoc:
        sock = assoc.dul.socket.socket
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_cancel_send_aborts_and_reports(tmp_path, settings):
    paths = make_ct_series(tmp_path / "many", 60, rows=128, columns=128)
    cancel = threading.Event()

    def progress(p):
        if p.done == 10:
            cancel.set()

    with run_storescp(tmp_path / "s") as peer:
        report = send(settings, peer.node(), paths, cancel=cancel, progress=progress)
        assert report.cancelled and report.exit_code == 2
        assert 10 <= report.sent < 60
        assert report.count("cancelled") == 60 - report.sent
        # Whatever storescp kept is complete.
        for f in peer.files():
            assert pydicom.dcmread(f).pixel_array.shape == (128, 128)


# --- dcmqrscp ------------------------------------------------------------------------------------------------


def test_echo_find_at_every_level(dcmqrscp, ct_series, settings):
    storescu(dcmqrscp, ct_series)
    node = dcmqrscp.node()
    assert echo(settings, node) < 5
    study_uid, series_uid = _uids(ct_series[0])
    patients = find(settings, node, "patient", {"PatientID": "PAT001"})
    assert [p["PatientName"] for p in patients] == ["Test^Patient"]
    studies = find(settings, node, "study", {"PatientName": "Test*"})
    assert [s["StudyInstanceUID"] for s in studies] == [study_uid]
    studies = find(settings, node, "study", {"StudyDate": "20240101-20240131"}, model="patient")
    assert len(studies) == 0 or studies[0]["StudyInstanceUID"] == study_uid  # patient root needs PatientID
    series = find(settings, node, "series", {"StudyInstanceUID": study_uid})
    assert [s["SeriesInstanceUID"] for s in series] == [series_uid]
    images = find(settings, node, "image", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid})
    assert len(images) == 5 and len({i["SOPInstanceUID"] for i in images}) == 5
    with QuerySession(settings, node) as session:
        for _ in range(3):
            assert len(session.find("study", {})) == 1
        assert len(session.find("image", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid},
                                limit=2)) == 2


def test_get_study_and_series(dcmqrscp, ct_series, settings):
    storescu(dcmqrscp, ct_series)
    study_uid, series_uid = _uids(ct_series[0])
    got: list[bytes] = []
    result = retrieve(settings, dcmqrscp.node(), study_uid=study_uid, method="get", store=got.append)
    assert result.ok and result.completed == 5 and result.received == 5, result.summary()
    assert {pydicom.dcmread(__import__("io").BytesIO(b)).SeriesInstanceUID for b in got} == {series_uid}
    got.clear()
    # Series only: the study UID is looked up with a C-FIND first (dcmqrscp is strictly hierarchical).
    result = retrieve(settings, dcmqrscp.node(), series_uid=series_uid, method="get", store=got.append)
    assert result.ok and len(got) == 5, result.summary()


def test_move_study_to_a_store_scp(tmp_path, ct_series, settings):
    with run_dcmqrscp(tmp_path / "qr", seed=ct_series) as qr, \
            run_storescp(tmp_path / "dest", ae_title=LOCAL_AE, port=qr.workstation_port) as dest:
        study_uid, _ = _uids(ct_series[0])
        progress = []
        result = retrieve(settings, qr.node(), study_uid=study_uid, method="move", progress=progress.append)
        assert result.ok and result.completed == 5, result.summary()
        assert len(dest.files()) == 5
        assert progress[-1].done == 5


def test_move_to_unknown_destination_is_explained(dcmqrscp, ct_series, settings):
    storescu(dcmqrscp, ct_series)
    study_uid, _ = _uids(ct_series[0])
    settings.ae_title = "STRANGER"
    result = retrieve(settings, dcmqrscp.node(), study_uid=study_uid, method="move")
    assert result.status == 0xA801 and result.exit_code == 1
    assert "does not know this workstation's AE title 'STRANGER'" in result.message
    assert f"STRANGER / 127.0.0.1 / {settings.port}" in result.message


def test_rejected_association_shows_the_reason(dcmqrscp, settings):
    node = dcmqrscp.node()
    node.ae_title = "NOT_QRSCP"
    # dcmqrscp closes its socket right after the A-ASSOCIATE-RJ, and pynetdicom now and then sees the close
    # first (we ask up to 3 times); either way the user is told to check the AE title.
    with pytest.raises(NetError, match=r"rejected the association \(Called AE title not recognised.*check the "
                                       r"node's AE title|closed the connection .*check the AE titles"):
        echo(settings, node)


def test_cancel_mid_get_leaves_only_complete_instances(tmp_path, settings):
    paths = make_ct_series(tmp_path / "many", 40, rows=128, columns=128)
    with run_dcmqrscp(tmp_path / "qr", seed=paths) as qr:
        study_uid, _ = _uids(paths[0])
        cancel = threading.Event()
        got: list[bytes] = []

        def store(data: bytes) -> None:
            got.append(data)
            if len(got) == 5:
                cancel.set()

        result = retrieve(settings, qr.node(), study_uid=study_uid, method="get", store=store, cancel=cancel)
        assert result.cancelled and result.exit_code == 2, result.summary()
        assert 5 <= len(got) < 40
        for data in got:  # every stored instance is whole
            assert pydicom.dcmread(__import__("io").BytesIO(data)).pixel_array.shape == (128, 128)


def test_get_reports_local_store_failures_to_the_node(dcmqrscp, ct_series, settings):
    """Our C-STORE responses (encoded by hand, sent straight on the socket) carry the failure statuses."""
    from workstation.archive import InvalidInstance

    storescu(dcmqrscp, ct_series)
    study_uid, _ = _uids(ct_series[0])
    got: list[bytes] = []

    class StorageFull(Exception):
        pass

    def store(data: bytes) -> None:
        n = len(got) + 1
        got.append(data)
        if n == 2:
            raise StorageFull("disk full")
        if n == 4:
            raise InvalidInstance("no UIDs")

    result = retrieve(settings, dcmqrscp.node(), study_uid=study_uid, method="get", store=store)
    assert len(got) == 5 and result.received == 3, result.summary()
    assert result.failed == 2 and result.completed == 3 and result.status == 0xB000, result.summary()
    assert result.exit_code == 2 and len(result.store_errors) == 2
    assert "StorageFull: disk full" in result.store_errors[0] and "could not be stored here" in result.message
