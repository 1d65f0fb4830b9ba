"""The DICOM node: one pynetdicom AE hosting Verification, Storage and Query/Retrieve SCPs over the archive.

Use::

    server = DicomServer(settings, archive, on_event=callback)   # callback(ServerEvent), from network threads
    server.start()          # non-blocking; raises PortInUse / ServerError with a sentence for the user
    server.address          # ("127.0.0.1", 11112)
    server.stop()

or ``with running_server(settings, archive) as server: ...`` for the duration of a block.

Security policy, Orthanc's defaults: C-ECHO from anyone, C-STORE from anyone unless
``allow_store_from_unknown`` is off, C-FIND/C-MOVE/C-GET only from known nodes (``settings.nodes``, by calling
AE title, and by host too with ``check_node_host``) unless ``allow_query_from_unknown``. A peer that is not allowed
a service sees its presentation contexts for it rejected; when nothing it proposed is allowed the association is
rejected ("calling AE title not recognised"); both cases are logged with the reason.

Every association and its outcome goes to the log (``workstation.net.scp.server``): calling AE, address, contexts
accepted and rejected, instances received, final state. Hostile peers are handled by :mod:`workstation.net.guard`.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import ipaddress
import itertools
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from pydicom.uid import UID
from pynetdicom import AE, evt
from pynetdicom import _config as pynetdicom_config
from pynetdicom._handlers import (
    standard_dimse_recv_handler,
    standard_dimse_sent_handler,
    standard_pdu_recv_handler,
    standard_pdu_sent_handler,
)
from pynetdicom.pdu_primitives import SOPClassCommonExtendedNegotiation
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import Verification
from pynetdicom.transport import ThreadedAssociationServer

from workstation.config import Node, Settings, SettingsError, read_nodes
from workstation.net.guard import GuardConfig, GuardedRequestHandler, dataset_budget, wake_acceptor
from workstation.net.scp.query import QR_CLASSES, QueryHandlers, install_fast_find
from workstation.net.scp.store import (
    STORAGE_SERVICE_CLASS,
    UNCOMPRESSED,
    StoreHandler,
    accepted_transfer_syntaxes,
    install_fast_store,
    is_unknown_storage,
    storage_contexts,
)

log = logging.getLogger("workstation.net.scp.server")

_POLICY_PROTECTED = set(QR_CLASSES)
SLOT_WAIT = 5.0  # seconds an association over max_associations waits for a free slot before it is refused
SLOT_POLL = 0.05


class _AssociationServer(ThreadedAssociationServer):
    """pynetdicom's threaded server with a listen backlog fit for bursts (socketserver's default is 5: a
    burst of connections overflows it and the kernel makes the next real sender retry its SYN a second later)."""

    request_queue_size = 128
    daemon_threads = True

    def service_actions(self) -> None:
        """pynetdicom runs a full ``gc.collect()`` here every 60 polls (every 12 s with our poll interval), to free
        finished association threads caught in reference cycles. In the app, a full collection scans every live
        object - the headers of a series being opened included - while holding the GIL: traced at 121 ms of frozen
        GUI. The young generations hold those cycles (an association's objects are recent), and the collector's
        own thresholds still run the full collections when they are due. Nothing is collected while the collector
        is paused (the viewer pauses it while it reads a series' headers): the young generations then hold all
        those objects, and collecting them took 65-142 ms."""
        self._ws_polls = getattr(self, "_ws_polls", 0) + 1
        if self._ws_polls >= 60:
            self._ws_polls = 0
            if gc.isenabled():
                gc.collect(1)


class ServerError(OSError):
    """The server cannot start or run; ``str()`` is one sentence for the user (an OSError, like a failed bind)."""


class PortInUse(ServerError):
    """Another program listens on the configured port."""


@dataclass
class ServerEvent:
    """Something that happened on the server, for the GUI's activity view and the CLI.

    ``kind`` is one of "association-opened", "association-closed", "association-rejected",
    "instance-received", "instance-failed", "query", "move", "get", "protocol-violation". Counts are for the
    association (``received``, ``failed``) and for the server since it started (``total_received``).
    """

    kind: str
    association: int
    calling_ae: str = ""
    address: str = ""
    detail: str = ""
    sop_instance_uid: str = ""
    received: int = 0
    failed: int = 0
    total_received: int = 0
    time: float = field(default_factory=time.time)


EventCallback = Callable[[ServerEvent], None]


@dataclass
class _AssocInfo:
    number: int
    calling_ae: str = ""
    address: str = ""
    known: Node | None = None
    store_allowed: bool = True
    query_allowed: bool = False
    received: int = 0
    failed: int = 0
    negotiating: bool = True
    waiting: bool = False  # over the limit, waiting for a free slot: does not count against it
    opened: bool = False
    closed: bool = False


class DicomServer:
    """Echo/Store/Find/Move/Get SCP over ``archive`` with the settings' AE title, port, bind address and policy.

    Activity reaches ``on_event`` and listeners added with :meth:`add_listener`, called from pynetdicom's
    threads: a GUI must hop to its own thread (superqt's ``ensure_main_thread``). Nothing here imports Qt.
    """

    def __init__(self, settings: Settings, archive: Any, *, on_event: EventCallback | None = None):
        self.settings = settings
        self.archive = archive
        self._listeners: list[EventCallback] = [on_event] if on_event else []
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._server: ThreadedAssociationServer | None = None
        self._thread: threading.Thread | None = None
        self._ae: AE | None = None
        self.total_received = 0
        self.total_failed = 0
        self.started_at: float | None = None
        self._nodes_stamp = self._settings_stamp()

    # --- listeners ---------------------------------------------------------------------------------------------
    def add_listener(self, callback: EventCallback) -> None:
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: EventCallback) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _emit(self, kind: str, info: _AssocInfo | None, **kw: Any) -> None:
        event = ServerEvent(
            kind, info.number if info else 0, calling_ae=info.calling_ae if info else "",
            address=info.address if info else "", received=info.received if info else 0,
            failed=info.failed if info else 0, total_received=self.total_received, **kw,
        )
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - a broken listener must not break the network
                log.exception("server activity listener failed")

    # --- state -------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) we listen on; the real port when the settings asked for port 0."""
        if self._server is None:
            return (self.settings.bind, int(self.settings.port))
        host, port = self._server.server_address[:2]
        return (str(host), int(port))

    @property
    def active_associations(self) -> int:
        """Associations established (or negotiating) right now; connections without one do not count."""
        if self._server is None:
            return 0
        return sum(1 for a in self._server.active_associations if _counts(a))

    # --- start / stop ------------------------------------------------------------------------------------------
    def _contexts(self) -> list[PresentationContext]:
        contexts = []
        for uid in [Verification, *QR_CLASSES]:
            cx = PresentationContext()
            cx.abstract_syntax = uid
            cx.transfer_syntax = list(UNCOMPRESSED)
            contexts.append(cx)
        return contexts + storage_contexts(accepted_transfer_syntaxes(self.settings.accepted_transfer_syntaxes))

    def start(self) -> None:
        """Listen on ``settings.bind``:``settings.port`` and serve in background threads (returns at once)."""
        if self._server is not None:
            return
        s = self.settings
        ae = AE(ae_title=s.ae_title)
        ae.acse_timeout = s.acse_timeout
        ae.dimse_timeout = s.dimse_timeout
        ae.network_timeout = s.network_timeout
        ae.connection_timeout = s.acse_timeout
        ae.maximum_pdu_size = s.max_pdu
        # Our own cap (EVT_REQUESTED) counts associations only; pynetdicom's would count bare connections too.
        ae.maximum_associations = 1000
        ae.require_called_aet = False
        self._storage_syntaxes = accepted_transfer_syntaxes(s.accepted_transfer_syntaxes)
        store = StoreHandler(self.archive, self._store_allowed, self._on_stored, self._on_store_failed)
        query = QueryHandlers(s, self.archive, self._query_allowed, self._on_query)
        handlers = [
            (evt.EVT_REQUESTED, self._on_requested),
            (evt.EVT_ACCEPTED, self._on_accepted),
            (evt.EVT_RELEASED, self._on_closed, ["released"]),
            (evt.EVT_ABORTED, self._on_closed, ["aborted"]),
            (evt.EVT_CONN_CLOSE, self._on_closed, ["connection closed"]),
            (evt.EVT_C_STORE, store),
            (evt.EVT_C_FIND, query.find),
            (evt.EVT_C_MOVE, query.move),
            (evt.EVT_C_GET, query.get),
        ]
        address = (s.bind, int(s.port))
        self._all_contexts = self._contexts()
        try:
            server = ae.make_server(address, ae_title=s.ae_title, contexts=self._all_contexts, evt_handlers=handlers,
                                    server_class=_AssociationServer, request_handler=GuardedRequestHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {s.port} is already in use (another DICOM server?): choose another with "
                    f"`workstation config set port N`"
                ) from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise ServerError(f"not allowed to listen on port {s.port} (ports below 1024 need privileges): "
                                  "choose another with `workstation config set port N`") from None
            raise ServerError(f"cannot listen on {s.bind}:{s.port}: {exc.strerror or exc}") from None
        # pynetdicom's per-PDU/DIMSE logging handlers format every message even when nobody reads them.
        for event, handler in ((evt.EVT_DIMSE_RECV, standard_dimse_recv_handler),
                               (evt.EVT_DIMSE_SENT, standard_dimse_sent_handler),
                               (evt.EVT_PDU_RECV, standard_pdu_recv_handler),
                               (evt.EVT_PDU_SENT, standard_pdu_sent_handler)):
            with contextlib.suppress(Exception):
                server.unbind(event, handler)
        # pynetdicom deep-copies ``server.contexts`` for every connection; EVT_REQUESTED sets the real list.
        server.contexts = self._all_contexts[:1]
        if not logging.getLogger("pynetdicom").isEnabledFor(logging.DEBUG):
            # pynetdicom pretty-prints every identifier for a DEBUG log line even when nobody listens.
            pynetdicom_config.LOG_RESPONSE_IDENTIFIERS = False
            pynetdicom_config.LOG_REQUEST_IDENTIFIERS = False
        server._ws_guard = GuardConfig(  # type: ignore[attr-defined]
            max_pdu=s.max_pdu,
            dataset_budget=dataset_budget(s.max_associations, s.memory_budget_fraction),
            network_timeout=s.network_timeout,
            on_violation=self._on_violation,
            setup=_setup_association,
        )
        ae._servers.append(server)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                  name=f"dicom-server-{self.address[1]}", daemon=True)
        self._ae, self._server, self._thread = ae, server, thread
        thread.start()
        self.started_at = time.time()
        host, port = self.address
        log.info("DICOM server %s listening on %s:%d (max %d associations, PDU %d, storage syntaxes: %s)",
                 s.ae_title, host, port, s.max_associations, s.max_pdu,
                 ", ".join(UID(t).name for t in self._storage_syntaxes))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, abort associations still open and wait (bounded) for their threads."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.shutdown()
        except Exception:  # noqa: BLE001 - already half closed
            log.debug("server shutdown", exc_info=True)
        assocs = list(server.active_associations)
        for assoc in assocs:
            with contextlib.suppress(Exception):
                if assoc.is_established:
                    assoc.abort()
                else:
                    # Not associated (yet): close the connection and wake the thread waiting for a request.
                    if assoc.dul.socket is not None:
                        assoc.dul.socket.close()
                    wake_acceptor(assoc.dul)
        deadline = time.monotonic() + timeout
        for assoc in assocs:
            assoc.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic()))
        log.info("DICOM server %s stopped (%d instances received, %d failed)", self.settings.ae_title,
                 self.total_received, self.total_failed)

    def __enter__(self) -> "DicomServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- policy ------------------------------------------------------------------------------------------------
    def _settings_stamp(self) -> int | None:
        try:
            return self.settings.path.stat().st_mtime_ns if self.settings.path else None
        except OSError:
            return None

    def refresh_nodes(self) -> None:
        """Take the nodes from the settings file again when it changed since we last looked: a PACS admin who
        runs `workstation nodes add` (another process) while `serve` runs expects the new node to be known."""
        stamp = self._settings_stamp()
        if stamp is None or stamp == self._nodes_stamp:
            return
        self._nodes_stamp = stamp
        try:
            nodes = read_nodes(self.settings.path)  # type: ignore[arg-type]
        except SettingsError as exc:
            log.warning("keeping the known nodes: %s", exc)
            return
        if nodes != self.settings.nodes:
            log.info("nodes reloaded from %s: %s", self.settings.path, ", ".join(n.ae_title for n in nodes) or "none")
            self.settings.nodes = nodes

    def known_node(self, calling_ae: str, host: str) -> Node | None:
        """The configured node this peer is (by AE title, and by host with ``check_node_host``), or None."""
        for node in list(self.settings.nodes):
            if node.ae_title != calling_ae:
                continue
            if not self.settings.check_node_host or _same_host(node.host, host):
                return node
        return None

    def _store_allowed(self, assoc: Any) -> bool:
        info = _info(assoc)
        return info is None or info.store_allowed

    def _query_allowed(self, assoc: Any) -> bool:
        info = _info(assoc)
        return info is not None and info.query_allowed

    @property
    def slot_wait(self) -> float:
        """Seconds an association over the limit waits for a free slot."""
        return max(0.0, min(SLOT_WAIT, float(self.settings.acse_timeout) / 2))

    def _open_others(self, assoc: Any) -> int:
        server = self._server
        return sum(1 for a in list(server.active_associations) if a is not assoc and _counts(a)) if server else 0

    def _wait_for_slot(self, assoc: Any, info: _AssocInfo) -> int:
        """0 once ``assoc`` may go on; else how many associations are open after :data:`SLOT_WAIT` seconds.

        A burst of modalities over the limit waits here (in its own acceptor thread, before any context is
        negotiated, so it holds no data-set memory) instead of being refused at once, as Orthanc's bounded pool
        does. Waiting associations do not count against the limit, and no more than ``max_associations`` wait:
        threads stay bounded by twice the limit."""
        limit = self.settings.max_associations
        # Within half our own ACSE timeout too: the requestor's is likely no longer, and it must get our answer.
        deadline = time.monotonic() + self.slot_wait
        first = True
        while True:
            with self._lock:
                busy = self._open_others(assoc)
                if busy < limit:
                    info.waiting = False
                    return 0
                if first:
                    waiting = sum(1 for a in list(self._server.active_associations) if a is not assoc
                                  and getattr(_info(a), "waiting", False)) if self._server else 0
                    if waiting >= limit:
                        return busy
                    info.waiting = True
                    first = False
                    log.info("association #%d from %s waits for a free slot (%d open, max_associations %d)",
                             info.number, info.calling_ae, busy, limit)
            if time.monotonic() >= deadline or self._server is None:
                info.waiting = False
                return busy
            time.sleep(SLOT_POLL)

    def _on_requested(self, event: Any) -> None:
        assoc = event.assoc
        rq = assoc.requestor.primitive
        calling = str(rq.calling_ae_title).strip()
        called = str(rq.called_ae_title).strip()
        host, port = assoc.requestor.address, assoc.requestor.port
        info = _AssocInfo(next(self._numbers), calling, f"{host}:{port}")
        assoc._ws_info = info
        s = self.settings
        self.refresh_nodes()
        info.known = self.known_node(calling, host)
        info.store_allowed = info.known is not None or s.allow_store_from_unknown
        info.query_allowed = info.known is not None or s.allow_query_from_unknown

        def reject(result: int, source: int, diagnostic: int, why: str) -> None:
            info.negotiating = False
            info.closed = True
            log.warning("association #%d from %s@%s (called %s) rejected: %s", info.number, calling,
                        info.address, called, why)
            assoc.acse.send_reject(result, source, diagnostic)
            evt.trigger(assoc, evt.EVT_REJECTED, {})
            self._emit("association-rejected", info, detail=why)
            assoc.kill()

        if s.require_called_ae_title and called != s.ae_title:
            reject(0x01, 0x01, 0x07, f"called AE title {called!r} is not ours ({s.ae_title!r})")
            return
        busy = self._wait_for_slot(assoc, info)
        if busy:
            reject(0x02, 0x03, 0x02, f"{busy} associations already open (max_associations "
                                     f"{s.max_associations}, waited {self.slot_wait:.1f} s for a free one)")
            return
        proposed = [cx for cx in rq.presentation_context_definition_list]
        # The full list is shared, not copied per association (pynetdicom's deepcopy of ~180 contexts costs
        # ~15 ms per association); negotiation only reads it.
        supported = list(self._all_contexts)
        supported_uids = {cx.abstract_syntax for cx in supported}
        refused: set[str] = set()
        allowed_cx = []
        for cx in supported:
            uid = cx.abstract_syntax
            if uid in _POLICY_PROTECTED and not info.query_allowed:
                refused.add(uid)
            elif uid != Verification and uid not in _POLICY_PROTECTED and not info.store_allowed:
                refused.add(uid)
            else:
                allowed_cx.append(cx)
        unknown_storage = set()
        if info.store_allowed:
            for pcx in proposed:
                uid = pcx.abstract_syntax
                if uid not in supported_uids and uid not in unknown_storage and is_unknown_storage(uid):
                    unknown_storage.add(uid)
                    cx = PresentationContext()
                    cx.abstract_syntax = uid
                    cx.transfer_syntax = list(self._storage_syntaxes)
                    cx.scu_role = True
                    cx.scp_role = True
                    allowed_cx.append(cx)
        assoc._ws_unknown_storage = unknown_storage
        assoc.acceptor.supported_contexts = allowed_cx
        wanted = {pcx.abstract_syntax for pcx in proposed}
        usable = wanted & {cx.abstract_syntax for cx in allowed_cx}
        policy_hits = wanted & refused
        if policy_hits:
            what = "query/retrieve" if policy_hits <= _POLICY_PROTECTED else "storage"
            why = (f"{calling} is not a known node (add it with `workstation nodes add`) and {what} from unknown "
                   f"AE titles is not allowed")
            if not usable:
                reject(0x01, 0x01, 0x03, why + "; nothing else was proposed")
                return
            log.info("association #%d from %s@%s: rejecting its %s contexts: %s", info.number, calling,
                     info.address, what, why)

    def _on_accepted(self, event: Any) -> None:
        assoc = event.assoc
        info = _info(assoc)
        if info is None:
            return
        # Unknown and private storage SOP classes: route their C-STOREs to the Storage service class.
        for uid in getattr(assoc, "_ws_unknown_storage", ()):
            item = SOPClassCommonExtendedNegotiation()
            item.sop_class_uid = uid
            item.service_class_uid = STORAGE_SERVICE_CLASS
            assoc.acceptor._common_ext[UID(uid)] = item
        info.negotiating = False
        info.opened = True
        accepted = sorted({_name(cx.abstract_syntax) + "/" + _name(cx.transfer_syntax[0])
                           for cx in assoc.accepted_contexts})
        rejected = sorted({_name(cx.abstract_syntax) for cx in assoc.rejected_contexts})
        log.info("association #%d from %s@%s accepted: %d contexts [%s]; rejected %d [%s]", info.number,
                 info.calling_ae, info.address, len(accepted), _short(accepted), len(rejected), _short(rejected))
        self._emit("association-opened", info, detail=f"{len(accepted)} contexts accepted, {len(rejected)} rejected")

    def _on_closed(self, event: Any, how: str) -> None:
        info = _info(event.assoc)
        if info is None or info.closed:
            if info is None and how == "connection closed":
                log.debug("connection from %s closed without an association", event.assoc.requestor.address)
            return
        info.closed = True
        info.negotiating = False
        log.info("association #%d from %s@%s %s: %d instances received, %d failed", info.number, info.calling_ae,
                 info.address, how, info.received, info.failed)
        self._emit("association-closed", info, detail=how)

    def _on_stored(self, assoc: Any, outcome: Any) -> None:
        info = _info(assoc)
        with self._lock:
            self.total_received += 1
        if info is not None:
            info.received += 1
        log.debug("stored %s (%s) from %s", outcome.sop_instance_uid, outcome.status,
                  info.calling_ae if info else "?")
        self._emit("instance-received", info, sop_instance_uid=outcome.sop_instance_uid, detail=outcome.status)

    def _on_store_failed(self, assoc: Any, sop_uid: str, reason: str) -> None:
        info = _info(assoc)
        with self._lock:
            self.total_failed += 1
        if info is not None:
            info.failed += 1
        log.warning("C-STORE of %s from %s failed: %s", sop_uid, info.calling_ae if info else "?", reason)
        self._emit("instance-failed", info, sop_instance_uid=sop_uid, detail=reason)

    def _on_query(self, assoc: Any, kind: str, detail: str) -> None:
        self._emit(kind if kind != "find" else "query", _info(assoc), detail=detail)

    def _on_violation(self, assoc: Any, peer: str, reason: str) -> None:
        info = _info(assoc)
        who = f"association #{info.number} from {info.calling_ae}@{peer}" if info else f"connection from {peer}"
        log.warning("%s aborted: %s", who, reason)
        self._emit("protocol-violation", info, detail=f"{peer}: {reason}")


