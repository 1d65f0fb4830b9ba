"""A stack of parallel reslices through a volume, with the interface the viewer's viewport reads from a Stack.

Plugging a :class:`PlaneStack` into the ordinary stack viewport is how a reslice gets every tool of an acquired
image: its frames are the planes along one normal (index = depth, one finest-voxel step apart), each with its
full patient geometry (:meth:`geometry`), the volume's presentation (window presets, modality LUT, probe units)
and the source series' header (patient, study: the annotations). Frames are resliced lazily on an executor and
kept in a small LRU; listeners hear when one is ready, exactly as with a Stack.

A reslice is not a stored instance: :meth:`source` has no SOPInstanceUID, so nothing keyed by instance
(presentation states, stored measurements) must be attached to it without the caller deciding how.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from concurrent.futures import Executor

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging.errors import ImagingError
from workstation.imaging.frame_jobs import FrameJobs
from workstation.imaging.geometry import FrameGeometry
from workstation.imaging.presentation import Presentation
from workstation.imaging.reslice import Plane, Reslicer
from workstation.imaging.stack import FrameSource
from workstation.imaging.volume import Volume

class PlaneStack(FrameJobs):
    """Parallel planes of ``plane``'s orientation and in-plane frame, spanning the volume along its normal."""

    _listener_failure = "plane listener failed"

    def __init__(self, volume: Volume, plane: Plane, *, reslicer: Reslicer | None = None, slab_mm: float = 0.0,
                 mode: str = "avg", executor: Executor | None = None, header: Dataset | None = None,
                 cache_bytes: int = 64 << 20, description: str = ""):
        self.volume = volume
        self.base = plane
        self.reslicer = reslicer or Reslicer(volume)
        self.slab_mm, self.mode = float(slab_mm), mode
        self.normal = plane.normal
        self.slice_spacing = float(plane.pixel_spacing[0])
        depths = (volume.corners() - np.asarray(plane.image_position)) @ self.normal
        self._first = float(depths.min())
        count = int(np.floor((float(depths.max()) - self._first) / self.slice_spacing + 1e-6)) + 1
        self._count = max(1, count)
        self.rows, self.columns = plane.rows, plane.columns
        self.dtype = np.dtype(np.float32)
        self.is_color = False
        self.samples_per_pixel = 1
        self.photometric = volume.presentation.photometric or "MONOCHROME2"
        self.frame_shape = (self.rows, self.columns)
        self.frame_bytes = self.rows * self.columns * 4
        self.description = description or volume.description
        self._header = header if header is not None else Dataset()
        self._cache_bytes = int(cache_bytes)
        self._start_jobs(executor, min(2, os.cpu_count() or 1), "reslice")
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.shared_budget = None
        # Each frame's plane and geometry, made once: the viewer asks for them on every paint and mouse move.
        self._planes: dict[int, Plane] = {}
        self._geometries: dict[int, FrameGeometry] = {}

    # -- description -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def frame_count(self) -> int:
        return self._count

    @property
    def memory_budget(self) -> int:
        return self._cache_bytes

    @property
    def raw_bytes(self) -> int:
        return self._count * self.frame_bytes

    def plane(self, index: int) -> Plane:
        plane = self._planes.get(index)
        if plane is None:
            if not 0 <= index < self._count:
                raise IndexError(index)
            depth = self._first + index * self.slice_spacing
            plane = self._planes[index] = self.base.through(np.asarray(self.base.image_position) + depth * self.normal)
        return plane

    def index_of(self, point) -> int:
        """The frame whose plane is nearest to a patient point."""
        depth = float((np.asarray(point, dtype=float) - np.asarray(self.base.image_position)) @ self.normal)
        return int(np.clip(round((depth - self._first) / self.slice_spacing), 0, self._count - 1))

    def geometry(self, index: int) -> FrameGeometry:
        geometry = self._geometries.get(index)
        if geometry is None:
            thickness = self.slab_mm if self.slab_mm > 0 else self.slice_spacing
            geometry = self.plane(index).frame_geometry(self.volume.frame_of_reference_uid, thickness)
            self._geometries[index] = geometry
        return geometry

    def presentation(self, index: int = 0) -> Presentation:
        return self.volume.presentation

    def header(self, index: int) -> Dataset:
        return self._header

    def source(self, index: int) -> FrameSource:
        return FrameSource("", index, "")  # a derived plane: no stored instance

    # -- frames ------------------------------------------------------------------------------------------------
    def is_cached(self, index: int) -> bool:
        with self._lock:
            return index in self._cache

    def cached_bytes(self) -> int:
        with self._lock:
            return len(self._cache) * self.frame_bytes

    def _job(self, index: int) -> np.ndarray:
        try:
            if self._closed:
                raise ImagingError("closed")
            arr = self.reslicer.reslice(self.plane(index), self.slab_mm, self.mode)
            arr.flags.writeable = False
            with self._lock:
                self._cache[index] = arr
                self._cache.move_to_end(index)
                while len(self._cache) * self.frame_bytes > self._cache_bytes and len(self._cache) > 1:
                    self._cache.popitem(last=False)
            return arr
        except Exception as exc:
            with self._lock:
                self._errors[index] = exc
            raise
        finally:
            self._finish(index)

    def frame(self, index: int) -> np.ndarray | None:
        """The plane's pixels (float32 stored values) if resliced, else None (queued; listeners will be told)."""
        if not 0 <= index < self._count:
            raise IndexError(index)
        with self._lock:
            arr = self._cache.get(index)
            if arr is not None:
                self._cache.move_to_end(index)
                return arr
            failed = index in self._errors
        if not failed and not self._closed:
            self._submit(index)
        return None

    def get_frame(self, index: int, timeout: float | None = None) -> np.ndarray:
        if not 0 <= index < self._count:
            raise IndexError(index)
        with self._lock:
            arr = self._cache.get(index)
            self._errors.pop(index, None)
        return arr if arr is not None else self._submit(index).result(timeout)

    def prefetch(self, index: int, direction: int = 1, count: int | None = None) -> None:
        """Queue a few planes ahead in the scroll direction (reslicing is fast: a few are enough)."""
        count = 4 if count is None else count
        step = 1 if direction >= 0 else -1
        for k in range(1, count + 1):
            i = index + step * k
            if 0 <= i < self._count and not self.is_cached(i):
                self._submit(i)

    def drop_queued(self, keep: int) -> int:
        """Forget the planes queued but not started, except ``keep``: while the reader drags the crosshair, the
        planes passed over are not worth reslicing (a 10 mm slab takes ~100 ms: the queue would outgrow what is
        shown). Returns how many were dropped; a dropped plane is queued again when it is asked for."""
        dropped = 0
        with self._lock:
            for index, fut in list(self._pending.items()):
                if index != keep and fut.cancel():
                    del self._pending[index]
                    dropped += 1
        return dropped

    def close(self) -> None:
        with self._lock:
            self._stop_jobs()
            self._cache.clear()
        self._shutdown_executor()

    def __repr__(self) -> str:
        return f"<PlaneStack {self._count}x{self.rows}x{self.columns} slab {self.slab_mm:g} mm {self.mode}>"


__all__ = ["PlaneStack"]
