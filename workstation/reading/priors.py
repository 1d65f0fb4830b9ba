"""A patient's prior studies: listed from the local archive and from remote nodes, and ranked for relevance.

Same patient means the same PatientID and IssuerOfPatientID. A remote node that answers without an issuer is taken
at its word for the ID (most PACS do not return the issuer); one that returns a different issuer is another
patient's record and is left out. A different name under the same ID is shown (``name_mismatch``), never hidden:
the reader decides. A study held locally and remotely is listed once, as local.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LOCAL = "local"
# What a prior row carries, as DICOM keywords (what `ls --json` prints for a study), plus source.
STUDY_KEYS = ("PatientName", "PatientID", "IssuerOfPatientID", "StudyInstanceUID", "StudyDate", "StudyTime",
              "StudyDescription", "AccessionNumber", "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
              "NumberOfStudyRelatedInstances")


class PriorsError(ValueError):
    """The current study cannot be found, with a message for the user."""


@dataclass
class Prior:
    """One prior study of the patient: ``row`` keyed by DICOM keywords, ``source`` "local" or a node's name."""

    row: dict[str, Any]
    source: str
    name_mismatch: bool = False

    @property
    def uid(self) -> str:
        return str(self.row.get("StudyInstanceUID") or "")

    @property
    def is_local(self) -> bool:
        return self.source == LOCAL

    def as_json(self) -> dict[str, Any]:
        out = {key: self.row.get(key) for key in STUDY_KEYS}
        out["ModalitiesInStudy"] = list(modalities(self.row))
        out["source"] = self.source
        if self.name_mismatch:
            out["name_mismatch"] = True
        return out


@dataclass
class NodeFailure:
    """A node that could not be asked (down, refused, timed out), with a one-line reason."""

    node: str
    error: str

    def as_json(self) -> dict[str, str]:
        return {"node": self.node, "error": self.error}


@dataclass
class PriorList:
    current: dict[str, Any]
    priors: list[Prior] = field(default_factory=list)
    failures: list[NodeFailure] = field(default_factory=list)

    def as_json(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in self.priors] + [f.as_json() for f in self.failures]


def modalities(row: dict[str, Any]) -> tuple[str, ...]:
    """ModalitiesInStudy as a tuple whatever form it came in (list, backslash string, missing)."""
    value = row.get("ModalitiesInStudy")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.split("\\") if v)
    return tuple(str(v) for v in value if v)


def _name_key(name: Any) -> str:
    """A person name compared as a reader would: case, spacing and empty trailing components ignored."""
    text = str(name or "").split("=")[0]
    parts = [re.sub(r"\s+", " ", p).strip().upper() for p in text.split("^")]
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)


def _issuer(row: dict[str, Any]) -> str:
    return str(row.get("IssuerOfPatientID") or "").strip()


def same_patient(current: dict[str, Any], row: dict[str, Any], *, remote: bool = False) -> bool:
    """Same PatientID and issuer (an issuer a remote node does not return is not a mismatch)."""
    if str(row.get("PatientID") or "") != str(current.get("PatientID") or ""):
        return False
    theirs, ours = _issuer(row), _issuer(current)
    if remote and not theirs:
        return True
    return theirs == ours


def _newest_first(prior: Prior) -> tuple[str, str]:
    return (str(prior.row.get("StudyDate") or ""), str(prior.row.get("StudyTime") or ""))


def current_study(archive: Any, study_uid: str) -> dict[str, Any]:
    rows = archive.query("study", {"StudyInstanceUID": study_uid})
    rows = [r for r in rows if r.get("StudyInstanceUID") == study_uid]
    if not rows:
        raise PriorsError(f"study {study_uid} is not in the archive")
    return rows[0]


def local_priors(archive: Any, current: dict[str, Any]) -> list[Prior]:
    """The patient's other studies in the archive, newest first."""
    patient_id = str(current.get("PatientID") or "")
    if not patient_id:
        return []  # an empty ID would match every patient
    rows = archive.query("study", {"PatientID": patient_id})
    out = [Prior(r, LOCAL, _name_key(r.get("PatientName")) != _name_key(current.get("PatientName")))
           for r in rows
           if r.get("StudyInstanceUID") != current.get("StudyInstanceUID") and same_patient(current, r)]
    return sorted(out, key=_newest_first, reverse=True)


