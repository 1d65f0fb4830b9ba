"""Export instances from the archive: to a folder, a ZIP archive, or a folder with a DICOMDIR (a CD/DVD/USB
image any viewer can read), optionally de-identified.

Layouts:
* folder / ZIP: ``Patient name (ID)/StudyDate Study description/Series number Modality Series description/
  IM00001.dcm``, names cleaned of characters file systems refuse;
* DICOMDIR: pydicom's File-set writer names the files (``PT000000/ST000000/SE000000/IM000000``, ISO 9660
  compatible) and writes the DICOMDIR.
Files are copied byte for byte unless they are de-identified (then re-written by pydicom).

Nothing half-written: every file is written under a temporary name and renamed when complete; a ZIP or a DICOMDIR
folder is built under a temporary name and renamed at the end. Cancel or a failure removes the temporary one.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import unicodedata
import uuid
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

import pydicom
from pydicom.fileset import FileSet

from workstation.dicom.anonymize import Anonymizer

if TYPE_CHECKING:
    from workstation.archive.archive import Archive

log = logging.getLogger(__name__)

FORMATS = ("folder", "zip", "dicomdir")
_LEVEL_KEYS = {"patient": "PatientID", "study": "StudyInstanceUID", "series": "SeriesInstanceUID",
               "instance": "SOPInstanceUID"}


class ExportError(Exception):
    """The export cannot start or cannot finish; the message says why."""


class Cancel(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class ExportReport:
    destination: str
    exported: int = 0
    bytes: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"destination": self.destination, "exported": self.exported, "failed": self.failed}
        if self.warnings:
            out["warnings"] = self.warnings
        if self.cancelled:
            out["cancelled"] = True
        return out


def export(archive: "Archive", *args: Any, **kwargs: Any) -> ExportReport:
    """See :func:`_export` (pydicom's per-value warnings are kept out of the output)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns per odd value while reading; the report says what matters
        return _export(archive, *args, **kwargs)


def _export(
    archive: "Archive",
    selection: list[tuple[str, str]],
    destination: str | os.PathLike[str],
    *,
    fmt: str = "folder",
    anonymizer: Anonymizer | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Cancel | None = None,
) -> ExportReport:
    """Export the instances of ``selection`` ([(level, identifier), ...]; identifier = PatientID at patient level,
    else the level's UID) to ``destination`` as ``fmt`` (folder, zip or dicomdir)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    rows = _rows(archive, selection)
    if not rows:
        raise ExportError("nothing to export: no instance matches")
    dest = Path(destination)
    if fmt == "zip" and dest.suffix.lower() != ".zip":
        dest = dest.with_name(dest.name + ".zip")
    if fmt in ("zip", "dicomdir") and dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise ExportError(f"{dest} already exists: choose a new name")
    if fmt == "folder" and dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file, not a folder")
    report = ExportReport(str(dest))
    writer = {"folder": _FolderWriter, "zip": _ZipWriter, "dicomdir": _DicomdirWriter}[fmt](dest)
    ok = False
    try:
        for n, row in enumerate(rows):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            _export_one(row, writer, anonymizer, report)
            if progress is not None:
                progress(n + 1, len(rows))
        if report.exported == 0 and not report.cancelled:
            pass  # every instance failed: no empty ZIP or DICOMDIR (discarded below); the failures say why
        elif not report.cancelled:
            writer.finish()
            report.warnings.extend(getattr(writer, "invented", []))
            ok = True
    except OSError as exc:
        raise ExportError(f"cannot write {dest}: {exc.strerror or exc}") from None
    finally:
        if not ok:
            writer.discard()
    if report.cancelled:
        report.exported = 0 if fmt != "folder" else report.exported
    log.info("export to %s (%s): %d instances, %d failed%s", dest, fmt, report.exported, len(report.failed),
             " (cancelled)" if report.cancelled else "")
    return report


def _rows(archive: "Archive", selection: list[tuple[str, str]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for level, identifier in selection:
        key = _LEVEL_KEYS.get(level)
        if key is None:
            raise ExportError(f"unknown level {level!r}")
        # DICOM matching would take an empty value as "everything" and * or ? as wildcards: keep exact matches.
        for row in archive.query("instance", {key: identifier} if identifier and not set("*?\\") & set(identifier)
                                 else {}):
            if (row.get(key) or "") != identifier:
                continue
            if row["SOPInstanceUID"] not in seen:
                seen.add(row["SOPInstanceUID"])
                rows.append(row)
    rows.sort(key=lambda r: (r.get("PatientID") or "", r.get("StudyDate") or "", r.get("StudyInstanceUID") or "",
                             r.get("SeriesNumber") or 0, r.get("SeriesInstanceUID") or "",
                             r.get("InstanceNumber") or 0, r["SOPInstanceUID"]))
    return rows


def read_instance(source: Path, row: dict[str, Any]) -> pydicom.Dataset:
    """The whole dataset of an archived file, with its file meta complete: old files without a preamble or meta
    (which the archive takes, with the syntax it inferred) are read with ``force`` and given a meta."""
    ds = pydicom.dcmread(source, force=True)
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = pydicom.dataset.FileMetaDataset()
    # File meta elements found in the data set (a damaged or odd writer): pydicom refuses to write them there.
    for tag in [t for t in ds.keys() if t.group == 0x0002]:
        elem = ds[tag]
        del ds[tag]
        if tag not in meta:
            meta[tag] = elem
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = row.get("TransferSyntaxUID") or pydicom.uid.ImplicitVRLittleEndian
    if "MediaStorageSOPClassUID" not in meta and row.get("SOPClassUID"):
        meta.MediaStorageSOPClassUID = row["SOPClassUID"]
    if "MediaStorageSOPInstanceUID" not in meta:
        meta.MediaStorageSOPInstanceUID = row["SOPInstanceUID"]
    # The archive took the UIDs from the file meta when the data set lacks them; a written copy needs them back.
    if "SOPInstanceUID" not in ds:
        ds.SOPInstanceUID = row["SOPInstanceUID"]
    if "SOPClassUID" not in ds and row.get("SOPClassUID"):
        ds.SOPClassUID = row["SOPClassUID"]
    ts = pydicom.uid.UID(str(meta.TransferSyntaxUID))
    if ts.is_transfer_syntax and not ts.is_implicit_VR and any(
            getattr(e, "VR", "") is None for e in ds._dict.values()):
        # An implicit VR data set under an explicit syntax (pydicom reads it, and original_encoding still says
        # explicit): its raw elements carry no VR to write, so have pydicom convert every one (its dictionary
        # supplies the VRs).
        for _ in ds.iterall():
            pass
    return ds


def _export_one(row: dict[str, Any], writer: "_Writer", anonymizer: Anonymizer | None, report: ExportReport) -> None:
    source = Path(row["path"])
    label = row["SOPInstanceUID"]
    try:
        if anonymizer is None:
            size = writer.add_file(source, row)
        else:
            ds = read_instance(source, row)
            report.warnings.extend(anonymizer.apply(ds))
            size = writer.add_dataset(ds, row)
    except FileNotFoundError:
        report.failed.append({"SOPInstanceUID": label, "reason": f"the stored file is missing: {source}"})
        return
    except _WriteFailed as exc:
        raise exc.error from None  # the destination cannot be written: the whole export stops
    except RecursionError:
        report.failed.append({"SOPInstanceUID": label, "reason": "unreadable: sequences nested too deeply"})
        return
    except Exception as exc:  # noqa: BLE001 - a damaged instance fails alone (pydicom raises many kinds)
        # e.g. no DICOMDIR record type for this SOP class, a value pydicom cannot encode, an unreadable file.
        log.warning("export of %s failed", label, exc_info=True)
        report.failed.append({"SOPInstanceUID": label, "reason": _one_line(exc)})
        return
    report.exported += 1
    report.bytes += size


def _one_line(exc: BaseException) -> str:
    """pydicom's messages can span lines (and carry a traceback's text): the first line is the reason."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class _WriteFailed(Exception):
    """Writing the destination failed (disk full, permissions): not the instance's fault."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


def _encode(ds: pydicom.Dataset) -> bytes:
    """The dataset as a file, in memory: an instance pydicom cannot encode fails here, before anything is written."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# --- writers -------------------------------------------------------------------------------------------------


