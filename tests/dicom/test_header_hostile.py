"""What is not a plain file, and sequences nested beyond what a reader can follow: a reason, never a hang."""

from __future__ import annotations

import os

import pytest

from tests.robustness.hostile import nested_sequences
from workstation.dicom.header import NotDicom, Unusable, read_header


@pytest.mark.timeout(20)
def test_a_fifo_is_not_opened(tmp_path):
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    with pytest.raises(NotDicom, match="FIFO"):
        read_header(fifo)


def test_a_folder_named_dcm_is_not_a_file(tmp_path):
    (tmp_path / "x.dcm").mkdir()
    with pytest.raises(NotDicom, match="folder"):
        read_header(tmp_path / "x.dcm")


def test_deeply_nested_sequences_are_rejected_with_a_reason():
    with pytest.raises(Unusable, match="nested too deeply"):
        read_header(nested_sequences(2000))


def test_moderately_nested_sequences_still_read():
    assert read_header(nested_sequences(10)).attributes["SOPInstanceUID"]


def test_a_multi_valued_instance_uid_is_rejected():
    import warnings

    from tests.data import test_file
    from tests.robustness.hostile import uid_variants

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = dict(uid_variants(test_file("CT_small.dcm").read_bytes()))["uid-SOPInstanceUID-backslash-multi"]
    with pytest.raises(Unusable, match="SOPInstanceUID has several values"):
        read_header(data)
