"""Main window plumbing: remembered state, shortcuts, status bar, error dialogs, settings dialog."""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from workstation.config import Node


def test_state_is_remembered(qtbot, gui_settings, gui_archive):
    from workstation.gui.main_window import MainWindow

    gui_settings.nodes = [Node("a", "A", "127.0.0.1", 104), Node("b", "B", "127.0.0.1", 105)]
    win = MainWindow(gui_settings, gui_archive, start_listener=False)
    qtbot.addWidget(win)
    win.show()
    win.resize(711, 577)  # within the offscreen screen (800x800)
    win.browser.splitter.setSizes([150, 250])
    sizes = win.browser.splitter.sizes()
    win.browser.view.setColumnWidth(0, 321)
    win.qr.set_nodes(["a", "b"])
    win.last_send_node = "b"
    win.close()
    again = MainWindow(gui_settings, gui_archive, start_listener=False)
    qtbot.addWidget(again)
    again.show()
    assert again.size() == QtCore.QSize(711, 577)
    assert again.browser.view.columnWidth(0) == 321
    assert again.browser.splitter.sizes() == sizes
    assert again.qr.node_combo.checked_names() == ["a", "b"]
    assert again.last_send_node == "b"
    assert (gui_settings.data_dir / "gui.ini").exists()
    again.close()


def test_first_start_fits_a_small_screen_and_leaves_the_study_list_most_of_it(qtbot, gui_settings, gui_archive):
    from workstation.gui.main_window import MainWindow, first_size

    assert first_size(QtCore.QSize(1920, 1050)) == (1400, 900)
    assert first_size(QtCore.QSize(1366, 728)) == (1229, 655)  # a laptop: 90 % of the free area
    win = MainWindow(gui_settings, gui_archive, start_listener=False)  # no remembered state yet
    qtbot.addWidget(win)
    win.show()
    available = win.screen().availableGeometry()  # the offscreen screen is 800x800
    assert win.width() <= available.width() and win.height() <= available.height()
    qtbot.waitUntil(lambda: win.activity_dock.height() > 0)
    assert win.activity_dock.height() <= max(110, win.height() // 5) + 40  # the dock's title bar
    assert win.browser.height() > 2 * win.activity_dock.height()
    win.close()


def test_shortcuts_and_status_bar(qtbot, main_window):
    win = main_window
    shortcuts = {a.shortcut().toString() for a in win.findChildren(QtGui.QAction) if not a.shortcut().isEmpty()}
    for key in ("Ctrl+O", "Ctrl+F", "Ctrl+2", "Ctrl+Shift+N", "Ctrl+Shift+D", "Del"):
        assert key in shortcuts, key
    win.act_qr.trigger()
    assert win.tabs.currentWidget() is win.qr
    win.act_find.trigger()
    assert win.tabs.currentWidget() is win.browser
    assert "stopped" in win.listener_label.text()
    assert win.jobs_label.text() == "0 jobs running"
    assert win.received_label.text() == "0 received today"


def test_failures_show_a_dialog(qtbot, main_window):
    win = main_window
    win._open_groups([])
    boxes = [w for w in QtWidgets.QApplication.topLevelWidgets()
             if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()]
    assert boxes and "Nothing to show" in boxes[-1].windowTitle()
    for b in boxes:
        b.close()
    win.settings.nodes = []
    assert win.send_rows("study", [{"StudyInstanceUID": "1.2"}]) is None
    boxes = [w for w in QtWidgets.QApplication.topLevelWidgets()
             if isinstance(w, QtWidgets.QMessageBox) and w.isVisible()]
    assert boxes and "No remote node" in boxes[-1].text()
    for b in boxes:
        b.close()


def test_settings_dialog_validates(qtbot, main_window):
    dlg = main_window.settings_dialog()
    dlg.ae.setText("BAD\\AE")
    dlg.save()
    assert dlg.isVisible() and "backslash" in dlg.error.text()
    assert main_window.settings.ae_title == "WORKSTATION"
    dlg.ae.setText("NEWAE")
    dlg.mode.setCurrentIndex(dlg.mode.findData("link"))
    dlg.save()
    assert main_window.settings.ae_title == "NEWAE" and main_window.settings.import_mode == "link"
    text = (main_window.settings.data_dir / "settings.toml").read_text()
    assert 'ae_title = "NEWAE"' in text


def test_send_and_delete_say_what_they_act_on_in_real_plurals(qtbot, main_window, gui_archive, monkeypatch):
    """A 340-image study: 'Send 1 study (340 images) to:', not 'Send 1 item(s) to:'."""
    from tests.gui.helpers import index_study
    from workstation.config import Node
    from workstation.gui import selection_actions as mw

    index_study(gui_archive, name="Big^Study", instances=340)
    win = main_window
    qtbot.waitUntil(lambda: win.browser.model.rowCount() == 1, timeout=5000)
    row = win.browser.model.row_at(0)
    win.settings.nodes = [Node("pacs", "PACS", "127.0.0.1", 104)]
    labels = []

    class Picker(mw.NodePicker):
        def exec(self):
            labels.append(self.findChild(QtWidgets.QLabel).text())
            return QtWidgets.QDialog.Rejected

    monkeypatch.setattr(mw, "NodePicker", Picker)
    assert win.send_rows("study", [row]) is None
    assert labels == ["Send 1 study (340 images) to:"]
    assert win.selection_text("series", [{"NumberOfInstances": 1}, {"NumberOfInstances": 2}]) == "2 series (3 images)"
    questions = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda parent, title, text, *a: questions.append(text) or QtWidgets.QMessageBox.No)
    win.delete_rows("study", [row, {**row, "StudyInstanceUID": "1.2"}])
    assert questions[0].startswith("Delete 2 studies with 2 series and 680 images from the archive?")
    win.delete_rows("study", [row])
    assert "with 1 series and 340 images" in questions[1]


def test_about_lists_versions_and_licences(qtbot, main_window):
    import pydicom

    main_window.act_about.trigger()
    box = main_window.findChild(QtWidgets.QMessageBox, "about_box")
    qtbot.waitUntil(box.isVisible)
    text = box.text()
    assert pydicom.__version__ in text and "pynetdicom" in text and "LGPL" in text and QtCore.qVersion() in text
    box.close()


def test_language_setting_is_kept_and_validated(qtbot, main_window):
    from workstation.config import Settings, SettingsError

    dlg = main_window.settings_dialog()
    assert dlg.language.currentData() == ""  # the system's by default
    dlg.language.setCurrentIndex(dlg.language.findData("zh_CN"))
    dlg.save()
    assert main_window.settings.language == "zh_CN"
    assert 'language = "zh_CN"' in (main_window.settings.data_dir / "settings.toml").read_text()
    bad = Settings(data_dir=main_window.settings.data_dir, language="chinese please")
    with pytest.raises(SettingsError, match="language"):
        bad.validate()
