"""The Store SCP inside the app: receiving from dcmtk storescu, C-MOVE retrieve, port in use, settings applied
without restart, incoming associations in the Activity panel."""

from __future__ import annotations

import socket

import pytest

from tests.peers import LOCAL_AE, free_port, make_ct_series, orthanc, run_tool  # noqa: F401 - fixture

pytestmark = pytest.mark.interop


@pytest.fixture
def listening_window(qtbot, gui_settings, gui_archive):
    from workstation.gui.main_window import MainWindow

    gui_settings.port = free_port()
    win = MainWindow(gui_settings, gui_archive, start_listener=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.listener.state in ("listening", "error"), timeout=10000)
    yield win
    win.close()


def test_receive_from_storescu(qtbot, listening_window, tmp_path):
    win = listening_window
    assert win.listener.state == "listening", win.listener.text
    assert "listening" in win.listener_label.text() and str(win.settings.port) in win.listener_label.text()
    paths = make_ct_series(tmp_path / "ct", 5)
    run_tool("storescu", ["-aet", "MODALITY", "-aec", win.settings.ae_title, "127.0.0.1", str(win.settings.port),
                          *map(str, paths)])
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=10000)
    qtbot.waitUntil(lambda: win.received_today == 5, timeout=5000)
    assert "5 received today" in win.received_label.text()
    incoming = [j for j in win.jobs.jobs if j.kind == "incoming"]
    qtbot.waitUntil(lambda: incoming and incoming[0].state == "done" or
                    bool([j for j in win.jobs.jobs if j.kind == "incoming" and j.state == "done"]), timeout=10000)
    job = [j for j in win.jobs.jobs if j.kind == "incoming"][0]
    assert job.progress.done == 5 and "MODALITY" in job.title


def test_port_in_use_still_opens(qtbot, gui_settings, gui_archive):
    from workstation.gui.main_window import MainWindow

    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    gui_settings.port = blocker.getsockname()[1]
    try:
        win = MainWindow(gui_settings, gui_archive, start_listener=True)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: win.listener.state in ("listening", "error"), timeout=10000)
        assert win.listener.state == "error"
        message = win.statusBar().currentMessage()
        assert "in use" in message and "Settings" in message, message
        assert win.isVisible()
        # Fix it in the Settings dialog: the listener restarts without restarting the app.
        dlg = win.settings_dialog()
        dlg.port.setValue(free_port())
        dlg.save()
        qtbot.waitUntil(lambda: win.listener.state == "listening", timeout=10000)
        assert (gui_settings.data_dir / "settings.toml").exists()
        win.close()
    finally:
        blocker.close()


def test_retrieve_by_move_with_listener(qtbot, gui_settings, gui_archive, orthanc, tmp_path):
    from workstation.gui.main_window import MainWindow

    orthanc.upload(make_ct_series(tmp_path / "seed", 4, patient_name="Move^Me"))
    gui_settings.ae_title = LOCAL_AE
    gui_settings.port = orthanc.workstation_port
    gui_settings.nodes = [orthanc.node("pacs", method="move")]
    win = MainWindow(gui_settings, gui_archive, start_listener=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.listener.state == "listening", timeout=10000)
    with qtbot.waitSignal(win.qr.findDone, timeout=20000):
        win.qr.find()
    win.qr.tree.topLevelItem(0).setSelected(True)
    with qtbot.waitSignal(win.qr.retrieved, timeout=60000) as done:
        win.qr.retrieve_selected()
    job = done.args[0]
    assert job.state == "done", job.message
    assert "C-MOVE" in job.title
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=10000)
    assert len(gui_archive.query("instance", {})) == 4
    win.close()
