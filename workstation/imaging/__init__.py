"""Headless imaging core: decode, stack, present and render DICOM images. No Qt here.

Typical viewer use (pyqtgraph ``ImageItem`` keeps the raw array; levels/LUT are applied at render time)::

    from concurrent.futures import ThreadPoolExecutor
    from workstation import imaging

    pool = ThreadPoolExecutor(max_workers=4)
    stacks = imaging.open_series(paths, executor=pool, memory_budget=1 << 30)   # list[Stack], biggest first
    stack = stacks[0]
    stack.add_listener(on_frame_ready)        # on_frame_ready(stack, index), called FROM A WORKER THREAD:
                                              # marshal to the GUI thread (superqt ensure_main_thread / a Signal)
    arr = stack.frame(i)                      # np.ndarray as stored, or None if not decoded yet (decode is queued)
    arr = stack.get_frame(i, timeout=5.0)     # blocking variant (CLI, tests, export)
    stack.prefetch(i, direction=+1)           # after each scroll step; direction -1/0/+1
    pres = stack.presentation(i)              # Presentation for that frame (modality LUT, VOI, presets...)
    win = pres.default_window()               # Window | None (None: color image, or use the VOI LUT sequence)
    mapping = pres.display_mapping(win, invert=False)
    image_item.setImage(arr, autoLevels=False, levels=mapping.levels, lut=mapping.lut)
    geo = stack.geometry(i)                   # FrameGeometry: position, orientation, spacing, thickness, FoR UID
    value, unit = pres.probe(arr[y, x])       # stored value -> modality value, e.g. (-1000.0, "HU")

Public API
----------
open_series(paths, *, executor=None, memory_budget=DEFAULT_MEMORY_BUDGET) -> list[Stack]   # int or MemoryBudget
    Read headers of the given files (a DICOM series, or any files: non-image objects are skipped) and return the
    image stacks, largest first. Single-frame instances are sorted along the slice normal
    (ImagePositionPatient . normal), else by InstanceNumber; a series is split into several stacks when
    orientation, size, photometric interpretation or frame of reference differ; each multi-frame instance is its
    own stack (enhanced CT/MR geometry comes from the per-frame functional groups). Raises ``NotAnImageError``
    when no file holds pixel data (the message says what they are: SR, PDF, waveform, RT plan...).
open_file(path, **same) -> list[Stack]          # convenience for one file.
MemoryBudget(total_bytes) / MemoryBudget.fraction_of_ram(fraction)
    A frame-cache budget shared by every stack opened with it (pass it as ``memory_budget``): open stacks split
    it by raw size, closed ones give their share back; ``budget.used()``, ``budget.share(stack)``, ``.stacks``.
    ``total_memory()`` is the machine's physical memory in bytes (or None).
Stack
    ``len(stack)`` / ``stack.frame_count``, ``stack.rows``, ``stack.columns``, ``stack.dtype`` (numpy dtype of
    frames as stored: int8/uint8/int16/uint16/int32/uint32/float32/float64; uint8 (rows, cols, 3) for color),
    ``stack.is_color``, ``stack.samples_per_pixel``, ``stack.photometric`` (as in the file),
    ``stack.frame(i)`` non-blocking, ``stack.get_frame(i, timeout=None)`` blocking, ``stack.prefetch(i, direction,
    count=None)``, ``stack.add_listener(cb)`` / ``remove_listener(cb)``, ``stack.is_cached(i)``,
    ``stack.volume(progress=None, cancel=None) -> np.ndarray`` (blocking; the whole stack in one preallocated
    (n, rows, cols[, 3]) array when it fits the budget; frames handed out later are views into it),
    ``stack.geometry(i) -> FrameGeometry``, ``stack.presentation(i) -> Presentation``, ``stack.source(i) ->
    FrameSource`` (path, frame index in file, SOPInstanceUID), ``stack.header(i)`` (the file's pydicom Dataset,
    without pixel data), ``stack.normal``, ``stack.slice_spacing``, ``stack.description``,
    ``stack.frame_error(i)`` (the exception when frame i failed to decode: ``frame(i)`` then stays None and
    listeners were called once), ``stack.fits_budget`` / ``raw_bytes`` / ``cached_bytes()``, ``stack.close()``.
    Frames are decoded lazily (LRU under the memory budget, in bytes), one decoder per transfer syntax with fallback
    to the next available one when it fails. Frame arrays are read-only; never modify them.
FrameGeometry (frozen dataclass)
    image_position (x, y, z) | None, image_orientation (6 floats) | None, pixel_spacing (row, col) | None,
    slice_location, slice_thickness, frame_of_reference_uid, instance_number; ``normal`` property.
Presentation
    Built from a dataset (``Presentation.from_dataset(ds, frame=0)``); attributes: ``modality``, ``photometric``,
    ``is_color``, ``unit`` ("HU" for CT, "" otherwise), ``modality_lut`` (ModalityLUT), ``voi_luts`` (list of
    VOILUT from VOI LUT Sequence), ``presets`` (list[WindowPreset]: the file's pairs with explanations, then CT
    presets for CT), ``voi_function`` (VOIFunction), ``inverse`` (True for MONOCHROME1, toggled by Presentation LUT
    Shape INVERSE), ``padding`` (PixelPadding | None), ``stored_range`` (min, max possible stored values).
    Methods: ``default_window()``, ``auto_window(frame)`` (min/max of modality values, padding excluded),
    ``display_mapping(window_or_voilut, invert=False) -> DisplayMapping``, ``to_modality(stored)``,
    ``probe(stored) -> (value, unit)``.
Window(center, width, function=VOIFunction.LINEAR, explanation="")  -- center/width in modality units.
WindowPreset(name, window, source)  -- source "file" | "ct".
DisplayMapping(levels=(lo, hi), lut=np.ndarray | None)
    Exactly what ``ImageItem.setLevels(levels)`` / ``setLookupTable(lut)`` need, in stored (array) units:
    pyqtgraph maps value v to ``lut[clip(int((v - lo) * len(lut) / (hi - lo)), 0, len(lut) - 1)]``
    (or to ``(v - lo) * 255 / (hi - lo)`` when lut is None). ``lut`` is uint8 of shape (N,) or (N, 3).
    Non-linear cases (SIGMOID, VOI LUT Sequence, Modality LUT Sequence, inversion) use a LUT.
render(presentation, frame, window=None, *, invert=False, size=None) -> np.ndarray
    Pure numpy: uint8 (rows, cols) gray or (rows, cols, 3) RGB, exactly the viewer's picture at that
    presentation (DICOM PS3.3 C.11 formulas). ``window`` may be a Window, a VOILUT, "minmax", or None (default).
write_png(path, image) -- 8-bit gray or RGB PNG with zlib + struct.
decoders: ``available_decoders(transfer_syntax_uid)``, ``decoder_order(transfer_syntax_uid)``,
    ``set_decoder_order(ts, names)``, ``decode_frame(path, index, decoder=None)``.
Errors: ImagingError (base), NotAnImageError, DecodeError.
"""

