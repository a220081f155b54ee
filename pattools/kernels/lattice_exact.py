"""Canonical-order arithmetic of one lattice step (docs/lattice.md §0, §4.1, §6).

Every function here evaluates a formula of docs/lattice.md in its written order, in float64,
with libm ``sin`` and a float32 store at the documented write points. ``step_reference``
is the straightforward whole-step kernel kept for parity audits; the fast kernel
(``lattice.py``) calls the per-cell functions for the rare cells it cannot certify.

Parameter vector ``coef`` (float64): see ``COEF_*`` indices. ``gains`` (float64):
γK, βK, γα, βα, γD, δD. Modulator arrays are float32[N] (empty when ``has_mods`` is
False, which stands for M_ij = 1 and α_i = 0).
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.lattice_rng import U32, xs32
from pattools.kernels.lattice_wind import energy_advection

TAU = 2.0 * math.pi
TWO_TAU = 2.0 * TAU

COEF_DT = 0
COEF_KBASE = 1
COEF_K1 = 2
COEF_K2 = 3
COEF_K3 = 4
COEF_SW = 5
COEF_SURF_PULL = 6
COEF_HYP_PULL = 7
COEF_E_BASE = 8
COEF_E_DIFF = 9
COEF_E_SINK = 10
COEF_E_MAX = 11
COEF_NOISE = 12
N_COEF = 13


@kernel
def wrapstore(v):
    """f32(fmod(v, TAU)), then +TAU if negative (§0). Exact fmod shortcuts for |v| < 2·TAU."""
    if v >= 0.0 and v < TAU:
        r = v
    elif v >= TAU and v < TWO_TAU:
        r = v - TAU  # exact (Sterbenz), equals fmod
    elif v < 0.0 and v > -TAU:
        r = v
    else:
        r = np.fmod(v, TAU)
    a = np.float32(r)
    if a < 0:
        a = np.float32(np.float64(a) + TAU)
    return a


@kernel
def clamp_store(v, lo, hi):
    """f32(clamp(v, lo, hi)); NaN passes through as in JS Math.min/max."""
    if v < lo:
        v = lo
    if v > hi:
        v = hi
    return np.float32(v)


@kernel
def layer_value(phi, omega_l, theta, pull, dt):
    """S1/S2 unmasked: φ + (ω + pull·sin(θ − φ))·dt, before wrapstore."""
    d = omega_l + pull * math.sin(theta - phi)
    return phi + d * dt


@kernel
def energy_drive(phi_s, phi_h, theta, coef):
    """S5's drive: base + diff·(sin(φS−θ) + 0.5·sin(φH−θ))."""
    return coef[COEF_E_BASE] + coef[COEF_E_DIFF] * (math.sin(phi_s - theta) + 0.5 * math.sin(phi_h - theta))


@kernel
def energy_value(e, phi_s, phi_h, theta, coef):
    """S5 headless: E + dt·(drive − sink·E), before clamp."""
    return e + coef[COEF_DT] * (energy_drive(phi_s, phi_h, theta, coef) - coef[COEF_E_SINK] * e)


@kernel
def alpha_of(i, has_mods, lapa, divu, gains):
    """Per-receiver Sakaguchi lag α_i = γα·lapA_i − βα·divU_i (0 without mods)."""
    if has_mods:
        return gains[2] * np.float64(lapa[i]) - gains[3] * np.float64(divu[i])
    return 0.0


def _ring_offsets():
    """The 48 ring offsets in canonical order: r = 1, 2, 3; dy from −r to r; dx from −r to r."""
    out = []
    for r in (1, 2, 3):
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if max(abs(dx), abs(dy)) == r:
                    out.append((dx, dy, r))
    return np.array(out, dtype=np.int64)


RING_OFFSETS = _ring_offsets()  # int64[48, 3]: dx, dy, ring


@kernel
def coupling_exact(i, x, y, W, H, wrap, theta, sw_ptr, sw_src, sw_sign, coef, has_mods, aact, uact, gains, alpha):
    """C_i of S3 in canonical order: ring 1, 2, 3 (dy-major), then SW edges in insertion order."""
    ti = np.float64(theta[i])
    c = 0.0
    ai = 0.0
    ui = 0.0
    if has_mods:
        ai = np.float64(aact[i])
        ui = np.float64(uact[i])
    for k in range(RING_OFFSETS.shape[0]):
        kb = coef[COEF_K1 + RING_OFFSETS[k, 2] - 1]
        if kb == 0.0:
            continue  # the original skips zero-weight bands
        xx = x + RING_OFFSETS[k, 0]
        yy = y + RING_OFFSETS[k, 1]
        if xx < 0 or xx >= W or yy < 0 or yy >= H:
            if not wrap:
                continue
            # idx() with wrap; |offset| ≤ 3 < W, H, so one fold is enough
            if xx < 0:
                xx += W
            elif xx >= W:
                xx -= W
            if yy < 0:
                yy += H
            elif yy >= H:
                yy -= H
        j = yy * W + xx
        if has_mods:
            m = 1.0 + gains[0] * ai * np.float64(aact[j]) - gains[1] * ui * np.float64(uact[j])
        else:
            m = 1.0
        c += kb * m * math.sin(np.float64(theta[j]) - ti - alpha)
    for e in range(sw_ptr[i], sw_ptr[i + 1]):
        j = sw_src[e]
        if has_mods:
            m = 1.0 + gains[0] * ai * np.float64(aact[j]) - gains[1] * ui * np.float64(uact[j])
        else:
            m = 1.0
        c += coef[COEF_SW] * np.float64(sw_sign[e]) * m * math.sin(np.float64(theta[j]) - ti - alpha)
    return c


