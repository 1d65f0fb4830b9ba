"""Imaging benchmarks: decoders per transfer syntax, series open time, scrolling, memory.

Run: ``python -m tests.bench.bench_imaging`` or ``python tests/bench/bench_imaging.py`` (``--quick`` for a
smaller run). Prints the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom.uid import UID  # noqa: E402

from tests.imaging.synth import make_ct, make_series  # noqa: E402
from workstation.imaging import available_decoders, decode_frame, open_series  # noqa: E402

SYNTAXES = {
    "1.2.840.10008.1.2": ("dcmconv", ["+ti"]),
    "1.2.840.10008.1.2.1": (None, []),
    "1.2.840.10008.1.2.2": ("dcmconv", ["+tb"]),
    "1.2.840.10008.1.2.1.99": ("dcmconv", ["+td"]),
    "1.2.840.10008.1.2.5": ("pydicom", []),
    "1.2.840.10008.1.2.4.50": ("dcmcjpeg", ["+eb"]),
    "1.2.840.10008.1.2.4.51": ("dcmcjpeg", ["+ee"]),
    "1.2.840.10008.1.2.4.57": ("dcmcjpeg", ["+el"]),
    "1.2.840.10008.1.2.4.70": ("dcmcjpeg", ["+e1"]),
    "1.2.840.10008.1.2.4.80": ("dcmcjpls", ["+el"]),
    "1.2.840.10008.1.2.4.81": ("dcmcjpls", ["+en"]),
    "1.2.840.10008.1.2.4.90": ("pydicom", []),
    "1.2.840.10008.1.2.4.91": ("pydicom", []),
}


def phantom(rows: int = 512, cols: int = 512, seed: int = 0) -> np.ndarray:
    """A CT-like int16 slice (stored values, intercept -1024): body ellipse, organs, bone ring, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1:1:rows * 1j, -1:1:cols * 1j]
    img = np.zeros((rows, cols))  # air: -1024 HU
    body = (x / 0.85) ** 2 + (y / 0.7) ** 2 < 1
    img[body] = 1024 + 40
    img[((x + 0.35) / 0.2) ** 2 + (y / 0.3) ** 2 < 1] = 1024 - 800  # lungs
    img[((x - 0.35) / 0.2) ** 2 + (y / 0.3) ** 2 < 1] = 1024 - 800
    ring = np.abs(np.hypot(x / 0.8, y / 0.65) - 0.95) < 0.03
    img[ring & body] = 1024 + 900
    img += rng.normal(0, 12, img.shape) * body
    return np.clip(img, 0, 4095).astype(np.int16)


def make_syntax_file(folder: Path, ts: str) -> Path | None:
    base = make_ct(folder / "base.dcm", phantom(), position=(0, 0, 0), series_uid="1.2.3", for_uid="1.2.3.1",
                   instance_number=1)
    tool, opts = SYNTAXES[ts]
    out = folder / f"{ts}.dcm"
    if tool is None:
        return base
    if tool == "pydicom":
        ds = pydicom.dcmread(base)
        kwargs = {}
        if ts == "1.2.840.10008.1.2.4.91":
            kwargs = {"j2k_cr": [20], "use_mct": False}
        ds.compress(ts, encoding_plugin="pylibjpeg" if "4.9" in ts else "", **kwargs)
        ds.save_as(out)
        return out
    if ts == "1.2.840.10008.1.2.4.81":
        # dcmcjpls encodes near-lossless only for unsigned pixels; the phantom's values are 0..4095 anyway.
        ds = pydicom.dcmread(base)
        ds.PixelRepresentation = 0
        base = folder / "base_unsigned.dcm"
        ds.save_as(base)
    proc = subprocess.run([tool, *opts, str(base), str(out)], capture_output=True)
    return out if proc.returncode == 0 else None


def bench_decoders(folder: Path, reps: int) -> dict:
    print("\n== Decode ms/frame (512x512 CT phantom, median of %d) ==" % reps)
    results = {}
    for ts in SYNTAXES:
        path = make_syntax_file(folder, ts)
        name = UID(ts).name
        if path is None:
            print(f"  {name:62s} could not be encoded here")
            continue
        row = {}
        for dec in available_decoders(ts):
            times = []
            try:
                decode_frame(path, 0, dec)
                for _ in range(reps):
                    t0 = time.perf_counter()
                    decode_frame(path, 0, dec)
                    times.append((time.perf_counter() - t0) * 1000)
                row[dec] = statistics.median(times)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports failures
                row[dec] = f"fails: {type(exc).__name__}"
        results[name] = row
        cells = "  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
        best = min((v, k) for k, v in row.items() if isinstance(v, float))[1] if any(
            isinstance(v, float) for v in row.values()) else "-"
        print(f"  {name:62s} {cells}   fastest: {best}")
    return results


