"""The viewer's series strip: thumbnails with the pixels' real proportions, image counts in real plurals."""

from __future__ import annotations

from viewer_data import write_ct_series
from workstation.gui.viewer.thumbnails import ICON, thumbnail_image
from workstation.gui.viewer.voi import fitted_size, pixel_aspect


def test_fitted_size():
    assert fitted_size(32, 64, 1.0, 96) == (96, 48)
    assert fitted_size(32, 64, 2.0 / 0.7, 96) == (67, 96)
    assert pixel_aspect((2.0, 0.7)) == 2.0 / 0.7 and pixel_aspect(None) == 1.0


def test_a_coronal_thumbnail_is_not_squashed(open_viewer, tmp_path):
    paths = write_ct_series(tmp_path / "cor", 3, rows=32, cols=64, spacing=(2.0, 0.7), plane="coronal")
    win = open_viewer([paths])
    img = thumbnail_image(win.entries[0])
    assert (img.width(), img.height()) == (round(ICON * 44.8 / 64), ICON)  # was 96 x 48


def test_the_strip_counts_images_in_real_plurals(open_viewer, tmp_path):
    one = write_ct_series(tmp_path / "one", 1, series_number=1)
    four = write_ct_series(tmp_path / "four", 4, series_number=2)
    win = open_viewer([one, four])
    labels = sorted(win.thumbnails.item(i).text().split("\n")[-1] for i in range(win.thumbnails.count()))
    assert labels == ["1 image", "4 images"]  # was "1 im", "4 im"
