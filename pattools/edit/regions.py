"""Regions of the patch grid named by prompts (docs/editing.md §4).

The grid is the frame's patch layout (docs/tokens.md §1): nx × ny patches of ``scale``
pixels (edge patches may be smaller), patch (px, py) has origin (px·scale, py·scale),
id ``"x0,y0,scale"`` and token index py·nx + px. A region is a sorted array of token
indices. Built-in regions:

- rim: px or py on the outer ring; everywhere: all patches;
- centre: patches whose pixel centre lies in the closed middle third of the grid on
  both axes (exact integer comparison);
- left/right/top/bottom half: px < ⌊nx/2⌋, px ≥ ⌈nx/2⌉, py < ⌊ny/2⌋, py ≥ ⌈ny/2⌉
  (the middle column/row of an odd grid belongs to neither); top-left etc. = the
  intersection of two halves;
- ``patch x,y``: the patch whose origin is pixel (x, y);
- named regions from a regions file: ``{name: [patchId | "x,y" | {x, y, w, h}, ...]}``,
  a rectangle meaning every patch that overlaps it;
- ``near X``: X plus its 8-neighbour patches (no wrap-around: regions describe the
  picture, not the torus).

An empty region, an unknown name or a patch that is not on the grid is a data error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.edit.intents import Intent, RegionRef


@dataclass(frozen=True)
class Grid:
    """The patch grid of a W×H frame tokenised at ``scale``."""

    W: int
    H: int
    scale: int

    @property
    def nx(self) -> int:
        return -(-self.W // self.scale)

    @property
    def ny(self) -> int:
        return -(-self.H // self.scale)

    @property
    def count(self) -> int:
        return self.nx * self.ny

    def px_py(self) -> tuple[np.ndarray, np.ndarray]:
        """Patch column and row of every token index."""
        k = np.arange(self.count)
        return k % self.nx, k // self.nx

    def patch_ids(self) -> list[str]:
        px, py = self.px_py()
        s = self.scale
        return [f"{x * s},{y * s},{s}" for x, y in zip(px.tolist(), py.tolist())]

    def index(self, x0: int, y0: int) -> int | None:
        """Token index of the patch with pixel origin (x0, y0), or None."""
        s = self.scale
        if x0 % s or y0 % s or not (0 <= x0 < self.W) or not (0 <= y0 < self.H):
            return None
        return (y0 // s) * self.nx + x0 // s

    def describe(self) -> str:
        return f"{self.nx}×{self.ny} grid (scale {self.scale})"

    def dilate(self, mask: np.ndarray, rings: int = 1) -> np.ndarray:
        """The mask plus its 8-neighbour patches, ``rings`` times (no wrap)."""
        m = mask.reshape(self.ny, self.nx).copy()
        for _ in range(rings):
            out = m.copy()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ys = slice(max(0, dy), self.ny + min(0, dy))
                    yd = slice(max(0, -dy), self.ny + min(0, -dy))
                    xs = slice(max(0, dx), self.nx + min(0, dx))
                    xd = slice(max(0, -dx), self.nx + min(0, -dx))
                    out[yd, xd] |= m[ys, xs]
            m = out
        return m.reshape(-1)


def _builtin_mask(grid: Grid, name: str) -> np.ndarray:
    px, py = grid.px_py()
    nx, ny, s = grid.nx, grid.ny, grid.scale
    left, right = px < nx // 2, px >= -(-nx // 2)
    top, bottom = py < ny // 2, py >= -(-ny // 2)
    if name == "everywhere":
        return np.ones(grid.count, dtype=bool)
    if name == "rim":
        return (px == 0) | (py == 0) | (px == nx - 1) | (py == ny - 1)
    if name == "centre":
        # twice the pixel centre: 2·x0 + width; middle third: W/3 ≤ c ≤ 2W/3
        cx2 = 2 * px * s + np.minimum(s, grid.W - px * s)
        cy2 = 2 * py * s + np.minimum(s, grid.H - py * s)
        inx = (3 * cx2 >= 2 * grid.W) & (3 * cx2 <= 4 * grid.W)
        iny = (3 * cy2 >= 2 * grid.H) & (3 * cy2 <= 4 * grid.H)
        return inx & iny
    halves = {"left half": left, "right half": right, "top half": top, "bottom half": bottom}
    if name in halves:
        return halves[name]
    quadrants = {
        "top-left": top & left,
        "top-right": top & right,
        "bottom-left": bottom & left,
        "bottom-right": bottom & right,
    }
    if name in quadrants:
        return quadrants[name]
    raise DataError(f"unknown built-in region {name!r}")


class Regions:
    """Named regions from a regions file: name → list of patch ids or pixel rectangles."""

    def __init__(self, entries: dict[str, list] | None = None) -> None:
        self.entries: dict[str, list] = dict(entries or {})

    @classmethod
    def from_record(cls, record: object, input: str | None = None) -> "Regions":
        """Check the regions file's shape: ``{name: [patchId | "x,y" | {x,y,w,h}, ...]}``."""
        if not isinstance(record, dict):
            raise DataError(expected_found("object of named regions", record), input=input)
        for name, items in record.items():
            path = name
            if not isinstance(items, list):
                raise DataError(expected_found("array of patch ids or rectangles", items), input=input, path=path)
            for j, item in enumerate(items):
                _check_item(item, input, f"{path}[{j}]")
        return cls(record)

    def names(self) -> list[str]:
        return sorted(self.entries)

    def mask(self, name: str, grid: Grid) -> np.ndarray:
        out = np.zeros(grid.count, dtype=bool)
        for j, item in enumerate(self.entries[name]):
            path = f"{name}[{j}]"
            if isinstance(item, str):
                parts = item.split(",")
                x0, y0 = int(parts[0]), int(parts[1])
                if len(parts) == 3 and int(parts[2]) != grid.scale:
                    raise DataError(f"patch {item} is not on the {grid.describe()}", path=path)
                k = grid.index(x0, y0)
                if k is None:
                    raise DataError(f"patch {item} is not on the {grid.describe()}", path=path)
                out[k] = True
            else:
                px, py = grid.px_py()
                x0 = px * grid.scale
                y0 = py * grid.scale
                x1 = np.minimum(grid.W, x0 + grid.scale)
                y1 = np.minimum(grid.H, y0 + grid.scale)
                rx, ry, rw, rh = item["x"], item["y"], item["w"], item["h"]
                out |= (x0 < rx + rw) & (rx < x1) & (y0 < ry + rh) & (ry < y1)
        return out


