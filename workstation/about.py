"""What this build is made of: component versions and licences (Help ▸ About, ``workstation --version --verbose``)."""

from __future__ import annotations

import importlib.metadata as md
import sys
from pathlib import Path

from workstation import __version__

# (distribution, what it does here, licence as its authors state it)
COMPONENTS = [
    ("PySide6-Essentials", "Qt for Python: the GUI", "LGPL-3.0"),
    ("pydicom", "DICOM files", "MIT"),
    ("pynetdicom", "DICOM network", "MIT"),
    ("numpy", "arrays", "BSD-3-Clause"),
    ("pyqtgraph", "image display", "MIT"),
    ("superqt", "background workers", "BSD-3-Clause"),
    ("python-gdcm", "JPEG, JPEG-LS, JPEG 2000 decoding", "BSD-3-Clause (GDCM), Apache-2.0 (bindings)"),
    ("pylibjpeg-openjpeg", "JPEG 2000 decoding", "MIT (OpenJPEG: BSD-2-Clause)"),
    ("pylibjpeg-rle", "RLE decoding", "MIT"),
    ("pylibjpeg-libjpeg", "JPEG decoding (not in the bundle: GPL-3.0)", "GPL-3.0"),
    ("vtk", "reslicing and volume rendering", "BSD-3-Clause"),
    ("scipy", "resampling", "BSD-3-Clause"),
    ("platformdirs", "per-user folders", "MIT"),
]


def component_versions() -> list[tuple[str, str, str, str]]:
    """(name, version, role, licence) of each component present in this installation or bundle."""
    out = [("workstation", __version__, "this program", "MIT"),
           ("Python", sys.version.split()[0], "interpreter", "PSF-2.0")]
    for dist, role, licence in COMPONENTS:
        try:
            version = md.version(dist)
        except md.PackageNotFoundError:
            continue
        if dist == "pylibjpeg-libjpeg" and getattr(sys, "frozen", False):
            continue  # its metadata may be present, its code is not
        out.append((dist, version, role, licence))
    return out


def licences_folder() -> Path | None:
    """The bundle's collected licence texts (``licences/``), when running from the bundle."""
    base = Path(getattr(sys, "_MEIPASS", "")) / "licences"
    return base if getattr(sys, "frozen", False) and base.is_dir() else None
