"""``workstation render IMAGE -o OUT.png --presentation-state PS``: one frame as a presentation state shows it.

The engine is imaging.pstate (the whole GSPS pipeline). PS is a file or an archived SOPInstanceUID. A PS that does
not reference the image (or frame), or a file that is not a PS, exits 1 with one line. What the PS asks for but is
not drawn into the picture (damaged parts, text no installed font can show, ...) is named on stderr, one line each.
Graphic and text annotations and activated overlays are drawn into the picture (imaging.ps_draw).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pydicom.dataset import Dataset

from workstation.cli.context import CommandError

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The presentation-state option of ``workstation render``."""
    p.add_argument("--presentation-state", metavar="PS", dest="presentation_state",
                   help="apply this Grayscale Softcopy Presentation State (a file, or a SOPInstanceUID in the "
                   "archive): its VOI, presentation LUT, rotation/flip, shutters and displayed area")


def refuse_with_plane(args: argparse.Namespace) -> None:
    """A presentation state applies to one stored image, not to a plane through a volume: say so."""
    if getattr(args, "presentation_state", None):
        raise CommandError("--presentation-state: not with --plane/--normal (a presentation state applies to "
                           "the stored image)")


def render_with_ps(args: argparse.Namespace, ctx, path: Path, header: Dataset, index: int,
                   size: tuple[int, int] | None) -> int:
    """Render frame ``index`` of ``path`` with ``args.presentation_state``, write ``args.output``; exit code."""
    from workstation.cli.imaging_cmds import _resolve_source
    from workstation.dicom.presentation_state import NotAPresentationState, read_presentation_state
    from workstation.imaging import ImagingError, write_png
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.presentation import resize
    from workstation.imaging.ps_draw import draw_state
    from workstation.imaging.pstate import ImageNotReferenced, render_with_state

    clashing = [o for o, v in (("--window", args.window), ("--invert", args.invert)) if v]
    if clashing:
        raise CommandError(f"{', '.join(clashing)}: not with --presentation-state (the presentation state "
                           "sets the window and the inversion)")
    ps_path = _resolve_source(args.presentation_state, ctx)
    try:
        ps = read_presentation_state(ps_path)
    except NotAPresentationState as exc:
        raise CommandError(str(exc)) from None
    try:
        frame = decode_frame(path, index, header=header)
        result = draw_state(render_with_state(ps, header, frame, frame_number=index + 1), ps, header, index + 1)
    except ImageNotReferenced as exc:
        raise CommandError(f"{ps_path.name}: {exc}") from None
    except ImagingError as exc:
        raise CommandError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a hostile image or PS: one line, the details in the log
        log.warning("render of %s with %s failed", path, ps_path, exc_info=True)
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CommandError(f"{path.name}: cannot render with {ps_path.name}: {type(exc).__name__}: {first}") from None
    image = result.image if size is None else resize(result.image, size)
    out = Path(args.output)
    try:
        write_png(out, image)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    for warning in result.warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    label = ps.content_label or ps.sop_instance_uid
    kind = "RGB" if image.ndim == 3 else "gray"
    print(f"{out}: {image.shape[1]}x{image.shape[0]} {kind}, frame {index + 1}, presentation state {label}")
    return 0
