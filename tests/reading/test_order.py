"""Reading order of a stack: InstanceNumber when usable (image 1 = InstanceNumber 1), else anatomical."""

from __future__ import annotations

from workstation.reading.order import instance_numbers_usable, reading_order, series_files

AXIAL, CORONAL, SAGITTAL = (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (-1.0, 0.0, 0.0)


def test_a_head_first_axial_ct_opens_at_instance_number_1_at_the_top():
    # Files in arbitrary order; InstanceNumber 1 is the highest z (head first, numbered from the top).
    zs = [0.0, 40.0, 20.0, 60.0, 80.0]
    numbers = [5, 3, 4, 2, 1]
    order = reading_order(numbers, [(0, 0, z) for z in zs], AXIAL)
    assert [numbers[i] for i in order] == [1, 2, 3, 4, 5]
    assert [zs[i] for i in order] == [80.0, 60.0, 40.0, 20.0, 0.0]


def test_instance_numbers_win_over_position_even_when_they_count_upwards():
    zs = [0.0, 10.0, 20.0]
    assert reading_order([1, 2, 3], [(0, 0, z) for z in zs], AXIAL) == [0, 1, 2]


def test_without_usable_numbers_an_axial_reads_from_the_head_down():
    zs = [0.0, 40.0, 20.0]
    for numbers in ([None, None, None], [1, 1, 1], [1, None, 2]):
        assert not instance_numbers_usable(numbers)
        assert [zs[i] for i in reading_order(numbers, [(0, 0, z) for z in zs], AXIAL)] == [40.0, 20.0, 0.0]
    # The same stack whose normal points down (rows and columns swapped) reads the same way.
    assert [zs[i] for i in reading_order([None] * 3, [(0, 0, z) for z in zs], (0.0, 0.0, -1.0))] == [40, 20, 0]


def test_without_usable_numbers_coronal_reads_front_to_back_and_sagittal_right_to_left():
    ys = [30.0, -10.0, 10.0]  # LPS: y grows to the back
    assert [ys[i] for i in reading_order([None] * 3, [(0, y, 0) for y in ys], CORONAL)] == [-10.0, 10.0, 30.0]
    xs = [30.0, -10.0, 10.0]  # LPS: x grows to the patient's left
    assert [xs[i] for i in reading_order([None] * 3, [(x, 0, 0) for x in xs], SAGITTAL)] == [-10.0, 10.0, 30.0]


def test_phases_at_one_position_keep_their_numbers_within_it():
    zs = [0.0, 0.0, 10.0, 10.0]
    numbers = [2, 1, 2, 1]  # repeated numbers: not usable
    order = reading_order(numbers, [(0, 0, z) for z in zs], AXIAL)
    assert [(zs[i], numbers[i]) for i in order] == [(10.0, 1), (10.0, 2), (0.0, 1), (0.0, 2)]


def test_without_positions_or_numbers_the_file_names_decide():
    assert reading_order([None, None], None, None, ["b.dcm", "a.dcm"]) == [1, 0]


def _row(path, number, rows=512, cols=512, frames=None):
    return {"path": path, "InstanceNumber": number, "Rows": rows, "Columns": cols, "NumberOfFrames": frames}


def test_the_index_names_the_first_image_of_a_series():
    rows = [_row(f"/a/{k}.dcm", n) for k, n in enumerate([7, 3, 1, 2])]
    files = series_files(rows)
    assert files.first_known and files[0] == "/a/2.dcm" and files.count == 4
    assert sorted(files) == sorted(r["path"] for r in rows)


def test_the_first_image_is_from_the_main_stack_not_a_localizer_of_another_size():
    rows = [_row("/loc.dcm", 1, 256, 256)] + [_row(f"/ax{n}.dcm", n) for n in (2, 3, 4)]
    files = series_files(rows)
    assert files.first_known and files[0] == "/ax2.dcm" and files.count == 3


def test_without_usable_numbers_the_index_does_not_know_the_first_image():
    for numbers in ([1, 1, 2], [None, 2, 3]):
        files = series_files([_row(f"/{k}.dcm", n) for k, n in enumerate(numbers)])
        assert not files.first_known and len(files) == 3


def test_a_multiframe_file_counts_its_frames():
    files = series_files([_row("/cine.dcm", 1, frames=40)])
    assert files.first_known and files.count == 40


def _placed(path, z, number=None, orientation=(1, 0, 0, 0, 1, 0)):
    r = _row(path, number)
    r["ImagePositionPatient"], r["ImageOrientationPatient"] = (-100.0, -100.0, z), orientation
    return r


def test_without_usable_numbers_the_index_geometry_names_the_first_image():
    """No InstanceNumbers (or repeated ones): the index's positions give the first image in anatomical order -
    axial from the head down - so the viewer shows it at once instead of "Loading…"."""
    for numbers in ([None] * 4, [1, 1, 1, 1]):
        rows = [_placed(f"/{k}.dcm", z, n) for k, (z, n) in enumerate(zip([10.0, 40.0, 20.0, 30.0], numbers))]
        rows.append(_placed("/scout.dcm", 0.0, orientation=(0, 1, 0, 0, 0, -1)))  # a localizer: another plane
        files = series_files(rows)
        assert files.first_known and files[0] == "/1.dcm" and files.count == 4, numbers
    # Rows indexed before the geometry was kept: unknown, as before.
    rows = [_row(f"/{k}.dcm", None) for k in range(3)]
    assert not series_files(rows).first_known
