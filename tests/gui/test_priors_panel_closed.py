"""Regression: the Priors dock's answer arriving after its main window was closed and deleted raised "Internal C++
object already deleted" in the event loop (it showed up in whichever GUI test ran next)."""

from __future__ import annotations

import time


def test_an_answer_after_the_window_is_gone_is_dropped(qtbot, gui_settings, gui_archive, monkeypatch):
    from types import SimpleNamespace

    from workstation.gui import priors_panel
    from workstation.gui.main_window import MainWindow

    ended = []

    def slow(*_args, **_kwargs):
        time.sleep(0.4)
        yield SimpleNamespace(current={"PatientName": "Doe^Jane", "PatientID": "P1"}, priors=[], failures={})
        ended.append(True)

    monkeypatch.setattr(priors_panel, "stream_priors", slow, raising=False)
    win = MainWindow(gui_settings, gui_archive, start_listener=False)
    win.show()
    win.priors.set_study("1.2.3.4", force=True)
    win.deleteLater()  # gone without a close (a parent's teardown): the worker still runs
    qtbot.wait(50)
    qtbot.waitUntil(lambda: bool(ended), timeout=5000)
    qtbot.wait(100)  # the queued answer is delivered now: nothing may raise
