"""Decoding every transfer syntax in common use, with every installed decoder, and failing over."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from pydicom.uid import UID

from tests.data import test_file as datafile
from tests.imaging.conftest import dcmtk_tool
from workstation.imaging import DecodeError, available_decoders, decode_frame, decoder_order, set_decoder_order
from workstation.imaging import decode as decode_mod
from workstation.imaging.decode import read_header

# (compressed or re-encoded file, uncompressed twin with the same pixels, frames to check)
LOSSLESS_TWINS = [
    ("MR_small_implicit.dcm", "MR_small.dcm", [0]),
    ("MR_small_bigendian.dcm", "MR_small.dcm", [0]),
    ("MR_small_RLE.dcm", "MR_small.dcm", [0]),
    ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm", [0]),
    ("MR_small_jp2klossless.dcm", "MR_small.dcm", [0]),
    ("emri_small_RLE.dcm", "emri_small.dcm", [0, 5, 9]),
    ("emri_small_big_endian.dcm", "emri_small.dcm", [0, 9]),
    ("emri_small_jpeg_2k_lossless.dcm", "emri_small.dcm", [0, 9]),
    ("emri_small_jpeg_ls_lossless.dcm", "emri_small.dcm", [0, 9]),
    ("MR2_J2KR.dcm", "MR2_UNCR.dcm", [0]),
    ("RG1_J2KR.dcm", "RG1_UNCR.dcm", [0]),
    ("US1_J2KR.dcm", "US1_UNCR.dcm", [0]),  # YBR_RCT -> RGB
    ("SC_rgb_rle.dcm", "SC_rgb.dcm", [0]),
    ("SC_rgb_expb.dcm", "SC_rgb.dcm", [0]),
    ("SC_rgb_rle_2frame.dcm", "SC_rgb_2frame.dcm", [1]),
    ("SC_rgb_jpeg_gdcm.dcm", "SC_rgb.dcm", [0]),  # JPEG lossless SV1, RGB
    ("OBXXXX1A_rle.dcm", "OBXXXX1A.dcm", [0]),
    ("OBXXXX1A_expb.dcm", "OBXXXX1A.dcm", [0]),
    ("gdcm-US-ALOKA-16_big.dcm", "gdcm-US-ALOKA-16.dcm", [0]),  # segmented 16-bit palette, both byte orders
    ("rtdose_expb.dcm", "rtdose.dcm", [0, 14]),
    ("rtdose_rle.dcm", "rtdose.dcm", [0, 14]),
    ("liver_expb.dcm", "liver.dcm", [0, 2]),
]


def _decoders_for(name: str) -> list[str]:
    return available_decoders(str(read_header(datafile(name)).file_meta.TransferSyntaxUID))


@pytest.mark.parametrize("name,twin,frames", LOSSLESS_TWINS)
def test_lossless_syntaxes_decode_to_the_uncompressed_pixels_with_every_decoder(name, twin, frames):
    decoders = _decoders_for(name)
    assert decoders, f"no decoder for {name}"
    for index in frames:
        expected = decode_frame(datafile(twin), index)
        for decoder in decoders:
            got = decode_frame(datafile(name), index, decoder)
            assert got.dtype.isnative
            np.testing.assert_array_equal(got, expected, err_msg=f"{name} frame {index} with {decoder}")


LOSSY = ["SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_dcmtk_+eb+cy+np.dcm", "color3d_jpeg_baseline.dcm", "JPGExtended.dcm",
         "MR2_J2KI.dcm", "US1_J2KI.dcm", "JPEGLSNearLossless_16.dcm", "SC_rgb_jls_lossy_line.dcm", "RG1_J2KI.dcm"]


# Decoders known not to handle a file (the fallback covers them).
UNSUPPORTED = {("JPGExtended.dcm", "gdcm"), ("JPGExtended.dcm", "pillow")}  # neither has 12-bit JPEG extended


@pytest.mark.parametrize("name", LOSSY)
def test_lossy_syntaxes_decoders_agree(name):
    decoders = [d for d in _decoders_for(name) if (name, d) not in UNSUPPORTED]
    assert decoders, f"no decoder for {name}"
    frames = [decode_frame(datafile(name), 0, d) for d in decoders]
    assert frames[0].std() > 1  # a real picture, not zeros
    for d, f in zip(decoders[1:], frames[1:]):
        assert f.shape == frames[0].shape and f.dtype == frames[0].dtype
        diff = np.abs(f.astype(int) - frames[0].astype(int))
        # Lossy decoders may differ in IDCT / chroma upsampling rounding: small and rare differences only.
        assert diff.max() <= 8 and diff.mean() < 0.5, f"{decoders[0]} vs {d}: max {diff.max()} mean {diff.mean()}"
    # The automatic order gives the preferred decoder's result.
    ts = str(read_header(datafile(name)).file_meta.TransferSyntaxUID)
    first = next(d for d in decoder_order(ts) if (name, d) not in UNSUPPORTED)
    np.testing.assert_array_equal(decode_frame(datafile(name), 0), frames[decoders.index(first)])


@pytest.mark.parametrize("option,uid", [("+el", "1.2.840.10008.1.2.4.57"), ("+e1", "1.2.840.10008.1.2.4.70")])
def test_jpeg_lossless_process14_both_predictors(option, uid, tmp_path):
    src = datafile("MR_small.dcm")
    out = tmp_path / "p14.dcm"
    subprocess.run([dcmtk_tool("dcmcjpeg"), option, str(src), str(out)], check=True, capture_output=True)
    assert str(read_header(out).file_meta.TransferSyntaxUID) == uid
    for decoder in available_decoders(uid):
        np.testing.assert_array_equal(decode_frame(out, 0, decoder), decode_frame(src, 0))


def test_jpeg_extended_12bit_from_dcmtk(tmp_path):
    src = datafile("CT_small.dcm")
    out = tmp_path / "ext.dcm"
    subprocess.run([dcmtk_tool("dcmcjpeg"), "+ee", str(src), str(out)], check=True, capture_output=True)
    decoded = decode_frame(out, 0)
    assert decoded.shape == (128, 128)
    assert np.corrcoef(decoded.ravel().astype(float), decode_frame(src, 0).ravel().astype(float))[0, 1] > 0.99


def test_deflate_and_no_meta_files():
    assert decode_frame(datafile("image_dfl.dcm"), 0).shape == (512, 512)
    face = decode_frame(datafile("OT-PAL-8-face.dcm"), 0)  # ACR-NEMA style, palette
    assert face.shape == (480, 640, 3) and face.dtype == np.uint8


def test_broken_offset_table_falls_back_to_dataset_reader():
    got = decode_frame(datafile("SC_rgb_jpeg.dcm"), 0)
    ref = decode_frame(datafile("SC_rgb_jpeg_dcmd.dcm"), 0)
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 2


def test_signed_and_bits_stored_masking():
    ct = decode_frame(datafile("CT_small.dcm"), 0)
    assert ct.dtype == np.int16 and ct.min() < 0 or ct.dtype == np.int16
    rg = decode_frame(datafile("RG1_UNCR.dcm"), 0)  # 15 bits stored in 16 allocated
    assert rg.max() < (1 << 15)


def test_color_output_is_uint8_rgb():
    for name in ("SC_rgb_16bit.dcm", "SC_rgb_32bit.dcm", "examples_ybr_color.dcm", "gdcm-US-ALOKA-16.dcm"):
        f = decode_frame(datafile(name), 0)
        assert f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3, name
    rgb16 = decode_frame(datafile("SC_rgb_16bit.dcm"), 0)
    rgb8 = decode_frame(datafile("SC_rgb.dcm"), 0)
    np.testing.assert_array_equal(rgb16, rgb8)  # same picture, 16-bit samples reduced to their top 8 bits


def test_fallback_when_preferred_decoder_fails(monkeypatch):
    name = datafile("MR_small_jp2klossless.dcm")
    ts = "1.2.840.10008.1.2.4.90"
    order = decoder_order(ts)
    assert len(order) >= 2
    real = decode_mod._decode_encoded
    calls = []

    def flaky(encoded, header, uid, decoder):
        calls.append(decoder)
        if decoder == order[0]:
            raise RuntimeError("simulated decoder crash")
        return real(encoded, header, uid, decoder)

    expected = decode_frame(datafile("MR_small.dcm"), 0)
    monkeypatch.setattr(decode_mod, "_decode_encoded", flaky)
    monkeypatch.setattr(decode_mod, "_worked", {})
    np.testing.assert_array_equal(decode_frame(name, 0), expected)
    assert calls == [order[0], order[1]]
    calls.clear()
    decode_frame(name, 0)  # the decoder that worked for this file is tried first next time
    assert calls == [order[1]]


def test_forced_decoder_has_no_fallback(monkeypatch):
    monkeypatch.setattr(decode_mod, "_decode_encoded", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(DecodeError, match="boom"):
        decode_frame(datafile("MR_small_RLE.dcm"), 0, "pydicom")


def test_decoder_order_preference_is_settable():
    ts = "1.2.840.10008.1.2.4.80"
    before = decoder_order(ts)
    try:
        set_decoder_order(ts, list(reversed(before)))
        assert decoder_order(ts) == list(reversed(before))
    finally:
        set_decoder_order(ts, before)
    assert UID(ts).is_compressed and available_decoders("1.2.840.10008.1.2.1") == ["native"]


def test_bits_stored_masking_and_sign_extension(tmp_path):
    """12 bits stored in 16, signed, with garbage in the 4 unused high bits: masked and sign-extended."""
    from tests.imaging.synth import make_ct

    values = np.array([[-2048, -1, 0, 2047]], dtype=np.int16)
    raw = (values.astype(np.int32) & 0x0FFF) | 0xA000  # junk above the high bit
    path = make_ct(tmp_path / "s12.dcm", raw.astype(np.uint16).view(np.int16), position=(0, 0, 0),
                   series_uid="1.2.3", for_uid="1.2.3.1", instance_number=1)
    import pydicom

    ds = pydicom.dcmread(path)
    ds.BitsStored, ds.HighBit = 12, 11
    ds.save_as(path)
    got = decode_frame(path, 0)
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("name", ["SC_rgb_dcmtk_+eb+cy+np.dcm", "SC_rgb_jpeg_gdcm.dcm", "US1_J2KR.dcm",
                                  "color3d_jpeg_baseline.dcm"])
def test_planar_configuration_1_on_jpeg_colour_is_ignored(name, tmp_path):
    """PS3.5 8.2.1: Planar Configuration is irrelevant for JPEG and JPEG 2000 (the codestream says how colour is
    coded; decoders return it by pixel). A file that says 1 came out with scrambled colour from every decoder;
    dcmtk shows it as if it said 0, and so do we now."""
    import pydicom

    src = datafile(name)
    ds = pydicom.dcmread(src)
    ts = str(ds.file_meta.TransferSyntaxUID)
    ds.PlanarConfiguration = 1
    odd = tmp_path / "pc1.dcm"
    ds.save_as(odd)
    for decoder in available_decoders(ts):
        np.testing.assert_array_equal(decode_frame(odd, 0, decoder), decode_frame(src, 0, decoder), err_msg=decoder)
    if name.startswith("SC_rgb_dcmtk") or name == "SC_rgb_jpeg_gdcm.dcm":  # dcmtk reads these syntaxes
        from tests.imaging.conftest import dcmtk_render

        ref = dcmtk_render(odd, [], tmp_path)
        assert np.abs(decode_frame(odd, 0).astype(int) - ref.astype(int)).max() <= 2
