"""Header reading: the fast raw-element path agrees with pydicom's own conversion on every bundled file."""

from __future__ import annotations

import pytest

from tests.data import all_test_files, test_file
from workstation.dicom import header as H


def test_fast_attribute_path_matches_pydicom_everywhere():
    checked = 0
    for f in all_test_files():
        try:
            h = H.read_header(f)
        except (H.NotDicom, H.Unusable):
            continue
        checked += 1
        for key, _ in H._KEY_TAGS:
            if key in ("SOPClassUID", "SOPInstanceUID"):
                continue  # may come from the file meta when the dataset lacks them
            assert h.attributes.get(key) == H._slow_value(h.dataset, key), (f.name, key)
    assert checked > 150


@pytest.mark.parametrize("name,expected", [
    ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
    ("chrX1.dcm", "Wang^XiaoDong=王^小東"),
    ("chrX2.dcm", "Wang^XiaoDong=王^小东"),
    ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"),
    ("chrRuss.dcm", "Люкceмбypг"),
    ("chrGreek.dcm", "Διονυσιος"),
    ("chrArab.dcm", "قباني^لنزار"),
    ("chrHbrw.dcm", "שרון^דבורה"),
    ("chrFren.dcm", "Buc^Jérôme"),
])
def test_names_decoded_through_specific_character_set(name, expected):
    assert H.read_header(test_file(name)).attributes["PatientName"] == expected


def test_types_of_index_attributes():
    a = H.read_header(test_file("CT_small.dcm")).attributes
    assert isinstance(a["Rows"], int) and isinstance(a["Columns"], int)
    assert isinstance(a["InstanceNumber"], int) and isinstance(a["SeriesNumber"], int)
    assert a["TransferSyntaxUID"] == "1.2.840.10008.1.2.1"
    big = H.read_header(test_file("ExplVR_BigEnd.dcm")).attributes
    assert big["Rows"] == 60  # unpacked big-endian


def test_dicomdir_is_not_an_instance():
    with pytest.raises(H.NotAnInstance):
        H.read_header(test_file("DICOMDIR"))
