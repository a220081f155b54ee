"""Lattice kernel parts against plain-Python twins: sincos, wrapstore, certification, noise rows."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from pattools.kernels import lattice as K
from pattools.kernels.lattice_exact import RING_OFFSETS, clamp_store, wrapstore
from pattools.kernels.lattice_rng import noise_row_states
from pattools.kernels.lattice_sincos import SINCOS_ERR, SINCOS_LIMIT, sin_only, sincos
from tests.naive_lattice import Stream, offsets

TAU = 2.0 * math.pi


def twin_wrapstore(v: float) -> np.float32:
    a = np.float32(math.fmod(v, TAU)) if math.isfinite(v) else np.float32(np.nan)
    if a < 0:
        a = np.float32(float(a) + TAU)
    return a


@numba.njit(cache=False)
def _eval(x, s, c, s1):
    for i in range(x.size):
        s[i], c[i] = sincos(x[i])
        s1[i] = sin_only(x[i])


def test_sincos_stays_well_inside_its_error_bound():
    rng = np.random.default_rng(12)
    x = np.concatenate([
        rng.uniform(-SINCOS_LIMIT, SINCOS_LIMIT, 1_000_000),
        rng.uniform(-2 * TAU, 2 * TAU, 1_000_000),
        np.arange(-40, 41) * (math.pi / 4),  # quadrant boundaries
        np.nextafter(np.arange(-40, 41) * (math.pi / 4), np.inf),
        [0.0, -0.0, 1e-300, -1e-300, SINCOS_LIMIT, -SINCOS_LIMIT],
    ])
    s = np.empty_like(x)
    c = np.empty_like(x)
    s1 = np.empty_like(x)
    _eval(x, s, c, s1)
    worst = max(np.abs(s - np.sin(x)).max(), np.abs(c - np.cos(x)).max(), np.abs(s1 - np.sin(x)).max())
    # measured 2^-52; the certification assumes SINCOS_ERR = 2^-49
    assert worst <= SINCOS_ERR / 4
    out = np.array([SINCOS_LIMIT * 1.0001, -1e9, np.inf, np.nan])
    s = np.empty(4)
    c = np.empty(4)
    s1 = np.empty(4)
    _eval(out, s, c, s1)
    assert np.isnan(s).all() and np.isnan(c).all() and np.isnan(s1).all()


def special_values():
    f32_tau = float(np.float32(TAU))
    base = [0.0, -0.0, 1e-30, -1e-30, TAU, -TAU, 2 * TAU, -2 * TAU, f32_tau, -f32_tau, 3.0, -3.0,
            TAU - 1e-9, -TAU + 1e-9, 2 * TAU - 1e-12, 1e6, -1e6, 1e300, -1e300, math.inf, -math.inf, math.nan]
    near = []
    for v in (0.0, TAU, -TAU, 2 * TAU, -6.28318524):
        w = v
        for _ in range(4):
            w = math.nextafter(w, math.inf)
            near.append(w)
        w = v
        for _ in range(4):
            w = math.nextafter(w, -math.inf)
            near.append(w)
    return base + near


def test_wrapstore_matches_the_fmod_twin():
    rng = np.random.default_rng(3)
    values = special_values() + list(rng.uniform(-30, 30, 2000)) + list(rng.normal(0, 1e5, 200))
    for v in values:
        got = wrapstore(v)
        want = twin_wrapstore(v)
        assert np.float32(got).view(np.uint32) == np.float32(want).view(np.uint32) or (
            math.isnan(got) and math.isnan(want)), v
    # the spec's "[0, TAU]" has a hole: just above −TAU the store is a tiny negative number
    assert wrapstore(-6.2831853) < 0


def test_clamp_store_passes_nan_like_js():
    assert math.isnan(clamp_store(math.nan, 0.0, 4.0))
    assert clamp_store(-1.0, 0.0, 4.0) == 0.0 and clamp_store(9.0, 0.0, 4.0) == 4.0
    assert clamp_store(0.123456789, 0.0, 4.0) == np.float32(0.123456789)


def test_certified_stores_are_sound():
    """When the certificate says ok, every point of [v−eps, v+eps] stores the same float32."""
    rng = np.random.default_rng(9)
    checked = rejected = 0
    for _ in range(20000):
        region = rng.integers(0, 4)
        if region == 0:  # near float32 rounding boundaries
            a = np.float32(rng.uniform(-TAU, 2 * TAU))
            v = (float(a) + float(np.nextafter(a, np.float32(np.inf)))) / 2 + rng.normal(0, 1e-14)
        elif region == 1:  # near the wrap points
            v = rng.choice([0.0, TAU, -TAU, 2 * TAU]) + rng.normal(0, 1e-8)
        elif region == 2:
            v = rng.uniform(-8, 14)
        else:
            v = rng.uniform(-1, 5)
        eps = 10.0 ** rng.uniform(-17, -6)
        got, ok = K._wrap_certified(v, eps)
        e_got, e_ok = K._clamp_certified(abs(v) % 4.5, eps, 4.0)
        for t in np.linspace(-1.0, 1.0, 9):
            w = v + t * eps
            if ok:
                assert np.float32(wrapstore(w)).view(np.uint32) == np.float32(got).view(np.uint32), (v, eps, t)
            if e_ok:
                assert clamp_store(abs(v) % 4.5 + t * eps, 0.0, 4.0) == e_got
        checked += ok
        rejected += not ok
    assert checked > 10000 and rejected > 100


@pytest.mark.parametrize("W,H,start", [(7, 5, 1), (16, 3, 0xFFFFFFFF), (33, 9, 123456789)])
def test_noise_row_states_equal_the_sequential_stream(W, H, start):
    rows, final = noise_row_states(start, W, H)
    stream = Stream(start)
    for y in range(H):
        assert rows[y] == stream.x
        for _ in range(W):
            stream()
    assert final == stream.x


def test_ring_offsets_are_canonical():
    assert [tuple(r) for r in RING_OFFSETS.tolist()] == offsets()
    assert [int((RING_OFFSETS[:, 2] == r).sum()) for r in (1, 2, 3)] == [8, 16, 24]
