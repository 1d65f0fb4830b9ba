"""Apply a Grayscale Softcopy Presentation State to a frame: the display array the PS asks for (PS3.4 N.2).

Order, as the standard's grayscale pipeline: modality LUT (the PS's override, else the image's) -> softcopy VOI
(the PS's window or VOI LUT for this image; none means the full range of modality values) -> Presentation LUT
(table, or shape IDENTITY/INVERSE; the PS's shape decides alone: a MONOCHROME1 image under an INVERSE PS is not
inverted a second time, under IDENTITY it is not inverted at all) -> shutters (geometry on the image before
rotation, 1-based pixel centres, edges inside the shown part) filled with the Shutter Presentation Value ->
displayed area (corners on the unrotated image) -> rotation clockwise, then flip.

Annotations are not drawn here (the viewer draws them over the picture, the CLI names them); everything that is
not applied to the pixels is in :attr:`PSRender.warnings`, with the parser's own warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from workstation.dicom.presentation_state import PresentationState, PSWarning, Shutters
from workstation.imaging.presentation import (
    VOILUT,
    ModalityLUT,
    Presentation,
    VOIFunction,
    Window,
    _to_uint8,
)

_P_MAX = 65535.0  # Shutter Presentation Value is a 16-bit P-value


@dataclass(frozen=True)
class Placement:
    """Where the unrotated image went in the display array: displayed-area crop, then rotation, then flip.

    ``rows``/``columns`` are the stored image's; ``tlhc``/``brhc`` the displayed area's corners (column, row),
    1-based. :meth:`points` maps PIXEL-unit (column, row) coordinates (0\\0 = the top left corner of the top left
    pixel) into the display array's (x, y); :meth:`image` moves any array on the stored image's grid the same way.
    """

    rows: int
    columns: int
    tlhc: tuple[int, int] = (1, 1)
    brhc: tuple[int, int] | None = None
    rotation: int = 0
    flip: bool = False

    @property
    def corners(self) -> tuple[int, int, int, int]:
        brhc = self.brhc or (self.columns, self.rows)
        c0, c1 = sorted((self.tlhc[0], brhc[0]))
        r0, r1 = sorted((self.tlhc[1], brhc[1]))
        return c0, c1, r0, r1

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the display array."""
        c0, c1, r0, r1 = self.corners
        h, w = r1 - r0 + 1, c1 - c0 + 1
        return (w, h) if self.rotation in (90, 270) else (h, w)

    def image(self, arr: np.ndarray, fill=0) -> np.ndarray:
        c0, c1, r0, r1 = self.corners
        if arr.ndim == 3:
            out = np.stack([_crop(arr[..., k], (c0, r0), (c1, r1), fill) for k in range(arr.shape[2])], axis=-1)
        else:
            out = _crop(arr, (c0, r0), (c1, r1), fill)
        if self.rotation:
            out = np.rot90(out, k=-(self.rotation // 90))
        if self.flip:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)

    def points(self, pts) -> np.ndarray:
        """(n, 2) (column, row) PIXEL coordinates on the stored image -> (x, y) in the display array."""
        c0, c1, r0, r1 = self.corners
        h, w = r1 - r0 + 1, c1 - c0 + 1
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        x, y = p[:, 0] - (c0 - 1), p[:, 1] - (r0 - 1)
        # Continuous coordinates under np.rot90(k=-1) (clockwise): (x, y) -> (h - y, x).
        if self.rotation == 90:
            x, y = h - y, x
        elif self.rotation == 180:
            x, y = w - x, h - y
        elif self.rotation == 270:
            x, y = y, w - x
        if self.flip:
            x = self.shape[1] - x
        return np.stack([x, y], axis=1)


@dataclass
class PSRender:
    """The display array (uint8, rows x columns as shown), what was not applied, and where the image went."""

    image: np.ndarray
    warnings: list[PSWarning] = field(default_factory=list)
    placement: Placement | None = None


class ImageNotReferenced(ValueError):
    """The presentation state does not reference this image (or this frame of it)."""


def modality_lut(ps: PresentationState, pres: Presentation) -> ModalityLUT:
    """The PS's Modality LUT override, else the image's own."""
    override = ps.modality_lut
    if override is None:
        return pres.modality_lut
    unit = override.rescale_type if override.rescale_type not in ("", "US") else pres.modality_lut.unit
    if override.lut is not None:
        return ModalityLUT(unit=unit, table=override.lut.table, first_mapped=override.lut.first_mapped)
    return ModalityLUT(override.slope, override.intercept, unit)


def voi(ps: PresentationState, sop_instance_uid: str, frame_number: int) -> Window | VOILUT | None:
    """The PS's softcopy VOI for this image as a Window or VOILUT; None when the PS sets none."""
    item = ps.voi_for(sop_instance_uid, frame_number)
    if item is None:
        return None
    if item.lut is not None:
        return VOILUT(item.lut.first_mapped, item.lut.table, item.lut.bits, item.lut.explanation)
    return Window(float(item.center), float(item.width), VOIFunction.parse(item.function), item.explanation)


def _full_range(mlut: ModalityLUT, stored_range: tuple[float, float] | None, frame: np.ndarray) -> Window:
    # No softcopy VOI: the whole range of modality values the image can hold (dcmtk's "no VOI transformation").
    if mlut.table is not None:
        lo, hi = float(mlut.table.min()), float(mlut.table.max())
    else:
        rng = stored_range or (float(np.min(frame)), float(np.max(frame)))
        a, b = mlut.apply(np.array(rng, dtype=np.float64))
        lo, hi = float(min(a, b)), float(max(a, b))
    return Window((lo + hi + 1) / 2.0, hi - lo + 1, VOIFunction.LINEAR, "Full range")


def p_values(ps: PresentationState, y: np.ndarray) -> np.ndarray:
    """VOI output in [0, 1] -> P-values in [0, 1] through the Presentation LUT (table or shape)."""
    lut = ps.presentation_lut
    if lut is not None:
        n = len(lut.table)
        # The VOI output spans the table's inputs 0..n-1; truncating (not rounding) to an entry is what dcmtk does,
        # and with a steep table the difference is several gray levels.
        idx = np.clip(np.floor(y * (n - 1)), 0, n - 1).astype(np.intp)
        return lut.table[idx] / float((1 << lut.bits) - 1)
    return 1.0 - y if ps.lut_shape == "INVERSE" else y


def shutter_mask(shutters: Shutters, rows: int, columns: int) -> np.ndarray:
    """True where a shutter hides the image, on the unrotated (rows, columns) grid.

    Pixel (r, c) is tested at its centre, 1-based (PS3.3 C.7.6.11): the rectangle shows columns left..right and
    rows upper..lower inclusive; the circle shows centres at distance <= radius; the polygon shows centres inside
    or on its edges. Several shapes: only what every one of them leaves open is shown.
    """
    r = np.arange(1, rows + 1, dtype=np.float64)[:, None]
    c = np.arange(1, columns + 1, dtype=np.float64)[None, :]
    hidden = np.zeros((rows, columns), dtype=bool)
    if shutters.rectangle is not None:
        left, right, upper, lower = shutters.rectangle
        hidden |= ~((c >= left) & (c <= right) & (r >= upper) & (r <= lower))
    if shutters.circle is not None:
        cr, cc, radius = shutters.circle
        hidden |= (r - cr) ** 2 + (c - cc) ** 2 > float(radius) ** 2
    if shutters.polygon:
        hidden |= ~_inside_polygon(shutters.polygon, rows, columns)
    if shutters.bitmap is not None:
        r0, c0, bits = shutters.bitmap  # overlay origin (row, column), 1-based: bits[0, 0] covers that pixel
        top, left = r0 - 1, c0 - 1
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + bits.shape[0], rows), min(left + bits.shape[1], columns)
        if y1 > y0 and x1 > x0:
            hidden[y0:y1, x0:x1] |= bits[y0 - top: y1 - top, x0 - left: x1 - left]
    return hidden


