"""The one table of commands: console scripts, bin/ launchers, man pages and meta-tests use it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandInfo:
    name: str
    module: str
    summary: str
    memory: str  # "streams", "retains per sequence" or "retains all" (stated in the man page)


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("pat-export", "pattools.cli.export",
                "run the deterministic Kuramoto lattice per seed and tokenize every frame into PAT tokens",
                "streams (one frame of lattice state per seed task)"),
    CommandInfo("pat-cat", "pattools.cli.cat",
                "read, convert (CBOR/JSONL), select, validate and summarize PAT data", "streams"),
    CommandInfo("pat-pack", "pattools.cli.pack",
                "pack prompts and PAT token windows into training records", "retains per sequence"),
    CommandInfo("pat-baseline", "pattools.cli.baseline",
                "turn edit prompts into ΔPAT edits without learning (heuristic, null and random editors)",
                "retains per sequence"),
    CommandInfo("pat-apply", "pattools.cli.apply", "apply ΔPAT edits to PAT frames deterministically",
                "streams (edits are held in memory)"),
    CommandInfo("pat-replay", "pattools.cli.replay",
                "rebuild attention fields from tokens and re-run the simulation", "streams per sequence"),
    CommandInfo("pat-score", "pattools.cli.score",
                "EditReward: faithfulness, preservation drift, determinism and code usage of an edit",
                "retains all"),
    CommandInfo("pat-render", "pattools.cli.render",
                "pictures of lattice fields, token patch maps and edit effects",
                "streams (one lattice state per sequence; animations hold their frames)"),
    CommandInfo("pat-diff", "pattools.cli.diff",
                "compare two PAT outputs field by field with tolerances (exit 0 equal, 1 different, 2 trouble)",
                "streams when both inputs are in the same order (a record waits only for its partner)"),
    CommandInfo("nupca-step", "pattools.cli.nupca_step",
                "the NUPCA3 predictive-completion agent step", "streams (state held in memory)"),
)


def by_name(name: str) -> CommandInfo:
    for info in COMMANDS:
        if info.name == name:
            return info
    raise KeyError(name)
