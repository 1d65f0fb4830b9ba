"""Reference ("scout", "localizer") lines and the 3D cursor between images of one Frame of Reference.

A reference line is where the plane of the image being read cuts another image: the segment of the two planes'
intersection that lies inside both images (so a small field of view draws a short line, as Horos and Weasis do).
The 3D cursor is a patient point picked on one image; every other image stack shows the slice nearest to it and
where the point falls in that slice. Pure geometry on :class:`workstation.imaging.reslice.Plane` (rows, columns,
PixelSpacing, ImagePositionPatient, ImageOrientationPatient); pixel centres are at integer (row, column), the
image's edges at -0.5 and n - 0.5. The caller checks that both images share a Frame of Reference.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from workstation.imaging.reslice import Plane

Segment = tuple[tuple[float, float], tuple[float, float]]


def _pixel_params(plane: Plane, point: np.ndarray, direction: np.ndarray):
    """(row, column) of ``point + t * direction`` as (r0 + t * dr, c0 + t * dc)."""
    rel = point - np.asarray(plane.image_position, dtype=float)
    sr, sc = plane.pixel_spacing
    r0, c0 = float(rel @ plane.col_dir) / sr, float(rel @ plane.row_dir) / sc
    dr, dc = float(direction @ plane.col_dir) / sr, float(direction @ plane.row_dir) / sc
    return r0, c0, dr, dc


def _clip(lo: float, hi: float, x0: float, dx: float, t_lo: float, t_hi: float) -> tuple[float, float]:
    """Narrow [t_lo, t_hi] to where lo <= x0 + t * dx <= hi."""
    if abs(dx) < 1e-12:
        return (t_lo, t_hi) if lo <= x0 <= hi else (1.0, 0.0)
    a, b = (lo - x0) / dx, (hi - x0) / dx
    return max(t_lo, min(a, b)), min(t_hi, max(a, b))


def reference_segment(source: Plane, target: Plane, parallel_deg: float = 1.0) -> Segment | None:
    """Where ``source`` (the image being read) cuts ``target``, inside both images: two (row, column) points of
    ``target``, or None when the planes are (nearly) parallel or the images do not meet."""
    n_s, n_t = source.normal, target.normal
    direction = np.cross(n_s, n_t)
    if np.linalg.norm(direction) < np.sin(np.radians(parallel_deg)):
        return None
    direction = direction / np.linalg.norm(direction)
    d_s = float(n_s @ np.asarray(source.image_position, dtype=float))
    d_t = float(n_t @ np.asarray(target.image_position, dtype=float))
    point = np.linalg.solve(np.vstack([n_s, n_t, direction]), np.array([d_s, d_t, 0.0]))
    t_lo, t_hi = -np.inf, np.inf
    for plane in (target, source):
        r0, c0, dr, dc = _pixel_params(plane, point, direction)
        t_lo, t_hi = _clip(-0.5, plane.rows - 0.5, r0, dr, t_lo, t_hi)
        t_lo, t_hi = _clip(-0.5, plane.columns - 0.5, c0, dc, t_lo, t_hi)
    if not t_hi - t_lo > 1e-9:
        return None
    r0, c0, dr, dc = _pixel_params(target, point, direction)
    return (r0 + t_lo * dr, c0 + t_lo * dc), (r0 + t_hi * dr, c0 + t_hi * dc)


def patient_point(plane: Plane, row: float, column: float) -> np.ndarray:
    """LPS (mm) of (row, column) of ``plane``."""
    return plane.pixel_to_patient(row, column)


def locate(plane: Plane, point: Sequence[float]) -> tuple[float, float, float]:
    """(row, column, signed distance in mm from the plane) of patient ``point`` projected on ``plane``."""
    rel = np.asarray(point, dtype=float) - np.asarray(plane.image_position, dtype=float)
    sr, sc = plane.pixel_spacing
    return float(rel @ plane.col_dir) / sr, float(rel @ plane.row_dir) / sc, float(rel @ plane.normal)


def nearest_slice(planes: Sequence[Plane | None], point: Sequence[float], tolerance_mm: float | None = None
                  ) -> tuple[int, float, float] | None:
    """The slice of a stack (``planes``, one per frame; None for a frame without geometry) nearest to ``point``
    whose image contains its projection: (index, row, column). None when no slice is within ``tolerance_mm``
    (default: half the spacing between neighbouring slices, at least 0.5 mm) or the point is outside every image."""
    best: tuple[float, int, float, float] | None = None
    distances = []
    for k, plane in enumerate(planes):
        if plane is None:
            continue
        r, c, d = locate(plane, point)
        distances.append(float(np.asarray(plane.image_position) @ plane.normal))
        inside = -0.5 <= r <= plane.rows - 0.5 and -0.5 <= c <= plane.columns - 0.5
        if inside and (best is None or abs(d) < best[0]):
            best = (abs(d), k, r, c)
    if best is None:
        return None
    if tolerance_mm is None:
        steps = np.diff(np.sort(distances)) if len(distances) > 1 else np.array([])
        steps = steps[steps > 1e-6]
        tolerance_mm = max(0.5, float(np.median(steps)) / 2) if steps.size else 0.5
    if best[0] > tolerance_mm + 1e-9:
        return None
    return best[1], best[2], best[3]


__all__ = ["locate", "nearest_slice", "patient_point", "reference_segment"]
