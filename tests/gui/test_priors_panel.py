"""The Priors dock: the selected study's patient's other studies, local at once, a down node named; opening
current and prior in one viewer; a remote prior retrieved (a real Orthanc) and then opened."""

from __future__ import annotations

import pytest

from tests.peers import LOCAL_AE, free_port, orthanc  # noqa: F401 - fixture
from tests.reading.test_priors import write_study
from workstation.config import Node


@pytest.fixture
def patient(tmp_path, main_window):
    """P7: a current CT chest and a local prior; another patient's study that must never appear."""
    cur, cur_paths = write_study(tmp_path / "cur", "P7", "Doe^Jane", "20240515", 0)
    old, old_paths = write_study(tmp_path / "old", "P7", "Doe^Jane", "20220310", 0)
    _o, other = write_study(tmp_path / "other", "P70", "Roe^Rick", "20230101", 0)
    report = main_window.archive.import_paths(cur_paths + old_paths + other)
    assert not report.rejected
    main_window.browser.apply_filter()
    return {"current": cur, "old": old}


def select(qtbot, win, uid):
    qtbot.waitUntil(lambda: win.browser.select_study(uid), timeout=5000)


def listed(panel):
    return [panel.table.topLevelItem(i).text(4) + " " + panel.table.topLevelItem(i).text(0)
            for i in range(panel.table.topLevelItemCount())]


def test_priors_follow_the_selection_and_name_a_down_node(qtbot, main_window, patient):
    main_window.settings.nodes = [Node("down", "NOBODY", "127.0.0.1", free_port(), search_priors=True)]
    main_window.settings.acse_timeout = main_window.settings.network_timeout = 2
    panel = main_window.priors
    select(qtbot, main_window, patient["current"])
    panel.set_study(patient["current"], force=True)
    qtbot.waitUntil(lambda: "down could not be asked" in panel.failures.text(), timeout=15000)
    assert panel.failures.isVisible()
    assert listed(panel) == ["local 2022-03-10"]  # never P70's study
    assert "1 other study of Doe Jane (P7)" == panel.title.text()
    select(qtbot, main_window, patient["old"])
    qtbot.waitUntil(lambda: listed(panel) and listed(panel)[0] == "local 2024-05-15", timeout=15000)
    qtbot.waitUntil(lambda: "down could not be asked" in panel.failures.text(), timeout=15000)


def test_open_with_current_opens_both_studies_in_one_viewer(qtbot, main_window, patient):
    panel = main_window.priors
    select(qtbot, main_window, patient["current"])
    qtbot.waitUntil(lambda: panel.table.topLevelItemCount() == 1, timeout=10000)
    with qtbot.waitSignal(panel.openRequested, timeout=5000) as sig:
        panel.open_button.click()
    assert sig.args[0] == [patient["current"], patient["old"]]
    qtbot.waitUntil(lambda: bool(main_window.viewers), timeout=10000)
    win = main_window.viewers[-1]
    qtbot.waitUntil(lambda: len(getattr(win, "entries", [])) == 2, timeout=20000)
    assert [str(e.header.get("StudyDate")) for e in win.entries] == ["20240515", "20220310"]  # current first
    win.close()


@pytest.mark.interop
def test_a_remote_prior_is_retrieved_then_opened(qtbot, main_window, patient, tmp_path, orthanc):  # noqa: F811
    remote_uid, paths = write_study(tmp_path / "remote", "P7", "Doe^Jane", "20230412", 0)
    orthanc.upload(paths)
    s = main_window.settings
    s.ae_title = LOCAL_AE
    node = orthanc.node("pacs", method="get")
    node.search_priors = True
    s.nodes = [node]
    panel = main_window.priors
    select(qtbot, main_window, patient["current"])
    panel.refresh_button.click()  # "Ask the nodes again": the node was added after the study was selected
    qtbot.waitUntil(lambda: listed(panel)[:1] == ["pacs 2023-04-12"], timeout=15000)
    panel.table.clearSelection()
    panel.table.topLevelItem(0).setSelected(True)
    with qtbot.waitSignal(panel.openRequested, timeout=30000) as sig:
        panel.open_selected()
    assert sig.args[0] == [patient["current"], remote_uid]
    assert len(main_window.archive.query("instance", {"StudyInstanceUID": remote_uid})) == 2
    qtbot.waitUntil(lambda: listed(panel)[:1] == ["local 2023-04-12"], timeout=15000)
    for v in list(main_window.viewers):
        v.close()


