"""Grayscale presentation pipeline (DICOM PS3.3 C.11): modality LUT -> VOI -> presentation LUT shape.

Everything here works on the raw stored array and never re-quantizes it: :meth:`Presentation.display_mapping`
turns a window into what pyqtgraph's ``ImageItem`` needs (levels in stored units, optional LUT), and
:func:`render` computes the same picture with numpy for the CLI and tests. Levels are computed in float: with
numpy 2, ``uint16_array - 5000`` wraps silently.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
from pydicom.dataset import Dataset

_OUT_MAX = 255.0
_EXACT_LUT_LIMIT = 1 << 16  # stored ranges up to this size get an exact per-value LUT


class VOIFunction(str, enum.Enum):
    """VOI LUT Function (0028,1056)."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"

    @classmethod
    def parse(cls, value: Any) -> "VOIFunction":
        try:
            return cls(str(value).strip().upper()) if value else cls.LINEAR
        except ValueError:
            return cls.LINEAR


@dataclass(frozen=True)
class Window:
    """A VOI window in modality units (HU for CT)."""

    center: float
    width: float
    function: VOIFunction = VOIFunction.LINEAR
    explanation: str = ""

    def bounds(self) -> tuple[float, float]:
        """Modality values mapped to the darkest and brightest output (for LINEAR: the DICOM edges)."""
        c, w = float(self.center), float(self.width)
        if self.function is VOIFunction.LINEAR:
            return c - 0.5 - (max(w, 1.0) - 1) / 2, c - 0.5 + (max(w, 1.0) - 1) / 2
        return c - w / 2, c + w / 2

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Modality values (float array) -> output in [0, 1] (float64)."""
        x = np.asarray(values, dtype=np.float64)
        c, w = float(self.center), float(self.width)
        if self.function is VOIFunction.SIGMOID:
            w = w if w > 0 else 1.0
            return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
        if self.function is VOIFunction.LINEAR_EXACT:
            w = w if w > 0 else 1e-6
            return np.clip((x - c) / w + 0.5, 0.0, 1.0)
        w = max(w, 1.0)
        if w == 1.0:
            return (x > c - 0.5).astype(np.float64)
        return np.clip((x - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class WindowPreset:
    """A named window: ``source`` is "file" (from the dataset) or "ct" (built-in CT preset)."""

    name: str
    window: Window
    source: str = "file"


# Built-in CT presets (center, width) in HU.
CT_PRESETS: tuple[WindowPreset, ...] = tuple(
    WindowPreset(name, Window(c, w, explanation=name), "ct")
    for name, c, w in (
        ("Soft tissue", 40, 400),
        ("Lung", -600, 1500),
        ("Bone", 400, 1800),
        ("Brain", 40, 80),
        ("Liver", 60, 160),
        ("Mediastinum", 50, 350),
    )
)


def _lut_from(descriptor: Any, data: Any, bits_hint: int | None = None) -> tuple[int, np.ndarray, int]:
    """(first mapped value, table, output bits) from a LUT Descriptor and LUT Data."""
    n, first, bits = (int(v) for v in descriptor)
    n = n or 65536
    if isinstance(data, (bytes, bytearray)):
        dtype = "<u2" if bits > 8 or len(data) >= 2 * n else "u1"
        table = np.frombuffer(bytes(data), dtype=dtype)[:n].astype(np.float64)
    else:
        table = np.asarray(list(data) if not np.isscalar(data) else [data], dtype=np.float64)[:n]
    # Some files declare 16 bits but hold fewer (or the other way round); trust the data's actual range.
    top = float(table.max()) if table.size else 0.0
    if top >= (1 << bits):
        bits = int(np.ceil(np.log2(top + 1)))
    return first, table, bits


@dataclass(frozen=True)
class ModalityLUT:
    """Stored value -> modality value: linear rescale or a Modality LUT Sequence table."""

    slope: float = 1.0
    intercept: float = 0.0
    unit: str = ""
    table: np.ndarray | None = field(default=None, compare=False, repr=False)
    first_mapped: int = 0

    @property
    def is_linear(self) -> bool:
        return self.table is None

    def apply(self, stored: Any) -> np.ndarray:
        """Stored values (array or scalar) -> modality values (float64)."""
        x = np.asarray(stored, dtype=np.float64)
        if self.table is not None:
            idx = np.clip(np.rint(x) - self.first_mapped, 0, len(self.table) - 1).astype(np.intp)
            return self.table[idx]
        if self.slope == 1.0 and self.intercept == 0.0:
            return x
        return x * self.slope + self.intercept


@dataclass(frozen=True)
class VOILUT:
    """One item of the VOI LUT Sequence: modality value -> output, as a table."""

    first_mapped: int
    table: np.ndarray = field(compare=False, repr=False)
    bits: int
    explanation: str = ""

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Modality values -> output in [0, 1]."""
        x = np.asarray(values, dtype=np.float64)
        idx = np.clip(np.rint(x) - self.first_mapped, 0, len(self.table) - 1).astype(np.intp)
        return self.table[idx] / float((1 << self.bits) - 1)