def _check_item(item: object, input: str | None, path: str) -> None:
    if isinstance(item, str):
        parts = item.split(",")
        if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
            return
        raise DataError(expected_found('patch id "x0,y0[,scale]"', item), input=input, path=path)
    if isinstance(item, dict):
        for key in ("x", "y", "w", "h"):
            v = item.get(key)
            if isinstance(v, bool) or not isinstance(v, int):
                raise DataError(expected_found("integer", v), input=input, path=f"{path}.{key}")
            if key in ("w", "h") and v <= 0:
                raise DataError(expected_found("positive integer", v), input=input, path=f"{path}.{key}")
        extra = sorted(set(item) - {"x", "y", "w", "h"})
        if extra:
            raise DataError(f"unexpected key {extra[0]!r} (expected x, y, w, h)", input=input, path=path)
        return
    raise DataError(expected_found("patch id or {x, y, w, h} rectangle", item), input=input, path=path)


def region_mask(ref: RegionRef, grid: Grid, regions: Regions | None = None) -> np.ndarray:
    """Boolean mask over token indices; raises a DataError naming an empty/unknown region."""
    if ref.kind == "builtin":
        mask = _builtin_mask(grid, ref.place)
    elif ref.kind == "patch":
        assert ref.origin is not None
        k = grid.index(*ref.origin)
        if k is None:
            raise DataError(f"{ref.place} is not a patch origin on the {grid.describe()}")
        mask = np.zeros(grid.count, dtype=bool)
        mask[k] = True
    else:
        if regions is None or ref.place not in regions.entries:
            where = "not in the regions file" if regions is not None else "no regions file given"
            raise DataError(f'unknown region "{ref.place}" ({where})')
        mask = regions.mask(ref.place, grid)
    if ref.near:
        mask = grid.dilate(mask)
    if not mask.any():
        raise DataError(f'region "{ref.text()}" is empty on the {grid.describe()}')
    return mask


def resolve_intent(intent: Intent, grid: Grid, regions: Regions | None = None) -> Intent:
    """The intent with ``patches`` filled in; a DataError quoting the clause otherwise."""
    try:
        mask = region_mask(intent.region, grid, regions)
    except DataError as exc:
        raise DataError(f'clause "{intent.clause}": {exc.message}', path="prompt") from None
    ids = grid.patch_ids()
    patches = tuple(ids[k] for k in np.flatnonzero(mask).tolist())
    return Intent(
        intent.verb, intent.feature, intent.region, intent.magnitude, intent.amount, intent.clause, patches
    )


def intent_mask(intent: Intent, grid: Grid, regions: Regions | None = None) -> np.ndarray:
    """Token mask of an intent: from its recorded patches when present, else resolved."""
    if intent.patches is None:
        return region_mask(intent.region, grid, regions)
    mask = np.zeros(grid.count, dtype=bool)
    for pid in intent.patches:
        parts = pid.split(",")
        k = grid.index(int(parts[0]), int(parts[1])) if len(parts) >= 2 and all(p.isdigit() for p in parts) else None
        if k is None:
            raise DataError(f"intent patch {pid} is not on the {grid.describe()}", path="intents")
        mask[k] = True
    return mask
