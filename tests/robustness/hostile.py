"""Hostile variants of good DICOM files: truncations, bit flips, bad charsets and UIDs, odd VRs, huge lengths,
deep nesting. Element positions come from pydicom's own parser; only the damage is done by hand.

Each generator returns ``[(name, bytes), ...]``; names are stable so a failing variant can be regenerated.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import parse_fragments
from pydicom.filereader import data_element_generator
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

# VRs whose explicit header is 12 bytes (2 tag + 2 tag + 2 VR + 2 reserved + 4 length).
_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


@dataclass
class Element:
    tag: int
    vr: str | None
    start: int  # offset of the element's first tag byte in the file
    value_tell: int
    length: int  # 0xFFFFFFFF for undefined
    implicit: bool
    little: bool

    @property
    def header_length(self) -> int:
        return self.value_tell - self.start

    @property
    def length_offset(self) -> int:
        return self.value_tell - 4 if (self.implicit or self.vr in _LONG_VRS) else self.value_tell - 2

    @property
    def length_size(self) -> int:
        return 4 if (self.implicit or self.vr in _LONG_VRS) else 2


def elements(data: bytes) -> list[Element]:
    """Top-level elements of a file with preamble (meta and dataset), in file order, from pydicom's generator."""
    out: list[Element] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data), defer_size=16)
        implicit = ds.original_encoding[0]
        little = ds.original_encoding[1]
        fp = io.BytesIO(data)
        fp.seek(132)
        for raw in data_element_generator(fp, False, True, stop_when=lambda tag, vr, length: tag.group != 2,
                                          defer_size=16):
            out.append(_element(raw, False, True))
        for raw in ds._dict.values():
            if getattr(raw, "value_tell", None) is not None:
                out.append(_element(raw, implicit, little))
    return out


def _element(raw, implicit: bool, little: bool) -> Element:
    vr = raw.VR
    if implicit:
        header = 8
    else:
        header = 12 if vr in _LONG_VRS else 8
    return Element(int(raw.tag), vr, raw.value_tell - header, raw.value_tell, raw.length, implicit, little)


def truncations(data: bytes) -> list[tuple[str, bytes]]:
    """Cuts inside the preamble, the meta, each element's header and value, pixel data and its fragments."""
    cuts: dict[str, int] = {"preamble-64": 64, "preamble-130": 130}
    elems = elements(data)
    for e in elems:
        t = f"{e.tag:08X}"
        cuts[f"{t}-tag"] = e.start + 2
        cuts[f"{t}-header"] = e.value_tell - 1
        if e.length not in (0, 0xFFFFFFFF):
            cuts[f"{t}-value-first"] = e.value_tell + 1
            cuts[f"{t}-value-last"] = e.value_tell + e.length - 1
    pixel = next((e for e in elems if e.tag == 0x7FE00010), None)
    if pixel is not None and pixel.length == 0xFFFFFFFF:
        little = pixel.little
        _, offsets = parse_fragments(io.BytesIO(data[pixel.value_tell:]), endianness="<" if little else ">")
        # The first "fragment" is the Basic Offset Table item.
        bot = pixel.value_tell
        cuts["bot-header"] = bot + 5
        for n, off in enumerate(offsets[:4]):
            at = pixel.value_tell + off
            cuts[f"fragment{n}-header"] = at + 6
            cuts[f"fragment{n}-value"] = at + 8 + 10
        cuts["sequence-delimiter"] = len(data) - 4
    elif pixel is not None:
        cuts["pixel-middle"] = pixel.value_tell + pixel.length // 2
    return [(f"cut-{name}@{at}", data[:at]) for name, at in sorted(cuts.items(), key=lambda kv: kv[1])
            if 0 < at < len(data)]


def bit_flips(data: bytes) -> list[tuple[str, bytes]]:
    """For each element: its length's high byte flipped, its VR garbled, its tag group flipped."""
    out = []
    for e in elements(data):
        t = f"{e.tag:08X}"
        hi = e.length_offset + (e.length_size - 1 if e.little else 0)
        out.append((f"flip-length-{t}", _patch(data, hi, data[hi] ^ 0x80)))
        lo = e.length_offset + (0 if e.little else e.length_size - 1)
        out.append((f"flip-length-low-{t}", _patch(data, lo, data[lo] ^ 0x01)))
        if not e.implicit:
            out.append((f"garble-vr-{t}", data[: e.start + 4] + b"\x00\x7f" + data[e.start + 6 :]))
        out.append((f"flip-tag-{t}", _patch(data, e.start + (1 if e.little else 0), data[e.start + (1 if e.little else 0)] ^ 0x40)))
    return out


def _patch(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1 :]


