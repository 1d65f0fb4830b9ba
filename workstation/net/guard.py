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
* the data set being received on the association grows beyond the per-association budget.

Connections that have not completed an association do not count against our own association cap (see
:class:`workstation.net.server.DicomServer`), so a burst of garbage never locks real senders out.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import struct
import time
import types
import weakref
from typing import Any, Callable

from pynetdicom import evt as _evt
from pynetdicom.events import trigger as _trigger
from pynetdicom.pdu import A_ABORT_RQ
from pynetdicom.transport import RequestHandler

log = logging.getLogger("workstation.net.server")

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
_KNOWN_PDU_TYPES = {0x01: "A-ASSOCIATE-RQ", 0x02: "A-ASSOCIATE-AC", 0x03: "A-ASSOCIATE-RJ", 0x04: "P-DATA-TF",
                    0x05: "A-RELEASE-RQ", 0x06: "A-RELEASE-RP", 0x07: "A-ABORT"}


class ProtocolViolation(Exception):
    """What a peer did wrong; the association is aborted and the message logged."""


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
            if state == "Sta2":
                wake_acceptor(dul)
            return
        pdu_type, _, length = _HEADER.unpack(header)
        if pdu_type not in _KNOWN_PDU_TYPES:
            raise ProtocolViolation(f"unknown PDU type 0x{pdu_type:02X}")
        if state == "Sta2" and pdu_type != 0x01:
            raise ProtocolViolation(f"expected an A-ASSOCIATE-RQ, received {_KNOWN_PDU_TYPES[pdu_type]}")
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
        pdu, event = dul._decode_pdu(data)
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
    pdu.reason_diagnostic = 0x06 if "declares" in reason else 0x02
    try:
        if dul.socket is not None and dul.socket.socket is not None:
            dul.socket.socket.sendall(pdu.encode())
    except OSError:
        pass
    before_association = dul.state_machine.current_state == "Sta2"
    if dul.socket is not None:
        dul.socket.close()  # puts Evt17: the state machine goes to Sta1 and both threads end
    if before_association:
        wake_acceptor(dul)


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
    "guarded_read",
    "set_nodelay",
]
