"""computeMetrics: grid-wide order, defect and gradient figures of a phase field
(docs/lattice.md §9).

Used by the affect header (docs/tokens.md §2) on every frame and by the optional
``metrics`` block of a PAT_FRAME. It lives with the tokens because the affect header is
defined on it and, like the tokens, it is computed from arrays: it needs nothing of the
lattice's stepping. The ring neighbourhood of ρ follows the sim's wrap flag; defects and
entropyGrad are always toroidal, as in the original.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from pattools.errors import DataError, UsageError, expected_found


@dataclass(frozen=True)
class LatticeMetrics:
    rhoMean: float
    rhoStd: float
    defectDensity: float
    defectsPlus: int
    defectsMinus: int
    entropyGrad: float
    anisotropyHV: float

    def to_dict(self) -> dict:
        return asdict(self)


def check_grid(phases: np.ndarray, W: int, H: int, name: str = "phases") -> np.ndarray:
    """The field as a contiguous float32 vector of length W·H, or a DataError."""
    if int(W) < 4 or int(H) < 4:
        raise DataError(expected_found("grid of at least 4×4", f"{W}×{H}"), path="W,H")
    arr = np.ascontiguousarray(phases, dtype=np.float32).reshape(-1)
    if arr.size != int(W) * int(H):
        raise DataError(
            f"expected {int(W) * int(H)} values for a {W}×{H} grid, got {arr.size}", path=name
        )
    return arr


def metrics_from_terms(rho, ex, ey, dsign, W: int, H: int) -> LatticeMetrics:
    """Finish §9 from the per-cell terms of ``kernels.metrics.rho_terms``."""
    from pattools.kernels.metrics import metric_sums

    return metrics_from_sums(metric_sums(rho, ex, ey, dsign), W, H)


def metrics_from_sums(sums: tuple, W: int, H: int) -> LatticeMetrics:
    """Finish §9 from ``kernels.metrics.metric_sums`` of the per-cell terms."""
    n = int(W) * int(H)
    s_rho, s_rho2, s_ex, s_ey, plus, minus = sums
    rho_mean = s_rho / n
    rho_std = math.sqrt(max(0.0, s_rho2 / n - rho_mean * rho_mean))
    mx = s_ex / n
    my = s_ey / n
    return LatticeMetrics(
        rhoMean=rho_mean,
        rhoStd=rho_std,
        defectDensity=(plus + minus) / n,
        defectsPlus=int(plus),
        defectsMinus=int(minus),
        entropyGrad=0.5 * (mx + my),
        anisotropyHV=(mx - my) / max(1e-6, mx + my),
    )


KERNELS = ("fast", "reference")


def check_kernel(kernel: str) -> str:
    if kernel not in KERNELS:
        raise UsageError(f"unknown kernel {kernel!r} (expected one of {', '.join(KERNELS)})")
    return kernel


def compute_metrics(
    phases: np.ndarray, W: int, H: int, wrap: bool = True, *, kernel: str = "fast"
) -> LatticeMetrics:
    """computeMetrics(sim) of docs/lattice.md §9 for float32 phases of a W×H grid.
    ``kernel="reference"`` runs the straightforward kernels (same bits, slower)."""
    from pattools.kernels import metrics as km
    from pattools.kernels import planes

    check_kernel(kernel)
    theta = check_grid(phases, W, H)
    if kernel == "fast":
        bands = planes.band_count(H)
        cp, sp = planes.pad_cos_sin(theta, int(W), int(H), bool(wrap), bands)
        terms = km.rho_terms(cp, sp, theta, int(W), int(H), bool(wrap), bands)
    else:
        cp, sp = planes.pad_cos_sin_reference(theta, int(W), int(H), bool(wrap))
        terms = km.rho_terms_reference(cp, sp, theta, int(W), int(H), bool(wrap))
    return metrics_from_terms(*terms, W, H)
