"""Draw a presentation state's graphic/text annotations and activated overlays into its rendered picture.

Headless (numpy; glyphs from Pillow's FreeType, no Qt), for ``workstation render --presentation-state``. The viewer
draws the same objects with Qt; both take the coordinates as the standard writes them (PIXEL units: 0\\0 is the
top left corner of the top left pixel, so a point at (c - 0.5, r - 0.5) is the centre of 1-based pixel (c, r)).

Graphics are mapped through the picture's :class:`~workstation.imaging.pstate.Placement` (displayed area, rotation,
flip) and drawn on the display grid, so lines stay one pixel wide and text stays upright whatever the rotation.
DISPLAY units are fractions of the displayed picture. A pixel is set when a point sampled along the outline falls
in it (samples every 1/4 pixel), so a line from (x0, y0) to (x1, y1) covers the pixels the segment crosses.
Colours: the layer's recommended grayscale value (a P-value), else white; text and marks get a one-pixel dark
halo so they read on any background. What cannot be drawn is named in the result's warnings, never dropped.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from workstation.dicom.presentation_state import Graphic, PresentationState, PSWarning, TextObject
from workstation.imaging.overlays import composite, overlay_planes
from workstation.imaging.pstate import Placement, PSRender

log = logging.getLogger(__name__)

_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
          "/Library/Fonts/Arial Unicode.ttf", "C:/Windows/Fonts/arial.ttf")
_CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/arphic/uming.ttc",
              "C:/Windows/Fonts/msyh.ttc", "/System/Library/Fonts/PingFang.ttc")
_REPLACED = ("annotation.not-drawn", "overlay.activation")  # what render_with_state names and this module draws
_STEP = 0.25  # outline sampling step, display pixels


def draw_state(result: PSRender, ps: PresentationState, header: Dataset, frame_number: int = 1) -> PSRender:
    """``result`` (from :func:`render_with_state`) with the PS's activated overlays, then its annotations by layer
    order, drawn in. Problems (text the font cannot show, a graphic outside the picture) become warnings."""
    if result.placement is None:
        return result
    uid = str(header.get("SOPInstanceUID", "") or "")
    warnings = [w for w in result.warnings if w.code not in _REPLACED]
    canvas = _Canvas(result.image.copy())
    gray = {layer.name: layer.gray for layer in ps.layers}
    _draw_overlays(canvas, ps, header, frame_number, result.placement, warnings)
    for ann in ps.annotations_for(uid, frame_number):
        value = _value(gray.get(ann.layer))
        for g in ann.graphics:
            pts = _to_display(g.points, g.units, result.placement)
            if not _draw_graphic(canvas, g, pts, value):
                warnings.append(PSWarning("graphic.outside", f"layer {ann.layer}: a {g.type} lies outside the "
                                                             "displayed picture"))
        for t in ann.texts:
            problem = _draw_text(canvas, t, result.placement, value)
            if problem:
                warnings.append(PSWarning("text.not-drawn", f"layer {ann.layer}: text {t.text!r}: {problem}"))
    return PSRender(canvas.image, warnings, result.placement)


# -- drawing surface -------------------------------------------------------------------------------------------
class _Canvas:
    """Marks collected as masks (value per pixel), composited with a dark halo at the end of each mark."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.h, self.w = image.shape[:2]

    def stamp(self, mask: np.ndarray, value: int) -> bool:
        """Paint ``mask`` (display grid) with ``value`` over a one-pixel halo of black; False when empty."""
        if not mask.any():
            return False
        halo = mask.copy()
        halo[1:, :] |= mask[:-1, :]
        halo[:-1, :] |= mask[1:, :]
        halo[:, 1:] |= mask[:, :-1]
        halo[:, :-1] |= mask[:, 1:]
        dark = 0 if value >= 128 else 255
        self.image[halo & ~mask] = dark
        self.image[mask] = value
        return True

    def mask(self) -> np.ndarray:
        return np.zeros((self.h, self.w), dtype=bool)

    def plot(self, mask: np.ndarray, xy: np.ndarray) -> None:
        """Set the pixels that sample points (x, y) in display coordinates fall in."""
        if not len(xy):
            return
        col = np.floor(xy[:, 0]).astype(np.int64)
        row = np.floor(xy[:, 1]).astype(np.int64)
        ok = (col >= 0) & (col < self.w) & (row >= 0) & (row < self.h)
        mask[row[ok], col[ok]] = True


def _value(p_value: int | None) -> int:
    return 255 if p_value is None else int(round(max(0, min(65535, p_value)) / 65535 * 255))


def _to_display(points: np.ndarray, units: str, placement: Placement) -> np.ndarray:
    if units == "DISPLAY":  # fractions of the displayed picture
        h, w = placement.shape
        return np.asarray(points, dtype=np.float64).reshape(-1, 2) * [w, h]
    return placement.points(points)


