"""Series thumbnails: labels fit their tile, header-only series say so, the thumbnail is the middle image drawn
as ``workstation render`` draws it."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pydicom
from PySide6 import QtWidgets

from tests.data import test_file_dirs
from tests.gui.helpers import index_study
from tests.peers import make_ct_series


def _panel(qtbot, archive):
    from workstation.gui.series_panel import SeriesPanel

    panel = SeriesPanel(archive)
    qtbot.addWidget(panel)
    panel.resize(700, 260)
    panel.show()
    return panel


def _show(qtbot, panel, study_uid, count):
    panel.show_study(study_uid, force=True)
    qtbot.waitUntil(lambda: panel.count() == count and panel.thumbnails_done, timeout=10000)


def test_labels_fit_the_tile(qtbot, gui_archive):
    study = index_study(gui_archive, series=3, instances=50,
                        description="A very long study description that would never fit under a thumbnail")
    rows = gui_archive.query("series", {"StudyInstanceUID": study})
    panel = _panel(qtbot, gui_archive)
    _show(qtbot, panel, study, 3)
    grid = panel.gridSize()
    for i in range(panel.count()):
        item = panel.item(i)
        assert item.text().splitlines()[-1] == "50 images"
        opt = QtWidgets.QStyleOptionViewItem()
        panel.initViewItemOption(opt)
        index = panel.indexFromItem(item)
        hint = panel.itemDelegate().sizeHint(opt, index)
        assert hint.height() <= grid.height() and hint.width() <= grid.width(), (hint, grid, item.text())
        # The whole label is drawn: the item's rectangle holds the icon and every line of text.
        rect = panel.visualItemRect(item)
        assert rect.height() >= hint.height()
    # A long description is elided to one line, the full text is in the tooltip.
    long_row = dict(rows[0], SeriesDescription="Axial 0.625 mm soft tissue kernel with contrast, late phase")
    label = panel.label_for(long_row)
    assert len(label.splitlines()) == 3 and "…" in label.splitlines()[1]
    assert panel.label_for(dict(rows[0], SeriesDescription="")).splitlines() == ["CT 1", "50 images"]


def test_header_only_series_says_no_pixel_data(qtbot, gui_archive, tmp_path):
    """pydicom's TINY_ALPHA file-set: 50 CT instances that carry no pixel data at all."""
    tiny = next(d / "dicomdirtests" / "TINY_ALPHA" for d in test_file_dirs()
                if (d / "dicomdirtests" / "TINY_ALPHA").is_dir())
    report = gui_archive.import_paths([tiny])
    assert report.imported == 50
    study = gui_archive.query("study", {})[0]["StudyInstanceUID"]
    panel = _panel(qtbot, gui_archive)
    _show(qtbot, panel, study, 1)
    item = panel.item(0)
    assert item.text().splitlines()[-1] == "50 images"
    assert item.data(panel.PREVIEW_ROLE) == "none"
    assert "no pixel data" in item.toolTip()
    # The tile says so in words (light text on the dark tile), it is not just dark.
    img = item.icon().pixmap(96, 96).toImage()
    assert max(img.pixelColor(x, y).value() for x in range(96) for y in range(96)) > 150


def test_thumbnail_is_the_middle_image_as_render_draws_it(qtbot, gui_archive, tmp_path):
    from workstation import imaging
    from workstation.imaging.decode import decode_frame, read_header

    paths = make_ct_series(tmp_path / "ct", 7)
    # Each slice its own window, so the thumbnail tells which slice and which window it used.
    for i, p in enumerate(paths):
        ds = pydicom.dcmread(p)
        ds.WindowCenter = -1000 + 5 * i
        ds.WindowWidth = 60 + 10 * i
        if i == 3:  # the middle slice's own window shows none of its values: render draws it black, so must we
            ds.WindowCenter, ds.WindowWidth = 3000, 10
        ds.save_as(p)
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    order = list(range(7))
    random.Random(3).shuffle(order)
    for k, i in enumerate(order):  # imported in another order than the instance numbers
        shutil.copy(paths[i], shuffled / f"x{k}.dcm")
    gui_archive.import_paths(sorted(shuffled.iterdir()))
    study = gui_archive.query("study", {})[0]["StudyInstanceUID"]
    panel = _panel(qtbot, gui_archive)
    _show(qtbot, panel, study, 1)
    icon = panel.item(0).icon()
    got = icon.pixmap(96, 96).toImage()
    got = np.array([[got.pixelColor(x, y).red() for x in range(got.width())] for y in range(got.height())])

    middle = paths[3]  # instance number 4 of 7
    header = read_header(middle)
    pres = imaging.Presentation.from_dataset(header, 0)
    want = imaging.render(pres, decode_frame(middle, 0, header=header), None, size=(96, 96))
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert want.max() == 0  # as `workstation render` and the viewer show it: no other window, no min/max
    for other in (paths[0], paths[6]):
        h = read_header(other)
        alt = imaging.render(imaging.Presentation.from_dataset(h, 0), decode_frame(other, 0, header=h), None,
                             size=(96, 96))
        assert np.abs(got.astype(int) - alt.astype(int)).max() > 1


def test_image_attributes_without_a_pixel_data_element_say_no_pixel_data(qtbot, gui_archive, tmp_path):
    """Rows/Columns/BitsAllocated present but no Pixel Data (pydicom's chrJapMulti.dcm is such a CR)."""
    from tests.data import test_file

    ds = pydicom.dcmread(test_file("CT_small.dcm"))
    del ds.PixelData
    ds.save_as(tmp_path / "header_only.dcm")
    assert gui_archive.import_paths([tmp_path / "header_only.dcm"]).imported == 1
    panel = _panel(qtbot, gui_archive)
    _show(qtbot, panel, ds.StudyInstanceUID, 1)
    item = panel.item(0)
    assert item.data(panel.PREVIEW_ROLE) == "none"
    # The reason names the object and says the file has no pixel data (not a decoder failure).
    assert "CT Image Storage (CT): no pixel data in the file" in item.toolTip()


def test_thumbnails_keep_the_pixels_proportions(tmp_path, qapp):
    """A coronal of 64 columns x 32 rows with 0.7 mm columns and 2.0 mm rows is 44.8 mm wide and 64 mm tall:
    its thumbnail is taller than wide (it was drawn 96 x 48, squashed)."""
    from tests.gui.viewer.viewer_data import write_ct_series
    from workstation.gui.series_panel import THUMB, render_thumbnail

    paths = write_ct_series(tmp_path / "cor", 3, rows=32, cols=64, spacing=(2.0, 0.7), plane="coronal")
    img = render_thumbnail(paths[1])
    assert (img.width(), img.height()) == (round(THUMB * 44.8 / 64), THUMB)
