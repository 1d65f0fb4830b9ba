"""Cancel during C-FIND and C-MOVE against an in-process pynetdicom SCP that records what it receives.

The SCP answers slowly (one pending response every few ms) and checks ``event.is_cancelled`` between responses,
as a PACS does; the tests assert that C-CANCEL reached it (with the request's Message ID), that our call
returned promptly instead of waiting for the rest, and what the caller was told.
"""

from __future__ import annotations

import threading
import time

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    CTImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from workstation.config import Node, Settings
from workstation.net.scu.client import Cancelled, QuerySession, find
from workstation.net.scu.retrieve import retrieve


def _settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "ws")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 5.0
    return s


class SlowQR:
    """Find/Move SCP: ``matches`` pending responses, ``delay`` s apart; records cancels and what it sent."""

    def __init__(self, matches: int = 500, delay: float = 0.01, ignore_cancel: bool = False,
                 first_delay: float = 0.0):
        self.matches, self.delay, self.ignore_cancel = matches, delay, ignore_cancel
        self.first_delay = first_delay
        self.requests = 0
        self.request_received = threading.Event()
        self.stored = 0
        self.sent = 0
        self.cancelled = threading.Event()
        self.cancel_seen_after: int | None = None
        self.finished = threading.Event()
        ae = AE(ae_title="SLOWQR")
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
        ae.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
        ae.add_supported_context(Verification)
        ae.add_requested_context(CTImageStorage)
        ae.network_timeout = ae.dimse_timeout = 5
        handlers = [(evt.EVT_C_FIND, self.on_find), (evt.EVT_C_MOVE, self.on_move)]
        self.server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        self.port = self.server.server_address[1]
        # The move destination: a Store SCP that accepts everything and counts.
        dest = AE(ae_title="DEST")
        dest.add_supported_context(CTImageStorage)
        self.dest = dest.start_server(("127.0.0.1", 0), block=False,
                                      evt_handlers=[(evt.EVT_C_STORE, self.on_store)])
        self.node = Node("slow", "SLOWQR", "127.0.0.1", self.port)

    def _check_cancel(self, event) -> bool:
        if event.is_cancelled and not self.cancelled.is_set():
            self.cancel_seen_after = self.sent
            self.cancelled.set()
        return self.cancelled.is_set() and not self.ignore_cancel

    def on_store(self, event):
        self.stored += 1
        return 0x0000

    def on_find(self, event):
        self.requests += 1
        try:
            self._wait_first(event)
            for i in range(self.matches):
                if self._check_cancel(event):
                    yield 0xFE00, None
                    return
                time.sleep(self.delay)
                ds = Dataset()
                ds.QueryRetrieveLevel = "IMAGE"
                ds.SOPInstanceUID = f"1.2.3.{i + 1}"
                self.sent += 1
                yield 0xFF00, ds
            yield 0x0000, None
        finally:
            self.finished.set()

    def _wait_first(self, event) -> None:
        self.request_received.set()
        end = time.monotonic() + self.first_delay
        while time.monotonic() < end and not self._check_cancel(event):  # a PACS searching its database
            time.sleep(0.005)

    def on_move(self, event):
        self.requests += 1
        try:
            yield "127.0.0.1", self.dest.server_address[1]
            yield self.matches
            self._wait_first(event)
            for i in range(self.matches):
                if self._check_cancel(event):
                    rsp = Dataset()
                    rsp.NumberOfRemainingSuboperations = self.matches - i
                    rsp.NumberOfCompletedSuboperations = i
                    rsp.NumberOfFailedSuboperations = 0
                    rsp.NumberOfWarningSuboperations = 0
                    yield 0xFE00, rsp
                    return
                time.sleep(self.delay)
                self.sent += 1
                yield 0xFF00, _instance(i)
            yield 0x0000, None
        finally:
            self.finished.set()

    def close(self) -> None:
        self.server.shutdown()
        self.dest.shutdown()


def _instance(i: int) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = f"1.2.3.4.{i + 1}"
    ds.PatientID = "P"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.set_original_encoding(True, True)
    return ds


