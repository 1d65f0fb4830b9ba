"""Priors: listed from the archive and from real Orthanc nodes (one holding priors, one down), ranked, fetched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.peers import LOCAL_AE, free_port, loopback_server_settings, run_orthanc
from workstation.archive import Archive
from workstation.config import Node, Settings
from workstation.reading.priors import (
    LOCAL, Prior, PriorsError, list_priors, local_priors, prior_nodes, relevant_priors,
)

KINDS = [  # (modality, SOP class, description, body part)
    ("CT", "1.2.840.10008.5.1.4.1.1.2", "CT Chest with contrast", "CHEST"),
    ("CT", "1.2.840.10008.5.1.4.1.1.2", "CT Head", "HEAD"),
    ("MR", "1.2.840.10008.5.1.4.1.1.4", "MR Brain", "BRAIN"),
    ("CR", "1.2.840.10008.5.1.4.1.1.1", "Chest PA", "CHEST"),
]
DATES = ("20220310", "20230412", "20240515")


def write_study(folder: Path, patient_id: str, name: str, date: str, kind: int, *, issuer: str = "",
                instances: int = 2, study_uid: str | None = None) -> tuple[str, list[Path]]:
    modality, sop_class, description, body_part = KINDS[kind]
    study_uid = study_uid or generate_uid()
    series_uid = generate_uid()
    paths = []
    for i in range(instances):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID = sop_class
        ds.PatientID, ds.PatientName, ds.PatientBirthDate, ds.PatientSex = patient_id, name, "19600101", "F"
        if issuer:
            ds.IssuerOfPatientID = issuer
        ds.StudyInstanceUID, ds.StudyDate, ds.StudyTime = study_uid, date, "101500"
        ds.StudyDescription, ds.AccessionNumber, ds.StudyID = description, f"A{date}{kind}", "1"
        ds.ReferringPhysicianName = ""
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.Modality = series_uid, 1, modality
        ds.BodyPartExamined = body_part
        ds.InstanceNumber = i + 1
        ds.Rows = ds.Columns = 8
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = np.full((8, 8), i, np.uint16).tobytes()
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        folder.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return study_uid, paths


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """20 patients x 3 study dates, modalities rotating; the newest study and some priors local, others on Orthanc.

    Patient 0's remote studies carry another name (shown, not hidden); patient 1 has a study under the same ID on
    the node with another issuer (another patient: left out); P1 and P10..P19 test that IDs match exactly.
    """
    root = tmp_path_factory.mktemp("cohort")
    local, remote = root / "local", root / "remote"
    truth: dict[str, dict] = {}
    for p in range(20):
        pid = f"P{p}"
        name = f"Patient^{p}"
        studies = {}
        for d, date in enumerate(DATES):
            kind = (p + d) % len(KINDS) if d < 2 else p % len(KINDS)  # the newest shares the oldest's kind
            uid, paths = write_study(root / "all" / pid / date, pid, name, date, kind)
            studies[date] = (uid, kind, paths)
        truth[pid] = studies
        # newest: local (the current study); oldest: local for even patients, remote for all; middle: remote.
        for path in studies[DATES[2]][2]:
            (local / path.name).parent.mkdir(parents=True, exist_ok=True)
            (local / path.name).write_bytes(path.read_bytes())
        if p % 2 == 0:
            for path in studies[DATES[0]][2]:
                (local / path.name).write_bytes(path.read_bytes())
        for date in DATES[:2]:
            for path in studies[date][2]:
                (remote / path.name).parent.mkdir(parents=True, exist_ok=True)
                (remote / path.name).write_bytes(path.read_bytes())
    # Patient 0's middle study, as the node has it, under a misspelt name; patient 1 on the node under another issuer.
    for path in truth["P0"][DATES[1]][2]:
        (remote / path.name).unlink()
    mismatch_uid, _ = write_study(remote, "P0", "Patiant^0", DATES[1], 1, study_uid=truth["P0"][DATES[1]][0])
    other_issuer_uid, _ = write_study(remote, "P1", "Patient^1", "20210101", 0, issuer="OTHER-HOSPITAL")
    return {"root": root, "local": local, "remote": remote, "truth": truth, "other_issuer": other_issuer_uid}


@pytest.fixture(scope="module")
def orthanc_node(cohort, tmp_path_factory):
    with run_orthanc(tmp_path_factory.mktemp("orthanc")) as peer:
        peer.upload(sorted(cohort["remote"].iterdir()))
        yield peer


@pytest.fixture
def reading_archive(tmp_path, cohort, orthanc_node):
    settings = loopback_server_settings(
        Settings(data_dir=tmp_path / "a", path=tmp_path / "a" / "settings.toml", bind="127.0.0.1"))
    settings.port, settings.ae_title = orthanc_node.workstation_port, LOCAL_AE
    node = orthanc_node.node("pacs", method="get")
    node.search_priors = True
    down = Node(name="down", ae_title="NOBODY", host="127.0.0.1", port=free_port(), search_priors=True)
    settings.nodes = [node, down]
    settings.acse_timeout = settings.network_timeout = 3
    settings.save()
    archive = Archive.open(settings)
    report = archive.import_paths([cohort["local"]])
    assert not report.rejected
    yield archive, settings
    archive.close()


def test_local_priors_are_the_patients_other_studies_newest_first(reading_archive, cohort):
    archive, _settings = reading_archive
    for pid, studies in cohort["truth"].items():
        current = archive.query("study", {"StudyInstanceUID": studies[DATES[2]][0]})[0]
        priors = local_priors(archive, current)
        expected = [studies[DATES[0]][0]] if int(pid[1:]) % 2 == 0 else []
        assert [p.uid for p in priors] == expected, pid
        assert all(p.source == LOCAL and not p.name_mismatch for p in priors)


def test_priors_from_a_real_node_and_a_down_one(reading_archive, cohort):
    archive, settings = reading_archive
    truth = cohort["truth"]
    updates = []
    for pid, studies in truth.items():
        result = list_priors(archive, settings, studies[DATES[2]][0], prior_nodes(settings),
                             on_update=lambda r: updates.append(len(r.priors)))
        uids = [p.uid for p in result.priors]
        # Newest first, the current study never, the local copy of the oldest preferred to the node's.
        assert uids == [studies[DATES[1]][0], studies[DATES[0]][0]], pid
        assert [p.source for p in result.priors] == ["pacs", LOCAL if int(pid[1:]) % 2 == 0 else "pacs"], pid
        assert cohort["other_issuer"] not in uids  # same ID, another issuer: another patient
        assert [f.node for f in result.failures] == ["down"]
        assert result.failures[0].error
        mismatch = [p.name_mismatch for p in result.priors]
        assert mismatch == ([True, False] if pid == "P0" else [False, False]), pid
    assert updates[0] == 1  # the local list was reported before any node answered


def test_relevant_priors_follow_modality_and_region(reading_archive, cohort):
    archive, settings = reading_archive
    for pid, studies in cohort["truth"].items():
        result = list_priors(archive, settings, studies[DATES[2]][0], prior_nodes(settings))
        best = relevant_priors(result.current, result.priors, count=2)
        kind_now = studies[DATES[2]][1]
        expected = [studies[d][0] for d in (DATES[1], DATES[0])
                    if KINDS[studies[d][1]][0] == KINDS[kind_now][0]
                    and KINDS[studies[d][1]][3] in ({"CHEST"} if KINDS[kind_now][3] == "CHEST" else {"HEAD", "BRAIN"})]
        # the oldest always shares the current study's kind, so it is always relevant
        assert studies[DATES[0]][0] in [p.uid for p in best], pid
        assert [p.uid for p in best] == expected, pid


def test_relevance_refuses_another_region_and_modality():
    current = {"StudyInstanceUID": "1", "StudyDate": "20240101", "ModalitiesInStudy": ["CT"],
               "StudyDescription": "CT chest"}

    def prior(mods, desc, date="20230101"):
        return Prior({"StudyInstanceUID": desc + date, "StudyDate": date, "ModalitiesInStudy": mods,
                      "StudyDescription": desc}, LOCAL)
    head, chest_mr, chest_ct, later = (prior(["CT"], "CT head"), prior(["MR"], "MR chest"),
                                       prior(["CT", "SR"], "Thorax CT"), prior(["CT"], "CT chest", "20250101"))
    assert relevant_priors(current, [head, chest_mr, chest_ct, later]) == [chest_ct]


def test_cli_priors_json(reading_archive, cohort):
    _archive, settings = reading_archive
    studies = cohort["truth"]["P2"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    out = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(settings.data_dir), "priors",
                          studies[DATES[2]][0], "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r.get("StudyInstanceUID") for r in rows[:2]] == [studies[DATES[1]][0], studies[DATES[0]][0]]
    assert [r.get("source") for r in rows[:2]] == ["pacs", "local"]
    assert rows[0]["ModalitiesInStudy"] and rows[0]["StudyDate"] == DATES[1]
    assert rows[0]["PatientName"] == "Patient^2"
    assert rows[0]["NumberOfStudyRelatedInstances"] == 2
    assert rows[2]["node"] == "down" and rows[2]["error"]
    # --node narrows to the nodes named; a study that is not archived is one line and exit 1
    out = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(settings.data_dir), "priors",
                          studies[DATES[2]][0], "--node", "pacs"], capture_output=True, text=True, timeout=120,
                         env=env)
    assert out.returncode == 0 and "down" not in out.stdout and "pacs" in out.stdout, out
    out = subprocess.run([sys.executable, "-m", "workstation", "--data-dir", str(settings.data_dir), "priors",
                          "1.2.3.4"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "not in the archive" in out.stderr


def test_fetch_relevant_retrieves_the_remote_priors(reading_archive, cohort):
    from workstation.reading.priors import fetch_relevant

    archive, settings = reading_archive
    studies = cohort["truth"]["P3"]  # odd: its oldest prior is only on the node
    result = list_priors(archive, settings, studies[DATES[2]][0], prior_nodes(settings))
    fetched = fetch_relevant(archive, settings, result)
    assert [p.uid for p, _r in fetched] == [studies[DATES[0]][0]]
    assert fetched[0][1].ok
    assert len(archive.query("instance", {"StudyInstanceUID": studies[DATES[0]][0]})) == 2
    again = list_priors(archive, settings, studies[DATES[2]][0], prior_nodes(settings))
    assert [p.source for p in again.priors] == ["pacs", LOCAL]


def test_unknown_study_is_a_clear_error(archive):
    with pytest.raises(PriorsError, match="not in the archive"):
        list_priors(archive, archive.settings, "1.2.3")


def test_nodes_marked_for_priors_from_the_cli(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    base = [sys.executable, "-m", "workstation", "--data-dir", str(tmp_path / "a"), "nodes"]
    for extra in (["add", "pacs", "PACS", "127.0.0.1", "104", "--fetch-priors"],
                  ["add", "other", "OTHER", "127.0.0.1", "105"]):
        out = subprocess.run(base + extra, capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
    out = subprocess.run(base + ["ls", "--json"], capture_output=True, text=True, timeout=60, env=env)
    nodes = {n["name"]: n for n in json.loads(out.stdout)}
    assert (nodes["pacs"]["search_priors"], nodes["pacs"]["fetch_priors"]) == (True, True)
    assert (nodes["other"]["search_priors"], nodes["other"]["fetch_priors"]) == (False, False)
    from workstation.config import load_settings

    settings = load_settings(str(tmp_path / "a"))
    assert [n.name for n in prior_nodes(settings)] == ["pacs"]
    assert [n.name for n in prior_nodes(settings, ["other"])] == ["other"]


def test_relisting_reads_the_local_part_again_and_keeps_the_nodes_answers(archive, tmp_path):
    """After a delete or an arrival the list is read again locally: a deleted prior is never offered, one that
    arrived from a node is listed as local, a grown one has its new count; the nodes' answers stay as given."""
    from workstation.reading.priors import NodeFailure, PriorList, current_study, relist_local

    cur, cur_paths = write_study(tmp_path / "cur", "P5", "Doe^Ann", "20240515", 0)
    old, old_paths = write_study(tmp_path / "old", "P5", "Doe^Ann", "20220310", 0)
    far, far_paths = write_study(tmp_path / "far", "P5", "Doe^Ann", "20210101", 1, instances=3)
    assert archive.import_paths(cur_paths + old_paths).imported == 4
    current = current_study(archive, cur)
    on_node = Prior({"StudyInstanceUID": far, "StudyDate": "20210101", "PatientID": "P5"}, "pacs")
    before = PriorList(current, local_priors(archive, current) + [on_node], [NodeFailure("down", "refused")])
    assert [(p.uid, p.source) for p in before.priors] == [(old, LOCAL), (far, "pacs")]

    assert archive.delete("study", old) == 2
    assert archive.import_paths(far_paths[:2]).imported == 2  # the node's study arrives (part of it)
    after = relist_local(archive, before)
    assert [(p.uid, p.source) for p in after.priors] == [(far, LOCAL)]
    assert after.priors[0].row["NumberOfStudyRelatedInstances"] == 2
    assert [f.node for f in after.failures] == ["down"]
    assert archive.import_paths(far_paths[2:]).imported == 1
    assert relist_local(archive, after).priors[0].row["NumberOfStudyRelatedInstances"] == 3

    assert archive.delete("study", cur) == 2
    with pytest.raises(PriorsError, match="not in the archive"):
        relist_local(archive, after)