def remote_priors(settings: Any, node: Any, current: dict[str, Any], *, cancel: Any = None) -> list[Prior]:
    """The patient's studies on ``node`` (one study-level C-FIND by PatientID), the current one left out."""
    from workstation.net.scu.client import find  # the network stack only when a node is asked

    patient_id = str(current.get("PatientID") or "")
    if not patient_id:
        return []
    filters = {"PatientID": patient_id}
    rows = find(settings, node, "study", filters, keys=STUDY_KEYS, cancel=cancel)
    out = []
    for row in rows:
        if row.get("StudyInstanceUID") == current.get("StudyInstanceUID"):
            continue
        # A query value is matched by the node (wildcards, case); identity is decided here, exactly.
        if not same_patient(current, row, remote=True):
            continue
        out.append(Prior(row, node.name, _name_key(row.get("PatientName")) != _name_key(current.get("PatientName"))))
    return out


def merge(local: Iterable[Prior], remote: Iterable[Prior]) -> list[Prior]:
    """Local first for a study known in both places; newest first."""
    seen: dict[str, Prior] = {}
    for prior in list(local) + list(remote):
        if prior.uid and prior.uid not in seen:
            seen[prior.uid] = prior
    return sorted(seen.values(), key=_newest_first, reverse=True)


def prior_nodes(settings: Any, names: Sequence[str] = ()) -> list[Any]:
    """The nodes named (by name or AET@HOST:PORT), else every node marked "search for priors"."""
    if names:
        from workstation.net.nodes import resolve_node

        return [resolve_node(settings, n) for n in names]
    return [n for n in settings.nodes if getattr(n, "search_priors", False)]


def list_priors(
    archive: Any,
    settings: Any,
    study_uid: str,
    nodes: Sequence[Any] = (),
    *,
    on_update: Callable[[PriorList], None] | None = None,
    cancel: Any = None,
) -> PriorList:
    """Local priors at once (``on_update`` is called with them), then each node's, asked in parallel.

    A node that fails becomes a :class:`NodeFailure` with its reason; the others still count.
    """
    current = current_study(archive, study_uid)
    result = PriorList(current, local_priors(archive, current))
    local = list(result.priors)
    if on_update:
        on_update(result)
    if not nodes:
        return result
    remote: list[Prior] = []

    def ask(node: Any) -> tuple[Any, list[Prior] | None, str | None]:
        try:
            return node, remote_priors(settings, node, current, cancel=cancel), None
        except Exception as exc:  # noqa: BLE001 - any failure of one node is that node's line in the list
            log.info("priors: node %s failed: %s", getattr(node, "name", node), exc, exc_info=True)
            return node, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    with ThreadPoolExecutor(max_workers=min(4, len(nodes)), thread_name_prefix="priors") as pool:
        for node, rows, error in pool.map(ask, nodes):
            if error is not None:
                result.failures.append(NodeFailure(node.name or node.ae_title, error))
            else:
                remote.extend(rows or [])
            result.priors = merge(local, remote)
            if on_update:
                on_update(result)
    return result


def relist_local(archive: Any, previous: PriorList) -> PriorList:
    """``previous`` with its local part read again from the archive (studies deleted, arrived or grown since), the
    nodes' answers and failures kept as they were (asking the nodes again is the user's call). A study listed from a
    node that has arrived here since is listed as local. Raises :class:`PriorsError` when the current study is
    gone."""
    current = current_study(archive, str(previous.current.get("StudyInstanceUID") or ""))
    local = local_priors(archive, current)
    held = {p.uid for p in local}
    remote = [p for p in previous.priors if not p.is_local and p.uid not in held]
    return PriorList(current, merge(local, remote), list(previous.failures))


