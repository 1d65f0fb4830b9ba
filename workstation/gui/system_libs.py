"""Before Qt opens a window: are the system libraries its X11 platform plugin needs installed?

Installed with pip on a bare machine, Qt aborts the process ("could not load the Qt platform plugin xcb", then a list
of plugins) - no exception Python could catch. So the plugin is loaded once with ctypes first: the loader names the
first missing library, and we name the Debian/Ubuntu packages to install. No Qt is imported here.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path

# Library (soname prefix) -> Debian/Ubuntu package; the same list packaging/install-system-deps.sh installs.
PACKAGES = {
    "libxcb-cursor": "libxcb-cursor0",
    "libxcb-icccm": "libxcb-icccm4",
    "libxcb-image": "libxcb-image0",
    "libxcb-keysyms": "libxcb-keysyms1",
    "libxcb-render-util": "libxcb-render-util0",
    "libxcb-shape": "libxcb-shape0",
    "libxcb-xkb": "libxcb-xkb1",
    "libxkbcommon-x11": "libxkbcommon-x11-0",
    "libxkbcommon": "libxkbcommon0",
    "libEGL": "libegl1",
    "libGL": "libgl1",
    "libOpenGL": "libopengl0",
    "libglib-2.0": "libglib2.0-0",
    "libgthread-2.0": "libglib2.0-0",
    "libfontconfig": "libfontconfig1",
    "libfreetype": "libfreetype6",
    "libdbus-1": "libdbus-1-3",
    "libX11-xcb": "libx11-xcb1",
    "libX11": "libx11-6",
    "libxcb": "libxcb1",
}
ALL_GUI_PACKAGES = ("libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 "
                    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 "
                    "libxcb-xkb1")
_MISSING = re.compile(r"([\w.+-]+\.so[\w.]*): cannot open shared object file")


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin (found without importing Qt), or None where there is none."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        for candidate in (Path(base) / "Qt" / "plugins" / "platforms" / "libqxcb.so",
                          Path(base) / "plugins" / "platforms" / "libqxcb.so"):
            if candidate.exists():
                return candidate
    return None


def package_for(library: str) -> str | None:
    for prefix, package in PACKAGES.items():
        if library.startswith(prefix + ".so"):
            return package
    return None


def explain(error: str) -> str:
    """One line for the loader's message about the plugin."""
    match = _MISSING.search(error)
    if match:
        library = match.group(1)
        package = package_for(library)
        install = f"sudo apt-get install {package}" if package else f"sudo apt-get install {ALL_GUI_PACKAGES}"
        return (f"Qt cannot open a window: the system library {library} is missing; install it ({install}) "
                f"or all of Qt's system packages with `sh packaging/install-system-deps.sh gui`")
    return (f"Qt cannot open a window: its X11 plugin does not load ({error.strip()}); install Qt's system "
            f"packages: sudo apt-get install {ALL_GUI_PACKAGES}")


def check_x11() -> str | None:
    """None when Qt's X11 plugin can load (or is not the one Qt will use), else a one-line explanation."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None
    if not platform and os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return explain(str(exc))
    return None
