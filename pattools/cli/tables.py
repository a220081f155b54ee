"""Rich tables for people at a terminal (imported only when one is shown)."""

from __future__ import annotations

import io
from typing import BinaryIO


def print_summary_table(summary: dict, stream: BinaryIO) -> None:
    from rich.console import Console
    from rich.table import Table

    text = io.StringIO()
    console = Console(file=text, force_terminal=None, width=100)
    kinds = Table(title=f"{summary['records']} records")
    kinds.add_column("kind")
    kinds.add_column("records", justify="right")
    for kind, count in summary["kinds"].items():
        kinds.add_row(kind, str(count))
    console.print(kinds)
    if summary.get("sequences"):
        seqs = Table(title="sequences")
        for column in ("seed", "frames", "first", "last", "grid", "scale", "tokens/frame"):
            seqs.add_column(column, justify="right")
        for seq in summary["sequences"]:
            seqs.add_row(str(seq["seed"]), str(seq["frames"]), str(seq["first"]), str(seq["last"]),
                         f"{seq['W']}x{seq['H']}", str(seq["scale"]), str(seq["tokensPerFrame"]))
        console.print(seqs)
    atlas = summary.get("atlas")
    if atlas:
        table = Table(title=f"TokenAtlas over {atlas['count']} tokens "
                            f"(joint perplexity {atlas['jointPerplexity']:.3f})")
        table.add_column("dim")
        table.add_column("usage", justify="right")
        table.add_column("perplexity", justify="right")
        names = atlas.get("features") or [str(d) for d in range(atlas["dims"])]
        for name, usage, perplexity in zip(names, atlas["usage"], atlas["perplexity"]):
            table.add_row(name, f"{usage:.2f}", f"{perplexity:.3f}")
        others = atlas.get("otherLengths")
        if others:
            table.caption = "not pooled: " + ", ".join(
                f"{count} {'code' if count == 1 else 'codes'} of length {length}" for length, count in others.items())
        console.print(table)
    stream.write(text.getvalue().encode())
