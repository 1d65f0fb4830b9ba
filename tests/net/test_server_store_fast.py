"""The fast C-STORE path: the hand-encoded C-STORE-RSP command set is pynetdicom's, byte for byte."""

from __future__ import annotations

import pytest
from pynetdicom.dimse_messages import C_STORE_RSP
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.dsutils import encode
from pynetdicom.sop_class import CTImageStorage

from workstation.net.scp.store import store_response_command


@pytest.mark.parametrize("status,comment", [(0x0000, ""), (0xA700, "out of disk space"),
                                            (0xC000, "cannot be archived: no StudyInstanceUID")])
@pytest.mark.parametrize("sop_uid", ["1.2.3.4", "1.2.3.45"])
def test_store_response_command_matches_pynetdicom(status, comment, sop_uid):
    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = 9
    rsp.AffectedSOPClassUID = CTImageStorage
    rsp.AffectedSOPInstanceUID = sop_uid
    rsp.Status = status
    if comment:
        rsp.ErrorComment = comment
    msg = C_STORE_RSP()
    msg.primitive_to_message(rsp)
    assert store_response_command(CTImageStorage, sop_uid, 9, status, comment) == encode(msg.command_set, True, True)
