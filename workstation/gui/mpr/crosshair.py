"""The MPR crosshair as a left-button tool of the viewer's viewports (registered once, used by the MPR window).

A click or drag moves the crosshair point (the viewport emits ``cursorPicked`` with the image point, as the 3D
cursor's Shift+click does); Ctrl+drag turns the other planes about this plane's normal through the crosshair,
by the angle the pointer sweeps around it (``viewport.on_axis_drag(degrees)``). The press and the release call
``viewport.on_drag_start()``/``on_drag_end()`` when set (the MPR window's half-resolution previews).
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from workstation.gui.viewer import interaction as ia

Qt = QtCore.Qt


def _ctrl() -> bool:
    return bool(QtWidgets.QApplication.keyboardModifiers() & Qt.ControlModifier)


def sweep(vp, last: QtCore.QPointF, pos: QtCore.QPointF) -> float:
    """Degrees the pointer turned about the crosshair from ``last`` to ``pos`` (widget positions), measured in image
    (column, row) coordinates - rows run along the plane's column direction, so a positive angle turns the row
    direction towards the column direction: a right-handed turn about the plane's normal."""
    mark = getattr(vp, "cursor_mark", None)
    if mark is None:
        return 0.0
    cx, cy = mark[2] + 0.5, mark[1] + 0.5
    a, b = vp.image_point(last), vp.image_point(pos)
    t0, t1 = math.atan2(a.y() - cy, a.x() - cx), math.atan2(b.y() - cy, b.x() - cx)
    return (math.degrees(t1 - t0) + 180.0) % 360.0 - 180.0


class CrosshairTool(ia.Tool):
    name = "crosshair"
    wants_press = True  # a click alone moves the crosshair (other non-drawing tools act on drags only)

    def press(self, ix, pos):
        _hook(ix.vp, "on_drag_start")
        ix.turning = _ctrl() and callable(getattr(ix.vp, "on_axis_drag", None))
        if not ix.turning:
            ix.vp.cursorPicked.emit(ix.vp.image_point(pos))
        return False

    def drag(self, ix, last, pos):
        if getattr(ix, "turning", False):
            ix.vp.on_axis_drag(sweep(ix.vp, last, pos))
        else:
            ix.vp.cursorPicked.emit(ix.vp.image_point(pos))

    def release(self, ix, start, pos, moved):
        ix.turning = False
        _hook(ix.vp, "on_drag_end")


def _hook(vp, name: str) -> None:
    """The MPR window's ``on_drag_start``/``on_drag_end`` (previews while the button is down), when it set one."""
    hook = getattr(vp, name, None)
    if callable(hook):
        hook()


def register_crosshair_tool() -> None:
    ia.register_tool(CrosshairTool())
