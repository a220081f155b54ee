"""Comparing two record streams: pair the records, then compare each pair.

A frame's envelope goes to the value walker and its tokens to the column comparison; a
pair whose encoded bytes are equal (same framing, same record) is equal without either.
"""

from __future__ import annotations

from collections.abc import Iterable

from pattools.diff.fields import Rules
from pattools.diff.match import Keyed, paired
from pattools.diff.tally import Tally
from pattools.diff.tokens import compare_token_frames
from pattools.diff.values import ValueComparer, Where
from pattools.io import Record
from pattools.tokens.frame import TokenFrame


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
    if a.kind != "PAT_FRAME":
        values.compare(where, ra.value, rb.value)
        return
    columns_a, columns_b = _columns(ra), _columns(rb)
    if columns_a is None or columns_b is None:  # tokens the columns cannot hold: walk them
        values.compare(where, ra.document(), rb.document())
        return
    values.compare(where, ra.value, rb.value)
    compare_token_frames(values, where, columns_a, columns_b)


def _columns(record: Record) -> TokenFrame | None:
    if record.tokens is None:
        return None
    if record.tokens.exact():
        return record.tokens.frame()
    try:
        return TokenFrame.from_tokens(record.tokens.maps())
    except ValueError:  # codes of different lengths in one frame
        return None
