"""Build Grayscale Softcopy Presentation States with pydicom for tests (no dcmtk needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

GSPS = "1.2.840.10008.5.1.4.1.1.11.1"


def image_ref(image: Dataset, frames=()) -> Dataset:
    r = Dataset()
    r.ReferencedSOPClassUID = image.SOPClassUID
    r.ReferencedSOPInstanceUID = image.SOPInstanceUID
    if frames:
        r.ReferencedFrameNumber = list(frames)
    return r


def make_gsps(image: Dataset, *, shape: str = "IDENTITY") -> Dataset:
    """A minimal valid GSPS referencing ``image``: whole displayed area, no VOI, the given LUT shape."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = GSPS
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = GSPS
    ds.Modality = "PR"
    ds.StudyInstanceUID = image.get("StudyInstanceUID", generate_uid())
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = image.get("PatientName", "")
    ds.PatientID = image.get("PatientID", "")
    ds.ContentLabel = "TEST"
    ds.ContentDescription = "made by tests"
    ds.ContentCreatorName = "Tester^Unit"
    ds.PresentationCreationDate = "20260101"
    ds.PresentationCreationTime = "120000"
    series = Dataset()
    series.SeriesInstanceUID = image.get("SeriesInstanceUID", generate_uid())
    series.ReferencedImageSequence = Sequence([image_ref(image)])
    ds.ReferencedSeriesSequence = Sequence([series])
    area = Dataset()
    area.DisplayedAreaTopLeftHandCorner = [1, 1]
    area.DisplayedAreaBottomRightHandCorner = [int(image.Columns), int(image.Rows)]
    area.PresentationSizeMode = "SCALE TO FIT"
    area.PresentationPixelAspectRatio = [1, 1]
    ds.DisplayedAreaSelectionSequence = Sequence([area])
    ds.PresentationLUTShape = shape
    return ds


def set_window(ps: Dataset, center: float, width: float, refs=None) -> None:
    item = Dataset()
    if refs:
        item.ReferencedImageSequence = Sequence(refs)
    item.WindowCenter = center
    item.WindowWidth = width
    ps.SoftcopyVOILUTSequence = Sequence([item])


def set_voi_lut(ps: Dataset, first: int, table: np.ndarray, bits: int, n: int | None = None) -> None:
    lut = Dataset()
    lut.LUTDescriptor = [len(table) if n is None else n, first, bits]
    lut.LUTData = [int(v) for v in table]
    lut["LUTData"].VR = "US"
    lut.LUTExplanation = "test LUT"
    item = Dataset()
    item.VOILUTSequence = Sequence([lut])
    ps.SoftcopyVOILUTSequence = Sequence([item])


def add_annotation(ps: Dataset, layer: str, graphics=(), texts=(), refs=None) -> None:
    """graphics: (type, [c0, r0, c1, r1, ...]) pairs; texts: (text, anchor (c, r))."""
    if "GraphicLayerSequence" not in ps:
        ps.GraphicLayerSequence = Sequence()
    if layer not in [x.GraphicLayer for x in ps.GraphicLayerSequence]:
        lay = Dataset()
        lay.GraphicLayer = layer
        lay.GraphicLayerOrder = len(ps.GraphicLayerSequence) + 1
        ps.GraphicLayerSequence.append(lay)
    item = Dataset()
    if refs:
        item.ReferencedImageSequence = Sequence(refs)
    item.GraphicLayer = layer
    objs = []
    for gtype, data in graphics:
        g = Dataset()
        g.GraphicAnnotationUnits = "PIXEL"
        g.GraphicDimensions = 2
        g.NumberOfGraphicPoints = len(data) // 2
        g.GraphicData = [float(v) for v in data]
        g.GraphicType = gtype
        g.GraphicFilled = "N"
        objs.append(g)
    if objs:
        item.GraphicObjectSequence = Sequence(objs)
    tobjs = []
    for text, anchor in texts:
        t = Dataset()
        t.UnformattedTextValue = text
        t.AnchorPointAnnotationUnits = "PIXEL"
        t.AnchorPoint = [float(anchor[0]), float(anchor[1])]
        t.AnchorPointVisibility = "Y"
        tobjs.append(t)
    if tobjs:
        item.TextObjectSequence = Sequence(tobjs)
    if "GraphicAnnotationSequence" not in ps:
        ps.GraphicAnnotationSequence = Sequence()
    ps.GraphicAnnotationSequence.append(item)


def save(ds: Dataset, path: Path) -> Path:
    ds.save_as(str(path), enforce_file_format=True)
    return path
