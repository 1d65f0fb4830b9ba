"""A study's key images as the viewer keeps them (no Qt): which are ours and which another system selected, saving
ours as one Key Object Selection document that replaces the one saved before, and the key images as image stacks
in the documents' order.

Ours: a KOS written by this workstation (Manufacturer ``workstation``) titled "Of Interest". Saving writes the
images the reader marked (another system's selection is left in its own document) and then deletes our earlier
documents of the study, so saving again never piles documents up; with nothing marked, ours are deleted and none
written (the browser's mark goes with them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import pydicom

from workstation.dicom.key_objects import OF_INTEREST, KeyImage, read_key_images, unique
from workstation.dicom.ps_writer import MANUFACTURER

log = logging.getLogger(__name__)

Key = tuple[str, int]  # (SOPInstanceUID, 1-based frame number; 0: the whole instance)


@dataclass
class StudyKeys:
    """The key images of one study: ``ours`` (our newest document's selection, in its order), ``foreign`` (other
    systems' documents), our documents' SOPInstanceUIDs (replaced on save) and our note."""

    study_instance_uid: str
    ours: list[Key] = field(default_factory=list)
    foreign: list[Key] = field(default_factory=list)
    foreign_titles: dict[Key, str] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)
    note: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[Key]:
        """Every key image: ours first (in our order), then the others' not already among ours."""
        return list(dict.fromkeys([*self.ours, *self.foreign]))


def expand(k: KeyImage) -> list[Key]:
    """One key per selected frame (frame 0 when the whole instance is selected)."""
    return [(k.sop_instance_uid, f) for f in k.frames] if k.frames else [(k.sop_instance_uid, 0)]


# KOS titles that reject instances (IHE IOCM rejection notes, CID 7011): they select images to hide, not key images.
REJECTION_TITLES = {"113001", "113037", "113038", "113039"}


def _document(path: str) -> tuple[str, str]:
    """(Manufacturer, the document title's code value) of a KOS file; ("", "") when unreadable."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Manufacturer", "ConceptNameCodeSequence"])
    except Exception:  # noqa: BLE001 - unreadable: not ours to delete
        return "", ""
    title = ds.get("ConceptNameCodeSequence")
    return str(ds.get("Manufacturer", "")), str(title[0].get("CodeValue", "")) if title else ""


def is_ours(path: str) -> bool:
    return _document(path) == (MANUFACTURER, OF_INTEREST[0])


def load_study(archive: Any, study_instance_uid: str) -> StudyKeys:
    """What the archive holds for the study (worker): every KOS read, unreadable ones named in ``problems``."""
    out = StudyKeys(study_instance_uid)
    rows = archive.query("instance", {"StudyInstanceUID": study_instance_uid, "Modality": "KO"})
    newest_ours: tuple[str, str] | None = None
    for row in rows:
        path = row.get("path")
        if not path:
            continue
        try:
            keys = read_key_images(path)
        except ValueError as exc:
            out.problems.append(str(exc))
            continue
        document = _document(path)
        if document[1] in REJECTION_TITLES:
            continue  # a rejection note: its images are not key images
        if document == (MANUFACTURER, OF_INTEREST[0]):
            out.documents.append(row["SOPInstanceUID"])
            stamp = (keys[0].created, keys[0].document) if keys else ("", "")
            if newest_ours is None or stamp > newest_ours:
                newest_ours = stamp
                out.ours = [x for k in keys for x in expand(k)]
                out.note = keys[0].note if keys else ""
        else:
            for k in unique(keys):
                for key in expand(k):
                    out.foreign.append(key)
                    out.foreign_titles.setdefault(key, k.title)
    out.foreign = [k for k in dict.fromkeys(out.foreign)]
    return out


def save_study(archive: Any, study_instance_uid: str, keys: Sequence[Key], note: str = "", *,
               replace: Iterable[str] = (), observer: str = "") -> str | None:
    """Write ``keys`` (in that order) as our KOS of the study, then delete our earlier documents (``replace``
    and any other of ours the archive holds for the study). Returns the new document's SOPInstanceUID, or None
    when nothing was marked (ours deleted, none written). Raises ``ResultsError`` with one line."""
    from workstation.reading.results import save_key_images

    new_uid = None
    if keys:
        order: list[str] = list(dict.fromkeys(uid for uid, _ in keys))
        frames: dict[str, list[int]] = {}
        for uid, frame in keys:
            if frame:
                frames.setdefault(uid, []).append(frame)
        # An instance marked both whole and by frame is referenced whole.
        whole = {uid for uid, frame in keys if not frame}
        frames = {uid: sorted(set(f)) for uid, f in frames.items() if uid not in whole}
        new_uid = save_key_images(archive, order, note=note, frames=frames, observer=observer).sop_instance_uid
    old = set(replace)
    for row in archive.query("instance", {"StudyInstanceUID": study_instance_uid, "Modality": "KO"}):
        if row["SOPInstanceUID"] != new_uid and row.get("path") and is_ours(row["path"]):
            old.add(row["SOPInstanceUID"])
    for uid in sorted(old - {new_uid}):
        try:
            archive.delete("instance", uid)
        except Exception as exc:  # noqa: BLE001 - the new one is stored; an old one left is named in the log
            log.warning("key images: earlier document %s not deleted: %s", uid, exc)
    return new_uid


@dataclass
class KeyFrame:
    """One frame of the key-images stack: the file, its 0-based frame index, its SOPInstanceUID."""

    path: str
    frame: int
    sop_instance_uid: str


def key_frames(archive: Any, keys: Sequence[Key]) -> tuple[list[KeyFrame], list[Key]]:
    """The frames of ``keys`` in order (a whole multi-frame instance gives all its frames) and the keys whose image
    the archive does not hold."""
    from workstation.imaging.decode import frame_count, read_header

    frames: list[KeyFrame] = []
    missing: list[Key] = []
    paths: dict[str, str] = {}
    uids = list(dict.fromkeys(uid for uid, _ in keys))
    for start in range(0, len(uids), 200):
        for row in archive.query("instance", {"SOPInstanceUID": "\\".join(uids[start:start + 200])}):
            if row.get("path"):
                paths[row["SOPInstanceUID"]] = str(row["path"])
    counts: dict[str, int] = {}
    for uid, frame in keys:
        path = paths.get(uid)
        if path is None:
            missing.append((uid, frame))
            continue
        if uid not in counts:
            try:
                counts[uid] = frame_count(read_header(path))
            except Exception:  # noqa: BLE001 - unreadable: reported as missing
                counts[uid] = 0
        n = counts[uid]
        if n == 0 or frame > n:
            missing.append((uid, frame))
        elif frame:
            frames.append(KeyFrame(path, frame - 1, uid))
        else:
            frames.extend(KeyFrame(path, i, uid) for i in range(n))
    return frames, missing


def key_image_stacks(frames: Sequence[KeyFrame], *, executor: Any = None, memory_budget: Any = None,
                     description: str = "Key images") -> list[Any]:
    """The key frames as image stacks in their order: one stack, or - when the images differ in size or kind (a
    stack holds frames of one shape) - one stack per run of alike images, still in order."""
    from workstation.imaging.decode import read_header
    from workstation.imaging.geometry import frame_geometry
    from workstation.imaging.series import has_pixels
    from workstation.imaging.stack import FrameSource, Stack

    headers: dict[str, Any] = {}
    runs: list[tuple[tuple, list[tuple[Any, Any]]]] = []
    for kf in frames:
        ds = headers.get(kf.path)
        if ds is None:
            ds = headers[kf.path] = read_header(kf.path)
        if not has_pixels(ds):
            continue
        shape = (int(ds.Rows), int(ds.Columns), str(ds.get("PhotometricInterpretation", "")).strip(),
                 int(ds.get("SamplesPerPixel", 1) or 1), int(ds.get("BitsAllocated", 16) or 16),
                 int(ds.get("PixelRepresentation", 0) or 0))
        member = (FrameSource(kf.path, kf.frame, kf.sop_instance_uid), frame_geometry(ds, kf.frame))
        if runs and runs[-1][0] == shape:
            runs[-1][1].append(member)
        else:
            runs.append((shape, [member]))
    kwargs: dict[str, Any] = {"executor": executor}
    if memory_budget is not None:
        kwargs["memory_budget"] = memory_budget
    return [Stack([s for s, _ in run], headers, [g for _, g in run], description=description, **kwargs)
            for _, run in runs]
