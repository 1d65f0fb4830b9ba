"""Painting on top of the image: four-corner annotations, orientation letters, scale bar and measurements.

Everything is painted in widget pixels from the canvas' ``drawForeground``: cheap, always crisp at any zoom, and
left out of an export "without annotations" by one flag. Measurements are always painted (they are content).
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui

from workstation.gui.viewer.annotations import label_text, paint_measurements
from workstation.gui.viewer.measure import Measurement
from workstation.gui.viewer.orientation import edge_letters, positioner_angles, positioner_text
from workstation.gui.viewer.series import fmt_date, patient_line
from workstation.gui.viewer.voi import voi_lut_name

Qt = QtCore.Qt
TEXT = QtGui.QColor(235, 235, 200)
SHADOW = QtGui.QColor(0, 0, 0, 220)
NICE_MM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500)
PRIOR = QtGui.QColor(255, 190, 60)
CURRENT = QtGui.QColor(140, 220, 140)
# Tool names as the overlay shows them (the state keeps the internal name).
TOOL_NAMES = {
    "window": QtCore.QT_TRANSLATE_NOOP("Overlay", "window"), "zoom": QtCore.QT_TRANSLATE_NOOP("Overlay", "zoom"), "pan": QtCore.QT_TRANSLATE_NOOP("Overlay", "pan"),
    "distance": QtCore.QT_TRANSLATE_NOOP("Overlay", "distance"), "angle": QtCore.QT_TRANSLATE_NOOP("Overlay", "angle"), "rectangle": QtCore.QT_TRANSLATE_NOOP("Overlay", "rectangle"),
    "ellipse": QtCore.QT_TRANSLATE_NOOP("Overlay", "ellipse"), "probe": QtCore.QT_TRANSLATE_NOOP("Overlay", "probe"), "polygon": QtCore.QT_TRANSLATE_NOOP("Overlay", "polygon"),
    "freehand": QtCore.QT_TRANSLATE_NOOP("Overlay", "freehand"), "arrow": QtCore.QT_TRANSLATE_NOOP("Overlay", "arrow"), "text": QtCore.QT_TRANSLATE_NOOP("Overlay", "text"),
    "point": QtCore.QT_TRANSLATE_NOOP("Overlay", "point"), "cobb": QtCore.QT_TRANSLATE_NOOP("Overlay", "Cobb angle"), "calibrate": QtCore.QT_TRANSLATE_NOOP("Overlay", "calibrate"),
    "crosshair": QtCore.QT_TRANSLATE_NOOP("Overlay", "crosshair"),
}


_OUTLINE = ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1))


def _text(p: QtGui.QPainter, rect: QtCore.QRectF, flags, text: str, color: QtGui.QColor = TEXT) -> None:
    """Text with a dark outline all round: readable on black, white and burned-in ultrasound text alike.

    The outlined block is drawn once into a pixmap and kept (nine text layouts cost ~0.3 ms a block, and a window
    repaints its corners many times while it opens and scrolls with most of them unchanged); the block is placed
    in ``rect`` by ``flags`` as drawText would place it."""
    if not text:
        return
    flags = int(flags)
    font = p.font()
    ratio = p.device().devicePixelRatioF() if p.device() is not None else 1.0
    wrap_width = round(rect.width()) if flags & int(Qt.TextWordWrap) else 0
    key = (text, flags, font.key(), color.rgba(), ratio, wrap_width)
    block = _BLOCKS.get(key)
    if block is None:
        block = _BLOCKS[key] = _outlined_block(text, flags, font, color, ratio, rect)
        if len(_BLOCKS) > _BLOCKS_MAX:
            del _BLOCKS[next(iter(_BLOCKS))]
    pixmap, w, h = block
    if flags & int(Qt.AlignRight):
        x = rect.right() - w
    elif flags & int(Qt.AlignHCenter):
        x = rect.left() + (rect.width() - w) / 2
    else:
        x = rect.left()
    if flags & int(Qt.AlignBottom):
        y = rect.bottom() - h
    elif flags & int(Qt.AlignVCenter):
        y = rect.top() + (rect.height() - h) / 2
    else:
        y = rect.top()
    p.drawPixmap(QtCore.QPointF(round(x) - 1, round(y) - 1), pixmap)


_BLOCKS: dict = {}  # (text, flags, font, colour, pixel ratio, wrap width) -> (pixmap, block width, block height)
_BLOCKS_MAX = 200


def _outlined_block(text: str, flags: int, font: QtGui.QFont, color: QtGui.QColor, ratio: float,
                    rect: QtCore.QRectF):
    fm = QtGui.QFontMetricsF(font)
    bound = QtCore.QRectF(0, 0, rect.width() if flags & int(Qt.TextWordWrap) else 1e6, 1e6)
    size = fm.boundingRect(bound, flags & ~int(Qt.AlignRight | Qt.AlignHCenter | Qt.AlignBottom | Qt.AlignVCenter),
                           text).size()
    w, h = float(round(size.width() + 0.5)), float(round(size.height() + 0.5))
    pixmap = QtGui.QPixmap(round((w + 2) * ratio), round((h + 2) * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.transparent)
    q = QtGui.QPainter(pixmap)
    q.setRenderHint(QtGui.QPainter.Antialiasing, True)
    q.setFont(font)
    inner = QtCore.QRectF(1, 1, w, h)
    align = flags & ~int(Qt.AlignBottom | Qt.AlignVCenter)  # lines keep their own alignment inside the block
    q.setPen(SHADOW)
    for dx, dy in _OUTLINE:
        q.drawText(inner.translated(dx, dy), align, text)
    q.setPen(color)
    q.drawText(inner, align, text)
    q.end()
    return pixmap, w, h


def _elide(fm: QtGui.QFontMetricsF, lines: list[str], width: float) -> list[str]:
    return [fm.elidedText(line, Qt.ElideRight, max(20.0, width)) for line in lines]


def fitted_corner_texts(vp, fm: QtGui.QFontMetricsF, width: float, margin: float) -> dict[str, list[str]]:
    """The corner lines as painted: each corner gets less than half the width (minus room for the orientation
    letter), so the blocks never overlap."""
    texts = corner_texts(vp, exporting=getattr(vp.canvas, "exporting", False))
    half = width / 2 - margin - 14
    return {k: _elide(fm, v, half) for k, v in texts.items()}


def top_blocks(fm: QtGui.QFontMetricsF, texts: dict[str, list[str]], width: float, margin: float
               ) -> list[QtCore.QRectF]:
    """The rectangles the top-left and top-right corner texts take (as painted: ``_text`` in the area inset by
    ``margin``)."""
    tl_w, tl_h = _block_size(fm, texts.get("top_left", []))
    tr_w, tr_h = _block_size(fm, texts.get("top_right", []))
    return [QtCore.QRectF(margin, margin, tl_w, tl_h), QtCore.QRectF(width - margin - tr_w, margin, tr_w, tr_h)]


def _block_size(fm: QtGui.QFontMetricsF, lines: list[str]) -> tuple[float, float]:
    if not lines:
        return 0.0, 0.0
    return max(fm.horizontalAdvance(x) for x in lines), fm.lineSpacing() * len(lines)


def _t(text: str) -> str:
    return QtCore.QCoreApplication.translate("Overlay", text)


def _mm(value: float) -> str:
    """A length in mm with one decimal; never "-0.0" (a slice at -0.04 mm is at 0.0, not on the other side)."""
    text = f"{float(value):.1f}"
    return "0.0" if text == "-0.0" else text


def positioner_line(vp) -> str:
    """The C-arm angles of the frame shown ("LAO 30°  CRAN 20°"), "" when the file gives none."""
    if vp.stack is None:
        return ""
    try:
        src = vp.stack.source(vp.state.frame)
        angles = positioner_angles(vp.stack.header(vp.state.frame), getattr(src, "frame", 0) or 0)
    except Exception:  # noqa: BLE001 - a broken header shows no angles rather than no image
        return ""
    return positioner_text(*angles) if angles else ""


def view_line(h) -> str:
    """Laterality and view of a projection image ("R CC", "L MLO", "PA"): a mammography viewport must say which
    breast and view it shows (the images alone do not; a series may hold all four views)."""
    laterality = str(h.get("ImageLaterality") or h.get("Laterality") or "").strip().upper()
    view = str(h.get("ViewPosition") or "").strip().upper()
    return " ".join(x for x in (laterality if laterality in ("R", "L", "B") else "", view) if x)


def corner_texts(vp, exporting: bool = False) -> dict[str, list[str]]:
    """The four corners' lines for a viewport (also what tests read). ``exporting``: for an exported or copied
    image, without what only concerns the screen (the mouse tool)."""
    h = vp.header
    st = vp.state
    tl = [patient_line(h), h.get("PatientID", ""), h.get("InstitutionName", "")]
    number = str(h.get("SeriesNumber", "") or "").strip()
    series = "  ".join(x for x in ((QtCore.QCoreApplication.translate("Overlay", "Se %1").replace("%1", number) if number else ""),
                                   h.get("SeriesDescription", "")) if x)
    tr = [f"{fmt_date(h.get('StudyDate', ''))}", h.get("StudyDescription", ""), series, view_line(h),
          positioner_line(vp)]
    bl = [vp.image_number_text()]
    if getattr(vp, "ps_note", ""):
        bl.append(vp.ps_note)  # the presentation state applied, and what of it is not shown
    if vp.stack is not None:
        geo = vp.stack.geometry(st.frame)
        loc = []
        if geo.slice_location is not None:
            loc.append(QtCore.QCoreApplication.translate("Overlay", "Loc %1 mm").replace("%1", _mm(geo.slice_location)))
        if geo.slice_thickness:
            loc.append(QtCore.QCoreApplication.translate("Overlay", "Thk %1 mm").replace("%1", _mm(geo.slice_thickness)))
        if loc:
            bl.append("  ".join(loc))
    pr = vp.probe
    if pr:
        line = f"({pr['column']}, {pr['row']})  " + QtCore.QCoreApplication.translate("Overlay", "stored %1").replace("%1", str(pr["stored"]))
        if "value" in pr:
            line += f"  = {pr['value']:.1f} {pr['unit']}".rstrip()
        bl.append(line)
        if "position_mm" in pr:
            bl.append(QtCore.QCoreApplication.translate("Overlay", "pos %1 mm").replace("%1", ", ".join(f"{v:.1f}" for v in pr["position_mm"])))
    br = []
    if vp.presentation is not None and not vp.presentation.is_color:
        inv = "  " + QtCore.QCoreApplication.translate("Overlay", "inv") if st.invert else ""
        if vp.current_voi_lut() is not None:
            br.append(voi_lut_name(vp.presentation, st.lut) + inv)
        else:
            br.append(QtCore.QCoreApplication.translate("Overlay", "W %1  L %2").replace("%1", f"{st.width + 0.0:.0f}")
                      .replace("%2", f"{round(st.center) + 0.0:.0f}") + inv)
    br.append(QtCore.QCoreApplication.translate("Overlay", "Zoom %1%").replace("%1", f"{vp.effective_zoom() * 100:.0f}")
              + ("  " + QtCore.QCoreApplication.translate("Overlay", "rot %1°").replace("%1", str(st.rotation)) if st.rotation else ""))
    if st.playing:
        br.append(QtCore.QCoreApplication.translate("Overlay", "Cine %1 fps").replace("%1", f"{st.fps:.0f}"))
    if vp.current_array() is None:
        br.append(QtCore.QCoreApplication.translate("Overlay", "cannot decode") if vp.frame_error else QtCore.QCoreApplication.translate("Overlay", "loading…"))  # the reason is in the middle
    if not getattr(vp, "sync_linked", True) and not exporting:
        br.append(QtCore.QCoreApplication.translate("Overlay", "unlinked"))
    if not exporting:
        br.append(QtCore.QCoreApplication.translate("Overlay", "Tool: %1").replace("%1", _t(TOOL_NAMES.get(st.tool, st.tool))))
    return {"top_left": [x for x in tl if x], "top_right": [x for x in tr if x], "bottom_left": bl,
            "bottom_right": br}


def study_badge(vp) -> tuple[str, QtGui.QColor] | None:
    """"Prior 2022-03-10" (or "Current …") on a viewport whose window shows several studies of the patient, so a
    prior can never pass for the current study; None when the window shows one study. The window's first study is
    the current one (the study opened, priors after it)."""
    window = vp.window()
    entries = getattr(window, "entries", None) or []
    studies = [str(e.header.get("StudyInstanceUID") or "") for e in entries if getattr(e, "header", None)]
    uid = str(vp.header.get("StudyInstanceUID") or "") if vp.header else ""
    if not uid or len(set(studies)) < 2:
        return None
    date = fmt_date(vp.header.get("StudyDate", "")) or "?"
    if uid == studies[0]:
        return QtCore.QCoreApplication.translate("Overlay", "Current %1").replace("%1", date), CURRENT
    current = next((e.header for e in entries if str(e.header.get("StudyInstanceUID") or "") == studies[0]), {})
    if str(vp.header.get("StudyDate") or "") > str(current.get("StudyDate") or ""):
        return QtCore.QCoreApplication.translate("Overlay", "Later study %1").replace("%1", date), PRIOR
    return QtCore.QCoreApplication.translate("Overlay", "Prior %1").replace("%1", date), PRIOR


def study_label(entries) -> dict[int, tuple[str, int]]:
    """For a window showing several studies: entry index -> ("Current 2024-11-03" | "Prior 2022-03-10", rank), rank
    0 for the current study (the first), then the others newest first; {} for a single study."""
    studies: dict[str, str] = {}
    for e in entries:
        h = getattr(e, "header", None) or {}
        studies.setdefault(str(h.get("StudyInstanceUID") or ""), str(h.get("StudyDate") or ""))
    if len(studies) < 2:
        return {}
    uids = list(studies)
    current = uids[0]
    ranked = [current] + sorted(uids[1:], key=lambda u: studies[u], reverse=True)
    out = {}
    for i, e in enumerate(entries):
        uid = str((getattr(e, "header", None) or {}).get("StudyInstanceUID") or "")
        date = fmt_date(studies.get(uid, "")) or "?"
        if uid == current:
            text = QtCore.QCoreApplication.translate("Overlay", "Current %1").replace("%1", date)
        elif studies.get(uid, "") > studies[current]:
            text = QtCore.QCoreApplication.translate("Overlay", "Later study %1").replace("%1", date)
        else:
            text = QtCore.QCoreApplication.translate("Overlay", "Prior %1").replace("%1", date)
        out[i] = (text, ranked.index(uid))
    return out


def _badge_font(base: QtGui.QFont) -> QtGui.QFont:
    font = QtGui.QFont(base)
    font.setPixelSize(13)
    font.setBold(True)
    return font


def badge_rect(vp, font: QtGui.QFont, text: str, avoid: list[QtCore.QRectF] = ()) -> QtCore.QRectF:
    """Where the study badge goes: centred below the top orientation letter, and lower down where that would cover
    a top corner's lines (a long series description in a narrow cell reaches under it)."""
    fm = QtGui.QFontMetricsF(font)
    w = fm.horizontalAdvance(text) + 14
    box = QtCore.QRectF((vp.canvas.width() - w) / 2, 26, w, fm.height() + 6)
    for block in sorted(avoid, key=lambda r: r.bottom()):
        if box.intersects(block.adjusted(-8, 0, 8, 0)):  # not flush against the text either
            box.moveTop(block.bottom() + 4)
    return box


