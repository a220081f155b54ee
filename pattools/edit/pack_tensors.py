"""The tensors of ``pat-pack --format npz``: arrays a trainer can use as they are
(docs/editing.md §3, layout ``pat-pack-npz/2``).

Why this layout: the first one gave raw angles (a wrap at ±π looks like a jump of 2π),
codes as floats, no patch geometry or region masks, and no normalisation statistics (five
features are constant on exported frames, so z-scoring divided by zero). Here every
record is R, input frames K, horizon frames H, patches P, intents I:

- ``inputs`` float32[R,K,P,F] in the order of ``features``: geom.A, phi_gf as (cos, sin),
  theta (an orientation, period π) as (cos 2θ, sin 2θ), gradPhi, kappa, the seven stats,
  topo.vortex, topo.chirality; ``input_codes`` int8[R,K,P,D];
- ``feature_mean``, ``feature_std`` float32[F] over every input slot of the **training**
  records only (split "train"); a constant feature gets std 1 and ``feature_constant``;
  ``stats_records`` says how many records they come from (0: mean 0, std 1);
- ``patch_ids`` str[P], ``patch_coords`` int32[P,2] (x0, y0), ``patch_size`` int32[P,2]
  (width, height: edge patches can be smaller), ``patch_partial`` bool[P], ``patch_mask``
  bool[R,P] (True for a real patch; every record of an archive has one layout, so all True);
- ``target_deltas`` float32[R,H,P,G] summed per patch in the order of
  ``target_features`` (the edit's own fields: geom, stats, topo; angle deltas are wrapped
  differences in radians), ``target_mask`` bool[R,H,P,G] (named by a DPat),
  ``target_codes`` int8[R,H,P,D], ``target_code_mask`` bool[R,H,P];
- ``intent_verbs``, ``intent_features``, ``intent_regions`` str[R,I] ('' padding),
  ``intent_mask`` bool[R,I], ``region_masks`` bool[R,I,P] (the record's intents, else the
  prompt's clauses that parse on the grid);
- ``ids``, ``prompts``, ``splits`` str[R]; ``seeds``, ``edit_frames`` int64[R];
  ``input_frames`` int64[R,K]; ``target_frames`` int64[R,H]; ``sims`` str[R] (each
  record's sim block as JSON text); ``layout`` str.
No member needs pickle.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pattools.edit.intents import intent_from_record
from pattools.edit.pack import DEFAULT_SPLIT, PackedWindow
from pattools.edit.regions import Grid, intent_mask
from pattools.errors import DataError
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame

LAYOUT = "pat-pack-npz/2"
INPUT_FEATURES: tuple[str, ...] = (
    ("geom.A", "geom.phi_gf.cos", "geom.phi_gf.sin", "geom.theta.cos2", "geom.theta.sin2", "geom.gradPhi",
     "geom.kappa") + tuple(f"stats.{n}" for n in STATS_FIELDS) + tuple(f"topo.{n}" for n in TOPO_FIELDS))
TARGET_FEATURES: tuple[str, ...] = (tuple(f"geom.{n}" for n in GEOM_FIELDS) + tuple(f"stats.{n}" for n in STATS_FIELDS)
                                    + tuple(f"topo.{n}" for n in TOPO_FIELDS))
_G = {name: i for i, name in enumerate(GEOM_FIELDS)}


def input_rows(frame: TokenFrame) -> np.ndarray:
    """float64[P, F] of one frame in INPUT_FEATURES order."""
    g = frame.geom
    phi, theta = g[:, _G["phi_gf"]], g[:, _G["theta"]]
    cols = [g[:, _G["A"]], np.cos(phi), np.sin(phi), np.cos(2 * theta), np.sin(2 * theta), g[:, _G["gradPhi"]],
            g[:, _G["kappa"]]]
    return np.column_stack(cols + [frame.stats, frame.topo.astype(np.float64)])


def _codes(frame: TokenFrame, dims: int) -> np.ndarray:
    """int8[P, dims]: each token's code, 0 where it has none (every code of an archive is
    ``dims`` long, see ``TensorPack._layout``)."""
    if frame.rvq is None:
        return np.zeros((len(frame), dims), dtype=np.int8)
    return frame.rvq[:, :dims].astype(np.int8)


def normalisation(inputs: np.ndarray, train: np.ndarray) -> dict[str, np.ndarray]:
    """Per-feature mean and std over the training records' input slots only."""
    n_features = inputs.shape[-1]
    rows = inputs[train].reshape(-1, n_features).astype(np.float64)
    if len(rows):
        mean, std = rows.mean(axis=0), rows.std(axis=0)
    else:
        mean, std = np.zeros(n_features), np.zeros(n_features)
    constant = ~(std > 1e-12)
    return {"feature_mean": mean.astype(np.float32), "feature_std": np.where(constant, 1.0, std).astype(np.float32),
            "feature_constant": constant, "stats_records": np.int64(int(train.sum()))}


