"""Write the reader's measurements and annotations as a Grayscale Softcopy Presentation State (Color Softcopy PS
for colour images; no Qt, no archive).

The input is plain: a list of :class:`Mark` (kind, points in image pixel coordinates, the image and frame it is
drawn on, its label text) and a :class:`DisplayState` (window, rotation/flip, displayed area). The output is a
GSPS made by highdicom in a new series of the images' study (modality PR), with content label and creator named.

How a mark becomes DICOM, so that :func:`marks_from_state` can read it back exactly (PIXEL units: the top left
corner of the top left pixel is 0\\0, the viewer's convention too, so no coordinate is shifted):

- every mark is one Graphic Annotation item on the layer named after its kind (DISTANCE, ANGLE, ...), referencing
  its image (and frame of a multi-frame image); its label (the measurement value) is a Text Object anchored on it;
- distance, arrow: POLYLINE of 2 points; angle: POLYLINE of 3 (the vertex in the middle); cobb: two POLYLINEs;
  polygon, freehand: a closed POLYLINE (first point repeated); rectangle (two corners): a closed POLYLINE of 5;
  ellipse (two corners of its box): ELLIPSE (horizontal axis first, then vertical, each in drawing order);
  circle (centre, point on it): CIRCLE; point: POINT; text: only a Text Object anchored at its point.

A mark that cannot be written (too few points, a coordinate that is not finite, an unknown kind, an image not
given) is left out with a named :class:`PSWarning`; the others are written.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from workstation.dicom.presentation_state import PresentationState, PSWarning

# Points each kind needs (at least, for the outlines).
MIN_POINTS = {"distance": 2, "arrow": 2, "angle": 3, "cobb": 4, "polygon": 3, "freehand": 3, "rectangle": 2,
              "ellipse": 2, "circle": 2, "point": 1, "text": 1}
EXACT = {"distance": 2, "arrow": 2, "angle": 3, "cobb": 4, "rectangle": 2, "ellipse": 2, "circle": 2, "point": 1,
         "text": 1}
LAYER_ORDER = ("DISTANCE", "ANGLE", "COBB", "RECTANGLE", "ELLIPSE", "CIRCLE", "POLYGON", "FREEHAND", "POINT",
               "ARROW", "TEXT")
KIND_OF_LAYER = {name: name.lower() for name in LAYER_ORDER}
MANUFACTURER = "workstation"
DEFAULT_LABEL = "MEASUREMENTS"


@dataclass
class Mark:
    """One measurement or annotation on one image. ``points`` are (column, row) in image pixel coordinates;
    ``frame`` is the 0-based frame in the file (the viewer's frame key); ``text`` is the label shown with it (the
    measurement value) or a text annotation's text."""

    kind: str
    points: list[tuple[float, float]]
    sop_instance_uid: str
    frame: int = 0
    text: str = ""


@dataclass
class DisplayState:
    """What the reader saw: window (centre, width) in modality units, clockwise rotation, horizontal flip (after
    the rotation, as the standard applies them), displayed area as 1-based (column, row) corners."""

    window: tuple[float, float] | None = None
    rotation: int = 0
    flip: bool = False
    area_tlhc: tuple[int, int] | None = None
    area_brhc: tuple[int, int] | None = None
    shutters: Any = None  # a presentation_state.Shutters in force (from a PS applied before): kept
    magnify: float | None = None  # screen pixels per image pixel: the area is shown MAGNIFY at that ratio
    inverse: bool | None = None  # shown inverted (Presentation LUT Shape INVERSE); None: the writer's default
    voi_lut: tuple[int, Any, int] | None = None  # (first mapped value, table, bits) shown instead of a window


@dataclass
class Written:
    """A presentation state made by :func:`build_presentation_state`: the dataset, the marks in it, the ones left
    out (with why)."""

    dataset: Dataset
    marks: list[Mark] = field(default_factory=list)
    warnings: list[PSWarning] = field(default_factory=list)

    def encode(self) -> bytes:
        return encode(self.dataset)


