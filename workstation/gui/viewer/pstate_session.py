"""Presentation states in the viewer: the reader's marks travel as a GSPS, and a series opens as its newest PS says.

- **Saved** (``reading/results.save_presentation_state``, in a worker): when the reader leaves a series whose
  measurements/annotations changed (another series in the viewport, the window closed) and on File ▸ Save
  presentation state (Ctrl+S, always). The PS holds the marks of the whole series with the W/L, rotation and flip
  in force; it is a new PR series of the study in the archive, so it is sent, retrieved and exported with it.
- **Applied** when a series is first shown: the newest PS referencing its images (ours or another system's):
  its window, rotation and flip, and its marks as editable measurements. What of it the viewer does not show
  (shutters, displayed area, activated overlays, a VOI LUT table, other systems' graphics) is named on the image.
- **Picker** (View ▸ Presentation states…): every PS of the series, newest first, with label, creator, date and how
  many of its references lie outside the series; "None" goes back to the images as stored.

Only a viewer opened from the archive (``win.archive`` set by the main window) reads and writes PS; the standalone
viewer keeps its measurements in the measurements file as before.
"""

from __future__ import annotations

import logging
import math
import weakref
from functools import partial

from PySide6 import QtCore, QtWidgets
from superqt.utils import create_worker

from workstation.gui.core_text import core_text
from workstation.gui.viewer.measure import STORED, Measurement, points_ok
from workstation.gui.viewer.ps_layers import device_ratio
from workstation.dicom.ps_catalog import archive_catalog  # at start-up, not on the first opening (13 ms)
from workstation.gui.common import keep_while_running

log = logging.getLogger(__name__)
_RUNNING: set = set()  # workers outlive a closed window: a PS saved on close is still written


def _keep(worker) -> None:
    keep_while_running(worker, _RUNNING)


def series_images(stack) -> list[tuple[str, int]]:
    """(SOPInstanceUID, 0-based frame in its file) of every frame of ``stack`` (the viewport's frame keys)."""
    from workstation.gui.viewer.series import source_frame, source_uid
    from workstation.imaging.stack import FrameSource

    sources = [stack.source(i) for i in range(len(stack))]
    if all(type(src) is FrameSource for src in sources):
        # The common case, read directly: the generic lookup took 7 ms of the GUI thread for 2,000 images.
        return [(src.sop_instance_uid, src.frame) for src in sources if src.sop_instance_uid]
    out = []
    for src in sources:
        uid = source_uid(src)
        if uid:
            out.append((uid, source_frame(src)))
    return out


