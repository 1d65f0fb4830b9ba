"""Synthetic US / CR / DX files with objects of known size, for the calibration tests (imaging and viewer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

US_SOP = "1.2.840.10008.5.1.4.1.1.6.1"
CR_SOP = "1.2.840.10008.5.1.4.1.1.1"
DX_SOP = "1.2.840.10008.5.1.4.1.1.1.1"
SC_SOP = "1.2.840.10008.5.1.4.1.1.7"


def _base(sop: str, modality: str, rows: int, cols: int, pixels: np.ndarray) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "CALIB^PHANTOM", "CAL1", modality
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20260101", 1, 1
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def bar_image(rows: int, cols: int, row: int, c0: int, c1: int, value: int = 3000, noise: int = 200) -> np.ndarray:
    """Background noise with a bright horizontal bar covering columns c0..c1-1 of rows row-2..row+2."""
    rng = np.random.default_rng(7)
    img = rng.integers(100, 100 + noise, size=(rows, cols)).astype(np.uint16)
    img[row - 2: row + 3, c0:c1] = value
    return img


def bar_ends(arr: np.ndarray, row: int, threshold: int = 1500) -> tuple[tuple[float, float], tuple[float, float]]:
    """The bar's outer edges on ``row`` as image points (left edge of its first pixel, right edge of its last)."""
    cols = np.nonzero(arr[row] > threshold)[0]
    return (float(cols[0]), row + 0.5), (float(cols[-1] + 1), row + 0.5)


def write_us(path: Path) -> Path:
    """A 400x600 ultrasound: region 1 is a B-mode image (0.1 mm/px, cm units) with a 10 mm bar (100 px) at row
    150; region 2 is a spectral Doppler strip below (x in s, y in cm/s, baseline at its row 80, 0.5 cm/s/px)."""
    rows, cols = 400, 600
    img = bar_image(rows, cols, 150, 250, 350)
    ds = _base(US_SOP, "US", rows, cols, img)
    b = Dataset()
    b.RegionSpatialFormat, b.RegionDataType, b.RegionFlags = 1, 1, 0
    b.RegionLocationMinX0, b.RegionLocationMinY0, b.RegionLocationMaxX1, b.RegionLocationMaxY1 = 50, 20, 549, 249
    b.PhysicalUnitsXDirection, b.PhysicalUnitsYDirection = 3, 3  # cm
    b.PhysicalDeltaX, b.PhysicalDeltaY = 0.01, 0.01
    d = Dataset()
    d.RegionSpatialFormat, d.RegionDataType, d.RegionFlags = 3, 3, 0
    d.RegionLocationMinX0, d.RegionLocationMinY0, d.RegionLocationMaxX1, d.RegionLocationMaxY1 = 50, 260, 549, 389
    d.PhysicalUnitsXDirection, d.PhysicalUnitsYDirection = 4, 7  # seconds, cm/s
    d.PhysicalDeltaX, d.PhysicalDeltaY = 0.01, -0.5
    d.ReferencePixelX0, d.ReferencePixelY0 = 0, 80
    d.ReferencePixelPhysicalValueX, d.ReferencePixelPhysicalValueY = 0.0, 0.0
    ds.SequenceOfUltrasoundRegions = [b, d]
    ds.save_as(path, enforce_file_format=True)
    return path


def write_projection(path: Path, modality: str = "CR", *, imager=None, pixel=None, ermf=None, cal_type=None,
                     bar_px: int = 100) -> Path:
    """A 256x512 radiograph with a ``bar_px`` long bar at row 128, and the spacing attributes given."""
    rows, cols = 256, 512
    img = bar_image(rows, cols, 128, 200, 200 + bar_px)
    ds = _base(CR_SOP if modality == "CR" else DX_SOP, modality, rows, cols, img)
    if imager is not None:
        ds.ImagerPixelSpacing = list(imager)
    if pixel is not None:
        ds.PixelSpacing = list(pixel)
    if ermf is not None:
        ds.EstimatedRadiographicMagnificationFactor = ermf
    if cal_type is not None:
        ds.PixelSpacingCalibrationType = cal_type
    ds.save_as(path, enforce_file_format=True)
    return path


def write_unspaced(path: Path, bar_px: int = 80) -> Path:
    """A secondary capture without any spacing, with a ``bar_px`` long bar at row 64."""
    img = bar_image(128, 256, 64, 40, 40 + bar_px)
    ds = _base(SC_SOP, "OT", 128, 256, img)
    ds.save_as(path, enforce_file_format=True)
    return path
