"""The database browser: search as you type, date presets, modality filter, sorting, live arrivals, context
actions, opening a series in the viewer."""

from __future__ import annotations

import datetime as dt

from PySide6 import QtCore

from tests.gui.helpers import index_study, sample_folder
from tests.peers import make_ct_series

Qt = QtCore.Qt


def _names(model):
    return sorted(model.data(model.index(r, 0)) for r in range(model.rowCount()))


def _settle(qtbot, win):
    qtbot.waitUntil(lambda: not win.browser.model._running and not win.browser._debounce.isActive(), timeout=5000)
    qtbot.wait(30)
    qtbot.waitUntil(lambda: not win.browser.model._running, timeout=5000)


def test_search_date_and_modality_filters(qtbot, main_window, gui_archive):
    today = dt.date.today().strftime("%Y%m%d")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).strftime("%Y%m%d")
    index_study(gui_archive, name="Doe^Jane", patient_id="P1", date=today, modality="CT", accession="ACC-1")
    index_study(gui_archive, name="Smith^John", patient_id="P2", date=yesterday, modality="MR", description="Knee")
    index_study(gui_archive, name="Müller^Anna", patient_id="P3", date="20200101", modality="US")
    win = main_window
    model = win.browser.model
    # Arrivals appear without refresh (the archive listener refreshes the list).
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    assert win.browser.count_label.text().startswith("3")

    qtbot.keyClicks(win.browser.search, "smi")
    _settle(qtbot, win)
    assert _names(model) == ["Smith, John"]
    win.browser.search.clear()
    win.browser.search.setText("müller")  # case-insensitive, non-ASCII (keyClicks is ASCII-only)
    _settle(qtbot, win)
    assert _names(model) == ["Müller, Anna"]
    win.browser.search.setText("knee")
    _settle(qtbot, win)
    assert _names(model) == ["Smith, John"]
    win.browser.search.clear()
    _settle(qtbot, win)

    win.browser.set_date_preset("today")
    _settle(qtbot, win)
    assert _names(model) == ["Doe, Jane"]
    win.browser.set_date_preset("7days")
    _settle(qtbot, win)
    assert _names(model) == ["Doe, Jane", "Smith, John"]
    win.browser.set_modality("MR")
    _settle(qtbot, win)
    assert _names(model) == ["Smith, John"]
    win.browser.set_date_preset("all")
    win.browser.set_modality("")
    _settle(qtbot, win)
    assert model.rowCount() == 3

    # Sorting by patient name (column 0), both ways.
    win.browser.view.sortByColumn(0, QtCore.Qt.AscendingOrder)
    assert [model.data(model.index(r, 0)) for r in range(3)] == ["Doe, Jane", "Müller, Anna", "Smith, John"]
    win.browser.view.sortByColumn(0, QtCore.Qt.DescendingOrder)
    assert model.data(model.index(0, 0)) == "Smith, John"


def test_selection_survives_arrivals_and_series_show(qtbot, main_window, gui_archive):
    first = index_study(gui_archive, name="Alpha^A", series=3)
    win = main_window
    model = win.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    win.browser.select_study(first)
    qtbot.waitUntil(lambda: win.browser.series.count() == 3, timeout=5000)
    index_study(gui_archive, name="Beta^B", date="20990101")  # sorts first (newest date)
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    assert [s["StudyInstanceUID"] for s in win.browser.selected_studies()] == [first]


def test_open_series_and_study_in_viewer(qtbot, main_window, tmp_path):
    win = main_window
    make_ct_series(tmp_path / "ct", 6)
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([str(tmp_path / "ct")], show_summary=False)
    model = win.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    win.browser.view.selectRow(0)
    panel = win.browser.series
    qtbot.waitUntil(lambda: panel.count() == 1 and panel.thumbnails_done, timeout=15000)
    assert not panel.item(0).icon().isNull()
    # Enter on the series list opens the viewer.
    panel.setCurrentRow(0)
    panel.setFocus()
    qtbot.keyClick(panel, QtCore.Qt.Key_Return)
    qtbot.waitUntil(lambda: len(win.viewers) == 1, timeout=10000)
    viewer = win.viewers[0]
    qtbot.waitUntil(lambda: viewer.is_loaded, timeout=15000)
    assert len(viewer.entries) == 1
    # Double-click on the study opens a second window.
    win.browser.view.doubleClicked.emit(model.index(0, 0))
    qtbot.waitUntil(lambda: len(win.viewers) == 2, timeout=10000)
    qtbot.waitUntil(lambda: win.viewers[1].is_loaded, timeout=15000)
    for v in win.viewers:
        v.close()


