"""Resampling for thumbnails and ``render --size`` (issue 10 defect 4): colour as fast and as exact as gray."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from workstation.imaging.presentation import resize

ROOT = Path(__file__).resolve().parents[2]


def _dense_reference(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Box-filter weights by overlap, as a plain (slow) matrix product: the definition of area averaging."""

    def weights(n_in: int, n_out: int) -> np.ndarray:
        w = np.zeros((n_out, n_in))
        s = n_in / n_out
        for i in range(n_out):
            a, b = i * s, (i + 1) * s
            for j in range(int(np.floor(a)), min(int(np.ceil(b)), n_in)):
                w[i, j] = min(b, j + 1) - max(a, j)
        return w / s

    return weights(img.shape[0], height) @ img.astype(float) @ weights(img.shape[1], width).T


def _block_with_mean(rng, f: int, k: int) -> np.ndarray:
    """An f x f uint8 block whose mean is exactly k + 0.5 (a rounding tie)."""
    blk = np.full(f * f, k, dtype=np.int64)
    extra = f * f // 2
    idx = rng.choice(f * f, size=extra, replace=False)
    blk[idx] += 1
    noise = rng.integers(-20, 21, size=f * f // 2)
    # Move value between pairs of pixels: the sum (and so the mean) stays.
    for n, (i, j) in zip(noise, rng.permutation(f * f).reshape(-1, 2)):
        if 0 <= blk[i] + n <= 255 and 0 <= blk[j] - n <= 255:
            blk[i] += n
            blk[j] -= n
    return blk.reshape(f, f).astype(np.uint8)


@pytest.mark.parametrize("factor", [2, 6, 12])
def test_integer_reduction_is_the_rounded_block_mean_gray_and_colour(factor):
    # Old code weighted by 1/6 and 1/12 in floating point: half of the ties (mean k + 0.5) came out as k.
    rng = np.random.default_rng(factor)
    blocks = [[_block_with_mean(rng, factor, int(rng.integers(10, 240))) for _ in range(5)] for _ in range(4)]
    gray = np.block(blocks)
    sums = gray.reshape(4, factor, 5, factor).astype(np.int64).sum(axis=(1, 3))
    area = factor * factor
    assert np.all(sums % area == area // 2)  # every block's mean is a tie, k + 0.5
    want = sums // area + 1  # floor(mean + 0.5)
    np.testing.assert_array_equal(resize(gray, (5, 4)), want)
    rgb = np.dstack([gray, gray[::-1, ::-1], 255 - gray])
    out = resize(rgb, (5, 4))
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], resize(np.ascontiguousarray(rgb[..., c]), (5, 4)))


@pytest.mark.parametrize("size", [(96, 72), (96, 71), (7, 5), (333, 250), (639, 479), (50, 700), (1000, 30)])
def test_fractional_sizes_match_area_averaging(size):
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (480, 640), dtype=np.uint8)
    out = resize(img, size).astype(np.float64)
    want = _dense_reference(img, *size) if size[0] <= 640 and size[1] <= 480 else None
    assert out.shape == (size[1], size[0])
    if want is not None:
        assert np.abs(out - want).max() <= 0.5 + 1e-9


def test_enlarging_repeats_exact_values_and_mixes_with_shrinking():
    img = (np.arange(12, dtype=np.uint8).reshape(3, 4) * 20)
    big = resize(img, (8, 6))
    np.testing.assert_array_equal(big, np.repeat(np.repeat(img, 2, axis=0), 2, axis=1))
    rgb = np.dstack([img, img + 1, img + 2])
    np.testing.assert_array_equal(resize(rgb, (8, 6))[..., 1], big + 1)
    # Rows enlarged, columns halved.
    assert resize(img, (2, 6)).tolist() == [[10, 50], [10, 50], [90, 130], [90, 130], [170, 210], [170, 210]]


def test_colour_thumbnail_is_not_pathological():
    """Guard against the einsum path (34.7 s of CPU for 640x480 RGB): a child with a 20 s CPU limit must finish.

    Not a speed target (that is tests/bench/bench_imaging.py, about 5 ms here); a limit 1000x above it that the old
    code could not meet.
    """
    code = textwrap.dedent(
        """
        import resource, numpy as np
        resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
        from workstation.imaging.presentation import resize
        rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
        for size in [(96, 72), (128, 96), (90, 90)]:
            assert resize(rgb, size).shape == (size[1], size[0], 3)
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-500:]
