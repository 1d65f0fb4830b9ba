"""The viewer window: layouts, thumbnail drag and drop, synchronized scrolling, tags, non-image objects."""

from __future__ import annotations

import pydicom
import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from viewer_data import write_ct_series
from viewer_events import key, wheel
from workstation.gui.viewer.tag_browser import dataset_rows
from workstation.gui.viewer.dragdrop import SERIES_MIME

Qt = QtCore.Qt


def _two_series(tmp_path, same_for=True):
    for_uid = pydicom.uid.generate_uid()
    a = write_ct_series(tmp_path / "a", 10, thickness=2.0, frame_of_reference=for_uid, series_number=1)
    b = write_ct_series(tmp_path / "b", 20, thickness=1.0, frame_of_reference=for_uid if same_for else None,
                        series_number=2)
    return a, b


def test_layouts(open_viewer, tmp_path):
    a, b = _two_series(tmp_path)
    win = open_viewer([a, b])
    assert len(win.entries) == 2
    assert win.thumbnails.count() == 2
    for name, n in (("1x2", 2), ("2x1", 2), ("2x2", 4), ("1x1", 1)):
        win.layout_box.setCurrentText(name)
        assert len(win.visible_viewports) == n
        assert all(vp.isVisible() for vp in win.visible_viewports)
    win.set_layout("1x2")
    assert win.viewports[1].stack is win.entries[1].stack


def test_drop_thumbnail_into_viewport(open_viewer, tmp_path, qtbot):
    a, b = _two_series(tmp_path)
    win = open_viewer([a, b], layout="1x2")
    right = win.viewports[1]
    right.set_entry(win.entries[0])
    mime = win.thumbnails.mimeData([win.thumbnails.item(1)])
    assert mime.hasFormat(SERIES_MIME)
    target = right.canvas.viewport()
    pos = QtCore.QPointF(target.width() / 2, target.height() / 2)
    enter = QtGui.QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(target, drop)
    assert right.stack is win.entries[1].stack
    assert win.active is right


def test_synchronized_scrolling_by_position(open_viewer, tmp_path, qtbot):
    a, b = _two_series(tmp_path)
    win = open_viewer([a, b], layout="1x2")
    left, right = win.viewports[0], win.viewports[1]
    assert right.stack is win.entries[1].stack
    thick = left if left.state.n_frames == 10 else right
    thin = right if thick is left else left
    thick.state.update(frame=0)
    wheel(thick, -3)  # 3 slices of 2 mm = 6 mm
    assert thick.state.frame == 3
    assert thin.state.frame == 6  # 1 mm slices: same position
    win.sync_action.trigger()
    assert not win.sync_enabled
    wheel(thick, -1)
    assert thin.state.frame == 6


def test_no_sync_across_frames_of_reference(open_viewer, tmp_path):
    a, b = _two_series(tmp_path, same_for=False)
    win = open_viewer([a, b], layout="1x2")
    left, right = win.viewports
    f = right.state.frame
    wheel(left, -2)
    assert right.state.frame == f


def test_tool_selection_is_shared_and_sticky(open_viewer, tmp_path):
    a, b = _two_series(tmp_path)
    win = open_viewer([a, b], layout="1x2")
    key(win.viewports[0], Qt.Key_T)
    assert all(vp.state.tool == "rectangle" for vp in win.viewports)
    assert win.tool_actions["rectangle"].isChecked()
    win.tool_actions["ellipse"].trigger()
    assert all(vp.state.tool == "ellipse" for vp in win.viewports)


