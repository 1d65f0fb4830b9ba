"""Our DicomServer against the real dcmtk SCUs: echoscu, storescu (incl. compressed syntaxes), findscu, getscu,
movescu (to a dcmtk storescp registered as a node), and concurrent senders."""

from __future__ import annotations

import threading
from pathlib import Path

import pydicom
import pytest

from tests.data import test_file
from tests.peers import free_port, make_ct_series, require_tool, run_storescp, run_tool
from workstation.config import Node
from workstation.net.scp.server import DicomServer

pytestmark = pytest.mark.interop

AET = "WORKSTATION"


@pytest.fixture
def server_settings(settings):
    settings.port = free_port()
    settings.acse_timeout = settings.dimse_timeout = settings.network_timeout = 10.0
    settings.nodes = [Node(aet.lower(), aet, "127.0.0.1", free_port()) for aet in ("FINDSCU", "GETSCU", "MOVESCU")]
    return settings


@pytest.fixture
def server(server_settings, archive):
    require_tool("storescu")
    srv = DicomServer(server_settings, archive)
    srv.start()
    yield srv
    srv.stop()


def storescu(server: DicomServer, files, *options: str, aet: str = "STORESCU"):
    return run_tool("storescu", ["-aet", aet, "-aec", AET, *options, "127.0.0.1", server.address[1],
                                 *map(str, files)])


def extracted(folder: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted(folder.glob("rsp*.dcm"))]


def findscu(server, tmp_path: Path, level: str, keys: dict[str, str], model: str = "-S") -> list[pydicom.Dataset]:
    out = tmp_path / f"find-{level}-{len(list(tmp_path.glob('find-*')))}"
    out.mkdir()
    args = ["-aet", "FINDSCU", "-aec", AET, model, "-X", "-od", out, "-k", f"QueryRetrieveLevel={level}"]
    for k, v in keys.items():
        args += ["-k", f"{k}={v}"]
    run_tool("findscu", [*args, "127.0.0.1", server.address[1]])
    return extracted(out)


def test_echoscu(server):
    proc = run_tool("echoscu", ["-aet", "ANYONE", "-aec", AET, "127.0.0.1", server.address[1]])
    assert proc.returncode == 0


def test_storescu_series_arrives_untouched(server, archive, tmp_path):
    files = make_ct_series(tmp_path / "ct", 5)
    storescu(server, files)
    assert len(archive.query("instance")) == 5
    for f in files:
        original = pydicom.dcmread(f)
        stored = pydicom.dcmread(archive.instance_path(original.SOPInstanceUID))
        assert stored.PixelData == original.PixelData
        assert stored.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID


@pytest.mark.parametrize(
    "name, option",
    [
        ("JPEG-LL.dcm", "-xs"),
        ("MR_small_RLE.dcm", "-xr"),
        ("MR_small_jp2klossless.dcm", "-xv"),
        ("JPEG2000.dcm", "-xw"),
        ("MR_small_jpeg_ls_lossless.dcm", "-xt"),
        ("SC_rgb_jpeg_dcmtk.dcm", "-xy"),
        ("image_dfl.dcm", "-xd"),
        ("MR_small_bigendian.dcm", "-xb"),
    ],
)
def test_storescu_compressed_syntaxes_are_kept(server, archive, name, option):
    path = test_file(name)
    original = pydicom.dcmread(path)
    storescu(server, [path], option)
    rows = archive.query("instance", {"SOPInstanceUID": original.SOPInstanceUID})
    assert len(rows) == 1
    assert rows[0]["TransferSyntaxUID"] == original.file_meta.TransferSyntaxUID
    stored = pydicom.dcmread(rows[0]["path"])
    assert stored.PixelData == original.PixelData  # no decode/re-encode on the way in


