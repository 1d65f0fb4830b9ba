"""The C-GET requestor's hand-made decoding (DirectGet) against pynetdicom's own encoding, byte for byte."""

from __future__ import annotations

import io
import sys

import pydicom
import pytest
from pynetdicom import dimse_messages, dimse_primitives
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

from tests.peers import make_ct_series
from workstation.net.scu.fastget import Status, decode_command, status_dataset


def _command_bytes(message_cls, primitive) -> bytes:
    """The command set of a DIMSE message as pynetdicom puts it on the wire (PDVs with the command bit set)."""
    msg = message_cls()
    msg.primitive_to_message(primitive)
    out = b""
    for pdata in msg.encode_msg(1, 16384):
        for _, pdv in pdata.presentation_data_value_list:
            if pdv[0] & 0x01:
                out += pdv[1:]
    return out


@pytest.mark.parametrize("sop_uid", ["1.2.3.4.5", "1.2.826.0.1.3680043.8.498.12345678901234567890123"])
def test_c_store_request_command_decodes_like_pynetdicom_encodes(sop_uid):
    req = dimse_primitives.C_STORE()
    req.MessageID = 7
    req.AffectedSOPClassUID = CTImageStorage
    req.AffectedSOPInstanceUID = sop_uid
    req.Priority = 0x0002
    req.MoveOriginatorApplicationEntityTitle = "ORTHANC"
    req.MoveOriginatorMessageID = 3
    req.DataSet = io.BytesIO(b"\x00" * 8)
    command = decode_command(_command_bytes(dimse_messages.C_STORE_RQ, req))
    assert int.from_bytes(command[0x0100], "little") == 0x0001
    assert int.from_bytes(command[0x0110], "little") == 7
    assert int.from_bytes(command[0x0800], "little") != 0x0101  # a data set follows
    assert command[0x0002].rstrip(b"\x00").decode() == CTImageStorage
    assert command[0x1000].rstrip(b"\x00").decode() == sop_uid


@pytest.mark.parametrize("status, counts, comment", [
    (0xFF00, (499, 1, 0, 0), ""),
    (0x0000, (None, 500, 0, 0), ""),
    (0xB000, (0, 498, 2, 0), "2 failed"),
    (0xFE00, (None, 10, 0, 0), ""),
])
def test_c_get_response_status_like_send_c_get(status, counts, comment):
    rsp = dimse_primitives.C_GET()
    rsp.MessageIDBeingRespondedTo = 1
    rsp.AffectedSOPClassUID = StudyRootQueryRetrieveInformationModelGet
    rsp.Status = status
    for keyword, value in zip(("NumberOfRemainingSuboperations", "NumberOfCompletedSuboperations",
                               "NumberOfFailedSuboperations", "NumberOfWarningSuboperations"), counts):
        if value is not None:
            setattr(rsp, keyword, value)
    if comment:
        rsp.ErrorComment = comment
    command = decode_command(_command_bytes(dimse_messages.C_GET_RSP, rsp))
    assert int.from_bytes(command[0x0100], "little") == 0x8010
    decoded = status_dataset(command)
    assert isinstance(decoded, Status) and decoded.Status == status and decoded["Status"] == status
    assert decoded.get("NumberOfCompletedSuboperations") == counts[1]
    assert decoded.get("NumberOfRemainingSuboperations") == counts[0]
    assert decoded.get("ErrorComment") == (comment or None)
    assert "Status" in decoded and "Nothing" not in decoded
    with pytest.raises(AttributeError):
        decoded.Nothing  # noqa: B018


def test_decode_command_refuses_garbage():
    from workstation.net.scu.fastget import ProtocolError

    with pytest.raises(ProtocolError):
        decode_command(b"\x00\x00\x00\x01\xff\xff\xff\x7f")  # length beyond the end
    with pytest.raises(ProtocolError):
        decode_command(b"\x08\x00\x00\x01\x02\x00\x00\x00ab")  # not group 0000
    with pytest.raises(ProtocolError):
        decode_command(b"\x00\x00\x00\x01")  # truncated


class _GetSCP:
    """A pynetdicom Get SCP sending ``count`` small CT instances; ``then`` decides what happens after ``after``
    of them: "abort" (A-ABORT), "silence" (stops answering), or nothing (a normal end)."""

    def __init__(self, tmp_path, count: int = 10, after: int = 3, then: str = ""):
        from pynetdicom import AE, evt
        from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

        self.datasets = [pydicom.dcmread(p) for p in make_ct_series(tmp_path / "ct", count, rows=16, columns=16)]
        self.after, self.then = after, then
        self.release = __import__("threading").Event()
        ae = AE(ae_title="GETSCP")
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
        ae.add_supported_context(CTImageStorage, scu_role=True, scp_role=True)
        ae.dimse_timeout = ae.network_timeout = 10
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_GET, self.on_get)])
        from workstation.config import Node

        self.node = Node("get", "GETSCP", "127.0.0.1", self.server.server_address[1])

    def on_get(self, event):
        yield len(self.datasets)
        for n, ds in enumerate(self.datasets):
            if n == self.after and self.then == "abort":
                event.assoc.abort()
                return
            if n == self.after and self.then == "silence":
                self.release.wait(10)
                return
            yield 0xFF00, ds

    def close(self):
        self.release.set()
        self.server.shutdown()