def test_tag_browser_tree_filter_private(open_viewer, testdata, qtbot):
    win = open_viewer([testdata("CT_small.dcm")])
    win.tags_dock.show()
    qtbot.waitUntil(lambda: win.tags.tree.topLevelItemCount() > 10)
    rows = win.tags.visible_rows()
    assert ("(0010,0010)", "Patient's Name") in rows
    assert any(name.startswith("[private]") for tag, name in rows if tag.startswith("(0009,"))
    win.tags.filter.setText("patient's name")
    rows = win.tags.visible_rows()
    assert ("(0010,0010)", "Patient's Name") in rows
    assert all("(0008,0060)" != tag for tag, _ in rows)
    win.tags.filter.setText("")
    assert len(win.tags.visible_rows()) > 20


def test_sequences_are_nested():
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.PatientName = "A^B"
    item = Dataset()
    item.CodeValue = "123"
    ds.ProcedureCodeSequence = [item]
    rows = list(dataset_rows(ds))
    depths = {name: depth for depth, tag, name, *_ in rows}
    assert depths["Procedure Code Sequence"] == 0 and depths["Item 1"] == 1 and depths["Code Value"] == 2
    values = {name: value for _d, _t, name, _vr, value, *_ in rows}
    assert values["Procedure Code Sequence"] == "1 item"  # a real plural, not "1 item(s)"


@pytest.mark.parametrize("name", ["test-SR.dcm", "rtplan.dcm", "waveform_ecg.dcm"])
def test_non_image_objects_say_what_they_are(open_viewer, testdata, name):
    win = open_viewer([testdata(name)], wait_image=False)
    vp = win.active
    assert vp.stack is None
    assert vp.message
    assert vp._label.isVisible() and not vp.canvas.isVisible()


def test_encapsulated_pdf_opens_in_system_viewer(open_viewer, tmp_path, monkeypatch):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName, ds.MIMETypeOfEncapsulatedDocument = "DOC", "Doc^Patient", "application/pdf"
    ds.EncapsulatedDocument = pdf + b"\x00"
    path = tmp_path / "doc.dcm"
    ds.save_as(path, enforce_file_format=True)
    opened = []
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    win = open_viewer([[str(path)]], wait_image=False)
    vp = win.active
    assert vp.stack is None and vp.document_path
    assert vp._doc_button.isVisible()
    vp._doc_button.click()
    assert opened and opened[0].toLocalFile() == vp.document_path
    with open(vp.document_path, "rb") as fh:
        assert fh.read().startswith(b"%PDF")


def test_file_without_window_opens_on_its_range_of_values(open_viewer, testdata):
    # Default presentation as `workstation render`: no window, no VOI LUT -> the range of the modality values
    # the image holds (dcmtk's min-max), so a 12-bit CT is not shown flat across -2048..2047.
    win = open_viewer([testdata("CT_small.dcm")])
    vp = win.active
    arr = vp.presentation.to_modality(vp.current_array())
    assert vp.state.width == pytest.approx(float(arr.max() - arr.min()) + 1)
    assert vp.state.center == pytest.approx((float(arr.max()) + float(arr.min())) / 2 + 0.5, abs=0.51)
    full = vp.presentation.full_range_window()
    assert vp.state.width < full.width
    vp.drag_window(40, 0)
    vp.auto_window()  # the "A" key / Auto button: the 1st-99th percentile of this image (not min/max)
    lo, hi = np.percentile(arr, [1, 99])
    assert vp.state.width == pytest.approx(hi - lo + 1)
    assert vp.state.width < float(arr.max() - arr.min())


def test_color_image_shows_without_window(open_viewer, testdata):
    win = open_viewer([testdata("US1_J2KR.dcm")])
    vp = win.active
    assert vp.presentation.is_color
    assert vp.current_array().shape[-1] == 3
    c = vp.state.center
    vp.drag_window(50, 50)
    assert vp.state.center == c


def test_run_viewer_in_running_app(qtbot, ct_series):
    from workstation.gui.viewer.launch import expand_paths, open_viewer, run_viewer

    assert run_viewer([ct_series]) == 0  # an application exists: shows and returns
    win = open_viewer([ct_series])
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.is_loaded, timeout=10000)
    assert len(expand_paths([str(__import__("pathlib").Path(ct_series[0]).parent)])) == 12
    for w in QtWidgets.QApplication.topLevelWidgets():
        if w.__class__.__name__ == "ViewerWindow":
            w.close()


