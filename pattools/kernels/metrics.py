"""computeMetrics kernels (docs/lattice.md §9): the per-cell terms and their sums.

Why the shapes: the 48-neighbour local order parameter ρ is a ring stencil, so it reads
padded cos/sin planes (3 cells of wrapped or zero border) with fixed offsets instead of
an N×48 neighbour table (no per-cell tables: memory stays O(N)). Every sum docs/lattice.md §9
defines over cells (rhoMean, Σρ², entropyGrad) runs in cell index order in one serial
pass; only per-cell terms are computed in parallel (bands of rows, one per thread), so
results do not depend on the thread count.

Two kernels per job: ``*_reference`` is the straightforward one (libm cos/sin, each
cell's 48 terms in the canonical ring order: ring 1, 2, 3; dy outer, dx inner). The fast
one reads cos/sin from the vectorisable ``lattice_sincos.sincos`` (within
``SINCOS_ERR`` of libm), forms the ring sums as differences of 3×3/5×5/7×7 box sums
(the weights are equal within a ring) and *certifies* every float32 ρ it stores: a cell
whose float64 ρ lies within ``RHO_ERR_*`` of a float32 rounding boundary is recomputed
the reference way, so both kernels store identical float32 values (about 4 cells in
65,536 are recomputed; the observed error is below 1% of the bound). Row loops index
through row views so that every index is provably non-negative, which lets LLVM
vectorise them.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.circular import PI, hypot_js, hypot_js_finite, wrapd_fast, wrapd_near
from pattools.kernels.lattice_sincos import SINCOS_ERR
from pattools.kernels.planes import PAD

_U = 2.0**-53
# |ρ_fast − ρ_reference| in float64, per coordinate: Σ w·ε for the sincos error (Σw ≈ 1),
# the reference's 48-term sum (≤ 48u), the fast box sums (7×7 box ≤ 49 in magnitude:
# ≈ 600u on B3, 300u on B2, 60u on B1, times w ≈ 1/72, 1/48, 1/24 after the ring
# differences: ≤ 30u), rounded up to 160u; √2 for the two coordinates through the
# 1-Lipschitz hypot, hypot's own rounding on both sides (relative); safety factor 4.
RHO_ERR_ABS = 4.0 * 1.5 * (SINCOS_ERR + 160.0 * _U)
RHO_ERR_REL = 4.0 * 12.0 * _U


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


@kernel
def _valid_count(v: int, r: int, n: int) -> int:
    """How many of v−r..v+r lie inside [0, n)."""
    lo = v - r if v - r > 0 else 0
    hi = v + r if v + r < n - 1 else n - 1
    return hi - lo + 1


@kernel
def cell_weights(x: int, y: int, W: int, H: int, wrap: bool) -> tuple:
    """Ring weights of cell (x, y): the torus always has 8/16/24 neighbours."""
    if wrap:
        return ring_weights(8, 16, 24)
    b1 = _valid_count(x, 1, W) * _valid_count(y, 1, H)
    b2 = _valid_count(x, 2, W) * _valid_count(y, 2, H)
    b3 = _valid_count(x, 3, W) * _valid_count(y, 3, H)
    return ring_weights(b1 - 1, b2 - b1, b3 - b2)


@kernel
def rho_cell_reference(theta: np.ndarray, x: int, y: int, W: int, H: int, wrap: bool) -> float:
    """ρ of one cell exactly as §9: libm cos/sin, neighbour list in ring order."""
    w1, w2, w3 = cell_weights(x, y, W, H, wrap)
    sc = 0.0
    ss = 0.0
    for r in range(1, 4):
        w = w1 if r == 1 else (w2 if r == 2 else w3)
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if max(abs(dx), abs(dy)) != r:
                    continue
                xx = x + dx
                yy = y + dy
                if wrap:
                    xx = (xx + W) % W
                    yy = (yy + H) % H
                elif xx < 0 or xx >= W or yy < 0 or yy >= H:
                    continue
                v = np.float64(theta[yy * W + xx])
                sc += w * math.cos(v)
                ss += w * math.sin(v)
    return np.float64(np.float32(hypot_js(sc, ss)))


@kernel
def _row_terms(theta, y, W, H, ex, ey, dsign) -> None:
    """|wrapd| to the left/upper neighbour and the plaquette sign, one row, toroidal."""
    row = y * W
    up = (y - 1 if y > 0 else H - 1) * W
    down = (y + 1 if y < H - 1 else 0) * W
    for x in range(W):
        i = row + x
        xl = x - 1 if x > 0 else W - 1
        x1 = x + 1 if x < W - 1 else 0
        t = np.float64(theta[i])
        ex[i] = abs(wrapd_fast(t - np.float64(theta[row + xl])))
        ey[i] = abs(wrapd_fast(t - np.float64(theta[up + x])))
        t10 = np.float64(theta[row + x1])
        t11 = np.float64(theta[down + x1])
        t01 = np.float64(theta[down + x])
        s = wrapd_fast(t10 - t) + wrapd_fast(t11 - t10) + wrapd_fast(t01 - t11) + wrapd_fast(t - t01)
        dsign[i] = 1 if s > PI else (-1 if s < -PI else 0)

SPAN_MAX = 7.0


@kernel
def phase_span_ok(theta: np.ndarray) -> bool:
    """True when all phases are finite and max − min ≤ SPAN_MAX (stored lattice phases
    lie in [0, f32(2π)]), so every phase difference can use ``wrapd_near``.

    A vectorised count of the phases outside [0, SPAN_MAX] settles the usual case (none:
    the span is at most SPAN_MAX); only otherwise does the min/max pass run."""
    outside = 0
    for i in range(theta.size):
        v = np.float64(theta[i])
        outside += 0 if (v >= 0.0) & (v <= SPAN_MAX) else 1
    if outside == 0:
        return True
    lo = np.inf
    hi = -np.inf
    for i in range(theta.size):
        v = np.float64(theta[i])
        lo = min(lo, v)
        hi = max(hi, v)
    return hi - lo <= SPAN_MAX


@kernel(inline="always")
def _row_terms_near(theta, y, W, H, ex, ey, dsign, tu, tm, td) -> None:
    """``_row_terms`` when ``phase_span_ok``: torus rows copied into padded buffers
    (float64[W+2] each, supplied by the caller) so the loops read contiguous neighbours
    and vectorise."""
    up = (y - 1 if y > 0 else H - 1) * W
    row = y * W
    down = (y + 1 if y < H - 1 else 0) * W
    t_up = theta[up : up + W]
    t_mid = theta[row : row + W]
    t_down = theta[down : down + W]
    for x in range(W):
        tu[x + 1] = t_up[x]
        tm[x + 1] = t_mid[x]
        td[x + 1] = t_down[x]
    tu[0] = tu[W]
    tm[0] = tm[W]
    td[0] = td[W]
    tu[W + 1] = tu[1]
    tm[W + 1] = tm[1]
    td[W + 1] = td[1]
    ex_row = ex[row : row + W]
    ey_row = ey[row : row + W]
    d_row = dsign[row : row + W]
    for x in range(W):
        t = tm[x + 1]
        ex_row[x] = abs(wrapd_near(t - tm[x]))
        ey_row[x] = abs(wrapd_near(t - tu[x + 1]))
    for x in range(W):
        t = tm[x + 1]
        s = (
            wrapd_near(tm[x + 2] - t)
            + wrapd_near(td[x + 2] - tm[x + 2])
            + wrapd_near(td[x + 1] - td[x + 2])
            + wrapd_near(t - td[x + 1])
        )
        d_row[x] = np.int8(s > PI) - np.int8(s < -PI)


@kernel(parallel=True)


def rho_terms_reference(
    cp: np.ndarray, sp: np.ndarray, theta: np.ndarray, W: int, H: int, wrap: bool
) -> tuple:
    """Per-cell terms of computeMetrics from libm cos/sin planes: ρ (float32), |wrapd| to
    the left and upper neighbour (float64, always toroidal) and the plaquette defect sign
    (int8, always toroidal: +1 for s > π, −1 for s < −π)."""
    N = W * H
    rho = np.empty(N, dtype=np.float32)
    ex = np.empty(N)
    ey = np.empty(N)
    dsign = np.zeros(N, dtype=np.int8)
    for y in prange(H):
        row = y * W
        for x in range(W):
            w1, w2, w3 = cell_weights(x, y, W, H, wrap)
            sc = 0.0
            ss = 0.0
            for r in range(1, 4):
                w = w1 if r == 1 else (w2 if r == 2 else w3)
                for dy in range(-r, r + 1):
                    for dx in range(-r, r + 1):
                        if max(abs(dx), abs(dy)) != r:
                            continue
                        sc += w * cp[y + PAD + dy, x + PAD + dx]
                        ss += w * sp[y + PAD + dy, x + PAD + dx]
            rho[row + x] = np.float32(hypot_js(sc, ss))
        _row_terms(theta, y, W, H, ex, ey, dsign)
    return rho, ex, ey, dsign


@kernel
def rho_terms(
    cp: np.ndarray, sp: np.ndarray, theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int
) -> tuple:
    """``rho_terms_reference`` from fast cos/sin planes, row-vectorised in ``n_bands``
    parallel bands of rows, with every ρ certified (or recomputed by
    ``rho_cell_reference``). Returns the same arrays."""
    N = W * H
    rho = np.empty(N, dtype=np.float32)
    ex = np.empty(N)
    ey = np.empty(N)
    dsign = np.empty(N, dtype=np.int8)
    rho_terms_into(cp, sp, theta, W, H, wrap, n_bands, rho, ex, ey, dsign)
    return rho, ex, ey, dsign


@kernel(inline="always")
def _column_sums(plane, y, W, v) -> None:
    """Column sums of 3/5/7 rows around row y of a padded plane (every padded column)
    into v[0], v[1], v[2]."""
    P = 2 * PAD + W
    r0 = y + PAD
    for px in range(P):
        a = plane[r0 - 1, px] + plane[r0, px] + plane[r0 + 1, px]
        b = a + plane[r0 - 2, px] + plane[r0 + 2, px]
        v[0, px] = a
        v[1, px] = b
        v[2, px] = b + plane[r0 - 3, px] + plane[r0 + 3, px]

# The row loops below read the column sums and the ring weights from one 2-D array each
# (v, wts): LLVM then needs few enough run-time overlap checks to vectorise them.


@kernel(inline="always")
def _ring_sums(plane, y, W, v, wts, out) -> None:
    """Σ_r w_r·(ring-r sum) for row y of a padded plane, as box-sum differences:
    column sums of 3/5/7 rows, then row sums; out[x] ≈ Σ_k w_k·plane[neighbour k]
    (wts[r − 1, x] = w_r of cell x)."""
    r0 = y + PAD
    _column_sums(plane, y, W, v)
    for x in range(W):
        c = x + PAD
        b3 = v[0, c - 1] + v[0, c] + v[0, c + 1]
        b5 = v[1, c - 2] + v[1, c - 1] + v[1, c] + v[1, c + 1] + v[1, c + 2]
        b7 = v[2, c - 3] + v[2, c - 2] + v[2, c - 1] + v[2, c] + v[2, c + 1] + v[2, c + 2] + v[2, c + 3]
        out[x] = wts[0, x] * (b3 - plane[r0, c]) + wts[1, x] * (b5 - b3) + wts[2, x] * (b7 - b5)


@kernel(inline="always")
def _ring_sums_and_step(plane, y, W, v, wts, out, step_k, step_out) -> None:
    """``_ring_sums``, and from the same box sums the lattice step's ring sum of this
    field, ((a7·B7 + a5·B5) + a3·B3) − k1·f with step_k = (a3, a5, a7, k1): exactly
    ``kernels.lattice._ring_sum`` (same column and row sums, same order)."""
    r0 = y + PAD
    a3 = step_k[0]
    a5 = step_k[1]
    a7 = step_k[2]
    k1 = step_k[3]
    _column_sums(plane, y, W, v)
    for x in range(W):
        c = x + PAD
        f = plane[r0, c]
        b3 = v[0, c - 1] + v[0, c] + v[0, c + 1]
        b5 = v[1, c - 2] + v[1, c - 1] + v[1, c] + v[1, c + 1] + v[1, c + 2]
        b7 = v[2, c - 3] + v[2, c - 2] + v[2, c - 1] + v[2, c] + v[2, c + 1] + v[2, c + 2] + v[2, c + 3]
        out[x] = wts[0, x] * (b3 - f) + wts[1, x] * (b5 - b3) + wts[2, x] * (b7 - b5)
        step_out[x] = ((a7 * b7 + a5 * b5) + a3 * b3) - k1 * f


@kernel
def rho_terms_into(
    cp: np.ndarray, sp: np.ndarray, theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int,
    rho: np.ndarray, ex: np.ndarray, ey: np.ndarray, dsign: np.ndarray,
) -> None:
    """``rho_terms`` writing every element of caller-owned arrays. The weighted ring sums
    are box-sum differences (weights are equal within a ring, so this is the same sum
    in another order); RHO_ERR_* bound the difference to the canonical order."""
    none = np.zeros(0)
    rho_step_terms_into(cp, sp, theta, W, H, wrap, n_bands, rho, ex, ey, dsign, none, none, none)


@kernel(parallel=True)


def rho_step_terms_into(
    cp: np.ndarray, sp: np.ndarray, theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int,
    rho: np.ndarray, ex: np.ndarray, ey: np.ndarray, dsign: np.ndarray,
    step_k: np.ndarray, step_s: np.ndarray, step_c: np.ndarray,
) -> None:
    """``rho_terms_into``; when ``step_k`` = (a3, a5, a7, k1) is given (4 values) also the
    next lattice step's ring sums of sin θ and cos θ into ``step_s``, ``step_c`` (flat
    W·H): the step's box sums are the ones ρ forms here (``kernels.lattice._ring_sum``)."""
    near = phase_span_ok(theta)
    with_step = step_k.size == 4
    s1, s2, s3 = ring_weights(8, 16, 24)
    P = W + 2 * PAD
    for band in prange(n_bands):
        acc_c = np.empty(W)
        acc_s = np.empty(W)
        wts = np.empty((3, W))
        wts[0, :] = s1
        wts[1, :] = s2
        wts[2, :] = s3
        v = np.empty((3, P))
        ok = np.empty(W, dtype=np.bool_)
        tu = np.empty(W + 2)
        tm = np.empty(W + 2)
        td = np.empty(W + 2)
        for y in range((band * H) // n_bands, ((band + 1) * H) // n_bands):
            if not wrap:
                for x in range(W):
                    a, b, c = cell_weights(x, y, W, H, wrap)
                    wts[0, x] = a
                    wts[1, x] = b
                    wts[2, x] = c
            row = y * W
            if with_step:
                _ring_sums_and_step(cp, y, W, v, wts, acc_c, step_k, step_c[row : row + W])
                _ring_sums_and_step(sp, y, W, v, wts, acc_s, step_k, step_s[row : row + W])
            else:
                _ring_sums(cp, y, W, v, wts, acc_c)
                _ring_sums(sp, y, W, v, wts, acc_s)
            rho_row = rho[row : row + W]
            for x in range(W):
                h = hypot_js_finite(acc_c[x], acc_s[x])
                err = RHO_ERR_ABS + RHO_ERR_REL * h
                lo = np.float32(h - err)
                rho_row[x] = lo
                ok[x] = lo == np.float32(h + err)
            for x in range(W):
                if not ok[x]:
                    rho[row + x] = np.float32(rho_cell_reference(theta, x, y, W, H, wrap))
            if near:
                _row_terms_near(theta, y, W, H, ex, ey, dsign, tu, tm, td)
            else:
                _row_terms(theta, y, W, H, ex, ey, dsign)


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
