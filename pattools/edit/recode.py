"""LFQ code of edited tokens (``pat-apply --recode``; codebook PAT_LFQ_v1, spec/pat-tokens.md §1.1).

Per dimension, uniform bins on [0, 1]: ``idx = min(bins−1, floor(clamp01(v)·bins))`` over
the features ``[clamp01(A), angle01(phi_gf), orientRef01(theta), clamp01(entropyRate),
clamp01(min(1, |kappa|/π))]``, vectorised over token rows.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS

LFQ_BINS = 4
_A, _PHI, _THETA, _KAPPA = (GEOM_FIELDS.index(n) for n in ("A", "phi_gf", "theta", "kappa"))
_ENT = STATS_FIELDS.index("entropyRate")


def lfq_features(geom: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """The five codebook features in [0, 1] per token row (float64[n, 5])."""
    pi = math.pi
    a = np.clip(geom[:, _A], 0.0, 1.0)
    wrapped = np.mod(geom[:, _PHI] + pi, 2 * pi) - pi  # [−π, π)
    phase = (wrapped + pi) / (2 * pi)
    h = (np.clip(geom[:, _THETA], -pi / 2, pi / 2) + pi / 2) / pi
    orient = np.abs(h - 0.5) * 2
    entropy = np.clip(stats[:, _ENT], 0.0, 1.0)
    kappa = np.clip(np.minimum(1.0, np.abs(geom[:, _KAPPA]) / pi), 0.0, 1.0)
    return np.stack([a, phase, orient, entropy, kappa], axis=1)


def encode_rvq(geom: np.ndarray, stats: np.ndarray, bins: int = LFQ_BINS) -> np.ndarray:
    """``code.rvq`` (int64[n, 5]) of tokens with these geom and stats columns."""
    v = np.clip(lfq_features(geom, stats), 0.0, 1.0)
    return np.minimum(bins - 1, np.floor(v * bins)).astype(np.int64)
