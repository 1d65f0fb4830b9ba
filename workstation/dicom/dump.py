"""A text dump of every element: tag, keyword, VR and value; sequences nested; private tags marked."""

from __future__ import annotations

import warnings
from typing import Iterator

from pydicom.dataset import Dataset

_MAX_VALUE = 80


def dump_lines(ds: Dataset, max_value: int = _MAX_VALUE) -> Iterator[str]:
    if getattr(ds, "file_meta", None):
        yield "# File meta information"
        yield from _lines(ds.file_meta, 0, max_value)
        yield "# Dataset"
    yield from _lines(ds, 0, max_value)


def _lines(ds: Dataset, depth: int, max_value: int) -> Iterator[str]:
    indent = "  " * depth
    for tag in ds.keys():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                elem = ds[tag]
        except Exception as exc:  # noqa: BLE001 - one unreadable element must not stop the dump
            yield f"{indent}{_tag(tag)} {'?':32} ?? <unreadable: {exc}>"
            continue
        keyword = elem.keyword or ("[private]" if elem.tag.is_private else "[unknown]")
        if elem.tag.is_private and elem.keyword == "":
            creator = getattr(elem, "private_creator", None)
            keyword = f"[private{': ' + creator if creator else ''}]"
            if elem.name and elem.name not in ("Private tag data", "Private Creator"):
                keyword = f"[private] {elem.name}"
            elif elem.name == "Private Creator":
                keyword = "[private creator]"
        vr = elem.VR or "??"
        if vr == "SQ":
            yield f"{indent}{_tag(elem.tag)} {keyword:32} SQ ({len(elem.value)} item{'s' if len(elem.value) != 1 else ''})"
            for n, item in enumerate(elem.value, 1):
                yield f"{indent}  > item {n}"
                yield from _lines(item, depth + 2, max_value)
            continue
        yield f"{indent}{_tag(elem.tag)} {keyword:32} {vr:2} {_value(elem, max_value)}"


def _tag(tag) -> str:
    return f"({tag.group:04X},{tag.element:04X})"


def _value(elem, max_value: int) -> str:
    if elem.tag == 0x7FE00010 or elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        length = len(elem.value) if elem.value is not None else 0
        return f"<{length} bytes>"
    try:
        text = repr(elem.value) if isinstance(elem.value, bytes) else str(elem.value)
    except Exception as exc:  # noqa: BLE001
        text = f"<unreadable: {exc}>"
    text = text.replace("\n", " ").replace("\r", " ")
    if len(text) > max_value:
        text = text[: max_value - 3] + "..."
    return text
