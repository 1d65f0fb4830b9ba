"""Live arrivals in the browser: coalesced into a few model updates, every study shown, rows inserted where the
sort puts them (no reset, no re-sort), the selection kept, the series panel updated in place."""

from __future__ import annotations

import random
import threading
import time

from PySide6 import QtCore

from workstation.gui.study_model import DEFAULT_SORT, KEYS, StudyTableModel

Qt = QtCore.Qt


def add_instances(archive, *, study=None, series=None, name="Doe^Jane", patient_id="P1", date="20240102",
                  time_="120000", count=1, series_number=1):
    """Index ``count`` instances into ``study``/``series`` (new UIDs when None); return (study, series)."""
    from pydicom.uid import generate_uid

    from workstation.archive import InstanceRecord

    study = study or generate_uid()
    series = series or generate_uid()
    records = [InstanceRecord({
        "PatientName": name, "PatientID": patient_id, "PatientBirthDate": "19700101", "PatientSex": "F",
        "StudyInstanceUID": study, "StudyDate": date, "StudyTime": time_, "StudyDescription": "Chest",
        "AccessionNumber": "A1", "StudyID": "1", "SeriesInstanceUID": series, "SeriesNumber": series_number,
        "SeriesDescription": f"S{series_number}", "Modality": "CT", "SOPInstanceUID": generate_uid(),
        "SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "InstanceNumber": i + 1,
        "TransferSyntaxUID": "1.2.840.10008.1.2.1", "Rows": 64, "Columns": 64,
    }, 1000) for i in range(count)]
    archive.add_records(records)
    return study, series


def _uids(model):
    return [model.uid_at(r) for r in range(model.rowCount())]


def _idle(qtbot, model):
    qtbot.waitUntil(lambda: not model._running and model.complete and not model._update_workers, timeout=10000)


def test_arrivals_coalesced_all_shown_sorted_no_reset(qtbot, main_window, gui_archive):
    win = main_window
    model = win.browser.model
    first, _ = add_instances(gui_archive, name="First^F", date="20200101")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    _idle(qtbot, model)
    calls = []
    original = model.update_studies
    model.update_studies = lambda uids: (calls.append(set(uids)), original(uids))[1]
    resets = []
    model.modelReset.connect(lambda: resets.append(1))

    # 60 studies, one instance each, stored from another thread as fast as it goes (like an SCP association):
    # dates spread over years, some today, some equal (ties go newest first, as the index orders them).
    rng = random.Random(5)
    dates = [f"{2015 + rng.randrange(11)}{1 + rng.randrange(12):02d}{1 + rng.randrange(28):02d}" for _ in range(57)]
    dates += ["20200101", "20200101", time.strftime("%Y%m%d")]

    def store():
        for i, date in enumerate(dates):
            add_instances(gui_archive, name=f"Arrival^{i}", patient_id=f"A{i}", date=date)

    thread = threading.Thread(target=store)
    t0 = time.perf_counter()
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: model.rowCount() == 61, timeout=10000)
    _idle(qtbot, model)
    elapsed = time.perf_counter() - t0
    # Every arrival is listed, in the index's own order (what a refresh would show), without a reset.
    expected = [r["StudyInstanceUID"] for r in gui_archive.query("study")]
    assert _uids(model) == expected
    assert not resets
    # Coalesced: a few model updates per second, not one per stored instance.
    assert len(calls) <= max(2, int(elapsed * 5) + 1), (len(calls), elapsed)
    assert set().union(*calls) == set(expected) - {first}
    assert win.browser.count_label.text().startswith("61")


