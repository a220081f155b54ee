"""Comparing two decoded values of one record, field by field.

Maps are compared key by key (a key on one side only is a one-sided value; a typed array
compares by its numbers, whether its data came as CBOR bytes or a JSON list), arrays item
by item, except a token array, whose tokens are paired by ``hdr.patchId``. Numbers
(integers and floats alike; booleans are not numbers) are compared with the field's
tolerance; anything else must be equal, type included. Subtrees equal to the bit are
skipped at C speed before any walking.
"""

from __future__ import annotations

from dataclasses import dataclass

from pattools.diff.fields import Rules, difference, within
from pattools.diff.tally import MISSING, Place, Tally
from pattools.io import typed_arrays_as_lists
from pattools.schema import same_value


Token = tuple[str, int] | None  # inside a frame's tokens: (patchId, position: A's row, or after A's for B's own)


@dataclass(frozen=True)
class Where:
    """The record being compared: its kind, key and order in the first input."""

    kind: str
    key: dict
    order: int

    def place(self, path: str, token: Token = None) -> Place:
        if token is None:
            return Place(self.key, self.order, path)
        return Place(self.key, self.order, path, token[0], token[1])


def is_number(value: object) -> bool:
    kind = type(value)
    return kind is float or kind is int


class ValueComparer:
    """Walks two values and tallies what differs."""

    def __init__(self, rules: Rules, tally: Tally) -> None:
        self.rules = rules
        self.tally = tally

    def compare(self, where: Where, a: object, b: object, path: tuple[str, ...] = (), concrete: str = "",
                token: Token = None) -> None:
        if same_value(a, b):
            return
        tolerance = self.rules.of(path)
        if tolerance is None:
            return
        if type(a) is dict and type(b) is dict:
            a, b = _plain(a), _plain(b)
            if not same_value(a, b):
                self._maps(where, a, b, path, concrete, token)
        elif type(a) is list and type(b) is list:
            self._arrays(where, a, b, path, concrete, token)
        elif is_number(a) and is_number(b):
            delta = difference(a, b, tolerance.period)
            tally = self.tally.field(where.kind, path, tolerance)
            if delta > 0:
                tally.note_max(delta, where.place(concrete, token), a, b)
            if not within(delta, a, b, tolerance):
                tally.differing += 1
                tally.note_first(where.place(concrete, token), a, b)
        else:  # not equal, or equal in another type (True and 1)
            tally = self.tally.field(where.kind, path, tolerance)
            tally.differing += 1
            tally.note_first(where.place(concrete, token), a, b)

    def one_sided(self, where: Where, a: object, b: object, path: tuple[str, ...], concrete: str,
                  token: Token = None) -> None:
        tolerance = self.rules.of(path)
        if tolerance is not None:
            self.tally.one_sided(where.kind, path, tolerance, where.place(concrete, token), a, b)

    def _maps(self, where: Where, a: dict, b: dict, path: tuple[str, ...], concrete: str,
              token: Token) -> None:
        prefix = f"{concrete}." if concrete else ""
        for key, value in a.items():
            other = b.get(key, MISSING)
            if other is MISSING:
                self.one_sided(where, value, MISSING, path + (key,), prefix + key, token)
            else:
                self.compare(where, value, other, path + (key,), prefix + key, token)
        for key, value in b.items():
            if key not in a:
                self.one_sided(where, MISSING, value, path + (key,), prefix + key, token)

    def _arrays(self, where: Where, a: list, b: list, path: tuple[str, ...], concrete: str,
                token: Token) -> None:
        if path[-1:] == ("tokens",):
            ids_a, ids_b = token_ids(a), token_ids(b)
            if ids_a is not None and ids_b is not None:
                self._tokens(where, a, b, ids_a, ids_b, path, concrete)
                return
        for index, (item_a, item_b) in enumerate(zip(a, b)):
            self.compare(where, item_a, item_b, path, f"{concrete}[{index}]", token)
        for index in range(len(b), len(a)):
            self.one_sided(where, a[index], MISSING, path, f"{concrete}[{index}]", token)
        for index in range(len(a), len(b)):
            self.one_sided(where, MISSING, b[index], path, f"{concrete}[{index}]", token)

    def _tokens(self, where: Where, a: list, b: list, ids_a: list[str], ids_b: list[str],
                path: tuple[str, ...], concrete: str) -> None:
        rows_b = {pid: row for row, pid in enumerate(ids_b)}
        for row, pid in enumerate(ids_a):
            other = rows_b.get(pid)
            if other is None:
                self.one_sided(where, pid, MISSING, path, f"{concrete}[{row}]", (pid, row))
            else:
                self.compare(where, a[row], b[other], path, f"{concrete}[{row}]", (pid, row))
        present = set(ids_a)
        for row, pid in enumerate(ids_b):
            if pid not in present:
                self.one_sided(where, MISSING, pid, path, f"{concrete}[{row}]", (pid, len(ids_a) + row))


def _plain(value: dict) -> dict:
    """A typed array whose data is bytes (as CBOR carries it) with its data as a list of
    numbers (as JSON lines carry it), so the same array compares equal in both framings."""
    if type(value.get("data")) is bytes:
        return typed_arrays_as_lists(value)  # type: ignore[return-value]
    return value


def token_ids(tokens: list) -> list[str] | None:
    """The patchIds of a token array, when every item has one and none repeats."""
    ids = []
    for token in tokens:
        header = token.get("hdr") if type(token) is dict else None
        pid = header.get("patchId") if type(header) is dict else None
        if type(pid) is not str:
            return None
        ids.append(pid)
    return ids if len(set(ids)) == len(ids) else None
