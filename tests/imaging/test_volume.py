"""Volumes from phantoms with analytic truth: every sphere appears where the claimed geometry puts it (<= 1 mm),
undistorted, in every plane, with both reslice engines; refusals name their reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.imaging import phantoms as ph
from workstation.imaging import MemoryBudget, open_series
from workstation.imaging.reslice import Plane, Reslicer, plane_for, vtk_available
from workstation.imaging.volume import (NotReconstructable, build_volume, check_series, plan_volume,
                                        volume_from_stacks)

ENGINES = ["scipy"] + (["vtk"] if vtk_available() else [])
OBLIQUE = (0.35, -0.45, 0.82)


def open_folder(folder: Path, **kw):
    return open_series(sorted(p for p in Path(folder).rglob("*.dcm")), **kw)


def sphere_fit(image: np.ndarray, plane: Plane, sphere: ph.Sphere) -> tuple[np.ndarray, float]:
    """(patient centre of the sphere's cross-section, its area / the true disc's area) for a plane through the
    sphere's centre; only pixels near where the plane claims the centre is are counted."""
    r, c, dist = plane.patient_to_pixel(sphere.centre)
    assert abs(dist) < 1e-6
    rr, cc = np.mgrid[0:plane.rows, 0:plane.columns]
    near = np.hypot((rr - r) * plane.pixel_spacing[0], (cc - c) * plane.pixel_spacing[1]) < sphere.radius + 4
    w = np.clip(image - ph.BACKGROUND, 0, None) * near
    assert w.sum() > 0, "the sphere is not where the plane's geometry says"
    centre = plane.pixel_to_patient((w * rr).sum() / w.sum(), (w * cc).sum() / w.sum())
    area = w.sum() / sphere.value * plane.pixel_spacing[0] * plane.pixel_spacing[1]
    return centre, area / (np.pi * sphere.radius ** 2)


def assert_spheres(vol, spheres=ph.DEFAULT_SPHERES, engine="scipy"):
    rs = Reslicer(vol, engine)
    for sphere in spheres:
        for kind, normal in (("axial", None), ("coronal", None), ("sagittal", None), (None, OBLIQUE)):
            plane = plane_for(vol, kind, normal=normal, through=sphere.centre)
            centre, area = sphere_fit(rs.reslice(plane), plane, sphere)
            err = float(np.linalg.norm(centre - np.asarray(sphere.centre)))
            assert err <= 1.0, f"{kind or 'oblique'}: sphere {sphere.centre} found {err:.2f} mm away"
            assert 0.9 < area < 1.1, f"{kind or 'oblique'}: sphere section distorted (area ratio {area:.2f})"


@pytest.fixture(scope="module")
def regular_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regular")
    ph.regular(folder)
    return folder


@pytest.mark.parametrize("engine", ENGINES)
def test_regular_stack_spheres_in_every_plane(regular_folder, engine):
    vol = volume_from_stacks(open_folder(regular_folder))
    assert vol.warnings == []
    assert_spheres(vol, engine=engine)


def test_regular_volume_is_the_stack_buffer(regular_folder):
    stack = check_series(open_folder(regular_folder))
    vol = build_volume(plan_volume(stack))
    assert vol.data.dtype == np.int16
    assert vol.nbytes == stack.raw_bytes  # 1.0x raw: no second copy
    assert np.shares_memory(vol.data, stack.volume())


@pytest.mark.parametrize("degrees", [-25, -15, 15, 25])
@pytest.mark.parametrize("engine", ENGINES)
def test_gantry_tilt_is_resampled_not_distorted(tmp_path, degrees, engine):
    ph.tilted(tmp_path, degrees)
    vol = volume_from_stacks(open_folder(tmp_path))
    assert vol.warnings == [f"gantry tilt {abs(degrees):.1f}°, resampled"]
    assert np.allclose(vol.axes @ vol.axes.T, np.eye(3), atol=1e-9)
    assert_spheres(vol, engine=engine)


