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


def highdicom_gsps(image: Dataset, *, window=None, voi_lut=None, shape=None, annotations=True) -> Dataset:
    """A GSPS written by highdicom for ``image`` (full dataset): optional window (center, width), VOI LUT
    (first, uint16 table), Presentation LUT shape; with annotations, a polyline, circle, ellipse, point and a text."""
    import highdicom as hd

    layer = hd.pr.GraphicLayer(layer_name="MEASUREMENTS", order=1, description="test")
    objects = [
        hd.pr.GraphicObject("POLYLINE", np.array([[10.5, 20.5], [60.25, 70.75], [90.0, 30.0]]), "PIXEL"),
        hd.pr.GraphicObject("CIRCLE", np.array([[64.0, 64.0], [74.0, 64.0]]), "PIXEL"),
        hd.pr.GraphicObject("ELLIPSE", np.array([[40.0, 50.0], [80.0, 50.0], [60.0, 40.0], [60.0, 60.0]]), "PIXEL"),
        hd.pr.GraphicObject("POINT", np.array([[3.5, 4.5]]), "PIXEL"),
    ]
    texts = [hd.pr.TextObject("12.3 mm", "PIXEL", bounding_box=(30.0, 30.0, 60.0, 36.0))]
    kwargs = {}
    if annotations:
        kwargs["graphic_layers"] = [layer]
        kwargs["graphic_annotations"] = [hd.pr.GraphicAnnotation([image], layer, graphic_objects=objects,
                                                                 text_objects=texts)]
    if window is not None:
        kwargs["voi_lut_transformations"] = [hd.pr.SoftcopyVOILUTTransformation(window_center=window[0],
                                                                                 window_width=window[1])]
    if voi_lut is not None:
        kwargs["voi_lut_transformations"] = [hd.pr.SoftcopyVOILUTTransformation(
            voi_luts=[hd.VOILUT(voi_lut[0], np.asarray(voi_lut[1], dtype=np.uint16))])]
    if shape is not None:
        kwargs["presentation_lut_transformation"] = hd.PresentationLUTTransformation(presentation_lut_shape=shape)
    return hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[image], series_instance_uid=generate_uid(), series_number=900,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="tests", manufacturer_model_name="gsps.py",
        software_versions="1", device_serial_number="1", content_label="HIGHDICOM", **kwargs)


def add_overlay(ps: Dataset, bits: np.ndarray, layer: str = "OVERLAYS", group: int = 0x6000) -> None:
    """An overlay plane held by the PS (``bits``: rows x columns of 0/1, origin 1\\1), activated on ``layer``
    (a graphic layer of that name is added when missing)."""
    from pydicom.pixels import pack_bits

    rows, columns = bits.shape
    g = group << 16
    ps.add_new(g | 0x0010, "US", rows)
    ps.add_new(g | 0x0011, "US", columns)
    ps.add_new(g | 0x0040, "CS", "G")
    ps.add_new(g | 0x0050, "SS", [1, 1])
    ps.add_new(g | 0x0100, "US", 1)
    ps.add_new(g | 0x0102, "US", 0)
    ps.add_new(g | 0x1001, "CS", layer)
    ps.add_new(g | 0x3000, "OW", pack_bits(np.asarray(bits, dtype=np.uint8).ravel()))
    if layer not in [x.GraphicLayer for x in ps.get("GraphicLayerSequence", [])]:
        item = Dataset()
        item.GraphicLayer = layer
        item.GraphicLayerOrder = len(ps.get("GraphicLayerSequence", [])) + 1
        ps.GraphicLayerSequence = Sequence(list(ps.get("GraphicLayerSequence", [])) + [item])
