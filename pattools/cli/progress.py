"""Progress on stderr, only when stderr is a terminal and stdout is not (rich is imported
only then): records written to the terminal are the progress, and a bar redrawn between
them would garble them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pattools.cli.base import Streams


@contextmanager
def frame_progress(streams: Streams, frames: int, seeds: int, *, quiet: bool = False) -> Iterator[Callable[..., None]]:
    """A ``tick(frames_done, seed_done=False)`` callback driving a frames/seeds bar, or a no-op."""
    if quiet or not _isatty(streams.stderr) or _isatty(streams.stdout):
        yield _no_progress
        return
    from pattools import interrupts
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=streams.stderr)
    # on a signal the process leaves at once (pattools.interrupts): erase the bar, show the cursor
    # Two redraws a second: each redraw rewrites the lines above the cursor, and on Ctrl-C
    # the other commands of a pipeline print their line at once; a rarer redraw makes it
    # unlikely that one lands before this process has frozen the bar.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, refresh_per_second=2) as bar:
        key = interrupts.add_cleanup(lambda: _freeze_and_erase(bar))
        frame_task = bar.add_task("frames", total=frames)
        seed_task = bar.add_task("seeds ", total=seeds)

        def tick(done: int = 1, seed_done: bool = False) -> None:
            if done:
                bar.advance(frame_task, done)
            if seed_done:
                bar.advance(seed_task, 1)

        try:
            yield tick
        finally:
            interrupts.remove_cleanup(key)


def _isatty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:
        return False


def _freeze_and_erase(bar) -> None:
    """On a signal: stop the bar's refresh thread from drawing again (it would draw over the
    lines other commands of the pipeline print now), then clear the cursor's line."""
    import os

    lock = getattr(getattr(bar, "live", None), "_lock", None)
    if lock is not None:
        lock.acquire(timeout=0.5)  # held until the process leaves
    # Only the line the cursor is on (the bar's last line, or an empty one when another
    # command of the pipeline printed since): moving up could erase that command's line.
    os.write(2, b"\r\x1b[2K\x1b[?25h")


def _no_progress(done: int = 1, seed_done: bool = False) -> None:
    return None
