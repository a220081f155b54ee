"""pat-score's inputs must describe the same run: a base and an edited replay of the same
sequences (docs/design.md §3). Scoring a replay against another run (another dt, grid, decoder
or gains) or against a raw export would give a number that means nothing, so it is a data
error naming the first mismatch."""

from __future__ import annotations

from pattools.errors import DataError, describe
from pattools.score.sequences import Sequence

REPLAY_KEYS = ("decoder", "gains", "constants")  # the replay block's editId differs by design


def check_matched(base: list[Sequence], other: list[Sequence], what: str) -> None:
    """Every sequence of ``other`` (the edited replay, or the second one) and the base
    sequence of its seed are replays of one run: same sim, same frames, replay blocks on
    both with the same decoder, gains and constants."""
    bases = {seq.seed: seq for seq in base}
    for seq in base:
        _require_replay(seq, "the base replay")
    for seq in other:
        _require_replay(seq, what)
        ref = bases.get(seq.seed)
        if ref is None:
            continue  # reported by the scorer ("the base replay has no sequence for seed ...")
        where = f"seed {seq.seed}"
        mismatch = _first_difference(ref.sim, seq.sim, "sim")
        if mismatch is not None:
            path, expected, found = mismatch
            raise _error(seq, where, path, expected, found)
        if ref.frames != seq.frames:
            position = next((i for i, (a, b) in enumerate(zip(ref.frames, seq.frames)) if a != b),
                            min(len(ref.frames), len(seq.frames)))
            expected = ref.frames[position] if position < len(ref.frames) else "no more frames"
            found = seq.frames[position] if position < len(seq.frames) else "no more frames"
            raise _error(seq, f"{where}: frame position {position}", "frame", expected, found)
        for key in REPLAY_KEYS:
            mismatch = _first_difference(ref.replays[0].get(key), seq.replays[0].get(key), f"replay.{key}")
            if mismatch is not None:
                path, expected, found = mismatch
                raise _error(seq, where, path, expected, found)


def _require_replay(seq: Sequence, what: str) -> None:
    for position, block in enumerate(seq.replays):
        if not isinstance(block, dict):
            raise DataError(f"expected frames written by pat-replay (with a replay block), got frame "
                            f"{seq.frames[position]} of seed {seq.seed} without one ({what}: replay "
                            "the frames first)", input=seq.input, path="replay")
    first = seq.replays[0] if seq.replays else None
    for position, block in enumerate(seq.replays):
        for key in REPLAY_KEYS:
            if block.get(key) != first.get(key):
                raise DataError(f"replay.{key} of frame {seq.frames[position]} differs from frame "
                                f"{seq.frames[0]} of seed {seq.seed}", input=seq.input, path=f"replay.{key}")


def _first_difference(expected: object, found: object, path: str) -> tuple[str, object, object] | None:
    """(path, expected, found) of the first difference between two JSON-like values."""
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in list(expected) + [k for k in found if k not in expected]:
            if key not in found or key not in expected:
                return f"{path}.{key}", expected.get(key, "absent"), found.get(key, "absent")
            inner = _first_difference(expected[key], found[key], f"{path}.{key}")
            if inner is not None:
                return inner
        return None
    if type(expected) is not type(found) and not (_number(expected) and _number(found)):
        return path, expected, found
    return None if expected == found else (path, expected, found)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _error(seq: Sequence, where: str, path: str, expected: object, found: object) -> DataError:
    def show(value: object) -> str:
        return value if isinstance(value, str) and value in ("absent", "no more frames") else describe(value)

    return DataError(f"{where}: not a replay of the base's run: expected {show(expected)} as in the base "
                     f"replay, got {show(found)}", input=seq.input, path=path)
