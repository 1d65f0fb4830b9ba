"""Archive commands: import, ls, lookup, delete, dump, check, rebuild, config."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from workstation.cli.context import CommandError, Context

LEVEL_CHOICES = ("patient", "study", "series", "instance")

# Columns of the human table per level: (header, keyword)
_TABLE = {
    "patient": [("PatientName", "PatientName"), ("PatientID", "PatientID"), ("Birth", "PatientBirthDate"),
                ("Sex", "PatientSex"), ("Studies", "NumberOfPatientRelatedStudies"), ("Instances", "NumberOfInstances")],
    "study": [("PatientName", "PatientName"), ("PatientID", "PatientID"), ("StudyDate", "StudyDate"),
              ("Mod", "ModalitiesInStudy"), ("Description", "StudyDescription"), ("Accession", "AccessionNumber"),
              ("Series", "NumberOfStudyRelatedSeries"), ("Inst", "NumberOfInstances"),
              ("StudyInstanceUID", "StudyInstanceUID")],
    "series": [("PatientName", "PatientName"), ("StudyDate", "StudyDate"), ("#", "SeriesNumber"),
               ("Mod", "Modality"), ("Description", "SeriesDescription"), ("Inst", "NumberOfInstances"),
               ("SeriesInstanceUID", "SeriesInstanceUID")],
    "instance": [("PatientName", "PatientName"), ("Mod", "Modality"), ("Series#", "SeriesNumber"),
                 ("#", "InstanceNumber"), ("SOPInstanceUID", "SOPInstanceUID"), ("path", "path")],
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import files, folders, ZIP archives or CD/DVD media (DICOMDIR)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--link", action="store_true", help="index files where they are instead of copying them")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("ls", help="list the archive at a level, with DICOM matching filters")
    p.add_argument("--level", choices=LEVEL_CHOICES, default="study")
    p.add_argument("--json", action="store_true")
    add_filter_options(p)
    p.add_argument("--series-uid", dest="series_uid")
    p.add_argument("--search", help="free text over names, IDs, accession numbers and descriptions")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("lookup", help="what an identifier (PatientID, accession, any instance UID) names")
    p.add_argument("identifier")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lookup)

    p = sub.add_parser("delete", help="delete a patient, study, series or instance (rows and files)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--patient", metavar="PATIENT_ID")
    g.add_argument("--study", metavar="UID")
    g.add_argument("--series", metavar="UID")
    g.add_argument("--instance", metavar="UID")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("export", help="export a patient, study or series to a folder, a ZIP or a DICOMDIR folder",
                       description="Copies the instances out of the archive (byte for byte unless --anonymize). "
                                   "Formats: folder (Patient/Study/Series/IMnnnnn.dcm), zip (the same in one ZIP "
                                   "file), dicomdir (a CD/DVD/USB image: DICOMDIR + ISO 9660 names).")
    p.add_argument("--patient", metavar="PATIENT_ID", action="append", help="repeatable, as --study and --series")
    p.add_argument("--study", metavar="UID", action="append")
    p.add_argument("--series", metavar="UID", action="append")
    p.add_argument("destination", metavar="DEST")
    p.add_argument("--format", choices=("folder", "zip", "dicomdir"), default="folder")
    p.add_argument("--anonymize", action="store_true",
                   help="de-identify (names, IDs, UIDs, private elements; dates kept) while exporting")
    p.add_argument("--patient-name", dest="new_name", default="ANONYMOUS", help="pseudonym with --anonymize")
    p.add_argument("--new-patient-id", dest="new_id", help="pseudonymous ID with --anonymize (default: random)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("dump", help="every element of a file or an archived instance")
    p.add_argument("source", metavar="FILE_OR_SOPINSTANCEUID")
    p.add_argument("--width", type=int, default=80, help="longest value shown (default 80)")
    p.set_defaults(func=cmd_dump)

    p = sub.add_parser("check", help="find and repair what a crash can leave in the archive")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rebuild", help="rebuild the index from the stored files (never deletes a file)")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("migrate-storage", help="move an archive made by an older version to a folder per series "
                       "(faster imports and retrieves; no file is copied)")
    p.set_defaults(func=cmd_migrate_storage)

    p = sub.add_parser("config", help="show or change settings")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("show", help="print the settings")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_config_show)
    c = csub.add_parser("set", help="set one key (ae_title, port, bind, duplicate_policy, import_mode, ...)")
    c.add_argument("key")
    c.add_argument("value")
    c.set_defaults(func=cmd_config_set)


def add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--patient-id", dest="patient_id")
    p.add_argument("--patient-name", dest="patient_name")
    p.add_argument("--study-uid", dest="study_uid")
    p.add_argument("--accession")
    p.add_argument("--modality")
    p.add_argument("--study-date", dest="study_date", metavar="YYYYMMDD[-YYYYMMDD]")


def filters_from_args(args: argparse.Namespace) -> dict[str, str]:
    mapping = {
        "patient_id": "PatientID",
        "patient_name": "PatientName",
        "study_uid": "StudyInstanceUID",
        "series_uid": "SeriesInstanceUID",
        "accession": "AccessionNumber",
        "study_date": "StudyDate",
    }
    filters = {kw: getattr(args, attr) for attr, kw in mapping.items() if getattr(args, attr, None)}
    if getattr(args, "modality", None):
        level = getattr(args, "level", "study")
        filters["ModalitiesInStudy" if level in ("patient", "study") else "Modality"] = args.modality
    return filters


# --- import ------------------------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.archive import StorageFull

    archive = ctx.archive
    show_progress = sys.stderr.isatty() and not args.json
    last = [0.0]

    def progress(p: Any) -> None:
        now = time.monotonic()
        if show_progress and (now - last[0] > 0.2 or p.done == p.total):
            last[0] = now
            print(f"\rimporting {p.done}/{p.total} files", end="", file=sys.stderr, flush=True)

    try:
        report = archive.import_paths(args.paths, link=True if args.link else None, progress=progress)
    except StorageFull as exc:
        raise CommandError(f"the archive's disk is full ({exc.filename}); what was imported before is kept") from None
    if show_progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(
            f"imported {report.imported}, already present {report.duplicates}, skipped {report.skipped} (not DICOM), "
            f"repaired {len(report.repaired)}, "
            f"rejected {len(report.rejected)} in {report.seconds:.1f} s"
        )
        for r in report.rejected:
            print(f"  rejected {r['path']}: {r['reason']}")
        for r in report.skipped_files:
            print(f"  skipped {r['path']}: {r['reason']}")
        for r in report.repaired:
            print(f"  {r['path']}: {r['repair']}")
        for d in report.dicomdirs:
            line = f"  DICOMDIR {d['path']}: lists {d['listed']}, found {d['found']}"
            if d["missing"]:
                line += f", missing {len(d['missing'])}"
            if d["not_listed"]:
                n = len(d["not_listed"])
                line += f", {n} file{'s' if n != 1 else ''} not listed (imported too)"
            print(line)
            for missing in d["missing"]:
                print(f"    missing {missing}")
            for extra in d["not_listed"]:
                print(f"    not listed {extra}")
            for problem in d["problems"]:
                print(f"    {problem}")
    return 2 if report.rejected else 0


# --- ls / lookup -------------------------------------------------------------------------------------------------


def cmd_ls(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.archive import QueryError

    try:
        rows = ctx.archive.query(args.level, filters_from_args(args), search=args.search, limit=args.limit)
    except QueryError as exc:
        raise CommandError(str(exc)) from None
    print_rows(rows, args.level, args.json)
    return 0


def print_rows(rows: list[dict[str, Any]], level: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    cols = _TABLE["instance" if level == "image" else level]
    table = [[h for h, _ in cols]]
    for row in rows:
        table.append([_cell(row.get(k)) for _, k in cols])
    print_table(table)
    print(f"({len(rows)} {level}{'' if len(rows) == 1 else ('s' if level != 'series' and level != 'study' else '')})"
          .replace("studys", "studies"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\\".join(str(v) for v in value)
    return str(value)


def print_table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def cmd_lookup(args: argparse.Namespace, ctx: Context) -> int:
    rows = ctx.archive.lookup(args.identifier)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            uid = {"patient": "PatientID", "study": "StudyInstanceUID", "series": "SeriesInstanceUID",
                   "instance": "SOPInstanceUID"}[row["level"]]
            print(f"{row['level']:8} {row[uid]}  ({row.get('PatientName') or ''}, matched {row['matched']})")
    if not rows:
        print(f"workstation: nothing in the archive is named {args.identifier!r}", file=sys.stderr)
        return 1
    return 0


# --- delete ------------------------------------------------------------------------------------------------------


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    for level in ("patient", "study", "series", "instance"):
        uid = getattr(args, level)
        if uid:
            break
    removed = ctx.archive.delete(level, uid)
    if removed == 0:
        raise CommandError(f"no {level} {uid!r} in the archive")
    print(f"deleted {removed} instance{'s' if removed != 1 else ''}")
    return 0


# --- export ------------------------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.archive.export import ExportError, export
    from workstation.dicom.anonymize import Anonymizer

    selection = [(level, value) for level in ("patient", "study", "series") for value in getattr(args, level) or []]
    if not selection:
        raise CommandError("say what to export: --patient ID, --study UID or --series UID (repeatable)")
    anonymizer = Anonymizer(args.new_name, args.new_id) if args.anonymize else None

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rexported {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        report = export(ctx.archive, selection, args.destination, fmt=args.format, anonymizer=anonymizer,
                        progress=progress)
    except ExportError as exc:
        raise CommandError(str(exc)) from None
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"exported {report.exported} instance{'s' if report.exported != 1 else ''} to {report.destination}")
        for f in report.failed:
            print(f"  failed: {f['SOPInstanceUID']}: {f['reason']}", file=sys.stderr)
        for w in report.warnings:
            print(f"  warning: {w}", file=sys.stderr)
    return 2 if report.failed else 0


# --- dump --------------------------------------------------------------------------------------------------------


def cmd_dump(args: argparse.Namespace, ctx: Context) -> int:
    import pydicom

    from workstation.dicom.dump import dump_lines

    path = Path(args.source)
    if not path.exists():
        found = ctx.archive.instance_path(args.source)
        if found is None:
            raise CommandError(f"{args.source} is neither a file nor a SOPInstanceUID in the archive")
        path = found
    from workstation.dicom.header import NotAnInstance, NotDicom, Unusable, read_header

    problem = None
    try:
        read_header(path)
    except NotAnInstance:
        pass  # a DICOMDIR dumps like any other file
    except NotDicom as exc:
        raise CommandError(f"{path}: {exc}") from None
    except Unusable as exc:
        # Dump what can be read, then say what is wrong; a missing UID is no damage for a dump.
        problem = str(exc) if str(exc).startswith(("truncated", "unreadable")) else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, defer_size="64 KB")
        for line in dump_lines(ds, max_value=args.width):
            print(line)
    except RecursionError:
        raise CommandError(f"cannot read {path}: sequences nested too deeply to read") from None
    except Exception as exc:  # noqa: BLE001
        raise CommandError(f"cannot read {path}: {exc}") from None
    if problem:
        print(f"workstation: {path}: {problem}", file=sys.stderr)
        return 2
    return 0


# --- check / rebuild ---------------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace, ctx: Context) -> int:
    ctx.startup_check = False  # this command is the check: run it once, in full
    report = ctx.archive.check(full=True)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.clean:
        print("the archive is consistent")
        if report.linked_offline:
            print(f"  {report.linked_offline} linked files are on media not mounted now; their rows are kept")
        if report.empty_folders_removed:
            n = report.empty_folders_removed
            print(f"  {n} empty folder{'s' if n != 1 else ''} of deleted series removed")
    else:
        d = report.to_dict()
        print("repaired:")
        for key, value in d.items():
            n = len(value) if isinstance(value, list) else value
            if n:
                print(f"  {key.replace('_', ' ')}: {n}")
                if isinstance(value, list):
                    for v in value[:20]:
                        print(f"    {v}")
    return 0


def cmd_rebuild(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.archive import ArchiveError

    try:
        result = ctx.archive.rebuild()
    except ArchiveError as exc:
        raise CommandError(str(exc)) from None
    print(f"index rebuilt: {result['indexed']} instances from {result['files']} stored and {result['linked']} linked files")
    for line in result["unreadable"]:
        print(f"  not indexed: {line}")
    return 0


def cmd_migrate_storage(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.archive.relayout import RelayoutError, to_series_layout

    try:
        result = to_series_layout(ctx.archive)
    except RelayoutError as exc:
        raise CommandError(str(exc)) from None
    if result["already"]:
        print("the archive already keeps a folder per series")
        return 0
    print(f"moved {result['moved']} files to a folder per series")
    for line in result["not_moved"]:
        print(f"  not moved: {line}")
    return 0


# --- config ------------------------------------------------------------------------------------------------------


def cmd_config_show(args: argparse.Namespace, ctx: Context) -> int:
    settings = ctx.settings
    data = settings.to_dict()
    data["data_dir"] = str(settings.data_dir)
    data["settings_file"] = str(settings.path)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key, value in data.items():
        if key == "nodes":
            continue
        print(f"{key} = {value}")
    for node in settings.nodes:
        print(f"node {node.name} = {node.ae_title}@{node.host}:{node.port} ({node.method})")
    return 0


def cmd_config_set(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.config import SettingsError

    settings = ctx.settings
    try:
        settings.set(args.key, args.value)
    except SettingsError as exc:
        raise CommandError(str(exc)) from None
    path = settings.save()
    print(f"{args.key} = {getattr(settings, args.key)} (saved in {path})")
    return 0
