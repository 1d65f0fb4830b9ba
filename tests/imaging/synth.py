"""Generated CT-like series for sorting, caching and benchmark tests (written with pydicom, no network)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def slice_pixels(rows: int, cols: int, k: int) -> np.ndarray:
    """A recognizable int16 slice: its first pixel holds ``k`` (the slice's true position index)."""
    y, x = np.mgrid[0:rows, 0:cols]
    img = ((x * 7 + y * 3 + k * 11) % 2000 - 1000).astype(np.int16)
    img.flat[0] = k
    return img


def make_ct(
    path: Path,
    pixels: np.ndarray,
    *,
    position: Sequence[float] | None,
    orientation: Sequence[float] | None = (1, 0, 0, 0, 1, 0),
    series_uid: str,
    for_uid: str | None,
    instance_number: int | None,
    study_uid: str = "1.2.826.0.1.3680043.8.498.1",
    window: tuple[float, float] | None = (40, 400),
    transfer_syntax: str = ExplicitVRLittleEndian,
) -> Path:
    """Write one CT slice (signed 16 bits, rescale -1024 -> HU) and return its path."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.PatientName = "Synthetic^Series"
    ds.PatientID = "SYNTH"
    ds.Modality = "CT"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    if for_uid:
        ds.FrameOfReferenceUID = for_uid
    if instance_number is not None:
        ds.InstanceNumber = instance_number
    if position is not None:
        ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
    if orientation is not None:
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in orientation]
    ds.PixelSpacing = ["0.7", "0.7"]
    ds.SliceThickness = "1.0"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = str(window[0]), str(window[1])
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<i2").tobytes()
    if transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(transfer_syntax, encoding_plugin="pylibjpeg" if "4.9" in transfer_syntax else "")
    ds.save_as(path, enforce_file_format=True)
    return path


def make_series(
    folder: Path,
    n: int,
    *,
    rows: int = 32,
    cols: int = 32,
    orientation: Sequence[float] = (1, 0, 0, 0, 1, 0),
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    spacing: float = 1.25,
    shuffle: bool = True,
    series_uid: str | None = None,
    for_uid: str | None = None,
    with_position: bool = True,
    instance_numbers: bool = True,
    seed: int = 1,
    prefix: str = "s",
    transfer_syntax: str = ExplicitVRLittleEndian,
    pixels: np.ndarray | None = None,
    jitter: float = 0.0,
) -> list[Path]:
    """Write ``n`` slices along the orientation normal; file names and InstanceNumbers are shuffled so only
    the geometry gives the true order. Slice k's first pixel is k. Returns the paths in true order."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or generate_uid()
    for_uid = for_uid if for_uid is not None else generate_uid()
    o = np.asarray(orientation, dtype=float)
    normal = np.cross(o[:3], o[3:])
    normal /= np.linalg.norm(normal)
    names = list(range(n))
    numbers = list(range(1, n + 1))
    if shuffle:
        rnd = random.Random(seed)
        rnd.shuffle(names)
        rnd.shuffle(numbers)
    paths = []
    for k in range(n):
        # ``jitter`` shifts alternate slices within their plane (along the column direction): the projection
        # on the normal is unchanged but z alone no longer orders an oblique series.
        pos = np.asarray(origin, dtype=float) + normal * spacing * k + o[3:] * jitter * (-1) ** k
        data = pixels if pixels is not None else slice_pixels(rows, cols, k)
        if pixels is not None:
            data = data.copy()
            data.flat[0] = k
        paths.append(
            make_ct(
                folder / f"{prefix}{names[k]:05d}.dcm",
                data,
                position=pos if with_position else None,
                orientation=orientation if with_position else None,
                series_uid=series_uid,
                for_uid=for_uid,
                instance_number=numbers[k] if instance_numbers else None,
                transfer_syntax=transfer_syntax,
            )
        )
    return paths


def make_enhanced_ct(path: Path, n: int = 4, rows: int = 16, cols: int = 16) -> Path:
    """An enhanced CT multi-frame file: per-frame PlanePosition, shared orientation/spacing, per-frame rescale."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = pydicom.uid.EnhancedCTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = pydicom.uid.EnhancedCTImageStorage
    ds.Modality = "CT"
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.NumberOfFrames = n
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    shared = Dataset()
    po = Dataset()
    po.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]  # sagittal
    pm = Dataset()
    pm.PixelSpacing = [0.5, 0.6]
    pm.SliceThickness = 2.0
    shared.PlaneOrientationSequence = [po]
    shared.PixelMeasuresSequence = [pm]
    ds.SharedFunctionalGroupsSequence = [shared]
    per = []
    for k in range(n):
        item = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = [10.0 + 2.0 * k, -50.0, 60.0]
        item.PlanePositionSequence = [pp]
        pv = Dataset()
        pv.RescaleSlope = 1
        pv.RescaleIntercept = -1024 - k  # per frame, so tests can tell frames apart
        pv.RescaleType = "HU"
        item.PixelValueTransformationSequence = [pv]
        voi = Dataset()
        voi.WindowCenter = 40 + k
        voi.WindowWidth = 400
        voi.WindowCenterWidthExplanation = f"frame{k}"
        item.FrameVOILUTSequence = [voi]
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = per
    frames = np.stack([np.full((rows, cols), 1000 + k, dtype=np.uint16) for k in range(n)])
    ds.PixelData = frames.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path
