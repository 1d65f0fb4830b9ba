"""Translators: English plural forms always, then the user's language when a catalogue exists for it.

Qt looks a string up in the translator installed last first, so a language catalogue wins over the English one and
an entry it lacks still gets proper English plurals ("1 study", "2 studies") instead of the source's "study(ies)".
Catalogues live in ``resources/translations`` as .ts (committed) and .qm (built by ``make``;
``packaging/translations.py build``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6 import QtCore

TRANSLATIONS = Path(__file__).resolve().parents[2] / "resources" / "translations"
log = logging.getLogger(__name__)


# Each language under its own name; "System default" is translated (SettingsDialog).
LANGUAGES = {"": QtCore.QT_TRANSLATE_NOOP("SettingsDialog", "System default"), "en": "English", "zh_CN": "中文（简体）"}


def install_translators(app: QtCore.QCoreApplication, locale: str | None = None) -> list[str]:
    """Install the English plural catalogue and the catalogue of ``locale`` (default: the system's), with Qt's own.

    Returns the catalogues installed (e.g. ``["en", "zh_CN"]``); a missing .qm is logged, never fatal.
    """
    installed = []
    name = locale or QtCore.QLocale.system().name()
    for candidates in (["en"], [name, name.split("_")[0]]):
        for candidate in candidates:
            if candidate in installed or not candidate or (candidate != "en" and candidate.startswith("en")):
                continue
            translator = QtCore.QTranslator(app)
            if translator.load(f"workstation_{candidate}", str(TRANSLATIONS)):
                app.installTranslator(translator)
                installed.append(candidate)
                break
            if candidate == "en":
                log.warning("no compiled English catalogue in %s (run make): plurals show as 'item(s)'", TRANSLATIONS)
    if len(installed) > 1:
        # Qt's own strings (standard buttons, file dialogs) in the same language, when Qt ships them.
        qt = QtCore.QTranslator(app)
        qt_dir = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.TranslationsPath)
        if qt.load(f"qtbase_{installed[-1]}", qt_dir) or qt.load(f"qt_{installed[-1]}", qt_dir):
            app.installTranslator(qt)
    return installed
