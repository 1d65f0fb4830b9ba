"""The pynetdicom internals our associations tune, in one place: each is private API, pinned by the pynetdicom range
in pyproject.toml, checked by tests/net/test_pynetdicom_internals.py, and each falls back to pynetdicom's own
behaviour (slower, never wrong) where what it needs is missing.

* pynetdicom's DUL reactor sleeps 1 ms whenever it finds nothing to do, so every response we queue waits up to
  ~1 ms before it leaves; over a 500-instance C-GET that is half the run time. Bulk transfers (``fast=True``)
  make it wait in ``select`` instead (:func:`adaptive_poll`): it wakes when the peer sends or we queue a PDU.
  (Shortening the poll to 50 us, as before, spun 20,000 GIL-holding loops a second against the C-GET's own
  threads.)
* pynetdicom binds "standard" logging handlers to every PDU and DIMSE message that build their text whether or
  not anyone logs it (for each received C-STORE-RQ even a copy of the whole data set, to test it is not empty);
  we unbind them unless the ``pynetdicom`` logger is at DEBUG (:func:`quiet_standard_handlers`).
* pynetdicom reads every PDU in 4 KiB ``recv`` calls, each result copied onto a growing bytearray: 32 system calls
  and Python loop turns per 128 KiB PDU. Bulk associations read with ``recv_into`` straight into a buffer of
  the PDU's size (:func:`fast_recv`).
* Every association we drive holds pynetdicom's association reactor (:class:`_HeldCheckpoint`). As requestor we never
  serve requests on it, and its pause handshake is racy: between ``send_c_store`` clearing the checkpoint and
  sending, the reactor can still run one ``get_msg`` and swallow the C-STORE-RSP ("Received unexpected C-STORE
  service message"), leaving the send waiting a whole ``dimse_timeout``. Held, it only watches for the peer's
  A-ABORT / A-RELEASE-RQ and for the end of the association, without polling the DIMSE queue at 1 kHz.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from pynetdicom import evt
from pynetdicom.association import Association

FAST_POLL = 0.00005  # DUL reactor idle poll (s) for bulk-transfer associations; pynetdicom's default is 0.001


def adaptive_poll(assoc: Association) -> None:
    """Bulk associations: the DUL reactor waits in ``select`` (socket data, or a wake-up when we queue a PDU)
    instead of polling (see the module docstring); the server's :func:`workstation.net.guard.install_adaptive_poll`.

    Polling every :data:`FAST_POLL` cost a C-GET about a third of its CPU: 20,000 Python loops a second holding
    the GIL against the thread that handles each instance and the one that writes it. Without the pynetdicom
    internals it needs, the poll is only shortened.
    """
    dul = assoc.dul
    try:
        from workstation.net.guard import install_adaptive_poll
    except ImportError:  # pragma: no cover - the server side is optional
        install_adaptive_poll = None
    if install_adaptive_poll is not None and callable(getattr(dul, "_is_transport_event", None)) and callable(
            getattr(dul, "send_pdu", None)) and hasattr(dul, "to_provider_queue") and hasattr(dul, "event_queue"):
        install_adaptive_poll(dul)
    elif hasattr(dul, "_run_loop_delay"):
        # A private attribute, stable since pynetdicom 1.x; without it nothing breaks, transfers are just slower.
        dul._run_loop_delay = FAST_POLL


class _HeldCheckpoint(threading.Event):
    """Stands in for ``Association._reactor_checkpoint`` on requestor associations that only we drive.

    pynetdicom sets and clears it around every operation; the reactor thread calls :meth:`wait` at the top of its
    loop (after flagging itself paused). Here ``wait`` returns only when the reactor has real work: the
    association ended (killed, aborted, released, DUL gone) or the peer sent A-ABORT / A-RELEASE-RQ. So the
    reactor never takes a DIMSE message off the queue behind the back of the thread waiting for it.
    """

    def __init__(self, assoc: Association):
        super().__init__()
        self._assoc = assoc
        super().set()

    def wait(self, timeout: float | None = None) -> bool:
        from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT, A_RELEASE

        a = self._assoc
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if a._kill or a._sent_abort or a.is_released or a.is_aborted or not a.is_established:
                return True
            dul = a.dul
            if dul is None or not dul.is_alive():
                return True
            with contextlib.suppress(Exception):
                pdu = dul.peek_next_pdu()
                if isinstance(pdu, (A_ABORT, A_P_ABORT)) or (isinstance(pdu, A_RELEASE) and pdu.result is None):
                    return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def quiet_standard_handlers(assoc: Association) -> None:
    """Unbind pynetdicom's per-PDU/DIMSE logging handlers unless its logger would show their DEBUG output."""
    if logging.getLogger("pynetdicom").isEnabledFor(logging.DEBUG):
        return
    from pynetdicom import _handlers as std

    for event, handler in ((evt.EVT_DIMSE_RECV, std.standard_dimse_recv_handler),
                           (evt.EVT_DIMSE_SENT, std.standard_dimse_sent_handler),
                           (evt.EVT_PDU_RECV, std.standard_pdu_recv_handler),
                           (evt.EVT_PDU_SENT, std.standard_pdu_sent_handler)):
        with contextlib.suppress(Exception):
            assoc.unbind(event, handler)


def fast_recv(assoc: Association) -> None:
    """Replace the association socket's ``recv(n)`` (see the module docstring); same contract: a bytearray of
    ``n`` bytes, fewer if the connection closed, exceptions (timeout, reset) passed on."""
    asock = getattr(assoc.dul, "socket", None)
    if asock is None or not callable(getattr(asock, "recv", None)):
        return

    def recv(nr_bytes: int) -> bytearray:
        sock = asock.socket
        buf = bytearray(nr_bytes)
        got = 0
        with memoryview(buf) as view:
            while got < nr_bytes:
                n = sock.recv_into(view[got:], nr_bytes - got)
                if not n:
                    break
                got += n
        if got < nr_bytes:
            del buf[got:]
        return buf

    asock.recv = recv


def hold_reactor(assoc: Association) -> None:
    """Install :class:`_HeldCheckpoint` (see the module docstring); harmless if pynetdicom's internals changed."""
    if isinstance(getattr(assoc, "_reactor_checkpoint", None), threading.Event) and hasattr(assoc, "_kill"):
        assoc._reactor_checkpoint = _HeldCheckpoint(assoc)
