"""The one line a command prints before numba compiles kernels for the first time.

A fresh checkout or installation has no compiled kernels: the first run of a computing
command spends tens of seconds compiling them (then they load from the cache).
``configure`` registers ``compile_starting`` with ``pattools.kernels.compile_events``,
which numba's compile event drives (it fires only for a real compilation, not a cache
load), so the line appears exactly when the wait begins, at most once per command run;
worker processes (``--jobs``) share a marker file so that only the first of them to
compile says it. The kernels import nothing of pattools, so the notice registers with
them; ``compile_events`` does not import numba, so registering costs a command nothing.
"""

from __future__ import annotations

import os
import sys

# Seconds a cold compile took on a 2-core machine (pat-export measured 39 s, bench note).
ESTIMATES = {"pat-export": 40, "pat-replay": 60, "pat-score": 70, "nupca-step": 30}
DEFAULT_ESTIMATE = 30


class _Config:
    name: str | None = None  # None: not a command run (library use): say nothing
    quiet: bool = True
    shown: bool = False
    marker: str | None = None  # workers: the file whose creation claims the notice


def configure(name: str, *, quiet: bool, marker: str | None = None) -> None:
    """Enable the notice for command ``name`` (unless quiet) in this process."""
    from pattools.kernels.compile_events import on_compile_start

    on_compile_start(compile_starting)
    _Config.name = name
    _Config.quiet = quiet
    _Config.shown = False
    _Config.marker = marker


def settings() -> tuple[str | None, bool]:
    """(name, quiet), for passing on to worker processes."""
    return _Config.name, _Config.quiet


def compile_starting() -> None:
    """Called by numba's compile event: print the notice the first time."""
    if _Config.shown or _Config.quiet or _Config.name is None:
        return
    _Config.shown = True
    if _Config.marker is not None:
        try:
            os.close(os.open(_Config.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except OSError:
            return  # another worker said it
    seconds = ESTIMATES.get(_Config.name, DEFAULT_ESTIMATE)
    try:
        sys.stderr.write(f"{_Config.name}: compiling kernels for first use, once, about {seconds} s\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
