"""The C-GET requestor's receive path read straight from the socket, without pynetdicom's DUL and DIMSE layers.

During a C-GET nearly every byte the node sends is a C-STORE sub-operation. pynetdicom hands each PDU from its DUL
thread through a PDU object (two copies of every 256 KiB PDU), a state-machine event, a DIMSE assembler that builds
the command set with pydicom (UID validation and all) and a queue to the calling thread, which answers through the
DUL's queue again: about a millisecond of Python per instance, with two threads taking turns on the GIL. That was
more than dcmtk's getscu needed for a whole instance, file write included.

:class:`DirectGet` keeps pynetdicom for everything but the transfer: the association, the C-GET request (sent by
``Association.send_c_get`` through the DUL, so ``EVT_DIMSE_SENT`` and C-CANCEL work as before), release and
abort.
While the C-GET runs, the DUL thread is *parked*: it still sends what is queued to it (a C-CANCEL, an A-ABORT) but
no longer reads the socket; the calling thread reads whole P-DATA-TF PDUs with ``recv_into``, splits the PDVs,
decodes the small command sets by hand (implicit VR little endian), hands each received data set as a complete
file to ``store_data`` and writes the hand-encoded C-STORE-RSP on the socket. C-GET responses come back as
``(status, identifier)`` pairs like ``send_c_get``'s (the status a light :class:`Status` mapping). Anything but
P-DATA (A-ABORT, A-RELEASE-RQ...) is given back to pynetdicom's DUL, decoded by pynetdicom, and the transfer
ends. :func:`usable` says whether the
pynetdicom internals this needs are there; if not, the caller uses pynetdicom's own path.
"""

from __future__ import annotations

import io
import logging
import select
import socket
import struct
import sys
import threading
import time
from typing import Any, Callable, Iterator

from pydicom.dataset import Dataset

from workstation.net.dimse_bytes import file_meta_bytes, store_response_command

log = logging.getLogger("workstation.net.retrieve")

C_STORE_RQ = 0x0001
C_GET_RSP = 0x8010
NO_DATA_SET = 0x0101
PARK_WAIT = 0.05  # seconds the parked DUL thread waits between looks at its send queue (a send wakes it at once)
WAIT_SLICE = 0.2  # seconds between checks for an abort while waiting for the node
MAX_CONTROL_PDU = 1 << 20

_PDU_HEADER = struct.Struct(">BBI")
_PDV_HEADER = struct.Struct(">IBB")
_ELEMENT = struct.Struct("<HHI")
_US = struct.Struct("<H")

_COUNTS = ((0x1020, "NumberOfRemainingSuboperations"), (0x1021, "NumberOfCompletedSuboperations"),
           (0x1022, "NumberOfFailedSuboperations"), (0x1023, "NumberOfWarningSuboperations"))


class ProtocolError(Exception):
    """The node sent something a C-GET does not allow; the association is aborted."""


def usable(assoc: Any) -> bool:
    """Whether the pynetdicom internals :class:`DirectGet` relies on are present (pynetdicom 2.x/3.x)."""
    dul = getattr(assoc, "dul", None)
    asock = getattr(dul, "socket", None)
    return bool(
        dul is not None and asock is not None and getattr(asock, "socket", None) is not None
        and callable(getattr(dul, "_is_transport_event", None)) and callable(getattr(dul, "_decode_pdu", None))
        and hasattr(dul, "event_queue") and hasattr(dul, "_recv_pdu")
        and callable(getattr(assoc, "_get_valid_context", None)) and hasattr(assoc, "_reactor_checkpoint")
        and hasattr(assoc, "_sent_abort") and hasattr(assoc, "_kill") and assoc.is_established
    )


