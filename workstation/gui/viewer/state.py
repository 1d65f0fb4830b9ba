"""Viewport state: a plain, Qt-free object that viewport widgets observe.

Everything the user changes in a viewport (frame, window, zoom, pan, rotation, flips, invert, active tool, overlay,
cine) lives here, so the interaction logic can be tested without a screen and two widgets can share nothing but
this object. Observers are plain callables receiving the set of attribute names that changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, Iterable

TOOLS = ("window", "zoom", "pan", "distance", "angle", "rectangle", "ellipse", "probe", "polygon", "freehand", "arrow",
         "text", "point", "cobb", "calibrate", "crosshair")
MIN_ZOOM = 0.02
MAX_ZOOM = 64.0
MIN_WIDTH = 1.0


@dataclass
class ViewportState:
    """The user-controlled view parameters of one viewport.

    Attributes
    ----------
    frame, n_frames: current frame index (0-based) and stack length.
    center, width: window in modality units (HU for CT).
    lut: index of the VOI LUT (VOI LUT Sequence item) shown instead of center/width, or None for the window.
        Any window change (drag, preset, auto) goes back to a window (``lut`` None).
    zoom: screen pixels per image pixel; ``None`` means "fit the viewport".
    pan: image coordinates (column, row) shown at the viewport centre; ``None`` means the image centre.
    rotation: clockwise quarter turns applied on screen, 0, 90, 180 or 270.
    flip_h, flip_v: mirror left-right / top-bottom after rotation.
    invert: show the window inverted (white becomes black).
    tool: the active left-button tool, one of :data:`TOOLS`.
    overlay: show the four-corner annotations.
    planes: draw the image's overlay planes (60xx: CAD marks, ROI outlines, text from the modality).
    playing, fps: cine.
    """

    frame: int = 0
    n_frames: int = 1
    center: float = 40.0
    width: float = 400.0
    lut: int | None = None
    zoom: float | None = None
    pan: tuple[float, float] | None = None
    rotation: int = 0
    flip_h: bool = False
    flip_v: bool = False
    invert: bool = False
    tool: str = "window"
    overlay: bool = True
    planes: bool = True
    playing: bool = False
    fps: float = 15.0
    _observers: list[Callable[[set[str]], None]] = field(default_factory=list, repr=False, compare=False)

    # -- observation -------------------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[set[str]], None]) -> None:
        """Call ``callback(changed_names)`` after every change."""
        self._observers.append(callback)

    def unsubscribe(self, callback: Callable[[set[str]], None]) -> None:
        if callback in self._observers:
            self._observers.remove(callback)

    def update(self, **values) -> set[str]:
        """Set several attributes at once (validated) and notify observers once; returns the changed names."""
        names = {f.name for f in fields(self) if not f.name.startswith("_")}
        changed: set[str] = set()
        for name, value in values.items():
            if name not in names:
                raise AttributeError(f"ViewportState has no attribute {name!r}")
            value = self._validate(name, value, values)
            if getattr(self, name) != value:
                object.__setattr__(self, name, value)
                changed.add(name)
        if changed:
            for cb in list(self._observers):
                cb(changed)
        return changed

    def _validate(self, name: str, value, values: dict):
        if name == "n_frames":
            return max(1, int(value))
        if name == "frame":
            n = int(values.get("n_frames", self.n_frames))
            return min(max(0, int(value)), max(0, n - 1))
        if name == "width":
            return max(MIN_WIDTH, float(value))
        if name == "center":
            return float(value)
        if name == "lut":
            return None if value is None else max(0, int(value))
        if name == "zoom":
            return None if value is None else min(MAX_ZOOM, max(MIN_ZOOM, float(value)))
        if name == "pan":
            return None if value is None else (float(value[0]), float(value[1]))
        if name == "rotation":
            return int(value) % 360 // 90 * 90
        if name == "tool":
            if value not in TOOLS:
                raise ValueError(f"unknown tool {value!r}; one of {', '.join(TOOLS)}")
            return value
        if name == "fps":
            return min(120.0, max(0.5, float(value)))
        if name in ("flip_h", "flip_v", "invert", "overlay", "planes", "playing"):
            return bool(value)
        return value

    # -- user operations (the same calls the keyboard, the mouse, the menus and the tests make) ---------------
    def scroll(self, delta: int, *, wrap: bool = False) -> None:
        """Move ``delta`` frames; clamps at the ends unless ``wrap`` (cine loops)."""
        target = self.frame + int(delta)
        if wrap and self.n_frames > 0:
            target %= self.n_frames
        self.update(frame=target)

    def set_window(self, center: float, width: float) -> None:
        self.update(center=center, width=width, lut=None)

    def set_voi_lut(self, index: int, center: float | None = None, width: float | None = None) -> None:
        """Show VOI LUT ``index``; ``center``/``width`` approximate it (where a later window drag starts)."""
        values: dict = {"lut": index}
        if center is not None and width is not None:
            values.update(center=center, width=width)
        self.update(**values)

    def drag_window(self, dx: float, dy: float, sensitivity: float) -> None:
        """OsiriX/Horos convention: dragging right widens the window, dragging down raises the centre.

        ``dx``/``dy`` are screen pixels (y grows downwards); ``sensitivity`` is modality units per pixel.
        """
        self.update(width=self.width + dx * sensitivity, center=self.center + dy * sensitivity, lut=None)

    def zoom_by(self, factor: float, fit_zoom: float) -> None:
        """Multiply the zoom; ``fit_zoom`` is the current fit scale (used when zoom is still "fit")."""
        base = self.zoom if self.zoom is not None else fit_zoom
        self.update(zoom=base * float(factor))

    def pan_by(self, dcol: float, drow: float, image_center: tuple[float, float]) -> None:
        """Shift the viewed image point by (dcol, drow) image pixels."""
        c, r = self.pan if self.pan is not None else image_center
        self.update(pan=(c + dcol, r + drow))

    def rotate(self, quarter_turns: int = 1) -> None:
        """Rotate clockwise by 90° steps (negative for counter-clockwise)."""
        self.update(rotation=self.rotation + 90 * int(quarter_turns))

    def flip_horizontal(self) -> None:
        self.update(flip_h=not self.flip_h)

    def flip_vertical(self) -> None:
        self.update(flip_v=not self.flip_v)

    def toggle_invert(self) -> None:
        self.update(invert=not self.invert)

    def fit(self) -> None:
        self.update(zoom=None, pan=None)

    def one_to_one(self) -> None:
        self.update(zoom=1.0)

    def reset(self, center: float, width: float, lut: int | None = None) -> None:
        """Back to the initial view: fit, no rotation/flip/invert, the given window (or VOI LUT ``lut``)."""
        self.update(zoom=None, pan=None, rotation=0, flip_h=False, flip_v=False, invert=False,
                    center=center, width=width, lut=lut)

    def snapshot(self) -> dict:
        """The state as a plain dict (for tests, sync and persistence)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


def screen_transform(rotation: int, flip_h: bool, flip_v: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """The 2x2 integer matrix mapping image direction (col, row) to screen direction (right, down).

    Rotation (clockwise on screen) is applied first, then flips, in screen space.
    """
    # Clockwise rotation by 90° on a y-down screen maps (x, y) -> (-y, x).
    m = ((1, 0), (0, 1))
    for _ in range(rotation // 90 % 4):
        m = ((-m[1][0], -m[1][1]), (m[0][0], m[0][1]))
    if flip_h:
        m = ((-m[0][0], -m[0][1]), m[1])
    if flip_v:
        m = (m[0], (-m[1][0], -m[1][1]))
    return m


def apply_screen_transform(m, vec: Iterable[float]) -> tuple[float, float]:
    x, y = vec
    return (m[0][0] * x + m[0][1] * y, m[1][0] * x + m[1][1] * y)
