"""C-MOVE and C-GET SCU: retrieve a study, series or instance from a node into the archive.

* **C-MOVE** asks the node to send the instances to a destination AE title (ours by default); they arrive
  through our Store SCP (``workstation.net.scp.server``), which must be running and known to the node.
* **C-GET** receives the instances on the same association: we propose the storage SOP classes with SCP role
  selection, and each C-STORE sub-operation hands the complete encoded file (``event.encoded_dataset``) either
  to ``archive`` through :class:`~workstation.net.scu.ingest.ArchiveIngest` (the product path: files written
  atomically without fsync, one filesystem sync + index commit per batch, the result returned only once the last
  batch is durable and indexed) or to a ``store`` callable. Writes are atomic, so a cancelled or aborted retrieve
  never leaves half a file.

Cancel sends C-CANCEL; if the node does not finish within a grace period the association is aborted.
"""

from __future__ import annotations

import logging
import struct
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import evt
from pynetdicom import sop_class as sc
from pynetdicom.pdu_primitives import SCP_SCU_RoleSelectionNegotiation
from pynetdicom.presentation import build_context

from workstation.config import Node, Settings
from workstation.net.dimse_bytes import file_meta_bytes, store_response_command
from workstation.net.scu.client import (
    CancelFlag,
    CancelWatch,
    NetError,
    Progress,
    ProgressCallback,
    _is_set,
    abort_and_wake,
    node_label,
    open_association,
    request_sent,
    status_of,
)

log = logging.getLogger("workstation.net.retrieve")

CANCEL_GRACE = 10.0  # seconds a node gets to honour C-CANCEL before we abort

GET_TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, JPEGLosslessSV1, JPEGLSLossless, RLELossless,
    JPEGBaseline8Bit, JPEGExtended12Bit, JPEG2000, JPEGLSNearLossless, DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
]

# Storage SOP classes proposed for C-GET when the caller does not know better (at most 126 with the Get model).
GET_STORAGE_CLASSES = [
    getattr(sc, name) for name in (
        "CTImageStorage", "EnhancedCTImageStorage", "LegacyConvertedEnhancedCTImageStorage",
        "MRImageStorage", "EnhancedMRImageStorage", "EnhancedMRColorImageStorage",
        "LegacyConvertedEnhancedMRImageStorage", "MRSpectroscopyStorage",
        "UltrasoundImageStorage", "UltrasoundMultiFrameImageStorage", "EnhancedUSVolumeStorage",
        "ComputedRadiographyImageStorage", "DigitalXRayImageStorageForPresentation",
        "DigitalXRayImageStorageForProcessing", "DigitalMammographyXRayImageStorageForPresentation",
        "DigitalMammographyXRayImageStorageForProcessing", "BreastTomosynthesisImageStorage",
        "DigitalIntraOralXRayImageStorageForPresentation", "XRayAngiographicImageStorage",
        "EnhancedXAImageStorage", "XRayRadiofluoroscopicImageStorage", "EnhancedXRFImageStorage",
        "XRay3DAngiographicImageStorage", "XRay3DCraniofacialImageStorage",
        "NuclearMedicineImageStorage", "PositronEmissionTomographyImageStorage",
        "EnhancedPETImageStorage", "LegacyConvertedEnhancedPETImageStorage",
        "SecondaryCaptureImageStorage", "MultiFrameSingleBitSecondaryCaptureImageStorage",
        "MultiFrameGrayscaleByteSecondaryCaptureImageStorage",
        "MultiFrameGrayscaleWordSecondaryCaptureImageStorage", "MultiFrameTrueColorSecondaryCaptureImageStorage",
        "VLEndoscopicImageStorage", "VLMicroscopicImageStorage", "VLPhotographicImageStorage",
        "VLWholeSlideMicroscopyImageStorage", "OphthalmicPhotography8BitImageStorage",
        "OphthalmicTomographyImageStorage", "RTImageStorage", "RTDoseStorage", "RTStructureSetStorage",
        "RTPlanStorage", "RTIonPlanStorage", "SegmentationStorage", "SpatialRegistrationStorage",
        "ParametricMapStorage", "BasicTextSRStorage", "EnhancedSRStorage", "ComprehensiveSRStorage",
        # The reading results travel with their study: measurement reports are Comprehensive 3D SR (highdicom),
        # presentation states of other systems may be colour/blending/XA ones.
        "Comprehensive3DSRStorage", "ExtensibleSRStorage",
        "KeyObjectSelectionDocumentStorage", "XRayRadiationDoseSRStorage",
        "GrayscaleSoftcopyPresentationStateStorage", "ColorSoftcopyPresentationStateStorage",
        "PseudoColorSoftcopyPresentationStateStorage", "BlendingSoftcopyPresentationStateStorage",
        "XAXRFGrayscaleSoftcopyPresentationStateStorage", "EncapsulatedPDFStorage", "RawDataStorage",
    ) if hasattr(sc, name)
]

