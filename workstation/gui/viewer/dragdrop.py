"""The drag payload of a series thumbnail dropped on a viewport: which series, not where it sat in a list.

A drag carried the series' index in the source window's list and the target looked that index up in its own
list: dropped on another window it showed another series, silently. The payload now names the series (Study and
Series Instance UID, plus the first SOPInstanceUID of the stack, since one series may give several stacks, e.g. a
localizer and its axials) and the window it came from, under a mime type of our own. The target resolves it in
its own list, or opens it from the source window's entry (a comparison), and otherwise shows nothing new.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from PySide6 import QtCore

SERIES_MIME = "application/x-workstation-series+json"


@dataclass(frozen=True)
class SeriesPayload:
    """What a series drag carries. ``key`` identifies one entry (:meth:`SeriesEntry.key`); ``window`` is the
    source window's token (:func:`window_token`), to find the entry when the target does not hold it."""

    study_uid: str
    series_uid: str
    key: tuple
    window: str = ""


def encode_series(payload: SeriesPayload) -> QtCore.QMimeData:
    """The mime data of a drag of one series."""
    mime = QtCore.QMimeData()
    data = asdict(payload)
    data["key"] = list(payload.key)
    mime.setData(SERIES_MIME, QtCore.QByteArray(json.dumps(data).encode()))
    return mime


def decode_series(mime: QtCore.QMimeData) -> SeriesPayload | None:
    """The series a drop carries, or None when the data is not (a readable) series drag of ours."""
    if not mime.hasFormat(SERIES_MIME):
        return None
    try:
        data = json.loads(bytes(mime.data(SERIES_MIME)).decode())
        return SeriesPayload(str(data["study_uid"]), str(data["series_uid"]), tuple(data["key"]),
                             str(data.get("window", "")))
    except (ValueError, KeyError, TypeError):
        return None


def window_token(window) -> str:
    """A token naming a live window for the lifetime of the process (its id and its creation counter)."""
    return f"{id(window):x}-{getattr(window, 'serial', 0)}"
