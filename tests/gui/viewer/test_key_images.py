"""Key images in the app (issue 12): K and the star button mark the image shown (K no longer picks the calibration
tool: Shift+K does), a star is drawn on a key image, the marks are saved as one KOS in the archive when the viewer
is left/closed and on Save (saving again replaces ours), dcmtk reads it, the browser marks the study, reopening
shows the marks, another system's KOS shows the same way, and "Key images" opens them as one stack in order,
from the viewer and from the browser."""

from __future__ import annotations

import pydicom
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from tests.dicom.test_key_objects import other_systems_kos
from tests.peers import make_ct_series, run_tool
from workstation.dicom.key_objects import read_key_images
from workstation.dicom.ps_writer import encode
from workstation.gui.study_model import KEY_IMAGE_COLUMN

Qt = QtCore.Qt


def _import_study(qtbot, win, tmp_path):
    a = make_ct_series(tmp_path / "a", 4, series_number=1)
    study = str(pydicom.dcmread(a[0]).StudyInstanceUID)
    b = make_ct_series(tmp_path / "b", 3, series_number=2, study_uid=study)
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([str(tmp_path / "a"), str(tmp_path / "b")], show_summary=False)
    uids = lambda paths: [str(pydicom.dcmread(p).SOPInstanceUID) for p in paths]  # noqa: E731
    return study, uids(a), uids(b)


def _open(qtbot, win, study):
    old = win.viewers[-1] if win.viewers else None
    win.open_studies([{"StudyInstanceUID": study}])
    qtbot.waitUntil(lambda: bool(win.viewers) and win.viewers[-1] is not old, timeout=10000)
    viewer = win.viewers[-1]
    qtbot.waitUntil(lambda: viewer.is_loaded and viewer.active.current_array() is not None, timeout=15000)
    qtbot.waitUntil(lambda: study in viewer.key_images.state, timeout=10000)  # its documents are read
    # The hanging protocol arranged: its steps make each cell active in turn (emri_small hangs 1x3 by the MR brain
    # rule), and a test acting before the last step scrolled a viewport that was then no longer the active one.
    qtbot.waitUntil(lambda: not viewer.hanging.pending, timeout=10000)
    viewer.activateWindow()
    return viewer


def _show(qtbot, viewer, sop_uid):
    """Show the image ``sop_uid`` in the active viewport."""
    for i, e in enumerate(viewer.entries):
        if e.stack is None:
            continue
        for f in range(len(e.stack)):
            if e.stack.source(f).sop_instance_uid == sop_uid:
                viewer.show_entry(viewer.viewports.index(viewer.active), i, frame=f)
                qtbot.waitUntil(lambda: viewer.active.current_array() is not None, timeout=10000)
                return
    raise AssertionError(f"{sop_uid} not in the viewer")


def _star_pixels(vp) -> int:
    """Yellow star pixels where the star is drawn (top centre, right of the orientation letter)."""
    vp.canvas.viewport().repaint()
    img = vp.canvas.grab().toImage()
    cx, cy = vp.canvas.width() // 2 + 34, 17
    n = 0
    for x in range(cx - 8, cx + 9):
        for y in range(cy - 8, cy + 9):
            c = QtGui.QColor(img.pixel(x, y))
            n += c.red() > 200 and c.green() > 160 and c.blue() < 80
    return n


def _kos(archive, study):
    return archive.query("instance", {"StudyInstanceUID": study, "Modality": "KO"})


