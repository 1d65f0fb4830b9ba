"""Input of a stack viewport: mouse, wheel and keyboard, dispatched to tools.

Which tool handles a drag is data, not branches in one event handler (cornerstone3D's tools and tool groups, see
STYLE.md): every tool is a small object registered by name in :data:`TOOLS_BY_NAME`; the left button drives the
tool named by ``ViewportState.tool`` and the other buttons are bound in :attr:`Interaction.bindings` (right: zoom,
middle: pan, as in OsiriX/Horos). Besides the active tool, the measurements on the shown image are always
*passive*: a press on a point of the selected one edits it, a click on an outline selects it, whatever the tool.

A tool receives the :class:`Interaction` (``ix``): ``ix.vp`` is the viewport (state, geometry mapping), ``ix.draft``
the measurement being drawn. Positions are canvas widget coordinates (``QPointF``).
"""

from __future__ import annotations

import math

from PySide6 import QtCore

from workstation.gui.viewer.annotations import LabelDrag
from workstation.gui.viewer.measure import POINTS_NEEDED, Measurement

Qt = QtCore.Qt

# Tool modes (cornerstone3D's names): an *active* tool handles the drags of the button it is bound to; a *passive*
# one only lets its annotations be selected and edited; a *disabled* one does nothing.
ACTIVE, PASSIVE, DISABLED = "active", "passive", "disabled"


class Tool:
    """What a press, a drag and a release of the button a tool is bound to do (the base does nothing).

    ``press`` returns True when it consumed the press (no drag follows); ``drag`` gets the previous and the new
    position; ``release`` gets the press position and whether the pointer moved more than a click's slack.
    ``hover`` is a move with no button down.
    """

    name = ""
    draws = False  # creates measurements (a draft while the button is down)

    def press(self, ix: "Interaction", pos: QtCore.QPointF) -> bool:
        return False

    def drag(self, ix: "Interaction", last: QtCore.QPointF, pos: QtCore.QPointF) -> None:
        pass

    def release(self, ix: "Interaction", start: QtCore.QPointF, pos: QtCore.QPointF, moved: bool) -> None:
        pass

    def hover(self, ix: "Interaction", pos: QtCore.QPointF) -> None:
        pass


class WindowTool(Tool):
    """Window/level: dragging right widens the window, dragging down raises the centre (OsiriX/Horos)."""

    name = "window"

    def drag(self, ix, last, pos):
        ix.vp.drag_window(pos.x() - last.x(), pos.y() - last.y())


class ZoomTool(Tool):
    """Zoom: dragging up magnifies."""

    name = "zoom"

    def drag(self, ix, last, pos):
        ix.vp.state.zoom_by(math.exp(-(pos.y() - last.y()) * 0.01), ix.vp.fit_zoom())


class PanTool(Tool):
    """Pan: the image point under the pointer follows it."""

    name = "pan"

    def drag(self, ix, last, pos):
        vp = ix.vp
        a, b = vp.image_point(last), vp.image_point(pos)
        cols, rows = vp._image_size()
        vp.state.pan_by(a.x() - b.x(), a.y() - b.y(), (cols / 2, rows / 2))


class ProbeTool(Tool):
    """Probe: the value under the pointer (shown whatever the tool); a drag only moves the probe, it never
    changes the window."""

    name = "probe"


class MeasureTool(Tool):
    """A two-point measurement drawn by a drag: distance, rectangle or ellipse (corner to corner)."""

    draws = True

    def __init__(self, kind: str):
        self.name = kind

    def press(self, ix, pos):
        p = ix.vp.image_point(pos)
        pt = (p.x(), p.y())
        ix.draft = Measurement(self.name, [pt, pt], key=ix.vp.frame_key)
        return False

    def drag(self, ix, last, pos):
        if ix.draft is not None:
            ix.move_draft_point(pos)

    def release(self, ix, start, pos, moved):
        if not moved:
            ix.draft = None  # a click without a drag draws nothing
        else:
            ix.commit_draft()


class AngleTool(MeasureTool):
    """Angle: three clicks (end, vertex, end), or drag the first arm and click the third point."""

    multi_click = True  # while its draft exists, presses go to the tool first

    def __init__(self):
        super().__init__("angle")

    def press(self, ix, pos):
        d = ix.draft
        if d is None or d.kind != "angle":
            return super().press(ix, pos)
        # The moving point is fixed where the user clicks; the third fixed point completes the angle.
        p = ix.vp.image_point(pos)
        d.points[-1] = (p.x(), p.y())
        if len(d.points) >= 3:
            ix.commit_draft()
        else:
            d.points.append((p.x(), p.y()))
        ix.update()
        return True

    def hover(self, ix, pos):
        if ix.draft is not None and ix.draft.kind == "angle":
            ix.move_draft_point(pos)  # rubber band to the next point

    def release(self, ix, start, pos, moved):
        d = ix.draft
        if moved:
            p = ix.vp.image_point(pos)
            d.points[-1] = (p.x(), p.y())
            if len(d.points) >= 3:
                ix.commit_draft()
            else:
                d.points.append((p.x(), p.y()))


