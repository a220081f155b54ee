"""φ = atan2(sinT, cosT) for a row of cells: libm's bits at about a third of libm's cost.

Why: libm's atan2 (≈ 12 ns a call, not vectorisable) was the largest single cost of a
96×96 export frame (≈ 0.11 of ≈ 0.6 ms). Its bits must be kept, and glibc's atan2 is not
correctly rounded: on these inputs it misrounds about one result in a thousand, each
within 2⁻⁶⁰·⁷ of a rounding midpoint. So this kernel computes atan2 to within its own error
bound (≈ 2⁻⁶⁰, vectorisable, one table lookup) and keeps a value only when every number
within that bound *plus* ``GLIBC_ERR`` rounds to the same double: then a correctly
rounded atan2 and glibc's give that double. Other cells (≈ 7 % of a lattice frame) call
libm.

Inputs are the float32 pairs of ``tokens.phase_fields_into``: (sinT, cosT) =
(f32(sin θ), f32(cos θ)). The fast value is used only for phases 0 ≤ θ ≤ f32(2π) (what
the lattice stores) with both components non-zero, and for that domain
bench/verify_phase_angle.py compares every float32 θ (≈ 1.09·10⁹ phases) with libm:
identical bits (glibc 2.36). Other phases always take libm, and so does every cell when
the C library is not glibc (``FAST_PATH``).

Method, for y = sinT, x = cosT (float32, so the products below are exact): n = min(|x|,
|y|), m = max(|x|, |y|), u = n/m ∈ (0, 1]; c = k/256 with k = round(256u); then
atan(u) = atan(c) + atan(w), w = (u − c)/(1 + uc) = (n − cm)/(m + cn), where numerator
and denominator are exact doubles (n, m have 24 significant bits, c at most 9), so w
is within 2⁻⁵³|w| ≤ 2⁻⁶² of its true value; atan(w) = w − w³/3 + w⁵/5 − w⁷/7 (|w| ≤ 2⁻⁹,
truncation < 2⁻⁸⁰); atan(c) comes from a double-double table computed exactly with
integers at import (≈ 3 ms). The octant is put back with π/2 or π as double-double
(B ± A, the leading sum by TwoSum) and the sign of y.
"""

from __future__ import annotations

import math
import os

import numpy as np

from pattools.kernels._jit import kernel

TABLE_STEPS = 256  # c = k/256, k = 0 … 256: |w| ≤ 2⁻⁹
TWO_PI_F32 = float(np.float32(2.0 * math.pi))  # largest stored phase (f32(2π) > 2π)
# Certification margin = own error + glibc's. Own error of s1 + low against atan2, with
# u = 2⁻⁵³: u|w| (w) + u|p| (the polynomial's final rounding) + three roundings of the low
# part (≤ u|low| each, the parts no larger than |w| + 2⁻⁵²) + 2⁻¹⁰⁵ (tables), below
# OWN_ERR·(|w| + |low|) + 2⁻¹⁰⁰ (OWN_ERR = 8u). glibc 2.36 misrounds these inputs only
# within 2⁻⁶⁰·⁷ of a midpoint, and within 2⁻⁶³·⁹ for results below 1/16 (exhaustive run:
# bench/verify_phase_angle.py --explore); margins 2⁻⁵⁹ and 2⁻⁶².
OWN_ERR = 2.0**-50
GLIBC_ERR = 2.0**-59
GLIBC_ERR_SMALL = 2.0**-62
_C3 = -1.0 / 3.0
_C5 = 1.0 / 5.0
_C7 = -1.0 / 7.0
_BITS = 160


def _atan_fixed(k: int, steps: int, bits: int) -> int:
    """atan(k/steps)·2^bits, rounded down to within a few units (integer arithmetic).

    Euler's series atan x = Σ_n (2^2n (n!)² / (2n+1)!)·x^(2n+1)/(1+x²)^(n+1): each term
    is the previous one times (2n+2)/(2n+3)·x²/(1+x²) ≤ ½ (x ≤ 1)."""
    num2 = k * k
    den2 = steps * steps + k * k
    term = (k * steps << bits) // den2  # x/(1+x²)
    total = 0
    n = 0
    while term:
        total += term
        term = term * (2 * n + 2) * num2 // ((2 * n + 3) * den2)
        n += 1
    return total


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


