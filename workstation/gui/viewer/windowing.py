"""What a viewport's window (or VOI LUT) is: the opening one, the presets on keys 1..9 and Shift+1..9, the automatic
one, and how it maps the frame's values to the screen. Mixed into :class:`workstation.gui.viewer.viewport.StackViewport`,
whose state, presentation and image it works on."""

from __future__ import annotations

import numpy as np

from workstation import imaging
from workstation.gui.viewer.voi import histogram_window, lut_window, representative_frame, user_presets, voi_lut_name

PS_VOI_LUT = 1 << 16  # state.lut naming the applied presentation state's VOI LUT, not one of the file's


class Windowing:
    """The window-related half of a viewport (see the module docstring)."""

    def _initial_voi(self, pres, frame) -> tuple[float, float, int | None]:
        """The default presentation, as ``workstation render`` draws it (``Presentation.default_window``):
        the file's first window, else its first VOI LUT, else the full range of modality values.
        Returns (center, width, VOI LUT index or None)."""
        self._needs_auto = None
        # An angiographic cine opens with the window of a frame with contrast, not of its first frame.
        ref = representative_frame(self.stack, frame) if self.stack is not None else frame
        if ref != frame:
            pres = self.stack.presentation(ref)
        # Own windows or VOI LUTs first; otherwise the frame's range of values (needs the decoded frame).
        win = pres.default_window() if pres is not None and (pres.file_windows or pres.voi_luts) else None
        self._voi_function = getattr(win, "function", None) if isinstance(win, imaging.Window) else None
        if isinstance(win, imaging.VOILUT):
            center, width = lut_window(win)
            return center, width, 0
        if win is None and pres is not None and not pres.is_color and self.stack is not None:
            # Float pixel data has no stored range: min/max of the frame once it is decoded.
            arr = self.stack.frame(ref)
            if arr is not None:
                win = pres.auto_window(arr)
            else:
                self._needs_auto = ref
        if win is None:
            lo, hi = ((pres.stored_range or (0, 255)) if pres is not None else (0, 255))
            return (lo + hi) / 2, max(1.0, hi - lo), None
        return float(win.center), float(win.width), None

    def _apply_auto_window(self, pres, arr) -> None:
        self._needs_auto = None
        win = pres.auto_window(arr) if not pres.is_color else None
        if win is not None:
            self._auto_center_width = (float(win.center), float(win.width))
            self.state.update(center=float(win.center), width=float(win.width))

    def current_voi_lut(self):
        """The VOI LUT shown now (a :class:`workstation.imaging.VOILUT`), or None when a window is shown."""
        pres, k = self.presentation, self.state.lut
        if pres is None or k is None or pres.is_color:
            return None
        if k == PS_VOI_LUT:
            return self.ps_voi_lut  # an applied presentation state's own VOI LUT (a window drag leaves it)
        luts = getattr(pres, "voi_luts", None) or []
        return luts[k] if k < len(luts) else None

    def _mapping(self):
        pres = self.presentation
        if pres is None or pres.is_color:
            return None, None
        lut = self.current_voi_lut()
        if lut is not None:
            m = pres.display_mapping(lut, invert=self.state.invert, frame=self._array)
            return tuple(m.levels), m.lut
        fn = getattr(self, "_voi_function", None)
        win = (imaging.Window(self.state.center, self.state.width, fn) if fn is not None
               else imaging.Window(self.state.center, self.state.width))
        m = pres.display_mapping(win, invert=self.state.invert)
        return tuple(m.levels), m.lut

    def _apply_window(self) -> None:
        if self._array is None:
            return
        levels, lut = self._mapping()
        if levels is None:
            return
        if lut is not self._last_lut and not (lut is not None and self._last_lut is not None
                                              and np.array_equal(lut, self._last_lut)):
            self.image.setLookupTable(lut, update=False)
            self._last_lut = lut
        self.image.setLevels(levels)
        self._last_levels = levels

    def file_presets(self) -> list:
        """The file's windows, then its VOI LUTs (``window`` is a VOILUT, ``source`` "lut"): Shift+1..9."""
        pres = self.presentation
        if pres is None or pres.is_color:
            return []
        out = [p for p in pres.presets if p.source == "file"]
        luts = [imaging.WindowPreset(voi_lut_name(pres, k), lut, "lut")
                for k, lut in enumerate(getattr(pres, "voi_luts", None) or [])]
        return out + luts

    def user_presets(self) -> list:
        """The settings' presets for this modality, on keys 1..9 whatever the file holds
        (:class:`workstation.gui.viewer.voi.UserPreset`)."""
        if self.stack is None or self.presentation is None or self.presentation.is_color:
            return []
        modality = str(self.stack.header(self.state.frame).get("Modality", "") or "")
        return user_presets(getattr(self.window(), "settings", None), modality)

    def presets(self) -> list:
        """The presets keys 1..9 apply, as ``WindowPreset`` (source "user") with the window they give now."""
        arr = self.current_array()
        out = []
        for p in self.user_presets():
            win = p.window(self.presentation, arr)
            if win is not None:
                out.append(imaging.WindowPreset(p.name, win, "user"))
        return out

    def apply_preset(self, index: int) -> bool:
        """Key ``index + 1``: the modality's preset on that key (histogram presets on the frame shown)."""
        presets = self.user_presets()
        if not 0 <= index < len(presets):
            return False
        win = presets[index].window(self.presentation, self.current_array())
        if win is None:
            return False
        self._voi_function = win.function
        self.state.set_window(win.center, win.width)
        return True

    def apply_file_preset(self, index: int) -> bool:
        """Shift+``index + 1``: the file's own window or VOI LUT number ``index + 1``."""
        presets = self.file_presets()
        if not 0 <= index < len(presets):
            return False
        w = presets[index].window
        if isinstance(w, imaging.VOILUT):
            k = next(i for i, lut in enumerate(self.presentation.voi_luts) if lut is w)
            self.state.set_voi_lut(k, *lut_window(w))
            return True
        self._voi_function = w.function
        self.state.set_window(w.center, w.width)
        return True

    def auto_window(self) -> None:
        """A / 0: the 1st to 99th percentile of this image's values (min/max let a few pixels decide)."""
        arr = self.current_array()
        if arr is None or self.presentation is None or self.presentation.is_color:
            return
        win = histogram_window(self.presentation, arr)
        if win is not None:
            self._voi_function = win.function
            self.state.set_window(win.center, win.width)
