"""Damaged files never crash the header reader: they read, or raise NotDicom/Unusable with a reason."""

from __future__ import annotations

import warnings

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.data import test_file
from workstation.dicom.header import NotDicom, Unusable, read_header

SOURCES = {name: test_file(name).read_bytes() for name in
           ("CT_small.dcm", "JPEG2000.dcm", "chrH31.dcm", "ExplVR_BigEnd.dcm", "rtplan.dcm")}


def _check(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            header = read_header(data)
        except (NotDicom, Unusable) as exc:
            assert str(exc)
            return
    assert header.attributes["SOPInstanceUID"]
    assert header.attributes["StudyInstanceUID"] and header.attributes["SeriesInstanceUID"]


def _element_ends(data: bytes) -> set[int]:
    """Offsets where a top-level element ends: a cut there leaves a shorter but well-formed file, which no
    reader can tell from one written that way (an image without PixelData is not rejected on that ground)."""
    import io

    import pydicom

    ds = pydicom.dcmread(io.BytesIO(data), defer_size=64)
    ends = {e.value_tell + e.length for e in ds._dict.values() if getattr(e, "length", 0xFFFFFFFF) != 0xFFFFFFFF}
    return ends | {len(data)}


ENDS = {name: _element_ends(data) for name, data in SOURCES.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SOURCES)), cut=st.floats(0, 1))
def test_truncation_anywhere_is_detected(name, cut):
    data = SOURCES[name]
    n = int(len(data) * cut)
    if n in ENDS[name]:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            read_header(data[:n])
        except (NotDicom, Unusable):
            return
    raise AssertionError(f"{name} cut at {n} of {len(data)} bytes was accepted")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SOURCES)), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                                              min_size=1, max_size=8))
def test_corrupted_bytes_never_crash(name, flips):
    data = bytearray(SOURCES[name])
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    _check(bytes(data))
