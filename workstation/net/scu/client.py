"""DICOM client (SCU): echo and find here; retrieve in :mod:`scu_retrieve`, send in :mod:`scu_send`.

Every operation is a blocking function that takes the :class:`~workstation.config.Settings` (our AE title,
timeouts, PDU size), a :class:`~workstation.config.Node`, an optional ``progress(Progress)`` callback and an
optional ``cancel`` object (a :class:`threading.Event` or anything with ``is_set()``). The GUI runs them in a
worker; the CLI calls them directly. Failures raise :class:`NetError` whose text is one sentence for the user.

Performance notes, so nobody "simplifies" them away:

* pynetdicom never sets ``TCP_NODELAY``; against peers that keep Nagle on (Debian's dcmtk and Orthanc unless
  ``TCP_NODELAY=1`` is in their environment) every request/response pair then waits ~40 ms for a delayed ACK.
  We set it from the ``EVT_CONN_OPEN`` handler, which pynetdicom calls right after ``connect()`` and before the
  A-ASSOCIATE-RQ leaves, so even association negotiation benefits.
* We offer a large maximum PDU (``settings.max_pdu``) so peers send us few, large P-DATA PDUs.
* The pynetdicom internals bulk associations tune are in :mod:`workstation.net.scu.tuning`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, Sequence

from pydicom import config as pydicom_config
from pydicom.dataelem import DataElement
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from workstation.config import Node, Settings
from workstation.net.scu.tuning import adaptive_poll, fast_recv, hold_reactor, quiet_standard_handlers

log = logging.getLogger("workstation.net.scu.client")

UNCOMPRESSED = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]


class NetError(Exception):
    """A network operation failed; ``str()`` is one clear sentence for the user."""


class Cancelled(NetError):
    """The operation was cancelled by the user."""


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass
class Progress:
    """What a long operation reports: counts so far and a line for people."""

    done: int = 0
    total: int | None = None
    failed: int = 0
    warning: int = 0
    message: str = ""


ProgressCallback = Callable[[Progress], None]


def _is_set(cancel: CancelFlag | None) -> bool:
    return bool(cancel is not None and cancel.is_set())


def node_label(node: Node) -> str:
    return f"{node.name} ({node.ae_title}@{node.host}:{node.port})" if node.name else (
        f"{node.ae_title}@{node.host}:{node.port}"
    )


# --- associations --------------------------------------------------------------------------------------------


def _set_nodelay(event: evt.Event) -> None:
    """EVT_CONN_OPEN: switch Nagle off on the freshly connected socket (see module docstring)."""
    try:
        sock = event.assoc.dul.socket.socket
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError) as exc:  # pragma: no cover - a platform without the option
        log.debug("could not set TCP_NODELAY: %s", exc)


class _Outcome:
    """What happened while associating, recorded by event handlers for the failure message."""

    def __init__(self) -> None:
        self.connected = False
        self.response: Any = None  # the A-ASSOCIATE-AC/RJ primitive

    def on_open(self, event: evt.Event) -> None:
        self.connected = True
        _set_nodelay(event)

    def on_acse(self, event: evt.Event) -> None:
        primitive = event.primitive
        if type(primitive).__name__ == "A_ASSOCIATE" and getattr(primitive, "result", None) is not None:
            self.response = primitive


def _explain_refusal(node: Node, settings: Settings, outcome: _Outcome, timeout: float,
                     assoc: Association | None = None, elapsed: float = 0.0) -> str:
    where = node_label(node)
    if not outcome.connected:
        try:
            socket.getaddrinfo(node.host, node.port)
        except OSError:
            return f"cannot reach {where}: unknown host {node.host!r}"
        return (
            f"cannot connect to {where}: connection refused or no route "
            "(is the node running and are host and port right?)"
        )
    rsp = outcome.response
    if rsp is None:
        if elapsed >= timeout * 0.9:
            return f"{where} accepted the connection but did not answer the association request within {timeout:g} s"
        if assoc is not None and assoc.is_rejected:
            return f"{where} rejected the association (check its AE title {node.ae_title!r} and that it knows ours)"
        return f"{where} closed the connection during association negotiation (check the AE titles on both sides)"
    if rsp.result == 0x00:
        return f"{where} accepted the association but none of the proposed services (SOP classes / transfer syntaxes)"
    reason = rsp.reason_str
    hint = ""
    if rsp.result_source == 1 and rsp.diagnostic == 3:
        hint = (f": the node does not know this workstation's AE title {settings.ae_title!r} - add "
                f"{settings.ae_title} and this computer's host/port to its configuration")
    elif rsp.result_source == 1 and rsp.diagnostic == 7:
        hint = f": check the node's AE title (we called it {node.ae_title!r})"
    elif rsp.result_source == 3:
        hint = ": the node is busy, try again later"
    kind = "permanently" if rsp.result == 1 else "transiently"
    return f"{where} {kind} rejected the association ({reason}, source: {rsp.source_str}){hint}"


def make_ae(settings: Settings) -> AE:
    """An AE with our title, timeouts and maximum PDU from the settings."""
    ae = AE(ae_title=settings.ae_title)
    ae.acse_timeout = settings.acse_timeout
    ae.dimse_timeout = settings.dimse_timeout
    ae.network_timeout = settings.network_timeout
    ae.connection_timeout = settings.acse_timeout
    ae.maximum_pdu_size = settings.max_pdu
    return ae


def open_association(
    settings: Settings,
    node: Node,
    contexts: Sequence[PresentationContext],
    *,
    ext_neg: list | None = None,
    evt_handlers: list | None = None,
    fast: bool = False,
) -> Association:
    """Associate with ``node`` proposing ``contexts``; raise :class:`NetError` with the reason when refused.

    ``fast`` shortens the DUL reactor's idle poll for bulk transfers (see the module docstring).
    """
    if len(contexts) > 128:
        raise ValueError("at most 128 presentation contexts per association")
    for attempt in (1, 2, 3):
        ae = make_ae(settings)
        outcome = _Outcome()
        handlers = [(evt.EVT_CONN_OPEN, outcome.on_open), (evt.EVT_ACSE_RECV, outcome.on_acse)]
        handlers += list(evt_handlers or [])
        log.info("associating with %s", node_label(node))
        start = time.monotonic()
        assoc = ae.associate(
            node.host, node.port, contexts=list(contexts), ae_title=node.ae_title, max_pdu=settings.max_pdu,
            ext_neg=ext_neg, evt_handlers=handlers,
        )
        if assoc.is_established:
            break
        elapsed = time.monotonic() - start
        if (attempt < 3 and outcome.connected and outcome.response is None and not assoc.is_rejected
                and elapsed < settings.acse_timeout * 0.5):
            # A peer that closes its socket right after an A-ASSOCIATE-RJ (dcmqrscp does) can make pynetdicom
            # see the close before the RJ; asking again usually gets the real reason.
            log.info("connection closed during negotiation; asking once more for the reason")
            continue
        raise NetError(_explain_refusal(node, settings, outcome, settings.acse_timeout, assoc, elapsed))
    quiet_standard_handlers(assoc)
    # Every association we drive holds pynetdicom's reactor: otherwise its thread can take a response off the
    # queue while our call waits for it (a C-FIND match lost about once in 300-1,000 queries on a fast peer).
    hold_reactor(assoc)
    if fast:
        adaptive_poll(assoc)
        fast_recv(assoc)
    return assoc


@contextlib.contextmanager
def association(
    settings: Settings, node: Node, contexts: Sequence[PresentationContext], **kwargs: Any
) -> Iterator[Association]:
    """Context manager over :func:`open_association`; releases (or aborts, on error) on exit."""
    assoc = open_association(settings, node, contexts, **kwargs)
    try:
        yield assoc
    except BaseException:
        if assoc.is_established:
            assoc.abort()
        raise
    else:
        if assoc.is_established:
            assoc.release()


class CancelWatch:
    """Run ``action`` once, from a helper thread, as soon as ``cancel`` is set (until the ``with`` block ends).

    Used to send C-CANCEL or A-ABORT while the calling thread is blocked waiting for a response. With ``armed``
    (an Event, see :func:`request_sent`), the action waits until it is set: a C-CANCEL that overtakes its request
    is ignored by the peer (PS3.7 9.3.2.3; pynetdicom even forgets cancels at each new request), and the
    operation would then run to its end.
    """

    def __init__(self, cancel: CancelFlag | None, action: Callable[[], None],
                 armed: threading.Event | None = None):
        self.cancel = cancel
        self.action = action
        self.armed = armed
        self.fired = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._fire_lock = threading.Lock()

    def __enter__(self) -> "CancelWatch":
        if self.cancel is not None:
            self._thread = threading.Thread(target=self._run, name="net-cancel-watch", daemon=True)
            self._thread.start()
        return self

    def poll(self) -> bool:
        """Fire now if cancel is set (and armed); for a thread that can look between two steps of its work,
        sooner than the watcher's 20 ms poll. Returns whether the action has fired (once, whoever fired it)."""
        if self.fired or self.cancel is None or not self.cancel.is_set():
            return self.fired
        if self.armed is not None and not self.armed.is_set():
            return False
        with self._fire_lock:
            if self.fired:
                return True
            self.fired = True
        try:
            self.action()
        except Exception:  # noqa: BLE001 - the association may already be gone
            log.debug("cancel action failed", exc_info=True)
        return True

    def _run(self) -> None:
        while not self._done.is_set():
            if self.poll() or self.fired:
                return
            self._done.wait(0.02 if not self.cancel.is_set() else 0.002)  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(1.0)


