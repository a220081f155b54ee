"""buildPATokens: one lattice frame → a columnar token frame (spec/pat-tokens.md §1).

Pipeline per frame (all numba work in ``pattools.kernels``):
1. ``phase_fields``: cos/sin of θ once per cell (float64 padded planes for ρ, float32
   cosT/sinT for the tokens) and φ = atan2(sinT, cosT);
2. ``rho_terms`` + ``metric_sums``: computeMetrics (lattice-reference §9);
3. ``energy_sums``: the affect header (§2);
4. ``patch_reduce``: every per-patch reduction of §1 steps 4–6;
then token assembly (clamps, topology, LFQ codes) is vectorised numpy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.lattice.metrics import LatticeMetrics, check_grid, metrics_from_terms
from pattools.tokens.affect import affect_from_parts
from pattools.tokens.codebook import clamp01, lfq_codes, lfq_features
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TokenFrame
from pattools.tokens.patches import check_scale, patch_ids

_G = {name: k for k, name in enumerate(GEOM_FIELDS)}
_S = {name: k for k, name in enumerate(STATS_FIELDS)}


@dataclass
class BuiltFrame:
    """Tokens of one frame plus what the optional ``metrics`` block needs."""

    tokens: TokenFrame
    patch_defects: np.ndarray  # int64[T, 2]: (plus, minus) vortex plaquettes per token
    metrics: LatticeMetrics


def build_frame(
    phases: np.ndarray,
    energy: np.ndarray,
    W: int,
    H: int,
    scale: int,
    t: float,
    *,
    wrap: bool = True,
    aact: np.ndarray | None = None,
    heads: Sequence[float] | None = None,
    metrics: LatticeMetrics | None = None,
) -> BuiltFrame:
    """PAT tokens of one frame (θ and E float32, length W·H) at ``scale`` with
    ``hdr.t = t``. ``aact`` (float32[W·H]) fills attnMean/attnVar; ``heads`` is copied
    into every token; ``metrics`` skips recomputing computeMetrics."""
    from pattools.kernels.metrics import rho_terms
    from pattools.kernels.tokens import (
        P_ATTN_MEAN,
        P_ATTN_VAR,
        P_GRAD,
        P_LAP,
        P_MEAN_E,
        P_PHI,
        P_R,
        P_THETA,
        energy_sums,
        patch_reduce,
        phase_fields,
    )

    W = int(W)
    H = int(H)
    s = check_scale(scale)
    theta = check_grid(phases, W, H, "phases")
    e = check_grid(energy, W, H, "energy")
    has_a = aact is not None
    a = check_grid(aact, W, H, "aact") if has_a else np.zeros(1, dtype=np.float32)

    cp, sp, cos_t, sin_t, phi = phase_fields(theta, W, H, bool(wrap))
    if metrics is None:
        rho, ex, ey, dsign = rho_terms(cp, sp, theta, W, H, bool(wrap))
        metrics = metrics_from_terms(rho, ex, ey, dsign, W, H)
    arousal, valence = affect_from_parts(metrics, energy_sums(e, W, H), W, H)
    red, counts = patch_reduce(cos_t, sin_t, phi, e, a, has_a, W, H, s)

    T = red.shape[0]
    geom = np.empty((T, len(GEOM_FIELDS)))
    geom[:, _G["A"]] = 1.0
    geom[:, _G["phi_gf"]] = red[:, P_PHI]
    geom[:, _G["theta"]] = red[:, P_THETA]
    geom[:, _G["gradPhi"]] = red[:, P_GRAD]
    geom[:, _G["kappa"]] = red[:, P_LAP]
    stats = np.empty((T, len(STATS_FIELDS)))
    stats[:, _S["rho"]] = clamp01(red[:, P_R])
    stats[:, _S["energy"]] = clamp01(red[:, P_MEAN_E])
    stats[:, _S["entropyRate"]] = clamp01(red[:, P_GRAD] / np.pi)
    stats[:, _S["arousal"]] = arousal
    stats[:, _S["valence"]] = valence
    stats[:, _S["attnMean"]] = red[:, P_ATTN_MEAN]
    stats[:, _S["attnVar"]] = red[:, P_ATTN_VAR]
    vortex = np.sign(counts[:, 0] - counts[:, 1]).astype(np.int64)
    topo = np.stack([vortex, vortex], axis=1)
    rvq = lfq_codes(lfq_features(geom, stats))

    head_rows = None
    if heads is not None:
        try:
            head_list = [float(h) for h in heads]
        except (TypeError, ValueError):
            raise DataError(expected_found("list of numbers", heads), path="heads") from None
        head_rows = [list(head_list) for _ in range(T)]

    frame = TokenFrame(
        patch_ids=patch_ids(W, H, s),
        t=np.full(T, float(t)),
        scale=np.full(T, s, dtype=np.int64),
        geom=geom,
        stats=stats,
        topo=topo,
        rvq=rvq,
        heads=head_rows,
    )
    return BuiltFrame(tokens=frame, patch_defects=counts, metrics=metrics)
