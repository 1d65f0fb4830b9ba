"""Slice sync in the viewer window: only parallel stacks follow; across Frames of Reference with the offset fixed
when Sync is switched on."""

from __future__ import annotations

import pydicom

from viewer_data import write_ct_series
from viewer_events import wheel


def test_scrolling_an_axial_does_not_move_a_coronal_of_the_same_frame_of_reference(open_viewer, tmp_path):
    for_uid = pydicom.uid.generate_uid()
    ax = write_ct_series(tmp_path / "ax", 20, frame_of_reference=for_uid, series_number=1)
    cor = write_ct_series(tmp_path / "cor", 20, frame_of_reference=for_uid, series_number=2, plane="coronal")
    win = open_viewer([ax, cor], layout="1x2")
    left, right = win.viewports
    axial = left if abs(left.stack.normal[2]) > 0.9 else right
    coronal = right if axial is left else left
    start = coronal.state.frame
    for _ in range(3):
        wheel(axial, -4)  # the old code moved the coronal to the slice at the same number of mm along its normal
        assert coronal.state.frame == start
    assert axial.state.frame != start


def test_a_prior_of_another_frame_of_reference_follows_with_the_offset_set_when_sync_is_switched_on(
        open_viewer, tmp_path):
    cur = write_ct_series(tmp_path / "cur", 20, thickness=2.0, series_number=1)
    pri = write_ct_series(tmp_path / "pri", 20, thickness=2.0, series_number=2, origin_z=300.0)
    win = open_viewer([cur, pri], layout="1x2")
    left, right = win.viewports
    wheel(left, -2)
    assert right.state.frame == 0  # not comparable until the reader lines them up
    right.state.update(frame=5)
    win.sync_action.trigger()  # off
    win.sync_action.trigger()  # on: the slices shown now (2 and 5) correspond
    assert win.sync_enabled
    wheel(left, -4)
    assert (left.state.frame, right.state.frame) == (6, 9)
