"""``workstation render``: PNG output equals dcmtk's rendering; clear one-line errors, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.data import test_file as datafile
from tests.imaging.conftest import dcmtk_render
from workstation.cli import main
from workstation.imaging.png import read_png


def run(args, capsys):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_render_default_window_matches_dcmtk(tmp_path, capsys):
    src = datafile("MR_small.dcm")
    out = tmp_path / "mr.png"
    code, stdout, err = run(["render", str(src), "-o", str(out)], capsys)
    assert code == 0, err
    assert "64x64 gray" in stdout
    ref = dcmtk_render(src, ["+Wi", "1"], tmp_path)
    assert np.abs(read_png(out).astype(int) - ref).max() <= 1


def test_render_frame_window_and_size(tmp_path, capsys):
    src = datafile("emri_small.dcm")
    out = tmp_path / "f.png"
    code, _, err = run(["render", str(src), "-o", str(out), "--frame", "4", "--window", "200", "300"], capsys)
    assert code == 0, err
    ref = dcmtk_render(src, ["+F", "4", "+Ww", "200", "300"], tmp_path)
    assert np.abs(read_png(out).astype(int) - ref).max() <= 1
    code, _, _ = run(["render", str(src), "-o", str(out), "--window", "minmax", "--size", "32x16"], capsys)
    assert code == 0 and read_png(out).shape == (16, 32)


def test_render_color_is_rgb_png(tmp_path, capsys):
    out = tmp_path / "c.png"
    code, stdout, _ = run(["render", str(datafile("examples_ybr_color.dcm")), "-o", str(out), "--frame", "30"], capsys)
    assert code == 0 and "RGB" in stdout
    img = read_png(out)
    assert img.shape == (240, 320, 3)
    ref = dcmtk_render(datafile("examples_ybr_color.dcm"), ["+F", "30"], tmp_path)
    assert np.abs(img.astype(int) - ref).max() <= 1


@pytest.mark.parametrize("name,what", [
    ("rtplan.dcm", "RT Plan Storage"),
    ("test-SR.dcm", "SR"),
    ("waveform_ecg.dcm", "ECG"),
])
def test_non_image_objects_exit_1_with_a_clear_message(name, what, tmp_path, capsys):
    code, out, err = run(["render", str(datafile(name)), "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1
    assert what in err and "not an image" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()


def test_encapsulated_pdf_is_named(tmp_path, capsys):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = pydicom.uid.EncapsulatedPDFStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.Modality = "DOC"
    ds.EncapsulatedDocument = b"%PDF-1.4 fake"
    ds.save_as(tmp_path / "doc.dcm", enforce_file_format=True)
    code, _, err = run(["render", str(tmp_path / "doc.dcm"), "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "Encapsulated PDF" in err


@pytest.mark.parametrize("args,message", [
    (["--frame", "3"], "has 1 frame"),
    (["--window", "40"], "CENTER WIDTH"),
    (["--window", "a", "b"], "must be numbers"),
    (["--window", "40", "0"], "positive"),
    (["--size", "big"], "WIDTHxHEIGHT"),
])
def test_bad_options_one_line_errors(args, message, tmp_path, capsys):
    code, _, err = run(["render", str(datafile("CT_small.dcm")), "-o", str(tmp_path / "x.png"), *args], capsys)
    assert code == 1 and message in err and err.count("\n") == 1


def test_missing_file_and_non_dicom(tmp_path, capsys):
    code, _, err = run(["render", str(tmp_path / "nope.dcm"), "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "no such file" in err
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello" * 100)
    code, _, err = run(["render", str(junk), "-o", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "not a readable DICOM file" in err and err.count("\n") == 1
    code, _, err = run(["render", str(datafile("CT_small.dcm")), "-o", str(tmp_path / "no" / "dir" / "x.png")],
                       capsys)
    assert code == 1 and "cannot write" in err


def test_render_by_sop_instance_uid_from_archive(tmp_path, capsys, monkeypatch):
    """SOURCE may be a SOPInstanceUID: resolved through ctx.archive.instance_path."""
    import workstation.cli.context as context

    src = datafile("CT_small.dcm")

    class FakeArchive:
        def instance_path(self, uid):
            return src if uid == "1.2.3.4" else None

        def close(self):
            pass

    monkeypatch.setattr(context.Context, "archive", property(lambda self: FakeArchive()))
    out = tmp_path / "uid.png"
    code, _, err = run(["render", "1.2.3.4", "-o", str(out)], capsys)
    assert code == 0, err
    assert out.exists()
    code, _, err = run(["render", "1.2.3.5", "-o", str(out)], capsys)
    assert code == 1 and "SOPInstanceUID" in err


def test_module_entry_point_prints_one_line_never_a_traceback(tmp_path):
    import os

    env = dict(os.environ, WORKSTATION_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-m", "workstation", "render", str(datafile("rtplan.dcm")), "-o", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "not an image" in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
