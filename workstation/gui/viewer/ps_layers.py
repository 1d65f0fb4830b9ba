"""What an applied presentation state adds over a viewport's pixels: display shutters, the overlays it activates,
and the displayed area it selects (PS3.3 C.11.4, C.11.10, C.7.6.11; PS3.4 N.2).

The pixels, measurements and probe stay those of the image: shutters and overlays are image items above it, in
image pixels, so they turn and flip with it (both are defined on the image before the spatial transformation).
The geometry is the headless one ``render --presentation-state`` uses (:func:`workstation.imaging.pstate.
shutter_mask`). While a PS is applied to the frame shown, the image's own overlay planes give way to the ones the
PS activates (an overlay the PS does not activate is not shown, PS3.4 N.2.4).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from workstation.gui.viewer.series import source_frame, source_uid
from workstation.dicom.ps_writer import KIND_OF_LAYER
from workstation.imaging.overlays import composite
from workstation.imaging.ps_draw import activated_planes, draw_state
from workstation.imaging.pstate import Placement, PSRender, shutter_mask

log = logging.getLogger(__name__)

_MM_PER_INCH = 25.4


class PSLayers:
    """The presentation-state layers of one viewport (``vp.ps_layers``)."""

    def __init__(self, vp):
        self.vp = vp
        self.state = None  # the PresentationState applied, or None
        self.shutter = pg.ImageItem(autoDownsample=False)
        self.shutter.setParentItem(vp.content)
        self.shutter.setZValue(3)  # above the image and every overlay: what a shutter hides is hidden
        self.overlay = pg.ImageItem(autoDownsample=False)
        self.overlay.setParentItem(vp.content)
        self.overlay.setZValue(2)
        # Other systems' graphic and text annotations (ours become editable measurements instead).
        self.graphics = pg.ImageItem(autoDownsample=False)
        self.graphics.setParentItem(vp.content)
        self.graphics.setZValue(2.5)
        self.foreign = None  # the PS reduced to its annotations on layers this workstation does not write
        self._key = None
        self.problems: list[str] = []  # what could not be drawn, for the viewport's note

    # -- applying ----------------------------------------------------------------------------------------------
    def set_state(self, ps) -> list[str]:
        """Apply ``ps`` (None: none) to the frames it references; returns what of its layers cannot be shown."""
        self.state = ps
        self.problems = []
        self._key = None
        self.foreign = None
        if ps is not None:
            theirs = [a for a in ps.annotations if KIND_OF_LAYER.get(a.layer.upper()) is None]
            if theirs:
                self.foreign = dataclasses.replace(ps, annotations=theirs, activated_overlays=[], warnings=[])
        self.refresh()
        return list(self.problems)

    def clear(self) -> None:
        self.state = None
        self.foreign = None
        self._key = None
        for item in (self.shutter, self.overlay, self.graphics):
            item.clear()
            item.setVisible(False)

    def release(self) -> None:
        self.clear()
        for item in (self.shutter, self.overlay, self.graphics):
            item.qimage = None
            item._displayBuffer = item._processingBuffer = None
        self.vp = None

    # -- per frame -------------------------------------------------------------------------------------------
    def applies(self) -> tuple[str, int] | None:
        """(SOPInstanceUID, 0-based frame) of the frame shown when the PS applied references it, else None."""
        vp = self.vp
        if self.state is None or vp is None or vp.stack is None or not hasattr(vp.stack, "source"):
            return None
        src = vp.stack.source(vp.state.frame)
        uid, frame = source_uid(src), source_frame(src)
        return (uid, frame) if uid and self.state.references(uid, frame + 1) else None

    def refresh(self) -> None:
        """Draw the layers for the frame shown (called whenever a frame is shown)."""
        vp = self.vp
        if vp is None:
            return
        image = vp.image.image
        here = self.applies()
        if here is None or image is None:
            self.shutter.setVisible(False)
            self.overlay.setVisible(False)
            self.graphics.setVisible(False)
            vp.planes.setVisible(vp.state.planes and vp.planes.image is not None)
            return
        rows, columns = int(image.shape[0]), int(image.shape[1])
        key = (here, rows, columns)
        if key != self._key:
            self._key = key
            self._draw_shutter(rows, columns)
            self._draw_overlays(here, rows, columns)
            self._draw_graphics(here, rows, columns)
        self.shutter.setVisible(self.shutter.image is not None)
        # The image's own planes give way to what the PS activates (drawn by this layer).
        vp.planes.setVisible(False)
        self.overlay.setVisible(self.overlay.image is not None and vp.state.planes)
        self.graphics.setVisible(self.graphics.image is not None and vp.state.overlay)

    def _draw_shutter(self, rows: int, columns: int) -> None:
        shutters = self.state.shutters
        if not shutters.any:
            self.shutter.clear()
            return
        hidden = shutter_mask(shutters, rows, columns)
        rgba = np.zeros((rows, columns, 4), np.uint8)
        # The shutter presentation value is a P-value (0..0xFFFF): the grey it stands for on this display.
        grey = int(round(min(max(shutters.presentation_value, 0), 0xFFFF) / 0xFFFF * 255))
        rgba[hidden] = (grey, grey, grey, 255)
        self.shutter.setImage(rgba, autoLevels=False, levels=None)

    def _draw_overlays(self, here: tuple[str, int], rows: int, columns: int) -> None:
        try:
            found, missing = activated_planes(self.state, self.vp.stack.header(self.vp.state.frame), here[1] + 1)
        except Exception:  # noqa: BLE001 - overlays are an extra: never keep the image from showing
            found, missing = [], []
        if missing:
            text = QtCore.QCoreApplication.translate("PSLayers", "overlay %1 (in neither the PS nor the image)")
            note = text.replace("%1", ", ".join(f"{g:04X}" for g in missing))
            if note not in self.problems:
                self.problems.append(note)
        rgba = composite([plane for _g, plane in found], rows, columns) if found else None
        if rgba is None:
            self.overlay.clear()
        else:
            self.overlay.setImage(rgba, autoLevels=False, levels=None)

    def _draw_graphics(self, here: tuple[str, int], rows: int, columns: int) -> None:
        """Other systems' annotations on this image, drawn on its grid (they turn with it, text too) by the same
        code as ``render --presentation-state``."""
        if self.foreign is None:
            self.graphics.clear()
            return
        header = self.vp.stack.header(self.vp.state.frame)
        blank = 1  # a grey no mark is drawn in (marks: the layer's grey; halo: black or white)
        canvas = np.full((rows, columns), blank, np.uint8)
        try:
            drawn = draw_state(PSRender(canvas, [], Placement(rows, columns)), self.foreign, header, here[1] + 1)
        except Exception as exc:  # noqa: BLE001 - a damaged annotation must not keep the image from showing
            log.warning("presentation state graphics not drawn: %s", exc)
            self.graphics.clear()
            return
        for w in drawn.warnings:
            if w.message not in self.problems:
                self.problems.append(w.message)
        marked = drawn.image != blank
        if not marked.any():
            self.graphics.clear()
            return
        rgba = np.zeros((rows, columns, 4), np.uint8)
        rgba[..., :3] = drawn.image[..., None]
        rgba[..., 3] = np.where(marked, 255, 0)
        self.graphics.setImage(rgba, autoLevels=False, levels=None)

    # -- the displayed area ------------------------------------------------------------------------------------
    def fit_displayed_area(self, area) -> str:
        """Zoom and pan ``vp`` to the PS's displayed area. Returns a note when its size mode cannot be honoured
        exactly ("" otherwise)."""
        vp = self.vp
        if vp is None or area is None:
            return ""
        (c0, r0), (c1, r1) = area.tlhc, area.brhc
        x0, x1 = sorted((c0 - 1.0, float(c1)))  # pixel edges: 1-based corners name whole pixels
        y0, y1 = sorted((r0 - 1.0, float(r1)))
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        mode = (area.size_mode or "SCALE TO FIT").upper()
        note = ""
        if mode == "MAGNIFY" and area.magnification:
            zoom = float(area.magnification) * device_ratio(vp)
        elif mode == "TRUE SIZE" and area.pixel_spacing:
            screen = vp.screen() if hasattr(vp, "screen") else None
            dpi = float(screen.physicalDotsPerInchX()) if screen is not None else 0.0
            if dpi > 0:
                zoom = float(area.pixel_spacing[1]) * dpi / _MM_PER_INCH * device_ratio(vp)
                note = QtCore.QCoreApplication.translate(
                    "PSLayers", "true size at this screen's %1 dpi").replace("%1", f"{dpi:.0f}")
            else:
                zoom = _fit(vp, x0, y0, x1, y1)
                note = QtCore.QCoreApplication.translate("PSLayers", "true size (screen size unknown): fitted")
        else:
            zoom = _fit(vp, x0, y0, x1, y1)
        vp.state.update(zoom=zoom, pan=centre)
        return note


def _fit(vp, x0: float, y0: float, x1: float, y1: float) -> float:
    """Screen pixels per image column that fit the rectangle (image pixels) in the viewport, turned as shown."""
    t = vp.content_transform()
    r = t.mapRect(QtCore.QRectF(x0, y0, max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)))
    w, h = max(1.0, vp.view.width()), max(1.0, vp.view.height())
    return min(w / max(r.width(), 1e-6), h / max(r.height(), 1e-6)) * vp._scale()[0]


def device_ratio(vp) -> float:
    """Viewport (logical) pixels per screen pixel: a zoom is in the former, a PS's magnification in the latter."""
    try:
        return 1.0 / float(vp.devicePixelRatioF()) if vp.devicePixelRatioF() else 1.0
    except Exception:  # noqa: BLE001
        return 1.0


__all__ = ["PSLayers"]
