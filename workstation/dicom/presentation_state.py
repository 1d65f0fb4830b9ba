"""Read a Grayscale Softcopy Presentation State (PS3.3 A.33.1) into a plain object. No Qt, no rendering.

A presentation state says how other images are to be shown: modality LUT override, softcopy VOI (per referenced
image), Presentation LUT (shape or table), spatial transformation, displayed area (per referenced image), display
shutters, graphic layers and annotations. :func:`read_presentation_state` collects all of it; everything it does
not understand, and every damaged piece it had to leave out, becomes a named :class:`PSWarning` so a viewer can
say on screen what it is not showing (never a silent drop). A damaged piece never stops the rest: a graphic with
an odd number of coordinates is left out with a warning, the image itself still shows.

Coordinates are kept as the standard writes them. Graphic data, text corners and anchors are (column, row) pairs
in PIXEL units where the top left corner of the top left pixel is 0\\0 (PS3.3 C.10.5), so the centre of the pixel
in 1-based column c, row r is (c - 0.5, r - 0.5); DISPLAY units are fractions of the displayed area (kept, and
named in a warning). Shutter and displayed-area values are 1-based pixel indices on the image before rotation/flip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pydicom
from pydicom.dataset import Dataset

GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"
# Other presentation state classes: recognised as PS, read for what they share with GSPS, their extra parts named.
OTHER_PS_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.11.2": "Color Softcopy Presentation State",
    "1.2.840.10008.5.1.4.1.1.11.3": "Pseudo-Color Softcopy Presentation State",
    "1.2.840.10008.5.1.4.1.1.11.4": "Blending Softcopy Presentation State",
    "1.2.840.10008.5.1.4.1.1.11.5": "XA/XRF Grayscale Softcopy Presentation State",
    "1.2.840.10008.5.1.4.1.1.11.6": "Grayscale Planar MPR Volumetric Presentation State",
    "1.2.840.10008.5.1.4.1.1.11.8": "Advanced Blending Presentation State",
}
GRAPHIC_TYPES = ("POINT", "POLYLINE", "INTERPOLATED", "CIRCLE", "ELLIPSE")
# Minimum number of (column, row) points for each graphic type (CIRCLE: centre and a point on it; ELLIPSE: the
# two ends of the major axis, then of the minor axis).
_MIN_POINTS = {"POINT": 1, "POLYLINE": 2, "INTERPOLATED": 2, "CIRCLE": 2, "ELLIPSE": 4}


class NotAPresentationState(ValueError):
    """The file is DICOM (or not even that) but not a presentation state; the message says what it is."""


@dataclass(frozen=True)
class PSWarning:
    """Something of the presentation state that is not applied: ``code`` is stable (for tests and the viewer's
    legend), ``message`` is one line for the reader."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ImageRef:
    """One Referenced Image Sequence item; ``frames`` empty means every frame of that instance."""

    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()

    def matches(self, sop_instance_uid: str, frame: int = 1) -> bool:
        """True for that instance and (1-based) frame."""
        return self.sop_instance_uid == sop_instance_uid and (not self.frames or frame in self.frames)


def _applies(refs: tuple[ImageRef, ...], sop_instance_uid: str, frame: int) -> bool:
    # A module item without a Referenced Image Sequence applies to every image the PS references.
    return not refs or any(r.matches(sop_instance_uid, frame) for r in refs)


@dataclass(frozen=True)
class LUTTable:
    """A LUT Descriptor + LUT Data: input ``first_mapped`` maps to ``table[0]``; outputs have ``bits`` bits."""

    first_mapped: int
    table: np.ndarray = field(compare=False, repr=False)
    bits: int
    explanation: str = ""


@dataclass(frozen=True)
class ModalityLUTOverride:
    """The PS's Modality LUT module: replaces the image's rescale (or Modality LUT Sequence)."""

    slope: float = 1.0
    intercept: float = 0.0
    rescale_type: str = ""
    lut: LUTTable | None = None


