"""xorshift32 kernels: the initial-state draws and the noise stream (docs/lattice.md §1, §3).

States are unsigned 32-bit values held in int64. The noise stream is split into rows
by GF(2) jump-ahead (xorshift32 is linear over GF(2)), so rows can draw in parallel and
still consume exactly the sequence the original draws cell by cell.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel

TAU = 2.0 * math.pi
U32 = 4294967295.0
MASK = 0xFFFFFFFF


@kernel
def xs32(x):
    """One 13/17/5 xorshift32 update of an unsigned state held in int64."""
    x ^= (x << 13) & MASK
    x ^= x >> 17
    x ^= (x << 5) & MASK
    return x


@kernel
def init_draws(W, H, wrap, seed, omega_spread, sw_prob, sw_per_node, sw_min, sw_max, sw_neg):
    """All draws of createSimulation in the original's order (§3 steps 1, 2, 4, 6).

    Returns θ, omegaSeeds, ω, φS=φH=θ copies, ωS, ωH (float32[N]), the CSR edge arrays
    (ptr int32[N+1], src int32[E], sign int8[E]) and the final stream state.
    """
    n = W * H
    x = seed & MASK
    theta = np.empty(n, np.float32)
    for i in range(n):
        x = xs32(x)
        theta[i] = np.float32((x / U32) * TAU)
    oseed = np.empty(n, np.float32)
    omega = np.empty(n, np.float32)
    for i in range(n):
        x = xs32(x)
        oseed[i] = np.float32((x / U32) * 2.0 - 1.0)
        omega[i] = np.float32(np.float64(oseed[i]) * omega_spread)
    ptr = np.zeros(n + 1, np.int32)
    src = np.empty(max(1, n * sw_per_node), np.int32)
    sign = np.empty(max(1, n * sw_per_node), np.int8)
    ne = 0
    for y in range(H):
        for xx in range(W):
            i = y * W + xx
            x = xs32(x)
            if x / U32 < sw_prob:
                for _e in range(sw_per_node):
                    for _t in range(50):
                        x = xs32(x)
                        qx = int(math.floor((x / U32) * W))
                        x = xs32(x)
                        qy = int(math.floor((x / U32) * H))
                        dx = float(xx - qx)
                        dy = float(y - qy)
                        d = math.sqrt(dx * dx + dy * dy)
                        if d >= sw_min and d <= sw_max:
                            x = xs32(x)
                            sg = -1 if x / U32 < sw_neg else 1
                            if wrap:
                                j = ((qy + H) % H) * W + (qx + W) % W
                            elif 0 <= qx < W and 0 <= qy < H:
                                j = qy * W + qx
                            else:
                                j = -1  # u == 1.0 gave qx == W: the original poisons θ_i with NaN
                            if j >= 0:
                                src[ne] = j
                                sign[ne] = sg
                                ne += 1
                            break
            ptr[i + 1] = ne
    surf_omega = np.empty(n, np.float32)
    hyp_omega = np.empty(n, np.float32)
    for i in range(n):
        x = xs32(x)
        surf_omega[i] = np.float32(((x / U32) * 2.0 - 1.0) * 0.1)
        x = xs32(x)
        hyp_omega[i] = np.float32(((x / U32) * 2.0 - 1.0) * 0.1)
    return theta, oseed, omega, ptr, src[:ne].copy(), sign[:ne].copy(), surf_omega, hyp_omega, x


@kernel
def _apply_matrix(cols, x):
    out = 0
    for k in range(32):
        if (x >> k) & 1:
            out ^= cols[k]
    return out


@kernel
def noise_row_states(state, W, H):
    """Stream states at the start of each row of N = W·H draws, and the state after all.

    ``state`` is the unsigned current state (already non-zero). Row y starts after
    y·W draws; the W-step map is built once as a 32×32 GF(2) matrix.
    """
    cols = np.empty(32, np.int64)
    for k in range(32):
        v = np.int64(1) << k
        for _ in range(W):
            v = xs32(v)
        cols[k] = v
    rows = np.empty(H, np.int64)
    s = state & MASK
    for y in range(H):
        rows[y] = s
        s = _apply_matrix(cols, s)
    return rows, s
