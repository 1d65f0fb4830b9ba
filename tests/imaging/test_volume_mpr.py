"""MPR state, headless: the crosshair is one patient point in all three views (<= 0.1 mm), also after rotating
the axes; scrolling, axis lines and reference lines follow the geometry."""

from __future__ import annotations

import numpy as np
import pytest

from tests.imaging import phantoms as ph
from tests.imaging.test_volume import open_folder, sphere_fit
from workstation.imaging.geometry import FrameGeometry
from workstation.imaging.mpr import VIEWS, MPRState, plane_of, reference_line
from workstation.imaging.reslice import Reslicer
from workstation.imaging.volume import volume_from_stacks


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mpr")
    ph.regular(folder)
    return volume_from_stacks(open_folder(folder))


def assert_same_point_everywhere(state: MPRState):
    for view in VIEWS:
        r, c = state.crosshair(view)
        back = state.plane(view).pixel_to_patient(r, c)
        assert np.linalg.norm(back - state.point) <= 0.1, view
        assert abs(state.plane(view).patient_to_pixel(state.point)[2]) <= 0.1  # the plane passes through it


def test_click_moves_the_crosshair_in_every_view(volume):
    state = MPRState(volume)
    seen = []
    state.add_listener(lambda s: seen.append(s.point.copy()))
    state.click("axial", 10.0, 30.0)
    expected = state.plane("axial").pixel_to_patient(10.0, 30.0)
    assert np.allclose(state.point, expected) and len(seen) == 1
    assert_same_point_everywhere(state)
    state.click("sagittal", 5.5, 7.25)
    assert_same_point_everywhere(state)


def test_scroll_moves_along_the_view_normal_only(volume):
    state = MPRState(volume)
    coronal_before = state.plane("coronal")
    z = state.point[2]
    state.scroll("axial", 3.0)
    assert state.point[2] == pytest.approx(z + 3.0)
    assert state.plane("coronal") == coronal_before  # the coronal plane contains the move
    assert state.plane("axial").image_position[2] == pytest.approx(z + 3.0)


def test_rotated_axes_stay_linked(volume):
    state = MPRState(volume)
    state.click("axial", 20.0, 28.0)
    state.rotate("axial", 30.0)
    state.rotate("coronal", -20.0)
    assert state.is_oblique()
    normals = np.array([state.plane(v).normal for v in VIEWS])
    assert np.allclose(np.abs(normals @ normals.T), np.eye(3), atol=1e-9)  # still three perpendicular planes
    assert_same_point_everywhere(state)
    state.click("coronal", 12.0, 33.0)
    assert_same_point_everywhere(state)


def test_axial_rotation_turns_the_coronal_line(volume):
    state = MPRState(volume)
    (a, b) = state.axis_lines("axial")["coronal"]
    assert a[0] == pytest.approx(b[0])  # coronal cuts the axial image along a row
    (a, b) = state.axis_lines("axial")["sagittal"]
    assert a[1] == pytest.approx(b[1])  # sagittal along a column
    state.rotate("axial", 30.0)
    (a, b) = state.axis_lines("axial")["coronal"]
    slope = (b[0] - a[0]) / (b[1] - a[1])
    assert abs(slope) == pytest.approx(np.tan(np.radians(30)), rel=1e-6)
    r, c = state.crosshair("axial")
    assert (r - a[0]) == pytest.approx(slope * (c - a[1]))  # through the crosshair


def test_rotated_plane_shows_the_sphere_at_the_crosshair(volume):
    sphere = ph.DEFAULT_SPHERES[0]
    state = MPRState(volume)
    state.set_point(sphere.centre)
    state.rotate("axial", 35.0)
    state.rotate("sagittal", 25.0)
    rs = Reslicer(volume, "scipy")
    for view in VIEWS:
        plane = state.plane(view)
        centre, area = sphere_fit(rs.reslice(plane), plane, sphere)
        assert np.linalg.norm(centre - np.asarray(sphere.centre)) <= 1.0
        assert 0.9 < area < 1.1


def test_slab_settings_checked(volume):
    state = MPRState(volume)
    state.set_slab(10, "mip")
    assert (state.slab_mm, state.mode) == (10.0, "mip")
    with pytest.raises(Exception, match="unknown slab mode"):
        state.set_slab(5, "sum")
    state.reset()
    assert (state.slab_mm, state.is_oblique()) == (0.0, False)


