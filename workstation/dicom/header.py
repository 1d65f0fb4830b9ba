"""Read a DICOM header without pixel data, decide whether it is usable, and extract what the index keeps.

pydicom reads a truncated element without complaint (it returns fewer bytes than the declared length), so the
completeness check is ours: every element's value must be as long as declared, an undefined-length value must
end with its delimiter, and native pixel data must be as long as Rows x Columns x Samples x Bits x Frames implies.
"""

from __future__ import annotations

import io
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ImplicitVRLittleEndian

from workstation.dicom.text import _pn_text, decoded_person_name, text_value

# Elements larger than this are not read (pixel data, big private blobs): we only need their position and length.
_DEFER = 2048


class NotDicom(Exception):
    """The input is not a DICOM file at all (README.TXT, autorun.inf, an executable...)."""


class NotAnInstance(NotDicom):
    """DICOM, but a media directory (DICOMDIR) rather than an instance to archive."""


MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


class Unusable(Exception):
    """The input is DICOM but cannot be archived; the message says why."""


@dataclass
class Header:
    """The parsed header of one instance and the attributes the index keeps."""

    dataset: Dataset
    attributes: dict[str, Any]
    transfer_syntax: str
    has_file_meta: bool
    problems: list[str] = field(default_factory=list)
    # Identifying UIDs the data set lacks and the file meta supplied ("SOPClassUID", "SOPInstanceUID"): such a file
    # cannot be sent as it is (a peer reads the data set, not the meta: storescp answers C000 "bad DICOM file"),
    # so it is archived only after workstation.archive.repair wrote them into the data set.
    from_meta: list[str] = field(default_factory=list)

    @property
    def sop_instance_uid(self) -> str:
        return self.attributes["SOPInstanceUID"]


