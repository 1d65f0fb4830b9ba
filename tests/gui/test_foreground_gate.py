"""The GUI's side of workstation.give_way: a background thread waits while the GUI thread handles events, goes on as
soon as the event loop is idle again, never waits longer than the bound, and the GUI thread itself never waits."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6 import QtCore

from workstation.gui import foreground_gate
from workstation import give_way


def run_until(condition, seconds: float = 5.0) -> None:
    """A real event loop (as the app's), which says when it is about to wait."""
    loop = QtCore.QEventLoop()
    end = time.monotonic() + seconds
    check = QtCore.QTimer()
    check.setInterval(5)
    check.timeout.connect(lambda: (condition() or time.monotonic() > end) and loop.quit())
    check.start()
    loop.exec()
    check.stop()


@pytest.fixture
def gate(qapp):
    g = foreground_gate.install()
    assert g is not None
    yield g


def _background(times: dict, started: threading.Event) -> threading.Thread:
    def run():
        assert started.wait(5)
        t = time.monotonic()
        give_way.give_way()
        times["waited"] = time.monotonic() - t
        times["returned"] = time.monotonic()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def test_background_waits_for_the_handler_then_goes_on_when_the_loop_is_idle(gate, monkeypatch):
    monkeypatch.setattr(foreground_gate, "MAX_BUSY_S", 3.0)  # only the loop going idle can release it here
    times: dict = {}
    started = threading.Event()
    th = _background(times, started)

    def handler():
        started.set()
        time.sleep(0.1)  # the GUI busy (sleeping lets the background thread run and reach the gate)
        times["handler_end"] = time.monotonic()

    QtCore.QTimer.singleShot(0, handler)
    run_until(lambda: "returned" in times)
    th.join(5)
    assert times["returned"] >= times["handler_end"]  # it waited for the handler
    assert times["returned"] - times["handler_end"] < 1.0  # and went on with the idle loop, not the bound


def test_a_gui_thread_busy_outside_its_loop_holds_background_work_only_for_the_bound(gate, monkeypatch):
    monkeypatch.setattr(foreground_gate, "MAX_BUSY_S", 0.1)
    times: dict = {}
    started = threading.Event()
    th = _background(times, started)

    def handler():
        started.set()
        time.sleep(1.0)  # e.g. blocked on a lock: the background must not wait for all of it

    QtCore.QTimer.singleShot(0, handler)
    run_until(lambda: "returned" in times)
    th.join(5)
    assert 0.0 <= times["waited"] < 0.6


def test_the_gui_thread_itself_never_waits(gate, monkeypatch):
    monkeypatch.setattr(foreground_gate, "MAX_BUSY_S", 3.0)
    waited: list[float] = []

    def handler():
        assert gate.busy  # handling an event
        t = time.monotonic()
        give_way.give_way()
        waited.append(time.monotonic() - t)

    QtCore.QTimer.singleShot(0, handler)
    run_until(lambda: bool(waited))
    assert waited and waited[0] < 0.05


def test_the_main_window_installs_the_gate(qtbot, settings, archive):
    """The browser window alone (no viewer open) receives and retrieves: background ingest must give way there too."""
    from workstation.gui import foreground_gate
    from workstation.gui.main_window import MainWindow
    from workstation import give_way

    give_way.set_gate(None)
    foreground_gate._GATE = None
    win = MainWindow(settings, archive, start_listener=False, watch_media=False)
    qtbot.addWidget(win)
    assert give_way._gate is not None and foreground_gate._GATE is not None
    assert give_way._gate == foreground_gate._GATE.wait
