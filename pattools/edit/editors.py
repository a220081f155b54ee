"""Baseline editors (docs/editing.md §4): heuristic, null and random.

Why: a learned editor needs anchors to beat. The heuristic editor turns each intent into
small nudges of the named token field over its region, on every target frame; ``null``
emits no deltas; ``random`` emits the heuristic's deltas (same number of touched tokens,
same magnitudes) on random tokens with random signs. All three write one ``PAT_EDIT``
per (prompt, sequence) with the resolved intents recorded.

Heuristic steps (``STEPS``, scaled by the intent's magnitude and by ``step_scale``; an
explicit "by X" replaces step × magnitude): rho α = 0.1, entropyRate β = 0.1, energy
0.1, A 0.1, gradPhi 0.2, kappa 0.2, phi_gf π/16, attnMean/arousal/valence 0.1. Changing
coherence also moves entropyRate the other way by β/2 per α of rho (the original design pairs
them; the first design stated it for "increase", and it is applied symmetrically). When a field
has a code dimension and the nudge moves its value into another bin, ``rvqDelta`` gets
±1 in the nudge's direction. ``flip`` sets topo deltas to −2·current, ``decrease`` on
vortices to −current (tokens with no vortex are not touched). Several intents on one
token add up; the sum is clipped to the bounds, so every emitted delta is within them.
An explicit amount beyond its field's bound is a data error quoting the clause.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pattools.edit.apply import geom_rule, stats_rule
from pattools.edit.bounds import Bounds
from pattools.edit.dpat import EditPackage, edit_id
from pattools.edit.intents import Intent
from pattools.edit.prompt_grammar import parse_prompt
from pattools.edit.regions import Grid, Regions, intent_mask, resolve_intent
from pattools.errors import DataError
from pattools.tokens.codebook import lfq_codes, lfq_features
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame

EDITORS: tuple[str, ...] = ("heuristic", "null", "random")

# feature → (group, default step); group "topo" has no step.
STEPS: dict[str, tuple[str, float]] = {
    "rho": ("stats", 0.1),
    "entropyRate": ("stats", 0.1),
    "energy": ("stats", 0.1),
    "attnMean": ("stats", 0.1),
    "arousal": ("stats", 0.1),
    "valence": ("stats", 0.1),
    "A": ("geom", 0.1),
    "gradPhi": ("geom", 0.2),
    "kappa": ("geom", 0.2),
    "phi_gf": ("geom", math.pi / 16),
    "topo": ("topo", 0.0),
}

# feature → code dimension (docs/editing.md §1); theta has no sign to steer.
CODE_DIM: dict[str, int] = {"A": 0, "phi_gf": 1, "entropyRate": 3, "kappa": 4}


@dataclass(frozen=True)
class EditorSettings:
    """Knobs of the baseline editors (defaults: docs/editing.md §4)."""

    alpha: float = 0.1  # rho step
    beta: float = 0.1  # entropyRate step (and twice the coherence pairing)
    step_scale: float = 1.0  # every nudge × this (for reward-ordering studies)
    codes: bool = True  # emit rvqDelta when a nudge crosses a bin edge
    topo: bool = True  # emit topo deltas (flip / reduce vortices)
    random_seed: int = 0  # the random editor's seed
    bounds: Bounds | None = None  # default bounds when None

    def step(self, feature: str) -> float:
        if feature == "rho":
            return self.alpha
        if feature == "entropyRate":
            return self.beta
        return STEPS[feature][1]


# ---------------------------------------------------------------------- deltas


@dataclass
class FrameDeltas:
    """Summed deltas for one target frame, aligned with its token rows."""

    geom: np.ndarray  # float64[T, 5]
    stats: np.ndarray  # float64[T, 7]
    topo: np.ndarray  # int64[T, 2]
    rvq: np.ndarray  # int64[T, 5]
    named: dict[tuple[str, int], np.ndarray]  # (group, column) → bool[T]

    @classmethod
    def zeros(cls, count: int) -> "FrameDeltas":
        return cls(
            np.zeros((count, len(GEOM_FIELDS))),
            np.zeros((count, len(STATS_FIELDS))),
            np.zeros((count, len(TOPO_FIELDS)), dtype=np.int64),
            np.zeros((count, 5), dtype=np.int64),
            {},
        )

    def add(self, group: str, column: int, rows: np.ndarray, values: np.ndarray | float) -> None:
        array = getattr(self, group)
        array[rows, column] += values
        key = (group, column)
        if key not in self.named:
            self.named[key] = np.zeros(array.shape[0], dtype=bool)
        self.named[key][rows] = True

    def touched(self) -> np.ndarray:
        out = np.zeros(self.geom.shape[0], dtype=bool)
        for (group, column), mask in self.named.items():
            out |= mask & (getattr(self, group)[:, column] != 0)
        out |= np.any(self.rvq != 0, axis=1)
        return out

    def to_dpats(self, patch_ids: Sequence[str]) -> list[dict]:
        """One DPat per touched token, in token order, naming only non-zero deltas."""
        dpats = []
        geom, stats, topo, rvq = self.geom.tolist(), self.stats.tolist(), self.topo.tolist(), self.rvq.tolist()
        groups = (("stats", STATS_FIELDS, stats), ("geom", GEOM_FIELDS, geom), ("topo", TOPO_FIELDS, topo))
        for row in np.flatnonzero(self.touched()).tolist():
            dp: dict = {"patchId": patch_ids[row]}
            if any(rvq[row]):
                dp["code"] = {"rvqDelta": rvq[row]}
            for group, names, values in groups:
                part = {}
                for col, name in enumerate(names):
                    mask = self.named.get((group, col))
                    if mask is not None and mask[row] and values[row][col] != 0:
                        part[name] = values[row][col]
                if part:
                    dp[group] = part
            dpats.append(dp)
        return dpats


def _column(feature: str) -> tuple[str, int]:
    group = STEPS[feature][0]
    names = GEOM_FIELDS if group == "geom" else STATS_FIELDS
    return group, names.index(feature)


def _rows(intent: Intent, grid: Grid, frame: TokenFrame) -> np.ndarray:
    """Frame rows of the intent's patches (every patch of the grid must be in the frame)."""
    ids = grid.patch_ids()
    rows = []
    for k in np.flatnonzero(intent_mask(intent, grid)).tolist():
        row = frame.index_of(ids[k])
        if row is None:
            raise DataError(f"frame has no token for patch {ids[k]} of clause \"{intent.clause}\"", path="tokens")
        rows.append(row)
    return np.array(sorted(rows), dtype=np.int64)


