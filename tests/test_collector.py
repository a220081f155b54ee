"""collector_paused: the collector is paused while a structure is built, and no garbage is
kept alive by moving it to the oldest generation afterwards."""

from __future__ import annotations

import gc
import weakref

from pattools.collector import collector_paused


class _Node:
    pass


def _young_cycle() -> weakref.ref:
    """A reference cycle that only the cyclic collector can free, made while it cannot run."""
    node = _Node()
    node.itself = node
    return weakref.ref(node)


def test_young_garbage_is_collected_not_promoted():
    enabled = gc.isenabled()
    gc.disable()
    try:
        cycle = _young_cycle()
        gc.enable()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        assert cycle() is None
    finally:
        gc.enable() if enabled else gc.disable()


def test_disabled_collector_stays_disabled():
    enabled = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable() if enabled else gc.disable()
