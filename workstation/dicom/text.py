"""Text values of a dataset as Unicode, decoded through its SpecificCharacterSet, never raising."""

from __future__ import annotations

import warnings
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue


def text_value(ds: Dataset, key: str) -> str | None:
    """The value of ``key`` as a str (multi-values joined by backslash), or None when absent or empty."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value: Any = ds.get(key)
    except Exception:  # noqa: BLE001 - a broken value reads as absent rather than failing the file
        return _raw_text(ds, key)
    if value is None:
        return None
    if isinstance(value, (MultiValue, list, tuple)):
        text = "\\".join(str(v) for v in value)
    elif isinstance(value, bytes):
        text = value.decode("latin-1", "replace")
    else:
        text = str(value)
    text = text.strip(" \x00")
    return text or None


def decoded_person_name(ds: Dataset, key: str) -> str | None:
    """A PN value decoded into Unicode with all its component groups (alphabetic=ideographic=phonetic)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ds.get(key)
            if value is None:
                return None
            if isinstance(value, (MultiValue, list, tuple)):
                text = "\\".join(_pn_text(v) for v in value)
            else:
                text = _pn_text(value)
    except Exception:  # noqa: BLE001 - an unknown or wrong charset: fall back to latin-1, never fail
        return _raw_text(ds, key)
    text = text.strip(" \x00")
    return text or None


def _pn_text(value: Any) -> str:
    groups = [value.alphabetic, value.ideographic, value.phonetic] if hasattr(value, "alphabetic") else None
    if groups is None:
        return str(value)
    while groups and not groups[-1]:
        groups.pop()
    return "=".join(groups)


def _raw_text(ds: Dataset, key: str) -> str | None:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(key)
    if tag is None:
        return None
    raw = ds._dict.get(tag)  # type: ignore[attr-defined]
    value = getattr(raw, "value", None)
    if isinstance(value, bytes):
        text = value.decode("latin-1", "replace").strip(" \x00")
        return text or None
    return None