RETRIEVE_STATUS = {
    0xA701: "out of resources: the node could not count the matches",
    0xA702: "out of resources: the node could not perform the sub-operations",
    0xA900: "the identifier does not match the SOP class",
    0xAA00: "none of the frames requested were found",
    0xB000: "some sub-operations failed or had warnings",
    0xFE00: "cancelled",
}


def explain_status(code: int | None, *, destination: str = "", settings: Settings | None = None,
                   local_host: str = "") -> str:
    """A readable explanation of a C-MOVE / C-GET final status."""
    if code is None:
        return "no final response from the node"
    if code == 0x0000:
        return "success"
    ours = settings is not None and destination == settings.ae_title
    port = settings.port if settings and ours else "its port"
    host = local_host or "this computer's address"
    add = f"add {destination} / {host} / {port} to its configuration"
    if code == 0xA801:
        if ours:
            return f"the PACS does not know this workstation's AE title {destination!r}: {add}"
        return f"the PACS does not know the move destination {destination!r}: add it to its configuration"
    if code in RETRIEVE_STATUS:
        return RETRIEVE_STATUS[code]
    if code >> 12 == 0xC:
        text = f"the node was unable to process the request (status 0x{code:04X})"
        if destination:
            # Orthanc answers an unknown destination with C000 rather than A801.
            text += f"; check that it knows the move destination ({add})" if ours else (
                f"; check that it knows the move destination {destination!r}")
        return text
    return f"status 0x{code:04X}"


@dataclass
class RetrieveResult:
    """Counts and outcome of a retrieve; ``exit_code`` is 0 all done, 2 partly failed, 1 failed."""

    node: str
    method: str
    level: str
    uid: str
    status: int | None = None
    completed: int = 0
    failed: int = 0
    warning: int = 0
    remaining: int = 0
    received: int = 0  # instances we stored (C-GET; C-MOVE when the caller counts what arrives)
    duplicates: int = 0  # of ``received``: already in the archive (``store`` returned status "duplicate")
    store_errors: list[str] = field(default_factory=list)  # C-GET: local storage failures
    repaired: list[str] = field(default_factory=list)  # C-GET: instances repaired on the way in (one line each)
    failed_uids: list[str] = field(default_factory=list)
    cancelled: bool = False
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 0x0000 and not self.failed and not self.cancelled

    @property
    def exit_code(self) -> int:
        if self.ok:
            return 0
        return 2 if (self.completed or self.received) else 1

    def summary(self) -> str:
        text = f"{self.method}: {self.completed} completed"
        if self.warning:
            text += f", {self.warning} with warnings"
        if self.failed:
            text += f", {self.failed} failed"
        if self.remaining:
            text += f", {self.remaining} not retrieved"
        text += f" from {self.node}"
        if self.duplicates:
            text += f" ({self.duplicates} already in the archive)"
        if self.repaired:
            text += f" ({len(self.repaired)} repaired: SOP UIDs only in the file meta written into the data set)"
        if self.cancelled:
            text += " (cancelled)"
        if self.message and not self.ok:
            text += f": {self.message}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_bytes(event: Any) -> bytes:
    """The received C-STORE data set as a complete DICOM file: preamble, file meta, the data set bytes untouched.

    Byte for byte what ``event.encoded_dataset(include_meta=True)`` returns, without building and encoding the
    file meta with pydicom (a good part of our per-instance cost in a C-GET).
    """
    request = event.request
    stream = request.DataSet
    meta = file_meta_bytes(request.AffectedSOPClassUID, request.AffectedSOPInstanceUID, event.context.transfer_syntax)
    if hasattr(stream, "getbuffer"):
        with stream.getbuffer() as view:  # one copy of the data set (join), not two (getvalue + join)
            return b"".join((meta, view))
    return meta + stream.getvalue()


