"""The image viewer (Qt). Headless parts: :mod:`.state`, :mod:`.orientation`, :mod:`.measure`, :mod:`.series`.

Entry points::

    from workstation.gui.viewer.launch import run_viewer, open_viewer
    run_viewer(paths_or_series, settings) -> int     # creates the QApplication if needed, shows, execs
    open_viewer(paths_or_series, settings, parent=None) -> ViewerWindow   # inside a running app
    ViewerWindow(items, settings=None, parent=None, executor=None, layout="1x1")
"""
