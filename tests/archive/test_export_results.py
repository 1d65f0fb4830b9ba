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
