"""A volume from a sorted stack: the reconstructability check, the regular grid, tilt/uneven resampling.

The volume keeps the frames *as stored* (int16/uint16...) in one C-contiguous ``(slices, rows, cols)`` buffer.
For a regular stack that buffer is the stack's own frame cache (zero copy: 1.0x the raw size); only a stack that
must be reordered (enhanced multi-frame in acquisition order, one time point of a 4D series) or resampled
(gantry tilt, uneven spacing) gets a buffer of its own.

Planning (:func:`plan_volume`) reads headers only and names the reason when a stack cannot be reconstructed
(:class:`NotReconstructable`); building (:func:`build_volume`) decodes and, when needed, resamples.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from workstation.imaging.errors import ImagingError
from workstation.imaging.presentation import Presentation
from workstation.imaging.stack import Stack

log = logging.getLogger(__name__)

MIN_IMAGES = 3
_SAME_POSITION_MM = 0.01  # frames closer than this along the normal are at the same position
_PARALLEL_DEG = 0.5  # normals within this angle are parallel (scanners round orientations)
_TILT_DEG = 0.1  # a step direction this far from the normal is a tilt to resample
_UNEVEN_FRACTION = 0.02  # a gap this much off the median (plus 0.01 mm) makes the spacing uneven


class NotReconstructable(ImagingError):
    """The images cannot form a volume; the message is the reason, worded for the reader."""


@dataclass
class Volume:
    """Voxels as stored plus their patient geometry.

    ``data[k, r, c]`` lies at ``origin + k*spacing[0]*axes[0] + r*spacing[1]*axes[1] + c*spacing[2]*axes[2]``
    (LPS, mm): ``axes[2]`` is the image row direction (along a row, to increasing column),
    ``axes[1]`` the column direction (down the rows), ``axes[0]`` the slice direction. The axes are orthonormal.
    """

    data: np.ndarray
    origin: np.ndarray
    axes: np.ndarray
    spacing: np.ndarray
    presentation: Presentation
    frame_of_reference_uid: str | None = None
    warnings: list[str] = field(default_factory=list)
    description: str = ""
    phase: int = 0
    phase_count: int = 1
    pad_value: float = 0.0

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.data.shape[:3])  # type: ignore[return-value]

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes)

    @property
    def matrix(self) -> np.ndarray:
        """3x3: index (k, r, c) offsets -> patient offsets (mm)."""
        return (self.axes * self.spacing[:, None]).T

    def index_to_patient(self, kri: Sequence[float] | np.ndarray) -> np.ndarray:
        """Patient LPS (mm) of a (k, r, c) index (fractional, or an (..., 3) array of them)."""
        return np.asarray(kri, dtype=float) @ self.matrix.T + self.origin

    def patient_to_index(self, point: Sequence[float] | np.ndarray) -> np.ndarray:
        """Fractional (k, r, c) index of patient point(s)."""
        rel = np.asarray(point, dtype=float) - self.origin
        return (rel @ self.axes.T) / self.spacing

    @property
    def centre(self) -> np.ndarray:
        return self.index_to_patient((np.asarray(self.shape) - 1) / 2.0)

    def corners(self) -> np.ndarray:
        """The 8 corner voxel centres (LPS)."""
        n = np.asarray(self.shape) - 1
        idx = np.array([[a, b, c] for a in (0, n[0]) for b in (0, n[1]) for c in (0, n[2])], dtype=float)
        return self.index_to_patient(idx)


@dataclass
class VolumePlan:
    """What :func:`build_volume` will do with a stack (from headers only)."""

    stack: Stack
    phases: list[list[int]]  # stack frame indices per time point, sorted along the normal
    normal: np.ndarray
    row_dir: np.ndarray
    col_dir: np.ndarray
    pixel_spacing: tuple[float, float]  # (between rows, between columns)
    positions: list[np.ndarray]  # per phase: (n, 3) image positions in the phase's order
    tilt_deg: float = 0.0
    uneven: tuple[float, float] | None = None  # (min gap, max gap) when resampled for uneven spacing
    warnings: list[str] = field(default_factory=list)

    @property
    def resample(self) -> bool:
        return self.tilt_deg > _TILT_DEG or self.uneven is not None

    @property
    def phase_count(self) -> int:
        return len(self.phases)

    def bytes_needed(self) -> int:
        """Memory the built volume adds to the stack's own frame cache (0 for a zero-copy volume)."""
        stack = self.stack
        n = len(self.phases[0])
        if not self.resample:
            return 0 if self._in_stack_order() else n * stack.frame_bytes
        rows, cols, nz = self._resampled_shape()
        return rows * cols * nz * stack.dtype.itemsize

    def _in_stack_order(self) -> bool:
        return len(self.phases) == 1 and self.phases[0] == list(range(len(self.stack)))

    def _grid(self, phase: int) -> tuple[np.ndarray, np.ndarray, float, int]:
        pos = self.positions[phase]
        d = pos @ self.normal
        inplane = np.stack([(pos - pos[0]) @ self.row_dir, (pos - pos[0]) @ self.col_dir], axis=1)
        gaps = np.diff(d)
        dz = float(np.median(gaps))
        nz = int(round((d[-1] - d[0]) / dz)) + 1
        return d, inplane, dz, nz

    def _resampled_shape(self, phase: int = 0) -> tuple[int, int, int]:
        _, inplane, _, nz = self._grid(phase)
        sr, sc = self.pixel_spacing
        extra_c = int(np.ceil((inplane[:, 0].max() - inplane[:, 0].min()) / sc - 1e-6))
        extra_r = int(np.ceil((inplane[:, 1].max() - inplane[:, 1].min()) / sr - 1e-6))
        return self.stack.rows + extra_r, self.stack.columns + extra_c, nz


