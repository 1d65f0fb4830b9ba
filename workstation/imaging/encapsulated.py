"""Frames of encapsulated (compressed) Pixel Data, found without trusting a damaged offset table.

pydicom takes a non-empty Basic Offset Table at its word: a single-frame JPEG Lossless image whose table wrongly
lists 2 entries for 7 fragments decodes from the first few fragments only, and the JPEG decoders return the
truncated frame as if it were whole (rows of garbage, exit 0). dcmtk and GDCM use every fragment of a single
frame. Here the fragments are indexed once per file (positions only, no pixel bytes read) and each frame's
fragments are chosen by rules that check each other:

1. one frame (NumberOfFrames 1 or absent): every fragment, whatever the table says;
2. the Extended Offset Table, when each entry points at a fragment;
3. the Basic Offset Table, when it has one entry per frame, each at a fragment, increasing, and (for syntaxes
   whose codestreams have a start marker) each frame starting with one;
4. one fragment per frame when the counts agree;
5. the fragments that open a codestream (JPEG SOI, JPEG 2000 SOC or JP2 signature, RLE header);
6. the fragments that close one (JPEG/JPEG-LS EOI, JPEG 2000 EOC).

A frame is also checked for completeness before it is decoded: a JPEG-family or JPEG 2000 codestream ends with
FF D9, a marker that cannot occur inside the entropy-coded data of either (byte stuffing forbids it), so a frame
without it in its last bytes is truncated, and no decoder can make it whole. :class:`FrameDataError` says so.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.filereader import read_partial

from workstation.imaging.errors import DecodeError

_ITEM = b"\xfe\xff\x00\xe0"
_SEQ_END = b"\xfe\xff\xdd\xe0"
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_EOI = b"\xff\xd9"  # JPEG/JPEG-LS EOI and JPEG 2000 EOC
_TAIL = 64  # bytes kept from the end of each fragment: an EOI followed by any padding seen in the wild fits

_JPEG = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
         "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
_J2K = {"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.92",
        "1.2.840.10008.1.2.4.93", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203"}
_RLE = "1.2.840.10008.1.2.5"


class FrameDataError(DecodeError):
    """The encapsulated data of a frame cannot be found or is incomplete (no decoder can help)."""


@dataclass(frozen=True)
class Fragment:
    offset: int  # file position of the fragment's first byte
    length: int  # bytes present in the file (fewer than declared when the file ends inside it)
    item: int  # position of its item tag relative to the first fragment's (the unit of the offset tables)
    head: bytes = field(repr=False)
    tail: bytes = field(repr=False)
    complete: bool = True


@dataclass
class PixelDataIndex:
    """Where the fragments of a file's encapsulated Pixel Data lie, and which belong to which frame."""

    transfer_syntax: str
    basic_offsets: list[int]
    fragments: list[Fragment]
    ended: bool  # the sequence delimiter was found (else the file ends inside the Pixel Data)
    frames: list[list[int]] = field(default_factory=list)  # fragment indices per frame
    rule: str = ""  # which rule chose the frames (for the log and the tests)


