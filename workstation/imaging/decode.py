"""Frame decoding with one preferred decoder per transfer syntax and fallback to the others.

pydicom 3 registers its decoders (``gdcm``, ``pylibjpeg``, ``pydicom`` for RLE and native data) per transfer
syntax. We keep an ordered preference per syntax (fastest first, from ``tests/bench/bench_imaging.py``) and, when a
decoder raises on a file, try the next available one; the decoder that worked is remembered for that file so a
multi-frame file does not fail over once per frame.

Compressed frames are cut out of the file by :mod:`workstation.imaging.encapsulated` (a damaged offset table
cannot shorten a frame) and checked for completeness first: a truncated frame raises :class:`DecodeError` that
says so, and a decoder returning fewer rows than the frame has counts as failed - never part of a frame as whole.

Frames come back *as stored*: BitsStored masked, signed pixels sign-extended (pydicom does both), YBR converted
to RGB, palette color expanded to RGB, color reduced to uint8.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import as_pixel_options, get_decoder
from pydicom.uid import UID

from workstation.imaging.encapsulated import FrameDataError, IndexCache, encapsulate_one, frame_bytes
from workstation.imaging.errors import DamagedHeader, DecodeError

log = logging.getLogger(__name__)

# Fastest first, as measured by tests/bench/bench_imaging.py (512x512 16-bit CT, ms/frame, 2-CPU box):
# JPEG baseline gdcm 1.8 / pylibjpeg 2.2; JPEG lossless gdcm 2.8-3.0 / pylibjpeg 6.0-6.3; JPEG-LS gdcm 3.3-3.6 /
# pylibjpeg 9.1; JPEG 2000 pylibjpeg 16.8 / gdcm 19.9 (lossless), 6.1 / 8.0 (lossy); RLE pylibjpeg 0.7 /
# pydicom 1.5. JPEG extended: gdcm has no 12-bit support, so pylibjpeg first.
_DEFAULT_ORDER: dict[str, list[str]] = {
    "1.2.840.10008.1.2.4.50": ["gdcm", "pylibjpeg"],  # JPEG baseline
    "1.2.840.10008.1.2.4.51": ["pylibjpeg", "gdcm"],  # JPEG extended (gdcm has no 12-bit)
    "1.2.840.10008.1.2.4.57": ["gdcm", "pylibjpeg"],  # JPEG lossless P14
    "1.2.840.10008.1.2.4.70": ["gdcm", "pylibjpeg"],  # JPEG lossless SV1
    "1.2.840.10008.1.2.4.80": ["gdcm", "pylibjpeg"],  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81": ["gdcm", "pylibjpeg"],  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.90": ["pylibjpeg", "gdcm"],  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91": ["pylibjpeg", "gdcm"],  # JPEG 2000
    "1.2.840.10008.1.2.5": ["pylibjpeg", "pydicom"],  # RLE
}
# Syntaxes whose decoded colour is always pixel-interleaved (JPEG-LS follows its codestream's own interleave mode,
# RLE its segments; pydicom reads both from the data).
_INTERLEAVED = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
                "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.201",
                "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"}
_order_lock = threading.Lock()
_order: dict[str, list[str]] = {k: list(v) for k, v in _DEFAULT_ORDER.items()}

NATIVE = "native"  # the decoder name reported for uncompressed syntaxes (pydicom reads them itself)


def available_decoders(transfer_syntax_uid: str) -> list[str]:
    """Names of the decoders installed for a transfer syntax (``["native"]`` for uncompressed ones)."""
    uid = UID(transfer_syntax_uid)
    if not uid.is_compressed:
        return [NATIVE]
    try:
        return list(get_decoder(uid).available_plugins)
    except NotImplementedError:
        return []


def decoder_order(transfer_syntax_uid: str) -> list[str]:
    """The decoders that will be tried for this syntax, in order (only those available)."""
    avail = available_decoders(transfer_syntax_uid)
    with _order_lock:
        preferred = list(_order.get(str(transfer_syntax_uid), []))
    return [n for n in preferred if n in avail] + [n for n in avail if n not in preferred]


def set_decoder_order(transfer_syntax_uid: str, names: list[str]) -> None:
    """Prefer these decoders (first = tried first) for a transfer syntax; others follow."""
    with _order_lock:
        _order[str(transfer_syntax_uid)] = list(names)


def read_header(path: str | Path) -> Dataset:
    """Read a file's dataset without the pixel data (raises pydicom's errors for non-DICOM files).

    Files without File Meta Information (old ACR-NEMA style) are read with ``force`` when they parse to a
    dataset with a SOP Class or image attributes; the transfer syntax is then taken from how they parsed.
    Raises :class:`DamagedHeader` (a ValueError) for what is not a plain file and for damaged image attributes.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG  # let dcmread report it as it always did
    if not stat.S_ISREG(mode):
        # Opening a FIFO would block until a writer appears.
        raise DamagedHeader(f"{Path(path).name}: not a regular file")
    try:
        ds = _read_header(path)
    except (pydicom.errors.InvalidDicomError, OSError, EOFError, DamagedHeader):
        raise
    except RecursionError:
        raise DamagedHeader(f"{Path(path).name}: sequences nested too deeply to read") from None
    except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds on damaged meta or values
        raise DamagedHeader(f"{Path(path).name}: damaged DICOM header ({_one_line(exc)})") from None
    _check_image_attributes(ds, Path(path).name)
    return ds


