"""The annotation tools: polygon and freehand ROIs, arrow, text, point, Cobb angle, and the calibration line.

Each is a small :class:`workstation.gui.viewer.interaction.Tool` registered by name (:func:`register`), so the
viewport's dispatch needs no branch for it. How each is drawn:

* **Polygon** (Y): click each vertex; double-click, Enter, or a click on the first vertex closes it; Esc cancels.
* **Freehand** (L): press and trace the outline; the release closes it.
* **Arrow** (U): press on what it points at, drag to where its tail goes.
* **Text** (X): click where the text goes and type it.
* **Point** (J): click; the label shows the value there (a Doppler region: the velocity).
* **Cobb angle** (C): drag along the first endplate, then along the second.
* **Calibrate** (Shift+K; K marks key images): drag along an object of known length and type the length in mm; the series is calibrated for
  the session ("manual calibration" on every length).

The dialogs are module functions (:func:`ask_text`, :func:`ask_length`) that tests replace.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from workstation.gui.viewer import interaction as ia
from workstation.gui.viewer.annotations import set_manual_calibration
from workstation.gui.viewer.measure import Measurement
from workstation.imaging.roi import simplify_path

Qt = QtCore.Qt


def ask_text(parent, current: str = "") -> str | None:
    """The text of a text annotation (None when cancelled)."""
    text, ok = QtWidgets.QInputDialog.getText(
        parent, QtCore.QCoreApplication.translate("Tools", "Text annotation"),
        QtCore.QCoreApplication.translate("Tools", "Text:"), text=current)
    return text if ok else None


def ask_length(parent, measured: str) -> float | None:
    """The true length in mm of the calibration line (None when cancelled)."""
    value, ok = QtWidgets.QInputDialog.getDouble(
        parent, QtCore.QCoreApplication.translate("Tools", "Calibrate"),
        QtCore.QCoreApplication.translate("Tools", "The line measures {0} on the image.\nIts true length in mm:")
        .format(measured), 10.0, 0.01, 100000.0, 2)
    return value if ok else None


def _point(ix, pos) -> tuple[float, float]:
    p = ix.vp.image_point(pos)
    return (p.x(), p.y())


class PolygonTool(ia.Tool):
    name = "polygon"
    draws = True
    multi_click = True  # presses while a draft exists go to the tool (as for the angle)

    def press(self, ix, pos):
        d = ix.draft
        pt = _point(ix, pos)
        if d is None or d.kind != self.name:
            ix.draft = Measurement(self.name, [pt, pt], key=ix.vp.frame_key)
            return False
        first = ix.vp.widget_point(d.points[0])
        if len(d.points) >= 4 and math.hypot(first.x() - pos.x(), first.y() - pos.y()) <= 8:
            self.finish(ix)  # a click on the first vertex closes the outline
            return True
        d.points[-1] = pt
        d.points.append(pt)  # the new rubber-band point
        ix.update()
        return True

    def hover(self, ix, pos):
        if ix.draft is not None and ix.draft.kind == self.name:
            ix.move_draft_point(pos)

    def drag(self, ix, last, pos):
        self.hover(ix, pos)

    def release(self, ix, start, pos, moved):
        pass  # vertices are placed by presses

    def finish(self, ix) -> None:
        """Close the outline: drop the rubber-band point, keep it when it has three vertices."""
        d = ix.draft
        if d is None or d.kind != self.name:
            return
        pts = d.points[:-1]
        # A double-click places two presses on one spot: drop repeated vertices.
        d.points = [p for k, p in enumerate(pts) if k == 0 or math.dist(p, pts[k - 1]) > 1e-6]
        if len(d.points) >= 3:
            ix.commit_draft()
        else:
            ix.draft = None
            ix.update()


class FreehandTool(ia.Tool):
    name = "freehand"
    draws = True

    def press(self, ix, pos):
        ix.draft = Measurement(self.name, [_point(ix, pos)], key=ix.vp.frame_key)
        return False

    def drag(self, ix, last, pos):
        d = ix.draft
        if d is None or d.kind != self.name:
            return
        pt = _point(ix, pos)
        # About two screen pixels between samples: smooth enough, and a minute's tracing stays small.
        step = 2.0 / max(1e-6, ix.vp.effective_zoom())
        if math.dist(pt, d.points[-1]) >= step:
            d.points.append(pt)
            ix.update()

    def release(self, ix, start, pos, moved):
        d = ix.draft
        if d is not None and moved:
            d.points = simplify_path(d.points, 0.25)
            if len(d.points) >= 3:
                ix.commit_draft()
                return
        ix.draft = None


class PointTool(ia.Tool):
    name = "point"
    draws = True

    def press(self, ix, pos):
        ix.draft = Measurement(self.name, [_point(ix, pos)], key=ix.vp.frame_key)
        return False

    def drag(self, ix, last, pos):
        if ix.draft is not None and ix.draft.kind == self.name:
            ix.move_draft_point(pos)

    def release(self, ix, start, pos, moved):
        ix.commit_draft()


class TextTool(PointTool):
    name = "text"

    def release(self, ix, start, pos, moved):
        d = ix.draft
        ix.draft = None
        if d is None:
            return
        text = ask_text(ix.vp)
        if text and text.strip():
            d.text = text.strip()
            ix.draft = d
            ix.commit_draft()
        ix.update()


class CobbTool(ia.MeasureTool):
    """Two lines, each drawn by a drag; the angle between them."""

    multi_click = True

    def __init__(self):
        super().__init__("cobb")

    def press(self, ix, pos):
        d = ix.draft
        if d is None or d.kind != self.name:
            return super().press(ix, pos)  # the first line
        pt = _point(ix, pos)
        if len(d.points) == 2:
            d.points += [pt, pt]  # the second line starts
        ix.update()
        return False

    def release(self, ix, start, pos, moved):
        d = ix.draft
        if d is None:
            return
        if not moved:
            if len(d.points) <= 2:
                ix.draft = None
            else:
                del d.points[2:]  # a click instead of the second drag: draw the second line again
            return
        if len(d.points) >= 4:
            ix.commit_draft()


class CalibrateTool(ia.MeasureTool):
    """A line over an object of known length: the typed length calibrates the series (for the session)."""

    def __init__(self):
        super().__init__("calibrate")

    def release(self, ix, start, pos, moved):
        d = ix.draft
        ix.draft = None
        ix.update()
        if d is None or not moved:
            return
        from workstation.gui.viewer.annotations import label_text

        length = ask_length(ix.vp, label_text(ix.vp, d))
        if length is None:
            return
        try:
            set_manual_calibration(ix.vp, d.points[0], d.points[1], length)
        except ValueError as exc:
            QtWidgets.QMessageBox.warning(ix.vp, QtCore.QCoreApplication.translate("Tools", "Calibrate"), str(exc))


# name -> (tool, key selecting it)
NEW_TOOLS = {
    "polygon": (PolygonTool(), Qt.Key_Y), "freehand": (FreehandTool(), Qt.Key_L),
    "arrow": (ia.MeasureTool("arrow"), Qt.Key_U), "text": (TextTool(), Qt.Key_X), "point": (PointTool(), Qt.Key_J),
    "cobb": (CobbTool(), Qt.Key_C), "calibrate": (CalibrateTool(), None),  # Shift+K (tool_actions.py): K marks key images
}


def register() -> None:
    """Make the tools available to every viewport (idempotent)."""
    for tool, key in NEW_TOOLS.values():
        ia.register_tool(tool, key)


register()
