"""Pausing the cyclic garbage collector while large acyclic structures are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large, acyclic structure is built.

    Decoded items hold no reference cycles (tags 28/29, which could make them, are refused),
    so the collector finds nothing in them; yet while a large item is built it walks the
    containers built so far again and again, which made decoding time grow faster than
    the item. Afterwards they go straight to the oldest generation (freeze, then unfreeze)
    instead of being walked once more by each younger collection; that is skipped when
    someone else has frozen objects, which unfreezing would release.

    The young generations are collected first: everything in them moves to the oldest
    generation with the item, and garbage moved there would wait for a full collection,
    which objects moved this way do not bring closer (a long fuzz run grew by 1.2 GB so).
    """
    enabled = gc.isenabled()
    if enabled:
        gc.collect(1)
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
