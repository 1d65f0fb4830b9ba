"""Import into the main window: drag and drop of a folder, the summary dialog, CD/DVD discovery."""

from __future__ import annotations

from PySide6 import QtWidgets

from workstation.gui import operations as ops
from workstation.gui.jobs import PARTIAL

from tests.gui.helpers import drop_paths, sample_folder


def test_drop_folder_imports_and_lists_rejects(qtbot, main_window, tmp_path):
    folder = sample_folder(tmp_path / "drop")
    with qtbot.waitSignal(main_window.importFinished, timeout=30000) as blocker:
        drop_paths(main_window, [folder])
    job = blocker.args[0]
    assert job.kind == "import"
    assert job.result.imported >= 5
    # The text file is rejected (or skipped) with a reason, and the summary says so.
    assert job.state in ("done", PARTIAL)
    summary = main_window.findChild(type(main_window.dialogs[-1]), "import_summary")
    assert summary is not None and summary.isVisible()
    assert "imported" in summary.summary.text()
    # New arrivals appear without a refresh: the archive listener refreshes the study list.
    qtbot.waitUntil(lambda: main_window.browser.model.rowCount() >= 3, timeout=10000)
    assert main_window.received_today >= 5
    # The Activity panel has the job.
    assert main_window.activity.model.rowCount() >= 1
    assert main_window.activity.model.job_at(0) is job


def test_find_dicomdir_media(tmp_path):
    disc = tmp_path / "cdrom"
    disc.mkdir()
    (disc / "DICOMDIR").write_bytes(b"x")
    (tmp_path / "usb").mkdir()
    assert ops.find_dicomdir_media([str(disc), str(tmp_path / "usb"), str(tmp_path / "missing")]) == [
        str(disc / "DICOMDIR")]


def test_media_watcher_offers_new_media_only(qtbot, tmp_path):
    from workstation.gui.media_watch import MediaWatcher

    present, later = tmp_path / "cdrom0", tmp_path / "cdrom1"
    present.mkdir()
    (present / "DICOMDIR").write_bytes(b"x")
    later.mkdir()
    watcher = MediaWatcher(interval_ms=50, roots=lambda: [str(present), str(later)])
    seen: list[str] = []
    watcher.appeared.connect(seen.append)
    watcher.start()
    qtbot.wait(300)
    assert seen == []  # mounted before the watcher started: no offer
    (later / "dicomdir").write_bytes(b"x")  # ISO 9660 media may show lower case
    qtbot.waitUntil(lambda: seen == [str(later / "dicomdir")], timeout=5000)
    qtbot.wait(200)
    assert len(seen) == 1  # offered once
    (later / "dicomdir").unlink()  # ejected...
    qtbot.wait(200)
    (later / "DICOMDIR").write_bytes(b"x")  # ...and inserted again: offered again
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    watcher.stop()


def test_new_media_offer_imports_on_accept(qtbot, main_window, tmp_path):
    from PySide6 import QtWidgets

    from tests.gui.helpers import sample_folder

    disc = tmp_path / "disc"
    sample_folder(disc)
    (disc / "DICOMDIR").write_bytes(b"not a real DICOMDIR")  # broken: the import scans the folder instead
    box = main_window._offer_media_import(str(disc / "DICOMDIR"))
    assert box.objectName() == "media_offer" and not box.isModal() and str(disc) in box.text()
    importer = next(b for b in box.buttons() if box.buttonRole(b) == QtWidgets.QMessageBox.AcceptRole)
    with qtbot.waitSignal(main_window.importFinished, timeout=30000) as done:
        importer.click()
    assert done.args[0].result.imported >= 5


def test_a_clean_import_needs_no_dialog_a_partial_one_shows_its_report(qtbot, main_window, tmp_path):
    from tests.peers import make_ct_series

    make_ct_series(tmp_path / "ct", 3)
    with qtbot.waitSignal(main_window.importFinished, timeout=30000) as done:
        main_window.import_paths([str(tmp_path / "ct")])
    assert done.args[0].result.imported == 3
    assert main_window.findChild(QtWidgets.QDialog, "import_summary") is None
    assert "3 imported" in main_window.statusBar().currentMessage()
    # The same files again: nothing new, which the user should see (a report, not a silent status line).
    with qtbot.waitSignal(main_window.importFinished, timeout=30000):
        main_window.import_paths([str(tmp_path / "ct")])
    summary = main_window.findChild(QtWidgets.QDialog, "import_summary")
    assert summary is not None and summary.isVisible() and "already" in summary.summary.text()
