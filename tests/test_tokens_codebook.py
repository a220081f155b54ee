"""LFQ codebook PAT_LFQ_v1 and patch geometry."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from pattools.errors import DataError
from pattools.tokens import codebook as cb
from pattools.tokens.patches import patch_grid, patch_ids, patch_index


def test_codebook_identity():
    assert cb.BINS == 4 and cb.DIMS == 5 and cb.CODEBOOK_NAME == "PAT_LFQ_v1"
    desc = "PAT_LFQ_v1|dims=5|bins=4|features=A,phi_gf,theta_ref,entropyRate,kappa_abs"
    assert cb.CODEBOOK_DESC == desc
    assert cb.CODEBOOK_SHA == hashlib.sha256(desc.encode()).hexdigest()
    assert len(cb.CODEBOOK_SHA) == 64


def _frame_cols(A, phi, theta, er, kappa):
    n = len(A)
    geom = np.column_stack([A, phi, theta, np.zeros(n), kappa])
    stats = np.zeros((n, 7))
    stats[:, 2] = er
    return geom, stats


def test_features_and_codes():
    pi = math.pi
    geom, stats = _frame_cols(
        A=[1.0, 1.2, -0.1, 0.3],
        phi=[-pi, pi, 0.0, pi / 2],
        theta=[0.0, pi / 2, -pi / 2, pi / 8],
        er=[0.0, 1.0, 0.26, 0.5],
        kappa=[0.0, -4.0, pi / 2, pi / 4],
    )
    f = cb.lfq_features(geom, stats)
    assert f[:, 0].tolist() == [1.0, 1.0, 0.0, 0.3]
    assert f[:, 1].tolist() == [0.0, 0.0, 0.5, 0.75]  # wrap(π) = −π → 0
    assert f[:, 2].tolist() == [0.0, 1.0, 1.0, 0.25]  # reflection invariant
    assert f[:, 4].tolist() == [0.0, 1.0, 0.5, 0.25]
    codes = cb.lfq_codes(f)
    assert codes.dtype == np.int64
    assert codes.tolist() == [[3, 0, 0, 0, 0], [3, 0, 3, 3, 3], [0, 2, 3, 1, 2], [1, 3, 1, 2, 1]]


def test_codes_clamp_and_nan():
    codes = cb.lfq_codes(np.array([[-1.0, 0.2499999, 0.25, 0.999, 7.0], [np.nan] * 5]))
    assert codes.tolist() == [[0, 0, 1, 3, 3], [0, 0, 0, 0, 0]]


def test_orientation_is_reflection_invariant():
    th = np.linspace(-2, 2, 41)  # equal up to the rounding of (θ + π/2)/π
    assert np.allclose(cb.orient_ref01(th), cb.orient_ref01(-th), rtol=0, atol=1e-15)
    assert cb.orient_ref01(np.array([0.0, math.pi / 2, -math.pi / 2])).tolist() == [0.0, 1.0, 1.0]


def test_bin_width_moves_one_bin():
    # moving a field by one BIN_WIDTH from a bin's centre lands in the next bin
    pi = math.pi
    geom, stats = _frame_cols(A=[0.125], phi=[-pi + pi / 4], theta=[pi / 16], er=[0.125], kappa=[pi / 8])
    base = cb.lfq_codes(cb.lfq_features(geom, stats))[0]
    w = cb.BIN_WIDTH
    geom2, stats2 = _frame_cols(
        A=[0.125 + w[0]], phi=[-pi + pi / 4 + w[1]], theta=[pi / 16 + w[2]], er=[0.125 + w[3]], kappa=[pi / 8 + w[4]]
    )
    moved = cb.lfq_codes(cb.lfq_features(geom2, stats2))[0]
    assert (moved - base).tolist() == [1, 1, 1, 1, 1]


@pytest.mark.parametrize("W,H", [(100, 70), (48, 40), (96, 96), (4, 4), (65, 8)])
@pytest.mark.parametrize("scale", [8, 16, 32, 64])
def test_patch_geometry(W, H, scale):
    x0, y0, x1, y1 = patch_grid(W, H, scale)
    ids = patch_ids(W, H, scale)
    want = [(a, b) for b in range(0, H, scale) for a in range(0, W, scale)]
    assert list(zip(x0.tolist(), y0.tolist())) == want
    assert ids == [f"{a},{b},{scale}" for a, b in want]
    assert np.all(x1 == np.minimum(W, x0 + scale)) and np.all(y1 == np.minimum(H, y0 + scale))
    idx = patch_index(W, H, scale)
    assert idx.dtype == np.int32 and idx.shape == (W * H,)
    for t in range(len(ids)):
        cells = np.zeros((H, W), bool)
        cells[y0[t] : y1[t], x0[t] : x1[t]] = True
        assert np.array_equal(idx == t, cells.reshape(-1))


def test_bad_scale():
    with pytest.raises(DataError, match="expected scale 8, 16, 32 or 64, got integer 12"):
        patch_grid(96, 96, 12)
    with pytest.raises(DataError):
        patch_ids(96, 96, True)
