"""Minimal PNG writer (8-bit gray or RGB) with zlib + struct: no imaging library needed."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes for a uint8 array of shape (rows, cols) (gray) or (rows, cols, 3) (RGB)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"PNG needs uint8 data, got {img.dtype}")
    if img.ndim == 2:
        color_type, channels = 0, 1
    elif img.ndim == 3 and img.shape[2] == 3:
        color_type, channels = 2, 3
    else:
        raise ValueError(f"PNG needs (rows, cols) or (rows, cols, 3), got {img.shape}")
    rows, cols = img.shape[:2]
    # Filter type 0 (None) before each scanline.
    raw = np.empty((rows, 1 + cols * channels), dtype=np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = img.reshape(rows, cols * channels)
    header = struct.pack(">IIBBBBB", cols, rows, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write a uint8 gray (rows, cols) or RGB (rows, cols, 3) image as PNG (atomically: temp then rename)."""
    path = Path(path)
    data = encode_png(image)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def read_png(path: str | Path) -> np.ndarray:
    """Read back an 8-bit, non-interlaced gray/RGB PNG (as written by dcmtk or :func:`write_png`); for tests."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    cols, rows, depth, color_type, _, _, interlace = header  # type: ignore[misc]
    if depth != 8 or interlace:
        raise ValueError("only 8-bit non-interlaced PNG is supported")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    stride = cols * channels
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(rows, stride + 1)
    out = np.zeros((rows, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for r in range(rows):
        ftype, line = raw[r, 0], raw[r, 1:].astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 2:
            cur = (line + prev) & 0xFF
        else:  # Sub, Average, Paeth need the left neighbour: do them per byte.
            for i in range(stride):
                a = cur[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (line[i] + pred) & 0xFF
        out[r] = cur
        prev = cur
    img = out.astype(np.uint8)
    return img.reshape(rows, cols) if channels == 1 else img.reshape(rows, cols, channels)
