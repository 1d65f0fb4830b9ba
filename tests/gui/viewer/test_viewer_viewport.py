"""Mouse and keyboard on the real viewport widget (pytest-qt, offscreen)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6 import QtCore, QtGui

from viewer_events import centre, click, drag, hover, key, wheel
from workstation.gui.viewer.overlay import (
    corner_texts, frame_error_text, measurement_label, orientation_texts, scale_bar,
)

Qt = QtCore.Qt


def test_wheel_and_arrows_scroll_frames(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    assert vp.state.n_frames == 12
    vp.state.update(frame=0)
    wheel(vp, -1)  # wheel down: next image
    assert vp.state.frame == 1
    wheel(vp, -3)
    assert vp.state.frame == 4
    wheel(vp, 1)
    assert vp.state.frame == 3
    key(vp, Qt.Key_Down)
    key(vp, Qt.Key_Right)
    assert vp.state.frame == 5
    key(vp, Qt.Key_Up)
    assert vp.state.frame == 4
    key(vp, Qt.Key_End)
    assert vp.state.frame == 11
    key(vp, Qt.Key_Home)
    assert vp.state.frame == 0


def test_scrolling_shows_the_new_frame(open_viewer, ct_series, qtbot):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(frame=0)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    first = int(vp.current_array()[0, 0])
    wheel(vp, -2)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    assert int(vp.current_array()[0, 0]) == first + 20  # slices are sorted by position: +10 per slice
    before = vp.image.paints
    vp.canvas.viewport().repaint()
    assert vp.image.paints > before


def test_left_drag_window_level(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    c0, w0 = vp.state.center, vp.state.width
    x, y = centre(vp)
    drag(vp, (x, y), (x + 60, y))
    assert vp.state.width > w0
    assert vp.state.center == pytest.approx(c0)
    c1 = vp.state.center
    drag(vp, (x, y), (x, y + 40))
    assert vp.state.center > c1
    lo, hi = vp.image.levels if vp.image.levels is not None else vp._last_levels
    w = vp.state.width
    assert hi - lo == pytest.approx(w, abs=1.001)  # slope 1: the level span is the width in stored units


def test_right_drag_zoom_and_middle_drag_pan(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    fit = vp.fit_zoom()
    x, y = centre(vp)
    drag(vp, (x, y), (x, y - 50), Qt.RightButton)
    assert vp.state.zoom > fit
    r0 = vp.view.viewRange()
    drag(vp, (x, y), (x + 40, y + 30), Qt.MiddleButton)
    assert vp.state.pan is not None
    assert vp.view.viewRange() != r0
    # the image point under the cursor stays under the cursor while panning
    key(vp, Qt.Key_F)
    assert vp.state.zoom is None and vp.state.pan is None
    key(vp, Qt.Key_N)
    assert vp.state.zoom == 1.0


def test_presets_auto_invert(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    presets = vp.presets()
    names = [p.name.lower() for p in presets]
    assert any("lung" in n for n in names)
    lung = next(i for i, n in enumerate(names) if "lung" in n)
    key(vp, Qt.Key_1 + lung)
    assert vp.state.width == pytest.approx(presets[lung].window.width)
    assert vp.state.center == pytest.approx(presets[lung].window.center)
    key(vp, Qt.Key_A)
    arr = vp.presentation.to_modality(vp.current_array())
    assert vp.state.width == pytest.approx(float(arr.max() - arr.min()), rel=0.05)
    key(vp, Qt.Key_I)
    assert vp.state.invert
    assert vp.image.lut is not None
    assert "inv" in corner_texts(vp)["bottom_right"][0]


def test_rotate_and_flip_change_orientation_letters(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    assert orientation_texts(vp) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    key(vp, Qt.Key_R)
    assert vp.state.rotation == 90
    assert orientation_texts(vp)["right"] == "A"
    key(vp, Qt.Key_R, Qt.ShiftModifier)
    key(vp, Qt.Key_H)
    assert orientation_texts(vp)["left"] == "L"
    key(vp, Qt.Key_V)
    assert orientation_texts(vp)["top"] == "P"
    key(vp, Qt.Key_Escape)  # nothing to cancel: Esc leaves the view alone (issue 10)
    assert (vp.state.flip_h, vp.state.flip_v) == (True, True)
    vp.reset()  # the Reset button
    assert (vp.state.rotation, vp.state.flip_h, vp.state.flip_v) == (0, False, False)


def test_rotation_maps_mouse_to_the_same_image_point(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    p = vp.widget_point((10.5, 20.5))
    q = vp.image_point(p)
    assert (q.x(), q.y()) == pytest.approx((10.5, 20.5), abs=1)
    key(vp, Qt.Key_R)
    p = vp.widget_point((10.5, 20.5))
    q = vp.image_point(p)
    assert (q.x(), q.y()) == pytest.approx((10.5, 20.5), abs=1)


def test_annotations_corners_and_scale_bar(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    t = corner_texts(vp)
    assert "Test Patient" in t["top_left"][0] and "F" in t["top_left"][0] and "42Y" in t["top_left"][0]
    assert "P123" in t["top_left"] and "Test Hospital" in t["top_left"]
    assert "2024-01-02" in t["top_right"] and "Chest CT" in t["top_right"]
    assert t["bottom_left"][0] == f"Im {vp.state.frame + 1}/12 (#{vp.state.frame + 1})"
    assert any("Thk 2.0 mm" in line for line in t["bottom_left"])
    assert t["bottom_right"][0].startswith("W 400  L 40")
    mm, px = scale_bar(vp)
    assert mm > 0 and px == pytest.approx(mm * vp.effective_zoom() / 0.7)
    key(vp, Qt.Key_O)
    assert not vp.state.overlay


def test_probe_reports_stored_hu_and_position(open_viewer, ct_series, qtbot):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(frame=0)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    pos = vp.widget_point((3.5, 5.5))
    hover(vp, (pos.x(), pos.y()))
    pr = vp.probe
    assert (pr["column"], pr["row"]) == (3, 5)
    assert pr["value"] == pytest.approx(3 + 5 - 100) and pr["unit"] == "HU"
    assert pr["stored"] == 3 + 5 + 924
    # ImagePositionPatient (-16, -16, z0), spacing (row 0.5, column 0.7)
    assert pr["position_mm"][0] == pytest.approx(-16 + 3 * 0.7)
    assert pr["position_mm"][1] == pytest.approx(-16 + 5 * 0.5)
    assert any("HU" in line for line in corner_texts(vp)["bottom_left"])


def test_distance_tool_in_mm_on_ct_small(open_viewer, testdata):
    win = open_viewer([testdata("CT_small.dcm")])
    vp = win.active
    key(vp, Qt.Key_D)
    assert vp.state.tool == "distance"
    a, b = vp.widget_point((10, 20)), vp.widget_point((50, 20))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    items = vp.measurements.on(vp.frame_key)
    assert len(items) == 1
    m = items[0]
    length_px = math.dist(m.points[0], m.points[1])
    spacing = vp.spacing()
    assert spacing == pytest.approx((0.661468, 0.661468))
    label = measurement_label(vp, m)
    assert label.endswith("mm")
    assert float(label.split()[0]) == pytest.approx(length_px * 0.661468, abs=0.1)
    # the tool stays selected: a second drag makes a second measurement
    drag(vp, (a.x(), a.y() + 30), (b.x(), b.y() + 30))
    assert len(vp.measurements.on(vp.frame_key)) == 2
    assert vp.state.tool == "distance"


def test_distance_without_spacing_says_px(open_viewer, tmp_path):
    from viewer_data import write_ct_series

    paths = write_ct_series(tmp_path / "nosp", 2, spacing=(1.0, 1.0))
    import pydicom

    for p in paths:
        ds = pydicom.dcmread(p)
        del ds.PixelSpacing
        ds.save_as(p)
    win = open_viewer([paths])
    vp = win.active
    assert vp.spacing() is None
    assert scale_bar(vp) is None
    win.set_tool("distance")
    a, b = vp.widget_point((5, 5)), vp.widget_point((35, 5))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    label = measurement_label(vp, vp.measurements.on(vp.frame_key)[0])
    assert "px" in label and "mm" not in label


def test_angle_and_rois(open_viewer, ct_series, qtbot):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(frame=0)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    win.set_tool("angle")
    p0, v, p2 = vp.widget_point((40, 10)), vp.widget_point((10, 10)), vp.widget_point((10, 40))
    drag(vp, (p0.x(), p0.y()), (v.x(), v.y()))
    click(vp, (p2.x(), p2.y()))
    m = vp.measurements.on(vp.frame_key)[0]
    assert m.kind == "angle"
    assert float(measurement_label(vp, m).rstrip("°")) == pytest.approx(90, abs=3)
    win.set_tool("rectangle")
    a, b = vp.widget_point((2, 2)), vp.widget_point((12, 12))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    rect = vp.measurements.on(vp.frame_key)[-1]
    label = measurement_label(vp, rect)
    assert "mean" in label and "SD" in label and "min" in label and "max" in label and "mm²" in label
    # frame 0, outside the disc: HU = c + r - 100, minimum at the ROI's top-left pixel
    mn = float(label.split("min ")[1].split()[0])
    assert mn == pytest.approx(math.floor(rect.points[0][0]) + math.floor(rect.points[0][1]) - 100, abs=2)
    win.set_tool("ellipse")
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    assert vp.measurements.on(vp.frame_key)[-1].kind == "ellipse"


def test_measurements_stay_with_their_image(open_viewer, ct_series, qtbot):
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(frame=2)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    win.set_tool("distance")
    a, b = vp.widget_point((5, 5)), vp.widget_point((25, 25))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    key2 = vp.frame_key
    assert len(vp.measurements.on(key2)) == 1
    wheel(vp, -3)
    assert vp.measurements.on(vp.frame_key) == []
    wheel(vp, 3)
    assert vp.frame_key == key2 and len(vp.measurements.on(vp.frame_key)) == 1
    key(vp, Qt.Key_Delete)  # nothing selected: nothing deleted
    assert len(vp.measurements.on(vp.frame_key)) == 1
    mid = vp.widget_point((15, 15))
    click(vp, (mid.x(), mid.y()))  # select it
    key(vp, Qt.Key_Delete)
    assert vp.measurements.on(vp.frame_key) == []


def test_multiframe_and_cine(open_viewer, testdata, qtbot):
    win = open_viewer([testdata("emri_small.dcm")])
    vp = win.active
    assert vp.state.n_frames == 10
    vp.state.update(frame=0)
    wheel(vp, -1)
    assert vp.state.frame == 1
    key(vp, Qt.Key_Plus)
    fps = vp.state.fps
    assert fps > 15
    key(vp, Qt.Key_Space)
    assert vp.state.playing and win.play_action.isChecked()
    qtbot.waitUntil(lambda: vp.state.frame >= 4, timeout=3000)
    key(vp, Qt.Key_Space)
    assert not vp.state.playing


def test_export_png_with_and_without_annotations(open_viewer, ct_series, tmp_path):
    from PySide6 import QtGui

    win = open_viewer([ct_series])
    with_ann, without = tmp_path / "a.png", tmp_path / "b.png"
    assert win.export_png(str(with_ann), True)
    assert win.export_png(str(without), False)
    a, b = QtGui.QImage(str(with_ann)), QtGui.QImage(str(without))
    assert a.size() == b.size() and not a.isNull()
    assert a != b
    win.active.copy_to_clipboard(False)
    assert not QtGui.QGuiApplication.clipboard().pixmap().isNull()


def test_overlay_planes_are_drawn_on_the_image_and_toggle(open_viewer, testdata, qtbot):
    """MR-SIEMENS-DICOM-WithOverlays.dcm has a graphics plane in 6000: drawn above the image where its bits are
    set, hidden by Shift+O and the toolbar, shown again; a file without planes draws none."""
    import numpy as np
    import pydicom

    path = testdata("MR-SIEMENS-DICOM-WithOverlays.dcm")
    win = open_viewer([path])
    vp = win.active
    assert vp.has_planes and vp.planes.isVisible()
    mask = np.asarray(pydicom.dcmread(path, stop_before_pixels=True).overlay_array(0x6000)).astype(bool)
    drawn = vp.planes.image[..., 3] > 0
    assert drawn.shape == mask.shape and (drawn == mask).all()
    assert vp.planes.zValue() > vp.image.zValue()
    key(vp, Qt.Key_O, Qt.ShiftModifier)
    assert not vp.state.planes and not vp.planes.isVisible() and vp.state.overlay  # annotations untouched
    assert not win.planes_action.isChecked()
    win.planes_action.trigger()
    assert vp.state.planes and vp.planes.isVisible()
    other = open_viewer([testdata("CT_small.dcm")])
    assert not other.active.has_planes and not other.active.planes.isVisible()


def test_measurements_are_there_when_the_series_is_opened_again(open_viewer, ct_series, qtbot, tmp_path):
    """With the archive's settings (the app and `workstation view`), measurements are kept in its data dir."""
    from workstation.config import Settings
    from workstation.gui.viewer.window import ViewerWindow

    settings = Settings(data_dir=tmp_path / "archive")
    win = ViewerWindow([ct_series], settings=settings)
    qtbot.addWidget(win)
    win.resize(900, 700)
    win.show()
    qtbot.waitUntil(lambda: win.is_loaded and win.active.current_array() is not None, timeout=15000)
    vp = win.active
    vp.state.update(frame=3)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    win.set_tool("rectangle")
    a, b = vp.widget_point((4, 4)), vp.widget_point((20, 30))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    frame_key = vp.frame_key
    assert len(vp.measurements.on(frame_key)) == 1
    win.close()
    assert (tmp_path / "archive" / "measurements.json").exists()

    from workstation.gui.viewer.measure import MeasurementStore

    MeasurementStore._shared.clear()  # as a new process would: read from the file
    win2 = ViewerWindow([ct_series], settings=settings)
    qtbot.addWidget(win2)
    win2.show()
    qtbot.waitUntil(lambda: win2.is_loaded and win2.active.current_array() is not None, timeout=15000)
    vp2 = win2.active
    vp2.state.update(frame=3)
    kept = vp2.measurements.on(frame_key)
    assert len(kept) == 1 and kept[0].kind == "rectangle"
    assert kept[0].points == vp.measurements.on(frame_key)[0].points
    win2.close()


