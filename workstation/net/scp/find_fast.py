"""The C-FIND fast path of the Query/Retrieve SCP (:mod:`workstation.net.scp.query`).

Each match's identifier is encoded by hand from a per-query plan of the requested elements (pynetdicom would build
a pydicom Dataset and encode it element by element through pydicom's writer, ~0.5 ms a match), the C-FIND-RSP
command set is encoded once per query, and the pending responses are written to the socket in batches of whole
P-DATA-TF PDUs from the association's thread (no trip per message through the DUL thread's queue, state machine
and poll loop). With :func:`install_fast_find` (the server installs it on every association) the statuses the
handler yields and the final response are written the same way. C-CANCEL is checked before every match.
"""

from __future__ import annotations

import logging
import struct
import types
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import evt
from pynetdicom.dsutils import encode as encode_dataset

from workstation.net.dimse_bytes import command_element, handler_status, pdata_pdus
from workstation.net.scp.identifiers import FIND_CLASSES, build_response, response_value

log = logging.getLogger("workstation.net.scp.server")

_PENDING = 0xFF00
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
                       "UR", "UT"})
_INT_VRS = {"US": "<H", "UL": "<I", "SS": "<h", "SL": "<i"}
# Explicit VR: these VRs have a reserved field and a 32-bit length (PS3.5 7.1.2).
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
_QRL_TAG = 0x00080052
_CHARSET_TAG = 0x00080005
FLUSH_BYTES = 32 * 1024  # pending responses written per socket send (at most)
FLUSH_COUNT = 32


class _Unencodable(Exception):
    """A value the hand encoder does not handle: this match goes through pydicom instead."""


def _element_header(tag: int, vr: str, implicit: bool) -> tuple[bytes, str]:
    """(constant prefix, struct format of the length) of an element in the identifier's transfer syntax."""
    tag_bytes = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return tag_bytes, "<I"
    if vr in _LONG_VRS:
        return tag_bytes + vr.encode("ascii") + b"\0\0", "<I"
    return tag_bytes + vr.encode("ascii"), "<H"


class IdentifierEncoder:
    """Encodes the C-FIND response identifier of a row, as :func:`build_response` + pydicom would, by hand.

    Little Endian only (Implicit or Explicit VR); the plan (element headers in tag order) is built once per query.
    :meth:`encode` raises :class:`_Unencodable` for a value outside the simple cases (text VRs, US/UL/SS/SL, empty
    sequences, empty elements of any VR); the caller then falls back to pydicom for that match.
    """

    def __init__(self, level_text: str, requested: list[Any], local_aet: str, implicit: bool):
        self.local_aet = local_aet
        self.implicit = implicit
        entries: dict[int, tuple[str, str]] = {_QRL_TAG: ("", "CS")}
        for elem in requested:
            entries[int(elem.tag)] = (elem.keyword or "", str(elem.VR))
        self.qrl_value = self._pad(level_text.encode("ascii"), "CS")
        self.plan: list[tuple[int, str, str, bytes, str]] = []
        for tag in sorted(entries):
            keyword, vr = entries[tag]
            if " or " in vr or (not implicit and len(vr) != 2):
                raise _Unencodable(f"ambiguous VR {vr} of {tag:08X}")
            prefix, length_format = _element_header(tag, vr, implicit)
            self.plan.append((tag, keyword, vr, prefix, length_format))
        self.charset_element = self._element(_CHARSET_TAG, "CS", self._pad(b"ISO_IR 192", "CS"))

    def _element(self, tag: int, vr: str, value: bytes) -> bytes:
        prefix, length_format = _element_header(tag, vr, self.implicit)
        return prefix + struct.pack(length_format, len(value)) + value

    @staticmethod
    def _pad(value: bytes, vr: str) -> bytes:
        if len(value) % 2:
            return value + (b"\0" if vr == "UI" else b" ")
        return value

    def encode(self, row: dict[str, Any]) -> bytes:
        parts: list[bytes] = []
        non_ascii = False
        charset_at = 0
        for tag, keyword, vr, prefix, length_format in self.plan:
            if tag < _CHARSET_TAG:
                charset_at = len(parts) + 1
            if tag == _QRL_TAG:
                parts.append(prefix + struct.pack(length_format, len(self.qrl_value)) + self.qrl_value)
                continue
            value = response_value(keyword, row, self.local_aet) if keyword else None
            if value is None or vr == "SQ":
                parts.append(prefix + struct.pack(length_format, 0))
                continue
            if vr in _INT_VRS or vr == "IS":
                if isinstance(value, list):
                    if vr == "IS":
                        raise _Unencodable("multi-valued IS")
                    try:
                        data = b"".join(struct.pack(_INT_VRS[vr], int(v)) for v in value)
                    except (TypeError, ValueError, struct.error) as exc:
                        raise _Unencodable(str(exc)) from None
                else:
                    try:
                        number = int(value)
                    except (TypeError, ValueError):
                        parts.append(prefix + struct.pack(length_format, 0))
                        continue
                    try:
                        data = (self._pad(str(number).encode("ascii"), vr) if vr == "IS"
                                else struct.pack(_INT_VRS[vr], number))
                    except struct.error as exc:
                        raise _Unencodable(str(exc)) from None
            elif vr in _TEXT_VRS:
                if isinstance(value, list):
                    text = "\\".join(str(v) for v in value)
                elif isinstance(value, (str, int)) and not isinstance(value, bool):
                    text = str(value)
                else:
                    raise _Unencodable(f"{type(value).__name__} value for {vr}")
                if text.isascii():
                    data = text.encode("ascii")
                else:
                    non_ascii = True
                    data = text.encode("utf-8")
                data = self._pad(data, vr)
            else:
                raise _Unencodable(f"a value of VR {vr}")
            parts.append(prefix + struct.pack(length_format, len(data)) + data)
        if non_ascii:
            parts.insert(charset_at, self.charset_element)
        return b"".join(parts)


