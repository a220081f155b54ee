"""The fast lattice step: same float32 results as the canonical kernel, ~100× fewer sines.

Reformulation (docs/design.md §4), per step:
- sin/cos of every θ once (a vectorisable sincos, ``lattice_sincos``), then
  sin(θ_j − θ_i − α_i) = s_j·c'_i − c_j·s'_i with (s', c') = sincos(θ_i + α_i);
- the ring-weighted sums Σ_r K_r Σ_{j∈ring r} f_j as box sums,
  −K1·f_i + (K1−K2)·B3 + (K2−K3)·B5 + K3·B7, each box a column sum then a row sum
  (no running sums, so a cell's arithmetic never depends on where a thread's band
  starts); with modulators M_ij = 1 + γK·A_i·A_j − βK·U_i·U_j splits into three such
  sums per component (fields s, A·s, U·s and c, A·c, U·c; an A or U that is zero
  everywhere, and a row without phase lag, skip their part: their terms are exact zeros);
- small-world edges from the CSR lists, the layers and the energy with the same sincos.

Certification. Every float32 store of the fast path comes with a bound ε on the
distance between its float64 pre-image and the canonical kernel's. The stored value is
accepted only when the whole interval [v − ε, v + ε] rounds (through wrapstore or the
energy clamp, both monotone on the regions checked) to one float32; otherwise the cell
is recomputed by the canonical per-cell functions of ``lattice_exact``. So the fast
kernel returns exactly the canonical kernel's bytes, provided the bounds hold.

The coupling bound is κ·u·T_i with u = 2⁻⁵³, κ = 2¹² and
T_i = (8|K1| + 16|K2| + 24|K3| + |swWeight|·deg_i)·(1 + |γK||A_i|·max|A| + |βK||U_i|·max|U|),
an upper bound of Σ|weight| over the cell's terms. Per unit of T_i, the canonical sum
errs by at most ~(n + 4)·u for its n ≤ 48 + deg terms, plus ≤ 384·u from rounding the
sine arguments (|θ|, |θ + α| ≤ 64, else NaN); the fast sum by ≤ 126·u per field from
the box sums (a box of m ≤ 49 values of size ≤ 1 errs by ≤ m²·u, weighted by
|K_r| + |K_r+1|; worst case 3026·u·|K3| against 24·|K3| in T_i), three fields per
component with modulators, plus the sincos error (2⁻⁴⁹). That totals ≲ 1100·u, under
a quarter of κ. Layer and energy stores need only the sincos bound. Measured: about
6 stores in 10⁶ are recomputed at dt 0.03 (7 cells per step at 512²). Out-of-range
inputs (|x| > 64, NaN, ±inf) become NaN and are recomputed the same way, so any
state the canonical kernel accepts gives its bytes.

Threads: bands of rows run in parallel, each with a 7-row ring buffer of the fields;
halo rows are recomputed per band. Per-cell arithmetic is independent of the banding,
so any thread count gives identical bytes.
"""

from __future__ import annotations

import numpy as np

from pattools.kernels._jit import kernel, prange, thread_count
from pattools.kernels.lattice_exact import (
    COEF_DT, COEF_E_BASE, COEF_E_DIFF, COEF_E_MAX, COEF_E_SINK, COEF_HYP_PULL, COEF_K1,
    COEF_K2, COEF_K3, COEF_KBASE, COEF_NOISE, COEF_SURF_PULL, COEF_SW, N_COEF, TAU, TWO_TAU,
    clamp_store, energy_value, layer_value, noise_amp_at, noise_theta, step_reference,
    theta_value, wrapstore,
)
from pattools.kernels.lattice_rng import U32, init_draws, noise_row_states, xs32
from pattools.kernels.lattice_sincos import SINCOS_ERR, sin_only, sin_only_is_odd, sincos

__all__ = [
    "N_COEF", "COEF_DT", "COEF_KBASE", "COEF_K1", "COEF_K2", "COEF_K3", "COEF_SW",
    "COEF_SURF_PULL", "COEF_HYP_PULL", "COEF_E_BASE", "COEF_E_DIFF", "COEF_E_SINK",
    "COEF_E_MAX", "COEF_NOISE", "init_draws", "noise_row_states", "step_fast",
    "step_reference", "thread_count",
]

_U = 2.0 ** -53
_KAPPA_U = 2.0 ** 12 * _U  # coupling error per unit of Σ|weight|
_ROUND = 16.0 * _U  # slack for the few roundings after the approximated term


