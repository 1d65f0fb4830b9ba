"""Hanging protocols: which layout a study is read in, and what goes in each viewport.

Rules live in TOML: the user's file in the config dir (``hanging_protocols.toml`` beside ``settings.toml``) comes
before the defaults shipped in ``resources/hanging_protocols.toml``. A protocol matches a study on modality, body
part and study description (regular expressions, case-insensitive) and a number of priors; the most specific match
wins (the user's before the defaults among equals), and the reader can step to the next one. Each viewport names a
study (``current``, ``prior``, ``prior2``…) and how to choose its display set in it: series description
(regex), orientation, series number, image type, laterality and view (mammography), plus the W/L preset, a
horizontal flip and whether it takes part in sync. Plain objects; the viewer turns a :class:`Hanging` into
viewports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - 3.10
    import tomli as tomllib

DEFAULTS = Path(__file__).resolve().parents[2] / "resources" / "hanging_protocols.toml"
USER_FILE = "hanging_protocols.toml"
ORIENTATIONS = ("axial", "coronal", "sagittal", "oblique")
_STUDY_ROLE = re.compile(r"^(current|prior(\d*))$")


class ProtocolError(ValueError):
    """A rule file we cannot use, with the file and the protocol named."""


@dataclass(frozen=True)
class DisplaySet:
    """What one viewport can show: a series, or the images of one view of it (mammography)."""

    series_uid: str
    study_uid: str = ""
    number: int | None = None
    description: str = ""
    modality: str = ""
    body_part: str = ""
    orientation: str = ""  # axial | coronal | sagittal | oblique | "" (unknown or not a cross-section)
    image_type: tuple[str, ...] = ()
    laterality: str = ""  # R | L | B | ""
    view: str = ""  # CC | MLO | ML | ... (ViewPosition)
    count: int = 0
    instance_uids: tuple[str, ...] = ()  # a subset of the series for a per-view set; () for the whole series

    @property
    def is_localizer(self) -> bool:
        return "LOCALIZER" in self.image_type


@dataclass(frozen=True)
class StudyInfo:
    """What a protocol is matched on."""

    modalities: tuple[str, ...]
    body_parts: tuple[str, ...] = ()
    description: str = ""


@dataclass
class ViewportRule:
    study: str = "current"
    series_description: str = ""
    orientation: str = ""
    series_number: int | None = None
    image_type: str = ""
    modality: str = ""
    laterality: str = ""
    view: str = ""
    preset: str = ""
    flip: bool = False
    sync: bool = True
    fallback: str = "largest"  # "largest": the biggest cross-section of the study if nothing matches; "none"

    @property
    def prior_index(self) -> int:
        """0 for the current study, 1 for the newest relevant prior, 2 for the next…"""
        m = _STUDY_ROLE.match(self.study)
        if not m:
            return -1
        if m.group(1) == "current":
            return 0
        return int(m.group(2) or 1)


@dataclass
class Protocol:
    name: str
    rows: int
    columns: int
    viewports: list[ViewportRule]
    modality: str = ""
    body_part: str = ""
    study_description: str = ""
    min_priors: int = 0
    source: str = ""

    @property
    def priors_needed(self) -> int:
        return max([max(v.prior_index, 0) for v in self.viewports] + [self.min_priors])


@dataclass
class Cell:
    rule: ViewportRule
    display_set: DisplaySet | None
    study_index: int  # 0 current, 1 first prior…


@dataclass
class Hanging:
    protocol: Protocol
    rows: int
    columns: int
    cells: list[Cell] = field(default_factory=list)


# --- reading rule files -------------------------------------------------------------------------------------------

_PROTOCOL_KEYS = {"name", "layout", "modality", "body_part", "study_description", "min_priors", "viewport"}
_VIEWPORT_KEYS = set(ViewportRule.__dataclass_fields__)


def _regex(value: Any, where: str) -> str:
    text = str(value or "")
    try:
        re.compile(text)
    except re.error as exc:
        raise ProtocolError(f"{where}: bad regular expression {text!r}: {exc}") from None
    return text


def parse_protocols(text: str, source: str = "") -> list[Protocol]:
    """The protocols of one TOML document (``[[protocol]]`` tables)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{source or 'hanging protocols'}: {exc}") from None
    out = []
    for i, table in enumerate(raw.get("protocol", []), 1):
        name = str(table.get("name") or f"protocol {i}")
        where = f"{source or 'hanging protocols'}: {name!r}"
        unknown = set(table) - _PROTOCOL_KEYS
        if unknown:
            raise ProtocolError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        layout = table.get("layout", [1, 1])
        if (not isinstance(layout, list) or len(layout) != 2 or not all(isinstance(v, int) for v in layout)
                or not (1 <= layout[0] <= 4 and 1 <= layout[1] <= 4)):
            raise ProtocolError(f"{where}: layout must be [rows, columns], each 1..4")
        rules = []
        for j, vp in enumerate(table.get("viewport", []), 1):
            unknown = set(vp) - _VIEWPORT_KEYS
            if unknown:
                raise ProtocolError(f"{where}, viewport {j}: unknown key(s) {', '.join(sorted(unknown))}")
            rule = ViewportRule(**vp)
            if rule.prior_index < 0:
                raise ProtocolError(f"{where}, viewport {j}: study must be 'current', 'prior', 'prior2'…")
            if rule.orientation and rule.orientation not in ORIENTATIONS:
                raise ProtocolError(f"{where}, viewport {j}: orientation must be one of {', '.join(ORIENTATIONS)}")
            if rule.fallback not in ("largest", "none"):
                raise ProtocolError(f"{where}, viewport {j}: fallback must be 'largest' or 'none'")
            rule.series_description = _regex(rule.series_description, f"{where}, viewport {j}")
            rules.append(rule)
        if len(rules) > layout[0] * layout[1]:
            raise ProtocolError(f"{where}: {len(rules)} viewports do not fit a {layout[0]}x{layout[1]} layout")
        out.append(Protocol(
            name=name, rows=layout[0], columns=layout[1], viewports=rules,
            modality=_regex(table.get("modality"), where), body_part=_regex(table.get("body_part"), where),
            study_description=_regex(table.get("study_description"), where),
            min_priors=int(table.get("min_priors", 0)), source=source))
    return out