def test_selection_and_current_kept_across_inserts_above_and_below(qtbot, main_window, gui_archive):
    win = main_window
    model = win.browser.model
    middle, _ = add_instances(gui_archive, name="Middle^M", date="20200101")
    add_instances(gui_archive, name="Old^O", date="20100101")
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    _idle(qtbot, model)
    assert win.browser.select_study(middle)
    add_instances(gui_archive, name="New^N", date="20240101")  # above
    add_instances(gui_archive, name="Older^O", date="20000101")  # below
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=5000)
    _idle(qtbot, model)
    assert [s["StudyInstanceUID"] for s in win.browser.selected_studies()] == [middle]
    assert model.uid_at(win.browser.view.currentIndex().row()) == middle
    assert [model.data(model.index(r, 0)) for r in range(4)] == ["New, N", "Middle, M", "Old, O", "Older, O"]


def test_growing_study_updates_its_cells_and_moves_under_a_user_sort(qtbot, main_window, gui_archive):
    win = main_window
    model = win.browser.model
    images = KEYS.index("NumberOfStudyRelatedInstances")
    growing, series = add_instances(gui_archive, name="Growing^G", count=1)
    add_instances(gui_archive, name="Five^F", count=5)
    add_instances(gui_archive, name="Three^T", count=3)
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    _idle(qtbot, model)
    win.browser.view.sortByColumn(images, Qt.DescendingOrder)  # most images first
    qtbot.waitUntil(lambda: model.data(model.index(0, 0)) == "Five, F", timeout=5000)
    assert win.browser.select_study(growing)
    resets = []
    model.modelReset.connect(lambda: resets.append(1))

    add_instances(gui_archive, study=growing, series=series, name="Growing^G", count=3)  # 4: between 5 and 3
    qtbot.waitUntil(lambda: model.row_of(growing) == 1, timeout=5000)
    assert model.data(model.index(1, images)) == "4"
    add_instances(gui_archive, study=growing, series=series, name="Growing^G", count=3)  # 7: first
    qtbot.waitUntil(lambda: model.row_of(growing) == 0, timeout=5000)
    _idle(qtbot, model)
    assert model.data(model.index(0, images)) == "7"
    assert [model.data(model.index(r, images)) for r in range(3)] == ["7", "5", "3"]
    assert [s["StudyInstanceUID"] for s in win.browser.selected_studies()] == [growing]
    assert not resets


def test_insert_position_matches_a_full_sort():
    """Binary-searched insertion gives the order a full sort (or the index) would."""
    rng = random.Random(7)
    model = StudyTableModel(archive=None)
    for column, order in [DEFAULT_SORT, (0, Qt.AscendingOrder), (0, Qt.DescendingOrder),
                          (KEYS.index("NumberOfStudyRelatedInstances"), Qt.AscendingOrder)]:
        model._sort_column, model._sort_order = column, order
        model._rows = []
        rows = [{"StudyInstanceUID": str(i), "PatientName": f"{rng.choice('ABCDEFGH')}^{i}",
                 "StudyDate": f"20{rng.randrange(10, 25)}0101", "StudyTime": f"{rng.randrange(24):02d}0000",
                 "NumberOfStudyRelatedInstances": rng.randrange(1000)} for i in range(300)]
        for row in rows:
            model._rows.insert(model.insert_position(row), row)
        key = model.current_key()
        got = [key(r) for r in model._rows]
        assert got == sorted(got, reverse=order == Qt.DescendingOrder)
        if (column, order) == DEFAULT_SORT:
            # Among equal dates and times the newest arrival comes first, as the index orders them (pk DESC).
            for a, b in zip(model._rows, model._rows[1:]):
                if key(a) == key(b):
                    assert int(a["StudyInstanceUID"]) > int(b["StudyInstanceUID"])


