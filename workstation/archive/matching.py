"""DICOM attribute matching (PS3.4 C.2.2.2) translated to SQL conditions over the index.

The cases, as pynetdicom's qrscp decomposes them: universal (empty or ``*``), single value, wildcard (``*``,
``?``), range (dates and times, ``A-B``, ``A-``, ``-B``) and list of UIDs (backslash-separated). Person names
match case-insensitively against any of their component groups (alphabetic, ideographic, phonetic).
"""

from __future__ import annotations

from dataclasses import dataclass


class QueryError(ValueError):
    """A filter value that cannot be matched (e.g. a malformed date range)."""


@dataclass(frozen=True)
class Attr:
    keyword: str
    level: str  # patient | study | series | instance
    column: str  # "alias.column"
    kind: str  # uid | date | time | pn | text | int | cs | modalities


# Table aliases: p patients, st studies, se series, i instances.
ATTRIBUTES: dict[str, Attr] = {
    a.keyword: a
    for a in (
        Attr("PatientID", "patient", "p.patient_id", "text"),
        Attr("IssuerOfPatientID", "patient", "p.issuer", "text"),
        Attr("PatientName", "patient", "p.name_key", "pn"),
        Attr("PatientBirthDate", "patient", "p.birth_date", "date"),
        Attr("PatientSex", "patient", "p.sex", "cs"),
        Attr("StudyInstanceUID", "study", "st.study_uid", "uid"),
        Attr("StudyDate", "study", "st.study_date", "date"),
        Attr("StudyTime", "study", "st.study_time", "time"),
        Attr("StudyDescription", "study", "st.description", "text"),
        Attr("AccessionNumber", "study", "st.accession", "text"),
        Attr("ReferringPhysicianName", "study", "st.referring_key", "pn"),
        Attr("StudyID", "study", "st.study_id", "text"),
        Attr("ModalitiesInStudy", "study", "st.modalities", "modalities"),
        Attr("SeriesInstanceUID", "series", "se.series_uid", "uid"),
        Attr("SeriesNumber", "series", "se.number", "int"),
        Attr("SeriesDescription", "series", "se.description", "text"),
        Attr("Modality", "series", "se.modality", "cs"),
        Attr("BodyPartExamined", "series", "se.body_part", "cs"),
        Attr("SOPInstanceUID", "instance", "i.sop_uid", "uid"),
        Attr("SOPClassUID", "instance", "i.sop_class", "uid"),
        Attr("InstanceNumber", "instance", "i.instance_number", "int"),
        Attr("TransferSyntaxUID", "instance", "i.transfer_syntax", "uid"),
        Attr("NumberOfFrames", "instance", "i.frames", "int"),
        Attr("Rows", "instance", "i.rows", "int"),
        Attr("Columns", "instance", "i.columns", "int"),
    )
}

LEVELS = ("patient", "study", "series", "instance")
LEVEL_ALIASES = {"image": "instance", "patients": "patient", "studies": "study", "instances": "instance"}


def normalize_level(level: str) -> str:
    level = LEVEL_ALIASES.get(level.lower(), level.lower())
    if level not in LEVELS:
        raise QueryError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    return level


def fold(text: str) -> str:
    """The case-insensitive key of a person name (Unicode case folding)."""
    return text.casefold()


def _glob_escape(text: str) -> str:
    # In GLOB, * and ? are exactly DICOM's wildcards; only [ must be made literal.
    return text.replace("[", "[[]")


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def condition(attr: Attr, value: str) -> tuple[str, list] | None:
    """SQL condition and parameters for matching ``attr`` against the query ``value``; None = universal."""
    value = value.strip(" ") if attr.kind != "pn" else value.strip(" ")
    if value == "" or value == "*":
        return None
    col = attr.column
    kind = attr.kind
    if kind == "uid":
        uids = [u.strip(" \x00") for u in value.split("\\") if u.strip(" \x00")]
        if len(uids) == 1:
            return f"{col} = ?", uids
        return f"{col} IN ({','.join('?' * len(uids))})", uids
    if kind in ("date", "time"):
        return _range_condition(col, value, kind)
    if kind == "int":
        try:
            return f"{col} = ?", [int(value)]
        except ValueError:
            raise QueryError(f"{attr.keyword} must be a number, not {value!r}") from None
    if kind == "pn":
        pattern = _glob_escape(fold(value))
        if not _has_wildcard(value):
            return (f"({col} = ? OR {col} GLOB ? OR {col} GLOB ? OR {col} GLOB ?)",
                    [fold(value), pattern + "=*", "*=" + pattern, "*=" + pattern + "=*"])
        return (f"({col} GLOB ? OR {col} GLOB ? OR {col} GLOB ? OR {col} GLOB ?)",
                [pattern, pattern + "=*", "*=" + pattern, "*=" + pattern + "=*"])
    if kind == "modalities":
        wanted = [m.strip() for m in value.split("\\") if m.strip()]
        parts = " OR ".join(["instr('\\' || ifnull(st.modalities, '') || '\\', ?) > 0"] * len(wanted))
        return f"({parts})", [f"\\{m}\\" for m in wanted]
    # text / cs: exact or wildcard, case-sensitive as the standard says; lists of values for CS.
    values = value.split("\\") if kind == "cs" else [value]
    clauses, params = [], []
    for v in values:
        if _has_wildcard(v):
            clauses.append(f"{col} GLOB ?")
            params.append(_glob_escape(v))
        else:
            clauses.append(f"{col} = ?")
            params.append(v)
    return ("(" + " OR ".join(clauses) + ")", params)


def _range_condition(col: str, value: str, kind: str) -> tuple[str, list]:
    def clean(part: str) -> str:
        part = part.strip().replace(".", "" if kind == "date" else ".").replace(":", "")
        if kind == "date" and part and not (len(part) == 8 and part.isdigit()):
            raise QueryError(f"a date must be YYYYMMDD, not {part!r}")
        if kind == "time" and part and not part.replace(".", "").isdigit():
            raise QueryError(f"a time must be HHMMSS, not {part!r}")
        return part

    if "-" in value:
        low, _, high = value.partition("-")
        low, high = clean(low), clean(high)
        if low and high:
            if kind == "time":
                high = high + "\uffff"
            return f"({col} >= ? AND {col} <= ?)", [low, high]
        if low:
            return f"{col} >= ?", [low]
        if high:
            return f"{col} <= ?", [high + ("\uffff" if kind == "time" else "")]
        return "1", []
    if _has_wildcard(value):
        return f"{col} GLOB ?", [_glob_escape(value)]
    single = clean(value)
    if kind == "time":
        return f"{col} GLOB ?", [single + "*"]
    return f"{col} = ?", [single]
