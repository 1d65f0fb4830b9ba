"""Store SCP: the presentation contexts we accept and the C-STORE handler over the archive.

The received data set is archived exactly as it arrived: pynetdicom's ``encoded_dataset(include_meta=True)``
prefixes the bytes with a preamble and file meta, nothing is decoded or re-encoded. The archive writes the file
(temp, fsync, rename) and indexes it before the handler returns, so Success means durable and findable, under
the SOP Instance UID the Success names: a C-STORE whose data set carries other SOP UIDs than its command, or
whose SOP class is not its presentation context's, is refused.

:func:`install_fast_store` serves the C-STORE requests of our associations without pynetdicom's generic
``StorageServiceClass.SCP``: the handler runs as an ``EVT_C_STORE`` handler would, and the response command set
is encoded by hand (pydicom's writer costs ~0.2 ms a response) and written to the socket as one P-DATA-TF PDU from
the association's thread, after the handler returned (the file durable and its row committed).
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import types
from typing import Any, Callable

from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import evt
from pynetdicom import sop_class as sc
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import _STORAGE_CLASSES

from workstation.archive import InvalidInstance, StorageFull
from workstation.dicom.header import NotDicom, Unusable, read_header
from workstation.give_way import give_way
from workstation.net.dimse_bytes import file_meta_bytes, handler_status, store_response_command

log = logging.getLogger("workstation.net.scp.server")

UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian]

# Everything we can decode for display, the default when settings.accepted_transfer_syntaxes is empty.
DECODABLE = [
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian,
    RLELossless, JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1, JPEGLSLossless,
    JPEGLSNearLossless, JPEG2000Lossless, JPEG2000,
]

STORAGE_SERVICE_CLASS = "1.2.840.10008.4.2"
STORAGE_SOP_CLASSES: list[str] = sorted(set(_STORAGE_CLASSES.values()))

# C-STORE status codes we answer with.
SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
NOT_AUTHORIZED = 0x0124
SOP_CLASS_NOT_SUPPORTED = 0x0122
DATASET_MISMATCH = 0xA900  # "Data Set does not match SOP Class"


def accepted_transfer_syntaxes(configured: list[str]) -> list[str]:
    """The storage transfer syntaxes we accept: the configured ones, or every syntax we can decode."""
    if not configured:
        return list(DECODABLE)
    out = []
    for value in configured:
        uid = UID(value.strip())
        if not uid.is_valid:
            log.warning("ignoring accepted transfer syntax %r: not a UID", value)
            continue
        out.append(uid)
    return out or list(DECODABLE)


def storage_contexts(transfer_syntaxes: list[str]) -> list[PresentationContext]:
    """One supported context per known storage SOP class, accepting either role (C-GET needs SCP role)."""
    contexts = []
    for uid in STORAGE_SOP_CLASSES:
        cx = PresentationContext()
        cx.abstract_syntax = uid
        cx.transfer_syntax = list(transfer_syntaxes)
        cx.scu_role = True
        cx.scp_role = True
        contexts.append(cx)
    return contexts


def is_unknown_storage(uid: str) -> bool:
    """A proposed abstract syntax we treat as storage although pynetdicom does not know it.

    Private SOP classes and standard ones newer than pynetdicom's tables are storage in practice (a peer
    proposes a query model or a normalized service only by its well-known UID).
    """
    u = UID(uid)
    if u in _STORAGE_CLASSES.values():
        return False
    if u.is_private:
        return True
    return not hasattr(sc, u.keyword) if u.keyword else True


def encoded_file(event: Any) -> bytes:
    """The complete file for a C-STORE request: our file meta + the data set bytes exactly as received."""
    request = event.request
    stream = request.DataSet
    dataset = stream.getbuffer() if hasattr(stream, "getbuffer") else stream.getvalue()
    meta = file_meta_bytes(str(request.AffectedSOPClassUID), str(request.AffectedSOPInstanceUID),
                           str(event.context.transfer_syntax), str(event.assoc.requestor.ae_title))
    return meta + dataset


def status_dataset(status: int, comment: str = "") -> Dataset:
    ds = Dataset()
    ds.Status = status
    if comment:
        # ErrorComment is LO: at most 64 characters, no backslash.
        ds.ErrorComment = comment.replace("\\", "/")[:64]
    return ds


class StoreHandler:
    """``EVT_C_STORE`` handler: archive the bytes, answer only once they are durable and indexed.

    ``allowed(assoc)`` decides whether the association may store (the security policy); ``on_stored`` and
    ``on_failed`` report to the server's activity hook.
    """

    def __init__(
        self,
        archive: Any,
        allowed: Callable[[Any], bool],
        on_stored: Callable[[Any, Any], None],
        on_failed: Callable[[Any, str, str], None],
    ):
        self.archive = archive
        self.allowed = allowed
        self.on_stored = on_stored
        self.on_failed = on_failed

    def __call__(self, event: Any) -> int | Dataset:
        assoc = event.assoc
        sop_uid = str(getattr(event.request, "AffectedSOPInstanceUID", "") or "")
        if not self.allowed(assoc):
            self.on_failed(assoc, sop_uid, "storage from this AE title is not allowed")
            return status_dataset(NOT_AUTHORIZED, "storage from this AE title is not allowed")
        request = event.request
        command_class = str(getattr(request, "AffectedSOPClassUID", "") or "")
        context_class = str(getattr(event.context, "abstract_syntax", "") or "")
        if command_class != context_class:
            # pynetdicom serves a C-STORE on any accepted context (even Verification's), whose transfer syntax
            # then labels a data set encoded for another.
            why = f"SOP class {command_class} sent on the presentation context of {context_class}"
            self.on_failed(assoc, sop_uid, why)
            return status_dataset(SOP_CLASS_NOT_SUPPORTED, "SOP class differs from the presentation context's")
        try:
            data = encoded_file(event)
        except Exception as exc:  # noqa: BLE001 - a request pynetdicom could not assemble
            self.on_failed(assoc, sop_uid, f"cannot assemble the data set: {exc}")
            return status_dataset(CANNOT_UNDERSTAND, "cannot assemble the data set")
        source = f"{assoc.requestor.ae_title}@{assoc.requestor.address}"
        give_way()  # in the app, while the GUI thread is busy (bounded): the header and the index hold the GIL
        try:
            header = read_header(data, name=source)
        except (NotDicom, Unusable) as exc:
            self.on_failed(assoc, sop_uid, f"cannot be archived: {exc}")
            return status_dataset(CANNOT_UNDERSTAND, f"cannot be archived: {exc}")
        # Success acknowledges the command's UIDs: the archive files the data set under its own, so they must agree
        # (the file meta, written from the command, would contradict the data set too).
        if header.sop_instance_uid != sop_uid:
            why = f"the data set's SOPInstanceUID {header.sop_instance_uid} differs from the command's {sop_uid}"
            self.on_failed(assoc, sop_uid, why)
            return status_dataset(CANNOT_UNDERSTAND, "SOPInstanceUID differs from the command's")
        data_class = str(header.attributes.get("SOPClassUID") or "")
        if data_class != command_class:
            why = f"the data set's SOPClassUID {data_class} differs from the command's {command_class}"
            self.on_failed(assoc, sop_uid, why)
            return status_dataset(DATASET_MISMATCH, "SOPClassUID differs from the command's")
        try:
            outcome = self.archive.store_header(header, data)
        except StorageFull as exc:
            self.on_failed(assoc, sop_uid, f"out of disk space: {exc}")
            return status_dataset(OUT_OF_RESOURCES, "out of disk space")
        except InvalidInstance as exc:
            self.on_failed(assoc, sop_uid, f"cannot be archived: {exc}")
            return status_dataset(CANNOT_UNDERSTAND, f"cannot be archived: {exc}")
        except OSError as exc:
            self.on_failed(assoc, sop_uid, f"cannot be written: {exc}")
            return status_dataset(OUT_OF_RESOURCES, f"cannot be written: {exc.strerror or exc}")
        except sqlite3.Error as exc:
            # Locked, read-only or failing index: our resource, not the peer's data; the archive has removed the
            # file it wrote, and A7xx tells the sender to try again later.
            self.on_failed(assoc, sop_uid, f"the archive's index failed: {type(exc).__name__}: {exc}")
            return status_dataset(OUT_OF_RESOURCES, f"archive index unavailable: {exc}")
        except Exception as exc:  # noqa: BLE001 - an index failure must still answer the peer
            log.exception("storing %s failed", sop_uid)
            self.on_failed(assoc, sop_uid, f"{type(exc).__name__}: {exc}")
            return status_dataset(CANNOT_UNDERSTAND, f"{type(exc).__name__}: {exc}")
        self.on_stored(assoc, outcome)
        return SUCCESS


def install_fast_store(assoc: Any) -> None:
    """Serve this acceptor association's C-STORE requests on the fast path (see the module docstring).

    Anything else (and a C-STORE when the DUL still has PDUs queued to send) goes to pynetdicom as before.
    """
    original = assoc._serve_request
    needed = ("_accepted_cx", "_sent_release", "dul", "dimse", "is_established")
    if not all(hasattr(assoc, n) for n in needed):
        return

    def serve_request(self: Any, msg: Any, context_id: int) -> None:
        dul = self.dul
        if (type(msg) is not C_STORE or not msg.is_valid_request or self._sent_release or msg._dataset_file
                or dul.socket is None or not dul.to_provider_queue.empty()):
            original(msg, context_id)
            return
        context = self._accepted_cx.get(context_id)
        if context is None:
            original(msg, context_id)  # pynetdicom logs and aborts
            return
        # A SOP class other than the context's is refused by the handler (0x0122); pynetdicom would serve it on
        # any context, or abort with an error for a class it does not know.
        self._is_paused = True
        try:
            result = evt.trigger(self, evt.EVT_C_STORE, {"request": msg, "context": context.as_tuple})
            status, comment = handler_status(result)
        except Exception:  # noqa: BLE001 - as pynetdicom: the peer gets "Cannot understand"
            log.exception("the C-STORE handler failed")
            status, comment = 0xC211, ""
        finally:
            self._is_paused = False
        if not self.is_established:
            return
        command = store_response_command(msg.AffectedSOPClassUID, msg.AffectedSOPInstanceUID, int(msg.MessageID),
                                         status, comment)
        pdv = struct.pack(">IBB", len(command) + 2, context_id, 0x03) + command
        sock = dul.socket
        if sock is not None and dul.to_provider_queue.empty():
            # P-DATA-TF in Sta6 changes no state; nothing else writes while the peer waits for this answer.
            sock.send(struct.pack(">BBI", 0x04, 0x00, len(pdv)) + pdv)
        else:
            from pynetdicom.pdu_primitives import P_DATA

            pdata = P_DATA()
            pdata.presentation_data_value_list.append((context_id, b"\x03" + command))
            dul.send_pdu(pdata)

    assoc._serve_request = types.MethodType(serve_request, assoc)