def test_mark_save_reopen_browser_and_key_images_stack(qtbot, main_window, gui_archive, tmp_path):
    win = main_window
    study, a, b = _import_study(qtbot, win, tmp_path)
    model = win.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10000)
    assert model.data(model.index(0, KEY_IMAGE_COLUMN), Qt.DecorationRole) is None  # no key images yet
    viewer = _open(qtbot, win, study)
    ctrl, vp = viewer.key_images, viewer.active
    _show(qtbot, viewer, a[0])
    assert not ctrl.is_key_image(vp) and _star_pixels(vp) == 0
    qtbot.keyClick(vp.canvas, Qt.Key_K)
    assert ctrl.is_key_image(vp) and ctrl.toggle_action.isChecked()
    assert vp.state.tool != "calibrate"  # K was the calibration tool's key
    assert _star_pixels(vp) > 20
    qtbot.keyClick(vp.canvas, Qt.Key_K, Qt.ShiftModifier)
    assert vp.state.tool == "calibrate" and ctrl.is_key_image(vp)  # Shift+K: calibration, the mark unchanged
    viewer.set_tool("window")
    # F1's list of shortcuts says so.
    from workstation.gui.viewer.menus import shortcut_rows

    rows = {(action, key) for _menu, action, key in shortcut_rows(viewer)}
    assert ("Key image", "K") in rows and ("Calibrate (line of known length)", "Shift+K") in rows
    _show(qtbot, viewer, a[2])
    assert not ctrl.toggle_action.isChecked() and _star_pixels(vp) == 0
    ctrl.toggle_action.trigger()  # the star button
    _show(qtbot, viewer, b[1])
    qtbot.keyClick(vp.canvas, Qt.Key_K)
    _show(qtbot, viewer, a[1])
    qtbot.keyClick(vp.canvas, Qt.Key_K)
    qtbot.keyClick(vp.canvas, Qt.Key_K)  # marked and unmarked again
    assert ctrl.keys(study) == [(a[0], 0), (a[2], 0), (b[1], 0)]
    assert _kos(gui_archive, study) == []  # nothing written while reading

    # Closing the viewer saves them (in a worker), as one KOS in the study.
    viewer.close()
    qtbot.waitUntil(lambda: len(_kos(gui_archive, study)) == 1, timeout=15000)
    path = _kos(gui_archive, study)[0]["path"]
    assert [k.sop_instance_uid for k in read_key_images(path)] == [a[0], a[2], b[1]]
    dump = run_tool("dsrdump", [path], check=False)
    assert dump.returncode == 0 and "Of Interest" in dump.stdout, dump.stdout + dump.stderr
    assert not [x for x in (dump.stdout + dump.stderr).splitlines() if x.startswith("E:")]
    vfy = run_tool("dciodvfy", [path], check=False)
    assert vfy.returncode == 0 and "Error" not in vfy.stdout + vfy.stderr, vfy.stdout + vfy.stderr

    # The browser marks the study.
    model = win.browser.model
    cell = lambda: model.index(0, KEY_IMAGE_COLUMN)  # noqa: E731
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.data(cell(), Qt.DecorationRole) is not None,
                    timeout=10000)
    assert "key images" in model.data(cell(), Qt.ToolTipRole)
    win.browser.view.viewport().repaint()  # painted through multiData as well

    # Reopened: the marks show; unmarking one and saving replaces our document (no pile).
    viewer = _open(qtbot, win, study)
    ctrl, vp = viewer.key_images, viewer.active
    _show(qtbot, viewer, a[2])
    assert ctrl.is_key_image(vp) and ctrl.toggle_action.isChecked() and _star_pixels(vp) > 20
    qtbot.keyClick(vp.canvas, Qt.Key_K)
    first = _kos(gui_archive, study)[0]["SOPInstanceUID"]
    with qtbot.waitSignal(ctrl.saved, timeout=15000):
        ctrl.save_action.trigger()
    rows = _kos(gui_archive, study)
    assert len(rows) == 1 and rows[0]["SOPInstanceUID"] != first
    assert [k.sop_instance_uid for k in read_key_images(rows[0]["path"])] == [a[0], b[1]]

    # "Key images": one stack, in the document's order, labelled.
    n = len(viewer.entries)
    ctrl.open_action.trigger()
    qtbot.waitUntil(lambda: len(viewer.entries) == n + 1, timeout=10000)
    entry = viewer.entries[-1]
    assert entry.key_images_label == "Key images" and viewer.active.entry is entry
    assert [entry.stack.source(i).sop_instance_uid for i in range(len(entry.stack))] == [a[0], b[1]]
    qtbot.waitUntil(lambda: viewer.active.current_array() is not None, timeout=10000)
    # The KO series in the strip (the KOS saved before this window opened) opens the same way.
    ko = next(i for i, e in enumerate(viewer.entries) if e.stack is None and e.header.get("Modality") == "KO")
    item = next(viewer.thumbnails.item(r) for r in range(viewer.thumbnails.count())
                if viewer.thumbnails.item(r).data(Qt.UserRole) == ko)
    viewer.thumbnails.itemDoubleClicked.emit(item)
    qtbot.waitUntil(lambda: len(viewer.entries) == n + 2, timeout=10000)
    assert viewer.active.entry is viewer.entries[-1] and viewer.entries[-1].key_images_label == "Key images"
    viewer.close()

    # From the browser's context menu.
    old = win.viewers[-1]
    win.open_key_images([{"StudyInstanceUID": study}])
    kwin = win.viewers[-1]
    assert kwin is not old
    qtbot.waitUntil(lambda: kwin.is_loaded and bool(kwin.entries), timeout=15000)
    assert [kwin.entries[0].stack.source(i).sop_instance_uid for i in range(2)] == [a[0], b[1]]
    assert kwin.active.entry.key_images_label == "Key images"
    kwin.close()


