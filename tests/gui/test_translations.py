"""Translation catalogues: complete for today's sources, compiled, and giving real plural forms."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("translations_tool", ROOT / "packaging" / "translations.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


@pytest.mark.parametrize("source,one,other", [
    ("%n study(ies)", "%n study", "%n studies"),
    ("Send %n image(s)…", "Send %n image…", "Send %n images…"),
    ("%n match(es) found", "%n match found", "%n matches found"),
    ("%n series", "%n series", "%n series"),
])
def test_english_forms_follow_the_source_markers(source, one, other):
    assert tool.english_forms(source) == (one, other)


def test_every_catalogue_covers_todays_sources():
    """A tr() string added without updating the catalogues fails here (fix: packaging/translations.py update)."""
    catalogues = sorted(tool.TRANSLATIONS.glob("workstation_*.ts"))
    assert tool.EN in catalogues
    gaps = {ts.name: tool.missing(ts) for ts in catalogues}
    assert not any(gaps.values()), gaps


def test_no_english_plural_keeps_a_marker():
    import xml.etree.ElementTree as ET

    for form in ET.parse(tool.EN).iter("numerusform"):
        assert "(s)" not in (form.text or "") and "(ies)" not in (form.text or ""), form.text


def test_installed_catalogue_gives_real_plurals(qapp):
    from PySide6 import QtCore

    from workstation.gui.i18n import install_translators

    assert (tool.TRANSLATIONS / "workstation_en.qm").exists(), "catalogues not built: run make (or translations.py build)"
    assert "en" in install_translators(qapp, "en_US")
    tr = QtCore.QCoreApplication.translate
    assert tr("BrowserWidget", "%n study(ies)", "", 1) == "1 study"
    assert tr("BrowserWidget", "%n study(ies)", "", 0) == "0 studies"
    assert tr("BrowserWidget", "%n study(ies)", "", 340) == "340 studies"


def test_tool_is_runnable_as_a_script():
    import subprocess

    out = subprocess.run([sys.executable, str(ROOT / "packaging" / "translations.py"), "nonsense"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "update" in out.stdout


def test_lupdate_sees_every_translatable_call():
    """lupdate's Python parser silently skips some calls (a translate() whose count is an expression): such a
    string would never reach a catalogue and show in English, with "(s)" plurals, whatever the language."""
    unseen = tool.source_strings() - tool.extracted(tool.EN)
    assert not unseen, sorted(unseen)


def test_no_text_goes_through_a_wrapper_lupdate_cannot_see():
    assert not tool.alias_calls()