def check_series(stacks: Sequence[Stack]) -> Stack:
    """The one stack of a series that can become a volume, or :class:`NotReconstructable` saying why not."""
    if not stacks:
        raise NotReconstructable("no images")
    if len(stacks) > 1:
        series = {str(s.header(0).get("SeriesInstanceUID", "") or "") for s in stacks}
        if len(series) > 1:
            raise NotReconstructable(f"{len(series)} series mixed; a volume is made of one")
        localizers = [s for s in stacks if _is_localizer(s)]
        if localizers:
            n = sum(len(s) for s in localizers)
            raise NotReconstructable(f"localizer images mixed in ({n} of {sum(len(s) for s in stacks)} images)")
        sizes = {(s.rows, s.columns) for s in stacks}
        if len(sizes) > 1:
            listed = ", ".join(f"{c}x{r}" for r, c in sorted(sizes))
            raise NotReconstructable(f"mixed image sizes ({listed})")
        normals = [s.normal for s in stacks if s.normal is not None]
        if len(normals) > 1 and any(_angle(normals[0], n) > _PARALLEL_DEG for n in normals[1:]):
            raise NotReconstructable(f"images not parallel ({len(stacks)} different orientations)")
        if len({s.geometry(0).frame_of_reference_uid for s in stacks}) > 1:
            raise NotReconstructable("images from several frames of reference")
        raise NotReconstructable(f"the images form {len(stacks)} separate stacks")
    return stacks[0]


def _is_localizer(stack: Stack) -> bool:
    image_type = stack.header(0).get("ImageType") or []
    values = [str(v).upper() for v in (image_type if not isinstance(image_type, str) else [image_type])]
    return "LOCALIZER" in values or "SCOUT" in values


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(abs(float(np.dot(a, b))), -1.0, 1.0))))