@dataclass(frozen=True)
class PixelPadding:
    """Pixel Padding Value (and optional Range Limit), in stored units: pixels outside the image."""

    value: float
    range_limit: float | None = None

    def mask(self, stored: np.ndarray) -> np.ndarray:
        lo, hi = sorted((self.value, self.value if self.range_limit is None else self.range_limit))
        return (stored >= lo) & (stored <= hi)


@dataclass(frozen=True)
class DisplayMapping:
    """What ``ImageItem`` needs: ``setLevels(levels)`` and ``setLookupTable(lut)`` (lut may be None).

    Levels are in stored (array) units. pyqtgraph maps v to ``lut[clip(int((v - lo) * N / (hi - lo)), 0, N-1)]``.
    """

    levels: tuple[float, float]
    lut: np.ndarray | None = None


WindowLike = Union[Window, VOILUT, str, None]


def _tag_value(ds: Dataset, keyword: str) -> list[Any]:
    v = ds.get(keyword)
    if v is None or v == "":
        return []
    return list(v) if hasattr(v, "__iter__") and not isinstance(v, (str, bytes)) else [v]


def _functional_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    for groups, idx in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(groups)
        if seq and len(seq) > idx and seq[idx].get(sequence):
            return seq[idx].get(sequence)[0]
    return None