def load_protocols(config_dir: Path | None = None, defaults: Path = DEFAULTS) -> list[Protocol]:
    """The user's protocols (when the file exists) followed by the shipped defaults."""
    out: list[Protocol] = []
    for path in ([Path(config_dir) / USER_FILE] if config_dir else []) + [defaults]:
        out.extend(_parsed(path))
    return out


_PARSED: dict[str, tuple[tuple[int, int], list[Protocol]]] = {}


def _parsed(path: Path) -> list[Protocol]:
    """The protocols of one file, parsed again only when it changed: parsing costs ~5 ms of the GUI thread each
    time a study opens. (Protocols are not changed once parsed.)"""
    try:
        st = path.stat()
    except OSError:
        return []
    if not path.is_file():
        return []
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _PARSED.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    protocols = parse_protocols(path.read_text(encoding="utf-8"), str(path))
    _PARSED[str(path)] = (stamp, protocols)
    return protocols


# --- choosing a protocol ------------------------------------------------------------------------------------------

def _search(pattern: str, texts: Iterable[str]) -> bool:
    rx = re.compile(pattern, re.IGNORECASE)
    return any(rx.search(t or "") for t in texts)


def _full(pattern: str, texts: Iterable[str]) -> bool:
    rx = re.compile(pattern, re.IGNORECASE)
    return any(rx.fullmatch(t or "") for t in texts)