@dataclass(frozen=True)
class SoftcopyVOI:
    """One Softcopy VOI LUT Sequence item: a window, or a VOI LUT, for the images it references."""

    refs: tuple[ImageRef, ...]
    center: float | None = None
    width: float | None = None
    function: str = "LINEAR"
    explanation: str = ""
    lut: LUTTable | None = None


@dataclass(frozen=True)
class DisplayedArea:
    """One Displayed Area Selection item; corners are (column, row), 1-based, on the image before rotation."""

    refs: tuple[ImageRef, ...]
    tlhc: tuple[int, int]
    brhc: tuple[int, int]
    size_mode: str = "SCALE TO FIT"
    pixel_spacing: tuple[float, float] | None = None  # (row spacing, column spacing) in mm, TRUE SIZE
    magnification: float | None = None  # MAGNIFY
    aspect_ratio: tuple[int, int] | None = None  # (vertical, horizontal)


@dataclass(frozen=True)
class Shutters:
    """Display Shutter and Bitmap Display Shutter modules. Geometry on the image before rotation, 1-based.

    ``rectangle`` = (left column, right column, upper row, lower row); ``circle`` = (centre row, centre column,
    radius); ``polygon`` = ((row, column), ...) vertices; ``bitmap`` = (origin row, origin column, bool array
    where True is shuttered). ``presentation_value`` is the P-value (0..65535) shown where a shutter hides the
    image.
    """

    shapes: tuple[str, ...] = ()
    rectangle: tuple[int, int, int, int] | None = None
    circle: tuple[int, int, int] | None = None
    polygon: tuple[tuple[int, int], ...] = ()
    bitmap: tuple[int, int, np.ndarray] | None = field(default=None, compare=False)
    presentation_value: int = 0

    @property
    def any(self) -> bool:
        return bool(self.rectangle or self.circle or self.polygon or self.bitmap is not None)


@dataclass(frozen=True)
class GraphicLayer:
    name: str
    order: int
    description: str = ""
    gray: int | None = None  # Graphic Layer Recommended Display Grayscale Value (P-value)
    rgb: tuple[int, int, int] | None = None  # CIELab in the file; kept raw (L, a, b) when present


@dataclass(frozen=True)
class Graphic:
    """One Graphic Object: ``points`` is an (n, 2) float array of (column, row); ``units`` PIXEL or DISPLAY."""

    type: str
    points: np.ndarray = field(compare=False, repr=False)
    units: str = "PIXEL"
    filled: bool = False


@dataclass(frozen=True)
class TextObject:
    """One Text Object: bounding box corners and/or anchor point, (column, row), in their units."""

    text: str
    box_units: str = ""
    tlhc: tuple[float, float] | None = None
    brhc: tuple[float, float] | None = None
    justification: str = "LEFT"
    anchor_units: str = ""
    anchor: tuple[float, float] | None = None
    anchor_visible: bool = False


@dataclass(frozen=True)
class Annotation:
    """One Graphic Annotation Sequence item: graphics and texts on one layer, for the images it references."""

    refs: tuple[ImageRef, ...]
    layer: str
    graphics: tuple[Graphic, ...] = ()
    texts: tuple[TextObject, ...] = ()


@dataclass(frozen=True)
class ReferencedSeries:
    series_instance_uid: str
    images: tuple[ImageRef, ...]


