"""C-STORE SCU: send files to a node, many instances per association, with a per-instance report.

Presentation contexts come from the files themselves: for every SOP class, one context per stored (compressed)
transfer syntax, plus one with the uncompressed syntaxes as a fallback. An instance whose own syntax was
accepted is sent from its file untouched (no decode, no re-encode), its PDUs written straight to the socket
(:mod:`workstation.net.scu.direct`; pynetdicom's chunked file sending when that is not usable);
otherwise it is converted (:mod:`workstation.net.transcode`: decompressed, or byte order swapped) and sent in
an accepted uncompressed syntax.

Cancel aborts the association (A-ABORT): the peer discards the instance in flight, so nothing half-sent is
kept on either side; the report marks the rest as cancelled.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydicom import dcmread
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, UID
from pynetdicom import _config as pynetdicom_config
from pynetdicom.dsutils import split_dataset
from pynetdicom.presentation import PresentationContext, build_context

from workstation.config import Node, Settings
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
    status_of,
)
from workstation.net.scu.direct import store_file
from workstation.net.transcode import FALLBACK, convert, pick_syntax

log = logging.getLogger("workstation.net.send")

_UNCOMPRESSED = FALLBACK
MAX_CONTEXTS = 128

# pynetdicom reads its chunked-sending switch once, at the start of send_c_store; we flip it around our own
# calls only, under a lock, so other code in the process keeps the default behaviour.
_CHUNKED_LOCK = threading.Lock()

STORE_STATUS = {
    0x0117: "invalid SOP instance",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0x0211: "unrecognized operation",
    0x0212: "mistyped argument",
    0xA700: "out of resources (the node's disk may be full)",
    0xA900: "data set does not match the SOP class",
    0xB000: "coercion of data elements",
    0xB006: "elements discarded",
    0xB007: "data set does not match the SOP class (stored anyway)",
}


def describe_store_status(code: int | None) -> str:
    if code is None:
        return "no response"
    if code in STORE_STATUS:
        return STORE_STATUS[code]
    high = code >> 8
    if high == 0xA7:
        return "out of resources"
    if high == 0xA9:
        return "data set does not match the SOP class"
    if code >> 12 == 0xC:
        return "cannot understand"
    return "failed"


@dataclass
class InstanceResult:
    """The fate of one file."""

    path: str
    sop_instance_uid: str = ""
    sop_class_uid: str = ""
    outcome: str = "pending"  # "sent" | "warning" | "failed" | "cancelled"
    status: int | None = None
    message: str = ""
    transfer_syntax: str = ""  # the syntax it was sent in
    transcoded: bool = False


@dataclass
class SendReport:
    """Per-instance results of :func:`send` plus counts; ``exit_code`` follows the CLI convention."""

    node: str
    results: list[InstanceResult] = field(default_factory=list)
    cancelled: bool = False
    error: str = ""  # association-level failure, if any

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def warning(self) -> int:
        return self.count("warning")

    @property
    def failed(self) -> int:
        return self.count("failed") + self.count("cancelled")

    @property
    def exit_code(self) -> int:
        ok = self.sent + self.warning
        if self.results and ok == len(self.results):
            return 0
        return 2 if ok else 1

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        if self.warning:
            parts.append(f"{self.warning} with warnings")
        failed = self.count("failed")
        if failed:
            parts.append(f"{failed} failed")
        if self.count("cancelled"):
            parts.append(f"{self.count('cancelled')} cancelled")
        text = f"{', '.join(parts)} of {len(self.results)} to {self.node}"
        if self.error:
            text += f": {self.error}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "sent": self.sent, "warning": self.warning, "failed": self.failed,
                "cancelled": self.cancelled, "error": self.error, "results": [asdict(r) for r in self.results]}


@dataclass
class _Item:
    result: InstanceResult
    path: Path
    transfer_syntax: UID | None = None
    has_meta: bool = True
    offset: int = 0  # where the data set starts in the file (after the file meta)


def _scan(path: Path) -> _Item:
    result = InstanceResult(path=str(path))
    item = _Item(result, path)
    try:
        meta, item.offset = split_dataset(path)
        sop_class = meta.get("MediaStorageSOPClassUID")
        sop_uid = meta.get("MediaStorageSOPInstanceUID")
        tsyntax = meta.get("TransferSyntaxUID")
        if not (sop_class and sop_uid and tsyntax):
            # No usable file meta (e.g. a bare data set): read it to find out what it is.
            ds = dcmread(path, force=True, stop_before_pixels=True)
            sop_class, sop_uid = ds.get("SOPClassUID"), ds.get("SOPInstanceUID")
            tsyntax = ImplicitVRLittleEndian if ds.is_implicit_VR else ExplicitVRLittleEndian
            item.has_meta = False
            if not (sop_class and sop_uid):
                raise InvalidDicomError("no SOP Class UID / SOP Instance UID")
        result.sop_class_uid, result.sop_instance_uid = str(sop_class), str(sop_uid)
        item.transfer_syntax = UID(str(tsyntax))
    except (OSError, InvalidDicomError, ValueError, EOFError, AttributeError, KeyError) as exc:
        result.outcome = "failed"
        result.message = f"not a readable DICOM file: {exc}"
    return item


def plan_contexts(items: Sequence[_Item]) -> list[tuple[list[str], list[PresentationContext]]]:
    """Group SOP classes into associations of at most 128 presentation contexts each."""
    by_class: "OrderedDict[str, list[str]]" = OrderedDict()
    for item in items:
        if item.result.outcome == "failed":
            continue
        syntaxes = by_class.setdefault(item.result.sop_class_uid, [])
        if item.transfer_syntax not in syntaxes:
            syntaxes.append(item.transfer_syntax)
    batches: list[tuple[list[str], list[PresentationContext]]] = []
    classes: list[str] = []
    contexts: list[PresentationContext] = []
    for sop_class, syntaxes in by_class.items():
        wanted: list[PresentationContext] = []
        for ts in syntaxes:
            if ts not in _UNCOMPRESSED:
                wanted.append(build_context(sop_class, [ts]))
        # Uncompressed fallback; the file's own native syntax first so it can be streamed as is.
        fallback = [ts for ts in syntaxes if ts in _UNCOMPRESSED] + [ts for ts in _UNCOMPRESSED]
        wanted.append(build_context(sop_class, list(dict.fromkeys(fallback))))
        if len(wanted) > MAX_CONTEXTS:
            wanted = wanted[-MAX_CONTEXTS:]
        if len(contexts) + len(wanted) > MAX_CONTEXTS:
            batches.append((classes, contexts))
            classes, contexts = [], []
        classes.append(sop_class)
        contexts.extend(wanted)
    if contexts:
        batches.append((classes, contexts))
    return batches


def _accepted(assoc: Any, sop_class: str) -> dict[str, int]:
    """Accepted transfer syntaxes for ``sop_class`` -> context id."""
    return {str(cx.transfer_syntax[0]): cx.context_id for cx in assoc.accepted_contexts
            if cx.abstract_syntax == sop_class}


def _send_one(assoc: Any, item: _Item) -> None:
    result = item.result
    accepted = _accepted(assoc, result.sop_class_uid)
    if not accepted:
        result.outcome = "failed"
        result.message = f"the node does not accept SOP class {UID(result.sop_class_uid).name}"
        return
    ts = str(item.transfer_syntax)
    rsp = None
    if ts in accepted and item.has_meta and item.offset:
        rsp = store_file(assoc, item.path, item.offset, result.sop_class_uid, result.sop_instance_uid, accepted[ts])
        result.transfer_syntax = ts
    if rsp is not None:
        pass
    elif ts in accepted and item.has_meta:
        with _CHUNKED_LOCK:
            previous = pynetdicom_config.STORE_SEND_CHUNKED_DATASET
            pynetdicom_config.STORE_SEND_CHUNKED_DATASET = True
            try:
                rsp = assoc.send_c_store(item.path)
            finally:
                pynetdicom_config.STORE_SEND_CHUNKED_DATASET = previous
        result.transfer_syntax = ts
    else:
        target = pick_syntax(ts, accepted)
        if target is None:
            result.outcome = "failed"
            result.message = (f"the node accepts {UID(result.sop_class_uid).name} only in "
                              f"{', '.join(UID(s).name for s in accepted)}; cannot convert {UID(ts).name} to it")
            return
        ds = dcmread(item.path, force=not item.has_meta)
        if "TransferSyntaxUID" not in ds.file_meta:
            ds.file_meta.TransferSyntaxUID = ts
        try:
            convert(ds, target)
        except ValueError as exc:
            result.outcome = "failed"
            result.message = f"the node refused {UID(ts).name} and converting to {UID(target).name} failed: {exc}"
            return
        result.transcoded = True
        rsp = assoc.send_c_store(ds)
        result.transfer_syntax = target
    code = status_of(rsp)
    result.status = code
    if code == 0x0000:
        result.outcome = "sent"
    elif code is not None and (code >> 12 == 0xB):
        result.outcome = "warning"
        result.message = describe_store_status(code)
    else:
        result.outcome = "failed"
        result.message = (f"status 0x{code:04X} ({describe_store_status(code)})" if code is not None
                          else "no response from the node")


def send(
    settings: Settings,
    node: Node,
    paths: Iterable[str | Path],
    *,
    cancel: CancelFlag | None = None,
    progress: ProgressCallback | None = None,
) -> SendReport:
    """C-STORE ``paths`` to ``node``; one association per 128 presentation contexts (usually one in all).

    Never raises for a refused association or a failed instance: everything is in the returned
    :class:`SendReport` (``report.error`` holds an association-level reason).
    """
    items = [_scan(Path(p)) for p in paths]
    report = SendReport(node=node_label(node), results=[i.result for i in items])
    total = len(items)
    state = Progress(total=total)

    def tick(item: _Item) -> None:
        state.done += 1
        if item.result.outcome == "failed":
            state.failed += 1
        elif item.result.outcome == "warning":
            state.warning += 1
        state.message = f"sent {state.done}/{total}"
        if progress:
            progress(Progress(state.done, total, state.failed, state.warning, state.message))

    for item in items:
        if item.result.outcome == "failed":
            tick(item)
    for classes, contexts in plan_contexts(items):
        batch = [i for i in items if i.result.outcome == "pending" and i.result.sop_class_uid in classes]
        if _is_set(cancel):
            break
        try:
            assoc = open_association(settings, node, contexts, fast=True)
        except NetError as exc:
            report.error = str(exc)
            for item in batch:
                item.result.outcome, item.result.message = "failed", str(exc)
                tick(item)
            continue
        try:
            with CancelWatch(cancel, lambda: abort_and_wake(assoc)):
                for item in batch:
                    if _is_set(cancel):
                        break
                    if not assoc.is_established:
                        item.result.outcome = "failed"
                        item.result.message = "the association was aborted"
                        report.error = report.error or f"{node_label(node)} aborted the association"
                        tick(item)
                        continue
                    try:
                        _send_one(assoc, item)
                    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                        if _is_set(cancel):
                            break
                        log.warning("sending %s failed", item.path, exc_info=True)
                        item.result.outcome = "failed"
                        item.result.message = f"{type(exc).__name__}: {exc}"
                    if item.result.outcome == "failed" and _is_set(cancel):
                        item.result.outcome, item.result.message = "cancelled", "cancelled"
                        break
                    tick(item)
        finally:
            if assoc.is_established:
                if _is_set(cancel):
                    assoc.abort()
                else:
                    assoc.release()
    for item in items:
        if item.result.outcome == "pending" or (_is_set(cancel) and item.result.outcome == "failed"
                                                and item.result.status is None and not item.result.message):
            item.result.outcome, item.result.message = "cancelled", "cancelled"
    report.cancelled = _is_set(cancel)
    return report
