"""What every command handler gets: settings and the archive, opened on first use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workstation.config import Settings, SettingsError, load_settings, log_dir
from workstation.logs import setup_logging

if TYPE_CHECKING:
    from workstation.archive import Archive


class CommandError(Exception):
    """A failure of a command, worded for the user; ``code`` is the process exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class Context:
    def __init__(self, data_dir_option: str | None = None, verbose: bool = False):
        self.data_dir_option = data_dir_option
        self.verbose = verbose
        self._settings: Settings | None = None
        self._archive: Archive | None = None
        self.startup_check = True
        self.log_file: Path | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.data_dir_option)
            except SettingsError as exc:
                raise CommandError(str(exc)) from None
            self.log_file = setup_logging(self._log_dir(self._settings), verbose=self.verbose)
        return self._settings

    def _log_dir(self, settings: Settings) -> Path:
        # An explicit archive keeps its log beside it, so tests and USB sticks are self-contained.
        if self.data_dir_option or settings.path and settings.path.parent == settings.data_dir:
            return settings.data_dir / "logs"
        return log_dir()

    @property
    def archive(self) -> "Archive":
        if self._archive is None:
            from workstation.archive import Archive, ArchiveError

            try:
                self._archive = Archive.open(self.settings, check=self.startup_check)
            except ArchiveError as exc:
                raise CommandError(str(exc)) from None
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None
