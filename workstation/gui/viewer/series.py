"""Opening what the viewer shows: image stacks plus the header facts the annotations need (Qt-free).

The viewer never decodes here; it reads headers and builds :class:`workstation.imaging.Stack` objects (frames are
decoded lazily by the stack's executor). Everything here may run in a worker thread.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pydicom
from PySide6 import QtCore

from workstation import imaging
from workstation.dicom.age import patient_age, short_age
from workstation.reading.order import SeriesFiles, reading_order
from workstation.reading.sync import SliceGeometry

log = logging.getLogger(__name__)

HEADER_KEYWORDS = (
    "PatientName", "PatientID", "PatientSex", "PatientAge", "PatientBirthDate", "StudyDate", "StudyTime",
    "StudyDescription", "SeriesNumber", "SeriesDescription", "InstitutionName", "Modality", "SOPClassUID",
    "SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID", "Manufacturer", "BodyPartExamined",
    # for hanging protocols (reading/hanging.py): localizers, mammography views
    "ImageType", "ImageLaterality", "Laterality", "ViewPosition",
)

# Non-image SOP classes we recognise by name when imaging's describe_object is not enough.
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"


@dataclass
class SeriesEntry:
    """One thumbnail in the strip: an image stack, or a non-image object with a description."""

    title: str
    header: dict
    stack: "imaging.Stack | None" = None
    message: str = ""                       # for non-image objects: what it is
    document_path: str | None = None        # a file holding an encapsulated PDF, if any
    paths: list[str] = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        return self.stack is not None

    @property
    def key(self) -> tuple:
        """This entry's identity in any window: (SeriesInstanceUID, SOPInstanceUID of its first image, or its
        first file). One series may give several entries (a localizer and its axials), hence the second part."""
        first = ""
        if self.stack is not None:
            src = self.stack.source(0)
            first = source_uid(src) or str(src.path)
        elif self.paths:
            first = str(self.paths[0])
        return (str(self.header.get("SeriesInstanceUID", "")), first)


_gc_lock = threading.Lock()
_gc_pausers = 0


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while reading many headers, then freeze what was built.

    Reading 2,000 headers creates ~10^6 long-lived objects; every full collection scans them all while holding
    the GIL, which froze the GUI thread for 50-180 ms at a time. The headers live as long as the viewer, so they
    are moved to the permanent generation (``gc.freeze``); reference counting still frees them.
    """
    global _gc_pausers
    with _gc_lock:
        _gc_pausers += 1
        if _gc_pausers == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                gc.freeze()
                gc.enable()


def give_memory_back() -> None:
    """Return freed memory to the system (glibc ``malloc_trim``), after a viewer window is deleted - in a thread of
    its own: the trim walks the whole heap (tens of ms after a 2,000-image series) and ctypes lets go of the GIL
    while it runs, so the GUI does not wait for it. One trim at a time; a request meanwhile makes it trim again.

    A closed window must not rely on the garbage collector: :func:`gc_paused` freezes the objects alive when a
    series has opened (the window's too), and frozen objects are never collected. The window therefore breaks its
    own reference cycles when it closes (``StackViewport.release``, weak worker callbacks, its Python side emptied
    once deleted), so reference counting frees it; a full collection at close (unfreeze, collect, freeze) stalled the GUI for 60-200 ms.
    """
    global _trimmer, _trim_again
    with _trim_lock:
        if _trimmer is not None and _trimmer.is_alive():
            _trim_again = True  # what was freed meanwhile: the running thread trims once more
            return
        _trimmer = threading.Thread(target=_trim, name="malloc-trim", daemon=True)
        _trimmer.start()


def _trim() -> None:
    global _libc, _trim_again
    while True:
        try:
            if _libc is None:
                import ctypes

                _libc = ctypes.CDLL("libc.so.6")  # once: a CDLL object per call was garbage in a reference cycle
            _libc.malloc_trim(0)
        except (OSError, AttributeError):  # not glibc: the allocator keeps what it keeps
            return
        with _trim_lock:
            if not _trim_again:
                return
            _trim_again = False