@dataclass
class PresentationState:
    """Everything a GSPS says, as plain values. Build with :func:`read_presentation_state`."""

    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    content_label: str = ""
    content_description: str = ""
    creator: str = ""
    created: str = ""  # PresentationCreationDate + Time, "YYYYMMDDHHMMSS"
    series: list[ReferencedSeries] = field(default_factory=list)
    modality_lut: ModalityLUTOverride | None = None
    voi: list[SoftcopyVOI] = field(default_factory=list)
    lut_shape: str | None = None  # IDENTITY / INVERSE (None when a Presentation LUT table is given)
    presentation_lut: LUTTable | None = None
    rotation: int = 0  # clockwise degrees: 0, 90, 180, 270
    horizontal_flip: bool = False
    displayed_areas: list[DisplayedArea] = field(default_factory=list)
    shutters: Shutters = field(default_factory=Shutters)
    layers: list[GraphicLayer] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    activated_overlays: list[int] = field(default_factory=list)  # 60xx groups the PS turns on
    overlay_layers: dict[int, str] = field(default_factory=dict)  # activated group -> its Overlay Activation Layer
    overlay_data: Dataset | None = field(default=None, repr=False)  # the PS's own overlay planes (60xx groups)
    warnings: list[PSWarning] = field(default_factory=list)

    # -- lookups ----------------------------------------------------------------------------------------------
    def images(self) -> list[ImageRef]:
        return [ref for s in self.series for ref in s.images]

    def references(self, sop_instance_uid: str, frame: int = 1) -> bool:
        """Does the PS apply to this instance (and 1-based frame)?"""
        return any(r.matches(sop_instance_uid, frame) for r in self.images())

    def voi_for(self, sop_instance_uid: str, frame: int = 1) -> SoftcopyVOI | None:
        return next((v for v in self.voi if _applies(v.refs, sop_instance_uid, frame)), None)

    def displayed_area_for(self, sop_instance_uid: str, frame: int = 1) -> DisplayedArea | None:
        return next((a for a in self.displayed_areas if _applies(a.refs, sop_instance_uid, frame)), None)

    def annotations_for(self, sop_instance_uid: str, frame: int = 1) -> list[Annotation]:
        """Annotations on this image, in layer order (lowest Graphic Layer Order first)."""
        order = {layer.name: layer.order for layer in self.layers}
        found = [a for a in self.annotations if _applies(a.refs, sop_instance_uid, frame)]
        return sorted(found, key=lambda a: order.get(a.layer, 1 << 30))

    def warn(self, code: str, message: str) -> None:
        self.warnings.append(PSWarning(code, message))


# -- reading ---------------------------------------------------------------------------------------------------
def read_document(source: str | Path | Dataset, error: type[ValueError] = ValueError) -> tuple[Dataset, str]:
    """A document (presentation state, key object selection, ...) as a dataset, with the name its messages use
    (the file name, or "dataset" when one is given). An unreadable file raises ``error`` with one line."""
    if isinstance(source, Dataset):
        return source, "dataset"
    name = Path(source).name
    try:
        return pydicom.dcmread(str(source), force=True), name
    except (pydicom.errors.InvalidDicomError, OSError, ValueError, EOFError, TypeError) as exc:
        raise error(f"{name}: not a readable DICOM file ({exc})") from None


def read_presentation_state(source: str | Path | Dataset) -> PresentationState:
    """Parse a presentation state file (or dataset).

    Raises :class:`NotAPresentationState` (a ``ValueError`` with a one-line message) when the input is not a
    readable DICOM presentation state. Damaged parts do not raise: they are left out and named in ``.warnings``.
    """
    ds, name = read_document(source, NotAPresentationState)
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if sop_class != GSPS_SOP_CLASS and sop_class not in OTHER_PS_CLASSES:
        kind = str(ds.get("Modality", "") or "") or sop_class or "no SOP class"
        try:
            kind = pydicom.uid.UID(sop_class).name if sop_class else kind
        except Exception:  # noqa: BLE001 - a malformed UID only changes the wording
            pass
        raise NotAPresentationState(f"{name}: not a presentation state ({kind})")
    ps = PresentationState(
        sop_instance_uid=str(ds.get("SOPInstanceUID", "") or ""),
        sop_class_uid=sop_class,
        study_instance_uid=str(ds.get("StudyInstanceUID", "") or ""),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        content_label=str(ds.get("ContentLabel", "") or ""),
        content_description=str(ds.get("ContentDescription", "") or ""),
        creator=str(ds.get("ContentCreatorName", "") or ""),
        created=str(ds.get("PresentationCreationDate", "") or "") + str(ds.get("PresentationCreationTime", "") or ""),
    )
    if sop_class in OTHER_PS_CLASSES:
        ps.warn("ps.class", f"{OTHER_PS_CLASSES[sop_class]}: only its grayscale parts are applied")
    for reader in (_read_references, _read_modality_lut, _read_voi, _read_presentation_lut, _read_spatial,
                   _read_displayed_areas, _read_shutters, _read_layers, _read_annotations, _read_unsupported):
        try:
            reader(ds, ps)
        except Exception as exc:  # noqa: BLE001 - one damaged module must not hide the others
            ps.warn(f"{reader.__name__[6:]}.damaged",
                    f"{reader.__name__[6:].replace('_', ' ')}: damaged, not applied ({type(exc).__name__}: {exc})")
    if not ps.series:
        ps.warn("references.none", "the presentation state references no image")
    return ps