def encode(ds: Dataset) -> bytes:
    """The complete Part 10 file (preamble, file meta) of a highdicom/pydicom dataset."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def check_mark(mark: Mark) -> PSWarning | None:
    """Why this mark cannot be written, or None."""
    where = f"{mark.kind or '?'} on {mark.sop_instance_uid or '?'}"
    if mark.kind not in MIN_POINTS:
        return PSWarning("mark.kind", f"{where}: kind {mark.kind!r} cannot be written; left out")
    try:
        pts = [(float(p[0]), float(p[1])) for p in mark.points]
    except (TypeError, ValueError, IndexError):
        return PSWarning("mark.points", f"{where}: points unreadable; left out")
    n = len(pts)
    if n < MIN_POINTS[mark.kind] or (mark.kind in EXACT and n != EXACT[mark.kind]):
        return PSWarning("mark.points", f"{where}: {n} point{'s' if n != 1 else ''}, "
                         f"needs {EXACT.get(mark.kind, MIN_POINTS[mark.kind])}; left out")
    if not all(math.isfinite(v) for p in pts for v in p):
        return PSWarning("mark.nan", f"{where}: a coordinate is not a finite number; left out")
    if mark.kind in ("rectangle", "ellipse") and (pts[0][0] == pts[1][0] or pts[0][1] == pts[1][1]):
        return PSWarning("mark.empty", f"{where}: has no area; left out")
    if mark.kind == "circle" and pts[0] == pts[1]:
        return PSWarning("mark.empty", f"{where}: radius 0; left out")
    return None


def _graphics(hd: Any, mark: Mark) -> list[Any]:
    pts = [(float(x), float(y)) for x, y in mark.points]
    k = mark.kind

    def obj(gtype: str, p: Sequence[tuple[float, float]]) -> Any:
        return hd.pr.GraphicObject(gtype, np.asarray(p, dtype=np.float64), "PIXEL")

    if k in ("distance", "arrow", "angle"):
        return [obj("POLYLINE", pts)]
    if k == "cobb":
        return [obj("POLYLINE", pts[:2]), obj("POLYLINE", pts[2:4])]
    if k in ("polygon", "freehand"):
        return [obj("POLYLINE", pts + [pts[0]])]
    if k == "rectangle":
        (x0, y0), (x1, y1) = pts
        return [obj("POLYLINE", [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])]
    if k == "ellipse":
        (x0, y0), (x1, y1) = pts
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        horizontal, vertical = [(x0, cy), (x1, cy)], [(cx, y0), (cx, y1)]
        # The standard wants the major axis first; the reader tells the axes apart by which one is horizontal.
        first, second = (horizontal, vertical) if abs(x1 - x0) >= abs(y1 - y0) else (vertical, horizontal)
        return [obj("ELLIPSE", first + second)]
    if k == "circle":
        return [obj("CIRCLE", pts)]
    if k == "point":
        return [obj("POINT", pts)]
    return []  # text


def _inside(mark: Mark, image: Dataset) -> bool:
    """Every point (and a circle's whole extent) within 0..Columns, 0..Rows: highdicom, following PS3.3
    C.10.5.1.2, refuses PIXEL coordinates outside the image."""
    cols, rows = float(image.Columns), float(image.Rows)
    pts = [(float(x), float(y)) for x, y in mark.points]
    if mark.kind == "circle":
        (cx, cy), (px, py) = pts
        r = math.hypot(px - cx, py - cy)
        pts = [(cx - r, cy - r), (cx + r, cy + r)]
    return all(0.0 <= x <= cols and 0.0 <= y <= rows for x, y in pts)


def _anchor(mark: Mark) -> tuple[float, float]:
    pts = [(float(x), float(y)) for x, y in mark.points]
    if mark.kind == "angle":
        return pts[1]
    if mark.kind in ("rectangle", "ellipse"):
        return ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
    if mark.kind in ("polygon", "freehand"):
        return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
    if mark.kind == "circle":
        return pts[0]
    return pts[-1] if mark.kind in ("distance",) else pts[0]


def build_presentation_state(
    images: Sequence[Dataset],
    marks: Iterable[Mark],
    display: DisplayState | None = None,
    *,
    label: str = DEFAULT_LABEL,
    description: str = "measurements and annotations",
    creator: str = "",
    series_instance_uid: str | None = None,
    series_number: int = 900,
    instance_number: int = 1,
) -> Written:
    """A GSPS for ``images`` (datasets of one study; headers are enough) carrying ``marks`` and ``display``."""
    import highdicom as hd

    if not images:
        raise ValueError("a presentation state needs at least one image to reference")
    by_uid = {str(im.SOPInstanceUID): im for im in images}
    display = display or DisplayState()
    written, warnings, annotations = [], [], []
    layers: dict[str, Any] = {}
    for mark in marks:
        problem = check_mark(mark)
        image = by_uid.get(mark.sop_instance_uid)
        if problem is None and image is None:
            problem = PSWarning("mark.image", f"{mark.kind} on {mark.sop_instance_uid}: its image is not among "
                                "the referenced images; left out")
        frames = int(image.get("NumberOfFrames", 1) or 1) if image is not None else 1
        if problem is None and not 0 <= mark.frame < frames:
            problem = PSWarning("mark.frame", f"{mark.kind} on {mark.sop_instance_uid}: frame {mark.frame + 1} "
                                f"of {frames}; left out")
        if problem is None and not _inside(mark, image):
            problem = PSWarning("mark.outside", f"{mark.kind} on {mark.sop_instance_uid}: reaches outside the "
                                "image, which a presentation state cannot hold; left out")
        if problem is not None:
            warnings.append(problem)
            continue
        name = mark.kind.upper()
        if name not in layers:
            layers[name] = None  # filled below, in the fixed order
        written.append((mark, image, frames))
    for order, name in enumerate([n for n in LAYER_ORDER if n in layers], start=1):
        layers[name] = hd.pr.GraphicLayer(layer_name=name, order=order, description=f"{name.lower()} (workstation)")
    for mark, image, frames in written:
        texts = []
        text = mark.text.strip()
        if text:
            texts.append(hd.pr.TextObject(text[:1024], "PIXEL", anchor_point=_anchor(mark),
                                          anchor_point_visible=mark.kind == "text",
                                          text_justification="LEFT"))
        kw = {"graphic_objects": _graphics(hd, mark) or None, "text_objects": texts or None}
        layer = layers[mark.kind.upper()]
        try:
            item = hd.pr.GraphicAnnotation([image], layer, referenced_frame_number=mark.frame + 1
                                           if frames > 1 else None, **kw)
        except TypeError:  # several frames in a single-frame IOD (highdicom refuses frame numbers): the image
            item = hd.pr.GraphicAnnotation([image], layer, **kw)
        annotations.append(item)
    kwargs: dict[str, Any] = {}
    if annotations:
        kwargs["graphic_layers"] = [layers[n] for n in LAYER_ORDER if n in layers]
        kwargs["graphic_annotations"] = annotations
    colour = [int(im.get("SamplesPerPixel", 1) or 1) > 1 for im in images]
    if any(colour) and not all(colour):
        raise ValueError("a presentation state covers grayscale or colour images, not both")
    cls = hd.pr.GrayscaleSoftcopyPresentationState
    if all(colour):
        # Colour images take a Color Softcopy Presentation State (PS3.3 A.33.2): no VOI, an ICC profile instead.
        cls = hd.pr.ColorSoftcopyPresentationState
        kwargs["icc_profile"] = _icc_profile(images[0])
        if display.window is not None:
            warnings.append(PSWarning("display.window", "colour images: the window is not part of a colour "
                                      "presentation state; not written"))
    elif display.voi_lut is not None:
        # Written as a window by highdicom, then made the LUT below (highdicom refuses a negative first value,
        # which CT needs).
        first, table, _bits = display.voi_lut
        kwargs["voi_lut_transformations"] = [hd.pr.SoftcopyVOILUTTransformation(
            window_center=float(first) + len(table) / 2.0, window_width=float(max(1, len(table))))]
    elif display.window is not None:
        center, width = (float(v) for v in display.window)
        kwargs["voi_lut_transformations"] = [hd.pr.SoftcopyVOILUTTransformation(
            window_center=center, window_width=max(width, 1.0))]
    now = _dt.datetime.now()
    ds = cls(
        referenced_images=list(images), series_instance_uid=series_instance_uid or generate_uid(),
        series_number=series_number, sop_instance_uid=generate_uid(), instance_number=instance_number,
        manufacturer=MANUFACTURER, manufacturer_model_name="workstation", software_versions="1",
        device_serial_number="1", content_label=_cs_label(label), content_description=description[:64] or None,
        content_creator_name=creator or None, **kwargs)
    ds.PresentationCreationDate = now.strftime("%Y%m%d")
    # Microseconds: two saves within a second (leaving a series, then Save) still order newest first.
    ds.PresentationCreationTime = now.strftime("%H%M%S.%f")
    ds.SeriesDescription = "Presentation state"
    _complete_series(ds)
    rotation = int(display.rotation) % 360
    if rotation not in (0, 90, 180, 270):
        warnings.append(PSWarning("display.rotation", f"rotation {display.rotation} is not a multiple of 90; "
                                  "written as 0"))
        rotation = 0
    ds.ImageRotation = rotation
    ds.ImageHorizontalFlip = "Y" if display.flip else "N"
    if display.area_tlhc and display.area_brhc:
        for item in ds.DisplayedAreaSelectionSequence:
            item.DisplayedAreaTopLeftHandCorner = [int(v) for v in display.area_tlhc]
            item.DisplayedAreaBottomRightHandCorner = [int(v) for v in display.area_brhc]
            if display.magnify:
                item.PresentationSizeMode = "MAGNIFY"
                item.PresentationPixelMagnificationRatio = round(float(display.magnify), 4)
    if display.voi_lut is not None and "SoftcopyVOILUTSequence" in ds:
        _write_voi_lut(ds, *display.voi_lut)
    if display.inverse is not None and "PresentationLUTShape" in ds:
        ds.PresentationLUTShape = "INVERSE" if display.inverse else "IDENTITY"
    if display.shutters is not None and display.shutters.any:
        _write_shutters(ds, display.shutters, warnings)
    for item in ds.DisplayedAreaSelectionSequence:
        # highdicom writes the attribute of tiled (whole slide) images for every image; it is only defined there.
        if "PixelOriginInterpretation" in item and "TotalPixelMatrixRows" not in images[0]:
            del item.PixelOriginInterpretation
    return Written(ds, [m for m, _, _ in written], warnings)


def _write_voi_lut(ds: Dataset, first: int, table: Any, bits: int) -> None:
    """The softcopy VOI as a VOI LUT (PS3.3 C.11.8): 16-bit entries scaled from ``bits`` so the curve is kept; the
    descriptor's first value is signed (SS) when negative."""
    entries = np.rint(np.asarray(table, dtype=np.float64) * 65535.0 / float((1 << int(bits)) - 1)).astype("<u2")
    lut = Dataset()
    n = len(entries)
    lut.LUTDescriptor = [n if n < 65536 else 0, int(first), 16]
    lut["LUTDescriptor"].VR = "SS" if int(first) < 0 else "US"
    lut.LUTExplanation = "presentation state VOI LUT"
    lut.LUTData = entries.tobytes()
    lut["LUTData"].VR = "OW"
    for item in ds.SoftcopyVOILUTSequence:
        for keyword in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTFunction"):
            if keyword in item:
                del item[keyword]
        item.VOILUTSequence = [lut]


def _write_shutters(ds: Dataset, shutters, warnings: list[PSWarning]) -> None:
    """The Display Shutter module (PS3.3 C.7.6.11) for the geometric shutters in force; a bitmap shutter (an
    overlay plane of the PS it came from) is not carried over, and said."""
    shapes = []
    if shutters.rectangle is not None:
        left, right, upper, lower = (int(v) for v in shutters.rectangle)
        ds.ShutterLeftVerticalEdge, ds.ShutterRightVerticalEdge = left, right
        ds.ShutterUpperHorizontalEdge, ds.ShutterLowerHorizontalEdge = upper, lower
        shapes.append("RECTANGULAR")
    if shutters.circle is not None:
        row, column, radius = (int(v) for v in shutters.circle)
        ds.CenterOfCircularShutter = [row, column]
        ds.RadiusOfCircularShutter = radius
        shapes.append("CIRCULAR")
    if shutters.polygon:
        ds.VerticesOfThePolygonalShutter = [int(v) for rc in shutters.polygon for v in rc]
        shapes.append("POLYGONAL")
    if shutters.bitmap is not None:
        warnings.append(PSWarning("display.shutter", "the bitmap shutter in force is not written"))
    if shapes:
        ds.ShutterShape = shapes
        ds.ShutterPresentationValue = int(shutters.presentation_value)


def _icc_profile(image: Dataset) -> bytes:
    """The image's own ICC profile, else sRGB (what an image without one is taken to be)."""
    own = image.get("ICCProfile")
    if own:
        return bytes(own)
    # A Color PS needs an input/colour-space class profile ("scnr"/"spac"); a display profile such as littleCMS's
    # sRGB ("mntr") is refused. highdicom ships the ICC's sRGB v4 colour-space profile.
    from importlib.resources import files

    return (files("highdicom") / "_icc_profiles" / "sRGB_v4_ICC_preference.icc").read_bytes()


def _complete_series(ds: Dataset) -> None:
    """General Series' Laterality is 2C: required (empty is allowed) unless a laterality is given elsewhere;
    dciodvfy checks it on every new series, and a PR has no Image Laterality."""
    if "Laterality" not in ds and "ImageLaterality" not in ds:
        ds.Laterality = ""


def _cs_label(label: str) -> str:
    """Content Label is a CS: upper case, digits, space and underscore, at most 16 characters."""
    cleaned = "".join(c if c.isalnum() or c in " _" else "_" for c in label.upper())[:16].strip()
    return cleaned or DEFAULT_LABEL


# -- reading our marks back -------------------------------------------------------------------------------------
def marks_from_state(ps: PresentationState) -> tuple[list[Mark], list[PSWarning]]:
    """The marks of a PS written by :func:`build_presentation_state` (layers named after kinds), in file order.

    Annotations on other layers (other systems' PS) are not marks: they are counted in one warning, the viewer
    draws them as graphics. ``frame`` comes back 0-based (the first referenced frame, 0 for a whole image).
    """
    marks: list[Mark] = []
    warnings: list[PSWarning] = []
    foreign = 0
    for a in ps.annotations:
        kind = KIND_OF_LAYER.get(a.layer.upper())
        if kind is None or not a.refs:
            foreign += 1
            continue
        ref = a.refs[0]
        frame = ref.frames[0] - 1 if ref.frames else 0
        text = a.texts[0].text if a.texts else ""
        pts = _points_of(kind, a, text)
        if pts is None:
            warnings.append(PSWarning("mark.shape", f"{kind} on {ref.sop_instance_uid}: graphics do not make a "
                                      f"{kind}; left out"))
            continue
        marks.append(Mark(kind, pts, ref.sop_instance_uid, frame, text))
    if foreign:
        warnings.append(PSWarning("mark.foreign", f"{foreign} annotation{'s' if foreign != 1 else ''} on layers "
                                  "not written by this workstation: shown as graphics, not as measurements"))
    return marks, warnings


def _points_of(kind: str, a: Any, text: str) -> list[tuple[float, float]] | None:
    g = [np.asarray(x.points, dtype=np.float64) for x in a.graphics]
    as_list = lambda arr: [(float(x), float(y)) for x, y in arr]  # noqa: E731
    try:
        if kind == "text":
            t = a.texts[0]
            return [t.anchor] if t.anchor is not None else [t.tlhc]
        if kind == "cobb":
            return as_list(g[0]) + as_list(g[1])
        pts = g[0]
        if kind in ("polygon", "freehand"):
            return as_list(pts[:-1] if len(pts) > 1 and np.allclose(pts[0], pts[-1]) else pts)
        if kind == "rectangle":
            return [tuple(map(float, pts[0])), tuple(map(float, pts[2]))]
        if kind == "ellipse":
            axes = [pts[0:2], pts[2:4]]
            h = next(ax for ax in axes if ax[0][1] == ax[1][1] and ax[0][0] != ax[1][0])
            v = next(ax for ax in axes if ax is not h)
            return [(float(h[0][0]), float(v[0][1])), (float(h[1][0]), float(v[1][1]))]
        return as_list(pts)
    except (IndexError, StopIteration, TypeError):
        return None