def abort_and_wake(assoc: Association) -> None:
    """A-ABORT from another thread, and wake the thread blocked waiting for a response.

    pynetdicom's ``abort()`` does not wake a thread inside ``send_c_*`` that waits for the next DIMSE message:
    it would sit there until ``dimse_timeout`` (a minute by default). An empty queue item is what pynetdicom
    itself uses for "no response"; the waiting call then returns at once.
    """
    try:
        if not assoc.is_aborted:
            assoc.abort()
    finally:
        with contextlib.suppress(Exception):
            for _ in range(3):  # the reactor, let go by the abort, may take one off the queue
                assoc.dimse.msg_queue.put((None, None))


_REQUESTS = ("C_FIND_RQ", "C_MOVE_RQ", "C_GET_RQ")


@contextlib.contextmanager
def request_sent(assoc: Association) -> Iterator[threading.Event]:
    """An Event set once our C-FIND/C-MOVE/C-GET request has left (for :class:`CancelWatch`'s ``armed``)."""
    sent = threading.Event()

    def on_sent(event: evt.Event) -> None:
        if not sent.is_set() and type(event.message).__name__ in _REQUESTS:
            sent.set()

    assoc.bind(evt.EVT_DIMSE_SENT, on_sent)
    try:
        yield sent
    finally:
        with contextlib.suppress(Exception):
            assoc.unbind(evt.EVT_DIMSE_SENT, on_sent)


