"""The main window against real peers: find/retrieve from Orthanc, cancel a retrieve, send to dcmtk storescp
(with retry of the failed part), echo from the nodes dialog."""

from __future__ import annotations

import time

import socket

import pytest
from PySide6 import QtCore

from tests.peers import free_port, make_ct_series, orthanc, run_storescp, storescp  # noqa: F401 - fixtures
from workstation.gui.qr_panel import COL_LOCAL, COL_NODE, COL_STATUS

pytestmark = pytest.mark.interop


def _seed(orthanc, tmp_path, studies=(("Doe^Jane", "P1", 3), ("Roe^Rick", "P2", 2)), rows=64):
    paths = []
    for i, (name, pid, n) in enumerate(studies):
        paths += make_ct_series(tmp_path / f"seed{i}", n, patient_name=name, patient_id=pid, accession=f"ACC{i}",
                                rows=rows, columns=rows)
    orthanc.upload(paths)
    return paths


def _use_node(win, peer, method):
    win.settings.nodes = [peer.node("pacs", method=method)]
    win.qr.reload_nodes("pacs")


def test_find_expand_and_retrieve_by_get(qtbot, main_window, orthanc, tmp_path):
    _seed(orthanc, tmp_path)
    win = main_window
    _use_node(win, orthanc, "move")
    qr = win.qr
    qr.method_combo.setCurrentIndex(qr.method_combo.findData("get"))  # switch from the node default
    with qtbot.waitSignal(qr.findDone, timeout=20000) as found:
        qr.find()
    assert found.args == [2]
    qr.name.setText("doe")  # becomes DOE* (case-insensitive on Orthanc)
    with qtbot.waitSignal(qr.findDone, timeout=20000) as found:
        qtbot.keyClick(qr.name, QtCore.Qt.Key_Return)
    assert found.args == [1]
    study = qr.tree.topLevelItem(0)
    assert study.text(0) == "Doe, Jane" and study.text(COL_LOCAL) == "" and study.text(COL_NODE) == "pacs"
    study.setExpanded(True)
    qtbot.waitUntil(lambda: study.childCount() == 1, timeout=20000)
    assert study.child(0).text(6) == "3"
    qr.tree.clearSelection()
    study.setSelected(True)
    with qtbot.waitSignal(qr.retrieved, timeout=60000) as done:
        jobs = qr.retrieve_selected()
    assert len(jobs) == 1
    job = done.args[0]
    assert job.state == "done", job.message
    assert study.text(COL_STATUS).startswith("✔")
    qtbot.waitUntil(lambda: study.text(COL_LOCAL).startswith("✔ 3"), timeout=5000)  # now marked local (worker)
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=5000)
    assert "C-GET" in job.title and win.activity.model.rowCount() >= 3  # find, find, series find, retrieve


def test_retrieve_failure_is_explained(qtbot, main_window, orthanc, tmp_path):
    """C-MOVE while nothing listens at our port: the failure is explained in words, not a status code."""
    _seed(orthanc, tmp_path, studies=(("Doe^Jane", "P1", 1),))
    win = main_window
    win.settings.port = orthanc.workstation_port  # Orthanc knows us there, but the listener is not running
    _use_node(win, orthanc, "move")
    with qtbot.waitSignal(win.qr.findDone, timeout=20000):
        win.qr.find()
    win.qr.tree.topLevelItem(0).setSelected(True)
    with qtbot.waitSignal(win.qr.retrieved, timeout=60000) as done:
        win.qr.retrieve_selected()
    job = done.args[0]
    assert job.state == "failed"
    assert len(job.message) > 40 and "0x" not in job.message.split(":")[0], job.message
    assert win.qr.status.text() == job.message


def test_cancel_running_retrieve(qtbot, main_window, orthanc, tmp_path, monkeypatch):
    from workstation.net.scu.ingest import ArchiveIngest

    _seed(orthanc, tmp_path, studies=(("Big^Study", "P9", 150),), rows=256)
    # 10 ms per received instance: the whole C-GET would otherwise end within one progress interval on a quiet
    # machine, before the Activity panel could cancel it.
    take = ArchiveIngest.__call__

    def slow_take(self, data):
        time.sleep(0.01)
        return take(self, data)

    monkeypatch.setattr(ArchiveIngest, "__call__", slow_take)
    win = main_window
    _use_node(win, orthanc, "get")
    with qtbot.waitSignal(win.qr.findDone, timeout=20000):
        win.qr.find()
    win.qr.tree.topLevelItem(0).setSelected(True)
    jobs = win.qr.retrieve_selected()
    job = jobs[0]
    qtbot.waitUntil(lambda: job.progress.done >= 5 or not job.is_active, timeout=30000)
    assert job.is_active, "the retrieve finished before it could be cancelled"
    win.activity.view.selectRow(0)
    assert win.activity.selected_job() is job
    assert win.activity.cancel_button.isEnabled()
    win.activity.cancel_button.click()
    qtbot.waitUntil(lambda: not job.is_active, timeout=30000)
    assert job.state == "cancelled", (job.state, job.message)
    local = win.archive.query("instance", {})
    assert len(local) < 150
    # Retry from the Activity panel finishes the job.
    win.activity.view.selectRow(0)
    assert win.activity.retry_button.isEnabled()
    win.activity.retry_button.click()
    retry = win.jobs.jobs[-1]
    assert retry.retry_of is job
    qtbot.waitUntil(lambda: not retry.is_active, timeout=60000)
    assert retry.state == "done", retry.message
    assert len(win.archive.query("instance", {})) == 150


