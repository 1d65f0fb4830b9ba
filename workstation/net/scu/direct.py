"""C-STORE of a file as it is stored, written straight to the association's socket.

pynetdicom sends a C-STORE by encoding every P-DATA-TF PDU as an object, queueing it for the DUL thread and
letting that thread's poll loop write it: for 512 KB in 16 KB PDUs that is ~35 hops per instance, and with the
response wait about half of ``workstation send``'s time (issue 15: send took ~4x storescu). Here the command
set is encoded by hand (:func:`store_request_command`, compared byte for byte with pynetdicom's in the tests),
the data set bytes are the file's own after its file meta (only used when the accepted context has the file's
transfer syntax) and the PDUs are written from the calling thread; the response still comes back through
pynetdicom's DUL and DIMSE queue. As pynetdicom's own ``send_c_store`` does, the association's reactor is
paused meanwhile, so it cannot take the response. In Sta6 sending P-DATA changes no state, and nothing else
writes to the socket (checked: the DUL's send queue is empty; the association is ours alone).

Needs pynetdicom internals (``dul.socket``, ``dul.to_provider_queue``, ``_reactor_checkpoint``, ``_is_paused``,
``dimse.get_msg``, ``_check_received_status``); :func:`usable` says whether they are there, otherwise the caller
uses ``send_c_store`` (tests/net/test_pynetdicom_internals.py fails loudly if an upgrade removes them).
"""

from __future__ import annotations

import logging
import struct
import time
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from workstation.net.dimse_bytes import command_element, pdata_pdus

log = logging.getLogger("workstation.net.send")

_PRIORITY = 0x0002  # LOW: what pynetdicom's send_c_store sends by default
_DATASET_PRESENT = 0x0001  # what pynetdicom writes (0x0101 would mean "no data set")


def store_request_command(sop_class_uid: str, sop_instance_uid: str, msg_id: int = 1) -> bytes:
    """The C-STORE-RQ command set (Implicit VR Little Endian, PS3.7 9.3.1.1), as pynetdicom encodes it."""
    body = (command_element(0x0002, str(sop_class_uid).encode("ascii", "replace"))
            + command_element(0x0100, struct.pack("<H", 0x0001))
            + command_element(0x0110, struct.pack("<H", msg_id))
            + command_element(0x0700, struct.pack("<H", _PRIORITY))
            + command_element(0x0800, struct.pack("<H", _DATASET_PRESENT))
            + command_element(0x1000, str(sop_instance_uid).encode("ascii", "replace")))
    return command_element(0x0000, struct.pack("<I", len(body))) + body


def usable(assoc: Any) -> bool:
    """Whether the pynetdicom internals a direct C-STORE needs are present and the socket is free."""
    try:
        dul = assoc.dul
        return bool(
            assoc.is_established and dul.socket is not None and dul.socket.socket is not None
            and dul.to_provider_queue.empty() and hasattr(assoc, "_reactor_checkpoint")
            and hasattr(assoc, "_is_paused") and callable(getattr(assoc.dimse, "get_msg", None))
            and callable(getattr(assoc, "_check_received_status", None))
        )
    except AttributeError:
        return False


def store_file(assoc: Any, path: Path, offset: int, sop_class: str, sop_instance: str, context_id: int
               ) -> Dataset | None:
    """C-STORE the data set of ``path`` (its bytes from ``offset``, in the context's syntax); the response's
    status Dataset (empty when none came), or None when the direct path is not usable (nothing was sent)."""
    if not usable(assoc):
        return None
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    pdus = pdata_pdus(context_id, store_request_command(sop_class, sop_instance), data,
                      int(assoc.dimse.maximum_pdu_size or 0))
    assoc._reactor_checkpoint.clear()
    try:
        deadline = time.monotonic() + 5.0
        while not assoc._is_paused and assoc.is_established and time.monotonic() < deadline:
            time.sleep(0.0001)
        try:
            assoc.dul.socket.socket.sendall(pdus)
        except (OSError, AttributeError) as exc:  # connection gone (or aborted by cancel): no response will come
            log.info("sending %s failed: %s", sop_instance, exc)
            if assoc.is_established:
                assoc.abort()
            return Dataset()
        _cx_id, rsp = assoc.dimse.get_msg(block=True)
    finally:
        assoc._reactor_checkpoint.set()
    if rsp is None:
        assoc._handle_no_response()
        return Dataset()
    return assoc._check_received_status(rsp)


__all__ = ["store_file", "store_request_command", "usable"]
