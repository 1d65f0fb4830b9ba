"""A presentation state's shutters, activated overlays and displayed area, drawn by the viewer.

Shutter geometry is the standard's (PS3.3 C.7.6.11): pixel centres 1-based, edges inside, defined on the image
before rotation - so a rotated image shows the same pixels hidden. Checked on the rendered viewport: each image
pixel's centre is mapped to the screen and the colour read there.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from tests.peers import make_ct_series
from workstation.dicom.ps_writer import DisplayState
from workstation.gui import operations as ops
from workstation.reading.results import save_presentation_state

N = 32


@pytest.fixture
def study(main_window, tmp_path):
    uid = generate_uid()
    paths = make_ct_series(tmp_path / "a", 2, rows=N, columns=N, study_uid=uid)
    assert not main_window.archive.import_paths(paths).rejected
    return uid


def _images(archive, study):
    rows = sorted(archive.query("instance", {"StudyInstanceUID": study, "Modality": "CT"}),
                  key=lambda r: int(r["InstanceNumber"]))
    return [r["SOPInstanceUID"] for r in rows]


def _store_ps(archive, study, tmp_path, edit, rotation=0):
    """Our own PS of the series (white window), changed by ``edit(ds)`` as another system would write it."""
    saved = save_presentation_state(archive, [], DisplayState(window=(-5000.0, 10.0), rotation=rotation),
                                    images=_images(archive, study), label="BASE")
    ds = pydicom.dcmread(saved.path)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.ContentLabel, ds.PresentationCreationTime = "OTHER", "235959"
    edit(ds)
    path = tmp_path / f"{ds.SOPInstanceUID}.dcm"
    ds.save_as(path, enforce_file_format=True)
    archive.store_bytes(path.read_bytes(), source="test")


def _open(qtbot, main_window, study):
    win = main_window._open_groups(ops.series_groups(main_window.archive, study, None))
    win.resize(700, 600)
    qtbot.waitUntil(lambda: win.is_loaded and win.active.current_array() is not None, timeout=20000)
    vp = win.viewports[0]
    qtbot.waitUntil(lambda: vp.ps_note.startswith("PS OTHER"), timeout=10000)
    qtbot.wait(50)
    return win, vp


def _screen_grey(vp) -> np.ndarray:
    """The grey shown at the centre of every image pixel, (rows, columns), read from the rendered canvas."""
    vp.state.update(overlay=False)  # the corner texts would cover some pixels
    vp.canvas.viewport().update()
    img = vp.canvas.grab().toImage()
    vp.state.update(overlay=True)
    out = np.zeros((N, N), dtype=int)
    for r in range(N):
        for c in range(N):
            p = vp.widget_point((c + 0.5, r + 0.5)).toPoint()
            out[r, c] = img.pixelColor(p).red()
    return out


def _check(vp, hidden: np.ndarray) -> None:
    shown = _screen_grey(vp)
    assert (shown[hidden] == 0).all(), np.argwhere(hidden & (shown != 0))[:5]
    assert (shown[~hidden] > 200).all(), np.argwhere(~hidden & (shown <= 200))[:5]


def _centres():
    r = np.arange(1, N + 1)[:, None] * np.ones((1, N))
    c = np.ones((N, 1)) * np.arange(1, N + 1)[None, :]
    return r, c


def test_a_rectangular_shutter_hides_what_the_standard_says_and_turns_with_the_image(qtbot, main_window, study,
                                                                                    tmp_path):
    def edit(ds):
        ds.ShutterShape = "RECTANGULAR"
        ds.ShutterLeftVerticalEdge, ds.ShutterRightVerticalEdge = 5, 20
        ds.ShutterUpperHorizontalEdge, ds.ShutterLowerHorizontalEdge = 3, 28
        ds.ShutterPresentationValue = 0

    _store_ps(main_window.archive, study, tmp_path, edit, rotation=90)
    win, vp = _open(qtbot, main_window, study)
    assert vp.state.rotation == 90
    assert "shutter" not in vp.ps_note  # drawn, so not named as "not shown"
    r, c = _centres()
    hidden = ~((c >= 5) & (c <= 20) & (r >= 3) & (r <= 28))
    _check(vp, hidden)
    # Another frame the PS references: the shutter stays; the measurements still read the image's own values.
    vp.state.update(frame=1)
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=5000)
    _check(vp, hidden)
    assert int(vp.current_array()[0, 0]) == int(vp.stack.get_frame(1)[0, 0])
    win.close()


def test_circular_and_polygonal_shutters_show_only_what_both_leave_open(qtbot, main_window, study, tmp_path):
    def edit(ds):
        ds.ShutterShape = "CIRCULAR\\POLYGONAL"
        ds.CenterOfCircularShutter = [16, 16]  # row, column
        ds.RadiusOfCircularShutter = 12
        ds.VerticesOfThePolygonalShutter = [2, 2, 2, 30, 30, 2]  # (row, column) pairs: a triangle
        ds.ShutterPresentationValue = 0

    _store_ps(main_window.archive, study, tmp_path, edit)
    win, vp = _open(qtbot, main_window, study)
    r, c = _centres()
    in_circle = (r - 16) ** 2 + (c - 16) ** 2 <= 144
    in_triangle = (r >= 2) & (c >= 2) & (r + c <= 32)  # the edge r + c = 32 is inside
    _check(vp, ~(in_circle & in_triangle))
    win.close()


def test_an_overlay_the_ps_holds_and_activates_is_drawn(qtbot, main_window, study, tmp_path):
    bits = np.zeros((N, N), dtype=np.uint8)
    bits[10, 4:28] = 1  # a line on row 11 (1-based)

    def edit(ds):
        from tests.dicom import gsps

        gsps.add_overlay(ds, bits)
        ds.WindowCenter, ds.WindowWidth = None, None

    _store_ps(main_window.archive, study, tmp_path, edit)
    win, vp = _open(qtbot, main_window, study)
    assert "overlay" not in vp.ps_note
    shown = vp.ps_layers.overlay.image
    assert shown is not None and vp.ps_layers.overlay.isVisible()
    np.testing.assert_array_equal(shown[..., 3] > 0, bits.astype(bool))
    win.close()


def test_the_displayed_area_is_what_fills_the_viewport(qtbot, main_window, study, tmp_path):
    def edit(ds):
        item = ds.DisplayedAreaSelectionSequence[0]
        item.DisplayedAreaTopLeftHandCorner = [9, 9]
        item.DisplayedAreaBottomRightHandCorner = [24, 24]
        item.PresentationSizeMode = "SCALE TO FIT"

    _store_ps(main_window.archive, study, tmp_path, edit)
    win, vp = _open(qtbot, main_window, study)
    a = vp.widget_point((8.0, 8.0))  # the area's outer corners: pixel edges of (9, 9) and (24, 24)
    b = vp.widget_point((24.0, 24.0))
    side = min(vp.canvas.viewport().width(), vp.canvas.viewport().height())
    assert abs(abs(b.x() - a.x()) - side) <= 2 or abs(abs(b.y() - a.y()) - side) <= 2
    centre = vp.widget_point((16.0, 16.0))
    assert abs(centre.x() - vp.canvas.viewport().width() / 2) <= 2
    assert abs(centre.y() - vp.canvas.viewport().height() / 2) <= 2
    assert "displayed area" not in vp.ps_note
    win.close()


def test_saving_again_keeps_the_shutter_and_the_zoom_in_force(qtbot, main_window, study, tmp_path):
    from workstation.dicom.presentation_state import read_presentation_state

    def edit(ds):
        ds.ShutterShape = "CIRCULAR"
        ds.CenterOfCircularShutter = [16, 17]
        ds.RadiusOfCircularShutter = 11
        ds.ShutterPresentationValue = 0

    _store_ps(main_window.archive, study, tmp_path, edit)
    win, vp = _open(qtbot, main_window, study)
    vp.state.update(zoom=vp.fit_zoom() * 2.0, pan=(12.0, 14.0))
    zoom = vp.state.zoom
    rows = lambda: main_window.archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})  # noqa
    before = {r["SOPInstanceUID"] for r in rows()}
    win.pstates.save(vp)
    qtbot.waitUntil(lambda: len(rows()) > len(before), timeout=15000)
    (new,) = [r for r in rows() if r["SOPInstanceUID"] not in before]
    ps = read_presentation_state(new["path"])
    assert ps.shutters.circle == (16, 17, 11) and ps.shutters.presentation_value == 0
    area = ps.displayed_areas[0]
    (c0, r0), (c1, r1) = area.tlhc, area.brhc
    assert (c0 - 1 + c1) / 2 == pytest.approx(12.0, abs=0.5) and (r0 - 1 + r1) / 2 == pytest.approx(14.0, abs=0.5)
    assert 1 <= c0 <= c1 <= N and 1 <= r0 <= r1 <= N  # within the image (dciodvfy reads corners as unsigned)
    assert area.size_mode == "MAGNIFY" and area.magnification == pytest.approx(zoom, rel=1e-3)
    # Applied again: the same shutter, about the same zoom.
    entry = next(e for e in win.pstates.catalog_for(vp) if e.sop_instance_uid == new["SOPInstanceUID"])
    vp.state.update(zoom=None, pan=None)
    win.pstates.apply(vp, entry)
    assert vp.ps_layers.shutter.isVisible()
    assert vp.state.zoom == pytest.approx(zoom, rel=1e-3)
    assert vp.state.pan == pytest.approx((12.0, 14.0), abs=0.5)
    win.close()


def test_another_systems_graphics_are_drawn_on_the_image(qtbot, main_window, study, tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    def edit(ds):
        layer = Dataset()
        layer.GraphicLayer, layer.GraphicLayerOrder = "CAD", 9
        ds.GraphicLayerSequence = Sequence(list(ds.get("GraphicLayerSequence", [])) + [layer])
        g = Dataset()
        g.GraphicAnnotationUnits, g.GraphicDimensions, g.NumberOfGraphicPoints = "PIXEL", 2, 2
        g.GraphicData, g.GraphicType, g.GraphicFilled = [4.5, 20.5, 27.5, 20.5], "POLYLINE", "N"
        t = Dataset()
        t.UnformattedTextValue = "A"
        t.AnchorPointAnnotationUnits, t.AnchorPoint, t.AnchorPointVisibility = "PIXEL", [6.0, 6.0], "N"
        item = Dataset()
        item.ReferencedImageSequence = ds.ReferencedSeriesSequence[0].ReferencedImageSequence
        item.GraphicLayer = "CAD"
        item.GraphicObjectSequence, item.TextObjectSequence = Sequence([g]), Sequence([t])
        ds.GraphicAnnotationSequence = Sequence(list(ds.get("GraphicAnnotationSequence", [])) + [item])

    _store_ps(main_window.archive, study, tmp_path, edit)
    win, vp = _open(qtbot, main_window, study)
    assert "not shown" not in vp.ps_note, vp.ps_note
    layer = vp.ps_layers.graphics
    assert layer.isVisible() and layer.image is not None
    alpha = layer.image[..., 3] > 0
    assert alpha[20, 4:28].all() and not alpha[20, 29:].any()  # the line, where its PIXEL coordinates put it
    assert alpha[6:14, 6:20].any()  # the text beside its anchor
    vp.state.update(overlay=False)  # O hides them with the other annotations
    assert not layer.isVisible()
    win.close()


def test_a_voi_lut_of_the_ps_is_shown_saved_back_and_left_by_a_window_drag(qtbot, main_window, study, tmp_path):
    from tests.dicom import gsps
    from workstation.dicom.presentation_state import read_presentation_state

    path = sorted(main_window.archive.query("instance", {"StudyInstanceUID": study, "Modality": "CT"}),
                  key=lambda r: int(r["InstanceNumber"]))[0]["path"]
    image = pydicom.dcmread(path)
    values = image.pixel_array * float(image.get("RescaleSlope", 1)) + float(image.get("RescaleIntercept", 0))
    step = int(np.median(values)) + 1
    first = int(values.min()) - 10
    table = np.where(np.arange(first, first + 9000) >= step, 4095, 0)  # 12-bit entries: one step

    def edit(ds):
        for keyword in ("SoftcopyVOILUTSequence",):
            if keyword in ds:
                del ds[keyword]
        gsps.set_voi_lut(ds, first, table, 12)
        ds.SoftcopyVOILUTSequence[0].VOILUTSequence[0]["LUTDescriptor"].VR = "SS"  # a negative first value (CT)

    _store_ps(main_window.archive, study, tmp_path, edit)
    win, vp = _open(qtbot, main_window, study)
    assert vp.current_voi_lut() is vp.ps_voi_lut is not None
    assert "VOI" not in vp.ps_note
    frame = vp.current_array().astype(float)
    slope = float(vp.stack.header(vp.state.frame).get("RescaleSlope", 1) or 1)
    intercept = float(vp.stack.header(vp.state.frame).get("RescaleIntercept", 0) or 0)
    white = frame * slope + intercept >= step
    assert white.any() and (~white).any()
    _check(vp, ~white)  # black below the step, white above: the LUT, not a window
    # Saved again: the LUT goes with it (16-bit entries, the same curve).
    rows = lambda: main_window.archive.query("instance", {"StudyInstanceUID": study, "Modality": "PR"})  # noqa
    before = {r["SOPInstanceUID"] for r in rows()}
    win.pstates.save(vp)
    qtbot.waitUntil(lambda: len(rows()) > len(before), timeout=15000)
    (new,) = [r for r in rows() if r["SOPInstanceUID"] not in before]
    lut = read_presentation_state(new["path"]).voi[0].lut
    assert lut is not None and lut.first_mapped == first
    np.testing.assert_allclose(lut.table / ((1 << lut.bits) - 1), table / 4095.0)
    vp.state.drag_window(5, 5, 1.0)  # the reader's own window from here on
    assert vp.current_voi_lut() is None
    win.close()



def test_a_window_set_before_the_first_frame_is_decoded_stays(open_viewer, qtbot):
    """An image without a window of its own opens with one from its values, computed when its frame arrives; a
    window set before that moment (a presentation state applied early: seen on CT_small in the app) was lost."""
    from tests.data import test_file
    from workstation.imaging import open_series

    ct = str(test_file("CT_small.dcm"))
    win = open_viewer([ct])
    vp = win.active
    import threading

    (stack,) = open_series([ct])
    # Its frame arrives from a worker once the window is set (held back: on a loaded machine it came first).
    set_first = threading.Event()
    decode = stack._decode
    stack._decode = lambda index: (set_first.wait(10), decode(index))[1]
    vp.set_stack(stack, dict(vp.header))
    assert vp._needs_auto is not None and vp.current_array() is None  # the opening window is still to come
    vp.state.set_window(40.0, 400.0)
    set_first.set()
    qtbot.waitUntil(lambda: vp.current_array() is not None, timeout=10000)
    qtbot.wait(100)
    assert (vp.state.center, vp.state.width) == (40.0, 400.0)
