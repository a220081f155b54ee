"""Scalar helpers on angles and vectors shared by the metric and token kernels.

``hypot_js`` is Math.hypot as the original's JavaScript engine computes it (not libm's
hypot); ``wrapd`` and ``wrap_pi`` are the two circular differences of the specs
(docs/lattice.md §0, docs/tokens.md ``wrap``), each with branch-free variants for the
ranges stored phases allow, which give the same bits and let row loops vectorise.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel

PI = math.pi
TAU = 2.0 * math.pi
_THREE_PI = 3.0 * math.pi
_TWO_TAU = 2.0 * TAU


@kernel
def hypot_js(a: float, b: float) -> float:
    """Two-argument Math.hypot as the original's JavaScript engine computes it:
    ``m·sqrt((|a|/m)² + (|b|/m)²)`` with ``m = max(|a|, |b|)`` (not libm's hypot)."""
    a = abs(a)
    b = abs(b)
    if a == np.inf or b == np.inf:
        return np.inf
    if a != a or b != b:
        return np.nan
    m = a if a > b else b
    if m == 0.0:
        return 0.0
    x = a / m
    y = b / m
    return math.sqrt(x * x + y * y) * m


@kernel
def hypot_js_finite(a: float, b: float) -> float:
    """``hypot_js`` for finite arguments, branch-free: one of |a|/m, |b|/m is exactly 1,
    so the engine's sum is fl(1 + r²) with r = min/max."""
    a = abs(a)
    b = abs(b)
    m = max(a, b)
    n = min(a, b)
    q = n / (m if m > 0.0 else 1.0)
    return math.sqrt(1.0 + q * q) * m

_WRAPD_LOOP_MAX = 64.0 * math.pi


@kernel
def wrapd(d: float) -> float:
    """Circular difference into (−π, π] by repeated ±2π (docs/lattice.md §0).

    Differences of stored phases take one step. Beyond ±64π (only possible for phases
    that no lattice stores) the value is first reduced with fmod, so that absurd or
    infinite input ends instead of looping (almost) forever; NaN stays NaN."""
    if abs(d) > _WRAPD_LOOP_MAX:
        d = np.fmod(d, TAU)
    while d > PI:
        d -= TAU
    while d <= -PI:
        d += TAU
    return d


@kernel
def wrapd_fast(d: float) -> float:
    """``wrapd`` with one select per side when |d| ≤ 3π (differences of stored phases,
    which lie in [0, f32(2π)]); the loop otherwise. Same bits as ``wrapd``."""
    if abs(d) > _THREE_PI:
        return wrapd(d)
    d = d - TAU if d > PI else d
    return d + TAU if d <= -PI else d


@kernel
def wrapd_near(d: float) -> float:
    """``wrapd`` for |d| ≤ SPAN_MAX (< 3π): one exact ±2π step (Sterbenz) gives the
    loop's result; branch-free so that row loops vectorise."""
    d = d - TAU if d > PI else d
    return d + TAU if d <= -PI else d


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
