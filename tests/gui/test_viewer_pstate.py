"""Presentation states in the viewer opened from the archive: the reader's marks are saved as a GSPS when the
series is left (and on Ctrl+S), the newest PS of a series is applied when it opens (what is not shown is named on
the image), and the picker lists them newest first."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets
from pydicom.uid import generate_uid

from tests.peers import make_ct_series
from workstation.gui import operations as ops


@pytest.fixture
def study(main_window, tmp_path):
    uid = generate_uid()
    a = make_ct_series(tmp_path / "a", 4, rows=32, columns=32, study_uid=uid, series_number=1)
    b = make_ct_series(tmp_path / "b", 3, rows=32, columns=32, study_uid=uid, series_number=2)
    report = main_window.archive.import_paths(a + b)
    assert not report.rejected
    return uid


def open_study(qtbot, main_window, uid):
    win = main_window._open_groups(ops.series_groups(main_window.archive, uid, None))
    qtbot.waitUntil(lambda: win.is_loaded and win.active.current_array() is not None, timeout=20000)
    return win


def pr_rows(archive, uid):
    return archive.query("instance", {"StudyInstanceUID": uid, "Modality": "PR"})


def test_marks_are_saved_as_a_presentation_state_when_the_reader_leaves_the_series(qtbot, main_window, study):
    from workstation.dicom.presentation_state import read_presentation_state
    from workstation.dicom.ps_writer import marks_from_state
    from workstation.gui.viewer.measure import Measurement

    win = open_study(qtbot, main_window, study)
    vp = win.viewports[0]
    series = vp.header["SeriesInstanceUID"]
    vp.state.update(frame=2, center=40.0, width=400.0)
    points = [(3.25, 4.5), (20.75, 17.125)]
    vp.measurements.add(Measurement("distance", list(points), key=vp.frame_key))
    assert not pr_rows(main_window.archive, study)
    other = next(i for i, e in enumerate(win.entries) if e.header["SeriesInstanceUID"] != series)
    win.show_entry(0, other)  # leaving the series
    qtbot.waitUntil(lambda: bool(pr_rows(main_window.archive, study)), timeout=20000)
    ps = read_presentation_state(pr_rows(main_window.archive, study)[0]["path"])
    marks, _ = marks_from_state(ps)
    assert [(m.kind, m.frame) for m in marks] == [("distance", 0)]
    assert max(abs(a - b) for p, q in zip(marks[0].points, points) for a, b in zip(p, q)) <= 1e-3
    assert ps.series[0].series_instance_uid == series
    assert (ps.voi[0].center, ps.voi[0].width) == (40.0, 400.0)
    # Leaving again without a change writes nothing more; Ctrl+S always writes.
    win.show_entry(0, 1 - other)
    win.show_entry(0, other)
    qtbot.wait(300)
    assert len(pr_rows(main_window.archive, study)) == 1
    win.close()


def test_the_newest_presentation_state_is_applied_when_the_series_opens(qtbot, main_window, study, tmp_path):
    import pydicom

    from workstation.dicom.ps_writer import DisplayState, Mark
    from workstation.reading.results import save_presentation_state

    archive = main_window.archive
    rows = sorted(archive.query("instance", {"StudyInstanceUID": study, "SeriesNumber": "1"}),
                  key=lambda r: int(r["InstanceNumber"]))
    uids = [r["SOPInstanceUID"] for r in rows]
    mark = Mark("distance", [(2.0, 2.0), (10.0, 12.0)], uids[0], 0, "")
    save_presentation_state(archive, [], DisplayState(window=(100.0, 200.0)), images=uids, label="OLDER")
    saved = save_presentation_state(archive, [mark], DisplayState(window=(-500.0, 1200.0), rotation=90, flip=True),
                                    images=uids, label="NEWEST")
    # Another system's PS with a rectangular shutter, newer than both: applied, shutter drawn (test_ps_layers.py).
    ds = pydicom.dcmread(saved.path)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.ContentLabel, ds.PresentationCreationTime = "FOREIGN", "235959"
    ds.ShutterShape = "RECTANGULAR"
    ds.ShutterLeftVerticalEdge, ds.ShutterRightVerticalEdge = 2, 30
    ds.ShutterUpperHorizontalEdge, ds.ShutterLowerHorizontalEdge = 2, 30
    path = tmp_path / "foreign.dcm"
    ds.save_as(path, enforce_file_format=True)
    archive.store_bytes(path.read_bytes(), source="test")

    win = open_study(qtbot, main_window, study)
    vp = next(v for v in win.viewports if v.entry is not None and v.header.get("SeriesNumber") in ("1", 1))
    qtbot.waitUntil(lambda: bool(getattr(vp, "ps_note", "")), timeout=10000)
    assert (vp.state.center, vp.state.width, vp.state.rotation, vp.state.flip_h) == (-500.0, 1200.0, 90, True)
    assert vp.ps_note.startswith("PS FOREIGN") and "not shown" not in vp.ps_note
    assert vp.ps_layers.shutter.isVisible()
    from workstation.gui.viewer.overlay import corner_texts

    assert vp.ps_note in corner_texts(vp)["bottom_left"]  # said on the image
    key = (uids[0], 0)
    assert [(m.kind, m.points) for m in vp.measurements.on(key)] == [("distance", [(2.0, 2.0), (10.0, 12.0)])]
    # The picker: "None", then every PS of the series newest first.
    menu = win.pstates.picker(vp)
    texts = [a.text() for a in menu.actions()]
    assert texts[0].startswith("None")
    assert [t.split()[0] for t in texts[1:]] == ["FOREIGN", "NEWEST", "OLDER"]
    next(a for a in menu.actions() if a.text().startswith("OLDER")).trigger()
    assert (vp.state.center, vp.state.width, vp.state.rotation) == (100.0, 200.0, 0)
    assert vp.ps_note == "PS OLDER"
    menu.actions()[0].trigger()  # None: the images as stored
    assert vp.ps_note == "" and vp.state.rotation == 0
    win.close()


def test_ctrl_s_saves_even_without_changes_and_a_viewer_without_archive_says_why_not(qtbot, main_window, study):
    win = open_study(qtbot, main_window, study)
    before = len(pr_rows(main_window.archive, study))
    win.save_ps_action.trigger()
    qtbot.waitUntil(lambda: len(pr_rows(main_window.archive, study)) == before + 1, timeout=20000)
    qtbot.waitUntil(lambda: "Presentation state saved" in win.statusBar().currentMessage(), timeout=5000)
    win.archive = None
    win.save_ps_action.trigger()
    assert "opened from the archive" in win.statusBar().currentMessage()
    win.close()
    QtWidgets.QApplication.processEvents()


def test_an_inverted_picture_is_saved_as_inverse_and_shown_so_again(qtbot, main_window, study):
    from workstation.dicom.presentation_state import read_presentation_state

    win = open_study(qtbot, main_window, study)
    vp = win.viewports[0]
    vp.state.update(invert=True)
    before = {r["SOPInstanceUID"] for r in pr_rows(main_window.archive, study)}
    win.pstates.save(vp)
    qtbot.waitUntil(lambda: len(pr_rows(main_window.archive, study)) > len(before), timeout=20000)
    (row,) = [r for r in pr_rows(main_window.archive, study) if r["SOPInstanceUID"] not in before]
    assert read_presentation_state(row["path"]).lut_shape == "INVERSE"  # a MONOCHROME2 CT shown inverted
    entry = next(e for e in win.pstates.catalog_for(vp) if e.sop_instance_uid == row["SOPInstanceUID"])
    vp.state.update(invert=False)
    win.pstates.apply(vp, entry)
    assert vp.state.invert and "presentation LUT" not in vp.ps_note
    win.close()
