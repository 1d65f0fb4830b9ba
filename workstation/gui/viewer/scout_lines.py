"""Reference lines and the 3D cursor in a viewer window's layout (the geometry is in imaging/localizer.py).

Reference lines: the plane of the active viewport's image is drawn on every other visible viewport whose series
shares its Frame of Reference (as Horos, Weasis and RadiAnt draw localizer lines), updated as the reader scrolls;
the first and last images of the active series are drawn thinner and dashed, so the extent of the stack shows on a
scout. Images of another Frame of Reference get no line: their coordinates cannot be compared.

3D cursor: Shift+click on an image picks that patient point; every other visible viewport of the same Frame of
Reference goes to its slice nearest to the point and marks where the point lies in it. A viewport where no slice
holds the point says so in the status bar and keeps its slice.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui

from workstation.gui.mpr.crosshair import register_crosshair_tool
from workstation.imaging.localizer import nearest_slice, reference_segment
from workstation.imaging.mpr import plane_of

Qt = QtCore.Qt
register_crosshair_tool()  # the crosshair tool: in any viewer, a click is the 3D cursor
LINE = QtGui.QColor(255, 214, 0)  # the yellow of Horos' and Weasis' localizer lines
CURSOR = QtGui.QColor(0, 230, 255)


def frame_plane(vp, frame: int | None = None):
    """The plane of the frame ``vp`` shows (or ``frame``), or None without geometry."""
    stack = getattr(vp, "stack", None)
    if stack is None or not len(stack):
        return None
    k = vp.state.frame if frame is None else frame
    try:
        return plane_of(stack.geometry(k), stack.rows, stack.columns)
    except Exception:  # noqa: BLE001 - a frame without usable geometry has no line
        return None


def frame_of_reference(vp) -> str:
    stack = getattr(vp, "stack", None)
    if stack is None or not len(stack):
        return ""
    return str(stack.geometry(vp.state.frame).frame_of_reference_uid or "")


class ReferenceLines(QtCore.QObject):
    """The reference lines and 3D cursor of one viewer window (``win.reference_lines``)."""

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.enabled = True
        self._last_pick = None  # (weakref to viewport, patient point, time): the first of two marks across studies

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        self.update()

    def _targets(self, source):
        uid = frame_of_reference(source)
        if not uid:
            return []
        return [vp for vp in self.win.visible_viewports
                if vp is not source and vp.stack is not None and vp.stack is not source.stack
                and frame_of_reference(vp) == uid]

    def update(self) -> None:
        """Recompute the lines for the active viewport's image (cheap: plane geometry only)."""
        if getattr(self.win, "_closed", True):
            return
        for vp in self.win.viewports:
            if getattr(vp, "reference_lines", None):
                vp.reference_lines = []
                vp.canvas.viewport().update()
        source = self.win.active
        if not self.enabled or source is None or source.stack is None:
            return
        current = frame_plane(source)
        if current is None:
            return
        n = len(source.stack)
        ends = [k for k in {0, n - 1} if k != source.state.frame] if n > 2 else []
        for vp in self._targets(source):
            target = frame_plane(vp)
            if target is None:
                continue
            lines = []
            for k in ends:
                seg = reference_segment(frame_plane(source, k), target)
                if seg is not None:
                    lines.append((seg, "end"))
            seg = reference_segment(current, target)
            if seg is not None:
                lines.append((seg, "current"))
            vp.reference_lines = lines
            vp.canvas.viewport().update()

    def pick(self, source, image_pos: QtCore.QPointF) -> dict:
        """Shift+click at image (column, row) ``image_pos`` of ``source``: the other viewports of its Frame of
        Reference show the slice through that point. Returns {viewport: frame} of those moved."""
        if getattr(self.win, "_closed", True):
            return {}
        plane = frame_plane(source)
        if plane is None:
            self.win.statusBar().showMessage(self.tr("3D cursor: this image has no position in the patient"), 5000)
            return {}
        row, column = image_pos.y() - 0.5, image_pos.x() - 0.5  # pixel centres are at +0.5 in image coordinates
        point = plane.pixel_to_patient(row, column)
        for vp in self.win.viewports:
            vp.cursor_mark = None
        source.cursor_mark = (source.state.frame, row, column)
        moved, missed = {}, 0
        for vp in self._targets(source):
            planes = [frame_plane(vp, k) for k in range(len(vp.stack))]
            found = nearest_slice(planes, point)
            if found is None:
                missed += 1
                continue
            k, r, c = found
            vp.cursor_mark = (k, r, c)
            if k != vp.state.frame:
                vp.state.update(frame=k)
            moved[vp] = k
            vp.canvas.viewport().update()
        source.canvas.viewport().update()
        text = self.tr("3D cursor at (%1) mm").replace("%1", ", ".join(f"{v:.1f}" for v in point))
        if missed:
            text += " — " + self.tr("not within the images of %n viewport(s)", "", missed)
        linked = self._mark_across(source, point)
        if linked:
            text = self.tr("Sync: the points marked in the two studies now correspond; scrolling keeps them together")
        elif not moved and self._others_elsewhere(source):
            text += " — " + self.tr("Shift+click the same point in the other study to sync them there")
        self.win.statusBar().showMessage(text, 10000)
        self.update()
        return moved

    def _others_elsewhere(self, source) -> bool:
        """Whether another visible viewport shows a stack of another Frame of Reference."""
        uid = frame_of_reference(source)
        return any(vp is not source and vp.stack is not None and frame_of_reference(vp) != uid
                   for vp in self.win.visible_viewports)

    def _mark_across(self, source, point) -> bool:
        """Two Shift+clicks, in viewports of different Frames of Reference within 30 s, mark the same place in
        both: the slice sync between them is fixed from those points (reading/sync.py ``SliceSync.mark``)."""
        import time
        import weakref

        last, self._last_pick = self._last_pick, (weakref.ref(source), point, time.monotonic())
        if last is None:
            return False
        other = last[0]()
        if other is None or other is source or other.stack is None or time.monotonic() - last[2] > 30 \
                or frame_of_reference(other) == frame_of_reference(source):
            return False
        win = self.win
        ok = win.sync.mark(other, win._sync_geometry(other.stack), last[1],
                           source, win._sync_geometry(source.stack), point)
        if ok:
            self._last_pick = None
        return ok


