"""Half-open ranges ``A:B`` and seed lists ``1,2,10:20`` as docs/design.md §2 defines them."""

from __future__ import annotations

import argparse

MAX_SEED = 2**32 - 1


def parse_range(text: str) -> tuple[int | None, int | None]:
    """``"4:8"`` → (4, 8); either end may be empty; a bare ``"5"`` means 5:6."""
    try:
        if ":" not in text:
            value = int(text)
            if value < 0:
                raise ValueError
            return value, value + 1
        start_text, stop_text = text.split(":", 1)
        start = int(start_text) if start_text.strip() else None
        stop = int(stop_text) if stop_text.strip() else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a range A:B of non-negative integers, got {text!r}") from None
    if (start is not None and start < 0) or (stop is not None and stop < 0):
        raise argparse.ArgumentTypeError(f"expected non-negative range ends, got {text!r}")
    return start, stop


def in_range(value: int, bounds: tuple[int | None, int | None] | None) -> bool:
    if bounds is None:
        return True
    start, stop = bounds
    return (start is None or value >= start) and (stop is None or value < stop)


def parse_seed_list(text: str) -> list[int]:
    """``"1234,5678"``, ``"0:1000"`` (half-open) or a mix; order kept, duplicates refused."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise argparse.ArgumentTypeError(f"expected seeds like 1,2,10:20, got {text!r}")
        if ":" in part:
            start, stop = parse_range(part)
            if start is None or stop is None:
                raise argparse.ArgumentTypeError(f"a seed range needs both ends, got {part!r}")
            if stop <= start:
                raise argparse.ArgumentTypeError(f"empty seed range {part!r} (A:B is half-open: B must "
                                                 f"be greater than A)")
            seeds.extend(range(start, stop))
        else:
            try:
                seeds.append(int(part))
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected an integer seed, got {part!r}") from None
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise argparse.ArgumentTypeError(f"seed {seed} outside 0..{MAX_SEED}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"duplicate seeds in {text!r}")
    return seeds