def _patch_geometry(patch_ids: list[str], sim: dict) -> dict[str, np.ndarray]:
    W, H, scale = int(sim["W"]), int(sim["H"]), int(sim["scale"])
    coords = np.array([[int(v) for v in pid.split(",")[:2]] for pid in patch_ids], dtype=np.int32).reshape(-1, 2)
    size = np.stack([np.minimum(scale, W - coords[:, 0]), np.minimum(scale, H - coords[:, 1])], axis=1).astype(np.int32)
    return {"patch_coords": coords, "patch_size": size, "patch_partial": (size < scale).any(axis=1)}


def _intents(w: PackedWindow, grid: Grid, rows: np.ndarray) -> list[tuple[str, str, str, np.ndarray]]:
    """(verb, feature, region, token mask) of the record's intents (else its prompt's)."""
    from pattools.edit.editors import resolve_prompt

    records = w.record.get("intents")
    if records is not None:
        intents = [intent_from_record(r) for r in records]
    else:
        intents, _ = resolve_prompt(w.record["prompt"], grid, lenient=True)
    return [(i.verb, i.feature, i.region.text(), intent_mask(i, grid)[rows]) for i in intents]


class TensorPack:
    """Collects packed windows into the arrays of ``--format npz``."""

    def __init__(self) -> None:
        self.windows: list[PackedWindow] = []

    def add(self, packed: PackedWindow) -> None:
        self.windows.append(packed)

    def _layout(self) -> tuple[list[str], int, bool]:
        """(patch ids, code length, whether some input token has no code) of the archive."""
        if not self.windows:
            raise DataError("no records to write (no whole window in the input)")
        first = self.windows[0].input_tokens[0]
        patch_ids, dims, uncoded = first.patch_ids, None, False
        for w in self.windows:
            frames = w.input_tokens + w.horizon_tokens
            for j, frame in enumerate(frames):
                if frame.patch_ids != patch_ids:
                    frame_dims = 0 if frame.rvq is None else frame.rvq.shape[1]
                    first_dims = 0 if first.rvq is None else first.rvq.shape[1]
                    raise DataError(
                        f"npz needs one patch layout: record {w.record['id']} has {len(frame)} patches and "
                        f"{frame_dims} code dims, the first record {len(patch_ids)} and {first_dims} "
                        "(pack one grid per archive)")
                lengths = frame.code_lengths()
                coded = lengths >= 0
                uncoded = uncoded or (j < len(w.input_tokens) and not coded.all())
                if dims is None and coded.any():
                    dims = int(lengths[coded][0])
                bad = np.flatnonzero(coded & (lengths != dims))
                if bad.shape[0]:
                    where, index = w.sources[j] if w.sources else (None, None)
                    raise DataError(f"expected {dims} codes (one code length per npz archive), got "
                                    f"{int(lengths[bad[0]])}", input=where, record=index,
                                    path=f"tokens[{int(bad[0])}].code.rvq")
        return patch_ids, dims or 0, uncoded and bool(dims)

    def arrays(self, sim_text: Callable[[dict], str]) -> dict[str, np.ndarray]:
        """The archive's arrays (see the module docstring); ``sim_text`` writes a sim block
        as its one JSON text (the caller's ``pattools.io`` makes the bytes)."""
        patch_ids, dims, uncoded = self._layout()
        ws = self.windows
        sim = ws[0].record["sim"]
        splits = np.array([w.record.get("split", DEFAULT_SPLIT) for w in ws])
        inputs = np.stack([np.stack([input_rows(f) for f in w.input_tokens]) for w in ws]).astype(np.float32)
        targets = [_target_tensor(w, dims) for w in ws]
        out: dict[str, np.ndarray] = {
            "layout": np.array(LAYOUT),
            "features": np.array(INPUT_FEATURES),
            "inputs": inputs,
            "input_codes": np.stack([np.stack([_codes(f, dims) for f in w.input_tokens]) for w in ws]),
        }
        if uncoded:
            out["input_code_mask"] = np.stack([np.stack([f.code_lengths() >= 0 for f in w.input_tokens])
                                               for w in ws])
        out.update(normalisation(inputs, splits == DEFAULT_SPLIT))
        out["patch_ids"] = np.array(patch_ids)
        out.update(_patch_geometry(patch_ids, sim))
        out["patch_mask"] = np.ones((len(ws), len(patch_ids)), dtype=bool)
        out["target_features"] = np.array(TARGET_FEATURES)
        for k, name in enumerate(("target_deltas", "target_mask", "target_codes", "target_code_mask")):
            out[name] = np.stack([t[k] for t in targets])
        out["target_deltas"] = out["target_deltas"].astype(np.float32)
        out.update(_intent_arrays(ws, Grid(int(sim["W"]), int(sim["H"]), int(sim["scale"])), patch_ids))
        out.update({
            "ids": np.array([w.record["id"] for w in ws]),
            "prompts": np.array([w.record["prompt"] for w in ws]),
            "splits": splits,
            "seeds": np.array([w.record["seed"] for w in ws], dtype=np.int64),
            "edit_frames": np.array([w.edit_frame for w in ws], dtype=np.int64),
            "input_frames": np.array([[i["frame"] for i in w.record["inputs"]] for w in ws], dtype=np.int64),
            "target_frames": np.array([w.horizon_frames for w in ws], dtype=np.int64),
            "sims": np.array([sim_text(w.record["sim"]) for w in ws]),
        })
        return out


