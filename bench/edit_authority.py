"""Edit authority: how far the delta decoder's edits move each intent kind's feature,
relative to the lattice's own variability (issue: edits that steer every intent).

For every intent kind of a prompt set (default: the held-out set
tests/data/edit_study/heldout.json: 96×96, scale 16, 8 frames × 8 steps, edits on frames
1–7, six seeds), over the kind's prompts and the set's seeds:

- heuristic effect: the scored effect of the heuristic editor's edit in the intent's
  direction (region mean of f_E − f_B over the evaluation window; for a flip, the reversed
  share in the region minus the background's);
- strongest effect: the same with every nudge scaled up to its bound (§1 of the editing
  spec: stats and A 0.25, gradPhi and kappa 0.5, phi_gf π/4; topo deltas are already ±2);
- natural change: mean |f(t+1) − f(t)| of the region mean in the base run (for chirality:
  the share of chiral region patches whose chirality reverses from one frame to the next);
- seed spread: the standard deviation across seeds of the region mean in the base run,
  averaged over the window frames (circular for phase; for chirality: of the share of
  chiral region patches with chirality +1);
- persistence: an edit on frames 1–4 only, its effect over frames 5–7 divided by the
  heuristic effect over frames 1–7 (1: the change stays after the edit stops; 0: it
  vanishes).

Run:  .venv/bin/python bench/edit_authority.py [--set tests/data/edit_study/heldout.json]
      [--seeds 101,102] [--kinds energy,chirality] [--study] [--kPhase -2 ...]
``--study`` also prints the per-kind EditReward table (heuristic, random, null; 95 %
intervals across seeds), the acceptance figures.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.edit.bounds import Bounds  # noqa: E402
from pattools.edit.editors import STEPS, EditorSettings, grid_of, heuristic_edit, resolve_prompt  # noqa: E402
from pattools.edit.regions import intent_mask  # noqa: E402
from pattools.replay.driver import ReplayOptions  # noqa: E402
from bench._common import add_study_arguments, study_from_args  # noqa: E402
from pattools.score.evaluate import ScoreSettings  # noqa: E402
from pattools.score.features import FEATURES, INTENT_FEATURE, SCORED_FEATURES, feature_matrix  # noqa: E402
from pattools.score.runner import score_original  # noqa: E402
from pattools.score.study import PromptSet, export_sequence, format_table, run_study, summarise, target_frames  # noqa: E402

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "edit_study" / "heldout.json"
PERSIST_STOP = 5  # the persistence edit targets frames first..4


def strongest_scale(feature: str) -> float:
    """Step multiplier that brings the feature's default nudge to its bound."""
    if feature == "topo":
        return 1.0
    group, step = STEPS[feature]
    b = Bounds.default()
    names = ("A", "phi_gf", "theta", "gradPhi", "kappa") if group == "geom" else (
        "rho", "energy", "entropyRate", "arousal", "valence", "attnMean", "attnVar")
    limit = float((b.geom if group == "geom" else b.stats)[names.index(feature)])
    return limit / step


def _region_series(seq, mask: np.ndarray, feature: str) -> np.ndarray:
    """Per frame: the region mean of the feature (chirality: share of chiral patches that are +1)."""
    out = []
    for tokens in seq.tokens:
        if feature == "chirality":
            c = tokens.topo[mask, 1]
            live = c != 0
            out.append(float(np.mean(c[live] > 0)) if live.any() else 0.5)
        else:
            col = feature_matrix(tokens)[mask, SCORED_FEATURES.index(feature)]
            if FEATURES[feature][3]:
                out.append(math.atan2(float(np.mean(np.sin(col))), float(np.mean(np.cos(col)))))
            else:
                out.append(float(np.mean(col)))
    return np.array(out)


def _natural(seq, mask: np.ndarray, feature: str, first: int) -> float:
    if feature == "chirality":
        flips, live = 0, 0
        for a, b in zip(seq.tokens[first:], seq.tokens[first + 1:]):
            ca, cb = a.topo[mask, 1], b.topo[mask, 1]
            live += int((ca != 0).sum())
            flips += int(((ca != 0) & (cb == -ca)).sum())
        return flips / live if live else 0.0
    s = _region_series(seq, mask, feature)[first:]
    d = np.diff(s)
    if FEATURES[feature][3]:
        d = d - 2 * math.pi * np.round(d / (2 * math.pi))
    return float(np.mean(np.abs(d)))


