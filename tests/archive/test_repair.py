"""Issue 15 item 5: an instance is never archived in a state it cannot be sent in.

A data set lacking its SOPInstanceUID or SOPClassUID (only the file meta has it) is repaired on the way in (copy-mode
import, the Store SCP's archive.store_header) and the repair reported; rejected with a reason in link mode and when
there is nothing to repair from. The proof is dcmtk's: storescu of the stored file to storescp succeeds, where the
file as it came is refused.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from tests.peers import make_ct_series, run_storescp, run_tool, storescu

_TAGS = {"SOPInstanceUID": 0x00080018, "SOPClassUID": 0x00080016}


def _strip(path: Path, *keys: str, meta_too: bool = False) -> Path:
    """Rewrite ``path`` with ``keys`` removed from its data set (and from the file meta with ``meta_too``)."""
    raw = pydicom.dcmread(path)
    for key in keys:
        del raw[_TAGS[key]]
        if meta_too:
            del raw.file_meta["MediaStorage" + key]
    raw.save_as(path, enforce_file_format=False)
    check = pydicom.dcmread(path)
    for key in keys:
        assert _TAGS[key] not in check
    return path


def _uids(path: Path) -> tuple[str, str]:
    ds = pydicom.dcmread(path)
    return str(ds.SOPInstanceUID), str(ds.SOPClassUID)


@pytest.mark.parametrize("missing", ["SOPInstanceUID", "SOPClassUID"])
@pytest.mark.parametrize("processes", [0, 2])
def test_copy_import_repairs_uid_only_in_meta_and_the_file_can_be_sent(archive, tmp_path, missing, processes):
    files = make_ct_series(tmp_path / "in", 3)
    sop, klass = _uids(files[1])
    _strip(files[1], missing)
    with run_storescp(tmp_path / "scp") as peer:
        # The file as it came: dcmtk refuses to send it (the referee this defect was found with).
        as_it_came = run_tool("storescu", ["-aec", peer.ae_title, peer.host, peer.port, files[1]], check=False)
        assert as_it_came.returncode != 0 or not peer.files()
        report = archive.import_paths([tmp_path / "in"], link=False, processes=processes)
        assert (report.imported, report.rejected) == (3, [])
        assert [r["path"] for r in report.repaired] == [str(files[1])]
        assert missing in report.repaired[0]["repair"]
        assert report.to_dict()["repaired"] == report.repaired
        stored = archive.instance_path(sop)
        assert stored is not None and stored.is_relative_to(archive.storage.root)
        assert _uids(stored) == (sop, klass)
        # Same pixels and encoding: only the missing element was added.
        before, after = pydicom.dcmread(files[1]), pydicom.dcmread(stored)
        assert after.PixelData == before.PixelData
        assert after.file_meta.TransferSyntaxUID == before.file_meta.TransferSyntaxUID
        row = archive.query("instance", {"SOPInstanceUID": sop})[0]
        assert row["SOPClassUID"] == klass
        storescu(peer, [stored])
        received = [p for p in peer.files() if _uids(p)[0] == sop]
        assert len(received) == 1
    assert archive.check(full=True).clean


def test_link_import_rejects_a_file_it_may_not_repair(archive, tmp_path):
    files = make_ct_series(tmp_path / "in", 2)
    _strip(files[0], "SOPInstanceUID")
    before = files[0].read_bytes()
    report = archive.import_paths([tmp_path / "in"], link=True, processes=0)
    assert report.imported == 1
    assert [r["path"] for r in report.rejected] == [str(files[0])]
    reason = report.rejected[0]["reason"]
    assert "SOPInstanceUID" in reason and "copy mode" in reason
    assert files[0].read_bytes() == before  # the user's file is never changed in link mode


def test_nothing_to_repair_from_is_rejected_with_a_reason(archive, tmp_path):
    files = make_ct_series(tmp_path / "in", 2)
    _strip(files[0], "SOPClassUID", meta_too=True)
    report = archive.import_paths([tmp_path / "in"], processes=0)
    assert report.imported == 1
    assert [r["path"] for r in report.rejected] == [str(files[0])]
    assert "no SOPClassUID" in report.rejected[0]["reason"]


def test_store_bytes_repairs_what_a_store_scp_received(archive, tmp_path):
    """The Store SCP's way in (store_header via store_bytes): the meta written from the C-STORE command names the
    instance; the data set did not."""
    path = make_ct_series(tmp_path / "in", 1)[0]
    sop, _ = _uids(path)
    _strip(path, "SOPInstanceUID")
    outcome = archive.store_bytes(path.read_bytes(), source="PEER@127.0.0.1")
    assert outcome.status == "stored"
    assert "SOPInstanceUID" in outcome.repaired
    assert _uids(outcome.path)[0] == sop
    assert archive.index.has_instance(sop)
    # The index records the size of the file it has, not of the bytes that came in.
    assert archive.query("instance", {"SOPInstanceUID": sop})[0]["path"] == str(outcome.path)


def test_store_scp_repairs_a_received_data_set_without_its_uid(settings, archive, tmp_path, monkeypatch):
    """Over the network: a C-STORE whose data set lacks SOPInstanceUID (the command names it) is acknowledged,
    stored with the UID written into the data set, and the stored file goes on to dcmtk's storescp."""
    from pynetdicom import AE, _config
    from pynetdicom.sop_class import CTImageStorage

    from tests.peers import loopback_server_settings
    from workstation.net.scp.server import running_server

    path = make_ct_series(tmp_path / "in", 1)[0]
    sop, _ = _uids(path)
    _strip(path, "SOPInstanceUID")
    with running_server(loopback_server_settings(settings), archive) as server:
        ae = AE(ae_title="TESTSCU")
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
        ae.add_requested_context(CTImageStorage, "1.2.840.10008.1.2.1")
        assoc = ae.associate(*server.address, ae_title=server.settings.ae_title)
        assert assoc.is_established
        try:
            # A path sent in chunks: pynetdicom takes the command's UIDs from the file meta and sends the data set
            # bytes as they are (as a modality with this defect would).
            monkeypatch.setattr(_config, "STORE_SEND_CHUNKED_DATASET", True)
            status = assoc.send_c_store(path)
        finally:
            assoc.release()
    assert status.Status == 0x0000
    stored = archive.instance_path(sop)
    assert stored is not None and _uids(stored)[0] == sop
    with run_storescp(tmp_path / "scp") as peer:
        storescu(peer, [stored])
        assert [p for p in peer.files() if _uids(p)[0] == sop]
