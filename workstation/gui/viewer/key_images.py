"""Key images in the viewer (issue 12): K or the star button marks/unmarks the image shown (the frame of a
multi-frame image), a star is drawn on a key image, the study's key images are saved as a Key Object Selection
document ("Of Interest", optional note) in the archive, and "Key images" shows them as one stack in the document's
order, labelled as such on the image.

Where they are kept: :mod:`workstation.reading.key_images` (no Qt). The marks of the window's studies are read when
its series are open (ours and other systems' documents alike: theirs show as key images too). A study whose marks
changed is saved when the window is left (deactivated) or closed, and on Save; saving replaces our previous document
of the study. Reading and saving run in workers; the GUI thread only keeps the list.
"""

from __future__ import annotations

import copy
import logging
import weakref
from functools import partial

from PySide6 import QtCore, QtGui, QtWidgets
from pydicom.uid import generate_uid
from superqt.utils import create_worker

from workstation.reading.key_images import Key, StudyKeys, key_frames, key_image_stacks, load_study, save_study
from workstation.gui.common import keep_while_running

log = logging.getLogger(__name__)
Qt = QtCore.Qt
STAR = QtGui.QColor(255, 210, 0)
# Workers of windows that are gone (a save on close) are kept here until they end.
_RUNNING: set = set()


def _keep(worker) -> None:
    keep_while_running(worker, _RUNNING)


