"""Attention modulators of the step (docs/lattice.md §6).

Four float32[N] fields and six gains, held constant over a frame's steps:
coupling M_ij = 1 + γK·Aact_i·Aact_j − βK·Uact_i·Uact_j (ring and small-world edges),
phase lag α_i = γα·lapA_i − βα·divU_i, and, when noise is on, the noise amplitude
clamp(noiseAmp·(1 − γD·Aact_i) + δD·Uact_i, 0, 1.5·max(1e−6, noiseAmp)).
Optionally the wind (§6 item 4): a field A with its Laplacian and the advection
∂xA·∂xθ + ∂yA·∂yθ of the frame's starting θ, acting with gain etaV (``Wind``).
Defaults are the painter UI's gains (etaV 0: no wind).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.errors import DataError

ARRAYS = ("aact", "uact", "lap_a", "div_u")
GAINS = ("gamma_k", "beta_k", "gamma_alpha", "beta_alpha", "gamma_d", "delta_d")


@dataclass(eq=False)
class Wind:
    """The wind's float32[N] fields A, lapAraw, advect and its gain etaV (0: no wind)."""

    a: np.ndarray
    lap_a_raw: np.ndarray
    advect: np.ndarray
    eta_v: float = 0.0

    def arrays(self, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The three fields as contiguous float32[N], or a DataError naming the bad one."""
        return tuple(_field(getattr(self, name), N, f"mods.wind.{name}") for name in ("a", "lap_a_raw", "advect"))


def _field(values: np.ndarray, N: int, path: str) -> np.ndarray:
    arr = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    if arr.size != N:
        raise DataError(f"expected {N} values, got {arr.size}", path=path)
    return arr


@dataclass(eq=False)
class Modulators:
    aact: np.ndarray
    uact: np.ndarray
    lap_a: np.ndarray
    div_u: np.ndarray
    gamma_k: float = 0.6
    beta_k: float = 0.2
    gamma_alpha: float = 0.15
    beta_alpha: float = 0.1
    gamma_d: float = 0.4
    delta_d: float = 0.15
    wind: Wind | None = None

    @property
    def windy(self) -> bool:
        """Whether the wind acts (a Wind with etaV ≠ 0)."""
        return self.wind is not None and self.wind.eta_v != 0.0

    @classmethod
    def zeros(cls, N: int, **gains: float) -> "Modulators":
        z = np.zeros(int(N), dtype=np.float32)
        return cls(z, z.copy(), z.copy(), z.copy(), **gains)

    def arrays(self, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The four fields as contiguous float32[N], or a DataError naming the bad one."""
        return tuple(_field(getattr(self, name), N, f"mods.{name}") for name in ARRAYS)

    def gain_vector(self) -> np.ndarray:
        return np.array([float(getattr(self, g)) for g in GAINS], dtype=np.float64)
