"""What the viewer shows by default (same picture as ``workstation render``), VOI LUTs, cine speed from the file,
first image of the sorted series, the window's shared memory budget, the angle tool and deleting measurements."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from viewer_data import write_ct_series
from viewer_events import click, drag, hover, key

from workstation import imaging
from workstation.config import Settings

# Through the tests package: putting tests/ itself on sys.path made tests/packaging shadow the installed
# 'packaging' (qtpy imports packaging.version) for every test module collected after this one.
from tests.data import test_file  # noqa: E402

Qt = QtCore.Qt
SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7"


def shown_image(vp) -> np.ndarray:
    """The 8-bit picture pyqtgraph's ImageItem renders for the current frame (gray, rows x cols)."""
    vp.image.render()
    qimg = vp.image.qimage.convertToFormat(QtGui.QImage.Format_RGB32)
    w, h = qimg.width(), qimg.height()
    ptr = qimg.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=qimg.bytesPerLine() * h).reshape(h, qimg.bytesPerLine())
    bgra = arr[:, : 4 * w].reshape(h, w, 4)
    return bgra[..., :3][..., ::-1].copy()  # RGB


def assert_matches_render(vp):
    arr = vp.current_array()
    expected = imaging.render(vp.presentation, arr)  # default presentation, as the CLI renders it
    got = shown_image(vp)
    if expected.ndim == 2:
        assert np.array_equal(got[..., 0], got[..., 1]) and np.array_equal(got[..., 0], got[..., 2])
        got = got[..., 0]
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= 1, f"viewer and render differ by {diff.max()} gray levels"


