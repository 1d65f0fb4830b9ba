"""The state of a multiplanar reading, headless: three linked planes through one crosshair point, their rotation
for oblique reading, slab thickness and mode; plus reference lines between any two image planes.

The MPR window observes an :class:`MPRState` and writes back to it (click, drag, scroll, rotate); every geometric
decision is made here, so it is tested without a screen: a crosshair point is the same patient coordinate in all
three views, whatever the rotation.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from workstation.imaging.errors import ImagingError
from workstation.imaging.geometry import FrameGeometry
from workstation.imaging.reslice import MODES, STANDARD_PLANES, Plane, plane_for
from workstation.imaging.volume import Volume

VIEWS = ("axial", "coronal", "sagittal")


def rotation(axis: Sequence[float] | np.ndarray, degrees: float) -> np.ndarray:
    """3x3 rotation about ``axis`` (right hand) by ``degrees``."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    t = np.radians(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


class MPRState:
    """Crosshair point (LPS mm), each view's in-plane axes (turned for oblique reading), slab and mode.

    Listeners ``callback(state)`` are called after every change (from the thread that made it).
    """

    def __init__(self, volume: Volume):
        self.volume = volume
        self._listeners: list[Callable[["MPRState"], None]] = []
        self.reset()

    def reset(self) -> None:
        self.point = np.asarray(self.volume.centre, dtype=float)
        self.axes = {v: tuple(np.asarray(a, dtype=float) for a in STANDARD_PLANES[v]) for v in VIEWS}
        self.slab_mm = 0.0
        self.mode = "avg"
        self._frames: dict[str, Plane] = {}
        self._changed()

    # -- listeners ---------------------------------------------------------------------------------------------
    def add_listener(self, callback: Callable[["MPRState"], None]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[["MPRState"], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _changed(self) -> None:
        for cb in list(self._listeners):
            cb(self)

    # -- planes ------------------------------------------------------------------------------------------------
    def normal(self, view: str) -> np.ndarray:
        row, col = self.axes[view]
        return np.cross(row, col)

    def plane(self, view: str) -> Plane:
        """The view's plane through the crosshair point (the in-plane frame stays put while scrolling)."""
        if view not in VIEWS:
            raise ImagingError(f"unknown view {view!r}")
        frame = self._frames.get(view)
        if frame is None:
            # The view's own frame, turned with its rotations: an oblique plane keeps its view's orientation
            # however far it is turned (a nearest-standard-plane rule would flip it past 45 degrees).
            frame = plane_for(self.volume, axes=self.axes[view])
            self._frames[view] = frame
        return frame.through(self.point)

    def is_oblique(self) -> bool:
        return any(not np.allclose(np.concatenate(self.axes[v]), np.concatenate(STANDARD_PLANES[v])) for v in VIEWS)

    # -- interaction -------------------------------------------------------------------------------------------
    def set_point(self, point: Sequence[float] | np.ndarray) -> None:
        self.point = np.asarray(point, dtype=float)
        self._changed()

    def click(self, view: str, row: float, column: float) -> None:
        """The crosshair moves to the clicked pixel of ``view`` (its depth in that view is kept)."""
        self.set_point(self.plane(view).pixel_to_patient(row, column))

    def scroll(self, view: str, mm: float) -> None:
        """Move the crosshair along ``view``'s normal (the other two planes stay, this one moves)."""
        self.set_point(self.point + mm * self.plane(view).normal)

    def rotate(self, view: str, degrees: float) -> None:
        """Turn the other two planes about ``view``'s normal through the crosshair (dragging an axis handle in
        ``view``: that image stays as it is, its axis lines turn)."""
        turn = rotation(self.normal(view), degrees)
        for other in VIEWS:
            if other != view:
                self.axes[other] = tuple(turn @ a for a in self.axes[other])
                self._frames.pop(other, None)
        self._changed()

    def set_slab(self, mm: float, mode: str | None = None) -> None:
        if not 0 <= float(mm) <= 1000:
            raise ImagingError("slab thickness must be between 0 and 1000 mm")
        if mode is not None and mode not in MODES:
            raise ImagingError(f"unknown slab mode {mode!r}")
        self.slab_mm = float(mm)
        self.mode = mode or self.mode
        self._changed()

    # -- what the views draw -----------------------------------------------------------------------------------
    def crosshair(self, view: str) -> tuple[float, float]:
        """(row, column) of the crosshair point in ``view``."""
        r, c, _ = self.plane(view).patient_to_pixel(self.point)
        return r, c

    def axis_lines(self, view: str) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
        """For each other view, the line where its plane cuts ``view``: two (row, column) points across the image."""
        here = self.plane(view)
        out = {}
        for other in VIEWS:
            if other != view:
                seg = reference_line(self.plane(other), here)
                if seg is not None:
                    out[other] = seg
        return out


def plane_of(geometry: FrameGeometry, rows: int, columns: int) -> Plane | None:
    """An acquired image's plane (None without position, orientation or spacing)."""
    if geometry.image_position is None or geometry.image_orientation is None or geometry.pixel_spacing is None:
        return None
    o = np.asarray(geometry.image_orientation, dtype=float)
    o = np.concatenate([o[:3] / np.linalg.norm(o[:3]), o[3:] / np.linalg.norm(o[3:])])
    return Plane(int(rows), int(columns), tuple(map(float, geometry.pixel_spacing)),  # type: ignore[arg-type]
                 tuple(map(float, geometry.image_position)), tuple(map(float, o)))  # type: ignore[arg-type]


def reference_line(source: Plane, target: Plane, parallel_deg: float = 1.0
                   ) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where ``source``'s plane cuts ``target``'s image: two (row, column) points on the edges of the target's
    pixel area (pixel centres at integers, edges at -0.5 and n-0.5), or None when the planes are parallel or the
    line misses the image. The localizer ("scout") line of PACS viewers; the caller checks Frame of Reference."""
    n_s, n_t = source.normal, target.normal
    if np.degrees(np.arccos(min(1.0, abs(float(n_s @ n_t))))) < parallel_deg:
        return None
    # Points of the target image (row r, column c) satisfy n_s . (P(r, c) - source origin) = 0: a line a*r + b*c = d.
    p0 = np.asarray(target.image_position) - np.asarray(source.image_position)
    a = float(n_s @ target.col_dir) * target.pixel_spacing[0]
    b = float(n_s @ target.row_dir) * target.pixel_spacing[1]
    d = -float(n_s @ p0)
    r_lo, r_hi, c_lo, c_hi = -0.5, target.rows - 0.5, -0.5, target.columns - 0.5
    pts: list[tuple[float, float]] = []
    if abs(b) > 1e-12:
        for r in (r_lo, r_hi):
            c = (d - a * r) / b
            if c_lo - 1e-9 <= c <= c_hi + 1e-9:
                pts.append((r, c))
    if abs(a) > 1e-12:
        for c in (c_lo, c_hi):
            r = (d - b * c) / a
            if r_lo - 1e-9 <= r <= r_hi + 1e-9:
                pts.append((r, c))
    unique: list[tuple[float, float]] = []
    for p in pts:
        if all(abs(p[0] - q[0]) > 1e-6 or abs(p[1] - q[1]) > 1e-6 for q in unique):
            unique.append(p)
    if len(unique) < 2:
        return None
    unique.sort()
    return unique[0], unique[-1]


__all__ = ["MPRState", "VIEWS", "plane_of", "reference_line", "rotation"]
