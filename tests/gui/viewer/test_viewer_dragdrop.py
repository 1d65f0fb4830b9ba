"""Dragging a series thumbnail onto a viewport: the payload names the series, so another window shows the same one."""

from __future__ import annotations

import pydicom
from PySide6 import QtCore, QtGui, QtWidgets

from viewer_data import write_ct_series
from workstation.gui.viewer.dragdrop import SERIES_MIME, decode_series

Qt = QtCore.Qt


def _series_uid(vp):
    return str(vp.stack.header(0).SeriesInstanceUID)


def _drop(win_from, index, vp):
    mime = win_from.thumbnails.mimeData([win_from.thumbnails.item(index)])
    assert mime.hasFormat(SERIES_MIME)
    target = vp.canvas.viewport()
    pos = QtCore.QPointF(target.width() / 2, target.height() / 2)
    enter = QtGui.QDragEnterEvent(pos.toPoint(), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(target, drop)


def _write(tmp_path, name, n, number):
    return write_ct_series(tmp_path / name, n, frame_of_reference=pydicom.uid.generate_uid(), series_number=number)


def test_a_series_dropped_on_another_window_is_that_series_opened_there(open_viewer, tmp_path, qtbot):
    a, b = _write(tmp_path, "a", 4, 1), _write(tmp_path, "b", 5, 2)
    c, d = _write(tmp_path, "c", 6, 3), _write(tmp_path, "d", 7, 4)  # another study, another window
    src = open_viewer([a, b])
    dst = open_viewer([c, d], layout="1x2")
    wanted = str(src.entries[1].header["SeriesInstanceUID"])
    right = dst.viewports[1]
    assert _series_uid(right) != wanted
    _drop(src, 1, right)
    # The index (1) names series d in the target window: the old code showed d at once.
    qtbot.waitUntil(lambda: right.stack is not None and right.current_array() is not None
                    and _series_uid(right) == wanted, timeout=15000)
    assert len(right.stack) == 5
    assert len(dst.entries) == 3 and dst.thumbnails.count() == 3  # the comparison series joins the strip
    assert dst.entries[2].header["SeriesInstanceUID"] == wanted


def test_a_series_the_target_holds_is_found_by_identity_not_by_position(open_viewer, tmp_path):
    a, b = _write(tmp_path, "a", 4, 1), _write(tmp_path, "b", 5, 2)
    src = open_viewer([a, b])
    dst = open_viewer([b, a], layout="1x2")  # the same series in the other order
    wanted = src.entries[0].key
    assert dst.entries[0].key != wanted
    _drop(src, 0, dst.viewports[0])
    assert dst.viewports[0].entry.key == wanted
    assert len(dst.entries) == 2  # found in its own list: not opened twice


def test_a_series_whose_window_is_gone_changes_nothing_and_says_so(open_viewer, tmp_path, qtbot):
    a, b = _write(tmp_path, "a", 4, 1), _write(tmp_path, "b", 5, 2)
    c, d = _write(tmp_path, "c", 6, 3), _write(tmp_path, "d", 7, 4)
    src = open_viewer([a, b])
    dst = open_viewer([c, d])
    mime = src.thumbnails.mimeData([src.thumbnails.item(1)])
    payload = decode_series(mime)
    src.close()
    vp = dst.viewports[0]
    before = vp.entry.key
    dst.drop_series(vp, payload)
    assert vp.entry.key == before and vp.current_array() is not None
    assert "no longer open" in dst.statusBar().currentMessage()


def test_a_drop_of_foreign_data_is_refused(open_viewer, tmp_path):
    win = open_viewer([_write(tmp_path, "a", 3, 1)])
    mime = QtCore.QMimeData()
    mime.setData("application/x-workstation-series-index", QtCore.QByteArray(b"0"))  # the old index payload
    target = win.viewports[0].canvas.viewport()
    enter = QtGui.QDragEnterEvent(QtCore.QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(target, enter)
    assert not enter.isAccepted()