def _segments(xy: np.ndarray, closed: bool = False) -> np.ndarray:
    """Samples along the polyline through ``xy`` every ``_STEP`` pixels (its vertices included)."""
    if closed and len(xy) > 2:
        xy = np.vstack([xy, xy[:1]])
    out = [xy]
    for a, b in zip(xy[:-1], xy[1:]):
        n = max(2, int(np.ceil(np.hypot(*(b - a)) / _STEP)) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None]
        out.append(a + (b - a) * t)
    return np.vstack(out)


def _catmull_rom(xy: np.ndarray) -> np.ndarray:
    """A smooth curve through every point (centripetal-free uniform Catmull-Rom; ends repeated)."""
    if len(xy) < 3:
        return xy
    p = np.vstack([xy[:1], xy, xy[-1:]])
    curve = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        n = max(4, int(np.ceil(np.hypot(*(p2 - p1)) / _STEP)))
        t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
        curve.append(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                            + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3))
    curve.append(xy[-1:])
    return np.vstack(curve)


def _fill(canvas: _Canvas, outline: np.ndarray) -> np.ndarray:
    """Pixel centres inside the closed outline (even-odd), as a mask on the display grid."""
    y = np.arange(canvas.h, dtype=np.float64)[:, None] + 0.5
    x = np.arange(canvas.w, dtype=np.float64)[None, :] + 0.5
    inside = np.zeros((canvas.h, canvas.w), dtype=bool)
    for (xa, ya), (xb, yb) in zip(outline, np.roll(outline, -1, axis=0)):
        if ya == yb:
            continue
        crosses = (ya <= y) != (yb <= y)
        x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (x < x_at)
    return inside


