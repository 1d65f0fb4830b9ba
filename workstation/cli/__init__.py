"""The ``workstation`` command line: thin argparse over the core.

Each ``*_cmds.py`` module in this package registers its subcommands with ``register(subparsers)``; a handler is
``handler(args, ctx) -> int`` and raises :class:`CommandError` for a failure the user should read. Errors are one
clear line on stderr (and the log, with the traceback); ``--verbose`` shows detail.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import re
import sys
from pathlib import Path
from typing import Sequence

from workstation import __version__
from workstation.cli.context import CommandError, Context

log = logging.getLogger("workstation.cli")


_TOP_LEVEL = re.compile(r"\b(?:sub|subparsers)\.add_parser\(\s*[\"']([\w-]+)[\"']")


def command_modules() -> dict[str, str]:
    """Top-level command name -> the ``*_cmds`` module registering it, read from the modules' source (no import:
    a command then imports only its own module, not every command's dependencies - start-up time)."""
    package = importlib.import_module(__name__)
    out: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.endswith("_cmds"):
            continue
        try:
            text = (Path(package.__path__[0]) / f"{info.name}.py").read_text(encoding="utf-8")
        except OSError:  # frozen or zipped: no source to read; the full parser still works
            return {}
        for name in _TOP_LEVEL.findall(text):
            out.setdefault(name, info.name)
    return out


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (after the global options), or None."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--data-dir":
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return arg
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a known command, only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="workstation",
        description="DICOM workstation: local archive, viewer and DICOM node. Without a command, opens the GUI.",
    )
    parser.add_argument("--version", action="version", version=f"workstation {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="archive folder (index, storage and its own settings.toml); default: $WORKSTATION_DATA_DIR, "
        "else the per-user data folder",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show detail and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    package = importlib.import_module(__name__)
    command = _command_of(argv) if argv is not None else None
    module = command_modules().get(command) if command and not {"-h", "--help"} & set(argv or ()) else None
    if module is not None:
        importlib.import_module(f"{__name__}.{module}").register(sub)
    else:
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name.endswith("_cmds"):
                importlib.import_module(f"{__name__}.{info.name}").register(sub)
    _accept_global_options_anywhere(sub)
    return parser


def _accept_global_options_anywhere(sub: argparse._SubParsersAction) -> None:
    """``workstation import X --data-dir D`` works as well as ``workstation --data-dir D import X``."""
    for parser in set(sub.choices.values()):
        known = {opt for action in parser._actions for opt in action.option_strings}
        if "--data-dir" not in known:
            parser.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if "--verbose" not in known:
            parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                help=argparse.SUPPRESS)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_global_options_anywhere(action)


# Commands that never look at pixel data. pydicom imports its optional pixel back ends (numpy, GDCM, Pillow,
# pylibjpeg...) as it is imported, ~0.15 s of a ~0.35 s start-up; `workstation retrieve` is scripted like getscu and
# its whole-process time is measured against it (tests/bench/bench_scu.py --cli-only).
_HEADER_ONLY_COMMANDS = frozenset({"echo", "retrieve"})
_PIXEL_BACKENDS = ("numpy", "gdcm", "PIL", "pylibjpeg", "libjpeg", "openjpeg", "rle", "jpeg_ls", "pyjpegls")


def _skip_pixel_backends(argv: Sequence[str]) -> None:
    """In a fresh process running a header-only command, mark the pixel back ends absent (pydicom then registers
    none; it needs none to read, write and send data sets). Never in a process that imported pydicom already (a
    test, the GUI): there the modules may be wanted later."""
    if _command_of(argv) not in _HEADER_ONLY_COMMANDS or "pydicom" in sys.modules:
        return
    for name in _PIXEL_BACKENDS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type] - None makes `import name` raise ImportError


# Commands scripted like dcmtk's tools and timed as whole processes (tests/bench/bench_scu.py --cli-only): when they
# are done, the process leaves without the interpreter's teardown of every module and object (30-50 ms of a
# 0.6 s `workstation retrieve`), once everything is closed and flushed.
_QUICK_EXIT_COMMANDS = frozenset({"echo", "retrieve", "send"})


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # a real command line (console script, python -m workstation), not a caller's list
        _skip_pixel_backends(sys.argv[1:])
        rc = _main(sys.argv[1:])
        if _command_of(sys.argv[1:]) in _QUICK_EXIT_COMMANDS:
            _quick_exit(rc)
        return rc
    return _main(argv)


def _quick_exit(rc: int) -> None:
    """Leave now with ``rc``: the archive is closed (``_main``); as a normal exit would, wait for the threads that
    are not daemons (pynetdicom's may still be winding down an association); flush the streams and the log."""
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: let the normal exit deal with it
        return
    logging.shutdown()
    os._exit(rc)


def _main(argv: Sequence[str]) -> int:
    argv = list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(_files_mean_view(parser, argv))
    if not getattr(args, "func", None):
        try:
            # No command opens the GUI (gui_cmds.open_gui); without a GUI module, help.
            args.func = importlib.import_module(f"{__name__}.gui_cmds").open_gui
        except ImportError:
            parser.print_help()
            return 1
    ctx = Context(data_dir_option=args.data_dir, verbose=args.verbose)
    # pydicom warns about every odd value it meets (on stderr by default); that detail belongs in the log. The
    # NullHandler keeps logging's last-resort stderr handler away before the log file is set up.
    logging.captureWarnings(True)
    py_warnings = logging.getLogger("py.warnings")
    if not any(isinstance(h, logging.NullHandler) for h in py_warnings.handlers):
        py_warnings.addHandler(logging.NullHandler())
    try:
        return int(args.func(args, ctx) or 0)
    except CommandError as exc:
        log.error("%s", exc)
        print(f"workstation: {one_line(str(exc))}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        # `workstation ls | head`: the reader left; not an error worth a message.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("workstation: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        log.exception("command %s failed", args.command)
        if args.verbose:
            import traceback

            traceback.print_exc()
        print(f"workstation: {type(exc).__name__}: {one_line(str(exc))}", file=sys.stderr)
        return 1
    finally:
        ctx.close()
        logging.captureWarnings(False)


def _files_mean_view(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``workstation FILE_OR_FOLDER...`` (a file manager's "Open with") is ``workstation view FILE_OR_FOLDER...``."""
    import os

    commands = {c for a in parser._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices}
    if argv and argv[0] not in commands and not argv[0].startswith("-") and os.path.exists(argv[0]):
        return ["view", *argv]
    return argv


def one_line(message: str) -> str:
    """A message folded onto one line (decoder plugins report multi-line errors); the log keeps the original."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())
