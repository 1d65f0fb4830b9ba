"""Client units that need no real peer: identifiers, rows, contexts, statuses, failure messages, cancel."""

from __future__ import annotations

import socket
import threading
import time

import pydicom
import pytest
from pydicom.dataset import Dataset

from tests.peers import free_port, make_ct_series
from workstation.config import Node, Settings
from workstation.net.scu.client import (
    CancelWatch,
    NetError,
    build_identifier,
    echo,
    find,
    row_from_identifier,
)
from workstation.net.scu.retrieve import build_retrieve_identifier, explain_status, RetrieveResult
from workstation.net.scu.send import _scan, plan_contexts, send, SendReport, InstanceResult


def fast_settings(tmp_path, **kw) -> Settings:
    s = Settings(data_dir=tmp_path)
    s.acse_timeout = kw.get("acse", 1.0)
    s.dimse_timeout = kw.get("dimse", 2.0)
    s.network_timeout = kw.get("network", 2.0)
    return s


def test_identifier_has_return_keys_and_filters():
    ds = build_identifier("study", {"PatientID": "P1", "StudyDate": "20240101-"})
    assert ds.QueryRetrieveLevel == "STUDY"
    assert ds.PatientID == "P1" and ds.StudyDate == "20240101-"
    assert "StudyInstanceUID" in ds and ds.StudyInstanceUID in (None, "")
    assert "SpecificCharacterSet" not in ds
    ds = build_identifier("image", {"PatientName": "Müller*"})
    assert ds.QueryRetrieveLevel == "IMAGE" and ds.SpecificCharacterSet == "ISO_IR 192"
    with pytest.raises(NetError, match="unknown query level"):
        build_identifier("frame")


def test_wildcard_and_range_keys_raise_no_pydicom_warning(recwarn):
    """'C?' is a valid matching key but not a valid CS value: pydicom warned on the user's terminal for it."""
    ds = build_identifier("series", {"Modality": "C?", "SeriesDate": "20240101-20241231", "PatientName": "a*b?"})
    assert ds.Modality == "C?" and ds.SeriesDate == "20240101-20241231" and str(ds.PatientName) == "a*b?"
    assert [str(w.message) for w in recwarn] == []
    with pytest.raises(NetError, match="NotAKeyword"):
        build_identifier("study", {"NotAKeyword": "x"})


def test_row_from_identifier_decodes_like_archive_rows():
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = "Müller^Jörg"
    ds.ModalitiesInStudy = ["CT", "PT"]
    ds.NumberOfStudyRelatedInstances = "12"
    ds.StudyDate = "20240102"
    ds.RetrieveAETitle = "PACS"
    # Round trip through bytes, as responses arrive encoded.
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset
    from pydicom.filereader import read_dataset

    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    decoded = read_dataset(DicomBytesIO(buf.getvalue()), is_implicit_VR=False, is_little_endian=True)
    row = row_from_identifier(decoded)
    assert row["PatientName"] == "Müller^Jörg"
    assert row["ModalitiesInStudy"] == ["CT", "PT"]
    assert row["NumberOfStudyRelatedInstances"] == 12 and row["NumberOfInstances"] == 12
    assert "RetrieveAETitle" not in row and "QueryRetrieveLevel" not in row
    one = Dataset()
    one.ModalitiesInStudy = "MR"
    assert row_from_identifier(one, "STUDY")["ModalitiesInStudy"] == ["MR"]


def test_retrieve_identifier_levels():
    assert build_retrieve_identifier("1.2", None, None)[0] == "STUDY"
    level, uid, ds = build_retrieve_identifier("1.2", "1.2.3", None)
    assert (level, uid, ds.StudyInstanceUID, ds.SeriesInstanceUID) == ("SERIES", "1.2.3", "1.2", "1.2.3")
    with pytest.raises(NetError):
        build_retrieve_identifier(None, None, None)


def test_status_explanations():
    s = Settings()
    text = explain_status(0xA801, destination=s.ae_title, settings=s, local_host="10.1.2.3")
    assert "does not know this workstation's AE title" in text and "WORKSTATION / 10.1.2.3 / 11112" in text
    assert "cancelled" in explain_status(0xFE00)
    assert "unable to process" in explain_status(0xC000)
    r = RetrieveResult("n", "get", "study", "1", status=0xB000, completed=3, failed=1)
    assert r.exit_code == 2
    assert RetrieveResult("n", "get", "study", "1", status=0).exit_code == 0
    assert RetrieveResult("n", "get", "study", "1", status=0xA801).exit_code == 1


def test_plan_contexts_streams_native_and_falls_back(tmp_path):
    plain = make_ct_series(tmp_path / "a", 2, rows=8, columns=8)
    rle = make_ct_series(tmp_path / "b", 1, rows=8, columns=8, transfer_syntax="1.2.840.10008.1.2.5")
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    items = [_scan(p) for p in plain + rle + [junk]]
    assert items[-1].result.outcome == "failed" and "not a readable DICOM file" in items[-1].result.message
    batches = plan_contexts(items)
    assert len(batches) == 1
    contexts = batches[0][1]
    syntaxes = [list(cx.transfer_syntax) for cx in contexts]
    assert ["1.2.840.10008.1.2.5"] in syntaxes
    assert ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"] in syntaxes


