"""The archive's command line as scripts use it: names, JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import test_file
from tests.peers import make_ct_series


def run(data_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workstation", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=120, env=env,
    )


@pytest.fixture
def populated(tmp_path):
    data = tmp_path / "arc"
    make_ct_series(tmp_path / "in", 3, patient_id="CLI1", patient_name="Ünïcode^Name", accession="A-77",
                   study_date="20240305")
    (tmp_path / "in" / "notes.txt").write_text("not dicom")
    r = run(data, "import", str(tmp_path / "in"), "--json")
    assert r.returncode == 0, r.stderr
    return data, json.loads(r.stdout)


def test_import_json_report_and_exit_codes(populated, tmp_path):
    data, report = populated
    assert report == {"imported": 3, "duplicates": 0, "skipped": 1, "rejected": [], "repaired": [],
                      "skipped_files": [{"path": str(tmp_path / "in" / "notes.txt"), "reason": report[
                          "skipped_files"][0]["reason"]}]}
    assert report["skipped_files"][0]["reason"].startswith("not a DICOM file")
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(test_file("CT_small.dcm").read_bytes()[:2000])
    r = run(data, "import", str(bad), "--json")
    assert r.returncode == 2
    out = json.loads(r.stdout)
    assert out["rejected"][0]["path"] == str(bad) and "truncated" in out["rejected"][0]["reason"]


def test_ls_json_shapes(populated):
    data, _ = populated
    studies = json.loads(run(data, "ls", "--json").stdout)
    assert len(studies) == 1
    s = studies[0]
    assert s["PatientName"] == "Ünïcode^Name" and s["PatientID"] == "CLI1"
    assert s["NumberOfInstances"] == 3 and s["AccessionNumber"] == "A-77"
    series = json.loads(run(data, "ls", "--level", "series", "--json").stdout)
    assert series[0]["Modality"] == "CT" and series[0]["NumberOfInstances"] == 3
    inst = json.loads(run(data, "ls", "--level", "instance", "--json").stdout)
    assert len(inst) == 3 and all(Path(i["path"]).exists() for i in inst)
    assert json.loads(run(data, "ls", "--json", "--patient-name", "ünï*").stdout)[0]["PatientID"] == "CLI1"
    assert json.loads(run(data, "ls", "--json", "--study-date", "20240101-20240331").stdout)
    assert json.loads(run(data, "ls", "--json", "--study-date", "20250101-").stdout) == []
    assert json.loads(run(data, "ls", "--json", "--modality", "MR").stdout) == []
    table = run(data, "ls").stdout
    assert "Ünïcode^Name" in table and "(1 study)" in table


def test_lookup_dump_delete(populated):
    data, _ = populated
    inst = json.loads(run(data, "ls", "--level", "instance", "--json").stdout)
    sop = inst[0]["SOPInstanceUID"]
    r = run(data, "lookup", "A-77", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["level"] == "study"
    assert run(data, "lookup", "nothing-here").returncode == 1
    dump = run(data, "dump", sop).stdout
    assert "(0010,0010) PatientName" in dump and "PN" in dump and "(7FE0,0010) PixelData" in dump
    assert run(data, "delete", "--instance", sop).stdout.startswith("deleted 1 instance")
    assert not Path(inst[0]["path"]).exists()
    r = run(data, "delete", "--study", "1.2.3.4.5")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert run(data, "delete", "--patient", "CLI1").stdout.startswith("deleted 2 instances")


def test_dump_marks_private_tags_and_nests_sequences():
    r = subprocess.run([sys.executable, "-m", "workstation", "dump", str(test_file("nested_priv_SQ.dcm"))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "[private" in r.stdout and "> item 1" in r.stdout


def test_check_and_rebuild(populated):
    data, _ = populated
    assert run(data, "check").stdout.strip() == "the archive is consistent"
    (data / "storage" / "ab" / ("0" * 18)).mkdir(parents=True)  # a deleted series' folder an older version left
    r = run(data, "check")
    assert r.stdout.splitlines() == ["the archive is consistent", "  1 empty folder of deleted series removed"]
    assert json.loads(run(data, "check", "--json").stdout)["empty_folders_removed"] == 0
    r = run(data, "rebuild")
    assert r.returncode == 0 and "3 instances" in r.stdout


def test_config_validation(tmp_path):
    data = tmp_path / "arc"
    r = run(data, "config", "set", "ae_title", "A" * 17)
    assert r.returncode == 1 and "longer than 16" in r.stderr and "Traceback" not in r.stderr
    r = run(data, "config", "set", "ae_title", "BAD\\AE")
    assert r.returncode == 1 and "backslash" in r.stderr
    assert "'BAD\\AE'" in r.stderr  # as typed: one backslash, not repr's two
    r = run(data, "config", "set", "ae_title", "A\x01B")
    assert r.returncode == 1 and "'A\\x01B'" in r.stderr  # a control character shown escaped
    r = run(data, "config", "set", "port", "99999")
    assert r.returncode == 1
    r = run(data, "config", "set", "nonsense", "1")
    assert r.returncode == 1 and "settable keys" in r.stderr
    assert run(data, "config", "set", "ae_title", "MYWS").returncode == 0
    assert run(data, "config", "set", "port", "4242").returncode == 0
    shown = json.loads(run(data, "config", "show", "--json").stdout)
    assert shown["ae_title"] == "MYWS" and shown["port"] == 4242
    assert shown["settings_file"] == str((data / "settings.toml").resolve())


def test_data_dir_from_environment(tmp_path):
    env = dict(os.environ, WORKSTATION_DATA_DIR=str(tmp_path / "envarc"))
    r = subprocess.run([sys.executable, "-m", "workstation", "config", "show", "--json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(r.stdout)["data_dir"] == str((tmp_path / "envarc").resolve())


def test_default_data_dir_uses_platformdirs(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdgdata"), XDG_CONFIG_HOME=str(tmp_path / "xdgconf"))
    env.pop("WORKSTATION_DATA_DIR", None)
    r = subprocess.run([sys.executable, "-m", "workstation", "config", "show", "--json"],
                       capture_output=True, text=True, env=env, timeout=60)
    shown = json.loads(r.stdout)
    assert shown["data_dir"] == str(tmp_path / "xdgdata" / "workstation")
    assert shown["settings_file"] == str(tmp_path / "xdgconf" / "workstation" / "settings.toml")
    assert shown["port"] == 11112 and shown["ae_title"] == "WORKSTATION"


def test_global_options_after_the_command(tmp_path):
    data = tmp_path / "late"
    assert run_plain("config", "set", "port", "5555", "--data-dir", str(data)).returncode == 0
    assert json.loads(run(data, "config", "show", "--json").stdout)["port"] == 5555


def run_plain(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workstation", *args], capture_output=True, text=True, timeout=60)


def test_dump_refuses_non_dicom_and_flags_truncation(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 50)
    r = run_plain("dump", str(text))
    assert r.returncode == 1 and "not a DICOM file" in r.stderr
    r = run_plain("dump", str(test_file("MR_truncated.dcm")))
    assert r.returncode == 2 and "truncated" in r.stderr
    assert "(0010,0010) PatientName" in r.stdout
    from tests.robustness.hostile import nested_sequences

    deep = tmp_path / "deep.dcm"
    deep.write_bytes(nested_sequences(20000))
    r = run_plain("dump", str(deep))
    assert r.returncode == 1 and "nested too deeply" in r.stderr and "recursion" not in r.stderr


def test_export_json_and_errors(populated, tmp_path):
    data, _ = populated
    r = run(data, "export", "--patient", "CLI1", str(tmp_path / "case"), "--format", "zip", "--anonymize",
            "--patient-name", "Case^One", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["exported"] == 3 and out["failed"] == [] and out["destination"].endswith("case.zip")
    assert Path(out["destination"]).is_file()
    r = run(data, "export", str(tmp_path / "x"))
    assert r.returncode == 1 and "--patient" in r.stderr and "Traceback" not in r.stderr
    r = run(data, "export", "--study", "1.2.3.4", str(tmp_path / "x"))
    assert r.returncode == 1 and "nothing to export" in r.stderr


def test_import_text_report_names_skipped_files_and_the_dicomdir_reconciliation(tmp_path):
    """Issue 15 item 7 / issue 10: every skipped file with its reason; a DICOMDIR's listed/found/missing, each
    missing file named; the DICOMDIR itself is not counted as skipped."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    for f in make_ct_series(tmp_path / "src", 3):
        fs.add(f)
    media = tmp_path / "cd"
    fs.write(media)
    lost = sorted(p for p in media.rglob("*") if p.is_file() and p.name != "DICOMDIR")[0]
    lost.unlink()
    (media / "README.TXT").write_text("Welcome\n")
    r = run(tmp_path / "arc", "import", str(media / "DICOMDIR"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("imported 2, already present 0, skipped 1 (not DICOM)")
    assert f"  skipped {media / 'README.TXT'}: not a DICOM file" in "\n".join(lines)
    assert f"  DICOMDIR {media / 'DICOMDIR'}: lists 3, found 2, missing 1" in lines
    assert f"    missing {lost.relative_to(media).as_posix()}" in lines