def test_send_to_storescp_with_failure_and_retry(qtbot, main_window, tmp_path):
    win = main_window
    make_ct_series(tmp_path / "ct", 5)
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([str(tmp_path / "ct")], show_summary=False)
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=5000)
    port = free_port()
    from workstation.config import Node

    node = Node("scp", "STORESCP", "127.0.0.1", port)
    win.settings.nodes = [node]
    study = win.browser.model.row_at(0)
    # Nobody listens yet: the send fails; the report says it once for all five files (one cause), and offers a
    # retry of every file.
    with qtbot.waitSignal(win.sendFinished, timeout=30000) as sent:
        win.send_rows("study", [study], "scp")
    job = sent.args[0]
    assert job.state == "failed"
    report = win.dialogs[-1]
    assert report.objectName() == "send_report" and report.table.rowCount() == 1
    assert report.table.item(0, 0).text() == "all 5 files"
    assert "connect" in report.table.item(0, 1).text()
    with run_storescp(tmp_path / "peer", port=port) as peer:
        retry_button = [b for b in report.findChildren(type(win.activity.retry_button)) if "Retry" in b.text()][0]
        with qtbot.waitSignal(win.sendFinished, timeout=30000) as sent:
            retry_button.click()
        job = sent.args[0]
        assert job.state == "done", job.message
        assert job.progress.done == 5
        assert len(peer.files()) == 5


def test_echo_from_nodes_dialog(qtbot, main_window, storescp):
    dlg = main_window.nodes_dialog()
    dlg.name.setText("scp")
    dlg.ae.setText(storescp.ae_title)
    dlg.host.setText(storescp.host)
    dlg.port.setValue(storescp.port)
    dlg.add_button.click()
    assert dlg.list.count() == 1
    with qtbot.waitSignal(dlg.echoFinished, timeout=20000) as echoed:
        dlg.echo_button.click()
    ok, text = echoed.args
    assert ok and "ms" in text, text
    assert "Echo OK" in dlg.echo_result.text()
    # A dead port (bound, not listening: connection refused at once): a failure in words.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    try:
        dlg.port.setValue(dead.getsockname()[1])
        with qtbot.waitSignal(dlg.echoFinished, timeout=30000) as echoed:
            dlg.echo_button.click()
    finally:
        dead.close()
    assert echoed.args[0] is False and "failed" in echoed.args[1]
    dlg.port.setValue(storescp.port)
    dlg.update_button.click()
    dlg.save()
    assert [n.name for n in main_window.settings.nodes] == ["scp"]
    assert main_window.qr.node_combo.count() == 1
    assert (main_window.settings.data_dir / "settings.toml").exists()


def test_nodes_list_shows_the_whole_address(qtbot, main_window):
    from workstation.config import Node

    main_window.settings.nodes = [Node("orthanc", "ORTHANC", "127.0.0.1", 46359)]
    dlg = main_window.nodes_dialog()
    qtbot.waitExposed(dlg)
    item = dlg.list.item(0)
    assert dlg.list.fontMetrics().horizontalAdvance(item.text()) < dlg.list.viewport().width()
    assert item.toolTip() == "orthanc: ORTHANC@127.0.0.1:46359"


def test_nodes_dialog_marks_a_node_for_priors(qtbot, main_window):
    from workstation.config import Node, load_settings

    main_window.settings.nodes = [Node("pacs", "PACS", "127.0.0.1", 104), Node("mod", "CT1", "127.0.0.1", 105)]
    dlg = main_window.nodes_dialog()
    qtbot.waitExposed(dlg)
    dlg.list.setCurrentRow(0)
    assert not dlg.search_priors.isChecked() and not dlg.fetch_priors.isChecked()
    dlg.fetch_priors.setChecked(True)  # fetching implies searching
    assert dlg.search_priors.isChecked()
    dlg.update_node()
    dlg.list.setCurrentRow(1)
    assert not dlg.search_priors.isChecked()
    dlg.save()
    saved = {n.name: n for n in load_settings(str(main_window.settings.data_dir)).nodes}
    assert (saved["pacs"].search_priors, saved["pacs"].fetch_priors) == (True, True)
    assert (saved["mod"].search_priors, saved["mod"].fetch_priors) == (False, False)


def test_the_app_sets_the_network_polls_to_pynetdicoms_default(monkeypatch):
    """The CLI's bulk associations poll pynetdicom's DUL every 50 us; in the app that starved the GUI thread of the
    GIL (130-200 ms stalls during a C-GET). Both the SCU's and the SCP's polls must be found and lengthened."""
    from workstation.gui.common import GUI_DUL_POLL, tame_network_polling
    from workstation.net import guard
    from workstation.net.scp.query import _sub_association_open
    from workstation.net.scu import tuning

    # As the command line has them (a main window made by an earlier test has tamed them for good).
    monkeypatch.setattr(tuning, "FAST_POLL", 0.00005)
    monkeypatch.setattr(guard, "FAST_POLL", 0.00005)
    tame_network_polling()
    assert tuning.FAST_POLL == GUI_DUL_POLL and guard.FAST_POLL == GUI_DUL_POLL
    # The app's C-MOVE sub-associations take the guard's poll as it is when they open (an imported copy kept the
    # value it had at import: the CLI's 50 us).
    from types import SimpleNamespace

    for value in (0.0123, GUI_DUL_POLL):
        monkeypatch.setattr(guard, "FAST_POLL", value)
        dul = SimpleNamespace(socket=None, _run_loop_delay=None)
        _sub_association_open(SimpleNamespace(assoc=SimpleNamespace(dul=dul)))
        assert dul._run_loop_delay == value