def plan_volume(stack: Stack) -> VolumePlan:
    """Check that ``stack`` can be reconstructed and plan how; raises :class:`NotReconstructable` with the reason."""
    n = len(stack)
    if n < MIN_IMAGES:
        raise NotReconstructable(f"too few images ({n}; a volume needs at least {MIN_IMAGES})")
    if stack.is_color:
        raise NotReconstructable("color images are not reconstructed")
    geos = [stack.geometry(i) for i in range(n)]
    missing = sum(g.image_position is None for g in geos)
    if missing:
        raise NotReconstructable(f"{missing} of {n} images have no ImagePositionPatient")
    if any(g.image_orientation is None for g in geos):
        raise NotReconstructable("images without ImageOrientationPatient")
    if any(g.pixel_spacing is None for g in geos):
        raise NotReconstructable("images without PixelSpacing")
    if _is_localizer(stack):
        raise NotReconstructable("localizer images")
    if len({g.frame_of_reference_uid for g in geos}) > 1:
        raise NotReconstructable("images from several frames of reference")
    o = np.asarray(geos[0].image_orientation, dtype=float)
    row_dir, col_dir = o[:3] / np.linalg.norm(o[:3]), o[3:] / np.linalg.norm(o[3:])
    normal = geos[0].normal
    if normal is None or abs(float(np.dot(row_dir, col_dir))) > 1e-3:
        raise NotReconstructable("image orientation is not a pair of perpendicular directions")
    col_dir = np.cross(normal, row_dir)  # exactly orthonormal
    for g in geos[1:]:
        if g.normal is None or _angle(normal, g.normal) > _PARALLEL_DEG:
            raise NotReconstructable("images not parallel")
    if any(not (0 < v < 1e4) for g in geos for v in g.pixel_spacing):  # type: ignore[union-attr]
        raise NotReconstructable("PixelSpacing is not a positive size")
    if len({tuple(np.round(g.pixel_spacing, 4)) for g in geos}) > 1:  # type: ignore[arg-type]
        raise NotReconstructable("pixel spacing differs between images")
    if len({_rescale(stack, i) for i in range(n)}) > 1:
        raise NotReconstructable("rescale slope/intercept differs between images")
    positions = np.array([g.image_position for g in geos], dtype=float)
    d = positions @ normal
    phases = _split_phases(stack, d)
    plan = VolumePlan(stack, phases, normal, row_dir, col_dir, tuple(geos[0].pixel_spacing),  # type: ignore[arg-type]
                      [positions[p] for p in phases])
    pos = plan.positions[0]
    if len(pos) < MIN_IMAGES:
        raise NotReconstructable(f"too few images per time point ({len(pos)})")
    gaps = np.abs(np.diff(pos @ normal))
    step = pos[-1] - pos[0]
    plan.tilt_deg = _angle(step / np.linalg.norm(step), normal)
    med = float(np.median(gaps))
    if np.any(np.abs(gaps - med) > _UNEVEN_FRACTION * med + 0.01):
        plan.uneven = (float(gaps.min()), float(gaps.max()))
    if plan.tilt_deg > _TILT_DEG:
        plan.warnings.append(f"gantry tilt {plan.tilt_deg:.1f}°, resampled")
    elif _inplane_jitter(pos, row_dir, col_dir, plan.pixel_spacing):
        plan.tilt_deg = max(plan.tilt_deg, _TILT_DEG + 1e-6)  # shifted slices: resample, say so
        plan.warnings.append("slices shifted within their plane, resampled")
    if plan.resample and pos[-1] @ normal < pos[0] @ normal:
        # The resampler walks along +normal.
        plan.phases = [p[::-1] for p in plan.phases]
        plan.positions = [p[::-1] for p in plan.positions]
    if plan.uneven is not None:
        plan.warnings.append(
            f"uneven slice spacing ({plan.uneven[0]:.2f}–{plan.uneven[1]:.2f} mm), resampled to {med:.2f} mm")
    return plan


def _inplane_jitter(pos: np.ndarray, row_dir, col_dir, spacing) -> bool:
    rel = pos - pos[0]
    u, v = rel @ row_dir, rel @ col_dir
    return bool(np.max(np.abs(u)) > 0.05 * spacing[1] or np.max(np.abs(v)) > 0.05 * spacing[0])


def _rescale(stack: Stack, i: int) -> tuple[float, float]:
    ds = stack.header(i)
    if "PerFrameFunctionalGroupsSequence" in ds:
        ml = stack.presentation(i).modality_lut
        slope, intercept = ml.slope, ml.intercept
    else:  # plain header values: building a Presentation per slice would cost more than the whole check
        slope, intercept = ds.get("RescaleSlope", 1.0), ds.get("RescaleIntercept", 0.0)
    try:
        return (round(float(slope if slope not in (None, "") else 1.0), 6),
                round(float(intercept if intercept not in (None, "") else 0.0), 6))
    except (TypeError, ValueError):
        return (1.0, 0.0)


_TEMPORAL_KEYS = ("TemporalPositionIdentifier", "TemporalPositionIndex", "TriggerTime", "AcquisitionNumber")


def _temporal_value(stack: Stack, i: int, key: str) -> object | None:
    ds = stack.header(i)
    per = ds.get("PerFrameFunctionalGroupsSequence")
    if per is not None:
        frame = stack.source(i).frame
        if key == "TemporalPositionIndex" and len(per) > frame:
            content = per[frame].get("FrameContentSequence")
            if content and content[0].get("TemporalPositionIndex") is not None:
                return int(content[0].TemporalPositionIndex)
        return None
    value = ds.get(key)
    return None if value in (None, "") else str(value)