def find_response_command(sop_class_uid: str, msg_id: int, status: int, with_identifier: bool,
                          comment: str = "") -> bytes:
    """The C-FIND-RSP command set (Implicit VR Little Endian), as pynetdicom encodes it."""
    body = (command_element(0x0002, str(sop_class_uid).encode("ascii"))
            + command_element(0x0100, struct.pack("<H", 0x8020))
            + command_element(0x0120, struct.pack("<H", msg_id))
            + command_element(0x0800, struct.pack("<H", 0x0001 if with_identifier else 0x0101))
            + command_element(0x0900, struct.pack("<H", status)))
    if comment:
        body += command_element(0x0902, comment.encode("ascii", "replace"), b" ")
    return command_element(0x0000, struct.pack("<I", len(body))) + body


def encode_match(responder: "FindResponder", row: dict[str, Any]) -> bytes:
    """The P-DATA-TF PDU(s) of one pending response (module level so tests can slow it down)."""
    return responder.message(row)


class FindResponder:
    """Writes the pending C-FIND responses of one request straight to the association's socket.

    Only usable on an established association whose DUL has nothing queued to send (then nothing else writes
    to the socket while the association's thread serves this request: no asynchronous operations are
    negotiated, and the peer's C-CANCEL only goes the other way). In Sta6 sending P-DATA changes no state.
    """

    def __init__(self, event: Any, level_text: str, requested: list[Any], local_aet: str):
        assoc = event.assoc
        self.assoc = assoc
        self.level_text = level_text
        self.requested = requested
        self.local_aet = local_aet
        context = event.context
        self.context_id = int(context.context_id)
        syntax = UID(str(context.transfer_syntax))
        self.implicit = syntax.is_implicit_VR
        self.little = syntax.is_little_endian
        self.deflated = syntax.is_deflated
        self.max_pdu = int(assoc.dimse.maximum_pdu_size or 0)
        self.command = find_response_command(event.request.AffectedSOPClassUID, int(event.request.MessageID),
                                             _PENDING, True)
        self.encoder: IdentifierEncoder | None = None
        if self.little and not self.deflated:
            try:
                self.encoder = IdentifierEncoder(level_text, requested, local_aet, self.implicit)
            except _Unencodable:
                self.encoder = None

    @classmethod
    def usable(cls, event: Any) -> bool:
        assoc = event.assoc
        dul = getattr(assoc, "dul", None)
        try:
            return (bool(assoc.is_established) and dul is not None and dul.socket is not None
                    and dul.socket.socket is not None and dul.to_provider_queue.empty()
                    and hasattr(assoc, "dimse") and event.context is not None)
        except AttributeError:
            return False

    def identifier(self, row: dict[str, Any]) -> bytes:
        if self.encoder is not None:
            try:
                return self.encoder.encode(row)
            except _Unencodable:
                pass
        ds = build_response(self.level_text, self.requested, row, self.local_aet)
        data = encode_dataset(ds, self.implicit, self.little, self.deflated)
        if not data:
            raise ValueError("cannot encode a response identifier")
        return data

    def message(self, row: dict[str, Any]) -> bytes:
        return pdata_pdus(self.context_id, self.command, self.identifier(row), self.max_pdu)

    def send(self, data: bytes) -> bool:
        """Write whole PDUs; False when the connection is gone (the DUL then sees Evt17 and ends)."""
        sock = self.assoc.dul.socket
        if sock is None or not self.assoc.is_established:
            return False
        sock.send(data)
        return self.assoc.is_established


