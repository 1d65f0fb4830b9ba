"""The peer fixtures themselves work: each tool starts, accepts, stores, stops."""

from __future__ import annotations

import pydicom
import pytest

from tests.peers import ct_series, dcmqrscp, make_ct_series, orthanc, run_tool, storescp, storescu  # noqa: F401

pytestmark = pytest.mark.interop


def test_make_ct_series_is_one_series(tmp_path):
    paths = make_ct_series(tmp_path, 3, rows=16, columns=16)
    dss = [pydicom.dcmread(p) for p in paths]
    assert len({ds.SeriesInstanceUID for ds in dss}) == 1
    assert len({ds.SOPInstanceUID for ds in dss}) == 3
    assert dss[0].pixel_array.shape == (16, 16)
    rle = make_ct_series(tmp_path / "rle", 1, rows=16, columns=16, transfer_syntax="1.2.840.10008.1.2.5")
    assert pydicom.dcmread(rle[0]).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"


def test_storescp_receives(storescp, ct_series):
    storescu(storescp, ct_series)
    assert len(storescp.files()) == len(ct_series)


def test_dcmqrscp_answers_find(dcmqrscp, ct_series):
    storescu(dcmqrscp, ct_series)
    out = run_tool("findscu", ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID",
                               "-aec", dcmqrscp.ae_title, dcmqrscp.host, dcmqrscp.port])
    assert "Find Response: 1" in out.stderr + out.stdout


def test_orthanc_seeds_over_http(orthanc, ct_series):
    assert orthanc.upload(ct_series) == len(ct_series)
    assert orthanc.instance_count() == len(ct_series)
