"""The reader's results as archive instances: presentation states, key images, measurement reports (no Qt).

What the viewer calls (in a worker) and the CLI's ``report`` command uses:

- :func:`save_presentation_state` - marks + display state of a series -> GSPS stored in the archive (a new PR
  series of the study, indexed like any instance, so it travels with the study);
- :func:`save_key_images` - the study's key images -> KOS ("Of Interest") stored in the archive;
- :func:`study_marks` - the marks of the newest of our presentation states per series of a study;
- :func:`write_report` - the study's measurement report (SR TID 1500), from its presentation states or from a
  ``measurements.json``, optionally stored;
- :func:`migrate_measurements` - a ``measurements.json`` (the viewer's MeasurementStore file) -> one GSPS per
  series; the file is left in place (the caller retires it), what was migrated and what was not is returned.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pydicom
from pydicom.dataset import Dataset

from workstation.dicom.presentation_state import NotAPresentationState, PSWarning, read_presentation_state
from workstation.dicom.ps_writer import DisplayState, Mark, Written, build_presentation_state, encode, marks_from_state

log = logging.getLogger(__name__)


class ResultsError(ValueError):
    """A one-line reason why results cannot be written (unknown study, no image, ...)."""


@dataclass
class Saved:
    """One instance written into the archive: its SOPInstanceUID and path, and what was left out (named)."""

    sop_instance_uid: str
    path: Path
    marks: list[Mark] = field(default_factory=list)
    warnings: list[PSWarning] = field(default_factory=list)


@dataclass
class Migration:
    """What :func:`migrate_measurements` did: the presentation states written, the marks in them, the items left
    out with why. The JSON file itself is untouched."""

    saved: list[Saved] = field(default_factory=list)
    skipped: list[PSWarning] = field(default_factory=list)
    already: bool = False  # this content was migrated before (nothing done)

    @property
    def migrated(self) -> list[Mark]:
        return [m for s in self.saved for m in s.marks]


def image_headers(archive: Any, sop_instance_uids: Iterable[str]) -> dict[str, tuple[Dataset, str]]:
    """SOPInstanceUID -> (header without pixels, path) for the instances the archive holds."""
    out: dict[str, tuple[Dataset, str]] = {}
    for uid in dict.fromkeys(sop_instance_uids):
        rows = archive.query("instance", {"SOPInstanceUID": uid})
        if rows and rows[0].get("path"):
            path = rows[0]["path"]
            try:
                out[uid] = (pydicom.dcmread(path, stop_before_pixels=True), path)
            except Exception as exc:  # noqa: BLE001 - a damaged file is reported by its caller as missing
                log.warning("results: %s unreadable: %s", path, exc)
    return out


def _store(archive: Any, ds: Dataset, source: str) -> tuple[str, Path]:
    outcome = archive.store_bytes(encode(ds), source=source)
    return outcome.sop_instance_uid, Path(outcome.path)


def save_presentation_state(archive: Any, marks: list[Mark], display: DisplayState | None = None, *,
                            images: Iterable[str] = (), creator: str = "", label: str = "MEASUREMENTS",
                            description: str = "measurements and annotations") -> Saved:
    """Write the marks (and display state) as one GSPS referencing ``images`` (SOPInstanceUIDs; defaults to the
    marks' images) and store it. Raises :class:`ResultsError` when none of the images is in the archive."""
    uids = list(dict.fromkeys([*images, *(m.sop_instance_uid for m in marks)]))
    headers = image_headers(archive, uids)
    if not headers:
        raise ResultsError("none of the images of these measurements is in the archive")
    missing = [PSWarning("mark.image", f"{m.kind} on {m.sop_instance_uid}: image not in the archive; left out")
               for m in marks if m.sop_instance_uid not in headers]
    studies = {str(h.StudyInstanceUID) for h, _ in headers.values()}
    if len(studies) > 1:
        raise ResultsError(f"the images belong to {len(studies)} studies; a presentation state covers one")
    try:
        written: Written = build_presentation_state([h for h, _ in headers.values()],
                                                    [m for m in marks if m.sop_instance_uid in headers], display,
                                                    label=label, description=description, creator=creator)
    except ValueError as exc:  # highdicom's checks (mixed colour/grayscale, ...) worded as one line
        raise ResultsError(f"presentation state not written: {exc}") from None
    uid, path = _store(archive, written.dataset, "presentation state")
    return Saved(uid, path, written.marks, missing + written.warnings)


def save_key_images(archive: Any, sop_instance_uids: list[str], *, note: str = "", observer: str = "",
                    frames: dict[str, list[int]] | None = None) -> Saved:
    """Write the key images as a KOS ("Of Interest") and store it."""
    from workstation.dicom.key_objects import build_key_object_selection

    headers = image_headers(archive, sop_instance_uids)
    if not headers:
        raise ResultsError("none of the key images is in the archive")
    ds = build_key_object_selection([h for h, _ in headers.values()], note=note, frames=frames, observer=observer)
    uid, path = _store(archive, ds, "key object selection")
    missing = [PSWarning("key.image", f"key image {u} is not in the archive; left out")
               for u in sop_instance_uids if u not in headers]
    return Saved(uid, path, warnings=missing)


def study_marks(archive: Any, study_instance_uid: str) -> tuple[list[Mark], list[PSWarning]]:
    """The marks of the study: for each series, those of the newest presentation state of ours referencing it
    (saving again supersedes the older state)."""
    rows = archive.query("instance", {"StudyInstanceUID": study_instance_uid, "Modality": "PR"})
    newest: dict[str, tuple[str, list[Mark]]] = {}
    warnings: list[PSWarning] = []
    for row in rows:
        try:
            ps = read_presentation_state(row["path"])
        except NotAPresentationState as exc:
            warnings.append(PSWarning("ps.unreadable", str(exc)))
            continue
        marks, _ = marks_from_state(ps)
        if not marks or not ps.series:
            continue
        series = ps.series[0].series_instance_uid
        if series not in newest or (ps.created, ps.sop_instance_uid) > newest[series][0]:
            newest[series] = ((ps.created, ps.sop_instance_uid), marks)  # type: ignore[assignment]
    return [m for _, marks in newest.values() for m in marks], warnings


def load_measurements_json(path: str | Path) -> tuple[list[Mark], list[PSWarning]]:
    """The marks of a MeasurementStore file ({"version": 1, "measurements": [{"key": [SOPInstanceUID, frame],
    "kind", "points", "text"?}]}); items that are not readable are named, never raised."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        items = data.get("measurements", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise ResultsError(f"{Path(path).name}: not readable as measurements ({exc})") from None
    marks, skipped = [], []
    for i, item in enumerate(items, start=1):
        try:
            key = item["key"]
            uid, frame = (str(key[0]), int(key[1])) if isinstance(key, list) else (str(key), 0)
            points = [(float(x), float(y)) for x, y in item["points"]]
            marks.append(Mark(str(item["kind"]), points, uid, frame, str(item.get("text", ""))))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            skipped.append(PSWarning("json.item", f"measurement {i}: unreadable ({type(exc).__name__}); left out"))
    return marks, skipped


def migration_marker(path: str | Path) -> Path:
    """Beside ``measurements.json``: ``measurements.json.migrated`` records which content was migrated."""
    path = Path(path)
    return path.with_name(path.name + ".migrated")


def migrate_measurements(path: str | Path, archive: Any, *, creator: str = "", once: bool = True) -> Migration:
    """Turn a ``measurements.json`` into presentation states in the archive: one per series, the measurement
    values written as text (computed from the image as the report computes them). Items whose image is not in
    the archive, or whose points are unusable, are named in ``skipped``. The file is not deleted.

    With ``once`` (the default) the content is migrated once: a marker beside the file holds its SHA-256 and the
    presentation states written, and the same content is not migrated again (safe to call at every start);
    ``already`` is then True. Changed content (measurements added since) is migrated again."""
    import hashlib

    from workstation.dicom.reports import label as value_label, measure

    result = Migration()
    marker = migration_marker(path)
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise ResultsError(f"{Path(path).name}: not readable ({exc.strerror or exc})") from None
    if once and marker.exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")).get("sha256") == digest:
                result.already = True
                return result
        except (OSError, ValueError, AttributeError):
            pass  # a damaged marker: migrate again (the new states supersede nothing; they are newer)
    marks, result.skipped = load_measurements_json(path)
    headers = image_headers(archive, [m.sop_instance_uid for m in marks])
    by_series: dict[str, list[Mark]] = defaultdict(list)
    for m in marks:
        if m.sop_instance_uid not in headers:
            result.skipped.append(PSWarning("mark.image", f"{m.kind} on {m.sop_instance_uid}: image not in the "
                                            "archive; left out"))
            continue
        header, img_path = headers[m.sop_instance_uid]
        if m.kind != "text" and not m.text:
            try:
                m.text = value_label(m, measure(m, pydicom.dcmread(img_path)))
            except Exception as exc:  # noqa: BLE001 - a value that cannot be computed: the shape still migrates
                log.info("migration: no value for %s on %s: %s", m.kind, m.sop_instance_uid, exc)
        by_series[str(header.SeriesInstanceUID)].append(m)
    for series_marks in by_series.values():
        try:
            saved = save_presentation_state(archive, series_marks, creator=creator,
                                            description="migrated from measurements.json")
        except ResultsError as exc:
            result.skipped.append(PSWarning("migration.series", str(exc)))
            continue
        result.saved.append(saved)
        result.skipped.extend(saved.warnings)
    if once:
        try:
            marker.write_text(json.dumps({"sha256": digest, "presentation_states": [
                s.sop_instance_uid for s in result.saved]}), encoding="utf-8")
        except OSError as exc:
            log.warning("migration marker %s not written: %s", marker, exc)
    return result


def write_report(archive: Any, study_instance_uid: str, *, measurements_json: str | Path | None = None,
                 observer: str = "", store: bool = False) -> tuple[Any, Saved | None]:
    """The study's measurement report (:class:`workstation.dicom.reports.Report`), from its presentation states
    (or from ``measurements_json``, its marks on this study), and, with ``store``, the stored instance."""
    from workstation.dicom.reports import build_measurement_report

    if not archive.query("study", {"StudyInstanceUID": study_instance_uid}):
        raise ResultsError(f"study {study_instance_uid} is not in the archive")
    if measurements_json is not None:
        marks, warnings = load_measurements_json(measurements_json)
    else:
        marks, warnings = study_marks(archive, study_instance_uid)
    headers = image_headers(archive, [m.sop_instance_uid for m in marks])
    marks = [m for m in marks if m.sop_instance_uid in headers
             and str(headers[m.sop_instance_uid][0].StudyInstanceUID) == study_instance_uid]
    if not marks:
        raise ResultsError(f"study {study_instance_uid} has no measurements "
                           + ("in that file" if measurements_json is not None else "in its presentation states"))
    images = {uid: pydicom.dcmread(path) for uid, (_, path) in headers.items()
              if uid in {m.sop_instance_uid for m in marks}}
    report = build_measurement_report(marks, images, observer=observer)
    report.warnings[:0] = warnings
    if report.dataset is None:
        raise ResultsError("no measurement of the study could be reported: "
                           + "; ".join(w.message for w in report.warnings[:3]))
    saved = None
    if store:
        uid, path = _store(archive, report.dataset, "measurement report")
        saved = Saved(uid, path, report.reported, report.warnings)
    return report, saved
