"""Issue 15 (1-3): an instance goes out in any syntax the peer accepted that we can convert it to.

One study holds an Explicit VR Little Endian CT, an instance of a private SOP class (Siemens CSA Non-Image, in
dcmtk's storage list) and an Explicit VR Big Endian MR. Peers that accept Implicit VR Little Endian only
(dcmtk's ``+xi``; storescp with ``-pm`` so that it takes the private class at all) receive all three by C-MOVE
(our SCP's sub-association) and ``workstation send``, and the CT and MR by C-GET (``getscu +xi``, which never
proposes private classes); the received files carry the originals' data sets (values and pixels, not bytes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from tests.data import test_file
from tests.peers import free_port, make_ct_series, require_tool, run_storescp, run_tool
from workstation.config import Node
from workstation.net.scp.server import DicomServer

pytestmark = pytest.mark.interop

AET = "WORKSTATION"
PRIVATE_CLASS = "1.3.12.2.1107.5.9.1"  # Siemens CSA Non-Image Storage: private, yet known to dcmtk


def _study(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    ct = make_ct_series(folder / "ct", 1, rows=32, columns=32)[0]
    study = pydicom.dcmread(ct).StudyInstanceUID
    patient = pydicom.dcmread(ct).PatientID

    mr = pydicom.dcmread(test_file("MR_small_bigendian.dcm"))
    assert mr.file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    mr.StudyInstanceUID, mr.PatientID = study, patient
    mr_path = folder / "mr_be.dcm"
    mr.save_as(mr_path)  # keeps Explicit VR Big Endian

    private = Dataset()
    private.file_meta = FileMetaDataset()
    private.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    private.file_meta.MediaStorageSOPClassUID = PRIVATE_CLASS
    private.SOPClassUID = PRIVATE_CLASS
    private.SOPInstanceUID = private.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    private.StudyInstanceUID, private.PatientID = study, patient
    private.SeriesInstanceUID = generate_uid()
    private.PatientName = "Private^Class"
    private.Modality = "OT"
    private.SeriesNumber = 99
    private.InstanceNumber = 1
    private.ImageComments = "private SOP class, explicit VR little endian"
    private_path = folder / "private.dcm"
    private.save_as(private_path, enforce_file_format=True)
    return [ct, private_path, mr_path]


def _assert_same_data_sets(received: list[Path], originals: list[Path], syntax: str | None) -> None:
    by_uid = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in originals}
    got = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in received}
    assert sorted(got) == sorted(by_uid)
    for uid, original in by_uid.items():
        copy = got[uid]
        assert syntax is None or copy.file_meta.TransferSyntaxUID == syntax
        for elem in original:
            if elem.tag == 0x7FE00010:
                assert np.array_equal(copy.pixel_array, original.pixel_array), uid
            elif not elem.tag.is_private:
                assert copy[elem.tag].value == elem.value, (uid, elem.keyword)


@pytest.fixture
def study(tmp_path) -> list[Path]:
    return _study(tmp_path / "study")


@pytest.fixture
def served(settings, archive, study):
    """Our server holding the study, GETSCU/MOVESCU known."""
    require_tool("getscu")
    settings.port = free_port()
    settings.acse_timeout = settings.dimse_timeout = settings.network_timeout = 10.0
    settings.nodes = [Node(aet.lower(), aet, "127.0.0.1", free_port()) for aet in ("GETSCU", "MOVESCU")]
    report = archive.import_paths(study)
    assert report.imported == 3
    srv = DicomServer(settings, archive)
    srv.start()
    yield srv
    srv.stop()


def test_move_to_an_implicit_only_destination_sends_every_instance(served, settings, study, tmp_path):
    with run_storescp(tmp_path / "dest", extra_args=["+xi", "-pm"]) as dest:
        settings.nodes.append(dest.node("dest"))
        uid = pydicom.dcmread(study[0]).StudyInstanceUID
        proc = run_tool("movescu", ["-aet", "MOVESCU", "-aec", AET, "-aem", dest.ae_title, "-S",
                                    "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={uid}",
                                    "127.0.0.1", served.address[1]], check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Warning" not in proc.stdout + proc.stderr and "Failed" not in proc.stdout + proc.stderr
        _assert_same_data_sets(dest.files(), study, ImplicitVRLittleEndian)


def test_getscu_implicit_only_receives_every_instance(served, study, tmp_path):
    # getscu proposes dcmtk's fixed list of storage classes, without private ones: only the CT and the big
    # endian MR can be asked for (one series each; a study-level request would count the private one failed).
    out = tmp_path / "get"
    out.mkdir()
    wanted = [study[0], study[2]]
    for path in wanted:
        ds = pydicom.dcmread(path)
        proc = run_tool("getscu", ["-aet", "GETSCU", "-aec", AET, "-S", "+xi", "-od", out,
                                   "-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={ds.StudyInstanceUID}",
                                   "-k", f"SeriesInstanceUID={ds.SeriesInstanceUID}",
                                   "127.0.0.1", served.address[1]], check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Warning" not in proc.stdout + proc.stderr and "Failed" not in proc.stdout + proc.stderr
    # getscu writes its files in a syntax of its own choice: only the values count here.
    _assert_same_data_sets(sorted(out.iterdir()), wanted, None)


def test_workstation_send_to_an_implicit_only_scp(study, tmp_path):
    repo = Path(__file__).resolve().parents[2]
    with run_storescp(tmp_path / "dest", extra_args=["+xi", "-pm"]) as dest:
        proc = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(tmp_path / "ws"), "send",
                               dest.address, *map(str, study)], capture_output=True, text=True, timeout=120,
                              cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        _assert_same_data_sets(dest.files(), study, ImplicitVRLittleEndian)
