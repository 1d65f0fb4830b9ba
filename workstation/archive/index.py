"""The SQLite index: patients, studies, series and instances, with counters kept up to date on every write.

One connection per thread (WAL mode), writes serialized per process and kept short; other processes (a CLI next to
the running app) wait on SQLite's busy timeout. Managed files are not named in the index: their path is derived
from the SOPInstanceUID and SeriesInstanceUID (``Storage.path_for``), which keeps the index under 1 KB per instance;
linked files keep their absolute path.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from workstation.archive.index_tables import (
    FROM, INSTANCE_COLS, KEY_IMAGES, ORDER, PATIENT_COLS, SCHEMA, SERIES_COLS, STUDY_COLS, add_missing_columns,
    exists_below, row_dict, vector_text,
)
from workstation.archive.matching import ATTRIBUTES, LEVELS, QueryError, condition, fold, normalize_level

# 2: the archive's files may be stored in the series layout (workstation.archive.storage), which a version that
# knows only schema 1 would not find (its check would drop their rows). Indexes of schema 1 stay so while their
# store keeps the instance layout.
SCHEMA_VERSION = 2


@dataclass
class InstanceRecord:
    """What the index stores for one instance (attributes keyed by DICOM keywords)."""

    attributes: dict[str, Any]
    size: int
    linked_path: str | None = None  # None: managed file, path derived from the UID


@dataclass
class Change:
    """What a write did, for listeners: instance UIDs added and removed, with their series and studies."""

    added: list[tuple[str, str, str]]  # (study_uid, series_uid, sop_uid)
    removed: list[tuple[str, str, str]]


_TASKS = "/proc/self/task"


def _thread_alive(native_id: int) -> bool:
    """Whether the OS thread ``native_id`` still runs (Linux: its /proc entry; elsewhere: Python's threads)."""
    if os.path.isdir(_TASKS):
        return os.path.exists(f"{_TASKS}/{native_id}")
    return any(t.native_id == native_id and t.is_alive() for t in threading.enumerate())


class Index:
    """The archive's SQLite index."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._write_lock = threading.RLock()
        self._by_thread: dict[int, sqlite3.Connection] = {}  # OS thread id -> its connection
        self._connections_lock = threading.Lock()
        con = self.connection()
        with self._write_lock:
            con.executescript(SCHEMA)
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"the index {self.path} was written by a newer version (schema {row[0]})"
                )
            self.schema_version = SCHEMA_VERSION if row is None else int(row[0])
            add_missing_columns(con)
            con.commit()

    def require_schema(self, version: int) -> None:
        """Raise the recorded schema version to ``version`` (never lowers it): versions that know only an older
        schema refuse to open this index from then on."""
        if self.schema_version >= version:
            return
        self._write(lambda con: con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),)))
        self.schema_version = version

    # --- connections -----------------------------------------------------------------------------------------
    def connection(self) -> sqlite3.Connection:
        """This thread's connection. Connections are kept per OS thread, not in a ``threading.local``: a Qt pool
        thread loses its Python thread state (and with it its thread-locals) after every job it runs, so each job
        opened a new connection that was never closed (Python sees such threads as alive forever)."""
        tid = threading.get_native_id()
        con = self._by_thread.get(tid)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process; on power loss the last commits may roll back. That
            # loses no acknowledged instance: its file was synced before its row was written, and the startup
            # check (the durable ".open" marker says the session did not end cleanly) indexes files without rows.
            # FULL would add a second fsync to every C-STORE for nothing.
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA cache_size=-16000")
            with self._connections_lock:
                # pynetdicom runs each association in a new thread: close the connections of finished threads,
                # or a long-running server would run out of file descriptors.
                for other_tid in [t for t in self._by_thread if t != tid and not _thread_alive(t)]:
                    try:
                        self._by_thread.pop(other_tid).close()
                    except sqlite3.Error:
                        pass
                self._by_thread[tid] = con
        return con

    @property
    def _connections(self) -> list[sqlite3.Connection]:
        return list(self._by_thread.values())

    def close(self) -> None:
        """Close this thread's connection and let go of the others. Another thread's connection is never closed
        from here: closing one while its thread was in the middle of a query (a priors lookup as the archive
        closed) crashed the interpreter. Dropped, a connection nobody is using closes at once; one still in use
        closes when its query lets go of it."""
        with self._connections_lock:
            mine = self._by_thread.pop(threading.get_native_id(), None)
            others, self._by_thread = self._by_thread, {}
        if mine is not None:
            try:
                mine.close()
            except sqlite3.Error:
                pass
        del others

    def _write(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        con = self.connection()
        with self._write_lock:
            con.execute("BEGIN IMMEDIATE")
            try:
                result = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return result

    # --- reads -----------------------------------------------------------------------------------------------
    def has_instance(self, sop_uid: str) -> bool:
        return self.connection().execute("SELECT 1 FROM instances WHERE sop_uid = ?", (sop_uid,)).fetchone() is not None

    def existing_instances(self, sop_uids: Iterable[str]) -> set[str]:
        uids = list(sop_uids)
        found: set[str] = set()
        con = self.connection()
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            q = f"SELECT sop_uid FROM instances WHERE sop_uid IN ({','.join('?' * len(chunk))})"
            found.update(r[0] for r in con.execute(q, chunk))
        return found

    def instance_location(self, sop_uid: str) -> tuple[str | None, str] | None:
        """(linked_path, SeriesInstanceUID) of an instance, or None when unknown."""
        return self.locations([sop_uid]).get(sop_uid)

    def query(
        self,
        level: str,
        filters: dict[str, str] | None = None,
        *,
        search: str | None = None,
        limit: int | None = None,
        received_since: float | None = None,
    ) -> list[dict[str, Any]]:
        """Rows at ``level`` matching ``filters`` (DICOM matching) and an optional free-text ``search``."""
        level = normalize_level(level)
        depth = LEVELS.index(level)
        where: list[str] = []
        params: list[Any] = []
        for keyword, value in (filters or {}).items():
            attr = ATTRIBUTES.get(keyword)
            if attr is None or value is None:
                continue
            if LEVELS.index(attr.level) > depth:
                # A lower-level key at a higher level: match through an EXISTS over the children.
                sub = exists_below(level, attr.level)
                cond = condition(attr, str(value))
                if cond is not None:
                    where.append(sub.format(cond=cond[0]))
                    params.extend(cond[1])
                continue
            cond = condition(attr, str(value))
            if cond is not None:
                where.append(cond[0])
                params.extend(cond[1])
        if search and search.strip():
            for word in search.split():
                like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                cols = ["p.name_key", "p.patient_id"]
                if depth >= 1:
                    cols += ["st.accession", "st.description", "st.study_id"]
                where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in cols) + ")")
                params.extend([like.casefold() if c == "p.name_key" else like for c in cols])
        if received_since is not None and depth >= 1:
            where.append("st.received >= ?")
            params.append(received_since)
        cols = {
            "patient": PATIENT_COLS + ", p.pk",
            "study": PATIENT_COLS + ", " + STUDY_COLS,
            "series": PATIENT_COLS + ", " + STUDY_COLS + ", " + SERIES_COLS,
            "instance": PATIENT_COLS + ", " + STUDY_COLS + ", " + SERIES_COLS + ", " + INSTANCE_COLS,
        }[level]
        sql = f"SELECT {cols} FROM {FROM[level]}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {ORDER[level]}"
        if limit:
            sql += f" LIMIT {int(limit)}"
        con = self.connection()
        rows = con.execute(sql, params).fetchall()
        out = [row_dict(level, r) for r in rows]
        if level == "patient" and out:
            self._add_patient_counts(con, out, [r[5] for r in rows])
        elif level == "study":
            self._add_key_images(con, out, [r[5] for r in rows if r[12] and "KO" in r[12]])
        return out

    @staticmethod
    def _add_key_images(con: sqlite3.Connection, out: list[dict], candidates: list[str]) -> None:
        """``key_images`` of study rows: True for those of ``candidates`` (studies listing KO) with key images."""
        flagged: set[str] = set()
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            flagged.update(r[0] for r in con.execute(KEY_IMAGES.format(marks=",".join("?" * len(chunk))), chunk))
        if flagged:
            for row in out:
                if row["StudyInstanceUID"] in flagged:
                    row["key_images"] = True

    def _add_patient_counts(self, con: sqlite3.Connection, out: list[dict], pks: list[int]) -> None:
        counts: dict[int, tuple[int, int, int]] = {}
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            q = (
                "SELECT patient_pk, COUNT(*), SUM(num_series), SUM(num_instances) FROM studies "
                f"WHERE patient_pk IN ({','.join('?' * len(chunk))}) GROUP BY patient_pk"
            )
            for pk, n_st, n_se, n_i in con.execute(q, chunk):
                counts[pk] = (n_st, n_se or 0, n_i or 0)
        for row, pk in zip(out, pks):
            n_st, n_se, n_i = counts.get(pk, (0, 0, 0))
            row["NumberOfPatientRelatedStudies"] = n_st
            row["NumberOfPatientRelatedSeries"] = n_se
            row["NumberOfPatientRelatedInstances"] = n_i
            row["NumberOfInstances"] = n_i

    def count_received_since(self, since: float) -> int:
        """Instances indexed at or after ``since`` (epoch seconds): the status bar's "received today"."""
        return self.connection().execute("SELECT COUNT(*) FROM instances WHERE received >= ?", (since,)).fetchone()[0]

    def integrity_problems(self) -> list[str]:
        """SQLite's own check of the index file; empty when sound."""
        # integrity_check, not quick_check: only it compares index content with the tables.
        rows = [r[0] for r in self.connection().execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def reindex(self) -> None:
        """Rebuild SQLite's indexes from the tables (repairs "row missing from index" damage)."""
        self._write(lambda con: con.execute("REINDEX"))

    def count(self, level: str) -> int:
        table = {"patient": "patients", "study": "studies", "series": "series", "instance": "instances"}[
            normalize_level(level)
        ]
        return self.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def lookup(self, identifier: str) -> list[dict[str, Any]]:
        """Resources named by ``identifier``: SOP/series/study instance UID, accession number or patient ID."""
        found: list[dict[str, Any]] = []
        for level, keyword in (
            ("instance", "SOPInstanceUID"),
            ("series", "SeriesInstanceUID"),
            ("study", "StudyInstanceUID"),
            ("study", "AccessionNumber"),
            ("patient", "PatientID"),
        ):
            try:
                rows = self.query(level, {keyword: identifier.replace("*", "").replace("?", "")})
            except QueryError:
                continue
            for row in rows:
                row = dict(row)
                row["level"] = level
                row["matched"] = keyword
                found.append(row)
        return found

    def instances_for(self, level: str, uid: str) -> list[tuple[str, str | None, str]]:
        """(sop_uid, linked_path, series_uid) of every instance under a patient (PatientID), study, series or
        instance."""
        level = normalize_level(level)
        keyword = {"patient": "PatientID", "study": "StudyInstanceUID", "series": "SeriesInstanceUID",
                   "instance": "SOPInstanceUID"}[level]
        attr = ATTRIBUTES[keyword]
        sql = f"SELECT i.sop_uid, i.linked_path, se.series_uid FROM {FROM['instance']} WHERE {attr.column} = ?"
        return [(r[0], r[1], r[2]) for r in self.connection().execute(sql, (uid,))]

    def all_instances(self) -> list[tuple[str, str | None, str]]:
        """(sop_uid, linked_path, series_uid) of every instance."""
        sql = "SELECT i.sop_uid, i.linked_path, se.series_uid FROM instances i JOIN series se ON se.pk = i.series_pk"
        return [(r[0], r[1], r[2]) for r in self.connection().execute(sql)]

    def locations(self, sop_uids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        """(linked_path, SeriesInstanceUID) of each of ``sop_uids`` the index has."""
        uids = list(sop_uids)
        found: dict[str, tuple[str | None, str]] = {}
        con = self.connection()
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            q = ("SELECT i.sop_uid, i.linked_path, se.series_uid FROM instances i JOIN series se ON se.pk = i.series_pk"
                 f" WHERE i.sop_uid IN ({','.join('?' * len(chunk))})")
            found.update((r[0], (r[1], r[2])) for r in con.execute(q, chunk))
        return found

    # --- writes ----------------------------------------------------------------------------------------------
    def add(self, records: list[InstanceRecord], replace: bool = False) -> tuple[list[str], list[str]]:
        """Insert instance records in one transaction. Returns (added, duplicates) SOPInstanceUIDs.

        With ``replace``, an existing instance is replaced (the "overwrite" duplicate policy); otherwise it is
        kept and reported as a duplicate.
        """
        return self._write(lambda con: self._add(con, records, replace))

    def _add(self, con: sqlite3.Connection, records: list[InstanceRecord], replace: bool) -> tuple[list[str], list[str]]:
        added: list[str] = []
        duplicates: list[str] = []
        now = time.time()
        patients: dict[tuple, int] = {}
        studies: dict[str, int] = {}
        series_cache: dict[str, int] = {}
        for rec in records:
            a = rec.attributes
            sop_uid = a["SOPInstanceUID"]
            existing = con.execute("SELECT pk FROM instances WHERE sop_uid = ?", (sop_uid,)).fetchone()
            if existing is not None:
                if not replace:
                    duplicates.append(sop_uid)
                    continue
                self._remove_instance(con, existing[0])
                series_cache.clear()
                studies.clear()
                patients.clear()
            # patient
            name = a.get("PatientName") or ""
            pkey = (a.get("PatientID") or "", a.get("IssuerOfPatientID") or "", fold(name))
            patient_pk = patients.get(pkey)
            if patient_pk is None:
                row = con.execute(
                    "SELECT pk FROM patients WHERE patient_id = ? AND issuer = ? AND name_key = ?", pkey
                ).fetchone()
                if row is None:
                    patient_pk = con.execute(
                        "INSERT INTO patients (patient_id, issuer, name, name_key, birth_date, sex) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (*pkey[:2], name or None, pkey[2], a.get("PatientBirthDate"), a.get("PatientSex")),
                    ).lastrowid
                else:
                    patient_pk = row[0]
                patients[pkey] = patient_pk
            # study
            study_uid = a["StudyInstanceUID"]
            study_pk = studies.get(study_uid)
            if study_pk is None:
                row = con.execute("SELECT pk FROM studies WHERE study_uid = ?", (study_uid,)).fetchone()
                if row is None:
                    referring = a.get("ReferringPhysicianName")
                    study_pk = con.execute(
                        "INSERT INTO studies (patient_pk, study_uid, study_date, study_time, description, accession,"
                        " referring, referring_key, study_id, modalities, received) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)",
                        (patient_pk, study_uid, a.get("StudyDate"), a.get("StudyTime"), a.get("StudyDescription"),
                         a.get("AccessionNumber"), referring, fold(referring) if referring else None,
                         a.get("StudyID"), now),
                    ).lastrowid
                else:
                    study_pk = row[0]
                studies[study_uid] = study_pk
            # series
            series_uid = a["SeriesInstanceUID"]
            series_pk = series_cache.get(series_uid)
            if series_pk is None:
                row = con.execute("SELECT pk FROM series WHERE series_uid = ?", (series_uid,)).fetchone()
                if row is None:
                    series_pk = con.execute(
                        "INSERT INTO series (study_pk, series_uid, number, description, modality, body_part, received)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (study_pk, series_uid, a.get("SeriesNumber"), a.get("SeriesDescription"), a.get("Modality"),
                         a.get("BodyPartExamined"), now),
                    ).lastrowid
                    con.execute("UPDATE studies SET num_series = num_series + 1 WHERE pk = ?", (study_pk,))
                    self._add_modality(con, study_pk, a.get("Modality"))
                else:
                    series_pk = row[0]
                series_cache[series_uid] = series_pk
            con.execute(
                "INSERT INTO instances (series_pk, sop_uid, sop_class, instance_number, transfer_syntax, frames, rows,"
                " columns, size, received, linked_path, image_position, image_orientation, document_title)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (series_pk, sop_uid, a.get("SOPClassUID"), a.get("InstanceNumber"), a.get("TransferSyntaxUID"),
                 a.get("NumberOfFrames"), a.get("Rows"), a.get("Columns"), rec.size, now, rec.linked_path,
                 vector_text(a.get("ImagePositionPatient"), 3), vector_text(a.get("ImageOrientationPatient"), 6),
                 a.get("DocumentTitle")),
            )
            con.execute(
                "UPDATE series SET num_instances = num_instances + 1, received = ? WHERE pk = ?", (now, series_pk)
            )
            con.execute(
                "UPDATE studies SET num_instances = num_instances + 1, received = ? WHERE pk = ?", (now, study_pk)
            )
            added.append(sop_uid)
        return added, duplicates

    @staticmethod
    def _add_modality(con: sqlite3.Connection, study_pk: int, modality: str | None) -> None:
        if not modality:
            return
        current = con.execute("SELECT modalities FROM studies WHERE pk = ?", (study_pk,)).fetchone()[0] or ""
        parts = [m for m in current.split("\\") if m]
        if modality not in parts:
            parts.append(modality)
            con.execute("UPDATE studies SET modalities = ? WHERE pk = ?", ("\\".join(sorted(parts)), study_pk))

    def remove(self, sop_uids: list[str]) -> list[tuple[str, str, str]]:
        """Delete instance rows (and parents left empty). Returns (study, series, sop) UIDs removed."""

        def run(con: sqlite3.Connection) -> list[tuple[str, str, str]]:
            removed = []
            for uid in sop_uids:
                row = con.execute(
                    "SELECT i.pk, st.study_uid, se.series_uid FROM instances i JOIN series se ON se.pk = i.series_pk "
                    "JOIN studies st ON st.pk = se.study_pk WHERE i.sop_uid = ?",
                    (uid,),
                ).fetchone()
                if row is None:
                    continue
                self._remove_instance(con, row[0])
                removed.append((row[1], row[2], uid))
            return removed

        return self._write(run)

    def _remove_instance(self, con: sqlite3.Connection, instance_pk: int) -> None:
        series_pk = con.execute("SELECT series_pk FROM instances WHERE pk = ?", (instance_pk,)).fetchone()[0]
        study_pk, left = con.execute("SELECT study_pk, num_instances FROM series WHERE pk = ?", (series_pk,)).fetchone()
        con.execute("DELETE FROM instances WHERE pk = ?", (instance_pk,))
        con.execute("UPDATE studies SET num_instances = num_instances - 1 WHERE pk = ?", (study_pk,))
        if left <= 1:
            con.execute("DELETE FROM series WHERE pk = ?", (series_pk,))
            mods = sorted({r[0] for r in con.execute("SELECT modality FROM series WHERE study_pk = ?", (study_pk,)) if r[0]})
            con.execute(
                "UPDATE studies SET num_series = num_series - 1, modalities = ? WHERE pk = ?",
                ("\\".join(mods), study_pk),
            )
            patient_pk, n_series = con.execute(
                "SELECT patient_pk, num_series FROM studies WHERE pk = ?", (study_pk,)
            ).fetchone()
            if n_series <= 0:
                con.execute("DELETE FROM studies WHERE pk = ?", (study_pk,))
                if con.execute("SELECT 1 FROM studies WHERE patient_pk = ? LIMIT 1", (patient_pk,)).fetchone() is None:
                    con.execute("DELETE FROM patients WHERE pk = ?", (patient_pk,))
        else:
            con.execute("UPDATE series SET num_instances = num_instances - 1 WHERE pk = ?", (series_pk,))
