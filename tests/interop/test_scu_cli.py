"""The net commands end to end: nodes, echo, find --json, send, retrieve by get, exit codes and one-line errors."""

from __future__ import annotations

import json

import pydicom
import pytest

from tests.peers import ct_series, dcmqrscp, free_port, storescp, storescu  # noqa: F401 - fixtures
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
        {"name": "pacs", "ae_title": "PACS", "host": "127.0.0.1", "port": 104, "method": "get"}]
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
