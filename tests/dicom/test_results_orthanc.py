"""Round trip through a real PACS: measurements -> presentation state in the archive -> C-STORE to Orthanc ->
deleted locally -> C-GET back -> the same measurements (coordinates within 1e-3 px), and the same for a key
object selection and a measurement report (they travel with the study like any instance)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.peers import make_ct_series, orthanc  # noqa: F401 - fixture
from workstation.archive import Archive
from workstation.config import Settings
from workstation.dicom.key_objects import study_key_images
from workstation.dicom.ps_writer import DisplayState, Mark
from workstation.net.scu.retrieve import retrieve
from workstation.net.scu.send import send
from workstation.reading.results import save_key_images, save_presentation_state, study_marks, write_report

pytestmark = pytest.mark.interop


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path / "ws")
    s.acse_timeout = s.dimse_timeout = s.network_timeout = 15.0
    return s


def test_presentation_state_key_images_and_report_survive_a_round_trip_through_orthanc(orthanc, settings, tmp_path):
    paths = make_ct_series(tmp_path / "ct", 3)
    study = str(pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)
    archive = Archive.open(settings)
    try:
        archive.import_paths(paths)
        uids = [r["SOPInstanceUID"] for r in archive.query("instance", {"StudyInstanceUID": study})]
        marks = [Mark("distance", [(10.125, 20.5), (40.75, 60.25)], uids[0], 0, "27.6 mm"),
                 Mark("ellipse", [(10.5, 10.25), (30.0, 20.0)], uids[1], 0, "area"),
                 Mark("polygon", [(3.3, 2.2), (10.01, 50.5), (20.0, 3.333)], uids[2], 0, "p"),
                 Mark("text", [(5.5, 6.5)], uids[2], 0, "see prior")]
        ps = save_presentation_state(archive, marks, DisplayState(window=(40, 400), rotation=90), creator="Doe^Jane")
        ko = save_key_images(archive, uids[:1], note="key")
        _, sr = write_report(archive, study, store=True)
        ours = [ps.sop_instance_uid, ko.sop_instance_uid, sr.sop_instance_uid]
        report = send(settings, orthanc.node(), [ps.path, ko.path, sr.path, *paths])
        assert report.exit_code == 0 and report.sent == len(paths) + 3, report.summary()
        for uid in ours:
            assert archive.delete("instance", uid) == 1
        assert study_marks(archive, study)[0] == [] and study_key_images(archive, study) == []
        result = retrieve(settings, orthanc.node(), study_uid=study, method="get", archive=archive)
        assert result.ok, result.summary()
        back, warnings = study_marks(archive, study)
        assert not warnings and len(back) == len(marks)
        for a, b in zip(marks, back):
            assert (a.kind, a.sop_instance_uid, a.text) == (b.kind, b.sop_instance_uid, b.text)
            assert np.allclose(np.asarray(a.points), np.asarray(b.points), atol=1e-3, rtol=0)
        assert [k.sop_instance_uid for k in study_key_images(archive, study)] == uids[:1]
        modalities = {r["SOPInstanceUID"]: r.get("Modality") for r in archive.query("instance",
                                                                                      {"StudyInstanceUID": study})}
        assert [modalities.get(u) for u in ours] == ["PR", "KO", "SR"]
    finally:
        archive.close()