_trimmer: threading.Thread | None = None
_trim_again = False
_trim_lock = threading.Lock()
_libc = None

_RELEASING: deque = deque()  # generators taking closed windows' series apart, a piece per step


def release_gradually(entries: list) -> None:
    """Let go of a closed window's ``entries`` (the list is taken over) over several event-loop turns, then give
    the memory back. Dropped at once, the headers of a 2,000-image series took 40-70 ms of the GUI thread."""
    _RELEASING.append(_pieces(entries))
    if len(_RELEASING) == 1:
        QtCore.QTimer.singleShot(1, _release_step)


def _pieces(entries: list):
    while entries:
        entry = entries.pop()
        # Only what nobody else holds is taken apart (an MPR window may still read a stack of this window).
        if sys.getrefcount(entry) <= 2 and entry.stack is not None:
            stack, entry.stack = entry.stack, None
            if sys.getrefcount(stack) <= 2:
                yield from stack.dismantle()
            del stack
        del entry
        yield
    give_memory_back()


def _release_step() -> None:
    end = time.perf_counter() + 0.005
    while _RELEASING and time.perf_counter() < end:
        try:
            next(_RELEASING[0])
        except StopIteration:
            _RELEASING.popleft()
        except Exception:  # noqa: BLE001 - what is left is freed the ordinary way; later windows still are
            log.exception("releasing a closed window's series")
            _RELEASING.popleft()
    if _RELEASING:
        QtCore.QTimer.singleShot(1, _release_step)


def read_header(path: str | os.PathLike) -> dict:
    """The annotation-relevant header values of one file as plain strings (missing values are "")."""
    ds = pydicom.dcmread(os.fspath(path), stop_before_pixels=True, force=True)
    out = {}
    for kw in HEADER_KEYWORDS:
        v = ds.get(kw, "")
        out[kw] = "" if v is None else str(v)
    return out


def _age(header: dict) -> str:
    """The file's PatientAge, else the age computed from the birth and study dates (many files have no AS)."""
    return short_age(patient_age(header.get("PatientAge"), header.get("PatientBirthDate"), header.get("StudyDate")))


def patient_line(header: dict) -> str:
    sex = header.get("PatientSex", "")
    age = _age(header)
    extra = " ".join(x for x in (sex, age) if x)
    return str(header.get("PatientName", "")).replace("^", " ").strip() + (f"  {extra}" if extra else "")


def fmt_date(value: str) -> str:
    v = (value or "").strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return v


def open_entries(paths: Sequence[str | os.PathLike], executor=None, memory_budget: int | None = None,
                 cancel=None) -> list[SeriesEntry]:
    """Open one group of files (a series, or any files) as thumbnail entries: stacks first, then non-images.
    ``cancel()`` is checked between files (imaging.ImagingError("cancelled") when true)."""
    paths = [os.fspath(p) for p in paths]
    kwargs = {"executor": executor, "cancel": cancel}
    if memory_budget:
        kwargs["memory_budget"] = memory_budget
    entries: list[SeriesEntry] = []
    try:
        stacks = imaging.open_series(paths, **kwargs)
    except imaging.NotAnImageError as exc:
        stacks = []
        non_image_message = str(exc)
    else:
        non_image_message = ""
    image_paths: set[str] = set()
    stacks = [in_reading_order(s, executor) for s in stacks]
    for stack in stacks:
        src = stack.source(0)
        header = read_header(src.path)
        members = {os.fspath(stack.source(i).path) for i in range(len(stack))}
        image_paths |= members
        title = f"{header.get('SeriesNumber', '')} {header.get('SeriesDescription', '') or header['Modality']}"
        view = _view_line(header)
        if view:  # one stack per view of a projection series: the strip tells them apart
            title = f"{title} {view}"
        entries.append(SeriesEntry(title=title.strip() or "series", header=header, stack=stack,
                                   paths=sorted(members)))
    for p in paths:
        if p in image_paths:
            continue
        entries.append(non_image_entry(p, non_image_message))
    return entries