def test_a_selected_measurements_point_can_be_dragged_and_the_edit_is_kept(open_viewer, ct_series, qtbot, tmp_path):
    from workstation.gui.viewer.measure import MeasurementStore

    win = open_viewer([ct_series])
    vp = win.active
    store = MeasurementStore(path=tmp_path / "m.json")
    vp.measurements = store
    win.set_tool("distance")
    a, b = vp.widget_point((5, 5)), vp.widget_point((25, 5))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()))
    m = vp.measurements.on(vp.frame_key)[0]
    before = m.label(vp.spacing())
    # Select it (a click on it), then drag its end point down: the same measurement changes, nothing new is
    # drawn, the window is untouched.
    mid = vp.widget_point((15, 5))
    click(vp, (mid.x(), mid.y()))
    assert vp.selected is m
    c0, w0 = vp.state.center, vp.state.width
    end = vp.widget_point(m.points[1])
    target = vp.widget_point((25, 25))
    drag(vp, (end.x(), end.y()), (target.x(), target.y()))
    assert len(vp.measurements.on(vp.frame_key)) == 1 and vp.selected is m
    assert m.points[1] == pytest.approx((25, 25), abs=0.6) and m.points[0] == pytest.approx((5, 5), abs=0.6)
    assert m.label(vp.spacing()) != before
    assert (vp.state.center, vp.state.width) == (c0, w0)
    again = MeasurementStore(path=tmp_path / "m.json")
    again._load()
    assert again.on(vp.frame_key)[0].points[1] == pytest.approx((25, 25), abs=0.6)