def install_fast_store_scp(assoc: Any, handler: Callable[[Any], int], *, direct: bool = True) -> None:
    """Answer the C-STORE sub-operations of a C-GET without pynetdicom's generic path.

    pynetdicom's ``Association._c_store_scp`` builds a pydicom Dataset for every response and encodes it
    element by element (about 0.2-0.4 ms an instance, as much as Orthanc needs to send the next one). Here the
    response command set is written directly and, with ``direct``, sent on the socket as one P-DATA-TF PDU
    from the calling thread (else handed to the DUL as a P-DATA primitive). ``handler(event)`` is called
    as an ``EVT_C_STORE`` handler would be and returns the status (an int). Only for requestor associations that
    we drive (the C-STORE requests arrive inside ``send_c_get``, on the calling thread).
    """
    from pynetdicom.events import Event
    from pynetdicom.pdu_primitives import P_DATA

    contexts: dict[int, Any] = {}

    def c_store_scp(req: Any) -> None:
        cx_id = req._context_id
        context = contexts.get(cx_id)
        if context is None:
            try:
                context = contexts[cx_id] = assoc._get_valid_context(
                    req.AffectedSOPClassUID, "", "scp", context_id=cx_id).as_tuple
            except ValueError:
                context = None
        if context is None:
            status = 0x0122  # SOP class not supported
        else:
            try:
                status = int(handler(Event(assoc, evt.EVT_C_STORE, {"request": req, "context": context})))
            except Exception:  # noqa: BLE001 - the peer must get an answer
                log.exception("the C-STORE handler failed")
                status = 0xC211
        pdv = b"\x03" + store_response_command(req.AffectedSOPClassUID, req.AffectedSOPInstanceUID,
                                                req.MessageID, status)
        asock = assoc.dul.socket
        if direct and asock is not None and assoc.is_established:
            # A P-DATA-TF PDU (PS3.8 9.3.5) with one PDV, written to the socket from this thread: no trip through
            # the DUL thread's queue, state machine and poll loop. In Sta6 sending P-DATA changes no state, and
            # during a C-GET the DUL sends nothing else but a rare C-CANCEL, a whole small PDU like this one.
            item = struct.pack(">IB", len(pdv) + 1, cx_id) + pdv
            asock.send(struct.pack(">BBI", 0x04, 0x00, len(item)) + item)
        else:
            pdata = P_DATA()
            pdata.presentation_data_value_list.append((cx_id, pdv))
            assoc.dul.send_pdu(pdata)

    if callable(getattr(assoc, "_c_store_scp", None)) and hasattr(assoc, "dul"):
        assoc._c_store_scp = c_store_scp


def build_retrieve_identifier(study_uid: str | None, series_uid: str | None, sop_instance_uid: str | None
                              ) -> tuple[str, str, Dataset]:
    ds = Dataset()
    if sop_instance_uid:
        level, uid = "IMAGE", sop_instance_uid
    elif series_uid:
        level, uid = "SERIES", series_uid
    elif study_uid:
        level, uid = "STUDY", study_uid
    else:
        raise NetError("say what to retrieve: a study, series or instance UID")
    ds.QueryRetrieveLevel = level
    if study_uid:
        ds.StudyInstanceUID = study_uid
    if series_uid and level in ("SERIES", "IMAGE"):
        ds.SeriesInstanceUID = series_uid
    if sop_instance_uid:
        ds.SOPInstanceUID = sop_instance_uid
    return level, uid, ds


