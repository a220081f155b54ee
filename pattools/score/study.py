"""An edit study: editors × prompts × seeds, replayed and scored, summarised per intent kind.

Why: the delta decoder's constants are calibrated on one set of prompts and seeds and
judged on another (docs/replay.md, docs/score.md), so the study reads its prompt set from a file
(``tests/data/edit_study/train.json`` for calibration, ``heldout.json`` for acceptance:
no seed, prompt or region in common). A set names its grid and run, its seeds, and its
prompts grouped by the kind of intent they exercise (coherence, entropy, gradient,
curvature, energy, phase, chirality, plus amplitude, arousal and valence).

Per kind and editor the summary is the mean faithfulness and EditReward over the kind's
prompts and the seeds, with a 95 % interval across seeds (Student's t on the per-seed means
over the kind's prompts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pattools.edit.editors import EditorSettings, heuristic_edit
from pattools.score.sequences import Sequence

# two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)

SEVEN_KINDS: tuple[str, ...] = ("coherence", "entropy", "gradient", "curvature", "energy", "phase", "chirality")


@dataclass(frozen=True)
class PromptSet:
    name: str
    W: int
    H: int
    scale: int
    frames: int
    steps_per_frame: int
    first_target: int
    seeds: tuple[int, ...]
    prompts: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "PromptSet":
        from pattools.io import decode_document

        data = decode_document(Path(path).read_bytes(), str(path))
        g = data["grid"]
        return cls(data["name"], int(g["W"]), int(g["H"]), int(g["scale"]), int(g["frames"]),
                   int(g["stepsPerFrame"]), int(data["firstTarget"]), tuple(int(s) for s in data["seeds"]),
                   {k: tuple(v) for k, v in data["prompts"].items()})

    def with_seeds(self, seeds: tuple[int, ...]) -> "PromptSet":
        return PromptSet(self.name, self.W, self.H, self.scale, self.frames, self.steps_per_frame,
                         self.first_target, seeds, self.prompts)

    def only(self, kinds: tuple[str, ...], per_kind: int | None = None) -> "PromptSet":
        prompts = {k: v[:per_kind] if per_kind else v for k, v in self.prompts.items() if k in kinds}
        return PromptSet(self.name, self.W, self.H, self.scale, self.frames, self.steps_per_frame,
                         self.first_target, self.seeds, prompts)


@dataclass(frozen=True)
class Row:
    kind: str
    prompt: str
    seed: int
    editor: str
    faithfulness: float
    drift: float
    reward: float
    effect: float  # the first intent's raw effect


def export_sequence(ps: PromptSet, seed: int) -> Sequence:
    """The exported frames of one seed, as the scorer reads them (records kept for replays)."""
    from pattools.exporting import ExportConfig

    config = ExportConfig(W=ps.W, H=ps.H, frames=ps.frames, scale=ps.scale, steps_per_frame=ps.steps_per_frame)
    return exported_sequence(config, seed)


def exported_sequence(config, seed: int) -> Sequence:
    """The frames ``pat-export`` would write for one seed (an ``ExportConfig``), as the scorer
    reads them, records kept for replays: the exporter's token columns, never made into maps."""
    from pattools.exporting import frame_columns
    from pattools.io import Record
    from pattools.score.sequences import read_sequences

    records = (Record.from_frame(envelope, tokens, f"export-{seed}", i)
               for i, (_, envelope, tokens) in enumerate(frame_columns(config, seed)))
    (seq,) = list(read_sequences(records, keep_records=True))
    return seq


def target_frames(seq: Sequence, first: int, stop: int | None = None) -> list:
    return [(f, t) for f, t in zip(seq.frames, seq.tokens) if f >= first and (stop is None or f < stop)]


def run_study(ps: PromptSet, editors: tuple[str, ...], replay_options=None,
              settings: EditorSettings = EditorSettings(), sequences: dict[int, Sequence] | None = None) -> list[Row]:
    """Every (kind, prompt, seed, editor) of the set, replayed with the delta decoder and scored."""
    from pattools.score.runner import score_original

    rows = []
    for seed in ps.seeds:
        seq = sequences[seed] if sequences and seed in sequences else export_sequence(ps, seed)
        targets = target_frames(seq, ps.first_target)
        keys, edits = [], []
        for kind, prompts in ps.prompts.items():
            for prompt in prompts:
                for editor in editors:
                    pkg = heuristic_edit(targets, seq.sim, seed, prompt, editor=editor, settings=settings)
                    edits.append((pkg, f"{ps.name}:{editor}", len(edits)))
                    keys.append((kind, prompt, editor))
        for (kind, prompt, editor), score in zip(keys, score_original([seq], edits, twice=False,
                                                                      replay_options=replay_options)):
            effect = score["intents"][0]["effect"] if score["intents"] else 0.0
            rows.append(Row(kind, prompt, seed, editor, score["faithfulness"], score["drift"],
                            score["editReward"], effect))
    return rows


def interval(per_seed: list[float]) -> tuple[float, float, float]:
    """(mean, low, high): a 95 % Student-t interval of the mean across seeds."""
    x = np.asarray(per_seed, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, mean, mean
    half = _T975[min(len(x) - 1, len(_T975)) - 1] * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class KindSummary:
    kind: str
    editor: str
    faith: tuple[float, float, float]
    reward: tuple[float, float, float]
    drift: float
    n: int


def summarise(rows: list[Row]) -> list[KindSummary]:
    """Per (kind, editor): faithfulness and EditReward means with 95 % intervals across seeds."""
    out = []
    kinds = list(dict.fromkeys(r.kind for r in rows))
    editors = list(dict.fromkeys(r.editor for r in rows))
    for kind in kinds:
        for editor in editors:
            sel = [r for r in rows if r.kind == kind and r.editor == editor]
            if not sel:
                continue
            seeds = sorted({r.seed for r in sel})
            faith = [float(np.mean([r.faithfulness for r in sel if r.seed == s])) for s in seeds]
            reward = [float(np.mean([r.reward for r in sel if r.seed == s])) for s in seeds]
            out.append(KindSummary(kind, editor, interval(faith), interval(reward),
                                   float(np.mean([r.drift for r in sel])), len(sel)))
    return out


def format_table(summaries: list[KindSummary]) -> str:
    lines = [f"{'kind':11s} {'editor':9s} {'n':>3s} {'faith':>8s} {'95% interval':>19s} "
             f"{'reward':>8s} {'95% interval':>19s} {'drift':>7s}"]
    for s in summaries:
        lines.append(f"{s.kind:11s} {s.editor:9s} {s.n:3d} {s.faith[0]:+8.3f} [{s.faith[1]:+7.3f}, {s.faith[2]:+7.3f}] "
                     f"{s.reward[0]:+8.3f} [{s.reward[1]:+7.3f}, {s.reward[2]:+7.3f}] {s.drift:7.3f}")
    return "\n".join(lines)