def _pydicom_kos(image):
    """A KOS as another system writes it, by hand (title "For Teaching")."""
    ds = other_systems_kos(image, frames=())
    del ds.ContentSequence[0].ReferencedSOPSequence[0].ReferencedFrameNumber
    ds.PatientName, ds.PatientID = image.PatientName, image.PatientID
    ds.SeriesNumber, ds.InstanceNumber = 77, 1
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    return ds


def _highdicom_kos(image):
    """A KOS written by highdicom for another manufacturer, titled "Of Interest" like ours: still not ours."""
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    content = hd.ko.KeyObjectSelection(document_title=codes.DCM.OfInterest, referenced_objects=[image])
    return hd.ko.KeyObjectSelectionDocument(
        evidence=[image], content=content, series_instance_uid=generate_uid(), series_number=88,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="Other PACS Inc.")


@pytest.mark.parametrize("make", [_pydicom_kos, _highdicom_kos], ids=["by-hand", "highdicom"])
def test_another_systems_kos_shows_its_images_as_key_images(qtbot, main_window, gui_archive, tmp_path, make):
    win = main_window
    study, a, b = _import_study(qtbot, win, tmp_path)
    image = pydicom.dcmread(gui_archive.instance_path(b[2]), stop_before_pixels=True)
    foreign = make(image)
    gui_archive.store_bytes(encode(foreign), source="test")
    viewer = _open(qtbot, win, study)
    _show(qtbot, viewer, b[2])
    assert viewer.key_images.is_key_image(viewer.active) and _star_pixels(viewer.active) > 20
    _show(qtbot, viewer, b[1])
    assert not viewer.key_images.is_key_image(viewer.active)
    # Their document is theirs: marking one more writes ours beside it, theirs stays - also when ours is
    # saved again (leaving the window saves a change).
    qtbot.keyClick(viewer.active.canvas, Qt.Key_K)
    with qtbot.waitSignal(viewer.key_images.saved, timeout=15000):
        QtWidgets.QApplication.sendEvent(viewer, QtCore.QEvent(QtCore.QEvent.WindowDeactivate))
    _show(qtbot, viewer, a[0])
    qtbot.keyClick(viewer.active.canvas, Qt.Key_K)
    with qtbot.waitSignal(viewer.key_images.saved, timeout=15000):
        viewer.key_images.save_action.trigger()
    rows = _kos(gui_archive, study)
    assert len(rows) == 2 and str(foreign.SOPInstanceUID) in {r["SOPInstanceUID"] for r in rows}
    ours = next(r for r in rows if r["SOPInstanceUID"] != str(foreign.SOPInstanceUID))
    assert [k.sop_instance_uid for k in read_key_images(ours["path"])] == [b[1], a[0]]  # theirs not copied
    viewer.close()


def test_a_frame_of_a_multi_frame_image_is_marked_alone(qtbot, main_window, gui_archive, tmp_path, monkeypatch):
    from pydicom.data import get_testdata_file

    win = main_window
    src = get_testdata_file("emri_small.dcm")  # 10 frames
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([src], show_summary=False)
    ds = pydicom.dcmread(src, stop_before_pixels=True)
    study, uid = str(ds.StudyInstanceUID), str(ds.SOPInstanceUID)
    viewer = _open(qtbot, win, study)
    vp = viewer.active
    vp.state.update(frame=3)
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=10000)
    qtbot.keyClick(vp.canvas, Qt.Key_K)
    assert viewer.key_images.keys(study) == [(uid, 4)]
    vp.state.update(frame=4)
    assert not viewer.key_images.is_key_image(vp)
    # The note goes with the study's key images.
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", lambda *a, **k: ("lesion, segment 7", True))
    viewer.key_images.note_action.trigger()
    with qtbot.waitSignal(viewer.key_images.saved, timeout=15000):
        viewer.key_images.save_action.trigger()
    keys = read_key_images(_kos(gui_archive, study)[0]["path"])
    assert [(k.sop_instance_uid, k.frames, k.note) for k in keys] == [(uid, (4,), "lesion, segment 7")]
    viewer.close()