@kernel
def theta_value(i, x, y, W, H, wrap, theta, omega, sw_ptr, sw_src, sw_sign, coef, has_mods, aact, uact, lapa, divu, gains):
    """θ_i + dt·(ω_i + Kbase·C_i), before wrapstore."""
    alpha = alpha_of(i, has_mods, lapa, divu, gains)
    c = coupling_exact(i, x, y, W, H, wrap, theta, sw_ptr, sw_src, sw_sign, coef, has_mods, aact, uact, gains, alpha)
    return np.float64(theta[i]) + coef[COEF_DT] * (np.float64(omega[i]) + coef[COEF_KBASE] * c)


@kernel
def noise_amp_at(i, noise_amp, has_mods, aact, uact, gains):
    """S4 amplitude: noiseAmp, or clamp(noiseAmp·(1 − γD·A) + δD·U, 0, 1.5·max(1e−6, noiseAmp))."""
    if not has_mods:
        return noise_amp
    amp = noise_amp * (1.0 - gains[4] * np.float64(aact[i])) + gains[5] * np.float64(uact[i])
    hi = 1.5 * max(1e-6, noise_amp)
    if amp < 0.0:
        amp = 0.0
    if amp > hi:
        amp = hi
    return amp


@kernel
def noise_theta(t, u, amp, dt):
    """θ ← wrapstore(θ + ξ·amp·dt) with ξ = 2u − 1."""
    xi = 2.0 * u - 1.0
    return wrapstore(np.float64(t) + xi * amp * dt)


@kernel(parallel=True)
def step_reference(theta, omega, phi_s, omega_s, phi_h, omega_h, energy, theta_out,
                   W, H, wrap, sw_ptr, sw_src, sw_sign, sw_dst, coef, has_mods, aact, uact, lapa, divu,
                   gains, noise_state, wind_a, lap_raw, advect, eta, e_old):
    """One whole step, sub-step by sub-step as §4.1 lists them. Returns the noise state.

    Takes the fast kernel's arguments (``sw_dst`` is not needed here), then the wind
    (pattools.kernels.lattice_wind): with ``eta`` ≠ 0, S3 adds ``eta·advect_i`` to the
    rate and S5 the energy advection, reading the energy before the step from ``e_old``
    (scratch, float32[W·H]); with ``eta`` 0 the wind arrays are not read.
    """
    dt = coef[COEF_DT]
    windy = eta != 0.0
    # S1, S2 and S3 share one parallel loop over rows: the layers read θ before the update
    # and never feed θ (no masks), and S3 writes theta_out, so the order is kept per cell
    for y in prange(H):
        for x in range(W):  # S1, S2
            i = y * W + x
            t = np.float64(theta[i])
            phi_s[i] = wrapstore(layer_value(np.float64(phi_s[i]), np.float64(omega_s[i]), t, coef[COEF_SURF_PULL], dt))
            phi_h[i] = wrapstore(layer_value(np.float64(phi_h[i]), np.float64(omega_h[i]), t, coef[COEF_HYP_PULL], dt))
        for x in range(W):  # S3, Jacobi into theta_out
            i = y * W + x
            alpha = alpha_of(i, has_mods, lapa, divu, gains)
            c = coupling_exact(i, x, y, W, H, wrap, theta, sw_ptr, sw_src, sw_sign, coef, has_mods, aact, uact,
                               gains, alpha)
            rate = np.float64(omega[i]) + coef[COEF_KBASE] * c
            if windy:
                rate = rate + eta * np.float64(advect[i])
            theta_out[i] = wrapstore(np.float64(theta[i]) + dt * rate)
    s = noise_state & 0xFFFFFFFF
    noise_amp = coef[COEF_NOISE]
    if noise_amp > 0.0:  # S4, cell by cell in order
        if s == 0:
            s = 123456789
        for i in range(W * H):
            s = xs32(s)
            amp = noise_amp_at(i, noise_amp, has_mods, aact, uact, gains)
            theta_out[i] = noise_theta(theta_out[i], s / U32, amp, dt)
    if windy:  # the advection reads the neighbours' energy before the step
        for i in range(W * H):
            e_old[i] = energy[i]
    for y in prange(H):  # S5 (θ after S3/S4, new layers, old E)
        for x in range(W):
            i = y * W + x
            theta[i] = theta_out[i]
            t = np.float64(theta_out[i])
            if windy:
                e = np.float64(e_old[i])
                drift = energy_advection(i, x, y, W, H, wrap, e_old, wind_a, lap_raw, eta)
                value = e + dt * ((energy_drive(np.float64(phi_s[i]), np.float64(phi_h[i]), t, coef)
                                   - coef[COEF_E_SINK] * e) + drift)
            else:
                value = energy_value(np.float64(energy[i]), np.float64(phi_s[i]), np.float64(phi_h[i]), t, coef)
            energy[i] = clamp_store(value, 0.0, coef[COEF_E_MAX])
    return s