def _icon_is_placeholder(item) -> bool:
    img = item.icon().pixmap(96, 96).toImage().convertToFormat(QtGui.QImage.Format_RGB888)
    colors = {img.pixelColor(x, y).name() for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    return colors == {QtGui.QColor(30, 30, 30).name()}


def test_multiframe_thumbnail_survives_the_viewports_prefetch(open_viewer, testdata, qtbot):
    """The 120-frame ultrasound's thumbnail (its middle frame) is drawn although the viewport, showing frame 1,
    cancels every queued decode outside its prefetch window."""
    win = open_viewer([testdata("color3d_jpeg_baseline.dcm")])
    qtbot.waitUntil(lambda: not _icon_is_placeholder(win.thumbnails.item(0)), timeout=15000)


def test_thumbnail_falls_back_to_a_direct_decode_when_its_frame_is_cancelled(testdata, qtbot, monkeypatch):
    from concurrent.futures import CancelledError

    from workstation.gui.viewer.series import open_entries
    from workstation.gui.viewer.thumbnails import thumbnail_image

    entry = open_entries([testdata("color3d_jpeg_baseline.dcm")])[0]

    def cancelled(*_a, **_k):
        raise CancelledError()

    monkeypatch.setattr(entry.stack, "get_frame", cancelled)
    img = thumbnail_image(entry)
    item = QtWidgets.QListWidgetItem(QtGui.QIcon(QtGui.QPixmap.fromImage(img)), "")
    assert not _icon_is_placeholder(item)
    entry.stack.close()


@pytest.mark.parametrize("layout", ["1x2", "2x1", "2x2"])
def test_layout_cells_are_equal_whatever_they_show(open_viewer, tmp_path, testdata, qtbot, layout):
    """An image beside a message (RT plan, SR): every cell gets the same share of the window."""
    a, _b = _two_series(tmp_path)
    win = open_viewer([a, [testdata("rtplan.dcm")], [testdata("test-SR.dcm")]], layout=layout)
    win.resize(1200, 800)
    qtbot.waitUntil(lambda: all(vp.width() > 50 for vp in win.visible_viewports))
    QtWidgets.QApplication.processEvents()
    widths = [vp.width() for vp in win.visible_viewports]
    heights = [vp.height() for vp in win.visible_viewports]
    assert any(vp.message for vp in win.visible_viewports) and any(vp.stack for vp in win.visible_viewports)
    assert max(widths) - min(widths) <= 2, widths
    assert max(heights) - min(heights) <= 2, heights


@pytest.mark.parametrize("content", [b"hello", b"# Notes\n\nnot an image at all, but text long enough to parse\n" * 20])
def test_a_file_that_is_not_dicom_says_so(open_viewer, tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    win = open_viewer([str(path)], wait_image=False)
    vp = win.active
    assert vp.stack is None
    assert vp.message == "notes.txt is not a DICOM file."
    assert vp._label.isVisible()


def test_tag_values_are_in_sight_when_the_tags_open(open_viewer, testdata, qtbot):
    """Names of nested and private elements are long; the Value column still starts inside the dock."""
    win = open_viewer([testdata("US1_UNCR.dcm")])
    win.resize(1400, 900)
    win.tags_dock.show()
    tree = win.tags.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() > 10)
    QtWidgets.QApplication.processEvents()
    value_left = tree.header().sectionViewportPosition(3)
    assert value_left + 120 <= tree.viewport().width(), (value_left, tree.viewport().width())
    name = tree.topLevelItem(tree.topLevelItemCount() - 1)
    assert name.toolTip(1) == name.text(1)


def test_viewer_fits_the_screen_and_ctrl_w_closes_it(ct_series, qtbot):
    from PySide6.QtTest import QTest

    from workstation.gui.viewer.window import ViewerWindow

    win = ViewerWindow([ct_series])
    qtbot.addWidget(win)
    avail = win.screen().availableGeometry()
    assert win.width() <= avail.width() and win.height() <= avail.height()
    win.show()
    qtbot.waitUntil(lambda: win.is_loaded, timeout=15000)
    win.activateWindow()
    QTest.keyClick(win.viewports[0].canvas, Qt.Key_W, Qt.ControlModifier)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=2000)


