"""Callbacks told when numba starts a real compilation (a cache load does not count).

The kernels know nothing of commands: whoever wants to say something before the first
compilation of a run (``pattools.notices``) registers a callback here. ``_jit`` hooks
numba's compile event and calls them. This module does not import numba, so registering
costs a command nothing when it never loads a kernel.
"""

from __future__ import annotations

from collections.abc import Callable

_CALLBACKS: list[Callable[[], None]] = []


def on_compile_start(callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever numba starts compiling a kernel (registered once)."""
    if callback not in _CALLBACKS:
        _CALLBACKS.append(callback)


def compile_started() -> None:
    """Called by ``_jit``'s numba listener."""
    for callback in tuple(_CALLBACKS):
        callback()
