"""Volume phantoms with analytic truth: spheres at known patient coordinates (LPS, mm) written as DICOM series.

Every pixel's value is computed from the geometry its own header claims (anti-aliased sphere edges), so a
reconstruction that honours the claimed geometry puts each sphere exactly where it is here, whatever the
acquisition: gantry tilt, uneven spacing, oblique planes, enhanced multi-frame, several time points.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, EnhancedCTImageStorage, ExplicitVRLittleEndian, generate_uid

BACKGROUND = 24  # stored value (= -1000 HU with intercept -1024): air
SPHERE = 1024 + 1000  # stored value inside a sphere (1000 HU)


@dataclass(frozen=True)
class Sphere:
    centre: tuple[float, float, float]
    radius: float
    value: int = SPHERE - BACKGROUND  # added to the background inside


DEFAULT_SPHERES = (
    Sphere((12.0, -8.0, 20.0), 9.0),
    Sphere((-20.0, 15.0, 34.0), 7.0),
)


def rotation(axis: Sequence[float], degrees: float) -> np.ndarray:
    a = np.asarray(axis, dtype=float)
    a /= np.linalg.norm(a)
    t = np.radians(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


def slice_pixels(position, orientation, spacing, rows, cols, spheres=DEFAULT_SPHERES) -> np.ndarray:
    """int16 stored values of one image whose pixel (r, c) centre is at position + c*sc*row + r*sr*col."""
    o = np.asarray(orientation, dtype=float)
    row, col = o[:3], o[3:]
    r, c = np.mgrid[0:rows, 0:cols]
    pts = (np.asarray(position, dtype=float) + (c * spacing[1])[..., None] * row
           + (r * spacing[0])[..., None] * col)
    img = np.full((rows, cols), float(BACKGROUND))
    edge = float(min(spacing))
    for s in spheres:
        dist = np.linalg.norm(pts - np.asarray(s.centre), axis=-1)
        img += s.value * np.clip((s.radius - dist) / edge + 0.5, 0.0, 1.0)
    return np.rint(img).astype(np.int16)


def _base(sop_class: str, series_uid: str, for_uid: str, study_uid: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.PatientName = "Phantom^Spheres"
    ds.PatientID = "PHANTOM"
    ds.Modality = "CT"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = for_uid
    ds.SeriesDescription = "sphere phantom"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.WindowCenter, ds.WindowWidth = "0", "2000"
    return ds


def write_series(
    folder: Path,
    positions: Sequence[Sequence[float]],
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    *,
    spacing: tuple[float, float] = (1.5, 1.5),
    rows: int = 48,
    cols: int = 48,
    spheres: Sequence[Sphere] = DEFAULT_SPHERES,
    extra: Sequence[dict] | None = None,
    orientations: Sequence[Sequence[float]] | None = None,
    sizes: Sequence[tuple[int, int]] | None = None,
    series_uid: str | None = None,
    for_uid: str | None = None,
    study_uid: str | None = None,
    shuffle: bool = True,
    seed: int = 3,
) -> list[Path]:
    """One single-frame CT image per position (file names and InstanceNumbers shuffled: only the geometry
    orders them). ``extra[i]`` adds attributes to image i (None values delete); ``orientations``/``sizes``
    override per image. Returns the paths in the given order."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    for_uid, study_uid = for_uid or generate_uid(), study_uid or generate_uid()
    order = list(range(len(positions)))
    if shuffle:
        random.Random(seed).shuffle(order)
    paths = []
    for i, pos in enumerate(positions):
        orient = orientations[i] if orientations is not None else orientation
        r, c = sizes[i] if sizes is not None else (rows, cols)
        ds = _base(CTImageStorage, series_uid, for_uid, study_uid)
        ds.InstanceNumber = order[i] + 1
        ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
        ds.ImageOrientationPatient = [f"{v:.8f}" for v in orient]
        ds.PixelSpacing = [f"{v:.6f}" for v in spacing]
        ds.SliceThickness = "1.0"
        ds.Rows, ds.Columns = r, c
        ds.PixelData = slice_pixels(pos, orient, spacing, r, c, spheres).astype("<i2").tobytes()
        for key, value in (extra[i] if extra is not None else {}).items():
            if value is None:
                if key in ds:
                    delattr(ds, key)
            else:
                setattr(ds, key, value)
        path = folder / f"im{order[i]:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def stack_positions(origin: Sequence[float], step: Sequence[float], n: int) -> list[np.ndarray]:
    return [np.asarray(origin, dtype=float) + k * np.asarray(step, dtype=float) for k in range(n)]


def regular(folder: Path, n: int = 40, gap: float = 1.5, **kw) -> list[Path]:
    """Axial, head-first stack covering both default spheres."""
    return write_series(folder, stack_positions((-36.0, -36.0, -2.0), (0, 0, gap), n), **kw)


