"""Translation catalogues: extract, fill English plural forms, compile.

    python packaging/translations.py update   # after adding or changing a tr() string (then translate the new
                                              # "unfinished" entries of each language's .ts, e.g. with Qt Linguist)
    python packaging/translations.py build    # .ts -> .qm (make does this; .qm files are not committed)
    python packaging/translations.py check    # exit 1 when a catalogue misses a string of today's sources

English needs a catalogue of its own only for plural forms: Qt has no grammar, so ``tr("%n study(ies)", "", n)``
shows "1 study(ies)" unless a catalogue gives "%n study" and "%n studies". The source convention is a marker
after the word — ``(s)``, ``(es)``, ``(ies)`` replacing a final y — from which the two English forms follow
mechanically; a form written by hand in the .ts is kept.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "resources" / "translations"
SOURCES = ROOT / "workstation"
EN = TRANSLATIONS / "workstation_en.ts"
_MARKER = re.compile(r"(\w*?)(y?)\((ies|es|s)\)")


def _tool(name: str) -> str:
    """The Qt tool beside this Python (the venv's), else on PATH."""
    here = Path(sys.executable).with_name(f"pyside6-{name}")
    if here.exists():
        return str(here)
    found = shutil.which(f"pyside6-{name}") or shutil.which(name)
    if not found:
        raise SystemExit(f"pyside6-{name} not found: install PySide6 (pip install -e .)")
    return found


def english_forms(source: str) -> tuple[str, str]:
    """The singular and plural English text of a ``%n`` source string with ``(s)``-style markers."""
    def singular(m: re.Match) -> str:
        return m.group(1) + m.group(2)

    def plural(m: re.Match) -> str:
        stem, y, suffix = m.groups()
        if suffix == "ies":
            return stem + "ies"
        return stem + y + suffix
    return _MARKER.sub(singular, source), _MARKER.sub(plural, source)


def python_sources() -> list[str]:
    return sorted(str(p) for p in SOURCES.rglob("*.py"))


def extract(target: Path, plural_only: bool, language: str) -> None:
    """Merge today's tr() strings into ``target`` (created when missing); stale entries are dropped."""
    args = [_tool("lupdate"), *python_sources(), "-ts", str(target), "-no-obsolete", "-locations", "none",
            "-target-language", language, "-silent"]
    if plural_only:
        args.insert(-1, "-pluralonly")
    subprocess.run(args, check=True, cwd=ROOT, timeout=120)


def fill_english(path: Path) -> int:
    """Write the derived English forms into every numerus message that has none; returns how many were filled."""
    tree = ET.parse(path)
    filled = 0
    for message in tree.iter("message"):
        if message.get("numerus") != "yes":
            continue
        translation = message.find("translation")
        forms = translation.findall("numerusform")
        if translation.get("type") != "unfinished" and all((f.text or "").strip() for f in forms):
            continue
        one, other = english_forms(message.findtext("source") or "")
        for form in forms:
            translation.remove(form)
        for text in (one, other):
            ET.SubElement(translation, "numerusform").text = text
        translation.attrib.pop("type", None)
        filled += 1
    _write_ts(tree, path)
    return filled


def _write_ts(tree: ET.ElementTree, path: Path) -> None:
    ET.indent(tree, space="    ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")


def missing(path: Path) -> list[str]:
    """Source texts of today's code that ``path`` (a committed catalogue) lacks or leaves unfinished."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        plural_only = path == EN
        extract(copy, plural_only, "en" if plural_only else path.stem.split("_", 1)[1])
        tree = ET.parse(copy)
    gaps = []
    for message in tree.iter("message"):
        translation = message.find("translation")
        forms = [f.text or "" for f in translation.findall("numerusform")] or [translation.text or ""]
        if translation.get("type") in ("unfinished", "vanished", "obsolete") or not all(f.strip() for f in forms):
            if translation.get("type") in ("vanished", "obsolete"):
                continue
            gaps.append(message.findtext("source") or "")
    return gaps


def source_strings() -> set[str]:
    """Every literal text handed to tr(), translate() or QT_TRANSLATE_NOOP() in the sources, found with Python's own
    parser: lupdate's silently skips some calls (a translate() whose count is an expression, for one)."""
    import ast

    found = set()
    for path in python_sources():
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            index = {"tr": 0, "translate": 1, "QT_TRANSLATE_NOOP": 1, "QT_TR_NOOP": 0}.get(name)
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return found


def alias_calls() -> list[str]:
    """Literal texts handed to a wrapper of translate()/QT_TRANSLATE_NOOP (``_tr = ...``, ``def _tr(text)``):
    lupdate cannot see through a wrapper, so those texts never reach a catalogue."""
    import ast

    out = []
    for path in python_sources():
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), path)
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Attribute, ast.Name)):
                target = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
                if target in ("QT_TRANSLATE_NOOP", "translate", "QT_TR_NOOP"):
                    aliases |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            if isinstance(node, ast.FunctionDef):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Call) and getattr(sub.func, "attr", "") == "translate" and \
                            len(sub.args) >= 2 and isinstance(sub.args[1], ast.Name):
                        aliases.add(node.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in aliases:
                if any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
                    out.append(f"{Path(path).name}:{node.lineno} {node.func.id}(...)")
    return out


def extracted(path: Path) -> set[str]:
    """The source texts lupdate extracts from today's sources (all of them, whatever ``path`` holds)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "all.ts"
        extract(copy, False, "en")
        return {m.findtext("source") or "" for m in ET.parse(copy).iter("message")}


def build() -> list[Path]:
    """Compile every catalogue to the .qm the app loads."""
    built = []
    for ts in sorted(TRANSLATIONS.glob("workstation_*.ts")):
        qm = ts.with_suffix(".qm")
        subprocess.run([_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True, timeout=120)
        built.append(qm)
    return built


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command == "update":
        extract(EN, True, "en")
        print(f"{EN.relative_to(ROOT)}: {fill_english(EN)} plural form(s) filled")
        for ts in sorted(TRANSLATIONS.glob("workstation_*.ts")):
            if ts != EN:  # every other language: all strings; new ones arrive unfinished, for a translator
                extract(ts, False, ts.stem.split("_", 1)[1])
                print(f"{ts.relative_to(ROOT)}: {len(missing(ts))} string(s) to translate")
        return 0
    if command == "build":
        for qm in build():
            print(qm.relative_to(ROOT))
        return 0
    if command == "check":
        bad = 0
        for ts in sorted(TRANSLATIONS.glob("workstation_*.ts")):
            for source in missing(ts):
                print(f"{ts.name}: untranslated: {source!r}")
                bad += 1
        for call in alias_calls():
            print(f"lupdate cannot see through: {call}")
            bad += 1
        for source in sorted(source_strings() - extracted(EN)):
            print(f"lupdate does not see: {source!r} (write the call as the others are)")
            bad += 1
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