def install_fast_find(assoc: Any) -> None:
    """Serve this acceptor association's C-FIND requests without pynetdicom's ``_c_find_scp``.

    The ``EVT_C_FIND`` handler runs as under pynetdicom (its pending matches go out through
    :class:`FindResponder`); every response it yields and the final one are encoded by hand and written to the
    socket from the association's thread, the final Success right after the last batch of matches, instead of a
    pydicom encoding and a hop through the DUL thread. A request when the DUL still has PDUs queued, and any other
    message, go to pynetdicom as before.
    """
    from pynetdicom.dimse_primitives import C_FIND as C_FIND_PRIMITIVE

    original = assoc._serve_request
    if not all(hasattr(assoc, n) for n in ("_accepted_cx", "_sent_release", "dul", "dimse", "is_established")):
        return
    find_classes = set(FIND_CLASSES)

    def serve_request(self: Any, msg: Any, context_id: int) -> None:
        dul = self.dul
        context = self._accepted_cx.get(context_id)
        if (type(msg) is not C_FIND_PRIMITIVE or not msg.is_valid_request or self._sent_release
                or context is None or context.abstract_syntax not in find_classes
                or context.abstract_syntax != msg.AffectedSOPClassUID or dul.socket is None
                or not dul.to_provider_queue.empty()):
            original(msg, context_id)
            return
        self.dimse.cancel_req = {}
        self._is_paused = True
        try:
            _serve_find(self, msg, context_id, context)
        finally:
            self._is_paused = False
            self.dimse.cancel_req = {}

    assoc._serve_request = types.MethodType(serve_request, assoc)


def _serve_find(assoc: Any, req: Any, context_id: int, context: Any) -> None:
    syntax = context.transfer_syntax[0]
    sop_class = str(req.AffectedSOPClassUID)
    msg_id = int(req.MessageID)
    dimse = assoc.dimse

    def is_cancelled(cancel_id: int) -> bool:
        return dimse.cancel_req.pop(cancel_id, None) is not None

    def send(status: int, comment: str = "", identifier: bytes = b"") -> None:
        command = find_response_command(sop_class, msg_id, status, bool(identifier), comment)
        sock = assoc.dul.socket
        if sock is not None and assoc.is_established:
            sock.send(pdata_pdus(context_id, command, identifier, int(dimse.maximum_pdu_size or 0))
                      if identifier else struct.pack(">BBIIBB", 0x04, 0x00, len(command) + 6, len(command) + 2,
                                                     context_id, 0x03) + command)

    try:
        generator = evt.trigger(assoc, evt.EVT_C_FIND, {"request": req, "context": context.as_tuple,
                                                        "_is_cancelled": is_cancelled})
    except Exception:  # noqa: BLE001 - as pynetdicom: "unable to process"
        log.exception("the C-FIND handler failed")
        send(0xC311)
        return
    if generator is None:
        send(0x0000)
        return
    try:
        for result, dataset in generator:
            if not assoc.is_established:
                return
            status, comment = handler_status(result)
            if status in (0xFF00, 0xFF01):
                if not isinstance(dataset, Dataset):
                    send(0xC312)
                    return
                data = encode_dataset(dataset, syntax.is_implicit_VR, syntax.is_little_endian, syntax.is_deflated)
                if not data:
                    send(0xC312)
                    return
                send(status, "", data)
                continue
            send(status, comment)
            if status == 0x0001 or 0xB000 <= status <= 0xBFFF:  # warning: matches may continue
                continue
            return
    except Exception:  # noqa: BLE001 - as pynetdicom: the peer gets "unable to process"
        log.exception("the C-FIND handler failed")
        if assoc.is_established:
            send(0xC311)
        return
    if assoc.is_established:
        send(0x0000)
