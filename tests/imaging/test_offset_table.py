"""Damaged, short or missing Basic Offset Tables (issue 15 item 4): a whole frame or a clear error, never a part.

The files are made here: dcmtk's dcmcjpeg compresses our phantoms to JPEG Lossless in many fragments, then the
offset table is rewritten; dcmtk's dcmdjpeg (which ignores a bad table for one frame) is the reference.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom.pixels import get_decoder

from tests.imaging import encaps_files as ef
from workstation.imaging import decode as decode_mod
from workstation.imaging.decode import available_decoders, decode_frame
from workstation.imaging.errors import DecodeError

JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seven_fragments(tmp_path_factory):
    """A 1024x1024 single-frame JPEG Lossless image in 7 fragments (table: [0]) and its true pixels."""
    folder = tmp_path_factory.mktemp("bot")
    base, pixels = ef.single_frame(folder / "base.dcm")
    good = ef.jpeg_lossless(base, folder / "good.dcm", fragment_kb=130)
    table, fragments = ef.fragments_of(good)
    assert len(fragments) == 7 and table == [0]
    return folder, good, pixels, fragments


@pytest.mark.parametrize("frames_attr", ["1", "absent"])
def test_single_frame_uses_every_fragment_whatever_the_table_says(seven_fragments, frames_attr):
    folder, _good, pixels, fragments = seven_fragments
    offsets = ef.item_offsets(fragments)
    bad = ef.rewrite(_good, folder / f"bad_{frames_attr}.dcm", [0, offsets[3]], fragments,
                     number_of_frames=1 if frames_attr == "1" else None)
    reference = ef.dcmdjpeg(bad, folder / f"dcmd_{frames_attr}.dcm")
    np.testing.assert_array_equal(reference, pixels)  # dcmtk decodes the damaged file exactly
    decode_mod._worked.clear()
    np.testing.assert_array_equal(decode_frame(bad, 0), reference)  # was: 569 of 1,024 rows wrong, exit 0
    for name in available_decoders(JPEG_LOSSLESS_SV1):
        np.testing.assert_array_equal(decode_frame(bad, 0, name), reference, err_msg=name)


def test_render_cli_of_the_damaged_table_is_the_whole_image(seven_fragments, tmp_path):
    from workstation.imaging.png import read_png

    folder, good, _pixels, fragments = seven_fragments
    bad = ef.rewrite(good, folder / "bad_cli.dcm", [0, ef.item_offsets(fragments)[3]], fragments)
    outs = []
    for src in (good, bad):
        out = tmp_path / f"{src.stem}.png"
        proc = subprocess.run([sys.executable, "-m", "workstation", "render", str(src), "-o", str(out)], cwd=ROOT,
                              capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                                   "HOME": str(tmp_path)})
        assert proc.returncode == 0, proc.stderr
        outs.append(read_png(out))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_a_truncated_frame_is_an_error_not_a_half_image(seven_fragments, tmp_path, capsys):
    from workstation.cli import main

    folder, good, _pixels, fragments = seven_fragments
    # The last four fragments are lost: the image's codestream has no end; every decoder would return garbage rows.
    cut = ef.rewrite(good, folder / "cut.dcm", [0], fragments[:3])
    with pytest.raises(DecodeError, match=r"frame 1: .*no end-of-image marker after 3 of 3 fragments"):
        decode_frame(cut, 0)
    code = main(["render", str(cut), "-o", str(tmp_path / "cut.png")])
    out, err = capsys.readouterr()
    assert code != 0 and not (tmp_path / "cut.png").exists()
    assert len(err.strip().splitlines()) == 1 and "frame 1" in err and "end-of-image" in err


def test_file_ending_inside_a_fragment_is_an_error(seven_fragments, tmp_path):
    _folder, good, _pixels, _fragments = seven_fragments
    data = good.read_bytes()
    cut = tmp_path / "short.dcm"
    cut.write_bytes(data[: len(data) - 200_000])
    with pytest.raises(DecodeError, match="truncated"):
        decode_frame(cut, 0)


def test_short_decoder_output_tries_the_next_decoder_then_says_how_short(seven_fragments, monkeypatch):
    """A decoder that returns fewer rows than the frame has is a failure: the next one is tried; if every one is
    short, the error says how many rows came back."""
    _folder, good, pixels, _fragments = seven_fragments
    decoder = get_decoder(JPEG_LOSSLESS_SV1)
    names = available_decoders(JPEG_LOSSLESS_SV1)
    assert len(names) >= 2
    real = dict(decoder._available)

    def short(name):
        def run(src, runner):
            return bytes(real[name](src, runner))[: 387 * 1024 * 2]
        return run

    monkeypatch.setitem(decoder._available, names[0], short(names[0]))
    decode_mod._worked.clear()
    np.testing.assert_array_equal(decode_frame(good, 0), pixels)
    assert decode_mod._worked[str(good)] == names[1]
    for name in names:
        monkeypatch.setitem(decoder._available, name, short(name))
    decode_mod._worked.clear()
    with pytest.raises(DecodeError, match=f"frame 1 of good.dcm .*{names[0]}: decoder returned 387 of 1024 rows"):
        decode_frame(good, 0)


@pytest.fixture(scope="module")
def multiframe(tmp_path_factory):
    """Five 256x256 frames, JPEG Lossless, three fragments each, with an empty offset table."""
    folder = tmp_path_factory.mktemp("mf")
    src, frames = ef.multiframe(folder / "mf.dcm", 5, 256, 256)
    out = ef.jpeg_lossless(src, folder / "mf_jl.dcm", fragment_kb=40, empty_table=True)
    table, fragments = ef.fragments_of(out)
    assert table == [] and len(fragments) > 5
    return folder, out, frames, fragments


def _frame_starts(fragments: list[bytes]) -> list[int]:
    return [i for i, f in enumerate(fragments) if f[:2] == b"\xff\xd8"]


@pytest.mark.parametrize("table", ["empty", "short", "wrong", "right"])
def test_multiframe_with_several_fragments_per_frame(multiframe, table):
    folder, out, frames, fragments = multiframe
    offsets = ef.item_offsets(fragments)
    starts = _frame_starts(fragments)
    assert len(starts) == 5 and len(fragments) > len(starts)
    bot = {"empty": [], "short": [offsets[s] for s in starts[:2]],
           # Every entry at a fragment, but not at the frames' first fragments (as a buggy writer might do).
           "wrong": [0] + [offsets[s + 1] for s in starts[1:]],
           "right": [offsets[s] for s in starts]}[table]
    path = ef.rewrite(out, folder / f"mf_{table}.dcm", bot, fragments)
    reference = ef.dcmdjpeg(path, folder / f"mf_{table}_dcmd.dcm") if table in ("empty", "right") else frames
    np.testing.assert_array_equal(reference, frames)
    decode_mod._worked.clear()
    for k in range(5):
        np.testing.assert_array_equal(decode_frame(path, k), frames[k], err_msg=f"frame {k + 1}")


def test_multiframe_without_markers_or_table_is_an_error(multiframe):
    """More fragments than frames, no table, and the frames cannot be told apart: say so, do not guess."""
    folder, out, _frames, fragments = multiframe
    starts = set(_frame_starts(fragments))
    # Damage the start-of-image markers of frames 2..5 and every end-of-image marker but the last: neither
    # markers nor a table nor the fragment count say where frames 2..5 begin.
    damaged = [f[2:] + b"\x00\x00" if i in starts and i != 0 else f for i, f in enumerate(fragments)]
    ends = [i for i, f in enumerate(damaged) if b"\xff\xd9" in f[-16:]]
    for i in ends[:-1]:
        damaged[i] = damaged[i].replace(b"\xff\xd9", b"\x00\x00")
    path = ef.rewrite(out, folder / "mf_nomarkers.dcm", [], damaged)
    with pytest.raises(DecodeError, match=r"cannot tell which of the \d+ fragments belong to which of the 5 frames"):
        decode_frame(path, 1)


@pytest.mark.parametrize("shape", ["padding after the end marker", "end marker split over two fragments"])
def test_complete_frames_in_odd_shapes_are_not_refused(seven_fragments, shape):
    folder, good, pixels, fragments = seven_fragments
    body = b"".join(fragments).rstrip(b"\x00")
    assert body.endswith(b"\xff\xd9")
    if shape == "padding after the end marker":
        frags = fragments[:-1] + [fragments[-1].rstrip(b"\x00") + b"\x00" * 40]
    else:
        frags = fragments[:-1] + [fragments[-1].rstrip(b"\x00")[:-1] + b"\x00", b"\xd9\x00"]
        # An odd-length codestream cut so that FF ends one fragment and D9 opens the next.
        frags[-2] = frags[-2][:-1]
        assert frags[-2].endswith(b"\xff") and len(frags[-2]) % 2 == 1
    path = ef.rewrite(good, folder / f"odd_{shape[:3]}.dcm", [0], frags)
    decode_mod._worked.clear()
    np.testing.assert_array_equal(decode_frame(path, 0), pixels)