def status_of(rsp: Dataset | None) -> int | None:
    if rsp is None or "Status" not in rsp:
        return None
    return int(rsp.Status)


# --- echo ----------------------------------------------------------------------------------------------------


def echo(settings: Settings, node: Node) -> float:
    """C-ECHO ``node``; return the round trip (association + echo + release) in seconds."""
    start = time.perf_counter()
    with association(settings, node, [build_context(Verification)]) as assoc:
        rsp = assoc.send_c_echo()
        status = status_of(rsp)
        if status is None:
            raise NetError(f"{node_label(node)} did not answer the C-ECHO within {settings.dimse_timeout:g} s")
        if status != 0x0000:
            raise NetError(f"{node_label(node)} answered the C-ECHO with status 0x{status:04X}")
    return time.perf_counter() - start


# --- find ----------------------------------------------------------------------------------------------------

LEVELS = {"patient": "PATIENT", "study": "STUDY", "series": "SERIES", "image": "IMAGE", "instance": "IMAGE"}

# Return keys asked for at each level (universal matching), the columns the archive's ``query`` returns.
RETURN_KEYS = {
    "PATIENT": ["PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
                "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"],
    "STUDY": ["PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
              "StudyTime", "StudyDescription", "AccessionNumber", "ReferringPhysicianName", "StudyID",
              "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"],
    "SERIES": ["StudyInstanceUID", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription", "Modality",
               "BodyPartExamined", "NumberOfSeriesRelatedInstances"],
    "IMAGE": ["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "InstanceNumber",
              "NumberOfFrames", "Rows", "Columns"],
}
_COUNT_KEY = {"PATIENT": "NumberOfPatientRelatedInstances", "STUDY": "NumberOfStudyRelatedInstances",
              "SERIES": "NumberOfSeriesRelatedInstances"}