def _spread(per_seed: np.ndarray, feature: str) -> float:
    """Mean over frames of the across-seed standard deviation (circular for angles)."""
    if FEATURES.get(feature, ("", "", 0, 0))[3]:
        r = np.hypot(np.mean(np.cos(per_seed), axis=0), np.mean(np.sin(per_seed), axis=0))
        return float(np.mean(np.sqrt(-2 * np.log(np.clip(r, 1e-12, 1.0)))))
    return float(np.mean(np.std(per_seed, axis=0, ddof=1)))


def _effect(score: dict) -> float:
    intent = score["intents"][0]
    sign = -1.0 if intent["verb"] == "decrease" else 1.0
    return sign * intent["effect"]


def authority(ps: PromptSet, kinds: list[str], options=None) -> list[dict]:
    rows = []
    seqs = {seed: export_sequence(ps, seed) for seed in ps.seeds}
    for kind in kinds:
        heur, strong, post, nat, series = [], [], [], [], []
        feature = None
        for prompt in ps.prompts[kind]:
            per_seed = []
            for seed, seq in seqs.items():
                (intent,), _ = resolve_prompt(prompt, grid_of(seq.sim))
                feature = "chirality" if intent.verb == "flip" else INTENT_FEATURE[intent.feature]
                mask = intent_mask(intent, grid_of(seq.sim))
                targets = target_frames(seq, ps.first_target)
                early = target_frames(seq, ps.first_target, PERSIST_STOP)
                edits = [heuristic_edit(targets, seq.sim, seed, prompt),
                         heuristic_edit(targets, seq.sim, seed, prompt,
                                        settings=EditorSettings(step_scale=strongest_scale(intent.feature)))]
                h, s = score_original([seq], [(e, "a", i) for i, e in enumerate(edits)], twice=False,
                                      replay_options=options)
                (p,) = score_original([seq], [(heuristic_edit(early, seq.sim, seed, prompt), "p", 0)], twice=False,
                                      settings=ScoreSettings(window=(PERSIST_STOP, None)), replay_options=options)
                heur.append(_effect(h))
                strong.append(_effect(s))
                post.append(_effect(p))
                nat.append(_natural(seq, mask, feature, ps.first_target))
                per_seed.append(_region_series(seq, mask, feature)[ps.first_target:])
            series.append(_spread(np.array(per_seed), feature))
        h, sp = float(np.mean(heur)), float(np.mean(series))
        rows.append({"kind": kind, "feature": feature, "heuristic": h, "strongest": float(np.mean(strong)),
                     "natural": float(np.mean(nat)), "spread": sp, "ratio": h / sp if sp else math.inf,
                     "persist": float(np.mean(post)) / h if h else 0.0})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_arguments(parser, DEFAULT_SET)
    parser.add_argument("--kinds", default="")
    parser.add_argument("--study", action="store_true")
    args = parser.parse_args()
    ps, options = study_from_args(args)
    kinds = args.kinds.split(",") if args.kinds else list(ps.prompts)
    start = time.perf_counter()
    print(f"set {ps.name}: {ps.W}x{ps.H}/{ps.scale}, {ps.frames} frames x {ps.steps_per_frame} steps, "
          f"seeds {list(ps.seeds)}, edits from frame {ps.first_target}")
    print(f"{'kind':11s} {'feature':12s} {'heuristic':>9s} {'strongest':>9s} {'natural':>8s} {'spread':>8s} "
          f"{'heur/spread':>11s} {'heur/natural':>12s} {'persist':>8s}")
    for r in authority(ps, kinds, options):
        nat = r["heuristic"] / r["natural"] if r["natural"] else math.inf
        print(f"{r['kind']:11s} {r['feature']:12s} {r['heuristic']:+9.4f} {r['strongest']:+9.4f} {r['natural']:8.4f} "
              f"{r['spread']:8.4f} {r['ratio']:11.2f} {nat:12.2f} {r['persist']:8.2f}")
    if args.study:
        ps_kinds = ps.only(tuple(kinds))
        print(format_table(summarise(run_study(ps_kinds, ("heuristic", "random", "null"), options))))
    print(f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
