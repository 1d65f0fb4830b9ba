"""What the bundle leaves out (shared by the spec and the bundle check)."""

# Python packages: GPL (pylibjpeg-libjpeg is GPLv3: its syntaxes are decoded by python-gdcm, BSD, in the bundle),
# and what pyqtgraph's and numpy's hooks would drag in although the app never imports it.
EXCLUDES = [
    "libjpeg",  # pylibjpeg-libjpeg, GPLv3
    # scipy comes in through pyqtgraph's optional imports (73 MB); volume reslicing uses VTK in the bundle.
    "scipy",
    # Pillow: an optional pydicom decoder; python-gdcm and pylibjpeg-openjpeg decode those syntaxes here.
    "PIL",
    "matplotlib", "tkinter", "IPython", "jupyter_client", "notebook", "pandas", "PIL.ImageQt", "pytest",
    "hypothesis", "sphinx", "docutils", "OpenGL", "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter",
    "PyQt5", "PyQt6", "PySide2", "cupy", "h5py", "numba", "setuptools", "pip",
    "PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtSql", "PySide6.QtTest",
    "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtDBus", "PySide6.QtConcurrent",
    "PySide6.QtDesigner", "PySide6.QtHelp", "PySide6.QtPdf", "PySide6.QtXml",
]
# Qt shared libraries, plugins and translations the app never loads (matched as substrings of bundle paths).
QT_EXCLUDES = [
    "Qt6Quick", "Qt6Qml", "Qt6Pdf", "Qt6Designer", "Qt6Network", "Qt6Sql", "Qt6Test", "Qt6OpenGLWidgets",
    "Qt6VirtualKeyboard", "Qt6Help", "Qt6ShaderTools", "Qt6Concurrent", "qtwebengine", "QtWebEngine",
    "plugins/qmltooling", "plugins/sqldrivers", "plugins/designer", "plugins/networkinformation", "plugins/tls",
    "plugins/virtualkeyboard", "Qt/qml", "libQt6Quick", "libQt6Qml",
    "libQt6Pdf", "libQt6Network", "libQt6VirtualKeyboard",
]
# Qt's own translations kept (standard dialogs and buttons): the languages the app is translated into.
QT_TRANSLATIONS_KEPT = ("_zh_CN", "_en")
# Forbidden in a bundle whatever the route by which it came in.
GPL_MARKERS = ["/libjpeg/", "pylibjpeg_libjpeg", "_libjpeg.cpython"]
SIZE_LIMIT_MB = 250  # issue 13: the unpacked one-folder bundle
