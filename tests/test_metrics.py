"""computeMetrics (pattools.tokens.metrics) against the plain-Python twin, bit for bit."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from pattools.errors import DataError
from pattools.kernels import circular
from pattools.tokens.metrics import LatticeMetrics, compute_metrics
from tests import test_tokens_twin as twin


def _phases(rng, W, H):
    return (rng.random(W * H) * (2 * math.pi)).astype(np.float32)


@pytest.mark.parametrize(
    "W,H,wrap",
    [(10, 7, True), (10, 7, False), (4, 5, True), (4, 4, False), (13, 9, False), (16, 16, True), (5, 12, True)],
)
def test_metrics_match_twin(W, H, wrap):
    rng = np.random.default_rng(W * 100 + H + wrap)
    th = _phases(rng, W, H)
    got = compute_metrics(th, W, H, wrap).to_dict()
    assert got == twin.metrics(th, W, H, wrap)


def test_metrics_smooth_field_and_edge_phases():
    # near-synchronous field (ρ close to 1, few defects) plus exact 0 and f32(2π) phases
    W, H = 20, 11
    rng = np.random.default_rng(7)
    th = (1.0 + 0.05 * rng.standard_normal(W * H)).astype(np.float32)
    th[:5] = 0.0
    th[5:9] = np.float32(2 * math.pi)
    for wrap in (True, False):
        assert compute_metrics(th, W, H, wrap).to_dict() == twin.metrics(th, W, H, wrap)


def test_torus_charge_is_neutral():
    rng = np.random.default_rng(3)
    m = compute_metrics(_phases(rng, 33, 21), 33, 21)
    assert isinstance(m, LatticeMetrics)
    assert m.defectsPlus == m.defectsMinus > 0
    assert abs(m.entropyGrad - math.pi / 2) < 0.1  # random phases


def test_metrics_do_not_depend_on_thread_count():
    rng = np.random.default_rng(11)
    th = _phases(rng, 64, 48)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = compute_metrics(th, 64, 48, True), compute_metrics(th, 64, 48, False)
        numba.set_num_threads(before)
        many = compute_metrics(th, 64, 48, True), compute_metrics(th, 64, 48, False)
    finally:
        numba.set_num_threads(before)
    assert one == many


def test_hypot_js_kernel_matches_engine_formula():
    rng = np.random.default_rng(5)
    vals = np.concatenate([rng.standard_normal(2000), [0.0, -0.0, 1e-310, 1e300]])
    for a, b in zip(vals[:-1], vals[1:]):
        assert circular.hypot_js(a, b) == twin.hypot_js(a, b)
    assert circular.hypot_js(math.inf, math.nan) == math.inf
    assert math.isnan(circular.hypot_js(math.nan, 1.0))


def test_wrapd_kernel():
    for d in [0.0, math.pi, -math.pi, 3 * math.pi, -7.0, 6.2831855, 1e-17, 1e30, -5e8]:
        assert circular.wrapd(d) == twin.wrapd(d)
    assert math.isnan(circular.wrapd(math.inf)) and math.isnan(circular.wrapd(math.nan))


def test_non_finite_and_huge_phases_end():
    th = np.zeros(25, np.float32)
    th[3] = np.inf
    th[7] = 1e30
    th[9] = np.nan
    m = compute_metrics(th, 5, 5)
    assert math.isnan(m.entropyGrad) or math.isfinite(m.entropyGrad)


def test_bad_grid_is_data_error():
    with pytest.raises(DataError, match="at least 4×4"):
        compute_metrics(np.zeros(12, np.float32), 4, 3)
    with pytest.raises(DataError, match="expected 16 values"):
        compute_metrics(np.zeros(11, np.float32), 4, 4)
