"""What a length on an image means: the calibration of a measurement, Qt-free.

A length drawn on an image is only as true as the spacing behind it, and the file says which spacing applies:

* **Cross-sectional images** (CT, MR, ...): ``PixelSpacing`` is the distance in the patient (PS3.3 C.7.6.2.1.1).
* **Projection radiography** (CR, DX, MG, IO, XA, RF; PS3.3 10.7.1.3 and the DX/CR/MG modules):
  ``ImagerPixelSpacing`` is measured at the front plane of the detector, so an object reads larger than it is by
  the geometric magnification SID/SOD. When ``EstimatedRadiographicMagnificationFactor`` (ERMF = SID/SOD) is given,
  the spacing in the patient is estimated as ``ImagerPixelSpacing / ERMF`` and lengths say "magnification
  corrected". Without it they say "at detector". A ``PixelSpacing`` that differs from ``ImagerPixelSpacing`` has
  been calibrated (``PixelSpacingCalibrationType`` GEOMETRY or FIDUCIAL says how) and is used as such; one equal
  to it is the detector spacing copied, not a calibration.
* **Ultrasound** (PS3.3 C.8.5.5, ``SequenceOfUltrasoundRegions``): each region has its own ``PhysicalDeltaX/Y``
  in its own units (cm for a 2D image, seconds and cm/s for a Doppler strip, ...). A measurement inside one region
  uses that region; one crossing regions or outside every region has no calibration, and says so.
* **Manual calibration**: the user draws a line over an object of known length and types it; the scale holds for
  the series for the session (:class:`SessionCalibrations`) and lengths say "manual calibration".

:func:`image_calibration` reads all of this from a dataset; :meth:`Calibration.scale` gives the :class:`Scale` for
the points of one measurement (the region they lie in). Points are image coordinates ``(x, y)`` = (column, row),
pixel ``(r, c)`` covering ``[c, c+1) x [r, r+1)``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Sequence

from workstation.imaging.geometry import attr_float, attr_floats, attr_int, group_items

# Ultrasound Physical Units X/Y Direction (PS3.3 C.8.5.5.1.15): code -> (unit, factor to the unit we show).
US_UNITS: dict[int, tuple[str, float]] = {
    0x0: ("", 1.0), 0x1: ("%", 1.0), 0x2: ("dB", 1.0), 0x3: ("mm", 10.0), 0x4: ("s", 1.0), 0x5: ("Hz", 1.0),
    0x6: ("dB/s", 1.0), 0x7: ("cm/s", 1.0), 0x8: ("cm²", 1.0), 0x9: ("cm²/s", 1.0), 0xA: ("cm³", 1.0),
    0xB: ("cm³/s", 1.0), 0xC: ("°", 1.0),
}
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "IO", "PX", "XA", "RF", "RG", "DF"})

# Where a scale comes from (Scale.source); the GUI turns these into translated labels.
PATIENT = "patient"  # PixelSpacing of a cross-sectional image: in the patient, no qualifier
DETECTOR = "detector"  # ImagerPixelSpacing, not corrected: "at detector"
MAGNIFICATION = "magnification"  # ImagerPixelSpacing / ERMF: "magnification corrected"
CALIBRATED = "calibrated"  # PixelSpacing calibrated by the modality (GEOMETRY / FIDUCIAL)
US_REGION = "us_region"  # an ultrasound region's PhysicalDeltaX/Y
MANUAL = "manual"  # the user's calibration line
NONE = "none"  # no calibration: lengths in pixels, with Scale.reason

# Why there is no calibration (Scale.reason).
NO_SPACING = "no_spacing"
CROSSES_REGIONS = "crosses_regions"
OUTSIDE_REGIONS = "outside_regions"


@dataclass(frozen=True)
class UsRegion:
    """One item of SequenceOfUltrasoundRegions: its pixel bounds (inclusive) and the physical size of a pixel."""

    index: int  # 1-based, as a user counts them
    x0: int
    y0: int
    x1: int
    y1: int
    delta_x: float  # in unit_x per pixel
    delta_y: float
    unit_x: str
    unit_y: str
    spatial_format: int = 0
    data_type: int = 0
    ref_x0: int | None = None  # reference pixel, relative to (x0, y0)
    ref_y0: int | None = None
    ref_value_x: float | None = None
    ref_value_y: float | None = None

    def contains(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 + 1 and self.y0 <= y <= self.y1 + 1

    @property
    def spatial(self) -> bool:
        """Both axes are lengths (a 2D tissue/flow image): distances and areas in mm."""
        return self.unit_x == "mm" and self.unit_y == "mm" and self.delta_x > 0 and self.delta_y > 0

    def value_at(self, x: float, y: float) -> tuple[float | None, float | None]:
        """Physical values of a point (e.g. time and velocity in a Doppler strip) from the reference pixel."""
        vx = vy = None
        if self.ref_x0 is not None and self.ref_value_x is not None:
            vx = self.ref_value_x + (x - (self.x0 + self.ref_x0)) * self.delta_x
        if self.ref_y0 is not None and self.ref_value_y is not None:
            # Rows grow downwards; PhysicalDeltaY carries the sign (negative when values grow upwards).
            vy = self.ref_value_y + (y - (self.y0 + self.ref_y0)) * self.delta_y
        return vx, vy


@dataclass(frozen=True)
class Scale:
    """The calibration one measurement uses.

    ``spacing`` (row, column) in mm when lengths are physical; else ``axes`` ((delta x, unit x), (delta y,
    unit y)) for a non-spatial ultrasound region (M-mode, Doppler), else nothing (``reason`` says why).
    """

    source: str
    spacing: tuple[float, float] | None = None
    factor: float | None = None  # the ERMF applied (MAGNIFICATION)
    calibration_type: str = ""  # PixelSpacingCalibrationType (CALIBRATED)
    region: UsRegion | None = None
    reason: str = ""

    @property
    def axes(self) -> tuple[tuple[float, str], tuple[float, str]] | None:
        r = self.region
        if r is None or r.spatial:
            return None
        return (r.delta_x, r.unit_x), (r.delta_y, r.unit_y)

    def length(self, p0: Sequence[float], p1: Sequence[float]) -> float | None:
        """Length in mm between two image points, or None without a spatial calibration."""
        if self.spacing is None:
            return None
        return math.hypot((float(p1[0]) - float(p0[0])) * self.spacing[1],
                          (float(p1[1]) - float(p0[1])) * self.spacing[0])

    def components(self, p0: Sequence[float], p1: Sequence[float]) -> tuple[tuple[float, str], tuple[float, str]]:
        """(|Δx| in unit x, |Δy| in unit y) between two points of a non-spatial region (M-mode, Doppler)."""
        (dx, ux), (dy, uy) = self.axes  # type: ignore[misc]
        return ((abs((float(p1[0]) - float(p0[0])) * dx), ux), (abs((float(p1[1]) - float(p0[1])) * dy), uy))

    def area(self, area_px: float) -> float | None:
        """An area in image pixels as mm², or None without a spatial calibration."""
        if self.spacing is None:
            return None
        return area_px * self.spacing[0] * self.spacing[1]

    def describe(self) -> str:
        """An English qualifier for logs and the CLI (the GUI translates the source instead)."""
        return {
            PATIENT: "",
            DETECTOR: "at detector",
            MAGNIFICATION: f"magnification corrected (/{self.factor:g}, estimated)" if self.factor else "",
            CALIBRATED: f"calibrated ({self.calibration_type})" if self.calibration_type else "calibrated",
            US_REGION: f"US region {self.region.index}" if self.region else "",
            MANUAL: "manual calibration",
            NONE: {NO_SPACING: "no spacing", CROSSES_REGIONS: "crosses ultrasound regions",
                   OUTSIDE_REGIONS: "outside the calibrated ultrasound regions"}.get(self.reason, "no spacing"),
        }.get(self.source, "")


@dataclass(frozen=True)
class Calibration:
    """The calibration of one image (frame): a plain scale, or ultrasound regions, or nothing."""

    base: Scale
    regions: tuple[UsRegion, ...] = ()
    manual: Scale | None = None

    def scale(self, points: Sequence[Sequence[float]] = ()) -> Scale:
        """The scale for a measurement through ``points``: the manual one first, then the ultrasound region
        holding every point, then the image's own."""
        if self.manual is not None:
            return self.manual
        if not self.regions:
            return self.base
        pts = [(float(p[0]), float(p[1])) for p in points]
        if not pts:
            return Scale(NONE, reason=OUTSIDE_REGIONS)
        holding = [r for r in self.regions if all(r.contains(x, y) for x, y in pts)]
        if holding:
            # Nested regions (a colour box over a B-mode image): the smallest holding them all.
            r = min(holding, key=lambda g: (g.x1 - g.x0) * (g.y1 - g.y0))
            if r.spatial:
                return Scale(US_REGION, spacing=(r.delta_y, r.delta_x), region=r)
            return Scale(US_REGION, region=r)
        if any(any(r.contains(x, y) for r in self.regions) for x, y in pts):
            return Scale(NONE, reason=CROSSES_REGIONS)
        return Scale(NONE, reason=OUTSIDE_REGIONS)

    @property
    def display_spacing(self) -> tuple[float, float] | None:
        """A spacing for the scale bar: the manual one, else the base one, else the only spatial region's."""
        for s in (self.manual, self.base):
            if s is not None and s.spacing is not None:
                return s.spacing
        spatial = [r for r in self.regions if r.spatial]
        if spatial and len({(r.delta_x, r.delta_y) for r in spatial}) == 1:
            return (spatial[0].delta_y, spatial[0].delta_x)
        return None


