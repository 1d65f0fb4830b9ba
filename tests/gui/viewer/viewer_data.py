"""Generated DICOM series for the viewer tests and benchmark."""

from __future__ import annotations

import os

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def write_ct_series(folder, n: int, rows: int = 64, cols: int = 64, *, spacing=(0.5, 0.7), thickness=2.0,
                    j2k: bool = False, frame_of_reference: str | None = None, origin_z: float = 0.0,
                    step: float | None = None, series_number: int = 1, shuffle: bool = True,
                    plane: str = "axial", instance_order: str = "ascending", study_uid: str | None = None
                    ) -> list[str]:
    """Write ``n`` CT slices (int16 stored, slope 1 intercept -1024) and return their paths.

    ``plane`` "axial" (slice k at z = origin_z + k * step) or "coronal" (at y = origin_z + k * step).
    ``instance_order`` "ascending": InstanceNumber k + 1 (1 at the lowest z); "descending": InstanceNumber n - k
    (1 at the top, as a head-first axial CT numbers its images).

    Slice k holds a ramp plus ``k`` so tests can tell frames apart: HU at (r, c) = c + r + 10 * k - 100
    (stored = HU + 1024), with a bright disc (+600 HU) in the middle so pictures show something.
    """
    os.makedirs(folder, exist_ok=True)
    study, series = study_uid or generate_uid(), generate_uid()
    for_uid = frame_of_reference or generate_uid()
    step = thickness if step is None else step
    order = list(range(n))
    if shuffle:
        order = order[::-1]
    paths = []
    yy, xx = np.mgrid[0:rows, 0:cols]
    base = (xx + yy + 924).astype(np.int16)
    disc = ((xx - cols / 2) ** 2 + (yy - rows / 2) ** 2) < (min(rows, cols) / 5) ** 2
    for k in order:
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        sop = generate_uid()
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = CT_IMAGE_STORAGE
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, for_uid
        ds.PatientName, ds.PatientID, ds.PatientSex, ds.PatientAge = "Test^Patient", "P123", "F", "042Y"
        ds.StudyDate, ds.StudyDescription, ds.InstitutionName = "20240102", "Chest CT", "Test Hospital"
        ds.SeriesNumber, ds.SeriesDescription, ds.Modality = series_number, f"Axial {series_number}", "CT"
        ds.InstanceNumber = k + 1 if instance_order == "ascending" else n - k
        if plane == "coronal":
            ds.ImagePositionPatient = [-16.0, origin_z + k * step, 16.0]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
        else:
            ds.ImagePositionPatient = [-16.0, -16.0, origin_z + k * step]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = list(spacing)
        ds.SliceThickness = thickness
        ds.SliceLocation = origin_z + k * step
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        arr = (base + 10 * k + 600 * disc).astype(np.int16)
        ds.PixelData = arr.tobytes()
        if j2k:
            ds.compress(JPEG2000Lossless, arr, encoding_plugin="pylibjpeg")
        path = os.path.join(folder, f"ct_{k:05d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
