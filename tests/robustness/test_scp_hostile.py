"""Hostile and broken peers against the DicomServer, scripted at the byte level (the idea of pynetdicom's parrot).

Every test checks both that the bad connection is dealt with and that the server keeps serving others.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, build_context
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.sop_class import CTImageStorage, Verification

from tests.peers import ct_with_payload, loopback_server_settings
from workstation.config import Node
from workstation.net.scu.client import echo
from workstation.net.scp.server import DicomServer, running_server

SHORT = 1.0  # ACSE/network timeouts in these tests


@pytest.fixture
def server_settings(settings):
    return loopback_server_settings(settings, timeout=SHORT, dimse_timeout=5.0, max_pdu=16384, max_associations=4)


@pytest.fixture
def violations():
    return []


@pytest.fixture
def server(server_settings, archive, violations):
    def on_event(e):
        if e.kind == "protocol-violation":
            violations.append(e.detail)

    with running_server(server_settings, archive, on_event=on_event) as srv:
        yield srv


@pytest.fixture
def client(tmp_path):
    from workstation.config import Settings

    s = Settings(data_dir=tmp_path / "client", ae_title="GOODSCU")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 5.0
    return s


def node_of(server: DicomServer) -> Node:
    return Node("server", server.settings.ae_title, *server.address)


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection; and how long that took."""
    sock.settimeout(timeout)
    start = time.monotonic()
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data, time.monotonic() - start


def is_abort(data: bytes) -> bool:
    return len(data) >= 10 and data[0] == 0x07


def pyn_assoc(server, contexts, **kw):
    ae = AE(ae_title="RAWSCU")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    return ae.associate(*server.address, contexts=contexts, ae_title=server.settings.ae_title, **kw)


def test_unknown_pdu_type_is_aborted_at_once(server, client, violations):
    with socket.create_connection(server.address) as sock:
        sock.sendall(b"\x09\x00" + struct.pack(">L", 4) + b"abcd")
        data, took = read_until_closed(sock, 5)
    assert is_abort(data) and took < SHORT
    assert any("unknown PDU type 0x09" in v for v in violations)
    assert echo(client, node_of(server)) < 5


def test_garbage_is_closed_at_once(server, client, violations):
    with socket.create_connection(server.address) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data, took = read_until_closed(sock, 5)
    assert took < SHORT
    assert violations
    assert echo(client, node_of(server)) < 5


def test_oversized_association_request_is_aborted_without_reading_it(server, violations):
    with socket.create_connection(server.address) as sock:
        sock.sendall(b"\x01\x00" + struct.pack(">L", 0x7FFFFFF0) + b"\x00" * 100)
        data, took = read_until_closed(sock, 5)
    assert is_abort(data) and took < SHORT
    assert any("declares 2147483632 bytes" in v for v in violations)


def test_pdata_longer_than_our_max_pdu_aborts_the_association(server, server_settings, violations):
    assoc = pyn_assoc(server, [build_context(Verification)])
    assert assoc.is_established
    raw = assoc.dul.socket.socket
    length = server_settings.max_pdu + 1000
    raw.sendall(b"\x04\x00" + struct.pack(">L", length) + b"\x00" * 64)
    deadline = time.monotonic() + 5
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.02)
    assert assoc.is_aborted
    assert any(f"P-DATA-TF declares {length} bytes" in v for v in violations)


def _store_fragments(ds: Dataset, context_id: int, max_pdu: int) -> list[bytes]:
    req = C_STORE()
    req.MessageID = 1
    req.AffectedSOPClassUID = ds.SOPClassUID
    req.AffectedSOPInstanceUID = ds.SOPInstanceUID
    req.Priority = 2
    from io import BytesIO

    req.DataSet = BytesIO(encode(ds, False, True))
    msg = C_STORE_RQ()
    msg.primitive_to_message(req)
    out = []
    for primitive in msg.encode_msg(context_id, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(primitive)
        out.append(pdu.encode())
    return out


def _ct(size: int = 200_000) -> Dataset:
    return ct_with_payload(os.urandom(size))


def test_peer_abort_mid_store_leaves_nothing(server, archive):
    assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
    assert assoc.is_established
    ds = _ct()
    fragments = _store_fragments(ds, assoc.accepted_contexts[0].context_id, 16384)
    assert len(fragments) > 4
    raw = assoc.dul.socket.socket
    for pdu in fragments[: len(fragments) // 2]:
        raw.sendall(pdu)
    assoc.abort()
    time.sleep(0.3)
    assert archive.query("instance") == []
    assert list(archive.storage.iter_files()) == []
    assert archive.storage.temp_files() == []
    # and the server is fine
    assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
    assert assoc.send_c_store(_ct(1000)).Status == 0
    assoc.release()


def test_dataset_over_the_memory_budget_is_aborted(server, archive, violations, monkeypatch):
    server._server._ws_guard.dataset_budget = 100_000
    assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
    status = assoc.send_c_store(_ct(300_000))
    assert status is None or "Status" not in status
    assert any("memory budget" in v for v in violations)
    assert archive.query("instance") == []


def test_silent_connection_is_closed_after_the_acse_timeout(server, client):
    with socket.create_connection(server.address) as sock:
        data, took = read_until_closed(sock, SHORT * 5)
    assert SHORT * 0.8 <= took < SHORT * 3, took
    assert echo(client, node_of(server)) < 5


def test_idle_association_times_out(server):
    assoc = pyn_assoc(server, [build_context(Verification)])
    assert assoc.is_established
    deadline = time.monotonic() + SHORT * 5
    while assoc.is_established and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not assoc.is_established


def test_forty_garbage_connections_then_a_real_sender_is_served(server, client, archive, server_settings):
    assert server_settings.max_associations < 40
    socks = []
    burst = time.monotonic()
    for i in range(40):
        s = socket.create_connection(server.address)
        if i % 2:
            s.sendall(os.urandom(200))  # garbage
        # even ones stay silent: connected, never associating
        socks.append(s)
    try:
        start = time.monotonic()
        assert echo(client, node_of(server)) < 5
        assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
        assert assoc.is_established
        assert assoc.send_c_store(_ct(1000)).Status == 0
        assoc.release()
        assert time.monotonic() - start < SHORT  # served at once, not after the garbage timed out
        assert time.monotonic() - burst < 3 * SHORT  # and the burst itself was accepted without SYN retries
    finally:
        for s in socks:
            s.close()
    assert len(archive.query("instance")) == 1


def test_hostile_connection_does_not_disturb_an_ongoing_transfer(server, archive):
    results = []

    def sender():
        assoc = pyn_assoc(server, [build_context(CTImageStorage, ExplicitVRLittleEndian)])
        for _ in range(10):
            results.append(assoc.send_c_store(_ct(50_000)).Status)
        assoc.release()

    t = threading.Thread(target=sender)
    t.start()
    for _ in range(10):
        with socket.create_connection(server.address) as sock:
            sock.sendall(b"\x04\x00\xff\xff\xff\xff")
            read_until_closed(sock, 2)
    t.join(30)
    assert results == [0] * 10
    assert len(archive.query("instance")) == 10