class Presentation:
    """How to display one frame: modality LUT, VOI choices, inversion, padding, color.

    Build with :meth:`from_dataset`. ``presets`` lists every Window Center/Width pair of the file (with its
    explanation) and, for CT, :data:`CT_PRESETS`.
    """

    def __init__(
        self,
        *,
        modality: str = "",
        photometric: str = "MONOCHROME2",
        modality_lut: ModalityLUT | None = None,
        file_windows: list[Window] | None = None,
        voi_luts: list[VOILUT] | None = None,
        voi_function: VOIFunction = VOIFunction.LINEAR,
        inverse: bool = False,
        padding: PixelPadding | None = None,
        stored_range: tuple[float, float] | None = None,
    ):
        self.modality = modality
        self.photometric = photometric
        self.modality_lut = modality_lut or ModalityLUT()
        self.file_windows = list(file_windows or [])
        self.voi_luts = list(voi_luts or [])
        self.voi_function = voi_function
        self.inverse = inverse
        self.padding = padding
        self.stored_range = stored_range
        self.presets: list[WindowPreset] = [
            WindowPreset(w.explanation or f"Window {i + 1}", w, "file") for i, w in enumerate(self.file_windows)
        ]
        if modality == "CT":
            self.presets.extend(CT_PRESETS)

    # -- construction ------------------------------------------------------------------------------------------
    @classmethod
    def from_dataset(cls, ds: Dataset, frame: int = 0) -> "Presentation":
        """Read the presentation attributes of frame ``frame`` (enhanced multi-frame groups win)."""
        modality = str(ds.get("Modality", "") or "")
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2").strip()
        bits_stored = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
        stored_range: tuple[float, float] | None
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            stored_range = None
        elif signed:
            stored_range = (-(2.0 ** (bits_stored - 1)), 2.0 ** (bits_stored - 1) - 1)
        else:
            stored_range = (0.0, 2.0**bits_stored - 1)

        # Modality LUT: per-frame Pixel Value Transformation, else top level, else Modality LUT Sequence.
        src: Dataset = _functional_item(ds, frame, "PixelValueTransformationSequence") or ds
        unit = str(src.get("RescaleType", "") or "")
        if modality == "CT" and unit in ("", "US", "HU"):
            unit = "HU"
        elif unit == "US":
            unit = ""
        mlut: ModalityLUT
        if "RescaleSlope" in src or "RescaleIntercept" in src:
            mlut = ModalityLUT(float(src.get("RescaleSlope", 1) or 1), float(src.get("RescaleIntercept", 0) or 0), unit)
        elif ds.get("ModalityLUTSequence"):
            item = ds.ModalityLUTSequence[0]
            first, table, _bits = _lut_from(item.LUTDescriptor, item.LUTData)
            mlut = ModalityLUT(unit=str(item.get("ModalityLUTType", "") or unit), table=table, first_mapped=first)
        else:
            mlut = ModalityLUT(unit=unit)

        # VOI: per-frame Frame VOI LUT, else top level windows; VOI LUT Sequence.
        voi_src: Dataset = _functional_item(ds, frame, "FrameVOILUTSequence") or ds
        centers = _tag_value(voi_src, "WindowCenter")
        widths = _tag_value(voi_src, "WindowWidth")
        expl = _tag_value(voi_src, "WindowCenterWidthExplanation")
        function = VOIFunction.parse(voi_src.get("VOILUTFunction"))
        windows = []
        for i, (c, w) in enumerate(zip(centers, widths)):
            try:
                cf, wf = float(c), float(w)
            except (TypeError, ValueError):
                continue
            if wf <= 0:
                continue
            windows.append(Window(cf, wf, function, str(expl[i]) if i < len(expl) else ""))
        voi_luts = []
        for item in ds.get("VOILUTSequence") or []:
            try:
                first, table, bits = _lut_from(item.LUTDescriptor, item.LUTData)
            except (AttributeError, TypeError, ValueError):
                continue
            voi_luts.append(VOILUT(first, table, bits, str(item.get("LUTExplanation", "") or "")))

        shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
        # MONOCHROME1 is displayed inverted; its Presentation LUT Shape (INVERSE in DX) names the same inversion.
        inverse = photometric == "MONOCHROME1" or shape == "INVERSE"
        padding = None
        if ds.get("PixelPaddingValue") is not None:
            limit = ds.get("PixelPaddingRangeLimit")
            padding = PixelPadding(float(ds.PixelPaddingValue), float(limit) if limit is not None else None)
        return cls(
            modality=modality,
            photometric=photometric,
            modality_lut=mlut,
            file_windows=windows,
            voi_luts=voi_luts,
            voi_function=function,
            inverse=inverse,
            padding=padding,
            stored_range=stored_range,
        )

    # -- queries -----------------------------------------------------------------------------------------------
    @property
    def is_color(self) -> bool:
        return not self.photometric.startswith("MONOCHROME")

    @property
    def unit(self) -> str:
        return self.modality_lut.unit

    def to_modality(self, stored: Any) -> np.ndarray:
        """Stored value(s) -> modality value(s), float64."""
        return self.modality_lut.apply(stored)

    def probe(self, stored: Any) -> tuple[float, str]:
        """Pixel probe: one stored value -> (modality value, unit), e.g. (-1000.0, "HU")."""
        return float(self.modality_lut.apply(stored)), self.unit

    def default_window(self, frame: np.ndarray | None = None) -> Window | VOILUT | None:
        """The file's first window, else its first VOI LUT, else the full range of the modality values.

        With ``frame``, that range is the one the frame's values span (padding excluded), as dcmtk's min-max
        and Horos do: a 12-bit CT holding -1000..1500 HU is shown across its values, not across -2048..2047
        where it would look flat. Without a frame, the range every stored value could take.
        """
        if self.is_color:
            return None
        if self.file_windows:
            return self.file_windows[0]
        if self.voi_luts:
            return self.voi_luts[0]
        if frame is not None:
            return self.auto_window(frame)
        return self.full_range_window()

    def full_range_window(self) -> Window | None:
        """A LINEAR window spanning every possible modality value (from BitsStored and the modality LUT)."""
        if self.stored_range is None:
            return None
        if self.modality_lut.table is not None:
            lo, hi = float(self.modality_lut.table.min()), float(self.modality_lut.table.max())
        else:
            a, b = self.modality_lut.apply(np.array(self.stored_range))
            lo, hi = float(min(a, b)), float(max(a, b))
        return _minmax_window(lo, hi)

    def auto_window(self, frame: np.ndarray) -> Window:
        """Min/max window over the frame's modality values, pixel padding excluded."""
        data = frame
        if self.padding is not None:
            keep = ~self.padding.mask(frame)
            if keep.any():
                data = frame[keep]
        lo, hi = float(np.min(data)), float(np.max(data))
        m = self.modality_lut.apply(np.array([lo, hi]))
        if self.modality_lut.table is not None:
            vals = self.modality_lut.apply(data)
            m = np.array([vals.min(), vals.max()])
        return _minmax_window(float(m.min()), float(m.max()))

    # -- mapping -----------------------------------------------------------------------------------------------
    def resolve(self, window: WindowLike, frame: np.ndarray | None = None) -> Window | VOILUT | None:
        """Turn ``None`` (default), ``"minmax"`` (needs ``frame``) or a Window/VOILUT into a Window/VOILUT."""
        if window is None:
            return self.default_window(frame)
        if isinstance(window, str):
            if window.lower() != "minmax":
                raise ValueError(f"unknown window {window!r}")
            if frame is None:
                raise ValueError("minmax needs the frame")
            return self.auto_window(frame)
        return window

    def gray(self, stored: np.ndarray, window: Window | VOILUT | None, invert: bool = False) -> np.ndarray:
        """Stored values -> output gray in [0, 1] (float64): modality LUT, VOI, inversion."""
        m = self.modality_lut.apply(stored)
        if window is None:
            window = self.full_range_window() or _minmax_window(float(m.min()), float(m.max()))
        y = window.apply(m)
        if self.inverse != bool(invert):
            y = 1.0 - y
        return y

    def display_mapping(self, window: WindowLike = None, invert: bool = False,
                        frame: np.ndarray | None = None) -> DisplayMapping:
        """Levels (stored units) and optional LUT for ``ImageItem``, for a window (modality units) or VOI LUT.

        ``invert`` is the user's toggle, combined with MONOCHROME1 / Presentation LUT Shape INVERSE.
        ``frame`` is needed only for ``"minmax"`` and for float data without a stored range.
        Color images: levels (0, 255), no LUT.
        """
        if self.is_color:
            return DisplayMapping((0.0, 255.0), None)
        win = self.resolve(window, frame)
        flip = self.inverse != bool(invert)
        ml = self.modality_lut
        if (
            isinstance(win, Window)
            and win.function is not VOIFunction.SIGMOID
            and ml.is_linear
            and ml.slope > 0
        ):
            lo, hi = win.bounds()
            if hi <= lo:
                hi = lo + 1e-6
            levels = ((lo - ml.intercept) / ml.slope, (hi - ml.intercept) / ml.slope)
            lut = np.arange(255, -1, -1, dtype=np.uint8) if flip else None
            return DisplayMapping((float(levels[0]), float(levels[1])), lut)
        # Non-linear: a table over the stored range, one entry per stored value when it is small enough.
        if self.stored_range is not None:
            s_lo, s_hi = self.stored_range
        elif frame is not None:
            s_lo, s_hi = float(np.min(frame)), float(np.max(frame))
        else:
            raise ValueError("a frame is needed to map float pixel data")
        n = int(s_hi - s_lo) + 1
        if self.stored_range is not None and n <= _EXACT_LUT_LIMIT:
            values = np.arange(s_lo, s_lo + n, dtype=np.float64)
            levels = (s_lo, s_lo + n)
        else:
            n = 4096
            values = np.linspace(s_lo, s_hi, n)
            levels = (s_lo, s_hi + (s_hi - s_lo) / (n - 1))
        lut = _to_uint8(self.gray(values, win, invert))
        return DisplayMapping((float(levels[0]), float(levels[1])), lut)


