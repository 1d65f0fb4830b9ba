"""Per-frame patient geometry, from plain attributes or the enhanced multi-frame functional groups."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

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


# Tolerant readers of attribute values, shared with imaging.calibration: a missing, empty, malformed or
# non-finite value is None (the caller says what that means), never an exception.
def attr_floats(value: Any, n: int, *, positive: bool = False) -> tuple[float, ...] | None:
    """``n`` finite floats (each > 0 when ``positive``) from a multi-valued (or single) value, else None."""
    if value is None:
        return None
    items = list(value) if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else [value]
    try:
        vals = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None
    if len(vals) != n or not all(math.isfinite(v) and (v > 0 or not positive) for v in vals):
        return None
    return vals


def attr_float(value: Any) -> float | None:
    """A finite float, else None."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def attr_int(value: Any) -> int | None:
    """An integer, else None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def group_items(ds: Dataset, frame: int, sequence: str) -> Iterator[Dataset]:
    """The items of ``sequence`` for one frame (0-based) of an enhanced multi-frame dataset, in the order they
    apply: the per-frame functional group's first, then the shared group's."""
    for groups, idx in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(groups)
        if seq and len(seq) > idx:
            inner = seq[idx].get(sequence)
            if inner:
                yield inner[0]


def _group_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """The item of ``sequence`` for this frame: per-frame group first, else the shared group."""
    return next(group_items(ds, frame, sequence), None)


def frame_geometry(ds: Dataset, frame: int = 0) -> FrameGeometry:
    """Geometry of one frame of a dataset (``frame`` counts from 0)."""
    position = attr_floats(ds.get("ImagePositionPatient"), 3)
    orientation = attr_floats(ds.get("ImageOrientationPatient"), 6)
    spacing = attr_floats(ds.get("PixelSpacing"), 2)
    thickness = attr_float(ds.get("SliceThickness"))
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        item = _group_item(ds, frame, "PlanePositionSequence")
        if item is not None:
            position = attr_floats(item.get("ImagePositionPatient"), 3) or position
        item = _group_item(ds, frame, "PlaneOrientationSequence")
        if item is not None:
            orientation = attr_floats(item.get("ImageOrientationPatient"), 6) or orientation
        item = _group_item(ds, frame, "PixelMeasuresSequence")
        if item is not None:
            spacing = attr_floats(item.get("PixelSpacing"), 2) or spacing
            thickness = attr_float(item.get("SliceThickness")) if "SliceThickness" in item else thickness
    elif spacing is None:
        spacing = attr_floats(ds.get("ImagerPixelSpacing"), 2)
    return FrameGeometry(
        image_position=position,  # type: ignore[arg-type]
        image_orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing=spacing,  # type: ignore[arg-type]
        slice_location=attr_float(ds.get("SliceLocation")),
        slice_thickness=thickness,
        frame_of_reference_uid=str(ds.FrameOfReferenceUID) if ds.get("FrameOfReferenceUID") else None,
        instance_number=attr_int(ds.get("InstanceNumber")),
    )
