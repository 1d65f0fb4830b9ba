"""Current and prior side by side: each viewport says which study it shows, so they can never be confused."""

from __future__ import annotations

from tests.reading.test_priors import write_study
from workstation.gui.viewer.overlay import CURRENT, PRIOR, study_badge


def test_each_viewport_names_its_study(qtbot, open_viewer, tmp_path):
    _c, current = write_study(tmp_path / "c", "P1", "Doe^Jane", "20240515", 0, instances=3)
    _p, prior = write_study(tmp_path / "p", "P1", "Doe^Jane", "20220310", 0, instances=3)
    win = open_viewer([[str(p) for p in current], [str(p) for p in prior]], layout="1x2")
    qtbot.waitUntil(lambda: len(win.entries) == 2, timeout=10000)
    win.show_entry(0, 0)
    win.show_entry(1, 1)
    assert study_badge(win.viewports[0]) == ("Current 2024-05-15", CURRENT)
    assert study_badge(win.viewports[1]) == ("Prior 2022-03-10", PRIOR)
    # Dropping the current study into the second viewport: both say "Current", none says "Prior".
    win.show_entry(1, 0)
    assert study_badge(win.viewports[1])[0] == "Current 2024-05-15"


def test_one_study_needs_no_badge(qtbot, open_viewer, tmp_path):
    _c, current = write_study(tmp_path / "c", "P1", "Doe^Jane", "20240515", 0, instances=3)
    win = open_viewer([str(p) for p in current])
    assert study_badge(win.active) is None


def _prior_beside_current(qtbot, open_viewer, tmp_path):
    """A current and a prior study side by side; the prior shown (and decoded) in the second viewport."""
    _c, current = write_study(tmp_path / "c", "P1", "Doe^Jane", "20240515", 0, instances=3)
    _p, prior = write_study(tmp_path / "p", "P1", "Doe^Jane", "20220310", 0, instances=3)
    win = open_viewer([[str(p) for p in current], [str(p) for p in prior]], layout="1x2")
    qtbot.waitUntil(lambda: len(win.entries) == 2, timeout=10000)
    win.show_entry(1, 1)
    vp = win.viewports[1]
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=10000)
    return win, vp


def test_the_badge_is_painted_even_without_annotations(qtbot, open_viewer, tmp_path):
    import numpy as np
    from PySide6 import QtGui

    win, vp = _prior_beside_current(qtbot, open_viewer, tmp_path)
    image = vp.grab_view(annotations=False).toImage().convertToFormat(QtGui.QImage.Format_RGB888)
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, image.sizeInBytes()).reshape(image.height(), image.bytesPerLine())
    rgb = arr[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    amber = (rgb[..., 0] > 200) & (rgb[..., 1] > 150) & (rgb[..., 1] < 220) & (rgb[..., 2] < 110)
    assert amber[:60].sum() > 30  # the amber "Prior" badge at the top


def test_the_series_strip_groups_by_study(qtbot, open_viewer, tmp_path):
    _p, prior = write_study(tmp_path / "p", "P1", "Doe^Jane", "20220310", 0, instances=2)
    _c, current = write_study(tmp_path / "c", "P1", "Doe^Jane", "20240515", 0, instances=2)
    _o, older = write_study(tmp_path / "o", "P1", "Doe^Jane", "20190101", 0, instances=2)
    # the current study first (as the app opens a comparison), the priors after it in any order
    win = open_viewer([[str(p) for p in current], [str(p) for p in older], [str(p) for p in prior]])
    qtbot.waitUntil(lambda: len(win.entries) == 3, timeout=10000)
    strip = win.thumbnails
    firsts = [strip.item(r).text().splitlines()[0] for r in range(strip.count())]
    assert firsts == ["Current 2024-05-15", "Prior 2022-03-10", "Prior 2019-01-01"]


def test_zoom_and_window_follow_between_current_and_prior_and_a_viewport_can_be_unlinked(qtbot, open_viewer,
                                                                                          tmp_path):
    from tests.peers import make_ct_series
    from workstation.gui.viewer.overlay import corner_texts

    current = make_ct_series(tmp_path / "c", 4, rows=32, columns=32, patient_id="P1", study_date="20240515")
    prior = make_ct_series(tmp_path / "p", 4, rows=32, columns=32, patient_id="P1", study_date="20220310")
    win = open_viewer([[str(p) for p in current], [str(p) for p in prior]], layout="1x2")
    qtbot.waitUntil(lambda: len(win.entries) == 2, timeout=10000)
    win.show_entry(0, 0)
    win.show_entry(1, 1)
    a, b = win.viewports[0], win.viewports[1]
    qtbot.waitUntil(lambda: a.current_array() is not None and b.current_array() is not None, timeout=10000)
    assert (a.state.center, a.state.width) == (b.state.center, b.state.width)  # both open at the file's window
    a.state.update(zoom=3.0)
    a.state.set_window(123, 456)
    assert b.state.zoom == 3.0 and (b.state.center, b.state.width) == (123, 456)
    win.toggle_link(b)
    assert not b.sync_linked and "unlinked" in corner_texts(b)["bottom_right"]
    a.state.update(zoom=1.5)
    assert b.state.zoom == 3.0  # an unlinked viewport keeps its own view
    b.state.set_window(10, 20)
    assert (a.state.center, a.state.width) == (123, 456)  # and leads nobody
    win.toggle_link(b)
    a.state.update(zoom=2.0)
    assert b.state.zoom == 2.0
    a.state.set_window(99, 99)
    assert (b.state.center, b.state.width) == (10, 20)  # set apart by the reader: its window stays its own


def test_the_badge_never_covers_the_top_corner_lines_in_a_narrow_cell(qtbot, open_viewer, tmp_path):
    """In a narrow cell the top corners' lines (patient, study, series) reach under the centred badge: the badge
    goes below them rather than over them (seen in a 2x2 hanging of current and prior chest CT)."""
    from PySide6 import QtGui

    from workstation.gui.viewer import overlay

    win, vp = _prior_beside_current(qtbot, open_viewer, tmp_path)
    moved = 0
    for width in (260, 320, 420, 600, 900):
        win.resize(2 * width + 150, 600)
        qtbot.wait(50)
        w = vp.canvas.width()
        font = QtGui.QFont(vp.canvas.font())
        font.setPixelSize(12)
        fm = QtGui.QFontMetricsF(font)
        blocks = overlay.top_blocks(fm, overlay.fitted_corner_texts(vp, fm, w, 6), w, 6)
        text, _color = overlay.study_badge(vp)
        plain = overlay.badge_rect(vp, overlay._badge_font(vp.canvas.font()), text)
        placed = overlay.badge_rect(vp, overlay._badge_font(vp.canvas.font()), text, blocks)
        assert not any(placed.intersects(b) for b in blocks), (w, placed, blocks)
        assert placed.top() < vp.canvas.height() / 3  # still at the top, where it is looked for
        moved += placed.top() > plain.top()
    assert moved  # at least one of these widths had the corners reach under the badge
