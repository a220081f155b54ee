"""computeMetrics kernels (spec/lattice-reference.md §9) and the scalar helpers shared
with the token kernels.

Why the shapes: the 48-neighbour local order parameter ρ is a ring stencil, so it reads
padded cos/sin planes (``pad_cos_sin``: 3 cells of wrapped or zero border) with fixed
offsets instead of an N×48 neighbour table, and accumulates each cell's 48 terms in the
canonical ring order (ring 1, 2, 3; dy outer, dx inner) while vectorising across the cells
of a row. Every sum the spec defines over cells (rhoMean, Σρ², entropyGrad) runs in cell
index order in one serial pass; only per-cell terms are computed in parallel, so results
do not depend on the thread count.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange

PI = math.pi
TAU = 2.0 * math.pi
PAD = 3  # ring radius


@kernel
def hypot_js(a: float, b: float) -> float:
    """Two-argument Math.hypot as the original's JavaScript engine computes it:
    ``m·sqrt((|a|/m)² + (|b|/m)²)`` with ``m = max(|a|, |b|)`` (not libm's hypot)."""
    a = abs(a)
    b = abs(b)
    if a == np.inf or b == np.inf:
        return np.inf
    if a != a or b != b:
        return np.nan
    m = a if a > b else b
    if m == 0.0:
        return 0.0
    x = a / m
    y = b / m
    return math.sqrt(x * x + y * y) * m


@kernel
def wrapd(d: float) -> float:
    """Circular difference into (−π, π] by repeated ±2π (lattice-reference §0)."""
    while d > PI:
        d -= TAU
    while d <= -PI:
        d += TAU
    return d


@kernel
def ring_weights(n1: int, n2: int, n3: int) -> tuple:
    """f32 ring weights for a cell with n1/n2/n3 valid ring-1/2/3 neighbours.

    Σw is a double sum of float32 values; with these counts every partial sum is exact,
    so it equals n1·1 + n2·f32(1/2) + n3·f32(1/3) in any order."""
    w1 = np.float64(np.float32(1.0))
    w2 = np.float64(np.float32(0.5))
    w3 = np.float64(np.float32(1.0 / 3.0))
    total = n1 * w1 + n2 * w2 + n3 * w3
    inv = 1.0 / total
    return (
        np.float64(np.float32(w1 * inv)),
        np.float64(np.float32(w2 * inv)),
        np.float64(np.float32(w3 * inv)),
    )


@kernel(parallel=True)
def pad_cos_sin(theta: np.ndarray, W: int, H: int, wrap: bool) -> tuple:
    """cos θ and sin θ (float64, libm) on an (H+6)×(W+6) plane; the 3-cell border holds
    the torus copy (wrap) or zeros (no wrap: a missing neighbour adds w·0 = nothing)."""
    PW = W + 2 * PAD
    PH = H + 2 * PAD
    cp = np.zeros((PH, PW))
    sp = np.zeros((PH, PW))
    for py in prange(PH):
        y = py - PAD
        if not wrap and (y < 0 or y >= H):
            continue
        y = ((y % H) + H) % H
        for px in range(PW):
            x = px - PAD
            if not wrap and (x < 0 or x >= W):
                continue
            x = ((x % W) + W) % W
            v = np.float64(theta[y * W + x])
            cp[py, px] = math.cos(v)
            sp[py, px] = math.sin(v)
    return cp, sp


@kernel
def _valid_count(v: int, r: int, n: int) -> int:
    """How many of v−r..v+r lie inside [0, n)."""
    lo = v - r if v - r > 0 else 0
    hi = v + r if v + r < n - 1 else n - 1
    return hi - lo + 1


@kernel(parallel=True)
def rho_terms(
    cp: np.ndarray, sp: np.ndarray, theta: np.ndarray, W: int, H: int, wrap: bool
) -> tuple:
    """Per-cell terms of computeMetrics: ρ (float32), |wrapd| to the left and upper
    neighbour (float64, always toroidal) and the plaquette defect sign (int8, always
    toroidal, +1 for s > π, −1 for s < −π)."""
    N = W * H
    rho = np.empty(N, dtype=np.float32)
    ex = np.empty(N)
    ey = np.empty(N)
    dsign = np.zeros(N, dtype=np.int8)
    for y in prange(H):
        acc_c = np.zeros(W)
        acc_s = np.zeros(W)
        w1 = np.empty(W)
        w2 = np.empty(W)
        w3 = np.empty(W)
        for x in range(W):
            if wrap:
                a, b, c = ring_weights(8, 16, 24)
            else:
                b0 = 1
                b1 = _valid_count(x, 1, W) * _valid_count(y, 1, H)
                b2 = _valid_count(x, 2, W) * _valid_count(y, 2, H)
                b3 = _valid_count(x, 3, W) * _valid_count(y, 3, H)
                a, b, c = ring_weights(b1 - b0, b2 - b1, b3 - b2)
            w1[x] = a
            w2[x] = b
            w3[x] = c
        for r in range(1, 4):
            for dy in range(-r, r + 1):
                crow = cp[y + PAD + dy]
                srow = sp[y + PAD + dy]
                for dx in range(-r, r + 1):
                    if max(abs(dx), abs(dy)) != r:
                        continue
                    off = PAD + dx
                    if r == 1:
                        for x in range(W):
                            acc_c[x] += w1[x] * crow[x + off]
                            acc_s[x] += w1[x] * srow[x + off]
                    elif r == 2:
                        for x in range(W):
                            acc_c[x] += w2[x] * crow[x + off]
                            acc_s[x] += w2[x] * srow[x + off]
                    else:
                        for x in range(W):
                            acc_c[x] += w3[x] * crow[x + off]
                            acc_s[x] += w3[x] * srow[x + off]
        row = y * W
        yu = ((y - 1) % H + H) % H
        y1 = (y + 1) % H
        for x in range(W):
            i = row + x
            rho[i] = np.float32(hypot_js(acc_c[x], acc_s[x]))
            t = np.float64(theta[i])
            xl = ((x - 1) % W + W) % W
            ex[i] = abs(wrapd(t - np.float64(theta[row + xl])))
            ey[i] = abs(wrapd(t - np.float64(theta[yu * W + x])))
            x1 = (x + 1) % W
            t10 = np.float64(theta[row + x1])
            t11 = np.float64(theta[y1 * W + x1])
            t01 = np.float64(theta[y1 * W + x])
            s = wrapd(t10 - t) + wrapd(t11 - t10) + wrapd(t01 - t11) + wrapd(t - t01)
            if s > PI:
                dsign[i] = 1
            elif s < -PI:
                dsign[i] = -1
    return rho, ex, ey, dsign


@kernel
def metric_sums(rho: np.ndarray, ex: np.ndarray, ey: np.ndarray, dsign: np.ndarray) -> tuple:
    """Index-order sums: (Σ clamp01 ρ, Σ ρ², Σ ex, Σ ey, plus, minus)."""
    s_rho = 0.0
    s_rho2 = 0.0
    s_ex = 0.0
    s_ey = 0.0
    plus = 0
    minus = 0
    for i in range(rho.size):
        r = np.float64(rho[i])
        rc = r
        if rc < 0.0:
            rc = 0.0
        elif rc > 1.0:
            rc = 1.0
        s_rho += rc
        s_rho2 += r * r
        s_ex += ex[i]
        s_ey += ey[i]
        d = dsign[i]
        if d > 0:
            plus += 1
        elif d < 0:
            minus += 1
    return s_rho, s_rho2, s_ex, s_ey, plus, minus
