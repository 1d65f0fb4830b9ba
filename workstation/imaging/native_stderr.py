"""Keep what C decoders print on file descriptor 2 out of a command's output, and in the log.

OpenJPEG, libjpeg and GDCM report problems by writing to the process's stderr themselves ("Invalid number of
tiles : 14540801 x 1 ..."), below Python, so ``sys.stderr`` redirection does not catch it. A command-line error is
one line of ours; the decoder's own text belongs in the log. :func:`decoder_output_to_log` points descriptor 2 at
a temporary file around a decoder call and logs what was written there.

Descriptor 2 belongs to the whole process: while it is redirected, every thread's stderr goes to the capture. So
this is for the command line only (one thread doing the work): it does nothing outside the main thread, and the
GUI, whose other threads must keep their stderr, never calls it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)
_lock = threading.Lock()


@contextlib.contextmanager
def decoder_output_to_log(what: str = "decoder", logger: logging.Logger | None = None) -> Iterator[None]:
    """Redirect descriptor 2 for the block (main thread only) and log each line written there as a warning."""
    logger = logger or log
    if threading.current_thread() is not threading.main_thread() or not _lock.acquire(blocking=False):
        yield  # another thread, or nested: leave stderr alone
        return
    try:
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 (a daemon started without one): nothing to protect
            yield
            return
        with tempfile.TemporaryFile() as capture:
            _flush()
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                _flush()
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                text = capture.read().decode("utf-8", "replace")
                for line in text.splitlines():
                    if line.strip():
                        logger.warning("%s: %s", what, line.rstrip())
    finally:
        _lock.release()


def _flush() -> None:
    # Python's own buffered stderr must reach the descriptor it was written for.
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
