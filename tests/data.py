"""Paths of the offline test files: pydicom's bundled ones and the pydicom-data package's.

Use these instead of ``pydicom.data.get_testdata_files('*')``, which may try to download missing files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pydicom


@lru_cache(maxsize=None)
def test_file_dirs() -> tuple[Path, ...]:
    base = Path(pydicom.__file__).parent / "data"
    dirs = [base / "test_files", base / "charset_files"]
    try:
        import data_store  # the pydicom-data package

        dirs.append(Path(data_store.__file__).parent / "data")
    except ImportError:
        pass
    return tuple(d for d in dirs if d.is_dir())


def all_test_files() -> list[Path]:
    """Every DICOM-ish file shipped offline (including deliberately broken ones), sorted."""
    files: list[Path] = []
    for d in test_file_dirs():
        files.extend(p for p in d.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc", ".txt", ".json", ".gz", ".bz2", ".zip", ".xz"))
    return sorted(files)


def test_file(name: str) -> Path:
    """One named file, from whichever package ships it."""
    for d in test_file_dirs():
        for candidate in (d / name, *d.rglob(name)):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(name)


# Helpers, not tests (their names start with "test_").
test_file.__test__ = False  # type: ignore[attr-defined]
test_file_dirs.__test__ = False  # type: ignore[attr-defined]
