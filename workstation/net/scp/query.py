"""Query/Retrieve SCP: C-FIND, C-MOVE and C-GET handlers over the archive.

Matching is the archive's (:mod:`workstation.archive.matching`): the identifier's keys with a value become
filters of ``archive.query``, and exactly the keys asked for come back (plus QueryRetrieveLevel, and
SpecificCharacterSet ``ISO_IR 192`` when a returned text is not ASCII). Retrieval reads each file only when its
C-STORE sub-operation is due.

C-FIND responses take a fast path (:mod:`workstation.net.scp.find_fast`); identifiers are parsed and built in
:mod:`workstation.net.scp.identifiers`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian
from pynetdicom import evt
from pynetdicom.presentation import build_context

from workstation.archive import QueryError
from workstation.config import Node, Settings
from workstation.net import guard
from workstation.net.guard import set_nodelay
from workstation.net.scp.find_fast import (
    FLUSH_BYTES, FLUSH_COUNT, FindResponder, IdentifierEncoder, encode_match, find_response_command,
    install_fast_find,
)
from workstation.net.scp.identifiers import (
    FIND_CLASSES, GET_CLASSES, MOVE_CLASSES, QR_CLASSES, UNIQUE_KEYS, build_response, failure, parse_identifier,
)
from workstation.net.transcode import FALLBACK, accepted_syntaxes, fit_for, stored_syntax

log = logging.getLogger("workstation.net.scp.server")

_PENDING = 0xFF00
_CANCEL = 0xFE00
_NO_MATCH_CLASS = 0xA900
_UNABLE = 0xC000


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
            yield failure(0x0124, "queries from this AE title are not allowed"), None
            return
        sop_class = str(event.request.AffectedSOPClassUID)
        try:
            identifier = event.identifier
            level, requested, filters = parse_identifier(identifier, sop_class)
        except ValueError as exc:
            log.info("C-FIND from %s refused: %s", assoc.requestor.ae_title, exc)
            yield failure(_NO_MATCH_CLASS, str(exc)), None
            return
        except Exception as exc:  # noqa: BLE001 - an identifier pydicom cannot decode
            yield failure(_UNABLE, f"cannot decode the identifier: {exc}"), None
            return
        level_text = str(identifier.QueryRetrieveLevel).strip().upper()
        try:
            rows = self.archive.query(level, filters)
        except QueryError as exc:
            log.info("C-FIND from %s failed: %s", assoc.requestor.ae_title, exc)
            yield failure(_UNABLE, str(exc)), None
            return
        log.info("C-FIND %s level from %s: %s -> %d matches", level_text, assoc.requestor.ae_title, filters,
                 len(rows))
        self.on_activity(assoc, "find", f"{level_text} {len(rows)} matches")
        if rows and FindResponder.usable(event):
            yield from self._find_direct(event, level_text, requested, rows)
            return
        for row in rows:
            if event.is_cancelled:
                log.info("C-FIND from %s cancelled", assoc.requestor.ae_title)
                yield _CANCEL, None
                return
            yield _PENDING, build_response(level_text, requested, row, self.settings.ae_title)

    def _find_direct(self, event: Any, level_text: str, requested: list[Any], rows: list[dict[str, Any]]
                     ) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        """Pending responses written by :class:`FindResponder`; yields only a Cancel or a failure."""
        assoc = event.assoc
        responder = FindResponder(event, level_text, requested, self.settings.ae_title)
        batch: list[bytes] = []
        size = 0
        for row in rows:
            if event.is_cancelled:
                log.info("C-FIND from %s cancelled", assoc.requestor.ae_title)
                yield _CANCEL, None
                return
            try:
                data = encode_match(responder, row)
            except Exception as exc:  # noqa: BLE001 - a value neither encoder can write
                log.warning("C-FIND from %s: cannot encode a response: %s", assoc.requestor.ae_title, exc)
                if batch and not responder.send(b"".join(batch)):
                    return
                yield 0xC312, None
                return
            batch.append(data)
            size += len(data)
            if size >= FLUSH_BYTES or len(batch) >= FLUSH_COUNT:
                if not responder.send(b"".join(batch)):
                    return
                batch, size = [], 0
        if batch:
            responder.send(b"".join(batch))

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
        contexts = move_contexts(rows)
        log.info("C-MOVE from %s to %s (%s:%d): %d instances", assoc.requestor.ae_title, dest_aet, node.host,
                 node.port, len(rows))
        self.on_activity(assoc, "move", f"{len(rows)} instances to {dest_aet}")
        sub: list[Any] = []  # the sub-association, once open: its accepted contexts decide each file's syntax

        def opened(sub_event: Any) -> None:
            _sub_association_open(sub_event)
            sub.append(sub_event.assoc)

        yield node.host, node.port, {
            "contexts": contexts or [build_context(ExplicitVRLittleEndian)],
            "max_pdu": self.settings.max_pdu,
            "evt_handlers": [(evt.EVT_CONN_OPEN, opened)],
        }
        yield len(rows)
        for row in rows:
            if event.is_cancelled:
                yield _CANCEL, None
                return
            yield _PENDING, fit_to_association(self._read(row), sub[0] if sub else None)

    def get(self, event: Any) -> Iterator[Any]:
        assoc = event.assoc
        if not self.allowed(assoc):
            yield 1
            yield failure(0x0124, "retrieval by this AE title is not allowed"), None
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
            yield _PENDING, fit_to_association(self._read(row), assoc, "scu")


def move_contexts(rows: list[dict[str, Any]]) -> list[Any]:
    """Presentation contexts for a C-MOVE sub-association: per SOP class, each stored syntax in a context of its
    own, and one context offering Explicit and Implicit VR Little Endian, so that a destination that refuses the
    stored syntax (compressed, big endian, or even explicit VR) still gets the instance, converted
    (:mod:`workstation.net.transcode`). pynetdicom caps a request at 128 contexts."""
    contexts: list[Any] = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        sop = row.get("SOPClassUID") or ""
        ts = row.get("TransferSyntaxUID") or ExplicitVRLittleEndian
        if not sop:
            continue
        wanted = [(sop, "")] if ts in FALLBACK else [(sop, ts), (sop, "")]
        for key in wanted:
            if key in seen or len(contexts) >= 128:
                continue
            seen.add(key)
            contexts.append(build_context(sop, [key[1]] if key[1] else list(FALLBACK)))
    return contexts


def fit_to_association(ds: Dataset, assoc: Any, role: str | None = None) -> Dataset:
    """``ds`` converted to a syntax accepted on ``assoc`` for its SOP class when its own is not (uncompressed
    syntaxes into each other, compressed ones by decoding); unchanged when nothing fits, and the sub-operation
    then fails with the reason logged."""
    sop = str(ds.get("SOPClassUID", "") or "")
    if assoc is None or not sop or stored_syntax(ds) is None:
        return ds
    try:
        accepted = accepted_syntaxes(assoc, sop, role)
    except Exception:  # noqa: BLE001 - an association object without the attribute: leave it to pynetdicom
        return ds
    if not accepted:
        return ds
    stored = str(stored_syntax(ds))
    ds, target = fit_for(ds, accepted)
    if target is not None and target != stored:
        log.info("sent %s as %s: the peer does not accept %s", ds.get("SOPInstanceUID", "?"), UID(target).name,
                 UID(stored).name)
    return ds


def _sub_association_open(event: Any) -> None:
    """EVT_CONN_OPEN of a C-MOVE sub-association: Nagle off, fast poll (same reasons as the client's)."""
    try:
        set_nodelay(event.assoc.dul.socket.socket)
    except AttributeError:
        pass
    if hasattr(event.assoc.dul, "_run_loop_delay"):
        # Read at each call, not imported: the app lengthens it (gui.common.tame_network_polling).
        event.assoc.dul._run_loop_delay = guard.FAST_POLL


__all__ = ["FIND_CLASSES", "GET_CLASSES", "MOVE_CLASSES", "QR_CLASSES", "FindResponder", "IdentifierEncoder",
           "QueryHandlers", "build_response", "find_response_command", "install_fast_find", "parse_identifier"]