def _inside_polygon(vertices, rows: int, columns: int) -> np.ndarray:
    """Pixel centres inside the polygon or on its boundary (vertices are (row, column), 1-based)."""
    pts = np.asarray(vertices, dtype=np.float64)
    r = np.arange(1, rows + 1, dtype=np.float64)[:, None]
    c = np.arange(1, columns + 1, dtype=np.float64)[None, :]
    inside = np.zeros((rows, columns), dtype=bool)
    on_edge = np.zeros((rows, columns), dtype=bool)
    for (ra, ca), (rb, cb) in zip(pts, np.roll(pts, -1, axis=0)):
        # Even-odd crossing test along each row (half-open in r so a vertex is counted once).
        if ra != rb:
            crosses = (ra <= r) != (rb <= r)
            c_at = ca + (r - ra) * (cb - ca) / (rb - ra)
            inside ^= crosses & (c < c_at)
        # Edges are inside: centres on the segment (exact in integer geometry, with a tolerance for floats).
        cross = (cb - ca) * (r - ra) - (rb - ra) * (c - ca)
        within = (np.minimum(ra, rb) <= r) & (r <= np.maximum(ra, rb)) & \
                 (np.minimum(ca, cb) <= c) & (c <= np.maximum(ca, cb))
        on_edge |= within & (np.abs(cross) < 1e-9)
    return inside | on_edge