def test_transfer_syntax_setting_limits_what_we_accept(server_settings, archive):
    from pynetdicom import AE, build_context
    from pynetdicom.sop_class import MRImageStorage

    server_settings.accepted_transfer_syntaxes = ["1.2.840.10008.1.2.1"]
    with DicomServer(server_settings, archive) as srv:
        ae = AE("TSCHECK")
        assoc = ae.associate(*srv.address, contexts=[build_context(MRImageStorage, "1.2.840.10008.1.2.5"),
                                                     build_context(MRImageStorage, "1.2.840.10008.1.2.1")],
                             ae_title=AET)
        accepted = [cx.transfer_syntax[0] for cx in assoc.accepted_contexts]
        assoc.release()
        assert accepted == ["1.2.840.10008.1.2.1"]
        storescu(srv, [test_file("MR_small.dcm")])
    (row,) = archive.query("instance")
    assert row["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"


@pytest.fixture
def populated(server, tmp_path):
    files = make_ct_series(tmp_path / "a", 3, patient_id="PA", patient_name="Alpha^Ann", study_date="20240105")
    files += make_ct_series(tmp_path / "b", 2, patient_id="PB", patient_name="Beta^Bob", study_date="20230610",
                            accession="ACC2")
    storescu(server, files)
    return files


def test_findscu_each_level_wildcards_and_ranges(server, populated, tmp_path):
    patients = findscu(server, tmp_path, "PATIENT", {"PatientName": "*", "PatientID": ""}, model="-P")
    assert sorted(p.PatientID for p in patients) == ["PA", "PB"]
    studies = findscu(server, tmp_path, "STUDY", {"PatientName": "B*", "StudyInstanceUID": "",
                                                  "NumberOfStudyRelatedInstances": ""})
    assert [(s.PatientName, int(s.NumberOfStudyRelatedInstances)) for s in studies] == [("Beta^Bob", 2)]
    studies = findscu(server, tmp_path, "STUDY", {"StudyDate": "20240101-20241231", "StudyInstanceUID": ""})
    assert len(studies) == 1
    study_uid = studies[0].StudyInstanceUID
    assert set(e.keyword for e in studies[0]) == {"QueryRetrieveLevel", "StudyDate", "StudyInstanceUID"}
    series = findscu(server, tmp_path, "SERIES", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": "",
                                                  "Modality": "C?"})
    assert len(series) == 1 and series[0].Modality == "CT"
    images = findscu(server, tmp_path, "IMAGE", {"StudyInstanceUID": study_uid,
                                                 "SeriesInstanceUID": series[0].SeriesInstanceUID,
                                                 "SOPInstanceUID": "", "InstanceNumber": ""})
    assert sorted(int(i.InstanceNumber) for i in images) == [1, 2, 3]
    none = findscu(server, tmp_path, "STUDY", {"StudyDate": "-20200101", "StudyInstanceUID": ""})
    assert none == []


