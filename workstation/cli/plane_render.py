"""``workstation render SOURCE --plane ... | --normal ...``: a plane (or slab) through a series' volume to PNG.

The same engine as the MPR window (imaging.volume + imaging.reslice). ``--json`` prints the output plane in DICOM
image-plane terms, so the geometry can be checked without a screen. A series that cannot be reconstructed exits
1 with one line saying why.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from workstation.cli.context import CommandError

_UID = re.compile(r"[0-9.]{1,64}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The plane options of ``workstation render`` (added to its parser)."""
    g = p.add_argument_group("planes through a series (SOURCE: a folder of one series, or a SeriesInstanceUID)")
    g.add_argument("--plane", choices=("axial", "sagittal", "coronal"), help="a standard plane")
    g.add_argument("--normal", metavar="NX,NY,NZ", help="an oblique plane with this normal (patient LPS)")
    g.add_argument("--through", metavar="X,Y,Z",
                   help="a patient point (LPS, mm) on the plane (default: the volume's centre); "
                   "negative values as --through=-30,-10,-5")
    g.add_argument("--slab", metavar="MM", type=float, default=0.0, help="slab thickness in mm, centred on the plane")
    g.add_argument("--mode", choices=("mip", "minip", "avg"), help="how a slab is combined (default avg)")
    g.add_argument("--json", action="store_true", help="print the output plane's geometry as one JSON object")


def wants_plane(args: argparse.Namespace) -> bool:
    """Whether ``render`` was asked for a plane; plane-only options without one are an error."""
    if getattr(args, "plane", None) or getattr(args, "normal", None):
        return True
    given = [o for o, v in (("--through", getattr(args, "through", None)), ("--slab", getattr(args, "slab", 0)),
                            ("--mode", getattr(args, "mode", None)), ("--json", getattr(args, "json", False))) if v]
    if given:
        raise CommandError(f"{', '.join(given)}: only with --plane or --normal")
    return False


def _vector(text: str, option: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(abs(v) < 1e9 for v in values):
        raise CommandError(f"{option} {text}: expected three numbers X,Y,Z (e.g. {option}=-30,-10,-5)")
    return values  # type: ignore[return-value]


def _window(values: list[str] | None, function):
    from workstation.imaging import Window

    if values is None:
        return None
    if len(values) == 1 and values[0].lower() == "minmax":
        return "minmax"
    try:
        center, width = (float(v) for v in values)
    except ValueError:
        raise CommandError("--window takes CENTER WIDTH (numbers) or 'minmax'") from None
    if not width > 0:
        raise CommandError("--window: WIDTH must be positive")
    return Window(center, width, function)


def _series_paths(source: str, ctx) -> list[str]:
    path = Path(source)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.is_file())
        if not files:
            raise CommandError(f"{source}: the folder holds no files")
        return files
    if path.is_file():
        return [str(path)]  # e.g. one enhanced multi-frame file
    if not _UID.fullmatch(source):
        raise CommandError(f"{source}: no such folder")
    rows = ctx.archive.query("instance", {"SeriesInstanceUID": source})
    if not rows:
        raise CommandError(f"{source}: no such folder, nor a SeriesInstanceUID in the archive")
    return [row["path"] for row in rows]


def _budget(ctx):
    from workstation.imaging import MemoryBudget

    try:
        fraction = ctx.settings.memory_budget_fraction
    except CommandError:
        fraction = 0.25  # unreadable settings do not stop a render
    return MemoryBudget.fraction_of_ram(fraction)


def render_plane(args: argparse.Namespace, ctx) -> int:
    """The handler for ``render`` with ``--plane`` or ``--normal``."""
    from workstation.imaging import ImagingError, render, write_png
    from workstation.imaging.reslice import Reslicer, plane_for
    from workstation.imaging.series import open_series
    from workstation.imaging.volume import NotReconstructable, volume_from_stacks

    if args.plane and args.normal:
        raise CommandError("give --plane or --normal, not both")
    if getattr(args, "frame", 1) != 1 or getattr(args, "size", None):
        raise CommandError("--frame and --size do not apply to planes")
    normal = _vector(args.normal, "--normal") if args.normal else None
    through = _vector(args.through, "--through") if args.through else None
    if not args.slab >= 0 or args.slab > 1000:
        raise CommandError("--slab: a thickness in mm between 0 and 1000")
    if args.mode and not args.slab:
        raise CommandError("--mode needs --slab MM")
    mode = args.mode or "avg"
    budget = _budget(ctx)
    paths = _series_paths(args.source, ctx)
    try:
        stacks = open_series(paths, memory_budget=budget)
        volume = volume_from_stacks(stacks, memory_budget=budget.total)
    except NotReconstructable as exc:
        raise CommandError(f"{args.source}: cannot be reconstructed: {exc}") from None
    except ImagingError as exc:
        raise CommandError(f"{args.source}: {exc}") from None
    try:
        plane = plane_for(volume, args.plane, normal=normal, through=through)
        image = Reslicer(volume).reslice(plane, args.slab, mode)
        picture = render(volume.presentation, image, _window(args.window, volume.presentation.voi_function),
                         invert=args.invert)
    except ImagingError as exc:
        raise CommandError(str(exc)) from None
    warnings = list(volume.warnings)
    dist = [plane.patient_to_pixel(c)[2] for c in volume.corners()]
    if min(dist) > 1e-6 or max(dist) < -1e-6:
        warnings.append("the plane does not cross the volume")
    out = Path(args.output)
    try:
        write_png(out, picture)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    if args.json:
        info = plane.to_dict()
        info.update(slab_mm=float(args.slab), mode=mode if args.slab else None, warnings=warnings,
                    frame_of_reference_uid=volume.frame_of_reference_uid, output=str(out))
        print(json.dumps(info))
    else:
        what = args.plane or "oblique"
        slab = f", {args.slab:g} mm {mode} slab" if args.slab else ""
        note = f" ({'; '.join(warnings)})" if warnings else ""
        print(f"{out}: {plane.columns}x{plane.rows} {what} plane{slab}{note}")
    for stack in stacks:
        stack.close()
    return 0
