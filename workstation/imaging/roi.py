"""Region-of-interest statistics for polygons and freehand outlines, Qt-free.

A freehand outline is a polygon with many vertices, so both go the same way: the **area** is the geometric area
of the polygon (shoelace formula, exact for the drawn outline, scaled to mm² by the pixel spacing), the
**statistics** (mean, SD, min, max, count) are over the pixels whose centres lie inside it (even-odd rule), in
the modality's units (the caller passes modality values, e.g. HU). Points are image coordinates ``(x, y)`` =
(column, row), pixel ``(r, c)`` covering ``[c, c+1) x [r, r+1)`` so its centre is ``(c + 0.5, r + 0.5)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


def polygon_area(points: Sequence[Sequence[float]]) -> float:
    """Area of a simple polygon in pixel² (shoelace; the polygon is closed implicitly)."""
    if len(points) < 3:
        return 0.0
    p = np.asarray(points, dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def polygon_perimeter(points: Sequence[Sequence[float]], spacing: Sequence[float] | None = None) -> float:
    """Perimeter of the closed polygon, in mm with ``spacing`` (row, column), else in pixels."""
    if len(points) < 2:
        return 0.0
    p = np.asarray(points, dtype=np.float64)
    d = np.roll(p, -1, axis=0) - p
    if spacing:
        d = d * np.array([float(spacing[1]), float(spacing[0])])
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def polygon_mask(shape: tuple[int, int], points: Sequence[Sequence[float]]) -> np.ndarray:
    """Boolean mask of the pixels whose centres lie inside the polygon (even-odd rule), within ``shape``."""
    rows, cols = int(shape[0]), int(shape[1])
    mask = np.zeros((rows, cols), dtype=bool)
    if len(points) < 3:
        return mask
    p = np.asarray(points, dtype=np.float64)
    x0, x1 = max(0, int(math.floor(p[:, 0].min()))), min(cols, int(math.ceil(p[:, 0].max())) + 1)
    y0, y1 = max(0, int(math.floor(p[:, 1].min()))), min(rows, int(math.ceil(p[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        return mask
    xc = np.arange(x0, x1, dtype=np.float64) + 0.5
    inside = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    ax, ay = p[:, 0], p[:, 1]
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    # Scanline: for each row centre, the x where every edge crosses it; a pixel is inside when an odd number of
    # crossings lie left of its centre. Edges are half-open in y so a vertex on the scanline counts once.
    for i, yc in enumerate(np.arange(y0, y1, dtype=np.float64) + 0.5):
        crosses = (ay <= yc) != (by <= yc)
        if not crosses.any():
            continue
        t = (yc - ay[crosses]) / (by[crosses] - ay[crosses])
        xs = np.sort(ax[crosses] + t * (bx[crosses] - ax[crosses]))
        inside[i] = (np.searchsorted(xs, xc, side="right") % 2) == 1
    mask[y0:y1, x0:x1] = inside
    return mask


@dataclass(frozen=True)
class RegionStats:
    """Statistics of a region: area (mm² with spacing, else px²), values in the modality's units."""

    area: float
    area_unit: str  # "mm²" | "px²"
    mean: float
    sd: float
    min: float
    max: float
    count: int
    perimeter: float
    perimeter_unit: str  # "mm" | "px"

    def as_dict(self) -> dict:
        return {"area": self.area, "area_unit": self.area_unit, "mean": self.mean, "sd": self.sd,
                "min": self.min, "max": self.max, "count": self.count, "perimeter": self.perimeter,
                "perimeter_unit": self.perimeter_unit}


def values_stats(values: np.ndarray, mask: np.ndarray) -> tuple[float, float, float, float, int]:
    """(mean, population SD, min, max, count) of ``values`` under ``mask`` (NaNs when the mask is empty)."""
    sel = values[mask[: values.shape[0], : values.shape[1]]] if mask.any() else np.zeros(0)
    if sel.size == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    sel = sel.astype(np.float64, copy=False)
    return float(sel.mean()), float(sel.std()), float(sel.min()), float(sel.max()), int(sel.size)


def polygon_stats(values: np.ndarray | None, points: Sequence[Sequence[float]],
                  spacing: Sequence[float] | None) -> RegionStats:
    """Area, perimeter and value statistics of a polygon/freehand outline over ``values`` (modality units; None
    when the frame is not decoded or is colour: only the geometry is given)."""
    area_px = polygon_area(points)
    if spacing:
        area, unit = area_px * float(spacing[0]) * float(spacing[1]), "mm²"
    else:
        area, unit = area_px, "px²"
    perim = polygon_perimeter(points, spacing)
    if values is None or values.ndim != 2:
        return RegionStats(area, unit, math.nan, math.nan, math.nan, math.nan, 0, perim, "mm" if spacing else "px")
    mean, sd, lo, hi, n = values_stats(values, polygon_mask(values.shape, points))
    return RegionStats(area, unit, mean, sd, lo, hi, n, perim, "mm" if spacing else "px")


def simplify_path(points: Sequence[Sequence[float]], min_step: float) -> list[tuple[float, float]]:
    """Drop freehand samples closer than ``min_step`` (pixels) to the last kept one: a mouse sends hundreds of
    points a second and the outline does not need them."""
    out: list[tuple[float, float]] = []
    for x, y in points:
        if not out or math.hypot(x - out[-1][0], y - out[-1][1]) >= min_step:
            out.append((float(x), float(y)))
    return out
