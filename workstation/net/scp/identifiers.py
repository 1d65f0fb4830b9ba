"""C-FIND, C-MOVE and C-GET identifiers: a request's parsed into the archive's level, requested keys and filters,
a match's response built from an index row (the Query/Retrieve SCP, :mod:`workstation.net.scp.query`)."""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from workstation.archive.matching import ATTRIBUTES

FIND_CLASSES = [PatientRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelFind]
MOVE_CLASSES = [PatientRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelMove]
GET_CLASSES = [PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet]
QR_CLASSES = FIND_CLASSES + MOVE_CLASSES + GET_CLASSES
STUDY_ROOT = {StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelMove,
              StudyRootQueryRetrieveInformationModelGet}
LEVELS = {"PATIENT": "patient", "STUDY": "study", "SERIES": "series", "IMAGE": "instance"}
UNIQUE_KEYS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_SKIP = {"QueryRetrieveLevel", "SpecificCharacterSet"}


def failure(status: int, comment: str) -> Dataset:
    ds = Dataset()
    ds.Status = status
    ds.ErrorComment = comment.replace("\\", "/")[:64]
    return ds


def _text(elem: Any) -> str | None:
    """A matching key's value as text for the archive's matching, or None for universal matching."""
    value = elem.value
    if value is None or value == "" or elem.VR == "SQ":
        return None
    if isinstance(value, (MultiValue, list, tuple)):
        parts = [str(v) for v in value]
        return "\\".join(parts) if any(parts) else None
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def parse_identifier(identifier: Dataset, sop_class: str) -> tuple[str, list[Any], dict[str, str]]:
    """(archive level, requested elements, filters) of a C-FIND/C-MOVE/C-GET identifier.

    Raises ValueError with a reason when the identifier does not fit the information model.
    """
    level_text = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    if level_text not in LEVELS:
        raise ValueError(f"QueryRetrieveLevel {level_text!r} is not PATIENT, STUDY, SERIES or IMAGE")
    if level_text == "PATIENT" and sop_class in STUDY_ROOT:
        raise ValueError("the Study Root model has no PATIENT level")
    requested = []
    filters: dict[str, str] = {}
    for elem in identifier:
        if elem.tag.group in (0x0000, 0x0002) or elem.keyword in _SKIP:
            continue
        requested.append(elem)
        if elem.keyword in ATTRIBUTES:
            value = _text(elem)
            if value is not None:
                filters[elem.keyword] = value
    return LEVELS[level_text], requested, filters


def response_value(keyword: str, row: dict[str, Any], local_aet: str) -> Any:
    if keyword == "RetrieveAETitle":
        return local_aet
    if keyword == "InstanceAvailability":
        return "ONLINE"
    if keyword == "NumberOfStudyRelatedInstances" and keyword not in row:
        return row.get("NumberOfInstances")
    value = row.get(keyword)
    if isinstance(value, list):
        return value or None
    return value


def build_response(level_text: str, requested: list[Any], row: dict[str, Any], local_aet: str) -> Dataset:
    """The pending response identifier for one match: the requested keys only, filled from the row."""
    rsp = Dataset()
    non_ascii = False
    values: list[tuple[Any, Any]] = []
    for elem in requested:
        value = response_value(elem.keyword, row, local_aet) if elem.keyword else None
        if isinstance(value, str) and not value.isascii():
            non_ascii = True
        elif isinstance(value, list) and any(isinstance(v, str) and not v.isascii() for v in value):
            non_ascii = True
        values.append((elem, value))
    if non_ascii:
        rsp.SpecificCharacterSet = "ISO_IR 192"
    rsp.QueryRetrieveLevel = level_text
    for elem, value in values:
        if elem.VR == "SQ":
            rsp.add_new(elem.tag, "SQ", [])
            continue
        if value is None:
            rsp.add_new(elem.tag, elem.VR, None)
            continue
        if elem.VR in ("IS", "US", "UL", "SS", "SL") and not isinstance(value, list):
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = None
        try:
            rsp.add_new(elem.tag, elem.VR, value)
        except (TypeError, ValueError):
            rsp.add_new(elem.tag, elem.VR, None)
    return rsp
