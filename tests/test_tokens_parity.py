"""Fast token/metrics kernels against the straightforward reference kernels, bit for bit
(docs/design.md §4): random fields, phases whose float32 cos/sin lie next to a rounding
boundary (they take the certified fallback), and a lattice run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pattools.tokens.metrics import compute_metrics
from pattools.tokens.build import build_frame

# float32 phases whose libm cos or sin lies within 2^-48 of a float32 rounding boundary:
# the fast kernel must notice and take libm's value (found by exhaustive search)
AMBIGUOUS = [
    1.0480543375015259, 1.257638692855835, 1.3292982578277588, 1.5409828424453735, 1.565954327583313,
    1.565994381904602, 1.5676753520965576, 1.5682541131973267, 1.5702214241027832, 1.5707961320877075,
    1.570796251296997, 1.5707963705062866, 1.5707964897155762, 1.5712121725082397, 1.5728542804718018,
    1.5746585130691528, 1.5852417945861816, 1.631710410118103, 1.7127702236175537, 2.2600553035736084,
    2.48638916015625, 2.5878591537475586, 3.1111209392547607, 3.129322052001953, 3.141002655029297,
    3.141592264175415, 3.1415927410125732, 3.1415929794311523, 3.14182710647583, 3.1485249996185303,
    3.1598265171051025, 3.2427525520324707, 4.452152729034424, 4.6459736824035645, 4.691993713378906,
    4.712253570556641, 4.712388515472412, 4.71238899230957, 4.712734222412109, 6.233440399169922,
    6.269609451293945, 6.281826972961426, 6.2831854820251465,
]


def _same(a, b):
    assert a.tokens.to_tokens() == b.tokens.to_tokens()
    assert np.array_equal(a.patch_defects, b.patch_defects)
    assert a.metrics == b.metrics


def _check(th, e, W, H, scale, wrap=True, aact=None):
    fast = build_frame(th, e, W, H, scale, 0.5, wrap=wrap, aact=aact)
    ref = build_frame(th, e, W, H, scale, 0.5, wrap=wrap, aact=aact, kernel="reference")
    _same(fast, ref)
    assert compute_metrics(th, W, H, wrap) == compute_metrics(th, W, H, wrap, kernel="reference") == ref.metrics


@pytest.mark.parametrize("wrap", [True, False])
def test_random_fields(wrap):
    rng = np.random.default_rng(42)
    for W, H, scale in [(256, 128, 32), (100, 70, 16), (9, 13, 8)]:
        th = (rng.random(W * H) * 2 * math.pi).astype(np.float32)
        e = rng.random(W * H).astype(np.float32)
        aact = rng.random(W * H).astype(np.float32) if W < 50 else None
        _check(th, e, W, H, scale, wrap, aact)


def test_ambiguous_phases_take_the_fallback():
    rng = np.random.default_rng(1)
    W, H = 40, 30
    th = (rng.random(W * H) * 2 * math.pi).astype(np.float32)
    idx = rng.choice(W * H, size=len(AMBIGUOUS) * 8, replace=False)
    th[idx] = np.tile(np.array(AMBIGUOUS, dtype=np.float32), 8)
    e = rng.random(W * H).astype(np.float32)
    for wrap in (True, False):
        _check(th, e, W, H, 8, wrap)


def test_phases_beyond_the_stored_range():
    # not produced by the lattice, but valid input: large and negative phases
    rng = np.random.default_rng(2)
    W, H = 24, 20
    th = (rng.standard_normal(W * H) * 40.0).astype(np.float32)
    th[:3] = [1e6, -1e5, 70.0]
    e = rng.random(W * H).astype(np.float32)
    _check(th, e, W, H, 8)


def test_near_synchronous_field():
    # ρ near 1 everywhere: float32 ρ values sit on a coarse grid close to 1
    rng = np.random.default_rng(3)
    W, H = 64, 48
    th = (2.0 + 1e-3 * rng.standard_normal(W * H)).astype(np.float32)
    e = np.full(W * H, 4.0, dtype=np.float32)
    _check(th, e, W, H, 16)


@pytest.mark.slow
def test_lattice_run_fast_equals_reference():
    from pattools.lattice.driver import step
    from pattools.lattice.init import create_state
    from pattools.lattice.params import LatticeParams

    W = H = 128
    params = LatticeParams.preset()
    state = create_state(W, H, 77, params)
    for frame in range(90):
        step(state, params, 0.03)
        if frame % 6:
            continue
        th = np.asarray(state.phases).reshape(-1)
        e = np.asarray(state.energy).reshape(-1)
        for scale in (16, 64):
            fast = build_frame(th, e, W, H, scale, 0.03 * (frame + 1))
            ref = build_frame(th, e, W, H, scale, 0.03 * (frame + 1), kernel="reference")
            _same(fast, ref)


def test_token_columns_kernel_equals_the_numpy_assembly():
    # reductions a frame never produces but the assembly must treat as numpy does: NaN,
    # ±inf, ±0, values on and next to the LFQ bin edges and the clamp limits
    from pattools.kernels import patches as kp
    from pattools.kernels.token_columns import token_columns
    from pattools.tokens.build import _columns_reference

    rng = np.random.default_rng(5)
    edges = np.array([0.0, -0.0, 0.25, 0.5, 0.75, 1.0, math.pi / 2, -math.pi / 2, math.pi, -math.pi,
                      2 * math.pi, 3 * math.pi, -7.5, 1e300, np.nan, np.inf, -np.inf])
    edges = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    edges = np.concatenate([edges, edges[np.abs(edges) < 1e10] * math.pi])  # kappa/π, entropyRate/π edges
    T = 400
    red = rng.choice(np.concatenate([edges, rng.standard_normal(50) * 4]), size=(T, kp.P_COLUMNS))
    counts = rng.integers(0, 4, size=(T, 2))
    for arousal, valence in ((0.25, 0.75), (0.0, 1.0)):
        fast = token_columns(red, counts, arousal, valence, 0.5, 16)
        with np.errstate(invalid="ignore"):  # fmod(±inf): NaN, as in the kernel
            ref = _columns_reference(red, counts, arousal, valence, 0.5, 16)
        for a, b in zip(fast, ref):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a.view(np.int64), b.view(np.int64))  # bits: NaN, -0.0
