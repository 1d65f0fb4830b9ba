"""What the bundle leaves out (shared by the spec and the bundle check)."""

# Python packages: GPL (pylibjpeg-libjpeg is GPLv3: its syntaxes are decoded by python-gdcm, BSD, in the bundle),
# and what pyqtgraph's and numpy's hooks would drag in although the app never imports it.
EXCLUDES = [
    "libjpeg",  # pylibjpeg-libjpeg, GPLv3
    # scipy: only ndimage is used (gantry-tilt resampling, the reslice fallback); the rest (73 MB with its BLAS)
    # comes in through pyqtgraph's optional imports.
    "scipy.linalg", "scipy.sparse", "scipy.optimize", "scipy.stats", "scipy.signal", "scipy.interpolate",
    "scipy.spatial", "scipy.integrate", "scipy.io", "scipy.fft", "scipy.fftpack", "scipy.cluster", "scipy.odr",
    "scipy.datasets", "scipy.differentiate", "scipy.misc",
    # pyjpegls (CharLS, 7 MB) comes with highdicom; python-gdcm decodes JPEG-LS here and we never encode it.
    "jpeg_ls", "_CharLS",
    "matplotlib", "tkinter", "IPython", "jupyter_client", "notebook", "pandas", "PIL.ImageQt", "pytest",
    # Pillow is here for highdicom (colour profiles, ImageColor): not its AVIF (libavif 4.9 MB), WebP, font
    # (FreeType + HarfBuzz) or Tk parts, which Pillow imports only when asked and guards when missing.
    "PIL._avif", "PIL.AvifImagePlugin", "PIL._webp", "PIL.WebPImagePlugin", "PIL._imagingft", "PIL._imagingtk",
    "PIL.ImageTk",
    "hypothesis", "sphinx", "docutils", "OpenGL", "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter",
    "PyQt5", "PyQt6", "PySide2", "cupy", "h5py", "numba", "setuptools", "pip",
    # PySide6.QtOpenGL and QtOpenGLWidgets stay: pyqtgraph imports them, and the viewer with it.
    "PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtDBus", "PySide6.QtConcurrent",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtPdf", "PySide6.QtXml",
]
# Qt shared libraries, plugins and translations the app never loads (matched as substrings of bundle paths).
QT_EXCLUDES = [
    "Qt6Quick", "Qt6Qml", "Qt6Pdf", "Qt6Designer", "Qt6Network", "Qt6Sql", "Qt6Test",
    "Qt6VirtualKeyboard", "Qt6Help", "Qt6ShaderTools", "Qt6Concurrent", "qtwebengine", "QtWebEngine",
    "plugins/qmltooling", "plugins/sqldrivers", "plugins/designer", "plugins/networkinformation", "plugins/tls",
    "plugins/virtualkeyboard", "Qt/qml", "libQt6Quick", "libQt6Qml",
    "libQt6Pdf", "libQt6Network", "libQt6VirtualKeyboard",
    # The GTK3 platform theme (native GTK dialogs) brings cairo, pango, gdk-pixbuf, atk... (~8 MB) of the build
    # machine, to be loaded beside the user's own GTK: Qt's own dialogs and style are used instead.
    "plugins/platformthemes/libqgtk3",
]
# Qt's own translations kept (standard dialogs and buttons): the languages the app is translated into.
QT_TRANSLATIONS_KEPT = ("_zh_CN", "_en")
# Forbidden in a bundle whatever the route by which it came in.
GPL_MARKERS = ["/libjpeg/", "pylibjpeg_libjpeg", "_libjpeg.cpython"]
# Issue 13 asks 250 MB for the unpacked bundle, without the volume stack (VTK, scipy), whose size the README states.
# 280 MB with highdicom (Pillow 19 MB, its tables of the standard 16 MB), Qt's OpenGL modules (pyqtgraph, hence the
# viewer, imports them) and Qt's ICU data (32 MB); 246 MB once the interpreter's own libraries are stripped (pyenv's
# libpython carries its debug information: 23 -> 6 MB; lib-dynload 12 -> 5 MB) and the GTK3 theme's libraries are out.
SIZE_LIMIT_MB = 250


def without_orphans(binaries):
    """The TOC without the bundle's top-level system libraries that no other kept binary needs any more (those
    brought in only by a binary excluded after the analysis, e.g. the GTK3 theme's cairo and pango)."""
    import os

    from PyInstaller.depend import bindepend

    def candidate(dest):
        return "/" not in dest and dest.startswith("lib") and ".so" in dest and not dest.startswith("libpython")

    kept = [b for b in binaries if not candidate(b[0])]
    libraries = {b[0]: b for b in binaries if candidate(b[0])}
    needed, todo = set(), [b[1] for b in kept]
    while todo:
        for name, _path in bindepend.get_imports(todo.pop()):
            name = os.path.basename(name)
            if name in libraries and name not in needed:
                needed.add(name)
                todo.append(libraries[name][1])
    return kept + [libraries[n] for n in sorted(needed)]


def interpreter_binary(src):
    """True for the Python interpreter's own libraries (libpython, lib-dynload): built here or by the OS, never
    patched by auditwheel, so safe to strip (pyenv's libpython keeps its debug information: 23 MB, 5 stripped)."""
    import sys
    from pathlib import Path

    base = Path(sys.base_prefix).resolve()
    path = Path(src).resolve()
    return base in path.parents and not {"site-packages", "dist-packages"} & set(path.parts)


def strip_copies(binaries, folder, prefixes, also=lambda src: False):
    """PyInstaller TOC entries whose destination starts with one of ``prefixes`` (or whose source ``also``
    accepts), replaced by stripped copies."""
    import shutil
    import subprocess
    from pathlib import Path

    strip = shutil.which("strip")
    if strip is None:
        return binaries
    out = []
    for dest, src, kind in binaries:
        shared = dest.endswith(".so") or ".so." in dest
        if shared and (dest.startswith(tuple(prefixes)) or also(src)):
            copy = Path(folder) / dest
            copy.parent.mkdir(parents=True, exist_ok=True)
            if not copy.exists() or copy.stat().st_mtime < Path(src).stat().st_mtime:
                shutil.copy2(src, copy)
                subprocess.run([strip, "--strip-unneeded", str(copy)], check=False, capture_output=True)
            src = str(copy)
        out.append((dest, src, kind))
    return out


def minified_json(datas, folder):
    """(source, destination folder) data pairs with every .json replaced by a minified copy."""
    import json
    from pathlib import Path

    out = []
    for src, dest in datas:
        if src.endswith(".json"):
            copy = Path(folder) / dest / Path(src).name
            copy.parent.mkdir(parents=True, exist_ok=True)
            with open(src, encoding="utf-8") as fh:
                copy.write_text(json.dumps(json.load(fh), separators=(",", ":")), encoding="utf-8")
            src = str(copy)
        out.append((src, dest))
    return out