def test_delete_reveal_tags(qtbot, main_window, tmp_path, monkeypatch):
    win = main_window
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([str(sample_folder(tmp_path / "in", ["CT_small.dcm", "MR_small.dcm"], junk=False))],
                         show_summary=False)
    model = win.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    row = model.row_at(0)
    folder = win.reveal("study", [row])
    assert folder and folder.startswith(str(win.settings.data_dir))
    win.show_tags("study", [row])
    dlg = win.dialogs[-1]
    qtbot.waitUntil(lambda: dlg.browser.tree.topLevelItemCount() > 10, timeout=10000)
    job = win.delete_rows("study", [row], confirm=False)
    qtbot.waitUntil(lambda: not job.is_active, timeout=10000)
    assert job.state == "done"
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)


def test_painted_cells_keep_their_alignment(qtbot, main_window, gui_archive):
    """multiData answers every role of a cell; the view reuses the role span between cells."""
    index_study(gui_archive, name="Align^Me")
    win = main_window
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=5000)
    model = win.browser.model
    from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan, Qt

    align = QModelRoleData(int(Qt.TextAlignmentRole))
    model.multiData(model.index(0, 9), QModelRoleDataSpan(align))  # Images: numeric, right-aligned
    assert align.data() is not None
    model.multiData(model.index(0, 0), QModelRoleDataSpan(align))  # the same role data again, a text column
    assert align.data() is None
    display = QModelRoleData(int(Qt.DisplayRole))
    model.multiData(model.index(0, 0), QModelRoleDataSpan(display))
    assert display.data() == "Align, Me"


def test_series_without_pixel_data_says_so(qtbot, main_window, tmp_path):
    import pydicom

    win = main_window
    files = make_ct_series(tmp_path / "ct", 2)
    for f in files:  # header-only images, as on pydicom's DICOMDIR test set
        ds = pydicom.dcmread(f)
        del ds.PixelData
        ds.save_as(f)
    with qtbot.waitSignal(win.importFinished, timeout=30000):
        win.import_paths([str(tmp_path / "ct")], show_summary=False)
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=5000)
    win.browser.view.selectRow(0)
    panel = win.browser.series
    qtbot.waitUntil(lambda: panel.count() == 1 and panel.thumbnails_done, timeout=15000)
    assert panel.item(0).data(panel.PREVIEW_ROLE) == "none"
    # three label lines fit under the tile
    assert panel.gridSize().height() >= 96 + 3 * panel.fontMetrics().lineSpacing()


def _arrow_rows(header, section: int) -> list[int]:
    """Width (pixels) of each row of the sort arrow drawn in ``section``. The arrow is where the header painted
    ascending and painted descending differ (the text is the same); its pixels are the dark ones there."""
    order = header.sortIndicatorOrder()
    now = header.grab().toImage()
    header.blockSignals(True)  # repaint with the other order, without re-sorting the model
    header.setSortIndicator(section, QtCore.Qt.AscendingOrder if order == QtCore.Qt.DescendingOrder
                            else QtCore.Qt.DescendingOrder)
    other = header.grab().toImage()
    header.setSortIndicator(section, order)
    header.blockSignals(False)
    diff = [(x, y) for y in range(now.height()) for x in range(now.width()) if now.pixel(x, y) != other.pixel(x, y)]
    assert diff, "no sort arrow drawn"
    xs, ys = [p[0] for p in diff], [p[1] for p in diff]
    widths = []
    for y in range(min(ys), max(ys) + 1):
        n = sum(1 for x in range(min(xs), max(xs) + 1) if now.pixelColor(x, y).lightness() < 128)
        if n:
            widths.append(n)
    return widths


