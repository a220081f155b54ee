"""Attention modulators of the step (docs/lattice.md §6).

Four float32[N] fields and six gains, held constant over a frame's steps:
coupling M_ij = 1 + γK·Aact_i·Aact_j − βK·Uact_i·Uact_j (ring and small-world edges),
phase lag α_i = γα·lapA_i − βα·divU_i, and, when noise is on, the noise amplitude
clamp(noiseAmp·(1 − γD·Aact_i) + δD·Uact_i, 0, 1.5·max(1e−6, noiseAmp)).
The wind term (etaV) is 0 in every shipped configuration and is not modelled.
Defaults are the painter UI's gains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.errors import DataError

ARRAYS = ("aact", "uact", "lap_a", "div_u")
GAINS = ("gamma_k", "beta_k", "gamma_alpha", "beta_alpha", "gamma_d", "delta_d")


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

    @classmethod
    def zeros(cls, N: int, **gains: float) -> "Modulators":
        z = np.zeros(int(N), dtype=np.float32)
        return cls(z, z.copy(), z.copy(), z.copy(), **gains)

    def arrays(self, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The four fields as contiguous float32[N], or a DataError naming the bad one."""
        out = []
        for name in ARRAYS:
            arr = np.ascontiguousarray(getattr(self, name), dtype=np.float32).reshape(-1)
            if arr.size != N:
                raise DataError(f"expected {N} values, got {arr.size}", path=f"mods.{name}")
            out.append(arr)
        return tuple(out)

    def gain_vector(self) -> np.ndarray:
        return np.array([float(getattr(self, g)) for g in GAINS], dtype=np.float64)