def test_fetch_priors_on_open_retrieves_the_relevant_ones(qtbot, main_window, patient, tmp_path, orthanc):  # noqa: F811
    relevant_uid, paths = write_study(tmp_path / "r", "P7", "Doe^Jane", "20230412", 0)  # CT chest: relevant
    other_uid, other = write_study(tmp_path / "o", "P7", "Doe^Jane", "20230413", 1)  # CT head: not
    orthanc.upload(paths + other)
    s = main_window.settings
    s.ae_title = LOCAL_AE
    node = orthanc.node("pacs", method="get")
    node.search_priors = node.fetch_priors = True
    s.nodes = [node]
    rows = main_window.archive.query("study", {"StudyInstanceUID": patient["current"]})
    main_window.open_studies(rows)
    qtbot.waitUntil(lambda: bool(main_window.archive.query("study", {"StudyInstanceUID": relevant_uid})),
                    timeout=30000)
    main_window.jobs.wait_idle(10)
    assert not main_window.archive.query("study", {"StudyInstanceUID": other_uid})
    # The fetched prior joins the window being read as soon as it is local.
    qtbot.waitUntil(lambda: bool(main_window.viewers), timeout=10000)
    win = main_window.viewers[-1]
    qtbot.waitUntil(lambda: "20230412" in dates(win), timeout=30000)
    assert "20230413" not in dates(win)
    for v in list(main_window.viewers):
        v.close()


def dates(win):
    return [str(e.header.get("StudyDate")) for e in getattr(win, "entries", [])]


def test_a_local_relevant_prior_joins_the_window_and_is_hung_beside(qtbot, main_window, patient):
    """Opening the current study brings its local relevant prior into the same window (strip labelled by study),
    and the hanging protocol, re-applied, shows it in a cell of its own."""
    rows = main_window.archive.query("study", {"StudyInstanceUID": patient["current"]})
    main_window.open_studies(rows)
    qtbot.waitUntil(lambda: bool(main_window.viewers), timeout=10000)
    win = main_window.viewers[-1]
    qtbot.waitUntil(lambda: dates(win) == ["20240515", "20220310"], timeout=20000)
    qtbot.waitUntil(lambda: win.thumbnails.count() == 2 and not win.hanging.pending, timeout=5000)
    shown = {str(vp.entry.header.get("StudyDate")) for vp in win.visible_viewports if vp.entry is not None}
    assert shown == {"20240515", "20220310"}, win.hanging.describe()
    texts = [win.thumbnails.item(i).text() for i in range(2)]
    assert any("2022-03-10" in t for t in texts)
    win.close()


def test_a_prior_arriving_after_the_reader_rearranged_leaves_the_layout_alone(qtbot, main_window, patient):
    from workstation.gui.viewer.arrivals import add_series
    from workstation.gui.viewer.launch import open_viewer
    from workstation.gui import operations as ops

    win = open_viewer(ops.series_groups(main_window.archive, patient["current"], None), main_window.settings,
                      hanging=True)
    qtbot.waitUntil(lambda: win.is_loaded and not win.hanging.pending, timeout=20000)
    mine = "1x2" if win.layout_name != "1x2" else "2x1"
    win.set_layout(mine)  # the reader's own arrangement
    arranged = [vp.entry for vp in win.visible_viewports]
    with qtbot.waitSignal(win.seriesAdded, timeout=20000):
        assert add_series(win, ops.series_groups(main_window.archive, patient["old"], None))
    assert dates(win) == ["20240515", "20220310"]
    assert win.layout_name == mine and [vp.entry for vp in win.visible_viewports] == arranged
    assert "2022-03-10" in win.statusBar().currentMessage()
    # The same series again adds nothing.
    assert not add_series(win, ops.series_groups(main_window.archive, patient["old"], None))
    win.close()


def test_the_list_follows_deletes_and_arrivals(qtbot, main_window, patient, tmp_path):
    """A deleted prior leaves the list (it must never be offered), one arriving for the patient joins it, another
    patient's arrival does not, and the reader's choice in the list is kept while it is read again."""
    panel = main_window.priors
    select(qtbot, main_window, patient["current"])
    qtbot.waitUntil(lambda: listed(panel) == ["local 2022-03-10"], timeout=10000)
    new, new_paths = write_study(tmp_path / "new", "P7", "Doe^Jane", "20230101", 1)
    _x, stranger = write_study(tmp_path / "stranger", "P71", "Poe^Ed", "20230202", 0)
    assert main_window.archive.import_paths(new_paths + stranger).imported == 4
    qtbot.waitUntil(lambda: listed(panel) == ["local 2023-01-01", "local 2022-03-10"], timeout=10000)
    panel.table.topLevelItem(1).setSelected(True)
    panel.table.topLevelItem(0).setSelected(False)
    assert main_window.archive.delete("study", new) == 2
    qtbot.waitUntil(lambda: listed(panel) == ["local 2022-03-10"], timeout=10000)
    assert [p.uid for p in panel.selected_priors()] == [patient["old"]]
    assert main_window.archive.delete("study", patient["old"]) == 2
    qtbot.waitUntil(lambda: listed(panel) == [], timeout=10000)
    assert "0 other studies of Doe Jane (P7)" == panel.title.text() and not panel.open_button.isEnabled()
