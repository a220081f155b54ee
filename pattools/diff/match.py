"""Pairing the records of two inputs by kind and key.

Keys: PAT_FRAME by seed and frame, PAT_EDIT and PAT_PACK by id, PAT_SCORE by edit and
seed, NUPCA_TRACE by t; any other kind by its position among the records of that kind.
A key met twice on one side pairs with the same occurrence on the other.

The two inputs are read in lockstep, a record from each in turn, and a record waits only
until its partner arrives: inputs in the same order (the usual case) are compared in
flat memory, and any order still pairs correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pattools.io import Record

KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "PAT_FRAME": ("seed", "frame"),
    "PAT_EDIT": ("id",),
    "PAT_PACK": ("id",),
    "PAT_SCORE": ("edit", "seed"),
    "NUPCA_TRACE": ("t",),
}


@dataclass
class Keyed:
    """A record with its kind, key (as a map, for reports) and order in its input."""

    record: Record
    kind: str
    key: dict
    order: int


class _Side:
    def __init__(self, records: Iterable[Record]) -> None:
        self.records = iter(records)
        self.order = 0
        self.seen: dict[tuple, int] = {}
        self.done = False

    def next(self) -> tuple[tuple, Keyed] | None:
        if self.done:
            return None
        record = next(self.records, None)
        if record is None:
            self.done = True
            return None
        value = record.value
        kind = value.get("kind")
        names = KEY_FIELDS.get(kind, ())
        key = {name: value.get(name) for name in names}
        natural = (kind,) + tuple(key.values())
        occurrence = self.seen.get(natural, 0)
        self.seen[natural] = occurrence + 1
        if not names:
            key = {"position": occurrence}
        elif occurrence:
            key["occurrence"] = occurrence
        keyed = Keyed(record, kind, key, self.order)
        self.order += 1
        return natural + (occurrence,), keyed


def paired(records_a: Iterable[Record], records_b: Iterable[Record],
           unpaired: list[tuple[str, Keyed]]) -> Iterator[tuple[Keyed, Keyed]]:
    """Pairs (a, b) of records with one key; records without a partner are appended to
    ``unpaired`` (those of a first, each side in its input order) once both are read."""
    sides = (_Side(records_a), _Side(records_b))
    waiting: tuple[dict, dict] = ({}, {})
    while not (sides[0].done and sides[1].done):
        for this in (0, 1):
            got = sides[this].next()
            if got is None:
                continue
            key, keyed = got
            partner = waiting[1 - this].pop(key, None)
            if partner is None:
                waiting[this][key] = keyed
            elif this == 0:
                yield keyed, partner
            else:
                yield partner, keyed
    unpaired.extend(("a", keyed) for keyed in waiting[0].values())
    unpaired.extend(("b", keyed) for keyed in waiting[1].values())