def _get_settings(tmp_path):
    from workstation.config import Settings

    s = Settings(data_dir=tmp_path / "ws")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 2.0
    return s


def test_direct_get_against_pynetdicom_scp_then_abort_and_silence(tmp_path, monkeypatch):
    import time

    from workstation.net.scu import fastget as scu_fastget
    from workstation.net.scu.retrieve import retrieve

    used = []
    responses = scu_fastget.DirectGet.responses

    def spy(self, *args):
        used.append(self)
        return responses(self, *args)

    monkeypatch.setattr(scu_fastget.DirectGet, "responses", spy)

    scp = _GetSCP(tmp_path / "ok", count=10)
    try:
        got: list[bytes] = []
        result = retrieve(_get_settings(tmp_path), scp.node, study_uid="1.2.3", method="get", store=got.append)
        assert result.ok and result.completed == 10 and len(got) == 10, result.summary()
        assert len(used) == 1 and used[0].instances == 10  # the direct path, not pynetdicom's
        if sys.platform.startswith("linux"):
            assert used[0]._whole_reads  # one blocking recv per PDU
            assert used[0].sock.gettimeout() == used[0]._saved_timeout  # given back to pynetdicom as it was
        assert {pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID for d in got} == {
            ds.SOPInstanceUID for ds in scp.datasets}
    finally:
        scp.close()

    # The peer aborts after 3 instances, or stops answering: a clear failure, no hang.
    for then, limit, words in (("abort", 5, ("aborted the association",)),
                               ("silence", 8, ("stopped answering", "aborted"))):
        scp = _GetSCP(tmp_path / then, count=10, after=3, then=then)
        try:
            got = []
            t = time.monotonic()
            result = retrieve(_get_settings(tmp_path), scp.node, study_uid="1.2.3", method="get", store=got.append)
            assert len(got) == 3 and not result.ok and time.monotonic() - t < limit, result.summary()
            assert any(w in result.message for w in words), result.message
        finally:
            scp.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="blocking whole-PDU reads are Linux only")
def test_whole_pdu_reads_wait_for_all_of_it_and_give_up_on_a_stall_or_a_close():
    import socket
    import threading
    import time
    from types import SimpleNamespace

    from workstation.net.scu import fastget as scu_fastget

    ours, peer = socket.socketpair()
    try:
        reader = scu_fastget.DirectGet.__new__(scu_fastget.DirectGet)
        reader.sock, reader.timeout = ours, 0.6
        reader.assoc = SimpleNamespace(_sent_abort=False, _kill=False, is_aborted=False, is_established=True)
        ours.settimeout(5.0)
        assert reader._blocking_reads()
        reader._whole_reads = True
        # Arriving in pieces, slower than one receive-timeout slice: still one whole PDU.
        payload = bytes(range(256)) * 1024

        def dribble():
            for i in range(0, len(payload), 65536):
                peer.sendall(payload[i:i + 65536])
                time.sleep(0.05 if i else 0.3)

        threading.Thread(target=dribble, daemon=True).start()
        assert reader._read(len(payload)) == payload
        # Half a PDU, then nothing: gives up after the DIMSE timeout instead of waiting for ever.
        peer.sendall(b"x" * 100)
        t = time.monotonic()
        assert reader._read(200) is None
        assert 0.5 < time.monotonic() - t < 3
        # An abort is noticed within a slice, long before the timeout.
        reader.timeout = 30
        reader.assoc.is_aborted = True
        t = time.monotonic()
        assert reader._read(10) is None and time.monotonic() - t < 1
        reader.assoc.is_aborted = False
        peer.close()
        assert reader._read(10) is None  # closed by the node
        reader._restore_socket()
        assert ours.gettimeout() == 5.0
    finally:
        ours.close()
        if peer.fileno() != -1:
            peer.close()


def test_identifier_inside_the_command_pdv_after_a_whole_command_is_left_out():
    """Orthanc (DCMTK) answers a C-GET whose instance has no accepted context with a failure whose Failed SOP
    Instance UID List sits in the command PDV after the command set; that used to abort the association as
    'malformed' and tell the user the node refused us. The command is read, the stray bytes are left out."""
    rsp = dimse_primitives.C_GET()
    rsp.MessageIDBeingRespondedTo = 1
    rsp.AffectedSOPClassUID = StudyRootQueryRetrieveInformationModelGet
    rsp.Status = 0xC000
    rsp.NumberOfFailedSuboperations = 1
    command = _command_bytes(dimse_messages.C_GET_RSP, rsp)
    uid = b"1.2.826.0.1.3680043.8.498.30569162399751186441029443611654650811"
    stray = b"\x08\x00\x00\x00\x04\x00\x00\x00" + (8 + len(uid)).to_bytes(4, "little") + \
        b"\x08\x00\x58\x00" + len(uid).to_bytes(4, "little") + uid
    decoded = status_dataset(decode_command(command + stray))
    assert decoded.Status == 0xC000 and decoded.get("NumberOfFailedSuboperations") == 1
    from workstation.net.scu.fastget import ProtocolError

    with pytest.raises(ProtocolError):  # a foreign element inside the declared command set is still refused
        decode_command(command[:-10] + stray)