def in_reading_order(stack, executor=None):
    """``stack`` in reading order (workstation.reading.order: InstanceNumber when usable, else anatomical): the
    same stack when already so, else a new one over the same files (the old one, not yet decoded, is closed).
    A multi-frame object keeps its file's frame order."""
    n = len(stack)
    sources = [stack.source(i) for i in range(n)]
    if n < 2 or len({s.path for s in sources}) != n:
        return stack
    geos = [stack.geometry(i) for i in range(n)]
    order = reading_order([g.instance_number for g in geos], [g.image_position for g in geos],
                          None if stack.normal is None else tuple(stack.normal), [str(s.path) for s in sources])
    if order == list(range(n)):
        return stack
    headers = {s.path: stack.header(i) for i, s in enumerate(sources)}
    budget = stack.shared_budget if stack.shared_budget is not None else stack.memory_budget
    ordered = imaging.Stack([sources[i] for i in order], headers, [geos[i] for i in order], executor=executor,
                            memory_budget=budget, normal=stack.normal, description=stack.description)
    stack.close()
    return ordered


def non_image_entry(path: str, fallback: str = "") -> SeriesEntry:
    """An entry for a file without pixel data: say what it is; keep an encapsulated PDF in a temp file."""
    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception as exc:  # noqa: BLE001 - unreadable files are shown, not raised
        return SeriesEntry(title=Path(path).name, header={},
                           message=_SeriesText().tr("Cannot read %1: %2").replace("%1", Path(path).name)
                           .replace("%2", str(exc)),
                           paths=[path])
    if not getattr(ds, "file_meta", None) and "SOPClassUID" not in ds and "Modality" not in ds:
        # A forced read takes any bytes for a dataset (a text file gives 0 or 1 bogus elements): "unknown SOP
        # class" would send the user looking for a DICOM problem in a file that is not DICOM at all.
        return SeriesEntry(title=Path(path).name, header={},
                           message=_SeriesText().tr("%1 is not a DICOM file.").replace("%1", Path(path).name),
                           paths=[path])
    header = {kw: str(ds.get(kw, "") or "") for kw in HEADER_KEYWORDS}
    try:
        what = imaging.describe_object(ds)
    except Exception:  # noqa: BLE001
        what = fallback or _SeriesText().tr("%1 object without images").replace("%1", header.get("Modality", ""))
    doc = None
    if str(ds.get("SOPClassUID", "")) == ENCAPSULATED_PDF or "EncapsulatedDocument" in ds:
        data = bytes(ds.EncapsulatedDocument)
        if data.endswith(b"\x00"):
            data = data.rstrip(b"\x00") if not data.rstrip(b"\x00").endswith(b"%%EOF") else data.rstrip(b"\x00")
        fd, doc = tempfile.mkstemp(suffix=".pdf", prefix="workstation-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    title = f"{header.get('SeriesNumber', '')} {header.get('Modality', '') or 'object'}".strip()
    message = str(what)
    if "ContentSequence" in ds:
        # A structured report is read, not looked at: "Comprehensive SR Storage" alone left the radiologist
        # with nothing to read. The content tree as indented text (the tag browser has every element).
        try:
            report = sr_text(ds)
        except Exception:  # noqa: BLE001 - an odd content tree still shows what the object is
            report = ""
        if report:
            message = f"{message}\n\n{report}"
    return SeriesEntry(title=title, header=header, message=message, document_path=doc, paths=[path])


SR_MAX_LINES = 200  # the viewport scrolls; beyond that the tag browser is the better reader


def _code_meaning(seq) -> str:
    return str(seq[0].get("CodeMeaning", "") or "") if seq else ""


def _sr_value(item) -> str:
    vt = str(item.get("ValueType", ""))
    if vt == "TEXT":
        return str(item.get("TextValue", "") or "")
    if vt == "CODE":
        return _code_meaning(item.get("ConceptCodeSequence"))
    if vt == "NUM":
        mv = item.get("MeasuredValueSequence")
        if not mv:
            return ""
        units = mv[0].get("MeasurementUnitsCodeSequence")
        unit = str(units[0].get("CodeValue", "") or units[0].get("CodeMeaning", "") or "") if units else ""
        return f"{mv[0].get('NumericValue', '')} {unit}".strip()
    if vt == "PNAME":
        return str(item.get("PersonName", "") or "").replace("^", " ").strip()
    if vt in ("DATE", "TIME", "DATETIME"):
        return str(item.get({"DATE": "Date", "TIME": "Time", "DATETIME": "DateTime"}[vt], "") or "")
    if vt == "UIDREF":
        return str(item.get("UID", "") or "")
    return ""


def sr_text(ds, max_lines: int = SR_MAX_LINES) -> str:
    """A structured report's title and content tree as indented "name: value" lines (at most ``max_lines``)."""
    lines: list[str] = []
    title = _code_meaning(ds.get("ConceptNameCodeSequence"))
    if title:
        lines.append(title)

    def walk(items, depth: int) -> None:
        for item in items:
            name = _code_meaning(item.get("ConceptNameCodeSequence"))
            value = " ".join(_sr_value(item).split())  # multi-line text values on one line
            if name or value:
                lines.append("    " * depth + (f"{name}: {value}" if name and value else name or value))
            if "ContentSequence" in item:
                walk(item.ContentSequence, depth + (1 if name or value else 0))

    walk(ds.get("ContentSequence") or [], 0)
    if len(lines) > max_lines:
        more = len(lines) - max_lines + 1
        lines = lines[: max_lines - 1] + [_SeriesText().more_lines(more)]
    return "\n".join(lines)


class _SeriesText(QtCore.QObject):
    """Texts of this module through Qt's translation (thread-safe; lupdate finds ``tr`` in a class)."""

    def more_lines(self, n: int) -> str:
        return self.tr("… %n more line(s): Tags shows the whole content", "", n)


def source_uid(src) -> str | None:
    """SOPInstanceUID of a FrameSource, whatever the attribute's spelling."""
    for name in ("sop_instance_uid", "SOPInstanceUID", "uid"):
        v = getattr(src, name, None)
        if v:
            return str(v)
    return None


def source_frame(src) -> int:
    for name in ("frame", "frame_index", "index"):
        v = getattr(src, name, None)
        if isinstance(v, int):
            return v
    return 0


def sync_geometry(stack) -> SliceGeometry:
    """The stack's geometry for the sync rules (workstation.reading.sync): Frame of Reference, normal and the
    patient position of each slice's centre (ImagePositionPatient when spacing or orientation is missing)."""
    geos = [stack.geometry(i) for i in range(len(stack))]
    normal = getattr(stack, "normal", None)
    if normal is None and geos:
        normal = geos[0].normal
    rows, cols = int(getattr(stack, "rows", 0) or 0), int(getattr(stack, "columns", 0) or 0)
    centres = []
    for g in geos:
        if g.image_position is None:
            centres.append(None)
            continue
        p = [float(v) for v in g.image_position]
        if g.image_orientation is not None and g.pixel_spacing:
            o = [float(v) for v in g.image_orientation]
            half_c = float(g.pixel_spacing[1]) * (cols - 1) / 2.0  # along the row direction (columns)
            half_r = float(g.pixel_spacing[0]) * (rows - 1) / 2.0  # along the column direction (rows)
            p = [p[k] + o[k] * half_c + o[3 + k] * half_r for k in range(3)]
        centres.append(tuple(p))
    for_uid = next((g.frame_of_reference_uid for g in geos if g.frame_of_reference_uid), "") or ""
    return SliceGeometry(str(for_uid), None if normal is None else tuple(float(v) for v in normal), centres)


def flatten(items: Iterable) -> list[list[str]]:
    """Normalise the viewer's input: a flat list of paths is one group; nested lists are one group each."""
    groups: list[list[str]] = []
    loose: list[str] = []
    for item in items:
        if isinstance(item, SeriesFiles):
            groups.append(item)  # keeps what the index knows about its first image
        elif isinstance(item, (list, tuple)):
            groups.append([os.fspath(p) for p in item])
        else:
            loose.append(os.fspath(item))
    if loose:
        groups.insert(0, loose)
    return groups


def _view_line(header) -> str:
    from workstation.gui.viewer.overlay import view_line  # overlay imports the viewport, which imports this

    return view_line(header)