def invent_record_keys(ds: pydicom.Dataset) -> list[str]:
    """Fill the type 1 keys of the PATIENT/STUDY/SERIES/IMAGE directory records that ``ds`` lacks (many real
    files have no Study ID, some no Series or Instance Number), as dcmmkdir's ``--invent`` does; returns what was
    invented. Only the exported copy changes."""
    filled = []

    def missing(keyword: str) -> bool:
        return keyword not in ds or ds[keyword].VM == 0

    if missing("PatientID"):
        ds.PatientID = "UNKNOWN"
        filled.append("PatientID")
    if missing("StudyDate"):
        ds.StudyDate = next((str(ds.get(k)) for k in ("SeriesDate", "AcquisitionDate", "ContentDate")
                             if not missing(k)), "19000101")
        filled.append("StudyDate")
    if missing("StudyTime"):
        ds.StudyTime = next((str(ds.get(k)) for k in ("SeriesTime", "AcquisitionTime", "ContentTime")
                             if not missing(k)), "000000")
        filled.append("StudyTime")
    if missing("StudyID"):
        ds.StudyID = (str(ds.get("AccessionNumber") or "") or "1")[:16]
        filled.append("StudyID")
    if missing("Modality"):
        ds.Modality = "OT"
        filled.append("Modality")
    if missing("SeriesNumber"):
        ds.SeriesNumber = 1
        filled.append("SeriesNumber")
    if missing("InstanceNumber"):
        ds.InstanceNumber = 1
        filled.append("InstanceNumber")
    return filled


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def _clean(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = _UNSAFE.sub("_", text).strip(" .")
    return text[:limit].rstrip(" .") or "_"


def relative_path(row: dict[str, Any], patient_name: str | None = None, patient_id: str | None = None) -> str:
    """Where an instance goes in a folder or ZIP export."""
    name = (patient_name if patient_name is not None else row.get("PatientName")) or "Unknown"
    pid = (patient_id if patient_id is not None else row.get("PatientID")) or ""
    patient = _clean(f"{name.replace('^', ' ').strip()} ({pid})" if pid else name.replace("^", " ").strip())
    study = _clean(" ".join(x for x in (row.get("StudyDate") or "", row.get("StudyDescription") or "") if x)
                   or "Study")
    series_bits = [str(row["SeriesNumber"]) if row.get("SeriesNumber") is not None else "",
                   row.get("Modality") or "", row.get("SeriesDescription") or ""]
    series = _clean(" ".join(x for x in series_bits if x) or "Series")
    number = row.get("InstanceNumber")
    stem = f"IM{number:05d}" if isinstance(number, int) and number >= 0 else "IM"
    return f"{patient}/{study}/{series}/{stem}"


class _Writer:
    def __init__(self, dest: Path):
        self.dest = dest
        self.names: set[str] = set()

    def unique(self, stem: str, sop_uid: str) -> str:
        name = f"{stem}.dcm"
        if name.lower() in self.names:
            name = f"{stem}-{sop_uid[-12:].replace('.', '')}.dcm"
        while name.lower() in self.names:
            name = f"{stem}-{uuid.uuid4().hex[:8]}.dcm"
        self.names.add(name.lower())
        return name

    def name_for(self, row: dict[str, Any], ds: pydicom.Dataset | None) -> str:
        if ds is not None:
            return self.unique(relative_path(row, str(ds.get("PatientName", "") or ""), str(ds.get("PatientID", "") or "")),
                               str(ds.get("SOPInstanceUID", row["SOPInstanceUID"])))
        return self.unique(relative_path(row), row["SOPInstanceUID"])

    def add_file(self, source: Path, row: dict[str, Any]) -> int:
        raise NotImplementedError

    def add_dataset(self, ds: pydicom.Dataset, row: dict[str, Any]) -> int:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def discard(self) -> None:
        pass


class _FolderWriter(_Writer):
    """Files into ``dest`` (created if needed), each written atomically; what was exported before a cancel
    stays (complete files)."""

    def __init__(self, dest: Path):
        super().__init__(dest)
        dest.mkdir(parents=True, exist_ok=True)
        self.names = {p.relative_to(dest).as_posix().lower() for p in dest.rglob("*.dcm")}

    def _target(self, name: str) -> tuple[Path, Path]:
        target = self.dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target, target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")

    def add_file(self, source: Path, row: dict[str, Any]) -> int:
        if not source.is_file():
            raise FileNotFoundError(source)
        target, tmp = self._target(self.name_for(row, None))
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise _WriteFailed(exc) from None
        finally:
            tmp.unlink(missing_ok=True)
        return target.stat().st_size

    def add_dataset(self, ds: pydicom.Dataset, row: dict[str, Any]) -> int:
        data = _encode(ds)
        try:
            target, tmp = self._target(self.name_for(row, ds))
            try:
                with open(tmp, "wb") as out:
                    out.write(data)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise _WriteFailed(exc) from None
        return len(data)


class _ZipWriter(_Writer):
    """A ZIP built under a temporary name next to ``dest`` and renamed when complete."""

    def __init__(self, dest: Path):
        super().__init__(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        # Deflate at its fastest level: CT and MR shrink by half or more, at disk-like speed.
        self.zip = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)

    def add_file(self, source: Path, row: dict[str, Any]) -> int:
        if not source.is_file():
            raise FileNotFoundError(source)
        try:
            self.zip.write(source, self.name_for(row, None))
        except OSError as exc:
            raise _WriteFailed(exc) from None
        return source.stat().st_size

    def add_dataset(self, ds: pydicom.Dataset, row: dict[str, Any]) -> int:
        data = _encode(ds)
        try:
            with self.zip.open(self.name_for(row, ds), "w", force_zip64=True) as out:
                out.write(data)
        except OSError as exc:
            raise _WriteFailed(exc) from None
        return len(data)

    def finish(self) -> None:
        self.zip.close()
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.tmp, self.dest)

    def discard(self) -> None:
        try:
            self.zip.close()
        except (OSError, ValueError):
            pass
        self.tmp.unlink(missing_ok=True)