@kernel
def _wrap_certified(v, eps):
    """(value, ok): wrapstore of every point of [v−eps, v+eps] equals value when ok."""
    lo = v - eps
    hi = v + eps
    ok = (lo > -TAU) & (hi < TWO_TAU) & ((lo < 0.0) == (hi < 0.0)) & ((lo < TAU) == (hi < TAU))
    rl = lo - TAU if lo >= TAU else lo
    rh = hi - TAU if hi >= TAU else hi
    al = np.float32(rl)
    ah = np.float32(rh)
    al = np.float32(np.float64(al) + TAU) if al < 0 else al
    ah = np.float32(np.float64(ah) + TAU) if ah < 0 else ah
    return ah, ok & (al == ah)


@kernel
def _clamp_certified(v, eps, hi_clamp):
    lo = v - eps
    hi = v + eps
    lo = 0.0 if lo < 0.0 else lo
    lo = hi_clamp if lo > hi_clamp else lo
    hi = 0.0 if hi < 0.0 else hi
    hi = hi_clamp if hi > hi_clamp else hi
    a = np.float32(lo)
    b = np.float32(hi)
    return b, a == b


@kernel
def _weighted(out_s, out_c, weight, s, c, W):
    """out_s, out_c = weight·s, weight·c (the A·s, A·c or U·s, U·c fields of one row)."""
    for x in range(W):
        w = np.float64(weight[x])
        out_s[x] = w * s[x]
        out_c[x] = w * c[x]


@kernel
def _load_row(slot, yy, W, H, wrap, theta, use_a, use_u, aact, uact):
    """Fields of virtual row yy into a padded slot [F, W+6] (wrapped or zero halo); the
    A·s, A·c (U·s, U·c) fields only with ``use_a`` (``use_u``)."""
    nf = slot.shape[0]
    if not wrap and (yy < 0 or yy >= H):
        slot[:, :] = 0.0
        return
    base = (yy % H) * W
    th = theta[base:base + W]
    s0 = slot[0, 3:W + 3]
    s1 = slot[1, 3:W + 3]
    for x in range(W):
        s, c = sincos(np.float64(th[x]))
        s0[x] = s
        s1[x] = c
    if use_a:
        _weighted(slot[2, 3:W + 3], slot[3, 3:W + 3], aact[base:base + W], s0, s1, W)
    if use_u:
        _weighted(slot[4, 3:W + 3], slot[5, 3:W + 3], uact[base:base + W], s0, s1, W)
    for f in range(nf):
        row = slot[f]
        for k in range(3):
            if wrap:
                row[k] = row[k + W]
                row[W + 3 + k] = row[3 + k]
            else:
                row[k] = 0.0
                row[W + 3 + k] = 0.0


@kernel
def _ring_sum(m3, m2, m1, c0, p1, p2, p3, v3, v5, v7, out, W, a3, a5, a7, k1):
    """out[x] = −K1·f + (K1−K2)·B3 + (K2−K3)·B5 + K3·B7 over one padded row (index x+3)."""
    for k in range(W + 6):
        t3 = (m1[k] + c0[k]) + p1[k]
        t5 = (t3 + m2[k]) + p2[k]
        v3[k] = t3
        v5[k] = t5
        v7[k] = (t5 + m3[k]) + p3[k]
    for x in range(W):
        b3 = (v3[x + 2] + v3[x + 3]) + v3[x + 4]
        b5 = (((v5[x + 1] + v5[x + 2]) + v5[x + 3]) + v5[x + 4]) + v5[x + 5]
        b7 = (((((v7[x] + v7[x + 1]) + v7[x + 2]) + v7[x + 3]) + v7[x + 4]) + v7[x + 5]) + v7[x + 6]
        out[x] = ((a7 * b7 + a5 * b5) + a3 * b3) - k1 * c0[x + 3]


