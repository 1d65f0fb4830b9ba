"""The MPR window on a sphere phantom (spheres at known patient coordinates): opened from the viewer (key M), the
crosshair moved by a click, oblique planes, slabs, W/L across planes, refusal with a reason, memory freed."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from PySide6 import QtCore

from tests.imaging import phantoms as ph

Qt = QtCore.Qt
SPHERE = ph.DEFAULT_SPHERES[0]  # centre (12, -8, 20) mm, radius 9 mm


@pytest.fixture
def mpr(open_viewer, qtbot, tmp_path):
    win = open_viewer([str(p) for p in ph.regular(tmp_path / "ax", n=40, gap=1.5, shuffle=False)])
    qtbot.keyClick(win.active.canvas, Qt.Key_M)
    from workstation.gui.mpr.launch import _OPEN

    qtbot.waitUntil(lambda: bool(_OPEN), timeout=5000)
    m = next(iter(_OPEN))
    qtbot.waitUntil(lambda: m.state is not None, timeout=30000)
    qtbot.waitUntil(lambda: all(vp.current_array() is not None for vp in m.views.values()), timeout=30000)
    yield m
    if not m._closed:
        m.close()


def shown_point(m, view):
    """The patient point of the crosshair mark drawn in ``view`` (its plane, its pixel)."""
    vp = m.views[view]
    frame, r, c = vp.cursor_mark
    assert frame == vp.state.frame
    return m.planes[view].plane(frame).pixel_to_patient(r, c)


def test_a_click_moves_the_crosshair_to_the_same_patient_point_in_every_plane(mpr, qtbot):
    m = mpr
    axial = m.views["axial"]
    # The axial plane through the sphere's centre, then a click on the sphere's centre pixel.
    axial.state.update(frame=m.planes["axial"].index_of(SPHERE.centre))
    qtbot.wait(50)
    r, c, _d = m.planes["axial"].plane(axial.state.frame).patient_to_pixel(np.array(SPHERE.centre))
    pos = axial.widget_point((c + 0.5, r + 0.5)).toPoint()
    qtbot.mouseClick(axial.canvas.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    qtbot.wait(50)
    point = m.state.point
    assert np.linalg.norm(point[:2] - np.array(SPHERE.centre[:2])) < 1.5  # within a pixel of the click
    for view in ("axial", "coronal", "sagittal"):
        p = shown_point(m, view)
        n = m.planes[view].plane(m.views[view].state.frame).normal
        in_plane = (p - point) - ((p - point) @ n) * n
        assert np.linalg.norm(in_plane) <= 0.1, (view, p, point)
        assert abs((p - point) @ n) <= 0.75 + 1e-6  # the plane shown is the nearest one (1.5 mm steps)
    # Each plane shows the sphere there: its centre pixel is inside the sphere (1000 HU).
    for view, vp in m.views.items():
        frame, r, c = vp.cursor_mark
        assert vp.current_array()[int(round(r)), int(round(c))] > 500, view


def test_scrolling_a_plane_moves_the_point_along_its_normal(mpr, qtbot):
    m = mpr
    before = m.state.point.copy()
    cor = m.views["coronal"]
    cor.state.update(frame=cor.state.frame + 4)
    qtbot.wait(20)
    moved = m.state.point - before
    plane = m.planes["coronal"].plane(cor.state.frame)
    n = plane.normal
    assert abs((m.state.point - np.asarray(plane.image_position)) @ n) < 1e-6  # on the plane scrolled to
    assert abs(abs(moved @ n) - 4 * m.planes["coronal"].slice_spacing) <= 0.75 + 1e-6
    assert np.linalg.norm(moved - (moved @ n) * n) < 1e-6  # only along the normal
    assert m.views["axial"].reference_lines  # the coronal line moved on the axial image


def test_turning_the_axes_makes_oblique_planes(mpr, qtbot):
    m = mpr
    old = {v: m.planes[v].normal.copy() for v in ("coronal", "sagittal")}
    m.turn("axial", 30.0)
    qtbot.waitUntil(lambda: not m._turned, timeout=3000)
    for v in ("coronal", "sagittal"):
        cos = float(abs(m.planes[v].normal @ old[v]))
        assert np.degrees(np.arccos(min(1.0, cos))) == pytest.approx(30.0, abs=0.01)
        assert abs(m.planes[v].normal @ m.planes["axial"].normal) < 1e-9  # still perpendicular to the axial
    assert m.state.is_oblique()
    m.reset()
    assert not m.state.is_oblique()


def test_a_mip_slab_is_brighter_than_its_average_at_a_sphere_edge(mpr, qtbot):
    m = mpr
    # An axial plane 7 mm above the centre of the sphere (radius 9): a 10 mm MIP reaches the sphere's bigger
    # cross-section below, the average dilutes it.
    m.state.set_point(np.array(SPHERE.centre) + np.array([0.0, 0.0, 7.0]))
    ax = m.views["axial"]

    def pixels(mode):
        m.mode_box.setCurrentIndex(m.mode_box.findData(mode))
        m.slab_box.setValue(10.0)
        qtbot.waitUntil(lambda: ax.stack.mode == mode and ax.current_array() is not None, timeout=10000)
        return ax.current_array().copy()

    mip, avg = pixels("mip"), pixels("avg")
    frame, r, c = ax.cursor_mark
    ring = (int(round(r)) + 5, int(round(c)))  # 7.5 mm from the axis: outside the sphere here, inside 5 mm below
    assert mip[ring] > avg[ring] + 100
    assert (mip >= avg - 1e-3).all()
    assert ax.stack.geometry(frame).slice_thickness == 10.0


def test_window_level_follows_across_the_planes(mpr):
    m = mpr
    m.views["sagittal"].state.update(center=40.0, width=400.0)
    for v in ("axial", "coronal"):
        assert (m.views[v].state.center, m.views[v].state.width) == (40.0, 400.0)


def test_a_series_that_cannot_be_reconstructed_says_why(qtbot, tmp_path):
    from tests.gui.viewer.test_hanging import mammogram
    from workstation import imaging
    from workstation.gui.mpr.window import MPRWindow

    stacks = imaging.open_series(mammogram(tmp_path / "mg", "20240101", "1.2.9.9"))
    m = MPRWindow(stacks[:1], {})
    m.show()
    with qtbot.waitSignal(m.failed, timeout=10000) as sig:
        pass
    assert sig.args[0] and "MPR is not possible for this series: " + sig.args[0] == m.message.text()
    assert m.state is None and not m.views
    m.close()


def test_closing_frees_the_volume(open_viewer, qtbot, tmp_path):
    win = open_viewer([str(p) for p in ph.regular(tmp_path / "ax", n=40, gap=1.5, shuffle=False)])
    m = win.open_mpr()
    qtbot.waitUntil(lambda: m.state is not None, timeout=30000)
    volume = weakref.ref(m.volume)
    planes = [weakref.ref(p) for p in m.planes.values()]
    m.close()
    # A render or reslice running at close ends first (its thread holds the volume until then): on a loaded
    # machine the first 3D frame takes seconds.
    for _ in range(300):
        qtbot.wait(50)
        gc.collect()
        if volume() is None and all(p() is None for p in planes):
            break
    assert volume() is None and all(p() is None for p in planes)


def test_ctrl_drag_around_the_crosshair_turns_the_other_planes(mpr, qtbot):
    m = mpr
    ax = m.views["axial"]
    frame, r, c = ax.cursor_mark
    centre = ax.widget_point((c + 0.5, r + 0.5))
    start = (centre + QtCore.QPointF(60, 0)).toPoint()
    end = (centre + QtCore.QPointF(0, 60)).toPoint()  # a quarter turn around the crosshair on the screen
    old = m.planes["coronal"].normal.copy()
    before = m.state.point.copy()
    view = ax.canvas.viewport()
    qtbot.mousePress(view, Qt.LeftButton, Qt.ControlModifier, start)
    for k in range(1, 11):
        t = np.radians(9 * k)
        p = centre + QtCore.QPointF(60 * np.cos(t), 60 * np.sin(t))
        qtbot.mouseMove(view, p.toPoint())
    qtbot.mouseRelease(view, Qt.LeftButton, Qt.ControlModifier, end)
    qtbot.waitUntil(lambda: not m._turned, timeout=3000)
    turned = np.degrees(np.arccos(min(1.0, abs(float(m.planes["coronal"].normal @ old)))))
    assert turned == pytest.approx(90.0, abs=3.0)
    assert np.allclose(m.state.point, before)  # turning leaves the crosshair where it was


MOVED = ph.Sphere((5.0, 5.0, 30.0), 8.0)  # the sphere of time point 1; time point 2 holds DEFAULT_SPHERES


def test_a_4d_series_shows_each_time_point_at_the_same_crosshair(qtbot, tmp_path):
    from workstation import imaging
    from workstation.gui.mpr.window import MPRWindow

    stacks = imaging.open_series(sorted(ph.four_d(tmp_path / "4d", ((MOVED,), ph.DEFAULT_SPHERES))))
    m = MPRWindow(stacks, {})
    m.show()
    qtbot.waitUntil(lambda: m.state is not None, timeout=30000)
    assert m.phase_box.isVisibleTo(m) and m.phase_box.maximum() == 2 and m.phase_box.value() == 1
    assert "time point 1 of 2" in m.warning.text()
    m.state.set_point(np.array(MOVED.centre))

    def at_crosshair(view):
        vp = m.views[view]
        frame, r, c = vp.cursor_mark
        return vp.current_array()[int(round(r)), int(round(c))]

    for view in m.views:
        qtbot.waitUntil(lambda v=view: m.views[v].current_array() is not None and at_crosshair(v) > 500,
                        timeout=10000)
    first = m.volume
    m.phase_box.setValue(2)
    qtbot.waitUntil(lambda: m.volume is not first and m.volume.phase == 1, timeout=30000)
    assert np.allclose(m.state.point, MOVED.centre)  # the crosshair stays put
    assert "time point 2 of 2" in m.warning.text()
    for view in m.views:  # the moved sphere is gone there at time point 2 (17 mm from the nearest sphere)
        qtbot.waitUntil(lambda v=view: m.views[v].current_array() is not None and at_crosshair(v) < 500,
                        timeout=10000)
    m.state.set_point(np.array(ph.DEFAULT_SPHERES[0].centre))
    qtbot.waitUntil(lambda: m.views["axial"].current_array() is not None and at_crosshair("axial") > 500,
                    timeout=10000)
    old = weakref.ref(first)
    del first
    m.close()
    for _ in range(20):
        qtbot.wait(20)
        gc.collect()
        if old() is None:
            break
    assert old() is None


def test_a_single_time_point_series_has_no_time_point_box(mpr):
    assert not mpr.phase_box.isVisibleTo(mpr)


@pytest.mark.skipif(not __import__("workstation.imaging.reslice", fromlist=["x"]).vtk_available(),
                    reason="VTK not installed")
def test_the_3d_clip_box_keeps_only_what_lies_inside(mpr, qtbot):
    v3 = mpr.view3d
    qtbot.waitUntil(lambda: v3.last_rgb is not None, timeout=30000)
    bounds = v3.volume_bounds()

    def blob_column():
        """Column fraction of the rendered blob's centre."""
        mask = v3.last_rgb.max(axis=2) > 20
        assert mask.any(), "nothing rendered"
        return np.nonzero(mask)[1].mean() / mask.shape[1]

    def clip_x(lo, hi):
        before = v3.last_rgb
        v3.clip_sliders[0].setValue((lo, hi))
        qtbot.waitUntil(lambda: v3.last_rgb is not before and v3._renderer is not None
                        and v3._renderer._clip is not None and v3._renderer._clip[:2] == (lo, hi)
                        and not v3._busy, timeout=30000)
        return blob_column()

    assert not v3.clip_panel.isVisibleTo(v3)
    v3.clip_button.setChecked(True)
    assert v3.clip_panel.isVisibleTo(v3)
    # x (LPS) grows to the patient's left: the right sphere (x = -20) alone, then the left one (x = +12) alone.
    right = clip_x(float(bounds[0, 0]), -2.0)
    left = clip_x(0.0, float(bounds[0, 1]))
    assert right < 0.5 < left  # anterior view: the patient's right on the picture's left
    assert v3.clip[2:] == tuple(float(b) for b in bounds[1:].ravel())  # the other axes keep the whole volume
    v3.clip_button.setChecked(False)
    qtbot.waitUntil(lambda: v3._renderer._clip is None and not v3._busy, timeout=30000)
    assert v3.clip is None