def _paint_study_badge(vp, p: QtGui.QPainter, avoid: list[QtCore.QRectF] = ()) -> None:
    badge = study_badge(vp)
    if badge is None:
        return
    text, color = badge
    font = _badge_font(p.font())
    p.setFont(font)
    box = badge_rect(vp, font, text, avoid)
    p.setPen(QtGui.QPen(color, 1.5))
    p.setBrush(QtGui.QColor(0, 0, 0, 170))
    p.drawRoundedRect(box, 4, 4)
    p.setPen(color)
    p.drawText(box, Qt.AlignCenter, text)
    p.setBrush(Qt.NoBrush)


def orientation_texts(vp) -> dict[str, str] | None:
    if vp.stack is None:
        return None
    geo = vp.stack.geometry(vp.state.frame)
    st = vp.state
    return edge_letters(geo.image_orientation, st.rotation, st.flip_h, st.flip_v)


def bar_scale(vp):
    """The calibration the scale bar uses - the one measurements use (imaging/calibration.py): a manual
    calibration, else the image's spacing (patient, at detector, magnification corrected, calibrated), else the
    ultrasound regions' when they agree - or None (no bar) where it is unknown or differs across the image."""
    from workstation.gui.viewer.annotations import calibration_of
    from workstation.imaging import calibration as cal

    c = calibration_of(vp)
    if c is None:
        return None
    if c.manual is not None and c.manual.spacing is not None:
        return c.manual
    if c.base.spacing is not None:
        return c.base
    spacing = c.display_spacing
    if spacing is None:
        return None
    region = next((r for r in c.regions if r.spatial), None)
    return cal.Scale(cal.US_REGION, spacing=spacing, region=region)


