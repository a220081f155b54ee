"""Field kernels (pattools.kernels.fields) against plain-Python twins, bit for bit."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from pattools.kernels import fields

# ---------------------------------------------------------------- plain-Python twins


def twin_splat(width, height, cx, cy, amp, sigma):
    out = np.zeros(width * height, dtype=np.float32)
    for t in range(len(cx)):
        a = float(amp[t])
        if a == 0.0:
            continue
        for y in range(max(0, cy[t] - 2 * sigma), min(height - 1, cy[t] + 2 * sigma) + 1):
            for x in range(max(0, cx[t] - 2 * sigma), min(width - 1, cx[t] + 2 * sigma) + 1):
                d2 = (x - cx[t]) ** 2 + (y - cy[t]) ** 2
                i = y * width + x
                out[i] = np.float32(float(out[i]) + a * math.exp(-d2 / (2 * sigma * sigma)))
    return out


def _blur_line(values, radius):
    n = len(values)
    res = np.empty(n, dtype=np.float32)
    s = 0.0
    for d in range(-radius, radius + 1):
        s += float(values[((d % n) + n) % n])
    res[0] = np.float32(s / (2 * radius + 1))
    for p in range(1, n):
        s += float(values[((p + radius) % n + n) % n])
        s -= float(values[((p - radius - 1) % n + n) % n])
        res[p] = np.float32(s / (2 * radius + 1))
    return res


def twin_blur(src, width, height, radius):
    grid = np.asarray(src, dtype=np.float32).reshape(height, width)
    tmp = np.stack([_blur_line(grid[y], radius) for y in range(height)])
    out = np.stack([_blur_line(tmp[:, x], radius) for x in range(width)], axis=1)
    return out.reshape(-1)


def twin_lap5(field, width, height):
    out = np.empty(width * height, dtype=np.float32)
    for y in range(height):
        for x in range(width):
            f = lambda xx, yy: float(field[(yy % height) * width + (xx % width)])  # noqa: E731
            total = f(x - 1, y) + f(x + 1, y) + f(x, y - 1) + f(x, y + 1) - 4.0 * f(x, y)
            out[y * width + x] = np.float32(total)
    return out


def twin_tanh(field, scale, bias):
    return np.array([np.float32(math.tanh(scale * float(v) + bias)) for v in field], dtype=np.float32)


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


GRIDS = [(7, 5), (16, 16), (33, 17), (4, 9)]

# ---------------------------------------------------------------- splat


@pytest.mark.parametrize("width,height", GRIDS)
@pytest.mark.parametrize("sigma", [2, 4, 16])
def test_splat_matches_twin(width, height, sigma):
    rng = np.random.default_rng(width * 100 + height + sigma)
    count = 9
    cx = rng.integers(0, width, count).astype(np.int64)
    cy = rng.integers(0, height, count).astype(np.int64)
    amp = rng.uniform(-1.5, 2.0, count)
    amp[3] = 0.0
    cx[0], cy[0] = 0, height - 1  # corner: window clipped, no wrap
    got = fields.splat_gaussian(width, height, cx, cy, amp, sigma)
    assert same_bits(got, twin_splat(width, height, cx, cy, amp, sigma))


def test_splat_does_not_wrap_and_zero_amp_is_nothing():
    cx = np.array([0], dtype=np.int64)
    cy = np.array([0], dtype=np.int64)
    out = fields.splat_gaussian(8, 8, cx, cy, np.array([1.0]), 2).reshape(8, 8)
    assert out[0, 0] == 1.0
    assert out[0, 7] == 0.0 and out[7, 0] == 0.0  # 7 > 2σ away, and no wrap to −1
    zero = fields.splat_gaussian(8, 8, cx, cy, np.array([0.0]), 2)
    assert not zero.any() and not np.signbit(zero).any()


# ---------------------------------------------------------------- blur


@pytest.mark.parametrize("width,height", GRIDS)
@pytest.mark.parametrize("radius", [1, 2, 3, 12])
def test_blur_matches_twin(width, height, radius):
    rng = np.random.default_rng(width * 7 + height * 3 + radius)
    src = rng.uniform(-1.0, 3.0, width * height).astype(np.float32)
    got = fields.box_blur_wrapped(src, width, height, radius)
    assert same_bits(got, twin_blur(src, width, height, radius))


def test_blur_preserves_constant_and_mass():
    src = np.full(12 * 10, 0.5, dtype=np.float32)
    assert np.all(fields.box_blur_wrapped(src, 12, 10, 3) == np.float32(0.5))
    spike = np.zeros(12 * 10, dtype=np.float32)
    spike[0] = 1.0
    out = fields.box_blur_wrapped(spike, 12, 10, 2).reshape(10, 12)
    assert out[9, 11] > 0 and out[2, 2] > 0 and out[3, 0] == 0  # wraps across both edges
    assert abs(float(out.sum(dtype=np.float64)) - 1.0) < 1e-6


# ---------------------------------------------------------------- tanh, Laplacian


@pytest.mark.parametrize("scale,bias", [(1.0, 0.0), (0.7, 0.1), (2.5, -0.3)])
def test_tanh_matches_twin(scale, bias):
    rng = np.random.default_rng(5)
    src = rng.uniform(-4, 4, 257).astype(np.float32)
    assert same_bits(fields.tanh_calibrated(src, scale, bias), twin_tanh(src, scale, bias))


@pytest.mark.parametrize("width,height", GRIDS + [(1, 6), (5, 1)])
def test_lap5_matches_twin(width, height):
    rng = np.random.default_rng(width + 31 * height)
    src = rng.uniform(-2, 2, width * height).astype(np.float32)
    assert same_bits(fields.laplacian5_wrapped(src, width, height), twin_lap5(src, width, height))


def test_lap5_wraps_edges():
    src = np.zeros(5 * 4, dtype=np.float32)
    src[0] = 1.0
    out = fields.laplacian5_wrapped(src, 5, 4).reshape(4, 5)
    assert out[0, 0] == -4.0
    assert out[0, 4] == 1.0 and out[3, 0] == 1.0 and out[0, 1] == 1.0 and out[1, 0] == 1.0


# ---------------------------------------------------------------- threads


def test_thread_count_does_not_change_bits():
    rng = np.random.default_rng(11)
    width, height = 37, 23
    src = rng.uniform(-1, 1, width * height).astype(np.float32)
    cx = rng.integers(0, width, 6).astype(np.int64)
    cy = rng.integers(0, height, 6).astype(np.int64)
    amp = rng.uniform(0, 1, 6)
    threads = numba.get_num_threads()

    def run():
        return (
            fields.splat_gaussian(width, height, cx, cy, amp, 4).tobytes()
            + fields.box_blur_wrapped(src, width, height, 3).tobytes()
            + fields.laplacian5_wrapped(src, width, height).tobytes()
            + fields.tanh_calibrated(src, 1.0, 0.0).tobytes()
        )

    try:
        numba.set_num_threads(1)
        single = run()
    finally:
        numba.set_num_threads(threads)
    assert run() == single
