"""The study's key images as the viewer keeps them: saving replaces our earlier document (never piles up), another
system's selection is kept apart and never deleted, frames of a multi-frame image are kept, the key-images stack
follows the documents' order across series and splits only where image sizes differ."""

from __future__ import annotations

import pydicom

from tests.dicom.test_key_objects import other_systems_kos
from tests.peers import make_ct_series
from workstation.dicom.key_objects import read_key_images
from workstation.dicom.ps_writer import encode
from workstation.reading.key_images import key_frames, key_image_stacks, load_study, save_study


def _study(archive, tmp_path):
    a = make_ct_series(tmp_path / "a", 3, series_number=1)
    study = str(pydicom.dcmread(a[0]).StudyInstanceUID)
    b = make_ct_series(tmp_path / "b", 2, series_number=2, study_uid=study, rows=32, columns=48)
    assert archive.import_paths([*a, *b]).imported == 5
    return study, [str(pydicom.dcmread(p).SOPInstanceUID) for p in a], [str(pydicom.dcmread(p).SOPInstanceUID)
                                                                         for p in b]


def _kos(archive, study):
    return archive.query("instance", {"StudyInstanceUID": study, "Modality": "KO"})


def test_saving_again_replaces_our_document_and_keeps_the_order(archive, tmp_path):
    study, a, b = _study(archive, tmp_path)
    first = save_study(archive, study, [(b[1], 0), (a[0], 0)], "first")
    assert [r["SOPInstanceUID"] for r in _kos(archive, study)] == [first]
    state = load_study(archive, study)
    assert state.ours == [(b[1], 0), (a[0], 0)] and state.note == "first" and state.documents == [first]
    second = save_study(archive, study, [(a[2], 0), (b[1], 0), (a[0], 0)], "second", replace=state.documents)
    rows = _kos(archive, study)
    assert [r["SOPInstanceUID"] for r in rows] == [second] != [first]
    assert [k.sop_instance_uid for k in read_key_images(rows[0]["path"])] == [a[2], b[1], a[0]]
    assert load_study(archive, study).note == "second"
    # Nothing marked: ours go, none is written (the study no longer lists KO).
    assert save_study(archive, study, [], replace=[second]) is None
    assert _kos(archive, study) == []
    assert "KO" not in archive.query("study", {"StudyInstanceUID": study})[0]["ModalitiesInStudy"]


def test_another_systems_selection_is_kept_apart_and_never_deleted(archive, tmp_path):
    study, a, b = _study(archive, tmp_path)
    image = pydicom.dcmread(archive.instance_path(a[1]), stop_before_pixels=True)
    foreign = other_systems_kos(image, frames=())
    del foreign.ContentSequence[0].ReferencedSOPSequence[0].ReferencedFrameNumber
    foreign.PatientName, foreign.PatientID = image.PatientName, image.PatientID
    foreign.SeriesNumber, foreign.InstanceNumber = 77, 1
    foreign.file_meta = pydicom.dataset.FileMetaDataset()
    foreign.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    archive.store_bytes(encode(foreign), source="test")
    state = load_study(archive, study)
    assert state.ours == [] and state.foreign == [(a[1], 0)] and state.foreign_titles[(a[1], 0)] == "For Teaching"
    save_study(archive, study, [(b[0], 0)], replace=state.documents)
    save_study(archive, study, [(b[0], 0), (a[2], 0)], replace=load_study(archive, study).documents)
    again = load_study(archive, study)
    assert again.ours == [(b[0], 0), (a[2], 0)] and again.foreign == [(a[1], 0)]
    assert again.keys == [(b[0], 0), (a[2], 0), (a[1], 0)]
    assert len(_kos(archive, study)) == 2  # theirs and our one


def test_frames_and_the_stack_in_document_order(archive, tmp_path):
    study, a, b = _study(archive, tmp_path)
    save_study(archive, study, [(a[2], 0), (a[0], 0), (b[1], 0), (a[1], 0)])
    keys = load_study(archive, study).keys
    frames, missing = key_frames(archive, keys + [("1.2.3.999", 0)])
    assert [f.sop_instance_uid for f in frames] == [a[2], a[0], b[1], a[1]] and missing == [("1.2.3.999", 0)]
    stacks = key_image_stacks(frames)
    try:
        # 64x64, then the 32x48 image, then 64x64 again: three runs, the order kept.
        assert [len(s) for s in stacks] == [2, 1, 1]
        assert [s.source(i).sop_instance_uid for s in stacks for i in range(len(s))] == [a[2], a[0], b[1], a[1]]
        assert stacks[1].get_frame(0, timeout=10).shape == (32, 48)
        assert stacks[0].get_frame(1, timeout=10).shape == (64, 64)
    finally:
        for s in stacks:
            s.close()


def test_a_rejection_note_is_not_key_images(archive, tmp_path):
    """A KOS titled "Rejected for Quality Reasons" (IHE IOCM) selects images to hide: they are not key images."""
    from tests.dicom.test_key_objects import other_systems_kos

    study, a, _b = _study(archive, tmp_path)
    image = pydicom.dcmread(archive.instance_path(a[0]), stop_before_pixels=True)
    note = other_systems_kos(image, frames=())
    del note.ContentSequence[0].ReferencedSOPSequence[0].ReferencedFrameNumber
    note.ConceptNameCodeSequence[0].CodeValue = "113001"
    note.ConceptNameCodeSequence[0].CodeMeaning = "Rejected for Quality Reasons"
    note.PatientName, note.PatientID, note.SeriesNumber, note.InstanceNumber = image.PatientName, image.PatientID, 5, 1
    note.file_meta = pydicom.dataset.FileMetaDataset()
    note.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    archive.store_bytes(encode(note), source="test")
    state = load_study(archive, study)
    assert state.keys == [] and state.documents == []
    save_study(archive, study, [(a[1], 0)])
    assert load_study(archive, study).keys == [(a[1], 0)]
    assert len(_kos(archive, study)) == 2  # the note is not ours: never deleted
