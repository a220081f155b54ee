"""Exhaustive check of the token pass's φ = atan2(sinT, cosT) against libm (kernels.phase_angle).

For every float32 phase 0 ≤ θ ≤ f32(2π) (≈ 1.09·10⁹ values, every phase the lattice can
store), runs ``tokens.phase_fields_into`` on blocks of phases and compares each φ with
libm's atan2 of the same float32 (sinT, cosT): the fast kernel must give libm's bits.
Prints the mismatch count (must be 0) and the share of cells that took libm.

``--explore`` instead measures how far from a rounding midpoint libm's atan2 misrounds
these inputs, per binade of the result, against a double-double atan2 (≈ 2⁻¹⁰⁰): the
figures behind ``phase_angle.GLIBC_ERR``.

Run: .venv/bin/python bench/verify_phase_angle.py [--explore] [--limit N]  (≈ 1 min on 2 cores)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.kernels import phase_angle as pa  # noqa: E402
from pattools.kernels._jit import kernel, prange  # noqa: E402
from pattools.kernels.lattice_sincos import SINCOS_ERR, sincos  # noqa: E402
from pattools.kernels.planes import band_count  # noqa: E402
from pattools.kernels.tokens import phase_fields_into  # noqa: E402

TOP = int(np.array([pa.TWO_PI_F32], dtype=np.float32).view(np.uint32)[0])  # bits of f32(2π)
W, H = 4096, 8


@kernel
def _compare(stp, ctp, php, theta, kbuf, wbuf, hbuf, lbuf, ok) -> tuple:
    """(φ ≠ libm count, cells that took libm) over the interior of the planes."""
    bad = 0
    slow = 0
    rows, cols = php.shape[0] - 2, php.shape[1] - 2
    out = np.empty(cols)
    for y in range(rows):
        for x in range(cols):
            expected = math.atan2(np.float64(stp[y + 1, x + 1]), np.float64(ctp[y + 1, x + 1]))
            got = php[y + 1, x + 1]
            if got != expected and not (got != got and expected != expected):
                bad += 1
        pa.phase_angle_row(stp[y + 1, 1:cols + 1], ctp[y + 1, 1:cols + 1], theta[y * cols:(y + 1) * cols], out,
                           kbuf, wbuf, hbuf, lbuf, ok)
        for x in range(cols):
            slow += 0 if ok[x] else 1
    return bad, slow


def verify(limit: int) -> None:
    n = W * H
    planes = (np.empty((H + 6, W + 6)), np.empty((H + 6, W + 6)), np.empty((H + 2, W + 2), np.float32),
              np.empty((H + 2, W + 2), np.float32), np.empty((H + 2, W + 2)))
    scratch = (np.empty(W, np.int64), np.empty(W), np.empty(W), np.empty(W), np.empty(W, np.bool_))
    bands = band_count(H)
    bad = slow = total = 0
    start = time.perf_counter()
    for first in range(0, min(TOP + 1, limit), n):
        bits = np.arange(first, first + n, dtype=np.uint32)
        bits = np.minimum(bits, TOP)  # the last block repeats f32(2π)
        theta = bits.view(np.float32)
        phase_fields_into(theta, W, H, True, bands, *planes)
        b, s = _compare(planes[3], planes[2], planes[4], theta, *scratch)
        bad += b
        slow += s
        total += n
    print(f"{total} phases in [0, f32(2π)]: {bad} φ differ from libm's atan2; "
          f"{slow / total:.4%} took libm ({time.perf_counter() - start:.0f} s)")


_SPLIT = 134217729.0  # 2^27 + 1


@kernel
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@kernel
def _two_prod(a, b):
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@kernel
def _accurate_atan2(y: float, x: float) -> tuple:
    """atan2 as a double-double (error ≈ 2⁻¹⁰⁰), same reduction as phase_angle_row."""
    ay = abs(y)
    ax = abs(x)
    n = min(ax, ay)
    m = max(ax, ay)
    k = np.int64(n / m * pa.TABLE_STEPS + 0.5)
    c = k * (1.0 / pa.TABLE_STEPS)
    num = n - c * m
    den = m + c * n
    wh = num / den
    ph, pl = _two_prod(wh, den)
    wl = ((num - ph) - pl) / den
    z = wh * wh
    t = wh * z * (-1.0 / 3.0 + z * (1.0 / 5.0 + z * (-1.0 / 7.0 + z * (1.0 / 9.0))))
    swap = ay > ax
    neg = x < 0.0
    b_hi = pa._HALF_PI_HI if swap else (pa._PI_HI if neg else 0.0)
    b_lo = pa._HALF_PI_LO if swap else (pa._PI_LO if neg else 0.0)
    sg = -1.0 if swap != neg else 1.0
    a1, a2 = _two_sum(pa.ATAN_HI[k], wh)
    a2 = a2 + (pa.ATAN_LO[k] + (wl + t))
    a1, a2 = _two_sum(a1, a2)
    s1, e1 = _two_sum(b_hi, sg * a1)
    e1 = e1 + (b_lo + sg * a2)
    s1, e1 = _two_sum(s1, e1)
    return (s1, e1) if y > 0.0 else (-s1, -e1)


@kernel(parallel=True)
def _explore(top: int, blocks: int) -> np.ndarray:
    """Per binade 2^(e−14) of |φ| (e = 0 … 15): misrounded count, largest distance of the
    true value from the midpoint that libm rounded across."""
    stats = np.zeros((blocks, 16, 2))
    err = 2.0 * SINCOS_ERR
    for b in prange(blocks):
        buf = np.empty(1, np.uint32)
        phase = buf.view(np.float32)
        for bits in range(top * b // blocks, top * (b + 1) // blocks):
            buf[0] = bits
            t = np.float64(phase[0])
            s, c = sincos(t)  # sinT, cosT as phase_fields_into makes them
            c_lo = np.float32(c - err)
            s_lo = np.float32(s - err)
            if c_lo == np.float32(c + err) and s_lo == np.float32(s + err):
                cf, sf = c_lo, s_lo
            else:
                cf, sf = np.float32(math.cos(t)), np.float32(math.sin(t))
            y, x = np.float64(sf), np.float64(cf)
            if y == 0.0 or x == 0.0:
                continue
            hi, lo = _accurate_atan2(y, x)
            rounded = hi + lo
            libm = math.atan2(y, x)
            if libm != rounded:
                excess = abs(libm - rounded) / 2.0 - abs((hi - rounded) + lo)
                e = min(max(int(np.floor(np.log2(abs(rounded)))), -14), 1) + 14
                stats[b, e, 0] += 1
                stats[b, e, 1] = max(stats[b, e, 1], excess)
    return stats


def explore(limit: int) -> None:
    start = time.perf_counter()
    stats = _explore(min(TOP + 1, limit), 4 * numba.get_num_threads() * 64)
    print(f"libm atan2 misrounds, phases in [0, f32(2π)] ({time.perf_counter() - start:.0f} s):")
    for e in range(16):
        count = int(stats[:, e, 0].sum())
        if count:
            worst = stats[:, e, 1].max()
            print(f"  |φ| in [2^{e - 14}, 2^{e - 13}): {count:7d}, at most 2^{math.log2(worst):.2f} from the midpoint")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--explore", action="store_true", help="measure libm's misrounding instead")
    parser.add_argument("--limit", type=int, default=TOP + 1, help="check only the first N phase bit patterns")
    args = parser.parse_args()
    (explore if args.explore else verify)(args.limit)


if __name__ == "__main__":
    main()
