"""Branch-free sincos and sin for the lattice's fast kernel (docs/design.md §4).

Cody–Waite reduction by π/2 in three parts (the first two carry 47 significant bits,
so q·P1 and q·P2 are exact for |q| < 64), then Taylor polynomials to degree 17/18 on
|r| ≤ π/4 + ε, quadrant chosen by selects so that LLVM can vectorise loops calling it.
Inputs beyond |x| ≤ ``SINCOS_LIMIT`` give NaN, which the fast kernel's certification
turns into a canonical recomputation of the affected cells.

``sin_only`` reduces by π instead and evaluates one odd polynomial to degree 21, about
a quarter cheaper, for the layer and energy sines that need no cosine.

Measured against libm (glibc) on 2·10⁶ points in [−64, 64] and [−4π, 4π] plus the
quadrant boundaries, the absolute difference is at most 2⁻⁵² for both
(tests/test_lattice_kernels.py checks ≤ 2⁻⁵¹); the certification bound assumes
``SINCOS_ERR`` = 2⁻⁴⁹, eight times the measured value.
"""

from __future__ import annotations

import numpy as np

from pattools.kernels._jit import kernel

SINCOS_LIMIT = 64.0
SINCOS_ERR = 2.0 ** -49

_TWO_OVER_PI = float.fromhex("0x1.45f306dc9c883p-1")
_P1 = float.fromhex("0x1.921fb54442d00p+0")  # π/2, first 47 bits
_P2 = float.fromhex("0x1.8469898cc5140p-48")  # next 47 bits
_P3 = float.fromhex("0x1.80dc1cd129025p-95")  # the rest, rounded

_PI_1 = 2.0 * _P1  # π in three parts (exact doublings of the π/2 parts)
_PI_2 = 2.0 * _P2
_PI_3 = 2.0 * _P3
_ONE_OVER_PI = float.fromhex("0x1.45f306dc9c883p-2")

_S3 = -1.0 / 6.0
_S5 = 1.0 / 120.0
_S7 = -1.0 / 5040.0
_S9 = 1.0 / 362880.0
_S11 = -1.0 / 39916800.0
_S13 = 1.0 / 6227020800.0
_S15 = -1.0 / 1307674368000.0
_S17 = 1.0 / 355687428096000.0
_S19 = -1.0 / 121645100408832000.0
_S21 = 1.0 / 51090942171709440000.0
_C4 = 1.0 / 24.0
_C6 = -1.0 / 720.0
_C8 = 1.0 / 40320.0
_C10 = -1.0 / 3628800.0
_C12 = 1.0 / 479001600.0
_C14 = -1.0 / 87178291200.0
_C16 = 1.0 / 20922789888000.0
_C18 = -1.0 / 6402373705728000.0


@kernel
def sincos(x):
    """(sin x, cos x) to within SINCOS_ERR of libm for |x| ≤ SINCOS_LIMIT, else (NaN, NaN)."""
    q = np.floor(x * _TWO_OVER_PI + 0.5)
    r = ((x - q * _P1) - q * _P2) - q * _P3
    z = r * r
    ps = r + r * z * (_S3 + z * (_S5 + z * (_S7 + z * (_S9 + z * (_S11 + z * (_S13 + z * (_S15 + z * _S17)))))))
    pc = 1.0 - 0.5 * z + z * z * (_C4 + z * (_C6 + z * (_C8 + z * (_C10 + z * (_C12 + z * (_C14 + z * (_C16 + z * _C18)))))))
    n = q - 4.0 * np.floor(q * 0.25)  # quadrant 0..3, exact
    odd = (n == 1.0) | (n == 3.0)
    a = pc if odd else ps
    b = ps if odd else pc
    s = -a if n >= 2.0 else a
    c = -b if ((n == 1.0) | (n == 2.0)) else b
    if not (abs(x) <= SINCOS_LIMIT):
        s = np.nan
        c = np.nan
    return s, c


@kernel
def sin_only(x):
    """sin x alone (reduction by π, one odd polynomial to degree 21); same limits as sincos."""
    q = np.floor(x * _ONE_OVER_PI + 0.5)
    r = ((x - q * _PI_1) - q * _PI_2) - q * _PI_3
    z = r * r
    p = r + r * z * (_S3 + z * (_S5 + z * (_S7 + z * (_S9 + z * (_S11 + z * (_S13 + z * (_S15 + z * (_S17 + z * (_S19 + z * _S21)))))))))
    odd = (q - 2.0 * np.floor(q * 0.5)) == 1.0
    s = -p if odd else p
    if not (abs(x) <= SINCOS_LIMIT):
        s = np.nan
    return s


@kernel
def sin_only_is_odd(x):
    """True when sin_only(−x) is exactly −sin_only(x): every step of sin_only is odd in x
    except the reduction's rounding, q(x) = floor(fl(v + ½)) with v = fl(x/π), and
    q(−x) = −ceil(fl(v − ½)); the two agree unless v ± ½ straddles an integer."""
    v = x * _ONE_OVER_PI
    return np.ceil(v - 0.5) == np.floor(v + 0.5)
