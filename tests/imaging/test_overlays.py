"""Overlay planes (60xx): read from Overlay Data, placed at their origin, clipped, per frame."""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import pack_bits

from tests.data import test_file
from workstation.imaging.overlays import composite, overlay_planes


def _with_plane(mask: np.ndarray, origin=(1, 1), group=0x6000, frames: int | None = None, first_frame=1,
                kind="G") -> Dataset:
    ds = Dataset()
    ds.Rows, ds.Columns = 32, 32
    rows, cols = mask.shape[-2:]
    ds.add_new(group << 16 | 0x0010, "US", rows)
    ds.add_new(group << 16 | 0x0011, "US", cols)
    ds.add_new(group << 16 | 0x0040, "CS", kind)
    ds.add_new(group << 16 | 0x0050, "SS", list(origin))
    ds.add_new(group << 16 | 0x0100, "US", 1)
    ds.add_new(group << 16 | 0x0102, "US", 0)
    if frames is not None:
        ds.add_new(group << 16 | 0x0015, "IS", frames)
        ds.add_new(group << 16 | 0x0051, "US", first_frame)
    ds.add_new(group << 16 | 0x3000, "OW", pack_bits(mask.astype(np.uint8).ravel()))
    return ds


def test_siemens_file_plane_is_read_at_its_origin():
    ds = pydicom.dcmread(test_file("MR-SIEMENS-DICOM-WithOverlays.dcm"), stop_before_pixels=True)
    planes = overlay_planes(ds)
    assert len(planes) == 1
    p = planes[0]
    assert p.group == 0x6000 and p.origin == (0, 0) and p.mask.shape == (484, 484) and p.kind == "G"
    assert p.mask.sum() == np.asarray(ds.overlay_array(0x6000)).sum() > 0
    rgba = composite(planes, ds.Rows, ds.Columns)
    assert rgba.shape == (484, 484, 4) and (rgba[..., 3] > 0).sum() == p.mask.sum()


def test_origin_places_and_clips_the_plane():
    mask = np.zeros((8, 8), bool)
    mask[0, 0] = mask[7, 7] = mask[3, 5] = True
    ds = _with_plane(mask, origin=(11, 21))  # 1-based: first pixel at row 10, column 20
    rgba = composite(overlay_planes(ds), 32, 32)
    on = set(zip(*np.nonzero(rgba[..., 3])))
    assert on == {(10, 20), (17, 27), (13, 25)}
    # Half outside the image (origin at the bottom-right corner): only what falls on it is drawn.
    rgba = composite(overlay_planes(_with_plane(mask, origin=(29, 29))), 32, 32)
    assert set(zip(*np.nonzero(rgba[..., 3]))) == {(28, 28)}
    assert composite(overlay_planes(_with_plane(mask, origin=(40, 40))), 32, 32) is None


def test_multi_frame_plane_applies_from_its_image_frame_origin():
    masks = np.zeros((2, 4, 4), bool)
    masks[0, 0, 0] = True
    masks[1, 3, 3] = True
    ds = _with_plane(masks, frames=2, first_frame=3)  # planes for image frames 3 and 4 (1-based)
    assert overlay_planes(ds, frame=0) == [] and overlay_planes(ds, frame=4) == []
    assert overlay_planes(ds, frame=2)[0].mask[0, 0] and overlay_planes(ds, frame=3)[0].mask[3, 3]


def test_a_damaged_plane_never_keeps_the_others_from_showing():
    ds = _with_plane(np.ones((4, 4), bool))
    ds[0x60003000].value = b"\x01"  # far too short for 4x4
    good = _with_plane(np.ones((2, 2), bool), group=0x6002)
    for elem in good:
        ds.add(elem)
    planes = overlay_planes(ds)  # never raises
    assert 0x6002 in [p.group for p in planes]
