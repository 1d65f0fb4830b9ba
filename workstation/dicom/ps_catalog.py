"""Which presentation states apply to a series: the list a picker shows, newest first (no Qt).

Every PS of the study that references at least one image of the series is listed, ours and other systems', with
what it says about itself (label, description, creator, date) and how many of its references fall outside the
series (listed as such, never hidden). A PS file that cannot be read is listed too, with its one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from workstation.dicom.presentation_state import (
    NotAPresentationState,
    PresentationState,
    PSWarning,
    read_presentation_state,
)


@dataclass(frozen=True)
class StateEntry:
    """One presentation state as a picker lists it."""

    path: Path
    sop_instance_uid: str = ""
    label: str = ""
    description: str = ""
    creator: str = ""
    created: str = ""  # YYYYMMDDHHMMSS (PresentationCreationDate + Time)
    in_series: int = 0  # referenced images that are in the series
    outside: int = 0  # referenced images that are not
    warnings: tuple[PSWarning, ...] = ()
    error: str = ""  # unreadable: why (then the other fields are empty)
    state: PresentationState | None = field(default=None, compare=False, repr=False)

    def applies_to(self, sop_instance_uid: str, frame: int = 1) -> bool:
        return self.state is not None and self.state.references(sop_instance_uid, frame)


def catalog(paths: Iterable[str | Path], series_image_uids: Iterable[str]) -> list[StateEntry]:
    """The presentation states among ``paths`` that reference an image of the series, newest first.

    ``series_image_uids``: the SOPInstanceUIDs of the series' images. Unreadable files are listed last, with
    ``error`` set; PS referencing nothing of the series are left out (they belong to another series).
    """
    images = set(series_image_uids)
    found: list[StateEntry] = []
    broken: list[StateEntry] = []
    for p in paths:
        path = Path(p)
        try:
            ps = read_presentation_state(path)
        except NotAPresentationState as exc:
            broken.append(StateEntry(path, error=str(exc)))
            continue
        refs = {r.sop_instance_uid for r in ps.images()}
        inside = len(refs & images)
        if not inside:
            continue
        found.append(StateEntry(path, ps.sop_instance_uid, ps.content_label, ps.content_description, ps.creator,
                                ps.created, inside, len(refs - images), tuple(ps.warnings), "", ps))
    found.sort(key=lambda e: (e.created, e.sop_instance_uid), reverse=True)
    return found + broken


def newest_for(entries: list[StateEntry], sop_instance_uid: str, frame: int = 1) -> StateEntry | None:
    """The newest readable entry of :func:`catalog` that references this image (what opening a series applies)."""
    return next((e for e in entries if e.applies_to(sop_instance_uid, frame)), None)


def archive_catalog(archive: Any, study_instance_uid: str, series_image_uids: Iterable[str]) -> list[StateEntry]:
    """:func:`catalog` over the PR instances ``archive`` (a :class:`workstation.archive.Archive`) holds for a study."""
    rows = archive.query("instance", {"StudyInstanceUID": study_instance_uid, "Modality": "PR"})
    return catalog([row["path"] for row in rows if row.get("path")], series_image_uids)
