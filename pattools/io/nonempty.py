"""Input with no records, where a command needs records, is a data error (DESIGN.md §3).

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


def require_records(records: Iterable[T], inputs: Sequence[str], expected: str) -> Iterator[T]:
    """``records`` unchanged; at their end, a DataError if there were none."""
    seen = False
    for record in records:
        seen = True
        yield record
    if not seen:
        raise DataError(f"expected {expected}, got no records", input=input_names(inputs))
