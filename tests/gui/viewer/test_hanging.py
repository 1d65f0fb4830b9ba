"""Hanging protocols in the viewer: the matching rule arranges current and prior, Ctrl+P steps, a layout saves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers import make_ct_series
from workstation.config import Settings


def chest_study(folder: Path, date: str, study_uid: str) -> list[list[str]]:
    groups = []
    for number, desc in ((2, "Thorax 1.0 Mediastinum"), (3, "Thorax 1.0 Lung")):
        paths = make_ct_series(folder / desc, 6, rows=32, columns=32, patient_id="P1", study_uid=study_uid,
                               study_date=date, series_number=number)
        for p in paths:  # the rule matches the description and the study's body part
            import pydicom

            ds = pydicom.dcmread(p)
            ds.SeriesDescription, ds.BodyPartExamined, ds.StudyDescription = desc, "CHEST", "CT Thorax"
            ds.save_as(p)
        groups.append([str(p) for p in paths])
    return groups


def open_chest_studies(tmp_path):
    from workstation.gui.viewer.window import ViewerWindow

    settings = Settings(data_dir=tmp_path / "a", path=tmp_path / "a" / "settings.toml", bind="127.0.0.1")
    groups = chest_study(tmp_path / "cur", "20241103", "1.2.3.1") + chest_study(tmp_path / "pri", "20220310",
                                                                                  "1.2.3.2")
    win = ViewerWindow(groups, settings=settings, hanging=True)
    win.resize(1000, 700)
    win.show()
    return win, settings


@pytest.fixture
def hanging_window(qtbot, tmp_path):
    win, settings = open_chest_studies(tmp_path)
    yield win, settings
    try:
        win.close()
    except RuntimeError:
        pass


def shown(win):
    return [(vp.header.get("StudyDate"), vp.header.get("SeriesDescription")) if vp.entry is not None else None
            for vp in win.visible_viewports]


def test_ct_chest_current_and_prior_hang_by_the_rule(qtbot, hanging_window):
    win, _settings = hanging_window
    qtbot.waitUntil(lambda: win.layout_name == "2x2" and all(shown(win)), timeout=20000)
    assert shown(win) == [("20241103", "Thorax 1.0 Mediastinum"), ("20220310", "Thorax 1.0 Mediastinum"),
                          ("20241103", "Thorax 1.0 Lung"), ("20220310", "Thorax 1.0 Lung")]
    qtbot.waitUntil(lambda: all(vp.current_array() is not None for vp in win.visible_viewports), timeout=20000)
    mediastinum, lung = win.visible_viewports[0].state, win.visible_viewports[2].state
    assert (mediastinum.center, mediastinum.width) == (50, 350)
    assert (lung.center, lung.width) == (-600, 1500)
    assert "CT chest" in win.statusBar().currentMessage()
    # Ctrl+P: the next matching rule (any study: current | prior), then back round to the first.
    win.next_protocol()
    assert win.layout_name == "1x2" and shown(win)[0][0] == "20241103" and shown(win)[1][0] == "20220310"
    names = [p.name for p in win.hanging.matches]
    for _ in range(len(names) - 1):
        win.next_protocol()
    assert win.layout_name == "2x2"


def test_a_series_the_reader_shows_while_the_protocol_is_arranged_stays(qtbot, tmp_path, monkeypatch):
    """The protocol arranges the window in steps, one timer turn apart; a series the reader (or a caller) shows
    meanwhile stops it there, instead of being replaced by a later step (steps slowed here to 200 ms)."""
    from workstation.gui.viewer import hanging_apply

    monkeypatch.setattr(hanging_apply, "_STEP_MS", 200)
    win, _settings = open_chest_studies(tmp_path)
    qtbot.waitUntil(lambda: win.hanging.pending, timeout=20000)
    lung_prior = next(i for i, e in enumerate(win.entries)
                      if (e.header.get("StudyDate"), e.header.get("SeriesDescription")) == ("20220310",
                                                                                          "Thorax 1.0 Lung"))
    win.show_entry(0, lung_prior)
    assert not win.hanging.pending
    qtbot.wait(1000)  # the protocol's later steps would have come by now
    assert shown(win)[0] == ("20220310", "Thorax 1.0 Lung")
    win.close()


def test_save_layout_as_protocol(qtbot, hanging_window):
    from workstation.reading.hanging import load_protocols

    win, settings = hanging_window
    qtbot.waitUntil(lambda: win.layout_name == "2x2" and all(shown(win)), timeout=20000)
    win.set_layout("1x2")
    win.show_entry(0, 1)
    win.show_entry(1, 3)
    path = win.hanging.save_layout("My lung comparison")
    assert Path(path).parent == settings.path.parent
    mine = load_protocols(settings.path.parent)[0]
    assert mine.name == "My lung comparison" and (mine.rows, mine.columns) == (1, 2)
    win.hanging.load()
    assert win.hanging.matches[0].name == "My lung comparison"  # the user's rule first among equals
    win.hanging.step(0)
    assert shown(win) == [("20241103", "Thorax 1.0 Lung"), ("20220310", "Thorax 1.0 Lung")]


def mammogram(folder: Path, date: str, study_uid: str) -> list[str]:
    """One MG series holding the four screening views (as many modalities send them), each image marked by a
    pixel value of its own so a viewport's content can be told from its header."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    series_uid = generate_uid()
    paths = []
    folder.mkdir(parents=True, exist_ok=True)
    for k, (lat, view) in enumerate((("L", "MLO"), ("R", "CC"), ("R", "MLO"), ("L", "CC")), 1):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PatientID, ds.PatientName, ds.StudyInstanceUID, ds.StudyDate = "M1", "Mam^Ma", study_uid, date
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.Modality, ds.InstanceNumber = series_uid, 1, "MG", k
        ds.BodyPartExamined, ds.StudyDescription = "BREAST", "Screening mammography"
        ds.ImageLaterality, ds.ViewPosition = lat, view
        ds.PixelSpacing = [0.1, 0.1]
        ds.Rows = ds.Columns = 16
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = np.full((16, 16), 100 * k, np.uint16).tobytes()
        path = folder / f"{k}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    return paths