def test_plan_contexts_splits_beyond_128(tmp_path):
    from workstation.net.scu.send import _Item

    items = []
    for i in range(200):
        r = InstanceResult(path=f"{i}", sop_instance_uid=f"1.{i}", sop_class_uid=f"1.2.3.{i}")
        items.append(_Item(r, tmp_path / f"{i}", pydicom.uid.ExplicitVRLittleEndian))
    batches = plan_contexts(items)
    assert len(batches) == 2 and all(len(cx) <= 128 for _, cx in batches)
    assert sum(len(c) for c, _ in batches) == 200


def test_send_report_exit_codes():
    rep = SendReport("n", [InstanceResult("a", outcome="sent"), InstanceResult("b", outcome="failed")])
    assert rep.exit_code == 2 and "1 sent, 1 failed of 2" in rep.summary()
    assert SendReport("n", [InstanceResult("a", outcome="sent")]).exit_code == 0
    assert SendReport("n", [InstanceResult("a", outcome="failed")]).exit_code == 1


def test_connection_refused_is_one_clear_line(tmp_path):
    node = Node("dead", "DEAD", "127.0.0.1", free_port())
    with pytest.raises(NetError, match="cannot connect to dead .*connection refused"):
        echo(fast_settings(tmp_path), node)


class SilentPeer:
    """Accepts TCP connections and never says a word (a hung PACS)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_peer_that_never_answers_times_out(tmp_path):
    peer = SilentPeer()
    try:
        node = Node("hung", "HUNG", "127.0.0.1", peer.port)
        start = time.monotonic()
        with pytest.raises(NetError, match="did not answer the association request within 1 s"):
            find(fast_settings(tmp_path, acse=1.0), node, "study", {})
        assert time.monotonic() - start < 5
    finally:
        peer.close()


def test_send_to_a_dead_node_reports_every_instance(tmp_path):
    paths = make_ct_series(tmp_path / "ct", 3, rows=8, columns=8)
    report = send(fast_settings(tmp_path), Node("dead", "DEAD", "127.0.0.1", free_port()), paths)
    assert report.exit_code == 1 and report.failed == 3
    assert "cannot connect" in report.error


def test_cancel_watch_fires_once():
    flag = threading.Event()
    calls = []
    with CancelWatch(flag, lambda: calls.append(1)) as watch:
        flag.set()
        time.sleep(0.2)
    assert watch.fired and calls == [1]
    with CancelWatch(threading.Event(), lambda: calls.append(2)) as watch:
        pass
    assert not watch.fired and calls == [1]


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.70"])
def test_file_bytes_match_pynetdicoms_encoded_dataset(syntax):
    from io import BytesIO
    from types import SimpleNamespace

    from pynetdicom import evt as pevt
    from pynetdicom.dimse_primitives import C_STORE
    from pynetdicom.events import Event

    from workstation.net.scu.retrieve import file_bytes

    for sop_uid in ("1.2.3.4", "1.2.3.45"):  # even and odd lengths (UI padding)
        req = C_STORE()
        req.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        req.AffectedSOPInstanceUID = sop_uid
        req.DataSet = BytesIO(b"\x08\x00\x16\x00UI\x02\x001\x00" * 3)
        event = Event(SimpleNamespace(), pevt.EVT_C_STORE,
                      {"request": req, "context": SimpleNamespace(transfer_syntax=syntax)})
        assert file_bytes(event) == event.encoded_dataset(include_meta=True)
        ds = pydicom.dcmread(__import__("io").BytesIO(file_bytes(event)), force=True)
        assert ds.file_meta.MediaStorageSOPInstanceUID == sop_uid and ds.file_meta.TransferSyntaxUID == syntax


@pytest.mark.parametrize("status", [0x0000, 0xA700, 0xC000, 0xC211, 0x0122])
def test_store_response_command_matches_pynetdicom(status):
    from pynetdicom.dimse_messages import C_STORE_RSP
    from pynetdicom.dimse_primitives import C_STORE

    from workstation.net.scu.retrieve import store_response_command

    for sop_uid in ("1.2.826.0.1.3680043.8.498.123", "1.2.826.0.1.3680043.8.498.1234"):
        rsp = C_STORE()
        rsp.MessageID = rsp.MessageIDBeingRespondedTo = 65535
        rsp.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        rsp.AffectedSOPInstanceUID = sop_uid
        rsp.Status = status
        msg = C_STORE_RSP()
        msg.primitive_to_message(rsp)
        (pdata,) = list(msg.encode_msg(3, 16384))
        ((cx_id, pdv),) = pdata.presentation_data_value_list
        assert pdv == b"\x03" + store_response_command(rsp.AffectedSOPClassUID, sop_uid, 65535, status)


def test_fast_recv_reads_whole_pdus_and_reports_a_close():
    from types import SimpleNamespace

    from workstation.net.scu.tuning import fast_recv

    a, b = socket.socketpair()
    try:
        asock = SimpleNamespace(socket=a, recv=None)
        asock.recv = lambda n: b""  # replaced below
        fast_recv(SimpleNamespace(dul=SimpleNamespace(socket=asock)))
        payload = bytes(range(256)) * 1024  # 256 KiB, sent in dribs and drabs

        def dribble():
            for i in range(0, len(payload), 10_000):
                b.sendall(payload[i:i + 10_000])
                time.sleep(0.001)

        t = threading.Thread(target=dribble)
        t.start()
        assert asock.recv(6) == payload[:6]
        got = asock.recv(len(payload) - 6)
        t.join()
        assert isinstance(got, bytearray) and bytes(got) == payload[6:]
        b.sendall(b"abc")
        b.close()
        assert asock.recv(10) == b"abc"  # connection closed: what there was, short
    finally:
        a.close()