def test_close_shortcut_is_not_ambiguous_where_the_platform_binds_ctrl_w(ct_series, qtbot, monkeypatch):
    """On X11 desktops QKeySequence.Close already holds Ctrl+W: listing it twice made Qt call the shortcut
    ambiguous and Ctrl+W did nothing."""
    from PySide6.QtTest import QTest

    from workstation.gui.viewer.window import ViewerWindow

    # What xcb answers (the offscreen platform says Ctrl+F4 first, which hid the duplicate in tests).
    bindings = [QtGui.QKeySequence("Ctrl+W"), QtGui.QKeySequence(Qt.Key_Close)]
    monkeypatch.setattr(QtGui.QKeySequence, "keyBindings", staticmethod(lambda _key: list(bindings)))
    win = ViewerWindow([ct_series])
    qtbot.addWidget(win)
    close = next(a for a in win.actions() if a.text() == "Close")
    keys = [k.toString() for k in close.shortcuts()]
    assert "Ctrl+W" in keys and len(keys) == len(set(keys)) == 2
    win.show()
    qtbot.waitUntil(lambda: win.is_loaded, timeout=15000)
    win.activateWindow()
    QTest.keyClick(win.viewports[0].canvas, Qt.Key_W, Qt.ControlModifier)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=2000)


def test_a_drag_crossing_a_viewport_leaves_no_warning(open_viewer, tmp_path, qtlog):
    a, b = _two_series(tmp_path)
    win = open_viewer([a, b])
    target = win.viewports[0].canvas.viewport()
    mime = win.thumbnails.mimeData([win.thumbnails.item(1)])
    pos = QtCore.QPoint(target.width() // 2, target.height() // 2)
    enter = QtGui.QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    QtWidgets.QApplication.sendEvent(target, QtGui.QDragLeaveEvent())
    assert not [r for r in qtlog.records if "drag" in r.message.lower()]


def test_a_structured_report_shows_its_content(open_viewer, testdata):
    win = open_viewer([testdata("test-SR.dcm")], wait_image=False)
    vp = win.active
    assert vp.message.startswith("Comprehensive SR Storage (SR)")
    for line in ("Diagnosis", "Diameter: 3 cm", "Text Code: was detected.", "DateTime: 20001206120000"):
        assert line in vp.message.splitlines() or any(row.strip() == line for row in vp.message.splitlines())
    assert vp._label.alignment() & Qt.AlignLeft and vp._label.isVisible()


def test_a_long_report_is_cut_with_a_pointer_to_the_tags():
    from pydicom.dataset import Dataset

    from workstation.gui.viewer.series import sr_text

    def code(meaning):
        c = Dataset()
        c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = "1", "99X", meaning
        return [c]

    ds = Dataset()
    ds.ConceptNameCodeSequence = code("Findings")
    items = []
    for k in range(100):
        it = Dataset()
        it.ValueType, it.ConceptNameCodeSequence, it.TextValue = "TEXT", code(f"Finding {k}"), f"text {k}"
        items.append(it)
    ds.ContentSequence = items
    lines = sr_text(ds, max_lines=40).splitlines()
    assert len(lines) == 40 and lines[0] == "Findings" and lines[1] == "Finding 0: text 0"
    assert lines[-1] == "… 62 more lines: Tags shows the whole content"
