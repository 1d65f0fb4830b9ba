"""Slice sync rules without a screen: parallel planes only, patient position within a Frame of Reference, a fixed
offset across Frames of Reference."""

from __future__ import annotations

import math

import pytest

from workstation.reading.sync import PARALLEL_TOLERANCE_DEG, SliceGeometry, SliceSync, angle_between


def axial(n, z0=0.0, step=2.0, for_uid="1.2.3", descending=False):
    zs = [z0 + k * step for k in range(n)]
    if descending:
        zs = zs[::-1]
    return SliceGeometry(for_uid, (0.0, 0.0, 1.0), [(0.0, 0.0, z) for z in zs])


def coronal(n, y0=-50.0, step=2.0, for_uid="1.2.3"):
    # IOP (1,0,0 / 0,0,-1): normal = row x column = (0, 1, 0).
    return SliceGeometry(for_uid, (0.0, 1.0, 0.0), [(0.0, y0 + k * step, 0.0) for k in range(n)])


def tilted(n, degrees, step=2.0, for_uid="1.2.3"):
    t = math.radians(degrees)
    normal = (0.0, -math.sin(t), math.cos(t))
    return SliceGeometry(for_uid, normal, [tuple(k * step * c for c in normal) for k in range(n)])


def test_a_coronal_does_not_follow_an_axial_of_the_same_frame_of_reference():
    sync = SliceSync()
    ax, cor = axial(50), coronal(50)
    assert sync.follow("ax", ax, 10, {"cor": cor}) == {}
    assert sync.follow("cor", cor, 10, {"ax": ax}) == {}


def test_parallel_stacks_of_one_frame_of_reference_meet_at_the_same_position():
    sync = SliceSync()
    thick, thin = axial(10, step=2.0), axial(20, step=1.0)
    assert sync.follow("a", thick, 3, {"b": thin}) == {"b": 6}  # z = 6 mm in both
    assert sync.follow("b", thin, 13, {"a": thick}) in ({"a": 6}, {"a": 7})  # z = 13: between 12 and 14


def test_a_stack_read_the_other_way_round_still_meets_at_the_same_position():
    sync = SliceSync()
    up, down = axial(10), axial(10, descending=True)
    assert sync.follow("up", up, 2, {"down": down}) == {"down": 7}  # z = 4 is slice 7 of the reversed stack


@pytest.mark.parametrize("degrees,follows", [(0, True), (8, True), (PARALLEL_TOLERANCE_DEG - 0.5, True),
                                             (PARALLEL_TOLERANCE_DEG + 0.5, False), (30, False), (90, False)])
def test_near_parallel_means_within_the_tolerance(degrees, follows):
    sync = SliceSync()
    assert angle_between((0, 0, 1), tilted(2, degrees).normal) == pytest.approx(degrees, abs=1e-6)
    moved = sync.follow("a", axial(20), 5, {"b": tilted(20, degrees)})
    assert ("b" in moved) is follows


def test_different_frames_of_reference_follow_only_after_sync_is_switched_on_with_the_offset_then():
    sync = SliceSync()
    current, prior = axial(40, z0=0.0, for_uid="1.1"), axial(40, z0=500.0, for_uid="2.2")  # another scanner
    assert sync.follow("cur", current, 5, {"pri": prior}) == {}  # positions are not comparable
    sync.engage({"cur": (current, 10), "pri": (prior, 4)})  # the reader lined them up, then switched sync on
    assert sync.follow("cur", current, 15, {"pri": prior}) == {"pri": 9}
    assert sync.follow("pri", prior, 0, {"cur": current}) == {"cur": 6}
    sync.forget("pri")  # another series dropped there: the offset no longer holds
    assert sync.follow("cur", current, 15, {"pri": prior}) == {}


def test_an_offset_holds_only_for_the_stacks_it_was_measured_on():
    sync = SliceSync()
    current, prior = axial(40, for_uid="1.1"), axial(40, z0=500.0, for_uid="2.2")
    sync.engage({"cur": (current, 10), "pri": (prior, 4)})
    other = axial(40, z0=900.0, for_uid="3.3")
    assert sync.follow("cur", current, 15, {"pri": other}) == {}


def test_a_stack_without_positions_never_syncs():
    sync = SliceSync()
    partial = SliceGeometry("1.2.3", (0.0, 0.0, 1.0), [(0.0, 0.0, 0.0), None, (0.0, 0.0, 4.0)])
    assert sync.follow("a", axial(10), 1, {"b": partial}) == {}
    assert sync.follow("b", partial, 0, {"a": axial(10)}) == {}
    no_normal = SliceGeometry("1.2.3", None, [(0.0, 0.0, 0.0)])
    assert sync.follow("a", axial(10), 1, {"c": no_normal}) == {}


def test_a_point_marked_in_both_fixes_the_offset_across_frames_of_reference():
    """The reader marks the same lesion in current (z = 20 mm here) and prior (z = 531 mm in the prior scanner's
    coordinates): scrolling then keeps those slices together, both ways, without switching sync off and on."""
    sync = SliceSync()
    current, prior = axial(40, z0=0.0, for_uid="1.1"), axial(40, z0=500.0, step=1.0, for_uid="2.2")
    assert sync.mark("cur", current, (5.0, -3.0, 20.0), "pri", prior, (7.0, 0.0, 531.0))
    assert sync.follow("cur", current, 10, {"pri": prior}) == {"pri": 31}  # z 20 -> 531
    assert sync.follow("cur", current, 12, {"pri": prior}) == {"pri": 35}  # 4 mm further in both
    assert sync.follow("pri", prior, 31, {"cur": current}) == {"cur": 10}
    # Not parallel: nothing is fixed.
    assert not SliceSync().mark("cur", current, (0, 0, 0), "cor", coronal(10, for_uid="3.3"), (0, 0, 0))
