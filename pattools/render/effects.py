"""Edit-effect pictures from a base and an edited replay (spec of pat-score's window).

Per drift feature (pattools.score.features: rho, entropyRate, gradPhi, kappa, phi_gf
(circular difference), defects, energy) the map of edited − base per patch, averaged over
the evaluation window (the edit's first target frame to the end, or ``window``), on a
diverging colour map centred at 0 with the intents' regions outlined; and the time series
of each intent's region mean of its feature, base against edited, over all frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.edit.dpat import EditPackage
from pattools.edit.intents import Intent, intent_from_record
from pattools.edit.regions import Grid, Regions, intent_mask
from pattools.errors import DataError
from pattools.render import colours
from pattools.render.panels import Panels, Scale
from pattools.render.pictures import PANEL_PX, patch_cells
from pattools.score.evaluate import window_frames
from pattools.score.features import DRIFT_FEATURES, FEATURES, INTENT_FEATURE, SCORED_FEATURES, difference, feature_matrix
from pattools.score.sequences import Sequence

BASE_COLOUR, EDITED_COLOUR = "#E69F00", "#0072B2"  # Okabe–Ito orange and blue
LINE_STYLES = ("solid", "dashed", "dotted", "dashdot")  # one per intent, in order
LINE_MARKS = ("——", "– –", "···", "–·")  # how the header names them


@dataclass
class EffectCase:
    """One edited sequence with its base, edit, window and regions, ready to draw."""

    base: Sequence
    edited: Sequence
    edit: EditPackage | None
    grid: Grid
    frames: list[int]  # the evaluation window
    intents: list[Intent]
    masks: list[np.ndarray]  # per intent, over token indices of the grid

    @property
    def label(self) -> str:
        return f"seed {self.edited.seed}" + (f" · edit {self.edit.id}" if self.edit is not None else "")


def _edit_for(seq: Sequence, edits: list[EditPackage]) -> EditPackage | None:
    ids = {b.get("editId") for b in seq.replays if isinstance(b, dict) and b.get("editId")}
    named = [e for e in edits if e.seed == seq.seed and e.id in ids]
    mine = named or [e for e in edits if e.seed == seq.seed]
    if len(mine) > 1:
        raise DataError(f"{len(mine)} edits for seed {seq.seed} and the replay names none of them",
                        input=seq.input, path="replay.editId")
    return mine[0] if mine else None


def _window(seq: Sequence, edit: EditPackage | None, window) -> list[int]:
    if edit is not None or window is not None:
        return window_frames(seq, edit, window) if edit is not None else [
            f for f in seq.frames if (window[0] is None or f >= window[0]) and (window[1] is None or f < window[1])]
    steered = [f for f, b in zip(seq.frames, seq.replays) if isinstance(b, dict) and b.get("editId")]
    start = steered[0] if steered else seq.frames[0]
    return [f for f in seq.frames if f >= start]


def effect_cases(base: list[Sequence], edited: list[Sequence], edits: list[EditPackage],
                 regions: Regions | None, window) -> list[EffectCase]:
    """Pair each edited sequence with its base (same seed, sim and frames) and its edit."""
    bases = {seq.seed: seq for seq in base}
    cases = []
    for seq in edited:
        b = bases.get(seq.seed)
        if b is None:
            raise DataError(f"the base replay has no sequence for seed {seq.seed}", input=seq.input, path="seed")
        if b.sim != seq.sim:
            raise DataError("the edited replay's sim block differs from the base replay's", input=seq.input,
                            path="sim")
        if b.frames != seq.frames:
            raise DataError("the edited and base replays hold different frames", input=seq.input, path="frame")
        edit = _edit_for(seq, edits)
        grid = Grid(int(seq.sim["W"]), int(seq.sim["H"]), int(seq.sim["scale"]))
        frames = _window(seq, edit, window)
        if not frames:
            raise DataError("the evaluation window holds no frame", input=seq.input, path="frame")
        intents = [intent_from_record(r) for r in (edit.intents or [])] if edit is not None else []
        masks = [intent_mask(i, grid, regions) for i in intents]
        cases.append(EffectCase(b, seq, edit, grid, frames, intents, masks))
    return cases


def _describe(intent: Intent) -> str:
    return intent.clause or f"{intent.verb} {intent.feature} {intent.region.text()}"


def _features(seq: Sequence, frame: int, grid: Grid) -> np.ndarray:
    """float64[grid.count, features] of one frame, in grid order (NaN for missing patches)."""
    k = seq.frame(frame)
    tokens = seq.tokens[k]
    return _in_grid_order(tokens.patch_ids, feature_matrix(tokens, seq.patch_defects[k]), grid)


def _region_values(seq: Sequence, frame: int, grid: Grid, feature: str) -> np.ndarray:
    """float64[grid.count] of one feature (or chirality, which a flip steers) in grid order."""
    if feature == "chirality":
        tokens = seq.tokens[seq.frame(frame)]
        return _in_grid_order(tokens.patch_ids, tokens.topo[:, 1:2].astype(np.float64), grid)[:, 0]
    return _features(seq, frame, grid)[:, SCORED_FEATURES.index(feature)]


def _in_grid_order(patch_ids: list[str], values: np.ndarray, grid: Grid) -> np.ndarray:
    out = np.full((grid.count, values.shape[1]), np.nan)
    for row, pid in enumerate(patch_ids):
        x0, y0 = (int(p) for p in pid.split(",")[:2])
        index = grid.index(x0, y0)
        if index is not None:
            out[index] = values[row]
    return out


def _mean(values: np.ndarray, feature: str) -> float:
    """The mean of a region's values; circular (the angle of the mean unit vector) for angles."""
    values = values[np.isfinite(values)]
    period = FEATURES[feature][3] if feature in FEATURES else 0.0
    if not values.size:
        return float("nan")
    if period:
        angle = values * (2 * np.pi / period)
        return float(np.arctan2(np.sin(angle).mean(), np.cos(angle).mean()) * period / (2 * np.pi))
    return float(values.mean())


