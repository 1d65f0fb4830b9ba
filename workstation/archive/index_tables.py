"""The index's tables and how they read: the schema and its additive migration, the SQL fragments of the
listings, and the conversion of their rows into DICOM-keyword dicts (``workstation.archive.index`` runs them)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS patients (
    pk INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    issuer TEXT NOT NULL,
    name TEXT,
    name_key TEXT NOT NULL,
    birth_date TEXT,
    sex TEXT,
    UNIQUE (patient_id, issuer, name_key)
);
CREATE INDEX IF NOT EXISTS patients_name ON patients (name_key);
CREATE TABLE IF NOT EXISTS studies (
    pk INTEGER PRIMARY KEY,
    patient_pk INTEGER NOT NULL REFERENCES patients (pk),
    study_uid TEXT NOT NULL UNIQUE,
    study_date TEXT,
    study_time TEXT,
    description TEXT,
    accession TEXT,
    referring TEXT,
    referring_key TEXT,
    study_id TEXT,
    modalities TEXT,
    num_series INTEGER NOT NULL DEFAULT 0,
    num_instances INTEGER NOT NULL DEFAULT 0,
    received REAL
);
CREATE INDEX IF NOT EXISTS studies_patient ON studies (patient_pk);
CREATE INDEX IF NOT EXISTS studies_date ON studies (study_date);
-- The study listing's order (newest first), read backwards: no sort of the whole table per listing.
CREATE INDEX IF NOT EXISTS studies_date_time ON studies (study_date, study_time);
CREATE INDEX IF NOT EXISTS studies_accession ON studies (accession);
CREATE INDEX IF NOT EXISTS studies_received ON studies (received);
CREATE TABLE IF NOT EXISTS series (
    pk INTEGER PRIMARY KEY,
    study_pk INTEGER NOT NULL REFERENCES studies (pk),
    series_uid TEXT NOT NULL UNIQUE,
    number INTEGER,
    description TEXT,
    modality TEXT,
    body_part TEXT,
    num_instances INTEGER NOT NULL DEFAULT 0,
    received REAL
);
CREATE INDEX IF NOT EXISTS series_study ON series (study_pk);
CREATE INDEX IF NOT EXISTS series_modality ON series (modality);
CREATE TABLE IF NOT EXISTS instances (
    pk INTEGER PRIMARY KEY,
    series_pk INTEGER NOT NULL REFERENCES series (pk),
    sop_uid TEXT NOT NULL UNIQUE,
    sop_class TEXT,
    instance_number INTEGER,
    transfer_syntax TEXT,
    frames INTEGER,
    rows INTEGER,
    columns INTEGER,
    size INTEGER,
    received REAL,
    linked_path TEXT,
    image_position TEXT,
    image_orientation TEXT,
    document_title TEXT
);
CREATE INDEX IF NOT EXISTS instances_series ON instances (series_pk);
CREATE INDEX IF NOT EXISTS instances_received ON instances (received);
"""

PATIENT_COLS = "p.patient_id, p.issuer, p.name, p.birth_date, p.sex"
STUDY_COLS = (
    "st.study_uid, st.study_date, st.study_time, st.description, st.accession, st.referring, st.study_id, "
    "st.modalities, st.num_series, st.num_instances, st.received"
)
SERIES_COLS = "se.series_uid, se.number, se.description, se.modality, se.body_part, se.num_instances, se.received"
INSTANCE_COLS = (
    "i.sop_uid, i.sop_class, i.instance_number, i.transfer_syntax, i.frames, i.rows, i.columns, i.size, "
    "i.received, i.linked_path, i.image_position, i.image_orientation"
)
FROM = {
    "patient": "patients p",
    "study": "studies st JOIN patients p ON p.pk = st.patient_pk",
    "series": "series se JOIN studies st ON st.pk = se.study_pk JOIN patients p ON p.pk = st.patient_pk",
    "instance": "instances i JOIN series se ON se.pk = i.series_pk JOIN studies st ON st.pk = se.study_pk "
    "JOIN patients p ON p.pk = st.patient_pk",
}
# Whether a study has key images: a KO instance whose document title is not a rejection note (IHE IOCM, CID 7011;
# those select images to hide). Asked once per listing for the studies that list KO only (a column computed per row
# made a 4,000-study listing 35 % slower).
REJECTION_TITLES = ("113001", "113037", "113038", "113039")
KEY_IMAGES = (
    "SELECT DISTINCT st.study_uid FROM studies st JOIN series ks ON ks.study_pk = st.pk"
    " JOIN instances ki ON ki.series_pk = ks.pk WHERE ks.modality = 'KO' AND COALESCE(ki.document_title, '') NOT IN ("
    + ", ".join(f"'{t}'" for t in REJECTION_TITLES) + ") AND st.study_uid IN ({marks})"
)
ORDER = {
    "patient": "p.name_key, p.patient_id",
    "study": "st.study_date DESC, st.study_time DESC, st.pk DESC",
    "series": "st.pk, se.number, se.pk",
    "instance": "se.pk, i.instance_number, i.pk",
}


