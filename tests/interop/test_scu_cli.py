"""The net commands end to end: nodes, echo, find --json, send, retrieve by get, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from tests.peers import (  # noqa: F401 - fixtures
    LOCAL_AE,
    ct_series,
    dcmqrscp,
    free_port,
    make_ct_series,
    orthanc,
    run_storescp,
    storescp,
    storescu,
)
from workstation.cli import main

pytestmark = pytest.mark.interop


@pytest.fixture
def run(tmp_path, capsys):
    def _run(*argv):
        code = main(["--data-dir", str(tmp_path / "ws"), *map(str, argv)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


def test_nodes_add_ls_rm(run):
    assert run("nodes", "add", "pacs", "PACS", "127.0.0.1", 104, "--method", "get")[0] == 0
    code, out, _ = run("nodes", "ls", "--json")
    assert code == 0 and json.loads(out) == [
        {"name": "pacs", "ae_title": "PACS", "host": "127.0.0.1", "port": 104, "method": "get",
         "search_priors": False, "fetch_priors": False}]
    code, out, _ = run("nodes", "ls")
    assert "pacs" in out and "PACS" in out
    code, _, err = run("nodes", "add", "pacs", "PACS", "127.0.0.1", 104)
    assert code == 1 and "already exists" in err and "Traceback" not in err
    assert run("nodes", "rm", "pacs")[0] == 0
    assert json.loads(run("nodes", "ls", "--json")[1]) == []
    code, _, err = run("nodes", "rm", "pacs")
    assert code == 1 and err.strip().startswith("workstation: no node named")


def test_echo_ok_and_failure(run, storescp):
    code, out, _ = run("echo", storescp.address)
    assert code == 0 and "echo OK" in out
    code, out, err = run("echo", f"X@127.0.0.1:{free_port()}")
    assert code == 1 and "echo failed: cannot connect" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("echo", "nosuchnode")
    assert code == 1 and "unknown node 'nosuchnode'" in err


def test_find_json(run, dcmqrscp, ct_series):
    storescu(dcmqrscp, ct_series)
    run("nodes", "add", "qr", dcmqrscp.ae_title, dcmqrscp.host, dcmqrscp.port)
    code, out, _ = run("find", "qr", "--patient-id", "PAT001", "--study-date", "20240101-", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and rows[0]["PatientName"] == "Test^Patient"
    study = rows[0]["StudyInstanceUID"]
    code, out, _ = run("find", "qr", "--level", "series", "--study-uid", study, "--json")
    assert json.loads(out)[0]["Modality"] == "CT"
    code, out, _ = run("find", "qr", "--accession", "ACC001")
    assert code == 0 and study in out


def test_send_files_and_exit_codes(run, storescp, ct_series, tmp_path):
    code, out, err = run("send", storescp.address, *ct_series)
    assert code == 0 and "5 sent of 5" in out
    assert len(storescp.files()) == 5
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"nope")
    code, out, err = run("send", storescp.address, ct_series[0], junk)
    assert code == 2 and "1 failed" in out and "junk.dcm" in err
    code, out, err = run("send", f"X@127.0.0.1:{free_port()}", ct_series[0])
    assert code == 1 and "cannot connect" in err and "Traceback" not in err
    code, _, err = run("send", storescp.address)
    assert code == 1 and "nothing to send" in err


def test_retrieve_refused_is_one_line(run):
    code, _, err = run("retrieve", f"X@127.0.0.1:{free_port()}", "--study", "1.2.3", "--method", "get")
    assert code == 1 and "Traceback" not in err


# --- retrieve into the archive, send from the archive --------------------------------------------------------


def _dataset_bytes(data: bytes) -> bytes:
    """A DICOM file's bytes after the file meta (which each writer fills with its own implementation UIDs)."""
    assert data[128:132] == b"DICM"
    group_length = int.from_bytes(data[140:144], "little")  # (0002,0000) UL, explicit VR: 132 + 8 header bytes
    return data[144 + group_length:]


def _archived(run, level="instance", **filters) -> list[dict]:
    args = ["ls", "--level", level, "--json"]
    for key, value in filters.items():
        args += [f"--{key.replace('_', '-')}", value]
    code, out, err = run(*args)
    assert code == 0, err
    return json.loads(out)


