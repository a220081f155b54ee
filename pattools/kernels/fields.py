"""Field kernels of the token→modulator decoders (docs/tokens.md §3, docs/replay.md).

Why: the token-only attention path turns a few numbers per patch into per-cell float32
fields — a Gaussian splat, a separable wrapped box blur, a tanh calibration and a
wrapped 5-point Laplacian. The closed-loop decoder runs them before every lattice step,
so they are kernels. Numeric convention as in the lattice: float32 storage, float64
arithmetic, one f32 rounding at each store, fixed summation order. Parallel loops split
rows (or columns) whose cells are written independently, so the thread count never
changes a result.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange


@kernel
def gaussian_table(sigma: int) -> np.ndarray:
    """``exp(−d²/(2σ²))`` for every integer d² a splat window can hold (0 … 8σ²)."""
    denom = float(2 * sigma * sigma)
    size = 8 * sigma * sigma + 1
    table = np.empty(size, dtype=np.float64)
    for d2 in range(size):
        table[d2] = math.exp(-float(d2) / denom)
    return table


@kernel(parallel=True)
def splat_gaussian(
    width: int,
    height: int,
    cx: np.ndarray,
    cy: np.ndarray,
    amp: np.ndarray,
    sigma: int,
) -> np.ndarray:
    """Sum of Gaussians ``amp·exp(−d²/(2σ²))`` centred at (cx, cy), no wrap, window ±2σ.

    Each cell accumulates the tokens in token order, storing f32 after every add; tokens
    with amplitude 0 contribute nothing. The exponentials come from ``gaussian_table``
    (the same float64 values, computed once per call). Returns float32[W·H].
    """
    out = np.zeros(width * height, dtype=np.float32)
    count = cx.shape[0]
    reach = 2 * sigma
    table = gaussian_table(sigma)
    for y in prange(height):
        row = y * width
        for t in range(count):
            a = amp[t]
            if a == 0.0:
                continue
            cyt = cy[t]
            if y < cyt - reach or y > cyt + reach:
                continue
            cxt = cx[t]
            x_lo = max(0, cxt - reach)
            x_hi = min(width - 1, cxt + reach)
            dy = y - cyt
            for x in range(x_lo, x_hi + 1):
                dx = x - cxt
                out[row + x] = np.float32(out[row + x] + a * table[dx * dx + dy * dy])
    return out


@kernel(parallel=True)
def box_blur_wrapped(src: np.ndarray, width: int, height: int, radius: int) -> np.ndarray:
    """Separable box blur, window 2r+1, wrapped on the torus (docs/tokens.md §3 step 3).

    Horizontal pass into a float32 buffer, then vertical into float32; each line keeps a
    float64 running sum started as Σ_{d=−r..r} src[wrap(d)] and moved by adding
    src[wrap(p+r)] then subtracting src[wrap(p−r−1)]; each output is f32(sum/(2r+1)).
    """
    window = float(2 * radius + 1)
    tmp = np.empty(width * height, dtype=np.float32)
    out = np.empty(width * height, dtype=np.float32)
    for y in prange(height):
        row = y * width
        s = 0.0
        for d in range(-radius, radius + 1):
            s += src[row + d % width]
        tmp[row] = np.float32(s / window)
        for x in range(1, width):
            s += src[row + (x + radius) % width]
            s -= src[row + (x - radius - 1) % width]
            tmp[row + x] = np.float32(s / window)
    for x in prange(width):
        s = 0.0
        for d in range(-radius, radius + 1):
            s += tmp[(d % height) * width + x]
        out[x] = np.float32(s / window)
        for y in range(1, height):
            s += tmp[((y + radius) % height) * width + x]
            s -= tmp[((y - radius - 1) % height) * width + x]
            out[y * width + x] = np.float32(s / window)
    return out


@kernel(parallel=True)
def tanh_calibrated(field: np.ndarray, scale: float, bias: float) -> np.ndarray:
    """``f32(tanh(scale·f + bias))`` per cell (the calibration of docs/tokens.md §3 step 4)."""
    n = field.shape[0]
    out = np.empty(n, dtype=np.float32)
    for i in prange(n):
        x = scale * field[i] + bias
        out[i] = np.float32(x if x == 0.0 else math.tanh(x))  # tanh(±0) = ±0: skip the call
    return out


@kernel(parallel=True)
def laplacian5_wrapped(field: np.ndarray, width: int, height: int) -> np.ndarray:
    """Wrapped 5-point Laplacian ``f_L + f_R + f_U + f_D − 4·f_i``, summed in that order."""
    out = np.empty(width * height, dtype=np.float32)
    for y in prange(height):
        ym = (y - 1) % height
        yp = (y + 1) % height
        row = y * width
        for x in range(width):
            xm = (x - 1) % width
            xp = (x + 1) % width
            c = np.float64(field[row + x])
            total = np.float64(field[row + xm]) + np.float64(field[row + xp])
            total = total + np.float64(field[ym * width + x])
            total = total + np.float64(field[yp * width + x])
            out[row + x] = np.float32(total - 4.0 * c)
    return out
