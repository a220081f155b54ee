"""A straightforward numpy lattice step: the 48-neighbour gather form (the speed baseline).

What one would write first from docs/lattice.md §4 (headless, no modulators, no
noise): an N×48 neighbour table, ``sin(θ[nbr] − θ[:, None])`` weighted by ring and
summed per row, small-world edges added with ``np.add.at``, then the layers and the
energy. It keeps the float32 stores of docs/lattice.md §0, so its result can be compared with the
kernels (it sums each cell's 48 terms in numpy's pairwise order, not the canonical one).
"""

from __future__ import annotations

import math

import numpy as np

TAU = 2.0 * math.pi


class NaiveLattice:
    """Tables for one grid: neighbour indices, per-column weights, edge lists."""

    def __init__(self, state, params) -> None:
        W, H = state.W, state.H
        offs = [(dx, dy, r) for r in (1, 2, 3) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
                if max(abs(dx), abs(dy)) == r]
        ys, xs = np.divmod(np.arange(W * H), W)
        self.nbr = np.stack([((ys + dy) % H) * W + (xs + dx) % W for dx, dy, _r in offs], axis=1)
        k = {1: params.K1, 2: params.K2, 3: params.K3}
        self.kw = np.array([k[r] for _dx, _dy, r in offs])
        counts = np.diff(state.sw_ptr)
        self.sw_dst = np.repeat(np.arange(W * H), counts)
        self.sw_src = state.sw_src.astype(np.int64)
        self.sw_w = params.swWeight * state.sw_sign.astype(np.float64)
        self.params = params


def _wrapstore(v):
    a = np.fmod(v, TAU).astype(np.float32)
    neg = a < 0
    a[neg] = (a[neg].astype(np.float64) + TAU).astype(np.float32)
    return a


def naive_step(state, lat: NaiveLattice, dt: float) -> None:
    """One headless step of ``state`` (a LatticeState), in place."""
    p = lat.params
    th = state.phases.astype(np.float64)
    ps = state.surf_phi.astype(np.float64)
    ph = state.hyp_phi.astype(np.float64)
    state.surf_phi[:] = _wrapstore(ps + (state.surf_omega + p.surfPull * np.sin(th - ps)) * dt)
    state.hyp_phi[:] = _wrapstore(ph + (state.hyp_omega + p.hypPull * np.sin(th - ph)) * dt)
    coupling = (lat.kw * np.sin(th[lat.nbr] - th[:, None])).sum(axis=1)
    np.add.at(coupling, lat.sw_dst, lat.sw_w * np.sin(th[lat.sw_src] - th[lat.sw_dst]))
    new = _wrapstore(th + dt * (state.omegas + p.Kbase * coupling))
    state.phases[:] = new
    t = new.astype(np.float64)
    e = state.energy.astype(np.float64)
    drive = p.energyBaseline + p.energyDiff * (np.sin(state.surf_phi - t) + 0.5 * np.sin(state.hyp_phi - t))
    state.energy[:] = np.clip(e + dt * (drive - p.sinkLine * e), 0.0, p.energyMax).astype(np.float32)
    state.steps += 1