def _crop(image: np.ndarray, tlhc: tuple[int, int], brhc: tuple[int, int], fill: int) -> np.ndarray:
    """The pixels between two (column, row) 1-based corners on the unrotated image; outside the image: ``fill``."""
    c0, c1 = sorted((tlhc[0], brhc[0]))
    r0, r1 = sorted((tlhc[1], brhc[1]))
    out = np.full((r1 - r0 + 1, c1 - c0 + 1), fill, dtype=image.dtype)
    rows, cols = image.shape
    ys, ye = max(r0 - 1, 0), min(r1, rows)
    xs, xe = max(c0 - 1, 0), min(c1, cols)
    if ye > ys and xe > xs:
        out[ys - (r0 - 1): ye - (r0 - 1), xs - (c0 - 1): xe - (c0 - 1)] = image[ys:ye, xs:xe]
    return out


def render_with_state(
    ps: PresentationState,
    header: Dataset,
    frame: np.ndarray,
    *,
    frame_number: int = 1,
    check_reference: bool = True,
) -> PSRender:
    """Render one decoded frame (as stored) as the presentation state says.

    ``header`` is the image's dataset (pixel data not needed), ``frame_number`` 1-based. Raises
    :class:`ImageNotReferenced` when the PS does not reference the image (unless ``check_reference`` is False).
    Colour images are returned as they are, with a warning (a GSPS applies to grayscale images).
    """
    uid = str(header.get("SOPInstanceUID", "") or "")
    if check_reference and not ps.references(uid, frame_number):
        frames = sorted({f for r in ps.images() if r.sop_instance_uid == uid for f in r.frames})
        if frames:
            which = ("frame " if len(frames) == 1 else "frames ") + ", ".join(map(str, frames))
            raise ImageNotReferenced(f"the presentation state references {which} of this image, "
                                     f"not frame {frame_number}")
        raise ImageNotReferenced(f"the presentation state does not reference this image (SOPInstanceUID {uid})")
    warnings = list(ps.warnings)
    pres = Presentation.from_dataset(header, frame_number - 1)
    if pres.is_color or frame.ndim == 3:
        warnings.append(PSWarning("image.color", "a grayscale presentation state on a colour image: only its "
                                                 "geometry is applied"))
        gray = None
        out = np.asarray(frame, dtype=np.uint8)
    else:
        mlut = modality_lut(ps, pres)
        window = voi(ps, uid, frame_number) or _full_range(mlut, pres.stored_range, frame)
        gray = p_values(ps, window.apply(mlut.apply(frame)))
        out = _to_uint8(gray)
    if ps.shutters.any:
        value = int(_to_uint8(np.array(ps.shutters.presentation_value / _P_MAX)))
        hidden = shutter_mask(ps.shutters, out.shape[0], out.shape[1])
        out = out.copy()
        out[hidden] = value
    area = ps.displayed_area_for(uid, frame_number)
    if area is not None and area.size_mode in ("TRUE SIZE", "MAGNIFY"):
        warnings.append(PSWarning("displayed-area.size", f"presentation size mode {area.size_mode}: "
                                                         "rendered at one pixel per image pixel"))
    # PS3.3 C.10.6.1: the flip is applied after the rotation (dcmtk agrees).
    placement = Placement(out.shape[0], out.shape[1], area.tlhc if area else (1, 1), area.brhc if area else None,
                          int(ps.rotation or 0), bool(ps.horizontal_flip))
    out = placement.image(out)
    if ps.annotations_for(uid, frame_number):
        warnings.append(PSWarning("annotation.not-drawn", "graphic and text annotations are not drawn into the "
                                                          "picture (the viewer shows them)"))
    return PSRender(np.ascontiguousarray(out), warnings, placement)
