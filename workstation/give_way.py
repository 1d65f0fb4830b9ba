"""Background threads giving way to a foreground thread (the GUI's) while it is busy.

Under the GIL, a GUI handler that takes 8 ms of CPU took 30-40 ms while a series opened: the thread reading 2,000
headers and the decode threads took the GIL from it every switch interval. Loops that read headers or decode
frames call :func:`give_way` between items, as do the Store SCP and the C-GET ingest before each header; the app
installs the gate (:func:`set_gate`), which holds the calling thread while the GUI thread is handling events, for a
bounded time. The core knows no GUI: without a gate, :func:`give_way` does nothing. (A module of its own at the top
of the package: importing it from ``workstation.imaging`` made the network commands import numpy.)
"""

from __future__ import annotations

from typing import Callable

_gate: Callable[[], None] | None = None


def set_gate(gate: Callable[[], None] | None) -> None:
    """Install ``gate`` (called by :func:`give_way`; returns when the caller may go on), or remove it (None)."""
    global _gate
    _gate = gate


def give_way() -> None:
    """Wait, if a gate is installed, until the foreground is idle (bounded by the gate)."""
    gate = _gate
    if gate is not None:
        gate()
