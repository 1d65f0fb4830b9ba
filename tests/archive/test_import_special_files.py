"""A FIFO among the inputs (given, or inside a folder) is reported and never opened: opening one blocks."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.data import test_file


@pytest.mark.timeout(30)
def test_fifo_given_or_in_a_folder_is_rejected_not_read(archive, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(test_file("CT_small.dcm"), folder / "ct.dcm")
    os.mkfifo(folder / "pipe.dcm")
    os.mkfifo(tmp_path / "alone.dcm")
    report = archive.import_paths([folder, tmp_path / "alone.dcm"], processes=0)
    assert report.imported == 1
    reasons = {os.path.basename(r["path"]): r["reason"] for r in report.rejected}
    assert set(reasons) == {"pipe.dcm", "alone.dcm"}
    assert all("FIFO" in r for r in reasons.values())
    assert archive.check(full=True).clean