def heuristic_deltas(
    frame: TokenFrame, intents: Sequence[Intent], grid: Grid, settings: EditorSettings
) -> FrameDeltas:
    """The heuristic editor's summed, bounded deltas for one frame."""
    bounds = settings.bounds or Bounds.default()
    out = FrameDeltas.zeros(len(frame))
    for intent in intents:
        rows = _rows(intent, grid, frame)
        if intent.feature == "topo":
            if not settings.topo:
                continue
            current = frame.topo[rows]
            factor = -2 if intent.verb == "flip" else -1
            for col in range(len(TOPO_FIELDS)):
                nz = current[:, col] != 0
                out.add("topo", col, rows[nz], factor * current[nz, col])
            continue
        step = _step(intent, settings, bounds)
        group, col = _column(intent.feature)
        out.add(group, col, rows, intent.sign * step)
        if intent.feature == "rho":
            pair = step * (settings.beta / (2 * settings.alpha)) if settings.alpha else 0.0
            out.add("stats", STATS_FIELDS.index("entropyRate"), rows, -intent.sign * pair)
    out.geom = np.clip(out.geom, -bounds.geom, bounds.geom)
    out.stats = np.clip(out.stats, -bounds.stats, bounds.stats)
    out.topo = np.clip(out.topo, -bounds.topo, bounds.topo).astype(np.int64)
    if settings.codes and bounds.rvq >= 1 and frame.rvq is not None and frame.rvq.shape[1] == out.rvq.shape[1]:
        before = lfq_codes(lfq_features(frame.geom, frame.stats))
        after = lfq_codes(lfq_features(geom_rule(frame.geom + out.geom), stats_rule(frame.stats + out.stats)))
        for feature, dim in CODE_DIM.items():
            group, col = _column(feature)
            delta = getattr(out, group)[:, col]
            crossed = (after[:, dim] != before[:, dim]) & (delta != 0)
            out.rvq[crossed, dim] = np.sign(delta[crossed]).astype(np.int64)
    return out


def _step(intent: Intent, settings: EditorSettings, bounds: Bounds) -> float:
    group, col = _column(intent.feature)
    limit = float((bounds.geom if group == "geom" else bounds.stats)[col])
    if intent.amount is not None:
        if intent.amount > limit:
            raise DataError(
                f'clause "{intent.clause}": amount {intent.amount:g} exceeds the bound {limit:g} for {intent.feature}',
                path="prompt",
            )
        return intent.amount * settings.step_scale
    return settings.step(intent.feature) * intent.magnitude * settings.step_scale


# ---------------------------------------------------------------------- random


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a platform-stable hash of uint64 values."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return x


