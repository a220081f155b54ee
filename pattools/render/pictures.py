"""The per-frame pictures: phase field, energy field and token patch maps.

A ``Painter`` keeps one figure per picture kind and grid (pattools.render.panels) and
redraws it for every frame, so only the first picture of a run pays for the layout.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.render import colours
from pattools.render.lattice import FieldFrame
from pattools.render.panels import Panels, Scale
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame

KINDS = ("phase", "energy", "tokens")
FIELD_PX = 512  # the longer side of a field picture at 100 dpi (whole-cell zoom, at least 1)
PANEL_PX = 256  # the longer side of one small-multiple panel

PI_TICKS = (0.0, math.pi / 2, math.pi, 1.5 * math.pi, 2 * math.pi)
PI_LABELS = ("0", "π/2", "π", "3π/2", "2π")
PHASE = Scale(colours.CYCLIC, 0.0, colours.TWO_PI, cyclic=True, ticks=PI_TICKS, ticklabels=PI_LABELS,
              label="phase θ (rad, mod 2π)", fixed=True)

# token panel: (column, group, title, scale or None for the frame's own range)
TOKEN_PANELS = (
    ("rho", "stats", "coherence ρ", Scale(colours.SEQUENTIAL, 0.0, 1.0, label="rho", fixed=True)),
    ("entropyRate", "stats", "entropy rate", Scale(colours.SEQUENTIAL, 0.0, 1.0, label="entropyRate", fixed=True)),
    ("gradPhi", "geom", "phase gradient |∇φ|", None),
    ("kappa", "geom", "curvature κ", None),
    ("phi_gf", "geom", "phase φ_gf (rad)", Scale(colours.CYCLIC, -math.pi, math.pi, cyclic=True,
                                                   ticks=tuple(t - math.pi for t in PI_TICKS),
                                                   ticklabels=("−π", "−π/2", "0", "π/2", "π"), label="phi_gf",
                                                   fixed=True)),
    ("chirality", "topo", "chirality", None),
)


def chirality_scale() -> Scale:
    """Three colours of the diverging map for −1, 0, +1."""
    base = colours.colormap(colours.DIVERGING)  # loads matplotlib (or says how to install it)
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(base([0.1, 0.5, 0.9]), name="chirality")
    return Scale(cmap, -1.5, 1.5, ticks=(-1.0, 0.0, 1.0), ticklabels=("−1", "0", "+1"), label="chirality", fixed=True)


def patch_cells(patch_ids: list[str], values: np.ndarray, W: int, H: int, scale: int) -> np.ndarray:
    """H × W float64: every cell holds its patch's value (NaN where no token covers it).

    Patches are placed by their ids ("x0,y0,scale"), so any token order draws right."""
    nx, ny = -(-W // scale), -(-H // scale)
    grid = np.full((ny, nx), np.nan)
    for pid, value in zip(patch_ids, values.tolist()):
        x0, y0 = (int(p) for p in pid.split(",")[:2])
        if 0 <= x0 < W and 0 <= y0 < H:
            grid[y0 // scale, x0 // scale] = value
    return grid.repeat(scale, axis=0)[:H].repeat(scale, axis=1)[:, :W]


def token_column(tokens: TokenFrame, column: str, group: str) -> np.ndarray:
    if group == "stats":
        return tokens.stats[:, STATS_FIELDS.index(column)]
    if group == "geom":
        return tokens.geom[:, GEOM_FIELDS.index(column)]
    return tokens.topo[:, TOPO_FIELDS.index(column)].astype(np.float64)


def frame_title(kind: str, frame: FieldFrame, extra: str = "") -> str:
    line1 = f"{kind} · seed {frame.seed} · frame {frame.frame}"
    line2 = f"t = {frame.t:.6g} · grid {frame.W}×{frame.H}{extra}"
    if frame.edit_id is not None:
        line2 += f" · steered by edit {frame.edit_id}"
    elif frame.after_edit is not None:
        line2 += f" · after edit {frame.after_edit}"
    return f"{line1}\n{line2}"


class Painter:
    """Draws FieldFrames as encoded pictures; one figure per (kind, grid), reused."""

    def __init__(self, dpi: float = 100.0, fmt: str = "png") -> None:
        self.dpi = dpi
        self.fmt = fmt
        self._figures: dict[tuple, Panels] = {}
        self._chirality = chirality_scale()

    def _panels(self, kind: str, W: int, H: int) -> Panels:
        key = (kind, W, H)
        if key not in self._figures:
            if kind == "tokens":
                self._figures[key] = Panels(W, H, 2, 3, PANEL_PX, self.dpi)
            else:
                self._figures[key] = Panels(W, H, 1, 1, FIELD_PX, self.dpi)
        return self._figures[key]

    def draw(self, kind: str, frame: FieldFrame) -> Panels:
        """The figure of one picture kind, drawn for ``frame`` (not yet encoded)."""
        panels = self._panels(kind, frame.W, frame.H)
        if kind == "phase":
            panels.show(0, frame.phases, PHASE, "")
            panels.title(frame_title("phase θ", frame))
        elif kind == "energy":
            lo, hi = colours.value_range(frame.energy)
            panels.show(0, frame.energy, Scale(colours.ENERGY, lo, hi, label="energy E"), "")
            panels.title(frame_title("energy E", frame))
        else:
            self._tokens(panels, frame)
        return panels

    def picture(self, kind: str, frame: FieldFrame) -> bytes:
        return self.draw(kind, frame).encode(self.fmt)

    def _tokens(self, panels: Panels, frame: FieldFrame) -> None:
        scale = int(frame.sim["scale"])
        for k, (column, group, title, fixed) in enumerate(TOKEN_PANELS):
            cells = patch_cells(frame.tokens.patch_ids, token_column(frame.tokens, column, group), frame.W, frame.H, scale)
            if fixed is not None:
                sc = fixed
            elif column == "chirality":
                sc = self._chirality
            else:
                finite = cells[np.isfinite(cells)]
                hi = float(finite.max()) if finite.size else 1.0
                sc = Scale(colours.SEQUENTIAL, 0.0, hi if hi > 0 else 1.0, label=column)
            panels.show(k, cells, sc, title)
        panels.title(frame_title("tokens", frame, f" · patches {scale}×{scale}"))
