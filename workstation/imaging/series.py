"""Open files as image stacks: read headers, skip non-image objects, split and sort into stacks."""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable, Iterable

from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from workstation.imaging.decode import frame_count, read_header
from workstation.imaging.errors import ImagingError, NotAnImageError
from workstation.imaging.geometry import FrameGeometry, frame_geometry
from workstation.give_way import give_way
from workstation.imaging.stack import DEFAULT_MEMORY_BUDGET, FrameSource, MemoryBudget, Stack

log = logging.getLogger(__name__)

_ORIENTATION_DECIMALS = 3  # orientations equal to 1e-3 are the same stack (scanners round differently)


def has_pixels(ds: Dataset) -> bool:
    """Whether a header (read without pixel data) describes an image."""
    return all(k in ds for k in ("Rows", "Columns", "BitsAllocated")) and int(ds.get("Rows") or 0) > 0


def describe_object(ds: Dataset) -> str:
    """A short human description of what a non-image object is, e.g. 'Encapsulated PDF Storage (DOC)'."""
    sop = ds.get("SOPClassUID")
    name = UID(str(sop)).name if sop else "unknown SOP class"
    if sop and name == str(sop):
        name = f"SOP class {sop}"
    modality = ds.get("Modality")
    return f"{name} ({modality})" if modality else name


def open_file(path: str | Path, **kwargs) -> list[Stack]:
    """Open one file: see :func:`open_series`."""
    return open_series([path], **kwargs)