def test_turned_planes_follow_during_a_continuous_drag(mpr, qtbot):
    """Regression: the turned planes were rebuilt only once the drag paused for 30 ms (a timer restarted by every
    mouse event), so they stood still while the reader dragged (0.5 planes a second in bench_mpr)."""
    m = mpr
    ax = m.views["axial"]
    frame, r, c = ax.cursor_mark
    centre = ax.widget_point((c + 0.5, r + 0.5))
    view = ax.canvas.viewport()
    rebuilt = []
    m.views["coronal"].imageShown.connect(lambda: rebuilt.append(m.planes["coronal"]))
    qtbot.mousePress(view, Qt.LeftButton, Qt.ControlModifier, (centre + QtCore.QPointF(60, 0)).toPoint())
    for k in range(1, 41):  # a mouse event every 10 ms, never a pause of 30 ms
        t = np.radians(2 * k)
        qtbot.mouseMove(view, (centre + QtCore.QPointF(60 * np.cos(t), 60 * np.sin(t))).toPoint())
        qtbot.wait(10)
    during = len({id(p) for p in rebuilt})
    qtbot.mouseRelease(view, Qt.LeftButton, Qt.ControlModifier, (centre + QtCore.QPointF(0, 60)).toPoint())
    assert during >= 3, during  # several turned coronal planes shown while the mouse was still moving