def us_regions(ds) -> tuple[UsRegion, ...]:
    """The calibrated regions of SequenceOfUltrasoundRegions (items without usable bounds/deltas are left out)."""
    out = []
    for i, item in enumerate(ds.get("SequenceOfUltrasoundRegions") or [], start=1):
        bounds = [attr_int(item.get(k)) for k in ("RegionLocationMinX0", "RegionLocationMinY0",
                                                   "RegionLocationMaxX1", "RegionLocationMaxY1")]
        dx, dy = attr_float(item.get("PhysicalDeltaX")), attr_float(item.get("PhysicalDeltaY"))
        if any(b is None for b in bounds) or dx is None or dy is None or dx == 0 or dy == 0:
            continue
        x0, y0, x1, y1 = bounds  # type: ignore[misc]
        if x1 < x0 or y1 < y0:
            continue
        ux, fx = US_UNITS.get(attr_int(item.get("PhysicalUnitsXDirection")) or 0, ("", 1.0))
        uy, fy = US_UNITS.get(attr_int(item.get("PhysicalUnitsYDirection")) or 0, ("", 1.0))
        rvx = attr_float(item.get("ReferencePixelPhysicalValueX"))
        rvy = attr_float(item.get("ReferencePixelPhysicalValueY"))
        out.append(UsRegion(
            index=i, x0=x0, y0=y0, x1=x1, y1=y1,
            # Lengths are kept as positive spacings; other quantities keep their sign (a velocity axis grows up).
            delta_x=abs(dx) * fx if ux == "mm" else dx * fx, delta_y=abs(dy) * fy if uy == "mm" else dy * fy,
            unit_x=ux, unit_y=uy, spatial_format=attr_int(item.get("RegionSpatialFormat")) or 0,
            data_type=attr_int(item.get("RegionDataType")) or 0,
            ref_x0=attr_int(item.get("ReferencePixelX0")), ref_y0=attr_int(item.get("ReferencePixelY0")),
            ref_value_x=None if rvx is None else rvx * fx, ref_value_y=None if rvy is None else rvy * fy,
        ))
    return tuple(out)


