"""Measurement Report SR (TID 1500) of the reader's measurements, made with highdicom (no Qt, no archive).

Each measurement becomes a measurement group that references its image and its region (SCOORD in PIXEL
coordinates, the presentation state's convention: 0\\0 is the top left corner of the top left pixel):

- distance: TID 1501 group with a Length in mm whose SCOORD is the 2-point POLYLINE;
- rectangle, polygon, freehand (closed POLYLINE), ellipse (ELLIPSE), circle (CIRCLE): TID 1410 planar ROI with
  Area in mm² and, when the pixels are given, Mean, Standard Deviation, Minimum, Maximum over the pixels whose
  centres lie inside, in modality units (HU for CT).

Without Pixel Spacing a length or area has no mm value: that measurement is left out with a named warning, as is
every kind the report does not carry (angle, cobb, arrow, text, point) - never a silent drop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from workstation.dicom.presentation_state import PSWarning
from workstation.dicom.ps_writer import MANUFACTURER, Mark, check_mark

REPORTED = ("distance", "rectangle", "ellipse", "circle", "polygon", "freehand")
AREA_KINDS = ("rectangle", "ellipse", "circle", "polygon", "freehand")


@dataclass
class Values:
    """What one mark measures: length (mm), area (mm²), statistics in ``unit`` (modality units)."""

    length: float | None = None
    area: float | None = None
    mean: float | None = None
    sd: float | None = None
    min: float | None = None
    max: float | None = None
    count: int = 0
    unit: str = ""  # "HU" for CT, else "" (no unit)


@dataclass
class Report:
    """The SR (None when no measurement could be reported: then ``warnings`` say why), the marks in it."""

    dataset: Dataset | None
    reported: list[Mark] = field(default_factory=list)
    warnings: list[PSWarning] = field(default_factory=list)


def pixel_spacing(ds: Dataset, frame: int = 0) -> tuple[float, float] | None:
    """(row, column) spacing in mm: Pixel Spacing, else the frame's (or shared) Pixel Measures, else Imager."""
    for source in _spacing_sources(ds, frame):
        v = source.get("PixelSpacing")
        if v is not None and len(v) == 2:
            try:
                row, col = float(v[0]), float(v[1])
            except (TypeError, ValueError):
                continue
            if row > 0 and col > 0 and math.isfinite(row) and math.isfinite(col):
                return row, col
    v = ds.get("ImagerPixelSpacing")
    if v is not None and len(v) == 2 and float(v[0]) > 0 and float(v[1]) > 0:
        return float(v[0]), float(v[1])
    return None


def _spacing_sources(ds: Dataset, frame: int) -> list[Dataset]:
    out = [ds]
    for seq, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(seq)
        if items and len(items) > index and items[index].get("PixelMeasuresSequence"):
            out.append(items[index].PixelMeasuresSequence[0])
    return out


def outline(mark: Mark) -> list[tuple[float, float]]:
    """The polygon an area mark encloses (ellipses and circles as 72-gons for the pixel mask)."""
    pts = [(float(x), float(y)) for x, y in mark.points]
    if mark.kind == "rectangle":
        (x0, y0), (x1, y1) = pts
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if mark.kind in ("ellipse", "circle"):
        if mark.kind == "ellipse":
            (x0, y0), (x1, y1) = pts
            cx, cy, ax, ay = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        else:
            (cx, cy), (px, py) = pts
            ax = ay = math.hypot(px - cx, py - cy)
        t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        return [(cx + ax * math.cos(a), cy + ay * math.sin(a)) for a in t]
    return pts


def _area_px(mark: Mark) -> float:
    pts = [(float(x), float(y)) for x, y in mark.points]
    if mark.kind == "rectangle":
        return abs(pts[1][0] - pts[0][0]) * abs(pts[1][1] - pts[0][1])
    if mark.kind == "ellipse":
        return math.pi * abs(pts[1][0] - pts[0][0]) * abs(pts[1][1] - pts[0][1]) / 4
    if mark.kind == "circle":
        return math.pi * ((pts[1][0] - pts[0][0]) ** 2 + (pts[1][1] - pts[0][1]) ** 2)
    from workstation.imaging.roi import polygon_area

    return polygon_area(pts)


