"""PAT token kernels (docs/tokens.md §1 steps 2–6, §2 energy sums).

``phase_fields`` turns θ into everything the token and metric passes read, with one
sincos per cell: the padded float64 cos/sin planes for ρ (kernels.metrics), the float32
``cosT``/``sinT`` of the tokens and the float64 angle ``φ = atan2(sinT, cosT)``, the
last three on planes with a 1-cell torus border so that neighbour reads are plain
offsets. ``patch_reduce`` runs one patch per loop iteration (parallel over patches): for
each patch row it computes the per-cell terms of §1 step 4 into row buffers (a
vectorisable loop) and then adds them to the patch's float64 running sums in row-major
cell order, exactly the sums of §1; step 5 (vortex plaquettes) and the reductions of
step 6 follow. The caller assembles tokens with numpy.

Exactness: cosT/sinT are certified float32 roundings of libm's cos/sin (cells whose fast
value lies within SINCOS_ERR of a float32 rounding boundary take libm's); φ has libm's
atan2 bits (``phase_angle``: a certified fast atan2 where it provably agrees with libm,
libm elsewhere), phi_gf and theta use libm's atan2; the hypot is the JavaScript
engine's (``hypot_js``). The ``*_reference`` kernels are the straightforward versions
(libm everywhere, flat arrays, one scalar loop) kept for parity tests; both give
identical bits. numpy's SIMD ufuncs (``np.arctan2``, ``np.hypot``) are never used: on
some CPUs they differ from libm.

Cost (one thread, bench/bench_tokens.py): a 96×96 frame takes ≈ 0.25 ms in build_frame;
φ ≈ 40 µs of it (libm's atan2 alone took ≈ 0.11 ms).
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.lattice_sincos import SINCOS_ERR, sincos
from pattools.kernels.phase_angle import phase_angle_row
from pattools.kernels.metrics import PAD, PI, TAU, fill_border, hypot_js, hypot_js_finite, rho_step_terms_into

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

_TWO_TAU = 2.0 * TAU


@kernel
def wrap_pi(a: float) -> float:
    """docs/tokens.md ``wrap``: ((a + π) mod 2π, shifted into [0, 2π)) − π, with C fmod.

    For |a + π| < 4π fmod is a single exact subtraction (Sterbenz), so the common
    range skips the libm call and gives the same bits."""
    v = a + PI
    if v >= 0.0:
        if v < TAU:
            r = v
        elif v < _TWO_TAU:
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


@kernel
def wrap_pi_small(a: float) -> float:
    """``wrap_pi`` for |a| ≤ 2π (differences of atan2 angles), branch-free selects."""
    v = a + PI
    r = v - TAU if v >= TAU else v
    r = r + TAU if r < 0.0 else r
    return r - PI


# ------------------------------------------------------------------ reference kernels


@kernel(parallel=True)
def phase_fields_reference(theta: np.ndarray, W: int, H: int, wrap: bool) -> tuple:
    """(cp, sp, cosT, sinT, phi): libm cos/sin planes as ``pad_cos_sin_reference``, and
    flat float32 cos/sin and float64 atan2(sinT, cosT)."""
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
        for x in range(W):
            v = np.float64(theta[row + x])
            c = math.cos(v)
            s = math.sin(v)
            cp[y + PAD, x + PAD] = c
            sp[y + PAD, x + PAD] = s
            cf = np.float32(c)
            sf = np.float32(s)
            cos_t[row + x] = cf
            sin_t[row + x] = sf
            phi[row + x] = math.atan2(np.float64(sf), np.float64(cf))
    if wrap:
        fill_border(cp, W, H, PAD)
        fill_border(sp, W, H, PAD)
    return cp, sp, cos_t, sin_t, phi


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


# ----------------------------------------------------------------------- fast kernels


@kernel
def phase_fields(theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int) -> tuple:
    """(cp, sp, ctp, stp, php): fast cos/sin planes for ρ as ``metrics.pad_cos_sin``;
    float32 cosT/sinT (certified equal to libm's roundings) and float64 φ on
    (H+2)×(W+2) planes with a 1-cell torus border."""
    cp = np.empty((H + 2 * PAD, W + 2 * PAD))
    sp = np.empty((H + 2 * PAD, W + 2 * PAD))
    ctp = np.empty((H + 2, W + 2), dtype=np.float32)
    stp = np.empty((H + 2, W + 2), dtype=np.float32)
    php = np.empty((H + 2, W + 2))
    phase_fields_into(theta, W, H, wrap, n_bands, cp, sp, ctp, stp, php)
    return cp, sp, ctp, stp, php


@kernel
def zero_border(plane: np.ndarray, W: int, H: int, pad: int) -> None:
    for py in range(H + 2 * pad):
        if py < pad or py >= pad + H:
            plane[py, :] = 0.0
        else:
            plane[py, :pad] = 0.0
            plane[py, pad + W :] = 0.0


@kernel(parallel=True)
def phase_fields_into(
    theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int, cp, sp, ctp, stp, php
) -> None:
    """``phase_fields`` writing every element of caller-owned planes (reused across
    frames, so a frame allocates no large arrays). Rows run in ``n_bands`` parallel
    bands, each row in separate vectorisable loops (sincos, certification, stores) and
    ``phase_angle_row``."""
    err = 2.0 * SINCOS_ERR
    for band in prange(n_bands):
        ok = np.empty(W, dtype=np.bool_)
        cbuf = np.empty(W)
        sbuf = np.empty(W)
        cf = np.empty(W, dtype=np.float32)
        sf = np.empty(W, dtype=np.float32)
        kbuf = np.empty(W, dtype=np.int64)
        wbuf = np.empty(W)
        hbuf = np.empty(W)
        lbuf = np.empty(W)
        for y in range((band * H) // n_bands, ((band + 1) * H) // n_bands):
            row = y * W
            t_row = theta[row : row + W]
            for x in range(W):
                s, c = sincos(np.float64(t_row[x]))
                cbuf[x] = c
                sbuf[x] = s
            for x in range(W):
                c = cbuf[x]
                s = sbuf[x]
                c_lo = np.float32(c - err)
                s_lo = np.float32(s - err)
                cf[x] = c_lo
                sf[x] = s_lo
                ok[x] = (c_lo == np.float32(c + err)) & (s_lo == np.float32(s + err))
            for x in range(W):
                if not ok[x]:
                    v = np.float64(theta[row + x])
                    cf[x] = np.float32(math.cos(v))
                    sf[x] = np.float32(math.sin(v))
            crow = cp[y + PAD]
            srow = sp[y + PAD]
            ct = ctp[y + 1]
            st = stp[y + 1]
            ph = php[y + 1]
            for x in range(W):
                crow[x + PAD] = cbuf[x]
                srow[x + PAD] = sbuf[x]
                ct[x + 1] = cf[x]
                st[x + 1] = sf[x]
            phase_angle_row(sf, cf, t_row, ph[1 : W + 1], kbuf, wbuf, hbuf, lbuf, ok)
    if wrap:
        fill_border(cp, W, H, PAD)
        fill_border(sp, W, H, PAD)
    else:
        zero_border(cp, W, H, PAD)
        zero_border(sp, W, H, PAD)
    fill_border(ctp, W, H, 1)
    fill_border(stp, W, H, 1)
    fill_border(php, W, H, 1)


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
        wsign = np.empty(n, dtype=np.int64)
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
            if y < y1 - 1:
                for k in range(n - 1):
                    x = k + 1
                    w = (
                        wrap_pi_small(pm[x + 1] - pm[x])
                        + wrap_pi_small(pd[x + 1] - pm[x + 1])
                        + wrap_pi_small(pd[x] - pd[x + 1])
                        + wrap_pi_small(pm[x] - pd[x])
                    )
                    wsign[k] = 1 if w > PI else (-1 if w < -PI else 0)
                for k in range(n - 1):
                    if wsign[k] > 0:
                        plus += 1
                    elif wsign[k] < 0:
                        minus += 1
        counts[p, 0] = plus
        counts[p, 1] = minus
        cnt = n * (y1 - y0)
        _finish(out, p, cnt, sum_e, cx, sx, sum_grad, sxx, sxy, syy, sum_lap, has_aact, sum_a, sum_a2)
    return out, counts


@kernel
def energy_sums(energy: np.ndarray, W: int, H: int) -> tuple:
    """Index-order sums for the affect symmetry (docs/tokens.md §2):
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


@kernel
def frame_sums(rho: np.ndarray, ex: np.ndarray, ey: np.ndarray, dsign: np.ndarray, energy: np.ndarray,
               W: int, H: int, with_metrics: bool) -> tuple:
    """``metric_sums`` (zeros unless ``with_metrics``) followed by ``energy_sums``, in one
    pass: every sum still runs in cell index order, but the ten chains are independent,
    so one loop costs about as much as the longest of them."""
    s_rho = 0.0
    s_rho2 = 0.0
    s_ex = 0.0
    s_ey = 0.0
    plus = 0
    minus = 0
    s = 0.0
    s_abs = 0.0
    d_ref = 0.0
    d_rot = 0.0
    m = min(W, H)
    for y in range(H):
        row = y * W
        for x in range(W):
            i = row + x
            if with_metrics:
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
            e = np.float64(energy[i])
            s += e
            s_abs += abs(e)
            d_ref += abs(e - np.float64(energy[row + W - 1 - x]))
            if y < m and x < m:
                d_rot += abs(e - np.float64(energy[x * W + y]))
    return (s_rho, s_rho2, s_ex, s_ey, plus, minus), (s, s_abs, d_ref, d_rot)


@kernel
def frame_reduce(theta: np.ndarray, energy: np.ndarray, aact: np.ndarray, has_aact: bool, W: int, H: int,
                 wrap: bool, scale: int, n_bands: int, with_metrics: bool, cp, sp, ctp, stp, php, rho, ex, ey,
                 dsign, step_k, step_s, step_c) -> tuple:
    """Everything build_frame needs from the cells, in one call: ``phase_fields_into``,
    ``rho_step_terms_into`` (when ``with_metrics``; with 4 ``step_k`` values also the
    next lattice step's ring sums), ``frame_sums`` and ``patch_reduce``.
    Returns (red, counts, metric sums, energy sums)."""
    phase_fields_into(theta, W, H, wrap, n_bands, cp, sp, ctp, stp, php)
    if with_metrics:
        rho_step_terms_into(cp, sp, theta, W, H, wrap, n_bands, rho, ex, ey, dsign, step_k, step_s, step_c)
    msums, esums = frame_sums(rho, ex, ey, dsign, energy, W, H, with_metrics)
    red, counts = patch_reduce(ctp, stp, php, energy, aact, has_aact, W, H, scale)
    return red, counts, msums, esums
