"""EditReward: faithfulness per intent, preservation drift, and their combination
(docs/score.md).

Inputs are feature cubes of the base replay B and the edited replay E over the
evaluation window (frames × tokens × features, ``pattools.score.features``), the
intents' token masks and the background mask:

- ``effect_i = mean_{p∈R_i, t}(f_E − f_B)``, ``faith_i = tanh(sign_i·effect_i / s_f)``;
- a flip intent is scored relative to the base and to chaos (``flip_effect``): over
  patch-frames whose base chirality is non-zero, the share reversed (``chir_E = −chir_B``)
  in R_i minus the same share in the background over the same frames; so an unchanged
  lattice scores 0 and a scrambled one about 0, a clean flip of R_i near 1;
- faithfulness = mean of faith_i (0 without intents);
- ``drift = mean_{p∈background, t, f} |f_E − f_B| / s_f`` over the drift features
  (0 with an empty background);
- ``editReward = faithfulness − λ·drift``.

An edit without effective deltas, or an empty window, scores exactly 0 everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pattools.edit.intents import Intent
from pattools.score.features import DRIFT_FEATURES, FEATURES, INTENT_FEATURE, SCORED_FEATURES, difference


def _f(x: float) -> float:
    """A plain float with −0.0 folded into 0.0 (so a null score encodes as 0)."""
    return float(x) + 0.0


@dataclass
class FeatureCube:
    """Features of one replay over the evaluation window."""

    values: np.ndarray  # float64[frames, tokens, len(SCORED_FEATURES)]
    chirality: np.ndarray  # int64[frames, tokens]

    @property
    def frames(self) -> int:
        return self.values.shape[0]


@dataclass
class IntentScore:
    intent: Intent
    feature: str  # the scored feature
    scale: float
    patches: int
    samples: int
    effect: float = 0.0
    faithfulness: float = 0.0

    def to_record(self) -> dict:
        return {
            "verb": self.intent.verb,
            "feature": self.intent.feature,
            "region": self.intent.region.text(),
            "clause": self.intent.clause,
            "scoredFeature": self.feature,
            "scale": _f(self.scale),
            "patches": self.patches,
            "samples": self.samples,
            "effect": _f(self.effect),
            "faithfulness": _f(self.faithfulness),
        }


@dataclass
class Reward:
    faithfulness: float
    drift: float
    edit_reward: float
    intents: list[IntentScore]
    drift_by_feature: dict[str, float] = field(default_factory=dict)
    background_patches: int = 0


def background_mask(masks: list[np.ndarray], dilate, halo: int, fallback: np.ndarray) -> np.ndarray:
    """Patches in no intent region (``fallback``: the edited patches, without intents),
    widened by ``halo`` rings of neighbours before taking the complement."""
    covered = np.zeros_like(fallback) if masks else fallback.copy()
    for m in masks:
        covered |= m
    if halo > 0 and covered.any():
        covered = dilate(covered, halo)
    return ~covered


def _reversed_share(cb: np.ndarray, ce: np.ndarray) -> tuple[int, float, float]:
    """(live patch-frames, reversed share, kept share) over patch-frames with cb ≠ 0."""
    live = cb != 0
    n = int(live.sum())
    if not n:
        return 0, 0.0, 0.0
    return n, float(np.mean(ce[live] == -cb[live])), float(np.mean(ce[live] == cb[live]))


def flip_effect(base: np.ndarray, edited: np.ndarray, mask: np.ndarray, background: np.ndarray) -> tuple[int, float]:
    """(samples, effect) of a flip intent over region ``mask`` (chirality int[frames, tokens]).

    effect = reversed share in the region − reversed share in the background (same frames).
    A region that covers the whole grid has no background to compare with; chaos is then
    judged inside the region: a scrambled lattice reverses about as many patches as it keeps,
    so the effect is ``max(0, reversed − kept)`` (0 unchanged, ≈ 0 scrambled, 1 clean flip).
    """
    n, reversed_share, kept_share = _reversed_share(base[:, mask], edited[:, mask])
    if not n:
        return 0, 0.0
    bg = background & ~mask
    nb, bg_reversed, _ = _reversed_share(base[:, bg], edited[:, bg])
    if nb:
        return n, reversed_share - bg_reversed
    return n, max(0.0, reversed_share - kept_share)


def edit_reward(
    base: FeatureCube,
    edited: FeatureCube,
    intents: list[Intent],
    masks: list[np.ndarray],
    background: np.ndarray,
    lam: float = 1.0,
    effective: bool = True,
) -> Reward:
    """The reward of one edit; ``masks[i]`` are intent i's token rows, ``background``
    the rows drift is measured on."""
    null = not effective or base.frames == 0
    scores = []
    for intent, mask in zip(intents, masks):
        name = "defects" if intent.feature == "topo" and intent.verb == "flip" else INTENT_FEATURE[intent.feature]
        score = IntentScore(intent, name, FEATURES[name][2], int(mask.sum()), int(mask.sum()) * base.frames)
        if not null:
            if intent.verb == "flip":
                score.feature, score.scale = "chirality", 1.0
                score.samples, score.effect = flip_effect(base.chirality, edited.chirality, mask, background)
                score.faithfulness = score.effect
            else:
                j = SCORED_FEATURES.index(name)
                diff = difference(edited.values[:, mask, :], base.values[:, mask, :])[..., j]
                if diff.size:
                    score.effect = float(np.mean(diff))
                    score.faithfulness = math.tanh(intent.sign * score.effect / score.scale)
        elif intent.verb == "flip":
            score.feature, score.scale = "chirality", 1.0
        scores.append(score)
    by_feature = {name: 0.0 for name in DRIFT_FEATURES}
    drift = 0.0
    bg = int(background.sum())
    if not null and bg:
        cols = [SCORED_FEATURES.index(n) for n in DRIFT_FEATURES]
        diff = difference(edited.values[:, background][..., cols], base.values[:, background][..., cols], DRIFT_FEATURES)
        scaled = np.abs(diff) / np.array([FEATURES[n][2] for n in DRIFT_FEATURES])
        per = scaled.reshape(-1, len(cols)).mean(axis=0)
        by_feature = {name: _f(v) for name, v in zip(DRIFT_FEATURES, per.tolist())}
        drift = float(np.mean(scaled))
    faith = float(np.mean([s.faithfulness for s in scores])) if scores and not null else 0.0
    if null:
        drift = 0.0
    return Reward(_f(faith), _f(drift), _f(faith - lam * drift), scores, by_feature, bg)