def _stream_key(*parts: object) -> int:
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def randomize(deltas: FrameDeltas, key: int) -> FrameDeltas:
    """The same DPats on random tokens with random signs (seeded by ``key``).

    Token j of the heuristic's touched list moves to the j-th smallest hash rank; every
    delta keeps its magnitude and gets a hashed sign."""
    count = deltas.geom.shape[0]
    src = np.flatnonzero(deltas.touched())

    def hashes(n: int, salt: int) -> np.ndarray:
        sub = _mix64(np.array([(key + salt) % 2**64], dtype=np.uint64))
        return _mix64(np.arange(n, dtype=np.uint64) ^ sub)

    dst = np.sort(np.argsort(hashes(count, 0), kind="stable")[: len(src)])
    src = src[np.argsort(hashes(len(src), 1), kind="stable")]
    out = FrameDeltas.zeros(count)

    def signs(shape: tuple[int, ...], salt: int) -> np.ndarray:
        h = hashes(int(np.prod(shape)), salt)
        return np.where((h >> np.uint64(63)) == 1, -1, 1).reshape(shape)

    out.geom[dst] = np.abs(deltas.geom[src]) * signs(out.geom[dst].shape, 11)
    out.stats[dst] = np.abs(deltas.stats[src]) * signs(out.stats[dst].shape, 22)
    out.topo[dst] = np.abs(deltas.topo[src]) * signs(out.topo[dst].shape, 33)
    out.rvq[dst] = np.abs(deltas.rvq[src]) * signs(out.rvq[dst].shape, 44)
    for k, mask in deltas.named.items():
        moved = np.zeros(count, dtype=bool)
        moved[dst] = mask[src]
        out.named[k] = moved
    return out


# ---------------------------------------------------------------------- packages


def grid_of(sim: dict) -> Grid:
    return Grid(int(sim["W"]), int(sim["H"]), int(sim["scale"]))


def resolve_prompt(
    prompt: str, grid: Grid, regions: Regions | None = None, lenient: bool = False
) -> tuple[list[Intent], list[DataError]]:
    """Parse and resolve a prompt's intents on a grid; lenient skips bad clauses."""
    parsed = parse_prompt(prompt, regions.names() if regions else None, lenient=lenient)
    intents, skipped = [], list(parsed.skipped)
    for intent in parsed.intents:
        try:
            intents.append(resolve_intent(intent, grid, regions))
        except DataError as exc:
            if not lenient:
                raise
            skipped.append(exc)
    return intents, skipped


def edit_sequence(
    editor: str,
    frames: Sequence[tuple[int, TokenFrame]],
    sim: dict,
    seed: int,
    prompt: str,
    intents: Sequence[Intent],
    settings: EditorSettings = EditorSettings(),
    ident: str | None = None,
) -> EditPackage:
    """One PAT_EDIT for a sequence: ``frames`` are the (frame index, tokens) to target."""
    if editor not in EDITORS:
        raise ValueError(f"unknown editor {editor!r}")
    grid = grid_of(sim)
    targets = []
    for index, frame in frames:
        dpat: list[dict] = []
        if editor != "null":
            deltas = heuristic_deltas(frame, intents, grid, settings)
            if editor == "random":
                deltas = randomize(deltas, _stream_key("random", settings.random_seed, seed, prompt, index))
            dpat = deltas.to_dpats(frame.patch_ids)
        targets.append({"frame": index, "dpat": dpat})
    record = {
        "kind": "PAT_EDIT",
        "version": 1,
        "id": ident or edit_id(editor, seed, prompt),
        "prompt": prompt,
        "seed": seed,
        "sim": sim,
        "intents": [i.to_record() for i in intents],
        "targets": targets,
        "repro": EditPackage.repro_of(sim),
    }
    return EditPackage.from_record(record)


def heuristic_edit(
    frames: Sequence[tuple[int, TokenFrame]],
    sim: dict,
    seed: int,
    prompt: str,
    *,
    regions: Regions | None = None,
    lenient: bool = False,
    settings: EditorSettings = EditorSettings(),
    editor: str = "heuristic",
    ident: str | None = None,
) -> EditPackage:
    """The baseline editor's PAT_EDIT for one prompt over the given target frames of one
    sequence (what ``pat-pack --targets baseline`` uses as pseudo-labels)."""
    intents, _ = resolve_prompt(prompt, grid_of(sim), regions, lenient)
    return edit_sequence(editor, frames, sim, seed, prompt, intents, settings, ident)


def baseline_edits(
    editor: str,
    frames: Sequence[tuple[int, TokenFrame]],
    sim: dict,
    seed: int,
    prompts: Sequence[tuple[str, str | None, int | None]],
    settings: EditorSettings = EditorSettings(),
    regions: Regions | None = None,
    lenient: bool = False,
) -> tuple[list[EditPackage], list[DataError]]:
    """pat-baseline's work for one sequence: one PAT_EDIT per (prompt, id, first frame),
    targeting ``frames`` from that first frame on; also the clauses skipped (lenient)."""
    grid = grid_of(sim)
    edits, skipped = [], []
    for prompt, ident, first in prompts:
        intents, bad = resolve_prompt(prompt, grid, regions, lenient)
        skipped.extend(bad)
        targets = [(i, f) for i, f in frames if first is None or i >= first]
        if not targets:
            raise DataError(f"no target frames for prompt {prompt!r} in sequence {seed}", path="frame")
        edits.append(edit_sequence(editor, targets, sim, seed, prompt, intents, settings, ident))
    return edits, skipped