# The index's attributes by level. Order matters only for display.
PATIENT_KEYS = ("PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex")
STUDY_KEYS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
)
SERIES_KEYS = ("SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "Modality", "BodyPartExamined")
INSTANCE_KEYS = (
    "SOPInstanceUID",
    "SOPClassUID",
    "InstanceNumber",
    "TransferSyntaxUID",
    "NumberOfFrames",
    "Rows",
    "Columns",
    "ImagePositionPatient",  # kept so that a series can be sorted from the index (text, as read)
    "ImageOrientationPatient",
)
_REQUIRED_UIDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
_INT_KEYS = {"SeriesNumber", "InstanceNumber", "NumberOfFrames", "Rows", "Columns"}
_PN_KEYS = {"PatientName", "ReferringPhysicianName"}


def read_header(source: str | os.PathLike[str] | bytes, name: str | None = None) -> Header:
    """Parse ``source`` (a path or the bytes of a whole file) and check it is complete and archivable.

    Raises NotDicom or Unusable with a reason a user can read.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        size = len(data)
        fp: BinaryIO = io.BytesIO(data)
        label = name or "<received>"
    else:
        label = name or str(source)
        try:
            st = os.stat(source)
            if not stat.S_ISREG(st.st_mode):
                # Opening a FIFO blocks until a writer appears: never open what is not a plain file.
                raise NotDicom(f"not a regular file ({_file_kind(st.st_mode)})")
            size = st.st_size
            fp = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise Unusable(f"cannot read: {exc.strerror or exc}") from None
    try:
        if size == 0:
            raise NotDicom("empty file")
        return _parse(fp, size, label)
    except (NotDicom, Unusable):
        raise
    except RecursionError:
        raise Unusable("unreadable DICOM: sequences nested too deeply to read") from None
    except Exception as exc:  # noqa: BLE001 - damaged values surface lazily in pydicom; never crash a caller
        raise Unusable(f"unreadable DICOM: {type(exc).__name__}: {exc}") from None
    finally:
        fp.close()


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


def _parse(fp: BinaryIO, size: int, label: str) -> Header:
    head = fp.read(132)
    fp.seek(0)
    has_preamble = len(head) == 132 and head[128:132] == b"DICM"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(fp, defer_size=_DEFER, force=not has_preamble)
        except InvalidDicomError as exc:
            raise NotDicom(f"not a DICOM file ({exc})") from None
        except EOFError as exc:
            if has_preamble:
                raise Unusable(f"truncated: {exc}") from None
            raise NotDicom("not a DICOM file") from None
        except RecursionError:
            if has_preamble:
                raise Unusable("unreadable DICOM: sequences nested too deeply to read") from None
            raise NotDicom("not a DICOM file") from None
        except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds on garbage
            if has_preamble:
                raise Unusable(f"unreadable DICOM: {type(exc).__name__}: {exc}") from None
            raise NotDicom("not a DICOM file") from None
        end = fp.tell()
    if not has_preamble and not _looks_like_dicom(ds):
        raise NotDicom("not a DICOM file (no preamble and no recognisable DICOM elements)")
    meta = getattr(ds, "file_meta", None)
    if _meta_text(meta, 0x00020002) == MEDIA_STORAGE_DIRECTORY or 0x00041220 in ds._dict:
        raise NotAnInstance("a DICOMDIR (media directory), not an instance")
    problems: list[str] = []
    transfer_syntax = _transfer_syntax(ds)
    if transfer_syntax == "1.2.840.10008.1.2.1.99":
        # Deflated: pydicom parsed an inflated copy, so positions are not file offsets. Read values were checked.
        size = end = 1 << 62
    _check_complete(ds, size, end, problems)
    _check_final_delimiter(ds, fp, size, problems)
    if problems:
        raise Unusable("truncated: " + "; ".join(problems))
    try:
        attributes = extract_attributes(ds, transfer_syntax)
    except Unusable:
        raise
    except Exception as exc:  # noqa: BLE001 - odd VRs and broken values must not crash an import
        raise Unusable(f"unreadable attributes: {type(exc).__name__}: {exc}") from None
    missing = [k for k in _REQUIRED_UIDS if not attributes.get(k)]
    if missing:
        raise Unusable("no " + ", ".join(missing))
    # Several values where one identifies the object: no query or lookup could name it (a backslash is the
    # UID-list separator in DICOM matching).
    multi = [k for k in _REQUIRED_UIDS if "\\" in attributes[k]]
    if multi:
        raise Unusable(", ".join(multi) + " has several values; it must have one")
    if not attributes.get("SOPClassUID"):
        # Nothing to repair it from: no peer would accept an instance of no SOP class.
        raise Unusable("no SOPClassUID, neither in the data set nor in the file meta: it could not be sent")
    _check_pixel_length(ds, transfer_syntax, attributes, problems)
    if problems:
        raise Unusable("truncated: " + "; ".join(problems))
    has_meta = meta is not None and "TransferSyntaxUID" in meta
    from_meta = [key for key, tag in _SOP_TAGS if not _has_value(ds, tag)]
    return Header(ds, attributes, transfer_syntax, has_meta, from_meta=from_meta)


_SOP_TAGS = (("SOPClassUID", 0x00080016), ("SOPInstanceUID", 0x00080018))


def _has_value(ds: Dataset, tag: int) -> bool:
    """The data set itself holds a non-empty value at ``tag`` (not only the file meta)."""
    elem = ds._dict.get(tag)
    if elem is None:
        return False
    value = elem.value
    if isinstance(value, bytes):
        return bool(value.strip(b" \x00"))
    return bool(str(value or "").strip(" \x00"))


def _looks_like_dicom(ds: Dataset) -> bool:
    """A file read with force=True is DICOM only if it holds real identifying elements."""
    try:
        tags = list(ds.keys())
    except Exception:  # noqa: BLE001
        return False
    if not tags:
        return False
    keys = {0x00080016, 0x00080018, 0x0020000D, 0x0020000E, 0x00080060, 0x00100020}
    found = sum(1 for t in tags if int(t) in keys)
    # Tags must also ascend, as in any real encoding; random bytes rarely manage both.
    ascending = all(int(a) < int(b) for a, b in zip(tags, tags[1:]))
    return found >= 2 and ascending


def _check_complete(ds: Dataset, size: int, end: int, problems: list[str]) -> None:
    last_end = 0
    last_defined = True
    for tag, elem in ds._dict.items():
        if isinstance(elem, RawDataElement):
            if elem.length == 0xFFFFFFFF or elem.value_tell is None:
                last_defined = False
                continue
            last_defined = True
            declared_end = elem.value_tell + elem.length
            last_end = max(last_end, declared_end)
            if elem.value is not None and len(elem.value) < elem.length:
                problems.append(f"{_name(tag)} has {len(elem.value)} of {elem.length} bytes")
            elif elem.value is None and declared_end > size:
                problems.append(f"{_name(tag)} declares {elem.length} bytes, the file ends {declared_end - size} early")
        else:
            last_defined = False
    # pydicom stops silently when fewer than 8 bytes of an element header remain.
    trailing = size - max(last_end, 0)
    if last_defined and last_end and 0 < trailing < 12 and not problems:
        problems.append(f"the file ends inside an element header ({trailing} stray bytes)")


def _check_final_delimiter(ds: Dataset, fp: BinaryIO, size: int, problems: list[str]) -> None:
    """Encapsulated pixel data that ends the file must end with its sequence delimiter, length included:
    pydicom accepts a delimiter whose length bytes were cut off."""
    if size >= 1 << 62 or not ds._dict:
        return
    # The element read last ends the file (pydicom keeps elements in the order read).
    last_tag = next(reversed(ds._dict))
    elem = ds._dict[last_tag]
    if last_tag != 0x7FE00010 or getattr(elem, "length", 0) != 0xFFFFFFFF:
        return
    fp.seek(size - 8)
    tail = fp.read(8)
    if tail not in (b"\xfe\xff\xdd\xe0\x00\x00\x00\x00", b"\xff\xfe\xe0\xdd\x00\x00\x00\x00"):
        problems.append("encapsulated pixel data does not end with its sequence delimiter")


def _name(tag: int) -> str:
    if tag == 0x7FE00010:
        return "pixel data (7FE0,0010)"
    keyword = pydicom.datadict.keyword_for_tag(tag)
    t = pydicom.tag.Tag(tag)
    return f"element {t}{' ' + keyword if keyword else ''}"


def _check_pixel_length(ds: Dataset, ts: str, attributes: dict[str, Any], problems: list[str]) -> None:
    elem = ds._dict.get(0x7FE00010)
    if elem is None or getattr(elem, "length", 0xFFFFFFFF) == 0xFFFFFFFF:
        return
    try:
        if UID(ts).is_compressed:
            return
    except ValueError:
        # Not a transfer syntax pydicom knows (private or damaged): its pixel data cannot be sized here.
        return
    rows = attributes.get("Rows") or 0
    cols = attributes.get("Columns") or 0
    frames = attributes.get("NumberOfFrames") or 1
    samples = _small_int(ds, 0x00280002, "SamplesPerPixel") or 1
    bits = _small_int(ds, 0x00280100, "BitsAllocated") or 0
    if not (rows and cols and bits) or min(rows, cols, frames, samples, bits) < 0:
        return
    expected = (rows * cols * samples * frames * bits + 7) // 8
    photometric = _code_string(ds, 0x00280004, "PhotometricInterpretation")
    if photometric.startswith("YBR_FULL_422") or photometric.startswith("YBR_PARTIAL_422"):
        expected = expected * 2 // 3
    if elem.length < expected:
        problems.append(f"pixel data has {elem.length} bytes, {rows}x{cols}x{samples}x{bits}bit x{frames} needs {expected}")


def _small_int(ds: Dataset, tag: int, keyword: str) -> int | None:
    """A US value read from its raw bytes (pydicom's conversion costs more than the whole check)."""
    elem = ds._dict.get(tag)
    if elem is None:
        return None
    if isinstance(elem, RawDataElement) and elem.value is not None and elem.VR in ("US", None) and len(elem.value) >= 2:
        return int.from_bytes(elem.value[:2], "little" if elem.is_little_endian else "big")
    return _int_value(ds, keyword)


def _meta_text(meta: Dataset | None, tag: int) -> str:
    """A UI value of the file meta ("" when absent): pydicom converted these while reading the meta group."""
    if meta is None:
        return ""
    elem = meta._dict.get(tag)
    if elem is None:
        return ""
    value = elem.value
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip(" \x00")


def _code_string(ds: Dataset, tag: int, keyword: str) -> str:
    """A CS value read from its raw bytes ("" when absent)."""
    elem = ds._dict.get(tag)
    if isinstance(elem, RawDataElement) and isinstance(elem.value, bytes):
        return elem.value.decode("ascii", "replace").strip(" \x00")
    return text_value(ds, keyword) or ""


def _transfer_syntax(ds: Dataset) -> str:
    ts = _meta_text(getattr(ds, "file_meta", None), 0x00020010)
    if ts:
        return ts
    # No file meta (old files): pydicom inferred the encoding while reading.
    if getattr(ds, "original_encoding", None):
        implicit, little = ds.original_encoding
    else:
        implicit, little = ds.is_implicit_VR, ds.is_little_endian
    if implicit:
        return str(ImplicitVRLittleEndian)
    return "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"


def extract_attributes(ds: Dataset, transfer_syntax: str | None = None) -> dict[str, Any]:
    """The index attributes of ``ds``: decoded text, ints where the index wants ints, None when absent.

    Values are decoded straight from the raw elements (one charset lookup, one warnings context): pydicom's
    element conversion with validation costs more than the rest of reading a header. Anything unusual (a value
    already converted, odd VRs) goes through pydicom's own conversion.
    """
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw_dict = ds._dict
        try:
            encodings = ds._character_set if 0x00080005 in raw_dict else _DEFAULT_ENCODINGS
            if isinstance(encodings, str):
                encodings = [encodings]
        except Exception:  # noqa: BLE001 - an unknown charset: pydicom falls back per value below
            encodings = ["iso8859"]
        for key, tag in _KEY_TAGS:
            elem = raw_dict.get(tag)
            if elem is None:
                out[key] = None
                continue
            try:
                out[key] = _fast_value(key, elem, encodings)
            except _Slow:
                out[key] = _slow_value(ds, key)
            except Exception:  # noqa: BLE001 - a value we cannot decode fast: let pydicom try
                out[key] = _slow_value(ds, key)
    meta = getattr(ds, "file_meta", None)
    if not out.get("SOPClassUID") and meta is not None:
        out["SOPClassUID"] = text_value(meta, "MediaStorageSOPClassUID")
    if not out.get("SOPInstanceUID") and meta is not None:
        out["SOPInstanceUID"] = text_value(meta, "MediaStorageSOPInstanceUID")
    out["TransferSyntaxUID"] = transfer_syntax or _transfer_syntax(ds)
    if out.get("SOPClassUID") == KEY_OBJECT_SELECTION:
        # The document title tells key images ("Of Interest", ...) from rejection notes: the index keeps it.
        out["DocumentTitle"] = _document_title(ds)
    for key in _REQUIRED_UIDS + ("SOPClassUID",):
        if out.get(key):
            out[key] = out[key].strip().rstrip("\x00")
    for key in _REQUIRED_UIDS:
        value = out.get(key)
        if value and not _UID_SHAPE.fullmatch(value):
            # Not a valid UID (PS3.5 9.1); we still archive it, since the name on disk is hashed.
            out.setdefault("_warnings", []).append(f"{key} {value[:70]!r} is not a valid UID")
    return out


KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"


def _document_title(ds: Dataset) -> str | None:
    try:
        title = ds.get("ConceptNameCodeSequence")
        return str(title[0].get("CodeValue", "") or "").strip() or None if title else None
    except Exception:  # noqa: BLE001 - an unreadable title: the KOS is still indexed
        return None


_DEFAULT_ENCODINGS = [Dataset()._character_set]  # no SpecificCharacterSet: the default repertoire
_UID_SHAPE = re.compile(r"[0-9.]{1,64}", re.ASCII)
_KEY_TAGS = tuple(
    (key, pydicom.datadict.tag_for_keyword(key))
    for key in PATIENT_KEYS + STUDY_KEYS + SERIES_KEYS + INSTANCE_KEYS
    if key != "TransferSyntaxUID"
)
_ASCII_VRS = {"UI", "DA", "TM", "DT", "CS", "IS", "DS", "AS"}
_TEXT_VRS = {"LO", "SH", "ST", "LT", "UT", "UC"}


class _Slow(Exception):
    """This element needs pydicom's full conversion."""


def _fast_value(key: str, elem: Any, encodings: list[str]) -> Any:
    if not isinstance(elem, RawDataElement) or elem.value is None:
        raise _Slow
    raw: bytes = elem.value
    vr = elem.VR
    if key in _INT_KEYS:
        if vr in ("US", "SS"):
            if len(raw) < 2:
                return None
            return int.from_bytes(raw[:2], "little" if elem.is_little_endian else "big", signed=vr == "SS")
        if vr == "IS" or (vr is None and key != "Rows" and key != "Columns"):
            text = raw.decode("ascii").strip(" \x00")
            if not text:
                return None
            return int(float(text.split("\\")[0]))
        raise _Slow
    if key in _PN_KEYS:
        if vr not in ("PN", None):
            raise _Slow
        if not raw.strip(b" \x00"):
            return None
        from pydicom.valuerep import PersonName

        parts = raw.split(b"\\")
        text = "\\".join(_pn_text(PersonName(p.strip(b" \x00"), encodings)) for p in parts)
        return text.strip(" \x00") or None
    if vr in _ASCII_VRS or (vr is None and key.endswith("UID")):
        text = raw.decode("ascii")
    elif vr in _TEXT_VRS or vr is None:
        from pydicom.charset import decode_bytes

        text = decode_bytes(raw, encodings, set())
    else:
        raise _Slow
    text = text.strip(" \x00")
    return text or None


def _slow_value(ds: Dataset, key: str) -> Any:
    if key in _PN_KEYS:
        return decoded_person_name(ds, key)
    if key in _INT_KEYS:
        return _int_value(ds, key)
    return text_value(ds, key)


def _int_value(ds: Dataset, key: str) -> int | None:
    try:
        value = ds.get(key)
    except Exception:  # noqa: BLE001
        return None
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
            value = list(value)[0]
        return int(float(value))
    except (TypeError, ValueError, IndexError):
        return None

