"""Thumbnail work nobody waits for is dropped (issue 10 defect 4): a closed window's thumbnails decode nothing."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from viewer_data import write_ct_series
from workstation import imaging
from workstation.imaging import stack as stack_module


@pytest.fixture
def decodes(monkeypatch, tmp_path):
    """Every frame decode of this test's files, through a stack or directly (the thumbnail's fallback), is counted
    here (a window of an earlier test may still finish a decode of its own)."""
    calls = []
    real = imaging.decode_frame

    def counting(path, *a, **k):
        if str(path).startswith(str(tmp_path)):
            calls.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(stack_module, "decode_frame", counting)
    monkeypatch.setattr(imaging, "decode_frame", counting)
    return calls


def _entries(tmp_path, n_series=3):
    from workstation.gui.viewer.series import open_entries

    out = []
    for k in range(n_series):
        out += open_entries(write_ct_series(tmp_path / f"s{k}", 4, series_number=k + 1))
    return out


def test_a_cancelled_job_decodes_nothing(tmp_path, qtbot, decodes):
    from workstation.gui.viewer.thumbnails import ThumbnailJobs

    entries = _entries(tmp_path)
    held, ready = [], []
    jobs = ThumbnailJobs(held.append, ready.append)
    jobs.request(list(enumerate(entries)))
    assert len(held) == 1  # queued on the pool, not started: the window is closed now
    jobs.cancel()
    worker = held[0]
    with qtbot.waitSignal(worker.finished, timeout=10000):
        worker.start()
    assert decodes == [] and ready == []
    jobs.request(list(enumerate(entries)))  # a closed window asks for nothing more
    assert len(held) == 1
    for e in entries:
        e.stack.close()


def test_jobs_deliver_every_thumbnail_until_cancelled(tmp_path, qtbot, decodes):
    from workstation.gui.viewer.thumbnails import ThumbnailJobs

    entries = _entries(tmp_path)
    held, ready = [], []
    jobs = ThumbnailJobs(held.append, ready.append)
    jobs.request(list(enumerate(entries)))
    with qtbot.waitSignal(held[0].finished, timeout=10000):
        held[0].start()
    assert [i for i, _img in ready] == [0, 1, 2]
    assert all(not img.isNull() and img.width() == 96 for _i, img in ready)
    assert len(decodes) == 3  # the middle frame of each series, nothing else
    for e in entries:
        e.stack.close()


def test_cancel_while_waiting_stops_before_the_direct_decode(tmp_path, qtbot, decodes, monkeypatch):
    """The window closes while a thumbnail waits for its frame: the stack refuses the frame (its queue was
    cancelled), and the thumbnail must not fall back to decoding the file itself, nor go on to the next series."""
    from workstation.gui.viewer.thumbnails import ThumbnailJobs

    entries = _entries(tmp_path)
    waiting, closed = threading.Event(), threading.Event()

    def refused(*_a, **_k):
        waiting.set()
        closed.wait(10)
        raise CancelledError()

    for e in entries:
        monkeypatch.setattr(e.stack, "get_frame", refused)
    held, ready = [], []
    jobs = ThumbnailJobs(held.append, ready.append)
    jobs.request(list(enumerate(entries)))
    held[0].start()
    assert waiting.wait(10)
    jobs.cancel()
    closed.set()
    qtbot.waitUntil(lambda: not held[0].is_running, timeout=10000)
    assert decodes == [] and ready == []
    for e in entries:
        e.stack.close()


def test_closing_the_window_cancels_its_thumbnails(open_viewer, tmp_path, qtbot):
    paths = [write_ct_series(tmp_path / f"s{k}", 4, series_number=k + 1) for k in range(2)]
    win = open_viewer(paths)
    jobs = win._thumbnail_jobs
    assert not jobs.cancelled
    win.close()
    assert jobs.cancelled


def test_a_series_that_cannot_be_decoded_gets_a_tile_that_says_so(tmp_path, qtbot, monkeypatch):
    from PySide6 import QtGui

    from workstation.gui.viewer.thumbnails import ICON, ThumbnailJobs

    entries = _entries(tmp_path, 2)

    def broken(*_a, **_k):
        raise imaging.DecodeError("frame 1: the file is damaged")

    monkeypatch.setattr(entries[0].stack, "get_frame", broken)
    monkeypatch.setattr(imaging, "decode_frame", broken)
    held, ready = [], []
    jobs = ThumbnailJobs(held.append, ready.append)
    jobs.request(list(enumerate(entries)))
    with qtbot.waitSignal(held[0].finished, timeout=10000):
        held[0].start()
    assert [i for i, _img in ready] == [0, 1]  # the broken series does not stop the next one
    tile = ready[0][1].convertToFormat(QtGui.QImage.Format_RGB888)
    colours = {tile.pixelColor(x, y).name() for x in range(ICON) for y in range(ICON)}
    assert len(colours) > 1  # text on the tile, not the blank placeholder
    for e in entries:
        e.stack.close()
