"""Network commands: ``nodes``, ``echo``, ``find``, ``retrieve``, ``send`` - thin argparse over workstation.net.

Scripts rely on these names, options, JSON shapes and exit codes: 0 all done, 2 partly failed, 1 failed.
Progress goes to stderr; results to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from workstation.cli.context import CommandError


def register(subparsers: Any) -> None:
    nodes = subparsers.add_parser("nodes", help="remote DICOM nodes (PACS, modalities)")
    nsub = nodes.add_subparsers(dest="nodes_command", metavar="ACTION")
    nsub.required = True
    add = nsub.add_parser("add", help="add a node")
    add.add_argument("name")
    add.add_argument("ae_title", metavar="AET")
    add.add_argument("host")
    add.add_argument("port", type=int)
    add.add_argument("--method", choices=("move", "get"), default="move", help="default retrieve method")
    add.add_argument("--priors", action="store_true",
                     help="search this node for the patient's prior studies (`workstation priors`, the viewer)")
    add.add_argument("--fetch-priors", action="store_true",
                     help="and retrieve the relevant priors automatically when a study is opened (implies --priors)")
    add.add_argument("--replace", action="store_true", help="update the node of that name if it exists")
    add.set_defaults(func=cmd_nodes_add)
    ls = nsub.add_parser("ls", help="list nodes")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_nodes_ls)
    rm = nsub.add_parser("rm", help="remove a node")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_nodes_rm)

    echo = subparsers.add_parser("echo", help="C-ECHO a node (NODE: a node name or AET@HOST:PORT)")
    echo.add_argument("node", metavar="NODE")
    echo.set_defaults(func=cmd_echo)

    find = subparsers.add_parser("find", help="C-FIND on a node")
    find.add_argument("node", metavar="NODE")
    find.add_argument("--level", choices=("patient", "study", "series", "image"), default="study")
    find.add_argument("--patient-id")
    find.add_argument("--patient-name")
    find.add_argument("--study-uid")
    find.add_argument("--series-uid")
    find.add_argument("--accession")
    find.add_argument("--modality")
    find.add_argument("--study-date", metavar="RANGE", help="YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD")
    find.add_argument("--model", choices=("patient", "study"), help="query model (default: study root, "
                      "patient root at patient level)")
    find.add_argument("--limit", type=int)
    find.add_argument("--json", action="store_true")
    find.set_defaults(func=cmd_find)

    ret = subparsers.add_parser("retrieve", help="retrieve a study or series from a node into the archive")
    ret.add_argument("node", metavar="NODE")
    ret.add_argument("--study", metavar="UID", help="the study; with --series, the series' own study (strictly "
                     "hierarchical nodes need it)")
    ret.add_argument("--series", metavar="UID")
    ret.add_argument("--instance", metavar="UID", help="one instance (SOP Instance UID)")
    ret.add_argument("--method", choices=("move", "get"), help="default: the node's method (move for AET@HOST:PORT)")
    ret.add_argument("--json", action="store_true", help="print the result as JSON")
    ret.set_defaults(func=cmd_retrieve)

    send = subparsers.add_parser("send", help="send instances to a node (C-STORE)")
    send.add_argument("node", metavar="NODE")
    src = send.add_mutually_exclusive_group()
    src.add_argument("--patient", metavar="ID", help="every instance of this patient in the archive")
    src.add_argument("--study", metavar="UID")
    src.add_argument("--series", metavar="UID")
    send.add_argument("files", nargs="*", metavar="FILE", help="files or folders")
    send.add_argument("--json", action="store_true", help="print the per-instance report as JSON")
    send.set_defaults(func=cmd_send)


# --- helpers -------------------------------------------------------------------------------------------------


def _node(ctx: Any, text: str):
    from workstation.net.nodes import NodeError, resolve_node

    try:
        return resolve_node(ctx.settings, text)
    except NodeError as exc:
        raise CommandError(str(exc)) from None


class StderrProgress:
    """Progress lines for people on stderr: rewritten in place on a terminal, throttled otherwise."""

    def __init__(self, verb: str):
        self.verb = verb
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, p: Any) -> None:
        now = time.monotonic()
        final = p.total is not None and p.done >= p.total
        if not final and now - self.last < (0.2 if self.tty else 2.0):
            return
        self.last = now
        total = f"/{p.total}" if p.total else ""
        extra = f", {p.failed} failed" if p.failed else ""
        line = f"{self.verb} {p.done}{total}{extra}"
        if self.tty:
            sys.stderr.write(f"\r{line}\x1b[K")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.tty and self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# --- nodes ---------------------------------------------------------------------------------------------------


def cmd_nodes_add(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.net.nodes import NodeError, add_node

    try:
        node = add_node(ctx.settings, args.name, args.ae_title, args.host, args.port, args.method,
                        replace=args.replace, search_priors=args.priors or args.fetch_priors,
                        fetch_priors=args.fetch_priors)
    except NodeError as exc:
        raise CommandError(str(exc)) from None
    priors = ", fetch priors" if node.fetch_priors else ", search priors" if node.search_priors else ""
    print(f"added node {node.name}: {node.ae_title}@{node.host}:{node.port}, retrieve by {node.method}{priors}")
    return 0


def cmd_nodes_ls(args: argparse.Namespace, ctx: Any) -> int:
    from dataclasses import asdict

    from workstation.net.nodes import list_nodes

    nodes = list_nodes(ctx.settings)
    if args.json:
        _print_json([asdict(n) for n in nodes])
        return 0
    if not nodes:
        print("no nodes; add one with: workstation nodes add NAME AET HOST PORT")
        return 0
    width = max(len(n.name) for n in nodes)
    for n in nodes:
        priors = "  fetch priors" if n.fetch_priors else "  search priors" if n.search_priors else ""
        print(f"{n.name:<{width}}  {n.ae_title:<16}  {n.host}:{n.port}  {n.method}{priors}")
    return 0


def cmd_nodes_rm(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.net.nodes import NodeError, remove_node

    try:
        node = remove_node(ctx.settings, args.name)
    except NodeError as exc:
        raise CommandError(str(exc)) from None
    print(f"removed node {node.name}")
    return 0


# --- echo / find ---------------------------------------------------------------------------------------------


def cmd_echo(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.net.scu.client import NetError, echo, node_label

    node = _node(ctx, args.node)
    try:
        seconds = echo(ctx.settings, node)
    except NetError as exc:
        raise CommandError(f"echo failed: {exc}") from None
    print(f"{node_label(node)}: echo OK ({seconds * 1000:.0f} ms)")
    return 0


def find_filters(args: argparse.Namespace) -> dict[str, str]:
    filters: dict[str, str] = {}
    pairs = [("PatientID", args.patient_id), ("PatientName", args.patient_name), ("StudyInstanceUID", args.study_uid),
             ("SeriesInstanceUID", getattr(args, "series_uid", None)), ("AccessionNumber", args.accession),
             ("StudyDate", args.study_date)]
    for kw, value in pairs:
        if value is not None:
            filters[kw] = value
    if args.modality is not None:
        filters["ModalitiesInStudy" if args.level in ("patient", "study") else "Modality"] = args.modality
    return filters


_COLUMNS = {
    "patient": ["PatientID", "PatientName", "PatientBirthDate", "PatientSex", "NumberOfInstances"],
    "study": ["StudyDate", "PatientID", "PatientName", "AccessionNumber", "ModalitiesInStudy", "StudyDescription",
              "StudyInstanceUID"],
    "series": ["SeriesNumber", "Modality", "SeriesDescription", "NumberOfInstances", "SeriesInstanceUID"],
    "image": ["InstanceNumber", "SOPClassUID", "SOPInstanceUID"],
}


def cmd_find(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.net.scu.client import NetError, find

    node = _node(ctx, args.node)
    try:
        rows = find(ctx.settings, node, args.level, find_filters(args), model=args.model, limit=args.limit)
    except NetError as exc:
        raise CommandError(f"find failed: {exc}") from None
    if args.json:
        _print_json(rows)
        return 0
    cols = _COLUMNS[args.level]
    for row in rows:
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append("/".join(v) if isinstance(v, list) else "" if v is None else str(v))
        print("  ".join(cells))
    print(f"{len(rows)} {args.level}{'' if len(rows) == 1 else ' matches'}", file=sys.stderr)
    return 0


# --- retrieve ------------------------------------------------------------------------------------------------


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
        return True
    return False


class ArrivalCounter:
    """Counts what our own Store SCP receives during a C-MOVE (only when this command runs the server)."""

    def __init__(self) -> None:
        self.active = False
        self.received = 0
        self.duplicates = 0
        self.failed = 0

    def __call__(self, event: Any) -> None:
        if event.kind == "instance-received":
            self.received += 1
            if event.detail == "duplicate":
                self.duplicates += 1
        elif event.kind == "instance-failed":
            self.failed += 1


@contextlib.contextmanager
def store_scp_running(ctx: Any) -> Iterator[ArrivalCounter]:
    """Make sure our Store SCP listens on the configured port for a C-MOVE; start it for the duration if not."""
    port = ctx.settings.port
    counter = ArrivalCounter()
    if _listening(port):
        yield counter
        return
    try:
        from workstation.net.scp import server as server_mod
    except ImportError:
        raise CommandError(
            f"nothing listens on port {port} to receive the C-MOVE and the server is not available; "
            "run `workstation serve` in another terminal or use --method get"
        ) from None
    starter = getattr(server_mod, "running_server", None)
    if starter is None:
        raise CommandError(f"nothing listens on port {port} to receive the C-MOVE; run `workstation serve` "
                           "in another terminal or use --method get")
    server_error = getattr(server_mod, "ServerError", OSError)
    print(f"starting the Store SCP ({ctx.settings.ae_title} on port {port}) for this retrieve", file=sys.stderr)
    manager = starter(ctx.settings, ctx.archive, on_event=counter)
    try:
        manager.__enter__()
    except (OSError, server_error) as exc:
        raise CommandError(f"cannot receive the C-MOVE on port {port}: {exc}") from None
    counter.active = True
    try:
        yield counter
    except BaseException:
        if not manager.__exit__(*sys.exc_info()):
            raise
    else:
        manager.__exit__(None, None, None)


def cmd_retrieve(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.net.scu.client import NetError
    from workstation.net.scu.retrieve import retrieve

    if not (args.study or args.series or args.instance):
        raise CommandError("say what to retrieve: --study UID, --series UID and/or --instance UID", 1)
    node = _node(ctx, args.node)
    method = args.method or node.method or "move"
    progress = StderrProgress("retrieved")
    try:
        if method == "get":
            # Into the archive with a job-level durability barrier: when this returns, every instance it counts
            # is synced and indexed (see workstation.net.scu.ingest).
            result = retrieve(ctx.settings, node, study_uid=args.study, series_uid=args.series,
                              sop_instance_uid=args.instance, method="get",
                              archive=ctx.archive, source=f"C-GET from {node.ae_title}", progress=progress)
        else:
            with store_scp_running(ctx) as arrivals:
                result = retrieve(ctx.settings, node, study_uid=args.study, series_uid=args.series,
                                  sop_instance_uid=args.instance, method="move",
                                  progress=progress)
            if arrivals.active:
                result.received, result.duplicates = arrivals.received, arrivals.duplicates
    except NetError as exc:
        raise CommandError(f"retrieve failed: {exc}") from None
    finally:
        progress.close()
    if args.json:
        _print_json(result.to_dict())
    else:
        print(result.summary())
    if result.exit_code:
        print(f"workstation: retrieve {'partly ' if result.exit_code == 2 else ''}failed: {result.message}",
              file=sys.stderr)
    return result.exit_code


# --- send ----------------------------------------------------------------------------------------------------


def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for text in paths:
        p = Path(text)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith(".")))
        elif p.exists():
            out.append(p)
        else:
            raise CommandError(f"no such file or folder: {text}")
    return out


def _archive_paths(ctx: Any, args: argparse.Namespace) -> list[Path]:
    if args.patient is not None:
        filters, what = {"PatientID": args.patient}, f"patient {args.patient}"
    elif args.study is not None:
        filters, what = {"StudyInstanceUID": args.study}, f"study {args.study}"
    else:
        filters, what = {"SeriesInstanceUID": args.series}, f"series {args.series}"
    rows = ctx.archive.query("instance", filters)
    if not rows:
        raise CommandError(f"the archive has no instances of {what}")
    return [Path(r["path"]) for r in rows if r.get("path")]


def cmd_send(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.net.scu.send import send

    node = _node(ctx, args.node)
    from_archive = any(v is not None for v in (args.patient, args.study, args.series))
    if from_archive and args.files:
        raise CommandError("give either --patient/--study/--series or files, not both")
    if not from_archive and not args.files:
        raise CommandError("nothing to send: give --patient ID, --study UID, --series UID or files")
    paths = _archive_paths(ctx, args) if from_archive else _expand(args.files)
    if not paths:
        raise CommandError("nothing to send: no files found")
    progress = StderrProgress("sent")
    try:
        report = send(ctx.settings, node, paths, progress=progress)
    finally:
        progress.close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report.summary())
    failures = [r for r in report.results if r.outcome in ("failed", "cancelled")]
    for r in failures[:10]:
        print(f"  failed: {r.path}: {r.message}", file=sys.stderr)
    if len(failures) > 10:
        print(f"  ... and {len(failures) - 10} more", file=sys.stderr)
    if report.exit_code == 1:
        print(f"workstation: send failed: {report.error or (failures[0].message if failures else 'nothing sent')}",
              file=sys.stderr)
    return report.exit_code
