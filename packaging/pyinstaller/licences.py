"""Third-party licence notices for the bundle: each installed distribution's licence files, and a summary table."""

from __future__ import annotations

import importlib.metadata as md
import shutil
from pathlib import Path

# The distributions the bundle ships (runtime dependencies and what they pull in); pylibjpeg-libjpeg is GPLv3 and
# deliberately absent.
SHIPPED = ["PySide6-Essentials", "shiboken6", "pydicom", "pynetdicom", "numpy", "pyqtgraph", "superqt", "pylibjpeg",
           "pylibjpeg-openjpeg", "pylibjpeg-rle", "python-gdcm", "platformdirs", "tomli_w", "typing_extensions",
           "pygments", "vtk", "colorama", "highdicom", "scipy", "pillow"]
NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")


def collect_licences(root: Path, out: Path) -> list[tuple[str, str, str]]:
    """Copy licence files to ``out`` and return PyInstaller TOC entries placing them under ``licences/``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rows = []
    for name in SHIPPED:
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        meta = dist.metadata
        licence = meta.get("License-Expression") or meta.get("License") or ""
        if not licence or len(licence) > 80:
            classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if "License ::" in c]
            licence = ", ".join(classifiers) or (licence.splitlines()[0] if licence else "see files")
        rows.append(f"{meta['Name']} {dist.version}: {licence}")
        target = out / meta["Name"]
        for file in dist.files or []:
            if any(file.name.upper().startswith(n) for n in NAMES) or "/licenses/" in str(file).lower():
                src = Path(dist.locate_file(file))
                if src.is_file():
                    target.mkdir(exist_ok=True)
                    shutil.copy(src, target / file.name)
    project = root / "LICENSE"
    if project.exists():
        shutil.copy(project, out / "workstation-LICENSE")
    (out / "THIRD-PARTY.txt").write_text(
        "Third-party components in this bundle and their licences (full texts in the folders beside this file).\n"
        "Qt (PySide6) is used under the LGPLv3; no GPL-licensed component is included (JPEG syntaxes are decoded\n"
        "by python-gdcm and pylibjpeg-openjpeg, not pylibjpeg-libjpeg).\n\n" + "\n".join(rows) + "\n",
        encoding="utf-8")
    return [(str(Path("licences") / p.relative_to(out)), str(p), "DATA") for p in out.rglob("*") if p.is_file()]