def test_a_mammogram_sent_as_one_series_hangs_view_by_view(qtbot, tmp_path):
    """RCC, LCC, RMLO, LMLO in one series (and the prior's likewise) fill the mammography protocol's eight cells,
    each its own view, the left breast mirrored: the series is split by laterality and view when opened."""
    from workstation.gui.viewer.window import ViewerWindow

    settings = Settings(data_dir=tmp_path / "a", path=tmp_path / "a" / "settings.toml", bind="127.0.0.1")
    groups = [mammogram(tmp_path / "cur", "20241103", "1.2.9.1"), mammogram(tmp_path / "pri", "20221103", "1.2.9.2")]
    win = ViewerWindow(groups, settings=settings, hanging=True)
    win.resize(1200, 700)
    win.show()
    qtbot.waitUntil(lambda: win.layout_name == "2x4" and all(vp.entry is not None for vp in win.visible_viewports),
                    timeout=20000)
    cells = [(vp.header.get("StudyDate"), vp.header.get("ImageLaterality") + vp.header.get("ViewPosition"),
              len(vp.stack), vp.state.flip_h) for vp in win.visible_viewports]
    assert cells == [(date, view, 1, view[0] == "L") for date in ("20241103", "20221103")
                     for view in ("RCC", "LCC", "RMLO", "LMLO")]
    from workstation.gui.viewer.overlay import corner_texts

    # Each viewport names its breast and view; the strip's tiles too.
    assert [corner_texts(vp)["top_right"][3] for vp in win.visible_viewports[:4]] == ["R CC", "L CC", "R MLO",
                                                                                      "L MLO"]
    assert sorted(win.thumbnails.item(i).text().split("\n")[-2].split(" ", 2)[-1] for i in range(4)) == \
        ["L CC", "L MLO", "R CC", "R MLO"]
    win.close()


def test_the_active_cell_stays_while_the_protocol_fills_the_others(qtbot, tmp_path, monkeypatch):
    """The protocol fills its cells one step at a time; the active cell (where keys and tools act) is not moved from
    cell to cell along the way (a key pressed meanwhile went to whichever cell the last step had filled)."""
    from workstation.gui.viewer import hanging_apply

    monkeypatch.setattr(hanging_apply, "_STEP_MS", 30)
    win, _settings = open_chest_studies(tmp_path)
    seen = []
    cls = type(win.hanging)
    real = cls._next_step

    def watched(self, steps):
        real(self, steps)
        seen.append(win.viewports.index(win.active) if win.active in win.viewports else None)

    monkeypatch.setattr(cls, "_next_step", watched)
    qtbot.waitUntil(lambda: win.layout_name == "2x2" and all(shown(win)) and not win.hanging.pending,
                    timeout=20000)
    assert len(seen) >= 4 and set(seen) == {0}, seen
    assert win.active is win.viewports[0]
    win.close()
