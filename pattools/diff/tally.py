"""The running account of differences, per record kind and field.

For each field: how many values differ beyond tolerance, how many are present on one
side only, the largest |Δ| with where it is and the two values there,
and the first place (in the first input's record order) where the field differs.
Records present on one side only are listed in the order met.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pattools.diff.fields import Tolerance


@dataclass
class Place:
    """Where a value is: the record (its kind's key), its order in the first input, the
    concrete path (with array positions) and, inside a frame's tokens, the patchId and
    position (so the first difference is the first in token order, however found)."""

    record: dict
    order: int
    path: str
    patch_id: str | None = None
    row: int = -1  # inside a frame's tokens: the token's position (first input's rows first)


@dataclass
class FieldTally:
    kind: str
    path: tuple[str, ...]
    tolerance: Tolerance
    differing: int = 0
    only_a: int = 0
    only_b: int = 0
    max_abs: float | None = None  # over every numeric pair compared, within tolerance or not
    max_place: Place | None = None
    max_values: tuple[object, object] | None = None
    first: Place | None = None  # first place that differs (beyond tolerance, or one-sided)
    first_values: tuple[object, object] | None = None

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def differs(self) -> bool:
        return bool(self.differing or self.only_a or self.only_b)

    def note_max(self, delta: float, place: Place, a: object, b: object) -> None:
        if self.max_abs is None or delta > self.max_abs:
            self.max_abs = delta
            self.max_place = place
            self.max_values = (a, b)

    def note_first(self, place: Place, a: object, b: object) -> None:
        if self.first is None or (place.order, place.row) < (self.first.order, self.first.row):
            self.first = place
            self.first_values = (a, b)


MISSING = object()  # the side of a one-sided value that has nothing


@dataclass
class Tally:
    fields: dict[tuple[str, tuple[str, ...]], FieldTally] = field(default_factory=dict)
    only: list[tuple[str, str, dict, int]] = field(default_factory=list)  # (side, kind, key, index)
    records_a: int = 0
    records_b: int = 0
    matched: int = 0

    def field(self, kind: str, path: tuple[str, ...], tolerance: Tolerance) -> FieldTally:
        key = (kind, path)
        found = self.fields.get(key)
        if found is None:
            found = self.fields[key] = FieldTally(kind, path, tolerance)
        return found

    def one_sided(self, kind: str, path: tuple[str, ...], tolerance: Tolerance, place: Place,
                  a: object, b: object) -> None:
        """A value (a map key, a token, an array item) present on one side only."""
        tally = self.field(kind, path, tolerance)
        if a is MISSING:
            tally.only_b += 1
        else:
            tally.only_a += 1
        tally.note_first(place, None if a is MISSING else a, None if b is MISSING else b)

    @property
    def equal(self) -> bool:
        return not self.only and not any(tally.differs for tally in self.fields.values())
