"""Per-patch features of replayed frames and their scales (docs/score.md).

Each feature f has a scale s_f: the size of a change that counts as "one unit" of effect
(faithfulness is tanh(effect / s_f)) or of drift (|f_E − f_B| / s_f). The drift features
are the seven of docs/score.md §4; the intent features add the fields an intent may name that the
drift set lacks (attention, arousal, valence, amplitude), at the stats scale.

| feature      | source                                        | scale  | circular |
|--------------|-----------------------------------------------|--------|----------|
| rho          | stats.rho                                     | 0.05   |          |
| entropyRate  | stats.entropyRate                             | 0.05   |          |
| gradPhi      | geom.gradPhi                                  | 0.1    |          |
| kappa        | geom.kappa                                    | 0.2    |          |
| phi_gf       | geom.phi_gf                                   | π/8    | 2π       |
| defects      | metrics.patchDefects plus+minus, else |vortex|| 1      |          |
| energy       | stats.energy                                  | 0.05   |          |
| attnMean     | stats.attnMean (intents only)                 | 0.05   |          |
| arousal      | stats.arousal (intents only)                  | 0.05   |          |
| valence      | stats.valence (intents only)                  | 0.05   |          |
| A            | geom.A (not used: see below)                  | 0.05   |          |

An amplitude (A) intent is scored on rho: exported tokens carry A = 1 as a constant
placeholder (docs/tokens.md §1), and A's only steering channel is the coupling factor, whose
observable consequence is coherence.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TokenFrame

# name → (source group, column name, scale, period or 0)
FEATURES: dict[str, tuple[str, str, float, float]] = {
    "rho": ("stats", "rho", 0.05, 0.0),
    "entropyRate": ("stats", "entropyRate", 0.05, 0.0),
    "gradPhi": ("geom", "gradPhi", 0.1, 0.0),
    "kappa": ("geom", "kappa", 0.2, 0.0),
    "phi_gf": ("geom", "phi_gf", math.pi / 8, 2 * math.pi),
    "defects": ("defects", "", 1.0, 0.0),
    "energy": ("stats", "energy", 0.05, 0.0),
    "attnMean": ("stats", "attnMean", 0.05, 0.0),
    "arousal": ("stats", "arousal", 0.05, 0.0),
    "valence": ("stats", "valence", 0.05, 0.0),
    "A": ("geom", "A", 0.05, 0.0),
}
DRIFT_FEATURES: tuple[str, ...] = ("rho", "entropyRate", "gradPhi", "kappa", "phi_gf", "defects", "energy")
SCORED_FEATURES: tuple[str, ...] = tuple(FEATURES)

# intent feature → scored feature (topo intents other than flip count defects)
INTENT_FEATURE: dict[str, str] = {name: name for name in FEATURES if name != "defects"}
INTENT_FEATURE["topo"] = "defects"
INTENT_FEATURE["A"] = "rho"


def feature_matrix(frame: TokenFrame, patch_defects: list | None = None) -> np.ndarray:
    """float64[T, len(SCORED_FEATURES)] for one frame, in token order."""
    out = np.empty((len(frame), len(SCORED_FEATURES)))
    for j, name in enumerate(SCORED_FEATURES):
        group, column, _, _ = FEATURES[name]
        if group == "stats":
            out[:, j] = frame.stats[:, STATS_FIELDS.index(column)]
        elif group == "geom":
            out[:, j] = frame.geom[:, GEOM_FIELDS.index(column)]
        elif patch_defects is not None:
            out[:, j] = [float(p[0] + p[1]) for p in patch_defects]
        else:
            out[:, j] = np.abs(frame.topo[:, 0])
    return out


def scales(names: tuple[str, ...] = SCORED_FEATURES) -> np.ndarray:
    return np.array([FEATURES[n][2] for n in names])


def difference(edited: np.ndarray, base: np.ndarray, names: tuple[str, ...] = SCORED_FEATURES) -> np.ndarray:
    """edited − base along the last axis, circular (into [−period/2, period/2]) for angles."""
    diff = edited - base
    for j, name in enumerate(names):
        period = FEATURES[name][3]
        if period:
            d = diff[..., j]
            diff[..., j] = d - period * np.round(d / period)
    return diff