def test_cell_texts_formatted_once_per_row_and_refreshed_on_change(qtbot, monkeypatch):
    import workstation.gui.study_model as sm

    calls = []
    original = sm.cell_text
    monkeypatch.setattr(sm, "cell_text", lambda row, key: (calls.append(key), original(row, key))[1])
    model = StudyTableModel(archive=None)
    row = {"StudyInstanceUID": "1", "PatientName": "Doe^Jane", "StudyDate": "20240102",
           "NumberOfStudyRelatedInstances": 2, "ModalitiesInStudy": ["CT", "MR"]}
    model._rows = [row]
    for _ in range(3):
        for c in range(len(KEYS)):
            model.data(model.index(0, c))
    assert len(calls) == len(KEYS)  # once per cell of the row, not per paint
    assert model.data(model.index(0, 0)) == "Doe, Jane"
    assert model.data(model.index(0, KEYS.index("ModalitiesInStudy"))) == "CT, MR"
    assert model.data(model.index(0, KEYS.index("NumberOfStudyRelatedInstances")), Qt.TextAlignmentRole) == int(
        Qt.AlignRight | Qt.AlignVCenter)
    model._rows = [dict(row, NumberOfStudyRelatedInstances=3)]  # a new row object: formatted again
    assert model.data(model.index(0, KEYS.index("NumberOfStudyRelatedInstances"))) == "3"


def test_series_panel_updates_in_place_while_the_study_grows(qtbot, main_window, gui_archive, monkeypatch):
    import workstation.gui.series_panel as sp

    rendered = []
    original = sp.thumbnails_for

    def spy(archive, rows):
        rendered.append([r["SeriesInstanceUID"] for r in rows])
        yield from original(archive, rows)

    monkeypatch.setattr(sp, "thumbnails_for", spy)
    win = main_window
    model = win.browser.model
    study, first = add_instances(gui_archive, name="Growing^G", count=2)
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    win.browser.select_study(study)
    panel = win.browser.series
    qtbot.waitUntil(lambda: panel.count() == 1 and panel.thumbnails_done, timeout=10000)
    panel.setCurrentRow(0)
    item = panel.item(0)

    add_instances(gui_archive, study=study, series=first, name="Growing^G", count=3)  # 5 images
    qtbot.waitUntil(lambda: "5 image" in panel.item(0).text(), timeout=5000)
    _, second = add_instances(gui_archive, study=study, name="Growing^G", count=1, series_number=2)
    qtbot.waitUntil(lambda: panel.count() == 2 and panel.thumbnails_done, timeout=10000)
    assert panel.item(0) is item and item.isSelected()  # the same tile, still selected
    assert rendered == [[first], [second]]  # each thumbnail rendered once
    # A series deleted meanwhile leaves the panel.
    gui_archive.delete("series", second)
    qtbot.waitUntil(lambda: panel.count() == 1, timeout=5000)
    assert panel.item(0) is item


def test_main_window_shortens_the_switch_interval(main_window):
    """The GUI thread competes for the GIL with the network threads: the window asks for a 1 ms switch interval."""
    import sys

    from workstation.gui.common import GUI_SWITCH_INTERVAL

    assert sys.getswitchinterval() <= GUI_SWITCH_INTERVAL


def test_selection_follows_its_study_when_the_user_sorts(qtbot, main_window, gui_archive):
    win = main_window
    model = win.browser.model
    uids = {}
    for name, date, count in [("Alpha^A", "20240101", 5), ("Bravo^B", "20230101", 1), ("Charlie^C", "20220101", 3)]:
        uids[name], _ = add_instances(gui_archive, name=name, date=date, count=count)
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    _idle(qtbot, model)
    assert win.browser.select_study(uids["Bravo^B"])
    assert model.row_of(uids["Bravo^B"]) == 1
    win.browser.view.sortByColumn(KEYS.index("NumberOfStudyRelatedInstances"), Qt.AscendingOrder)
    assert model.row_of(uids["Bravo^B"]) == 0
    assert [s["StudyInstanceUID"] for s in win.browser.selected_studies()] == [uids["Bravo^B"]]
    assert win.browser.view.currentIndex().row() == 0
    win.browser.view.sortByColumn(0, Qt.DescendingOrder)  # Charlie, Bravo, Alpha
    assert [s["StudyInstanceUID"] for s in win.browser.selected_studies()] == [uids["Bravo^B"]]
    assert win.browser.view.currentIndex().row() == 1
