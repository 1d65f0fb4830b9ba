"""Query/Retrieve across several nodes at once (offline: the network calls are replaced by fakes that behave like
the client's): parallel finds, merged results with a Node column, one node's failure shown next to the others'
results, retrieve and series find going to the node a row came from."""

from __future__ import annotations

import threading

import pytest
from PySide6 import QtCore, QtWidgets

from workstation.config import Node
from workstation.gui import qr_panel
from workstation.gui.qr_panel import COL_NODE, COL_STATUS, LEVEL_ROLE


class FakeResult:
    cancelled = False
    ok = True
    completed = 1
    received = 1

    def summary(self) -> str:
        return "1 completed"


def _study(uid: str, name: str, date: str = "20240101") -> dict:
    return {"StudyInstanceUID": uid, "PatientName": name, "PatientID": name[:3], "StudyDate": date,
            "ModalitiesInStudy": ["CT"], "StudyDescription": "Chest", "AccessionNumber": "A",
            "NumberOfStudyRelatedInstances": 3}


@pytest.fixture
def fake_network(monkeypatch):
    """Nodes a and b answer only once both searches are running (a barrier: sequential finds would time out);
    node c refuses the connection."""
    barrier = threading.Barrier(2, timeout=5)
    calls: dict[str, list] = {"find": [], "series": [], "retrieve": []}

    def find_studies(settings, node, filters, *, progress=None, cancel=None):
        calls["find"].append(node.name)
        if node.name == "c":
            raise ConnectionError("cannot connect to c: connection refused")
        barrier.wait()
        if node.name == "a":
            return [_study("1.1", "Doe^Jane"), _study("1.2", "Roe^Rick")]
        return [_study("1.2", "Roe^Rick"), _study("1.3", "Poe^Edgar")]

    def find_series(settings, node, study_uid, *, progress=None, cancel=None):
        calls["series"].append((node.name, study_uid))
        return [{"SeriesInstanceUID": study_uid + ".9", "SeriesNumber": 1, "Modality": "CT",
                 "SeriesDescription": "Axial", "NumberOfSeriesRelatedInstances": 3}]

    def retrieve_one(settings, node, archive, study_uid, series_uid, method, *, progress=None, cancel=None):
        calls["retrieve"].append((node.name, study_uid, series_uid, method))
        return FakeResult()

    monkeypatch.setattr(qr_panel, "find_studies", find_studies)
    monkeypatch.setattr(qr_panel, "find_series", find_series)
    monkeypatch.setattr(qr_panel, "retrieve_one", retrieve_one)
    return calls


def _nodes(win):
    win.settings.nodes = [Node("a", "A", "127.0.0.1", 104, method="move"),
                          Node("b", "B", "127.0.0.1", 105, method="get"),
                          Node("c", "C", "127.0.0.1", 106)]
    win.qr.reload_nodes(["a", "b", "c"])


def _rows(tree):
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def test_find_on_several_nodes_merges_with_node_column(qtbot, main_window, fake_network):
    win = main_window
    _nodes(win)
    qr = win.qr
    errors = []
    qr.errorRaised.connect(lambda *a: errors.append(a))
    assert qr.node_combo.checked_names() == ["a", "b", "c"]
    with qtbot.waitSignal(qr.findDone, timeout=10000) as found:
        jobs = qr.find()
    assert len(jobs) == 3
    assert sorted(fake_network["find"]) == ["a", "b", "c"]
    assert found.args == [4]  # a's 2 + b's 2; both answered, so they ran at the same time
    studies = [it for it in _rows(qr.tree) if it.data(0, LEVEL_ROLE) == "study"]
    assert sorted((it.text(0), it.text(COL_NODE)) for it in studies) == [
        ("Doe, Jane", "a"), ("Poe, Edgar", "b"), ("Roe, Rick", "a"), ("Roe, Rick", "b")]
    # c's failure is a row of its own, red, not selectable; the others' results stay; no modal error.
    failed = [it for it in _rows(qr.tree) if it.data(0, LEVEL_ROLE) == "error"]
    assert len(failed) == 1 and failed[0].text(COL_NODE) == "c"
    assert "connection refused" in failed[0].text(0)
    assert not failed[0].flags() & QtCore.Qt.ItemIsSelectable
    assert errors == []
    assert "c: failed" in qr.status.text() and "a: 2 found" in qr.status.text()
    assert {j.state for j in jobs} == {"done", "failed"}

    # Retrieve goes to the node each row came from, with that node's default method.
    qr.tree.clearSelection()
    for it in studies:
        if (it.text(0), it.text(COL_NODE)) in (("Doe, Jane", "a"), ("Roe, Rick", "b")):
            it.setSelected(True)
    failed[0].setSelected(True)  # ignored
    retrieved = []
    qr.retrieved.connect(retrieved.append)
    jobs = qr.retrieve_selected()
    assert len(jobs) == 2
    qtbot.waitUntil(lambda: len(retrieved) == 2, timeout=10000)
    assert sorted(fake_network["retrieve"]) == [("a", "1.1", None, "move"), ("b", "1.2", None, "get")]
    assert all(it.text(COL_STATUS).startswith("✔") for it in studies if it.isSelected())

    # Expanding a study asks the node it came from for its series; a series retrieve goes there too.
    roe_b = next(it for it in studies if (it.text(0), it.text(COL_NODE)) == ("Roe, Rick", "b"))
    roe_b.setExpanded(True)
    qtbot.waitUntil(lambda: roe_b.childCount() == 1, timeout=10000)
    assert fake_network["series"] == [("b", "1.2")]
    assert roe_b.child(0).text(COL_NODE) == "b"
    model = win.activity.model
    series_job = next(j for j in (model.job_at(r) for r in range(model.rowCount()))
                      if j.title.startswith("Find series"))
    qtbot.waitUntil(lambda: series_job.message == "1 series found", timeout=5000)  # not the client's "1 matches"
    qr.tree.clearSelection()
    roe_b.child(0).setSelected(True)
    qr.retrieve_selected()
    qtbot.waitUntil(lambda: len(retrieved) == 3, timeout=10000)
    assert fake_network["retrieve"][-1] == ("b", "1.2", "1.2.9", "get")


