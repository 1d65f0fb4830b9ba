"""``workstation serve``: run the DICOM node in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from workstation.cli.context import CommandError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the DICOM node (Echo/Store/Find/Move/Get SCP) until stopped",
        description="Receive instances (C-STORE) into the archive and answer queries and retrievals from known "
        "nodes. Runs in the foreground until SIGTERM or Ctrl-C; every association is logged.",
    )
    p.add_argument("--aet", metavar="AET", help="our AE title (default: the ae_title setting)")
    p.add_argument("--port", metavar="P", type=int, help="TCP port (default: the port setting)")
    p.add_argument("--bind", metavar="ADDR", help="address to listen on (default: the bind setting, 0.0.0.0)")
    p.set_defaults(func=cmd_serve)


def _print_event(event: Any) -> None:
    """One line per association outcome on stderr (the log has the detail)."""
    if event.kind == "association-closed":
        line = (f"#{event.association} {event.calling_ae}@{event.address} {event.detail}: "
                f"{event.received} received, {event.failed} failed")
    elif event.kind in ("association-rejected", "protocol-violation"):
        line = f"#{event.association} {event.calling_ae or '?'}@{event.address or '?'} {event.kind}: {event.detail}"
    else:
        return
    print(line, file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace, ctx: Any) -> int:
    from workstation.config import SettingsError, validate_ae_title, validate_port
    from workstation.net.scp.server import DicomServer, ServerError

    settings = ctx.settings
    try:
        # Command-line overrides apply to this run only; the settings file is not rewritten.
        if args.aet:
            settings.ae_title = validate_ae_title(args.aet, "--aet")
        if args.port is not None:
            settings.port = validate_port(args.port, "--port")
        if args.bind:
            settings.bind = args.bind
    except SettingsError as exc:
        raise CommandError(str(exc), 2) from None
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = DicomServer(settings, ctx.archive, on_event=_print_event)
    try:
        try:
            server.start()
        except ServerError as exc:
            raise CommandError(str(exc), 1) from None
        host, port = server.address
        print(f"DICOM server {settings.ae_title} listening on {host}:{port} (Ctrl-C to stop)", file=sys.stderr,
              flush=True)
        while not stop.wait(0.5):
            pass
        print("stopping...", file=sys.stderr, flush=True)
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"stopped: {server.total_received} instances received, {server.total_failed} failed", file=sys.stderr)
    return 0
