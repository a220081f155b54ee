"""How the delta decoder's default constants were chosen (docs/replay.md): on the
**training** prompt set only (tests/data/edit_study/train.json: seeds 1–3, its own prompts
and regions); acceptance figures come from the disjoint held-out set (heldout.json,
bench/edit_authority.py --study, tests/test_edit_channels.py).

For every intent kind of the set, the heuristic editor's edits are replayed with the delta
decoder under the given constants and scored: the per-kind table (heuristic, random, null;
95 % intervals across seeds) and, with --ordering, the nudges scaled by 0.25, 0.5, 0.75
and 1 (code and topo deltas off, continuous kinds): a pair (s < s') is ordered when the
larger nudge has the larger faithfulness (pairwise and whole-group accuracy).

Run: .venv/bin/python bench/calibrate_delta.py [--kPhase -6 --kEnergy 16 ...] [--etaV 1 --kWindE 100]
     [--kinds energy,phase] [--seeds 1,2,3] [--ordering]
Figures behind the defaults are in the DecoderConstants docstring.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.edit.editors import EditorSettings  # noqa: E402
from pattools.replay.driver import ReplayOptions  # noqa: E402
from bench._common import add_study_arguments, study_from_args  # noqa: E402
from pattools.score.study import PromptSet, format_table, run_study, summarise  # noqa: E402

TRAIN = Path(__file__).resolve().parent.parent / "tests" / "data" / "edit_study" / "train.json"
STEP_SCALES = (0.25, 0.5, 0.75, 1.0)
CONTINUOUS = ("coherence", "entropy", "gradient", "curvature", "energy", "phase", "amplitude", "arousal", "valence")


def ordering(ps: PromptSet, options: ReplayOptions) -> None:
    kinds = tuple(k for k in ps.prompts if k in CONTINUOUS)
    faith: dict[tuple[str, int], list[float]] = {}
    for s in STEP_SCALES:
        rows = run_study(ps.only(kinds), ("heuristic",), options, EditorSettings(step_scale=s, codes=False, topo=False))
        for r in rows:
            faith.setdefault((r.prompt, r.seed), []).append(r.faithfulness)
    pairs = good = groups = whole = 0
    for (prompt, seed), f in faith.items():
        ok = [f[j] > f[i] for i, j in itertools.combinations(range(len(f)), 2)]
        pairs, good, groups, whole = pairs + len(ok), good + sum(ok), groups + 1, whole + all(ok)
        print(f"{prompt:40s} {seed:4d} " + " ".join(f"{x:+.3f}" for x in f) + f"  {sum(ok)}/{len(ok)}")
    print(f"pairwise accuracy {good / pairs:.3f} ({good}/{pairs}), whole-group {whole / groups:.3f} ({whole}/{groups})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_study_arguments(parser, TRAIN)
    parser.add_argument("--kinds", default="")
    parser.add_argument("--ordering", action="store_true")
    args = parser.parse_args()
    ps, options = study_from_args(args)
    if args.kinds:
        ps = ps.only(tuple(args.kinds.split(",")))
    print(f"set {ps.name}, seeds {list(ps.seeds)}, etaV {options.gains.etaV}, constants {options.constants.to_record(wind=True)}")
    start = time.perf_counter()
    print(format_table(summarise(run_study(ps, ("heuristic", "random", "null"), options))))
    if args.ordering:
        ordering(ps, options)
    print(f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
