"""Checks of a NUPCA_STATE record's parts as they are read back: a required field, a
condition, index ranges and offset arrays. The kernels do not bounds-check, so a state
that fails one is a one-line data error, never a crash."""

from __future__ import annotations

import numpy as np

from pattools.errors import DataError, expected_found


def field(record: dict, key: str, path: str) -> object:
    """``record[key]``, or a data error naming ``path.key``."""
    if not isinstance(record, dict):
        raise DataError(expected_found("object", record), path=path)
    if key not in record:
        raise DataError("expected a value, got nothing (required field missing)", path=f"{path}.{key}" if path else key)
    return record[key]


def require(condition: bool, message: str, path: str) -> None:
    if not condition:
        raise DataError(message, path=path)


def check_index(values: np.ndarray, bound: int, path: str, low: int = 0) -> None:
    """Every value in [low, bound)."""
    if values.size and (int(values.min()) < low or int(values.max()) >= bound):
        bad = values[(values < low) | (values >= bound)].ravel()[0]
        raise DataError(f"expected an index in [{low}, {bound}), got {int(bad)}", path=path)


def check_ptr(ptr: np.ndarray, nodes: int, total: int, path: str) -> None:
    """Offsets of ``nodes`` runs that cover ``total`` items: non-decreasing from 0."""
    require(ptr.shape == (nodes + 1,), f"expected {nodes + 1} offsets, got {ptr.shape[0]}", path)
    require(int(ptr[0]) == 0 and int(ptr[-1]) == total and bool(np.all(np.diff(ptr) >= 0)),
            f"expected non-decreasing offsets from 0 to {total}", path)