_SKIP = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle", "InstanceAvailability"}
_LIST_KEYS = {"ModalitiesInStudy", "SOPClassesInStudy"}

FIND_MODELS = {"patient": PatientRootQueryRetrieveInformationModelFind,
               "study": StudyRootQueryRetrieveInformationModelFind}

FIND_STATUS = {
    0xA700: "out of resources",
    0xA900: "the identifier does not match the SOP class",
    0xFE00: "cancelled",
}


def normalize_level(level: str) -> str:
    try:
        return LEVELS[level.lower()]
    except KeyError:
        raise NetError(f"unknown query level {level!r}; use patient, study, series or image") from None


def build_identifier(level: str, filters: dict[str, Any] | None = None, keys: Sequence[str] | None = None) -> Dataset:
    """The C-FIND identifier: return keys empty (universal matching), ``filters`` as matching keys."""
    qr_level = normalize_level(level)
    ds = Dataset()
    ds.QueryRetrieveLevel = qr_level
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    if any(not str(v).isascii() for v in filters.values()):
        ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8 for non-ASCII matching values
    for kw in list(keys if keys is not None else RETURN_KEYS[qr_level]):
        setattr(ds, kw, None)  # empty value: universal matching, encodes for every VR
    for kw, value in filters.items():
        if isinstance(value, (list, tuple)):
            value = "\\".join(map(str, value))
        try:
            tag = tag_for_keyword(kw)
            if tag is None:
                raise ValueError("not a DICOM keyword")
            # Wildcards and ranges ("C?", "2024-") are valid matching keys but not valid values of their VR:
            # without this pydicom warns on the user's terminal for every such query.
            ds[tag] = DataElement(tag, dictionary_VR(tag), str(value), validation_mode=pydicom_config.IGNORE)
        except (ValueError, TypeError, KeyError) as exc:
            raise NetError(f"cannot query on {kw}={value!r}: {exc}") from None
    return ds


def _plain(elem: Any) -> Any:
    value = elem.value
    if value is None or value == "":
        return None if elem.VR in ("IS", "DS", "US", "UL", "SS", "SL", "FL", "FD") else ""
    if elem.VR == "PN":
        if elem.VM > 1:
            return "\\".join(str(v) for v in value)
        return str(value)
    if elem.VR == "SQ":
        return None
    if elem.VM > 1 or elem.keyword in _LIST_KEYS:
        values = list(value) if elem.VM > 1 else [value]
        return [_scalar(elem.VR, v) for v in values]
    return _scalar(elem.VR, value)


