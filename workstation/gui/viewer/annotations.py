"""Measurements and annotations on a viewport: their calibration, their labels, their painting, their text.

* **Calibration**: :func:`scale_for` gives each measurement the scale its points call for
  (:mod:`workstation.imaging.calibration`: an ultrasound region, the detector plane, a magnification-corrected or
  calibrated spacing, the series' manual calibration), and the label says which when it matters ("at detector",
  "manual calibration", "crosses ultrasound regions").
* **Labels** never overlap: each is placed beside its drawing and pushed down past the labels already placed; a
  label the user dragged keeps its offset from its anchor (stored with the measurement) and is joined to the
  drawing by a thin leader line. :class:`LabelDrag` is the press/move/release of that drag.
* **Text**: :func:`label_text` is what the image shows, :func:`copy_text` what "Copy values" puts on the clipboard.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui

from workstation.gui.viewer.measure import AREAS, OPEN_ENDED, Measurement, angle, cobb_angle, roi_stats
from workstation.imaging import calibration as cal
from workstation.imaging.roi import polygon_stats

Qt = QtCore.Qt
TEXT = QtGui.QColor(235, 235, 200)
SHADOW = QtGui.QColor(0, 0, 0, 220)
MEASURE = QtGui.QColor(80, 230, 80)
ANNOTATE = QtGui.QColor(255, 235, 120)
DRAFT = QtGui.QColor(255, 210, 60)
SELECTED = QtGui.QColor(90, 200, 255)
_OUTLINE = ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1))


def _tr(text: str) -> str:
    return QtCore.QCoreApplication.translate("Measurement", text)


# -- calibration -------------------------------------------------------------------------------------------------
def calibration_of(vp) -> cal.Calibration | None:
    """The calibration of the frame shown (cached per file, frame and manual calibration)."""
    if vp.stack is None:
        return None
    i = vp.state.frame
    try:
        ds = vp.stack.header(i)
        frame = vp.stack.source(i).frame
    except Exception:  # noqa: BLE001 - a stack without headers (tests, reslices): the geometry's spacing
        sp = vp.spacing()
        return cal.Calibration(cal.Scale(cal.PATIENT, spacing=sp) if sp else cal.Scale(cal.NONE,
                                                                                        reason=cal.NO_SPACING))
    manual = cal.SESSION.get(str(ds.get("SeriesInstanceUID", "") or ""))
    key = (id(ds), frame, manual)
    cached = getattr(vp, "_calibration_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    c = cal.image_calibration(ds, frame, manual)
    vp._calibration_cache = (key, c)
    return c


def scale_for(vp, m: Measurement) -> cal.Scale:
    c = calibration_of(vp)
    if c is None:
        return cal.Scale(cal.NONE, reason=cal.NO_SPACING)
    return c.scale(m.points)


def set_manual_calibration(vp, p0, p1, length_mm: float) -> cal.ManualCalibration:
    """Calibrate the shown series so the line ``p0``-``p1`` measures ``length_mm`` (ValueError when it cannot)."""
    ds = vp.stack.header(vp.state.frame)
    uid = str(ds.get("SeriesInstanceUID", "") or "")
    if not uid:
        raise ValueError("the series has no SeriesInstanceUID to keep the calibration with")
    c = cal.image_calibration(ds, vp.stack.source(vp.state.frame).frame)
    base = c.scale([p0, p1])
    manual = cal.manual_calibration(p0, p1, length_mm, base if base.spacing else None, cal.pixel_aspect_ratio(ds))
    cal.SESSION.set(uid, manual)
    vp.canvas.viewport().update()
    return manual


def clear_manual_calibration(vp) -> None:
    if vp.stack is not None:
        cal.SESSION.set(str(vp.stack.header(vp.state.frame).get("SeriesInstanceUID", "") or ""), None)
        vp.canvas.viewport().update()


# -- values and text ---------------------------------------------------------------------------------------------
def modality_values(vp):
    """(modality values of the shown frame, unit), or (None, "") for a colour or undecoded frame."""
    arr = vp.current_array()
    if arr is None or vp.presentation is None or vp.presentation.is_color:
        return None, ""
    cached = getattr(vp, "_modality_cache", None)
    if cached is not None and cached[0] is arr:
        return cached[1], vp.presentation.unit
    values = vp.presentation.to_modality(arr)
    vp._modality_cache = (arr, values)
    return values, vp.presentation.unit


def _qualifier(s: cal.Scale) -> str:
    """What a length or area must say about its calibration ("" when it is the patient's own spacing)."""
    if s.source == cal.DETECTOR:
        return QtCore.QCoreApplication.translate("Measurement", "at detector")
    if s.source == cal.MAGNIFICATION:
        return QtCore.QCoreApplication.translate("Measurement", "magnification corrected ÷{0:g}").format(s.factor)
    if s.source == cal.CALIBRATED:
        return QtCore.QCoreApplication.translate("Measurement", "calibrated, {0}").format(s.calibration_type) if s.calibration_type else QtCore.QCoreApplication.translate("Measurement", "calibrated")
    if s.source == cal.MANUAL:
        return QtCore.QCoreApplication.translate("Measurement", "manual calibration")
    if s.source == cal.NONE:
        return {cal.CROSSES_REGIONS: QtCore.QCoreApplication.translate("Measurement", "crosses ultrasound regions: not calibrated"),
                cal.OUTSIDE_REGIONS: QtCore.QCoreApplication.translate("Measurement", "outside the calibrated ultrasound regions")}.get(s.reason, QtCore.QCoreApplication.translate("Measurement", "no spacing"))
    return ""


def _length_text(vp, m: Measurement, s: cal.Scale) -> str:
    p0, p1 = m.points[0], m.points[1]
    mm = s.length(p0, p1)
    q = _qualifier(s)
    if mm is not None:
        return QtCore.QCoreApplication.translate("Measurement", "{0:.1f} mm ({1})").format(mm, q) if q else QtCore.QCoreApplication.translate("Measurement", "{0:.1f} mm").format(mm)
    if s.axes is not None:
        (dx, ux), (dy, uy) = s.components(p0, p1)
        return QtCore.QCoreApplication.translate("Measurement", "Δ {0:.3g} {1}, Δ {2:.3g} {3}").format(dx, ux, dy, uy)
    px = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
    return QtCore.QCoreApplication.translate("Measurement", "{0:.1f} px ({1})").format(px, q)


def _area_text(vp, m: Measurement, s: cal.Scale) -> str:
    values, unit = modality_values(vp)
    sp = s.spacing
    if m.kind in OPEN_ENDED:
        st = polygon_stats(values, m.points, sp)
        mean, sd, lo, hi, area, area_unit = st.mean, st.sd, st.min, st.max, st.area, st.area_unit
    else:
        r = roi_stats(values, m.kind, m.points[0], m.points[1], sp) if values is not None else None
        if r is None:
            w = abs(m.points[1][0] - m.points[0][0])
            h = abs(m.points[1][1] - m.points[0][1])
            px = w * h if m.kind == "rectangle" else math.pi * w * h / 4
            mean = sd = lo = hi = math.nan
            area, area_unit = (px * sp[0] * sp[1], "mm²") if sp else (px, "px²")
        else:
            mean, sd, lo, hi, area, area_unit = r.mean, r.sd, r.min, r.max, r.area, r.area_unit
    q = _qualifier(s)
    area_line = (QtCore.QCoreApplication.translate("Measurement", "area {0:.1f} {1} ({2})").format(area, area_unit, q) if q
                 else QtCore.QCoreApplication.translate("Measurement", "area {0:.1f} {1}").format(area, area_unit))
    if values is None or math.isnan(mean):
        return area_line
    u = f" {unit}" if unit else ""
    return QtCore.QCoreApplication.translate("Measurement", "mean {0:.1f}{1}  SD {2:.1f}\nmin {3:.0f}  max {4:.0f}\n{5}").format(mean, u, sd, lo, hi, area_line)


def _point_text(vp, m: Measurement, s: cal.Scale) -> str:
    x, y = m.points[0]
    arr = vp.current_array()
    parts = []
    if s.region is not None and not s.region.spatial:
        vx, vy = s.region.value_at(x, y)
        if vy is not None:
            parts.append(f"{vy:.3g} {s.region.unit_y}")
        if vx is not None and s.region.unit_x != "s":
            parts.append(f"{vx:.3g} {s.region.unit_x}")
    if arr is not None and 0 <= int(y) < arr.shape[0] and 0 <= int(x) < arr.shape[1]:
        stored = arr[int(y), int(x)]
        if vp.presentation is not None and not vp.presentation.is_color and getattr(stored, "ndim", 0) == 0:
            value, unit = vp.presentation.probe(stored)
            parts.append(f"{value:.1f} {unit}".rstrip())
        elif getattr(stored, "ndim", 0) == 1:
            parts.append(QtCore.QCoreApplication.translate("Measurement", "RGB {0}").format(", ".join(str(int(v)) for v in stored)))
    return "\n".join(parts)


def label_text(vp, m: Measurement) -> str:
    """The label a measurement shows in this viewport."""
    if m.kind == "text":
        return m.text
    if m.kind == "arrow":
        return m.text
    if m.kind == "calibrate":
        return _length_text(vp, m, scale_for(vp, m))
    s = scale_for(vp, m)
    if m.kind == "distance":
        return _length_text(vp, m, s)
    if m.kind == "angle":
        if len(m.points) < 3:
            return ""
        return QtCore.QCoreApplication.translate("Measurement", "{0:.1f}°").format(angle(m.points[0], m.points[1], m.points[2], s.spacing or vp.spacing()))
    if m.kind == "cobb":
        if len(m.points) < 4:
            return ""
        return QtCore.QCoreApplication.translate("Measurement", "Cobb {0:.1f}°").format(cobb_angle(m.points, s.spacing or vp.spacing()))
    if m.kind in AREAS:
        return _area_text(vp, m, s)
    if m.kind == "point":
        return _point_text(vp, m, s)
    return ""


KIND_NAMES = {
    "distance": QtCore.QT_TRANSLATE_NOOP("Measurement", "Distance"),
    "angle": QtCore.QT_TRANSLATE_NOOP("Measurement", "Angle"),
    "rectangle": QtCore.QT_TRANSLATE_NOOP("Measurement", "Rectangle ROI"),
    "ellipse": QtCore.QT_TRANSLATE_NOOP("Measurement", "Ellipse ROI"),
    "polygon": QtCore.QT_TRANSLATE_NOOP("Measurement", "Polygon ROI"),
    "freehand": QtCore.QT_TRANSLATE_NOOP("Measurement", "Freehand ROI"),
    "arrow": QtCore.QT_TRANSLATE_NOOP("Measurement", "Arrow"),
    "text": QtCore.QT_TRANSLATE_NOOP("Measurement", "Text"),
    "point": QtCore.QT_TRANSLATE_NOOP("Measurement", "Point"),
    "cobb": QtCore.QT_TRANSLATE_NOOP("Measurement", "Cobb angle"),
}


def copy_text(vp, items: list[Measurement] | None = None) -> str:
    """Plain text of measurements for the clipboard: one line each, "Kind<TAB>values" (the label's lines joined
    by "; "), the selected one by default, else every measurement on the image."""
    if items is None:
        sel = getattr(vp, "selected", None)
        items = [sel] if sel is not None else vp.measurements.on(vp.frame_key)
    lines = []
    for m in items:
        name = _tr(KIND_NAMES.get(m.kind, m.kind))
        text = label_text(vp, m).replace("\n", "; ")
        lines.append(f"{name}\t{text}" if text else name)
    return "\n".join(lines)


def copy_values(vp) -> str:
    """Put :func:`copy_text` on the clipboard; returns it ("" when there is nothing to copy)."""
    text = copy_text(vp)
    if text:
        QtGui.QGuiApplication.clipboard().setText(text)
    return text


# -- painting ----------------------------------------------------------------------------------------------------
def _text(p: QtGui.QPainter, rect: QtCore.QRectF, flags, text: str, color: QtGui.QColor) -> None:
    p.setPen(SHADOW)
    for dx, dy in _OUTLINE:
        p.drawText(rect.translated(dx, dy), flags, text)
    p.setPen(color)
    p.drawText(rect, flags, text)


def _arrow_head(p: QtGui.QPainter, tip: QtCore.QPointF, tail: QtCore.QPointF, size: float = 12.0) -> None:
    ang = math.atan2(tip.y() - tail.y(), tip.x() - tail.x())
    pts = [tip] + [QtCore.QPointF(tip.x() - size * math.cos(ang + s * 0.45), tip.y() - size * math.sin(ang + s * 0.45))
                   for s in (-1, 1)]
    p.save()
    p.setBrush(p.pen().color())
    p.drawPolygon(QtGui.QPolygonF(pts))
    p.restore()


def _draw_shape(p: QtGui.QPainter, m: Measurement, pts: list[QtCore.QPointF], is_draft: bool) -> None:
    if m.kind in ("distance", "angle", "calibrate"):
        for a, b in zip(pts, pts[1:]):
            p.drawLine(a, b)
        for q in pts:
            p.drawEllipse(q, 2.5, 2.5)
    elif m.kind in ("rectangle", "ellipse"):
        r = QtCore.QRectF(pts[0], pts[-1]).normalized()
        p.drawRect(r) if m.kind == "rectangle" else p.drawEllipse(r)
    elif m.kind in OPEN_ENDED:
        poly = QtGui.QPolygonF(pts)
        p.drawPolyline(poly) if is_draft else p.drawPolygon(poly)
        if m.kind == "polygon":
            for q in pts:
                p.drawEllipse(q, 2.0, 2.0)
    elif m.kind == "arrow":
        p.drawLine(pts[0], pts[-1])
        _arrow_head(p, pts[0], pts[-1])
    elif m.kind == "point":
        q = pts[0]
        p.drawLine(QtCore.QPointF(q.x() - 6, q.y()), QtCore.QPointF(q.x() + 6, q.y()))
        p.drawLine(QtCore.QPointF(q.x(), q.y() - 6), QtCore.QPointF(q.x(), q.y() + 6))
    elif m.kind == "cobb":
        for a, b in ((0, 1), (2, 3)):
            if b < len(pts):
                p.drawLine(pts[a], pts[b])
        if len(pts) >= 4:  # the angle's bisecting link between the two lines, dashed
            pen = QtGui.QPen(p.pen())
            pen.setStyle(Qt.DashLine)
            p.save()
            p.setPen(pen)
            mid = [QtCore.QPointF((pts[a].x() + pts[b].x()) / 2, (pts[a].y() + pts[b].y()) / 2)
                   for a, b in ((0, 1), (2, 3))]
            p.drawLine(mid[0], mid[1])
            p.restore()


def _anchor(m: Measurement, pts: list[QtCore.QPointF]) -> QtCore.QPointF:
    """Where a label sits by default (before it is pushed past others)."""
    if m.kind in AREAS:
        return QtCore.QRectF(QtGui.QPolygonF(pts).boundingRect()).topRight() + QtCore.QPointF(8, 0)
    if m.kind == "angle":
        return pts[1] + QtCore.QPointF(8, 4)
    if m.kind == "cobb" and len(pts) >= 4:
        return QtCore.QPointF(max(q.x() for q in pts) + 8, (pts[0].y() + pts[1].y() + pts[2].y() + pts[3].y()) / 4)
    if m.kind == "arrow":
        return pts[-1] + QtCore.QPointF(6, 2)
    if m.kind == "text":
        return pts[0]
    return pts[-1] + QtCore.QPointF(8, 4)


def layout_labels(sizes: list[tuple[QtCore.QPointF, QtCore.QSizeF, QtCore.QPointF | None]],
                  bounds: QtCore.QRectF) -> list[QtCore.QRectF]:
    """Rectangles for labels that do not overlap: ``sizes`` holds (default anchor, size, user offset or None).

    Labels the user placed keep their place (they are laid first); each other label starts at its anchor and
    moves down (then up) past those already placed, staying inside ``bounds``.
    """
    out: list[QtCore.QRectF | None] = [None] * len(sizes)
    placed: list[QtCore.QRectF] = []
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i][2] is None, sizes[i][0].y(), sizes[i][0].x()))
    for i in order:
        anchor, size, offset = sizes[i]
        r = QtCore.QRectF(anchor + (offset or QtCore.QPointF(0, 0)), size)
        if r.right() > bounds.right():
            r.moveRight(bounds.right())
        r.moveLeft(max(bounds.left(), r.left()))
        r.moveTop(min(max(bounds.top(), r.top()), bounds.bottom() - r.height()))
        if offset is None:
            start = QtCore.QRectF(r)
            for attempt in range(60):
                hit = next((q for q in placed if q.intersects(r)), None)
                if hit is None:
                    break
                r.moveTop(hit.bottom() + 2)
                if r.bottom() > bounds.bottom():  # no room below: try above the first placed label it met
                    r = QtCore.QRectF(start)
                    r.moveBottom(min(q.top() for q in placed if q.intersects(start)) - 2 - attempt * 4)
                    if r.top() < bounds.top():
                        r = start
                        break
        placed.append(r)
        out[i] = r
    return out  # type: ignore[return-value]


