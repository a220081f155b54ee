"""How the delta decoder's default constants were chosen (docs/replay.md, issue: pat-baseline
and pat-score, acceptance "the reward orders edits correctly").

For the single-intent prompts of tests/test_experiment.py, at 96×96, scale 16, seeds 1..3,
the heuristic editor's nudges are scaled by 0.25, 0.5, 0.75 and 1 (code and topo deltas off),
each edit is replayed with the delta decoder under the given constants and scored; a pair
(s < s') is ordered correctly when faith(s') > faith(s). Prints per prompt the faithfulness
per scale and seed, the correct pairs, and the pairwise and whole-group accuracies.

Run: .venv/bin/python bench/calibrate_delta.py [--kRho 10 --kEnt 10 --kGrad 10 --kA 10
     --kAttn 10 --kPhase -2] [--frames 8 --spf 8] [--seeds 1,2,3] [--prompts SUBSTRING]
(defaults: the current DecoderConstants and the test's run). Figures behind the defaults
are in the DecoderConstants docstring; e.g. the first design's start constants:
     --kGrad 4 --kPhase 2                 → pairwise 0.800 (144/180)
     --kGrad 10 --kPhase -2               → 1.000 (180/180), whole-group 1.000
     --kGrad 10 --kPhase -2 --frames 6 --spf 4   → 0.839 (a 24-step run: entropy plateau)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pattools.edit.editors import EditorSettings, heuristic_edit  # noqa: E402
from pattools.exporting import ExportConfig, frame_records  # noqa: E402
from pattools.io import Record  # noqa: E402
from pattools.replay.driver import ReplayOptions  # noqa: E402
from pattools.replay.settings import CONSTANT_NAMES, DecoderConstants  # noqa: E402
from pattools.score.runner import score_original  # noqa: E402
from pattools.score.sequences import read_sequences  # noqa: E402

# The prompt suite and scales of the acceptance test, so calibration and test cannot drift apart.
from tests.test_experiment import SINGLE, STEP_SCALES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = DecoderConstants()
    for name in CONSTANT_NAMES:
        parser.add_argument(f"--{name}", type=float, default=getattr(defaults, name))
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--spf", type=int, default=8)
    parser.add_argument("--first-target", type=int, default=1)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--prompts", default="", help="only prompts containing this substring")
    args = parser.parse_args()
    constants = DecoderConstants(**{name: getattr(args, name) for name in CONSTANT_NAMES})
    options = ReplayOptions(constants=constants)
    config = ExportConfig(W=96, H=96, frames=args.frames, scale=16, steps_per_frame=args.spf)
    seeds = [int(s) for s in args.seeds.split(",")]
    prompts = [p for p in SINGLE if args.prompts in p]
    print(f"constants {constants.to_record()}  frames {args.frames} × {args.spf} steps, seeds {seeds}")
    start = time.perf_counter()
    faith: dict[tuple[str, int], list[float]] = {}
    for seed in seeds:
        records = [Record(r, f"export-{seed}", i) for i, (_, r) in enumerate(frame_records(config, seed))]
        (seq,) = list(read_sequences(records, keep_records=True))
        targets = [(f, t) for f, t in zip(seq.frames, seq.tokens) if f >= args.first_target]
        edits = []
        for prompt in prompts:
            for s in STEP_SCALES:
                settings = EditorSettings(step_scale=s, codes=False, topo=False)
                edits.append((heuristic_edit(targets, seq.sim, seed, prompt, settings=settings), "cal", len(edits)))
        scores = list(score_original([seq], edits, twice=False, replay_options=options))
        for i, score in enumerate(scores):
            faith.setdefault((prompts[i // len(STEP_SCALES)], seed), []).append(score["faithfulness"])
    pairs = good = groups = whole = 0
    print(f"{'prompt':40s} " + " ".join(f"seed {s}: x0.25..x1{'':22s}" for s in seeds) + " pairs")
    for prompt in prompts:
        row, ok_prompt, n_prompt = [], 0, 0
        for seed in seeds:
            f = faith[(prompt, seed)]
            ok = [f[j] > f[i] for i, j in itertools.combinations(range(len(f)), 2)]
            pairs += len(ok)
            good += sum(ok)
            ok_prompt += sum(ok)
            n_prompt += len(ok)
            groups += 1
            whole += all(ok)
            row.append(" ".join(f"{x:+.3f}" for x in f))
        print(f"{prompt:40s} " + " | ".join(row) + f"  {ok_prompt}/{n_prompt}")
    print(f"pairwise accuracy {good / pairs:.3f} ({good}/{pairs}), "
          f"whole-group accuracy {whole / groups:.3f} ({whole}/{groups}); {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