def _split_phases(stack: Stack, d: np.ndarray) -> list[list[int]]:
    """Frame indices per time point, each sorted along the normal; one list when every position is unique."""
    order = sorted(range(len(d)), key=lambda i: (d[i], i))
    slots: list[list[int]] = []
    for i in order:
        if slots and abs(d[i] - d[slots[-1][0]]) < _SAME_POSITION_MM:
            slots[-1].append(i)
        else:
            slots.append([i])
    if all(len(s) == 1 for s in slots):
        # Keep the stack's own order when it is already monotone: the volume can then be the stack's buffer.
        return [list(range(len(d)))] if _monotone(d) else [order]
    crowded = sum(len(s) > 1 for s in slots)
    for key in _TEMPORAL_KEYS:
        values = [_temporal_value(stack, i, key) for i in range(len(d))]
        if any(v is None for v in values):
            continue
        per_slot = [sorted((_sortable(values[i]), i) for i in s) for s in slots]
        keys = [tuple(v for v, _ in p) for p in per_slot]
        if len(set(keys)) == 1 and len(set(keys[0])) == len(keys[0]):
            return [[p[t][1] for p in per_slot] for t in range(len(keys[0]))]
    raise NotReconstructable(
        f"several images per position ({crowded} of {len(slots)} positions) and no time point tells them apart")


def _sortable(v: object) -> tuple:
    try:
        return (0, float(v), "")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, 0.0, str(v))


def _monotone(d: np.ndarray) -> bool:
    diff = np.diff(d)
    return bool(np.all(diff > 0) or np.all(diff < 0))


