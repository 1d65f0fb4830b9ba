"""A stand-in for workstation.imaging used ONLY while the real pipeline is not importable (tests warn).

Implements the documented API subset the viewer uses (open_series, Stack, Presentation, Window, render).
"""
import sys, types, threading
from dataclasses import dataclass
import numpy as np, pydicom
from concurrent.futures import ThreadPoolExecutor
m = types.ModuleType("workstation.imaging")
class ImagingError(Exception): pass
class NotAnImageError(ImagingError): pass
@dataclass
class Window:
    center: float; width: float; function: object = None; explanation: str = ""
@dataclass
class WindowPreset:
    name: str; window: Window; source: str
@dataclass
class DisplayMapping:
    levels: tuple; lut: object
@dataclass(frozen=True)
class FrameGeometry:
    image_position: object; image_orientation: object; pixel_spacing: object; slice_location: object
    slice_thickness: object; frame_of_reference_uid: object; instance_number: object
    @property
    def normal(self):
        o = self.image_orientation
        return tuple(np.cross(o[:3], o[3:])) if o else None
@dataclass
class FrameSource:
    path: str; frame: int; sop_instance_uid: str
class Presentation:
    def __init__(self, ds):
        self.slope = float(ds.get("RescaleSlope", 1)); self.inter = float(ds.get("RescaleIntercept", 0))
        self.modality = ds.get("Modality", ""); self.unit = "HU" if self.modality == "CT" else ""
        self.is_color = ds.get("SamplesPerPixel", 1) == 3
        wc = ds.get("WindowCenter"); ww = ds.get("WindowWidth")
        self.win = Window(float(wc if not isinstance(wc, pydicom.multival.MultiValue) else wc[0]), float(ww if not isinstance(ww, pydicom.multival.MultiValue) else ww[0])) if wc is not None else None
        self.presets = ([WindowPreset("file", self.win, "file")] if self.win else []) + [WindowPreset(n, Window(c, w), "ct") for n, c, w in [("soft", 40, 400), ("lung", -600, 1500), ("bone", 400, 1800)]]
        self.stored_range = (-32768, 32767)
    def default_window(self): return self.win
    def auto_window(self, arr):
        v = self.to_modality(arr); return Window((v.max()+v.min())/2, max(1, v.max()-v.min()))
    def to_modality(self, a): return a * self.slope + self.inter
    def probe(self, s): return float(s) * self.slope + self.inter, self.unit
    def display_mapping(self, w, invert=False):
        lo = (w.center - w.width / 2 - self.inter) / self.slope; hi = (w.center + w.width / 2 - self.inter) / self.slope
        lut = np.arange(256, dtype=np.uint8)[::-1].copy() if invert else None
        return DisplayMapping((lo, hi), lut)
class Stack:
    def __init__(self, paths, executor):
        self.dss = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
        self.paths = paths; self.ex = executor or ThreadPoolExecutor(2); self.cache = {}; self.listeners = []
        d = self.dss[0]; self.rows, self.columns = d.Rows, d.Columns
        self.frame_count = int(d.get("NumberOfFrames", 1)) if len(paths) == 1 else len(paths)
        self.is_color = d.get("SamplesPerPixel", 1) == 3
        self.pending = set()
    def __len__(self): return self.frame_count
    def add_listener(self, cb): self.listeners.append(cb)
    def remove_listener(self, cb): self.listeners.remove(cb)
    def _decode(self, i):
        if len(self.paths) == 1:
            a = pydicom.dcmread(self.paths[0]).pixel_array
            if self.frame_count > 1: a = a[i]
        else:
            a = pydicom.dcmread(self.paths[i]).pixel_array
        a.flags.writeable = False
        self.cache[i] = a
        for cb in self.listeners: cb(self, i)
    def frame(self, i):
        if i in self.cache: return self.cache[i]
        if i not in self.pending:
            self.pending.add(i); self.ex.submit(self._decode, i)
        return None
    def get_frame(self, i, timeout=None):
        if i not in self.cache: self._decode(i)
        return self.cache[i]
    def prefetch(self, i, direction=0, count=None): pass
    def is_cached(self, i): return i in self.cache
    def _ds(self, i): return self.dss[0] if len(self.paths) == 1 else self.dss[i]
    def geometry(self, i):
        d = self._ds(i)
        g = lambda k: [float(x) for x in d.get(k)] if d.get(k) is not None else None
        return FrameGeometry(g("ImagePositionPatient"), g("ImageOrientationPatient"), g("PixelSpacing"), d.get("SliceLocation"), d.get("SliceThickness"), d.get("FrameOfReferenceUID"), d.get("InstanceNumber"))
    @property
    def normal(self): return self.geometry(0).normal
    def presentation(self, i): return Presentation(self._ds(i))
    def source(self, i): return FrameSource(self.paths[0 if len(self.paths)==1 else i], i if len(self.paths)==1 else 0, str(self._ds(i).SOPInstanceUID))
    def close(self): pass
def open_series(paths, executor=None, memory_budget=0):
    dss = []
    for p in paths:
        d = pydicom.dcmread(p, stop_before_pixels=True)
        if "Rows" in d: dss.append((p, d))
    if not dss: raise NotAnImageError("no images")
    dss.sort(key=lambda t: float(t[1].get("ImagePositionPatient", [0,0,0])[2]) if t[1].get("ImagePositionPatient") else 0)
    return [Stack([p for p, _ in dss], executor)]
def render(pres, arr, window=None, invert=False, size=None):
    a = arr.astype(float); return ((a - a.min()) / max(1, np.ptp(a)) * 255).astype(np.uint8)
def describe_object(ds): return f"{ds.get('Modality','')} object"
for k, v in list(globals().items()):
    if not k.startswith("_"): setattr(m, k, v)



def install():
    """Put the stand-in in place of workstation.imaging."""
    import workstation

    sys.modules["workstation.imaging"] = m
    workstation.imaging = m
