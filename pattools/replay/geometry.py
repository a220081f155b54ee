"""Where a token's field contribution goes: splat centres, σ and blur radius.

docs/tokens.md §3 step 1–3: ``σ = max(2, round(0.5·scale))``, blur radius
``r = max(2, round(0.75·σ))``; a patchId ``x0,y0[,sc]`` is clamped to the grid, ``sc`` is
its third part when that is a token scale, else the frame's scale, and the centre is
``(min(W−1, x0 + ⌊sc/2⌋), min(H−1, y0 + ⌊sc/2⌋))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pattools.errors import DataError
from pattools.tokens.frame import TOKEN_SCALES


def round_half_up(value: float) -> int:
    """JavaScript ``Math.round`` for the non-negative values used here."""
    return int(math.floor(value + 0.5))


def splat_sigma(scale: int) -> int:
    return max(2, round_half_up(0.5 * scale))


def blur_radius(sigma: int) -> int:
    return max(2, round_half_up(0.75 * sigma))


@dataclass(frozen=True)
class SplatGeometry:
    """Centres of the tokens of one frame, in token order."""

    cx: np.ndarray  # int64[T]
    cy: np.ndarray  # int64[T]
    sigma: int
    radius: int


def _parse_patch_id(pid: str, index: int) -> tuple[int, int, int | None]:
    parts = pid.split(",")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        numbers = [int(p) for p in parts]
    except ValueError:
        raise DataError(
            f"expected patchId 'x0,y0[,scale]', got {pid!r}", path=f"tokens[{index}].hdr.patchId"
        ) from None
    return numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None


@lru_cache(maxsize=64)
def _geometry(patch_ids: tuple[str, ...], width: int, height: int, scale: int) -> SplatGeometry:
    count = len(patch_ids)
    cx = np.empty(count, dtype=np.int64)
    cy = np.empty(count, dtype=np.int64)
    for i, pid in enumerate(patch_ids):
        x0, y0, sc = _parse_patch_id(pid, i)
        x0 = min(max(x0, 0), width - 1)
        y0 = min(max(y0, 0), height - 1)
        size = sc if sc in TOKEN_SCALES else scale
        cx[i] = min(width - 1, x0 + size // 2)
        cy[i] = min(height - 1, y0 + size // 2)
    cx.setflags(write=False)
    cy.setflags(write=False)
    sigma = splat_sigma(scale)
    return SplatGeometry(cx, cy, sigma, blur_radius(sigma))


def splat_geometry(patch_ids: list[str], width: int, height: int, scale: int) -> SplatGeometry:
    """Splat centres of these tokens (cached: a sequence repeats one patch layout)."""
    return _geometry(tuple(patch_ids), width, height, scale)
