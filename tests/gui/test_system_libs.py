"""A machine without Qt's X11 libraries gets one line naming the packages, not Qt's abort."""

from __future__ import annotations

import ctypes

import pytest

from workstation.cli import main
from workstation.gui import system_libs


@pytest.mark.parametrize("library,package", [
    ("libxcb-cursor.so.0", "libxcb-cursor0"), ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxkbcommon.so.0", "libxkbcommon0"), ("libEGL.so.1", "libegl1"), ("libGL.so.1", "libgl1"),
    ("libX11-xcb.so.1", "libx11-xcb1"), ("libxcb.so.1", "libxcb1"), ("libglib-2.0.so.0", "libglib2.0-0"),
])
def test_the_package_of_a_missing_library(library, package):
    assert system_libs.package_for(library) == package
    line = system_libs.explain(f"{library}: cannot open shared object file: No such file or directory")
    assert f"sudo apt-get install {package}" in line and library in line and "\n" not in line


def test_the_real_plugin_loads_here(monkeypatch):
    """make installs Qt's system packages: the X11 plugin loads, so nothing is reported."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert system_libs.xcb_plugin() is not None
    assert system_libs.check_x11() is None


def test_gui_command_says_what_to_install_instead_of_aborting(monkeypatch, capsys, tmp_path):
    def missing(path, *a, **k):
        raise OSError("libxcb-cursor.so.0: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    code = main(["--data-dir", str(tmp_path / "a")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "libxcb-cursor0" in err and "install-system-deps.sh gui" in err
    log = (tmp_path / "a" / "logs" / "workstation.log").read_text()
    assert "libxcb-cursor0" in log


def test_offscreen_and_wayland_are_not_checked(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: (_ for _ in ()).throw(OSError("x.so: cannot open shared "
                                                                                      "object file")))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert system_libs.check_x11() is None
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert system_libs.check_x11() is None
    monkeypatch.setenv("DISPLAY", ":0")
    assert "x.so" in system_libs.check_x11()


def test_a_path_without_a_command_opens_the_viewer(monkeypatch, tmp_path):
    """The desktop file's `workstation %F`: a file manager passes files without a command."""
    f = tmp_path / "image.dcm"
    f.write_bytes(b"x")
    from workstation.cli import build_parser, _files_mean_view

    assert _files_mean_view(build_parser(), [str(f)]) == ["view", str(f)]
    assert _files_mean_view(build_parser(), ["ls", "--json"]) == ["ls", "--json"]
    assert _files_mean_view(build_parser(), ["no-such-thing"]) == ["no-such-thing"]
    assert _files_mean_view(build_parser(), []) == []
