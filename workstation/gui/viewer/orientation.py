"""Patient orientation letters for the four edges of a displayed image (Qt-free).

From ImageOrientationPatient (row and column direction cosines in the patient coordinate system, LPS: +x is the
patient's Left, +y Posterior, +z Head) we label which anatomical direction each screen edge points to, after the
view's rotation and flips, the way OsiriX/Horos and every console do.
"""

from __future__ import annotations

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


__all__ = ["direction_letters", "edge_letters", "apply_screen_transform"]
