"""Hanging protocols in a viewer window: the matching rule arranges the layout and what each viewport shows.

The rules and the choice are headless (:mod:`workstation.reading.hanging`); this module turns the window's series
into display sets (the first study in the window is the current one, the others its priors, newest first), applies
the chosen protocol (layout, series per viewport, W/L preset, flip) and lets the reader step to the next matching
protocol or save what is on screen as a new rule.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6 import QtCore, QtWidgets
from superqt.utils import create_worker

from workstation.gui.common import keep_while_running
from workstation.reading.hanging import (
    DisplaySet, Protocol, ProtocolError, StudyInfo, hang, load_protocols, matching_protocols, orientation_of,
    protocol_from_layout, save_protocol,
)

log = logging.getLogger(__name__)
# A real timer between steps, not a zero-time call: Qt runs queued zero-time calls back to back before its timers
# and paints, so steps "one per turn" still made one long stall. Not longer than 1 ms: the layout must settle right
# after the window says it is loaded (with 12 ms steps a reader's save met a later step).
_STEP_MS = 1


_WARMING: set = set()


def _warm_protocols(folder) -> None:
    try:
        load_protocols(folder)
    except (ProtocolError, OSError):
        pass  # named when the protocols are applied


def config_dir(win) -> Any:
    settings = getattr(win, "settings", None)
    path = getattr(settings, "path", None)
    return path.parent if path else None


def studies_of(win) -> tuple[StudyInfo | None, list[list[DisplaySet]], dict[tuple[str, str], int]]:
    """(the current study's info, display sets per study - current first, then priors newest first - and the
    entry index of each display set)."""
    order: list[str] = []
    dates: dict[str, str] = {}
    sets: dict[str, list[DisplaySet]] = {}
    index: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(getattr(win, "entries", []) or []):
        h = entry.header or {}
        study = str(h.get("StudyInstanceUID") or "")
        if study not in sets:
            order.append(study)
            sets[study] = []
            dates[study] = str(h.get("StudyDate") or "")
        orientation = ""
        count = 0
        if entry.stack is not None:
            count = len(entry.stack)
            try:
                orientation = orientation_of(list(entry.stack.geometry(0).image_orientation or []))
            except Exception:  # noqa: BLE001 - no geometry: the rule's orientation cannot match it
                orientation = ""
        number = str(h.get("SeriesNumber") or "").strip()
        ds = DisplaySet(
            series_uid=str(h.get("SeriesInstanceUID") or f"entry-{i}"), study_uid=study,
            number=int(number) if number.lstrip("-").isdigit() else None,
            description=str(h.get("SeriesDescription") or ""), modality=str(h.get("Modality") or ""),
            body_part=str(h.get("BodyPartExamined") or ""), orientation=orientation,
            image_type=_values(h.get("ImageType")),
            laterality=str(h.get("ImageLaterality") or h.get("Laterality") or "").upper(),
            view=str(h.get("ViewPosition") or "").upper(), count=count,
            instance_uids=(str(i),))  # one entry = one display set (a localizer split from its axials is its own)
        sets[study].append(ds)
        index[(ds.series_uid, ds.instance_uids[0])] = i
    if not order:
        return None, [], index
    current = order[0]
    priors = sorted(order[1:], key=lambda s: dates[s], reverse=True)
    first = sets[current]
    info = StudyInfo(modalities=tuple(dict.fromkeys(d.modality for d in first if d.modality)),
                     body_parts=tuple(dict.fromkeys(d.body_part for d in first if d.body_part)),
                     description=next((str(e.header.get("StudyDescription") or "") for e in win.entries
                                       if str(e.header.get("StudyInstanceUID") or "") == current), ""))
    return info, [sets[current]] + [sets[s] for s in priors], index


class Hanging(QtCore.QObject):
    """The protocols of one viewer window: apply the best match, step to the next, save the layout as a rule."""

    applied = QtCore.Signal(str)  # the protocol's name

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.matches: list[Protocol] = []
        self.position = -1
        self.error = ""
        self._arranged = None  # what the protocol left on the screen (see untouched)
        self.pending = False  # a protocol is being applied, its cells made one per event-loop turn
        self._running = None  # the steps of that protocol (a newer apply supersedes them)
        self._stepping = False  # the protocol itself is showing a series (see reader_chose)

    def warm(self) -> None:
        """Parse the protocol files off the GUI thread while the series' headers are read (5-9 ms of the GUI
        thread when the window opens otherwise)."""
        keep_while_running(create_worker(_warm_protocols, config_dir(self.win), _start_thread=False), _WARMING)

    def load(self) -> None:
        info, studies, _index = studies_of(self.win)
        try:
            protocols = load_protocols(config_dir(self.win))
        except ProtocolError as exc:
            # A broken rule file is named; the shipped defaults still hang the study.
            self.error = str(exc)
            log.warning("hanging protocols: %s", exc)
            protocols = load_protocols(None)
        self.matches = matching_protocols(protocols, info, len(studies) - 1) if info else []
        self.position = -1

    def apply_best(self) -> str:
        """Arrange the window by the best matching protocol (when its series are open), in steps of one event-loop
        turn each (see :meth:`apply`), so opening never freezes the GUI for all of them at once."""
        self.load()
        self._incremental = True
        try:
            name = self.step(0)
        finally:
            self._incremental = False
        self._arranged = self._arrangement()  # also when no protocol matched: the window as it opened
        return name

    def _arrangement(self):
        return (self.win.layout_name, tuple(getattr(getattr(vp, "entry", None), "key", None)
                                            for vp in self.win.visible_viewports))

    def untouched(self) -> bool:
        """Whether the window still shows what the hanging protocol (or the opening) arranged: a prior arriving
        then may be hung again; once the reader has rearranged the window, it is not."""
        if self.pending:
            return True  # still being arranged by the protocol, step by step
        return self._arranged is not None and self._arranged == self._arrangement()

    def reader_chose(self) -> None:
        """A series was shown by the reader (or a caller), not by the protocol: a protocol still being arranged
        stops where it is, so its later steps do not replace what the reader has just chosen."""
        if self.pending and not self._stepping:
            self._running = None
            self.pending = False

    def step(self, delta: int = 1) -> str:
        """Apply the next (``delta`` 1) matching protocol, or the best one (0 after :meth:`load`)."""
        if not self.matches:
            return ""
        self.position = (self.position + delta) % len(self.matches) if self.position >= 0 else 0
        protocol = self.matches[self.position]
        self.apply(protocol)
        return protocol.name

    def apply(self, protocol: Protocol) -> None:
        """Arrange the window by ``protocol``. Applied on opening (:meth:`apply_best`), the work is done in steps of
        one event-loop turn each - a new cell, the layout, each cell's series - since a viewport costs 10-50 ms to
        make or fill and all of them at once froze the GUI while the study opened."""
        steps = self._steps(protocol)
        self._running = steps
        if not getattr(self, "_incremental", False):
            for _ in steps:
                pass
            return
        self.pending = True
        QtCore.QTimer.singleShot(_STEP_MS, lambda: self._next_step(steps))

    def _next_step(self, steps) -> None:
        if getattr(self.win, "_closed", True) or self._running is not steps:
            return  # the window closed, or another protocol was applied meanwhile
        self._stepping = True
        try:
            next(steps)
        except StopIteration:
            return
        finally:
            self._stepping = False
        QtCore.QTimer.singleShot(_STEP_MS, lambda: self._next_step(steps))

    def _steps(self, protocol: Protocol):
        from workstation.gui.viewer import window as window_module

        info, studies, index = studies_of(self.win)
        hanging = hang(protocol, studies)
        self.pending = True
        while len(self.win.viewports) < hanging.rows * hanging.columns:
            self.win.add_viewport()
            yield
        name = f"{hanging.rows}x{hanging.columns}"
        window_module.LAYOUTS.setdefault(name, (hanging.rows, hanging.columns))
        if hasattr(self.win, "layout_box") and self.win.layout_box.findText(name) < 0:
            self.win.layout_box.addItem(name)
        self.win.set_layout(name)
        for k, cell in enumerate(hanging.cells):
            yield
            vp = self.win.viewports[k]
            if cell.display_set is None:
                vp.set_entry(None)  # says what to drop there; never another study's image in a "prior" cell
                continue
            # The active cell stays where it is while the cells fill: keys and tools act on one cell throughout.
            self.win.show_entry(k, index[(cell.display_set.series_uid, cell.display_set.instance_uids[0])],
                                activate=False)
            if cell.rule.preset:
                self._preset(vp, cell.rule.preset)
            if cell.rule.flip and not vp.state.flip_h:
                vp.state.flip_horizontal()
        for k in range(len(hanging.cells), hanging.rows * hanging.columns):
            self.win.viewports[k].set_entry(None)
        if self.win.viewports:
            self.win._set_active(self.win.viewports[0])
        self.pending = False
        self._running = None
        self._arranged = self._arrangement()
        self.applied.emit(protocol.name)

    @staticmethod
    def _preset(vp, name: str) -> bool:
        for i, preset in enumerate(vp.user_presets()):
            if str(preset.name).lower() == name.lower():
                return vp.apply_preset(i)
        return False

    def describe(self) -> str:
        if not self.matches or self.position < 0:
            return ""
        return self.tr("Hanging protocol: %1 (%2 of %3) — Ctrl+P: next").replace(
            "%1", self.matches[self.position].name).replace("%2", str(self.position + 1)).replace(
            "%3", str(len(self.matches)))

    def save_layout(self, name: str) -> str:
        """Write what the window shows as a rule named ``name`` (the user's file); returns the file's path."""
        info, studies, index = studies_of(self.win)
        if info is None:
            raise ProtocolError(self.tr("Nothing to save: the window shows no series."))
        by_entry = {i: (s_index, ds) for s_index, sets in enumerate(studies) for ds in sets
                    for i in [index[(ds.series_uid, ds.instance_uids[0])]]}
        cells = []
        for vp in self.win.visible_viewports:
            entry = getattr(vp, "entry", None)
            k = self.win.entries.index(entry) if entry in self.win.entries else -1
            study_index, ds = by_entry.get(k, (0, None))
            cells.append((study_index, ds, ""))
        rows, cols = self.win.visible_layout() if hasattr(self.win, "visible_layout") else \
            _rows_cols(self.win.layout_name)
        folder = config_dir(self.win)
        if folder is None:
            raise ProtocolError(self.tr("No settings folder to save the protocol in."))
        path = save_protocol(folder, protocol_from_layout(name, info, rows, cols, cells))
        return str(path)


def _values(text: Any) -> tuple[str, ...]:
    """A multi-valued attribute as the header dict holds it ("['ORIGINAL', 'PRIMARY']" or "A\\B")."""
    raw = str(text or "").strip("[]")
    return tuple(v.strip(" '\"").upper() for v in raw.replace("\\", ",").split(",") if v.strip(" '\""))


def _rows_cols(name: str) -> tuple[int, int]:
    rows, cols = name.split("x")
    return int(rows), int(cols)


def ask_and_save(win, hanging: Hanging) -> str | None:
    name, ok = QtWidgets.QInputDialog.getText(win, hanging.tr("Save layout as protocol"),
                                              hanging.tr("Name of the new hanging protocol:"))
    if not ok or not name.strip():
        return None
    try:
        path = hanging.save_layout(name.strip())
    except (ProtocolError, OSError) as exc:
        QtWidgets.QMessageBox.warning(win, hanging.tr("Save layout as protocol"), str(exc))
        return None
    win.statusBar().showMessage(hanging.tr("Saved as protocol “%1” in %2").replace("%1", name.strip())
                                .replace("%2", path), 8000)
    return path