_STANDARD_HANDLERS = ((evt.EVT_DIMSE_RECV, standard_dimse_recv_handler),
                      (evt.EVT_DIMSE_SENT, standard_dimse_sent_handler),
                      (evt.EVT_PDU_RECV, standard_pdu_recv_handler),
                      (evt.EVT_PDU_SENT, standard_pdu_sent_handler))


def _setup_association(assoc: Any) -> None:
    """Every new association: the fast C-STORE path, and without pynetdicom's own logging handlers when nobody
    reads pynetdicom's INFO/DEBUG lines (the association binds them itself; they decode every command set
    again to format a message: ~0.1 ms a C-STORE)."""
    install_fast_store(assoc)
    install_fast_find(assoc)
    if not logging.getLogger("pynetdicom").isEnabledFor(logging.INFO):
        for event, handler in _STANDARD_HANDLERS:
            with contextlib.suppress(Exception):
                assoc.unbind(event, handler)


def _info(assoc: Any) -> _AssocInfo | None:
    return getattr(assoc, "_ws_info", None)


def _counts(assoc: Any) -> bool:
    """Whether an acceptor thread counts against max_associations: established or negotiating, not bare."""
    info = _info(assoc)
    if info is None:
        return False
    return bool(assoc.is_established or info.negotiating) and not info.closed and not info.waiting