def test_probe_follows_the_slice_under_a_still_cursor(open_viewer, ct_series, qtbot):
    """Scrolling by keyboard or wheel without moving the mouse: the probe reads the slice now shown."""
    win = open_viewer([ct_series])
    vp = win.active
    vp.state.update(frame=0)
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    pos = vp.widget_point((3.5, 5.5))
    hover(vp, (pos.x(), pos.y()))
    before = dict(vp.probe)
    for scroll in (lambda: key(vp, Qt.Key_Down), lambda: wheel(vp, -3, (pos.x(), pos.y()))):
        scroll()
        qtbot.waitUntil(lambda: vp.current_array() is not None)
        shown = vp.current_array()
        assert vp.probe["stored"] == shown[5, 3]
        assert vp.probe["position_mm"][2] != pytest.approx(before["position_mm"][2])
        assert any(str(vp.probe["stored"]) in line for line in corner_texts(vp)["bottom_left"])
        before = dict(vp.probe)
    assert vp.state.frame == 4


def test_a_frame_that_cannot_be_decoded_says_why_in_the_middle(open_viewer, tmp_path, qtbot):
    """A truncated file: not a black viewport with a clipped corner line, but the reason where the image would be
    (with annotations off too)."""
    import numpy as np

    from viewer_data import write_ct_series

    path = write_ct_series(tmp_path / "ct", 1, rows=128, cols=128)[0]
    data = Path(path).read_bytes()
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(data[: len(data) - 128 * 128])  # half of the pixel data
    win = open_viewer([str(broken)], wait_image=False)
    vp = win.active
    qtbot.waitUntil(lambda: bool(vp.frame_error), timeout=10000)
    text = frame_error_text(vp)
    assert text.startswith("Image 1 cannot be displayed.") and vp.frame_error[:40] in text
    assert "cannot decode" in corner_texts(vp)["bottom_right"]
    img = vp.grab_view(annotations=False).toImage().convertToFormat(QtGui.QImage.Format_Grayscale8)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width()]
    h, w = arr.shape
    assert arr[int(h * 0.3): int(h * 0.7), int(w * 0.1): int(w * 0.9)].max() > 150  # text drawn in the middle


