"""Background work giving way to the GUI (workstation.give_way): header reading and read-ahead decoding pass through
the gate, a frame somebody asked for never does (it is what the reader waits for)."""

from __future__ import annotations

import threading

import pytest

from tests.imaging.synth import make_series
from workstation import give_way
from workstation.imaging import open_series


@pytest.fixture
def gate():
    calls: list[str] = []

    def record():
        calls.append(threading.current_thread().name)

    give_way.set_gate(record)
    yield calls
    give_way.set_gate(None)


def test_header_reading_gives_way_between_files_not_before_the_first(tmp_path, gate, monkeypatch):
    from workstation.imaging import series

    paths = make_series(tmp_path, 5)
    real_read = series.read_header
    monkeypatch.setattr(series, "read_header", lambda path: (gate.append("read"), real_read(path))[1])
    stacks = open_series(paths)
    reads = [i for i, e in enumerate(gate) if e == "read"]
    assert len(reads) == 5 and reads[0] == 0  # the first file at once
    assert all(b - a >= 2 for a, b in zip(reads, reads[1:]))  # a give-way between each two
    assert len(gate) > reads[-1] + 1  # and while the read headers are grouped and sorted
    for s in stacks:
        s.close()


def test_read_ahead_gives_way_and_an_asked_frame_does_not(tmp_path, gate):
    (stack,) = open_series(make_series(tmp_path, 12))
    gate.clear()
    try:
        stack.get_frame(5, timeout=10)  # asked for: decoded at once
        assert gate == []
        stack.prefetch(8, direction=1, count=3)  # frame 8 is the one shown; 9, 10 and 11 are read ahead
        for _ in range(500):
            if all(stack.is_cached(i) for i in (8, 9, 10, 11)):
                break
            threading.Event().wait(0.01)
        assert all(stack.is_cached(i) for i in (8, 9, 10, 11))
        assert len(gate) == 3
        assert threading.main_thread().name not in gate  # the decode threads waited, not the caller
    finally:
        stack.close()


def test_without_a_gate_nothing_waits():
    give_way.set_gate(None)
    give_way.give_way()  # returns at once