@pytest.fixture
def slow_qr():
    qr = SlowQR()
    yield qr
    qr.close()


def _cancel_after(n: int) -> tuple[threading.Event, callable]:
    flag = threading.Event()

    def progress(p) -> None:
        if p.done >= n:
            flag.set()

    return flag, progress


def test_cancel_during_find_sends_c_cancel_and_returns_at_once(slow_qr, tmp_path):
    flag, progress = _cancel_after(5)
    start = time.monotonic()
    with QuerySession(_settings(tmp_path), slow_qr.node) as session:
        with pytest.raises(Cancelled):
            session.find("image", {"StudyInstanceUID": "1.2"}, cancel=flag, progress=progress)
        elapsed = time.monotonic() - start
        assert slow_qr.cancelled.wait(2), "the SCP never saw a C-CANCEL"
        assert 5 <= slow_qr.cancel_seen_after < 100
        assert elapsed < 3, f"cancel took {elapsed:.1f} s (500 matches would take 5 s)"
        # The association is still in step: the next query on it works.
        slow_qr.cancelled.clear()
        slow_qr.matches = 3
        assert len(session.find("image", {"StudyInstanceUID": "1.2"})) == 3


def test_find_limit_cancels_the_rest(slow_qr, tmp_path):
    rows = find(_settings(tmp_path), slow_qr.node, "image", {"StudyInstanceUID": "1.2"}, limit=4)
    assert len(rows) == 4
    assert slow_qr.cancelled.wait(2) and slow_qr.sent < 100


def test_cancel_before_the_request_sends_nothing(slow_qr, tmp_path):
    flag = threading.Event()
    flag.set()
    with pytest.raises(Cancelled):
        find(_settings(tmp_path), slow_qr.node, "image", {"StudyInstanceUID": "1.2"}, cancel=flag)
    assert slow_qr.requests == 0


def test_cancel_while_the_node_searches(tmp_path):
    # No match yet (the node is still searching): C-CANCEL must follow the request, never overtake it.
    qr = SlowQR(matches=5, first_delay=3.0)
    try:
        flag = threading.Event()
        threading.Thread(target=lambda: qr.request_received.wait(5) and flag.set(), daemon=True).start()
        start = time.monotonic()
        with pytest.raises(Cancelled):
            find(_settings(tmp_path), qr.node, "image", {"StudyInstanceUID": "1.2"}, cancel=flag)
        assert time.monotonic() - start < 2
        assert qr.cancelled.is_set() and qr.sent == 0
    finally:
        qr.close()


def test_cancel_during_move_sends_c_cancel_and_reports_cancelled(slow_qr, tmp_path):
    flag, progress = _cancel_after(5)
    start = time.monotonic()
    result = retrieve(_settings(tmp_path), slow_qr.node, study_uid="1.2", method="move", cancel=flag,
                      progress=progress)
    elapsed = time.monotonic() - start
    assert slow_qr.cancelled.is_set(), "the SCP never saw a C-CANCEL"
    assert result.cancelled and result.status == 0xFE00, result.summary()
    assert 5 <= result.completed < 100 and result.remaining == 500 - result.completed
    assert result.exit_code == 2 and "cancelled" in result.summary()
    assert elapsed < 3


def test_move_that_ignores_cancel_is_aborted_after_the_grace(tmp_path, monkeypatch):
    from workstation.net.scu import retrieve as scu_retrieve

    monkeypatch.setattr(scu_retrieve, "CANCEL_GRACE", 0.5)
    qr = SlowQR(matches=400, delay=0.01, ignore_cancel=True)
    try:
        flag, progress = _cancel_after(3)
        start = time.monotonic()
        result = retrieve(_settings(tmp_path), qr.node, study_uid="1.2", method="move", cancel=flag,
                          progress=progress)
        elapsed = time.monotonic() - start
        assert qr.cancelled.is_set() and result.cancelled
        assert result.exit_code == 2 and result.completed < 400
        assert elapsed < 3, f"{elapsed:.1f} s: the grace period did not end it"
    finally:
        qr.close()
