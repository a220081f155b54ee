"""Typed errors raised by library code; only the CLI entry wrapper turns them into exits.

A DataError names the input, the record index, the field path and what was expected
versus found, so the entry wrapper can print the one-line message of docs/design.md §3:
``pat-apply: edits.cbor: record 3: targets[0].dpat[2].stats.rho: expected number, got string``
"""

from __future__ import annotations


class PatError(Exception):
    """Base class of every error pattools reports without a traceback."""


class DataError(PatError):
    """Bad input data (schema, values, framing, missing file): exit code 1."""

    def __init__(
        self,
        message: str,
        *,
        input: str | None = None,
        record: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.input = input
        self.record = record
        self.path = path

    def located(self, *, input: str | None = None, record: int | None = None) -> "DataError":
        """Fill in the input name / record index where the raiser did not know them."""
        if self.input is None and input is not None:
            self.input = input
        if self.record is None and record is not None:
            self.record = record
        return self

    def __str__(self) -> str:
        parts = []
        if self.input is not None:
            parts.append(self.input)
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


class UsageError(PatError):
    """Bad command-line usage: exit code 2."""


def expected_found(expected: str, found: object) -> str:
    """The 'expected X, got Y' phrase used by every data error."""
    return f"expected {expected}, got {describe(found)}"


def describe(value: object) -> str:
    """Short JSON-ish type/value description for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return "string" if len(value) > 40 else f"string {value!r}"
    if isinstance(value, (list, tuple)):
        return f"array of length {len(value)}"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (bytes, bytearray)):
        return "byte string"
    if type(value).__name__ == "UndefinedType":  # cbor2's undefined (only io imports cbor2)
        return "CBOR undefined"
    return type(value).__name__