def test_turned_planes_are_rebuilt_at_the_pace_they_are_shown(mpr, qtbot, monkeypatch):
    """A turn rebuilds the turned planes once the previous rebuild is on the screen, not on a clock: with a
    fixed 15 ms timer they were capped near 31 a second on a fast machine and queued faster than shown on a slow
    one (here: each reslice made to take 40 ms)."""
    import time

    from workstation.gui.mpr import preview

    real_job = preview.PreviewPlaneStack._job

    def slow_job(self, index):
        time.sleep(0.04)
        return real_job(self, index)

    monkeypatch.setattr(preview.PreviewPlaneStack, "_job", slow_job)
    m = mpr
    ax = m.views["axial"]
    frame, r, c = ax.cursor_mark
    centre = ax.widget_point((c + 0.5, r + 0.5))
    view = ax.canvas.viewport()
    built, shown = [], []
    real_set = m._set_plane_stack
    monkeypatch.setattr(m, "_set_plane_stack", lambda v: (built.append(v), real_set(v)))
    m.views["coronal"].imageShown.connect(lambda: shown.append(m.planes["coronal"]))
    qtbot.mousePress(view, Qt.LeftButton, Qt.ControlModifier, (centre + QtCore.QPointF(60, 0)).toPoint())
    for k in range(1, 41):  # 40 mouse events 10 ms apart
        t = np.radians(2 * k)
        qtbot.mouseMove(view, (centre + QtCore.QPointF(60 * np.cos(t), 60 * np.sin(t))).toPoint())
        qtbot.wait(10)
    rebuilt = built.count("coronal")
    qtbot.mouseRelease(view, Qt.LeftButton, Qt.ControlModifier, (centre + QtCore.QPointF(0, 60)).toPoint())
    assert len({id(p) for p in shown}) >= 3  # the turned plane followed the drag
    assert rebuilt <= 12, rebuilt  # ~one per 40 ms reslice, not one per 15 ms timer or per mouse event
    qtbot.waitUntil(lambda: not m._turned and not m._in_flight, timeout=5000)
    assert m.planes["coronal"].normal @ m.state.plane("coronal").normal == pytest.approx(1.0)  # the last turn shows


