"""Per-patch reductions of a frame (docs/tokens.md §1 steps 4–6).

``patch_reduce`` runs one patch per loop iteration (parallel over patches): for each
patch row it computes the per-cell terms of §1 step 4 into row buffers (a vectorisable
loop, which also counts the vortex plaquettes of §1 step 5: integer counts, exact in any
order) and then adds them to the patch's float64 running sums in row-major cell order,
exactly the sums of §1; the reductions of step 6 follow.
It reads the padded planes of ``tokens.phase_fields``. ``patch_reduce_reference`` is the
straightforward twin (flat arrays, libm, one scalar loop per patch) kept for parity
tests; both give identical bits.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.circular import PI, hypot_js, hypot_js_finite, wrap_pi, wrap_pi_small

# columns of patch_reduce's float output
P_MEAN_E = 0
P_R = 1
P_PHI = 2
P_THETA = 3
P_GRAD = 4
P_LAP = 5
P_ATTN_MEAN = 6
P_ATTN_VAR = 7
P_COLUMNS = 8


@kernel(parallel=True)


def patch_reduce_reference(
    cos_t: np.ndarray,
    sin_t: np.ndarray,
    phi: np.ndarray,
    energy: np.ndarray,
    aact: np.ndarray,
    has_aact: bool,
    W: int,
    H: int,
    scale: int,
) -> tuple:
    """Per-patch reductions in token order, one scalar loop per patch as §1 reads:
    float64[T, P_COLUMNS] (meanE, R, phi_gf, theta, meanGrad, meanLap, attnMean,
    attnVar) and int64[T, 2] vortex plaquette counts (plus, minus)."""
    nx = (W + scale - 1) // scale
    ny = (H + scale - 1) // scale
    T = nx * ny
    out = np.zeros((T, P_COLUMNS))
    counts = np.zeros((T, 2), dtype=np.int64)
    for p in prange(T):
        x0 = (p % nx) * scale
        y0 = (p // nx) * scale
        x1 = min(W, x0 + scale)
        y1 = min(H, y0 + scale)
        sum_e = 0.0
        cx = 0.0
        sx = 0.0
        cnt = 0
        sum_grad = 0.0
        sxx = 0.0
        sxy = 0.0
        syy = 0.0
        sum_lap = 0.0
        sum_a = 0.0
        sum_a2 = 0.0
        for y in range(y0, y1):
            ym = y - 1 if y > 0 else H - 1
            yp = y + 1 if y < H - 1 else 0
            row = y * W
            for x in range(x0, x1):
                xm = x - 1 if x > 0 else W - 1
                xp = x + 1 if x < W - 1 else 0
                i = row + x
                c = np.float64(cos_t[i])
                s = np.float64(sin_t[i])
                sum_e += np.float64(energy[i])
                cx += c
                sx += s
                cnt += 1
                dcx = 0.5 * (np.float64(cos_t[row + xp]) - np.float64(cos_t[row + xm]))
                dsx = 0.5 * (np.float64(sin_t[row + xp]) - np.float64(sin_t[row + xm]))
                dcy = 0.5 * (np.float64(cos_t[yp * W + x]) - np.float64(cos_t[ym * W + x]))
                dsy = 0.5 * (np.float64(sin_t[yp * W + x]) - np.float64(sin_t[ym * W + x]))
                gx = -s * dcx + c * dsx
                gy = -s * dcy + c * dsy
                sum_grad += hypot_js(gx, gy)
                sxx += gx * gx
                sxy += gx * gy
                syy += gy * gy
                pc = phi[i]
                lap = (
                    wrap_pi(phi[row + xm] - pc)
                    + wrap_pi(phi[row + xp] - pc)
                    + wrap_pi(phi[ym * W + x] - pc)
                    + wrap_pi(phi[yp * W + x] - pc)
                )
                sum_lap += abs(lap)
                if has_aact:
                    a = np.float64(aact[i])
                    sum_a += a
                    sum_a2 += a * a
        plus = 0
        minus = 0
        for y in range(y0, y1 - 1):
            row = y * W
            for x in range(x0, x1 - 1):
                p00 = phi[row + x]
                p10 = phi[row + x + 1]
                p11 = phi[row + W + x + 1]
                p01 = phi[row + W + x]
                w = wrap_pi(p10 - p00) + wrap_pi(p11 - p10) + wrap_pi(p01 - p11) + wrap_pi(p00 - p01)
                if w > PI:
                    plus += 1
                elif w < -PI:
                    minus += 1
        counts[p, 0] = plus
        counts[p, 1] = minus
        _finish(out, p, cnt, sum_e, cx, sx, sum_grad, sxx, sxy, syy, sum_lap, has_aact, sum_a, sum_a2)
    return out, counts


@kernel
def _finish(out, p, cnt, sum_e, cx, sx, sum_grad, sxx, sxy, syy, sum_lap, has_aact, sum_a, sum_a2) -> None:
    """§1 step 6 for patch p."""
    if cnt <= 0:
        return
    out[p, P_MEAN_E] = sum_e / cnt
    out[p, P_R] = hypot_js(cx, sx) / cnt
    out[p, P_PHI] = math.atan2(sx, cx)
    if sxx + syy > 1e-9:
        out[p, P_THETA] = 0.5 * math.atan2(2.0 * sxy, sxx - syy)
    out[p, P_GRAD] = sum_grad / cnt
    out[p, P_LAP] = sum_lap / cnt
    if has_aact:
        mean_a = sum_a / cnt
        out[p, P_ATTN_MEAN] = mean_a
        out[p, P_ATTN_VAR] = math.sqrt(max(0.0, sum_a2 / cnt - mean_a * mean_a))


@kernel(parallel=True)


def patch_reduce(
    ctp: np.ndarray,
    stp: np.ndarray,
    php: np.ndarray,
    energy: np.ndarray,
    aact: np.ndarray,
    has_aact: bool,
    W: int,
    H: int,
    scale: int,
) -> tuple:
    """``patch_reduce_reference`` from the padded planes of ``phase_fields``: per patch
    row, per-cell terms in a vectorisable loop, then the running sums in cell order."""
    nx = (W + scale - 1) // scale
    ny = (H + scale - 1) // scale
    T = nx * ny
    out = np.zeros((T, P_COLUMNS))
    counts = np.zeros((T, 2), dtype=np.int64)
    for p in prange(T):
        x0 = (p % nx) * scale
        y0 = (p // nx) * scale
        x1 = min(W, x0 + scale)
        y1 = min(H, y0 + scale)
        n = x1 - x0
        g = np.empty(n)
        gxx = np.empty(n)
        gxy = np.empty(n)
        gyy = np.empty(n)
        lap = np.empty(n)
        sum_e = 0.0
        cx = 0.0
        sx = 0.0
        sum_grad = 0.0
        sxx = 0.0
        sxy = 0.0
        syy = 0.0
        sum_lap = 0.0
        sum_a = 0.0
        sum_a2 = 0.0
        plus = 0
        minus = 0
        for y in range(y0, y1):
            # row views starting at the patch's left neighbour column: every index below
            # is k + const with k ≥ 0, so LLVM needs no negative-index fix-up and vectorises
            cu = ctp[y, x0 : x0 + n + 2]
            cm = ctp[y + 1, x0 : x0 + n + 2]
            cd = ctp[y + 2, x0 : x0 + n + 2]
            su = stp[y, x0 : x0 + n + 2]
            sm = stp[y + 1, x0 : x0 + n + 2]
            sd = stp[y + 2, x0 : x0 + n + 2]
            pu = php[y, x0 : x0 + n + 2]
            pm = php[y + 1, x0 : x0 + n + 2]
            pd = php[y + 2, x0 : x0 + n + 2]
            not_last = y < y1 - 1
            for k in range(n):
                x = k + 1  # column in the row views
                c = np.float64(cm[x])
                s = np.float64(sm[x])
                dcx = 0.5 * (np.float64(cm[x + 1]) - np.float64(cm[x - 1]))
                dsx = 0.5 * (np.float64(sm[x + 1]) - np.float64(sm[x - 1]))
                dcy = 0.5 * (np.float64(cd[x]) - np.float64(cu[x]))
                dsy = 0.5 * (np.float64(sd[x]) - np.float64(su[x]))
                gx = -s * dcx + c * dsx
                gy = -s * dcy + c * dsy
                g[k] = hypot_js_finite(gx, gy)
                gxx[k] = gx * gx
                gxy[k] = gx * gy
                gyy[k] = gy * gy
                pc = pm[x]
                v = (
                    wrap_pi_small(pm[x - 1] - pc)
                    + wrap_pi_small(pm[x + 1] - pc)
                    + wrap_pi_small(pu[x] - pc)
                    + wrap_pi_small(pd[x] - pc)
                )
                lap[k] = abs(v)
                # §1 step 5: the plaquette (x, y)-(x+1, y+1) when both lie in the patch; the
                # counts are integers, so counting in this vectorised loop keeps them exact
                w = (
                    wrap_pi_small(pm[x + 1] - pm[x])
                    + wrap_pi_small(pd[x + 1] - pm[x + 1])
                    + wrap_pi_small(pd[x] - pd[x + 1])
                    + wrap_pi_small(pm[x] - pd[x])
                )
                inside = (k < n - 1) & not_last
                plus += np.int64((w > PI) & inside)
                minus += np.int64((w < -PI) & inside)
            row = y * W + x0
            for k in range(n):
                sum_e += np.float64(energy[row + k])
                cx += np.float64(cm[k + 1])
                sx += np.float64(sm[k + 1])
                sum_grad += g[k]
                sxx += gxx[k]
                sxy += gxy[k]
                syy += gyy[k]
                sum_lap += lap[k]
            if has_aact:
                for k in range(n):
                    a = np.float64(aact[row + k])
                    sum_a += a
                    sum_a2 += a * a
        counts[p, 0] = plus
        counts[p, 1] = minus
        cnt = n * (y1 - y0)
        _finish(out, p, cnt, sum_e, cx, sx, sum_grad, sxx, sxy, syy, sum_lap, has_aact, sum_a, sum_a2)
    return out, counts