def decode_command(data: bytes | bytearray | memoryview) -> dict[int, bytes]:
    """A DIMSE command set (group 0000, implicit VR little endian) as ``{element number: raw value}``."""
    view = memoryview(data)
    out: dict[int, bytes] = {}
    offset, size = 0, len(view)
    while offset < size:
        if offset + 8 > size:
            raise ProtocolError("truncated command set")
        group, element, length = _ELEMENT.unpack_from(view, offset)
        if group != 0x0000 and 0x0000 in out and offset == 12 + int.from_bytes(out[0x0000][:4], "little"):
            # Orthanc 1.x (DCMTK) puts a failed C-GET's identifier (Failed SOP Instance UID List) inside the
            # command PDV, after a complete command set that says "no data set". The command is whole: read it,
            # and leave the stray identifier (aborting here told the user the node refused us).
            log.info("C-GET: %d bytes after the command set's declared end ignored", size - offset)
            break
        offset += 8
        if group != 0x0000 or offset + length > size:
            raise ProtocolError("malformed command set")
        out[element] = bytes(view[offset:offset + length])
        offset += length
    return out


def _us(command: dict[int, bytes], element: int) -> int | None:
    value = command.get(element)
    return _US.unpack_from(value)[0] if value is not None and len(value) >= 2 else None


def _text(command: dict[int, bytes], element: int) -> str:
    value = command.get(element)
    return value.rstrip(b"\x00 ").decode("ascii", "replace") if value else ""


