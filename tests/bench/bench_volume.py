"""Volume reading benchmarks: a 512x512x400 CT (issue 11's targets), VTK against scipy in the same run.

Run: ``python -m tests.bench.bench_volume`` (``--quick``: 256x256x120; ``--json`` for the figures as JSON).
Targets on the 2-core machine: volume ready from cached frames <= 2 s; orthogonal plane <= 16 ms; oblique
(512x512) plane <= 33 ms; 10 mm MIP slab <= 150 ms at full resolution, previews >= 15 fps; volume rendering first
frame <= 7 s then >= 8 fps at 512x512; memory <= 1.3x the raw size. Prints the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from tests.bench.bench_imaging import phantom  # noqa: E402
from tests.imaging.synth import make_series  # noqa: E402
from workstation.imaging import MemoryBudget, open_series  # noqa: E402
from workstation.imaging.reslice import Plane, Reslicer, plane_for, vtk_available  # noqa: E402
from workstation.imaging.volume import build_volume, check_series, plan_volume  # noqa: E402

OBLIQUE = (0.3, 0.25, 0.92)


def rss() -> int:
    """Resident memory of this process now (bytes)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def timed(fn, reps: int) -> list[float]:
    out = []
    for i in range(reps):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def ms(samples: list[float]) -> float:
    return round(statistics.median(samples), 2)


def square(plane: Plane, side: int) -> Plane:
    """A side x side plane with the same orientation, spacing and centre."""
    s = plane.pixel_spacing[0]
    top_left = plane.centre - (side - 1) / 2 * s * (plane.row_dir + plane.col_dir)
    return Plane(side, side, plane.pixel_spacing, tuple(top_left), plane.image_orientation)  # type: ignore[arg-type]


