"""Per-frame patient geometry, from plain attributes or the enhanced multi-frame functional groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset


@dataclass(frozen=True)
class FrameGeometry:
    """Where a frame lies in the patient coordinate system (mm). Any item may be None when the file lacks it."""

    image_position: tuple[float, float, float] | None = None
    image_orientation: tuple[float, float, float, float, float, float] | None = None
    pixel_spacing: tuple[float, float] | None = None  # (row spacing, column spacing), as in PixelSpacing
    slice_location: float | None = None
    slice_thickness: float | None = None
    frame_of_reference_uid: str | None = None
    instance_number: int | None = None

    @property
    def normal(self) -> np.ndarray | None:
        """Unit slice normal (row direction x column direction), or None without orientation."""
        if self.image_orientation is None:
            return None
        o = np.asarray(self.image_orientation, dtype=float)
        n = np.cross(o[:3], o[3:])
        norm = np.linalg.norm(n)
        return n / norm if norm > 1e-6 else None

    def position_along(self, normal: np.ndarray) -> float | None:
        """Distance of the frame along ``normal`` (ImagePositionPatient . normal)."""
        if self.image_position is None:
            return None
        return float(np.dot(np.asarray(self.image_position, dtype=float), normal))


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    if value is None:
        return None
    items = list(value) if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else [value]
    try:
        vals = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None
    return vals if len(vals) == n and all(np.isfinite(vals)) else None


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _group_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """The item of ``sequence`` for this frame: per-frame group first, else the shared group."""
    for groups, idx in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(groups)
        if seq and len(seq) > idx:
            inner = seq[idx].get(sequence)
            if inner:
                return inner[0]
    return None


def frame_geometry(ds: Dataset, frame: int = 0) -> FrameGeometry:
    """Geometry of one frame of a dataset (``frame`` counts from 0)."""
    position = _floats(ds.get("ImagePositionPatient"), 3)
    orientation = _floats(ds.get("ImageOrientationPatient"), 6)
    spacing = _floats(ds.get("PixelSpacing"), 2)
    thickness = _float(ds.get("SliceThickness"))
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        item = _group_item(ds, frame, "PlanePositionSequence")
        if item is not None:
            position = _floats(item.get("ImagePositionPatient"), 3) or position
        item = _group_item(ds, frame, "PlaneOrientationSequence")
        if item is not None:
            orientation = _floats(item.get("ImageOrientationPatient"), 6) or orientation
        item = _group_item(ds, frame, "PixelMeasuresSequence")
        if item is not None:
            spacing = _floats(item.get("PixelSpacing"), 2) or spacing
            thickness = _float(item.get("SliceThickness")) if "SliceThickness" in item else thickness
    elif spacing is None:
        spacing = _floats(ds.get("ImagerPixelSpacing"), 2)
    return FrameGeometry(
        image_position=position,  # type: ignore[arg-type]
        image_orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing=spacing,  # type: ignore[arg-type]
        slice_location=_float(ds.get("SliceLocation")),
        slice_thickness=thickness,
        frame_of_reference_uid=str(ds.FrameOfReferenceUID) if ds.get("FrameOfReferenceUID") else None,
        instance_number=_int(ds.get("InstanceNumber")),
    )