from __future__ import annotations

from workstation.imaging.errors import DecodeError, ImagingError, NotAnImageError
from workstation.imaging.decode import (
    available_decoders,
    decode_frame,
    decoder_order,
    set_decoder_order,
)
from workstation.imaging.geometry import FrameGeometry
from workstation.imaging.presentation import (
    CT_PRESETS,
    DisplayMapping,
    ModalityLUT,
    PixelPadding,
    Presentation,
    VOIFunction,
    VOILUT,
    Window,
    WindowPreset,
    render,
)
from workstation.imaging.stack import DEFAULT_MEMORY_BUDGET, FrameSource, MemoryBudget, Stack, total_memory
from workstation.imaging.series import describe_object, open_file, open_series
from workstation.imaging.png import write_png

__all__ = [
    "CT_PRESETS",
    "DEFAULT_MEMORY_BUDGET",
    "DecodeError",
    "DisplayMapping",
    "FrameGeometry",
    "FrameSource",
    "ImagingError",
    "MemoryBudget",
    "ModalityLUT",
    "NotAnImageError",
    "PixelPadding",
    "Presentation",
    "Stack",
    "VOIFunction",
    "VOILUT",
    "Window",
    "WindowPreset",
    "available_decoders",
    "decode_frame",
    "decoder_order",
    "describe_object",
    "open_file",
    "open_series",
    "render",
    "set_decoder_order",
    "total_memory",
    "write_png",
]