def _complete_identifier(settings: Settings, node: Node, ds: Dataset) -> None:
    """Hierarchical nodes (dcmqrscp, PixelMed) need the higher-level UIDs; look them up with a C-FIND when missing.

    A strictly hierarchical node also refuses the lookup itself (a series-level query without its study's UID):
    then each of its studies is asked for the series, when it has at most ``PARENT_SEARCH_STUDIES`` of them. All
    of it on one association.
    """
    from workstation.net.scu.client import QuerySession

    level = ds.QueryRetrieveLevel
    if level == "STUDY" or ("StudyInstanceUID" in ds and (level == "SERIES" or "SeriesInstanceUID" in ds)):
        return
    try:
        with QuerySession(settings, node) as session:
            rows: list[dict[str, Any]] = []
            try:
                if level == "SERIES":
                    rows = session.find("series", {"SeriesInstanceUID": ds.SeriesInstanceUID},
                                        keys=["StudyInstanceUID", "SeriesInstanceUID"])
                else:
                    rows = session.find("image", {"SOPInstanceUID": ds.SOPInstanceUID},
                                        keys=["StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"])
            except NetError as exc:
                log.info("could not look up the parent UIDs: %s", exc)
            rows = [r for r in rows if r.get("StudyInstanceUID")]
            if not rows and "StudyInstanceUID" not in ds:
                rows = _search_parents(session, node, ds)
    except NetError as exc:
        log.info("could not look up the parent UIDs: %s", exc)
        return
    if rows:
        ds.StudyInstanceUID = rows[0]["StudyInstanceUID"]
        if level == "IMAGE" and rows[0].get("SeriesInstanceUID"):
            ds.SeriesInstanceUID = rows[0]["SeriesInstanceUID"]


PARENT_SEARCH_STUDIES = 200


