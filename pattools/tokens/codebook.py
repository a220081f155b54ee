"""The LFQ codebook "PAT_LFQ_v1" (docs/tokens.md §1 step 8 and §1.1).

Each token's code is five independent 4-bin indices of features scaled to [0, 1]:
``idx = min(bins − 1, floor(clamp01(v)·bins))`` for the features A, phi_gf (as
angle01), theta (as orientRef01, reflection invariant), entropyRate and kappa_abs
(|kappa|/π capped at 1). ``BIN_WIDTH`` gives one bin's width in the units of the token
field a feature is read from, for editors that move a field by whole bins.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS

BINS = 4
DIMS = 5
CODEBOOK_NAME = "PAT_LFQ_v1"
FEATURES: tuple[str, ...] = ("A", "phi_gf", "theta_ref", "entropyRate", "kappa_abs")
CODEBOOK_DESC = f"{CODEBOOK_NAME}|dims={DIMS}|bins={BINS}|features={','.join(FEATURES)}"
CODEBOOK_SHA = hashlib.sha256(CODEBOOK_DESC.encode("utf-8")).hexdigest()

# token field each feature is read from: (block, field)
FEATURE_SOURCES: tuple[tuple[str, str], ...] = (
    ("geom", "A"),
    ("geom", "phi_gf"),
    ("geom", "theta"),
    ("stats", "entropyRate"),
    ("geom", "kappa"),
)
# one bin in source-field units: A and entropyRate map 1:1 to [0, 1]; angle01 spans 2π;
# orientRef01 = 2|θ|/π; kappa_abs = |kappa|/π
BIN_WIDTH = np.array(
    [1.0 / BINS, 2.0 * math.pi / BINS, (math.pi / 2.0) / BINS, 1.0 / BINS, math.pi / BINS]
)

_PI = math.pi
_TAU = 2.0 * math.pi
_GEOM = {name: k for k, name in enumerate(GEOM_FIELDS)}
_STATS = {name: k for k, name in enumerate(STATS_FIELDS)}


def clamp01(v: np.ndarray) -> np.ndarray:
    """clamp to [0, 1]; NaN stays NaN."""
    return np.minimum(1.0, np.maximum(0.0, v))


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """docs/tokens.md ``wrap``: ((a + π) mod 2π into [0, 2π)) − π, C fmod semantics."""
    r = np.fmod(np.asarray(a, dtype=np.float64) + _PI, _TAU)
    r = np.where(r < 0.0, r + _TAU, r)
    return r - _PI


def angle01(a: np.ndarray) -> np.ndarray:
    return (wrap_angle(a) + _PI) / _TAU


def orient_ref01(a: np.ndarray) -> np.ndarray:
    h = (np.minimum(_PI / 2.0, np.maximum(-_PI / 2.0, a)) + _PI / 2.0) / _PI
    return np.abs(h - 0.5) * 2.0


def lfq_features(geom: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """float64[T, 5] LFQ feature vectors from geom[T, 5] and stats[T, 7] columns."""
    geom = np.asarray(geom, dtype=np.float64)
    stats = np.asarray(stats, dtype=np.float64)
    feats = np.empty((geom.shape[0], DIMS))
    feats[:, 0] = geom[:, _GEOM["A"]]
    feats[:, 1] = angle01(geom[:, _GEOM["phi_gf"]])
    feats[:, 2] = orient_ref01(geom[:, _GEOM["theta"]])
    feats[:, 3] = stats[:, _STATS["entropyRate"]]
    np.abs(geom[:, _GEOM["kappa"]], out=feats[:, 4])
    feats[:, 4] /= _PI
    # clamp01 on every column (a no-op for angle01 and orientRef01, which lie in [0, 1]);
    # min(1, |kappa|/π) followed by clamp01 is the same clamp; NaN stays NaN
    np.maximum(feats, 0.0, out=feats)
    np.minimum(feats, 1.0, out=feats)
    return feats


def lfq_codes(features: np.ndarray) -> np.ndarray:
    """int64[T, D] bin indices ``min(bins−1, floor(clamp01(v)·bins))``; NaN gives bin 0."""
    v = np.fmax(np.asarray(features, dtype=np.float64), 0.0)  # fmax: NaN → 0
    np.fmin(v, 1.0, out=v)
    v *= BINS
    np.floor(v, out=v)
    np.minimum(v, BINS - 1, out=v)
    return v.astype(np.int64)
