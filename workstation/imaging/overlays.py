"""Overlay planes (PS3.3 C.9, groups 6000-601E): CAD marks, ROI outlines and text that modalities and older
systems put beside the pixels. The viewer draws them on the image, as Horos and dcmtk do.

Only planes stored in Overlay Data (60xx,3000) are read; the retired form embedded in unused high bits of the pixel
data is not (pydicom does not support it either). A multi-frame plane applies to the image frames from its Image
Frame Origin on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

GROUPS = tuple(range(0x6000, 0x6020, 2))


@dataclass(frozen=True)
class OverlayPlane:
    group: int
    origin: tuple[int, int]  # 0-based (row, column) in the image of the plane's first pixel
    mask: np.ndarray  # bool, (rows, columns)
    kind: str  # "G" (graphics) or "R" (region of interest)
    label: str


def overlay_planes(ds: Dataset, frame: int = 0) -> list[OverlayPlane]:
    """The planes of ``ds`` that apply to its image frame ``frame`` (0-based); never raises (a damaged plane is
    skipped and logged)."""
    planes: list[OverlayPlane] = []
    for group in GROUPS:
        if (group << 16 | 0x3000) not in ds:
            continue
        try:
            plane = _plane(ds, group, frame)
        except Exception as exc:  # noqa: BLE001 - a damaged plane must not keep the image from showing
            log.info("overlay plane %04X of %s not drawn: %s", group, ds.get("SOPInstanceUID", "?"), exc)
            continue
        if plane is not None:
            planes.append(plane)
    return planes


def _plane(ds: Dataset, group: int, frame: int) -> OverlayPlane | None:
    arr = np.asarray(ds.overlay_array(group))
    if arr.ndim == 3:
        first = _int(ds, group, 0x0051, 1)  # Image Frame Origin, 1-based
        k = frame - (first - 1)
        if not 0 <= k < arr.shape[0]:
            return None
        arr = arr[k]
    elif arr.ndim != 2:
        return None
    origin = ds.get(group << 16 | 0x0050)
    values = list(origin.value) if origin is not None and origin.value is not None else [1, 1]
    if len(values) < 2:
        values = [1, 1]
    row, col = int(values[0]) - 1, int(values[1]) - 1
    kind = ds.get(group << 16 | 0x0040)
    label = ds.get(group << 16 | 0x1500) or ds.get(group << 16 | 0x0022)
    return OverlayPlane(
        group,
        (row, col),
        arr.astype(bool),
        str(kind.value).strip().upper() if kind is not None and kind.value else "G",
        str(label.value).strip() if label is not None and label.value else "",
    )


def _int(ds: Dataset, group: int, element: int, default: int) -> int:
    elem = ds.get(group << 16 | element)
    try:
        return int(elem.value) if elem is not None and elem.value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def composite(planes: list[OverlayPlane], rows: int, columns: int,
              color: tuple[int, int, int, int] = (255, 255, 255, 255)) -> np.ndarray | None:
    """The planes drawn into one RGBA image of the image's size (transparent elsewhere), clipped to the image;
    None when nothing of them falls on it."""
    out: np.ndarray | None = None
    for p in planes:
        r0, c0 = p.origin
        h, w = p.mask.shape
        top, left = max(r0, 0), max(c0, 0)
        bottom, right = min(r0 + h, rows), min(c0 + w, columns)
        if top >= bottom or left >= right:
            continue
        part = p.mask[top - r0 : bottom - r0, left - c0 : right - c0]
        if not part.any():
            continue
        if out is None:
            out = np.zeros((rows, columns, 4), np.uint8)
        out[top:bottom, left:right][part] = color
    return out


__all__ = ["GROUPS", "OverlayPlane", "composite", "overlay_planes"]