def test_a_frame_that_cannot_be_decoded_never_shows_the_frame_before_it(qtbot, open_viewer, tmp_path):
    """Scrolled onto a truncated slice, the viewport shows why it cannot be displayed and nothing else: the slice
    before it stayed on the screen under the message, read as this one. Scrolled back, the image returns."""
    import numpy as np

    from viewer_data import write_ct_series

    paths = write_ct_series(tmp_path / "ct", 3, rows=128, cols=128)
    broken = Path(paths[1])
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) - 128 * 128])
    win = open_viewer(paths)
    vp = win.active

    def brightest_outside_the_message() -> int:
        img = vp.grab_view(annotations=False).toImage().convertToFormat(QtGui.QImage.Format_Grayscale8)
        arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width()]
        h, w = arr.shape
        return int(max(arr[: int(h * 0.15)].max(), arr[int(h * 0.85):].max()))

    start = vp.state.frame
    assert brightest_outside_the_message() > 60  # the ramp of a good slice
    target = next(i for i in range(len(vp.stack)) if Path(vp.stack.source(i).path) == broken)
    vp.scroll(target - start)
    qtbot.waitUntil(lambda: bool(vp.frame_error), timeout=10000)
    assert brightest_outside_the_message() == 0 and frame_error_text(vp)
    vp.scroll(start - target)
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=10000)
    assert brightest_outside_the_message() > 60 and not vp.frame_error


