"""Token columns of one frame from its patch reductions (docs/tokens.md §1 steps 7–8).

Why a kernel: assembling geom/stats/topo and the LFQ codes with numpy took ≈ 27 µs of
a ≈ 0.6 ms 96×96 export frame, almost all of it per-call overhead on 9-row arrays. This
is the same arithmetic per token (tokens.build keeps the numpy form for the reference
path, and the parity tests compare the two bit for bit): clamp01 keeps NaN, the LFQ bin
of a NaN or non-positive feature is 0 (``codebook.lfq_codes``' fmax), and every angle
feature is formed with the operations of ``codebook`` in the same order.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel
from pattools.kernels.patches import P_ATTN_MEAN, P_ATTN_VAR, P_GRAD, P_LAP, P_MEAN_E, P_PHI, P_R, P_THETA

# The column layout this kernel writes. The token model (tokens.frame, tokens.codebook)
# owns these names; tokens.build checks at import that they agree.
GEOM_COLUMNS = ("A", "phi_gf", "theta", "gradPhi", "kappa")
STATS_COLUMNS = ("rho", "energy", "entropyRate", "arousal", "valence", "attnMean", "attnVar")
TOPO_COLUMNS = ("vortex", "chirality")
LFQ_FEATURES = ("A", "phi_gf", "theta_ref", "entropyRate", "kappa_abs")  # spelled out in token_columns
BINS = 4
DIMS = len(LFQ_FEATURES)

_PI = math.pi
_TAU = 2.0 * math.pi
_HALF_PI = math.pi / 2.0
G_A, G_PHI, G_THETA, G_GRAD, G_KAPPA = range(len(GEOM_COLUMNS))
S_RHO, S_ENERGY, S_ENTROPY, S_AROUSAL, S_VALENCE, S_ATTN_MEAN, S_ATTN_VAR = range(len(STATS_COLUMNS))
N_GEOM = len(GEOM_COLUMNS)
N_STATS = len(STATS_COLUMNS)
N_TOPO = len(TOPO_COLUMNS)


@kernel
def clamp01(v: float) -> float:
    """np.minimum(np.maximum(v, 0), 1) of one value: NaN stays NaN and, as numpy's
    maximum returns its second argument on a tie, −0 becomes +0."""
    v = v if (v > 0.0 or v != v) else 0.0
    return 1.0 if v > 1.0 else v


@kernel
def lfq_bin(v: float) -> int:
    """``codebook.lfq_codes`` of one feature: 0 for NaN and v ≤ 0, else
    min(BINS − 1, floor(min(v, 1)·BINS))."""
    if not v > 0.0:
        return 0
    v = 1.0 if v > 1.0 else v
    return min(BINS - 1, int(np.floor(v * BINS)))


@kernel
def angle01(a: float) -> float:
    """``codebook.angle01``: (wrap(a) + π)/2π with C fmod."""
    r = np.fmod(a + _PI, _TAU)
    r = r + _TAU if r < 0.0 else r
    return ((r - _PI) + _PI) / _TAU


@kernel
def orient_ref01(a: float) -> float:
    """``codebook.orient_ref01``: |h − ½|·2 with h = (clamp(a, ±π/2) + π/2)/π (NaN stays)."""
    a = -_HALF_PI if -_HALF_PI >= a else a
    a = _HALF_PI if _HALF_PI <= a else a
    h = (a + _HALF_PI) / _PI
    return abs(h - 0.5) * 2.0


@kernel
def token_columns(red: np.ndarray, counts: np.ndarray, arousal: float, valence: float, t: float,
                  scale: int) -> tuple:
    """(t, scale, geom, stats, topo, rvq) columns from ``patch_reduce``'s output, as
    tokens.build's numpy assembly makes them."""
    T = red.shape[0]
    t_col = np.full(T, t)
    scale_col = np.full(T, scale, dtype=np.int64)
    geom = np.empty((T, N_GEOM))
    stats = np.empty((T, N_STATS))
    topo = np.empty((T, N_TOPO), dtype=np.int64)
    rvq = np.empty((T, DIMS), dtype=np.int64)
    for p in range(T):
        geom[p, G_A] = 1.0
        geom[p, G_PHI] = red[p, P_PHI]
        geom[p, G_THETA] = red[p, P_THETA]
        geom[p, G_GRAD] = red[p, P_GRAD]
        geom[p, G_KAPPA] = red[p, P_LAP]
        stats[p, S_RHO] = clamp01(red[p, P_R])
        stats[p, S_ENERGY] = clamp01(red[p, P_MEAN_E])
        stats[p, S_ENTROPY] = clamp01(red[p, P_GRAD] / _PI)
        stats[p, S_AROUSAL] = arousal
        stats[p, S_VALENCE] = valence
        stats[p, S_ATTN_MEAN] = red[p, P_ATTN_MEAN]
        stats[p, S_ATTN_VAR] = red[p, P_ATTN_VAR]
        d = counts[p, 0] - counts[p, 1]
        vortex = 1 if d > 0 else (-1 if d < 0 else 0)
        for k in range(N_TOPO):
            topo[p, k] = vortex
        # features in codebook.FEATURES order: A, angle01(phi_gf), orientRef01(theta),
        # entropyRate, |kappa|/π
        rvq[p, 0] = lfq_bin(geom[p, G_A])
        rvq[p, 1] = lfq_bin(angle01(geom[p, G_PHI]))
        rvq[p, 2] = lfq_bin(orient_ref01(geom[p, G_THETA]))
        rvq[p, 3] = lfq_bin(stats[p, S_ENTROPY])
        rvq[p, 4] = lfq_bin(abs(geom[p, G_KAPPA]) / _PI)
    return t_col, scale_col, geom, stats, topo, rvq
