"""createSimulation for the headless exporter (docs/lattice.md §3).

Draws come from one xorshift32 stream seeded from (W, H, key) in the original's order:
θ for every cell, ω seeds for every cell, the small-world scan (one draw per cell, then
per edge up to 50 tries of two draws and one sign draw), then ωS and ωH interleaved
per cell. The ring neighbourhoods need no draws and are not stored.
"""

from __future__ import annotations

import numpy as np

from pattools.errors import UsageError
from pattools.lattice.params import LatticeParams
from pattools.lattice.rng import default_noise_seed, graph_seed, set_noise_seed, to_int32
from pattools.lattice.state import LatticeState

MIN_SIDE = 4
MAX_CELLS = 1 << 28


def check_grid(W: int, H: int) -> tuple[int, int]:
    """Validated (W, H): integers of at least 4 (the wrap index needs it, §0)."""
    for name, value in (("W", W), ("H", H)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise UsageError(f"grid {name} must be an integer, got {value!r}")
        if value < MIN_SIDE:
            raise UsageError(f"grid {name} must be at least {MIN_SIDE}, got {value}")
    if int(W) * int(H) > MAX_CELLS:
        raise UsageError(f"grid {W}×{H} is too large (at most {MAX_CELLS} cells)")
    return int(W), int(H)


def create_state(
    W: int,
    H: int,
    seed: int,
    params: LatticeParams,
    *,
    wrap: bool = True,
    noise_seed: int = 0,
) -> LatticeState:
    """A fresh simulation for graph key ``seed``, as the exporter creates it.

    ``noise_seed`` 0 keeps the original's default noise stream (derived from W, H and the
    key); any other value is applied like the original's setNoiseSeed (``s|0``).
    With wrap=False a small-world draw that lands exactly on the far edge (u = 1.0)
    gives no edge, where the original would feed NaN into θ (docs/lattice.md §10 item 3).
    """
    from pattools.kernels.lattice_rng import init_draws

    W, H = check_grid(W, H)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise UsageError(f"seed must be an integer, got {seed!r}")
    seed = int(seed)
    rng = graph_seed(W, H, seed)
    (theta, oseed, omega, ptr, src, sign, surf_omega, hyp_omega, state) = init_draws(
        W, H, bool(wrap), rng & 0xFFFFFFFF,
        float(params.omegaSpread), float(params.swProb), int(params.swEdgesPerNode),
        float(params.swMinDist), float(params.swMaxDist), float(params.swNegFrac),
    )
    n = W * H
    energy = np.full(n, np.float32(params.energyBaseline), dtype=np.float32)
    noise = set_noise_seed(noise_seed) if noise_seed else default_noise_seed(W, H, seed)
    return LatticeState(
        W=W,
        H=H,
        wrap=bool(wrap),
        seed=seed,
        phases=theta,
        omega_seeds=oseed,
        omegas=omega,
        surf_phi=theta.copy(),
        surf_omega=surf_omega,
        hyp_phi=theta.copy(),
        hyp_omega=hyp_omega,
        energy=energy,
        sw_ptr=ptr,
        sw_src=src,
        sw_sign=sign,
        sw_dst=np.repeat(np.arange(n, dtype=np.int32), np.diff(ptr)),
        noise_state=noise,
        rng_state=to_int32(int(state)),
    )
