"""PAT token kernels (spec/pat-tokens.md §1 steps 2–6, §2 energy sums).

``phase_fields`` turns θ into everything the token and metric passes read, computing
cos/sin once per cell: the padded float64 cos/sin planes for ρ (kernels.metrics), the
float32 ``cosT``/``sinT`` of the tokens and the float64 angle ``φ = atan2(sinT, cosT)``.
``patch_reduce`` then runs one patch per loop iteration (parallel over patches), visiting
the patch's cells in row-major order with float64 running sums, exactly as §1 steps 4–6,
and finishes each patch's reductions; the caller assembles tokens with numpy.

All transcendental functions are libm's via numba (``math.*``) or the JavaScript-engine
hypot of ``hypot_js``; numpy's SIMD ufuncs (``np.arctan2``, ``np.hypot``) are not used
because on some CPUs they differ from libm in the last bit.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.metrics import PAD, PI, TAU, hypot_js

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


@kernel
def wrap_pi(a: float) -> float:
    """pat-tokens ``wrap``: ((a + π) mod 2π, shifted into [0, 2π)) − π, with C fmod.

    For |a + π| < 4π fmod is a single exact subtraction (Sterbenz), so the common
    range skips the libm call and gives the same bits."""
    v = a + PI
    if v >= 0.0:
        if v < TAU:
            r = v
        elif v < 2.0 * TAU:
            r = v - TAU
        else:
            r = np.fmod(v, TAU)
    elif v > -TAU:
        r = v
    else:
        r = np.fmod(v, TAU)
    if r < 0.0:
        r += TAU
    return r - PI


@kernel(parallel=True)
def phase_fields(theta: np.ndarray, W: int, H: int, wrap: bool) -> tuple:
    """(cp, sp, cosT, sinT, phi): padded float64 cos/sin planes as
    ``kernels.metrics.pad_cos_sin``, float32 cos/sin and float64 atan2(sinT, cosT)."""
    N = W * H
    PW = W + 2 * PAD
    PH = H + 2 * PAD
    cos_t = np.empty(N, dtype=np.float32)
    sin_t = np.empty(N, dtype=np.float32)
    phi = np.empty(N)
    cp = np.zeros((PH, PW))
    sp = np.zeros((PH, PW))
    for y in prange(H):
        row = y * W
        py = y + PAD
        for x in range(W):
            v = np.float64(theta[row + x])
            c = math.cos(v)
            s = math.sin(v)
            cp[py, x + PAD] = c
            sp[py, x + PAD] = s
            cf = np.float32(c)
            sf = np.float32(s)
            cos_t[row + x] = cf
            sin_t[row + x] = sf
            phi[row + x] = math.atan2(np.float64(sf), np.float64(cf))
        if wrap:
            for k in range(PAD):
                left = ((k - PAD) % W + W) % W + PAD
                right = (k % W) + PAD
                cp[py, k] = cp[py, left]
                sp[py, k] = sp[py, left]
                cp[py, PAD + W + k] = cp[py, right]
                sp[py, PAD + W + k] = sp[py, right]
    if wrap:
        for k in range(PAD):
            src_top = ((k - PAD) % H + H) % H + PAD
            src_bot = (k % H) + PAD
            for px in range(PW):
                cp[k, px] = cp[src_top, px]
                sp[k, px] = sp[src_top, px]
                cp[PAD + H + k, px] = cp[src_bot, px]
                sp[PAD + H + k, px] = sp[src_bot, px]
    return cp, sp, cos_t, sin_t, phi


@kernel(parallel=True)
def patch_reduce(
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
    """Per-patch reductions in token order: float64[T, P_COLUMNS] (meanE, R, phi_gf,
    theta, meanGrad, meanLap, attnMean, attnVar) and int64[T, 2] vortex plaquette counts
    (plus, minus)."""
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
            ym = ((y - 1) % H + H) % H
            yp = (y + 1) % H
            row = y * W
            for x in range(x0, x1):
                xm = ((x - 1) % W + W) % W
                xp = (x + 1) % W
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
        if cnt > 0:
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
    return out, counts


@kernel
def energy_sums(energy: np.ndarray, W: int, H: int) -> tuple:
    """Index-order sums for the affect symmetry (pat-tokens §2):
    (Σ E, Σ |E|, dRef = Σ |E(x,y) − E(W−1−x,y)|, dRot = Σ_{y,x<M} |E[y·W+x] − E[x·W+y]|)."""
    s = 0.0
    s_abs = 0.0
    d_ref = 0.0
    for y in range(H):
        row = y * W
        for x in range(W):
            e = np.float64(energy[row + x])
            s += e
            s_abs += abs(e)
            d_ref += abs(e - np.float64(energy[row + W - 1 - x]))
    m = min(W, H)
    d_rot = 0.0
    for y in range(m):
        for x in range(m):
            d_rot += abs(np.float64(energy[y * W + x]) - np.float64(energy[x * W + y]))
    return s, s_abs, d_ref, d_rot
