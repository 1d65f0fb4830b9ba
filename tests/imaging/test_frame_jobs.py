"""The job contract both stacks share (imaging.frame_jobs): a decoded Stack and a resliced PlaneStack queue one job
per frame, tell every listener when it ends (also when it failed, also when another listener raised), keep the
error so the viewer path does not retry it, and stop their own pool on close."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.imaging import phantoms as ph
from tests.imaging.synth import make_series
from tests.imaging.test_volume import open_folder
from workstation.imaging import open_series
from workstation.imaging.errors import DecodeError
from workstation.imaging.plane_stack import PlaneStack
from workstation.imaging.reslice import Reslicer, plane_for
from workstation.imaging.volume import volume_from_stacks


class Gate:
    """Makes frames on demand: frame ``bad`` fails, every call waits until ``open`` is set."""

    def __init__(self, shape, bad):
        self.shape, self.bad = shape, bad
        self.open = threading.Event()
        self.calls: list[int] = []

    def make(self, index):
        self.calls.append(index)
        assert self.open.wait(10)
        if index == self.bad:
            raise DecodeError(f"frame {index} is damaged")
        return np.full(self.shape, index, dtype=np.float32)


@pytest.fixture(scope="module")
def volume(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jobs")
    ph.regular(folder)
    return volume_from_stacks(open_folder(folder))


@pytest.fixture(params=["decoded", "resliced"])
def stack_and_gate(request, tmp_path, volume):
    if request.param == "decoded":
        (stack,) = open_series(make_series(tmp_path, 6))
        gate = Gate(stack.frame_shape, bad=2)
        stack._decode = lambda i: gate.make(i).astype(stack.dtype)
    else:
        stack = PlaneStack(volume, plane_for(volume, "axial"), reslicer=Reslicer(volume, "scipy"))
        gate = Gate((stack.rows, stack.columns), bad=2)
        stack.reslicer = type("R", (), {"reslice": lambda self, plane, slab, mode: gate.make(stack.index_of(
            plane.image_position))})()
    yield stack, gate
    gate.open.set()
    stack.close()


def test_listeners_hear_ready_and_failed_frames_even_after_one_raises(stack_and_gate, caplog):
    stack, gate = stack_and_gate
    heard: list[tuple[int, bool]] = []
    both = threading.Event()

    def raising(s, i):
        raise RuntimeError("a broken listener")

    def listening(s, i):
        heard.append((i, s.frame_error(i) is not None))
        if len(heard) == 2:
            both.set()

    stack.add_listener(raising)
    stack.add_listener(listening)
    assert stack.frame(1) is None and stack.frame(2) is None  # queued
    assert stack.frame(1) is None  # asked again while queued: still one job
    gate.open.set()
    assert both.wait(10)
    assert sorted(heard) == [(1, False), (2, True)]
    assert sorted(gate.calls) == [1, 2]
    assert "listener failed" in caplog.text  # logged, the worker went on
    assert int(stack.frame(1).flat[0]) == 1
    # A failed frame is not queued again by the viewer path; get_frame (an explicit ask) tries again.
    assert stack.frame(2) is None and "damaged" in str(stack.frame_error(2))
    assert sorted(gate.calls) == [1, 2]
    with pytest.raises(DecodeError):
        stack.get_frame(2, timeout=10)
    assert sorted(gate.calls) == [1, 2, 2] and heard[-1] == (2, True)  # the retry's end is heard too
    stack.remove_listener(listening)
    stack.get_frame(3, timeout=10)
    assert len(heard) == 3  # removed: not told any more


def test_close_cancels_queued_jobs_and_stops_the_own_pool(stack_and_gate):
    stack, gate = stack_and_gate
    for i in range(4):
        stack.frame(i)
    stack.close()
    assert stack._pending == {}
    gate.open.set()
    assert stack.frame(5) is None and stack._pending == {}  # closed: nothing new is queued
    with pytest.raises(RuntimeError):  # the stack's own pool is shut down
        stack._executor.submit(int)
