"""Progress on stderr, only when stderr is a terminal (rich is imported only then)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pattools.cli.base import Streams


@contextmanager
def frame_progress(streams: Streams, frames: int, seeds: int, *, quiet: bool = False) -> Iterator[Callable[..., None]]:
    """A ``tick(frames_done, seed_done=False)`` callback driving a frames/seeds bar, or a no-op."""
    isatty = getattr(streams.stderr, "isatty", None)
    if quiet or isatty is None or not isatty():
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=streams.stderr)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        frame_task = bar.add_task("frames", total=frames)
        seed_task = bar.add_task("seeds ", total=seeds)

        def tick(done: int = 1, seed_done: bool = False) -> None:
            if done:
                bar.advance(frame_task, done)
            if seed_done:
                bar.advance(seed_task, 1)

        yield tick


def _no_progress(done: int = 1, seed_done: bool = False) -> None:
    return None