def modality_values(ds: Dataset, frame: int = 0) -> np.ndarray | None:
    """The frame's values in modality units (rescale or Modality LUT applied); None for colour or no pixels."""
    if "PixelData" not in ds or int(ds.get("SamplesPerPixel", 1) or 1) != 1:
        return None
    from pydicom.pixels import apply_modality_lut

    arr = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        arr = arr[frame]
    return np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)


def measure(mark: Mark, ds: Dataset) -> Values:
    """The values of ``mark`` on its image ``ds`` (with pixels for the statistics, a header is enough for
    lengths and areas). Lengths and areas are None without a pixel spacing."""
    spacing = pixel_spacing(ds, mark.frame)
    out = Values(unit="HU" if str(ds.get("Modality", "")).upper() == "CT" else "")
    if mark.kind == "distance" and spacing:
        (x0, y0), (x1, y1) = mark.points
        out.length = math.hypot((x1 - x0) * spacing[1], (y1 - y0) * spacing[0])
    if mark.kind in AREA_KINDS:
        if spacing:
            out.area = _area_px(mark) * spacing[0] * spacing[1]
        values = modality_values(ds, mark.frame)
        if values is not None:
            from workstation.imaging.roi import polygon_mask, values_stats

            mean, sd, lo, hi, n = values_stats(values, polygon_mask(values.shape, outline(mark)))
            if n:
                out.mean, out.sd, out.min, out.max, out.count = mean, sd, lo, hi, n
    return out


def label(mark: Mark, values: Values) -> str:
    """The text a measurement shows (as the viewer writes it), from its values."""
    lines = []
    u = f" {values.unit}" if values.unit else ""
    if values.length is not None:
        lines.append(f"{values.length:.1f} mm")
    if values.mean is not None:
        lines.append(f"mean {values.mean:.1f}{u}  SD {values.sd:.1f}")
        lines.append(f"min {values.min:.0f}  max {values.max:.0f}")
    if values.area is not None:
        lines.append(f"area {values.area:.1f} mm²")
    return "\n".join(lines)


def _units(hd: Any) -> dict[str, Any]:
    cc = hd.sr.CodedConcept
    return {"mm": cc("mm", "UCUM", "millimeter"), "mm2": cc("mm2", "UCUM", "square millimeter"),
            "HU": cc("[hnsf'U]", "UCUM", "Hounsfield unit"), "": cc("1", "UCUM", "no units")}


