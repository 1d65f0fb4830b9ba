"""Protection of the server's associations against hostile or broken peers, and their transport tuning.

pynetdicom 3.0.4 trusts the peer more than a server on an open network may:

* it reads a PDU of whatever length the peer declares (up to 4 GiB, 4 KiB per ``recv``) before checking
  anything, so one connection can make us allocate gigabytes;
* a connection that sends garbage or nothing at all keeps its acceptor thread, and counts against
  ``maximum_associations``, until the ARTIM timer (the ACSE timeout) expires;
* its reactor polls every millisecond, which adds up to a millisecond to every message we send (here it waits
  in ``select`` instead, see :func:`install_adaptive_poll`).

:class:`GuardedRequestHandler` replaces pynetdicom's request handler for our server. Every accepted connection
gets TCP_NODELAY, and its DUL gets :func:`guarded_read` instead of ``_read_pdu_data``: the 6-byte PDU header is
checked first and the connection is aborted (A-ABORT, then closed) without reading further when

* the PDU type is unknown, or the first PDU is not an A-ASSOCIATE-RQ (garbage, port scanners, HTTP...);
* a P-DATA-TF is longer than the maximum PDU length we advertised, or any other PDU is longer than
  :data:`MAX_CONTROL_PDU`;
* the data set being received on the association grows beyond the per-association budget;
* an A-ASSOCIATE-RQ is malformed (:func:`check_associate_rq`): pynetdicom 3.0.4 decodes items by their
  declared lengths without checking them, and an even or duplicate presentation context ID, a context without
  a transfer syntax or an unknown user identity type raise inside its state machine (the DUL thread dies with a
  traceback, the peer hangs until its own timeout);
* a DIMSE message cannot be decoded (:func:`guard_dimse`): pynetdicom decodes the command set inside the DUL
  state machine, where a command without (0000,0100), an unknown command field or undecodable elements kill
  the DUL thread; a data set without its command is logged with a traceback.

Connections that have not completed an association do not count against our own association cap (see
:class:`workstation.net.scp.server.DicomServer`), so a burst of garbage never locks real senders out.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import struct
import threading
import time
import types
import weakref
from typing import Any, Callable

from pynetdicom import evt as _evt
from pynetdicom.events import trigger as _trigger
from pynetdicom.pdu import A_ABORT_RQ
from pynetdicom.transport import RequestHandler

log = logging.getLogger("workstation.net.scp.server")

MAX_CONTROL_PDU = 1 << 20  # A-ASSOCIATE-RQ with 128 contexts of many syntaxes stays far below 1 MiB
FAST_POLL = 0.00005  # DUL poll while data flows (pynetdicom's default is 0.001)
# Seconds after the last PDU during which the DUL polls instead of waiting in select. 0: it always waits when it
# has nothing queued. Polling every 50 us while the association's thread syncs a received file (~2 ms) cost ~1 ms
# of CPU per C-STORE and contended for the GIL with the handler; select wakes as soon as data or a wake-up comes.
ACTIVE_WINDOW = 0.0
IDLE_WAIT = 0.01  # longest wait of an idle DUL loop (its timers and kill flag are checked that often)
_REACTOR_WAIT = 0.001  # seconds the association reactor waits for a message before its housekeeping
_UPSTREAM_LOG = logging.getLogger("pynetdicom.association")
_HEADER = struct.Struct(">BBL")
# The first PDU is read before the state machine has taken the connection (Evt5): still Sta1, not Sta2.
_BEFORE_ASSOCIATION = ("Sta1", "Sta2")
_RELEASING = {"Sta7", "Sta10", "Sta11"}  # states in which an A-RELEASE-RP from the peer is expected (PS3.8 9.2)
_KNOWN_PDU_TYPES = {0x01: "A-ASSOCIATE-RQ", 0x02: "A-ASSOCIATE-AC", 0x03: "A-ASSOCIATE-RJ", 0x04: "P-DATA-TF",
                    0x05: "A-RELEASE-RQ", 0x06: "A-RELEASE-RP", 0x07: "A-ABORT"}


class ProtocolViolation(Exception):
    """What a peer did wrong; the association is aborted and the message logged."""


# --- A-ASSOCIATE-RQ structure (PS3.8 9.3.2) --------------------------------------------------------------------
_UID_CHARS = frozenset(b"0123456789.")
_USER_IDENTITY_TYPES = {1, 2, 3, 4, 5}  # PS3.7 D.3.3.7.1


def _check_uid(value: bytes, what: str) -> None:
    # pynetdicom logs a traceback for a UID that is not ASCII before it fails; we refuse it first.
    uid = value.rstrip(b"\0 ")
    if not uid:
        raise ProtocolViolation(f"an empty {what}")
    if len(uid) > 64 or not set(uid) <= _UID_CHARS:
        shown = repr(bytes(uid[:40])) + ("..." if len(uid) > 40 else "")
        raise ProtocolViolation(f"the {what} {shown} is not a UID")


def _items(data: bytes, offset: int, where: str) -> list[tuple[int, bytes]]:
    """(type, value) of the items (4-byte headers, 16-bit lengths) from ``offset`` to the end of ``data``."""
    out = []
    end = len(data)
    while offset < end:
        if offset + 4 > end:
            raise ProtocolViolation(f"an item header runs past the end of {where}")
        item_type, _, length = struct.unpack_from(">BBH", data, offset)
        if offset + 4 + length > end:
            raise ProtocolViolation(f"item 0x{item_type:02X} declares {length} bytes, more than {where} holds")
        out.append((item_type, bytes(data[offset + 4:offset + 4 + length])))
        offset += 4 + length
    return out


def _field(value: bytes, offset: int, what: str) -> tuple[bytes, int]:
    """A 16-bit-length-prefixed field of a user information sub-item, and the offset after it."""
    if offset + 2 > len(value):
        raise ProtocolViolation(f"the {what} sub-item is too short")
    (length,) = struct.unpack_from(">H", value, offset)
    if offset + 2 + length > len(value):
        raise ProtocolViolation(f"the {what} sub-item declares a field of {length} bytes, more than it holds")
    return value[offset + 2:offset + 2 + length], offset + 2 + length


def _check_user_information(value: bytes) -> None:
    for sub_type, sub in _items(value, 0, "the user information item"):
        if sub_type == 0x51:
            if len(sub) != 4:
                raise ProtocolViolation(f"the maximum length sub-item has {len(sub)} bytes instead of 4")
        elif sub_type == 0x52:
            _check_uid(sub, "implementation class UID")
        elif sub_type == 0x53:
            if len(sub) != 4:
                raise ProtocolViolation(f"the asynchronous operations window sub-item has {len(sub)} bytes, not 4")
        elif sub_type == 0x54:
            uid, at = _field(sub, 0, "SCP/SCU role selection")
            if at + 2 != len(sub):
                raise ProtocolViolation("the SCP/SCU role selection sub-item has a wrong length")
            _check_uid(uid, "SOP class UID of a role selection")
        elif sub_type == 0x55:
            if not 1 <= len(sub) <= 16:
                raise ProtocolViolation(f"an implementation version name of {len(sub)} bytes (1 to 16 allowed)")
        elif sub_type == 0x56:
            uid, _ = _field(sub, 0, "SOP class extended negotiation")
            _check_uid(uid, "SOP class UID of an extended negotiation")
        elif sub_type == 0x57:
            uid, at = _field(sub, 0, "SOP class common extended negotiation")
            _check_uid(uid, "SOP class UID of a common extended negotiation")
            service, at = _field(sub, at, "SOP class common extended negotiation")
            _check_uid(service, "service class UID of a common extended negotiation")
            related, at = _field(sub, at, "SOP class common extended negotiation")
            if at != len(sub):
                raise ProtocolViolation("the SOP class common extended negotiation sub-item has a wrong length")
            inner = 0
            while inner < len(related):
                general, inner = _field(related, inner, "related general SOP class")
                _check_uid(general, "related general SOP class UID")
        elif sub_type == 0x58:
            if len(sub) < 2 or sub[0] not in _USER_IDENTITY_TYPES:
                kind = sub[0] if sub else "none"
                raise ProtocolViolation(f"user identity type {kind} (1 to 5 allowed)")
            primary, at = _field(sub, 2, "user identity")
            secondary, at = _field(sub, at, "user identity")
            if at != len(sub) or not primary:
                raise ProtocolViolation("the user identity sub-item has a wrong length")
        else:
            raise ProtocolViolation(f"unknown user information sub-item type 0x{sub_type:02X}")


def check_associate_rq(data: bytes) -> None:
    """Refuse an A-ASSOCIATE-RQ PDU (header included) whose items pynetdicom would misread or choke on.

    Lengths at every level must fit their parent; items and sub-items must be of the types an A-ASSOCIATE-RQ
    carries, each required one present; presentation context IDs odd and unique, each context with one abstract
    syntax and at least one transfer syntax; UIDs at most 64 digits and dots; AE titles printable ASCII (pynetdicom
    logs a traceback for anything else); user identity types 1 to 5. Raises ProtocolViolation.
    """
    if len(data) < 6 + 68:
        raise ProtocolViolation("an A-ASSOCIATE-RQ shorter than its fixed fields")
    for what, start in (("called", 10), ("calling", 26)):
        title = data[start:start + 16].rstrip(b"\0 ")
        if any(c < 0x20 or c > 0x7E or c == 0x5C for c in title):
            raise ProtocolViolation(f"the {what} AE title {bytes(title)!r} has characters an AE title cannot have")
    ids: set[int] = set()
    counts = {0x10: 0, 0x50: 0}
    for item_type, value in _items(data, 6 + 68, "the A-ASSOCIATE-RQ"):
        if item_type in counts:
            counts[item_type] += 1
        if item_type == 0x10:
            _check_uid(value, "application context name")
        elif item_type == 0x20:
            if len(value) < 4:
                raise ProtocolViolation("a presentation context item shorter than its fixed fields")
            cid = value[0]
            if cid % 2 == 0:
                raise ProtocolViolation(f"presentation context ID {cid} is even (odd IDs only)")
            if cid in ids:
                raise ProtocolViolation(f"presentation context ID {cid} is proposed twice")
            ids.add(cid)
            subs = _items(value, 4, f"presentation context {cid}")
            abstract = [v for t, v in subs if t == 0x30]
            syntaxes = [v for t, v in subs if t == 0x40]
            others = sorted({t for t, _ in subs} - {0x30, 0x40})
            if others:
                raise ProtocolViolation(f"presentation context {cid} has a sub-item of unknown type 0x{others[0]:02X}")
            if len(abstract) != 1:
                raise ProtocolViolation(
                    f"presentation context {cid} has {len(abstract)} abstract syntaxes (one needed)")
            if not syntaxes:
                raise ProtocolViolation(f"presentation context {cid} proposes no transfer syntax")
            _check_uid(abstract[0], f"abstract syntax of presentation context {cid}")
            for syntax in syntaxes:
                _check_uid(syntax, f"transfer syntax of presentation context {cid}")
        elif item_type == 0x50:
            _check_user_information(value)
            if not any(t == 0x51 for t, _ in _items(value, 0, "the user information item")):
                raise ProtocolViolation("the user information item has no maximum length sub-item")
        else:
            raise ProtocolViolation(f"unknown item type 0x{item_type:02X} in an A-ASSOCIATE-RQ")
    # PS3.8 9.3.2: one application context, one or more presentation contexts, one user information item.
    # (pynetdicom's own handlers fail on a request without user information.)
    if counts[0x10] != 1:
        raise ProtocolViolation(f"{counts[0x10]} application context items (one needed)")
    if not ids:
        raise ProtocolViolation("no presentation context proposed")
    if counts[0x50] != 1:
        raise ProtocolViolation(f"{counts[0x50]} user information items (one needed)")


def set_nodelay(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:  # pragma: no cover - a platform without the option
        log.debug("could not set TCP_NODELAY: %s", exc)


def _recv_exact(sock: socket.socket, size: int) -> bytearray | None:
    """Read exactly ``size`` bytes in large chunks; None when the peer closed the connection first."""
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], min(size - got, 1 << 20))
        if n == 0:
            return None
        got += n
    return buf


class PDULimits:
    """The limits :func:`guarded_read` enforces for one association."""

    def __init__(self, max_pdu: int, dataset_budget: int):
        self.max_pdu = max_pdu  # what we advertised: the longest P-DATA-TF the peer may send
        self.dataset_budget = dataset_budget  # bytes one data set in transit may take in memory
        self.in_transit = 0  # data set bytes received since the last complete message


def _check_pdata(data: bytearray, limits: PDULimits) -> None:
    """Walk the PDV items of a P-DATA-TF: count data set bytes in transit, check the items fit the PDU."""
    offset, end = 6, len(data)
    while offset < end:
        if offset + 6 > end:
            raise ProtocolViolation("a PDV item header runs past the end of its P-DATA-TF PDU")
        (item_len,) = struct.unpack_from(">L", data, offset)
        if item_len < 2 or offset + 4 + item_len > end:
            raise ProtocolViolation(f"a PDV item declares {item_len} bytes, more than its P-DATA-TF PDU holds")
        control = data[offset + 5]
        if control & 0x01:  # command fragment
            limits.in_transit = 0
        else:
            limits.in_transit += item_len - 2
            if limits.in_transit > limits.dataset_budget:
                raise ProtocolViolation(
                    f"the data set in transit exceeds this association's memory budget "
                    f"({limits.dataset_budget // (1 << 20)} MiB)"
                )
            if control & 0x02:
                limits.in_transit = 0
        offset += 4 + item_len


def guarded_read(dul: Any, limits: PDULimits, on_violation: Callable[[str], None]) -> None:
    """Replacement for ``DULServiceProvider._read_pdu_data`` (see the module docstring)."""
    sock = dul.socket.socket if dul.socket is not None else None
    if sock is None:
        dul.event_queue.put("Evt17")
        return
    try:
        state = dul.state_machine.current_state
        header = _recv_exact(sock, 6)
        if header is None:
            dul.event_queue.put("Evt17")
            if state in _BEFORE_ASSOCIATION:
                wake_acceptor(dul)
            return
        pdu_type, _, length = _HEADER.unpack(header)
        if pdu_type not in _KNOWN_PDU_TYPES:
            raise ProtocolViolation(f"unknown PDU type 0x{pdu_type:02X}")
        if state in _BEFORE_ASSOCIATION and pdu_type != 0x01:
            raise ProtocolViolation(f"expected an A-ASSOCIATE-RQ, received {_KNOWN_PDU_TYPES[pdu_type]}")
        unexpected = pdu_type in (0x01, 0x02, 0x03) or (pdu_type == 0x06 and state not in _RELEASING)
        if unexpected and state not in _BEFORE_ASSOCIATION:
            # pynetdicom aborts too, without a word in the log (and its PDU logger fails on an A-ASSOCIATE-AC).
            raise ProtocolViolation(f"unexpected {_KNOWN_PDU_TYPES[pdu_type]} on an association (state {state})")
        limit = limits.max_pdu if pdu_type == 0x04 else MAX_CONTROL_PDU
        if length > limit:
            raise ProtocolViolation(
                f"{_KNOWN_PDU_TYPES[pdu_type]} declares {length} bytes, more than the {limit} we accept"
            )
        body = _recv_exact(sock, length) if length else bytearray()
        if body is None:
            log.info("peer closed the connection inside a PDU")
            dul.event_queue.put("Evt17")
            return
    except (OSError, TimeoutError) as exc:
        log.info("connection lost while reading a PDU: %s", exc)
        dul.event_queue.put("Evt17")
        return
    except ProtocolViolation as exc:
        _abort_now(dul, str(exc), on_violation)
        return
    data = header + body
    try:
        if pdu_type == 0x04:
            _check_pdata(data, limits)
        elif pdu_type == 0x01:
            check_associate_rq(data)
        pdu, event = dul._decode_pdu(data)
        if pdu_type == 0x01:
            # The state machine converts it again (AE-6); an exception there would kill the DUL thread.
            pdu.to_primitive()
    except ProtocolViolation as exc:
        _abort_now(dul, str(exc), on_violation)
        return
    except Exception as exc:  # noqa: BLE001 - any decoding failure of peer data
        _abort_now(dul, f"undecodable {_KNOWN_PDU_TYPES[pdu_type]}: {type(exc).__name__}: {exc}", on_violation)
        return
    dul.event_queue.put(event)
    dul._recv_pdu.put(pdu)


def _abort_now(dul: Any, reason: str, on_violation: Callable[[str], None]) -> None:
    """Send A-ABORT (service provider, invalid PDU parameter) and close the connection without reading more."""
    on_violation(reason)
    pdu = A_ABORT_RQ()
    pdu.source = 0x02
    # PS3.8 table 9-26: unrecognized PDU, unexpected PDU, otherwise an invalid parameter value.
    if reason.startswith("unknown PDU type"):
        pdu.reason_diagnostic = 0x01
    elif reason.startswith(("expected an", "unexpected")):
        pdu.reason_diagnostic = 0x02
    else:
        pdu.reason_diagnostic = 0x06
    try:
        if dul.socket is not None and dul.socket.socket is not None:
            dul.socket.socket.sendall(pdu.encode())
    except OSError:
        pass
    before_association = dul.state_machine.current_state in _BEFORE_ASSOCIATION
    if dul.socket is not None:
        dul.socket.close()  # puts Evt17: the state machine goes to Sta1 and both threads end
    if before_association:
        wake_acceptor(dul)


def guard_dimse(assoc: Any, on_violation: Callable[[str], None]) -> None:
    """Decode the association's DIMSE messages without letting a malformed one kill its DUL thread.

    Replaces ``DIMSEServiceProvider.receive_primitive`` (pynetdicom 3.0.4), which runs inside the DUL state
    machine (action DT-2): an exception there ends the thread with a traceback and leaves the peer hanging, and
    a message it cannot convert is logged with ``LOGGER.exception``. Here the association is aborted with one
    log line instead. Also refused: a data set fragment with no command before it, a command fragment while a
    data set is due, and fragments of one message on different presentation contexts (PS3.8 E.2).
    """
    from pynetdicom.dimse_messages import DIMSEMessage
    from pynetdicom.dimse_primitives import C_CANCEL, N_EVENT_REPORT
    from pynetdicom.pdu_primitives import P_DATA
    from pynetdicom.utils import make_target

    dimse = assoc.dimse
    if not all(hasattr(dimse, n) for n in ("message", "msg_queue", "cancel_req")):
        return
    upstream_receive = dimse.receive_primitive
    state = {"context": None, "dataset_due": False}

    def violation(reason: str) -> None:
        dimse.message = None
        state["context"], state["dataset_due"] = None, False
        _abort_now(dimse.dul, reason, on_violation)

    def deliver(message: Any) -> None:
        """What upstream does with a complete message (queues it for the association's reactor)."""
        _trigger(assoc, _evt.EVT_DIMSE_RECV, {"message": message})
        try:
            msg = message.message_to_primitive()
        except Exception as exc:  # noqa: BLE001 - a command pynetdicom cannot map to a DIMSE service
            raise ProtocolViolation(f"an invalid DIMSE command: {type(exc).__name__}: {exc}") from None
        context_id = message.context_id
        if isinstance(msg, C_CANCEL) and len(dimse.cancel_req) < 10:
            dimse.cancel_req[msg.MessageIDBeingRespondedTo] = msg
        elif isinstance(msg, N_EVENT_REPORT) and msg.is_valid_request:
            threading.Thread(target=make_target(assoc._serve_request), args=(msg, context_id), daemon=True).start()
        else:
            dimse.msg_queue.put((context_id, msg))

    def receive_primitive(primitive: Any) -> None:
        pdvs = getattr(primitive, "presentation_data_value_list", None)
        if pdvs is None:
            upstream_receive(primitive)
            return
        try:
            accepted = getattr(assoc, "_accepted_cx", None)
            for context_id, data in pdvs:
                if not data:
                    raise ProtocolViolation("an empty PDV (no message control header)")
                if accepted is not None and context_id not in accepted:
                    raise ProtocolViolation(f"a PDV on presentation context {context_id}, which was not accepted")
                if state["context"] is not None and context_id != state["context"]:
                    raise ProtocolViolation(f"a message fragment on presentation context {context_id} continues "
                                            f"a message on context {state['context']}")
                is_command = bool(data[0] & 0x01)
                if is_command and state["dataset_due"]:
                    raise ProtocolViolation("a command arrived while the data set of the previous one was due")
                if not is_command and not state["dataset_due"]:
                    raise ProtocolViolation("a data set fragment arrived without a command before it")
                state["context"] = context_id
                if dimse.message is None:
                    dimse.message = DIMSEMessage()
                message = dimse.message
                # One PDV at a time: upstream stops at the first complete message of a P-DATA and drops the rest.
                single = P_DATA()
                single.presentation_data_value_list = [[context_id, data]]
                try:
                    complete = message.decode_msg(single, assoc)
                except Exception as exc:  # noqa: BLE001 - whatever the peer's command set makes pydicom raise
                    if "CommandField" in str(exc) or isinstance(exc, KeyError):
                        raise ProtocolViolation("a command set without a valid Command Field (0000,0100)") from None
                    raise ProtocolViolation(f"an undecodable command set: {type(exc).__name__}: {exc}") from None
                if not complete:
                    if data[0] & 0x03 == 0x03:
                        state["dataset_due"] = True
                    continue
                state["context"], state["dataset_due"] = None, False
                dimse.message = None
                deliver(message)
        except ProtocolViolation as exc:
            violation(str(exc))
        except Exception as exc:  # noqa: BLE001 - never let the DUL thread die on peer data
            violation(f"an undecodable DIMSE message: {type(exc).__name__}: {exc}")

    dimse.receive_primitive = receive_primitive


def wake_acceptor(dul: Any) -> None:
    """End an acceptor thread still waiting (up to the ACSE timeout) for an A-ASSOCIATE-RQ that cannot come.

    pynetdicom's acceptor blocks in ``receive_pdu(wait=True, timeout=acse_timeout)``; a None on the queue reads
    as that timeout, and the thread cleans up at once. Only valid before an A-ASSOCIATE-RQ was received.
    """
    if getattr(dul.assoc.requestor, "primitive", None) is None:
        dul.to_user_queue.put(None)


def _reactor_compatible(assoc: Any) -> bool:
    """The fast reactor relies on these pynetdicom internals; without them upstream's loop stays."""
    needed = ("_reactor_checkpoint", "_serve_request", "_kill", "dimse", "acse", "network_timeout_response")
    return all(hasattr(assoc, n) for n in needed) and hasattr(assoc.dimse, "msg_queue")


def install_adaptive_poll(dul: Any) -> None:
    """Make the DUL reactor poll fast while PDUs flow and wait in ``select`` when quiet.

    pynetdicom's DUL reactor sleeps ``_run_loop_delay`` (1 ms) whenever a loop found nothing to do: every
    response we queue may wait a millisecond, and every connection, even an idle one, costs ~1,000 Python
    loops a second (forty garbage connections starve the process; CPU spent spinning is CPU the store path
    lacks). Here the loop polls every :data:`FAST_POLL` for :data:`ACTIVE_WINDOW` after the last PDU (0 by
    default: no polling), then blocks in ``select`` until the peer sends, we queue a PDU (``send_pdu`` writes a
    byte to a socketpair), or :data:`IDLE_WAIT` passes (timers and kill flags are checked at least that often).
    """
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    weakref.finalize(dul, wake_r.close)
    weakref.finalize(dul, wake_w.close)
    original = dul._is_transport_event
    original_send = dul.send_pdu
    dul._run_loop_delay = FAST_POLL
    last = [time.monotonic()]

    def is_transport_event() -> bool:
        # With nothing queued (and, with ACTIVE_WINDOW > 0, quiet for that long), wait on the sockets: data or a
        # wake-up from send_pdu ends the wait at once.
        if time.monotonic() - last[0] > ACTIVE_WINDOW and dul.to_provider_queue.empty() and dul.event_queue.empty():
            sock = dul.socket.socket if dul.socket is not None else None
            try:
                if sock is not None:
                    select.select([sock, wake_r], [], [], IDLE_WAIT)
                else:
                    select.select([wake_r], [], [], IDLE_WAIT)
                while wake_r.recv(4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            except (OSError, ValueError):
                time.sleep(FAST_POLL)
        busy = original()
        if busy:
            last[0] = time.monotonic()
        return busy

    def send_pdu(primitive: Any) -> None:
        last[0] = time.monotonic()
        original_send(primitive)
        try:
            wake_w.send(b"\0")
        except OSError:  # buffer full (a wake-up is pending anyway) or closed
            pass

    dul._is_transport_event = is_transport_event
    dul.send_pdu = send_pdu


def _fast_acceptor_reactor(self: Any) -> None:
    """pynetdicom 3.0.4's ``Association._run_reactor`` (acceptor loop), waiting on the DIMSE queue instead of
    sleeping a fixed millisecond before every check: a complete request is served within microseconds.

    Everything else is as upstream: the pause checkpoint, release and abort handling, DUL liveness and the
    network (idle) timeout.
    """
    self._is_paused = False
    msg_queue = self.dimse.msg_queue
    while not self._kill:
        self._is_paused = True
        self._reactor_checkpoint.wait()
        self._is_paused = False
        try:
            context_id, msg = msg_queue.get(timeout=_REACTOR_WAIT)
        except queue.Empty:
            context_id, msg = None, None
        if msg:
            self._serve_request(msg, context_id)
        if self.is_established and self.acse.is_release_requested():
            self.acse.send_release(is_response=True)
            _UPSTREAM_LOG.info("Association Released")
            self.is_released = True
            self.is_established = False
            _trigger(self, _evt.EVT_RELEASED, {})
            self.kill()
            return
        if self.acse.is_aborted():
            _UPSTREAM_LOG.info("Association Aborted")
            self.dul.receive_pdu(wait=False)
            self.is_aborted = True
            self.is_established = False
            _trigger(self, _evt.EVT_ABORTED, {})
            self.kill()
            return
        if not self.dul.is_alive():
            self.kill()
            return
        if self.dul.idle_timer_expired():
            _UPSTREAM_LOG.error("Network timeout reached")
            if self.network_timeout_response == "A-RELEASE":
                self._is_paused = True
                self._reactor_checkpoint.wait()
                self.release()
                self._is_paused = False
            else:
                self.abort()
            self.kill()
            return


class GuardedRequestHandler(RequestHandler):
    """pynetdicom's request handler with the guards of this module installed on every association.

    The server object must provide ``_ws_guard`` (a :class:`GuardConfig`).
    """

    def _create_association(self) -> Any:
        assoc = super()._create_association()
        config: GuardConfig = self.server._ws_guard  # type: ignore[attr-defined]
        if isinstance(self.request, socket.socket):
            set_nodelay(self.request)
            # Accepted sockets block forever by default: a peer stalling inside a PDU would hold the reader.
            self.request.settimeout(config.network_timeout)
        limits = PDULimits(config.max_pdu, config.dataset_budget)
        peer = f"{self.client_address[0]}:{self.client_address[1]}" if isinstance(self.client_address, tuple) else str(
            self.client_address)

        def on_violation(reason: str) -> None:
            config.on_violation(assoc, peer, reason)

        dul = assoc.dul
        dul._read_pdu_data = types.MethodType(lambda self: guarded_read(self, limits, on_violation), dul)
        install_adaptive_poll(dul)
        guard_dimse(assoc, on_violation)
        if _reactor_compatible(assoc):
            assoc._run_reactor = types.MethodType(_fast_acceptor_reactor, assoc)
        if config.setup is not None:
            config.setup(assoc)
        return assoc


class GuardConfig:
    """What the guards need from the server."""

    def __init__(self, max_pdu: int, dataset_budget: int, network_timeout: float,
                 on_violation: Callable[[Any, str, str], None], setup: Callable[[Any], None] | None = None):
        self.setup = setup  # called with every new association (e.g. to install fast service paths)
        self.max_pdu = max_pdu
        self.network_timeout = network_timeout
        self.dataset_budget = dataset_budget
        self.on_violation = on_violation


def dataset_budget(max_associations: int, fraction: float) -> int:
    """Bytes one association may hold for a data set in transit: a share of RAM, at least 64 MiB."""
    total = _total_memory()
    share = int(total * fraction / max(1, max_associations)) if total else 0
    return max(64 << 20, share)


def _total_memory() -> int:
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 0


__all__ = [
    "GuardConfig",
    "GuardedRequestHandler",
    "PDULimits",
    "ProtocolViolation",
    "dataset_budget",
    "check_associate_rq",
    "guard_dimse",
    "guarded_read",
    "set_nodelay",
]
