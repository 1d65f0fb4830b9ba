"""Export from the main window: the dialog, the job in the Activity panel, the files written, the report."""

from __future__ import annotations

import zipfile

import pydicom
from PySide6 import QtWidgets

from tests.peers import make_ct_series
from workstation.gui.export_dialog import ExportDialog
from workstation.gui.jobs import DONE, PARTIAL


def _study(main_window, tmp_path, qtbot):
    files = make_ct_series(tmp_path / "in", 4, patient_name="Doe^Jane", patient_id="MRN9")
    main_window.archive.import_paths(files)
    qtbot.waitUntil(lambda: main_window.browser.model.rowCount() == 1, timeout=10000)
    return main_window.archive.query("study")[0], files


def test_dialog_values_follow_the_choices(qtbot, tmp_path):
    dlg = ExportDialog("Export 1 study", "Doe Jane 20240102", str(tmp_path))
    qtbot.addWidget(dlg)
    assert not dlg.new_name.isEnabled()
    dlg.format.setCurrentIndex(dlg.format.findData("zip"))
    dlg.anonymize.setChecked(True)
    assert dlg.new_name.isEnabled()
    dlg.new_name.setText("Case^One")
    values = dlg.values()
    assert values == {"destination": str(tmp_path / "Doe Jane 20240102"), "fmt": "zip", "anonymize": True,
                      "new_name": "Case^One", "new_id": None}


def test_export_study_as_anonymized_zip_from_the_context_action(qtbot, main_window, tmp_path):
    study, files = _study(main_window, tmp_path, qtbot)
    dest = tmp_path / "out" / "teaching"
    job = main_window.export_rows("study", [study], {"destination": str(dest), "fmt": "zip", "anonymize": True,
                                                     "new_name": "Case^One", "new_id": "C1"})
    qtbot.waitUntil(lambda: job.state in (DONE, PARTIAL, "failed"), timeout=30000)
    assert job.state == DONE, job.message
    assert "4 instances exported" in job.message
    with zipfile.ZipFile(tmp_path / "out" / "teaching.zip") as zf:
        blobs = [zf.read(n) for n in zf.namelist()]
    assert len(blobs) == 4 and all(b"Doe^Jane" not in b and b"MRN9" not in b for b in blobs)
    assert main_window.activity.model.job_at(0) is job or any(
        main_window.activity.model.job_at(i) is job for i in range(main_window.activity.model.rowCount()))
    assert main_window.last_export_dir == str(tmp_path / "out")


def test_export_with_a_missing_file_shows_a_report(qtbot, main_window, tmp_path):
    study, files = _study(main_window, tmp_path, qtbot)
    victim = main_window.archive.query("instance")[0]
    main_window.archive.instance_path(victim["SOPInstanceUID"]).unlink()
    job = main_window.export_rows("study", [study], {"destination": str(tmp_path / "folder"), "fmt": "folder",
                                                     "anonymize": False, "new_name": "", "new_id": None})
    qtbot.waitUntil(lambda: job.state in (DONE, PARTIAL, "failed"), timeout=30000)
    assert job.state == PARTIAL
    qtbot.waitUntil(lambda: main_window.findChild(QtWidgets.QDialog, "export_report") is not None, timeout=5000)
    exported = sorted((tmp_path / "folder").rglob("*.dcm"))
    assert len(exported) == 3
    assert {pydicom.dcmread(p).SOPInstanceUID for p in exported} == {
        pydicom.dcmread(f).SOPInstanceUID for f in files} - {victim["SOPInstanceUID"]}


def test_export_action_has_a_shortcut_and_menu_entry(main_window):
    assert main_window.act_export.shortcut().toString() == "Ctrl+E"
    file_menu = main_window.menuBar().actions()[0].menu()
    assert main_window.act_export in file_menu.actions()