def test_only_failures_raise_the_error(qtbot, main_window, fake_network):
    win = main_window
    _nodes(win)
    win.qr.set_nodes(["c"])
    errors = []
    win.qr.errorRaised.connect(lambda *a: errors.append(a))
    with qtbot.waitSignal(win.qr.findDone, timeout=10000) as found:
        win.qr.find()
    assert found.args == [-1]
    assert len(errors) == 1 and "connection refused" in errors[0][1]
    assert win.qr.status.text().startswith("Search failed")
    boxes = [w for w in QtWidgets.QApplication.topLevelWidgets()
             if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()]
    assert boxes and boxes[-1].windowTitle() == "Query failed"
    for b in boxes:
        b.close()


def test_node_chooser_ticks_several_and_stays_open(qtbot, main_window):
    win = main_window
    _nodes(win)
    combo = win.qr.node_combo
    combo.set_checked(["a"])
    assert combo.summary().startswith("a (A@")
    win.tabs.setCurrentWidget(win.qr)
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=3000)
    rect = view.visualRect(combo.model().index(1, 0))
    # The release of the click that opened the list lands on it: it must not toggle the entry under the pointer.
    qtbot.mouseRelease(view.viewport(), QtCore.Qt.LeftButton, pos=view.visualRect(combo.model().index(0, 0)).center())
    assert combo.checked_names() == ["a"]
    qtbot.mouseClick(view.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    assert combo.checked_names() == ["a", "b"]
    assert view.isVisible()  # still open for the next tick
    qtbot.mouseClick(view.viewport(), QtCore.Qt.LeftButton, pos=rect.center())
    assert combo.checked_names() == ["a"]
    combo.hidePopup()
    combo.set_checked(["a", "c"])
    assert combo.summary() == "a, c"
    assert [n.name for n in win.qr.nodes()] == ["a", "c"]
    # Settings changed (a node removed): the ticks that still exist stay.
    win.settings.nodes = win.settings.nodes[1:]
    win.qr.reload_nodes()
    assert combo.checked_names() == ["c"]


def test_local_marks_are_looked_up_off_the_gui_thread(qtbot, main_window, gui_archive, monkeypatch):
    """Which studies found are already local is asked of the archive in workers (find and after a retrieve),
    never on the GUI thread while the archive may be receiving."""
    from tests.gui.helpers import index_study
    from workstation.gui.qr_panel import COL_LOCAL

    local_uid = index_study(gui_archive, name="Doe^Jane", instances=4)
    monkeypatch.setattr(qr_panel, "find_studies", lambda settings, node, filters, **kw: [
        _study(local_uid, "Doe^Jane"), _study("1.9", "Roe^Rick")])
    monkeypatch.setattr(qr_panel, "retrieve_one", lambda *a, **kw: FakeResult())
    gui_thread = threading.get_ident()
    on_gui = []
    original = gui_archive.query

    def query(level, filters=None, **kw):
        if threading.get_ident() == gui_thread:
            on_gui.append((level, filters))
        return original(level, filters, **kw)

    monkeypatch.setattr(gui_archive, "query", query)
    win = main_window
    win.settings.nodes = [Node("a", "A", "127.0.0.1", 104, method="move")]
    win.qr.reload_nodes(["a"])
    with qtbot.waitSignal(win.qr.findDone, timeout=10000):
        win.qr.find()
    marks = {it.data(0, qr_panel.UID_ROLE): it.text(COL_LOCAL) for it in _rows(win.qr.tree)}
    assert marks == {local_uid: "✔ 4", "1.9": ""}
    with qtbot.waitSignal(win.qr.localMarked, timeout=10000):
        win.qr.refresh_local_marks()
    assert {it.data(0, qr_panel.UID_ROLE): it.text(COL_LOCAL) for it in _rows(win.qr.tree)} == marks
    assert on_gui == []


def test_the_same_study_on_two_nodes_is_retrieved_once(qtbot, main_window, fake_network):
    win = main_window
    _nodes(win)
    qr = win.qr
    qr.set_nodes(["a", "b"])
    with qtbot.waitSignal(qr.findDone, timeout=10000):
        qr.find()
    studies = [it for it in _rows(qr.tree) if it.data(0, LEVEL_ROLE) == "study"]
    roe = [it for it in studies if it.text(0) == "Roe, Rick"]
    assert sorted(it.text(COL_NODE) for it in roe) == ["a", "b"]
    qr.tree.clearSelection()
    for it in studies:
        it.setSelected(True)  # Doe (a), Roe (a), Roe (b), Poe (b)
    retrieved = []
    qr.retrieved.connect(retrieved.append)
    jobs = qr.retrieve_selected()
    assert len(jobs) == 3
    qtbot.waitUntil(lambda: len(retrieved) == 3, timeout=10000)
    assert sorted(uid for _n, uid, _s, _m in fake_network["retrieve"]) == ["1.1", "1.2", "1.3"]
    skipped = [it for it in roe if not it.text(COL_STATUS).startswith("✔")]
    assert len(skipped) == 1 and skipped[0].text(COL_STATUS).startswith("from ")


def test_the_no_node_hint_goes_once_a_node_is_added(qtbot, main_window):
    win = main_window
    assert not win.settings.nodes
    assert "No remote node yet" in win.qr.status.text()
    dlg = win.nodes_dialog()
    dlg.name.setText("pacs")
    dlg.ae.setText("PACS")
    dlg.host.setText("127.0.0.1")
    dlg.port.setValue(104)
    dlg.add_button.click()
    dlg.save()
    assert win.qr.find_button.isEnabled()
    assert "No remote node" not in win.qr.status.text()
    assert "Find" in win.qr.status.text()


def test_a_partly_local_study_is_not_marked_like_a_complete_one(qtbot, main_window, gui_archive, monkeypatch):
    """The node has 3 images of each study: one study is all here (tick, greyed), one only 2 of 3 (says so,
    not greyed), and one the node gives no count for (no claim that it is complete)."""
    from tests.gui.helpers import index_study
    from workstation.gui.qr_panel import COL_LOCAL

    complete = index_study(gui_archive, name="Doe^Jane", instances=3)
    partial = index_study(gui_archive, name="Roe^Rick", instances=2)
    unknown = index_study(gui_archive, name="Poe^Edgar", instances=2)
    no_count = {**_study(unknown, "Poe^Edgar"), "NumberOfStudyRelatedInstances": None}
    monkeypatch.setattr(qr_panel, "find_studies", lambda settings, node, filters, **kw: [
        _study(complete, "Doe^Jane"), _study(partial, "Roe^Rick"), no_count])
    win = main_window
    win.settings.nodes = [Node("a", "A", "127.0.0.1", 104, method="move")]
    win.qr.reload_nodes(["a"])
    with qtbot.waitSignal(win.qr.findDone, timeout=10000):
        win.qr.find()
    items = {it.data(0, qr_panel.UID_ROLE): it for it in _rows(win.qr.tree)}
    assert items[complete].text(COL_LOCAL) == "✔ 3"
    assert items[partial].text(COL_LOCAL) == "◐ 2/3"
    assert items[unknown].text(COL_LOCAL) == "local 2"
    assert "Only 2 of the 3 images" in items[partial].toolTip(COL_LOCAL)
    grey = items[complete].foreground(0).color()
    assert grey.getRgb()[:3] == (120, 120, 120)
    assert items[partial].foreground(0).color() != grey and items[unknown].foreground(0).color() != grey
