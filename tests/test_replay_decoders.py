"""The replay decoders as functions from per-patch numbers to modulator fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pattools.errors import DataError
from pattools.kernels import fields as kern
from pattools.replay import decoders
from pattools.replay.geometry import blur_radius, splat_geometry, splat_sigma
from pattools.replay.settings import DecoderConstants


def grid_ids(width, height, scale):
    return [f"{x},{y},{scale}" for y in range(0, height, scale) for x in range(0, width, scale)]


def test_sigma_and_radius_follow_the_original():
    assert [splat_sigma(s) for s in (8, 16, 32, 64)] == [4, 8, 16, 32]
    assert [blur_radius(splat_sigma(s)) for s in (8, 16, 32, 64)] == [3, 6, 12, 24]
    assert splat_sigma(2) == 2 and blur_radius(2) == 2  # round(1.5) = 2, half up


def test_geometry_centres_clamp_and_scale_part():
    g = splat_geometry(["0,0,8", "24,16,8", "99,-3,8", "4,4", "4,4,5"], 30, 20, 8)
    assert g.cx.tolist() == [4, 28, 29, 8, 8]
    assert g.cy.tolist() == [4, 19, 4, 8, 8]
    with pytest.raises(DataError, match="patchId"):
        splat_geometry(["1;2"], 8, 8, 8)


def test_drives_formula_and_code_fallback():
    consts = DecoderConstants(kRho=10, kEnt=10, kGrad=4, kA=10, kAttn=10, kPhase=2)
    dgeom = np.zeros((3, 5))
    dstats = np.zeros((3, 7))
    drvq = np.zeros((3, 5), dtype=np.int64)
    dstats[0, 0] = 0.1  # rho
    dstats[0, 2] = -0.05  # entropyRate
    dgeom[0, 3] = 0.2  # gradPhi
    dgeom[0, 1] = 0.1  # phi_gf
    drvq[1, 3] = -1  # code-only entropy step: counts as −0.25
    drvq[1, 1] = 1  # code-only phase step: π/2
    dgeom[2, 0] = 0.05  # A field delta wins over its code delta
    drvq[2, 0] = 1
    a, q = decoders.drives(dgeom, dstats, drvq, consts)
    assert a[0] == pytest.approx(10 * 0.1 + 10 * 0.05 - 4 * 0.2 / math.pi)
    assert a[1] == pytest.approx(2.5) and q[1] == pytest.approx(math.pi)
    assert a[2] == pytest.approx(0.5)
    assert q[0] == pytest.approx(0.2)


def test_delta_zero_is_no_modulator():
    g = splat_geometry(grid_ids(16, 16, 8), 16, 16, 8)
    zeros = np.zeros(4)
    assert decoders.decode_delta(zeros, zeros, g, 16, 16) is None
    assert decoders.decode_delta(np.ones(4), zeros, g, 16, 16, weights=np.zeros(4)) is None


def test_delta_fields_signs():
    width = height = 32
    g = splat_geometry(grid_ids(width, height, 8), width, height, 8)
    a = np.zeros(16)
    q = np.zeros(16)
    a[0] = 1.5  # patch 0,0 more coherent
    a[15] = -1.5  # patch 24,24 less coherent
    q[5] = 0.4
    f = decoders.decode_delta(a, q, g, width, height)
    aact = f.aact.reshape(height, width)
    uact = f.uact.reshape(height, width)
    assert aact[4, 4] == np.float32(math.tanh(1.5)) and uact[4, 4] == 0
    assert uact[28, 28] == np.float32(math.tanh(1.5)) and aact[28, 28] == 0
    assert f.lap_a.reshape(height, width)[12, 12] == np.float32(0.4)
    assert not f.div_u.any()
    for arr in (f.aact, f.uact, f.lap_a, f.div_u):
        assert arr.dtype == np.float32 and arr.shape == (width * height,)


def test_token_amplitudes():
    stats = np.zeros((5, 7))
    stats[:, 2] = [0.3, 0.3, np.nan, 1.7, -0.2]  # entropyRate
    stats[:, 5] = [0.0, 0.6, np.nan, np.inf, 0.0]  # attnMean
    assert decoders.token_amplitudes(stats).tolist() == [0.3, 0.6, 0.0, 1.0, 0.0]


def test_token_decoder_composition():
    width, height, scale = 24, 20, 8
    g = splat_geometry(grid_ids(width, height, scale), width, height, scale)
    rng = np.random.default_rng(3)
    amp = rng.uniform(0, 1, len(g.cx))
    f = decoders.decode_tokens(amp, g, width, height)
    a = kern.splat_gaussian(width, height, g.cx, g.cy, amp, g.sigma)
    u = kern.box_blur_wrapped(a, width, height, g.radius)
    assert f.aact.tobytes() == kern.tanh_calibrated(a, 1.0, 0.0).tobytes()
    assert f.uact.tobytes() == kern.tanh_calibrated(u, 1.0, 0.0).tobytes()
    assert f.lap_a.tobytes() == kern.laplacian5_wrapped(a, width, height).tobytes()
    assert f.div_u.tobytes() == kern.laplacian5_wrapped(u, width, height).tobytes()
    halved = decoders.decode_tokens(amp, g, width, height, weights=np.full(len(amp), 0.5))
    assert float(halved.aact.sum()) < float(f.aact.sum())