# --- relevance --------------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
# Body regions as the words that name them in descriptions and BodyPartExamined (PS3.16 Annex L's common terms).
REGIONS = {
    "head": {"head", "brain", "skull", "cranial", "neuro", "cerebral", "sella", "iac", "orbit", "orbits"},
    "neck": {"neck", "cervical", "thyroid", "larynx", "carotid"},
    "chest": {"chest", "thorax", "thoracic", "lung", "lungs", "pulmonary", "pe", "cta", "heart", "cardiac",
              "coronary", "mediastinum"},
    "abdomen": {"abdomen", "abdominal", "abd", "liver", "pancreas", "kidney", "kidneys", "renal", "urogram",
                "enterography", "abdomenpelvis"},
    "pelvis": {"pelvis", "pelvic", "prostate", "bladder", "hip", "hips", "uterus", "ovary", "abdomenpelvis"},
    "spine": {"spine", "lumbar", "lspine", "cspine", "tspine", "sacrum"},
    "breast": {"breast", "mammo", "mammography", "mammogram", "tomosynthesis"},
    "extremity": {"knee", "shoulder", "ankle", "wrist", "hand", "foot", "elbow", "femur", "tibia", "extremity"},
}


def regions(*texts: Any) -> set[str]:
    words = set()
    for text in texts:
        if isinstance(text, (list, tuple, set)):
            words |= regions(*text)
            continue
        words |= set(_WORD.findall(str(text or "").lower()))
    return {name for name, names in REGIONS.items() if words & names}


def relevance(current: dict[str, Any], prior: Prior, current_body_parts: Sequence[str] = ()) -> int:
    """0 when not comparable; higher for the better comparison.

    Comparable means a modality in common (CR and DX count as one, as do MR and MR). Among those, a shared body
    region (from BodyPartExamined and the study descriptions) ranks first, then description words in common.
    """
    def norm(mods: Iterable[str]) -> set[str]:
        return {"CR" if m == "DX" else m for m in mods} - {"SR", "PR", "KO", "SEG", "REG", "OT", "DOC"}

    if not norm(modalities(current)) & norm(modalities(prior.row)):
        return 0
    score = 1
    ours = regions(current.get("StudyDescription"), current_body_parts)
    theirs = regions(prior.row.get("StudyDescription"), prior.row.get("BodyPartExamined"))
    if ours and theirs:
        if not ours & theirs:
            return 0  # a chest CT is no comparison for a head CT
        score += 10
    words_a = set(_WORD.findall(str(current.get("StudyDescription") or "").lower()))
    words_b = set(_WORD.findall(str(prior.row.get("StudyDescription") or "").lower()))
    score += len(words_a & words_b)
    return score


def relevant_priors(current: dict[str, Any], priors: Sequence[Prior], *, count: int = 2,
                    current_body_parts: Sequence[str] = ()) -> list[Prior]:
    """The ``count`` best comparable priors: most relevant first, the newest among equals."""
    scored = [(relevance(current, p, current_body_parts), p) for p in priors]
    scored = [(s, p) for s, p in scored if s > 0 and _newest_first(p) <= _newest_first(Prior(current, LOCAL))]
    scored.sort(key=lambda sp: (sp[0], _newest_first(sp[1])), reverse=True)
    return [p for _s, p in scored[:count]]


def fetch_relevant(archive: Any, settings: Any, result: PriorList, *, count: int = 2, current_body_parts=(),
                   cancel: Any = None, progress: Any = None) -> list[tuple[Prior, Any]]:
    """Retrieve the ``count`` most relevant priors that are not local yet (each from the node that listed it).

    The same C-GET/C-MOVE as any retrieve (``workstation.net.scu.client.retrieve``); returns (prior, RetrieveResult)
    pairs. A node that fails leaves its result's explanation; the others go on.
    """
    from workstation.net.scu.retrieve import retrieve

    out = []
    for prior in relevant_priors(result.current, result.priors, count=count, current_body_parts=current_body_parts):
        if prior.is_local:
            continue
        node = settings.node(prior.source)
        if node is None:
            continue
        kwargs = {"archive": archive, "source": node.name} if node.method == "get" else {}
        out.append((prior, retrieve(settings, node, study_uid=prior.uid, cancel=cancel, progress=progress,
                                    **kwargs)))
    return out
