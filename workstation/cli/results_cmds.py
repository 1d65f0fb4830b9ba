"""``workstation report`` (a study's measurement report, SR TID 1500) and ``workstation key-images`` (the key
images of a study from every Key Object Selection document in the archive)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workstation.cli.context import CommandError, Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="write a study's measurement report (DICOM SR, TID 1500)",
        description="Write the measurement report of STUDY_UID as a DICOM Comprehensive 3D SR (TID 1500): lengths in "
        "mm, areas in mm², ROI mean/SD/min/max in modality units (HU for CT), each referencing its image and region. "
        "The measurements come from the newest presentation state this workstation saved for each series of the "
        "study (or from --measurements FILE). Prints one line per value; measurements that cannot be reported "
        "are named on stderr.")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("-o", "--output", metavar="FILE", help="write the SR file here")
    p.add_argument("--store", action="store_true", help="store the SR in the archive (a new SR series of the "
                   "study: it is sent and retrieved with the study)")
    p.add_argument("--measurements", metavar="JSON", help="take the measurements from this measurements.json "
                   "instead of the study's presentation states")
    p.add_argument("--observer", metavar="NAME", default="", help="observer (person) named in the report")
    p.set_defaults(func=report)

    k = sub.add_parser(
        "key-images", help="list the key images of a study (from every Key Object Selection document)",
        description="List the images that Key Object Selection documents in the archive select for STUDY_UID "
        "(ours and other systems'), one line each: SOPInstanceUID, series, frames, the document's title and note.")
    k.add_argument("study_uid", metavar="STUDY_UID")
    k.set_defaults(func=key_images)


def report(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.dicom.ps_writer import encode
    from workstation.dicom.reports import report_values
    from workstation.reading.results import ResultsError, write_report

    try:
        result, saved = write_report(ctx.archive, args.study_uid, measurements_json=args.measurements,
                                     observer=args.observer, store=args.store)
    except ResultsError as exc:
        raise CommandError(str(exc)) from None
    for w in result.warnings:
        print(f"left out: {w.message}", file=sys.stderr)
    for v in report_values(result.dataset):
        print(f"{v['group'].get('tracking', ''):16} {v['name']:20} {v['value']:12.2f} {v['unit']}")
    if args.output:
        out = Path(args.output)
        try:
            out.write_bytes(encode(result.dataset))
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
        print(f"written: {out}")
    if saved is not None:
        print(f"stored: SR {saved.sop_instance_uid} (series {result.dataset.SeriesInstanceUID})")
    return 0


def key_images(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.dicom.key_objects import study_key_images

    keys = study_key_images(ctx.archive, args.study_uid)
    if not keys:
        print(f"no key images in study {args.study_uid}")
    for k in keys:
        frames = ",".join(map(str, k.frames)) or "-"
        print(f"{k.sop_instance_uid}  series {k.series_instance_uid}  frames {frames}  {k.title}"
              + (f": {k.note}" if k.note else ""))
    return 0
