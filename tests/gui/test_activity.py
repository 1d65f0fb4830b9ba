"""The Activity panel tells a failed job from a finished one: a send where every instance failed shows no full
bar and no speed."""

from __future__ import annotations

from PySide6 import QtGui

from tests.peers import free_port, make_ct_series
from workstation.config import Node
from workstation.gui.activity import STATE_COLORS, bar_parts


def _send_row(win, job):
    model = win.activity.model
    return next(r for r in range(model.rowCount()) if model.job_at(r) is job)


def test_a_send_where_every_instance_failed_shows_a_failed_bar_and_no_speed(qtbot, main_window, tmp_path):
    win = main_window
    make_ct_series(tmp_path / "ct", 5)
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([str(tmp_path / "ct")], show_summary=False)
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=5000)
    win.settings.nodes = [Node("scp", "STORESCP", "127.0.0.1", free_port())]  # nobody listens
    with qtbot.waitSignal(win.sendFinished, timeout=30000) as sent:
        win.send_rows("study", [win.browser.model.row_at(0)], "scp")
    job = sent.args[0]
    assert job.state == "failed" and job.progress.done == 5 and job.progress.failed == 5
    job.started_at -= 10  # a send that took its time: a speed would be shown by then
    job.ended_at = job.started_at + 5
    model = win.activity.model
    row = _send_row(win, job)
    assert model.data(model.index(row, 2)) == "5/5 (5 failed)"
    assert model.data(model.index(row, 3)) == ""  # was "1.0/s": five files per second of nothing
    assert bar_parts(job) == (0.0, 1.0)

    # The painted bar: red where the items failed, not the highlight of a completed bar.
    win.activity_dock.show()
    view = win.activity.view
    view.setColumnWidth(2, 200)
    rect = view.visualRect(model.index(row, 2))
    qtbot.waitUntil(lambda: not rect.isEmpty(), timeout=2000)
    image = view.viewport().grab(rect).toImage()
    pixel = QtGui.QColor(image.pixel(int(image.width() * 0.1), image.height() // 2))
    highlight = view.palette().color(QtGui.QPalette.Highlight)
    assert pixel.red() > pixel.green() + 40 and pixel.red() > pixel.blue() + 40, pixel.getRgb()
    assert pixel.rgb() != highlight.rgb()
    assert STATE_COLORS["failed"].red() > 150


def test_a_partly_failed_job_counts_only_the_good_items_as_progress(qtbot):
    from workstation.gui.jobs import PARTIAL, Job, JobProgress

    job = Job("send", "t", lambda **kw: None)
    job.progress = JobProgress(10, 10, 4)
    job.state = PARTIAL
    job.started_at, job.ended_at = 100.0, 102.0
    assert bar_parts(job) == (0.6, 0.4)
    from workstation.gui.activity import good_speed

    assert good_speed(job) == 3.0  # six good items in two seconds, not ten