def _ellipse(center: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Closed outline of the ellipse centre + cos(t) u + sin(t) v (u, v the semi-axis vectors)."""
    n = max(16, int(np.ceil(2 * np.pi * max(np.hypot(*u), np.hypot(*v)) / _STEP)))
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)[:, None]
    return center + np.cos(t) * u + np.sin(t) * v


def _draw_graphic(canvas: _Canvas, g: Graphic, xy: np.ndarray, value: int) -> bool:
    mask = canvas.mask()
    if g.type == "POINT":
        for x, y in xy:  # a small cross: the point itself is its centre pixel
            arm = np.arange(-2, 2.01, _STEP)
            canvas.plot(mask, np.column_stack([x + arm, np.full_like(arm, y)]))
            canvas.plot(mask, np.column_stack([np.full_like(arm, x), y + arm]))
    elif g.type in ("POLYLINE", "INTERPOLATED"):
        line = _catmull_rom(xy) if g.type == "INTERPOLATED" else xy
        closed = len(xy) > 2 and np.allclose(xy[0], xy[-1])
        if g.filled and closed:
            mask |= _fill(canvas, line)
        canvas.plot(mask, _segments(line))
    elif g.type == "CIRCLE":
        center = xy[0]
        r = float(np.hypot(*(xy[1] - center)))
        outline = _ellipse(center, np.array([r, 0.0]), np.array([0.0, r]))
        if g.filled:
            mask |= _fill(canvas, outline)
        canvas.plot(mask, _segments(outline, closed=True))
    elif g.type == "ELLIPSE":
        # Major axis end points, then minor axis end points (PS3.3 C.10.5.1.2): affine maps keep that meaning.
        center = (xy[0] + xy[1]) / 2.0
        u, v = (xy[1] - xy[0]) / 2.0, (xy[3] - xy[2]) / 2.0
        outline = _ellipse(center, u, v)
        if g.filled:
            mask |= _fill(canvas, outline)
        canvas.plot(mask, _segments(outline, closed=True))
    return canvas.stamp(mask, value)


# -- text ------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _font(size: int, cjk: bool):
    """(font, whether it covers the text's script). Without FreeType (the bundle leaves it out) Pillow's built-in
    bitmap font draws ASCII text at its one size."""
    from PIL import ImageFont

    for path in (_CJK_FONTS if cjk else ()) + _FONTS:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size), path in _CJK_FONTS or not cjk
            except (OSError, ImportError):
                break  # no FreeType: no outline font at all
    try:
        return ImageFont.load_default(size), not cjk
    except (OSError, ImportError):
        return ImageFont.load_default(), False if cjk else True


def _glyphs(text: str, size: int) -> tuple[np.ndarray | None, str]:
    """The text as a bool mask (one line per line of the text), or None and why not."""
    from PIL import Image, ImageDraw

    cjk = any(ord(ch) >= 0x2E80 for ch in text)
    font, covered = _font(size, cjk)
    from PIL import ImageFont

    if covered and not isinstance(font, ImageFont.FreeTypeFont) and not text.isascii():
        covered = False  # the built-in bitmap font draws ASCII only
    if not covered:
        return None, "no font with its characters is installed"
    lines = text.splitlines() or [""]
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [draw.textbbox((0, 0), line or " ", font=font) for line in lines]
    step = size + max(1, size // 4)
    width = max(b[2] for b in boxes) + 1
    img = Image.new("L", (max(1, width), step * len(lines) + 1))
    pen = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        pen.text((0, i * step), line, font=font, fill=255)
    return np.asarray(img) >= 128, ""


def _text_size(placement: Placement) -> int:
    h, w = placement.shape
    return int(max(10, min(28, round(min(h, w) / 32))))


def _draw_text(canvas: _Canvas, t: TextObject, placement: Placement, value: int) -> str:
    """Draw one text object; returns why it was not drawn ("" when it was)."""
    if not t.text.strip():
        return ""
    glyphs, why = _glyphs(t.text, _text_size(placement))
    if glyphs is None:
        return why
    gh, gw = glyphs.shape
    anchor = _to_display(np.array([t.anchor]), t.anchor_units or "PIXEL", placement)[0] if t.anchor else None
    if t.tlhc is not None and t.brhc is not None:
        corners = _to_display(np.array([t.tlhc, t.brhc]), t.box_units or "PIXEL", placement)
        x0, y0 = corners.min(axis=0)
        x1, _y1 = corners.max(axis=0)
        if t.justification == "RIGHT":
            left = x1 - gw
        elif t.justification == "CENTER":
            left = (x0 + x1 - gw) / 2.0
        else:
            left = x0
        top = y0
    elif anchor is not None:  # no box: the text beside its anchor, kept inside the picture
        left, top = anchor[0] + 4, anchor[1] + 4
        if left + gw > canvas.w:
            left = anchor[0] - 4 - gw
        if top + gh > canvas.h:
            top = anchor[1] - 4 - gh
    else:
        return "no position"
    left, top = int(round(left)), int(round(top))
    mask = canvas.mask()
    ys, xs = np.nonzero(glyphs)
    ys, xs = ys + top, xs + left
    ok = (ys >= 0) & (ys < canvas.h) & (xs >= 0) & (xs < canvas.w)
    mask[ys[ok], xs[ok]] = True
    if t.anchor_visible and anchor is not None and t.tlhc is not None:
        # The line from the box's nearest point to the anchor (PS3.3 C.10.5.1.1).
        near = np.clip(anchor, [left, top], [left + gw, top + gh])
        canvas.plot(mask, _segments(np.array([near, anchor])))
    if not ok.any():
        return "outside the displayed picture"
    canvas.stamp(mask, value)
    return "" if ok.all() else "partly outside the displayed picture"


# -- overlays --------------------------------------------------------------------------------------------------
def activated_planes(ps: PresentationState, header: Dataset, frame_number: int = 1):
    """The overlay planes the PS activates for this image frame, as (group, plane): the PS's own plane of that
    group (Overlay Plane module in the PS), else the image's; and the groups neither holds."""
    if not ps.activated_overlays:
        return [], []
    own = {p.group: p for p in overlay_planes(ps.overlay_data)} if ps.overlay_data is not None else {}
    image_planes = {p.group: p for p in overlay_planes(header, frame_number - 1)}
    found, missing = [], []
    for group in ps.activated_overlays:
        plane = own.get(group) or image_planes.get(group)
        if plane is None:
            missing.append(group)
        else:
            found.append((group, plane))
    return found, missing


def _draw_overlays(canvas: _Canvas, ps: PresentationState, header: Dataset, frame_number: int,
                   placement: Placement, warnings: list[PSWarning]) -> None:
    """Activated overlay groups, drawn on the stored image grid and moved with the picture."""
    found, missing = activated_planes(ps, header, frame_number)
    for group in missing:
        warnings.append(PSWarning("overlay.missing", f"overlay {group:04X} activated by the presentation "
                                                     "state: neither it nor the image holds its data"))
    gray = {layer.name: layer.gray for layer in ps.layers}
    for group, plane in found:
        rgba = composite([plane], placement.rows, placement.columns)
        grid = rgba[..., 3] > 0 if rgba is not None else np.zeros((placement.rows, placement.columns), bool)
        shown = placement.image(grid, fill=False).astype(bool)
        if not canvas.stamp(shown, _value(gray.get(ps.overlay_layers.get(group, "")))):
            warnings.append(PSWarning("overlay.empty", f"overlay {group:04X}: nothing of it falls in the picture"))


__all__ = ["activated_planes", "draw_state"]
