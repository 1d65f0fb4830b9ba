"""Fixtures for the viewer tests: offscreen Qt, generated series, bundled pydicom files."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from viewer_data import write_ct_series  # noqa: E402,F401


@pytest.fixture
def ct_series(tmp_path):
    return write_ct_series(tmp_path / "ct", 12)


@pytest.fixture
def testdata():
    from pydicom.data import get_testdata_file

    return get_testdata_file


@pytest.fixture
def open_viewer(qtbot):
    """Open a ViewerWindow on items and wait until the active viewport shows a decoded frame."""
    from workstation.gui.viewer.window import ViewerWindow

    windows = []

    def _open(items, layout="1x1", wait_image=True):
        win = ViewerWindow(items, layout=layout)  # closed below (qtbot would close a window deleted on close)
        win.resize(900, 700)
        win.show()
        windows.append(win)
        qtbot.waitUntil(lambda: win.is_loaded, timeout=15000)
        if wait_image:
            qtbot.waitUntil(lambda: win.active.current_array() is not None, timeout=15000)
        return win

    yield _open
    for w in windows:
        try:
            w.close()
        except RuntimeError:  # closed by the test: deleted on close
            pass