def is_encapsulated(header: Dataset) -> bool:
    meta = getattr(header, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return bool(ts) and pydicom.uid.UID(str(ts)).is_encapsulated


def _pixel_tag(tag, _vr, _length) -> bool:
    return int(tag) in _PIXEL_TAGS


def scan(path: str | Path, transfer_syntax: str) -> PixelDataIndex:
    """Index the fragments of a file's encapsulated Pixel Data (positions, first and last bytes)."""
    with open(path, "rb") as f:
        read_partial(f, stop_when=_pixel_tag)
        start = f.tell()
        head = f.read(12)
        if len(head) < 8 or int.from_bytes(head[:2], "little") << 16 | int.from_bytes(head[2:4], "little") \
                not in _PIXEL_TAGS:
            raise FrameDataError("no Pixel Data element")
        # Encapsulated syntaxes are explicit VR little endian (tag, VR, 2 reserved bytes, 4-byte length), but some
        # files were written implicit (tag, 4-byte length) and pydicom reads them so.
        explicit = head[4:6] in (b"OB", b"OW", b"UN") and head[6:8] == b"\x00\x00"
        f.seek(start + (12 if explicit else 8))
        basic: list[int] = []
        fragments: list[Fragment] = []
        first_item: int | None = None
        ended = False
        is_table = True
        size = os.fstat(f.fileno()).st_size
        while True:
            pos = f.tell()
            tag = f.read(8)
            if len(tag) < 8:
                break
            if tag[:4] not in (_ITEM, _SEQ_END) and tag[1:5] in (_ITEM, _SEQ_END):
                # An odd-length fragment (against PS3.5 A.4, but written by some encoders) followed by a pad byte.
                f.seek(pos + 1)
                continue
            if tag[:4] == _SEQ_END:
                ended = True
                break
            if tag[:4] != _ITEM:
                raise FrameDataError(f"damaged encapsulated Pixel Data (no item tag at byte {pos})")
            length = struct.unpack("<I", tag[4:])[0]
            if is_table:
                is_table = False
                table = f.read(length)
                n = len(table) // 4
                basic = list(struct.unpack(f"<{n}I", table[: 4 * n]))
                continue
            if first_item is None:
                first_item = pos
            present = max(0, min(length, size - (pos + 8)))
            if present <= _TAIL:
                data_head = data_tail = f.read(present)
            else:
                data_head = f.read(8)
                f.seek(pos + 8 + present - _TAIL)
                data_tail = f.read(_TAIL)
            fragments.append(Fragment(pos + 8, present, pos - first_item, data_head[:8], data_tail,
                                      present == length))
            if present < length:
                break
            f.seek(pos + 8 + length)
    return PixelDataIndex(str(transfer_syntax), basic, fragments, ended)


def _opens_codestream(fragment: Fragment, ts: str) -> bool:
    h = fragment.head
    if ts in _JPEG:
        return h[:2] == b"\xff\xd8"
    if ts in _J2K:
        return h[:4] == b"\xff\x4f\xff\x51" or h[:8] == b"\x00\x00\x00\x0cjP  "
    if ts == _RLE:
        if len(h) < 8:
            return False
        segments, first = struct.unpack("<2I", h[:8])
        return 1 <= segments <= 15 and first == 64
    return False


def _closes_codestream(fragment: Fragment, ts: str) -> bool:
    return (ts in _JPEG or ts in _J2K) and _EOI in fragment.tail


def _frame_closed(chosen: list[Fragment], ts: str) -> bool:
    """Whether a frame's codestream ends (its EOI may straddle the last two fragments)."""
    if ts in _J2K and chosen[0].head[:8] == b"\x00\x00\x00\x0cjP  ":
        return True  # a JP2 file (not a bare codestream): boxes may follow the codestream; nothing to check
    last = chosen[-1]
    before = chosen[-2].tail if len(chosen) > 1 and last.length < _TAIL else b""
    return _EOI in before[-1:] + last.tail


def _has_start_marker(ts: str) -> bool:
    return ts in _JPEG or ts in _J2K or ts == _RLE


def assign_frames(index: PixelDataIndex, n_frames: int, extended: tuple[list[int], list[int]] | None = None
                  ) -> None:
    """Choose the fragments of each frame (rules in the module docstring); raise FrameDataError if none fits."""
    frags, ts = index.fragments, index.transfer_syntax
    n = len(frags)
    if n == 0:
        raise FrameDataError("the encapsulated Pixel Data holds no fragments")
    by_item = {f.item: i for i, f in enumerate(frags)}
    starts = _has_start_marker(ts)

    def from_offsets(offsets: list[int]) -> list[list[int]] | None:
        if len(offsets) != n_frames or offsets[0] != 0 or any(b <= a for a, b in zip(offsets, offsets[1:])):
            return None
        if any(o not in by_item for o in offsets):
            return None
        firsts = [by_item[o] for o in offsets]
        if starts and not all(_opens_codestream(frags[i], ts) for i in firsts):
            return None
        return [list(range(a, b)) for a, b in zip(firsts, firsts[1:] + [n])]

    if n_frames == 1:
        index.frames, index.rule = [list(range(n))], "single frame: all fragments"
        return
    if extended is not None:
        offsets, _lengths = extended
        frames = from_offsets(list(offsets))
        if frames is not None and all(len(fr) == 1 for fr in frames):
            index.frames, index.rule = frames, "extended offset table"
            return
    if index.basic_offsets:
        frames = from_offsets(index.basic_offsets)
        if frames is not None:
            index.frames, index.rule = frames, "basic offset table"
            return
    if n == n_frames and (not starts or all(_opens_codestream(f, ts) for f in frags)):
        index.frames, index.rule = [[i] for i in range(n)], "one fragment per frame"
        return
    if starts:
        firsts = [i for i, f in enumerate(frags) if _opens_codestream(f, ts)]
        if firsts and firsts[0] == 0 and len(firsts) == n_frames:
            index.frames = [list(range(a, b)) for a, b in zip(firsts, firsts[1:] + [n])]
            index.rule = "codestream start markers"
            return
    if ts in _JPEG or ts in _J2K:
        frames, current = [], []
        for i, f in enumerate(frags):
            current.append(i)
            if _closes_codestream(f, ts):
                frames.append(current)
                current = []
        if current:
            frames.append(current)
        if len(frames) == n_frames:
            index.frames, index.rule = frames, "codestream end markers"
            return
    table = f"an offset table of {len(index.basic_offsets)}" if index.basic_offsets else "no offset table"
    raise FrameDataError(f"cannot tell which of the {n} fragments belong to which of the {n_frames} frames "
                         f"({table}, no consistent codestream markers)")


def frame_bytes(path: str | Path, index: PixelDataIndex, frame: int) -> bytes:
    """The encoded bytes of frame ``frame`` (0-based), checked for completeness."""
    if not 0 <= frame < len(index.frames):
        raise FrameDataError(f"frame {frame + 1}: the file holds {len(index.frames)} frames")
    chosen = [index.fragments[i] for i in index.frames[frame]]
    label = f"frame {frame + 1}"
    if not all(f.complete for f in chosen):
        raise FrameDataError(f"{label}: the file ends inside its compressed data (truncated file)")
    ts = index.transfer_syntax
    if (ts in _JPEG or ts in _J2K) and not _frame_closed(chosen, ts):
        where = "the file ends" if frame == len(index.frames) - 1 and not index.ended else "its data ends"
        raise FrameDataError(f"{label}: {where} before the end of the image (no end-of-image marker after "
                             f"{len(chosen)} of {len(index.fragments)} fragments); the file is damaged")
    with open(path, "rb") as f:
        parts = []
        for frag in chosen:
            f.seek(frag.offset)
            parts.append(f.read(frag.length))
    return b"".join(parts)


def encapsulate_one(data: bytes) -> bytes:
    """One frame as encapsulated Pixel Data (empty offset table, one fragment) for pydicom's decoders."""
    if len(data) % 2:
        data += b"\x00"
    return _ITEM + b"\x00\x00\x00\x00" + _ITEM + struct.pack("<I", len(data)) + data


class IndexCache:
    """Fragment indexes of recently decoded files, keyed by path, size and modification time (thread-safe)."""

    def __init__(self, limit: int = 256):
        self._limit = limit
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, PixelDataIndex] = OrderedDict()

    def get(self, path: str, header: Dataset, n_frames: int) -> PixelDataIndex:
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns, n_frames)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        index = scan(path, str(header.file_meta.TransferSyntaxUID))
        assign_frames(index, n_frames, _extended_offsets(header))
        with self._lock:
            self._items[key] = index
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return index


def _extended_offsets(header: Dataset) -> tuple[list[int], list[int]] | None:
    table, lengths = header.get("ExtendedOffsetTable"), header.get("ExtendedOffsetTableLengths")
    if not table or not lengths:
        return None
    table, lengths = bytes(table), bytes(lengths)
    return (list(struct.unpack(f"<{len(table) // 8}Q", table[: len(table) // 8 * 8])),
            list(struct.unpack(f"<{len(lengths) // 8}Q", lengths[: len(lengths) // 8 * 8])))