def _scalar(vr: str, value: Any) -> Any:
    if vr == "IS":
        return int(value)
    if vr == "DS":
        return float(value)
    if vr in ("US", "UL", "SS", "SL"):
        return int(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def row_from_identifier(ds: Dataset, level: str | None = None) -> dict[str, Any]:
    """A C-FIND response identifier as a row shaped like the archive's ``query`` rows."""
    row: dict[str, Any] = {}
    for elem in ds:
        kw = elem.keyword
        if not kw or kw in _SKIP or elem.tag.group in (0x0000, 0x0002):
            continue
        try:
            row[kw] = _plain(elem)
        except (ValueError, TypeError):
            row[kw] = str(elem.value)
    qr_level = level or str(ds.get("QueryRetrieveLevel", "")).upper()
    count_key = _COUNT_KEY.get(qr_level)
    if count_key and row.get(count_key) is not None:
        row["NumberOfInstances"] = row[count_key]
    if "ModalitiesInStudy" in row and not isinstance(row["ModalitiesInStudy"], list):
        row["ModalitiesInStudy"] = [row["ModalitiesInStudy"]] if row["ModalitiesInStudy"] else []
    return row


class QuerySession:
    """An open association for repeated C-FINDs (the GUI's browser keeps one while the user types).

    Use as a context manager, or call :meth:`close`. Not thread-safe: one query at a time.
    """

    def __init__(self, settings: Settings, node: Node):
        self.settings = settings
        self.node = node
        contexts = [build_context(FIND_MODELS["study"], UNCOMPRESSED),
                    build_context(FIND_MODELS["patient"], UNCOMPRESSED)]
        self.assoc = open_association(settings, node, contexts)
        self._msg_id = 0

    def __enter__(self) -> "QuerySession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.assoc.is_established:
            self.assoc.release()

    def find(
        self,
        level: str = "study",
        filters: dict[str, Any] | None = None,
        *,
        model: str | None = None,
        keys: Sequence[str] | None = None,
        limit: int | None = None,
        cancel: CancelFlag | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[dict[str, Any]]:
        """C-FIND at ``level`` with ``filters`` ({keyword: value}); return rows (see :func:`row_from_identifier`).

        ``model`` is "study" (Study Root, the default) or "patient" (Patient Root, the default at patient
        level). ``limit`` stops after that many rows (sending C-CANCEL). Cancel sends C-CANCEL and raises
        :class:`Cancelled`.
        """
        qr_level = normalize_level(level)
        model = model or ("patient" if qr_level == "PATIENT" else "study")
        if model not in FIND_MODELS:
            raise NetError(f"unknown query model {model!r}; use patient or study")
        if model == "study" and qr_level == "PATIENT":
            raise NetError("the Study Root model has no patient level; use the Patient Root model")
        if not self.assoc.is_established:
            raise NetError(f"the association with {node_label(self.node)} is closed")
        identifier = build_identifier(level, filters, keys)
        self._msg_id = self._msg_id % 65535 + 1
        msg_id = self._msg_id
        sop_class = FIND_MODELS[model]
        context_id = next((cx.context_id for cx in self.assoc.accepted_contexts
                           if cx.abstract_syntax == sop_class), None)
        if context_id is None:
            raise NetError(f"{node_label(self.node)} does not support {model}-root C-FIND")
        rows: list[dict[str, Any]] = []
        final: int | None = None
        cancelled = False

        def send_cancel() -> None:
            self.assoc.send_c_cancel(msg_id, context_id)

        if _is_set(cancel):
            raise Cancelled("query cancelled")
        with request_sent(self.assoc) as sent, CancelWatch(cancel, send_cancel, sent) as watch:
            for status, ds in self.assoc.send_c_find(identifier, sop_class, msg_id=msg_id):
                code = status_of(status)
                if code is None:
                    self.assoc.abort()
                    raise NetError(
                        f"{node_label(self.node)} stopped answering the C-FIND "
                        f"(no response within {self.settings.dimse_timeout:g} s)"
                    )
                if code in (0xFF00, 0xFF01):
                    if ds is not None and not cancelled:
                        rows.append(row_from_identifier(ds, qr_level))
                        if progress:
                            found = len(rows)
                            progress(Progress(done=found, message=f"{found} match{'es' if found != 1 else ''}"))
                        if limit is not None and len(rows) >= limit and not cancelled:
                            cancelled = True
                            send_cancel()
                    continue
                final = code
            if watch.fired:
                raise Cancelled("query cancelled")
        if final not in (0x0000, 0xFE00):
            reason = FIND_STATUS.get(final or 0, "unable to process" if (final or 0) >> 12 == 0xC else "failed")
            raise NetError(f"{node_label(self.node)} failed the C-FIND: status 0x{final or 0:04X} ({reason})")
        return rows[:limit] if limit is not None else rows


def find(
    settings: Settings,
    node: Node,
    level: str = "study",
    filters: dict[str, Any] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """One C-FIND on a fresh association; see :meth:`QuerySession.find` for the arguments."""
    with QuerySession(settings, node) as session:
        return session.find(level, filters, **kwargs)