@kernel(inline="always")
def _theta_row(th, om, ptr, st, ct, sp, cp, mb, W, coef, tnew, okv):
    """Certified θ + dt·(ω + Kbase·C) with C = c'·Σws − s'·Σwc, for one row (slices).

    Returns the number of cells left uncertified (flagged False in okv).
    """
    dt = coef[COEF_DT]
    adt = abs(dt)
    kbase = coef[COEF_KBASE]
    akbase = abs(kbase)
    sk = 8.0 * abs(coef[COEF_K1]) + 16.0 * abs(coef[COEF_K2]) + 24.0 * abs(coef[COEF_K3])
    asw = abs(coef[COEF_SW])
    bad = 0
    for x in range(W):
        t = np.float64(th[x])
        o = np.float64(om[x])
        c = cp[x] * st[x] - sp[x] * ct[x]
        eps_c = _KAPPA_U * (sk + asw * np.float64(ptr[x + 1] - ptr[x])) * mb[x]
        kc = kbase * c
        v = t + dt * (o + kc)
        eps = 2.0 * adt * akbase * eps_c + _ROUND * (abs(t) + adt * (abs(o) + abs(kc) + akbase * eps_c))
        a, ok = _wrap_certified(v, eps)
        tnew[x] = a
        okv[x] = ok
        bad += 0 if ok else 1
    return bad


@kernel
def _layer_cell(p, o, sn, pull, dt, e0, adt, apull):
    """(new φ, certified) of one layer cell, with sn = sin_only(θ − φ)."""
    v = p + (o + pull * sn) * dt
    eps = e0 + _ROUND * (abs(p) + adt * (abs(o) + apull))
    return _wrap_certified(v, eps)


@kernel(inline="always")
def _layer_row(phi, om, th, W, pull, dt, okv, sines):
    """S1 or S2 for one row (slices), in place; uncertified cells take the canonical update.

    With ``sines`` (sin_only(φ − θ) of these cells from the previous step's energy
    update; empty: computed here), sin_only(θ − φ) is its negation wherever
    ``sin_only_is_odd``; elsewhere a NaN makes the cell uncertified, so it takes the
    canonical update."""
    adt = abs(dt)
    apull = abs(pull)
    e0 = 2.0 * adt * apull * (SINCOS_ERR + 4.0 * _U)
    bad = 0
    if sines.size > 0:
        for x in range(W):
            p = np.float64(phi[x])
            d = np.float64(th[x]) - p
            sn = -sines[x] if sin_only_is_odd(d) else np.nan
            a, ok = _layer_cell(p, np.float64(om[x]), sn, pull, dt, e0, adt, apull)
            phi[x] = a if ok else phi[x]  # an uncertified cell keeps its old φ for the recomputation
            okv[x] = ok
            bad += 0 if ok else 1
    else:
        for x in range(W):
            p = np.float64(phi[x])
            a, ok = _layer_cell(p, np.float64(om[x]), sin_only(np.float64(th[x]) - p), pull, dt, e0, adt, apull)
            phi[x] = a if ok else phi[x]
            okv[x] = ok
            bad += 0 if ok else 1
    if bad:
        for x in range(W):
            if not okv[x]:
                phi[x] = wrapstore(layer_value(np.float64(phi[x]), np.float64(om[x]), np.float64(th[x]), pull, dt))
    return bad


@kernel(inline="always")
def _energy_row(en, ps, ph, tnew, W, coef, okv, sines_s, sines_h):
    """S5 for one row (slices), in place; uncertified cells take the canonical update.
    Leaves sin_only(φS − θ), sin_only(φH − θ) of the new state (the final θ and layers)
    in ``sines_s``, ``sines_h`` for the next step's layer updates."""
    dt = coef[COEF_DT]
    adt = abs(dt)
    e_diff = coef[COEF_E_DIFF]
    e_base = coef[COEF_E_BASE]
    e_sink = coef[COEF_E_SINK]
    e_max = coef[COEF_E_MAX]
    e0 = 2.0 * adt * abs(e_diff) * (2.0 * SINCOS_ERR + 8.0 * _U)
    e1 = abs(e_base) + 2.0 * abs(e_diff)
    bad = 0
    for x in range(W):
        t = np.float64(tnew[x])
        e = np.float64(en[x])
        ss = sin_only(np.float64(ps[x]) - t)
        sh = sin_only(np.float64(ph[x]) - t)
        se = e_sink * e
        v = e + dt * ((e_base + e_diff * (ss + 0.5 * sh)) - se)
        eps = e0 + _ROUND * (abs(e) + adt * (e1 + abs(se)))
        a, ok = _clamp_certified(v, eps, e_max)
        en[x] = a if ok else en[x]
        okv[x] = ok
        sines_s[x] = ss
        sines_h[x] = sh
        bad += 0 if ok else 1
    if bad:
        for x in range(W):
            if not okv[x]:
                en[x] = clamp_store(energy_value(np.float64(en[x]), np.float64(ps[x]), np.float64(ph[x]),
                                                 np.float64(tnew[x]), coef), 0.0, e_max)
    return bad