def test_tilt_resampled_within_a_shared_budget_after_the_frames_are_cached(tmp_path):
    """Regression: once the stack's frames were cached, its share of a shared budget shrank to its raw size and
    the resampled copy was refused as over budget."""
    ph.tilted(tmp_path, 20)
    budget = MemoryBudget(64 << 20)
    stack = check_series(open_folder(tmp_path, memory_budget=budget))
    stack.volume()
    vol = build_volume(plan_volume(stack))
    assert vol.warnings == ["gantry tilt 20.0°, resampled"]
    other = check_series(open_folder(tmp_path, memory_budget=budget))
    other.volume()  # another series holding most of the budget leaves too little
    budget.total = stack.raw_bytes + other.raw_bytes + 1000
    with pytest.raises(NotReconstructable, match="more than the memory budget"):
        build_volume(plan_volume(stack))


def test_tilt_taken_as_a_plain_stack_would_be_distorted(tmp_path):
    """The defect the resampling prevents (cornerstone3D #227): slices stacked along their normal put a sphere
    of a 25° tilted series mm away from where it is."""
    ph.tilted(tmp_path, 25)
    stack = check_series(open_folder(tmp_path))
    plan = plan_volume(stack)
    assert plan.resample
    plan.tilt_deg = 0.0  # pretend it was not tilted
    vol = build_volume(plan)
    with pytest.raises(AssertionError):
        assert_spheres(vol)


