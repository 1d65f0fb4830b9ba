"""Round trip through a real PACS of marks made in the viewer: a distance drawn with the mouse -> Ctrl+S writes a
presentation state into the archive -> C-STORE to Orthanc with the study -> the PS (and the local copy of the marks)
deleted -> C-GET from Orthanc -> the study reopened in the viewer shows the same mark (coordinates within 1e-3 px)."""

from __future__ import annotations

import pydicom
import pytest

from tests.peers import make_ct_series, orthanc  # noqa: F401 - fixture
from viewer_events import drag
from workstation.gui import operations as ops
from workstation.net.scu.retrieve import retrieve
from workstation.net.scu.send import send

pytestmark = pytest.mark.interop


def _open(qtbot, main_window, study):
    win = main_window._open_groups(ops.series_groups(main_window.archive, study, None))
    qtbot.waitUntil(lambda: win.is_loaded and win.active.current_array() is not None
                    and not win.hanging.pending, timeout=20000)
    return win


def test_marks_made_in_the_viewer_come_back_from_orthanc(qtbot, main_window, orthanc, tmp_path):
    archive, settings = main_window.archive, main_window.settings
    settings.acse_timeout = settings.dimse_timeout = settings.network_timeout = 15.0
    paths = make_ct_series(tmp_path / "ct", 3, rows=64, columns=64)
    study = str(pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)
    assert not archive.import_paths(paths).rejected

    win = _open(qtbot, main_window, study)
    vp = win.viewports[0]
    vp.state.update(frame=1, tool="distance")
    a, b = vp.widget_point((10.3, 20.6)), vp.widget_point((40.2, 50.7))
    drag(vp, (a.x(), a.y()), (b.x(), b.y()), steps=8)
    made = [(m.kind, m.key, [tuple(p) for p in m.points]) for m in vp.measurements.on(vp.frame_key)]
    assert [k for k, _key, _p in made] == ["distance"]
    win.save_ps_action.trigger()
    qtbot.waitUntil(lambda: bool(archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})),
                    timeout=20000)
    (row,) = archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})
    store = vp.measurements
    win.close()

    report = send(settings, orthanc.node(), [row["path"], *paths])
    assert report.exit_code == 0 and report.sent == len(paths) + 1, report.summary()
    assert archive.delete("instance", row["SOPInstanceUID"]) == 1
    store.clear()  # what this machine kept of the marks goes too: only the PACS has them now
    assert not archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})

    result = retrieve(settings, orthanc.node(), study_uid=study, method="get", archive=archive)
    assert result.ok, result.summary()
    assert archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})

    win = _open(qtbot, main_window, study)
    vp = win.viewports[0]
    qtbot.waitUntil(lambda: vp.ps_note.startswith("PS "), timeout=10000)
    key = made[0][1]
    back = [(m.kind, [tuple(p) for p in m.points]) for m in vp.measurements.on(key)]
    assert [k for k, _p in back] == ["distance"]
    for p, q in zip(made[0][2], back[0][1]):
        assert abs(p[0] - q[0]) <= 1e-3 and abs(p[1] - q[1]) <= 1e-3, (made, back)
    win.close()