def score(protocol: Protocol, study: StudyInfo, prior_count: int) -> int:
    """-1 when the protocol does not apply; else how many of its criteria the study meets (more is more specific)."""
    if prior_count < protocol.min_priors:
        return -1
    points = 0
    if protocol.modality:
        if not _full(protocol.modality, study.modalities):
            return -1
        points += 1
    if protocol.body_part or protocol.study_description:
        # Body part and description name the same thing; either one may carry it (many modalities leave
        # BodyPartExamined empty).
        hit = bool(protocol.body_part and _search(protocol.body_part, study.body_parts))
        hit = hit or bool(protocol.study_description and _search(protocol.study_description, [study.description]))
        if not hit:
            return -1
        points += 2
    if protocol.min_priors:
        points += 1
    return points


def matching_protocols(protocols: Sequence[Protocol], study: StudyInfo, prior_count: int = 0) -> list[Protocol]:
    """Every protocol that applies, the most specific first; the file order breaks ties (user's first)."""
    scored = [(score(p, study, prior_count), i, p) for i, p in enumerate(protocols)]
    return [p for s, _i, p in sorted((x for x in scored if x[0] >= 0), key=lambda x: (-x[0], x[1]))]


# --- placing display sets -----------------------------------------------------------------------------------------

def _matches(rule: ViewportRule, ds: DisplaySet) -> bool:
    if rule.series_description and not re.search(rule.series_description, ds.description or "", re.IGNORECASE):
        return False
    if rule.orientation and ds.orientation != rule.orientation:
        return False
    if rule.series_number is not None and ds.number != rule.series_number:
        return False
    if rule.image_type and rule.image_type.upper() not in ds.image_type:
        return False
    if rule.modality and ds.modality.upper() != rule.modality.upper():
        return False
    if rule.laterality and ds.laterality.upper() != rule.laterality.upper():
        return False
    if rule.view and ds.view.upper() != rule.view.upper():
        return False
    return True


def _order(ds: DisplaySet) -> tuple:
    return (ds.number if ds.number is not None else 1 << 30, ds.description)


def choose(rule: ViewportRule, sets: Sequence[DisplaySet], used: set[str]) -> DisplaySet | None:
    """The display set a viewport rule picks in one study: an unused match first, then any match, then the fallback.

    Localizers are never chosen unless the rule asks for them by image type.
    """
    pool = [s for s in sets if not s.is_localizer or rule.image_type.upper() == "LOCALIZER"]
    hits = sorted((s for s in pool if _matches(rule, s)), key=_order)
    for candidate in hits:
        if _key(candidate) not in used:
            return candidate
    if hits:
        return hits[0]
    if rule.fallback == "largest":
        sections = [s for s in pool if s.orientation in ("", rule.orientation or s.orientation)
                    and (not rule.laterality and not rule.view)]
        if sections:
            return max(sections, key=lambda s: (s.count, -(s.number or 0)))
    return None


def _key(ds: DisplaySet) -> str:
    return ds.series_uid + "|" + ",".join(ds.instance_uids)


def hang(protocol: Protocol, studies: Sequence[Sequence[DisplaySet]]) -> Hanging:
    """Place display sets: ``studies[0]`` is the current study's sets, ``studies[1]`` the first prior's, …

    A viewport whose study is missing (fewer priors than the rule names) or that finds nothing stays empty: the
    viewer shows the cell empty with a hint, never another study's image in its place.
    """
    hanging = Hanging(protocol, protocol.rows, protocol.columns)
    used: set[str] = set()
    for rule in protocol.viewports:
        idx = rule.prior_index
        chosen = choose(rule, studies[idx], used) if 0 <= idx < len(studies) else None
        if chosen is not None:
            used.add(_key(chosen))
        hanging.cells.append(Cell(rule, chosen, idx))
    return hanging


# --- display sets from image attributes ---------------------------------------------------------------------------

