"""The order a stack of single-frame images is read in (no Qt): which image is "Im 1".

Chosen convention: **InstanceNumber**, ascending, whenever every image has one and no two share it. That is the
default of Weasis ("Instance Number" stack sorting) and Horos (images sorted by image number), and what RadiAnt
shows for the usual CT: a head-first axial CT numbers its images from the top of the head, so image 1 = the
top slice = InstanceNumber 1, and the number the reader dictates ("Im 12") is the number the PACS and the
technologist's report use. The old order (ascending position along the slice normal) opened an axial at the
caudal end and counted opposite to InstanceNumber.

Without usable InstanceNumbers (missing or repeated) the order is anatomical, as those viewers read a stack:
axial head to feet, coronal front to back, sagittal right to left (the patient's), and images at one position
(several phases) by InstanceNumber within it. Without positions either: InstanceNumber, then file name.

Enhanced multi-frame objects keep their file's frame order (their frames share one InstanceNumber); the viewer
applies this only to stacks of separate files.
"""

from __future__ import annotations

from typing import Sequence

# The patient axis (LPS: x to the patient's left, y to the back, z to the head) a plane's normal is closest to,
# and the sign that reads it in the conventional direction: axial from the head down (z descending), coronal
# from the front (y ascending), sagittal from the patient's right (x ascending).
_READING_SIGN = {0: 1.0, 1: 1.0, 2: -1.0}


def instance_numbers_usable(numbers: Sequence[int | None]) -> bool:
    """Whether InstanceNumber can order these images: every image has one and no two share it."""
    return bool(numbers) and all(n is not None for n in numbers) and len(set(numbers)) == len(numbers)


def reading_order(instance_numbers: Sequence[int | None],
                  positions: Sequence[Sequence[float] | None] | None = None,
                  normal: Sequence[float] | None = None,
                  names: Sequence[str] | None = None) -> list[int]:
    """The indices of the images in reading order (see the module's docstring).

    ``positions`` are ImagePositionPatient per image (None where missing), ``normal`` the stack's slice normal,
    ``names`` a tie-breaker (file paths).
    """
    n = len(instance_numbers)
    names = list(names) if names is not None else [""] * n

    def by_number(i: int) -> tuple:
        v = instance_numbers[i]
        return (v is None, v if v is not None else 0, names[i])

    if instance_numbers_usable(instance_numbers):
        return sorted(range(n), key=lambda i: instance_numbers[i])
    if normal is not None and positions is not None and len(positions) == n \
            and all(p is not None for p in positions):
        axis = max(range(3), key=lambda k: abs(float(normal[k])))
        sign = _READING_SIGN[axis] * (1.0 if float(normal[axis]) > 0 else -1.0)
        along = [sign * sum(float(p[k]) * float(normal[k]) for k in range(3)) for p in positions]  # type: ignore
        return sorted(range(n), key=lambda i: (round(along[i], 4), by_number(i)))
    return sorted(range(n), key=by_number)


class SeriesFiles(list):
    """The files of one series as the viewer's input (a list of paths), ordered from the archive index.

    ``first_known``: the first path is the first image of its stack in reading order, known from the index
    alone (InstanceNumbers usable), so the viewer may show it before it has read every header. ``count``: the
    number of images expected in that stack (for "Im 1/300" before the stack is built).
    """

    first_known: bool = False
    count: int = 0


def series_files(rows: Sequence[dict]) -> SeriesFiles:
    """Order one series' instance rows (archive index: ``path``, ``InstanceNumber``, ``Rows``, ``Columns``,
    ``NumberOfFrames``) so that its first path is the image the viewer shows first, when the index says which.

    The first image belongs to the series' main stack, approximated by the most common image size (and, without
    usable numbers, orientation); with usable InstanceNumbers it is the lowest one, without them the first in
    anatomical order from the index's ImagePositionPatient/ImageOrientationPatient (see :func:`reading_order`).
    When the index has neither, the order is the index's and ``first_known`` is False: the viewer then shows
    nothing until the sorted stack is built.
    """
    rows = list(rows)
    out = SeriesFiles(r["path"] for r in rows)
    images = [r for r in rows if r.get("Rows") and r.get("Columns")]
    if not images:
        return out
    sizes: dict[tuple, int] = {}
    for r in images:
        sizes[(r["Rows"], r["Columns"])] = sizes.get((r["Rows"], r["Columns"]), 0) + 1
    size = max(sizes, key=lambda s: sizes[s])
    main = [r for r in images if (r["Rows"], r["Columns"]) == size]
    if not instance_numbers_usable([r.get("InstanceNumber") for r in images]):
        first, main = _first_by_position(main)
        if first is None:
            return out
    else:
        first = min(main, key=lambda r: int(r["InstanceNumber"]))
    frames = int(first.get("NumberOfFrames") or 1)
    rest = sorted((r for r in rows if r is not first),
                  key=lambda r: (r.get("InstanceNumber") is None, r.get("InstanceNumber") or 0, r["path"]))
    out = SeriesFiles([first["path"]] + [r["path"] for r in rest])
    out.first_known = True
    out.count = frames if frames > 1 else len(main)
    return out


def _first_by_position(main: list[dict]) -> tuple[dict | None, list[dict]]:
    """The first image in anatomical order of the rows of the dominant orientation, from the index's geometry
    (rows indexed before it was kept have none: then None). Also returns the rows of that stack."""
    if not main or any(r.get("ImagePositionPatient") is None or r.get("ImageOrientationPatient") is None
                       or int(r.get("NumberOfFrames") or 1) > 1 for r in main):
        return None, main
    groups: dict[tuple, list[dict]] = {}
    for r in main:
        groups.setdefault(tuple(round(float(v), 3) + 0.0 for v in r["ImageOrientationPatient"]), []).append(r)
    orientation, stack = max(groups.items(), key=lambda kv: len(kv[1]))
    row, col = orientation[:3], orientation[3:]
    normal = (row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0])
    order = reading_order([r.get("InstanceNumber") for r in stack], [r["ImagePositionPatient"] for r in stack],
                          normal, [r["path"] for r in stack])
    return stack[order[0]], stack


__all__ = ["SeriesFiles", "instance_numbers_usable", "reading_order", "series_files"]
