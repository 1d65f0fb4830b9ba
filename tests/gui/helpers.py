"""Helpers for the app's GUI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from tests.data import test_file

# Small, valid, varied pydicom test files (CT, MR, US color, RLE, JPEG).
SAMPLE_FILES = ["CT_small.dcm", "MR_small.dcm", "US1_J2KR.dcm", "SC_rgb.dcm", "MR_small_RLE.dcm",
                "JPEG2000.dcm", "rtplan.dcm"]


def sample_folder(folder: Path, names=SAMPLE_FILES, junk: bool = True) -> Path:
    """Copy named test files into ``folder`` (plus one file that is not DICOM when ``junk``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        try:
            shutil.copy(test_file(name), folder / name)
        except FileNotFoundError:
            continue
    if junk:
        (folder / "notes.txt").write_text("not a DICOM file\n")
    return folder


def drop_paths(widget: QtWidgets.QWidget, paths) -> None:
    """Deliver a real drag-enter + drop of local files onto ``widget``."""
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    enter = QtGui.QDragEnterEvent(pos.toPoint(), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                                  QtCore.Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton, QtCore.Qt.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def index_study(archive, *, name="Doe^Jane", patient_id="P1", date="20240102", modality="CT", description="Chest",
                accession="A1", series=1, instances=2, uid_prefix=None):
    """Index a study directly (rows only, no files): fast fixtures for the browser."""
    from pydicom.uid import generate_uid

    from workstation.archive import InstanceRecord

    study = generate_uid(prefix=uid_prefix)
    records = []
    for s in range(series):
        series_uid = generate_uid()
        for i in range(instances):
            records.append(InstanceRecord({
                "PatientName": name, "PatientID": patient_id, "PatientBirthDate": "19700101", "PatientSex": "F",
                "StudyInstanceUID": study, "StudyDate": date, "StudyTime": "120000",
                "StudyDescription": description, "AccessionNumber": accession, "StudyID": "1",
                "SeriesInstanceUID": series_uid, "SeriesNumber": s + 1, "SeriesDescription": f"S{s + 1}",
                "Modality": modality, "SOPInstanceUID": generate_uid(), "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2",
                "InstanceNumber": i + 1, "TransferSyntaxUID": "1.2.840.10008.1.2.1", "Rows": 64, "Columns": 64,
            }, 1000))
    archive.add_records(records)
    return study