def scale_bar(vp) -> tuple[float, float] | None:
    """(length in mm, length in screen pixels) of the scale bar, or None without a usable calibration."""
    s = bar_scale(vp)
    if s is None or not s.spacing:
        return None
    px_per_mm = vp.effective_zoom() / float(s.spacing[1])  # the zoom is screen pixels per image column
    target = vp.canvas.width() / 5.0
    best = NICE_MM[0]
    for mm in NICE_MM:
        if mm * px_per_mm <= target:
            best = mm
    return float(best), best * px_per_mm


def scale_bar_label(vp, mm: float) -> str:
    """"10 mm", or with what it is calibrated at when that is not the patient ("10 mm at detector")."""
    from workstation.gui.viewer.annotations import _qualifier
    from workstation.imaging import calibration as cal

    s = bar_scale(vp)
    q = ""
    if s is not None:
        q = QtCore.QCoreApplication.translate("Overlay", "US region") if s.source == cal.US_REGION else _qualifier(s)
    return f"{mm:g} mm ({q})" if q else f"{mm:g} mm"


def frame_error_text(vp) -> str:
    """What the middle of the viewport says when the frame shown cannot be decoded ("" otherwise)."""
    if not vp.frame_error or vp.current_array() is not None:
        return ""
    reason = vp.frame_error if len(vp.frame_error) <= 400 else vp.frame_error[:399] + "…"
    return QtCore.QCoreApplication.translate("Overlay", "Image %1 cannot be displayed.").replace("%1", str(vp.state.frame + 1)) + f"\n\n{reason}"


