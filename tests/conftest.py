"""Suite-wide set-up: headless Qt, and no test touches the user's real archive or settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = Path(tempfile.mkdtemp(prefix="workstation-tests-home-"))
# platformdirs follows XDG on Linux: point every per-user folder into a throwaway home.
for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                 ("XDG_CACHE_HOME", "cache")):
    os.environ[var] = str(_HOME / sub)
os.environ.pop("WORKSTATION_DATA_DIR", None)

import pytest  # noqa: E402

from workstation.config import Settings  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a fresh archive in its own folder (loopback bind, as tests want)."""
    data = tmp_path / "archive"
    return Settings(data_dir=data, path=data / "settings.toml", bind="127.0.0.1")


@pytest.fixture
def archive(settings: Settings):
    from workstation.archive import Archive

    arc = Archive.open(settings)
    yield arc
    arc.close()