def test_the_3d_view_renders_after_the_planes_show(qtbot, tmp_path, monkeypatch):
    """The 3D renderer's set-up competed with the planes' first paints for the GIL (a 126 ms GUI stall on a first
    opening): its first picture is asked for once the three planes are on the screen."""
    from workstation import imaging
    from workstation.gui.mpr import view3d
    from workstation.gui.mpr.window import MPRWindow

    asked = []
    real_request = view3d.View3D.request

    def request(self, *args, **kwargs):
        m = self.window()
        asked.append(all(vp.current_array() is not None for vp in m.views.values()) and len(m.views) == 3)
        return real_request(self, *args, **kwargs)

    monkeypatch.setattr(view3d.View3D, "request", request)
    stacks = imaging.open_series([str(p) for p in ph.regular(tmp_path / "ax", n=40, gap=1.5, shuffle=False)])
    m = MPRWindow(stacks, {})
    m.show()
    qtbot.waitUntil(lambda: m.view3d is not None and m.view3d.last_rgb is not None or bool(m.view3d and
                                                                                           m.view3d.error),
                    timeout=30000)
    assert asked and asked[0], asked
    m.close()


def test_closing_while_the_views_are_built_leaves_nothing_running(qtbot, tmp_path, monkeypatch):
    """The views are built in steps a timer turn apart: a window closed between two steps builds no more (no
    exception from a later step) and lets go of the volume."""
    from workstation import imaging
    from workstation.gui.mpr.window import MPRWindow

    stacks = imaging.open_series([str(p) for p in ph.regular(tmp_path / "ax", n=40, gap=1.5, shuffle=False)])
    m = MPRWindow(stacks, {})
    real_add = m._add_view
    steps_left = []

    def add_then_close(k, view):
        real_add(k, view)
        steps_left.append(len(m._build_steps))
        m.close()  # the reader closes the window after the first plane's view was made

    monkeypatch.setattr(m, "_add_view", add_then_close)
    m.show()
    qtbot.waitUntil(lambda: m._closed, timeout=30000)
    qtbot.wait(300)
    assert steps_left == [4]  # closed with the other two views, the 3D view and the rest still to come
    assert m.state is None and m._building is None and not m.views and m.view3d is None


