"""Comparing two record streams: pair the records, then compare each pair.

A frame's envelope goes to the value walker and its tokens, as columns (the one form of
a frame's tokens past io, whatever shape they were written in), to the column
comparison; a pair whose encoded bytes are equal (same framing, same record) is equal
without either.
"""

from __future__ import annotations

from collections.abc import Iterable

from pattools.diff.fields import Rules
from pattools.diff.match import Keyed, paired
from pattools.diff.tally import MISSING, Tally
from pattools.diff.tokens import compare_token_frames
from pattools.diff.values import ValueComparer, Where
from pattools.io import Record


def compare_streams(records_a: Iterable[Record], records_b: Iterable[Record], rules: Rules) -> Tally:
    """The tally of every difference between two inputs (read once, in lockstep)."""
    tally = Tally()
    values = ValueComparer(rules, tally)
    unpaired: list[tuple[str, Keyed]] = []
    for a, b in paired(records_a, records_b, unpaired):
        tally.matched += 1
        _compare_pair(values, a, b)
    for side, keyed in unpaired:
        tally.only.append((side, keyed.kind, keyed.key, keyed.order))
    tally.records_a = tally.matched + sum(side == "a" for side, _ in unpaired)
    tally.records_b = tally.matched + sum(side == "b" for side, _ in unpaired)
    return tally


def _compare_pair(values: ValueComparer, a: Keyed, b: Keyed) -> None:
    ra, rb = a.record, b.record
    if ra.same_bytes(rb):
        return
    where = Where(a.kind, a.key, a.order)
    values.compare(where, ra.value, rb.value)
    if a.kind != "PAT_FRAME":
        return
    if ra.tokens is not None and rb.tokens is not None:
        compare_token_frames(values, where, ra.tokens.frame(), rb.tokens.frame())
    elif ra.tokens is not None or rb.tokens is not None:  # a frame without tokens (read unvalidated)
        ids_a = MISSING if ra.tokens is None else ra.tokens.frame().patch_ids
        ids_b = MISSING if rb.tokens is None else rb.tokens.frame().patch_ids
        values.one_sided(where, ids_a, ids_b, ("tokens",), "tokens")