def _series(folder: Path, n: int, **kw) -> list[Path]:
    marker = folder / f".done{n}"
    if marker.exists():
        return sorted(folder.glob("*.dcm"))
    paths = make_series(folder, n, rows=512, cols=512, pixels=phantom(), shuffle=True, **kw)
    marker.touch()
    return paths


def bench_open(root: Path, sizes: list[int]) -> dict:
    print("\n== Open series: time to first frame (512x512 int16, uncompressed, shuffled files) ==")
    out = {}
    for n in sizes:
        paths = _series(root / f"series{n}", n)
        os.sync()
        t0 = time.perf_counter()
        stacks = open_series(paths)
        t1 = time.perf_counter()
        stack = stacks[0]
        stack.get_frame(len(stack) // 2, timeout=60)
        t2 = time.perf_counter()
        out[n] = {"headers_s": t1 - t0, "first_frame_s": t2 - t0}
        print(f"  {n:5d} slices: headers+sort {t1 - t0:6.2f} s, first frame at {t2 - t0:6.2f} s "
              f"({(t1 - t0) / n * 1000:.2f} ms/file)")
        stack.close()
    return out


def bench_scroll(root: Path, n: int) -> dict:
    print(f"\n== Scrolling {n} frames: frames/s ==")
    from concurrent.futures import ThreadPoolExecutor

    res = {}
    raw = _series(root / f"series{n}raw", n)
    j2k_dir = root / f"series{n}j2k"
    if not (j2k_dir / ".done").exists():
        make_series(j2k_dir, n, rows=512, cols=512, pixels=phantom(), transfer_syntax="1.2.840.10008.1.2.4.90")
        (j2k_dir / ".done").touch()
    j2k = sorted(j2k_dir.glob("*.dcm"))
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    for label, paths in (("uncompressed, cached", raw), ("uncompressed, cold + prefetch", raw),
                         ("JPEG 2000 lossless, cold + prefetch", j2k), ("JPEG 2000 lossless, no prefetch", j2k)):
        (stack,) = open_series(paths, executor=pool)
        if "cached" in label:
            stack.volume()
        t0 = time.perf_counter()
        for i in range(len(stack)):
            if "no prefetch" not in label:
                stack.prefetch(i, +1)
            stack.get_frame(i, timeout=60)
        dt = time.perf_counter() - t0
        res[label] = len(stack) / dt
        print(f"  {label:40s} {len(stack) / dt:9.1f} frames/s")
        stack.close()
    pool.shutdown()
    return res


def _colour_file(path: Path, rows: int = 480, cols: int = 640, palette: bool = False) -> Path:
    """An ultrasound-like 640x480 RGB (or PALETTE COLOR) secondary capture, uncompressed."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    y, x = np.mgrid[0:rows, 0:cols]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.Modality = "US"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if palette:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "PALETTE COLOR"
        ramp = np.arange(256, dtype=np.uint16) * 257
        for name, table in (("Red", ramp), ("Green", ramp[::-1].copy()), ("Blue", (ramp // 2).copy())):
            setattr(ds, f"{name}PaletteColorLookupTableDescriptor", [256, 0, 16])
            setattr(ds, f"{name}PaletteColorLookupTableData", table.astype("<u2").tobytes())
        ds.PixelData = ((x + y) % 256).astype(np.uint8).tobytes()
    else:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
        rgb = np.dstack([(x * 255 // cols), (y * 255 // rows), ((x + y) % 256)]).astype(np.uint8)
        ds.PixelData = rgb.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def bench_thumbnails(folder: Path, reps: int) -> dict:
    """A series-panel thumbnail (header, decode, presentation, render at 96 px) of colour against gray files."""
    from workstation.imaging import Presentation, render
    from workstation.imaging.decode import read_header

    print(f"\n== Thumbnail 96 px: header + decode + render (median of {reps}, ms; target colour <= 100 ms) ==")
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "gray CT 512x512 int16": make_ct(folder / "ct.dcm", phantom(), position=(0, 0, 0), series_uid="1.2.3",
                                         for_uid="1.2.3.1", instance_number=1),
        "colour US 640x480 RGB": _colour_file(folder / "rgb.dcm"),
        "colour 640x480 PALETTE COLOR": _colour_file(folder / "palette.dcm", palette=True),
    }
    try:  # a real cine ultrasound: 120 frames of 640x480 YBR_FULL_422 JPEG baseline (pydicom-data)
        from tests.data import test_file

        files["colour US JPEG YBR, 120 frames"] = test_file("color3d_jpeg_baseline.dcm")
    except Exception:  # noqa: BLE001 - the benchmark runs without pydicom-data too
        pass

    def thumbnail(path: Path) -> np.ndarray:
        header = read_header(path)
        middle = int(header.get("NumberOfFrames", 1) or 1) // 2  # the frame the thumbnails show
        frame = decode_frame(path, middle, header=header)
        scale = 96 / max(frame.shape[:2])
        size = (max(1, int(frame.shape[1] * scale)), max(1, int(frame.shape[0] * scale)))
        return render(Presentation.from_dataset(header), frame, None, size=size)

    out = {}
    for label, path in files.items():
        thumbnail(path)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            thumbnail(path)
            times.append((time.perf_counter() - t0) * 1000)
        out[label] = statistics.median(times)
    gray = out["gray CT 512x512 int16"]
    for label, ms in out.items():
        ratio = "" if label.startswith("gray") else f"  = {ms / gray:.2f}x gray" + (
            "  (target met)" if ms <= 100 else "  (OVER the 100 ms target)")
        print(f"  {label:34s} {ms:8.2f} ms{ratio}")
    return out


_RSS_CHILD = r"""
import json, resource, sys, glob
sys.path.insert(0, {root!r})
import numpy as np
from workstation.imaging import open_series
paths = sorted(glob.glob({folder!r} + "/*.dcm"))
mode = {mode!r}
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
(stack,) = open_series(paths, memory_budget={budget})
try:
    open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
except OSError:
    pass
base = status("VmRSS")
rss_mb = lambda: status("VmHWM")
if mode == "volume":
    vol = stack.volume()
elif mode == "np.stack":
    from workstation.imaging.decode import decode_frame
    frames = [decode_frame(p, 0, header=stack.header(i)) for i, p in enumerate(stack.source(i).path for i in range(len(stack)))]
    vol = np.stack(frames)
else:
    for i in range(len(stack)):
        stack.prefetch(i, +1)
        stack.get_frame(i, timeout=60)
print(json.dumps({{"base_mb": base, "peak_mb": rss_mb(), "raw_mb": stack.raw_bytes / 2**20,
                  "cached_mb": stack.cached_bytes() / 2**20, "fits": stack.fits_budget}}))
"""


def rss_child(folder: Path, mode: str, budget: int) -> dict:
    code = _RSS_CHILD.format(root=str(Path(__file__).resolve().parents[2]), folder=str(folder), mode=mode,
                             budget=budget)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_memory(root: Path, n_cached: int, n_big: int) -> dict:
    print("\n== Memory (peak RSS of a child process; headers already read = base) ==")
    out = {}
    folder = root / f"series{n_cached}"
    _series(folder, n_cached)
    for mode in ("volume", "np.stack"):
        r = rss_child(folder, mode, 4 << 30)
        out[f"{n_cached} {mode}"] = r
        print(f"  {n_cached} slices fully cached via {mode:9s}: raw {r['raw_mb']:.0f} MiB, "
              f"peak RSS growth {r['peak_mb'] - r['base_mb']:.0f} MiB "
              f"({(r['peak_mb'] - r['base_mb']) / r['raw_mb']:.2f}x raw)")
    folder = root / f"series{n_big}"
    _series(folder, n_big)
    budget = 256 << 20
    r = rss_child(folder, "scroll", budget)
    out[f"{n_big} scroll"] = r
    print(f"  {n_big} slices ({r['raw_mb']:.0f} MiB raw) scrolled end to end with a {budget >> 20} MiB budget: "
          f"cache {r['cached_mb']:.0f} MiB, peak RSS growth {r['peak_mb'] - r['base_mb']:.0f} MiB, "
          f"headers+interpreter {r['base_mb']:.0f} MiB")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller series (for a smoke run)")
    parser.add_argument("--dir", help="work folder (kept; default: a temporary one)")
    parser.add_argument("--thumbnails", action="store_true", help="only the thumbnail figures")
    args = parser.parse_args(argv)
    sizes = [20, 50, 100] if args.quick else [50, 500, 2000]
    with tempfile.TemporaryDirectory(prefix="bench_imaging_") as tmp:
        root = Path(args.dir) if args.dir else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        (root / "syntax").mkdir(exist_ok=True)
        print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pydicom {pydicom.__version__}, "
              f"{os.cpu_count()} CPUs")
        bench_thumbnails(root / "thumbnails", 5 if args.quick else 20)
        if args.thumbnails:
            return 0
        bench_decoders(root / "syntax", 5 if args.quick else 20)
        bench_open(root, sizes)
        bench_scroll(root, 30 if args.quick else 100)
        bench_memory(root, sizes[1], sizes[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
