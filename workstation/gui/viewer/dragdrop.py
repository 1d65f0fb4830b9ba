"""The drag payload of a series thumbnail dropped on a viewport."""

from __future__ import annotations

from PySide6 import QtCore

SERIES_MIME = "application/x-workstation-series-index"


def encode_series(index: int) -> QtCore.QMimeData:
    """The mime data of a drag of series ``index`` of the source window's list."""
    mime = QtCore.QMimeData()
    mime.setData(SERIES_MIME, QtCore.QByteArray(str(index).encode()))
    return mime


def decode_series(mime: QtCore.QMimeData):
    """The series a drop carries, or None when the data is not a series drag."""
    if not mime.hasFormat(SERIES_MIME):
        return None
    return int(bytes(mime.data(SERIES_MIME)).decode())
