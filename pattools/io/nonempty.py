"""Input with no records, where a command needs records, is a data error (docs/design.md §3).

Only pat-cat treats an empty stream as an empty result; every other command passes its
records through ``require_records`` so an empty file, an empty pipe (say, after an
upstream command failed) or a stream without the kind it needs ends with exit 1 and a
line naming the input, never with exit 0 and an empty output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from pattools.errors import DataError

T = TypeVar("T")


def input_names(inputs: Sequence[str]) -> str:
    """How the inputs are named in messages ('-' is <stdin>)."""
    names = ["<stdin>" if name == "-" else name for name in inputs] or ["<stdin>"]
    return names[0] if len(names) == 1 else ", ".join(names)


class require_records(Iterator[T]):  # noqa: N801 - used like the generator function it replaced
    """``records`` unchanged; at their end, a DataError if there were none. ``count``:
    how many went through (for -v reports)."""

    def __init__(self, records: Iterable[T], inputs: Sequence[str], expected: str) -> None:
        self._records = iter(records)
        self._inputs = inputs
        self._expected = expected
        self.count = 0

    def __iter__(self) -> "require_records[T]":
        return self

    def __next__(self) -> T:
        try:
            record = next(self._records)
        except StopIteration:
            if self.count == 0:
                raise DataError(f"expected {self._expected}, got no records",
                                input=input_names(self._inputs)) from None
            raise
        self.count += 1
        return record
