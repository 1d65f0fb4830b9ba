"""The C-FIND fast path: hand-encoded identifiers, command sets and PDUs match what pydicom/pynetdicom produce."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom.dimse_messages import C_FIND_RSP
from pynetdicom.dimse_primitives import C_FIND
from pynetdicom.dsutils import decode, encode
from pynetdicom.pdu import P_DATA_TF
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

from workstation.net.scp.query import (
    IdentifierEncoder,
    build_response,
    find_response_command,
    parse_identifier,
)
from workstation.net.dimse_bytes import pdata_pdus

ROW = {
    "PatientID": "PC", "PatientName": "Çelik^Émile", "PatientBirthDate": "19700101", "PatientSex": "F",
    "StudyInstanceUID": "1.2.826.0.1.3680043.8.498.1", "StudyDate": "20220101", "StudyTime": "120000",
    "StudyDescription": "Thorax", "AccessionNumber": "ACC3", "StudyID": "7", "ModalitiesInStudy": ["CT", "SR"],
    "NumberOfInstances": 12, "NumberOfStudyRelatedSeries": 2, "SeriesNumber": 3, "InstanceNumber": "x",
    "ReferringPhysicianName": "",
}


def _query() -> Dataset:
    q = Dataset()
    q.QueryRetrieveLevel = "STUDY"
    q.PatientID = ""
    q.PatientName = ""
    q.PatientBirthDate = ""
    q.StudyInstanceUID = ""
    q.StudyDate = "20200101-"
    q.StudyTime = ""
    q.AccessionNumber = ""
    q.ModalitiesInStudy = ""
    q.NumberOfStudyRelatedInstances = ""
    q.NumberOfStudyRelatedSeries = ""
    q.RetrieveAETitle = ""
    q.InstanceAvailability = ""
    q.ReferringPhysicianName = ""
    q.StudyDescription = ""
    q.InstanceNumber = ""  # an IS the row cannot give as a number: empty
    q.ReferencedStudySequence = Sequence([])
    q.add_new(0x00091010, "LO", "")  # private: no value
    q.add_new(0x00280030, "DS", "")  # PixelSpacing: not in the row
    q.add_new(0x00181050, "DS", "")
    return q


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_identifier_matches_pydicom(implicit, ascii_only):
    query = decode(BytesIO(encode(_query(), implicit, True)), implicit, True)
    _, requested, _ = parse_identifier(query, StudyRootQueryRetrieveInformationModelFind)
    row = dict(ROW, PatientName="Name^Given" if ascii_only else ROW["PatientName"])
    ours = IdentifierEncoder("STUDY", requested, "WORKSTATION", implicit).encode(row)
    reference = encode(build_response("STUDY", requested, row, "WORKSTATION"), implicit, True)
    assert ours == reference
    ds = decode(BytesIO(ours), implicit, True)
    assert ("SpecificCharacterSet" in ds) is (not ascii_only)
    assert str(ds.PatientName) == row["PatientName"]
    assert list(ds.ModalitiesInStudy) == ["CT", "SR"]
    assert ds.NumberOfStudyRelatedInstances == 12 and ds.RetrieveAETitle == "WORKSTATION"


def test_find_response_command_matches_pynetdicom():
    for status, with_identifier in ((0xFF00, True), (0x0000, False)):
        rsp = C_FIND()
        rsp.MessageIDBeingRespondedTo = 7
        rsp.AffectedSOPClassUID = StudyRootQueryRetrieveInformationModelFind
        rsp.Status = status
        rsp.Identifier = BytesIO(b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ") if with_identifier else None
        msg = C_FIND_RSP()
        msg.primitive_to_message(rsp)
        expected = encode(msg.command_set, True, True)
        assert find_response_command(StudyRootQueryRetrieveInformationModelFind, 7, status, with_identifier) == \
            expected


@pytest.mark.parametrize("max_pdu", [0, 16384, 40])
def test_pdata_pdus_decode_to_the_message(max_pdu):
    command = find_response_command(StudyRootQueryRetrieveInformationModelFind, 3, 0xFF00, True)
    dataset = bytes(range(256)) * 2
    data = pdata_pdus(5, command, dataset, max_pdu)
    pdvs = []
    offset = 0
    while offset < len(data):
        length = int.from_bytes(data[offset + 2:offset + 6], "big")
        assert max_pdu == 0 or length <= max_pdu
        pdu = P_DATA_TF()
        pdu.decode(data[offset:offset + 6 + length])
        pdvs += [(item.presentation_context_id, item.presentation_data_value[0], item.presentation_data_value[1:])
                 for item in pdu.presentation_data_value_items]
        offset += 6 + length
    assert offset == len(data)
    assert all(cx == 5 for cx, _, _ in pdvs)
    assert b"".join(v for _, c, v in pdvs if c & 1) == command
    assert b"".join(v for _, c, v in pdvs if not c & 1) == dataset
    assert [c for _, c, _ in pdvs if c & 1][-1] == 0x03 and [c for _, c, _ in pdvs if not c & 1][-1] == 0x02


@pytest.mark.parametrize("max_pdu", [0, 16384, 40])
def test_pdata_pdus_never_share_a_pdu_between_command_and_identifier(max_pdu):
    """GDCM's SCU reads the PDU after a pending command as its identifier: a PDU holding both made it take the
    next response for the identifier and hang (tests/interop/test_scp_gdcm.py)."""
    command = find_response_command(StudyRootQueryRetrieveInformationModelFind, 3, 0xFF00, True)
    data = pdata_pdus(5, command, b"\x08\x00\x52\x00\x06\x00\x00\x00STUDY ", max_pdu)
    offset = 0
    kinds = []
    while offset < len(data):
        length = int.from_bytes(data[offset + 2:offset + 6], "big")
        pdu = P_DATA_TF()
        pdu.decode(data[offset:offset + 6 + length])
        kinds.append({item.presentation_data_value[0] & 1 for item in pdu.presentation_data_value_items})
        offset += 6 + length
    assert all(len(k) == 1 for k in kinds) and kinds[0] == {1} and kinds[-1] == {0}


def test_find_response_command_with_comment_matches_pynetdicom():
    rsp = C_FIND()
    rsp.MessageIDBeingRespondedTo = 2
    rsp.AffectedSOPClassUID = StudyRootQueryRetrieveInformationModelFind
    rsp.Status = 0xA900
    rsp.ErrorComment = "the Study Root model has no PATIENT level"
    msg = C_FIND_RSP()
    msg.primitive_to_message(rsp)
    assert find_response_command(StudyRootQueryRetrieveInformationModelFind, 2, 0xA900, False,
                                 "the Study Root model has no PATIENT level") == encode(msg.command_set, True, True)


@pytest.mark.parametrize("direct", [True, False])
def test_find_over_the_network_direct_and_through_yields(settings, archive, monkeypatch, direct):
    """Pending matches written by FindResponder, or (when it cannot be used) yielded and encoded by
    _serve_find: the same responses, statuses and comments reach a plain pynetdicom SCU."""
    from pynetdicom import AE, build_context

    import workstation.net.scp.query as scp_query
    from tests.peers import free_port
    from workstation.archive import InstanceRecord
    from workstation.config import Node
    from workstation.net.scp.server import DicomServer

    if not direct:
        monkeypatch.setattr(scp_query.FindResponder, "usable", classmethod(lambda cls, event: False))
    archive.index.add([InstanceRecord({"PatientID": f"P{i}", "PatientName": "Émile^Zola" if i == 0 else f"N{i}",
                                       "StudyInstanceUID": f"1.2.3.{i}", "StudyDate": "20240101",
                                       "SeriesInstanceUID": f"1.2.3.{i}.1", "SOPInstanceUID": f"1.2.3.{i}.1.1",
                                       "InstanceNumber": 1}, 10) for i in range(40)])
    settings.port = free_port()
    settings.nodes = [Node("t", "TESTSCU", "127.0.0.1", 1)]
    with DicomServer(settings, archive) as server:
        ae = AE("TESTSCU")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
        assoc = ae.associate(*server.address, contexts=[build_context(StudyRootQueryRetrieveInformationModelFind)],
                             ae_title=settings.ae_title)
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.PatientName = ""
        query.StudyInstanceUID = ""
        query.NumberOfStudyRelatedInstances = ""
        results = list(assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind))
        query.QueryRetrieveLevel = "PATIENT"
        refused = list(assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind))
        assoc.release()
    pending = [ds for status, ds in results if status.Status == 0xFF00]
    assert [status.Status for status, _ in results][-1] == 0x0000 and len(pending) == 40
    assert sorted(ds.StudyInstanceUID for ds in pending) == sorted(f"1.2.3.{i}" for i in range(40))
    assert {str(ds.PatientName) for ds in pending if "SpecificCharacterSet" in ds} == {"Émile^Zola"}
    assert all(ds.NumberOfStudyRelatedInstances == 1 for ds in pending)
    assert [(s.Status, s.ErrorComment) for s, _ in refused] == [(0xA900, "the Study Root model has no PATIENT level")]