@pytest.mark.parametrize("engine", ENGINES)
def test_uneven_spacing_is_resampled(tmp_path, engine):
    ph.uneven(tmp_path)
    vol = volume_from_stacks(open_folder(tmp_path))
    assert len(vol.warnings) == 1 and vol.warnings[0].startswith("uneven slice spacing (1.00–3.00 mm), resampled")
    assert_spheres(vol, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_oblique_acquisition(tmp_path, engine):
    ph.oblique(tmp_path)
    vol = volume_from_stacks(open_folder(tmp_path))
    assert vol.warnings == []
    assert_spheres(vol, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_enhanced_multiframe_feet_first(tmp_path, engine):
    ph.enhanced(tmp_path / "mf.dcm", frame_order="reversed")
    vol = volume_from_stacks(open_folder(tmp_path))
    assert vol.phase_count == 1
    assert_spheres(vol, engine=engine)


MOVED = (ph.Sphere((5.0, 5.0, 30.0), 8.0),)


def test_enhanced_4d_split_by_temporal_position(tmp_path):
    ph.enhanced(tmp_path / "mf4d.dcm", phases=(ph.DEFAULT_SPHERES, MOVED), frame_order="interleaved")
    stacks = open_folder(tmp_path)
    plan = plan_volume(check_series(stacks))
    assert plan.phase_count == 2
    assert_spheres(build_volume(plan, 0), ph.DEFAULT_SPHERES)
    assert_spheres(build_volume(plan, 1), MOVED)
    with pytest.raises(NotReconstructable, match="no time point 3"):
        build_volume(plan, 2)


def test_single_frame_4d_split_by_temporal_position(tmp_path):
    ph.four_d(tmp_path, (MOVED, ph.DEFAULT_SPHERES))
    plan = plan_volume(check_series(open_folder(tmp_path)))
    assert plan.phase_count == 2
    vol1 = build_volume(plan, 1)
    assert vol1.warnings == ["time point 2 of 2"]
    assert_spheres(build_volume(plan, 0), MOVED)
    assert_spheres(vol1, ph.DEFAULT_SPHERES)


def test_display_convention(regular_folder):
    """Axial: patient right on image left, anterior at top; coronal: right on left, superior at top;
    sagittal: anterior on the left, superior at top (LPS: +x left, +y posterior, +z superior)."""
    vol = volume_from_stacks(open_folder(regular_folder))
    rs = Reslicer(vol, ENGINES[0])
    right = ph.DEFAULT_SPHERES[1]  # x=-20 (patient right), y=+15 (posterior), z=34 (superior of the centre)
    front = ph.DEFAULT_SPHERES[0]  # y=-8 (anterior)

    def where(kind, sphere):
        plane = plane_for(vol, kind, through=sphere.centre)
        img = rs.reslice(plane)
        r, c = np.unravel_index(np.argmax(img), img.shape)
        return r / plane.rows, c / plane.columns

    r, c = where("axial", right)
    assert c < 0.5 and r > 0.5  # right on the left, posterior at the bottom
    assert where("axial", front)[0] < 0.5  # anterior at the top
    r, c = where("coronal", right)
    assert c < 0.5 and r < 0.5  # superior at the top
    r, c = where("sagittal", front)
    assert c < 0.5  # anterior on the left
    assert plane_for(vol, "axial").image_orientation == (1, 0, 0, 0, 1, 0)
    assert plane_for(vol, "coronal").image_orientation == (1, 0, 0, 0, 0, -1)
    assert plane_for(vol, "sagittal").image_orientation == (0, 1, 0, 0, 0, -1)


def test_oblique_normal_sign_does_not_flip_the_image(regular_folder):
    vol = volume_from_stacks(open_folder(regular_folder))
    a = plane_for(vol, normal=OBLIQUE)
    b = plane_for(vol, normal=tuple(-v for v in OBLIQUE))
    assert a == b


def test_isotropic_pixels_and_scrolling_keeps_the_frame(regular_folder):
    vol = volume_from_stacks(open_folder(regular_folder))
    plane = plane_for(vol, "sagittal")
    assert plane.pixel_spacing[0] == plane.pixel_spacing[1] == float(vol.spacing.min())
    moved = plane.through((10.0, 0.0, 0.0))
    assert (moved.rows, moved.columns, moved.image_orientation) == (plane.rows, plane.columns,
                                                                    plane.image_orientation)
    assert moved.patient_to_pixel((10.0, 3.0, 4.0))[2] == pytest.approx(0.0)
    # Every output pixel's patient coordinate: pixel -> patient -> pixel is the identity.
    pt = plane.pixel_to_patient(7.25, 11.5)
    r, c, d = plane.patient_to_pixel(pt)
    assert (r, c, d) == pytest.approx((7.25, 11.5, 0.0))


@pytest.mark.parametrize("engine", ENGINES)
def test_slab_modes(regular_folder, engine):
    vol = volume_from_stacks(open_folder(regular_folder))
    rs = Reslicer(vol, engine)
    sphere = ph.DEFAULT_SPHERES[1]  # radius 7, at z=34
    plane = plane_for(vol, "axial", through=np.add(sphere.centre, (0, 0, 9.0)))  # 2 mm above its top
    thin = rs.reslice(plane)
    assert thin.max() < ph.BACKGROUND + 50
    mip = rs.reslice(plane, slab_mm=10.0, mode="mip")  # reaches 5 mm down: into the sphere
    assert mip.max() > ph.BACKGROUND + 0.9 * sphere.value
    assert rs.reslice(plane, 10.0, "minip").max() < ph.BACKGROUND + 50
    avg = rs.reslice(plane, 10.0, "avg").max()
    assert ph.BACKGROUND + 50 < avg < mip.max()


@pytest.mark.skipif(not vtk_available(), reason="VTK not installed")
@pytest.mark.parametrize("kind,normal", [("axial", None), ("sagittal", None), (None, OBLIQUE)])
def test_vtk_and_scipy_agree_on_slabs(regular_folder, kind, normal):
    """Regression: VTK's permutation fast path sampled axial slabs at the wrong depths (196 units off)."""
    vol = volume_from_stacks(open_folder(regular_folder))
    plane = plane_for(vol, kind, normal=normal, through=(12.0, -8.0, 14.0))
    a, b = Reslicer(vol, "vtk"), Reslicer(vol, "scipy")
    for mode in ("mip", "minip", "avg"):
        assert np.abs(a.reslice(plane, 10.0, mode) - b.reslice(plane, 10.0, mode)).max() < 0.5


# -- refusals ---------------------------------------------------------------------------------------------------
def _positions(n, gap=1.5):
    return ph.stack_positions((-36.0, -36.0, -2.0), (0, 0, gap), n)


def refusal(folder: Path) -> str:
    with pytest.raises(NotReconstructable) as info:
        volume_from_stacks(open_folder(folder))
    return str(info.value)


def test_refuses_non_parallel_images(tmp_path):
    orients = [(1, 0, 0, 0, 1, 0)] * 10 + [(1, 0, 0, 0, 0.9848, -0.1736)] * 10
    ph.write_series(tmp_path, _positions(20), orientations=orients, rows=16, cols=16)
    assert refusal(tmp_path) == "images not parallel (2 different orientations)"


def test_refuses_several_images_per_position_without_time(tmp_path):
    ph.write_series(tmp_path, _positions(10) + _positions(10), rows=16, cols=16)
    assert refusal(tmp_path) == ("several images per position (10 of 10 positions) and no time point tells them "
                                 "apart")


def test_refuses_images_without_position(tmp_path):
    extra = [{}] * 8 + [{"ImagePositionPatient": None}] * 2
    ph.write_series(tmp_path, _positions(10), extra=extra, rows=16, cols=16)
    assert refusal(tmp_path) == "2 of 10 images have no ImagePositionPatient"


def test_refuses_stack_without_position(tmp_path):
    extra = [{"ImagePositionPatient": None}] * 6
    ph.write_series(tmp_path, _positions(6), extra=extra, rows=16, cols=16)
    assert refusal(tmp_path) == "6 of 6 images have no ImagePositionPatient"


def test_refuses_mixed_sizes(tmp_path):
    sizes = [(16, 16)] * 6 + [(20, 20)] * 6
    ph.write_series(tmp_path, _positions(12), sizes=sizes)
    assert refusal(tmp_path) == "mixed image sizes (16x16, 20x20)"


def test_refuses_localizer_mixed_in(tmp_path):
    n = 12
    orients = [(1, 0, 0, 0, 1, 0)] * 10 + [(0, 1, 0, 0, 0, -1)] * 2
    extra = [{"ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"]}] * 10 + [{"ImageType": ["ORIGINAL", "PRIMARY",
                                                                                     "LOCALIZER"]}] * 2
    ph.write_series(tmp_path, _positions(n), orientations=orients, extra=extra, rows=16, cols=16)
    assert refusal(tmp_path) == "localizer images mixed in (2 of 12 images)"


def test_refuses_too_few_images(tmp_path):
    ph.write_series(tmp_path, _positions(2), rows=16, cols=16)
    assert refusal(tmp_path) == "too few images (2; a volume needs at least 3)"


def test_refuses_over_the_memory_budget(regular_folder):
    stacks = open_folder(regular_folder, memory_budget=MemoryBudget(1000))
    with pytest.raises(NotReconstructable, match=r"more than the memory budget \(0 MiB; raise "
                                                  r"memory_budget_fraction in the settings\)"):
        volume_from_stacks(stacks)


def test_refuses_two_series_mixed(tmp_path):
    ph.write_series(tmp_path / "a", _positions(6), rows=16, cols=16)
    ph.write_series(tmp_path / "b", _positions(6), rows=16, cols=16)
    assert refusal(tmp_path) == "2 series mixed; a volume is made of one"


def test_refuses_zero_pixel_spacing(tmp_path):
    ph.write_series(tmp_path, _positions(6), extra=[{"PixelSpacing": ["0", "0"]}] * 6, rows=16, cols=16)
    assert refusal(tmp_path) == "PixelSpacing is not a positive size"
