"""Overlay details that misled: an angiographic cine's opening window, C-arm angles, "-0.0 mm", the mouse tool
burned into exported pictures."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6 import QtGui
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from viewer_data import write_ct_series
from workstation.gui.viewer.orientation import positioner_angles, positioner_text
from workstation.gui.viewer.overlay import corner_texts

XA_STORAGE = "1.2.840.10008.5.1.4.1.1.12.1"


def write_xa_cine(path, frames: int = 9, rows: int = 48, cols: int = 48, window: bool = False, **attrs) -> str:
    """A multi-frame XA: frame 0 before the contrast (values 600..1400), the later frames with an opacified
    vessel (a dark band at 80) - the window of frame 0 leaves the vessel black."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = XA_STORAGE
    meta.MediaStorageSOPInstanceUID = sop = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = XA_STORAGE, sop
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Angio^Anna", "XA1", "XA"
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20240102", 1, 1
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = 66.7
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if window:
        ds.WindowCenter, ds.WindowWidth = 700, 1200
    for k, v in attrs.items():
        setattr(ds, k, v)
    yy, xx = np.mgrid[0:rows, 0:cols]
    base = (600 + (xx + yy) * 800 // (rows + cols - 2)).astype(np.uint16)
    stack = []
    for f in range(frames):
        frame = base.copy()
        if f > 0:
            frame[rows // 2 - 3: rows // 2 + 3, :] = 80
        stack.append(frame)
    ds.PixelData = np.stack(stack).tobytes()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_an_angiographic_cine_opens_with_the_window_of_a_frame_with_contrast(open_viewer, tmp_path):
    path = write_xa_cine(str(tmp_path / "xa" / "cine.dcm"))
    win = open_viewer([path])
    vp = win.active
    assert vp.state.frame == 0 and vp.state.n_frames == 9
    # The middle frame's range (80..1400), not the first frame's (600..1400) where the vessel is below the window.
    lo, hi = vp.state.center - vp.state.width / 2, vp.state.center + vp.state.width / 2
    assert lo <= 80 + 1 and hi >= 1400 - 1, (vp.state.center, vp.state.width)


def test_an_angiographic_cine_with_its_own_window_keeps_it(open_viewer, tmp_path):
    path = write_xa_cine(str(tmp_path / "xa" / "cine.dcm"), window=True)
    vp = open_viewer([path]).active
    assert (vp.state.center, vp.state.width) == (700.0, 1200.0)


def test_a_ct_stack_still_opens_with_its_first_images_window(open_viewer, tmp_path):
    vp = open_viewer([write_ct_series(tmp_path / "ct", 5)]).active
    assert (vp.state.center, vp.state.width) == (40.0, 400.0)


@pytest.mark.parametrize("primary,secondary,text", [
    (-30, 20, "RAO 30°  CRAN 20°"), (45.5, -25, "LAO 45.5°  CAUD 25°"), (0, 0, "LAO 0°  CRAN 0°"),
    (-0.01, -0.02, "LAO 0°  CRAN 0°"),
])
def test_positioner_text_follows_the_standards_signs(primary, secondary, text):
    assert positioner_text(primary, secondary) == text


def test_positioner_angles_per_frame():
    ds = Dataset()
    ds.PositionerPrimaryAngle, ds.PositionerSecondaryAngle = -30, 20
    assert positioner_angles(ds, 5) == (-30.0, 20.0)
    ds.PositionerMotion = "DYNAMIC"
    ds.PositionerPrimaryAngleIncrement = 2.0  # one value: the change per frame
    ds.PositionerSecondaryAngleIncrement = 0
    assert positioner_angles(ds, 5) == (-20.0, 20.0)
    ds.PositionerPrimaryAngleIncrement = [0, 1, 3]  # one per frame: offsets from the initial angle
    ds.PositionerSecondaryAngleIncrement = [0, 0, -5]
    assert positioner_angles(ds, 2) == (-27.0, 15.0)
    assert positioner_angles(Dataset(), 0) is None
    enhanced = Dataset()
    item, group = Dataset(), Dataset()
    item.PositionerPrimaryAngle, item.PositionerSecondaryAngle = 25, -10
    group.PositionerPositionSequence = [item]
    enhanced.SharedFunctionalGroupsSequence = [group]
    assert positioner_angles(enhanced, 3) == (25.0, -10.0)


def test_the_overlay_shows_the_c_arm_angles(open_viewer, tmp_path):
    path = write_xa_cine(str(tmp_path / "xa" / "cine.dcm"), PositionerPrimaryAngle=-30, PositionerSecondaryAngle=20)
    vp = open_viewer([path]).active
    assert "RAO 30°  CRAN 20°" in corner_texts(vp)["top_right"]
    ct = write_ct_series(tmp_path / "ct", 2)
    assert not any("RAO" in t or "LAO" in t for t in corner_texts(open_viewer([ct]).active)["top_right"])


def test_no_negative_zero_location(open_viewer, tmp_path):
    vp = open_viewer([write_ct_series(tmp_path / "ct", 3, origin_z=-0.04, shuffle=False)]).active
    vp.state.update(frame=0)
    lines = " ".join(corner_texts(vp)["bottom_left"])
    assert "Loc 0.0 mm" in lines and "-0.0" not in lines


def test_the_mouse_tool_is_not_burned_into_an_export(open_viewer, tmp_path, monkeypatch):
    vp = open_viewer([write_ct_series(tmp_path / "ct", 3)]).active
    assert "Tool: window" in corner_texts(vp)["bottom_right"]  # on the screen
    painted = []
    import workstation.gui.viewer.overlay as overlay

    original = overlay.corner_texts
    monkeypatch.setattr(overlay, "corner_texts", lambda v, **kw: painted.append(original(v, **kw)) or painted[-1])
    out = str(tmp_path / "view.png")
    assert vp.render_png(out, True)
    assert painted and all("Tool: window" not in t["bottom_right"] for t in painted)
    assert any(t["bottom_right"] and t["bottom_right"][0].startswith("W ") for t in painted)  # W/L is burned in
    assert not QtGui.QImage(out).isNull()