def _str(ds: Dataset, keyword: str, default: str = "") -> str:
    v = ds.get(keyword)
    return default if v is None or v == "" else str(v).strip()


def _values(ds: Dataset, keyword: str) -> list[Any]:
    v = ds.get(keyword)
    if v is None or v == "":
        return []
    return list(v) if hasattr(v, "__iter__") and not isinstance(v, (str, bytes)) else [v]


def _image_refs(item: Dataset) -> tuple[ImageRef, ...]:
    refs = []
    for r in item.get("ReferencedImageSequence") or []:
        frames = tuple(int(f) for f in _values(r, "ReferencedFrameNumber"))
        refs.append(ImageRef(_str(r, "ReferencedSOPClassUID"), _str(r, "ReferencedSOPInstanceUID"), frames))
    return tuple(refs)


def _lut(item: Dataset, what: str, ps: PresentationState) -> LUTTable | None:
    """A LUT from Descriptor + Data, or None (with a named warning) when they disagree."""
    try:
        n, first, bits = (int(v) for v in item.LUTDescriptor)
    except (AttributeError, TypeError, ValueError):
        ps.warn(f"{what}.descriptor", f"{what.replace('-', ' ')}: LUT Descriptor missing or damaged, not applied")
        return None
    n = n or 65536
    if first >= 0x8000 and what != "modality-lut":
        first -= 0x10000  # US/SS descriptor read as unsigned: a signed first value
    data = item.get("LUTData")
    if data is None:
        ps.warn(f"{what}.data", f"{what.replace('-', ' ')}: LUT Data missing, not applied")
        return None
    if isinstance(data, (bytes, bytearray)):
        table = np.frombuffer(bytes(data)[: len(data) // 2 * 2], dtype="<u2").astype(np.float64)
        if bits <= 8 and len(table) * 2 == n:  # 8-bit entries packed two per 16-bit word
            table = np.frombuffer(bytes(data), dtype="u1").astype(np.float64)
    else:
        table = np.asarray([data] if np.isscalar(data) else list(data), dtype=np.float64)
    if len(table) != n:
        ps.warn(f"{what}.length",
                f"{what.replace('-', ' ')}: LUT Data has {len(table)} entries, its descriptor says {n}; not applied")
        return None
    if not 1 <= bits <= 16:
        ps.warn(f"{what}.bits", f"{what.replace('-', ' ')}: {bits} bits per entry is invalid; not applied")
        return None
    return LUTTable(first, table, bits, _str(item, "LUTExplanation"))


def _read_references(ds: Dataset, ps: PresentationState) -> None:
    for s in ds.get("ReferencedSeriesSequence") or []:
        images = _image_refs(s)
        if images:
            ps.series.append(ReferencedSeries(_str(s, "SeriesInstanceUID"), images))


def _read_modality_lut(ds: Dataset, ps: PresentationState) -> None:
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        ps.modality_lut = ModalityLUTOverride(float(ds.get("RescaleSlope", 1) or 1),
                                              float(ds.get("RescaleIntercept", 0) or 0), _str(ds, "RescaleType"))
    elif ds.get("ModalityLUTSequence"):
        item = ds.ModalityLUTSequence[0]
        lut = _lut(item, "modality-lut", ps)
        if lut is not None:
            ps.modality_lut = ModalityLUTOverride(rescale_type=_str(item, "ModalityLUTType"), lut=lut)


def _read_voi(ds: Dataset, ps: PresentationState) -> None:
    for i, item in enumerate(ds.get("SoftcopyVOILUTSequence") or []):
        refs = _image_refs(item)
        if item.get("VOILUTSequence"):
            lut = _lut(item.VOILUTSequence[0], "voi-lut", ps)
            if lut is not None:
                ps.voi.append(SoftcopyVOI(refs, lut=lut, explanation=lut.explanation))
            continue
        centers, widths = _values(item, "WindowCenter"), _values(item, "WindowWidth")
        if not centers or not widths:
            ps.warn("voi.empty", f"softcopy VOI item {i + 1} has neither a window nor a VOI LUT; not applied")
            continue
        try:
            center, width = float(centers[0]), float(widths[0])
        except (TypeError, ValueError):
            ps.warn("voi.window", f"softcopy VOI item {i + 1}: window {centers[0]!r}/{widths[0]!r} unreadable")
            continue
        function = _str(item, "VOILUTFunction", "LINEAR").upper()
        if width < 1 and function == "LINEAR" or width <= 0:
            ps.warn("voi.width", f"softcopy VOI item {i + 1}: window width {width:g} is invalid; not applied")
            continue
        expl = _values(item, "WindowCenterWidthExplanation")
        ps.voi.append(SoftcopyVOI(refs, center, width, function, str(expl[0]) if expl else ""))


def _read_presentation_lut(ds: Dataset, ps: PresentationState) -> None:
    shape = _str(ds, "PresentationLUTShape").upper()
    if ds.get("PresentationLUTSequence"):
        ps.presentation_lut = _lut(ds.PresentationLUTSequence[0], "presentation-lut", ps)
        if ps.presentation_lut is None:
            ps.lut_shape = "IDENTITY"
    elif shape in ("IDENTITY", "INVERSE"):
        ps.lut_shape = shape
    elif shape:
        ps.warn("presentation-lut.shape", f"Presentation LUT Shape {shape} is not IDENTITY or INVERSE; "
                "IDENTITY used")
        ps.lut_shape = "IDENTITY"


def _read_spatial(ds: Dataset, ps: PresentationState) -> None:
    rotation = ds.get("ImageRotation")
    if rotation is not None and rotation != "":
        r = int(rotation)
        if r in (0, 90, 180, 270):
            ps.rotation = r
        else:
            ps.warn("spatial.rotation", f"image rotation {r} is not 0, 90, 180 or 270; not applied")
    ps.horizontal_flip = _str(ds, "ImageHorizontalFlip").upper() == "Y"


def _read_displayed_areas(ds: Dataset, ps: PresentationState) -> None:
    for i, item in enumerate(ds.get("DisplayedAreaSelectionSequence") or []):
        tl, br = _values(item, "DisplayedAreaTopLeftHandCorner"), _values(item, "DisplayedAreaBottomRightHandCorner")
        if len(tl) != 2 or len(br) != 2:
            ps.warn("displayed-area.corners", f"displayed area {i + 1}: corners missing or damaged; whole image shown")
            continue
        mode = _str(item, "PresentationSizeMode", "SCALE TO FIT").upper()
        spacing = _values(item, "PresentationPixelSpacing")
        aspect = _values(item, "PresentationPixelAspectRatio")
        mag = item.get("PresentationPixelMagnificationRatio")
        area = DisplayedArea(
            _image_refs(item), (int(tl[0]), int(tl[1])), (int(br[0]), int(br[1])), mode,
            (float(spacing[0]), float(spacing[1])) if len(spacing) == 2 else None,
            float(mag) if mag not in (None, "") else None,
            (int(aspect[0]), int(aspect[1])) if len(aspect) == 2 else None,
        )
        if mode not in ("SCALE TO FIT", "TRUE SIZE", "MAGNIFY"):
            ps.warn("displayed-area.mode", f"displayed area {i + 1}: size mode {mode} unknown; scaled to fit")
        ps.displayed_areas.append(area)


def _read_shutters(ds: Dataset, ps: PresentationState) -> None:
    shapes = tuple(str(s).strip().upper() for s in _values(ds, "ShutterShape") if str(s).strip())
    kw: dict[str, Any] = {"shapes": shapes, "presentation_value": int(ds.get("ShutterPresentationValue", 0) or 0)}
    for shape in shapes:
        if shape == "RECTANGULAR":
            v = [int(ds.get(k)) for k in ("ShutterLeftVerticalEdge", "ShutterRightVerticalEdge",
                                           "ShutterUpperHorizontalEdge", "ShutterLowerHorizontalEdge")
                 if ds.get(k) not in (None, "")]
            if len(v) == 4:
                kw["rectangle"] = tuple(v)
            else:
                ps.warn("shutter.rectangular", "rectangular shutter: an edge is missing; not applied")
        elif shape == "CIRCULAR":
            c, r = _values(ds, "CenterOfCircularShutter"), ds.get("RadiusOfCircularShutter")
            if len(c) == 2 and r not in (None, ""):
                kw["circle"] = (int(c[0]), int(c[1]), int(r))
            else:
                ps.warn("shutter.circular", "circular shutter: centre or radius missing; not applied")
        elif shape == "POLYGONAL":
            v = [int(x) for x in _values(ds, "VerticesOfThePolygonalShutter")]
            if len(v) >= 6 and len(v) % 2 == 0:
                kw["polygon"] = tuple((v[i], v[i + 1]) for i in range(0, len(v), 2))
            else:
                ps.warn("shutter.polygonal", f"polygonal shutter: {len(v)} vertex values (need pairs, at least "
                        "3 vertices); not applied")
        elif shape == "BITMAP":
            pass  # Bitmap Display Shutter module, below
        else:
            ps.warn("shutter.shape", f"shutter shape {shape} unknown; not applied")
    group = ds.get("ShutterOverlayGroup")
    if group is not None and group != "":
        group = int(group)
        try:
            bits = np.asarray(ds.overlay_array(group), dtype=bool)
            origin = [int(x) for x in ds[group, 0x0050].value]
            kw["bitmap"] = (origin[0], origin[1], bits)
        except Exception as exc:  # noqa: BLE001 - a missing or damaged overlay group
            ps.warn("shutter.bitmap", f"bitmap shutter: overlay group {group:04X} unreadable ({exc}); not applied")
    elif "BITMAP" in shapes:
        ps.warn("shutter.bitmap", "bitmap shutter: no Shutter Overlay Group; not applied")
    ps.shutters = Shutters(**kw)


def _read_layers(ds: Dataset, ps: PresentationState) -> None:
    for item in ds.get("GraphicLayerSequence") or []:
        rgb = _values(item, "GraphicLayerRecommendedDisplayCIELabValue")
        gray = item.get("GraphicLayerRecommendedDisplayGrayscaleValue")
        ps.layers.append(GraphicLayer(_str(item, "GraphicLayer"), int(item.get("GraphicLayerOrder", 0) or 0),
                                      _str(item, "GraphicLayerDescription"),
                                      int(gray) if gray not in (None, "") else None,
                                      tuple(int(x) for x in rgb) if len(rgb) == 3 else None))


def _pair(values: list[Any]) -> tuple[float, float] | None:
    return (float(values[0]), float(values[1])) if len(values) == 2 else None


def _read_annotations(ds: Dataset, ps: PresentationState) -> None:
    known = {layer.name for layer in ps.layers}
    for i, item in enumerate(ds.get("GraphicAnnotationSequence") or []):
        layer = _str(item, "GraphicLayer")
        where = f"annotation {i + 1} (layer {layer or '?'})"
        if layer not in known:
            ps.warn("annotation.layer", f"{where}: its layer is not in the Graphic Layer Sequence; drawn anyway")
        graphics = []
        for j, g in enumerate(item.get("GraphicObjectSequence") or []):
            graphic = _graphic(g, f"{where}, graphic {j + 1}", ps)
            if graphic is not None:
                graphics.append(graphic)
        texts = []
        for j, t in enumerate(item.get("TextObjectSequence") or []):
            text = _text(t, f"{where}, text {j + 1}", ps)
            if text is not None:
                texts.append(text)
        ps.annotations.append(Annotation(_image_refs(item), layer, tuple(graphics), tuple(texts)))


def _graphic(g: Dataset, where: str, ps: PresentationState) -> Graphic | None:
    gtype = _str(g, "GraphicType").upper()
    units = _str(g, "GraphicAnnotationUnits", "PIXEL").upper()
    if gtype not in GRAPHIC_TYPES:
        ps.warn("graphic.type", f"{where}: graphic type {gtype or '(none)'} unknown; not drawn")
        return None
    data = [float(v) for v in _values(g, "GraphicData")]
    if len(data) % 2:
        ps.warn("graphic.odd-coordinates", f"{where}: {gtype} has an odd number of coordinates ({len(data)}); "
                "not drawn")
        return None
    points = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    declared = g.get("NumberOfGraphicPoints")
    if declared not in (None, "") and int(declared) != len(points):
        ps.warn("graphic.count", f"{where}: says {int(declared)} points, holds {len(points)}; the points drawn")
    if len(points) < _MIN_POINTS[gtype]:
        ps.warn("graphic.points", f"{where}: {gtype} needs {_MIN_POINTS[gtype]} points, has {len(points)}; "
                "not drawn")
        return None
    if units not in ("PIXEL", "DISPLAY"):
        ps.warn("graphic.units", f"{where}: units {units} unknown; not drawn")
        return None
    if units == "DISPLAY":
        ps.warn("graphic.display-units", f"{where}: in DISPLAY units (fractions of the displayed area)")
    return Graphic(gtype, points, units, _str(g, "GraphicFilled").upper() == "Y")


def _text(t: Dataset, where: str, ps: PresentationState) -> TextObject | None:
    tl = _pair(_values(t, "BoundingBoxTopLeftHandCorner"))
    br = _pair(_values(t, "BoundingBoxBottomRightHandCorner"))
    anchor = _pair(_values(t, "AnchorPoint"))
    if tl is None and anchor is None:
        ps.warn("text.position", f"{where}: neither a bounding box nor an anchor point; not drawn")
        return None
    box_units = _str(t, "BoundingBoxAnnotationUnits").upper()
    anchor_units = _str(t, "AnchorPointAnnotationUnits").upper()
    if "DISPLAY" in (box_units, anchor_units):
        ps.warn("text.display-units", f"{where}: in DISPLAY units (fractions of the displayed area)")
    return TextObject(_str(t, "UnformattedTextValue"), box_units, tl, br,
                      _str(t, "BoundingBoxTextHorizontalJustification", "LEFT").upper(), anchor_units, anchor,
                      _str(t, "AnchorPointVisibility").upper() == "Y")


def _read_unsupported(ds: Dataset, ps: PresentationState) -> None:
    groups = sorted({tag.group for tag in ds.keys() if 0x6000 <= tag.group <= 0x601E and not tag.group % 2})
    for group in groups:
        if (group, 0x1001) in ds:  # Overlay Activation Layer: an overlay of the image (or the PS's) it turns on
            ps.activated_overlays.append(group)
            ps.overlay_layers[group] = str(ds[group, 0x1001].value or "").strip()
        if (group, 0x3000) in ds:  # the PS carries the plane itself (PS3.3 A.33.1: Overlay Plane module)
            if ps.overlay_data is None:
                ps.overlay_data = Dataset()
            for elem in ds.group_dataset(group):
                ps.overlay_data.add(elem)
    if ps.activated_overlays:
        ps.warn("overlay.activation", "overlays activated by the presentation state are not drawn: groups "
                + ", ".join(f"{g:04X}" for g in ps.activated_overlays))
    named: Iterable[tuple[str, str, str]] = (
        ("GraphicGroupSequence", "graphic-group", "graphic groups are not shown as groups"),
        ("ICCProfile", "icc-profile", "the ICC profile is not applied"),
        ("MaskSubtractionSequence", "mask", "mask subtraction is not applied"),
    )
    for keyword, code, message in named:
        if keyword in ds:
            ps.warn(code, message)
    for i, item in enumerate(ds.get("GraphicAnnotationSequence") or []):
        if "CompoundGraphicSequence" in item:
            ps.warn("compound-graphic", f"annotation {i + 1}: compound graphics (arrows, rulers...) are not drawn")