def test_a_frame_slow_to_load_does_not_leave_the_one_before_it_on_the_screen(qtbot, open_viewer, tmp_path):
    """Scrolling onto a frame that takes long to decode: the frame before it stays a moment (a scroll through
    quickly decoded frames never flickers), then leaves the screen until this one has come."""
    import threading

    import numpy as np

    from viewer_data import write_ct_series
    from workstation.gui.viewer.viewport import STALE_MS
    from workstation.imaging import open_series

    paths = write_ct_series(tmp_path / "ct", 3, rows=128, cols=128)
    win = open_viewer(paths)
    vp = win.active
    (stack,) = open_series(paths)
    come = threading.Event()
    decode = stack._decode
    stack._decode = lambda index: decode(index) if index == 0 else (come.wait(10), decode(index))[1]
    vp.set_stack(stack, dict(vp.header), frame=0)
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=10000)

    def brightest() -> int:
        img = vp.grab_view(annotations=False).toImage().convertToFormat(QtGui.QImage.Format_Grayscale8)
        return int(np.frombuffer(img.constBits(), np.uint8).max())

    assert brightest() > 60
    vp.scroll(1)
    assert vp.current_array() is None and brightest() > 60  # at once: still the frame before
    qtbot.wait(STALE_MS + 100)
    assert brightest() == 0 and vp.current_array() is None
    come.set()
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=10000)
    assert brightest() > 60 and vp.state.frame == 1


def test_series_line_without_a_series_number(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    assert "Se 1  Axial 1" in corner_texts(vp)["top_right"]
    vp.header["SeriesNumber"] = ""
    assert corner_texts(vp)["top_right"][-1] == "Axial 1"  # no bare "Se" before the description