def _functional_spacing(ds, frame: int) -> tuple[float, ...] | None:
    """The first usable PixelSpacing of the frame's functional groups (per-frame, then shared)."""
    for item in group_items(ds, frame, "PixelMeasuresSequence"):
        sp = attr_floats(item.get("PixelSpacing"), 2, positive=True)
        if sp:
            return sp
    return None


def base_scale(ds, frame: int = 0) -> Scale:
    """The image's own scale from PixelSpacing / ImagerPixelSpacing / ERMF (ultrasound regions aside)."""
    ps = _functional_spacing(ds, frame) or attr_floats(ds.get("PixelSpacing"), 2, positive=True)
    ips = attr_floats(ds.get("ImagerPixelSpacing"), 2, positive=True)
    cal_type = str(ds.get("PixelSpacingCalibrationType", "") or "").strip().upper()
    if ps is not None and ips is None:
        if cal_type:
            return Scale(CALIBRATED, spacing=ps, calibration_type=cal_type)  # type: ignore[arg-type]
        return Scale(PATIENT, spacing=ps)  # type: ignore[arg-type]
    if ps is not None and ips is not None and not all(math.isclose(a, b, rel_tol=1e-4) for a, b in zip(ps, ips)):
        # PixelSpacing differs from the detector's: the modality calibrated it (for magnification, a fiducial).
        return Scale(CALIBRATED, spacing=ps, calibration_type=cal_type)  # type: ignore[arg-type]
    if ips is not None:
        ermf = attr_float(ds.get("EstimatedRadiographicMagnificationFactor"))
        if ermf is not None and ermf > 0:
            return Scale(MAGNIFICATION, spacing=(ips[0] / ermf, ips[1] / ermf), factor=ermf)
        return Scale(DETECTOR, spacing=ips)  # type: ignore[arg-type]
    return Scale(NONE, reason=NO_SPACING)