def paint_measurements(vp, p: QtGui.QPainter) -> None:
    """Every measurement of the shown image (and the one being drawn), with their labels laid out apart."""
    items = vp.measurements.on(vp.frame_key)
    draft = vp._draft
    if draft is not None:
        items = items + [draft]
    vp.interaction.label_rects = []
    if not items:
        return
    font = QtGui.QFont(p.font())
    font.setPixelSize(12)
    p.setFont(font)
    fm = QtGui.QFontMetricsF(font)
    selected = getattr(vp, "selected", None)
    labels = []
    for m in items:
        is_sel = m is selected
        base = ANNOTATE if m.kind in ("arrow", "text") else MEASURE
        color = DRAFT if m is draft else (SELECTED if is_sel else base)
        p.setPen(QtGui.QPen(color, 2.5 if is_sel else 1.5))
        p.setBrush(Qt.NoBrush)
        pts = [vp.widget_point(pt) for pt in m.points]
        _draw_shape(p, m, pts, m is draft)
        if is_sel:
            step = max(1, len(pts) // 24) if m.kind == "freehand" else 1
            for q in pts[::step]:  # the handles that can be dragged
                p.drawRect(QtCore.QRectF(q.x() - 3.5, q.y() - 3.5, 7, 7))
        text = label_text(vp, m)
        if not text:
            continue
        size = fm.boundingRect(QtCore.QRectF(0, 0, 420, 200), Qt.AlignLeft, text).size() + QtCore.QSizeF(2, 2)
        offset = QtCore.QPointF(*m.label_offset) if m.label_offset is not None else None
        labels.append((m, text, color, _anchor(m, pts), size, offset, pts))
    bounds = QtCore.QRectF(4, 4, vp.canvas.width() - 8, vp.canvas.height() - 8)
    rects = layout_labels([(a, s, o) for _m, _t, _c, a, s, o, _p in labels], bounds)
    for (m, text, color, anchor, _size, _offset, pts), r in zip(labels, rects):
        if m.kind != "text" and pts and math.hypot(r.left() - anchor.x(), r.top() - anchor.y()) > 14:
            # Moved away from its drawing (dragged or pushed): a leader line says whose label it is.
            p.setPen(QtGui.QPen(color, 1, Qt.DotLine))
            target = min(pts, key=lambda q: math.hypot(q.x() - r.center().x(), q.y() - r.center().y()))
            p.drawLine(target, QtCore.QPointF(r.left(), r.center().y()))
        _text(p, r, Qt.AlignLeft | Qt.AlignTop, text, color)
        vp.interaction.label_rects.append((m, r, anchor))


class LabelDrag:
    """Dragging a label: a press on a label takes it (and selects its measurement), a move carries it, the
    release keeps its offset from its anchor with the measurement."""

    def __init__(self):
        self.active: tuple[Measurement, QtCore.QPointF, QtCore.QPointF] | None = None  # (m, anchor, grab offset)

    def press(self, ix, pos: QtCore.QPointF) -> bool:
        for m, rect, anchor in reversed(getattr(ix, "label_rects", [])):
            if rect.adjusted(-2, -2, 2, 2).contains(pos) and m is not ix.draft:
                self.active = (m, anchor, pos - rect.topLeft())
                ix.selected = m
                ix.update()
                return True
        return False

    def move(self, ix, pos: QtCore.QPointF) -> bool:
        if self.active is None:
            return False
        m, anchor, grab = self.active
        top_left = pos - grab
        m.label_offset = (top_left.x() - anchor.x(), top_left.y() - anchor.y())
        ix.update()
        return True

    def release(self, ix) -> bool:
        if self.active is None:
            return False
        m = self.active[0]
        self.active = None
        ix.vp.measurements.changed(m)
        ix.update()
        return True
