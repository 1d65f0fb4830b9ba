"""``workstation priors``: the patient's other studies, as the viewer lists them beside the current one."""

from __future__ import annotations

import argparse
import json

from workstation.cli.context import CommandError, Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "priors", help="list the patient's other studies (local, and on nodes marked for priors)",
        description="List the other studies of the patient of STUDY_UID (same PatientID and issuer): from the local "
        "archive, and from the nodes named with --node (default: every node marked 'search for priors'). Newest "
        "first; a study both local and remote is listed once, as local; a node that cannot be asked is listed "
        "with its error and the command still succeeds.")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("--node", action="append", default=[], metavar="NAME",
                   help="ask this node (name or AET@HOST:PORT); repeatable")
    p.add_argument("--json", action="store_true",
                   help="print an array of studies keyed by DICOM keywords plus 'source'; failed nodes as "
                        "{'node': NAME, 'error': ...}")
    p.set_defaults(func=priors)


def priors(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.nodes import NodeError
    from workstation.reading.priors import PriorsError, list_priors, prior_nodes

    try:
        nodes = prior_nodes(ctx.settings, args.node)
        result = list_priors(ctx.archive, ctx.settings, args.study_uid, nodes)
    except (PriorsError, NodeError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return 0
    if not result.priors:
        print("no other studies of this patient" + (" (locally or on the nodes asked)" if nodes else " locally"))
    for prior in result.priors:
        row = prior.row
        mods = "/".join(prior.as_json()["ModalitiesInStudy"]) or "-"
        count = row.get("NumberOfStudyRelatedInstances")
        mismatch = f"  [name differs: {row.get('PatientName')}]" if prior.name_mismatch else ""
        print(f"{row.get('StudyDate') or '--------':8}  {mods:8} {str(row.get('StudyDescription') or ''):40.40} "
              f"{'' if count is None else count:>6}  {prior.source}{mismatch}")
    for failure in result.failures:
        print(f"{failure.node}: not asked: {failure.error}")
    return 0
