"""Fixtures for the app's GUI tests: offscreen Qt, a fresh archive per test, a main window on it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from workstation.config import Settings  # noqa: E402


@pytest.fixture
def gui_settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings(data_dir=data, path=data / "settings.toml", bind="127.0.0.1")


@pytest.fixture
def gui_archive(gui_settings):
    from workstation.archive import Archive

    archive = Archive.open(gui_settings)
    yield archive
    archive.close()


@pytest.fixture
def main_window(qtbot, gui_settings, gui_archive):
    """A MainWindow without the Store SCP (tests that need it start it themselves)."""
    from workstation.gui.main_window import MainWindow

    win = MainWindow(gui_settings, gui_archive, start_listener=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    yield win
    win.jobs.cancel_all()
    win.jobs.wait_idle(10)
    win.close()


@pytest.fixture(scope="session", autouse=True)
def _translators(qapp):
    """The app's translators, as run_app installs them: plurals read "1 study", "2 studies" in every GUI test."""
    import subprocess
    import sys

    from workstation.gui.i18n import TRANSLATIONS, install_translators

    # make builds the .qm files; a worktree or a checkout without make gets them here, rebuilt when a .ts is newer.
    stale = [ts for ts in TRANSLATIONS.glob("workstation_*.ts")
             if not ts.with_suffix(".qm").exists() or ts.with_suffix(".qm").stat().st_mtime < ts.stat().st_mtime]
    if stale:
        tool = Path(__file__).resolve().parents[2] / "packaging" / "translations.py"
        subprocess.run([sys.executable, str(tool), "build"], check=True, timeout=120, capture_output=True)
    install_translators(qapp, "en_US")