def test_getscu_retrieves_a_study(server, populated, tmp_path):
    study_uid = pydicom.dcmread(populated[0]).StudyInstanceUID
    out = tmp_path / "got"
    out.mkdir()
    run_tool("getscu", ["-aet", "GETSCU", "-aec", AET, "-S", "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                        "-k", f"StudyInstanceUID={study_uid}", "127.0.0.1", server.address[1]])
    got = sorted(pydicom.dcmread(p).SOPInstanceUID for p in out.iterdir())
    want = sorted(pydicom.dcmread(p).SOPInstanceUID for p in populated[:3])
    assert got == want


def test_movescu_to_a_storescp_node(server, server_settings, populated, tmp_path):
    study_uid = pydicom.dcmread(populated[3]).StudyInstanceUID
    with run_storescp(tmp_path / "dest") as dest:
        server_settings.nodes.append(dest.node("dest"))
        proc = run_tool("movescu", ["-aet", "MOVESCU", "-aec", AET, "-aem", dest.ae_title, "-S",
                                    "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
                                    "127.0.0.1", server.address[1]])
        assert proc.returncode == 0
        assert len(dest.files()) == 2


def test_movescu_unknown_destination_fails_with_a801(server, populated):
    study_uid = pydicom.dcmread(populated[0]).StudyInstanceUID
    proc = run_tool("movescu", ["-aet", "MOVESCU", "-aec", AET, "-aem", "NOWHERE", "-S",
                                "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
                                "127.0.0.1", server.address[1]], check=False)
    assert proc.returncode != 0
    assert "MoveDestinationUnknown" in proc.stdout + proc.stderr  # dcmtk's name for 0xA801


def test_findscu_from_unknown_ae_is_refused(server, populated, tmp_path):
    proc = run_tool("findscu", ["-aet", "STRANGER", "-aec", AET, "-S", "-k", "QueryRetrieveLevel=STUDY",
                                "127.0.0.1", server.address[1]], check=False)
    assert proc.returncode != 0
    assert "rejected" in (proc.stdout + proc.stderr).lower() or "calling ae" in (proc.stdout + proc.stderr).lower()


def test_eight_simultaneous_senders(server, archive, tmp_path):
    batches = [make_ct_series(tmp_path / f"s{i}", 6, patient_id=f"P{i}") for i in range(8)]
    errors: list[BaseException] = []

    def send(files, i):
        try:
            storescu(server, files, aet=f"SENDER{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(b, i)) for i, b in enumerate(batches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(archive.query("instance")) == 48
    assert len(archive.query("patient")) == 8


@pytest.fixture
def compressed(server, archive):
    """Compressed instances in the archive: JPEG 2000, JPEG lossless, RLE."""
    names = ["JPEG2000.dcm", "JPEG-LL.dcm", "MR_small_RLE.dcm"]
    report = archive.import_paths([test_file(n) for n in names])
    assert report.imported == 3
    return {n: pydicom.dcmread(test_file(n)) for n in names}


def _assert_decompressed_copies(received: list[Path], originals: dict[str, pydicom.Dataset]) -> None:
    by_uid = {ds.SOPInstanceUID: ds for ds in originals.values()}
    assert len(received) == len(by_uid)
    for path in received:
        got = pydicom.dcmread(path)
        original = by_uid[got.SOPInstanceUID]
        assert not got.file_meta.TransferSyntaxUID.is_compressed
        assert (got.pixel_array == original.pixel_array).all()  # lossless syntaxes: the same pixels


def test_movescu_to_a_node_that_refuses_compressed_syntaxes_gets_them_decompressed(
        server, server_settings, compressed, tmp_path):
    """dcmtk's storescp accepts only uncompressed syntaxes by default: each instance is decompressed for it."""
    with run_storescp(tmp_path / "dest") as dest:
        server_settings.nodes.append(dest.node("dest"))
        for ds in compressed.values():
            proc = run_tool("movescu", ["-aet", "MOVESCU", "-aec", AET, "-aem", dest.ae_title, "-S",
                                        "-k", "QueryRetrieveLevel=STUDY",
                                        "-k", f"StudyInstanceUID={ds.StudyInstanceUID}",
                                        "127.0.0.1", server.address[1]])
            assert proc.returncode == 0
        _assert_decompressed_copies(dest.files(), compressed)


def test_movescu_to_a_node_that_accepts_compressed_syntaxes_gets_them_as_stored(
        server, server_settings, compressed, tmp_path):
    with run_storescp(tmp_path / "dest", extra_args=["+xa"]) as dest:
        server_settings.nodes.append(dest.node("dest"))
        for ds in compressed.values():
            run_tool("movescu", ["-aet", "MOVESCU", "-aec", AET, "-aem", dest.ae_title, "-S",
                                 "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={ds.StudyInstanceUID}",
                                 "127.0.0.1", server.address[1]])
        got = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in dest.files()}
        assert len(got) == 3
        for ds in compressed.values():
            assert got[ds.SOPInstanceUID].file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
            assert got[ds.SOPInstanceUID].PixelData == ds.PixelData


def test_getscu_proposing_only_uncompressed_syntaxes_gets_them_decompressed(server, compressed, tmp_path):
    out = tmp_path / "get"
    out.mkdir()
    for ds in compressed.values():
        # getscu proposes uncompressed storage syntaxes unless told otherwise.
        run_tool("getscu", ["-aet", "GETSCU", "-aec", AET, "-S", "-od", out, "-k", "QueryRetrieveLevel=STUDY",
                            "-k", f"StudyInstanceUID={ds.StudyInstanceUID}", "127.0.0.1", server.address[1]])
    _assert_decompressed_copies(sorted(out.iterdir()), compressed)
