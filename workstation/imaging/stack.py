"""A sorted stack of frames with lazy decoding, a memory-bounded cache and directional prefetch.

When the whole stack fits the memory budget, frames land in one preallocated ``(n, rows, cols[, 3])`` volume
(1.0x the raw size; ``np.stack`` of decoded slices would peak at 2x), filled as they are decoded. Otherwise an
LRU of per-frame arrays is kept under the budget.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging.decode import decode_frame
from workstation.imaging.errors import DecodeError, ImagingError
from workstation.imaging.frame_jobs import FrameJobs
from workstation.imaging.geometry import FrameGeometry
from workstation.give_way import give_way
from workstation.imaging.presentation import Presentation

log = logging.getLogger(__name__)

DEFAULT_MEMORY_BUDGET = 1 << 30  # bytes per open_series call
DEFAULT_PREFETCH = 24  # frames ahead in the scroll direction (and a few behind)

FrameListener = Callable[["Stack", int], None]


def total_memory() -> int | None:
    """Physical memory of this machine in bytes, or None when the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


class MemoryBudget:
    """One frame-cache budget (bytes) shared by every stack opened with it, e.g. all series of a viewer window.

    Pass it as ``memory_budget`` to :func:`open_series` (or ``Stack``). Each open stack gets a share: a stack
    whose whole volume is already allocated keeps its raw size; the rest of the budget is split between the
    other open stacks in proportion to their raw sizes. Closed stacks give their share back. ``used()`` is what
    the registered stacks hold right now (never more than ``total`` once shares are settled).
    """

    def __init__(self, total: int):
        self.total = max(1, int(total))
        self._lock = threading.Lock()
        self._stacks: list["Stack"] = []

    @classmethod
    def fraction_of_ram(cls, fraction: float, fallback: int = DEFAULT_MEMORY_BUDGET) -> "MemoryBudget":
        """A budget of ``fraction`` of physical memory (``fallback`` bytes when it is unknown)."""
        ram = total_memory()
        return cls(int(ram * float(fraction)) if ram else fallback)

    def register(self, stack: "Stack") -> None:
        with self._lock:
            if stack not in self._stacks:
                self._stacks.append(stack)

    def unregister(self, stack: "Stack") -> None:
        with self._lock:
            if stack in self._stacks:
                self._stacks.remove(stack)

    @property
    def stacks(self) -> list["Stack"]:
        with self._lock:
            return list(self._stacks)

    def share(self, stack: "Stack") -> int:
        """The bytes ``stack`` may cache now."""
        with self._lock:
            stacks = list(self._stacks)
        if stack not in stacks:
            stacks.append(stack)
        committed = sum(s.raw_bytes for s in stacks if s._volume is not None)
        if stack._volume is not None:
            return stack.raw_bytes
        rest = [s for s in stacks if s._volume is None]
        free = max(0, self.total - committed)
        wanted = sum(s.raw_bytes for s in rest) or 1
        if wanted <= free:
            return free
        return max(1, int(free * stack.raw_bytes / wanted))

    def used(self) -> int:
        return sum(s.cached_bytes() for s in self.stacks)

    def __repr__(self) -> str:
        return f"<MemoryBudget {self.total / 2**20:.0f} MiB, {len(self.stacks)} stacks>"


@dataclass(frozen=True)
class FrameSource:
    """Where a frame comes from: file path, frame index in that file, SOPInstanceUID."""

    path: str
    frame: int
    sop_instance_uid: str