# glibc's atan2 is correctly rounded, or (2.35 to 2.40, no multi-precision fallback)
# within the measured margin of it; another C library's need not be: there every cell
# calls libm. (Read when the kernel is compiled.)
FAST_PATH = _is_glibc()


def _double_double(fixed: int) -> tuple[float, float]:
    """(hi, lo) = (RN(v), RN(v − hi)) of v = fixed·2^-_BITS (integer true division
    rounds correctly, and hi = n/d with d a power of two, so v − hi is exact as an
    integer over d·2^_BITS)."""
    hi = fixed / (1 << _BITS)
    n, d = hi.as_integer_ratio()
    return hi, (fixed * d - (n << _BITS)) / (d << _BITS)


def _atan_table(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """atan(k/steps), k = 0 … steps, as double-double."""
    pairs = [_double_double(_atan_fixed(k, steps, _BITS)) for k in range(steps + 1)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


ATAN_HI, ATAN_LO = _atan_table(TABLE_STEPS)
_PI_HI, _PI_LO = _double_double(4 * _atan_fixed(1, 1, _BITS))
_HALF_PI_HI = _PI_HI / 2.0
_HALF_PI_LO = _PI_LO / 2.0


@kernel(inline="always")
def phase_angle_row(sf: np.ndarray, cf: np.ndarray, theta: np.ndarray, out: np.ndarray, kbuf: np.ndarray,
                    wbuf: np.ndarray, hbuf: np.ndarray, lbuf: np.ndarray, ok: np.ndarray) -> None:
    """out[x] = math.atan2(float64(sf[x]), float64(cf[x])) for one row (float32 inputs,
    ``theta`` the row's phases, the rest scratch rows of the same length). Separate
    loops so that LLVM vectorises the arithmetic and the table gathers."""
    n_cells = out.shape[0]
    if not FAST_PATH:
        for x in range(n_cells):
            out[x] = math.atan2(np.float64(sf[x]), np.float64(cf[x]))
        return
    for x in range(n_cells):
        ay = abs(np.float64(sf[x]))
        ax = abs(np.float64(cf[x]))
        n = min(ax, ay)
        m = max(ax, ay)
        kf = n / m * TABLE_STEPS + 0.5
        kf = kf if (kf >= 0.0) & (kf < TABLE_STEPS + 1.0) else 0.0  # NaN, 0/0: any valid k
        k = np.int64(kf)
        c = k * (1.0 / TABLE_STEPS)
        kbuf[x] = k
        wbuf[x] = (n - c * m) / (m + c * n)
    for x in range(n_cells):
        k = kbuf[x]
        hbuf[x] = ATAN_HI[k]
        lbuf[x] = ATAN_LO[k]
    for x in range(n_cells):
        y = np.float64(sf[x])
        xc = np.float64(cf[x])
        t = np.float64(theta[x])
        w = wbuf[x]
        z = w * w
        p = w + w * z * (_C3 + z * (_C5 + z * _C7))
        swap = abs(y) > abs(xc)
        neg = xc < 0.0
        # α = B + σ·atan(u): x > 0: atan(u) or π/2 − atan(u); x < 0: π − atan(u) or π/2 + atan(u)
        b_hi = _HALF_PI_HI if swap else (_PI_HI if neg else 0.0)
        b_lo = _HALF_PI_LO if swap else (_PI_LO if neg else 0.0)
        sigma = -1.0 if swap != neg else 1.0
        a_hi = sigma * hbuf[x]
        s1 = b_hi + a_hi
        bb = s1 - b_hi
        e1 = (b_hi - (s1 - bb)) + (a_hi - bb)  # TwoSum: b_hi + a_hi = s1 + e1 exactly
        low = e1 + (b_lo + sigma * (lbuf[x] + p))
        r = s1 + low
        margin = OWN_ERR * (abs(w) + abs(low)) + 1e-30 + (GLIBC_ERR if abs(s1) >= 0.0625 else GLIBC_ERR_SMALL)
        certain = (s1 + (low - margin)) == (s1 + (low + margin))
        ok[x] = certain & (t >= 0.0) & (t <= TWO_PI_F32) & (y != 0.0) & (xc != 0.0)
        out[x] = r if y > 0.0 else -r
    for x in range(n_cells):
        if not ok[x]:
            out[x] = math.atan2(np.float64(sf[x]), np.float64(cf[x]))
