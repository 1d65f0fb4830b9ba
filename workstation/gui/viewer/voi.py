"""Qt-free helpers for what the viewer shows by default: VOI LUT names and windows, cine speed from the file."""

from __future__ import annotations

import numpy as np


def lut_window(lut) -> tuple[float, float]:
    """A center/width (modality units) spanning the rising part of a VOI LUT: where a window drag starts."""
    table = np.asarray(lut.table, dtype=np.float64)
    if table.size < 2:
        return float(lut.first_mapped) + 0.5, 1.0
    lo_v, hi_v = float(table.min()), float(table.max())
    inside = np.nonzero((table > lo_v) & (table < hi_v))[0]
    if inside.size:
        a, b = int(inside[0]) - 1, int(inside[-1]) + 1
    else:
        a, b = 0, table.size - 1
    lo, hi = lut.first_mapped + a, lut.first_mapped + b
    return (lo + hi + 1) / 2.0, float(max(1, hi - lo + 1))


def voi_lut_name(pres, index: int) -> str:
    """How the viewer names VOI LUT ``index`` of a presentation: its LUT Explanation, else "VOI LUT n"."""
    luts = getattr(pres, "voi_luts", None) or []
    expl = luts[index].explanation.strip() if index < len(luts) else ""
    return f"VOI LUT {index + 1}" + (f": {expl}" if expl else "")


def file_frame_rate(ds) -> float | None:
    """Cine speed the file asks for (frames/s): Recommended Display Frame Rate, Cine Rate, Frame Time (ms),
    else the mean Frame Time Vector; None when the file says nothing usable."""
    if ds is None:
        return None
    for kw in ("RecommendedDisplayFrameRate", "CineRate"):
        try:
            v = float(ds.get(kw) or 0)
        except (TypeError, ValueError):
            v = 0
        if v > 0:
            return v
    try:
        ft = float(ds.get("FrameTime") or 0)
    except (TypeError, ValueError):
        ft = 0
    if ft > 0:
        return 1000.0 / ft
    vec = ds.get("FrameTimeVector")
    try:
        vals = [float(x) for x in (list(vec) if vec is not None else [])][1:]  # the first entry is 0
    except (TypeError, ValueError):
        vals = []
    vals = [v for v in vals if v > 0]
    if vals:
        return 1000.0 * len(vals) / sum(vals)
    return None