def _rewrite(data: bytes, edit) -> bytes:
    """The file read by pydicom, edited, and written back (same transfer syntax, raw values kept)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(io.BytesIO(data))
        edit(ds)
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=False)
    return buf.getvalue()


def _set_raw(ds: Dataset, keyword: str, vr: str, value: bytes) -> None:
    from pydicom.dataelem import DataElement

    tag = pydicom.datadict.tag_for_keyword(keyword)
    ds[tag] = DataElement(tag, vr, value)


def charset_variants(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    for name, charset in (("unknown", "ISO_IR 999"), ("wrong-utf8-for-latin1", "ISO_IR 192"),
                          ("iso2022-bad-escape", "ISO 2022 IR 87"), ("multi-garbage", "ISO_IR 100\\FOO\\\x1b$B"),
                          ("gb18030", "GB18030")):
        def edit(ds: Dataset, charset=charset) -> None:
            _set_raw(ds, "SpecificCharacterSet", "CS", charset.encode("latin-1"))
            _set_raw(ds, "PatientName", "PN", b"M\xfcller^J\xe9r\xf4me\x1b$B\xff\xfe=\x1b(J")
            _set_raw(ds, "StudyDescription", "LO", b"\xc3\x28\xa0\xa1 \x1b$)C\xff")
        out.append((f"charset-{name}", _rewrite(data, edit)))
    return out


def uid_variants(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    bad = {
        "too-long": b"1.2." + b"3" * 70,
        "non-digit": b"1.2.abc.4",
        "trailing-space": b"1.2.3.4 ",
        "trailing-nul-nul": b"1.2.3.4\x00\x00",
        "leading-zero": b"1.02.003.4",
        "only-spaces": b"    ",
        "empty": b"",
        "backslash-multi": b"1.2.3\\4.5.6",
        "control-chars": b"1.2.\n3\x07",
    }
    for name, value in bad.items():
        for keyword in ("SOPInstanceUID", "StudyInstanceUID"):
            def edit(ds: Dataset, value=value, keyword=keyword) -> None:
                _set_raw(ds, keyword, "UI", value if len(value) % 2 == 0 else value + b"\x00")
                if keyword == "SOPInstanceUID":
                    _set_raw(ds.file_meta, "MediaStorageSOPInstanceUID", "UI",
                             value if len(value) % 2 == 0 else value + b"\x00")
            out.append((f"uid-{keyword}-{name}", _rewrite(data, edit)))
    return out


def vr_variants(data: bytes) -> list[tuple[str, bytes]]:
    """Odd VRs (explicit syntaxes only): UN holding explicit data, OB with an odd length, a wrong VR on a key."""
    out = []
    elems = elements(data)
    if elems and not elems[-1].implicit:
        def un_name(ds: Dataset) -> None:
            _set_raw(ds, "PatientName", "UN", b"Doe^John")
            _set_raw(ds, "StudyDescription", "UN", b"CHEST ")

        out.append(("vr-un-values", _rewrite(data, un_name)))

        # A sequence sent as UN with undefined length, its item explicit VR (PS3.5 6.2.2 note), patched in by hand
        # in tag order (pydicom would write it back as SQ).
        inner = Dataset()
        inner.CodeValue = "X"
        item = _encode(inner, implicit=False)
        value = b"\xfe\xff\x00\xe0" + struct.pack("<I", len(item)) + item + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
        un = struct.pack("<HH2sHI", 0x0040, 0x0275, b"UN", 0, 0xFFFFFFFF) + value
        if elems[-1].little:
            at = next((e.start for e in elems if e.tag > 0x00400275 and e.tag >> 16 != 2), len(data))
            out.append(("vr-un-sequence", data[:at] + un + data[at:]))

        def wrong_text(ds: Dataset) -> None:
            _set_raw(ds, "StudyDate", "DA", b"2020-13-45")
            _set_raw(ds, "PatientSex", "CS", b"?? ")

        out.append(("vr-bad-text-on-keys", _rewrite(data, wrong_text)))
    # OB with an odd length: patch a private OB element onto the end of the dataset by hand (pydicom pads).
    extra = struct.pack("<HH2sHI", 0x0009, 0x0010, b"LO", 0, 0)[:6] + struct.pack("<H", 4) + b"ACME"
    ob = struct.pack("<HH2sHI", 0x0009, 0x1001, b"OB", 0, 3) + b"\x01\x02\x03"
    if elems and not elems[-1].implicit and elems[-1].little:
        # Insert before pixel data (group 0009 < 7FE0), keeping ascending order.
        pixel = next((e for e in elems if e.tag == 0x7FE00010), None)
        at = pixel.start if pixel else len(data)
        out.append(("vr-ob-odd-length", data[:at] + extra + ob + data[at:]))
    return out


def _encode(ds: Dataset, implicit: bool) -> bytes:
    from pydicom.filewriter import write_dataset
    from pydicom.filebase import DicomBytesIO

    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = implicit
    write_dataset(fp, ds)
    return fp.getvalue()


def huge_lengths(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    elems = elements(data)
    for e in elems:
        if e.tag in (0x00100010, 0x7FE00010, 0x00020000, 0x00020010) and e.length != 0xFFFFFFFF:
            size = e.length_size
            fmt = ("<" if e.little else ">") + ("I" if size == 4 else "H")
            big = 0xFFFFFFF0 if size == 4 else 0xFFF0
            out.append((f"huge-length-{e.tag:08X}", data[: e.length_offset] + struct.pack(fmt, big)
                        + data[e.length_offset + size :]))
    return out


def nested_sequences(depth: int) -> bytes:
    """A valid-looking CT-ish instance with a sequence nested ``depth`` levels deep (undefined lengths)."""
    ds = minimal_instance()
    item_start = b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
    item_end = b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
    seq_end = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    seq_head = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF)  # ContentSequence
    body = seq_head + item_start
    nested = body * depth + (item_end + seq_end) * depth
    raw = _file_bytes(ds)
    return raw + nested


def minimal_instance() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "Hostile^Test"
    ds.PatientID = "HOSTILE"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def _file_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def not_dicom() -> list[tuple[str, bytes]]:
    return [
        ("empty", b""),
        ("text", b"This is a README, not an image.\n" * 20),
        ("png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200),
        ("zeros", b"\x00" * 4096),
        ("preamble-only", b"\x00" * 128 + b"DICM"),
        ("dicm-then-garbage", b"\x00" * 128 + b"DICM" + bytes(range(256)) * 4),
        ("zip-named-dcm", _tiny_zip()),
        ("one-byte", b"\x08"),
    ]


def _tiny_zip() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    return buf.getvalue()


def dicomdir_variants(tmp) -> list:
    """Folders holding a DICOMDIR with odd records: '..' and absolute references, a missing file, a record
    offset that loops to itself, and a DICOMDIR that is garbage. Returns the folders."""
    from pathlib import Path

    from pydicom.fileset import FileSet

    tmp = Path(tmp)
    folders = []
    base = minimal_instance()
    base.Rows = base.Columns = 2
    base.BitsAllocated = base.BitsStored = 8
    base.HighBit = 7
    base.SamplesPerPixel = 1
    base.PixelRepresentation = 0
    base.PhotometricInterpretation = "MONOCHROME2"
    base.PixelData = b"\x00\x01\x02\x03"
    base.StudyDate, base.StudyTime, base.StudyID = "20200101", "120000", "1"
    base.SeriesNumber = base.InstanceNumber = 1
    fs = FileSet()
    fs.add(base)
    good = tmp / "dicomdir-good"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs.write(good)
    raw = (good / "DICOMDIR").read_bytes()
    ref = next(iter(good.rglob("IM*")))
    rel = ref.relative_to(good).as_posix().split("/")
    for name, new in (("dotdot", ["..", "..", "etc", "passwd"]), ("absolute", ["", "etc", "passwd"]),
                      ("missing", ["NOPE", "NOFILE"])):
        folder = tmp / f"dicomdir-{name}"
        folder.mkdir()
        (folder / rel[0]).mkdir(parents=True, exist_ok=True)
        import shutil

        shutil.copytree(good / rel[0], folder / rel[0], dirs_exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dd = pydicom.dcmread(io.BytesIO(raw))
            for rec in dd.DirectoryRecordSequence:
                if "ReferencedFileID" in rec:
                    rec.ReferencedFileID = new
            dd.save_as(folder / "DICOMDIR", enforce_file_format=False)
        folders.append(folder)
    loop = tmp / "dicomdir-loop"
    import shutil

    shutil.copytree(good, loop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dd = pydicom.dcmread(loop / "DICOMDIR")
    # Every record's "next" and "lower" offsets point at the first record: a reader that follows them loops.
    first = dd.DirectoryRecordSequence[0].seq_item_tell if hasattr(dd.DirectoryRecordSequence[0], "seq_item_tell") else 0
    for rec in dd.DirectoryRecordSequence:
        rec.OffsetOfTheNextDirectoryRecord = first
        rec.OffsetOfReferencedLowerLevelDirectoryEntity = first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dd.save_as(loop / "DICOMDIR", enforce_file_format=False)
    folders.append(loop)
    garbage = tmp / "dicomdir-garbage"
    shutil.copytree(good, garbage)
    (garbage / "DICOMDIR").write_bytes(raw[: len(raw) // 2])
    folders.append(garbage)
    folders.append(good)
    return folders
