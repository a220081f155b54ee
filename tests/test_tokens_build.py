"""build_frame / compute_affect against the plain-Python twin, bit for bit, on random
fields including partial edge patches at every scale."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from pattools.errors import DataError
from pattools.kernels.circular import wrap_pi
from pattools.tokens.affect import compute_affect
from pattools.tokens.build import build_frame
from pattools.tokens.frame import TokenFrame
from pattools.tokens.patches import patch_ids
from tests import test_tokens_twin as twin


def _fields(seed, W, H, smooth=False):
    rng = np.random.default_rng(seed)
    if smooth:
        # a few vortices on a smooth background: non-trivial topology, small gradients
        y, x = np.mgrid[0:H, 0:W]
        th = 0.3 * x + 0.1 * y
        for cx, cy, q in [(W * 0.3, H * 0.4, 1), (W * 0.7, H * 0.6, -1), (W * 0.5, H * 0.2, 1)]:
            th = th + q * np.arctan2(y - cy, x - cx)
        th = np.mod(th.reshape(-1) + 0.01 * rng.standard_normal(W * H), 2 * math.pi)
    else:
        th = rng.random(W * H) * 2 * math.pi
    energy = (0.35 + 0.9 * rng.random(W * H)).astype(np.float32)
    return th.astype(np.float32), energy


def _assert_same(built, want_tokens, want_defects, want_metrics):
    got = built.tokens.to_tokens()
    assert len(got) == len(want_tokens)
    for g, w in zip(got, want_tokens):
        assert g == w
    assert built.patch_defects.tolist() == [list(d) for d in want_defects]
    assert built.metrics.to_dict() == want_metrics


@pytest.mark.parametrize("W,H", [(100, 70), (48, 40)])
@pytest.mark.parametrize("scale", [8, 16, 32, 64])
def test_build_matches_twin(W, H, scale):
    th, e = _fields(W + H + scale, W, H, smooth=scale in (16, 64))
    t = 0.03 * (scale + 1)
    built = build_frame(th, e, W, H, scale, t)
    _assert_same(built, *twin.tokens(th, e, W, H, scale, t))


def test_build_without_wrap_and_with_attention_and_heads():
    W, H, scale = 37, 29, 16
    th, e = _fields(1, W, H, smooth=True)
    aact = np.random.default_rng(2).random(W * H).astype(np.float32)
    heads = [0.5, -1.25]
    built = build_frame(th, e, W, H, scale, 1.5, wrap=False, aact=aact, heads=heads)
    _assert_same(built, *twin.tokens(th, e, W, H, scale, 1.5, wrap_flag=False, aact=aact, heads=heads))
    assert built.tokens.stats[:, 5].min() > 0  # attnMean filled


def test_build_frame_columns():
    W, H = 100, 70
    th, e = _fields(3, W, H)
    built = build_frame(th, e, W, H, 32, 0.06)
    tf = built.tokens
    assert isinstance(tf, TokenFrame)
    assert tf.patch_ids == patch_ids(W, H, 32)
    assert tf.patch_ids[:5] == ["0,0,32", "32,0,32", "64,0,32", "96,0,32", "0,32,32"]
    assert tf.geom.dtype == np.float64 and tf.stats.dtype == np.float64
    assert tf.topo.dtype == np.int64 and tf.rvq.dtype == np.int64 and tf.rvq.shape == (len(tf), 5)
    assert built.patch_defects.shape == (len(tf), 2) and built.patch_defects.dtype == np.int64
    assert np.all(tf.t == 0.06) and np.all(tf.scale == 32)
    assert np.all(tf.topo[:, 0] == tf.topo[:, 1])
    # round trip through the record form is lossless
    back = TokenFrame.from_tokens(tf.to_tokens())
    assert np.array_equal(back.geom, tf.geom) and np.array_equal(back.rvq, tf.rvq)


def test_given_metrics_are_used_and_returned():
    th, e = _fields(4, 48, 40)
    full = build_frame(th, e, 48, 40, 16, 0.0)
    again = build_frame(th, e, 48, 40, 16, 0.0, metrics=full.metrics)
    assert again.metrics is full.metrics
    assert again.tokens.to_tokens() == full.tokens.to_tokens()


def test_compute_affect_matches_twin():
    for W, H, wrap in [(48, 40, True), (23, 31, False), (8, 8, True)]:
        th, e = _fields(W * H, W, H)
        m = twin.metrics(th, W, H, wrap)
        assert compute_affect(th, e, W, H, wrap) == twin.affect(e, W, H, m)


def test_affect_non_finite_becomes_zero():
    th, e = _fields(9, 16, 16)
    e[3] = np.nan
    arousal, valence = compute_affect(th, e, 16, 16)
    assert arousal == 0.0 and valence == 0.0


def test_tokens_do_not_depend_on_thread_count():
    th, e = _fields(12, 100, 70)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = build_frame(th, e, 100, 70, 16, 0.0)
    finally:
        numba.set_num_threads(before)
    many = build_frame(th, e, 100, 70, 16, 0.0)
    assert one.tokens.to_tokens() == many.tokens.to_tokens()
    assert np.array_equal(one.patch_defects, many.patch_defects)


def test_wrap_pi_kernel_matches_fmod_form():
    rng = np.random.default_rng(0)
    vals = list(rng.uniform(-4 * math.pi, 4 * math.pi, 5000))
    vals += [0.0, -0.0, math.pi, -math.pi, 2 * math.pi, -2 * math.pi, 3 * math.pi, 4 * math.pi, -5 * math.pi, 1e-17, -1e-17]
    vals += [math.nextafter(-math.pi, 0.0), math.nextafter(-math.pi, -4.0), 20.0, -20.0]
    for v in vals:
        assert wrap_pi(v) == twin.wrap(v)


def test_bad_inputs_are_data_errors():
    th, e = _fields(0, 16, 16)
    with pytest.raises(DataError, match="scale"):
        build_frame(th, e, 16, 16, 24, 0.0)
    with pytest.raises(DataError, match="energy"):
        build_frame(th, e[:-1], 16, 16, 8, 0.0)
    with pytest.raises(DataError, match="at least 4"):
        build_frame(th[:12], e[:12], 4, 3, 8, 0.0)