def _check_same_instances(rows: list[dict], originals) -> None:
    """Archived files hold exactly the originals' data sets (byte for byte after the file meta)."""
    by_uid = {}
    for path in originals:
        data = Path(path).read_bytes()
        by_uid[pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID] = _dataset_bytes(data)
    assert {r["SOPInstanceUID"] for r in rows} == set(by_uid)
    for row in rows:
        data = Path(row["path"]).read_bytes()
        assert _dataset_bytes(data) == by_uid[row["SOPInstanceUID"]], row["SOPInstanceUID"]
        ds = pydicom.dcmread(row["path"])
        assert ds.file_meta.MediaStorageSOPInstanceUID == row["SOPInstanceUID"]


def test_retrieve_get_from_orthanc_into_the_archive(run, orthanc, ct_series):
    orthanc.upload(ct_series)
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    assert run("nodes", "add", "orthanc", orthanc.ae_title, orthanc.host, orthanc.port)[0] == 0
    code, out, err = run("retrieve", "orthanc", "--study", study, "--method", "get", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["completed"] == 5 and result["received"] == 5 and result["duplicates"] == 0
    studies = _archived(run, "study")
    assert [s["StudyInstanceUID"] for s in studies] == [study] and studies[0]["NumberOfInstances"] == 5
    _check_same_instances(_archived(run, study_uid=study), ct_series)
    # Again: the node sends them all again, the archive keeps what it has; duplicates are not failures.
    code, out, err = run("retrieve", "orthanc", "--study", study, "--method", "get")
    assert code == 0, err
    assert "5 completed" in out and "5 already in the archive" in out
    assert len(_archived(run, study_uid=study)) == 5


def test_retrieve_get_series_from_dcmqrscp_into_the_archive(run, dcmqrscp, ct_series):
    storescu(dcmqrscp, ct_series)
    series = pydicom.dcmread(ct_series[0], stop_before_pixels=True).SeriesInstanceUID
    assert run("nodes", "add", "qr", dcmqrscp.ae_title, dcmqrscp.host, dcmqrscp.port, "--method", "get")[0] == 0
    code, out, err = run("retrieve", "qr", "--series", series)  # the node's method: get
    assert code == 0, err
    assert "5 completed" in out
    rows = _archived(run, series_uid=series)
    _check_same_instances(rows, dcmqrscp.files())  # identical to what the peer holds
    _check_same_instances(rows, ct_series)
    code, out, err = run("retrieve", "qr", "--series", series, "--json")
    assert code == 0 and json.loads(out)["duplicates"] == 5
    # The series within its study, as a script that knows both passes them (no lookup needed).
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    code, out, err = run("retrieve", "qr", "--study", study, "--series", series, "--json")
    assert code == 0 and json.loads(out)["level"] == "series" and json.loads(out)["duplicates"] == 5, err


def test_retrieve_one_instance_by_its_uid_from_dcmqrscp(run, dcmqrscp, ct_series):
    # Only the SOP Instance UID: dcmqrscp is hierarchical, so its study and series are looked up first.
    storescu(dcmqrscp, ct_series)
    wanted = pydicom.dcmread(ct_series[2], stop_before_pixels=True)
    assert run("nodes", "add", "qr", dcmqrscp.ae_title, dcmqrscp.host, dcmqrscp.port, "--method", "get")[0] == 0
    code, out, err = run("retrieve", "qr", "--instance", wanted.SOPInstanceUID, "--json")
    assert code == 0, err
    assert json.loads(out)["level"] == "image" and json.loads(out)["received"] == 1
    rows = _archived(run, study_uid=wanted.StudyInstanceUID)
    assert [r["SOPInstanceUID"] for r in rows] == [wanted.SOPInstanceUID]


def test_retrieve_needs_a_study_or_a_series(run):
    code, _, err = run("retrieve", f"X@127.0.0.1:{free_port()}")
    assert code == 1 and "--study" in err and "Traceback" not in err


def test_retrieve_move_from_orthanc_runs_the_store_scp(run, orthanc, ct_series):
    orthanc.upload(ct_series)
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    # Orthanc knows LOCAL_AE at orthanc.workstation_port (tests.peers); we are that AE on that port.
    assert run("config", "set", "ae_title", LOCAL_AE)[0] == 0
    assert run("config", "set", "port", orthanc.workstation_port)[0] == 0
    assert run("config", "set", "bind", "127.0.0.1")[0] == 0
    assert run("nodes", "add", "orthanc", orthanc.ae_title, orthanc.host, orthanc.port)[0] == 0
    code, out, err = run("retrieve", "orthanc", "--study", study, "--json")  # the node's method: move
    assert code == 0, err
    assert "starting the Store SCP" in err
    result = json.loads(out)
    assert result["method"] == "move" and result["completed"] == 5 and result["received"] == 5
    _check_same_instances(_archived(run, study_uid=study), ct_series)
    code, out, err = run("retrieve", "orthanc", "--study", study, "--method", "move")
    assert code == 0 and "5 already in the archive" in out, out + err
    # Nothing left listening afterwards.
    from tests.peers import _listening

    assert not _listening("127.0.0.1", orthanc.workstation_port)


def test_retrieve_move_when_the_port_is_taken(run, orthanc, ct_series):
    orthanc.upload(ct_series)
    study = pydicom.dcmread(ct_series[0], stop_before_pixels=True).StudyInstanceUID
    run("config", "set", "port", orthanc.workstation_port)
    with run_storescp(orthanc.storage.parent / "other", ae_title=LOCAL_AE, port=orthanc.workstation_port) as other:
        # Someone listens already (here a storescp standing in for `workstation serve`): we use it.
        code, out, err = run("retrieve", orthanc.address, "--study", study, "--method", "move")
        assert code == 0, err
        assert "starting the Store SCP" not in err and len(other.files()) == 5


def _import(run, paths) -> None:
    code, _, err = run("import", *paths)
    assert code == 0, err


def test_send_study_series_patient_from_the_archive_to_storescp(run, storescp, ct_series, tmp_path):
    other = make_ct_series(tmp_path / "other", 2, rows=16, columns=16, patient_id="PAT002")
    _import(run, [*ct_series, *other])
    ds = pydicom.dcmread(ct_series[0], stop_before_pixels=True)
    code, out, err = run("send", storescp.address, "--study", ds.StudyInstanceUID, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["sent"] == 5 and [r["outcome"] for r in report["results"]] == ["sent"] * 5
    assert all(r["status"] == 0 and r["sop_instance_uid"] for r in report["results"])
    assert {p.name for p in storescp.files()} == {f"CT.{r['sop_instance_uid']}.dcm" for r in report["results"]}
    held = {r["SOPInstanceUID"]: r["path"] for r in _archived(run)}
    for f in storescp.files():  # what the peer got is what we hold
        assert _dataset_bytes(f.read_bytes()) == _dataset_bytes(Path(held[f.name[3:-4]]).read_bytes())
    code, out, _ = run("send", storescp.address, "--series", ds.SeriesInstanceUID)
    assert code == 0 and "5 sent of 5" in out
    code, out, _ = run("send", storescp.address, "--patient", "PAT002")
    assert code == 0 and "2 sent of 2" in out
    assert len(storescp.files()) == 7
    code, _, err = run("send", storescp.address, "--study", "1.2.3.4")
    assert code == 1 and "has no instances of study 1.2.3.4" in err


def test_send_from_the_archive_exit_codes(run, storescp, ct_series):
    _import(run, ct_series)
    rows = _archived(run)
    # A file gone behind the archive's back: that instance fails, the rest go -> 2.
    import os

    os.unlink(rows[0]["path"])
    code, out, err = run("send", storescp.address, "--patient", "PAT001", "--json")
    assert code == 2, err
    report = json.loads(out)
    assert report["sent"] == 4 and report["failed"] == 1
    failed = [r for r in report["results"] if r["outcome"] == "failed"]
    assert failed[0]["path"] == rows[0]["path"] and "not a readable DICOM file" in failed[0]["message"]
    code, out, err = run("send", f"X@127.0.0.1:{free_port()}", "--patient", "PAT001")
    assert code == 1 and "cannot connect" in err and "Traceback" not in err


def test_send_series_from_the_archive_to_orthanc(run, orthanc, ct_series):
    _import(run, ct_series)
    series = pydicom.dcmread(ct_series[0], stop_before_pixels=True).SeriesInstanceUID
    run("nodes", "add", "orthanc", orthanc.ae_title, orthanc.host, orthanc.port)
    code, out, err = run("send", "orthanc", "--series", series)
    assert code == 0 and "5 sent of 5" in out, err
    assert orthanc.instance_count() == 5
    uids = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in ct_series}
    found = orthanc.http("POST", "/tools/find", json.dumps(
        {"Level": "Instance", "Query": {"SeriesInstanceUID": series}, "Expand": True}).encode())
    assert {i["MainDicomTags"]["SOPInstanceUID"] for i in found} == uids
