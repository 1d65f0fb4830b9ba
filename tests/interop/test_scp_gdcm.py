"""Our DicomServer against GDCM's gdcmscu: echo, store (uncompressed and compressed), find at every level (wildcards,
date ranges), move to gdcmscu itself. gdcmscu has no C-GET, and aborts after every release (see peers_extra)."""

from __future__ import annotations

import time

import pydicom
import pytest

from tests.data import test_file
from tests.interop.peers_extra import gdcm_find, gdcmscu, require_gdcmscu
from tests.peers import free_port, loopback_server_settings, make_ct_series
from workstation.config import Node
from workstation.net.scp.server import running_server

pytestmark = pytest.mark.interop

AET = "WORKSTATION"
CALLING = "GDCMSCU"


@pytest.fixture
def server_settings(settings):
    return loopback_server_settings(settings, timeout=10.0, nodes=[Node("gdcm", CALLING, "127.0.0.1", free_port())])


@pytest.fixture
def server(server_settings, archive):
    require_gdcmscu()
    events = []
    with running_server(server_settings, archive, on_event=events.append) as srv:
        srv.events = events
        yield srv


def _closed(server, timeout: float = 5.0) -> list[str]:
    """How each association ended, once all have ended (the events come from the server's threads)."""
    deadline = time.monotonic() + timeout
    while True:
        opened = [e for e in server.events if e.kind == "association-opened"]
        closed = [e.detail for e in server.events if e.kind == "association-closed"]
        if len(closed) >= len(opened) or time.monotonic() > deadline:
            return closed
        time.sleep(0.05)


def test_echo(server):
    gdcmscu(["--echo"], CALLING, server.address[1])
    assert _closed(server) == ["released"]


def test_store_series_and_compressed_syntaxes_are_kept(server, archive, tmp_path):
    files = make_ct_series(tmp_path / "ct", 3)
    gdcmscu(["--store", "-r", "-i", tmp_path / "ct"], CALLING, server.address[1])
    compressed = [test_file("JPEG2000.dcm"), test_file("MR_small_RLE.dcm")]
    for path in compressed:
        gdcmscu(["--store", "-i", path], CALLING, server.address[1])
    for path in [*files, *compressed]:
        original = pydicom.dcmread(path)
        (row,) = archive.query("instance", {"SOPInstanceUID": original.SOPInstanceUID})
        assert row["TransferSyntaxUID"] == original.file_meta.TransferSyntaxUID
        assert pydicom.dcmread(row["path"]).PixelData == original.PixelData
    assert set(_closed(server)) == {"released"}


@pytest.fixture
def populated(server, archive, tmp_path):
    files = make_ct_series(tmp_path / "a", 3, patient_id="PA", patient_name="Alpha^Ann", study_date="20240105")
    files += make_ct_series(tmp_path / "b", 2, patient_id="PB", patient_name="Beta^Bob", study_date="20230610",
                            accession="ACC2")
    assert archive.import_paths(files).imported == 5
    return files


def test_find_each_level_with_wildcards_and_date_ranges(server, populated):
    """Regression: our C-FIND responses put the command and the identifier in one PDU, and gdcmscu then took our
    final response for the identifier of the pending one and waited for the end until our network timeout."""
    port = server.address[1]
    start = time.monotonic()
    assert gdcm_find("patientroot", "patient", {"10,10": "*", "10,20": ""}, CALLING, port) == (2, [0])
    assert gdcm_find("patientroot", "patient", {"10,10": "al*", "10,20": ""}, CALLING, port) == (1, [0])
    assert gdcm_find("studyroot", "study", {"8,20": "20240101-20241231", "20,d": ""}, CALLING, port) == (1, [0])
    assert gdcm_find("studyroot", "study", {"8,20": "-20200101", "20,d": ""}, CALLING, port) == (0, [0])
    study = pydicom.dcmread(populated[0], stop_before_pixels=True)
    assert gdcm_find("studyroot", "series", {"20,d": study.StudyInstanceUID, "8,60": "C?", "20,e": ""},
                     CALLING, port) == (1, [0])
    assert gdcm_find("studyroot", "image", {"20,d": study.StudyInstanceUID, "20,e": study.SeriesInstanceUID,
                                            "8,18": "", "20,13": ""}, CALLING, port) == (3, [0])
    assert time.monotonic() - start < 10
    assert set(_closed(server)) == {"released"}
    details = [e.detail for e in server.events if e.kind == "query"]
    assert details == ["PATIENT 2 matches", "PATIENT 1 matches", "STUDY 1 matches", "STUDY 0 matches",
                       "SERIES 1 matches", "IMAGE 3 matches"]


def test_move_to_gdcmscu(server, server_settings, populated, tmp_path):
    """gdcmscu listens on --port-scp for the sub-association: the destination is gdcmscu itself."""
    study = pydicom.dcmread(populated[3], stop_before_pixels=True).StudyInstanceUID
    out = tmp_path / "moved"
    out.mkdir()
    gdcmscu(["--move", "--studyroot", "--study", "--port-scp", server_settings.nodes[0].port, "-o", out,
             "--key", f"20,d={study}"], CALLING, server.address[1])
    got = sorted(pydicom.dcmread(p).SOPInstanceUID for p in out.iterdir())
    assert got == sorted(pydicom.dcmread(p).SOPInstanceUID for p in populated[3:])


def test_gdcmscu_has_no_c_get(server):
    """Limitation of gdcmscu 3.0: --get is listed but the CLI exits 1 without opening an association. When a GDCM
    release implements it, this fails and a C-GET test belongs here."""
    proc = gdcmscu(["--get", "--studyroot", "--study", "-o", "/nonexistent", "--key", "20,d=1.2.3"], CALLING,
                   server.address[1])
    assert proc.returncode == 1
    assert not [e for e in server.events if e.kind.startswith("association")]