def exists_below(level: str, key_level: str) -> str:
    """An EXISTS clause matching a lower-level attribute from a higher-level row."""
    chains = {
        ("patient", "study"): "EXISTS (SELECT 1 FROM studies st WHERE st.patient_pk = p.pk AND {cond})",
        ("patient", "series"): "EXISTS (SELECT 1 FROM studies st JOIN series se ON se.study_pk = st.pk "
        "WHERE st.patient_pk = p.pk AND {cond})",
        ("patient", "instance"): "EXISTS (SELECT 1 FROM studies st JOIN series se ON se.study_pk = st.pk "
        "JOIN instances i ON i.series_pk = se.pk WHERE st.patient_pk = p.pk AND {cond})",
        ("study", "series"): "EXISTS (SELECT 1 FROM series se WHERE se.study_pk = st.pk AND {cond})",
        ("study", "instance"): "EXISTS (SELECT 1 FROM series se JOIN instances i ON i.series_pk = se.pk "
        "WHERE se.study_pk = st.pk AND {cond})",
        ("series", "instance"): "EXISTS (SELECT 1 FROM instances i WHERE i.series_pk = se.pk AND {cond})",
    }
    return chains[(level, key_level)]


def _iso(ts: float | None, _cache: dict[float, str] = {}) -> str | None:  # noqa: B006 - a deliberate memo
    # Rows written in one transaction share their timestamp: a study listing formats only a few distinct ones.
    if not ts:
        return None
    text = _cache.get(ts)
    if text is None:
        if len(_cache) > 4096:
            _cache.clear()
        text = _cache[ts] = datetime.fromtimestamp(ts).isoformat(timespec="seconds")
    return text


def _modalities(mods: str | None) -> list[str]:
    return [m for m in mods.split("\\") if m] if mods else []


def row_dict(level: str, r: tuple) -> dict[str, Any]:
    # One dict literal per level (this runs once per row of a listing: 4,000 studies in a few ms).
    if level == "patient":
        return {"PatientID": r[0], "IssuerOfPatientID": r[1] or None, "PatientName": r[2],
                "PatientBirthDate": r[3], "PatientSex": r[4]}
    if level == "study":
        return {
            "PatientID": r[0], "IssuerOfPatientID": r[1] or None, "PatientName": r[2], "PatientBirthDate": r[3],
            "PatientSex": r[4], "StudyInstanceUID": r[5], "StudyDate": r[6], "StudyTime": r[7],
            "StudyDescription": r[8], "AccessionNumber": r[9], "ReferringPhysicianName": r[10], "StudyID": r[11],
            "ModalitiesInStudy": _modalities(r[12]), "NumberOfStudyRelatedSeries": r[13],
            "NumberOfStudyRelatedInstances": r[14], "NumberOfInstances": r[14], "received": _iso(r[15]),
            "key_images": False,  # see _add_key_images
        }
    d: dict[str, Any] = {
        "PatientID": r[0], "IssuerOfPatientID": r[1] or None, "PatientName": r[2], "PatientBirthDate": r[3],
        "PatientSex": r[4], "StudyInstanceUID": r[5], "StudyDate": r[6], "StudyTime": r[7],
        "StudyDescription": r[8], "AccessionNumber": r[9], "ReferringPhysicianName": r[10], "StudyID": r[11],
        "ModalitiesInStudy": _modalities(r[12]), "SeriesInstanceUID": r[16], "SeriesNumber": r[17],
        "SeriesDescription": r[18], "Modality": r[19], "BodyPartExamined": r[20],
    }
    if level == "series":
        d["NumberOfSeriesRelatedInstances"] = d["NumberOfInstances"] = r[21]
        d["received"] = _iso(r[22])
        return d
    (sop, cls, num, ts, frames, rows, cols, size, received_i, linked, position, orientation) = r[23:35]
    d.update(
        SOPInstanceUID=sop,
        SOPClassUID=cls,
        InstanceNumber=num,
        TransferSyntaxUID=ts,
        NumberOfFrames=frames,
        Rows=rows,
        Columns=cols,
        size=size,
        received=_iso(received_i),
        linked_path=linked,
        ImagePositionPatient=_vector(position, 3),
        ImageOrientationPatient=_vector(orientation, 6),
    )
    return d


# Columns added after schema 1. Additive: older code reading the index ignores them, so the schema version stays;
# rows indexed before they existed hold NULL (the viewer reads those headers; `workstation rebuild` fills them).
# document_title: a KOS's title code (key images or a rejection note); NULL for rows indexed before counts as
# key images, as the KO modality alone said then.
_ADDED_COLUMNS = (("instances", "image_position", "TEXT"), ("instances", "image_orientation", "TEXT"),
                  ("instances", "document_title", "TEXT"))


def add_missing_columns(con: sqlite3.Connection) -> None:
    """The migration of an index made before ``_ADDED_COLUMNS`` (another process may be doing it at once)."""
    for table, column, kind in _ADDED_COLUMNS:
        present = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        if column in present:
            continue
        try:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise


def vector_text(value: Any, n: int) -> str | None:
    """A DS vector (``"0\\0\\1.5"`` as read, or numbers) as stored: backslash-separated, None unless n numbers."""
    if value is None:
        return None
    parts = value.split("\\") if isinstance(value, str) else list(value)
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        return None
    if len(numbers) != n or any(x != x or x in (float("inf"), float("-inf")) for x in numbers):
        return None
    return "\\".join(repr(x) for x in numbers)


def _vector(text: str | None, n: int) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        numbers = tuple(map(float, text.split("\\")))
    except ValueError:
        return None
    return numbers if len(numbers) == n else None