def image_calibration(ds, frame: int = 0, manual: "ManualCalibration | None" = None) -> Calibration:
    """The calibration of frame ``frame`` of ``ds`` (with the series' manual calibration when there is one)."""
    regions = us_regions(ds) if "SequenceOfUltrasoundRegions" in ds else ()
    base = base_scale(ds, frame)
    return Calibration(base=base, regions=regions, manual=manual.scale(base) if manual is not None else None)


@dataclass(frozen=True)
class ManualCalibration:
    """A user's calibration: ``mm_per_px`` along columns and the pixel aspect (row / column spacing)."""

    mm_per_px: float
    aspect: float = 1.0

    def scale(self, base: Scale | None = None) -> Scale:
        return Scale(MANUAL, spacing=(self.mm_per_px * self.aspect, self.mm_per_px))


def manual_calibration(p0: Sequence[float], p1: Sequence[float], length_mm: float,
                       base: Scale | None = None, pixel_aspect: float | None = None) -> ManualCalibration:
    """The calibration making the line ``p0``-``p1`` measure ``length_mm``.

    The pixel aspect is kept from the image's own spacing (or PixelAspectRatio row/column, else square pixels):
    only the scale changes. Raises ValueError for a line of no length or a length that is not positive.
    """
    if not (math.isfinite(length_mm) and length_mm > 0):
        raise ValueError("the known length must be a positive number of millimetres")
    if base is not None and base.spacing is not None:
        aspect = base.spacing[0] / base.spacing[1]
    else:
        aspect = float(pixel_aspect) if pixel_aspect and pixel_aspect > 0 else 1.0
    dx, dy = float(p1[0]) - float(p0[0]), float(p1[1]) - float(p0[1])
    px = math.hypot(dx, dy * aspect)  # the line's length in column-pixel units
    if px < 1.0:
        raise ValueError("the calibration line is shorter than a pixel")
    return ManualCalibration(length_mm / px, aspect)


def pixel_aspect_ratio(ds) -> float | None:
    """PixelAspectRatio as row / column (vertical / horizontal size of a pixel), or None."""
    v = ds.get("PixelAspectRatio")
    try:
        a, b = (float(x) for x in v)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return a / b if a > 0 and b > 0 else None


@dataclass
class SessionCalibrations:
    """Manual calibrations per series (SeriesInstanceUID), for the session: not written anywhere, as a ruler
    laid on one film does not belong to the archive."""

    _by_series: dict[str, ManualCalibration] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, series_uid: str | None) -> ManualCalibration | None:
        if not series_uid:
            return None
        with self._lock:
            return self._by_series.get(series_uid)

    def set(self, series_uid: str, cal: ManualCalibration | None) -> None:
        with self._lock:
            if cal is None:
                self._by_series.pop(series_uid, None)
            else:
                self._by_series[series_uid] = cal

    def clear(self) -> None:
        with self._lock:
            self._by_series.clear()


SESSION = SessionCalibrations()