class PresentationStates(QtCore.QObject):
    """The presentation states of one viewer window (``win.pstates``)."""

    saved = QtCore.Signal(str)  # the SOPInstanceUID of a PS written into the archive
    applied = QtCore.Signal(object, str)  # (viewport, the PS's label; "" for none)

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self._snapshots: dict[str, tuple] = {}  # SeriesInstanceUID -> the marks last saved or applied
        self._applied: set[str] = set()  # series whose newest PS was applied in this window

    @property
    def archive(self):
        return getattr(self.win, "archive", None)

    # -- saving ------------------------------------------------------------------------------------------------
    def _marks(self, vp, images=None):
        from workstation.dicom.ps_writer import Mark
        from workstation.gui.viewer.annotations import label_text

        store = vp.measurements
        marks = []
        for uid, frame in (series_images(vp.stack) if images is None else images):
            for m in store.on((uid, frame)):
                if m.kind not in STORED or not points_ok(m.kind, len(m.points)):
                    continue
                text = label_text(vp, m) if m.key == vp.frame_key else m.text
                marks.append(Mark(m.kind, [tuple(p) for p in m.points], uid, frame, text or ""))
        return marks

    @staticmethod
    def _snapshot(marks) -> tuple:
        return tuple(sorted((m.sop_instance_uid, m.frame, m.kind, tuple(m.points), m.text if m.kind in
                             ("text", "arrow") else "") for m in marks))

    def _series_of(self, vp) -> dict[str, list[tuple[str, int]]]:
        """SeriesInstanceUID -> (SOPInstanceUID, frame) of every image its PS covers. A viewport shows one series;
        the "Key images" stack shows images of several: each of those series is saved whole, since the newest PS
        of a series is what is applied and reported for it (one covering only its key images lost the rest)."""
        if not getattr(getattr(vp, "entry", None), "key_images_label", None):
            return {str(vp.header.get("SeriesInstanceUID", "") or ""): series_images(vp.stack)}
        out: dict[str, list[tuple[str, int]]] = {}
        for i in range(len(vp.stack)):
            series = str(vp.stack.header(i).get("SeriesInstanceUID", "") or "")
            if series and series not in out:
                rows = self.archive.query("instance", {"SeriesInstanceUID": series})
                out[series] = [(str(r["SOPInstanceUID"]), f) for r in rows
                               for f in range(max(1, int(r.get("NumberOfFrames") or 1)))]
        return out

    def save(self, vp=None, force: bool = True):
        """Write the series of ``vp`` (default: the active viewport) as a PS (unless nothing changed and not
        ``force``). Returns the last worker, or None when nothing is written."""
        vp = vp or self.win.active
        if vp is None or vp.stack is None or self.archive is None:
            if force:
                self.win.statusBar().showMessage(self.tr(
                    "Presentation states are saved for series opened from the archive"), 5000)
            return None
        if not force and not len(vp.measurements) and not self._snapshots.get(
                str(vp.header.get("SeriesInstanceUID", "") or "")):
            return None  # no mark anywhere and none saved before: what follows would find nothing (5 ms a 2,000)
        from workstation.dicom.ps_writer import DisplayState
        from workstation.reading.results import save_presentation_state

        st = vp.state
        tlhc, brhc = _visible_area(vp) if st.zoom is not None else (None, None)
        magnify = float(st.zoom) / device_ratio(vp) if tlhc is not None else None
        applied = vp.ps_layers.state
        lut = vp.current_voi_lut()
        display = DisplayState(window=(float(st.center), float(st.width)) if lut is None else None,
                               voi_lut=(lut.first_mapped, lut.table, lut.bits) if lut is not None else None,
                               rotation=int(st.rotation) % 360,
                               flip=bool(st.flip_h), area_tlhc=tlhc, area_brhc=brhc, magnify=magnify,
                               shutters=applied.shutters if applied is not None else None,
                               inverse=(bool(vp.presentation.inverse) != bool(st.invert))
                               if getattr(vp, "presentation", None) is not None else None)
        creator = str(getattr(getattr(self.win, "settings", None), "ae_title", "") or "")
        worker = None
        ref = weakref.ref(self)
        for series, images in self._series_of(vp).items():
            marks = self._marks(vp, images)
            snap = self._snapshot(marks)
            if not force and snap == self._snapshots.get(series, ()):
                continue
            self._snapshots[series] = snap
            worker = create_worker(save_presentation_state, self.archive, marks, display,
                                   images=[uid for uid, _f in images], creator=creator, _start_thread=False,
                                   _ignore_errors=True)
            worker.returned.connect(partial(_saved, ref))
            worker.errored.connect(partial(_failed, ref))
            _keep(worker)
        return worker

    def leaving(self, vp) -> None:
        """``vp`` is about to show another series (or close): save its series if its marks changed."""
        if vp is not None and vp.stack is not None and self.archive is not None:
            try:
                self.save(vp, force=False)
            except Exception as exc:  # noqa: BLE001 - leaving a series never fails because of a PS
                log.warning("presentation state not saved on leaving: %s", exc)

    # -- applying ----------------------------------------------------------------------------------------------
    def catalog_for(self, vp):
        study = str(vp.header.get("StudyInstanceUID", "") or "")
        return archive_catalog(self.archive, study, [uid for uid, _f in series_images(vp.stack)])

    def apply_newest(self, vp) -> None:
        """Once per series and window: look up (off the GUI thread) and apply the newest PS of ``vp``'s series."""
        if vp is None or vp.stack is None or self.archive is None:
            return
        if getattr(getattr(vp, "entry", None), "key_images_label", None):
            # The series behind a "Key images" stack: what they hold now is not a change to save on leaving.
            for series, images in self._series_of(vp).items():
                self._snapshots.setdefault(series, self._snapshot(self._marks(vp, images)))
        series = str(vp.header.get("SeriesInstanceUID", "") or "")
        if not series or series in self._applied:
            return
        self._applied.add(series)
        # Only plain values go to the worker, and weak references to what it comes back to: a worker (and what
        # its arguments hold) may outlive the window, and a viewport or stack held there kept a closed study.
        study = str(vp.header.get("StudyInstanceUID", "") or "")
        uids = [uid for uid, _f in series_images(vp.stack)]
        worker = create_worker(archive_catalog, self.archive, study, uids, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(partial(_apply_first, weakref.ref(self), weakref.ref(vp), weakref.ref(vp.stack)))
        _keep(worker)

    def apply(self, vp, entry) -> list[str]:
        """Apply a catalogue entry (``None``: the images as stored) to ``vp``; returns what is not shown."""
        from workstation.dicom.ps_writer import marks_from_state

        series = str(vp.header.get("SeriesInstanceUID", "") or "")
        if entry is None or entry.state is None:
            vp.ps_note = ""
            vp.ps_layers.clear()
            vp.reset()
            self.applied.emit(vp, "")
            return []
        ps = entry.state
        images = series_images(vp.stack)
        first = next(((u, f) for u, f in images if ps.references(u, f + 1)), images[0] if images else ("", 0))
        notes = []
        voi = ps.voi_for(first[0], first[1] + 1)
        vp.ps_voi_lut = None
        if voi is not None and voi.center is not None and voi.width is not None:
            from workstation.imaging.presentation import VOIFunction

            vp._voi_function = VOIFunction.parse(voi.function)
            vp.state.update(center=float(voi.center), width=float(voi.width), lut=None)
        elif voi is not None and voi.lut is not None:
            from workstation.gui.viewer.viewport import PS_VOI_LUT
            from workstation.imaging import VOILUT

            t = voi.lut
            vp.ps_voi_lut = VOILUT(t.first_mapped, t.table, t.bits, t.explanation)
            # Where a later window drag starts: the LUT's input range.
            vp.state.set_voi_lut(PS_VOI_LUT, float(t.first_mapped + len(t.table) / 2), float(max(1, len(t.table))))
        turn = int(ps.rotation or 0) % 360
        vp.state.update(rotation=turn, flip_h=bool(ps.horizontal_flip), flip_v=False)
        marks, _warnings = marks_from_state(ps)
        store = vp.measurements
        have = {(m.key, m.kind, tuple(map(tuple, m.points))) for uid, f in images for m in store.on((uid, f))}
        for mk in marks:
            key = (mk.sop_instance_uid, mk.frame)
            item = (key, mk.kind, tuple(map(tuple, mk.points)))
            if item not in have and mk.kind in STORED and points_ok(mk.kind, len(mk.points)):
                store.add(Measurement(mk.kind, [tuple(p) for p in mk.points], key,
                                      mk.text if mk.kind in ("text", "arrow") else ""))
        # Other systems' annotations are drawn as graphics (ps_layers.py); what of them cannot be is named there.
        # Shutters and the overlays the PS activates are drawn over the frames it references (ps_layers.py).
        notes.extend(vp.ps_layers.set_state(ps))
        area = ps.displayed_area_for(first[0], first[1] + 1)
        said = ""
        whole = (1, 1), (vp.stack.columns, vp.stack.rows)
        if area is not None and ((area.tlhc, area.brhc) != whole or area.size_mode not in ("SCALE TO FIT", "")):
            # the whole image scaled to fit is what the viewer shows anyway (and keeps fitting as it is resized)
            said = vp.ps_layers.fit_displayed_area(area)
        if area is not None and area.aspect_ratio and area.aspect_ratio[0] != area.aspect_ratio[1]:
            notes.append(self.tr("displayed area pixel aspect ratio"))
        own = getattr(getattr(vp, "presentation", None), "modality_lut", None)
        m = ps.modality_lut
        if m is not None and (m.lut is not None or own is None or not own.is_linear
                              or abs(m.slope - own.slope) > 1e-6 or abs(m.intercept - own.intercept) > 1e-6):
            notes.append(self.tr("modality LUT"))  # the image's own rescale, repeated in the PS, is applied
        if ps.presentation_lut is not None:
            notes.append(self.tr("presentation LUT"))
        elif ps.lut_shape in ("INVERSE", "IDENTITY") and getattr(vp, "presentation", None) is not None:
            # The PS's shape decides whether the picture is inverted (PS3.4 N.2.5): MONOCHROME1 (shown inverted
            # by default) under IDENTITY is shown as its P-values; MONOCHROME2 under INVERSE inverted.
            vp.state.update(invert=bool(vp.presentation.inverse) != (ps.lut_shape == "INVERSE"))
        label = ps.content_label or self.tr("(no label)")
        vp.ps_note = self.tr("PS %1").replace("%1", label)
        if said:
            vp.ps_note += " — " + said
        if notes:
            vp.ps_note += " — " + self.tr("not shown: %1").replace("%1", ", ".join(notes))
        self._snapshots[series] = self._snapshot(self._marks(vp))
        vp.canvas.viewport().update()
        self.applied.emit(vp, label)
        return notes

    def _on_saved(self, saved) -> None:
        try:
            self.saved.emit(saved.sop_instance_uid)
            if not getattr(self.win, "_closed", True):
                n = len(saved.marks)
                self.win.statusBar().showMessage(
                    self.tr("Presentation state saved in the archive (%n mark(s))", "", n), 5000)
        except RuntimeError:  # the window is gone: the PS is written all the same
            pass

    def _on_failed(self, exc) -> None:
        try:
            if not getattr(self.win, "_closed", True):
                self.win.statusBar().showMessage(
                    self.tr("Presentation state not saved: %1").replace("%1", core_text(exc)), 10000)
        except RuntimeError:
            pass

    def picker(self, vp=None) -> QtWidgets.QMenu | None:
        """A menu of the series' presentation states, newest first (read when the reader asks for the list)."""
        vp = vp or self.win.active
        if vp is None or vp.stack is None or self.archive is None:
            self.win.statusBar().showMessage(self.tr("No presentation states: the series is not from the archive"),
                                             5000)
            return None
        menu = QtWidgets.QMenu(self.win)
        none = menu.addAction(self.tr("None (the images as stored)"))
        none.triggered.connect(lambda: self.apply(vp, None))
        entries = self.catalog_for(vp)
        for e in entries:
            if e.error:
                act = menu.addAction(self.tr("Unreadable: %1").replace("%1", core_text(e.error)))
                act.setEnabled(False)
                continue
            date = f"{e.created[:4]}-{e.created[4:6]}-{e.created[6:8]} {e.created[8:10]}:{e.created[10:12]}" \
                if len(e.created) >= 12 else e.created
            text = "  ".join(x for x in (e.label or self.tr("(no label)"), e.creator, date) if x)
            if e.outside:
                text += "  " + self.tr("(%n image(s) not in this series)", "", e.outside)
            act = menu.addAction(text)
            act.triggered.connect(lambda _c=False, e=e: self.apply(vp, e))
        if not entries:
            act = menu.addAction(self.tr("No presentation state references this series"))
            act.setEnabled(False)
        self.menu = menu
        return menu


def _visible_area(vp):
    """The zoomed view as a displayed area: 1-based (column, row) corners centred on the point the viewport centres,
    as large as the view and the image both allow (shown again MAGNIFY at the zoom, the centre comes back). None,
    None when the centre is off the image."""
    # From the viewport's state, as its view is laid out (not from the scene, which updates when next painted).
    t = vp.content_transform()
    cols, rows = vp._image_size()
    pan = vp.state.pan
    cx, cy = pan if pan is not None else (cols / 2, rows / 2)
    s = vp.effective_zoom() / vp._scale()[0]
    hw, hh = max(1.0, vp.view.width()) / (2 * s), max(1.0, vp.view.height()) / (2 * s)
    back, _ok = t.inverted()
    centre = t.map(QtCore.QPointF(cx, cy))
    pts = [back.map(QtCore.QPointF(centre.x() + dx, centre.y() + dy)) for dx in (-hw, hw) for dy in (-hh, hh)]
    half_x = min(max(abs(p.x() - cx) for p in pts), cx, cols - cx)
    half_y = min(max(abs(p.y() - cy) for p in pts), cy, rows - cy)
    if half_x < 0.5 or half_y < 0.5:
        return None, None
    return ((math.floor(cx - half_x) + 1, math.floor(cy - half_y) + 1),
            (math.ceil(cx + half_x), math.ceil(cy + half_y)))


def _saved(ref, saved) -> None:
    self = ref()
    if self is not None:
        self._on_saved(saved)


def _failed(ref, exc) -> None:
    log.warning("presentation state not saved: %s", exc)
    self = ref()
    if self is not None:
        self._on_failed(exc)


def _apply_first(ref, vref, stack_ref, entries) -> None:
    self, vp, stack = ref(), vref(), stack_ref()
    if self is None or vp is None or stack is None or getattr(self.win, "_closed", True) or vp.stack is not stack:
        return
    entries = [e for e in entries if e.state is not None]
    if not entries:
        return  # nothing to apply: the frames of a 2,000-image series are not listed (7-10 ms on the GUI thread)
    images = series_images(stack)
    newest = next((e for e in entries if any(e.applies_to(u, f + 1) for u, f in images)), None)
    if newest is not None:
        self.apply(vp, newest)
