"""Benchmark of the Store and Find SCPs (standalone: ``.venv/bin/python -m tests.bench.bench_scp``).

1. C-STORE throughput: dcmtk ``storescu`` sends N generated 512x512 CT instances over one association to
   (a) ``workstation serve`` (fsync + indexed before each Success), (b) Orthanc (``SyncStorageArea`` on), and
   (c) dcmtk ``storescp`` (plain writes, no fsync): times and ratios printed in the same run. Every peer runs
   with ``TCP_NODELAY=1``.
2. C-FIND: study-level queries on an archive of 200,000 instance rows (created directly in the index), median
   round trip on an open association with our client (``QuerySession``), and the server's share: the median
   time from the request reaching our C-FIND handler to the last pending response written to the socket
   (archive query + encoding + sending). The rest is the client decoding the responses and the round trip.

Options: ``--count N`` (default 500), ``--rounds R`` (default 1; the best round is reported), ``--skip-find``,
``--profile`` (cProfile of an in-process server during the store run, top functions printed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script: `python tests/bench/bench_scp.py`
    sys.path.insert(0, str(ROOT))

from tests.peers import find_tool, free_port, make_ct_series, run_orthanc, run_storescp, tool_env, wait_for_port  # noqa: E402
PYTHON = sys.executable


def data_set(count: int) -> list[Path]:
    cache = Path(tempfile.gettempdir()) / f"bench_scp_ct_{count}"
    files = sorted(cache.glob("*.dcm")) if cache.is_dir() else []
    if len(files) != count:
        shutil.rmtree(cache, ignore_errors=True)
        print(f"generating {count} 512x512 CT instances in {cache} ...", flush=True)
        files = make_ct_series(cache, count, rows=512, columns=512)
    return files


def storescu(aet: str, port: int, files: list[Path]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([find_tool("storescu"), "-aet", "BENCH", "-aec", aet, "127.0.0.1", str(port),
                           *map(str, files)], env=tool_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"storescu failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def bench_serve(files: list[Path], work: Path) -> float:
    data_dir = work / "ws"
    shutil.rmtree(data_dir, ignore_errors=True)
    port = free_port()
    env = dict(os.environ, WORKSTATION_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([PYTHON, "-m", "workstation", "serve", "--port", str(port), "--bind", "127.0.0.1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port("127.0.0.1", port, process=proc)
        elapsed = storescu("WORKSTATION", port, files)
    finally:
        proc.terminate()
        proc.wait(30)
    from workstation.archive import Archive
    from workstation.config import Settings

    with Archive.open(Settings(data_dir=data_dir)) as archive:
        n = len(archive.query("instance"))
    if n != len(files):
        raise RuntimeError(f"workstation serve indexed {n} of {len(files)}")
    return elapsed


def bench_orthanc(files: list[Path], work: Path) -> float:
    folder = work / "orthanc"
    shutil.rmtree(folder, ignore_errors=True)
    with run_orthanc(folder, extra_config={"SyncStorageArea": True}) as peer:
        elapsed = storescu(peer.ae_title, peer.port, files)
        if peer.instance_count() != len(files):
            raise RuntimeError("Orthanc did not store everything")
    return elapsed


def bench_storescp(files: list[Path], work: Path) -> float:
    folder = work / "storescp"
    shutil.rmtree(folder, ignore_errors=True)
    with run_storescp(folder) as peer:
        return storescu(peer.ae_title, peer.port, files)


def profile_inprocess(files: list[Path], work: Path) -> None:
    import cProfile
    import pstats
    import threading

    from workstation.archive import Archive
    from workstation.config import Settings
    from workstation.net.scp.server import DicomServer

    data_dir = work / "ws-prof"
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir, bind="127.0.0.1", port=free_port())
    profiler = cProfile.Profile()
    threading.setprofile(lambda *a: None)
    with Archive.open(settings) as archive:
        server = DicomServer(settings, archive)
        original = server.archive.store_bytes

        def profiled(data: bytes, **kw):  # profile the handler's work (the association thread)
            profiler.enable()
            try:
                return original(data, **kw)
            finally:
                profiler.disable()

        archive.store_bytes = profiled  # type: ignore[method-assign]
        server.start()
        try:
            elapsed = storescu("WORKSTATION", server.address[1], files)
        finally:
            server.stop()
    print(f"\nin-process server: {elapsed:.2f} s; archive.store_bytes profile (top 15 by cumulative time):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


def bench_find(rows: int = 200_000, per_study: int = 50, queries: int = 30) -> None:
    from pydicom.uid import generate_uid

    from workstation.archive import Archive, InstanceRecord
    from workstation.config import Node, Settings
    from workstation.net.scu.client import QuerySession
    from workstation.net.scp.query import QueryHandlers
    from workstation.net.scp.server import DicomServer

    server_times: list[float] = []
    original_find = QueryHandlers.find

    def timed_find(self, event):  # the server's share of each query
        t = time.perf_counter()
        yield from original_find(self, event)
        server_times.append(time.perf_counter() - t)

    work = Path(tempfile.mkdtemp(prefix="bench_scp_find_"))
    settings = Settings(data_dir=work / "ws", bind="127.0.0.1", port=free_port())
    settings.nodes = [Node("bench", "BENCHSCU", "127.0.0.1", 1)]
    client = Settings(data_dir=work / "client", ae_title="BENCHSCU")
    start = time.perf_counter()
    with Archive.open(settings) as archive:
        batch: list[InstanceRecord] = []
        n_studies = rows // per_study
        for s in range(n_studies):
            study, series = generate_uid(), generate_uid()
            pid = f"P{s // 2:06d}"
            for i in range(per_study):
                batch.append(InstanceRecord({
                    "PatientID": pid, "PatientName": f"Name{s // 2:06d}^Given", "PatientBirthDate": "19700101",
                    "PatientSex": "O", "StudyInstanceUID": study, "StudyDate": f"20{10 + s % 14:02d}{1 + s % 12:02d}"
                    f"{1 + s % 28:02d}", "StudyTime": "120000", "StudyDescription": "Bench", "AccessionNumber":
                    f"A{s:07d}", "StudyID": "1", "SeriesInstanceUID": series, "SeriesNumber": 1, "Modality": "CT",
                    "SOPInstanceUID": generate_uid(), "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
                    "InstanceNumber": i + 1, "TransferSyntaxUID": "1.2.840.10008.1.2.1", "Rows": 512,
                    "Columns": 512}, 524288))
            if len(batch) >= 10_000:
                archive.index.add(batch)
                batch = []
        if batch:
            archive.index.add(batch)
        print(f"\nC-FIND (targets: median <= 50 ms for a month of studies, <= 10 ms for a small query): indexed {rows} instances ({n_studies} studies) in {time.perf_counter() - start:.1f} s")
        QueryHandlers.find = timed_find  # type: ignore[method-assign]
        try:
            server = DicomServer(settings, archive)
            server.start()
        finally:
            QueryHandlers.find = original_find  # type: ignore[method-assign]
        with server:
            node = Node("srv", settings.ae_title, "127.0.0.1", server.address[1])
            cases = {
                "PatientID exact": {"PatientID": "P001234"},
                "PatientName wildcard, 1 patient": {"PatientName": "name001234*"},
                "PatientName wildcard, 10 patients": {"PatientName": "name00123*"},
                "AccessionNumber": {"AccessionNumber": "A0002345"},
                "StudyDate range (1 month)": {"StudyDate": "20150201-20150228"},
                "PatientName wildcard, 100 patients": {"PatientName": "name0012*"},
            }
            with QuerySession(client, node) as session:
                # The client's DUL would otherwise poll every 1 ms (QuerySession does not ask for fast polling):
                # measure the server, not that.
                session.assoc.dul._run_loop_delay = 0.00005
                for label, filters in cases.items():
                    times = []
                    server_times.clear()
                    for _ in range(queries):
                        t = time.perf_counter()
                        found = session.find("study", filters)
                        times.append(time.perf_counter() - t)
                    per_match = ""
                    if len(found) > 20:
                        per_match = f"  ({statistics.median(times) * 1000 / len(found):.2f} ms per match)"
                    print(f"  study-level {label:36s} {len(found):4d} matches: median {statistics.median(times) * 1000:6.1f} ms"
                          f"  (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; server "
                          f"{statistics.median(server_times) * 1000:.1f} ms){per_match}")
    shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-find", action="store_true")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    for tool in ("storescu", "storescp", "Orthanc"):
        if not find_tool(tool):
            print(f"{tool} is not installed: cannot benchmark", file=sys.stderr)
            return 1
    if not args.skip_store:
        files = data_set(args.count)
        size = sum(f.stat().st_size for f in files) / 1e6
        work = Path(tempfile.mkdtemp(prefix="bench_scp_"))
        try:
            results: dict[str, float] = {}
            ratios: list[float] = []
            for n in range(args.rounds):
                times = {}
                for name, fn in (("workstation serve", bench_serve), ("Orthanc", bench_orthanc),
                                 ("storescp", bench_storescp)):
                    times[name] = t = fn(files, work)
                    results[name] = min(results.get(name, t), t)
                ratios.append(times["workstation serve"] / times["Orthanc"])
                print(f"  round {n + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
                      + f"; serve/Orthanc {ratios[-1]:.2f}x", flush=True)
            print(f"\nC-STORE of {len(files)} CT 512x512 ({size:.0f} MB) with storescu, one association "
                  f"(best of {args.rounds}):")
            for name, t in results.items():
                print(f"  {name:18s} {t:6.2f} s  {t * 1000 / len(files):5.2f} ms/inst  {len(files) / t:6.0f} inst/s  "
                      f"{size / t:6.1f} MB/s")
            ours = results["workstation serve"]
            print(f"  ratio serve/Orthanc  {ours / results['Orthanc']:.2f}x best vs best, "
                  f"{statistics.median(ratios):.2f}x median of per-round ratios (target <= 1.0x)")
            print(f"  ratio serve/storescp {ours / results['storescp']:.2f}x (stretch <= 4x)")
            if args.profile:
                profile_inprocess(files, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if not args.skip_find:
        bench_find()
    return 0


if __name__ == "__main__":
    sys.exit(main())
