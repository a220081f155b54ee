"""The lattice state: what one seed's simulation carries from step to step.

Why this shape (docs/lattice.md §2, §5): every per-cell field is a float32 vector
of length N = W·H in row-major order (``i = y·W + x``), because the original stores
float32 and computes in float64, and bit-exact parity depends on rounding at exactly
the same writes. Only the core fields are kept: θ and ω, the surface and hyper layers
(φS, ωS, φH, ωH) and the energy E, which PAT tokens read. Planes, masks, walls and the
DAG machinery are decoration (§5) and are dropped.

The 48 Chebyshev ring neighbours are the same stencil for every cell, so they are not
stored at all; only the small-world edges are, in CSR form by receiver (``sw_ptr``,
``sw_src``, ``sw_sign``, insertion order kept) plus each edge's receiver (``sw_dst``).
A 1024×1024 state measures 36 MB: eight float32 fields and the CSR pointer (edges are
few: 667 at 96², and at 1024² only ~4.4 k, because a uniform draw over the whole grid
rarely lands 6–20 cells away within the original's 50 tries). The step adds one
float32 buffer (4 MB) and a few rows per thread. An N×48 neighbour table would be
~400 MB.

``noise_state`` is the separate noise stream (§1, consumed only when noise_amp > 0) and
``rng_state`` the graph/initial-state stream after initialisation, both as signed int32
values like the original's. ``steps`` counts steps taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FIELDS = ("phases", "omega_seeds", "omegas", "surf_phi", "surf_omega", "hyp_phi", "hyp_omega", "energy")


@dataclass(eq=False)
class LatticeState:
    W: int
    H: int
    wrap: bool
    seed: int
    phases: np.ndarray  # θ, float32[N]
    omega_seeds: np.ndarray  # u·2−1, float32[N]
    omegas: np.ndarray  # ω = f32(omegaSeed·omegaSpread), float32[N]
    surf_phi: np.ndarray  # φS, float32[N]
    surf_omega: np.ndarray  # ωS, float32[N]
    hyp_phi: np.ndarray  # φH, float32[N]
    hyp_omega: np.ndarray  # ωH, float32[N]
    energy: np.ndarray  # E, float32[N]
    sw_ptr: np.ndarray  # int32[N+1]: edges into cell i are sw_ptr[i]:sw_ptr[i+1]
    sw_src: np.ndarray  # int32[E]: the cell each edge listens to
    sw_sign: np.ndarray  # int8[E]: ±1
    sw_dst: np.ndarray  # int32[E]: the receiving cell of each edge (redundant with sw_ptr)
    noise_state: int
    rng_state: int
    steps: int = 0
    scratch: np.ndarray | None = field(default=None, repr=False)  # float32[N] step buffer

    @property
    def N(self) -> int:
        return self.W * self.H

    def copy(self) -> "LatticeState":
        """A deep copy (arrays copied, scratch not shared)."""
        arrays = {name: getattr(self, name).copy() for name in FIELDS}
        return LatticeState(
            W=self.W,
            H=self.H,
            wrap=self.wrap,
            seed=self.seed,
            sw_ptr=self.sw_ptr.copy(),
            sw_src=self.sw_src.copy(),
            sw_sign=self.sw_sign.copy(),
            sw_dst=self.sw_dst.copy(),
            noise_state=self.noise_state,
            rng_state=self.rng_state,
            steps=self.steps,
            **arrays,
        )

    def nbytes(self) -> int:
        total = sum(getattr(self, name).nbytes for name in FIELDS)
        total += self.sw_ptr.nbytes + self.sw_src.nbytes + self.sw_sign.nbytes + self.sw_dst.nbytes
        if self.scratch is not None:
            total += self.scratch.nbytes
        return total