def _search_parents(session: Any, node: Node, ds: Dataset) -> list[dict[str, Any]]:
    """The study (and series) holding ``ds``'s series or instance, asked study by study on ``session``."""
    level = ds.QueryRetrieveLevel
    try:
        studies = session.find("study", {}, keys=["StudyInstanceUID"], limit=PARENT_SEARCH_STUDIES + 1)
        if not studies or len(studies) > PARENT_SEARCH_STUDIES:
            log.info("not searching %s's studies one by one: %s", node_label(node),
                     "none listed" if not studies else f"more than {PARENT_SEARCH_STUDIES}")
            return []
        for study in studies:
            study_uid = study.get("StudyInstanceUID")
            if not study_uid:
                continue
            if level == "SERIES":
                if session.find("series", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": ds.SeriesInstanceUID}):
                    return [{"StudyInstanceUID": study_uid}]
                continue
            for series in session.find("series", {"StudyInstanceUID": study_uid}, keys=["SeriesInstanceUID"]):
                series_uid = series.get("SeriesInstanceUID", "")
                if session.find("image", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid,
                                          "SOPInstanceUID": ds.SOPInstanceUID}):
                    return [{"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid}]
    except NetError as exc:
        log.info("could not search %s's studies for the parent UIDs: %s", node_label(node), exc)
    return []


def _fill_counts(result: RetrieveResult, rsp: Dataset) -> None:
    for attr, kw in (("remaining", "NumberOfRemainingSuboperations"), ("completed", "NumberOfCompletedSuboperations"),
                     ("failed", "NumberOfFailedSuboperations"), ("warning", "NumberOfWarningSuboperations")):
        value = rsp.get(kw)
        if value is not None:
            setattr(result, attr, int(value))


class _CancelThenAbort:
    """C-CANCEL now; A-ABORT if the node has not finished after CANCEL_GRACE seconds."""

    def __init__(self, assoc: Any, msg_id: int, context_id: int, grace: float | None = None):
        self.assoc, self.msg_id, self.context_id = assoc, msg_id, context_id
        self.grace = CANCEL_GRACE if grace is None else grace
        self.timer: threading.Timer | None = None

    def __call__(self) -> None:
        log.info("sending C-CANCEL")
        self.assoc.send_c_cancel(self.msg_id, self.context_id)
        self.timer = threading.Timer(self.grace, self._abort)
        self.timer.daemon = True
        self.timer.start()

    def _abort(self) -> None:
        if self.assoc.is_established:
            log.warning("the node ignored C-CANCEL for %.0f s; aborting", self.grace)
            abort_and_wake(self.assoc)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def retrieve(
    settings: Settings,
    node: Node,
    *,
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_instance_uid: str | None = None,
    method: str | None = None,
    store: Callable[[bytes], Any] | None = None,
    archive: Any = None,
    source: str = "",
    destination: str | None = None,
    sop_classes: Sequence[str] | None = None,
    cancel: CancelFlag | None = None,
    progress: ProgressCallback | None = None,
) -> RetrieveResult:
    """Retrieve a study / series / instance from ``node`` by C-MOVE or C-GET (default: the node's method).

    C-GET into ``archive`` (an :class:`~workstation.archive.Archive`; ``source`` names where the instances came
    from in logs) is the product path: see :mod:`workstation.net.scu.ingest` - when this returns, every instance
    counted in ``received`` is durable and indexed. Otherwise ``store(data: bytes)`` receives each instance of a
    C-GET as a complete DICOM file; the C-STORE response waits for it to return. ``destination`` is the C-MOVE
    destination AE title (default: ours). ``sop_classes`` narrows the storage SOP classes proposed for C-GET.
    Raises :class:`NetError` when no association could be made; a refused or partly failed retrieve is described
    in the result.
    """
    method = (method or node.method or "move").lower()
    if method not in ("move", "get"):
        raise NetError(f"unknown retrieve method {method!r}; use move or get")
    level, uid, identifier = build_retrieve_identifier(study_uid, series_uid, sop_instance_uid)
    _complete_identifier(settings, node, identifier)
    result = RetrieveResult(node=node_label(node), method=method, level=level.lower(), uid=uid)
    handlers = []
    ext_neg = None
    ingest: Any = None
    if method == "move":
        model = sc.StudyRootQueryRetrieveInformationModelMove
        contexts = [build_context(model, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])]
        destination = destination or settings.ae_title
    else:
        if store is None and archive is not None:
            from workstation.net.scu.ingest import ArchiveIngest

            # Deferred: the headers are read after each C-STORE response (see ArchiveIngest).
            ingest = ArchiveIngest(archive, source=source or f"C-GET from {node.ae_title}", deferred=True)
            store = ingest
        if store is None:
            raise NetError("C-GET needs somewhere to store the received instances")
        model = sc.StudyRootQueryRetrieveInformationModelGet
        classes = list(dict.fromkeys(sop_classes or GET_STORAGE_CLASSES))[:126]
        contexts = [build_context(model, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])]
        contexts += [build_context(c, GET_TRANSFER_SYNTAXES) for c in classes]
        ext_neg = []
        for c in classes:
            role = SCP_SCU_RoleSelectionNegotiation()
            role.sop_class_uid = c
            role.scu_role = False
            role.scp_role = True
            ext_neg.append(role)
        lock = threading.Lock()

        def store_data(data: bytes) -> int:
            try:
                outcome = store(data)
            except Exception as exc:  # noqa: BLE001 - report to the node and in the result
                name = type(exc).__name__
                with lock:
                    result.store_errors.append(f"{name}: {exc}")
                log.warning("storing a C-GET instance failed: %s: %s", name, exc)
                return 0xA700 if name == "StorageFull" else 0xC000 if name == "InvalidInstance" else 0xC001
            if ingest is None:  # the ingest counts what it committed, at the end
                with lock:
                    result.received += 1
                    if getattr(outcome, "status", None) == "duplicate":
                        result.duplicates += 1
            return 0x0000

        def on_store(event: evt.Event) -> int:
            try:
                data = file_bytes(event)
            except Exception as exc:  # noqa: BLE001 - a request we could not assemble
                with lock:
                    result.store_errors.append(f"{type(exc).__name__}: {exc}")
                return 0xC001
            return store_data(data)

        handlers.append((evt.EVT_C_STORE, on_store))  # used if neither DirectGet nor install_fast_store_scp can be

    if _is_set(cancel):
        result.cancelled = True
        result.message = "cancelled before it started"
        return result
    try:
        _run_retrieve(settings, node, method, model, identifier, destination, contexts, ext_neg, handlers,
                             (on_store, store_data) if method == "get" else None, result, cancel, progress,
                             final_progress=ingest is None, pieces=ingest is not None,
                             after_store=ingest.after_response if ingest is not None else None)
    finally:
        if ingest is not None:
            # The durability barrier: whatever was received (also when cancelled or aborted) is synced and
            # indexed before anyone is told anything.
            ingest.finish()
            with lock:
                result.received += ingest.stored + ingest.duplicates
                result.duplicates += ingest.duplicates
                result.failed += ingest.failed
                result.store_errors.extend(ingest.errors)
                result.repaired.extend(ingest.repaired)
            if ingest.failed:
                result.message += (f"; {ingest.failed} could not be made durable here: {ingest.errors[0]}"
                                   if result.message else ingest.errors[0])
    if ingest is not None and progress:
        done = result.completed + result.failed + result.warning
        progress(Progress(done, done + result.remaining, result.failed, result.warning, result.summary()))
    return result