def _minmax_window(lo: float, hi: float) -> Window:
    # Center/width chosen so the DICOM LINEAR edges fall exactly on lo and hi (dcmtk's min-max does the same).
    return Window((lo + hi + 1) / 2.0, hi - lo + 1, VOIFunction.LINEAR, "Min/max")


def _to_uint8(y: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(y * _OUT_MAX + 0.5), 0, 255).astype(np.uint8)


def render(
    presentation: Presentation,
    frame: np.ndarray,
    window: WindowLike = None,
    *,
    invert: bool = False,
    size: tuple[int, int] | None = None,
) -> np.ndarray:
    """The picture the viewer shows, as uint8: (rows, cols) gray or (rows, cols, 3) RGB.

    ``window``: a :class:`Window` (modality units), a :class:`VOILUT`, ``"minmax"``, or None for
    :meth:`Presentation.default_window`. ``size`` = (width, height) resamples (nearest neighbour when
    enlarging, area averaging when reducing) after the gray mapping.
    """
    if presentation.is_color or frame.ndim == 3:
        out = np.asarray(frame, dtype=np.uint8)
    else:
        win = presentation.resolve(window, frame)
        out = _to_uint8(presentation.gray(frame, win, invert))
    if size is not None:
        out = resize(out, size)
    return out


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resample an 8-bit gray or RGB image to (width, height), each axis on its own (separable).

    Shrinking an axis averages the input samples each output sample covers, weighted by overlap (a box filter,
    i.e. area averaging); enlarging one repeats the nearest input sample, so its values stay exact. Color is
    resampled exactly as gray, channel by channel (a 640x480 RGB thumbnail takes milliseconds; the einsum this
    replaced took half a minute). Sums are formed before the one division, so an integer reduction gives the
    correctly rounded block mean (ties round up, as ``floor(x + 0.5)``).
    """
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise ValueError("size must be at least 1x1")
    rows, cols = image.shape[:2]
    if (cols, rows) == (width, height):
        return image
    # Columns first: summing along the contiguous axis is an order of magnitude faster, and it shrinks the data
    # before the strided pass over rows.
    out, k_cols = _resample_axis(np.asarray(image), width, 1)
    out, k_rows = _resample_axis(out, height, 0)
    norm = k_rows * k_cols
    if norm == 1.0 and out.dtype == np.uint8:  # enlarged on both axes: nearest-neighbour copies, nothing to round
        return np.ascontiguousarray(out)
    return np.clip(np.floor(out / norm + 0.5), 0, 255).astype(np.uint8)


def _resample_axis(data: np.ndarray, n_out: int, axis: int) -> tuple[np.ndarray, float]:
    """One axis to ``n_out`` samples: (resampled data, divisor still to apply).

    Enlarging (or keeping) picks the input sample under each output sample's centre, with no arithmetic.
    Shrinking returns unnormalised box sums, read off the running sum at the (fractional) edges of each output
    sample: the running sum of a piecewise-constant signal is piecewise linear, so at a fractional edge it is the
    sum up to the whole sample before plus the covered fraction of that sample. The running sum is needed only at
    those whole samples, so it is built from ``np.add.reduceat`` segments (a full cumulative sum of a 4096-row
    mammogram along rows takes ten times longer). The divisor is the input length per output sample.
    """
    n_in = data.shape[axis]
    scale = n_in / n_out
    if scale <= 1:
        i = np.arange(n_out)
        idx = np.minimum(((i * scale + (i + 1) * scale) / 2).astype(np.intp), n_in - 1)
        return np.take(data, idx, axis=axis), 1.0
    edges = np.arange(n_out + 1) * scale
    edges[-1] = n_in  # no rounding past the last sample
    whole = np.floor(edges).astype(np.intp)
    cuts = np.unique(np.minimum(whole, n_in - 1))  # starts at 0, strictly increasing: no empty segment
    segments = np.add.reduceat(data, cuts, axis=axis, dtype=np.float64)
    shape = list(segments.shape)
    shape[axis] = 1
    running = np.concatenate([np.zeros(shape), np.cumsum(segments, axis=axis)], axis=axis)  # at cuts, then n_in
    at_edges = np.take(running, np.searchsorted(cuts, whole), axis=axis)
    frac = edges - whole
    if np.any(frac):
        shape = [1] * data.ndim
        shape[axis] = len(edges)
        at_edges += frac.reshape(shape) * np.take(data, np.minimum(whole, n_in - 1), axis=axis)
    index = [slice(None)] * data.ndim
    index[axis] = slice(1, None)
    upper = at_edges[tuple(index)]
    index[axis] = slice(None, -1)
    return upper - at_edges[tuple(index)], scale