def test_key_images_of_a_study_without_any_says_so(qtbot, main_window, gui_archive, tmp_path):
    win = main_window
    study, _a, _b = _import_study(qtbot, win, tmp_path)
    win.open_key_images([{"StudyInstanceUID": study}])
    kwin = win.viewers[-1]
    qtbot.waitUntil(lambda: kwin.viewports[0].message == "This study has no key images.", timeout=10000)
    assert kwin.entries == []
    kwin.close()


def test_marks_saved_before_the_documents_were_read_keep_theirs_out_of_ours(qtbot, main_window, gui_archive,
                                                                          tmp_path):
    """Closed at once after marking, before the study's documents were read: the save reads them itself, so
    another system's selection is not copied into ours and its note is kept."""
    win = main_window
    study, a, b = _import_study(qtbot, win, tmp_path)
    image = pydicom.dcmread(gui_archive.instance_path(b[2]), stop_before_pixels=True)
    foreign = _pydicom_kos(image)
    gui_archive.store_bytes(encode(foreign), source="test")
    viewer = _open(qtbot, win, study)
    ctrl = viewer.key_images
    ctrl.state.clear()  # as if the reading worker had not answered yet
    _show(qtbot, viewer, a[0])
    qtbot.keyClick(viewer.active.canvas, Qt.Key_K)
    assert ctrl.keys(study) == [(b[2], 0), (a[0], 0)]
    viewer.close()
    qtbot.waitUntil(lambda: len(_kos(gui_archive, study)) == 2, timeout=15000)
    ours = next(r for r in _kos(gui_archive, study) if r["SOPInstanceUID"] != str(foreign.SOPInstanceUID))
    assert [k.sop_instance_uid for k in read_key_images(ours["path"])] == [a[0]]


def test_a_mark_made_in_the_key_images_stack_is_saved_with_its_whole_series(qtbot, main_window, gui_archive,
                                                                            tmp_path):
    """The newest PS of a series is what is applied and reported for it: a PS written from the "Key images" stack
    that covered only the key images dropped the marks on the series' other images."""
    from workstation.dicom.presentation_state import read_presentation_state
    from workstation.dicom.ps_writer import marks_from_state
    from workstation.gui.viewer.measure import Measurement
    from workstation.reading.results import study_marks

    win = main_window
    study, a, b = _import_study(qtbot, win, tmp_path)
    viewer = _open(qtbot, win, study)
    vp, ctrl = viewer.active, viewer.key_images
    _show(qtbot, viewer, a[1])
    vp.measurements.add(Measurement("distance", [(1.5, 2.5), (20.5, 30.5)], key=vp.frame_key))  # not a key image
    _show(qtbot, viewer, a[0])
    qtbot.keyClick(vp.canvas, Qt.Key_K)
    with qtbot.waitSignal(ctrl.saved, timeout=15000):
        ctrl.save_action.trigger()
    pr = lambda: gui_archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})  # noqa: E731
    n = len(viewer.entries)
    ctrl.open_action.trigger()
    qtbot.waitUntil(lambda: len(viewer.entries) == n + 1 and viewer.active.current_array() is not None,
                    timeout=10000)
    qtbot.waitUntil(lambda: len(pr()) == 1, timeout=15000)  # series 1 left for the stack: its PS
    vp = viewer.active
    assert vp.entry.key_images_label == "Key images"
    vp.measurements.add(Measurement("distance", [(3.5, 4.5), (10.5, 12.5)], key=vp.frame_key))  # on a[0]
    before = {r["SOPInstanceUID"] for r in pr()}
    viewer.close()  # leaving the stack: its series are saved whole
    qtbot.waitUntil(lambda: len(pr()) > len(before), timeout=15000)
    new = [r for r in pr() if r["SOPInstanceUID"] not in before]
    assert len(new) == 1  # series 1 only: the key image of series 2 carries no mark and did not change
    ps = read_presentation_state(new[0]["path"])
    assert {ref.sop_instance_uid for ref in ps.images()} == set(a)
    marks, _ = marks_from_state(ps)
    assert sorted(m.sop_instance_uid for m in marks) == sorted([a[0], a[1]])
    marks, _ = study_marks(gui_archive, study)  # what the report takes
    assert sorted(m.sop_instance_uid for m in marks) == sorted([a[0], a[1]])