def build_volume(
    plan: "VolumePlan | Stack",
    phase: int = 0,
    *,
    memory_budget: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Volume:
    """Decode (and when needed resample) one time point of a planned stack into a :class:`Volume`.

    ``memory_budget`` (bytes; default the stack's budget) must hold the stack's frames plus any buffer of the
    volume's own; otherwise :class:`NotReconstructable` says how much is needed. ``progress(done, total)``
    and ``cancel()`` are called per frame.
    """
    if isinstance(plan, Stack):
        plan = plan_volume(plan)
    if not 0 <= phase < plan.phase_count:
        raise NotReconstructable(f"no time point {phase + 1} (the series has {plan.phase_count})")
    stack = plan.stack
    budget = _available(stack) if memory_budget is None else int(memory_budget)
    needed = stack.raw_bytes + plan.bytes_needed()
    if needed > budget:
        raise NotReconstructable(
            f"the volume needs {needed / 2**20:.0f} MiB, more than the memory budget ({budget / 2**20:.0f} MiB; "
            "raise memory_budget_fraction in the settings)")
    if not stack.fits_budget and not plan.resample and plan.phase_count == 1:
        raise NotReconstructable(
            f"the series ({stack.raw_bytes / 2**20:.0f} MiB) does not fit the frame cache's memory budget "
            f"({stack.memory_budget / 2**20:.0f} MiB; raise memory_budget_fraction in the settings)")
    idx = plan.phases[phase]
    sr, sc = plan.pixel_spacing
    pos = plan.positions[phase]
    common = dict(presentation=stack.presentation(idx[0]), frame_of_reference_uid=stack.geometry(0).frame_of_reference_uid,
                  warnings=list(plan.warnings) + ([f"time point {phase + 1} of {plan.phase_count}"]
                                                  if plan.phase_count > 1 else []), description=stack.description, phase=phase,
                  phase_count=plan.phase_count)
    if plan.resample:
        data, origin, dz, pad = _resample(plan, phase, progress, cancel)
        spacing = np.array([dz, sr, sc])
    else:
        data = _gather(stack, idx, progress, cancel)
        origin = pos[0]
        d = pos @ plan.normal
        dz = float((d[-1] - d[0]) / (len(d) - 1))
        spacing = np.array([abs(dz), sr, sc])
        pad = None
    slice_dir = plan.normal if dz > 0 or plan.resample else -plan.normal
    axes = np.stack([slice_dir, plan.col_dir, plan.row_dir])
    vol = Volume(data=data, origin=np.asarray(origin, dtype=float), axes=axes, spacing=spacing, **common)
    vol.pad_value = float(pad if pad is not None else _low_value(data))
    return vol


def _available(stack: Stack) -> int:
    """Bytes the volume may take with the stack's frames: a shared budget less what the other stacks hold (the
    stack's own share shrinks to its raw size once its frames are cached, which would leave nothing to resample)."""
    shared = stack.shared_budget
    if shared is None:
        return stack.memory_budget
    others = sum(s.cached_bytes() for s in shared.stacks if s is not stack)
    return max(0, shared.total - others)


def _low_value(data: np.ndarray) -> float:
    """The value outside the volume: the lowest stored value (air on CT), from a sample of slices for speed."""
    step = max(1, data.shape[0] // 16)
    return float(data[::step].min())


def _gather(stack: Stack, idx: list[int], progress, cancel) -> np.ndarray:
    if idx == list(range(len(stack))):  # any monotone order is kept as the stack has it (_split_phases)
        return stack.volume(progress=progress, cancel=cancel)  # the stack's own buffer: zero copy
    out = np.empty((len(idx),) + stack.frame_shape, dtype=stack.dtype)
    for j, i in enumerate(idx):
        if cancel is not None and cancel():
            raise ImagingError("cancelled")
        out[j] = stack.get_frame(i)
        if progress is not None:
            progress(j + 1, len(idx))
    out.flags.writeable = False
    return out


def _resample(plan: VolumePlan, phase: int, progress, cancel) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Onto a grid perpendicular to the slices: each acquired slice shifted within its plane to the common grid,
    then linear interpolation between the two acquired slices around each output position."""
    from scipy import ndimage

    stack = plan.stack
    idx = plan.phases[phase]
    pos = plan.positions[phase]
    d, inplane, dz, nz = plan._grid(phase)
    rows, cols, nz = plan._resampled_shape(phase)
    sr, sc = plan.pixel_spacing
    umin, vmin = float(inplane[:, 0].min()), float(inplane[:, 1].min())
    dz = float((d[-1] - d[0]) / (nz - 1))
    origin = pos[0] + umin * plan.row_dir + vmin * plan.col_dir
    out = np.empty((nz, rows, cols), dtype=stack.dtype)
    pad = min(float(stack.get_frame(idx[0]).min()), float(stack.get_frame(idx[-1]).min()))
    info = np.iinfo(stack.dtype) if stack.dtype.kind in "iu" else None
    cache: dict[int, np.ndarray] = {}

    def placed(k: int) -> np.ndarray:
        # Acquired slice k on the output in-plane grid: its top-left pixel sits (u, v) mm from the grid's.
        if k not in cache:
            frame = stack.get_frame(idx[k]).astype(np.float32)
            fc, fr = (inplane[k, 0] - umin) / sc, (inplane[k, 1] - vmin) / sr
            ic, ir = int(np.floor(fc)), int(np.floor(fr))
            canvas = np.full((rows + 1, cols + 1), pad, dtype=np.float32)
            canvas[ir:ir + stack.rows, ic:ic + stack.columns] = frame
            if fc - ic > 1e-4 or fr - ir > 1e-4:
                canvas = ndimage.shift(canvas, (fr - ir, fc - ic), order=1, mode="constant", cval=pad,
                                       prefilter=False)
            if len(cache) >= 2:  # the sweep only moves forward: drop the oldest
                del cache[min(cache)]
            cache[k] = canvas[:rows, :cols]
        return cache[k]

    k = 0
    for j in range(nz):
        if cancel is not None and cancel():
            raise ImagingError("cancelled")
        z = d[0] + j * dz
        while k < len(d) - 2 and d[k + 1] < z - 1e-6:
            k += 1
        w = float(np.clip((z - d[k]) / (d[k + 1] - d[k]), 0.0, 1.0))
        a = placed(k)
        val = a if w < 1e-6 else (placed(k + 1) if w > 1 - 1e-6 else a * (1 - w) + placed(k + 1) * w)
        if info is not None:
            out[j] = np.clip(np.rint(val), info.min, info.max)
        else:
            out[j] = val
        if progress is not None:
            progress(j + 1, nz)
    out.flags.writeable = False
    return out, origin, dz, pad


def volume_from_stacks(stacks: Sequence[Stack], phase: int = 0, **kwargs) -> Volume:
    """Check a whole series (:func:`check_series`), plan its stack and build time point ``phase``."""
    return build_volume(plan_volume(check_series(stacks)), phase, **kwargs)


__all__ = ["MIN_IMAGES", "NotReconstructable", "Volume", "VolumePlan", "build_volume", "check_series",
           "plan_volume", "volume_from_stacks"]