def write_voi_lut_image(path, n_luts=2, window=False) -> str:
    """16-bit signed MR-like image whose default presentation is a VOI LUT Sequence (no window unless asked)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SC_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = SC_STORAGE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "OT", "Lut^Test", "L1"
    ds.Rows = ds.Columns = 32
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    yy, xx = np.mgrid[0:32, 0:32]
    ds.PixelData = ((xx * 32 + yy) * 4).astype(np.uint16).tobytes()
    items = []
    for k in range(n_luts):
        item = Dataset()
        # LUT k: maps 0..4095 with a gamma; 4096 entries, 16-bit output.
        x = np.linspace(0, 1, 4096)
        item.LUTDescriptor = [4096, 0, 16]
        item.add_new(0x00283006, "OW", (x ** (0.5 + k) * 65535).astype("<u2").tobytes())
        item.LUTExplanation = ["GAMMA HALF", "GAMMA 1.5", "GAMMA 2.5"][k]
        items.append(item)
    ds.VOILUTSequence = Sequence(items)
    if window:
        ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.save_as(path, enforce_file_format=True)
    return str(path)


def write_multiframe(path, frames=6, **cine) -> str:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SC_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = SC_STORAGE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName = "US", "Cine^Test"
    ds.Rows = ds.Columns = 16
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = (np.arange(frames * 256) % 256).astype(np.uint8).tobytes()
    for k, v in cine.items():
        setattr(ds, k, v)
    ds.save_as(path, enforce_file_format=True)
    return str(path)


# -- 1. default presentation and VOI LUTs -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "vlut_04.dcm", "6154", "emri_small.dcm"])
def test_default_picture_matches_render(open_viewer, name):
    win = open_viewer([str(test_file(name))])
    vp = win.active
    assert_matches_render(vp)


def test_monochrome1_is_inverted(open_viewer):
    win = open_viewer([str(test_file("6154"))])
    vp = win.active
    assert vp.presentation.inverse
    arr = vp.current_array()
    got = shown_image(vp)[..., 0].astype(int)
    # The largest stored values are the darkest on screen.
    assert got[arr == arr.max()].mean() < got[arr == arr.min()].mean()


def test_voi_lut_is_the_default_and_a_preset(open_viewer, tmp_path):
    from workstation.gui.viewer.overlay import corner_texts

    path = write_voi_lut_image(tmp_path / "lut.dcm")
    win = open_viewer([path])
    vp = win.active
    assert vp.state.lut == 0 and vp.current_voi_lut() is vp.presentation.voi_luts[0]
    assert_matches_render(vp)
    # Not a full-range window: the LUT's gamma brightens the mid-grays.
    arr = vp.current_array()
    mid = shown_image(vp)[..., 0][(arr > 1900) & (arr < 2200)].mean()
    assert mid > 160
    readout = corner_texts(vp)["bottom_right"][0]
    assert "VOI LUT 1" in readout and "GAMMA HALF" in readout and "W " not in readout
    presets = vp.file_presets()  # the file's own windows and LUTs: Shift+1..9, listed apart from 1..9
    lut_presets = [p for p in presets if p.source == "lut"]
    assert [p.name for p in lut_presets] == ["VOI LUT 1: GAMMA HALF", "VOI LUT 2: GAMMA 1.5"]
    win._fill_presets()
    texts = [a.text() for a in win.preset_menu.actions()]
    assert any("GAMMA 1.5" in t for t in texts)
    # Shift+2 selects the second LUT (keys 1..9 are the modality's own presets).
    key(vp, Qt.Key_2, Qt.ShiftModifier)
    assert vp.state.lut == 1
    expected = imaging.render(vp.presentation, arr, vp.presentation.voi_luts[1])
    assert np.abs(shown_image(vp)[..., 0].astype(int) - expected.astype(int)).max() <= 1
    assert "GAMMA 1.5" in corner_texts(vp)["bottom_right"][0]
    # A window drag leaves the LUT for a window starting where the LUT was; Reset goes back to LUT 1.
    c = vp.center_width = (vp.state.center, vp.state.width)
    vp.drag_window(10, 0)
    assert vp.state.lut is None and vp.state.width > c[1]
    assert corner_texts(vp)["bottom_right"][0].startswith("W ")
    vp.reset()
    assert vp.state.lut == 0
    assert_matches_render(vp)


def test_file_window_wins_over_voi_lut(open_viewer, tmp_path):
    path = write_voi_lut_image(tmp_path / "both.dcm", window=True)
    win = open_viewer([path])
    vp = win.active
    assert vp.state.lut is None
    assert (vp.state.center, vp.state.width) == (2048, 4096)
    assert_matches_render(vp)
    assert [p.source for p in vp.file_presets()][:3] == ["file", "lut", "lut"]


# -- 2. cine speed from the file ----------------------------------------------------------------------------------
@pytest.mark.parametrize("attrs, fps", [
    ({"FrameTime": 50.0}, 20.0),
    ({"CineRate": 12}, 12.0),
    ({"RecommendedDisplayFrameRate": 30, "FrameTime": 100.0}, 30.0),
    ({"FrameTimeVector": [0, 40, 40, 40, 40, 40]}, 25.0),
    ({}, 15.0),
])
def test_cine_speed_from_file(open_viewer, tmp_path, attrs, fps):
    path = write_multiframe(tmp_path / "cine.dcm", **attrs)
    win = open_viewer([path])
    vp = win.active
    assert vp.state.fps == pytest.approx(fps)
    assert win.fps_box.value() == round(fps)
    key(vp, Qt.Key_Space)
    assert vp._cine.interval() == round(1000 / fps)
    key(vp, Qt.Key_Space)


# -- 3. the sorted series starts at its first image --------------------------------------------------------------
def test_sorted_series_opens_on_first_image(open_viewer, tmp_path, qtbot):
    paths = write_ct_series(tmp_path / "s", 8)  # written in reverse order: paths[0] is the last slice
    win = open_viewer([paths])
    vp = win.active
    assert vp.state.frame == 0
    zs = [vp.stack.geometry(i).image_position[2] for i in range(len(vp.stack))]
    assert zs == sorted(zs)
    assert vp.stack.source(0).path != paths[0]
    qtbot.waitUntil(lambda: vp.current_array() is not None)
    assert np.array_equal(vp.current_array(), vp.stack.get_frame(0))


# -- 4. one memory budget per window ----------------------------------------------------------------------------
def test_window_uses_settings_memory_fraction_shared(open_viewer, qtbot, tmp_path):
    from workstation.gui.viewer.window import ViewerWindow

    ram = imaging.total_memory()
    assert ram
    frame_bytes = 64 * 64 * 2
    fraction = 20 * frame_bytes / ram  # room for 20 frames in the whole window
    settings = Settings(memory_budget_fraction=fraction)
    a = write_ct_series(tmp_path / "a", 30, series_number=1)
    b = write_ct_series(tmp_path / "b", 30, series_number=2)
    win = ViewerWindow([a, b], settings=settings, layout="1x2")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.is_loaded, timeout=15000)
    try:
        budget = win.memory_budget
        assert budget.total == int(ram * fraction)
        stacks = [e.stack for e in win.entries if e.stack is not None]
        assert len(stacks) == 2 and all(s.shared_budget is budget for s in stacks)
        assert set(budget.stacks) == set(stacks)  # the quick preview's stack gave its share back
        assert sum(s.memory_budget for s in stacks) <= budget.total
        assert not any(s.fits_budget for s in stacks)
        for vp in win.visible_viewports:
            for i in range(len(vp.stack)):
                vp.stack.get_frame(i, timeout=10)
        assert budget.used() <= budget.total + frame_bytes
    finally:
        win.close()


def test_default_budget_is_a_quarter_of_ram(open_viewer, ct_series):
    win = open_viewer([ct_series])
    assert win.memory_budget.total == int(imaging.total_memory() * 0.25)


def test_memory_budget_shares():
    budget = imaging.MemoryBudget(1000)

    class FakeStack:
        def __init__(self, raw):
            self.raw_bytes, self._volume = raw, None

        def cached_bytes(self):
            return 0

    s1, s2 = FakeStack(300), FakeStack(900)
    budget.register(s1)
    assert budget.share(s1) == 1000  # alone: the whole budget
    budget.register(s2)
    assert budget.share(s1) + budget.share(s2) <= 1000
    assert budget.share(s2) == 3 * budget.share(s1)
    s1._volume = object()  # s1 committed its whole volume: s2 gets the rest
    assert budget.share(s1) == 300 and budget.share(s2) == 700
    budget.unregister(s1)
    assert budget.share(s2) == 1000


# -- 5. angle tool and deleting measurements ------------------------------------------------------------------
def test_angle_three_clicks(open_viewer, ct_series, qtbot):
    from workstation.gui.viewer.overlay import measurement_label

    win = open_viewer([ct_series])
    vp = win.active
    win.set_tool("angle")
    assert "vertex" in win.tool_actions["angle"].statusTip()
    # Pixel spacing is 0.5 mm (rows) x 0.7 mm (columns): (20, 28) pixels is 45° in millimetres.
    a, v, c = vp.widget_point((40, 10)), vp.widget_point((10, 10)), vp.widget_point((30, 38))
    click(vp, (a.x(), a.y()))
    hover(vp, (v.x() + 3, v.y() + 3))
    assert vp._draft is not None and len(vp.measurements.on(vp.frame_key)) == 0
    click(vp, (v.x(), v.y()))
    hover(vp, (c.x() - 5, c.y()))
    click(vp, (c.x(), c.y()))
    items = vp.measurements.on(vp.frame_key)
    assert len(items) == 1 and items[0].kind == "angle" and vp._draft is None
    assert float(measurement_label(vp, items[0]).rstrip("°")) == pytest.approx(45, abs=3)
    # Drag the first arm, then click the end of the second one: the same kind of angle.
    a2, v2, c2 = vp.widget_point((10, 50)), vp.widget_point((30, 50)), vp.widget_point((30, 20))
    drag(vp, (a2.x(), a2.y()), (v2.x(), v2.y()))
    click(vp, (c2.x(), c2.y()))
    items = vp.measurements.on(vp.frame_key)
    assert len(items) == 2
    assert float(measurement_label(vp, items[1]).rstrip("°")) == pytest.approx(90, abs=3)
    # Esc cancels an angle in progress.
    click(vp, (a.x(), a.y()))
    key(vp, Qt.Key_Escape)
    assert vp._draft is None and len(vp.measurements.on(vp.frame_key)) == 2


def test_select_and_delete_one_measurement(open_viewer, ct_series):
    win = open_viewer([ct_series])
    vp = win.active
    win.set_tool("distance")
    p = [vp.widget_point(pt) for pt in ((5, 5), (25, 5), (5, 30), (25, 30))]
    drag(vp, (p[0].x(), p[0].y()), (p[1].x(), p[1].y()))
    drag(vp, (p[2].x(), p[2].y()), (p[3].x(), p[3].y()))
    win.set_tool("rectangle")
    r0, r1 = vp.widget_point((40, 40)), vp.widget_point((55, 55))
    drag(vp, (r0.x(), r0.y()), (r1.x(), r1.y()))
    first, second, rect = vp.measurements.on(vp.frame_key)
    mid = vp.widget_point((15, 30))
    click(vp, (mid.x(), mid.y()))
    assert vp.selected is second
    key(vp, Qt.Key_Delete)
    assert vp.measurements.on(vp.frame_key) == [first, rect]
    edge = vp.widget_point((47, 40))
    click(vp, (edge.x(), edge.y()))
    assert vp.selected is rect
    empty = vp.widget_point((60, 10))
    click(vp, (empty.x(), empty.y()))  # a click elsewhere deselects (and draws nothing)
    assert vp.selected is None and len(vp.measurements.on(vp.frame_key)) == 2
    click(vp, (edge.x(), edge.y()))
    key(vp, Qt.Key_Backspace)
    assert vp.measurements.on(vp.frame_key) == [first]


# -- 6. things seen on screenshots -------------------------------------------------------------------------------
def test_layout_box_shows_the_layout_given(open_viewer, ct_series):
    win = open_viewer([ct_series], layout="1x2")
    assert win.layout_box.currentText() == "1x2"


def test_corner_texts_never_reach_the_middle(open_viewer, ct_series, monkeypatch):
    """Long descriptions are elided to less than half the viewport: left and right blocks cannot overlap."""
    from workstation.gui.viewer import overlay

    win = open_viewer([ct_series], layout="2x2")
    vp = win.active
    vp.header["SeriesDescription"] = "a very long series description " * 5
    vp.header["PatientName"] = "Somebody^With^An^Extraordinarily^Long^Name^Indeed"
    drawn = []
    real = overlay._text

    def spy(p, rect, flags, text, color=overlay.TEXT):
        drawn.append((flags, text, p.fontMetrics()))
        real(p, rect, flags, text, color)

    monkeypatch.setattr(overlay, "_text", spy)
    vp.grab_view(True)
    w = vp.canvas.width()
    corners = [(f, t, fm) for f, t, fm in drawn if "\n" in t or "Se 1" in t]
    assert corners
    for _f, text, fm in corners:
        for line in text.split("\n"):
            assert fm.horizontalAdvance(line) < w / 2
