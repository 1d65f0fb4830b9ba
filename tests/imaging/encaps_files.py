"""Encapsulated test files with damaged or missing offset tables, compressed by dcmtk (dcmcjpeg) from our phantoms."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_fragments
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.imaging.conftest import dcmtk_tool
from tests.imaging.synth import make_ct


def phantom(rows: int, cols: int, seed: int = 0, k: int = 0) -> np.ndarray:
    """Noisy 12-bit ramps: lossless JPEG cannot squeeze it much, so fragments are many."""
    rng = np.random.default_rng(seed + k)
    y, x = np.mgrid[0:rows, 0:cols]
    return ((x * 3 + y * 2 + 500 * k) % 4000 + rng.integers(0, 64, (rows, cols))).astype(np.int16)


def multiframe(path: Path, n: int, rows: int, cols: int) -> tuple[Path, np.ndarray]:
    """An uncompressed Multi-frame Grayscale Word Secondary Capture with ``n`` different frames."""
    frames = np.stack([phantom(rows, cols, k=k).astype(np.uint16) for k in range(n)])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.NumberOfFrames = n
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = frames.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path, frames


def single_frame(path: Path, rows: int = 1024, cols: int = 1024) -> tuple[Path, np.ndarray]:
    pixels = phantom(rows, cols)
    make_ct(path, pixels, position=(0, 0, 0), series_uid=generate_uid(), for_uid=generate_uid(), instance_number=1)
    return path, pixels


def jpeg_lossless(src: Path, out: Path, fragment_kb: int, empty_table: bool = False) -> Path:
    """dcmcjpeg +e1 (JPEG Lossless SV1) with fragments of at most ``fragment_kb`` KiB."""
    opts = ["+e1", "+fs", str(fragment_kb)] + (["-ot"] if empty_table else [])
    subprocess.run([dcmtk_tool("dcmcjpeg"), *opts, str(src), str(out)], check=True, capture_output=True)
    return out


def fragments_of(path: Path) -> tuple[list[int], list[bytes]]:
    """(Basic Offset Table, fragments) of a file's encapsulated Pixel Data."""
    data = pydicom.dcmread(path).PixelData
    items = list(generate_fragments(data))
    table = items[0]
    return list(struct.unpack(f"<{len(table) // 4}I", table)), items[1:]


def item_offsets(fragments: list[bytes]) -> list[int]:
    """Offsets of each fragment's item tag from the first one (the unit of the Basic Offset Table)."""
    out, pos = [], 0
    for frag in fragments:
        out.append(pos)
        pos += 8 + len(frag)
    return out


def rewrite(src: Path, out: Path, table: list[int], fragments: list[bytes] | None = None,
            number_of_frames: int | None | str = "keep") -> Path:
    """``src`` with its Basic Offset Table replaced by ``table`` (and optionally other fragments)."""
    ds = pydicom.dcmread(src)
    if fragments is None:
        fragments = fragments_of(src)[1]
    body = struct.pack(f"<{len(table)}I", *table)
    parts = [b"\xfe\xff\x00\xe0" + struct.pack("<I", len(body)) + body]
    for frag in fragments:
        parts.append(b"\xfe\xff\x00\xe0" + struct.pack("<I", len(frag)) + frag)
    ds.PixelData = b"".join(parts)
    if number_of_frames is None:
        ds.pop("NumberOfFrames", None)
    elif number_of_frames != "keep":
        ds.NumberOfFrames = number_of_frames
    ds.save_as(out)
    return out


def dcmdjpeg(src: Path, out: Path) -> np.ndarray:
    """dcmtk's decompression of ``src`` (all frames), as pydicom reads the result."""
    subprocess.run([dcmtk_tool("dcmdjpeg"), str(src), str(out)], check=True, capture_output=True)
    return pydicom.dcmread(out).pixel_array
