"""The wind of the attention modulators (docs/lattice.md §4.1 S3, S5 and §6 item 4).

With a wind gain etaV ≠ 0 and a field A, held constant over a frame's steps with
``lapAraw = Lap5(A)`` and ``advect = ∂xA·∂xθ + ∂yA·∂yθ`` (θ at the frame's start):

- S3: ``dθ_i/dt = (ω_i + Kbase·C_i) + etaV·advect_i``;
- S5: ``E_i' = E_i + dt·(((base + diff·(sin(φS−θ) + ½·sin(φH−θ))) − sink·E_i) + advE_i)``,
  ``advE_i = −etaV·((∂xE·∂xA + ∂yE·∂yA) + E_i·lapAraw_i)`` from the old E.

Derivatives are central differences ``0.5·(f[+1] − f[−1])`` through idx; a phase
difference is wrapped to (−π, π] first. Without wrap an edge cell uses itself for the
missing neighbour (as the original's gradient of θ and A does; its energy advection
reads index −1 there, which gives NaN). ``step_wind`` is ``step_reference`` with these two
terms, in canonical order; a zero A gives ``step_reference``'s bytes.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.lattice_exact import (
    COEF_DT, COEF_E_BASE, COEF_E_DIFF, COEF_E_MAX, COEF_E_SINK, COEF_HYP_PULL, COEF_KBASE,
    COEF_NOISE, COEF_SURF_PULL, alpha_of, clamp_store, coupling_exact, layer_value, noise_amp_at,
    noise_theta, wrapstore,
)
from pattools.kernels.lattice_rng import U32, xs32


@kernel
def _wrapd(d):
    """d folded into (−π, π] by whole turns."""
    while d > math.pi:
        d -= 2.0 * math.pi
    while d <= -math.pi:
        d += 2.0 * math.pi
    return d


@kernel
def _near(v, n, wrap):
    """idx along one axis: wrapped, or clamped to the edge without wrap."""
    if v < 0:
        return v + n if wrap else 0
    if v >= n:
        return v - n if wrap else n - 1
    return v


@kernel
def _grad(f, x, y, W, H, wrap):
    """(∂x f, ∂y f) at (x, y): 0.5·(f[+1] − f[−1]) in float64."""
    xl = _near(x - 1, W, wrap)
    xr = _near(x + 1, W, wrap)
    yu = _near(y - 1, H, wrap)
    yd = _near(y + 1, H, wrap)
    row = y * W
    gx = 0.5 * (np.float64(f[row + xr]) - np.float64(f[row + xl]))
    gy = 0.5 * (np.float64(f[yd * W + x]) - np.float64(f[yu * W + x]))
    return gx, gy


@kernel(parallel=True)
def advect_field(theta, a, W, H, wrap):
    """advect_i = ∂xA·∂xθ + ∂yA·∂yθ (θ differences wrapped), float32[W·H]."""
    out = np.empty(W * H, dtype=np.float32)
    for y in prange(H):
        yu = _near(y - 1, H, wrap)
        yd = _near(y + 1, H, wrap)
        for x in range(W):
            xl = _near(x - 1, W, wrap)
            xr = _near(x + 1, W, wrap)
            row = y * W
            tx = 0.5 * _wrapd(np.float64(theta[row + xr]) - np.float64(theta[row + xl]))
            ty = 0.5 * _wrapd(np.float64(theta[yd * W + x]) - np.float64(theta[yu * W + x]))
            ax, ay = _grad(a, x, y, W, H, wrap)
            out[row + x] = np.float32(ax * tx + ay * ty)
    return out


@kernel(parallel=True)
def laplacian5(a, W, H, wrap):
    """Lap5 A = A[l] + A[r] + A[u] + A[d] − 4·A (wrapped or clamped), float32[W·H]."""
    out = np.empty(W * H, dtype=np.float32)
    for y in prange(H):
        yu = _near(y - 1, H, wrap)
        yd = _near(y + 1, H, wrap)
        for x in range(W):
            xl = _near(x - 1, W, wrap)
            xr = _near(x + 1, W, wrap)
            row = y * W
            s = ((np.float64(a[row + xl]) + np.float64(a[row + xr])) + np.float64(a[yu * W + x])) \
                + np.float64(a[yd * W + x])
            out[row + x] = np.float32(s - 4.0 * np.float64(a[row + x]))
    return out


@kernel
def _energy_wind_value(i, x, y, W, H, wrap, e_old, phi_s, phi_h, theta, coef, wind_a, lap_raw, eta):
    """S5 with the energy advection, before the clamp."""
    e = np.float64(e_old[i])
    drive = coef[COEF_E_BASE] + coef[COEF_E_DIFF] * (math.sin(phi_s - theta) + 0.5 * math.sin(phi_h - theta))
    ex, ey = _grad(e_old, x, y, W, H, wrap)
    ax, ay = _grad(wind_a, x, y, W, H, wrap)
    adv = -eta * ((ex * ax + ey * ay) + e * np.float64(lap_raw[i]))
    return e + coef[COEF_DT] * ((drive - coef[COEF_E_SINK] * e) + adv)


@kernel(parallel=True)
def step_wind(theta, omega, phi_s, omega_s, phi_h, omega_h, energy, theta_out, e_old,
              W, H, wrap, sw_ptr, sw_src, sw_sign, coef, has_mods, aact, uact, lapa, divu,
              gains, noise_state, wind_a, lap_raw, advect, eta):
    """One whole step with the wind (``step_reference`` plus S3's and S5's wind terms).
    ``e_old`` is scratch for the energy before the step. Returns the noise state."""
    dt = coef[COEF_DT]
    for y in prange(H):
        for x in range(W):  # S1, S2
            i = y * W + x
            t = np.float64(theta[i])
            phi_s[i] = wrapstore(layer_value(np.float64(phi_s[i]), np.float64(omega_s[i]), t, coef[COEF_SURF_PULL], dt))
            phi_h[i] = wrapstore(layer_value(np.float64(phi_h[i]), np.float64(omega_h[i]), t, coef[COEF_HYP_PULL], dt))
        for x in range(W):  # S3 with the wind, Jacobi into theta_out
            i = y * W + x
            alpha = alpha_of(i, has_mods, lapa, divu, gains)
            c = coupling_exact(i, x, y, W, H, wrap, theta, sw_ptr, sw_src, sw_sign, coef, has_mods, aact, uact,
                               gains, alpha)
            rate = (np.float64(omega[i]) + coef[COEF_KBASE] * c) + eta * np.float64(advect[i])
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
    for i in range(W * H):
        e_old[i] = energy[i]
    for y in prange(H):  # S5 (θ after S3/S4, new layers, old E and its neighbours)
        for x in range(W):
            i = y * W + x
            theta[i] = theta_out[i]
            energy[i] = clamp_store(
                _energy_wind_value(i, x, y, W, H, wrap, e_old, np.float64(phi_s[i]), np.float64(phi_h[i]),
                                   np.float64(theta_out[i]), coef, wind_a, lap_raw, eta),
                0.0, coef[COEF_E_MAX])
    return s