def test_turning_keeps_the_zoom_and_the_crosshair_on_the_screen(mpr, qtbot):
    m = mpr
    cor = m.views["coronal"]
    cor.state.update(zoom=3.0, pan=(20.0, 15.0))
    qtbot.wait(50)  # the view applies zoom and pan when it lays out
    _f, r, c = cor.cursor_mark
    before = cor.widget_point((c + 0.5, r + 0.5))
    m.turn("axial", 20.0)
    qtbot.waitUntil(lambda: not m._turned, timeout=3000)
    qtbot.wait(50)
    assert cor.state.zoom == 3.0 and m.planes["coronal"].columns != 48  # a wider plane, turned
    _f, r, c = cor.cursor_mark
    after = cor.widget_point((c + 0.5, r + 0.5))
    assert abs(after.x() - before.x()) < 1.0 and abs(after.y() - before.y()) < 1.0


def test_upsampled_preview_pixels_sit_where_the_coarse_samples_are():
    from workstation.gui.mpr.preview import upsample

    rows, cols = 9, 7
    coarse = (np.arange(5)[:, None] * 2 * 100 + np.arange(4)[None, :] * 2).astype(np.float32)  # value = 100r + c
    full = upsample(coarse, rows, cols)
    assert full.shape == (rows, cols)
    r, c = np.mgrid[0:rows, 0:cols]
    assert (np.abs(full // 100 - r) <= 1).all() and (np.abs(full % 100 - c) <= 1).all()
    assert (full[::2, ::2] == coarse[:, :4]).all()  # every coarse sample on its own full pixel


def test_a_slab_drag_shows_half_resolution_previews_then_the_full_plane(mpr, qtbot):
    m = mpr
    m.mode_box.setCurrentIndex(m.mode_box.findData("mip"))
    m.slab_box.setValue(10.0)
    cor = m.views["coronal"]
    qtbot.waitUntil(lambda: cor.stack.slab_mm == 10.0 and cor.current_array() is not None, timeout=10000)
    m.start_preview()
    m.state.set_point(np.array(SPHERE.centre) + np.array([0.0, 4.5, 0.0]))  # the coronal plane moves (3 steps)
    qtbot.waitUntil(lambda: cor.current_array() is not None, timeout=10000)
    ps, frame = m.planes["coronal"], cor.state.frame
    assert ps.is_preview(frame)
    shown = cor.current_array()
    preview = shown.copy()
    full = ps.reslicer.reslice(ps.plane(frame), 10.0, "mip")
    assert preview.shape == full.shape and not np.array_equal(preview, full)
    assert np.abs(preview - full).mean() < 0.1 * np.abs(full - full.mean()).mean()  # the same picture, coarser
    m.end_preview()
    qtbot.waitUntil(lambda: cor.current_array() is not None and cor.current_array() is not shown, timeout=10000)
    assert not ps.is_preview(frame) and cor.state.frame == frame
    assert np.array_equal(cor.current_array(), full)  # after the drag: the full-resolution plane


def volume_messages(tmp_path) -> dict[str, str]:
    """name -> a message the real volume code gives (refusals and what it did to a series)."""
    from workstation import imaging
    from workstation.imaging import MemoryBudget
    from workstation.imaging.volume import NotReconstructable, build_volume, check_series, plan_volume

    def refusal(stacks, phase=0):
        try:
            build_volume(plan_volume(check_series(stacks)), phase)
        except NotReconstructable as exc:
            return str(exc)
        raise AssertionError("not refused")

    out = {}
    out["too few"] = refusal(imaging.open_series(ph.write_series(
        tmp_path / "few", ph.stack_positions((0, 0, 0), (0, 0, 2), 2), rows=16, cols=16)))
    regular = sorted(ph.regular(tmp_path / "ax", n=12, rows=16, cols=16))
    out["budget"] = refusal(imaging.open_series(regular, memory_budget=MemoryBudget(1000)))
    out["no time point"] = refusal(imaging.open_series(regular), phase=3)
    out["same positions"] = refusal(imaging.open_series(sorted(ph.write_series(
        tmp_path / "dup", ph.stack_positions((0, 0, 0), (0, 0, 2), 6) * 2, rows=16, cols=16))))
    out["tilt"] = plan_volume(check_series(imaging.open_series(sorted(
        ph.tilted(tmp_path / "tilt", 20, n=12, rows=16, cols=16))))).warnings[0]
    four = imaging.open_series(sorted(ph.four_d(tmp_path / "4d", ((MOVED,), ph.DEFAULT_SPHERES), n=6)))
    out["time point"] = build_volume(plan_volume(check_series(four)), 1).warnings[-1]
    return out


def test_volume_messages_are_shown_in_the_users_language(tmp_path, qtbot):
    from workstation.gui.core_text import core_text, match
    from workstation.gui.i18n import TRANSLATIONS

    messages = volume_messages(tmp_path)
    assert messages["tilt"] == "gantry tilt 20.0°, resampled" and messages["time point"] == "time point 2 of 2"
    unmatched = {k: v for k, v in messages.items() if match(v) is None}
    assert not unmatched, unmatched  # a reworded core message must get its template again
    app = QtCore.QCoreApplication.instance()
    translator = QtCore.QTranslator()
    assert translator.load("workstation_zh_CN", str(TRANSLATIONS))
    app.installTranslator(translator)
    try:
        shown = {k: core_text(v) for k, v in messages.items()}
        assert shown["too few"] == "图像太少（2 幅；容积至少需要 3 幅）"
        assert shown["tilt"] == "机架倾斜 20.0°，已重采样"
        assert shown["time point"] == "时相 2/2"
        assert shown["no time point"] == "没有时相 4（该序列共有 1 个）"
        assert "内存预算" in shown["budget"] and "memory_budget_fraction" in shown["budget"]
        assert shown["same positions"].startswith("同一位置有多幅图像")
        # The MPR window says it so: the refusal in Chinese.
        from workstation import imaging
        from workstation.gui.mpr.window import MPRWindow

        m = MPRWindow(imaging.open_series(sorted(ph.write_series(
            tmp_path / "few2", ph.stack_positions((0, 0, 0), (0, 0, 2), 2), rows=16, cols=16))), {})
        m.show()
        with qtbot.waitSignal(m.failed, timeout=10000):
            pass
        assert "图像太少（2 幅；容积至少需要 3 幅）" in m.message.text()
        m.close()
    finally:
        app.removeTranslator(translator)


def test_reset_puts_back_the_planes_the_slab_the_3d_angle_zoom_and_clip_box(mpr, qtbot):
    m = mpr
    v3 = m.view3d
    qtbot.waitUntil(lambda: v3.last_rgb is not None and not v3._busy, timeout=30000)
    first = v3.last_rgb.copy()
    m.turn("axial", 20.0)
    m.slab_box.setValue(8.0)
    v3.azimuth, v3.elevation, v3.zoom = 40.0, 25.0, 2.0
    v3.clip_button.setChecked(True)
    v3.clip_sliders[0].setValue((0.0, float(v3.volume_bounds()[0, 1])))
    qtbot.waitUntil(lambda: not v3._busy and v3._renderer._clip is not None, timeout=30000)
    m.reset()
    assert not m.state.is_oblique() and m.slab_box.value() == 0.0
    assert (v3.azimuth, v3.elevation, v3.zoom) == (0.0, 0.0, 1.0)
    assert v3.clip is None and not v3.clip_button.isChecked() and not v3.clip_panel.isVisibleTo(v3)
    assert v3.clip_sliders[0].value() == pytest.approx(tuple(float(b) for b in v3.volume_bounds()[0]))
    qtbot.waitUntil(lambda: not v3._busy and v3._renderer._clip is None, timeout=30000)
    qtbot.wait(100)
    qtbot.waitUntil(lambda: not v3._busy, timeout=30000)
    assert np.abs(v3.last_rgb.astype(int) - first.astype(int)).mean() < 2  # the first picture again