def _read_header(path: str | Path) -> Dataset:
    try:
        return pydicom.dcmread(str(path), stop_before_pixels=True)
    except pydicom.errors.InvalidDicomError:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True, force=True)
        if not any(k in ds for k in ("SOPClassUID", "Rows", "Modality")):
            raise
        implicit, little = getattr(ds, "original_encoding", (True, True))
        ts = (pydicom.uid.ImplicitVRLittleEndian if implicit else
              pydicom.uid.ExplicitVRLittleEndian if little else pydicom.uid.ExplicitVRBigEndian)
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ts
        ds.is_forced = True  # type: ignore[attr-defined]
        return ds


# Single-valued numbers every later step converts with int()/float(): a damaged one (wrong length for its VR,
# several values, text in an IS) must fail here, once, with its name - not as a TypeError deep in rendering.
_INT_ATTRIBUTES = ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
                   "SamplesPerPixel", "PlanarConfiguration", "NumberOfFrames")
_FLOAT_ATTRIBUTES = ("RescaleSlope", "RescaleIntercept")


def _check_image_attributes(ds: Dataset, name: str) -> None:
    for keyword in _INT_ATTRIBUTES + _FLOAT_ATTRIBUTES:
        if keyword not in ds:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                elem = ds.data_element(keyword)
                if elem is None or elem.value is None or elem.value == "":
                    continue
                value = elem.value
                if elem.VM > 1:
                    raise ValueError(f"{elem.VM} values where one is expected")
                number = int(value) if keyword in _INT_ATTRIBUTES else float(value)
                if keyword in _INT_ATTRIBUTES and number < 0:
                    raise ValueError(f"negative value {number}")
        except Exception as exc:  # noqa: BLE001 - pydicom's conversion errors vary by VR
            raise DamagedHeader(f"{name}: damaged {keyword} ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, pydicom.errors.BytesLengthException):
        return "its value is not a whole number of values of its VR"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return str(ts) if ts else pydicom.uid.ImplicitVRLittleEndian


# Which decoder last worked for a path: a multi-frame file should not fail over once per frame.
_worked: dict[str, str] = {}
# Where each frame's fragments lie in recently decoded encapsulated files.
_fragment_indexes = IndexCache()


def decode_frame(
    path: str | Path,
    index: int = 0,
    decoder: str | None = None,
    *,
    header: Dataset | None = None,
) -> np.ndarray:
    """Decode frame ``index`` of a file, as stored (color as RGB uint8).

    ``decoder`` forces one decoder (no fallback); otherwise the preferred order for the file's transfer syntax is
    tried until one succeeds. ``header`` (the file's dataset without pixels) saves a re-read for palette and
    color handling. Raises :class:`DecodeError` when every decoder fails.
    """
    path = str(path)
    if header is None:
        header = read_header(path)
    ts = _transfer_syntax(header)
    uid = UID(ts)
    if decoder is not None:
        names = [decoder]
    else:
        names = decoder_order(ts)
        last = _worked.get(path)
        if last in names:
            names.remove(last)
            names.insert(0, last)
    if not names:
        raise DecodeError(f"no decoder installed for transfer syntax {uid.name} ({ts})")
    forced = getattr(header, "is_forced", False)
    encoded = None
    if uid.is_encapsulated and not forced:
        # Our own frame boundaries (a damaged offset table must not cut a frame short), checked for completeness:
        # a FrameDataError is final, since no decoder can make a truncated frame whole.
        try:
            fragments = _fragment_indexes.get(path, header, frame_count(header))
            encoded = encapsulate_one(frame_bytes(path, fragments, index))
        except FrameDataError as exc:
            log.warning("%s: %s", path, exc)
            raise FrameDataError(f"{Path(path).name}: {exc}") from None
    errors: list[str] = []
    for name in names:
        try:
            if forced:
                arr = _decode_forced(path, index, header)
            elif encoded is not None:
                arr = _decode_encoded(encoded, header, uid, name)
            else:
                arr = _decode_with(path, index, name, uid)
        except Exception as exc:  # noqa: BLE001 - any decoder failure means: try the next one
            errors.append(f"{name}: {_decoder_failure(exc, header)}")
            log.debug("decoder %s failed on %s frame %d: %s", name, path, index, exc)
            continue
        if decoder is None:
            _worked[path] = name
        return postprocess(arr, header)
    raise DecodeError(f"cannot decode frame {index + 1} of {Path(path).name} ({uid.name}): " + "; ".join(errors))


def _decode_encoded(encoded: bytes, header: Dataset, uid: UID, name: str) -> np.ndarray:
    """Decode one frame given as encapsulated bytes (one fragment) with the plugin ``name``."""
    opts = as_pixel_options(header, transfer_syntax_uid=uid, number_of_frames=1, pixel_keyword="PixelData")
    opts.pop("extended_offsets", None)
    if str(uid) in _INTERLEAVED and int(opts.get("samples_per_pixel", 1) or 1) > 1:
        # JPEG and JPEG 2000 decoders return colour by pixel whatever Planar Configuration says (PS3.5 8.2.1: it
        # shall be 0 for these syntaxes); a file that says 1 would otherwise come out scrambled.
        opts["planar_configuration"] = 0
    arr, _meta = get_decoder(uid).as_array(encoded, index=0, validate=True, decoding_plugin=name, **opts)
    return arr


def _decoder_failure(exc: BaseException, header: Dataset) -> str:
    """A decoder's failure in a few words; a short frame (pydicom cannot fit it into the frame's array) as rows."""
    text = str(exc).strip()
    m = re.search(r"from shape \((\d+),\) into shape \((\d+),\)", text)
    if m:
        rows = int(header.get("Rows", 0) or 0)
        per_row = int(header.get("Columns", 0) or 0) * int(header.get("SamplesPerPixel", 1) or 1)
        got, want = int(m.group(1)), int(m.group(2))
        if rows and per_row and want == rows * per_row:
            return f"decoder returned {got // per_row} of {rows} rows"
        return f"decoder returned {got} of {want} values"
    first = text.splitlines()[-1].strip() if text else ""
    return f"{type(exc).__name__}: {first[:300]}"


def _decode_with(path: str, index: int, name: str, uid: UID) -> np.ndarray:
    plugin = "" if name == NATIVE else name
    if uid == pydicom.uid.DeflatedExplicitVRLittleEndian:
        # The file-based reader cannot seek inside a deflated stream: inflate the whole dataset.
        return _decode_dataset(path, index, plugin)
    try:
        return pydicom.pixels.pixel_array(path, index=index, decoding_plugin=plugin)
    except Exception:
        # The file-based reader is strict about odd files; pydicom's dataset reader is more forgiving, at the
        # price of reading the whole pixel data.
        return _decode_dataset(path, index, plugin)


def _decode_dataset(path: str, index: int, plugin: str) -> np.ndarray:
    ds = pydicom.dcmread(path)
    return pydicom.pixels.pixel_array(ds, index=index, decoding_plugin=plugin)


def _decode_forced(path: str, index: int, header: Dataset) -> np.ndarray:
    ds = pydicom.dcmread(path, force=True)
    ds.file_meta = header.file_meta
    return pydicom.pixels.pixel_array(ds, index=index)


def is_little_endian(ds: Dataset) -> bool:
    """Byte order the dataset was encoded in (for OW LUT data that pydicom hands over as raw bytes)."""
    enc = getattr(ds, "original_encoding", None)
    if enc and enc[1] is not None:
        return bool(enc[1])
    return _transfer_syntax(ds) != pydicom.uid.ExplicitVRBigEndian


def apply_palette(indices: np.ndarray, ds: Dataset) -> np.ndarray:
    """PALETTE COLOR indices -> RGB uint8 (8- or 16-bit entries, plain or segmented LUTs, either byte order)."""
    if "RedPaletteColorLookupTableData" not in ds:
        from pydicom.pixels import apply_color_lut  # segmented LUTs: pydicom expands them

        rgb = apply_color_lut(indices, ds)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        return _palette_to_uint8(rgb, bits)
    luts = []
    for color in ("Red", "Green", "Blue"):
        n, first, bits = (int(v) for v in ds[f"{color}PaletteColorLookupTableDescriptor"].value)
        n = n or 65536
        elem = ds[f"{color}PaletteColorLookupTableData"]
        if isinstance(elem.value, (bytes, bytearray)):
            raw = bytes(elem.value)
            if len(raw) >= 2 * n:
                table = np.frombuffer(raw[: 2 * n], dtype="<u2" if is_little_endian(ds) else ">u2")
            else:
                table = np.frombuffer(raw[:n], dtype=np.uint8)
        else:
            table = np.asarray(elem.value, dtype=np.uint16)[:n]
        luts.append((first, table.astype(np.uint16), bits))
    out = np.empty(indices.shape + (3,), dtype=np.uint16)
    for c, (first, table, _bits) in enumerate(luts):
        idx = np.clip(indices.astype(np.int64) - first, 0, len(table) - 1)
        out[..., c] = table[idx]
    return _palette_to_uint8(out, luts[0][2])


def _palette_to_uint8(rgb: np.ndarray, bits: int) -> np.ndarray:
    # 16-bit palette entries hold 16 significant bits (PS3.3 C.7.6.3.1.5): keep the top 8.
    if bits > 8 or rgb.max(initial=0) > 255:
        rgb = np.asarray(rgb, dtype=np.uint32) >> 8
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def postprocess(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Palette color -> RGB, color -> uint8 RGB; monochrome left as decoded."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    if photometric == "PALETTE COLOR":
        return apply_palette(arr, ds)
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not arr.dtype.isnative):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.ndim == 3 and int(ds.get("SamplesPerPixel", 1)) > 1:
        if arr.dtype != np.uint8:
            bits = int(ds.get("BitsStored", arr.dtype.itemsize * 8))
            if arr.dtype.kind == "f":
                arr = np.clip(arr, 0, 1) * 255.0 + 0.5
            elif bits > 8:
                arr = arr.astype(np.uint64) >> (bits - 8)
            arr = arr.astype(np.uint8)
        return np.ascontiguousarray(arr)
    return arr


def frame_count(ds: Dataset) -> int:
    """Number of frames in a dataset (1 when NumberOfFrames is absent or invalid)."""
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1
