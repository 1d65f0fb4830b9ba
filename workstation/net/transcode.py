"""Re-encoding an instance into a transfer syntax the peer accepted, for send, C-MOVE and C-GET alike.

The rule: whatever the stored syntax, an instance goes out if the peer accepted any syntax we can convert it to.
Uncompressed <-> uncompressed always works (pynetdicom itself only converts explicit <-> implicit VR within one
byte order, so the byte order is swapped here); compressed -> uncompressed works by decoding (lossless: same
SOP Instance UID). Compressing on the way out is not done.
"""

from __future__ import annotations

import array
import logging
from typing import Any, Iterable

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

log = logging.getLogger("workstation.net.transcode")

UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)
"""Targets we can always produce, in order of preference (explicit VR keeps private elements' VRs)."""

FALLBACK = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
"""What every proposal offers besides the stored syntax (every AE must accept Implicit VR Little Endian)."""

# Value representations whose bytes are words: their byte order follows the transfer syntax's.
_WORD_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def stored_syntax(ds: Dataset) -> UID | None:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(str(ts)) if ts else None


def can_convert(stored: str, target: str) -> bool:
    """Whether an instance stored in ``stored`` can go out in ``target``."""
    return stored == target or UID(target) in UNCOMPRESSED


def pick_syntax(stored: str, accepted: Iterable[str]) -> str | None:
    """The syntax to send in: the stored one if accepted, else the first convertible one we prefer, else None."""
    accepted = [str(ts) for ts in accepted]
    if stored in accepted:
        return stored
    for ts in UNCOMPRESSED:
        if ts in accepted:
            return ts
    return None


def accepted_syntaxes(assoc: Any, sop_class: str, role: str | None = None) -> list[str]:
    """Transfer syntaxes accepted on ``assoc`` for ``sop_class``; with ``role`` only contexts where we may act in
    that role (``"scu"`` for C-GET: we send C-STOREs on the requestor's association)."""
    out = []
    for cx in assoc.accepted_contexts:
        if cx.abstract_syntax != sop_class or not cx.transfer_syntax:
            continue
        if (role == "scu" and cx.as_scu is False) or (role == "scp" and cx.as_scp is False):
            continue
        out.append(str(cx.transfer_syntax[0]))
    return out


_ARRAY_CODES = {2: "H", 4: "I", 8: "Q"}  # unsigned array typecodes by byte size (I is 4 bytes on our platforms)


def _swap(value: bytes, size: int) -> bytes:
    # The stdlib's array, not numpy: a `workstation retrieve --method move` process serves with numpy absent
    # (workstation.cli skips pydicom's pixel back ends for it).
    code = _ARRAY_CODES.get(size)
    if code is None or len(value) % size or array.array(code).itemsize != size:
        return value
    words = array.array(code, value)
    words.byteswap()
    return words.tobytes()


def convert(ds: Dataset, target: str) -> Dataset:
    """``ds`` (read from a file, with its file meta) re-encoded in place for ``target``; raises ValueError when
    it cannot be (no decoder, or a compressed target)."""
    stored = stored_syntax(ds)
    if stored is None:
        stored = ImplicitVRLittleEndian if getattr(ds, "is_implicit_VR", False) else ExplicitVRLittleEndian
        if not hasattr(ds, "file_meta"):
            ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = stored
    target = UID(str(target))
    if stored == target:
        return ds
    if target not in UNCOMPRESSED:
        raise ValueError(f"cannot convert {stored.name} to {target.name}")
    if stored.is_compressed:
        if "PixelData" not in ds:
            raise ValueError(f"{stored.name} without pixel data")
        try:
            # Same instance: decoding adds no loss, so the SOP Instance UID stays (pydicom would make a new one).
            ds.decompress(generate_instance_uid=False)
        except Exception as exc:  # noqa: BLE001 - any decoder failure: this instance cannot go out
            raise ValueError(f"decompressing {stored.name} failed: {exc}") from exc
        stored = stored_syntax(ds) or ExplicitVRLittleEndian
    # Reading every element turns raw elements (nested ones too) into values, so the writer re-encodes them in
    # the new syntax rather than copying their stored bytes.
    swap = stored.is_little_endian != target.is_little_endian
    for elem in ds.iterall():
        size = _WORD_SIZE.get(elem.VR) if swap else None
        if size and isinstance(elem.value, (bytes, bytearray)) and elem.value:
            # pydicom parses numbers and text in either byte order but writes word-valued bytes (OW pixel
            # data, OF, ...) as they are: swap them.
            elem.value = _swap(bytes(elem.value), size)
    ds.file_meta.TransferSyntaxUID = target
    # pynetdicom checks the data set's own encoding against its file meta's syntax.
    ds.set_original_encoding(target.is_implicit_VR, target.is_little_endian, ds.get("SpecificCharacterSet"))
    return ds


def fit_for(ds: Dataset, accepted: Iterable[str]) -> tuple[Dataset, str | None]:
    """``ds`` converted to a syntax in ``accepted`` (the stored one when possible) and that syntax; ``None`` and
    ``ds`` unchanged when nothing fits or the conversion fails (logged)."""
    stored = str(stored_syntax(ds) or "")
    target = pick_syntax(stored, accepted) if stored else next((t for t in UNCOMPRESSED if t in accepted), None)
    if target is None:
        return ds, None
    try:
        return convert(ds, target), target
    except ValueError as exc:
        log.warning("cannot send %s as %s: %s", ds.get("SOPInstanceUID", "?"), UID(target).name, exc)
        return ds, None


__all__ = ["FALLBACK", "UNCOMPRESSED", "accepted_syntaxes", "can_convert", "convert", "fit_for", "pick_syntax",
           "stored_syntax"]
