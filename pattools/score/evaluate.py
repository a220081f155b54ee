"""Score one edit: base replay B, edited replay E (and optionally a second edited replay
E2), the edit package, and the original frames the edit applies to → one PAT_SCORE.

Steps (docs/score.md):
1. evaluation window: from the edit's first target frame to the end (or ``window``);
2. intents' regions → token masks (recorded ``patches``, else resolved on the grid);
3. effective deltas: the edit applied to the reference frames (the original when given,
   else B); none → every score is exactly 0;
4. features of B and E over the window → faithfulness, drift, EditReward;
5. determinism RMSE between E and E2 (``None`` when not measured);
6. edit size (mean L1 of applied rvq deltas per edited token) and TokenAtlas figures of
   B and E over the window, their deltas and ``healthy``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pattools.edit.apply import apply_target
from pattools.edit.bounds import Bounds
from pattools.edit.dpat import EditPackage
from pattools.edit.intents import Intent, intent_from_record
from pattools.edit.regions import Grid, Regions, intent_mask
from pattools.errors import DataError
from pattools.replay.verify import squared_differences
from pattools.score.features import feature_matrix
from pattools.score.reward import FeatureCube, Reward, background_mask, edit_reward
from pattools.score.sequences import Sequence
from pattools.tokens.atlas import Atlas, AtlasByLength

HEALTHY_PERPLEXITY_BAND = 0.5


@dataclass(frozen=True)
class ScoreSettings:
    lam: float = 1.0  # λ of editReward = faithfulness − λ·drift
    halo: int = 0  # rings of neighbours also excluded from the background
    window: tuple[int | None, int | None] | None = None  # frames A:B (default first target:)


def _f(x: float) -> float:
    return float(x) + 0.0


def window_frames(seq: Sequence, edit: EditPackage, window) -> list[int]:
    """Frames of the evaluation window present in ``seq``."""
    if window is not None:
        start, stop = window
    else:
        start = min((t.frame for t in edit.targets), default=None)
        stop = None
        if start is None:
            return []
    return [f for f in seq.frames if (start is None or f >= start) and (stop is None or f < stop)]


def _cube(seq: Sequence, frames: list[int], rows: np.ndarray) -> FeatureCube:
    values, chir = [], []
    for f in frames:
        k = seq.frame(f)
        tokens = seq.tokens[k]
        values.append(feature_matrix(tokens, seq.patch_defects[k])[rows])
        chir.append(tokens.topo[rows, 1])
    if not frames:
        return FeatureCube(np.zeros((0, len(rows), 1)), np.zeros((0, len(rows)), dtype=np.int64))
    return FeatureCube(np.stack(values), np.stack(chir))


def _grid_rows(seq: Sequence, grid: Grid, where: str) -> np.ndarray:
    """Token row of every grid patch in the sequence's frames (same layout in all frames)."""
    ids = grid.patch_ids()
    first = seq.tokens[0]
    rows = np.array([-1 if (r := first.index_of(p)) is None else r for p in ids], dtype=np.int64)
    if (rows < 0).any():
        missing = ids[int(np.flatnonzero(rows < 0)[0])]
        raise DataError(f"{where} has no token for patch {missing} of the {grid.describe()}", input=seq.input)
    for k, tokens in enumerate(seq.tokens):
        if tokens.patch_ids != first.patch_ids:
            raise DataError(f"{where}: frame {seq.frames[k]} has another token layout than frame {seq.frames[0]}",
                            input=seq.input)
    return rows


@dataclass
class Applied:
    effective: bool
    edited_tokens: int
    edit_size: float


def applied_deltas(edit: EditPackage, reference: Sequence) -> Applied:
    """Effective deltas of the edit on the reference frames (saturation etc. included)."""
    touched = 0
    l1 = 0
    effective = False
    bounds = Bounds.unbounded()
    for target in edit.targets:
        k = reference.frame(target.frame)
        if k is None:
            raise DataError(f"the edit targets frame {target.frame}, which the reference frames lack",
                            input=reference.input, path="targets")
        result = apply_target(reference.tokens[k], target.batch, bounds)
        for dp in result.applied:
            values = [v for group in ("stats", "geom", "topo") for v in dp.get(group, {}).values()]
            codes = dp.get("code", {}).get("rvqDelta", [])
            if any(v != 0 for v in values) or any(codes):
                effective = True
                touched += 1
                l1 += sum(abs(c) for c in codes)
    return Applied(effective, touched, _f(l1 / touched) if touched else 0.0)


def _atlas(seq: Sequence, frames: list[int]) -> dict | None:
    atlases = AtlasByLength()
    for f in frames:
        tokens = seq.tokens[seq.frame(f)]
        if tokens.rvq is None:
            return None
        atlases.add_frame(tokens)
    atlas = atlases.main()
    fig = (atlas or Atlas()).figures()
    return {"usage": fig["usage"], "perplexity": fig["perplexity"], "jointPerplexity": fig["jointPerplexity"]}


