"""pattools: composable Unix commands for token-space editing of oscillator-lattice dynamics.

For notebooks, the commands are also functions over in-memory records (``pattools.api``,
loaded on first use so ``import pattools`` stays fast)::

    import pattools
    frames = pattools.export_frames(seeds=7, W=32, H=32, frames=4, scale=16)
    edits = pattools.baseline_edits(frames, "increase coherence on rim")
    edited = pattools.apply_edits(frames, edits)
    scores = pattools.score_edits(frames, edit=edits)
"""

__version__ = "0.1.0"

__all__ = ["read_records", "iter_records", "write_records", "dumps", "loads", "export_frames", "baseline_edits",
           "apply_edits", "replay_frames", "score_edits", "run_command", "run_bytes", "DataError", "UsageError",
           "__version__"]

_API = frozenset(__all__) - {"DataError", "UsageError", "__version__"}


def __getattr__(name: str):
    if name in _API:
        from pattools import api

        return getattr(api, name)
    if name in ("DataError", "UsageError"):
        from pattools import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'pattools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
