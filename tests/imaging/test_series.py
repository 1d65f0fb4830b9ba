"""Opening series: sorting along the normal, splitting stacks, enhanced multi-frame geometry, caching."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.data import test_file as datafile
from tests.imaging.synth import make_enhanced_ct, make_series
from workstation.imaging import ImagingError, NotAnImageError, open_file, open_series
from workstation.imaging.series import sort_key_description


def _true_order(stack):
    return [int(stack.get_frame(i, timeout=10).flat[0]) for i in range(len(stack))]


def test_shuffled_files_sorted_along_normal(tmp_path):
    paths = make_series(tmp_path, 12)
    shuffled = list(paths)
    random.Random(3).shuffle(shuffled)
    (stack,) = open_series(shuffled)
    assert _true_order(stack) == list(range(12))
    assert sort_key_description(stack) == "position"
    assert stack.slice_spacing == pytest.approx(1.25)
    z = [stack.geometry(i).image_position[2] for i in range(len(stack))]
    assert z == sorted(z)
    stack.close()


def test_tilted_orientation_sorted_by_projection_not_z(tmp_path):
    # Gantry-tilted/oblique: rows along x, columns tilted 30 degrees; slices step along the oblique normal,
    # with a pure-z ordering that would differ because origin steps also move in y.
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    orientation = (1, 0, 0, 0, c, -s)
    paths = make_series(tmp_path, 9, orientation=orientation, origin=(5, -20, 100), spacing=2.0, jitter=10.0)
    (stack,) = open_series(reversed(paths))
    z = [stack.geometry(i).image_position[2] for i in range(len(stack))]
    assert z != sorted(z) and z != sorted(z, reverse=True)  # z alone would get this series wrong
    assert _true_order(stack) == list(range(9))
    n = stack.normal
    assert np.allclose(n, np.cross(orientation[:3], orientation[3:]))
    assert stack.slice_spacing == pytest.approx(2.0, abs=1e-3)


def test_without_positions_falls_back_to_instance_number(tmp_path):
    paths = make_series(tmp_path, 7, with_position=False, shuffle=False)
    random.Random(5).shuffle(paths)
    (stack,) = open_series(paths)
    assert sort_key_description(stack) == "instance number"
    assert [stack.geometry(i).instance_number for i in range(7)] == list(range(1, 8))


def test_two_orientations_in_one_series_make_two_stacks(tmp_path):
    series = generate_uid()
    for_uid = generate_uid()
    axial = make_series(tmp_path / "ax", 6, series_uid=series, for_uid=for_uid)
    coronal = make_series(tmp_path / "co", 4, series_uid=series, for_uid=for_uid, orientation=(1, 0, 0, 0, 0, -1))
    stacks = open_series(axial + coronal)
    assert [len(s) for s in stacks] == [6, 4]  # largest first
    assert {s.source(0).path for s in stacks[:1]} <= {str(p) for p in axial}
    assert _true_order(stacks[0]) == list(range(6)) and _true_order(stacks[1]) == list(range(4))


def test_two_frames_of_reference_and_sizes_split(tmp_path):
    series = generate_uid()
    a = make_series(tmp_path / "a", 5, series_uid=series)
    b = make_series(tmp_path / "b", 5, series_uid=series)  # same geometry, other frame of reference
    c = make_series(tmp_path / "c", 3, series_uid=series, rows=16, cols=16)
    stacks = open_series(a + b + c)
    assert sorted(len(s) for s in stacks) == [3, 5, 5]
    assert len({s.geometry(0).frame_of_reference_uid for s in stacks}) == 3


def test_non_images_are_skipped_and_reported(tmp_path):
    paths = make_series(tmp_path, 3)
    stacks = open_series(paths + [datafile("rtplan.dcm"), tmp_path / "missing.dcm"])
    assert len(stacks) == 1 and len(stacks[0]) == 3
    with pytest.raises(NotAnImageError, match="RT Plan"):
        open_series([datafile("rtplan.dcm")])
    with pytest.raises(NotAnImageError, match="not readable"):
        open_series([tmp_path / "missing.dcm"])


def test_enhanced_multiframe_per_frame_geometry_and_presentation(tmp_path):
    path = make_enhanced_ct(tmp_path / "enh.dcm", n=4)
    (stack,) = open_file(path)
    assert len(stack) == 4
    g = stack.geometry(2)
    assert g.image_position == (14.0, -50.0, 60.0)
    assert g.image_orientation == (0, 1, 0, 0, 0, -1)
    assert g.pixel_spacing == (0.5, 0.6) and g.slice_thickness == 2.0
    assert np.allclose(stack.normal, (-1, 0, 0))
    p = stack.presentation(3)
    assert p.probe(1003) == (1003 - 1024 - 3, "HU")
    assert p.file_windows[0].center == 43 and p.file_windows[0].explanation == "frame3"
    assert stack.get_frame(3, timeout=10)[0, 0] == 1003


def test_cine_multiframe_is_one_stack_in_file_order():
    (stack,) = open_file(datafile("emri_small.dcm"))
    assert len(stack) == 10 and stack.dtype == np.uint16
    frames = [stack.get_frame(i, timeout=10) for i in range(10)]
    assert not all(np.array_equal(frames[0], f) for f in frames[1:])
    (color,) = open_file(datafile("examples_ybr_color.dcm"))
    assert color.is_color and color.get_frame(29, timeout=10).shape == (240, 320, 3)


def test_volume_is_one_preallocated_array_filled_in_place(tmp_path):
    paths = make_series(tmp_path, 10)
    (stack,) = open_series(paths)
    first = stack.get_frame(0, timeout=10)
    vol = stack.volume()
    assert vol.shape == (10, 32, 32) and vol.dtype == np.int16
    assert [int(v.flat[0]) for v in vol] == list(range(10))
    assert np.shares_memory(first, vol)  # frames handed out before are views into the volume, not copies
    assert not vol.flags.writeable
    assert stack.cached_bytes() == stack.raw_bytes == vol.nbytes


def test_lru_under_budget_when_the_stack_does_not_fit(tmp_path):
    paths = make_series(tmp_path, 20)
    frame_bytes = 32 * 32 * 2
    (stack,) = open_series(paths, memory_budget=frame_bytes * 5)
    assert not stack.fits_budget
    for i in range(20):
        stack.get_frame(i, timeout=10)
        assert stack.cached_bytes() <= frame_bytes * 5
    assert stack.is_cached(19) and not stack.is_cached(0)
    with pytest.raises(ImagingError, match="budget"):
        stack.volume()
    assert int(stack.get_frame(0, timeout=10).flat[0]) == 0  # evicted frames decode again


def test_nonblocking_frame_prefetch_and_listener(tmp_path):
    paths = make_series(tmp_path, 30)
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        (stack,) = open_series(paths, executor=pool)
        ready = []
        done = threading.Event()

        def on_ready(s, index):
            ready.append(index)
            if s.is_cached(10):
                done.set()

        stack.add_listener(on_ready)
        assert stack.frame(10) is None  # not decoded yet: queued
        assert done.wait(10)
        assert int(stack.frame(10).flat[0]) == 10
        stack.prefetch(10, direction=+1, count=8)
        for i in range(11, 19):
            stack.get_frame(i, timeout=10)
        assert all(stack.is_cached(i) for i in range(10, 19))
        assert set(range(11, 19)) <= set(ready)
        stack.remove_listener(on_ready)
    finally:
        pool.shutdown()


def test_decode_failure_reported_not_raised_in_viewer_path(tmp_path):
    paths = make_series(tmp_path, 3)
    paths[1].write_bytes(paths[1].read_bytes()[:-500])  # truncated pixel data
    (stack,) = open_series(paths)
    errors = threading.Event()
    stack.add_listener(lambda s, i: errors.set() if s.frame_error(i) else None)
    assert stack.frame(1) is None
    assert errors.wait(10)
    assert stack.frame(1) is None and stack.frame_error(1) is not None
    assert int(stack.get_frame(2, timeout=10).flat[0]) == 2
    with pytest.raises(Exception):
        stack.get_frame(1, timeout=10)


def test_projection_views_of_one_series_are_stacks_of_their_own(tmp_path):
    """A mammography series with four views opens as four stacks, one per laterality and view."""
    from tests.gui.viewer.test_hanging import mammogram
    from workstation import imaging

    stacks = imaging.open_series(mammogram(tmp_path / "mg", "20240101", "1.2.9.9"))
    views = sorted(str(s.header(0).get("ImageLaterality")) + str(s.header(0).get("ViewPosition")) for s in stacks)
    assert views == ["LCC", "LMLO", "RCC", "RMLO"] and all(len(s) == 1 for s in stacks)


def test_a_closed_stack_is_taken_apart_in_pieces(tmp_path):
    """Freeing the headers of a 2,000-image stack at once held the GIL ~40 ms; ``dismantle`` yields between pieces
    so a GUI can free a closed window's series between its events."""
    paths = make_series(tmp_path, 25)
    (stack,) = open_series(paths)
    stack.get_frame(0, timeout=10)
    stack.close()
    steps = sum(1 for _ in stack.dismantle(piece=10))
    assert steps >= 3 + 3  # 25 headers and 25 sources, 10 at a time
    assert len(stack) == 0 and not stack._headers


