"""Desktop integration files: valid for the freedesktop validators, and installed for a user by the script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

LINUX = Path(__file__).resolve().parents[2] / "packaging" / "linux"
ID = "io.github.workstation.Workstation"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing (packaging/install-system-deps.sh test installs it)")
        pytest.skip(f"{name} not installed")
    return found


def test_desktop_file_validates():
    out = subprocess.run([tool("desktop-file-validate"), str(LINUX / f"{ID}.desktop")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "error" not in out.stdout, out.stdout + out.stderr
    text = (LINUX / f"{ID}.desktop").read_text()
    assert "MimeType=application/dicom;" in text and "Exec=workstation %F" in text


def test_appstream_metainfo_validates():
    out = subprocess.run([tool("appstreamcli"), "validate", "--no-net", str(LINUX / f"{ID}.metainfo.xml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "<screenshot" in (LINUX / f"{ID}.metainfo.xml").read_text()


def test_user_install(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "share"), HOME=str(tmp_path))
    out = subprocess.run(["sh", str(LINUX / "install-desktop.sh"), "/opt/ws/workstation"], capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    share = tmp_path / "share"
    desktop = (share / "applications" / f"{ID}.desktop").read_text()
    assert "Exec=/opt/ws/workstation %F" in desktop
    for size in (16, 32, 48, 64, 128, 256):
        png = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ID}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png.read_bytes()[16:20], "big") == size  # IHDR width
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{ID}.svg").exists()
    assert (share / "mime" / "packages" / "workstation-dicom.xml").exists()
    if shutil.which("update-mime-database"):
        globs = (share / "mime" / "globs2").read_text()
        assert "application/dicom:*.dcm" in globs
        magic = (share / "mime" / "magic").read_bytes()
        assert b"application/dicom" in magic and b"DICM" in magic


def test_opening_a_dicomdir_views_its_medium(tmp_path):
    """A file manager opens DICOMDIR with the workstation: the viewer gets the medium's files, not the index file."""
    from workstation.cli.context import Context
    from workstation.cli.gui_cmds import resolve_targets

    (tmp_path / "IMAGES").mkdir()
    (tmp_path / "IMAGES" / "IM1").write_bytes(b"x")
    (tmp_path / "DICOMDIR").write_bytes(b"y")
    items = resolve_targets([str(tmp_path / "DICOMDIR")], Context(str(tmp_path / "archive")))
    assert items == [str(tmp_path / "IMAGES" / "IM1")]