def test_sort_indicator_agrees_with_order(qtbot, main_window, gui_archive):
    index_study(gui_archive, name="Old^Study", patient_id="P1", date="20100101")
    index_study(gui_archive, name="New^Study", patient_id="P2", date="20240101")
    win = main_window
    model = win.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=5000)
    header = win.browser.view.horizontalHeader()
    assert header.sortIndicatorSection() == 4 and header.sortIndicatorOrder() == QtCore.Qt.DescendingOrder
    assert [model.data(model.index(r, 0)) for r in range(2)] == ["New, Study", "Old, Study"]
    rows = _arrow_rows(header, 4)
    assert len(rows) >= 3 and rows[0] > rows[-1], rows  # wide at the top: pointing down, as the list runs
    header.setSortIndicator(4, QtCore.Qt.AscendingOrder)
    _settle(qtbot, win)
    assert [model.data(model.index(r, 0)) for r in range(2)] == ["Old, Study", "New, Study"]
    rows = _arrow_rows(header, 4)
    assert len(rows) >= 3 and rows[0] < rows[-1], rows  # pointing up


def test_an_empty_list_says_what_to_do(qtbot, main_window, gui_archive):
    """First start: the empty study list explains how to get studies in; with a search, that nothing matches."""
    win = main_window
    view = win.browser.view
    _settle(qtbot, win)
    assert win.browser.model.rowCount() == 0
    assert "No studies yet" in view.empty_text and "Import" in view.empty_text
    hinted = view.viewport().grab().toImage()
    view.set_empty_text("")
    blank = view.viewport().grab().toImage()
    assert hinted != blank  # the hint is painted, not only stored
    index_study(gui_archive, name="Doe^Jane", patient_id="P1", date="20240102", modality="CT")
    win.browser.apply_filter()
    _settle(qtbot, win)
    assert win.browser.model.rowCount() == 1 and view.empty_text == ""
    win.browser.search.setText("nobody-like-this")
    _settle(qtbot, win)
    assert win.browser.model.rowCount() == 0
    assert view.empty_text == "No study matches the search and filters."


def test_search_field_keys_escape_clears_down_and_enter_go_to_results(qtbot, main_window, gui_archive):
    from PySide6.QtTest import QTest

    index_study(gui_archive, name="Doe^Jane", patient_id="P1", date="20240102", modality="CT")
    index_study(gui_archive, name="Doe^John", patient_id="P2", date="20240103", modality="CT")
    win = main_window
    win.activateWindow()
    search = win.browser.search
    search.setFocus()
    QTest.keyClicks(search, "doe^jo")
    QTest.keyClick(search, Qt.Key_Return)  # at once, before the debounce: the list is already the filtered one
    _settle(qtbot, win)
    assert _names(win.browser.model) == ["Doe, John"]
    assert win.browser.view.hasFocus()
    assert [s["PatientID"] for s in win.browser.selected_studies()] == ["P2"]
    search.setFocus()
    QTest.keyClick(search, Qt.Key_Escape)
    assert search.text() == ""
    _settle(qtbot, win)
    assert win.browser.model.rowCount() == 2
    QTest.keyClick(search, Qt.Key_Down)
    assert win.browser.view.hasFocus()


def test_delete_confirmation_names_the_patient(qtbot, main_window, gui_archive, monkeypatch):
    from PySide6 import QtWidgets

    index_study(gui_archive, name="Doe^Jane", patient_id="P1", date="20240102", modality="CT", description="Chest")
    win = main_window
    win.browser.apply_filter()
    _settle(qtbot, win)
    asked = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda _parent, _title, text, *_a: asked.append(text) or QtWidgets.QMessageBox.No)
    assert win.delete_rows("study", [win.browser.model.row_at(0)]) is None  # answered No: nothing deleted
    assert "Doe, Jane" in asked[0] and "P1" in asked[0] and "2024-01-02" in asked[0] and "2 images" in asked[0]
    assert win.browser.model.rowCount() == 1


def test_birth_date_cell_shows_the_age_at_the_study(qtbot, main_window, gui_archive):
    """The index has no PatientAge (most files carry none): the age is computed from the birth and study dates."""
    index_study(gui_archive, name="Old^Age", date="20150101")  # born 19700101 (helpers)
    model = main_window.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    from workstation.gui.study_model import KEYS

    assert model.data(model.index(0, KEYS.index("PatientBirthDate"))) == "1970-01-01 (45Y)"