def test_dismantle_leaves_what_a_sibling_stack_shares(tmp_path):
    paths = make_series(tmp_path, 6)
    (stack,) = open_series(paths)
    shared = stack._headers  # held elsewhere too (as stacks split from one series hold one dict)
    stack.close()
    for _ in stack.dismantle(piece=2):
        pass
    assert len(shared) == 6  # let go of, not emptied


def test_a_sorted_stack_adopts_the_frames_a_one_file_stack_decoded(tmp_path):
    """The viewer shows one file first (a stack of its own), then the sorted series: the frame on the screen is
    taken over, not decoded again."""
    paths = sorted(make_series(tmp_path, 6))
    (one,) = open_series([paths[3]])
    first = one.get_frame(0, timeout=10)
    (whole,) = open_series(paths)
    try:
        index = next(i for i in range(len(whole)) if whole.source(i).path == one.source(0).path)
        decoded: list[int] = []
        real = whole._decode
        whole._decode = lambda i: (decoded.append(i), real(i))[1]
        assert whole.adopt(one) == 1
        assert whole.is_cached(index) and np.array_equal(whole.frame(index), first)
        assert whole.get_frame(index, timeout=10) is not None and decoded == []
        assert whole.adopt(one) == 0  # already there
    finally:
        one.close()
        whole.close()
