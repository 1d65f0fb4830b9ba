"""The picker's list: every PS of the series (newest first), outside references counted, unreadable ones named."""

from __future__ import annotations

import pydicom

from tests.dicom import gsps
from tests.peers import make_ct_series
from workstation.dicom.ps_catalog import archive_catalog, catalog, newest_for


def _series(folder, count, **kw):
    paths = make_ct_series(folder, count, **kw)
    return [pydicom.dcmread(str(p), stop_before_pixels=True) for p in sorted(paths)]


def _ps(images, created: str, label: str, outside=()):
    ds = gsps.make_gsps(images[0])
    refs = ds.ReferencedSeriesSequence[0].ReferencedImageSequence
    for image in list(images[1:]) + list(outside):
        refs.append(gsps.image_ref(image))
    ds.PresentationCreationDate, ds.PresentationCreationTime = created[:8], created[8:]
    ds.ContentLabel = label
    return ds


def test_catalog_newest_first_outside_references_and_broken_files(tmp_path):
    a = _series(tmp_path / "a", 3, series_uid="1.2.3.1", study_uid="1.2.3")
    b = _series(tmp_path / "b", 2, series_uid="1.2.3.2", study_uid="1.2.3")
    old = gsps.save(_ps(a, "20240101080000", "OLD"), tmp_path / "old.dcm")
    new = gsps.save(_ps(a[1:2], "20250101080000", "NEW", outside=b[:1]), tmp_path / "new.dcm")
    other = gsps.save(_ps(b, "20260101080000", "OTHER SERIES"), tmp_path / "other.dcm")
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom")
    uids = [x.SOPInstanceUID for x in a]
    entries = catalog([old, other, junk, new], uids)
    assert [e.label for e in entries] == ["NEW", "OLD", ""]
    assert (entries[0].in_series, entries[0].outside) == (1, 1) and (entries[1].in_series, entries[1].outside) == (3, 0)
    assert "junk.dcm" in entries[2].error
    # Opening the series: image 2 gets the newest PS naming it, images 1 and 3 the older one.
    assert newest_for(entries, uids[1]).label == "NEW"
    assert newest_for(entries, uids[0]).label == "OLD"


def test_archive_catalog_finds_pr_instances_of_the_study(tmp_path, archive):
    a = _series(tmp_path / "a", 2, series_uid="1.2.3.1", study_uid="1.2.3")
    ps = gsps.save(_ps(a, "20240101080000", "ARCHIVED"), tmp_path / "ps.dcm")
    report = archive.import_paths([tmp_path / "a", ps])
    assert report.imported == 3
    entries = archive_catalog(archive, "1.2.3", [x.SOPInstanceUID for x in a])
    assert [e.label for e in entries] == ["ARCHIVED"] and entries[0].in_series == 2
