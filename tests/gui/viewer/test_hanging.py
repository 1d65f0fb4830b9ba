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


@pytest.fixture
def hanging_window(qtbot, tmp_path):
    from workstation.gui.viewer.window import ViewerWindow

    settings = Settings(data_dir=tmp_path / "a", path=tmp_path / "a" / "settings.toml", bind="127.0.0.1")
    groups = chest_study(tmp_path / "cur", "20241103", "1.2.3.1") + chest_study(tmp_path / "pri", "20220310",
                                                                                  "1.2.3.2")
    win = ViewerWindow(groups, settings=settings, hanging=True)
    win.resize(1000, 700)
    win.show()
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