def paint_reference_lines(vp, p: QtGui.QPainter) -> None:
    """The lines and the cursor mark computed for ``vp`` (widget coordinates from its image's)."""
    lines = getattr(vp, "reference_lines", None) or []
    for ((r0, c0), (r1, c1)), kind in lines:
        if isinstance(kind, QtGui.QColor):  # an MPR plane's line, in that plane's colour
            pen = QtGui.QPen(kind, 1.5)
        else:
            pen = QtGui.QPen(LINE, 1.5 if kind == "current" else 1.0)
            if kind != "current":
                pen.setStyle(Qt.DashLine)
        p.setPen(pen)
        p.drawLine(vp.widget_point((c0 + 0.5, r0 + 0.5)), vp.widget_point((c1 + 0.5, r1 + 0.5)))
    mark = getattr(vp, "cursor_mark", None)
    if mark is not None and mark[0] == vp.state.frame:  # the point lies in that slice only
        q = vp.widget_point((mark[2] + 0.5, mark[1] + 0.5))
        p.setPen(QtGui.QPen(CURSOR, 1.5))
        for dx, dy in ((1, 0), (0, 1)):
            p.drawLine(QtCore.QPointF(q.x() - 9 * dx, q.y() - 9 * dy), QtCore.QPointF(q.x() - 3 * dx, q.y() - 3 * dy))
            p.drawLine(QtCore.QPointF(q.x() + 3 * dx, q.y() + 3 * dy), QtCore.QPointF(q.x() + 9 * dx, q.y() + 9 * dy))
