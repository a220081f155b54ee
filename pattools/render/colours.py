"""Colour maps and value → colour mapping, shared by every picture.

All maps are perceptually uniform and readable with the common colour-vision
deficiencies: ``twilight`` (cyclic) for angles, ``cividis`` for the energy field,
``viridis`` for sequential token fields, and ColorBrewer ``RdBu_r`` (diverging, centred
at 0, light at 0 so that "no effect" reads as background) for differences and the
three-valued chirality.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.render.backend import matplotlib

TWO_PI = 2.0 * math.pi
CYCLIC = "twilight"
ENERGY = "cividis"
SEQUENTIAL = "viridis"
DIVERGING = "RdBu_r"


def colormap(name: str):
    return matplotlib().colormaps[name]


def cyclic_unit(angles: np.ndarray, low: float) -> np.ndarray:
    """Angles as fractions of a turn from ``low``, in [0, 1)."""
    x = np.mod(np.asarray(angles, dtype=np.float64) - low, TWO_PI) / TWO_PI
    return np.where(x >= 1.0, 0.0, x)  # mod can round up to exactly one turn


def linear_unit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values mapped linearly from [low, high] to [0, 1], clipped."""
    span = high - low if high > low else 1.0
    return np.clip((np.asarray(values, dtype=np.float64) - low) / span, 0.0, 1.0)


def rgba(name: str, unit: np.ndarray) -> np.ndarray:
    """uint8 RGBA of values in [0, 1] through colour map ``name`` (its 256-entry table)."""
    return colormap(name)(unit, bytes=True)


def value_range(values: np.ndarray) -> tuple[float, float]:
    """(min, max) of finite values, widened when flat so a colour bar still has a span."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if hi > lo:
        return lo, hi
    pad = max(abs(lo) * 0.05, 1e-6)
    return lo - pad, hi + pad


def symmetric_range(values: np.ndarray, floor: float) -> tuple[float, float]:
    """(−m, m) with m = max |value| (at least ``floor``): diverging maps centred at 0."""
    m = float(np.max(np.abs(values))) if np.size(values) else 0.0
    m = max(m, floor)
    return -m, m
