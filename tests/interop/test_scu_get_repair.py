"""C-GET of an instance whose data set lacks its SOP Instance UID or SOP Class UID (only the file meta has it): dcmtk's dcmqrscp
serves such a file as it lies in its storage, and our ingest repairs it as the Store SCP and copy import do, so the
archived copy can be sent on; the retrieve's result names the repair."""

from __future__ import annotations

import pydicom
import pytest

from tests.peers import LOCAL_AE, make_ct_series, run_dcmqrscp
from workstation.archive import Archive
from workstation.config import Settings
from workstation.net.scu.retrieve import retrieve

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("missing", ["SOPInstanceUID", "SOPClassUID"])
@pytest.mark.parametrize("write_behind", [True, False])
def test_a_retrieved_instance_missing_its_uid_is_repaired(tmp_path, monkeypatch, write_behind, missing):
    from workstation.net.scu import ingest as scu_ingest

    if not write_behind:  # the ingest's direct path (one thread) as well as the write-behind threads
        real = scu_ingest.ArchiveIngest.__init__
        monkeypatch.setattr(scu_ingest.ArchiveIngest, "__init__",
                            lambda self, *a, **k: real(self, *a, **{**k, "write_behind": False}))
    paths = make_ct_series(tmp_path / "ct", 3, rows=16, columns=16)
    target = str(pydicom.dcmread(paths[1]).SOPInstanceUID)
    study = str(pydicom.dcmread(paths[1]).StudyInstanceUID)
    with run_dcmqrscp(tmp_path / "qr", seed=paths) as peer:
        stripped = 0
        for f in peer.storage.rglob("*.dcm"):
            ds = pydicom.dcmread(f)
            if ds.SOPInstanceUID == target:  # what a faulty modality left in the PACS
                delattr(ds, missing)
                ds.save_as(f, enforce_file_format=False)
                stripped += 1
        assert stripped == 1
        settings = Settings(data_dir=tmp_path / "d", path=tmp_path / "d" / "settings.toml", bind="127.0.0.1",
                            ae_title=LOCAL_AE)
        archive = Archive.open(settings)
        try:
            result = retrieve(settings, peer.node("qr", method="get"), study_uid=study, archive=archive,
                              source="qr")
            assert result.ok and result.received == 3, result.summary()
            assert len(result.repaired) == 1 and target in result.repaired[0] and missing in result.repaired[0]
            assert "1 repaired" in result.summary()
            rows = archive.query("instance", {"SOPInstanceUID": target})
            assert rows, "the instance is indexed"
            stored = pydicom.dcmread(rows[0]["path"])
            assert stored.SOPInstanceUID == target == stored.file_meta.MediaStorageSOPInstanceUID
            assert stored.SOPClassUID == stored.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
            assert not archive.check(full=True).files_unreadable
        finally:
            archive.close()