def build_measurement_report(
    marks: Iterable[Mark],
    images: dict[str, Dataset],
    *,
    observer: str = "",
    series_number: int = 901,
    title: str = "Imaging Measurement Report",
) -> Report:
    """A Comprehensive 3D SR holding a TID 1500 Measurement Report of ``marks`` on ``images`` (SOPInstanceUID ->
    dataset, with pixel data for ROI statistics). Marks that cannot be reported are named in ``warnings``; when
    none can, ``dataset`` is None (TID 1500 needs at least one measurement group)."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    units = _units(hd)
    groups: list[Any] = []
    reported: list[Mark] = []
    warnings: list[PSWarning] = []
    for i, mark in enumerate(marks, start=1):
        where = f"{mark.kind} on {mark.sop_instance_uid}"
        problem = check_mark(mark)
        if problem is not None:
            warnings.append(problem)
            continue
        if mark.kind not in REPORTED:
            warnings.append(PSWarning("report.kind", f"{where}: not part of the measurement report (it "
                                      "carries lengths, areas and ROI statistics)"))
            continue
        ds = images.get(mark.sop_instance_uid)
        if ds is None:
            warnings.append(PSWarning("report.image", f"{where}: its image is not available; left out"))
            continue
        values = measure(mark, ds)
        if values.length is None and values.area is None:
            warnings.append(PSWarning("report.spacing", f"{where}: the image has no pixel spacing, so no value in "
                                      "mm; left out"))
            continue
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        frame_numbers = [mark.frame + 1] if frames > 1 else None
        source = hd.sr.SourceImageForRegion.from_source_image(ds, referenced_frame_numbers=frame_numbers)
        tracking = hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"{mark.kind} {i}")
        pts = np.asarray(mark.points, dtype=np.float64)
        if mark.kind == "distance":
            coords = hd.sr.CoordinatesForMeasurement(graphic_type="POLYLINE", graphic_data=pts, source_image=source)
            length = hd.sr.Measurement(name=codes.SCT.Length, value=values.length, unit=units["mm"],
                                       referenced_coordinates=[coords])
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, measurements=[length],
                source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(
                    ds, referenced_frame_numbers=frame_numbers)]))
        else:
            region = hd.sr.ImageRegion(graphic_type=_region_type(mark), graphic_data=_region_data(mark),
                                       source_image=source)
            ms = []
            if values.area is not None:
                ms.append(hd.sr.Measurement(name=codes.SCT.Area, value=values.area, unit=units["mm2"]))
            if values.mean is not None:
                unit = units[values.unit]
                for name, v in ((codes.SCT.Mean, values.mean), (codes.SCT.StandardDeviation, values.sd),
                                (codes.SCT.Minimum, values.min), (codes.SCT.Maximum, values.max)):
                    ms.append(hd.sr.Measurement(name=name, value=float(v), unit=unit))
            groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, referenced_region=region, measurements=ms))
        reported.append(mark)
    if not groups:
        return Report(None, [], warnings)
    observer_ctx = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=observer or "Unknown^"))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer_ctx),
        procedure_reported=hd.sr.CodedConcept("363679005", "SCT", "Imaging procedure"),
        imaging_measurements=groups, title=codes.DCM.ImagingMeasurementReport
        if title == "Imaging Measurement Report" else hd.sr.CodedConcept("126000", "DCM", title))
    evidence = [images[uid] for uid in dict.fromkeys(m.sop_instance_uid for m in reported)]
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence, content=report, series_instance_uid=generate_uid(), series_number=series_number,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer=MANUFACTURER, is_complete=True)
    sr.SeriesDescription = "Measurement report"
    return Report(sr, reported, warnings)


def _region_type(mark: Mark) -> str:
    return {"ellipse": "ELLIPSE", "circle": "CIRCLE"}.get(mark.kind, "POLYLINE")


def _region_data(mark: Mark) -> np.ndarray:
    pts = [(float(x), float(y)) for x, y in mark.points]
    if mark.kind == "ellipse":
        (x0, y0), (x1, y1) = pts
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        h, v = [(x0, cy), (x1, cy)], [(cx, y0), (cx, y1)]
        return np.asarray(h + v if abs(x1 - x0) >= abs(y1 - y0) else v + h)
    if mark.kind == "circle":
        return np.asarray(pts)
    ring = outline(mark)
    return np.asarray(ring + [ring[0]])


def report_values(sr: Dataset | str) -> list[dict[str, Any]]:
    """The numeric measurements of a TID 1500 report read back with pydicom: one dict per value with the group's
    tracking identifier, the concept name, the value, the unit code, and the SCOORD (type, data) of the group."""
    import pydicom

    ds = pydicom.dcmread(sr) if isinstance(sr, str) else sr
    out: list[dict[str, Any]] = []

    def walk(items: Sequence[Dataset], group: dict[str, Any]) -> None:
        for item in items:
            name = item.ConceptNameCodeSequence[0].CodeMeaning if item.get("ConceptNameCodeSequence") else ""
            vtype = item.get("ValueType", "")
            if vtype == "CONTAINER" and name == "Measurement Group":
                g: dict[str, Any] = {}
                walk(item.get("ContentSequence") or [], g)
                continue
            if vtype == "TEXT" and name == "Tracking Identifier":
                group["tracking"] = item.TextValue
            if vtype == "SCOORD":
                group["scoord"] = (item.GraphicType, [float(v) for v in item.GraphicData])
            if vtype == "NUM":
                mv = item.MeasuredValueSequence[0]
                entry = {"name": name, "value": float(mv.NumericValue),
                         "unit": mv.MeasurementUnitsCodeSequence[0].CodeValue, "group": group}
                out.append(entry)
            walk(item.get("ContentSequence") or [], group)

    walk(ds.get("ContentSequence") or [], {})
    return out
