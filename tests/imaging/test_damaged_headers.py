"""Damaged image attributes and special files: a one-line reason naming what is wrong, never a traceback or
the CLI's last-resort "TypeError: ..." line, never a hang."""

from __future__ import annotations

import os
import struct

import pytest

from tests.data import test_file as datafile
from tests.robustness.hostile import elements, nested_sequences
from workstation.cli import main
from workstation.imaging import NotAnImageError, open_series
from workstation.imaging.decode import read_header


def _bits_allocated_cut(tmp_path):
    """MR_small with BitsAllocated's value one byte long (a US of 1 byte)."""
    data = datafile("MR_small.dcm").read_bytes()
    e = next(e for e in elements(data) if e.tag == 0x00280100)
    assert e.length == 2 and e.length_size == 2
    damaged = data[: e.length_offset] + struct.pack("<H", 1) + data[e.value_tell : e.value_tell + 1] \
        + b"\x00" + data[e.value_tell + 2 :]
    # The value's second byte is kept, so the file stays aligned: only BitsAllocated is damaged.
    path = tmp_path / "bits.dcm"
    path.write_bytes(damaged)
    return path


def _multi_valued_bits_stored(tmp_path):
    data = datafile("MR_small.dcm").read_bytes()
    e = next(e for e in elements(data) if e.tag == 0x00280101)
    damaged = data[: e.length_offset] + struct.pack("<H", 4) + data[e.value_tell : e.value_tell + 2] \
        + data[e.value_tell : e.value_tell + 2] + data[e.value_tell + 2 :]
    path = tmp_path / "stored.dcm"
    path.write_bytes(damaged)
    return path


@pytest.mark.parametrize("make, keyword", [(_bits_allocated_cut, "BitsAllocated"),
                                           (_multi_valued_bits_stored, "BitsStored")])
def test_render_names_the_damaged_attribute(tmp_path, capsys, make, keyword):
    path = make(tmp_path)
    code = main(["--data-dir", str(tmp_path / "arc"), "render", str(path), "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 1
    assert keyword in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "TypeError" not in err and "BytesLengthException:" not in err
    with pytest.raises(ValueError, match=keyword):
        read_header(path)
    with pytest.raises(NotAnImageError):
        open_series([path])


def test_render_of_deep_nesting_says_so(tmp_path, capsys):
    path = tmp_path / "deep.dcm"
    path.write_bytes(nested_sequences(2000))
    code = main(["--data-dir", str(tmp_path / "arc"), "render", str(path), "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 1 and "nested too deeply" in err and "RecursionError" not in err


@pytest.mark.timeout(20)
def test_render_of_a_fifo_does_not_block(tmp_path, capsys):
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    code = main(["--data-dir", str(tmp_path / "arc"), "render", str(fifo), "-o", str(tmp_path / "o.png")])
    assert code == 1 and "not a regular file" in capsys.readouterr().err
