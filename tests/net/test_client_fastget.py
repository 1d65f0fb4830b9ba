"""The C-GET requestor's hand-made decoding (DirectGet) against pynetdicom's own encoding, byte for byte."""

from __future__ import annotations

import io

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless
from pynetdicom import dimse_messages, dimse_primitives
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelGet

from tests.peers import make_ct_series
from workstation.net.scu_fastget import Status, decode_command, status_dataset
from workstation.net.scu_ingest import meta_sop_instance_uid
from workstation.net.scu_retrieve import file_meta


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
    from workstation.net.scu_fastget import ProtocolError

    with pytest.raises(ProtocolError):
        decode_command(b"\x00\x00\x00\x01\xff\xff\xff\x7f")  # length beyond the end
    with pytest.raises(ProtocolError):
        decode_command(b"\x08\x00\x00\x01\x02\x00\x00\x00ab")  # not group 0000
    with pytest.raises(ProtocolError):
        decode_command(b"\x00\x00\x00\x01")  # truncated


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless])
def test_meta_sop_instance_uid_reads_our_meta_and_pydicoms(tmp_path, syntax):
    path = make_ct_series(tmp_path, 1, transfer_syntax=syntax if syntax == RLELossless else None)[0]
    ds = pydicom.dcmread(path)
    assert meta_sop_instance_uid(path.read_bytes()) == ds.SOPInstanceUID  # written by pydicom
    ours = file_meta(ds.SOPClassUID, ds.SOPInstanceUID, syntax) + b"\x08\x00\x16\x00"
    assert meta_sop_instance_uid(ours) == ds.SOPInstanceUID
    assert meta_sop_instance_uid(b"\x00" * 200) is None  # no DICM
    assert meta_sop_instance_uid(b"\x00" * 128 + b"DICM" + b"\x08\x00\x05\x00CS\x00\x00" * 2) is None