class _DicomdirWriter(_Writer):
    """pydicom's File-set: staged instances, then the DICOMDIR and its files written under a temporary folder
    that is renamed to ``dest`` when complete."""

    def __init__(self, dest: Path):
        super().__init__(dest)
        self.fs = FileSet()
        self._invented: dict[str, list[str]] = {}
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")

    def add_file(self, source: Path, row: dict[str, Any]) -> int:
        return self.add_dataset(read_instance(source, row), row) or source.stat().st_size

    def add_dataset(self, ds: pydicom.Dataset, row: dict[str, Any]) -> int:
        if str(ds.file_meta.get("TransferSyntaxUID", "")) == "1.2.840.10008.1.2.2":
            # pydicom's File-set cannot stage it, and media profiles have no big endian syntax.
            raise ValueError("Explicit VR Big Endian (retired) cannot go on DICOMDIR media; export it as a folder")
        filled = invent_record_keys(ds)
        # Encoded once before staging: the File-set writes every staged instance only at the end, where one that
        # cannot be encoded would fail the whole set.
        size = len(_encode(ds))
        self.fs.add(ds)
        if filled:
            self._invented.setdefault(", ".join(filled), []).append(str(ds.get("SOPInstanceUID", "?")))
        return size

    @property
    def invented(self) -> list[str]:
        """One line per set of invented keys (not one per instance: an anonymized export empties Study ID in all)."""
        return [f"{keys}: missing in {len(uids)} instance(s), invented for the DICOMDIR records"
                f" (e.g. {', '.join(uids[:2])})" for keys, uids in self._invented.items()]

    def finish(self) -> None:
        self.fs.write(self.tmp)
        if self.dest.exists():
            self.dest.rmdir()  # empty (checked before starting)
        os.replace(self.tmp, self.dest)

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
