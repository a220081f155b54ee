"""The edit-evaluation acceptance experiment (issue: pat-baseline and pat-score).

With the delta decoder at 96×96, scale 16 (6×6 patches), 3 seeds, 8 frames of 8 steps,
edits on frames 1..7:
- over a suite of 13 prompts (single and multi-clause, every feature with a steering
  channel, several regions) the heuristic editor's mean EditReward beats the random
  editor's and its mean faithfulness is positive;
- for the single-intent prompts on continuous features, scaling the heuristic's nudges by
  0.25, 0.5, 0.75, 1 (code and topo deltas off) orders faithfulness correctly in ≥ 90 % of
  the pairs (pairwise and whole-group accuracy, as EditReward-Bench reports them).
Both tests print the table they check. The exports are made once per module.

Why 8 frames of 8 steps: for the first ~30 steps from the initial state the patches'
entropyRate (= gradPhi/π) is on a plateau (mean 0.205 → 0.209 over 24 steps) while rho
rises, so a shorter run cannot show the entropy and gradient prompts being steered either
way: over 6 frames of 4 steps the ordering is 0.839 pairwise whatever the constants,
over 64 steps 1.000 (see bench/calibrate_delta.py and DecoderConstants).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pattools.edit.editors import EditorSettings, heuristic_edit
from pattools.exporting import ExportConfig
from pattools.score.runner import score_original
from pattools.score.study import exported_sequence

pytestmark = pytest.mark.slow

CONFIG = ExportConfig(W=96, H=96, frames=8, scale=16, steps_per_frame=8)
SEEDS = (1, 2, 3)
FIRST_TARGET = 1

SINGLE = [
    "increase coherence on rim",
    "reduce coherence in the centre",
    "reduce entropy in the left half",
    "increase entropy in the top-right",
    "reduce gradient in the bottom half",
    "increase gradient near patch 48,48",
    "raise phase in the right half",
    "lower phase in the top half",
    "increase attention in the centre",
    "reduce amplitude on the rim",
]
SUITE = SINGLE + [
    "increase coherence on rim, reduce entropy in the centre",
    "strongly reduce coherence in the top-left and raise phase in the bottom-right",
    "slightly increase attention near patch 16,16 and reduce gradient on the rim",
]
STEP_SCALES = (0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def sequences():
    return [exported_sequence(CONFIG, seed) for seed in SEEDS]


def _scores(seq, edits):
    packages = [(pkg, "suite", i) for i, pkg in enumerate(edits)]
    return list(score_original([seq], packages, twice=False))


def _targets(seq):
    return [(f, t) for f, t in zip(seq.frames, seq.tokens) if f >= FIRST_TARGET]


def test_heuristic_beats_random(sequences) -> None:
    rows = {}
    for seq in sequences:
        for editor in ("heuristic", "random"):
            edits = [heuristic_edit(_targets(seq), seq.sim, seq.seed, p, editor=editor) for p in SUITE]
            for prompt, score in zip(SUITE, _scores(seq, edits)):
                rows.setdefault((editor, prompt), []).append(
                    (score["faithfulness"], score["drift"], score["editReward"]))
    print(f"\n{'prompt':80s} {'editor':9s} {'faith':>8s} {'drift':>8s} {'reward':>8s}   (means over {len(SEEDS)} seeds)")
    means = {}
    for prompt in SUITE:
        for editor in ("heuristic", "random"):
            f, d, r = np.mean(rows[(editor, prompt)], axis=0)
            print(f"{prompt:80s} {editor:9s} {f:+8.4f} {d:8.4f} {r:+8.4f}")
    for editor in ("heuristic", "random"):
        allrows = np.array([v for (e, _), vals in rows.items() if e == editor for v in vals])
        means[editor] = allrows.mean(axis=0)
        print(f"{'MEAN over ' + str(len(allrows)) + ' edits':80s} {editor:9s} "
              f"{means[editor][0]:+8.4f} {means[editor][1]:8.4f} {means[editor][2]:+8.4f}")
    assert means["heuristic"][2] > means["random"][2]
    assert means["heuristic"][0] > 0


def test_step_scale_orders_faithfulness(sequences) -> None:
    faith: dict[tuple[str, int], list[float]] = {}
    for seq in sequences:
        edits, keys = [], []
        for prompt in SINGLE:
            for s in STEP_SCALES:
                settings = EditorSettings(step_scale=s, codes=False, topo=False)
                edits.append(heuristic_edit(_targets(seq), seq.sim, seq.seed, prompt, settings=settings))
                keys.append(prompt)
        for prompt, score in zip(keys, _scores(seq, edits)):
            faith.setdefault((prompt, seq.seed), []).append(score["faithfulness"])
    pairs = good = groups = whole = 0
    print(f"\n{'prompt':40s} seed  " + "  ".join(f"x{s:<7g}" for s in STEP_SCALES) + "  pairs")
    for prompt in SINGLE:
        for seed in SEEDS:
            f = faith[(prompt, seed)]
            ok = [f[j] > f[i] for i, j in itertools.combinations(range(len(f)), 2)]
            pairs += len(ok)
            good += sum(ok)
            groups += 1
            whole += all(ok)
            print(f"{prompt:40s} {seed:4d}  " + "  ".join(f"{x:+8.4f}" for x in f) + f"  {sum(ok)}/{len(ok)}")
    pairwise, group = good / pairs, whole / groups
    print(f"pairwise accuracy {pairwise:.3f} ({good}/{pairs}), whole-group accuracy {group:.3f} ({whole}/{groups})")
    assert pairwise >= 0.9


def test_makefile_two_runs_identical(tmp_path) -> None:
    """The edit-eval Makefile end to end on tiny settings, twice, diffed (as CI would)."""
    import subprocess

    from tests.helpers import ROOT, command_env

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("increase coherence on rim, reduce entropy in the centre\n")
    out = tmp_path / "out"
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT / "examples" / "edit-eval"), "check", f"OUT={out}",
         f"PROMPTS={prompts}", "SEEDS=1", "W=48", "FRAMES=3", "SPF=2", "EDITORS=heuristic null"],
        capture_output=True, env=command_env(), timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"edit-eval: two runs identical" in result.stdout
    rows = (out / "summary.jsonl").read_text().splitlines()
    assert [r.split('"group":"')[1].split('"')[0] for r in rows] == ["heuristic", "null"]
    assert '"faithfulness":0.0,"drift":0.0,"editReward":0.0' in rows[1]
    assert "EditReward per editor" in result.stderr.decode()