class Status(dict):
    """A C-GET response's status as ``send_c_get`` yields it (``Status``, the sub-operation counts, ``ErrorComment``
    by keyword, as items and attributes), without building a pydicom Dataset: that took ~0.4 ms a response,
    a third of the calling thread's time in a C-GET of small instances."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def status_dataset(command: dict[int, bytes]) -> Status:
    """The status of a C-GET-RSP: Status plus the optional counts and comment present in the command."""
    status = Status(Status=_us(command, 0x0900))
    for element, keyword in _COUNTS:
        value = _us(command, element)
        if value is not None:
            status[keyword] = value
    comment = command.get(0x0902)
    if comment:
        status["ErrorComment"] = comment.rstrip(b"\x00 ").decode("latin-1")
    return status


class DirectGet:
    """Run one C-GET on ``assoc`` reading the socket ourselves (module docstring).

    ``store_data(data: bytes) -> int`` gets each received instance as a complete DICOM file (preamble, file meta,
    the data set bytes untouched) and returns the C-STORE status to answer; with ``pieces`` it gets the file as
    the list of its pieces instead (the file meta, then views of the received fragments) to join later.
    ``timeout`` is the DIMSE timeout: the longest wait for the node's next PDU. ``max_pdu`` is the maximum PDU
    length we advertised (0: no limit): a larger P-DATA-TF aborts the association.
    """

    def __init__(self, assoc: Any, store_data: Callable[[Any], int], *, timeout: float | None, max_pdu: int,
                 after_store: Callable[[], Any] | None = None, pieces: bool = False):
        self.assoc = assoc
        self.store_data = store_data
        self.pieces = pieces  # store_data takes the file as a list of pieces (meta, fragments): no join here
        self.after_store = after_store  # called after each C-STORE response (e.g. a cancel check)
        self.timeout = timeout
        self.max_pdu = max_pdu or (1 << 26)
        self.sock = assoc.dul.socket.socket
        self.instances = 0
        self._contexts: dict[tuple[int, str], str | None] = {}
        self._original: Any = None
        self._parked = False
        self._unparked = threading.Event()
        self._kick = threading.Event()  # something was queued for the DUL to send
        self._original_send: Any = None
        self._whole_reads = False  # reads by recv(MSG_WAITALL) on a blocking socket (see _read_whole)
        self._saved_timeout: float | None = None

    # --- the DUL thread: parked while we read --------------------------------------------------------------
    def _park(self) -> None:
        dul = self.assoc.dul
        self._original = dul.__dict__.get("_is_transport_event")  # an instance override (adaptive poll) or None
        original = dul._is_transport_event
        entered = threading.Event()
        assoc = self.assoc

        def parked() -> bool:
            if self._unparked.is_set() or assoc._sent_abort or assoc._kill:
                return original()  # aborting: the DUL must see the connection close
            entered.set()
            self._kick.wait(PARK_WAIT)
            self._kick.clear()
            return False

        self._original_send = dul.__dict__.get("send_pdu")
        original_send = dul.send_pdu

        def send_pdu(primitive: Any) -> None:
            original_send(primitive)
            self._kick.set()  # a C-CANCEL or an A-ABORT leaves at once, not after PARK_WAIT

        dul.send_pdu = send_pdu
        dul._is_transport_event = parked
        self._parked = True
        # The DUL thread may be inside a read-wait that started before the swap; nothing comes from the node
        # before our request, but wait until it is parked so that it can never take the first response.
        entered.wait(1.0)

    def _unpark(self) -> None:
        if not self._parked:
            return
        self._parked = False
        dul = self.assoc.dul
        for name, saved in (("_is_transport_event", self._original), ("send_pdu", self._original_send)):
            if saved is not None:
                setattr(dul, name, saved)
            else:
                dul.__dict__.pop(name, None)
        self._unparked.set()
        self._kick.set()
        timer = getattr(dul, "_idle_timer", None)
        if timer is not None and callable(getattr(timer, "restart", None)):
            timer.restart()  # the DUL saw no PDU while parked; its network timeout counts from now

    # --- reading -------------------------------------------------------------------------------------------
    def _gone(self) -> bool:
        a = self.assoc
        return bool(a._sent_abort or a._kill or a.is_aborted or not a.is_established)

    def _wait_readable(self) -> bool:
        """Wait for data from the node; False on timeout (DIMSE timeout) or when the association went away."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            if self._gone():
                return False
            wait = WAIT_SLICE if deadline is None else min(WAIT_SLICE, deadline - time.monotonic())
            if wait <= 0:
                return False
            try:
                readable, _, _ = select.select([self.sock], [], [], wait)
            except (OSError, ValueError):  # closed under us (an abort)
                return False
            if readable:
                return True

    def _read(self, size: int) -> bytearray | None:
        buf = bytearray(size)
        got = 0
        with memoryview(buf) as view:
            if self._whole_reads:
                return buf if self._read_whole(view, size) else None
            while got < size:
                if not self._wait_readable():
                    return None
                try:
                    n = self.sock.recv_into(view[got:], size - got)
                except OSError:
                    return None
                if not n:
                    return None
                got += n
        return buf

    def _read_whole(self, view: memoryview, size: int) -> bool:
        """Fill ``view`` with one blocking ``recv(MSG_WAITALL)`` (the kernel waits for the whole PDU), waking
        every WAIT_SLICE (SO_RCVTIMEO) to look for an abort and the DIMSE timeout. A select and a recv per
        arriving TCP chunk cost 14 + 14 calls per 512 KiB instance, each handing the GIL to another thread and
        back; this costs about two."""
        got = 0
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while got < size:
            try:
                n = self.sock.recv_into(view[got:], size - got, socket.MSG_WAITALL)
            except (BlockingIOError, InterruptedError, socket.timeout):
                n = None  # SO_RCVTIMEO passed with nothing new
            except OSError:
                return False
            if n == 0:
                return False  # the node closed the connection
            if n:
                got += n
                if deadline is not None:
                    deadline = time.monotonic() + self.timeout
                continue
            if self._gone() or (deadline is not None and time.monotonic() >= deadline):
                return False
        return True

    def _blocking_reads(self) -> bool:
        """Switch the socket to blocking reads with a kernel receive timeout (Linux); False where that is not
        available, and reads go through select."""
        if not sys.platform.startswith("linux") or not hasattr(socket, "MSG_WAITALL"):
            return False
        try:
            self._saved_timeout = self.sock.gettimeout()
            self.sock.settimeout(None)
            slice_us = int(WAIT_SLICE * 1_000_000)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                 struct.pack("ll", slice_us // 1_000_000, slice_us % 1_000_000))
        except (OSError, ValueError):
            self._restore_socket()
            return False
        return True

    def _restore_socket(self) -> None:
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 0))
            self.sock.settimeout(self._saved_timeout)
        except (OSError, ValueError):
            pass  # closed under us (an abort): nothing reads it any more

    # --- the transfer --------------------------------------------------------------------------------------
    def responses(self, identifier: Dataset, model: str, msg_id: int
                  ) -> Iterator[tuple[Status | Dataset, Dataset | None]]:
        """Send the C-GET request, answer the sub-operations, yield the C-GET responses (as ``send_c_get``).

        A ``(Dataset(), None)`` pair means no final response (timeout, abort, protocol error). Close the
        generator (or run it to its end) before releasing: that gives the socket back to the DUL.
        """
        self._park()
        self._whole_reads = self._blocking_reads()
        try:
            self.assoc.send_c_get(identifier, model, msg_id=msg_id)  # the returned generator is never used
            self.assoc._reactor_checkpoint.set()
            yield from self._loop()
        finally:
            if self._whole_reads:
                self._restore_socket()
            self._unpark()

    def _loop(self) -> Iterator[tuple[Status | Dataset, Dataset | None]]:
        command: dict[int, bytes] | None = None
        command_parts: list[memoryview] = []
        data_parts: list[memoryview] = []
        while True:
            header = self._read(6)
            if header is None:
                yield self._no_response()
                return
            pdu_type, _, length = _PDU_HEADER.unpack(header)
            if pdu_type != 0x04:
                body = self._read(length) if length <= MAX_CONTROL_PDU else None
                if body is None:
                    yield self._abort(f"PDU type 0x{pdu_type:02X} of {length} bytes")
                else:
                    self._give_back(header + body)
                    yield Dataset(), None
                return
            if length > self.max_pdu:
                yield self._abort(f"a P-DATA-TF of {length} bytes, more than the {self.max_pdu} we accept")
                return
            body = self._read(length)
            if body is None:
                yield self._no_response()
                return
            out: list[tuple[Status | Dataset, Dataset | None]] = []
            view = memoryview(body)  # data-set fragments stay views into their PDU until the data set is joined
            try:
                offset = 0
                while offset < length:
                    if offset + 6 > length:
                        raise ProtocolError("truncated PDV item")
                    item_length, context_id, control = _PDV_HEADER.unpack_from(view, offset)
                    end = offset + 4 + item_length
                    if item_length < 2 or end > length:
                        raise ProtocolError("malformed PDV item")
                    fragment = view[offset + 6:end]
                    offset = end
                    if control & 0x01:
                        if command is not None:
                            raise ProtocolError("a command set before the previous message's data set")
                        command_parts.append(fragment)
                        if not control & 0x02:
                            continue
                        command = decode_command(b"".join(command_parts))
                        command_parts = []
                        if _us(command, 0x0800) != NO_DATA_SET:
                            continue
                        message, command = command, None
                        response = self._message(message, context_id, None)
                    else:
                        if command is None:
                            raise ProtocolError("a data set without its command set")
                        data_parts.append(fragment)
                        if not control & 0x02:
                            continue
                        message, command = command, None
                        parts, data_parts = data_parts, []
                        response = self._message(message, context_id, parts)
                    if response is not None:
                        out.append(response)
            except ProtocolError as exc:
                yield from out
                yield self._abort(str(exc))
                return
            for response in out:
                yield response
                if int(response[0]["Status"]) not in (0xFF00, 0xFF01):
                    return

    def _message(self, command: dict[int, bytes], context_id: int,
                 parts: list[memoryview] | None) -> tuple[Status, Dataset | None] | None:
        field = _us(command, 0x0100)
        if field == C_STORE_RQ:
            if parts is None:
                raise ProtocolError("a C-STORE request without a data set")
            self._store(command, context_id, parts)
            return None
        if field == C_GET_RSP:
            status = status_dataset(command)
            if status["Status"] is None:
                raise ProtocolError("a C-GET response without a status")
            identifier = None
            if parts is not None and int(status["Status"]) not in (0xFF00, 0xFF01):
                identifier = self._identifier(context_id, parts)
            return status, identifier
        raise ProtocolError(f"an unexpected DIMSE message (command field 0x{field or 0:04X}) during a C-GET")

    def _transfer_syntax(self, context_id: int, sop_class: str) -> str | None:
        key = (context_id, sop_class)
        if key not in self._contexts:
            try:
                context = self.assoc._get_valid_context(sop_class, "", "scp", context_id=context_id)
                self._contexts[key] = str(context.transfer_syntax[0])
            except (ValueError, IndexError, AttributeError):
                self._contexts[key] = None
        return self._contexts[key]

    def _store(self, command: dict[int, bytes], context_id: int, parts: list[memoryview]) -> None:
        sop_class = _text(command, 0x0002)
        sop_instance = _text(command, 0x1000)
        msg_id = _us(command, 0x0110) or 0
        transfer_syntax = self._transfer_syntax(context_id, sop_class)
        if transfer_syntax is None:
            status = 0x0122  # SOP class not supported
        else:
            try:
                pieces = [file_meta_bytes(sop_class, sop_instance, transfer_syntax), *parts]
                status = int(self.store_data(pieces if self.pieces else b"".join(pieces)))
            except Exception:  # noqa: BLE001 - the node must get an answer
                log.exception("the C-STORE handler failed")
                status = 0xC211
        self.instances += 1
        pdv = b"\x03" + store_response_command(sop_class, sop_instance, msg_id, status)
        item = struct.pack(">IB", len(pdv) + 1, context_id) + pdv
        self.sock.sendall(_PDU_HEADER.pack(0x04, 0x00, len(item)) + item)
        if self.after_store is not None:
            self.after_store()

    def _identifier(self, context_id: int, parts: list[memoryview]) -> Dataset | None:
        from pynetdicom.dsutils import decode

        try:
            context = self.assoc._accepted_cx[context_id]
            ts = context.transfer_syntax[0]
            return decode(io.BytesIO(b"".join(parts)), ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
        except Exception as exc:  # noqa: BLE001 - the identifier only lists failed UIDs
            log.info("could not decode the C-GET response identifier: %s", exc)
            return None

    # --- ends ----------------------------------------------------------------------------------------------
    def _give_back(self, raw: bytes) -> None:
        """A PDU that is not ours (A-ABORT, A-RELEASE-RQ...): decoded and handled by pynetdicom's DUL."""
        dul = self.assoc.dul
        try:
            pdu, event = dul._decode_pdu(bytearray(raw))
        except Exception:  # noqa: BLE001 - as pynetdicom: invalid PDU
            pdu, event = None, "Evt19"
        dul.event_queue.put(event)
        if pdu is not None:
            dul._recv_pdu.put(pdu)
        self._unpark()
        deadline = time.monotonic() + 2.0
        while raw[:1] == b"\x07" and not self.assoc.is_aborted and time.monotonic() < deadline:
            time.sleep(0.005)  # let pynetdicom mark the association aborted before the caller looks

    def _no_response(self) -> tuple[Dataset, None]:
        if not self._gone():
            log.warning("no PDU from the node within %s s; aborting", self.timeout)
            self._abort_assoc()
        return Dataset(), None

    def _abort(self, why: str) -> tuple[Dataset, None]:
        log.error("aborting the C-GET association: the node sent %s", why)
        self._abort_assoc()
        return Dataset(), None

    def _abort_assoc(self) -> None:
        from workstation.net.scu.client import abort_and_wake

        self._unpark()
        abort_and_wake(self.assoc)