def stored_dtype(ds: Dataset) -> np.dtype:
    """The numpy dtype frames of this dataset decode to (uint8 RGB for color)."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    if int(ds.get("SamplesPerPixel", 1) or 1) > 1 or photometric == "PALETTE COLOR":
        return np.dtype(np.uint8)
    if "FloatPixelData" in ds:
        return np.dtype(np.float32)
    if "DoubleFloatPixelData" in ds:
        return np.dtype(np.float64)
    bits = int(ds.get("BitsAllocated", 16) or 16)
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    if bits <= 8:
        return np.dtype(np.int8 if signed else np.uint8)
    if bits <= 16:
        return np.dtype(np.int16 if signed else np.uint16)
    return np.dtype(np.int32 if signed else np.uint32)


class Stack(FrameJobs):
    """Frames of one geometric stack, sorted; frames are decoded on demand.

    Not built directly: use :func:`workstation.imaging.open_series`. Thread-safe. Listeners are called from
    worker threads as ``callback(stack, index)`` when a frame is ready (or failed: see :meth:`frame_error`).
    """

    def __init__(
        self,
        sources: list[FrameSource],
        headers: dict[str, Dataset],
        geometries: list[FrameGeometry],
        *,
        executor: Executor | None = None,
        memory_budget: "int | MemoryBudget" = DEFAULT_MEMORY_BUDGET,
        normal: np.ndarray | None = None,
        description: str = "",
    ):
        if not sources:
            raise ImagingError("empty stack")
        self._sources = list(sources)
        self._headers = headers
        self._geometries = list(geometries)
        self.normal = normal
        self.description = description
        first = headers[sources[0].path]
        self.rows = int(first.Rows)
        self.columns = int(first.Columns)
        self.photometric = str(first.get("PhotometricInterpretation", "MONOCHROME2")).strip()
        self.is_color = not self.photometric.startswith("MONOCHROME")
        self.samples_per_pixel = 3 if self.is_color else 1
        self.dtype = stored_dtype(first)
        self.frame_shape: tuple[int, ...] = (self.rows, self.columns) + ((3,) if self.is_color else ())
        self.frame_bytes = int(np.prod(self.frame_shape)) * self.dtype.itemsize
        self._shared: MemoryBudget | None = memory_budget if isinstance(memory_budget, MemoryBudget) else None
        self._fixed_budget = 0 if self._shared is not None else int(memory_budget)  # type: ignore[arg-type]
        self._start_jobs(executor, min(4, os.cpu_count() or 2), "imaging-decode")
        # Frames queued by prefetch that nobody has asked for yet: their jobs give way to a busy GUI thread
        # (workstation.give_way); a frame asked for (frame(), get_frame()) is decoded at once.
        self._ahead: set[int] = set()
        self._presentations: dict[tuple[str, int], Presentation] = {}
        # Cache: a volume when the whole stack fits the budget, else an LRU.
        self._volume: np.ndarray | None = None
        self._present: np.ndarray | None = None
        self._lru: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lru_bytes = 0
        if self._shared is not None:
            self._shared.register(self)

    @property
    def memory_budget(self) -> int:
        """Bytes this stack may cache (its share when the budget is a shared :class:`MemoryBudget`)."""
        if self._shared is not None:
            return self._shared.share(self)
        return self._fixed_budget

    @property
    def shared_budget(self) -> "MemoryBudget | None":
        return self._shared

    @property
    def fits_budget(self) -> bool:
        """Whether the whole stack is (or may be) cached in one volume. Once the volume exists it stays."""
        if self._volume is not None:
            return True
        return len(self._sources) * self.frame_bytes <= self.memory_budget

    # -- description -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._sources)

    @property
    def frame_count(self) -> int:
        return len(self._sources)

    @property
    def raw_bytes(self) -> int:
        """Size of all frames as stored in memory."""
        return len(self._sources) * self.frame_bytes

    @property
    def slice_spacing(self) -> float | None:
        """Mean distance between consecutive frame positions along the normal (None when unknown)."""
        if self.normal is None or len(self) < 2:
            return None
        d = [g.position_along(self.normal) for g in self._geometries]
        if any(v is None for v in d):
            return None
        return float(abs(d[-1] - d[0]) / (len(d) - 1))  # type: ignore[operator]

    def source(self, index: int) -> FrameSource:
        return self._sources[index]

    def header(self, index: int) -> Dataset:
        """The dataset (without pixel data) of the file holding frame ``index``."""
        return self._headers[self._sources[index].path]

    def geometry(self, index: int) -> FrameGeometry:
        return self._geometries[index]

    def presentation(self, index: int = 0) -> Presentation:
        """Presentation of frame ``index`` (cached per file and frame)."""
        src = self._sources[index]
        key = (src.path, src.frame)
        with self._lock:
            pres = self._presentations.get(key)
        if pres is None:
            pres = Presentation.from_dataset(self._headers[src.path], src.frame)
            with self._lock:
                self._presentations[key] = pres
        return pres

    # -- cache -------------------------------------------------------------------------------------------------
    def is_cached(self, index: int) -> bool:
        with self._lock:
            if self._present is not None and self._present[index]:
                return True
            return index in self._lru

    def cached_bytes(self) -> int:
        with self._lock:
            if self._present is not None:
                return int(self._present.sum()) * self.frame_bytes
            return self._lru_bytes

    def adopt(self, other: "Stack") -> int:
        """Take the frames ``other`` has decoded (same file and frame, same shape and type) into this stack's cache:
        the viewer's first image, decoded for a one-file stack before the sorted stack existed, is not decoded
        again. Returns how many frames were taken."""
        if other is self or other.frame_shape != self.frame_shape or other.dtype != self.dtype:
            return 0
        decoded = [(other.source(j), arr) for j in range(len(other)) if (arr := other._lookup(j)) is not None]
        if not decoded:
            return 0
        where = {(src.path, src.frame): i for i, src in enumerate(self._sources)}
        taken = 0
        for src, arr in decoded:
            i = where.get((src.path, src.frame))
            if i is not None and self._lookup(i) is None:
                self._store(i, arr)
                taken += 1
        return taken

    def _lookup(self, index: int) -> np.ndarray | None:
        with self._lock:
            if self._present is not None and self._present[index]:
                return self._volume[index]  # type: ignore[index]
            arr = self._lru.get(index)
            if arr is not None:
                self._lru.move_to_end(index)
            return arr

    def _store(self, index: int, arr: np.ndarray) -> np.ndarray:
        if arr.shape != self.frame_shape:
            raise DecodeError(f"frame {index} has shape {arr.shape}, expected {self.frame_shape}")
        fits = self.fits_budget
        with self._lock:
            if fits or self._volume is not None:
                if self._volume is None:
                    # np.empty commits pages only as they are written: memory grows with the cached frames.
                    self._volume = np.empty((len(self),) + self.frame_shape, dtype=self.dtype)
                    self._volume.flags.writeable = True
                    self._present = np.zeros(len(self), dtype=bool)
                self._volume[index] = arr
                self._present[index] = True  # type: ignore[index]
                view = self._volume[index]
                view.flags.writeable = False
                return view
            arr = np.ascontiguousarray(arr, dtype=self.dtype)
            arr.flags.writeable = False
            if index not in self._lru:
                self._lru_bytes += arr.nbytes
            self._lru[index] = arr
            self._lru.move_to_end(index)
            budget = self.memory_budget
            while self._lru_bytes > budget and len(self._lru) > 1:
                _, old = self._lru.popitem(last=False)
                self._lru_bytes -= old.nbytes
            return arr

    def _decode(self, index: int) -> np.ndarray:
        src = self._sources[index]
        arr = decode_frame(src.path, src.frame, header=self._headers[src.path])
        if arr.dtype != self.dtype:
            arr = arr.astype(self.dtype)
        return arr

    def _job(self, index: int) -> np.ndarray:
        try:
            if self._closed:
                raise ImagingError("stack closed")
            cached = self._lookup(index)
            if cached is not None:
                return cached
            if index in self._ahead:
                self._ahead.discard(index)
                give_way()
            try:
                arr = self._store(index, self._decode(index))
            except Exception as exc:
                with self._lock:
                    self._errors[index] = exc
                log.warning("frame %d of %s: %s", index, self._sources[index].path, exc)
                raise
            return arr
        finally:
            self._finish(index)

    # -- access ------------------------------------------------------------------------------------------------
    def frame(self, index: int) -> np.ndarray | None:
        """Frame ``index`` as stored if decoded, else None (its decoding is queued; listeners will be told)."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        arr = self._lookup(index)
        if arr is None and index not in self._errors and not self._closed:
            self._ahead.discard(index)
            self._submit(index)
        return arr

    def get_frame(self, index: int, timeout: float | None = None) -> np.ndarray:
        """Frame ``index``, decoding it if needed (blocking). Raises DecodeError / TimeoutError."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        arr = self._lookup(index)
        if arr is not None:
            return arr
        with self._lock:
            self._errors.pop(index, None)
            self._ahead.discard(index)
        return self._submit(index).result(timeout)

    def prefetch(self, index: int, direction: int = 1, count: int | None = None) -> None:
        """Queue decoding around ``index``: ``count`` frames ahead in ``direction`` (+1/-1) and a quarter behind;
        direction 0 alternates both sides. Queued frames outside the new window are cancelled if not started."""
        n = len(self)
        budget_frames = max(1, self.memory_budget // max(1, self.frame_bytes))
        count = min(count if count is not None else DEFAULT_PREFETCH, budget_frames // 2 or 1, n)
        wanted: list[int] = [index]
        if direction == 0:
            for k in range(1, count + 1):
                wanted += [index + k, index - k]
        else:
            step = 1 if direction > 0 else -1
            wanted += [index + step * k for k in range(1, count + 1)]
            wanted += [index - step * k for k in range(1, count // 4 + 1)]
        wanted = [i for i in wanted if 0 <= i < n]
        keep = set(wanted)
        with self._lock:
            for i, fut in list(self._pending.items()):
                if i not in keep and fut.cancel():
                    self._pending.pop(i, None)
        for i in wanted:
            if self._lookup(i) is None and i not in self._errors:
                if i != index:
                    with self._lock:
                        if i not in self._pending:
                            self._ahead.add(i)
                self._submit(i)

    def volume(self, progress: Callable[[int, int], None] | None = None,
               cancel: Callable[[], bool] | None = None) -> np.ndarray:
        """All frames in one (n, rows, cols[, 3]) read-only array (decodes what is missing; blocking).

        Raises ImagingError when the stack does not fit the memory budget.
        """
        if not self.fits_budget:
            raise ImagingError(
                f"stack of {self.raw_bytes / 2**20:.0f} MiB does not fit the memory budget "
                f"({self.memory_budget / 2**20:.0f} MiB)"
            )
        missing = [i for i in range(len(self)) if not self.is_cached(i)]
        futures = [self._submit(i) for i in missing]
        done = len(self) - len(missing)
        for fut in futures:
            if cancel is not None and cancel():
                for f in futures:
                    f.cancel()
                raise ImagingError("cancelled")
            fut.result()
            done += 1
            if progress is not None:
                progress(done, len(self))
        with self._lock:
            if self._volume is None:  # zero missing frames can only mean an empty stack
                raise ImagingError("no frames")
            vol = self._volume.view()
        vol.flags.writeable = False
        return vol

    def close(self) -> None:
        """Drop the cache and stop an executor this stack owns."""
        with self._lock:
            self._stop_jobs()
            self._lru.clear()
            self._lru_bytes = 0
            self._volume = None
            self._present = None
        if self._shared is not None:
            self._shared.unregister(self)
        self._shutdown_executor()

    def dismantle(self, piece: int = 200) -> Iterator[None]:
        """After :meth:`close`: empty the per-image containers (headers, sources, geometries), yielding after every
        ``piece`` items. Freeing the headers of a 2,000-image stack at once takes ~40 ms of one thread holding the
        GIL; taken apart piece by piece, a GUI can free it between its events."""
        for name in ("_headers", "_presentations", "_sources", "_geometries"):
            if sys.getrefcount(getattr(self, name)) > 2:  # the attribute and the call's argument
                setattr(self, name, type(getattr(self, name))())  # shared (a sibling stack): let go of it only
        for container in (self._headers, self._presentations):
            while container:
                for _ in range(min(piece, len(container))):
                    container.popitem()
                yield
        for seq in (self._sources, self._geometries):
            while seq:
                del seq[-piece:]
                yield

    def __repr__(self) -> str:
        return (f"<Stack {self.description!r} {len(self)}x{self.rows}x{self.columns} {self.photometric} "
                f"{self.dtype}>")


def indices_by_distance(n: int, center: int) -> Iterable[int]:
    """0..n-1 ordered by distance from ``center`` (for loading outward from the shown frame)."""
    return sorted(range(n), key=lambda i: abs(i - center))
