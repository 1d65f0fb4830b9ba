"""Qt-free helpers for what the viewer shows by default: VOI LUT names and windows, cine speed from the file,
the automatic window from the histogram, and the user's window presets per modality (keys 1..9)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation import imaging

# The automatic window (A / 0): the 1st to 99th percentile of the image's values. Min/max let a few pixels (metal,
# air outside the body, a burned-in label) set the window and left the anatomy flat grey.
AUTO_PERCENTILES = (1.0, 99.0)
_SAMPLE = 1 << 18  # percentiles on a strided sample above this many pixels: a 4k x 4k radiograph stays < 50 ms


def histogram_window(pres, frame: np.ndarray, low: float = AUTO_PERCENTILES[0],
                     high: float = AUTO_PERCENTILES[1]) -> "imaging.Window | None":
    """A window from ``low`` to ``high`` percent of the frame's modality values, pixel padding excluded; None for
    colour images. ``low=0, high=100`` is min/max."""
    if pres is None or pres.is_color or frame is None or frame.ndim != 2:
        return None
    data = frame
    if data.size > _SAMPLE:
        step = int(np.ceil(np.sqrt(data.size / _SAMPLE)))
        data = data[::step, ::step]
    if pres.padding is not None:
        keep = ~pres.padding.mask(data)
        if keep.any():
            data = data[keep]
    values = np.asarray(pres.to_modality(data), dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    lo, hi = (float(v) for v in np.percentile(values, [low, high]))
    if hi <= lo:  # a flat image (or a flat 98 %): fall back to the whole range, then to a unit window
        lo, hi = float(values.min()), float(values.max())
    if low <= 0 and high >= 100 or hi - lo >= 1:
        # Center/width with the LINEAR edges on lo and hi, as the min/max window does.
        return imaging.Window((lo + hi + 1) / 2.0, max(1.0, hi - lo + 1), explanation="Auto")
    return imaging.Window((lo + hi) / 2.0, max(hi - lo, 1e-3), imaging.VOIFunction.LINEAR_EXACT, "Auto")


@dataclass(frozen=True)
class UserPreset:
    """A window preset of the settings, on key ``key`` (1..9) for a modality."""

    key: int
    name: str
    center: float = 0.0
    width: float = 0.0
    percentiles: tuple[float, float] | None = None

    def window(self, pres, frame) -> "imaging.Window | None":
        """The window this preset gives for an image (histogram presets need the decoded frame)."""
        if self.percentiles is not None:
            return histogram_window(pres, frame, *self.percentiles)
        return imaging.Window(self.center, self.width, explanation=self.name)


def user_presets(settings, modality: str | None) -> list[UserPreset]:
    """The presets on keys 1..9 for ``modality``: the settings' list (the defaults without settings)."""
    if settings is None or not hasattr(settings, "window_presets_for"):
        if "settings" not in _DEFAULTS:
            from workstation.config import Settings

            _DEFAULTS["settings"] = Settings()
        settings = _DEFAULTS["settings"]
    out = []
    for k, p in enumerate(settings.window_presets_for(modality)[:9], start=1):
        pct = tuple(float(v) for v in p.percentiles) if p.percentiles else None
        out.append(UserPreset(k, p.name, float(p.center), float(p.width), pct))  # type: ignore[arg-type]
    return out


_DEFAULTS: dict = {}


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


# Projection X-ray cine: the first frames are taken before the contrast arrives.
CINE_MODALITIES = {"XA", "RF", "XRF"}


def representative_frame(stack, frame: int) -> int:
    """The frame whose window a stack opens with: for an angiographic cine (XA/RF, all frames in one file) the
    middle frame, since the first ones are taken before the contrast arrives and a window from them leaves the
    opacified vessels black; otherwise ``frame`` itself."""
    n = len(stack)
    if n < 3:
        return frame
    try:
        first, last = stack.source(0), stack.source(n - 1)
        modality = str(stack.header(0).get("Modality", "") or "").strip().upper()
    except Exception:  # noqa: BLE001 - a stack without headers keeps the frame shown
        return frame
    if modality in CINE_MODALITIES and first.path == last.path:
        return n // 2
    return frame



def pixel_aspect(spacing, ds=None) -> float:
    """Height / width of one pixel as displayed: PixelSpacing (row, column) when known, else PixelAspectRatio
    (row\\column), else square. A coronal reformat with 0.7 mm columns and 2.0 mm rows is 2.86 times taller per
    pixel than wide; drawn with square pixels it is squashed."""
    try:
        if spacing and float(spacing[0]) > 0 and float(spacing[1]) > 0:
            return float(spacing[0]) / float(spacing[1])
    except (TypeError, ValueError, IndexError):
        pass
    try:
        a, b = (float(x) for x in ds.get("PixelAspectRatio"))  # type: ignore[union-attr]
        if a > 0 and b > 0:
            return a / b
    except (AttributeError, TypeError, ValueError):
        pass
    return 1.0


def fitted_size(rows: int, columns: int, aspect: float, box: int) -> tuple[int, int]:
    """(width, height) in screen pixels of a ``rows`` x ``columns`` image with ``aspect`` (pixel height / width)
    drawn as large as fits a ``box`` x ``box`` square without distortion."""
    width, height = float(columns), float(rows) * (aspect if aspect > 0 else 1.0)
    scale = box / max(width, height, 1e-9)
    return max(1, round(width * scale)), max(1, round(height * scale))