def tilted(folder: Path, degrees: float, n: int = 44, gap: float = 1.2, **kw) -> list[Path]:
    """Gantry tilt: image planes rotated about the patient's left-right axis, table steps along z."""
    t = np.radians(degrees)
    orientation = (1.0, 0.0, 0.0, 0.0, float(np.cos(t)), float(-np.sin(t)))
    # The middle image is centred on the spheres' region.
    origin = np.array([-36.0, -36.0 * np.cos(t), 27.0 + 36.0 * np.sin(t)]) - np.array([0, 0, gap * n / 2])
    return write_series(folder, stack_positions(origin, (0, 0, gap), n), orientation, **kw)


def uneven(folder: Path, **kw) -> list[Path]:
    """Axial stack whose gaps alternate 1 mm, 2 mm and 3 mm."""
    z, positions = -2.0, []
    gaps = [1.0, 2.0, 3.0]
    k = 0
    while z < 44.0:
        positions.append(np.array([-36.0, -36.0, z]))
        z += gaps[k % 3]
        k += 1
    return write_series(folder, positions, **kw)


def oblique(folder: Path, n: int = 46, gap: float = 1.4, **kw) -> list[Path]:
    """Images in an oblique plane (rotated 30° about one axis then 20° about another), stepped along normal."""
    rot = rotation((1, 0.3, 0), 30) @ rotation((0, 0, 1), 20)
    row, col = rot @ np.array([1.0, 0, 0]), rot @ np.array([0, 1.0, 0])
    normal = np.cross(row, col)
    centre = np.array([-4.0, 3.0, 27.0])
    half = 24 * 1.5
    origin = centre - half * row - half * col - normal * gap * n / 2
    return write_series(folder, stack_positions(origin, normal * gap, n), tuple(row) + tuple(col), **kw)


def enhanced(path: Path, n: int = 40, gap: float = 1.5, rows: int = 48, cols: int = 48,
             phases: Sequence[Sequence[Sphere]] = (DEFAULT_SPHERES,), frame_order: str = "reversed") -> Path:
    """One enhanced CT multi-frame file: per-frame PlanePosition and FrameContent (TemporalPositionIndex per
    phase), shared orientation and spacing. Frames stored in ``frame_order`` ("reversed" feet-first,
    "interleaved" phase by phase at each position, or "sorted")."""
    ds = _base(EnhancedCTImageStorage, generate_uid(), generate_uid(), generate_uid())
    for key in ("RescaleIntercept", "RescaleSlope", "RescaleType", "WindowCenter", "WindowWidth"):
        delattr(ds, key)
    spacing = (1.5, 1.5)
    orientation = (1, 0, 0, 0, 1, 0)
    shared = Dataset()
    po, pm, pv = Dataset(), Dataset(), Dataset()
    po.ImageOrientationPatient = list(orientation)
    pm.PixelSpacing, pm.SliceThickness = list(spacing), gap
    pv.RescaleIntercept, pv.RescaleSlope, pv.RescaleType = -1024, 1, "HU"
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = [po], [pm]
    shared.PixelValueTransformationSequence = [pv]
    ds.SharedFunctionalGroupsSequence = [shared]
    frames, per = [], []
    slots = [(k, t) for k in range(n) for t in range(len(phases))]
    if frame_order == "reversed":
        slots = slots[::-1]
    elif frame_order == "interleaved":
        slots = [(k, t) for t in range(len(phases)) for k in range(n)][::-1]
        slots = slots[len(slots) // 2:] + slots[:len(slots) // 2]  # not monotone along the normal
    for k, t in slots:
        pos = (-36.0, -36.0, -2.0 + k * gap)
        item, pp, fc = Dataset(), Dataset(), Dataset()
        pp.ImagePositionPatient = list(pos)
        fc.TemporalPositionIndex = t + 1
        fc.InStackPositionNumber = k + 1
        item.PlanePositionSequence, item.FrameContentSequence = [pp], [fc]
        per.append(item)
        frames.append(slice_pixels(pos, orientation, spacing, rows, cols, phases[t]))
    ds.PerFrameFunctionalGroupsSequence = per
    ds.NumberOfFrames = len(frames)
    ds.Rows, ds.Columns = rows, cols
    ds.PixelData = np.stack(frames).astype("<i2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def four_d(folder: Path, phases: Sequence[Sequence[Sphere]], n: int = 30, gap: float = 2.0) -> list[Path]:
    """Single-frame images, one per position and time point (TemporalPositionIdentifier 1..T)."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid, for_uid, study_uid = generate_uid(), generate_uid(), generate_uid()
    paths = []
    positions = stack_positions((-36.0, -36.0, -2.0), (0, 0, gap), n)
    for t, spheres in enumerate(phases):
        sub = write_series(folder / f"t{t}", positions, spheres=spheres, series_uid=series_uid, for_uid=for_uid,
                           study_uid=study_uid, seed=t,
                           extra=[{"TemporalPositionIdentifier": t + 1, "NumberOfTemporalPositions": len(phases)}]
                           * n)
        paths += sub
    return paths


__all__ = ["BACKGROUND", "DEFAULT_SPHERES", "SPHERE", "Sphere", "enhanced", "four_d", "oblique", "regular",
           "rotation", "slice_pixels", "stack_positions", "tilted", "uneven", "write_series"]
