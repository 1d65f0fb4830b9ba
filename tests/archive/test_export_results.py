"""Reading results travel with their study: a de-identified export of a study holding our key object selection
keeps the KOS pointing at the exported (renamed) images - its content references and its evidence sequence's
study, series and instance UIDs are remapped with the images' UIDs - and dcmtk still reads it."""

from __future__ import annotations

import pydicom

from tests.peers import make_ct_series, run_tool
from workstation.archive.export import export
from workstation.dicom.anonymize import Anonymizer
from workstation.dicom.key_objects import KOS_SOP_CLASS, read_key_images
from workstation.reading.results import save_key_images


def test_anonymized_export_remaps_the_key_object_selection_with_its_images(archive, tmp_path):
    series = make_ct_series(tmp_path / "ct", 4, patient_name="Doe^Jane", patient_id="MRN1")
    assert archive.import_paths(series).imported == 4
    originals = [pydicom.dcmread(p, stop_before_pixels=True) for p in series]
    study = str(originals[0].StudyInstanceUID)
    save_key_images(archive, [str(originals[2].SOPInstanceUID), str(originals[0].SOPInstanceUID)], note="n")
    report = export(archive, [("study", study)], tmp_path / "anon", anonymizer=Anonymizer("Case^One", "C1"))
    assert report.exported == 5 and report.failed == []
    out = [pydicom.dcmread(p) for p in sorted((tmp_path / "anon").rglob("*.dcm"))]
    kos = [ds for ds in out if ds.SOPClassUID == KOS_SOP_CLASS]
    images = {str(ds.InstanceNumber): ds for ds in out if ds.SOPClassUID != KOS_SOP_CLASS}
    assert len(kos) == 1 and len(images) == 4
    ko = kos[0]
    new_study = {str(ds.StudyInstanceUID) for ds in images.values()}
    assert new_study == {str(ko.StudyInstanceUID)} and study not in new_study
    keys = read_key_images(ko)
    # The KOS's order and its references follow the images' new UIDs (instance 3 then 1).
    by_number = {str(o.InstanceNumber): o for o in originals}
    expected = [str(images[n].SOPInstanceUID) for n in ("3", "1")]
    assert [k.sop_instance_uid for k in keys] == expected
    assert not {str(by_number[n].SOPInstanceUID) for n in ("3", "1")} & {k.sop_instance_uid for k in keys}
    evidence = ko.CurrentRequestedProcedureEvidenceSequence[0]
    assert str(evidence.StudyInstanceUID) == str(ko.StudyInstanceUID)
    assert str(evidence.ReferencedSeriesSequence[0].SeriesInstanceUID) == str(images["1"].SeriesInstanceUID)
    assert {k.series_instance_uid for k in keys} == {str(images["1"].SeriesInstanceUID)}
    assert all(b"Doe^Jane" not in p.read_bytes() for p in (tmp_path / "anon").rglob("*.dcm"))
    kos_path = next(p for p in (tmp_path / "anon").rglob("*.dcm")
                    if pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID == KOS_SOP_CLASS)
    dump = run_tool("dsrdump", [kos_path], check=False)
    assert dump.returncode == 0 and "Of Interest" in dump.stdout, dump.stdout + dump.stderr


def _uids(ds, keyword):
    return {str(v) for elem in ds.iterall() if elem.keyword == keyword
            for v in (elem.value if isinstance(elem.value, (list, pydicom.multival.MultiValue)) else [elem.value])}


def test_anonymized_export_keeps_every_results_object_pointing_at_the_exported_images(archive, tmp_path):
    """Presentation state, key object selection and measurement report together: after a de-identified export,
    every instance, series and study UID they name anywhere (content, evidence, referenced series) is one of the
    exported images' new UIDs, and none is an original UID."""
    from workstation.dicom.ps_writer import Mark
    from workstation.reading.results import save_presentation_state, write_report

    series = make_ct_series(tmp_path / "ct", 3, patient_name="Doe^Jane", patient_id="MRN1")
    assert archive.import_paths(series).imported == 3
    originals = [pydicom.dcmread(p, stop_before_pixels=True) for p in series]
    study = str(originals[0].StudyInstanceUID)
    uids = [str(o.SOPInstanceUID) for o in originals]
    save_presentation_state(archive, [Mark("distance", [(5.0, 5.0), (40.0, 30.0)], uids[1])])
    save_key_images(archive, [uids[2]])
    write_report(archive, study, store=True)
    old = set(uids) | {study, str(originals[0].SeriesInstanceUID)}
    report = export(archive, [("study", study)], tmp_path / "anon", anonymizer=Anonymizer("Case^Two", "C2"))
    assert report.exported == 6 and report.failed == []
    out = [pydicom.dcmread(p) for p in (tmp_path / "anon").rglob("*.dcm")]
    images = [ds for ds in out if "PixelData" in ds]
    results = {str(ds.Modality): ds for ds in out if "PixelData" not in ds}
    assert sorted(results) == ["KO", "PR", "SR"] and len(images) == 3
    new_instances = {str(ds.SOPInstanceUID) for ds in images}
    new_series = {str(ds.SeriesInstanceUID) for ds in images}
    new_study = {str(ds.StudyInstanceUID) for ds in images}
    for modality, ds in results.items():
        referenced = _uids(ds, "ReferencedSOPInstanceUID")
        assert referenced and referenced <= new_instances, modality
        assert _uids(ds, "StudyInstanceUID") == new_study, modality
        named_series = {str(s.SeriesInstanceUID) for e in ds.iterall() if e.keyword == "ReferencedSeriesSequence"
                        for s in e.value}
        assert named_series and named_series <= new_series, modality
        assert not old & {str(e.value) for e in ds.iterall() if e.VR == "UI"}, modality
