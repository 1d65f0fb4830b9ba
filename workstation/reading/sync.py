"""Slice synchronization between stacks, as plain objects (no Qt): which slice of another stack shows the same
place in the patient as the slice being read.

Rules (those of Horos and Weasis):

* Only (near-)parallel planes follow each other. Two stacks are parallel when their normals make an angle of at
  most :data:`PARALLEL_TOLERANCE_DEG` (10 degrees, either direction of the normal). A coronal never follows an
  axial: "the same position" along two different normals means nothing, and the old code moved a coronal to
  meaningless slices while the axial scrolled. 10 degrees keeps a slightly tilted prior or a small gantry tilt in
  sync while the error it allows stays small: a 10 degree tilt moves the edge of a 250 mm field by 22 mm, at the
  centre (which is what we match) by nothing.
* Same Frame of Reference: the target shows its slice nearest to the source slice's position along the source
  normal (patient coordinates are shared).
* Different (or unknown) Frames of Reference: patient coordinates are not comparable, so the offset between the
  two stacks is fixed when sync is switched on (:meth:`SliceSync.engage`): the slices shown at that moment are
  taken to correspond, and scrolling keeps that distance - or the reader marks the same point in both
  (:meth:`SliceSync.mark`, a Shift+click in each), which fixes the offset from those two points. Pairs that were
  never engaged nor marked do not follow each other.

Positions are the slice centres (``SliceGeometry.centres``) projected on the source normal, so a slightly tilted
target is matched where the reader looks, not at its top-left corner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

import numpy as np

PARALLEL_TOLERANCE_DEG = 10.0


@dataclass(frozen=True, eq=False)
class SliceGeometry:
    """The geometry of one stack as the sync rules need it.

    frame_of_reference_uid: "" when unknown.
    normal: the stack's unit slice normal (row x column direction), or None without orientation.
    centres: the patient position (mm) of each slice's centre (or its ImagePositionPatient), None where unknown.
    """

    frame_of_reference_uid: str
    normal: tuple[float, float, float] | None
    centres: Sequence[tuple[float, float, float] | None]

    def __post_init__(self):
        complete = self.normal is not None and len(self.centres) > 0 and all(c is not None for c in self.centres)
        object.__setattr__(self, "_array", np.asarray(self.centres, dtype=float) if complete else None)

    @property
    def complete(self) -> bool:
        """Whether every slice has a position and the stack an orientation (else it never syncs)."""
        return self._array is not None  # type: ignore[attr-defined]

    def along(self, normal) -> np.ndarray:
        """Every slice's position along ``normal`` (mm)."""
        return self._array @ np.asarray(normal, dtype=float)  # type: ignore[attr-defined]


def angle_between(n1, n2) -> float:
    """The angle (degrees, 0..90) between two plane normals, whichever way each points."""
    a, b = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    c = abs(float(np.dot(a, b)) / max(1e-12, float(np.linalg.norm(a) * np.linalg.norm(b))))
    return math.degrees(math.acos(min(1.0, c)))


def are_parallel(a: SliceGeometry, b: SliceGeometry, tolerance_deg: float = PARALLEL_TOLERANCE_DEG) -> bool:
    return (a.normal is not None and b.normal is not None
            and angle_between(a.normal, b.normal) <= tolerance_deg)


def same_frame_of_reference(a: SliceGeometry, b: SliceGeometry) -> bool:
    return bool(a.frame_of_reference_uid) and a.frame_of_reference_uid == b.frame_of_reference_uid


def nearest_slice(geometry: SliceGeometry, normal, position: float) -> int:
    """The slice of ``geometry`` whose centre lies nearest to ``position`` along ``normal``."""
    return int(np.argmin(np.abs(geometry.along(normal) - position)))


class SliceSync:
    """Which slice each other stack shows when one stack's slice changes.

    Members are identified by any hashable key (the viewer uses its viewports). ``engage`` is called when sync is
    switched on; ``follow`` when a member's slice changes.
    """

    def __init__(self, tolerance_deg: float = PARALLEL_TOLERANCE_DEG):
        self.tolerance_deg = tolerance_deg
        # (source key, target key) -> source position - target position, along the source normal (mm).
        self.offsets: dict[tuple[Hashable, Hashable], float] = {}
        self._geometry_of: dict[Hashable, SliceGeometry] = {}

    def linked(self, a: SliceGeometry, b: SliceGeometry) -> bool:
        """Whether ``b`` may follow ``a`` at all (both complete, parallel)."""
        return a.complete and b.complete and are_parallel(a, b, self.tolerance_deg)

    def engage(self, members: Mapping[Hashable, tuple[SliceGeometry, int]]) -> None:
        """Sync switched on with ``members`` (key -> (geometry, slice shown)): fix the offset of every parallel pair
        of different Frames of Reference from the slices shown now. Offsets fixed before are dropped."""
        self.offsets.clear()
        self._geometry_of.clear()
        for ka, (ga, fa) in members.items():
            for kb, (gb, fb) in members.items():
                if ka == kb or not self.linked(ga, gb) or same_frame_of_reference(ga, gb):
                    continue
                pa = float(ga.along(ga.normal)[fa])
                pb = float(gb.along(ga.normal)[fb])
                self.offsets[(ka, kb)] = pa - pb
                self._geometry_of[ka] = ga
                self._geometry_of[kb] = gb

    def mark(self, ka: Hashable, ga: SliceGeometry, point_a, kb: Hashable, gb: SliceGeometry, point_b) -> bool:
        """The reader marked the same place in two stacks of different Frames of Reference (``point_a`` in a's
        patient coordinates, ``point_b`` in b's): from now on scrolling either keeps those points together. Returns
        False (nothing fixed) when the stacks are not parallel or lack geometry."""
        if not self.linked(ga, gb):
            return False
        pa, pb = np.asarray(point_a, dtype=float), np.asarray(point_b, dtype=float)
        na, nb = np.asarray(ga.normal, dtype=float), np.asarray(gb.normal, dtype=float)
        self.offsets[(ka, kb)] = float(pa @ na - pb @ na)
        self.offsets[(kb, ka)] = float(pb @ nb - pa @ nb)
        self._geometry_of[ka] = ga
        self._geometry_of[kb] = gb
        return True

    def forget(self, key: Hashable) -> None:
        """A member shows something else now: its offsets no longer hold."""
        self.offsets = {k: v for k, v in self.offsets.items() if key not in k}
        self._geometry_of.pop(key, None)

    def follow(self, source: Hashable, geometry: SliceGeometry, frame: int,
               targets: Mapping[Hashable, SliceGeometry]) -> dict[Hashable, int]:
        """The slice each of ``targets`` should show when ``source`` shows ``frame``; targets that do not follow
        (not parallel, no geometry, another Frame of Reference never engaged) are left out."""
        out: dict[Hashable, int] = {}
        if not geometry.complete:
            return out
        n = geometry.normal
        position = float(geometry.along(n)[frame])
        for key, target in targets.items():
            if key == source or not self.linked(geometry, target):
                continue
            if same_frame_of_reference(geometry, target):
                out[key] = nearest_slice(target, n, position)
                continue
            offset = self.offsets.get((source, key))
            # An engaged offset holds only for the stacks it was measured on.
            if offset is None or self._geometry_of.get(source) is not geometry \
                    or self._geometry_of.get(key) is not target:
                continue
            out[key] = nearest_slice(target, n, position - offset)
        return out


__all__ = ["PARALLEL_TOLERANCE_DEG", "SliceGeometry", "SliceSync", "angle_between", "are_parallel",
           "nearest_slice", "same_frame_of_reference"]
