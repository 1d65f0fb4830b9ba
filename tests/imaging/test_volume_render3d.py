"""CPU volume rendering, headless: the spheres appear where the anterior view puts them, presets, rotation,
zoom and the clip box change the picture as they should."""

from __future__ import annotations

import numpy as np
import pytest

from tests.imaging import phantoms as ph
from workstation.imaging import ImagingError, open_series
from workstation.imaging.reslice import vtk_available
from workstation.imaging.volume import volume_from_stacks

pytestmark = pytest.mark.skipif(not vtk_available(), reason="VTK not installed")

RIGHT, LEFT = ph.DEFAULT_SPHERES[1], ph.DEFAULT_SPHERES[0]  # x=-20 (patient right, z=34); x=+12 (left, z=20)
ONLY_RIGHT = (-40.0, -2.0, -40.0, 40.0, -10.0, 60.0)  # a clip box keeping x < -2 only
ONLY_LEFT = (0.0, 40.0, -40.0, 40.0, -10.0, 60.0)


@pytest.fixture(scope="module", params=["every voxel", "decimated"])
def renderer(request, tmp_path_factory):
    """The same checks on the whole volume and on one the renderer decimates (as it does above MAX_VOXELS)."""
    from workstation.imaging.render3d import VolumeRenderer

    folder = tmp_path_factory.mktemp("r3d")
    ph.regular(folder)
    vol = volume_from_stacks(open_series(sorted(folder.glob("*.dcm"))))
    r = VolumeRenderer(vol, size=(160, 128), max_voxels=10**9 if request.param == "every voxel" else 20_000)
    assert r.decimation == ((1, 1, 1) if request.param == "every voxel" else (2, 2, 2))
    yield r
    r.close()


def test_decimation_coarsens_the_finest_axes_first():
    from workstation.imaging.render3d import decimation

    assert decimation((400, 512, 512), (1.0, 0.7, 0.7), 32_000_000) == (1, 2, 2)
    assert decimation((200, 512, 512), (0.6, 0.7, 0.7), 32_000_000) == (2, 1, 1)
    assert decimation((40, 48, 48), (1.5, 1.5, 1.5), 32_000_000) == (1, 1, 1)


def blob(img: np.ndarray) -> tuple[float, float, int]:
    """(row fraction, column fraction, pixel count) of what is not background."""
    mask = img.max(axis=2) > 20
    assert mask.any(), "nothing rendered"
    rr, cc = np.nonzero(mask)
    return rr.mean() / img.shape[0], cc.mean() / img.shape[1], int(mask.sum())


def test_anterior_view_right_on_left_superior_up(renderer):
    renderer.set_preset("bone")
    renderer.set_clip_box(ONLY_RIGHT)
    img = renderer.render()
    assert img.shape == (128, 160, 3) and img.dtype == np.uint8
    r_right, c_right, _ = blob(img)
    renderer.set_clip_box(ONLY_LEFT)
    r_left, c_left, _ = blob(renderer.render())
    renderer.set_clip_box(None)
    assert c_right < 0.5 < c_left  # the patient's right on the image's left
    assert r_right < r_left  # the higher (superior) sphere is higher on the image


def test_rotation_half_turn_mirrors(renderer):
    renderer.set_preset("bone")
    renderer.set_clip_box(ONLY_RIGHT)
    _, front, _ = blob(renderer.render())
    _, back, _ = blob(renderer.render(azimuth=180))
    renderer.set_clip_box(None)
    assert front < 0.5 < back


def test_zoom_enlarges(renderer):
    renderer.set_preset("bone")
    renderer.set_clip_box(ONLY_LEFT)
    _, _, n1 = blob(renderer.render())
    _, _, n2 = blob(renderer.render(zoom=2.0))
    renderer.set_clip_box(None)
    assert 3.0 < n2 / n1 < 5.0


def test_mip_is_a_gray_ramp_of_the_values(renderer):
    renderer.set_preset("mip", window=(0.0, 2000.0))  # -1000..1000 HU: the spheres (1000 HU) white
    img = renderer.render()
    assert img.max() >= 250
    assert np.all(img[..., 0] == img[..., 1])  # gray
    renderer.set_preset("mip", window=(0.0, 4000.0))  # 1000 HU is 3/4 of the way up
    assert abs(int(renderer.render().max()) - 191) <= 6


def test_presets_differ_and_unknown_names_are_refused(renderer):
    pictures = {}
    for name in ("bone", "soft tissue", "angio", "mip"):
        renderer.set_preset(name)
        pictures[name] = renderer.render()
    assert len({p.tobytes() for p in pictures.values()}) == 4
    with pytest.raises(ImagingError, match="unknown 3D preset 'skin'"):
        renderer.set_preset("skin")
    with pytest.raises(ImagingError, match="clip box"):
        renderer.set_clip_box((1, 0, 0, 1, 0, 1))


def test_interactive_frames_come_back_at_full_size(renderer):
    renderer.set_preset("bone")
    img = renderer.render(azimuth=30, elevation=20, interactive=True)
    assert img.shape == (128, 160, 3)