TOOLS_BY_NAME: dict[str, Tool] = {
    t.name: t for t in (WindowTool(), ZoomTool(), PanTool(), ProbeTool(), MeasureTool("distance"), AngleTool(),
                        MeasureTool("rectangle"), MeasureTool("ellipse"))
}

# Keyboard shortcuts selecting the left-button tool.
TOOL_KEYS = {Qt.Key_W: "window", Qt.Key_Z: "zoom", Qt.Key_P: "pan", Qt.Key_D: "distance", Qt.Key_G: "angle",
             Qt.Key_T: "rectangle", Qt.Key_E: "ellipse"}


def register_tool(tool: Tool, key=None) -> None:
    """Make ``tool`` available by its name (and select it with ``key``); the name must be in state.TOOLS."""
    TOOLS_BY_NAME[tool.name] = tool
    if key is not None:
        TOOL_KEYS[key] = tool.name


class Interaction:
    """The input state machine of one viewport: the button down, the draft, the measurement being edited.

    ``bindings`` maps the buttons other than the left one to tool names; the left button uses the state's tool.
    """

    def __init__(self, viewport):
        self.vp = viewport
        self.bindings = {Qt.RightButton: "zoom", Qt.MiddleButton: "pan"}
        self.drag_state = None  # (button, press QPointF, last QPointF) while a button is down
        self.draft: Measurement | None = None
        self.editing: tuple[Measurement, int] | None = None  # a measurement's point being dragged
        self.selected: Measurement | None = None  # the measurement Delete removes
        self.press_hit: Measurement | None = None
        self.label_drag = LabelDrag()  # a measurement's label being dragged (annotations.py)
        self.label_rects: list = []  # (measurement, label rect, anchor) as last painted

    # -- helpers for tools ---------------------------------------------------------------------------------------
    def update(self) -> None:
        self.vp.canvas.viewport().update()

    def tool_for(self, button) -> Tool | None:
        name = self.vp.state.tool if button == Qt.LeftButton else self.bindings.get(button)
        return TOOLS_BY_NAME.get(name) if name else None

    def move_draft_point(self, pos) -> None:
        p = self.vp.image_point(pos)
        self.draft.points[-1] = (p.x(), p.y())
        self.update()

    def commit_draft(self) -> None:
        d = self.draft
        self.draft = None
        if d is not None and len(d.points) >= POINTS_NEEDED[d.kind]:
            self.vp.measurements.add(d)
        self.update()

    # -- mouse ---------------------------------------------------------------------------------------------------
    def press(self, ev) -> None:
        vp = self.vp
        vp.activated.emit()
        vp.canvas.setFocus()
        pos = ev.position()
        button = ev.button()
        self.drag_state = (button, pos, pos)
        if button != Qt.LeftButton or vp.stack is None:
            return
        if ev.modifiers() & Qt.ShiftModifier and self.draft is None:
            # Shift+click: the 3D cursor, whatever the tool (as in Horos/Weasis); nothing is drawn or dragged.
            self.drag_state = None
            vp.cursorPicked.emit(vp.image_point(pos))
            return
        tool = self.tool_for(button)
        if self.draft is not None and getattr(tool, "multi_click", False) and self.draft.kind == tool.name:
            tool.press(self, pos)  # the next point of an angle, a polygon, a Cobb angle
            if self.draft is None:
                self.drag_state = None  # complete: the release finishes nothing
            return
        if self.label_drag.press(self, pos):
            return
        # A press on a point (handle) of the selected measurement drags that point: the measurement is edited.
        # (Only the selected one: a new measurement may start on another one's point.)
        handle = self.handle_at(pos, only=self.selected) if self.selected is not None else None
        if handle is not None:
            self.editing = handle
            self.selected = handle[0]
            self.draft = None
            self.update()
            return
        # A click (no drag) on a measurement's outline selects it on release; a drag still draws/windows.
        self.press_hit = self.measurement_at(pos)
        if tool is not None and (tool.draws or getattr(tool, "wants_press", False)):
            tool.press(self, pos)

    def move(self, ev) -> None:
        pos = ev.position()
        self.vp._update_probe(pos)
        if self.drag_state is None:
            tool = self.tool_for(Qt.LeftButton)
            if tool is not None:
                tool.hover(self, pos)
            return
        button, start, last = self.drag_state
        self.drag_state = (button, start, pos)
        if self.label_drag.move(self, pos):
            return
        if button == Qt.LeftButton and self.editing is not None:
            m, index = self.editing
            p = self.vp.image_point(pos)
            m.points[index] = (p.x(), p.y())
            self.update()
            return
        tool = self.tool_for(button)
        if tool is not None:
            tool.drag(self, last, pos)

    def release(self, ev) -> None:
        if self.drag_state is None:
            return
        button, start = self.drag_state[0], self.drag_state[1]
        self.drag_state = None
        if self.label_drag.release(self):
            return
        if button != Qt.LeftButton:
            return
        if self.editing is not None:
            m, self.editing = self.editing[0], None
            self.vp.measurements.changed(m)
            self.update()
            return
        d = self.draft
        pos = ev.position()
        moved = math.hypot(pos.x() - start.x(), pos.y() - start.y()) > 3
        hit, self.press_hit = self.press_hit, None
        if not moved and (hit is not None or self.selected is not None):
            self.selected = hit  # click on a measurement: select it (Delete removes it); elsewhere: deselect
            if hit is not None and d is not None and len(d.points) <= 2:
                self.draft = None
            self.update()
            if hit is not None:
                return
        if d is None:
            return
        tool = TOOLS_BY_NAME.get(d.kind)
        if tool is not None:
            tool.release(self, start, pos, moved)
        self.update()

    def double_click(self, ev) -> None:
        tool = TOOLS_BY_NAME.get(self.draft.kind) if self.draft is not None else None
        if hasattr(tool, "finish"):
            tool.finish(self)  # a double-click closes a polygon
            return
        self.vp.activated.emit()
        # With a navigation tool a double-click maximises the viewport in its layout (and back); drawing tools
        # keep double-clicks for themselves.
        if self.draft is None and self.vp.state.tool in ("window", "zoom", "pan", "probe"):
            self.vp.doubleClicked.emit()

    def wheel(self, ev) -> None:
        steps = ev.angleDelta().y() / 120.0
        if steps == 0:
            return
        n = -int(math.copysign(max(1, round(abs(steps))), steps))  # wheel down (negative) = next frame
        self.vp.scroll(n)

    def leave(self) -> None:
        vp = self.vp
        vp._hover = None
        vp.probe = {}
        self.update()

    def tool_changed(self) -> None:
        self.draft = None

    def frame_changed(self) -> None:
        self.selected = None

    def reset_annotations(self) -> None:
        """A new stack: nothing selected, nothing being drawn."""
        self.selected = None
        self.draft = None

    # -- measurements on the shown image ----------------------------------------------------------------------
    def handle_at(self, widget_pos, tolerance: float = 6.0, only: Measurement | None = None):
        """(measurement, point index) of a point of a measurement on the shown image (or of ``only``) within
        ``tolerance`` screen pixels of ``widget_pos`` (the topmost), or None."""
        vp = self.vp
        x, y = float(widget_pos.x()), float(widget_pos.y())
        shown = vp.measurements.on(vp.frame_key)
        if only is not None:
            shown = [only] if only in shown else []
        for m in reversed(shown):
            for index, pt in enumerate(m.points):
                w = vp.widget_point(pt)
                if math.hypot(w.x() - x, w.y() - y) <= tolerance:
                    return m, index
        return None

    def measurement_at(self, widget_pos, tolerance: float = 6.0):
        """The measurement of the shown image whose outline passes within ``tolerance`` screen pixels of
        ``widget_pos`` (the topmost one), or None."""
        vp = self.vp
        x, y = float(widget_pos.x()), float(widget_pos.y())
        for m in reversed(vp.measurements.on(vp.frame_key)):
            pts = [vp.widget_point(pt) for pt in m.points]
            if m.kind not in ("rectangle", "ellipse"):
                if len(pts) == 1 or m.kind in ("polygon", "freehand"):
                    pairs = list(zip(pts, pts[1:] + pts[:1]))  # a point; a closed outline
                elif m.kind == "cobb":
                    pairs = [(pts[0], pts[1]), (pts[2], pts[3])]
                else:
                    pairs = list(zip(pts, pts[1:]))
                if any(_segment_distance(x, y, a, b) <= tolerance for a, b in pairs):
                    return m
                continue
            r = QtCore.QRectF(pts[0], pts[-1]).normalized()
            if m.kind == "rectangle":
                inside = r.adjusted(-tolerance, -tolerance, tolerance, tolerance).contains(x, y)
                deep = r.adjusted(tolerance, tolerance, -tolerance, -tolerance)
                if inside and not (deep.isValid() and deep.contains(x, y)):
                    return m
            else:
                ax, ay = max(r.width() / 2, 1e-6), max(r.height() / 2, 1e-6)
                nx, ny = (x - r.center().x()) / ax, (y - r.center().y()) / ay
                radial = math.hypot(nx, ny)
                if abs(radial - 1.0) * min(ax, ay) <= tolerance:
                    return m
        return None

    def delete_selected(self) -> bool:
        """Remove the selected measurement; False when none is selected."""
        if self.selected is None:
            return False
        self.vp.measurements.remove(self.selected)
        self.selected = None
        self.update()
        return True

    # -- keyboard --------------------------------------------------------------------------------------------------
    def key(self, key: int, modifiers=Qt.NoModifier) -> bool:
        """Keyboard commands; returns False for keys the viewport does not use."""
        vp = self.vp
        st = vp.state
        shift = bool(modifiers & Qt.ShiftModifier)
        ctrl = bool(modifiers & Qt.ControlModifier)
        scrolls = {Qt.Key_Down: 1, Qt.Key_Right: 1, Qt.Key_Up: -1, Qt.Key_Left: -1, Qt.Key_PageDown: 10,
                   Qt.Key_PageUp: -10, Qt.Key_Home: -st.n_frames, Qt.Key_End: st.n_frames}
        state_keys = {Qt.Key_I: st.toggle_invert, Qt.Key_H: st.flip_horizontal, Qt.Key_V: st.flip_vertical,
                      Qt.Key_F: st.fit, Qt.Key_N: st.one_to_one, Qt.Key_Space: vp.toggle_cine,
                      Qt.Key_0: vp.auto_window, Qt.Key_A: vp.auto_window}
        if key in scrolls:
            vp.scroll(scrolls[key])
        elif Qt.Key_1 <= key <= Qt.Key_9 and not ctrl and shift:
            return vp.apply_file_preset(key - Qt.Key_1)  # the file's own windows: Shift+1..9
        elif key in _SHIFTED_DIGITS and not ctrl:
            return vp.apply_file_preset(_SHIFTED_DIGITS.index(key))  # Shift+1..9 as a US keyboard reports it
        elif Qt.Key_1 <= key <= Qt.Key_9 and not ctrl:
            return vp.apply_preset(key - Qt.Key_1)  # the modality's presets: always the same window per key
        elif key in (Qt.Key_Return, Qt.Key_Enter) and self.draft is not None:
            tool = TOOLS_BY_NAME.get(self.draft.kind)
            if not hasattr(tool, "finish"):
                return False
            tool.finish(self)
        elif key in state_keys:
            state_keys[key]()
        elif key == Qt.Key_R:
            st.rotate(-1 if shift else 1)
        elif key in (Qt.Key_Delete, Qt.Key_Backspace) and self.selected is not None:
            self.delete_selected()
        elif key in (Qt.Key_Escape, Qt.Key_Backspace):
            # Cancel what is being drawn, else deselect; never more: Esc with nothing selected reset the zoom
            # and the window the reader had set (Reset is a button and a menu entry).
            if self.draft is not None:
                self.draft = None
                self.update()
            elif key == Qt.Key_Escape and self.selected is not None:
                self.selected = None
                self.update()
        elif key in (Qt.Key_Plus, Qt.Key_Equal):
            st.update(fps=st.fps + (5 if st.fps >= 5 else 1))
        elif key == Qt.Key_Minus:
            st.update(fps=st.fps - (5 if st.fps > 5 else 1))
        elif key == Qt.Key_O and shift:
            st.update(planes=not st.planes)
        elif key == Qt.Key_O:
            st.update(overlay=not st.overlay)
        elif key == Qt.Key_Delete:
            pass  # nothing selected: click a measurement first
        elif key in TOOL_KEYS:
            st.update(tool=TOOL_KEYS[key])
        else:
            return False
        return True


_SHIFTED_DIGITS = [Qt.Key_Exclam, Qt.Key_At, Qt.Key_NumberSign, Qt.Key_Dollar, Qt.Key_Percent, Qt.Key_AsciiCircum,
                   Qt.Key_Ampersand, Qt.Key_Asterisk, Qt.Key_ParenLeft]


def _segment_distance(x: float, y: float, a: QtCore.QPointF, b: QtCore.QPointF) -> float:
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    dx, dy = bx - ax, by - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / n))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))