def test_reference_line_of_a_coronal_on_an_axial_image():
    axial = plane_of(FrameGeometry((-100.0, -100.0, 10.0), (1, 0, 0, 0, 1, 0), (1.0, 1.0)), 200, 200)
    coronal = plane_of(FrameGeometry((-100.0, -20.0, 50.0), (1, 0, 0, 0, 0, -1), (1.0, 1.0)), 100, 200)
    (r0, c0), (r1, c1) = reference_line(coronal, axial)
    assert r0 == pytest.approx(80.0) and r1 == pytest.approx(80.0)  # y = -20 is row 80
    assert (c0, c1) == (-0.5, 199.5)
    # Parallel planes have no line; a plane outside the image neither.
    assert reference_line(axial, plane_of(FrameGeometry((-100.0, -100.0, 30.0), (1, 0, 0, 0, 1, 0), (1.0, 1.0)),
                                          200, 200)) is None
    far = plane_of(FrameGeometry((-100.0, 500.0, 50.0), (1, 0, 0, 0, 0, -1), (1.0, 1.0)), 100, 200)
    assert reference_line(far, axial) is None
    assert plane_of(FrameGeometry(None, (1, 0, 0, 0, 1, 0), (1.0, 1.0)), 10, 10) is None


def test_oblique_reference_line_passes_through_shared_points():
    axial = plane_of(FrameGeometry((-50.0, -50.0, 0.0), (1, 0, 0, 0, 1, 0), (0.5, 0.5)), 200, 200)
    t = np.radians(30)
    oblique = plane_of(FrameGeometry((-50.0, 0.0, 0.0), (1, 0, 0, 0, float(np.sin(t)), float(-np.cos(t))),
                                     (1.0, 1.0)), 100, 100)
    (r0, c0), (r1, c1) = reference_line(oblique, axial)
    for r, c in ((r0, c0), (r1, c1)):
        p = axial.pixel_to_patient(r, c)
        assert abs(oblique.patient_to_pixel(p)[2]) < 1e-6  # on both planes


# -- PlaneStack: reslices behind the viewer's stack interface ----------------------------------------------------
def test_plane_stack_frames_carry_their_geometry(volume):
    import threading

    from workstation.imaging.plane_stack import PlaneStack
    from workstation.imaging.reslice import plane_for

    base = plane_for(volume, "coronal")
    ps = PlaneStack(volume, base, reslicer=Reslicer(volume, "scipy"))
    try:
        assert len(ps) == 48  # 47 * 1.5 mm of y, one 1.5 mm step apart
        sphere = ph.DEFAULT_SPHERES[0]
        i = ps.index_of(sphere.centre)
        geo = ps.geometry(i)
        assert geo.frame_of_reference_uid == volume.frame_of_reference_uid
        assert geo.image_orientation == (1, 0, 0, 0, 0, -1)
        plane = plane_of(geo, ps.rows, ps.columns)
        assert abs(plane.patient_to_pixel(sphere.centre)[2]) <= 0.75  # the nearest plane
        ready = threading.Event()
        ps.add_listener(lambda stack, index: ready.set() if index == i else None)
        assert ps.frame(i) is None  # queued, like an undecoded frame
        assert ready.wait(10)
        arr = ps.frame(i)
        assert arr is not None and arr.shape == (ps.rows, ps.columns)
        # The sphere's section is centred where the frame's geometry puts the sphere's centre.
        r, c, _ = plane.patient_to_pixel(sphere.centre)
        w = np.clip(arr - ph.BACKGROUND, 0, None)
        rr, cc = np.mgrid[0:ps.rows, 0:ps.columns]
        found = plane.pixel_to_patient((w * rr).sum() / w.sum(), (w * cc).sum() / w.sum())
        assert np.linalg.norm(found - plane.pixel_to_patient(r, c)) <= 1.0
        assert ps.source(i).sop_instance_uid == ""  # a derived plane, not a stored instance
        assert ps.presentation(i) is volume.presentation
        with pytest.raises(IndexError):
            ps.frame(len(ps))
    finally:
        ps.close()


def test_plane_stack_drops_the_planes_passed_over(volume):
    """drop_queued: planes queued but not started are forgotten (except the one kept) and queued again if asked."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from workstation.imaging.plane_stack import PlaneStack
    from workstation.imaging.reslice import plane_for

    gate = threading.Event()
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(gate.wait, 10)  # the one worker is busy: what follows stays queued
    ps = PlaneStack(volume, plane_for(volume, "axial"), reslicer=Reslicer(volume, "scipy"), executor=pool)
    done = []
    ps.add_listener(lambda stack, index: done.append(index))
    try:
        for i in (1, 2, 3, 4):
            assert ps.frame(i) is None
        assert ps.drop_queued(keep=3) == 3
        gate.set()
        ps.get_frame(3, timeout=10)
        assert ps.is_cached(3) and not any(ps.is_cached(i) for i in (1, 2, 4))
        assert ps.frame(1) is None  # asked again: queued again, and delivered
        assert ps.get_frame(1, timeout=10) is not None
        assert 2 not in done and 4 not in done
    finally:
        ps.close()
        pool.shutdown()
