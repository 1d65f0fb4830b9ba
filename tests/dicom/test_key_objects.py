"""Key Object Selection documents: ours ("Of Interest", note, frames) are read back by our pydicom reader and by
dcmtk's dsrdump without error and pass dciodvfy; another system's KOS (built by hand with pydicom, another title)
is read the same way."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from tests.peers import make_ct_series, run_tool
from workstation.dicom.key_objects import KOS_SOP_CLASS, build_key_object_selection, read_key_images, unique
from workstation.dicom.ps_writer import encode


@pytest.fixture
def images(tmp_path):
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in make_ct_series(tmp_path / "ct", 3)]


def test_our_kos_is_read_back_with_title_note_and_series(images, tmp_path):
    path = tmp_path / "ko.dcm"
    path.write_bytes(encode(build_key_object_selection(images[:2], note="lesion, segment 7", observer="Doe^Jane")))
    ds = pydicom.dcmread(path)
    assert ds.Modality == "KO" and ds.SOPClassUID == KOS_SOP_CLASS
    assert ds.StudyInstanceUID == images[0].StudyInstanceUID and ds.SeriesInstanceUID != images[0].SeriesInstanceUID
    assert ds.ConceptNameCodeSequence[0].CodeValue == "113000"
    keys = read_key_images(path)
    assert [k.sop_instance_uid for k in keys] == [str(im.SOPInstanceUID) for im in images[:2]]
    assert {(k.title, k.note, k.series_instance_uid, k.frames) for k in keys} == {
        ("Of Interest", "lesion, segment 7", str(images[0].SeriesInstanceUID), ())}


def test_dsrdump_and_dciodvfy_read_our_kos_without_errors(images, tmp_path):
    path = tmp_path / "ko.dcm"
    path.write_bytes(encode(build_key_object_selection(images, note="n")))
    dump = run_tool("dsrdump", [path], check=False)
    assert dump.returncode == 0 and "Of Interest" in dump.stdout, dump.stdout + dump.stderr
    assert not [line for line in (dump.stdout + dump.stderr).splitlines() if line.startswith("E:")]
    vfy = run_tool("dciodvfy", [path], check=False)
    assert vfy.returncode == 0 and "Error" not in vfy.stdout + vfy.stderr, vfy.stdout + vfy.stderr


def other_systems_kos(image: Dataset, frames=(2, 3)) -> Dataset:
    """A KOS as another system writes it (pydicom only, title "For Teaching", frame numbers on the reference)."""
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = KOS_SOP_CLASS, generate_uid(), "KO"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = image.StudyInstanceUID, generate_uid()
    ds.ContentDate, ds.ContentTime = "20250101", "101010"
    title = Dataset()
    title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning = "113004", "DCM", "For Teaching"
    ds.ConceptNameCodeSequence = [title]
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = image.SOPClassUID, image.SOPInstanceUID
    ref.ReferencedFrameNumber = list(frames)
    item = Dataset()
    item.RelationshipType, item.ValueType, item.ReferencedSOPSequence = "CONTAINS", "IMAGE", [ref]
    ds.ContentSequence = [item]
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedSOPSequence = image.SeriesInstanceUID, [ref]
    study = Dataset()
    study.StudyInstanceUID, study.ReferencedSeriesSequence = image.StudyInstanceUID, [series]
    ds.CurrentRequestedProcedureEvidenceSequence = [study]
    return ds


def test_another_systems_kos_and_frames_are_read(images):
    keys = read_key_images(other_systems_kos(images[1]))
    assert [(k.sop_instance_uid, k.frames, k.title) for k in keys] == [
        (str(images[1].SOPInstanceUID), (2, 3), "For Teaching")]
    assert keys[0].series_instance_uid == str(images[1].SeriesInstanceUID)
    assert len(unique(keys + keys)) == 1


def test_not_a_kos_is_one_line(images, tmp_path):
    with pytest.raises(ValueError, match="not a key object selection"):
        read_key_images(images[0])
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    with pytest.raises(ValueError):
        read_key_images(junk)


def test_an_unreadable_file_is_one_line_naming_it(tmp_path):
    # The reading is shared with the presentation state reader (read_document): same one-line message, the
    # file's name and the error type each reader promises.
    from workstation.dicom.presentation_state import NotAPresentationState, read_presentation_state

    missing = tmp_path / "gone.dcm"
    with pytest.raises(ValueError, match=r"^gone\.dcm: not a readable DICOM file \(") as info:
        read_key_images(missing)
    assert "\n" not in str(info.value) and type(info.value) is ValueError
    with pytest.raises(NotAPresentationState, match=r"^gone\.dcm: not a readable DICOM file \("):
        read_presentation_state(missing)