def _shear(stack) -> None:
    """make_series steps along the image normal; a gantry steps along z: move each image there (in the header
    geometry the stack reads), as a tilted acquisition stores it."""
    from dataclasses import replace

    normal = stack.normal
    for i in range(len(stack)):
        g = stack.geometry(i)
        p = np.asarray(g.image_position) - normal * i + np.array([0.0, 0.0, 1.0]) * i
        stack._geometries[i] = replace(g, image_position=tuple(p))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--slices", type=int, default=400, help="images in the series (e.g. 1000)")
    args = ap.parse_args(argv)
    rows, n = (256, 120) if args.quick else (512, args.slices)
    results: dict[str, object] = {"size": f"{rows}x{rows}x{n}", "vtk": vtk_available()}
    figures: list[tuple[str, float, str, bool | None]] = []

    def report(name: str, value: float, target: str, ok: bool | None) -> None:
        figures.append((name, value, target, ok))
        results[name] = value

    with tempfile.TemporaryDirectory(prefix="bench_volume_") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        make_series(folder, n, rows=rows, cols=rows, pixels=phantom(rows, rows), spacing=1.0, shuffle=False)
        results["write_series_s"] = round(time.perf_counter() - t, 1)
        # Libraries first, so the memory figure is the volume's, not VTK's and scipy's code.
        import scipy.ndimage  # noqa: F401
        if vtk_available():
            import workstation.imaging.render3d  # noqa: F401
            from vtkmodules import vtkImagingCore  # noqa: F401
        base = rss()
        t = time.perf_counter()
        stacks = open_series(sorted(folder.glob("*.dcm")), memory_budget=MemoryBudget.fraction_of_ram(0.25))
        report("open_headers_s", round(time.perf_counter() - t, 2), "(headers of the files)", None)
        stack = check_series(stacks)
        t = time.perf_counter()
        stack.volume()
        report("decode_all_s", round(time.perf_counter() - t, 2), "(all frames from the files, 2 threads)", None)
        t = time.perf_counter()
        vol = build_volume(plan_volume(stack))
        engines = ["vtk", "scipy"] if vtk_available() else ["scipy"]
        reslicers = {e: Reslicer(vol, e) for e in engines}
        ready = time.perf_counter() - t
        report("volume_ready_from_cache_s", round(ready, 3), "<= 2 s", ready <= 2.0)
        grown = (rss() - base) / stack.raw_bytes
        report("memory_x_raw", round(max(grown, vol.nbytes / stack.raw_bytes), 3), "<= 1.3x", grown <= 1.3)
        centre = vol.centre
        for engine, rs in reslicers.items():
            reps = args.reps if engine == "vtk" else max(5, args.reps // 3)
            for kind in ("axial", "coronal", "sagittal"):
                plane = plane_for(vol, kind)
                # Scrolling: a new depth each time, as the wheel moves through the stack.
                samples = timed(lambda i: rs.reslice(plane.through(centre + plane.normal * (i % 20 - 10) * 0.7)),
                                reps)
                report(f"{engine}_{kind}_ms", ms(samples), "<= 16 ms", ms(samples) <= 16 if engine == "vtk" else None)
            oblique = square(plane_for(vol, normal=OBLIQUE), 512)
            samples = timed(lambda i: rs.reslice(oblique.through(centre + oblique.normal * (i % 20 - 10))), reps)
            report(f"{engine}_oblique512_ms", ms(samples), "<= 33 ms", ms(samples) <= 33 if engine == "vtk" else None)
            full = plane_for(vol, normal=OBLIQUE)
            samples = timed(lambda i: rs.reslice(full.through(centre + full.normal * (i % 20 - 10))), reps)
            report(f"{engine}_oblique_whole_{full.columns}x{full.rows}_ms", ms(samples), "(whole outline)", None)
            for kind, plane in (("axial", plane_for(vol, "axial")), ("oblique512", oblique)):
                samples = timed(lambda i: rs.reslice(plane.through(centre + plane.normal * (i % 10)), 10.0, "mip"),
                                max(5, reps // 3))
                report(f"{engine}_mip10_{kind}_ms", ms(samples), "<= 150 ms",
                       ms(samples) <= 150 if engine == "vtk" else None)
                coarse = plane.coarse(2)
                samples = timed(lambda i: rs.reslice(coarse.through(centre + coarse.normal * (i % 10)), 10.0, "mip"),
                                max(5, reps // 3))
                fps = round(1000 / ms(samples), 1)
                report(f"{engine}_mip10_{kind}_preview_fps", fps, ">= 15 fps (half resolution)",
                       fps >= 15 if engine == "vtk" else None)
        if vtk_available():
            from workstation.imaging.render3d import VolumeRenderer

            # The MPR window shows an interactive-quality frame first, then refines it (as while dragging).
            t = time.perf_counter()
            renderer = VolumeRenderer(vol, (512, 512), "bone")
            renderer.render(interactive=True)
            first = time.perf_counter() - t
            report("render3d_first_frame_s", round(first, 2), "<= 7 s", first <= 7)
            t = time.perf_counter()
            renderer.render()
            report("render3d_first_still_frame_s", round(first + time.perf_counter() - t, 2), "(full quality)", None)
            for preset in ("bone", "mip"):
                renderer.set_preset(preset)
                renderer.render(interactive=True)
                samples = timed(lambda i: renderer.render(azimuth=5 * i, elevation=2 * i, interactive=True), 12)
                fps = round(1000 / ms(samples), 1)
                report(f"render3d_{preset}_interactive_fps", fps, ">= 8 fps at 512x512", fps >= 8)
                samples = timed(lambda i: renderer.render(azimuth=5 * i), 3)
                report(f"render3d_{preset}_still_ms", ms(samples), "(full quality, after the drag)", None)
            renderer.close()
        for s in stacks:
            s.close()
        del vol, reslicers
        # Gantry tilt: 100 images tilted 20 degrees, resampled onto the regular grid (frames decoded first).
        tilt = folder / "tilt"
        t20 = np.radians(20)
        make_series(tilt, 100, rows=rows, cols=rows, pixels=phantom(rows, rows), spacing=1.0, shuffle=False,
                    orientation=(1, 0, 0, 0, float(np.cos(t20)), float(-np.sin(t20))))
        stack = check_series(open_series(sorted(tilt.glob("*.dcm")), memory_budget=MemoryBudget.fraction_of_ram(0.25)))
        _shear(stack)
        stack.volume()
        t = time.perf_counter()
        vol = build_volume(plan_volume(stack))
        report("tilt_resample_100_images_s", round(time.perf_counter() - t, 2), f"(warnings: {vol.warnings})", None)
        stack.close()
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"volume {results['size']} int16 ({'VTK ' if vtk_available() else ''}vs scipy map_coordinates, "
              f"same run)")
        for name, value, target, ok in figures:
            mark = "" if ok is None else ("  ok" if ok else "  MISSED")
            print(f"  {name:<44} {value:>10}  {target}{mark}")
        for engine in ("axial", "coronal", "sagittal", "oblique512"):
            a, b = results.get(f"vtk_{engine}_ms"), results.get(f"scipy_{engine}_ms")
            if a and b:
                print(f"  scipy/VTK {engine}: {b / a:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
