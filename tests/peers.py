"""Real DICOM peers for tests: dcmtk ``storescp``/``dcmqrscp`` and Orthanc, run as plain processes on loopback.

Import what you need in a test module (pytest picks up imported fixtures)::

    from tests.peers import storescp, make_ct_series   # fixture + helper

Every peer listens on ``127.0.0.1`` on a free port, keeps its files under the test's ``tmp_path`` and is stopped
(its whole process group) when the test ends. dcmtk tools and Orthanc run with ``TCP_NODELAY=1`` in their
environment: Debian's dcmtk leaves Nagle on without it and every DIMSE message then waits ~40 ms for a delayed ACK.

A missing tool skips the test with a loud reason on a developer machine, and fails it when ``CI`` is set (the CI
command installs the tools, so a missing one there is a broken environment, not a reason to skip).

Peer set-up follows one convention: the workstation under test uses AE title :data:`LOCAL_AE` on
``peer.workstation_port`` (a free port chosen when the peer starts), and peers that move know it as a
destination.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pytest

LOCAL_AE = "WORKSTATION"
"""AE title the workstation under test uses; peers that move know it as a destination."""

_TOOL_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")


# --- small helpers -------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_server_settings(settings, *, timeout: float = 5.0, dimse_timeout: float | None = None, nodes=(),
                             **extra):
    """``settings`` for our server on a free loopback port with short timeouts; ``extra`` sets other fields."""
    settings.port = free_port()
    settings.acse_timeout = settings.network_timeout = timeout
    settings.dimse_timeout = timeout if dimse_timeout is None else dimse_timeout
    if nodes:
        settings.nodes = list(nodes)
    for key, value in extra.items():
        setattr(settings, key, value)
    return settings


def ct_with_payload(payload: bytes, patient_id: str = "P"):
    """A small CT instance (new UIDs, explicit VR LE meta) carrying ``payload`` as EncapsulatedDocument: a large
    value with no pixel rules, for store tests that need size without images."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    from pynetdicom.sop_class import CTImageStorage

    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = patient_id
    ds.Modality = "CT"
    ds.add_new(0x00420011, "OB", payload)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def find_tool(name: str) -> str | None:
    """Path of an executable, also looking in the sbin folders (Debian puts ``Orthanc`` in /usr/sbin)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in _TOOL_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def require_tool(name: str) -> str:
    """Return the tool's path; without it, skip (``CI`` unset, with a loud reason) or fail (``CI`` set)."""
    path = find_tool(name)
    if path:
        return path
    reason = (
        f"*** INTEROP TEST NOT RUN: {name!r} is not installed. Install dcmtk and orthanc "
        f"(apt-get install dcmtk orthanc) to run the tests against real peers. ***"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{name!r} is missing in CI: the test command must install it", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for dcmtk/Orthanc processes: ``TCP_NODELAY=1`` (Nagle off), no inherited DCMDICTPATH surprises."""
    env = dict(os.environ)
    env["TCP_NODELAY"] = "1"
    env.update(extra)
    return env


def wait_for_port(host: str, port: int, timeout: float = 15.0, process: subprocess.Popen | None = None) -> None:
    """Block until something accepts TCP connections on host:port (or the process died / time ran out)."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"peer process exited with code {process.returncode} before listening on {port}")
        if _listening(host, port):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing accepted connections on {host}:{port} within {timeout:.0f} s")
        time.sleep(0.05)


def _listening(host: str, port: int) -> bool:
    # On Linux, look for a LISTEN socket in /proc instead of connecting: a probe connection that sends no
    # A-ASSOCIATE-RQ makes dcmtk tools log a state-machine error (and can end a single-process dcmqrscp).
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if tables[0].exists():
        for table in tables:
            try:
                lines = table.read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                parts = line.split()
                if len(parts) > 3 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    return True
        return False
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_tool(name: str, args: Sequence[str], timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess:
    """Run a dcmtk tool to completion with ``TCP_NODELAY=1``; raise with its output when it fails."""
    exe = require_tool(name)
    proc = subprocess.run(
        [exe, *map(str, args)], env=tool_env(), capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def _start(cmd: Sequence[str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    fh = open(log, "wb")
    try:
        return subprocess.Popen(
            list(map(str, cmd)), stdout=fh, stderr=subprocess.STDOUT, env=tool_env(), cwd=cwd,
            start_new_session=True,  # own process group: stopping it also stops dcmqrscp's forked children
        )
    finally:
        fh.close()


def _stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


# --- peers ---------------------------------------------------------------------------------------------------


@dataclass
class Peer:
    """A running peer: where to reach it, where its files are, what it logs."""

    kind: str
    ae_title: str
    host: str
    port: int
    storage: Path
    log: Path
    process: subprocess.Popen
    workstation_port: int = 0  # where the peer expects LOCAL_AE's Store SCP (move destination)
    http_port: int | None = None  # Orthanc only
    extra: dict = field(default_factory=dict)

    @property
    def address(self) -> str:
        """``AET@HOST:PORT``, the form ``workstation.net.nodes.resolve_node`` accepts."""
        return f"{self.ae_title}@{self.host}:{self.port}"

    def node(self, name: str | None = None, method: str = "move"):
        """A ``workstation.config.Node`` for this peer."""
        from workstation.config import Node

        return Node(name=name or self.kind, ae_title=self.ae_title, host=self.host, port=self.port, method=method)

    def files(self) -> list[Path]:
        """Regular files the peer has stored (storescp/dcmqrscp), sorted."""
        return sorted(p for p in self.storage.rglob("*") if p.is_file() and p.name != "index.dat")

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    # Orthanc HTTP helpers ------------------------------------------------------------------------------------
    def http(self, method: str, path: str, body: bytes | None = None, timeout: float = 30.0):
        """Call Orthanc's REST API; returns decoded JSON (or raw bytes when not JSON)."""
        if self.http_port is None:
            raise RuntimeError(f"{self.kind} has no HTTP API")
        req = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=body, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/dicom")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read()
        try:
            return json.loads(data)
        except ValueError:
            return data

    def upload(self, paths: Iterable[Path]) -> int:
        """Seed Orthanc over HTTP (``POST /instances``); returns how many were accepted."""
        count = 0
        for path in paths:
            self.http("POST", "/instances", Path(path).read_bytes())
            count += 1
        return count

    def instance_count(self) -> int:
        return int(self.http("GET", "/statistics")["CountInstances"])


@contextlib.contextmanager
def run_storescp(
    folder: Path,
    ae_title: str = "STORESCP",
    extra_args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[Peer]:
    """dcmtk ``storescp`` storing into ``folder/storage`` (one file per instance, named by SOP Instance UID).

    ``extra_args`` are passed through, e.g. ``["+xa"]`` to accept every transfer syntax (the default accepts
    only uncompressed ones, which is what the transcoding tests rely on).
    """
    exe = require_tool("storescp")
    folder = Path(folder)
    storage = folder / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = folder / "storescp.log"
    cmd = [exe, "--aetitle", ae_title, "--output-directory", storage, "--filename-extension", ".dcm",
           "-uf", *extra_args, port]
    # -uf: file names from SOP Instance UIDs, so duplicates overwrite and tests can find files by UID.
    proc = _start(cmd, log)
    try:
        wait_for_port("127.0.0.1", port, process=proc)
        yield Peer("storescp", ae_title, "127.0.0.1", port, storage, log, proc)
    finally:
        _stop(proc)


def _dcmqrscp_config(port: int, ae_title: str, storage: Path, hosts: dict[str, tuple[str, str, int]]) -> str:
    lines = [
        f"NetworkTCPPort  = {port}",
        "MaxPDUSize      = 65536",
        "MaxAssociations = 16",
        "",
        "HostTable BEGIN",
    ]
    for symbol, (aet, host, hport) in hosts.items():
        lines.append(f"{symbol} = ({aet}, {host}, {hport})")
    lines += ["HostTable END", "", "VendorTable BEGIN", "VendorTable END", "", "AETable BEGIN",
              f"{ae_title} {storage} RW (500, 1024mb) ANY", "AETable END", ""]
    return "\n".join(lines)


@contextlib.contextmanager
def run_dcmqrscp(
    folder: Path,
    ae_title: str = "QRSCP",
    destinations: dict[str, tuple[str, int]] | None = None,
    seed: Iterable[Path] = (),
    workstation_port: int | None = None,
) -> Iterator[Peer]:
    """dcmtk ``dcmqrscp`` (Find/Move/Get, Patient and Study Root) with a generated config, seeded via ``storescu``.

    ``destinations`` maps move-destination AE titles to (host, port); :data:`LOCAL_AE` at ``workstation_port``
    (free by default) is always one of them.
    """
    exe = require_tool("dcmqrscp")
    folder = Path(folder)
    storage = folder / "qrstorage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    workstation_port = workstation_port or free_port()
    dests = {LOCAL_AE: ("127.0.0.1", workstation_port)}
    dests.update(destinations or {})
    hosts = {f"dest{i}": (aet, host, hport) for i, (aet, (host, hport)) in enumerate(dests.items())}
    config = folder / "dcmqrscp.cfg"
    config.write_text(_dcmqrscp_config(port, ae_title, storage, hosts))
    log = folder / "dcmqrscp.log"
    proc = _start([exe, "--config", config, "--disable-host-lookup"], log)
    try:
        wait_for_port("127.0.0.1", port, process=proc)
        peer = Peer("dcmqrscp", ae_title, "127.0.0.1", port, storage, log, proc, workstation_port=workstation_port)
        seed = [str(p) for p in seed]
        if seed:
            storescu(peer, seed)
        yield peer
    finally:
        _stop(proc)


def storescu(peer: Peer, paths: Sequence[Path | str], extra_args: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Send files to a peer with dcmtk ``storescu`` (one association; ``TCP_NODELAY=1``)."""
    return run_tool("storescu", ["-aet", LOCAL_AE, "-aec", peer.ae_title, *extra_args,
                                 peer.host, peer.port, *map(str, paths)], timeout=600)


@contextlib.contextmanager
def run_orthanc(
    folder: Path,
    ae_title: str = "ORTHANC",
    modalities: dict[str, tuple[str, str, int]] | None = None,
    workstation_port: int | None = None,
    extra_config: dict | None = None,
) -> Iterator[Peer]:
    """Orthanc as a plain process (never the system service), with a generated JSON configuration.

    ``modalities`` maps names to (AET, host, port) and are added to DicomModalities beside :data:`LOCAL_AE` at
    ``workstation_port`` and the AE titles dcmtk tools use in tests (``GETSCU``, ``FINDSCU``, ``MOVESCU``). Storage and
    index live in ``folder``; remote HTTP access, authentication, called-AET checks and plugins are off.
    """
    exe = require_tool("Orthanc")
    folder = Path(folder)
    storage = folder / "orthanc-storage"
    storage.mkdir(parents=True, exist_ok=True)
    port, http_port = free_port(), free_port()
    while http_port == port:
        http_port = free_port()
    workstation_port = workstation_port or free_port()
    mods = {"workstation": (LOCAL_AE, "127.0.0.1", workstation_port)}
    for aet in ("GETSCU", "FINDSCU", "MOVESCU", "ECHOSCU", "STORESCU"):
        mods[aet.lower()] = (aet, "127.0.0.1", free_port())
    mods.update(modalities or {})
    allow = {"AllowEcho": True, "AllowFind": True, "AllowMove": True, "AllowGet": True, "AllowStore": True}
    config = {
        "Name": f"test-{ae_title}",
        "StorageDirectory": str(storage),
        "IndexDirectory": str(storage),
        "StorageCompression": False,
        "Plugins": [],
        "HttpServerEnabled": True,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "SslEnabled": False,
        "DicomServerEnabled": True,
        "DicomAet": ae_title,
        "DicomPort": port,
        "DicomCheckCalledAet": False,
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomModalities": {
            name: {"AET": aet, "Host": host, "Port": mport, **allow} for name, (aet, host, mport) in mods.items()
        },
        "DicomScuTimeout": 30,
        "DicomScpTimeout": 30,
        "DicomAssociationCloseDelay": 0,
        "SaveJobs": False,
        "JobsHistorySize": 10,
        "LimitFindResults": 0,
        "LimitFindInstances": 0,
        "OverwriteInstances": True,
        "HttpTimeout": 60,
    }
    config.update(extra_config or {})
    config_path = folder / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = folder / "orthanc.log"
    proc = _start([exe, "--no-jobs", config_path], log, cwd=folder)
    peer = Peer("orthanc", ae_title, "127.0.0.1", port, storage, log, proc, workstation_port=workstation_port,
                http_port=http_port, extra={"config": config})
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({proc.returncode}):\n{peer.log_text()[-3000:]}")
            try:
                peer.http("GET", "/system", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Orthanc did not answer /system within 30 s:\n{peer.log_text()[-3000:]}")
                time.sleep(0.1)
        wait_for_port("127.0.0.1", port, process=proc)
        yield peer
    finally:
        _stop(proc, timeout=15)


# --- synthetic data ------------------------------------------------------------------------------------------


def make_ct_series(
    folder: Path,
    count: int,
    *,
    rows: int = 64,
    columns: int = 64,
    patient_id: str = "PAT001",
    patient_name: str = "Test^Patient",
    study_uid: str | None = None,
    series_uid: str | None = None,
    series_number: int = 1,
    accession: str = "ACC001",
    study_date: str = "20240102",
    transfer_syntax: str | None = None,
) -> list[Path]:
    """Write ``count`` small synthetic CT instances of one series (one study) into ``folder``; return their paths.

    Pixel data is a deterministic 16-bit gradient that differs per slice. ``transfer_syntax`` defaults to
    Explicit VR Little Endian; RLE Lossless (pydicom encodes it natively) gives a compressed file.
    """
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless, generate_uid

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    frame_uid = generate_uid()
    base = (np.add.outer(np.arange(rows), np.arange(columns)) % 4096).astype(np.uint16)
    paths = []
    for i in range(count):
        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop_uid
        ds.PatientName = patient_name
        ds.PatientID = patient_id
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "O"
        ds.StudyInstanceUID = study_uid
        ds.StudyDate = study_date
        ds.StudyTime = "120000"
        ds.StudyID = "1"
        ds.AccessionNumber = accession
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "Synthetic study"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = series_number
        ds.SeriesDescription = f"Synthetic series {series_number}"
        ds.Modality = "CT"
        ds.InstanceNumber = i + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.FrameOfReferenceUID = frame_uid
        ds.ImagePositionPatient = [0.0, 0.0, float(i)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = 1.0
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = columns
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        ds.PixelData = ((base + i) % 4096).astype(np.uint16).tobytes()
        if transfer_syntax and transfer_syntax != ExplicitVRLittleEndian:
            if transfer_syntax == RLELossless:
                ds.compress(RLELossless, encoding_plugin="pydicom")
            else:
                ds.compress(transfer_syntax)
        path = folder / f"{series_number:03d}_{i + 1:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


# --- pytest fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def ct_series(tmp_path) -> list[Path]:
    """Five small synthetic CT instances of one series."""
    return make_ct_series(tmp_path / "ct", 5)


@pytest.fixture
def storescp(tmp_path) -> Iterator[Peer]:
    """dcmtk storescp (AE ``STORESCP``, uncompressed transfer syntaxes only)."""
    with run_storescp(tmp_path / "storescp") as peer:
        yield peer


@pytest.fixture
def dcmqrscp(tmp_path) -> Iterator[Peer]:
    """dcmtk dcmqrscp (AE ``QRSCP``), empty; seed it with :func:`storescu`. Knows LOCAL_AE at workstation_port."""
    with run_dcmqrscp(tmp_path / "dcmqrscp") as peer:
        yield peer


@pytest.fixture
def orthanc(tmp_path) -> Iterator[Peer]:
    """Orthanc (AE ``ORTHANC``), empty; seed it with ``peer.upload(paths)``. Knows LOCAL_AE at workstation_port."""
    with run_orthanc(tmp_path / "orthanc") as peer:
        yield peer
