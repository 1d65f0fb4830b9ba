"""Key images: a Key Object Selection document (title "Of Interest", DCM 113000) written with highdicom, and the
key images of a study read back from every KOS in the archive - ours and other systems' - with pydicom.

The archive is passed in (duck-typed, ``query`` as :class:`workstation.archive.Archive` has it) so this module
stays free of it, like :mod:`workstation.dicom.ps_catalog`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from workstation.dicom.presentation_state import read_document
from workstation.dicom.ps_writer import MANUFACTURER

log = logging.getLogger(__name__)

KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
OF_INTEREST = ("113000", "DCM", "Of Interest")


@dataclass(frozen=True)
class KeyImage:
    """One image a KOS selects. ``frames`` empty: the whole instance (1-based frame numbers otherwise)."""

    sop_instance_uid: str
    sop_class_uid: str
    series_instance_uid: str
    frames: tuple[int, ...] = ()
    document: str = ""  # the KOS's SOPInstanceUID
    title: str = ""  # the document title's meaning ("Of Interest", "For Teaching", ...)
    note: str = ""  # the Key Object Description, when given
    created: str = ""  # ContentDate + ContentTime of the KOS


def build_key_object_selection(
    images: Sequence[Dataset],
    *,
    note: str = "",
    frames: dict[str, Sequence[int]] | None = None,
    observer: str = "",
    series_number: int = 902,
) -> Dataset:
    """A KOS titled "Of Interest" selecting ``images`` (headers of one study, in the order given); ``frames``
    maps a multi-frame instance's SOPInstanceUID to its selected 1-based frames; ``note`` becomes the Key Object
    Description."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if not images:
        raise ValueError("a key object selection needs at least one image")
    frames = frames or {}
    observer_ctx = None
    if observer:
        observer_ctx = hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=observer))
    content = hd.ko.KeyObjectSelection(document_title=codes.DCM.OfInterest, referenced_objects=list(images),
                                       observer_person_context=observer_ctx, description=note.strip() or None)
    ds = hd.ko.KeyObjectSelectionDocument(
        evidence=list(images), content=content, series_instance_uid=generate_uid(), series_number=series_number,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer=MANUFACTURER)
    ds.SeriesDescription = "Key images"
    # highdicom references whole instances; selected frames of a multi-frame image are added to its reference.
    for item in ds.ContentSequence:
        for ref in item.get("ReferencedSOPSequence") or []:
            chosen = frames.get(str(ref.ReferencedSOPInstanceUID))
            if chosen:
                ref.ReferencedFrameNumber = [int(f) for f in chosen]
    return ds


def read_key_images(source: str | Path | Dataset) -> list[KeyImage]:
    """The images one KOS selects (pydicom; works for any system's KOS). Raises ``ValueError`` with one line when
    the file is not a readable Key Object Selection document."""
    ds, name = read_document(source)
    if str(ds.get("SOPClassUID", "")) != KOS_SOP_CLASS:
        raise ValueError(f"{name}: not a key object selection document")
    title = ""
    if ds.get("ConceptNameCodeSequence"):
        title = str(ds.ConceptNameCodeSequence[0].get("CodeMeaning", ""))
    series_of: dict[str, str] = {}
    for study in ds.get("CurrentRequestedProcedureEvidenceSequence") or []:
        for series in study.get("ReferencedSeriesSequence") or []:
            for sop in series.get("ReferencedSOPSequence") or []:
                series_of[str(sop.ReferencedSOPInstanceUID)] = str(series.SeriesInstanceUID)
    note = ""
    out: list[KeyImage] = []
    created = str(ds.get("ContentDate", "")) + str(ds.get("ContentTime", ""))
    for item in ds.get("ContentSequence") or []:
        vtype = item.get("ValueType", "")
        if vtype == "TEXT" and item.get("ConceptNameCodeSequence") and \
                item.ConceptNameCodeSequence[0].CodeValue == "113012":  # Key Object Description
            note = str(item.get("TextValue", ""))
        if vtype in ("IMAGE", "COMPOSITE", "WAVEFORM"):
            for ref in item.get("ReferencedSOPSequence") or []:
                uid = str(ref.ReferencedSOPInstanceUID)
                fr = ref.get("ReferencedFrameNumber")
                frames = tuple(int(f) for f in (fr if isinstance(fr, (list, pydicom.multival.MultiValue))
                                                else [fr])) if fr not in (None, "") else ()
                out.append(KeyImage(uid, str(ref.ReferencedSOPClassUID), series_of.get(uid, ""), frames,
                                    str(ds.get("SOPInstanceUID", "")), title, "", created))
    return [KeyImage(k.sop_instance_uid, k.sop_class_uid, k.series_instance_uid, k.frames, k.document, k.title,
                     note, k.created) for k in out]


def study_key_images(archive: Any, study_instance_uid: str) -> list[KeyImage]:
    """Every key image of a study from every KOS the archive holds for it, oldest document first; an image
    selected by two documents is listed once (the first). Unreadable KOS files are logged and skipped."""
    rows = archive.query("instance", {"StudyInstanceUID": study_instance_uid, "Modality": "KO"})
    return unique(_from_paths(row["path"] for row in rows if row.get("path")))


def _from_paths(paths: Iterable[str]) -> list[KeyImage]:
    found: list[KeyImage] = []
    for path in paths:
        try:
            found.extend(read_key_images(path))
        except ValueError as exc:
            log.warning("key images: %s", exc)
    found.sort(key=lambda k: (k.created, k.document))
    return found


def unique(keys: Iterable[KeyImage]) -> list[KeyImage]:
    seen: set[tuple[str, tuple[int, ...]]] = set()
    out = []
    for k in keys:
        if (k.sop_instance_uid, k.frames) not in seen:
            seen.add((k.sop_instance_uid, k.frames))
            out.append(k)
    return out
