"""The import report in the main window (issue 10, issue 15 item 7): a DICOMDIR import pops no empty report;
skipped files are named with their reasons; the DICOMDIR's reconciliation (listed/found/missing) is shown."""

from __future__ import annotations

from pathlib import Path

from pydicom.fileset import FileSet

from workstation.gui.dialogs import ImportReportDialog

from tests.peers import make_ct_series


def _medium(root: Path, count: int) -> list[Path]:
    fs = FileSet()
    for f in make_ct_series(root.parent / (root.name + "_src"), count):
        fs.add(f)
    fs.write(root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR")


def _import(qtbot, main_window, path: Path):
    with qtbot.waitSignal(main_window.importFinished, timeout=30000) as done:
        main_window.import_paths([str(path)])
    return done.args[0]


def _reports(main_window) -> list[ImportReportDialog]:
    return [d for d in main_window.findChildren(ImportReportDialog) if d.isVisible()]


def test_a_complete_dicomdir_medium_pops_no_report(qtbot, main_window, tmp_path):
    _medium(tmp_path / "cd", 3)
    job = _import(qtbot, main_window, tmp_path / "cd" / "DICOMDIR")
    assert job.result.imported == 3
    assert (job.result.skipped, job.result.skipped_files) == (0, [])
    qtbot.wait(50)
    assert _reports(main_window) == []  # the old code showed an empty report: the DICOMDIR counted as skipped


def test_report_names_skipped_files_and_shows_the_dicomdir_reconciliation(qtbot, main_window, tmp_path):
    media = tmp_path / "cd"
    files = _medium(media, 3)
    files[0].unlink()
    (media / "README.TXT").write_text("Welcome to this CD\n")
    (media / "AUTORUN.INF").write_text("[autorun]\n")
    _import(qtbot, main_window, media / "DICOMDIR")
    qtbot.waitUntil(lambda: len(_reports(main_window)) == 1, timeout=5000)
    dlg = _reports(main_window)[0]
    assert dlg.objectName() == "import_summary"
    assert "2 imported" in dlg.summary.text()
    assert dlg.counts.text() == "2 files skipped (not DICOM)"
    assert dlg.dicomdir.text() == f"DICOMDIR {media / 'DICOMDIR'}: 3 listed, 2 found, 1 missing"
    rows = dlg.rows()
    skipped = {Path(f).name: why for f, outcome, why in rows if outcome == "Skipped"}
    assert set(skipped) == {"README.TXT", "AUTORUN.INF"}
    assert all(why.startswith("not a DICOM file") for why in skipped.values())
    missing = [f for f, outcome, _ in rows if outcome == "Missing"]
    assert missing == [str(files[0])]  # the medium's folder and the DICOMDIR's reference


def test_one_skipped_file_reads_singular(qtbot):
    class Report:
        imported = 4
        rejected: list = []
        repaired = [{"path": "/in/b.dcm", "repair": "repaired: SOPInstanceUID only in the file meta, written "
                                                    "into the data set"}]
        skipped_files = [{"path": "/in/a.txt", "reason": "not a DICOM file"}]
        dicomdirs: list = []

    dlg = ImportReportDialog(Report(), "4 imported, 1 skipped")
    qtbot.addWidget(dlg)
    assert dlg.counts.text() == "1 file skipped (not DICOM)\n1 file repaired on the way in"
    assert dlg.rows() == [("/in/a.txt", "Skipped", "not a DICOM file"),
                          ("/in/b.dcm", "Repaired", Report.repaired[0]["repair"])]
    assert not dlg.dicomdir.isVisible()
