"""The direct C-STORE path (issue 15, send speed): its hand-encoded command set is pynetdicom's, byte for byte,
and a send through it delivers each file's data set unchanged (against dcmtk storescp)."""

from __future__ import annotations

import io

import pydicom
import pytest
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.dimse_primitives import C_STORE

from tests.peers import make_ct_series, run_storescp
from workstation.config import Settings
from workstation.net.scu import direct as scu_direct
from workstation.net.scu.direct import store_request_command
from workstation.net.scu.send import send


@pytest.mark.parametrize("sop_uid", ["1.2.826.0.1.3680043.8.498.123", "1.2.826.0.1.3680043.8.498.1234"])
def test_store_request_command_matches_pynetdicom(sop_uid):
    req = C_STORE()
    req.MessageID = 1
    req.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    req.AffectedSOPInstanceUID = sop_uid
    req.Priority = 2
    req.DataSet = io.BytesIO(b"\0" * 8)
    msg = C_STORE_RQ()
    msg.primitive_to_message(req)
    pdvs = [pdv for pdata in msg.encode_msg(3, 16384) for _cx, pdv in pdata.presentation_data_value_list]
    assert pdvs[0] == b"\x03" + store_request_command(req.AffectedSOPClassUID, sop_uid, 1)


def test_send_goes_the_direct_way_and_files_arrive_unchanged(tmp_path, monkeypatch):
    files = make_ct_series(tmp_path / "ct", 4, rows=64, columns=64)
    calls = []
    original = scu_direct.store_file

    def counting(*args, **kwargs):
        rsp = original(*args, **kwargs)
        calls.append(rsp is not None)
        return rsp

    monkeypatch.setattr("workstation.net.scu.send.store_file", counting)
    settings = Settings(data_dir=tmp_path / "ws")
    settings.acse_timeout = settings.dimse_timeout = settings.network_timeout = 10.0
    with run_storescp(tmp_path / "dest", extra_args=["--max-pdu", "4096"]) as peer:
        report = send(settings, peer.node(), files)
        assert report.exit_code == 0, report.summary()
        assert calls == [True] * 4  # every instance went the direct way (and in several PDUs: max PDU 4096)
        for path in files:
            original_ds = pydicom.dcmread(path)
            got = pydicom.dcmread(peer.storage / f"CT.{original_ds.SOPInstanceUID}.dcm")
            assert got.PixelData == original_ds.PixelData and got.PatientName == original_ds.PatientName
            assert got.file_meta.TransferSyntaxUID == original_ds.file_meta.TransferSyntaxUID