def _intent_arrays(ws: list[PackedWindow], grid: Grid, patch_ids: list[str]) -> dict[str, np.ndarray]:
    order = {pid: k for k, pid in enumerate(grid.patch_ids())}
    missing = [pid for pid in patch_ids if pid not in order]
    if missing:
        raise DataError(f"npz region masks: patch {missing[0]} is not on the {grid.describe()}")
    rows = np.array([order[pid] for pid in patch_ids], dtype=np.int64)
    per = [_intents(w, grid, rows) for w in ws]
    width = max((len(p) for p in per), default=0)
    shape = (len(ws), width)
    verbs, feats, regions = (np.full(shape, "", dtype=object) for _ in range(3))
    valid = np.zeros(shape, dtype=bool)
    masks = np.zeros(shape + (len(patch_ids),), dtype=bool)
    for r, items in enumerate(per):
        for i, (verb, feature, region, mask) in enumerate(items):
            verbs[r, i], feats[r, i], regions[r, i], valid[r, i], masks[r, i] = verb, feature, region, True, mask
    as_text = lambda a: a.astype(str) if a.size else np.zeros(shape, dtype="<U1")  # noqa: E731
    return {"intent_verbs": as_text(verbs), "intent_features": as_text(feats), "intent_regions": as_text(regions),
            "intent_mask": valid, "region_masks": masks}


def _target_tensor(w: PackedWindow, dims: int) -> tuple[np.ndarray, ...]:
    """Summed target deltas per horizon frame and patch, which are named, and the code deltas."""
    count = len(w.horizon_tokens[0])
    deltas = np.zeros((len(w.horizon_frames), count, len(TARGET_FEATURES)))
    masks = np.zeros(deltas.shape, dtype=bool)
    codes = np.zeros((len(w.horizon_frames), count, dims), dtype=np.int64)
    code_mask = np.zeros((len(w.horizon_frames), count), dtype=bool)
    for target, where, index in w.targets:
        h = w.horizon_frames.index(target.frame)
        try:
            cols = target.batch.per_token(w.horizon_tokens[h])
        except DataError as error:
            raise error.located(input=where, record=index)
        deltas[h] += np.concatenate([cols.geom, cols.stats, cols.topo.astype(np.float64)], axis=1)
        masks[h] |= np.concatenate([cols.geom_named, cols.stats_named, cols.topo_named], axis=1)
        if dims and w.horizon_tokens[h].rvq is not None:
            codes[h] += cols.rvq
            code_mask[h] |= cols.rvq_named
    return deltas, masks, codes.astype(np.int8), code_mask
