"""More independent DICOM implementations for interop tests: GDCM's ``gdcmscu`` and PixelMed (Java).

Same conventions as :mod:`tests.peers` (whose helpers this reuses): loopback, free ports, files under the test's
``tmp_path``, a missing tool skips the test with a loud reason unless ``CI`` is set (then it fails).

What each offers from the command line (Debian 12: libgdcm-tools 3.0.21, pixelmed-apps 20220618):

* ``gdcmscu``: C-ECHO, C-STORE, C-FIND, C-MOVE (it is its own move destination on ``--port-scp``). No C-GET (the
  CLI exits 1 without connecting). It aborts (SIGABRT, "ProtocolStream as nullptr is invalid") after every
  association's release, whatever the peer (dcmtk, Orthanc and us alike; python-gdcm 3.2.6 too), so its exit
  status says nothing, and C-FIND results, printed after the release, are never printed: :func:`gdcm_find` reads
  the responses from its ``-D`` trace instead.
* PixelMed: ``VerificationSOPClassSCU``, ``StorageSOPClassSCU``, ``MoveSOPClassSCU`` and ``GetSOPClassSCU`` have
  usable ``main``s (all exit 0 even on failure: read their output); ``FindSOPClassSCU.main`` runs a hard-coded
  query, so there is no PixelMed C-FIND from the command line. ``StorageSOPClassSCPDispatcher`` is a Store SCP and
  ``com.pixelmed.server.DicomAndWebStorageServer`` a Store/Find/Move/Get SCP over an HSQLDB database.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from tests.peers import LOCAL_AE, Peer, _start, _stop, find_tool, free_port, tool_env, wait_for_port

PIXELMED_JAR = Path("/usr/share/java/pixelmed.jar")


def _missing(what: str, package: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: the test command must install {package}", pytrace=False)
    pytest.skip(f"*** INTEROP TEST NOT RUN: {what} is not installed. Install it (apt-get install {package}) to run "
                f"the tests against this peer. ***")


def require_gdcmscu() -> str:
    path = find_tool("gdcmscu")
    if not path:
        _missing("gdcmscu (GDCM)", "libgdcm-tools")
    return str(path)


def require_pixelmed() -> list[str]:
    """The ``java -cp ...`` prefix for PixelMed's classes (the jar's manifest names its dependencies)."""
    java = find_tool("java")
    if not java or not PIXELMED_JAR.is_file():
        _missing("PixelMed (Java)", "pixelmed-apps")
    return [str(java), "-Djava.awt.headless=true", "-cp", str(PIXELMED_JAR)]


# --- gdcmscu -------------------------------------------------------------------------------------------------


def gdcmscu(args: Sequence[str], calling: str, port: int, called: str = LOCAL_AE,
            timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run gdcmscu against 127.0.0.1:port; never checks the exit status (see the module docstring)."""
    exe = require_gdcmscu()
    cmd = [exe, *map(str, args), "--aetitle", calling, "--call", called, "127.0.0.1", str(port)]
    return subprocess.run(cmd, env=tool_env(), capture_output=True, text=True, timeout=timeout)


_STATUS = re.compile(r"^\(0000,0900\) \?\? \(US\) (\d+)", re.M)


def gdcm_find(model: str, level: str, keys: dict[str, str], calling: str, port: int) -> tuple[int, list[int]]:
    """C-FIND with gdcmscu: (number of pending responses, final statuses) read from its ``-D`` trace.

    The trace prints each response's command set twice (the PDU, then the message) but not the identifiers, so
    matches are counted, not read.
    """
    args = ["-D", "--find", f"--{model}", f"--{level}"]
    for key, value in keys.items():
        args += ["--key", f"{key}={value}"]
    proc = gdcmscu(args, calling, port)
    trace = proc.stdout + proc.stderr
    statuses = [int(s) for s in _STATUS.findall(trace)]
    if not statuses:
        raise AssertionError(f"gdcmscu received no C-FIND response:\n{trace[-3000:]}")
    pending = sum(1 for s in statuses if s in (0xFF00, 0xFF01)) // 2
    return pending, [s for s in statuses if s not in (0xFF00, 0xFF01)][:1]


# --- PixelMed ------------------------------------------------------------------------------------------------


def pixelmed(cls: str, args: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run a PixelMed class's ``main`` to completion; returns its output (it exits 0 even when it failed)."""
    cmd = [*require_pixelmed(), f"com.pixelmed.{cls}", *map(str, args)]
    return subprocess.run(cmd, env=tool_env(), capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def run_pixelmed_storescp(folder: Path, ae_title: str = "PMSTORE") -> Iterator[Peer]:
    """PixelMed's ``StorageSOPClassSCPDispatcher`` storing into ``folder/storage`` (it listens on every address)."""
    java = require_pixelmed()
    folder = Path(folder)
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "pixelmed-storescp.log"
    proc = _start([*java, "com.pixelmed.network.StorageSOPClassSCPDispatcher", port, ae_title, storage], log)
    try:
        wait_for_port("127.0.0.1", port, timeout=30, process=proc)
        yield Peer("pixelmed-storescp", ae_title, "127.0.0.1", port, storage, log, proc)
    finally:
        _stop(proc)


@contextlib.contextmanager
def run_pixelmed_server(folder: Path, ae_title: str = "PIXELMED",
                        workstation_port: int | None = None) -> Iterator[Peer]:
    """PixelMed's ``DicomAndWebStorageServer`` (Store/Find/Move/Get SCP, HSQLDB index, a web server we ignore).

    Knows :data:`LOCAL_AE` at ``workstation_port`` as a move destination. It accepts uncompressed transfer
    syntaxes only.
    """
    java = require_pixelmed()
    folder = Path(folder)
    storage = folder / "images"
    storage.mkdir(parents=True, exist_ok=True)
    port, web = free_port(), free_port()
    while web == port:
        web = free_port()
    workstation_port = workstation_port or free_port()
    properties = {
        "Application.DatabaseFileName": folder / "db",
        "Application.SavedImagesFolderName": storage,
        "Dicom.ListeningPort": port,
        "Dicom.CalledAETitle": ae_title,
        "Dicom.CallingAETitle": ae_title,
        "Dicom.PrimaryDeviceType": "ARCHIVE",
        "WebServer.ListeningPort": web,
        "Dicom.RemoteAEs": "ws",
        "Dicom.RemoteAEs.ws.CalledAETitle": LOCAL_AE,
        "Dicom.RemoteAEs.ws.HostNameOrIPAddress": "127.0.0.1",
        "Dicom.RemoteAEs.ws.Port": workstation_port,
        "Dicom.RemoteAEs.ws.QueryModel": "STUDYROOT",
    }
    config = folder / "pixelmed.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
    log = folder / "pixelmed.log"
    proc = _start([*java, "com.pixelmed.server.DicomAndWebStorageServer", config], log, cwd=folder)
    try:
        wait_for_port("127.0.0.1", port, timeout=30, process=proc)
        yield Peer("pixelmed", ae_title, "127.0.0.1", port, storage, log, proc, workstation_port=workstation_port)
    finally:
        _stop(proc)


__all__ = ["gdcm_find", "gdcmscu", "pixelmed", "require_gdcmscu", "require_pixelmed", "run_pixelmed_server",
           "run_pixelmed_storescp"]
