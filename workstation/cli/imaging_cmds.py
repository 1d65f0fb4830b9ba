"""``workstation render``: one frame to PNG, exactly as the viewer shows it at that presentation."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

from workstation.cli import plane_render, pstate_render
from workstation.cli.context import CommandError

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "render",
        help="render one frame of an image to an 8-bit PNG (no GUI)",
        description="Render a frame as the viewer shows it: modality LUT, window (default: the file's first "
        "window, else its VOI LUT, else the full range of modality values), MONOCHROME1/INVERSE inversion.",
    )
    p.add_argument("source", metavar="SOURCE", help="a DICOM file, or a SOPInstanceUID in the archive (with "
                   "--plane/--normal: a folder of one series, or a SeriesInstanceUID)")
    p.add_argument("-o", "--output", metavar="OUT.png", required=True, help="PNG file to write")
    p.add_argument("--frame", metavar="N", type=int, default=1, help="frame number, counting from 1 (default 1)")
    p.add_argument(
        "--window",
        nargs="+",
        metavar="ARG",
        help="CENTER WIDTH in modality units (HU for CT), or 'minmax'",
    )
    p.add_argument("--invert", action="store_true", help="invert the gray scale (on top of MONOCHROME1)")
    p.add_argument("--size", metavar="WxH", help="output size in pixels, e.g. 512x512")
    pstate_render.add_arguments(p)  # --presentation-state: a GSPS applied (cli/pstate_render.py)
    plane_render.add_arguments(p)  # --plane/--normal: a plane through a series' volume (cli/plane_render.py)
    p.set_defaults(func=render_cmd)


def _resolve_source(source: str, ctx) -> Path:
    path = Path(source)
    if path.exists():
        if path.is_dir():
            raise CommandError(f"{source}: is a folder; give a file or a SOPInstanceUID")
        return path
    if not re.fullmatch(r"[0-9.]{1,64}", source):
        raise CommandError(f"{source}: no such file")
    try:
        found = ctx.archive.instance_path(source)
    except CommandError:
        raise
    except (ImportError, AttributeError) as exc:
        raise CommandError(f"{source}: no such file, and the archive is not available ({exc})") from None
    if found is None:
        raise CommandError(f"{source}: no such file or SOPInstanceUID in the archive")
    return Path(found)


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1 or int(m.group(1)) * int(m.group(2)) > 1 << 28:
        raise CommandError(f"--size {text}: expected WIDTHxHEIGHT, e.g. 512x512")
    return int(m.group(1)), int(m.group(2))


def _parse_window(values: list[str] | None, function):
    from workstation.imaging import Window

    if values is None:
        return None
    if len(values) == 1 and values[0].lower() == "minmax":
        return "minmax"
    if len(values) != 2:
        raise CommandError("--window takes CENTER WIDTH or 'minmax'")
    try:
        center, width = float(values[0]), float(values[1])
    except ValueError:
        raise CommandError(f"--window {' '.join(values)}: CENTER and WIDTH must be numbers") from None
    if not width > 0:
        raise CommandError("--window: WIDTH must be positive")
    return Window(center, width, function)


def render_cmd(args: argparse.Namespace, ctx) -> int:
    import pydicom

    from workstation.imaging import ImagingError, Presentation, render, write_png
    from workstation.imaging.decode import decode_frame, frame_count, read_header
    from workstation.imaging.native_stderr import decoder_output_to_log
    from workstation.imaging.series import describe_object, has_pixels

    if plane_render.wants_plane(args):
        pstate_render.refuse_with_plane(args)
        return plane_render.render_plane(args, ctx)
    try:
        ctx.settings  # sets up logging to the log file, so errors reach stderr once, as our one line
    except CommandError:
        pass  # unreadable settings do not stop rendering a file
    path = _resolve_source(args.source, ctx)
    size = _parse_size(args.size)
    try:
        header = read_header(path)
    except (pydicom.errors.InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise CommandError(f"{path}: not a readable DICOM file ({exc})") from None
    if not has_pixels(header):
        what = describe_object(header)
        if "Image" in what:
            raise CommandError(f"{path.name}: this {what} object has no pixel data; nothing to render")
        raise CommandError(f"{path.name}: {what} is not an image; nothing to render")
    n = frame_count(header)
    if not 1 <= args.frame <= n:
        raise CommandError(f"--frame {args.frame}: {path.name} has {n} frame{'s' if n != 1 else ''}")
    index = args.frame - 1
    if args.presentation_state:
        return pstate_render.render_with_ps(args, ctx, path, header, index, size)
    try:
        pres = Presentation.from_dataset(header, index)
        window = _parse_window(args.window, pres.voi_function)
        with decoder_output_to_log(f"decoder on {path.name}", log):  # C decoders' own stderr lines: to the log
            frame = decode_frame(path, index, header=header)
        image = render(pres, frame, window, invert=args.invert, size=size)
    except ImagingError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise CommandError(f"{path.name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged presentation attribute (LUT, window) of a hostile file
        log.warning("render of %s frame %d failed", path, args.frame, exc_info=True)
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CommandError(f"{path.name}: cannot render frame {args.frame}: {type(exc).__name__}: {first}") from None
    out = Path(args.output)
    try:
        write_png(out, image)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    kind = "RGB" if image.ndim == 3 else "gray"
    print(f"{out}: {image.shape[1]}x{image.shape[0]} {kind}, frame {args.frame}/{n}")
    return 0