def _run_retrieve(settings: Settings, node: Node, method: str, model: str, identifier: Dataset,
                  destination: str | None, contexts: list, ext_neg: list | None, handlers: list,
                  stores: tuple[Callable[[Any], int], Callable[[bytes], int]] | None, result: RetrieveResult,
                  cancel: CancelFlag | None,
                  progress: ProgressCallback | None, *, final_progress: bool = True,
                  pieces: bool = False, after_store: Callable[[], Any] | None = None) -> RetrieveResult:
    assoc = open_association(settings, node, contexts, ext_neg=ext_neg, evt_handlers=handlers, fast=True)
    direct = None
    if stores is not None:
        from workstation.net.scu import fastget as scu_fastget

        if scu_fastget.usable(assoc):
            direct = scu_fastget.DirectGet(assoc, stores[1], timeout=settings.dimse_timeout,
                                           max_pdu=settings.max_pdu, pieces=pieces)
        else:
            install_fast_store_scp(assoc, stores[0])
    local_host = ""
    try:
        local_host = assoc.requestor.address_info.address
    except AttributeError:
        pass
    context_id = next(cx.context_id for cx in assoc.accepted_contexts if cx.abstract_syntax == model)
    msg_id = 1
    canceller = _CancelThenAbort(assoc, msg_id, context_id)
    final: Dataset | None = None
    responses: Any = None
    try:
        with request_sent(assoc) as sent, CancelWatch(cancel, canceller, sent) as watch:
            if method == "move":
                responses = assoc.send_c_move(identifier, destination, model, msg_id=msg_id)
            elif direct is not None:
                direct.after_store = watch.poll
                if after_store is not None:
                    def after_each(poll: Callable[[], Any] = watch.poll) -> None:
                        after_store()
                        poll()

                    direct.after_store = after_each
                responses = direct.responses(identifier, model, msg_id)
            else:
                responses = assoc.send_c_get(identifier, model, msg_id=msg_id)
            for status, ident in responses:
                code = status_of(status)
                if code is None:
                    break
                _fill_counts(result, status)
                if code in (0xFF00, 0xFF01):
                    if progress:
                        total = result.remaining + result.completed + result.failed + result.warning
                        done = result.completed + result.failed + result.warning
                        progress(Progress(done, total or None, result.failed, result.warning,
                                          f"retrieved {done}/{total}" if total else "retrieving"))
                    continue
                final = status
                result.status = code
                if code in (0x0000, 0xB000):
                    result.remaining = 0  # some nodes repeat a stale count in the final response
                comment = status.get("ErrorComment")
                if comment:
                    result.message = str(comment)
                if ident is not None and "FailedSOPInstanceUIDList" in ident:
                    value = ident.FailedSOPInstanceUIDList
                    result.failed_uids = [str(v) for v in (value if isinstance(value, list) or
                                                           hasattr(value, "__iter__") and not isinstance(value, str)
                                                           else [value]) if v]
            result.cancelled = watch.fired or result.status == 0xFE00
    finally:
        canceller.stop()
        if direct is not None and responses is not None:
            responses.close()  # gives the socket back to pynetdicom's DUL before the release
        if assoc.is_established:
            assoc.release()
    if final is None and not result.cancelled:
        if assoc.is_aborted:
            result.message = (
                f"{node_label(node)} aborted the association during the C-{method.upper()}; it may not allow "
                f"{settings.ae_title!r} to retrieve: add {settings.ae_title} / {local_host or 'this computer'} / "
                f"{settings.port} to its configuration")
        else:
            result.message = (f"{node_label(node)} stopped answering the C-{method.upper()} "
                              f"(no response within {settings.dimse_timeout:g} s)")
    else:
        comment = result.message
        result.message = explain_status(result.status, destination=destination or "", settings=settings,
                                        local_host=local_host)
        if comment and result.status != 0x0000:
            result.message += f" (node says: {comment})"
    if method == "get" and result.store_errors:
        result.message += f"; {len(result.store_errors)} could not be stored here: {result.store_errors[0]}"
    if progress and final_progress:
        done = result.completed + result.failed + result.warning
        progress(Progress(done, done + result.remaining, result.failed, result.warning, result.summary()))
    return result
