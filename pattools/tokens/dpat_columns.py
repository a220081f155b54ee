"""Checked columns straight from a list of plain DPat maps (the common shapes only).

Why: checking a DPat costs ≈ 7 µs in the compiled schema and as much again in the
per-field walk of ``Deltas.from_dpats``, and an edit file may hold hundreds of
thousands of them. ``dpat_columns`` does both at once with C-level iteration (``map``
over the list), for DPats whose every value has the plain type: maps are dicts with
known keys and a patchId, patchId is a str, stats and geom values are finite floats or
ints, topo and rvqDelta values are ints (never bools).

It answers ``None`` for anything else, valid or not (an integral float for an integer,
a NaN, an unknown key, a string), and the caller takes the per-field walk, whose errors
name the first bad field. So an accepted list is also valid against the DPat schema
(tests/test_dpat_fast.py checks both claims on a mutation corpus against jsonschema), and
its columns are exactly what the per-field walk builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import itemgetter

import numpy as np

from pattools.tokens.deltas import Deltas
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS

_NUMBER_TYPES = frozenset((float, int))
_INT_TYPES = frozenset((int,))

Rows = np.ndarray | slice  # row indices into the columns, or slice(None) for all rows


class _Unrecognised(Exception):
    """A DPat outside the shapes this module checks: the per-field walk decides."""


def dpat_columns(dpats: list, paths: list[str]) -> Deltas | None:
    """Columns of ``dpats`` (at ``paths``) when every DPat has a plain shape (see the module
    doc), else None."""
    out = Deltas.zeros(len(dpats), paths)
    try:
        for keys, rows, columns in _by_keys(dpats, slice(None)):
            _require("patchId" in keys)
            for key, column in zip(keys, columns):
                _fill(out, key, column, rows)
    except _Unrecognised:
        return None
    return out


def _require(condition: bool) -> None:
    if not condition:
        raise _Unrecognised


def _types(values: Sequence) -> set:
    return set(map(type, values))


def _by_keys(maps: Sequence, rows: Rows) -> list[tuple[tuple, Rows, list[Sequence]]]:
    """``(keys, rows, columns)`` per distinct key tuple of the dicts ``maps`` (which sit at
    ``rows``): ``columns[k]`` holds the value of ``keys[k]`` of each of those maps."""
    _require(_types(maps) <= {dict})
    if not maps:
        return []
    keys = tuple(maps[0])
    if len(keys) > 0 and set(map(len, maps)) == {len(keys)}:
        try:
            values = list(map(itemgetter(*keys), maps))
        except KeyError:
            pass  # same sizes, other keys: group them
        else:
            return [(keys, rows, [values] if len(keys) == 1 else list(zip(*values)))]
    where: dict[tuple, list[int]] = {}
    for i, shape in enumerate(map(tuple, maps)):
        where.setdefault(shape, []).append(i)
    if len(where) == 1:
        return [(keys, rows, [list(map(itemgetter(key), maps)) for key in keys])]
    index = np.arange(len(maps)) if isinstance(rows, slice) else rows
    out = []
    for shape, found in where.items():
        part = [maps[i] for i in found]
        out.append((shape, index[found], [list(map(itemgetter(key), part)) for key in shape]))
    return out


def _fill(out: Deltas, key: str, column: Sequence, rows: Rows) -> None:
    if key == "patchId":
        _require(_types(column) <= {str})
        if isinstance(rows, slice):
            out.patch_ids = list(column)
        else:
            for row, pid in zip(rows.tolist(), column):
                out.patch_ids[row] = pid
    elif key == "stats":
        _fill_numbers(column, STATS_FIELDS, out.stats, out.stats_named, rows)
    elif key == "geom":
        _fill_numbers(column, GEOM_FIELDS, out.geom, out.geom_named, rows)
    elif key == "topo":
        for name, at, values in _fields(column, TOPO_FIELDS, rows):
            col = TOPO_FIELDS.index(name)
            out.topo[at, col] = _ints(values)
            out.topo_named[at, col] = True
    elif key == "code":
        _fill_code(out, column, rows)
    else:
        raise _Unrecognised


def _fields(maps: Sequence, names: tuple[str, ...], rows: Rows) -> list[tuple[str, Rows, Sequence]]:
    """``(field, rows, values)`` for each field the sub-maps ``maps`` name (all in ``names``)."""
    out = []
    for keys, at, columns in _by_keys(maps, rows):
        _require(set(keys) <= set(names))
        out.extend(zip(keys, [at] * len(keys), columns))
    return out


def _fill_numbers(maps: Sequence, names: tuple[str, ...], values: np.ndarray, named: np.ndarray, rows: Rows) -> None:
    for name, at, column in _fields(maps, names, rows):
        types = _types(column)
        _require(types <= _NUMBER_TYPES)
        if int in types:
            try:
                column = list(map(float, column))  # as the walk converts them
            except OverflowError:
                raise _Unrecognised from None
        array = np.array(column, dtype=np.float64)
        _require(bool(np.isfinite(array).all()))
        col = names.index(name)
        values[at, col] = array
        named[at, col] = True


def _fill_code(out: Deltas, maps: Sequence, rows: Rows) -> None:
    for name, at, lists in _fields(maps, ("rvqDelta",), rows):
        _require(_types(lists) <= {list})
        for length, at_length, same in _by_length(lists, at):
            block = _ints(list(chain.from_iterable(same))).reshape(len(same), length)
            if length > out.rvq.shape[1]:
                out.rvq = np.pad(out.rvq, ((0, 0), (0, length - out.rvq.shape[1])))
            out.rvq[at_length, :length] = block
            out.rvq_len[at_length] = length


def _by_length(lists: Sequence, rows: Rows) -> list[tuple[int, Rows, Sequence]]:
    lengths = list(map(len, lists))
    distinct = set(lengths)
    if len(distinct) == 1:
        return [(distinct.pop(), rows, lists)]
    index = np.arange(len(lists)) if isinstance(rows, slice) else rows
    sizes = np.array(lengths)
    return [(length, index[sizes == length], [x for x, size in zip(lists, lengths) if size == length])
            for length in sorted(distinct)]


def _ints(values: Sequence) -> np.ndarray:
    _require(_types(values) <= _INT_TYPES)
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise _Unrecognised from None