def open_series(
    paths: Iterable[str | Path],
    *,
    executor: Executor | None = None,
    memory_budget: "int | MemoryBudget" = DEFAULT_MEMORY_BUDGET,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Stack]:
    """Read the headers of ``paths`` and return their image stacks, largest first.

    Non-DICOM files and non-image objects are skipped; when nothing is an image, raises
    :class:`NotAnImageError` naming what was found. ``memory_budget`` (bytes) is shared between the stacks in
    proportion to their size; a :class:`MemoryBudget` object is shared with every other stack opened with it
    (e.g. one per viewer window). ``progress(done, total)`` and ``cancel()`` are checked per file.
    """
    paths = [str(p) for p in paths]
    headers: dict[str, Dataset] = {}
    others: list[str] = []
    for n, path in enumerate(paths):
        if cancel is not None and cancel():
            raise ImagingError("cancelled")
        if n:
            give_way()  # not before the first file: a window opening shows it as soon as it can
        try:
            ds = read_header(path)
        except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
            others.append(f"{Path(path).name}: not readable as DICOM ({exc})")
            continue
        if has_pixels(ds):
            headers[path] = ds
        else:
            others.append(describe_object(ds))
        if progress is not None:
            progress(n + 1, len(paths))
    if not headers:
        if not paths:
            raise NotAnImageError("no files given")
        kinds = sorted(set(others))
        raise NotAnImageError("not an image: " + "; ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else ""))

    groups = _group(headers)
    # A stack's frames share rows, columns, samples and bits (see _group): its first header gives its size.
    sizes = [_frame_bytes(headers[g[0][0].path]) * len(g) for g in groups]
    total = sum(sizes) or 1
    stacks = []
    for group, size in sorted(zip(groups, sizes), key=lambda t: -t[1]):
        sources = [s for s, _ in group]
        geometries = [g for _, g in group]
        if isinstance(memory_budget, MemoryBudget):
            budget: int | MemoryBudget = memory_budget
        else:
            budget = memory_budget if total <= memory_budget else max(int(memory_budget * size / total), 1)
        first = headers[sources[0].path]
        stacks.append(
            Stack(
                sources,
                headers,
                geometries,
                executor=executor,
                memory_budget=budget,
                normal=geometries[0].normal,
                description=_describe(first, len(sources)),
            )
        )
    return stacks


def _frame_bytes(ds: Dataset) -> int:
    spp = 3 if str(ds.get("PhotometricInterpretation", "")).strip() == "PALETTE COLOR" else int(
        ds.get("SamplesPerPixel", 1) or 1)
    itemsize = 1 if spp > 1 else max(1, (int(ds.get("BitsAllocated", 16) or 16) + 7) // 8)
    return int(ds.Rows) * int(ds.Columns) * spp * itemsize


def _describe(ds: Dataset, n: int) -> str:
    parts = [str(ds.get("Modality", "") or ""), str(ds.get("SeriesDescription", "") or "")]
    return " ".join(p for p in parts if p) + f" [{n} frame{'s' if n != 1 else ''}]"


def _orientation_key(geo: FrameGeometry) -> tuple | None:
    if geo.image_orientation is None:
        return None
    return tuple(round(v, _ORIENTATION_DECIMALS) + 0.0 for v in geo.image_orientation)


def _view_key(ds: Dataset) -> tuple[str, str]:
    """Laterality and view of a projection image: a mammography series holding RCC, LCC, RMLO and LMLO (or a chest
    series holding PA and lateral) is one stack per view, so each can hang in its own viewport and scrolling never
    jumps from one breast to the other. Cross-sectional images have neither, so their stacks are unchanged."""
    if ds.get("ImagePositionPatient") is not None:
        return ("", "")
    laterality = str(ds.get("ImageLaterality") or ds.get("Laterality") or "").strip().upper()
    return laterality, str(ds.get("ViewPosition") or "").strip().upper()


def _group(headers: dict[str, Dataset]) -> list[list[tuple[FrameSource, FrameGeometry]]]:
    """Split into stacks: each multi-frame file alone (split by orientation), single frames by
    series, frame of reference, orientation, size, color and (projection images) laterality and view; then sort
    each stack."""
    groups: dict[tuple, list[tuple[FrameSource, FrameGeometry]]] = defaultdict(list)
    for path, ds in headers.items():
        give_way()  # 2,000 headers take 100-200 ms here too
        uid = str(ds.get("SOPInstanceUID", "") or "")
        n = frame_count(ds)
        image_key = (
            int(ds.Rows),
            int(ds.Columns),
            str(ds.get("PhotometricInterpretation", "")).strip(),
            int(ds.get("SamplesPerPixel", 1) or 1),
            int(ds.get("BitsAllocated", 16) or 16),
        )
        if n > 1:
            for i in range(n):
                geo = frame_geometry(ds, i)
                groups[("mf", path, _orientation_key(geo))].append((FrameSource(path, i, uid), geo))
        else:
            geo = frame_geometry(ds, 0)
            key = (
                "sf",
                str(ds.get("SeriesInstanceUID", "") or ""),
                geo.frame_of_reference_uid or "",
                _orientation_key(geo),
                image_key,
                _view_key(ds),
            )
            groups[key].append((FrameSource(path, 0, uid), geo))
    out = []
    for key, members in groups.items():
        if key[0] == "sf":
            members = _sort_single_frames(members)
        out.append(members)
    return out


def _sort_single_frames(members: list[tuple[FrameSource, FrameGeometry]]) -> list[tuple[FrameSource, FrameGeometry]]:
    """Sort along the slice normal (ImagePositionPatient . normal) when every frame has geometry, else by
    InstanceNumber (then path, so the order is stable)."""
    normal = members[0][1].normal

    def inst(m: tuple[FrameSource, FrameGeometry]) -> tuple:
        n = m[1].instance_number
        return (n is None, n if n is not None else 0, m[0].path)

    if normal is not None and all(g.image_position is not None for _, g in members):
        dist = {id(m): m[1].position_along(normal) for m in members}
        if len({round(d, 4) for d in dist.values()}) == len(members):  # type: ignore[arg-type]
            return sorted(members, key=lambda m: (dist[id(m)], inst(m)))
        # Repeated positions (several phases at each location): position, then instance number.
        return sorted(members, key=lambda m: (round(dist[id(m)], 4), inst(m)))  # type: ignore[arg-type]
    return sorted(members, key=inst)


def sort_key_description(stack: Stack) -> str:
    """How a stack was ordered: 'position' or 'instance number' (for logs and tests)."""
    if stack.normal is not None and all(stack.geometry(i).image_position is not None for i in range(len(stack))):
        return "position"
    return "instance number"


__all__ = ["describe_object", "has_pixels", "open_file", "open_series", "sort_key_description"]