def atlas_block(base: Sequence, edited: Sequence, frames: list[int]) -> dict | None:
    b, e = _atlas(base, frames), _atlas(edited, frames)
    if b is None or e is None or not frames:
        return None
    delta = {
        "usage": [_f(x - y) for x, y in zip(e["usage"], b["usage"])],
        "perplexity": [_f(x - y) for x, y in zip(e["perplexity"], b["perplexity"])],
        "jointPerplexity": _f(e["jointPerplexity"] - b["jointPerplexity"]),
    }
    healthy = all(abs(d) <= HEALTHY_PERPLEXITY_BAND for d in delta["perplexity"])
    return {"base": b, "edited": e, "delta": delta, "healthy": healthy}


def determinism_rmse(a: Sequence, b: Sequence) -> float:
    """RMSE over all numeric token fields (circular for angles) between two replays."""
    if a.frames != b.frames:
        return math.inf
    total, count = 0.0, 0
    for x, y in zip(a.tokens, b.tokens):
        sq, n = squared_differences(x, y)
        total += sq
        count += n
    return _f(math.sqrt(total / count)) if count else 0.0


def _check_pair(base: Sequence, edited: Sequence, edit: EditPackage, grid: Grid) -> None:
    for name, seq in (("base replay", base), ("edited replay", edited)):
        if seq.seed != edit.seed:
            raise DataError(f"{name} is seed {seq.seed}, the edit is for seed {edit.seed}", input=seq.input,
                            path="seed")
        g = (seq.sim.get("W"), seq.sim.get("H"), seq.sim.get("scale"))
        if g != (grid.W, grid.H, grid.scale):
            raise DataError(f"{name} grid {g[0]}x{g[1]}/{g[2]} differs from the edit's "
                            f"{grid.W}x{grid.H}/{grid.scale}", input=seq.input, path="sim")


def score_edit(
    base: Sequence,
    edited: Sequence,
    edit: EditPackage,
    *,
    reference: Sequence | None = None,
    edited2: Sequence | None = None,
    regions: Regions | None = None,
    settings: ScoreSettings = ScoreSettings(),
) -> dict:
    """The PAT_SCORE record of one edit (see the module docstring)."""
    grid = Grid(int(edit.sim["W"]), int(edit.sim["H"]), int(edit.sim["scale"]))
    _check_pair(base, edited, edit, grid)
    frames = window_frames(base, edit, settings.window)
    missing = [f for f in frames if edited.frame(f) is None]
    if missing:
        raise DataError(f"the edited replay lacks frame {missing[0]} of the evaluation window", input=edited.input)
    rows = _grid_rows(base, grid, "base replay")
    erows = _grid_rows(edited, grid, "edited replay")
    intents: list[Intent] = [intent_from_record(r) for r in (edit.intents or [])]
    masks = [intent_mask(i, grid, regions) for i in intents]
    applied = applied_deltas(edit, reference if reference is not None else base)
    touched = _touched_mask(edit, grid)
    background = background_mask(masks, grid.dilate, settings.halo, touched)
    reward: Reward = edit_reward(_cube(base, frames, rows), _cube(edited, frames, erows), intents, masks,
                                 background, settings.lam, applied.effective)
    record: dict = {"kind": "PAT_SCORE", "version": 1, "scope": "edit", "edit": edit.id, "seed": edit.seed}
    if edit.prompt is not None:
        record["prompt"] = edit.prompt
    decoder = _decoder(edited)
    if decoder is not None:
        record["decoder"] = decoder
    record.update({
        "window": {"start": frames[0] if frames else None, "stop": frames[-1] + 1 if frames else None,
                   "frames": len(frames)},
        "lambda": _f(settings.lam),
        "halo": settings.halo,
        "faithfulness": reward.faithfulness,
        "drift": reward.drift,
        "editReward": reward.edit_reward,
        "intents": [s.to_record() for s in reward.intents],
        "driftByFeature": reward.drift_by_feature,
        "backgroundPatches": reward.background_patches,
        "effective": applied.effective,
        "editedTokens": applied.edited_tokens,
        "editSize": applied.edit_size,
        "determinismRMSE": None if edited2 is None else determinism_rmse(edited, edited2),
        "atlas": atlas_block(base, edited, frames),
    })
    return record


def _touched_mask(edit: EditPackage, grid: Grid) -> np.ndarray:
    mask = np.zeros(grid.count, dtype=bool)
    for target in edit.targets:
        for pid in target.batch.patch_ids:
            parts = pid.split(",")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                k = grid.index(int(parts[0]), int(parts[1]))
                if k is not None:
                    mask[k] = True
    return mask


def _decoder(seq: Sequence) -> str | None:
    for block in seq.replays:
        if isinstance(block, dict) and isinstance(block.get("decoder"), str):
            return block["decoder"]
    return None