def orientation_of(iop: Sequence[float] | None, tolerance: float = 0.8) -> str:
    """The plane an ImageOrientationPatient describes (its normal's dominant axis), "oblique" when none dominates."""
    if not iop or len(iop) != 6:
        return ""
    import numpy as np

    normal = np.cross(np.asarray(iop[:3], float), np.asarray(iop[3:], float))
    norm = float(np.linalg.norm(normal))
    if norm == 0:
        return ""
    normal = np.abs(normal / norm)
    axis = int(np.argmax(normal))
    if normal[axis] < tolerance:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def display_sets(series_row: dict[str, Any], headers: Sequence[Any]) -> list[DisplaySet]:
    """Display sets of one series from its archive row and the headers (pydicom datasets) of its instances.

    A series whose images show different views (mammography: RCC, LCC, RMLO, LMLO in one series) gives one set
    per laterality and view; any other series is one set. ``headers`` may be just the first instance's.
    """
    first = headers[0] if headers else None

    def get(ds: Any, keyword: str, default: Any = "") -> Any:
        return getattr(ds, keyword, default) if ds is not None else default

    base = dict(
        series_uid=str(series_row.get("SeriesInstanceUID") or ""),
        study_uid=str(series_row.get("StudyInstanceUID") or ""),
        number=series_row.get("SeriesNumber"),
        description=str(series_row.get("SeriesDescription") or ""),
        modality=str(series_row.get("Modality") or ""),
        body_part=str(series_row.get("BodyPartExamined") or ""),
        orientation=orientation_of(get(first, "ImageOrientationPatient", None)),
        image_type=tuple(str(v).upper() for v in (get(first, "ImageType", ()) or ())),
        count=int(series_row.get("NumberOfSeriesRelatedInstances") or series_row.get("NumberOfInstances") or 0),
    )
    views: dict[tuple[str, str], list[str]] = {}
    for ds in headers:
        laterality = str(get(ds, "ImageLaterality") or get(ds, "Laterality") or "").upper()
        view = str(get(ds, "ViewPosition") or "").upper()
        views.setdefault((laterality, view), []).append(str(get(ds, "SOPInstanceUID")))
    if len(views) <= 1:
        laterality, view = next(iter(views)) if views else ("", "")
        return [DisplaySet(**base, laterality=laterality, view=view)]
    return [DisplaySet(**{**base, "count": len(uids)}, laterality=lat, view=view, instance_uids=tuple(uids))
            for (lat, view), uids in sorted(views.items())]


# --- saving a layout as a protocol --------------------------------------------------------------------------------

def protocol_from_layout(name: str, study: StudyInfo, rows: int, columns: int,
                         cells: Sequence[tuple[int, DisplaySet | None, str]]) -> dict[str, Any]:
    """A rule that reproduces what is on screen: ``cells`` are (study index, display set, preset) per viewport."""
    viewports = []
    for study_index, ds, preset in cells:
        vp: dict[str, Any] = {"study": "current" if study_index == 0 else
                              ("prior" if study_index == 1 else f"prior{study_index}")}
        if ds is not None:
            if ds.description:
                vp["series_description"] = "^" + re.escape(ds.description) + "$"
            if ds.orientation:
                vp["orientation"] = ds.orientation
            if ds.laterality:
                vp["laterality"] = ds.laterality
            if ds.view:
                vp["view"] = ds.view
        if preset:
            vp["preset"] = preset
        viewports.append(vp)
    table: dict[str, Any] = {"name": name, "layout": [rows, columns],
                             "modality": "|".join(re.escape(m) for m in study.modalities) or ""}
    if study.description:
        table["study_description"] = re.escape(study.description)
    priors = max([c[0] for c in cells] + [0])
    if priors:
        table["min_priors"] = priors
    table["viewport"] = viewports
    return {k: v for k, v in table.items() if v != ""}


def save_protocol(config_dir: Path, table: dict[str, Any]) -> Path:
    """Add (or replace, by name) a protocol at the top of the user's rule file; written atomically."""
    import os

    import tomli_w

    path = Path(config_dir) / USER_FILE
    existing: list[dict[str, Any]] = []
    if path.is_file():
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        existing = [p for p in raw.get("protocol", []) if p.get("name") != table["name"]]
    text = tomli_w.dumps({"protocol": [table] + existing})
    parse_protocols(text, str(path))  # never write a file the loader would refuse
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
