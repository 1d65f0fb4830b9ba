"""The stack opens at image 1 in InstanceNumber order, the overlay shows the InstanceNumber, and no unsorted file is
ever shown first."""

from __future__ import annotations

import pydicom
import pytest

from viewer_data import write_ct_series
from viewer_events import key
from workstation.gui.viewer.viewport import StackViewport
from workstation.reading.order import SeriesFiles
from PySide6 import QtCore

Qt = QtCore.Qt


def _number(vp, i=None):
    return int(vp.stack.header(vp.state.frame if i is None else i).InstanceNumber)


def test_a_head_first_axial_opens_at_instance_number_1_at_the_top(open_viewer, tmp_path):
    # InstanceNumber 1 is the top slice (highest z), as a head-first axial CT numbers them.
    paths = write_ct_series(tmp_path / "s", 12, instance_order="descending")
    win = open_viewer([paths])
    vp = win.active
    assert vp.state.frame == 0 and _number(vp) == 1  # the old order (ascending z) opened at InstanceNumber 12
    zs = [vp.stack.geometry(i).image_position[2] for i in range(len(vp.stack))]
    assert zs == sorted(zs, reverse=True)
    assert vp.image_number_text() == "Im 1/12 (#1)"
    key(vp, Qt.Key_Down)
    assert vp.image_number_text() == "Im 2/12 (#2)" and _number(vp) == 2


@pytest.fixture
def shown(monkeypatch):
    """Every stack a viewport is given, in order: (number of images, path of its first image)."""
    log = []
    real = StackViewport.set_stack

    def record(self, stack, *args, **kwargs):
        if stack is not None:
            log.append((len(stack), str(stack.source(0).path)))
        return real(self, stack, *args, **kwargs)

    monkeypatch.setattr(StackViewport, "set_stack", record)
    return log


def test_no_unsorted_file_is_shown_while_a_series_opens(open_viewer, tmp_path, shown):
    paths = write_ct_series(tmp_path / "s", 30, instance_order="descending")  # files listed bottom-up
    win = open_viewer([paths])
    # The old window showed the first file given (InstanceNumber 30) alone as "Im 1/1", then swapped.
    assert shown[0] == (30, str(win.active.stack.source(0).path))
    assert _number(win.active) == 1


def test_the_first_image_known_from_the_index_shows_at_once_and_stays(open_viewer, tmp_path, shown, qtbot):
    paths = write_ct_series(tmp_path / "s", 30, instance_order="descending")
    # What the archive index gives the viewer: InstanceNumber 1 first.
    paths.sort(key=lambda p: int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber))
    files = SeriesFiles(paths)
    files.first_known, files.count = True, 30
    from workstation.gui.viewer.window import ViewerWindow

    win = ViewerWindow([files])
    win.show()
    qtbot.waitUntil(lambda: bool(shown), timeout=15000)
    vp = win.viewports[0]
    if not win.is_loaded:  # the file alone: already image 1 of 30, numbered as the PACS numbers it
        assert shown[0] == (1, paths[0])
        assert vp.image_number_text() == "Im 1/30 (#1)"
    qtbot.waitUntil(lambda: win.is_loaded and vp.current_array() is not None, timeout=15000)
    assert {path for _n, path in shown} == {paths[0]}  # the same image throughout: nothing flashed
    assert len(vp.stack) == 30 and vp.image_number_text() == "Im 1/30 (#1)"
    win.close()


def test_a_series_without_instance_numbers_opens_from_the_index_at_its_top_slice(tmp_path, shown, qtbot,
                                                                                  monkeypatch):
    """No InstanceNumbers: the archive index's positions name the top slice, shown at once (no "Loading…") and kept
    when the sorted stack takes over; before, the viewer showed nothing until every header was read."""
    from workstation.archive import Archive
    from workstation.config import Settings
    from workstation.gui import operations as ops
    from workstation.gui.viewer.window import ViewerWindow

    paths = write_ct_series(tmp_path / "s", 30)
    for p in paths:
        ds = pydicom.dcmread(p)
        del ds.InstanceNumber
        ds.save_as(p)
    top = max(paths, key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))
    settings = Settings(data_dir=tmp_path / "d", path=tmp_path / "d" / "settings.toml", bind="127.0.0.1")
    archive = Archive.open(settings)
    try:
        archive.import_paths(paths)
        groups = ops.series_groups(archive, archive.query("study")[0]["StudyInstanceUID"], None)
        stored = archive.query("instance", {"SOPInstanceUID": pydicom.dcmread(top).SOPInstanceUID})[0]["path"]
    finally:
        archive.close()
    assert groups[0].first_known and groups[0][0] == stored
    messages = []
    real = StackViewport.show_message
    monkeypatch.setattr(StackViewport, "show_message",
                        lambda self, text, *a, **k: (messages.append(text), real(self, text, *a, **k)))
    win = ViewerWindow(groups)
    win.show()
    qtbot.waitUntil(lambda: win.is_loaded and win.viewports[0].current_array() is not None, timeout=15000)
    assert shown[0][1] == stored and {path for _n, path in shown} == {stored}  # the top slice throughout
    assert not [m for m in messages if m]  # never "Loading…"
    win.close()