def _name(uid: Any) -> str:
    try:
        name = UID(str(uid)).name
    except Exception:  # noqa: BLE001
        name = str(uid)
    return name.replace(" Storage", "").replace("Image", "").strip() or str(uid)


def _short(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f", +{len(items) - n} more" if len(items) > n else "")


def _addresses(host: str) -> set[str]:
    try:
        return {ai[4][0] for ai in socket.getaddrinfo(host, None)}
    except OSError:
        return {host}


def _same_host(node_host: str, peer: str) -> bool:
    def loopback(a: str) -> bool:
        try:
            return ipaddress.ip_address(a.split("%")[0]).is_loopback
        except ValueError:
            return False

    peer = peer.removeprefix("::ffff:")
    candidates = {a.removeprefix("::ffff:") for a in _addresses(node_host)}
    if peer in candidates:
        return True
    return loopback(peer) and any(loopback(a) for a in candidates)


@contextlib.contextmanager
def running_server(settings: Settings, archive: Any, *, on_event: EventCallback | None = None) -> Iterator[DicomServer]:
    """Run a :class:`DicomServer` for the duration of a ``with`` block (e.g. to receive a C-MOVE)."""
    server = DicomServer(settings, archive, on_event=on_event)
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["DicomServer", "PortInUse", "ServerError", "ServerEvent", "running_server"]
