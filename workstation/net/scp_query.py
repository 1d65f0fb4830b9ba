"""Query/Retrieve SCP: C-FIND, C-MOVE and C-GET handlers over the archive.

Matching is the archive's (:mod:`workstation.archive.matching`): the identifier's keys with a value become
filters of ``archive.query``, and exactly the keys asked for come back (plus QueryRetrieveLevel, and
SpecificCharacterSet ``ISO_IR 192`` when a returned text is not ASCII). Retrieval reads each file only when its
C-STORE sub-operation is due.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

import pydicom
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import evt
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from workstation.archive import QueryError
from workstation.archive.matching import ATTRIBUTES
from workstation.config import Node, Settings
from workstation.net.guard import FAST_POLL, set_nodelay

log = logging.getLogger("workstation.net.server")

FIND_CLASSES = [PatientRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelFind]
MOVE_CLASSES = [PatientRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelMove]
GET_CLASSES = [PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet]
QR_CLASSES = FIND_CLASSES + MOVE_CLASSES + GET_CLASSES
STUDY_ROOT = {StudyRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelMove,
              StudyRootQueryRetrieveInformationModelGet}

LEVELS = {"PATIENT": "patient", "STUDY": "study", "SERIES": "series", "IMAGE": "instance"}
UNIQUE_KEYS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_SKIP = {"QueryRetrieveLevel", "SpecificCharacterSet"}
_PENDING = 0xFF00
_CANCEL = 0xFE00
_NO_MATCH_CLASS = 0xA900
_UNABLE = 0xC000


def _failure(status: int, comment: str) -> Dataset:
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


def _response_value(keyword: str, row: dict[str, Any], local_aet: str) -> Any:
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
        value = _response_value(elem.keyword, row, local_aet) if elem.keyword else None
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


class QueryHandlers:
    """The EVT_C_FIND, EVT_C_MOVE and EVT_C_GET handlers of one server."""

    def __init__(self, settings: Settings, archive: Any, allowed: Callable[[Any], bool],
                 on_activity: Callable[..., None]):
        self.settings = settings
        self.archive = archive
        self.allowed = allowed
        self.on_activity = on_activity

    # --- C-FIND ------------------------------------------------------------------------------------------------
    def find(self, event: Any) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        assoc = event.assoc
        if not self.allowed(assoc):
            yield _failure(0x0124, "queries from this AE title are not allowed"), None
            return
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = event.identifier
            level, requested, filters = parse_identifier(identifier, sop_class)
        except ValueError as exc:
            log.info("C-FIND from %s refused: %s", assoc.requestor.ae_title, exc)
            yield _failure(_NO_MATCH_CLASS, str(exc)), None
            return
        except Exception as exc:  # noqa: BLE001 - an identifier pydicom cannot decode
            yield _failure(_UNABLE, f"cannot decode the identifier: {exc}"), None
            return
        level_text = str(identifier.QueryRetrieveLevel).strip().upper()
        try:
            rows = self.archive.query(level, filters)
        except QueryError as exc:
            log.info("C-FIND from %s failed: %s", assoc.requestor.ae_title, exc)
            yield _failure(_UNABLE, str(exc)), None
            return
        log.info("C-FIND %s level from %s: %s -> %d matches", level_text, assoc.requestor.ae_title, filters,
                 len(rows))
        self.on_activity(assoc, "find", f"{level_text} {len(rows)} matches")
        for row in rows:
            if event.is_cancelled:
                log.info("C-FIND from %s cancelled", assoc.requestor.ae_title)
                yield _CANCEL, None
                return
            yield _PENDING, build_response(level_text, requested, row, self.settings.ae_title)

    # --- retrieval -----------------------------------------------------------------------------------------------
    def _matches(self, event: Any) -> list[dict[str, Any]]:
        identifier = event.identifier
        level, _, filters = parse_identifier(identifier, str(event.request.AffectedSOPClassUID))
        unique = {k: v for k, v in filters.items() if k in UNIQUE_KEYS}
        if not unique:
            log.warning("retrieve from %s without a unique key: nothing matches", event.assoc.requestor.ae_title)
            return []
        return self.archive.query("instance", unique)

    def _read(self, row: dict[str, Any]) -> Dataset:
        try:
            return pydicom.dcmread(row["path"])
        except Exception as exc:  # noqa: BLE001 - a file gone or broken: counted as a failed sub-operation
            log.warning("cannot read %s for retrieval: %s", row.get("path"), exc)
            ds = Dataset()
            ds.SOPInstanceUID = row.get("SOPInstanceUID", "")
            return ds

    def destination(self, aet: str) -> Node | None:
        for node in self.settings.nodes:
            if node.ae_title == aet.strip():
                return node
        return None

    def move(self, event: Any) -> Iterator[Any]:
        assoc = event.assoc
        dest_aet = event.move_destination
        if isinstance(dest_aet, bytes):
            dest_aet = dest_aet.decode("ascii", "replace")
        dest_aet = str(dest_aet).strip()
        node = self.destination(dest_aet)
        if node is None or not self.allowed(assoc):
            log.warning("C-MOVE from %s to unknown destination %r refused (A801): add it with "
                        "`workstation nodes add`", assoc.requestor.ae_title, dest_aet)
            self.on_activity(assoc, "move", f"unknown destination {dest_aet}")
            yield None, None
            return
        try:
            rows = self._matches(event)
        except (ValueError, QueryError) as exc:
            log.info("C-MOVE from %s: bad identifier: %s", assoc.requestor.ae_title, exc)
            rows = []
        contexts = []
        seen: set[tuple[str, str]] = set()
        for row in rows:
            key = (row.get("SOPClassUID") or "", row.get("TransferSyntaxUID") or ExplicitVRLittleEndian)
            if key[0] and key not in seen and len(contexts) < 128:
                seen.add(key)
                syntaxes = [key[1]] if key[1] not in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) else [
                    ExplicitVRLittleEndian, ImplicitVRLittleEndian]
                contexts.append(build_context(key[0], syntaxes))
        log.info("C-MOVE from %s to %s (%s:%d): %d instances", assoc.requestor.ae_title, dest_aet, node.host,
                 node.port, len(rows))
        self.on_activity(assoc, "move", f"{len(rows)} instances to {dest_aet}")
        yield node.host, node.port, {
            "contexts": contexts or [build_context(ExplicitVRLittleEndian)],
            "max_pdu": self.settings.max_pdu,
            "evt_handlers": [(evt.EVT_CONN_OPEN, _sub_association_open)],
        }
        yield len(rows)
        for row in rows:
            if event.is_cancelled:
                yield _CANCEL, None
                return
            yield _PENDING, self._read(row)

    def get(self, event: Any) -> Iterator[Any]:
        assoc = event.assoc
        if not self.allowed(assoc):
            yield 1
            yield _failure(0x0124, "retrieval by this AE title is not allowed"), None
            return
        try:
            rows = self._matches(event)
        except (ValueError, QueryError) as exc:
            log.info("C-GET from %s: bad identifier: %s", assoc.requestor.ae_title, exc)
            rows = []
        log.info("C-GET from %s: %d instances", assoc.requestor.ae_title, len(rows))
        self.on_activity(assoc, "get", f"{len(rows)} instances")
        yield len(rows)
        for row in rows:
            if event.is_cancelled:
                yield _CANCEL, None
                return
            yield _PENDING, self._read(row)


def _sub_association_open(event: Any) -> None:
    """EVT_CONN_OPEN of a C-MOVE sub-association: Nagle off, fast poll (same reasons as the client's)."""
    try:
        set_nodelay(event.assoc.dul.socket.socket)
    except AttributeError:
        pass
    if hasattr(event.assoc.dul, "_run_loop_delay"):
        event.assoc.dul._run_loop_delay = FAST_POLL


__all__ = ["FIND_CLASSES", "GET_CLASSES", "MOVE_CLASSES", "QR_CLASSES", "QueryHandlers", "build_response",
           "parse_identifier"]
