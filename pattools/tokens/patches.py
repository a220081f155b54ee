"""Patch geometry of a token frame (docs/tokens.md §1 step 3).

Patches tile the grid row by row: y0 = 0, scale, … < H (outer), x0 = 0, scale, … < W
(inner); a patch is [x0, min(W, x0+scale)) × [y0, min(H, y0+scale)), so edge patches
may be partial. Token order is this loop order; the patch id is "x0,y0,scale".
"""

from __future__ import annotations

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.tokens.frame import TOKEN_SCALES, patch_id


def check_scale(scale: int) -> int:
    """The scale as an int, or a DataError when it is not one of 8, 16, 32, 64."""
    if isinstance(scale, bool) or int(scale) != scale or int(scale) not in TOKEN_SCALES:
        raise DataError(expected_found("scale 8, 16, 32 or 64", scale), path="scale")
    return int(scale)


def patch_counts(W: int, H: int, scale: int) -> tuple[int, int]:
    """(patches per row, patch rows)."""
    s = check_scale(scale)
    return (int(W) + s - 1) // s, (int(H) + s - 1) // s


def patch_grid(W: int, H: int, scale: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x0, y0, x1, y1) int64 arrays in token order; x1, y1 exclusive."""
    s = check_scale(scale)
    nx, ny = patch_counts(W, H, s)
    x0 = np.tile(np.arange(nx, dtype=np.int64) * s, ny)
    y0 = np.repeat(np.arange(ny, dtype=np.int64) * s, nx)
    x1 = np.minimum(int(W), x0 + s)
    y1 = np.minimum(int(H), y0 + s)
    return x0, y0, x1, y1


def patch_ids(W: int, H: int, scale: int) -> list[str]:
    """Patch ids "x0,y0,scale" in token order."""
    x0, y0, _, _ = patch_grid(W, H, scale)
    s = check_scale(scale)
    return [patch_id(a, b, s) for a, b in zip(x0.tolist(), y0.tolist())]


def patch_index(W: int, H: int, scale: int) -> np.ndarray:
    """int32[W·H]: for each cell (row-major), the token row of the patch holding it."""
    s = check_scale(scale)
    nx, _ = patch_counts(W, H, s)
    px = np.arange(int(W), dtype=np.int32) // s
    py = np.arange(int(H), dtype=np.int32) // s
    return (py[:, None] * np.int32(nx) + px[None, :]).astype(np.int32).reshape(-1)
