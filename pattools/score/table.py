"""Rich tables of PAT_SCORE records for people (written to stderr by ``--table``)."""

from __future__ import annotations

import io
from typing import TextIO


def _console(text: io.StringIO):
    from rich.console import Console

    return Console(file=text, width=110, color_system=None, force_terminal=False)


def print_score_table(score: dict, stream: TextIO) -> None:
    from rich.table import Table

    text = io.StringIO()
    console = _console(text)
    table = Table(title=f"{score.get('edit', '')} (seed {score.get('seed')})")
    for column in ("clause", "feature", "patches", "effect", "scale", "faithfulness"):
        table.add_column(column, justify="left" if column in ("clause", "feature") else "right")
    for intent in score.get("intents", []):
        table.add_row(intent["clause"], intent["scoredFeature"], str(intent["patches"]),
                      f"{intent['effect']:+.4f}", f"{intent['scale']:.4g}", f"{intent['faithfulness']:+.4f}")
    console.print(table)
    rmse = score.get("determinismRMSE")
    atlas = score.get("atlas")
    lines = [
        f"editReward {score['editReward']:+.4f} = faithfulness {score['faithfulness']:+.4f} "
        f"- {score.get('lambda', 1):g} x drift {score['drift']:.4f}",
        f"window {score['window']['start']}:{score['window']['stop']} ({score['window']['frames']} frames), "
        f"background {score.get('backgroundPatches')} patches, halo {score.get('halo')}",
        "drift by feature: " + ", ".join(f"{k} {v:.4f}" for k, v in score.get("driftByFeature", {}).items()),
        f"edited tokens {score.get('editedTokens')}, edit size {score.get('editSize', 0):.3f}, "
        f"determinism RMSE {'not measured' if rmse is None else format(rmse, '.3g')}",
    ]
    if atlas is not None:
        lines.append("perplexity delta: " + ", ".join(f"{d:+.3f}" for d in atlas["delta"]["perplexity"])
                     + f" (joint {atlas['delta']['jointPerplexity']:+.3f}); "
                     + ("healthy" if atlas["healthy"] else "NOT healthy"))
    for line in lines:
        console.print(line, highlight=False)
    stream.write(text.getvalue())


def print_summary_table(rows: list[dict], stream: TextIO) -> None:
    from rich.table import Table

    text = io.StringIO()
    console = _console(text)
    table = Table(title="EditReward per editor (means)")
    for column in ("editor", "edits", "editReward", "faithfulness", "drift", "healthy", "determinism RMSE"):
        table.add_column(column, justify="left" if column == "editor" else "right")
    for row in rows:
        rmse = row.get("determinismRMSE")
        share = row.get("healthyShare")
        table.add_row(row["group"], str(row["edits"]), f"{row['editReward']:+.4f}", f"{row['faithfulness']:+.4f}",
                      f"{row['drift']:.4f}", "-" if share is None else f"{share:.0%}",
                      "not measured" if rmse is None else f"{rmse:.3g}")
    console.print(table)
    stream.write(text.getvalue())