@kernel
def _band(b, n_bands, W, H, wrap, theta, omega, phi_s, omega_s, phi_h, omega_h, energy, theta_out,
          sw_ptr, sw_src, sw_sign, sw_dst, coef, has_mods, aact, uact, lapa, divu, gains, amax, umax,
          noise_rows, pre_s, pre_c, sp_plane, cp_plane, sines, sines_given):
    y0 = (b * H) // n_bands
    y1 = ((b + 1) * H) // n_bands
    if y0 >= y1:
        return 0
    presummed = pre_s.size > 0 and not has_mods  # ring sums and sin/cos planes given (see step_fast)
    nf = 6 if has_mods else 2
    # a field that is zero everywhere (A or U: amax, umax = 0) has zero ring sums: its
    # fields are neither loaded nor summed, and its rsum rows stay 0
    use_a = has_mods and amax != 0.0
    use_u = has_mods and umax != 0.0
    ring = np.empty((7 if not presummed else 0, nf, W + 6))
    v3 = np.empty(W + 6)
    v5 = np.empty(W + 6)
    v7 = np.empty(W + 6)
    rsum = np.zeros((nf, W))
    spv = np.empty(W)
    cpv = np.empty(W)
    mb = np.ones(W)
    okv = np.empty(W, np.bool_)
    keep_sines = sines.shape[0] > 0
    sines_band = np.empty((0 if keep_sines else 2, W))  # the energy update's sines when not kept
    no_sines = np.empty(0)

    dt = coef[COEF_DT]
    k1 = coef[COEF_K1]
    a3 = k1 - coef[COEF_K2]
    a5 = coef[COEF_K2] - coef[COEF_K3]
    a7 = coef[COEF_K3]
    swc = coef[COEF_SW]
    gk = gains[0]
    bk = gains[1]
    noise_amp = coef[COEF_NOISE]
    recomputed = 0

    if not presummed:
        for yy in range(y0 - 3, y0 + 3):
            _load_row(ring[yy % 7], yy, W, H, wrap, theta, use_a, use_u, aact, uact)
    for y in range(y0, y1):
        base = y * W
        th = theta[base:base + W]
        if presummed:
            st = pre_s[base:base + W]
            ct = pre_c[base:base + W]
            sp_row = sp_plane[y + 3, 3:W + 3]
            cp_row = cp_plane[y + 3, 3:W + 3]
        else:
            _load_row(ring[(y + 3) % 7], y + 3, W, H, wrap, theta, use_a, use_u, aact, uact)
            m3 = ring[(y - 3) % 7]
            m2 = ring[(y - 2) % 7]
            m1 = ring[(y - 1) % 7]
            c0 = ring[y % 7]
            p1 = ring[(y + 1) % 7]
            p2 = ring[(y + 2) % 7]
            p3 = ring[(y + 3) % 7]
            for f in range(nf):
                if (f < 4 and f >= 2 and not use_a) or (f >= 4 and not use_u):
                    continue
                _ring_sum(m3[f], m2[f], m1[f], c0[f], p1[f], p2[f], p3[f], v3, v5, v7, rsum[f], W, a3, a5, a7, k1)
            # Σ w·s_j, Σ w·c_j (ring part) into rsum[0], rsum[1]; receiver's (s', c'); |M| bound
            st = rsum[0]
            ct = rsum[1]
            sp_row = c0[0, 3:W + 3]
            cp_row = c0[1, 3:W + 3]
        if has_mods:
            ar = aact[base:base + W]
            ur = uact[base:base + W]
            la = lapa[base:base + W]
            du = divu[base:base + W]
            lagged = False  # a row without phase lag (α = ±0) uses the ring's sincos(θ)
            for x in range(W):
                if la[x] != 0.0 or du[x] != 0.0:
                    lagged = True
                    break
            for x in range(W):
                ai = np.float64(ar[x])
                ui = np.float64(ur[x])
                st[x] = (st[x] + gk * ai * rsum[2, x]) - bk * ui * rsum[4, x]
                ct[x] = (ct[x] + gk * ai * rsum[3, x]) - bk * ui * rsum[5, x]
                if lagged:
                    alpha = gains[2] * np.float64(la[x]) - gains[3] * np.float64(du[x])
                    sp, cp = sincos(np.float64(th[x]) + alpha)
                    spv[x] = sp
                    cpv[x] = cp
                mb[x] = 1.0 + abs(gk) * abs(ai) * amax + abs(bk) * abs(ui) * umax
            if lagged:
                sp_row = spv
                cp_row = cpv
        # small-world edges (few), in insertion order: add w·M·(s_j, c_j)
        for e in range(sw_ptr[base], sw_ptr[base + W]):
            i = sw_dst[e]
            x = i - base
            j = sw_src[e]
            w = swc * np.float64(sw_sign[e])
            if has_mods:
                w = w * (1.0 + gk * np.float64(aact[i]) * np.float64(aact[j])
                         - bk * np.float64(uact[i]) * np.float64(uact[j]))
            if presummed:  # the planes hold sincos(θ_j) already
                yj = j // W
                sj = sp_plane[yj + 3, j - yj * W + 3]
                cj = cp_plane[yj + 3, j - yj * W + 3]
            else:
                sj, cj = sincos(np.float64(theta[j]))
            st[x] += w * sj
            ct[x] += w * cj
        tnew = theta_out[base:base + W]
        bad = _theta_row(th, omega[base:base + W], sw_ptr[base:base + W + 1], st, ct, sp_row, cp_row, mb, W,
                         coef, tnew, okv)
        if bad:
            recomputed += bad
            for x in range(W):
                if not okv[x]:
                    tnew[x] = wrapstore(theta_value(base + x, x, y, W, H, wrap, theta, omega, sw_ptr, sw_src,
                                                    sw_sign, coef, has_mods, aact, uact, lapa, divu, gains))
        # S4 noise: this row's slice of the sequential stream
        if noise_amp > 0.0:
            s = noise_rows[y]
            for x in range(W):
                s = xs32(s)
                amp = noise_amp_at(base + x, noise_amp, has_mods, aact, uact, gains)
                tnew[x] = noise_theta(tnew[x], s / U32, amp, dt)
        # S1, S2 from the old θ (still in theta), then S5 from the new θ and layers
        row_s = sines[0, base:base + W] if keep_sines else sines_band[0]
        row_h = sines[1, base:base + W] if keep_sines else sines_band[1]
        use = sines_given and keep_sines
        recomputed += _layer_row(phi_s[base:base + W], omega_s[base:base + W], th, W,
                                 coef[COEF_SURF_PULL], dt, okv, row_s if use else no_sines)
        recomputed += _layer_row(phi_h[base:base + W], omega_h[base:base + W], th, W,
                                 coef[COEF_HYP_PULL], dt, okv, row_h if use else no_sines)
        recomputed += _energy_row(energy[base:base + W], phi_s[base:base + W], phi_h[base:base + W], tnew, W,
                                  coef, okv, row_s, row_h)
    return recomputed