def mean_effects(case: EffectCase) -> np.ndarray:
    """float64[grid.count, len(SCORED_FEATURES)]: edited − base averaged over the window."""
    diffs = [difference(_features(case.edited, f, case.grid), _features(case.base, f, case.grid))
             for f in case.frames]
    return np.mean(np.stack(diffs), axis=0)


def outline_segments(mask: np.ndarray, grid: Grid, inset: float = 0.0) -> list:
    """Cell-coordinate segments along the border of the patches in ``mask``, moved ``inset``
    cells inwards (so that the outlines of regions sharing a border, or the grid's edge,
    stay visible)."""
    m = mask.reshape(grid.ny, grid.nx)
    s, W, H, d = grid.scale, grid.W, grid.H, inset
    segments = []
    for py, px in zip(*np.nonzero(m)):
        x0, y0, x1, y1 = px * s, py * s, min(W, (px + 1) * s), min(H, (py + 1) * s)
        if py == 0 or not m[py - 1, px]:
            segments.append(((x0, y0 + d), (x1, y0 + d)))
        if py == grid.ny - 1 or not m[py + 1, px]:
            segments.append(((x0, y1 - d), (x1, y1 - d)))
        if px == 0 or not m[py, px - 1]:
            segments.append(((x0 + d, y0), (x0 + d, y1)))
        if px == grid.nx - 1 or not m[py, px + 1]:
            segments.append(((x1 - d, y0), (x1 - d, y1)))
    return [tuple((float(a), float(b)) for a, b in seg) for seg in segments]


def effect_figure(case: EffectCase, dpi: float) -> Panels:
    """Small multiples of the mean effect of every drift feature."""
    effects = mean_effects(case)
    grid = case.grid
    panels = Panels(grid.W, grid.H, 2, 4, PANEL_PX, dpi)
    ids = grid.patch_ids()
    for k, name in enumerate(DRIFT_FEATURES):
        values = effects[:, SCORED_FEATURES.index(name)]
        cells = patch_cells(ids, values, grid.W, grid.H, grid.scale)
        lo, hi = colours.symmetric_range(values[np.isfinite(values)], FEATURES[name][2] * 1e-3)
        panels.show(k, cells, Scale(colours.DIVERGING, lo, hi, label=f"Δ {name}"), f"{name}: edited − base")
        for m, mask in enumerate(case.masks):
            inset = (m + 1) * max(grid.W, grid.H) / 160.0  # about 3 pixels per intent
            panels.outline(k, outline_segments(mask, grid, inset), LINE_STYLES[m % len(LINE_STYLES)])
    for k in range(len(DRIFT_FEATURES), 8):
        panels.hide(k)
    first, last = case.frames[0], case.frames[-1]
    regions = "; ".join(f"{LINE_MARKS[m % len(LINE_MARKS)]} {_describe(i)}" for m, i in enumerate(case.intents))
    panels.title(f"edit effect · {case.label} · mean over frames {first}–{last} ({len(case.frames)})\n"
                 + (f"outlined: {regions}" if regions else f"grid {grid.W}×{grid.H} · patches {grid.scale}"))
    return panels


def series(case: EffectCase) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(title, feature, base means, edited means) per intent (or per drift feature over the
    whole grid when the edit names no intent), one value per frame."""
    rows = [(_describe(i), "chirality" if i.verb == "flip" else INTENT_FEATURE.get(i.feature, "rho"), m)
            for i, m in zip(case.intents, case.masks)]
    if not rows:
        everywhere = np.ones(case.grid.count, dtype=bool)
        rows = [(f"{name} (whole grid)", name, everywhere) for name in DRIFT_FEATURES]
    out = []
    for title, feature, mask in rows:
        b = [_mean(_region_values(case.base, f, case.grid, feature)[mask], feature) for f in case.base.frames]
        e = [_mean(_region_values(case.edited, f, case.grid, feature)[mask], feature) for f in case.edited.frames]
        out.append((title, feature, np.array(b), np.array(e)))
    return out
