"""Padded cos/sin planes and the row bands of the parallel kernels.

The ring stencils (ρ's 48 neighbours, the lattice step's ring sums) read planes with a
border of ``PAD`` cells, the torus copy (wrap) or zeros (no wrap), so that neighbour
reads are fixed offsets. Parallel kernels split rows into bands, one per numba thread;
every cell's arithmetic is the same in any band, so results do not depend on it.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange, thread_count
from pattools.kernels.lattice_sincos import sincos

PAD = 3  # ring radius


def band_count(H: int) -> int:
    """Row bands for the parallel kernels: one per numba thread (results do not depend
    on it: every cell's arithmetic is the same in any band)."""
    return max(1, min(int(H), thread_count()))


@kernel
def fill_border(plane: np.ndarray, W: int, H: int, pad: int) -> None:
    """Copy the torus into the ``pad``-cell border of an (H+2pad)×(W+2pad) plane."""
    for py in range(pad, pad + H):
        for k in range(pad):
            plane[py, k] = plane[py, ((k - pad) % W + W) % W + pad]
            plane[py, pad + W + k] = plane[py, (k % W) + pad]
    for k in range(pad):
        top = ((k - pad) % H + H) % H + pad
        bottom = (k % H) + pad
        for px in range(W + 2 * pad):
            plane[k, px] = plane[top, px]
            plane[pad + H + k, px] = plane[bottom, px]


@kernel
def zero_border(plane: np.ndarray, W: int, H: int, pad: int) -> None:
    for py in range(H + 2 * pad):
        if py < pad or py >= pad + H:
            plane[py, :] = 0.0
        else:
            plane[py, :pad] = 0.0
            plane[py, pad + W :] = 0.0


@kernel(parallel=True)


def pad_cos_sin_reference(theta: np.ndarray, W: int, H: int, wrap: bool) -> tuple:
    """libm cos θ, sin θ on an (H+6)×(W+6) plane; the 3-cell border holds the torus copy
    (wrap) or zeros (no wrap: a missing neighbour adds w·0, i.e. nothing)."""
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


@kernel(parallel=True)


def pad_cos_sin(theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int) -> tuple:
    """As ``pad_cos_sin_reference`` with the fast sincos (within SINCOS_ERR of libm)."""
    PW = W + 2 * PAD
    PH = H + 2 * PAD
    cp = np.zeros((PH, PW))
    sp = np.zeros((PH, PW))
    for band in prange(n_bands):
        cbuf = np.empty(W)
        sbuf = np.empty(W)
        for y in range((band * H) // n_bands, ((band + 1) * H) // n_bands):
            row = y * W
            t_row = theta[row : row + W]
            for x in range(W):
                s, c = sincos(np.float64(t_row[x]))
                cbuf[x] = c
                sbuf[x] = s
            crow = cp[y + PAD]
            srow = sp[y + PAD]
            for x in range(W):
                crow[x + PAD] = cbuf[x]
                srow[x + PAD] = sbuf[x]
    if wrap:
        fill_border(cp, W, H, PAD)
        fill_border(sp, W, H, PAD)
    return cp, sp