def current_key(vp) -> tuple[str, Key] | None:
    """(StudyInstanceUID, (SOPInstanceUID, frame number or 0)) of the image ``vp`` shows, None without one."""
    stack = getattr(vp, "stack", None)
    if stack is None or not hasattr(stack, "header"):
        return None
    index = vp.state.frame
    try:
        src = stack.source(index)
        header = stack.header(index)
    except Exception:  # noqa: BLE001 - a plane of an MPR or a closed stack has no instance to mark
        return None
    uid = str(getattr(src, "sop_instance_uid", "") or "")
    study = str(header.get("StudyInstanceUID", "") or "")
    if not uid or not study:
        return None
    try:
        frames = int(header.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        frames = 1
    return study, (uid, int(src.frame) + 1 if frames > 1 else 0)


class KeyImages(QtCore.QObject):
    """The key images of one viewer window's studies, its K/star action and its Save/Note/Key images actions."""

    changed = QtCore.Signal()
    saved = QtCore.Signal(str, str)  # study, the new document's SOPInstanceUID ("" when ours were removed)
    loaded = QtCore.Signal(str)  # study whose documents were read

    def __init__(self, win, archive=None):
        super().__init__(win)
        self._win = weakref.ref(win)
        self.archive = archive
        self.state: dict[str, StudyKeys] = {}
        self.marks: dict[str, list[Key]] = {}
        self.notes: dict[str, str] = {}
        self.dirty: set[str] = set()
        self._saving: dict[str, object] = {}
        self._loading: set[str] = set()
        self.toggle_action = QtGui.QAction(self._star_icon(), self.tr("Key image"), win, checkable=True)
        self.toggle_action.setObjectName("key_image")
        self.toggle_action.setShortcut(QtGui.QKeySequence("K"))
        self.toggle_action.setToolTip(self.tr("Mark or unmark the image shown as a key image (K)"))
        self.toggle_action.triggered.connect(lambda _c=False: self.toggle())
        self.open_action = QtGui.QAction(self.tr("Key images"), win)
        self.open_action.setObjectName("open_key_images")
        self.open_action.setToolTip(self.tr("Show the study's key images as one stack"))
        self.open_action.triggered.connect(lambda _c=False: self.open_stack())
        self.save_action = QtGui.QAction(self.tr("Save key images"), win)
        self.save_action.setObjectName("save_key_images")
        self.save_action.triggered.connect(lambda _c=False: self.save_all(force=True))
        self.note_action = QtGui.QAction(self.tr("Key image note…"), win)
        self.note_action.setObjectName("key_image_note")
        self.note_action.triggered.connect(lambda _c=False: self.edit_note())
        win.addActions([self.toggle_action, self.open_action])
        # Beside Export/Copy: the main tool bar overflows on a normal window and hid the star behind its ».
        tb = (win.findChild(QtWidgets.QToolBar, "viewer_file_toolbar")
              or win.findChild(QtWidgets.QToolBar, "viewer_toolbar"))
        if tb is not None:
            tb.addSeparator()
            tb.addAction(self.toggle_action)
            tb.addAction(self.open_action)
        bar = win.menuBar()
        menu = QtWidgets.QMenu(self.tr("&Key images"), bar)
        menu.setObjectName("key_images_menu")
        for act in (self.toggle_action, self.open_action, self.note_action, self.save_action):
            menu.addAction(act)
        help_menu = bar.actions()[-1] if bar.actions() else None  # before Help, as viewers have it
        if help_menu is not None:
            bar.insertMenu(help_menu, menu)
        else:
            bar.addMenu(menu)
        win.installEventFilter(self)
        self._watched: "weakref.WeakSet" = weakref.WeakSet()
        for vp in getattr(win, "viewports", []):
            self.watch(vp)
        win.loaded.connect(self.reload)
        # A key object selection in the series strip opens as what it selects (its text shows as well).
        win.thumbnails.itemDoubleClicked.connect(self._strip_double_clicked)
        if hasattr(win, "seriesAdded"):
            win.seriesAdded.connect(lambda _n: self.reload())

    # -- state -----------------------------------------------------------------------------------------------------
    @staticmethod
    def _star_icon() -> QtGui.QIcon:
        pix = QtGui.QPixmap(20, 20)
        pix.fill(Qt.transparent)
        p = QtGui.QPainter(pix)
        p.setRenderHint(QtGui.QPainter.Antialiasing, True)
        p.setPen(QtGui.QPen(QtGui.QColor(120, 90, 0), 1))
        p.setBrush(STAR)
        p.drawPolygon(star_polygon(QtCore.QPointF(10, 10.5), 9.5))
        p.end()
        return QtGui.QIcon(pix)

    def studies(self) -> list[str]:
        win = self._win()
        if win is None:
            return []
        out = []
        for e in getattr(win, "entries", []):
            uid = str(e.header.get("StudyInstanceUID", "") or "") if e.header is not None else ""
            if uid and uid not in out:
                out.append(uid)
        return out

    def is_key(self, study: str, key: Key) -> bool:
        marks = self.marks.get(study, [])
        return key in marks or (key[1] != 0 and (key[0], 0) in marks)

    def is_key_image(self, vp) -> bool:
        found = current_key(vp)
        return found is not None and self.is_key(*found)

    def keys(self, study: str) -> list[Key]:
        return list(self.marks.get(study, []))

    # -- reading -----------------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the key images of the window's studies not read yet (worker)."""
        if self.archive is None:
            return
        for study in self.studies():
            if study in self.state or study in self._loading:
                continue
            self._loading.add(study)
            worker = create_worker(load_study, self.archive, study)
            worker.returned.connect(partial(_call, weakref.ref(self), "_on_loaded"))
            worker.errored.connect(partial(_call, weakref.ref(self), "_on_load_error", study))
            _keep(worker)

    def _on_loaded(self, state: StudyKeys) -> None:
        study = state.study_instance_uid
        self._loading.discard(study)
        self.state[study] = state
        # Marks made before the documents were read stay, after what was saved.
        made = [k for k in self.marks.get(study, []) if k not in state.keys]
        self.marks[study] = state.keys + made
        self.notes.setdefault(study, state.note)
        for problem in state.problems:
            self._status(self.tr("A key object selection could not be read: {0}").format(problem))
        self._refresh()
        self.loaded.emit(study)

    def _on_load_error(self, study: str, exc) -> None:
        self._loading.discard(study)
        self._status(self.tr("The key images could not be read: {0}").format(exc))

    # -- marking -----------------------------------------------------------------------------------------------------
    def toggle(self, vp=None) -> bool | None:
        """Mark or unmark the image shown in ``vp`` (the active viewport); returns whether it is a key image now
        (None when no image is shown)."""
        win = self._win()
        vp = vp or (win.active if win is not None else None)
        found = current_key(vp) if vp is not None else None
        if found is None:
            self._status(self.tr("No image to mark here."))
            self._refresh()
            return None
        study, key = found
        marks = self.marks.setdefault(study, [])
        if self.is_key(study, key):
            if key in marks:
                marks.remove(key)
            else:  # the whole multi-frame instance was marked: the other frames stay
                i = marks.index((key[0], 0))
                n = vp.stack.header(vp.state.frame).get("NumberOfFrames", 1)
                marks[i:i + 1] = [(key[0], f) for f in range(1, int(n) + 1) if f != key[1]]
            now = False
            state = self.state.get(study)
            if state is not None and (key in state.foreign or (key[0], 0) in state.foreign):
                self._status(self.tr("Unmarked here; another system's key object selection still lists this "
                                     "image and it shows again when the study is opened again."))
            else:
                self._status(self.tr("No longer a key image."))
        else:
            marks.append(key)
            now = True
            self._status(self.tr("Marked as key image."))
        self.dirty.add(study)
        self._refresh()
        return now

    def edit_note(self) -> None:
        win = self._win()
        found = current_key(win.active) if win is not None and win.active is not None else None
        study = found[0] if found else next(iter(self.studies()), None)
        if study is None:
            return
        text, ok = QtWidgets.QInputDialog.getText(win, self.tr("Key image note"),
                                                  self.tr("Note saved with the study's key images (optional):"),
                                                  text=self.notes.get(study, ""))
        if ok and text != self.notes.get(study, ""):
            self.notes[study] = text
            self.dirty.add(study)

    # -- saving ------------------------------------------------------------------------------------------------------
    def save_all(self, force: bool = False) -> int:
        """Save the studies whose marks changed (``force``: the active study too); returns how many were started."""
        studies = set(self.dirty)
        if force:
            win = self._win()
            found = current_key(win.active) if win is not None and win.active is not None else None
            if found is not None:
                studies.add(found[0])
        if self.archive is None:
            if studies and force:
                self._status(self.tr("Key images are not saved: these files were not opened from the archive."))
            return 0
        started = 0
        for study in studies:
            if study in self._saving:
                continue  # saved again when that one ends (still dirty)
            state = self.state.get(study)
            self.dirty.discard(study)
            # Not read yet (marked, then closed at once): the worker reads the study's documents first.
            worker = create_worker(_save, self.archive, study, list(self.marks.get(study, [])),
                                   self.notes.get(study), state)
            self._saving[study] = worker
            worker.returned.connect(partial(_call, weakref.ref(self), "_on_saved", study))
            worker.errored.connect(partial(_call, weakref.ref(self), "_on_save_error", study))
            _keep(worker)
            started += 1
        return started

    def _on_saved(self, study: str, uid) -> None:
        self._saving.pop(study, None)
        state = self.state.setdefault(study, StudyKeys(study))
        state.documents = [uid] if uid else []
        self._status(self.tr("Key images saved.") if uid else self.tr("No key images left: ours removed."))
        self.saved.emit(study, uid or "")
        if study in self.dirty and self._win() is not None:
            self.save_all()

    def _on_save_error(self, study: str, exc) -> None:
        self._saving.pop(study, None)
        self.dirty.add(study)
        self._status(self.tr("The key images could not be saved: {0}").format(exc))

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() in (QtCore.QEvent.Close, QtCore.QEvent.WindowDeactivate) and self.dirty:
            self.save_all()
        return False

    # -- the key-images stack ----------------------------------------------------------------------------------------
    def open_stack(self, study: str | None = None) -> bool:
        """Add the study's key images (the active one's by default) to the window as one stack, in order, and
        show it in the active viewport. False when there is nothing to show (said in the status bar)."""
        win = self._win()
        if win is None:
            return False
        if study is None:
            found = current_key(win.active) if win.active is not None else None
            study = found[0] if found else next(iter(self.studies()), None)
        keys = self.marks.get(study, []) if study else []
        if study is None or self.archive is None:
            self._status(self.tr("No key images to show."))
            return False
        if not keys and study not in self.state:
            worker = create_worker(load_study, self.archive, study)
            worker.returned.connect(partial(_call, weakref.ref(self), "_loaded_then_open", study))
            _keep(worker)
            return True
        if not keys:
            self._status(self.tr("This study has no key images."))
            if win.active is not None and win.active.stack is None:
                win.active.show_message(self.tr("This study has no key images."))
            return False
        worker = create_worker(_build, self.archive, list(keys), win.executor, win.memory_budget)
        worker.returned.connect(partial(_on_built, weakref.ref(win), study))
        worker.errored.connect(lambda exc: self._status(self.tr("The key images could not be opened: {0}")
                                                        .format(exc)))
        win._start(worker)
        return True

    def report_opened(self, missing: int, parts: int) -> None:
        """Say what the key-images stack could not hold, or that it came in several parts."""
        if missing:
            self._status(self.tr("%n key image(s) not in the archive: not shown.", "", missing))
        elif parts > 1:
            self._status(self.tr("The key images differ in size: shown as %n stack(s), in order.", "", parts))

    def _loaded_then_open(self, study: str, state: StudyKeys) -> None:
        self._on_loaded(state)
        self.open_stack(study)

    def _strip_double_clicked(self, item) -> None:
        win = self._win()
        index = item.data(Qt.UserRole)
        if win is None or not isinstance(index, int) or not 0 <= index < len(win.entries):
            return
        header = win.entries[index].header or {}
        if str(header.get("Modality", "")) == "KO" and header.get("StudyInstanceUID"):
            self.open_stack(str(header["StudyInstanceUID"]))

    # -- display -----------------------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        win = self._win()
        if win is None:
            return
        self.sync_action()
        for vp in getattr(win, "viewports", []):
            vp.canvas.viewport().update()
        self.changed.emit()

    def watch(self, vp) -> None:
        """Keep the star button telling whether the image shown in ``vp`` (when active) is a key image."""
        if vp in self._watched:
            return
        self._watched.add(vp)
        for signal in (vp.frameChanged, vp.activated, vp.imageShown):
            signal.connect(self.sync_action)

    def sync_action(self, *_args) -> None:
        win = self._win()
        vp = win.active if win is not None else None
        checked = vp is not None and self.is_key_image(vp)
        if self.toggle_action.isChecked() != checked:
            self.toggle_action.setChecked(checked)

    def _status(self, text: str) -> None:
        win = self._win()
        if win is not None and not getattr(win, "_closed", True):
            win.statusBar().showMessage(text, 6000)


def _call(ref, method: str, *args) -> None:
    """``ref().method(*args)`` while the controller lives (a worker may end after its window closed)."""
    from shiboken6 import isValid

    obj = ref()
    if obj is not None and isValid(obj):
        getattr(obj, method)(*args)


def _save(archive, study: str, marks: list[Key], note: str | None, state: StudyKeys | None) -> str | None:
    """Save the reader's marks of ``study`` as our KOS (worker): other systems' selections are theirs, not copied
    into ours; ``note`` None keeps the note saved before."""
    if state is None:
        state = load_study(archive, study)
    foreign = set(state.foreign)
    return save_study(archive, study, [k for k in marks if k not in foreign],
                      state.note if note is None else note, replace=state.documents)


def _build(archive, keys, executor, budget):
    frames, missing = key_frames(archive, keys)
    return key_image_stacks(frames, executor=executor, memory_budget=budget), missing


def _on_built(win_ref, study: str, result) -> None:
    stacks, missing = result
    win = win_ref()
    if win is None or getattr(win, "_closed", True):
        for s in stacks:
            s.close()
        return
    from workstation.gui.viewer.series import SeriesEntry

    title = QtCore.QCoreApplication.translate("KeyImages", "Key images")
    first = None
    for n, stack in enumerate(stacks, start=1):
        header = copy.deepcopy(stack.header(0))
        header.SeriesDescription = title
        # Its own identity in the window (drag and drop finds entries by series and first image).
        header.SeriesInstanceUID = generate_uid(entropy_srcs=["key images", study, str(n)])
        part = title if len(stacks) == 1 else QtCore.QCoreApplication.translate(
            "KeyImages", "Key images ({0}/{1})").format(n, len(stacks))
        entry = SeriesEntry(title=part, header=header, stack=stack,
                            paths=list(dict.fromkeys(stack.source(i).path for i in range(len(stack)))))
        entry.key_images_label = part
        win.entries.append(entry)
        index = len(win.entries) - 1
        win.thumbnails.add_entry(index, entry)
        first = index if first is None else first
    if first is None:
        win.statusBar().showMessage(QtCore.QCoreApplication.translate(
            "KeyImages", "None of the key images is in the archive."), 8000)
        return
    win.thumbnails.label_studies(win.entries)
    win._make_thumbnails(list(range(first, len(win.entries))))
    vp = win.active or win.viewports[0]
    win.show_entry(win.viewports.index(vp), first, frame=0)
    if not win.is_loaded:  # a window opened for the key images alone
        win.is_loaded = True
        win.loaded.emit()
    win.key_images.report_opened(len(missing), len(stacks))


def star_polygon(center: QtCore.QPointF, radius: float) -> QtGui.QPolygonF:
    import math

    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        a = -math.pi / 2 + i * math.pi / 5
        points.append(QtCore.QPointF(center.x() + r * math.cos(a), center.y() + r * math.sin(a)))
    return QtGui.QPolygonF(points)


def paint_key_image(vp, p: QtGui.QPainter) -> None:
    """The star on a key image, and "Key images n/m" on the key-images stack (painting.py calls this)."""
    label = getattr(getattr(vp, "entry", None), "key_images_label", None)
    win = vp.window()
    ctrl = getattr(win, "key_images", None)
    marked = ctrl is not None and ctrl.is_key_image(vp)
    if ctrl is not None:
        ctrl.watch(vp)  # viewports added by a layout change after the window was made
    if not marked and not label:
        return
    w = vp.canvas.width()
    p.save()
    p.setRenderHint(QtGui.QPainter.Antialiasing, True)
    if marked:
        p.setPen(QtGui.QPen(QtGui.QColor(0, 0, 0, 200), 1.5))
        p.setBrush(STAR)
        p.drawPolygon(star_polygon(QtCore.QPointF(w / 2 + 34, 17), 11))
    if label:
        text = "{0}  {1}/{2}".format(label, vp.state.frame + 1, vp.state.n_frames)
        font = QtGui.QFont(p.font())
        font.setPixelSize(13)
        font.setBold(True)
        p.setFont(font)
        fm = QtGui.QFontMetricsF(font)
        box = QtCore.QRectF((w - fm.horizontalAdvance(text) - 14) / 2, 56, fm.horizontalAdvance(text) + 14,
                            fm.height() + 6)
        p.setPen(QtGui.QPen(STAR, 1.5))
        p.setBrush(QtGui.QColor(0, 0, 0, 170))
        p.drawRoundedRect(box, 4, 4)
        p.drawText(box, Qt.AlignCenter, text)
    p.restore()


def attach(win, archive) -> None:
    """Give viewer window ``win`` the archive its key images are read from and saved to (the app does this)."""
    ctrl = getattr(win, "key_images", None)
    if ctrl is not None and ctrl.archive is None:
        ctrl.archive = archive
        if getattr(win, "is_loaded", False):
            ctrl.reload()


def open_key_images_window(archive, settings, study_uid: str, parent=None):
    """A viewer window holding the study's key images as one stack (the browser's "Key images")."""
    from workstation.gui.viewer.launch import open_viewer

    win = open_viewer([], settings, parent=parent)
    attach(win, archive)
    win.viewports[0].show_message(QtCore.QCoreApplication.translate("KeyImages", "Loading…"))
    win.key_images.open_stack(study_uid)
    return win