@kernel(parallel=True)
def step_fast(theta, omega, phi_s, omega_s, phi_h, omega_h, energy, theta_out,
              W, H, wrap, sw_ptr, sw_src, sw_sign, sw_dst, coef, has_mods, aact, uact, lapa, divu,
              gains, amax, umax, noise_rows, n_bands, pre_s, pre_c, sp_plane, cp_plane, sines, sines_given):
    """One step; θ_new goes to theta_out, then into theta. Returns the recomputed count.

    Without modulators, the ring part of the coupling sums may come precomputed: the
    float64 W·H vectors ``pre_s``, ``pre_c`` (``_ring_sum`` of sin θ and cos θ, which
    ``metrics.rho_step_terms_into`` forms from the same box sums; consumed: the
    small-world edges are added in place) with the padded sin/cos planes of θ
    (``sp_plane``, ``cp_plane``: ``_load_row``'s values, PAD = 3, also read for the
    edges' sources). Empty ``pre_s``: computed here.

    ``sines`` (float64 [2, W·H], or no rows) receives the energy update's
    sin_only(φS − θ), sin_only(φH − θ) of the new state; when ``sines_given`` it holds
    them for the current state, from the previous step, and the layer updates use them
    (see ``_layer_row``)."""
    counts = np.zeros(n_bands, np.int64)
    for b in prange(n_bands):
        counts[b] = _band(b, n_bands, W, H, wrap, theta, omega, phi_s, omega_s, phi_h, omega_h, energy,
                          theta_out, sw_ptr, sw_src, sw_sign, sw_dst, coef, has_mods, aact, uact, lapa, divu,
                          gains, amax, umax, noise_rows, pre_s, pre_c, sp_plane, cp_plane, sines, sines_given)
    # one parallel region per step: the copy is a serial loop (a memcpy), not a second parfor
    for i in range(W * H):
        theta[i] = theta_out[i]
    return counts.sum()