def _paint_frame_error(vp, p: QtGui.QPainter) -> None:
    # A black viewport with a clipped corner line read as "still loading" or "empty image": say it where the
    # image would be, wrapped to the viewport, whether annotations are on or not.
    text = frame_error_text(vp)
    if not text:
        return
    w, h = vp.canvas.width(), vp.canvas.height()
    font = QtGui.QFont(p.font())
    font.setPixelSize(14)
    p.setFont(font)
    box = QtCore.QRectF(w * 0.1, h * 0.2, w * 0.8, h * 0.6)
    _text(p, box, Qt.AlignCenter | Qt.TextWordWrap, text)


def paint_overlay(vp, p: QtGui.QPainter, annotations: bool) -> None:
    p.setRenderHint(QtGui.QPainter.Antialiasing, True)
    _paint_frame_error(vp, p)
    _paint_measurements(vp, p)
    base_font = QtGui.QFont(p.font())
    # Which study this is shows even without annotations: current and prior must never be confused.
    if not annotations:
        _paint_study_badge(vp, p)
        return
    w, h = vp.canvas.width(), vp.canvas.height()
    font = QtGui.QFont(base_font)
    font.setPixelSize(12)
    m = 6
    fm = QtGui.QFontMetricsF(font)
    texts = fitted_corner_texts(vp, fm, w, m)
    _paint_study_badge(vp, p, top_blocks(fm, texts, w, m))
    p.setFont(font)
    area = QtCore.QRectF(m, m, w - 2 * m, h - 2 * m)
    _text(p, area, Qt.AlignLeft | Qt.AlignTop, "\n".join(texts["top_left"]))
    _text(p, area, Qt.AlignRight | Qt.AlignTop, "\n".join(texts["top_right"]))
    _text(p, area, Qt.AlignLeft | Qt.AlignBottom, "\n".join(texts["bottom_left"]))
    _text(p, area, Qt.AlignRight | Qt.AlignBottom, "\n".join(texts["bottom_right"]))
    bl_w, bl_h = _block_size(fm, texts["bottom_left"])
    br_w, br_h = _block_size(fm, texts["bottom_right"])
    letters = orientation_texts(vp)
    if letters:
        big = QtGui.QFont(font)
        big.setPixelSize(15)
        big.setBold(True)
        p.setFont(big)
        _text(p, QtCore.QRectF(0, m, w, 20), Qt.AlignHCenter | Qt.AlignTop, letters["top"])
        _text(p, QtCore.QRectF(0, h - 20 - m, w, 20), Qt.AlignHCenter | Qt.AlignBottom, letters["bottom"])
        _text(p, QtCore.QRectF(m, 0, 40, h), Qt.AlignLeft | Qt.AlignVCenter, letters["left"])
        _text(p, QtCore.QRectF(w - 40 - m, 0, 40, h), Qt.AlignRight | Qt.AlignVCenter, letters["right"])
        p.setFont(font)
    bar = scale_bar(vp)
    if bar:
        mm, px = bar
        y = h - 34
        x0 = (w - px) / 2
        label = scale_bar_label(vp, mm)
        label_w = fm.horizontalAdvance(label)
        left, right = min(x0, (w - label_w) / 2), max(x0 + px, (w + label_w) / 2)
        if left - 6 < m + bl_w or right + 6 > w - m - br_w:
            y = h - m - max(bl_h, br_h) - 10  # the corner texts reach the middle: put the bar above them
        pen = QtGui.QPen(TEXT, 2)
        p.setPen(pen)
        p.drawLine(QtCore.QPointF(x0, y), QtCore.QPointF(x0 + px, y))
        for x in (x0, x0 + px):
            p.drawLine(QtCore.QPointF(x, y - 4), QtCore.QPointF(x, y + 4))
        _text(p, QtCore.QRectF(x0 - 80, y - 18, px + 160, 14), Qt.AlignHCenter | Qt.AlignBottom, label)


def _paint_measurements(vp, p: QtGui.QPainter) -> None:
    paint_measurements(vp, p)  # annotations.py: every kind, labels laid out apart and draggable


def measurement_label(vp, m: Measurement) -> str:
    """The label a measurement shows in this viewport (used by tests and the status bar)."""
    return label_text(vp, m)


__all__ = ["corner_texts", "frame_error_text", "orientation_texts", "paint_overlay", "scale_bar", "scale_bar_label", "study_badge",
           "measurement_label", "math"]
