"""The wind of the attention modulators (docs/lattice.md §4.1 S3, S5 and §6 item 4).

With a wind gain etaV ≠ 0 and a field A, held constant over a frame's steps with
``lapAraw = Lap5(A)`` and ``advect = ∂xA·∂xθ + ∂yA·∂yθ`` (θ at the frame's start):

- S3: ``dθ_i/dt = (ω_i + Kbase·C_i) + etaV·advect_i``;
- S5: ``E_i' = E_i + dt·(((base + diff·(sin(φS−θ) + ½·sin(φH−θ))) − sink·E_i) + advE_i)``,
  ``advE_i = −etaV·((∂xE·∂xA + ∂yE·∂yA) + E_i·lapAraw_i)`` from the old E.

Derivatives are central differences ``0.5·(f[+1] − f[−1])`` through idx; a phase
difference is wrapped to (−π, π] first. Without wrap an edge cell uses itself for the
missing neighbour (as the original's gradient of θ and A does; its energy advection
reads index −1 there, which gives NaN). ``lattice_exact.step_reference`` adds the two
terms, in canonical order, when etaV ≠ 0; a zero A gives the bytes of its step without.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange


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
def energy_advection(i, x, y, W, H, wrap, e_old, wind_a, lap_raw, eta):
    """advE_i = −etaV·((∂xE·∂xA + ∂yE·∂yA) + E_i·lapAraw_i) from the energy before the step."""
    ex, ey = _grad(e_old, x, y, W, H, wrap)
    ax, ay = _grad(wind_a, x, y, W, H, wrap)
    return -eta * ((ex * ax + ey * ay) + np.float64(e_old[i]) * np.float64(lap_raw[i]))
