"""The affect header of a frame: computeAffect (docs/tokens.md §2).

Every token of a frame carries the same (arousal, valence), derived from computeMetrics
(docs/lattice.md §9) and the mirror/transpose symmetry of the energy field. All sums
are float64 in cell index order; a non-finite result becomes 0.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.tokens.metrics import LatticeMetrics, check_grid, compute_metrics


def _clamp01(v: float) -> float:
    return 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)


def _norm(x: float, lo: float, hi: float) -> float:
    return _clamp01((x - lo) / (hi - lo))


def _finite_or_zero(v: float) -> float:
    return v if math.isfinite(v) else 0.0


def affect_from_parts(metrics: LatticeMetrics, sums: tuple, W: int, H: int) -> tuple[float, float]:
    """(arousal, valence) from the metrics and ``kernels.tokens.energy_sums``."""
    n = int(W) * int(H)
    s_e, s_abs, d_ref, d_rot = (float(v) for v in sums)
    rho_mean = _clamp01(metrics.rhoMean)
    e_mean = s_e / n
    m = max(1e-6, s_abs / n)
    n_ref = d_ref / (n * m)
    side = min(int(W), int(H))
    n_rot = d_rot / ((side * side) * m)
    symmetry = _clamp01(0.5 * ((1.0 - _clamp01(n_ref / 2.0)) + (1.0 - _clamp01(n_rot / 2.0))))
    plus, minus = metrics.defectsPlus, metrics.defectsMinus
    chi = (plus - minus) / (plus + minus) if plus + minus > 0 else 0.0
    chi = max(-1.0, min(1.0, chi))
    n_e = _norm(e_mean, 0.1, 1.0)
    n_h = _norm(metrics.entropyGrad, 0.0, math.pi / 2.0)
    n_d = _norm(metrics.defectDensity, 0.0, 0.02)
    arousal = _clamp01(0.4 * n_e + 0.2 * n_h + 0.4 * (1.0 - rho_mean))
    valence = _clamp01(
        0.5 * rho_mean + 0.05 * symmetry + 0.05 * (0.5 + 0.5 * chi) - 0.25 * n_d - 0.15 * n_h
    )
    return _finite_or_zero(arousal), _finite_or_zero(valence)


def compute_affect(
    phases: np.ndarray,
    energy: np.ndarray,
    W: int,
    H: int,
    wrap: bool = True,
    metrics: LatticeMetrics | None = None,
) -> tuple[float, float]:
    """computeAffect(sim) → (arousal, valence); pass ``metrics`` if already computed."""
    from pattools.kernels.tokens import energy_sums

    if metrics is None:
        metrics = compute_metrics(phases, W, H, wrap)
    e = check_grid(energy, W, H, "energy")
    return affect_from_parts(metrics, energy_sums(e, int(W), int(H)), W, H)
