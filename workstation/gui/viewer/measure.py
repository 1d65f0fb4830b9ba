"""Measurements: geometry and statistics on the image plane, Qt-free.

Points are image coordinates ``(x, y)`` = (column, row) as continuous values, pixel ``(r, c)`` covering
``[c, c+1) x [r, r+1)``. Pixel spacing follows DICOM: ``PixelSpacing = (row spacing, column spacing)`` in mm, i.e.
(vertical distance between rows, horizontal distance between columns).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Hashable, Sequence

import numpy as np

log = logging.getLogger(__name__)

KINDS = ("distance", "angle", "rectangle", "ellipse", "polygon", "freehand", "arrow", "text", "point", "cobb",
         "calibrate")
# Points a measurement needs; for the outlines (OPEN_ENDED) the least it may have.
POINTS_NEEDED = {"distance": 2, "angle": 3, "rectangle": 2, "ellipse": 2, "polygon": 3, "freehand": 3, "arrow": 2,
                 "text": 1, "point": 1, "cobb": 4, "calibrate": 2}
OPEN_ENDED = frozenset({"polygon", "freehand"})
AREAS = frozenset({"rectangle", "ellipse", "polygon", "freehand"})
# Kinds kept in measurements.json (the calibration line is a tool's draft, never stored).
STORED = tuple(k for k in KINDS if k != "calibrate")


def points_ok(kind: str, n: int) -> bool:
    """Whether ``n`` points make a complete measurement of ``kind``."""
    if kind not in POINTS_NEEDED:
        return False
    return n >= POINTS_NEEDED[kind] if kind in OPEN_ENDED else n == POINTS_NEEDED[kind]


def distance(p0: Sequence[float], p1: Sequence[float], spacing: Sequence[float] | None) -> tuple[float, str]:
    """Length between two image points: ``(value, "mm")`` with spacing, else ``(value, "px")``."""
    dx = float(p1[0]) - float(p0[0])
    dy = float(p1[1]) - float(p0[1])
    if spacing:
        row_sp, col_sp = float(spacing[0]), float(spacing[1])
        return math.hypot(dx * col_sp, dy * row_sp), "mm"
    return math.hypot(dx, dy), "px"


def angle(p0: Sequence[float], vertex: Sequence[float], p2: Sequence[float],
          spacing: Sequence[float] | None = None) -> float:
    """The angle at ``vertex`` between the rays to ``p0`` and ``p2``, in degrees (0..180), in physical space."""
    sx, sy = (float(spacing[1]), float(spacing[0])) if spacing else (1.0, 1.0)
    ax, ay = (p0[0] - vertex[0]) * sx, (p0[1] - vertex[1]) * sy
    bx, by = (p2[0] - vertex[0]) * sx, (p2[1] - vertex[1]) * sy
    na, nb = math.hypot(ax, ay), math.hypot(bx, by)
    if na == 0 or nb == 0:
        return 0.0
    cos = max(-1.0, min(1.0, (ax * bx + ay * by) / (na * nb)))
    return math.degrees(math.acos(cos))


def cobb_angle(points: Sequence[Sequence[float]], spacing: Sequence[float] | None = None) -> float:
    """The Cobb angle between the lines points[0]-points[1] and points[2]-points[3], in degrees (0..180), in
    physical space. Each line is taken left to right (as endplates are drawn), so a curve beyond 90 degrees reads
    as such rather than as its supplement."""
    sx, sy = (float(spacing[1]), float(spacing[0])) if spacing else (1.0, 1.0)
    vecs = []
    for a, b in ((points[0], points[1]), (points[2], points[3])):
        vx, vy = (float(b[0]) - float(a[0])) * sx, (float(b[1]) - float(a[1])) * sy
        if vx < 0 or (vx == 0 and vy < 0):
            vx, vy = -vx, -vy
        vecs.append((vx, vy))
    (ax, ay), (bx, by) = vecs
    na, nb = math.hypot(ax, ay), math.hypot(bx, by)
    if na == 0 or nb == 0:
        return 0.0
    return math.degrees(math.acos(max(-1.0, min(1.0, (ax * bx + ay * by) / (na * nb)))))


def roi_mask(shape: tuple[int, int], kind: str, p0: Sequence[float], p1: Sequence[float]) -> np.ndarray:
    """Boolean mask of the pixels whose centres fall inside the rectangle/ellipse spanned by two corners."""
    rows, cols = shape
    x0, x1 = sorted((float(p0[0]), float(p1[0])))
    y0, y1 = sorted((float(p0[1]), float(p1[1])))
    c0, c1 = max(0, int(math.floor(x0))), min(cols, int(math.ceil(x1)) + 1)
    r0, r1 = max(0, int(math.floor(y0))), min(rows, int(math.ceil(y1)) + 1)
    mask = np.zeros(shape, dtype=bool)
    if c1 <= c0 or r1 <= r0:
        return mask
    yc = np.arange(r0, r1)[:, None] + 0.5
    xc = np.arange(c0, c1)[None, :] + 0.5
    if kind == "rectangle":
        inside = (xc >= x0) & (xc <= x1) & (yc >= y0) & (yc <= y1)
    elif kind == "ellipse":
        ax, ay = (x1 - x0) / 2, (y1 - y0) / 2
        if ax <= 0 or ay <= 0:
            return mask
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        inside = ((xc - cx) / ax) ** 2 + ((yc - cy) / ay) ** 2 <= 1.0
    else:
        raise ValueError(f"not an area ROI: {kind!r}")
    mask[r0:r1, c0:c1] = inside
    return mask


@dataclass
class RoiStats:
    mean: float
    sd: float
    min: float
    max: float
    area: float
    area_unit: str  # "mm²" or "px²"
    count: int


def roi_stats(values: np.ndarray, kind: str, p0, p1, spacing: Sequence[float] | None) -> RoiStats:
    """Mean/SD/min/max of ``values`` (already in modality units) inside the ROI, and its geometric area."""
    mask = roi_mask(values.shape[:2], kind, p0, p1)
    sel = values[mask].astype(np.float64) if mask.any() else np.zeros(0)
    w = abs(float(p1[0]) - float(p0[0]))
    h = abs(float(p1[1]) - float(p0[1]))
    area_px = w * h if kind == "rectangle" else math.pi * w * h / 4
    if spacing:
        area, unit = area_px * float(spacing[0]) * float(spacing[1]), "mm²"
    else:
        area, unit = area_px, "px²"
    if sel.size == 0:
        return RoiStats(math.nan, math.nan, math.nan, math.nan, area, unit, 0)
    return RoiStats(float(sel.mean()), float(sel.std()), float(sel.min()), float(sel.max()), area, unit,
                    int(sel.size))


@dataclass
class Measurement:
    """One measurement drawn on one image (its ``key`` identifies the frame it belongs to)."""

    kind: str
    points: list[tuple[float, float]]
    key: Hashable = None
    text: str = ""  # a text annotation's text
    label_offset: tuple[float, float] | None = None  # where the user dragged the label (screen px from its anchor)

    def __eq__(self, other) -> bool:  # identity: two equal drawings are still two measurements
        return self is other

    __hash__ = object.__hash__

    def label(self, spacing: Sequence[float] | None, values: np.ndarray | None = None, unit: str = "") -> str:
        """The text shown next to the drawing."""
        if self.kind == "distance":
            d, u = distance(self.points[0], self.points[1], spacing)
            return f"{d:.1f} {u}" if u == "mm" else f"{d:.1f} px (no spacing)"
        if self.kind == "angle":
            return f"{angle(self.points[0], self.points[1], self.points[2], spacing):.1f}°"
        if self.kind == "cobb":
            return f"Cobb {cobb_angle(self.points, spacing):.1f}°"
        if self.kind == "text":
            return self.text
        if self.kind in ("arrow", "point", "calibrate"):
            return ""
        if self.kind in OPEN_ENDED:
            from workstation.imaging.roi import polygon_stats

            st = polygon_stats(values, self.points, spacing)
            u = f" {unit}" if unit else ""
            return (f"mean {st.mean:.1f}{u}  SD {st.sd:.1f}\nmin {st.min:.0f}  max {st.max:.0f}\n"
                    f"area {st.area:.1f} {st.area_unit}")
        if values is None:
            return self.kind
        s = roi_stats(values, self.kind, self.points[0], self.points[1], spacing)
        u = f" {unit}" if unit else ""
        return (f"mean {s.mean:.1f}{u}  SD {s.sd:.1f}\nmin {s.min:.0f}  max {s.max:.0f}\n"
                f"area {s.area:.1f} {s.area_unit}")


@dataclass
class MeasurementStore:
    """Measurements per image key: they stay with their image while the user scrolls. With a ``path`` they are
    also kept in a JSON file (the archive's ``measurements.json``), so a study opened again shows them, as Horos
    keeps its ROIs; every change is written atomically. Use :meth:`shared` for one store per file in a process."""

    _by_key: dict = field(default_factory=dict)
    path: Path | None = None

    _shared: ClassVar[dict[str, "MeasurementStore"]] = {}

    @classmethod
    def shared(cls, path: str | os.PathLike[str]) -> "MeasurementStore":
        key = os.path.abspath(os.fspath(path))
        store = cls._shared.get(key)
        if store is None:
            store = cls._shared[key] = cls(path=Path(key))
            store._load()
        return store

    def add(self, m: Measurement) -> None:
        self._by_key.setdefault(m.key, []).append(m)
        self._save()

    def remove(self, m: Measurement) -> None:
        items = self._by_key.get(m.key, [])
        if m in items:
            items.remove(m)
            self._save()

    def changed(self, m: Measurement) -> None:
        """``m`` was edited in place (a point dragged): keep the edit."""
        self._save()

    def on(self, key: Hashable) -> list[Measurement]:
        return list(self._by_key.get(key, []))

    def clear(self, key: Hashable | None = None) -> None:
        if key is None:
            self._by_key.clear()
        else:
            self._by_key.pop(key, None)
        self._save()

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    # -- persistence ---------------------------------------------------------------------------------------------
    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for item in data.get("measurements", []):
                key = tuple(item["key"]) if isinstance(item["key"], list) else item["key"]
                kind, points = str(item["kind"]), [(float(x), float(y)) for x, y in item["points"]]
                offset = item.get("label_offset")
                offset = (float(offset[0]), float(offset[1])) if offset else None
                if kind in STORED and points_ok(kind, len(points)):
                    self._by_key.setdefault(key, []).append(
                        Measurement(kind, points, key, str(item.get("text", "")), offset))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged file must not keep the viewer from opening: start empty, keep the file for inspection.
            log.warning("measurements in %s not read: %s", self.path, exc)

    def _save(self) -> None:
        if self.path is None:
            return
        items = [_item(k, m) for k, ms in self._by_key.items() for m in ms
                 if isinstance(k, (str, tuple)) and m.kind in STORED]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"version": 1, "measurements": items}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("measurements not saved to %s: %s", self.path, exc)
            tmp.unlink(missing_ok=True)


def _item(key, m: Measurement) -> dict:
    item = {"key": list(key) if isinstance(key, tuple) else key, "kind": m.kind,
            "points": [list(p) for p in m.points]}
    if m.text:
        item["text"] = m.text
    if m.label_offset is not None:
        item["label_offset"] = list(m.label_offset)
    return item
