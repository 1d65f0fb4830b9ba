"""Patient orientation letters for the four edges of a displayed image (Qt-free).

From ImageOrientationPatient (row and column direction cosines in the patient coordinate system, LPS: +x is the
patient's Left, +y Posterior, +z Head) we label which anatomical direction each screen edge points to, after the
view's rotation and flips, the way OsiriX/Horos and every console do.

For projection X-ray (XA, RF) the C-arm angles say how the image was taken: :func:`positioner_angles` reads them for
a frame and :func:`positioner_text` writes them the way cardiologists say them ("LAO 30°  CRAN 20°").
"""

from __future__ import annotations

import math
from typing import Sequence

from workstation.gui.viewer.state import apply_screen_transform, screen_transform

_POS = ("L", "P", "H")
_NEG = ("R", "A", "F")


def direction_letters(vector: Sequence[float], *, threshold: float = 0.25, max_letters: int = 3) -> str:
    """Letters for a patient-space direction, strongest component first (e.g. ``(0.9, 0.1, -0.4)`` -> ``"LF"``).

    Components whose magnitude is below ``threshold`` are left out (oblique images get two or three letters).
    """
    comps = sorted(range(3), key=lambda i: -abs(vector[i]))
    out = []
    for i in comps:
        v = vector[i]
        if abs(v) < threshold:
            continue
        out.append(_POS[i] if v > 0 else _NEG[i])
    return "".join(out[:max_letters])


def edge_letters(
    orientation: Sequence[float] | None, rotation: int = 0, flip_h: bool = False, flip_v: bool = False
) -> dict[str, str] | None:
    """Letters for the ``left``, ``right``, ``top`` and ``bottom`` edges, or ``None`` without orientation.

    ``orientation`` is the six ImageOrientationPatient values: row cosines (direction of increasing column)
    then column cosines (direction of increasing row).
    """
    if orientation is None or len(orientation) != 6:
        return None
    row = [float(v) for v in orientation[:3]]
    col = [float(v) for v in orientation[3:]]
    m = screen_transform(rotation, flip_h, flip_v)
    # Screen right (+x) and down (+y) expressed in image (col, row) directions: invert the orthogonal integer
    # matrix (its inverse is its transpose).
    right_img = (m[0][0], m[0][1])
    down_img = (m[1][0], m[1][1])

    def patient(img_dir):
        a, b = img_dir
        return [a * row[k] + b * col[k] for k in range(3)]

    right = patient(right_img)
    down = patient(down_img)
    neg = lambda v: [-c for c in v]  # noqa: E731
    return {
        "right": direction_letters(right),
        "left": direction_letters(neg(right)),
        "bottom": direction_letters(down),
        "top": direction_letters(neg(down)),
    }


def _float(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _angle_at(ds, initial_kw: str, increment_kw: str, frame: int) -> float | None:
    """One positioner angle of frame ``frame`` (0-based) of a multi-frame XA/RF (PS3.3 C.8.7.5.1.3): the
    initial angle applies to the first frame; an increment with one value is the change per frame, one value per
    frame is each frame's offset from the initial angle."""
    initial = _float(ds.get(initial_kw))
    increments = ds.get(increment_kw)
    if increments is None or str(ds.get("PositionerMotion", "") or "").strip().upper() == "STATIC":
        return initial
    if isinstance(increments, (str, bytes)) or not hasattr(increments, "__iter__"):
        increments = [increments]  # one DS value: the change per frame
    values = [_float(v) for v in increments]
    if initial is None or not values or any(v is None for v in values):
        return initial if frame == 0 else None  # no telling where the arm was at this frame
    if len(values) == 1:
        return initial + frame * values[0]
    return initial + values[frame] if frame < len(values) else None


def positioner_angles(ds, frame: int = 0) -> tuple[float, float] | None:
    """(primary, secondary) C-arm angles in degrees for frame ``frame`` of ``ds``, or None when the file does not
    give both: the XA Positioner Module's attributes, else the Enhanced XA/XRF functional groups (per frame first,
    then shared)."""
    if ds is None:
        return None
    primary = _angle_at(ds, "PositionerPrimaryAngle", "PositionerPrimaryAngleIncrement", frame)
    secondary = _angle_at(ds, "PositionerSecondaryAngle", "PositionerSecondaryAngleIncrement", frame)
    if primary is None or secondary is None:
        for groups, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
            try:
                item = ds.get(groups)[index].PositionerPositionSequence[0]
            except (AttributeError, IndexError, KeyError, TypeError):
                continue
            primary, secondary = _float(item.get("PositionerPrimaryAngle")), _float(item.get("PositionerSecondaryAngle"))
            if primary is not None and secondary is not None:
                break
    if primary is None or secondary is None:
        return None
    return primary, secondary


def _degrees(value: float) -> str:
    text = f"{abs(value):.1f}".removesuffix(".0")
    return f"{text}°"


def positioner_text(primary: float, secondary: float) -> str:
    """"LAO 30°  CRAN 20°" from the positioner angles, by PS3.3 C.8.7.5.1.2: the primary angle is +90 at the
    patient's left (LAO) and -90 at the right (RAO); the secondary +90 towards the head (CRAN), negative towards
    the feet (CAUD). Zero reads as LAO/CRAN 0°."""
    side = "RAO" if primary < 0 and _degrees(primary) != "0°" else "LAO"
    tilt = "CAUD" if secondary < 0 and _degrees(secondary) != "0°" else "CRAN"
    return f"{side} {_degrees(primary)}  {tilt} {_degrees(secondary)}"


__all__ = ["direction_letters", "edge_letters", "apply_screen_transform", "positioner_angles", "positioner_text"]
