"""DPat maps into checked `Deltas` columns: the one reader behind ``Deltas.from_dpats``.

Why two ways inside: checking a DPat costs ≈ 7 µs in the compiled schema and as much
again in a per-field walk, and an edit file may hold hundreds of thousands of them. So
``columnise`` first reads the common shapes with C-level iteration (``map`` over the
list): maps are dicts with known keys and a patchId, patchId is a str, stats and geom
values are finite floats or ints, topo and rvqDelta values are ints (never bools).
Columns read that way are valid against the DPat schema (tests/test_dpat_fast.py checks
it on a mutation corpus against jsonschema) and equal to the walk's. Anything else, valid
or not (an integral float for an integer, a NaN, an unknown key, a string), is read by
the walk, one field at a time in reading order: it builds the columns of what is valid
and names the first bad field of what is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import itemgetter

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.tokens.deltas import (
    DPAT_GROUPS, GROUP_FIELDS, Deltas, array_at, finite_at, integer_at, no_extra, object_at, row_paths,
)
from pattools.tokens.frame import CODE_DIMS, GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS

_NUMBER_TYPES = frozenset((float, int))
_INT_TYPES = frozenset((int,))

Rows = np.ndarray | slice  # row indices into the columns, or slice(None) for all rows


class _Unrecognised(Exception):
    """A DPat outside the common shapes: the walk reads the lists instead."""


def columnise(lists: Sequence, prefixes: Sequence[str]) -> Deltas:
    """The DPat lists ``lists`` (list k at ``prefixes[k]``) checked and as columns, one
    after another; a bad DPat raises a DataError naming its first bad field in reading
    order (or OverflowError for an integer too large for the columns)."""
    if all(type(dpats) is list for dpats in lists):
        paths = list(chain.from_iterable(row_paths(p, len(dpats)) for dpats, p in zip(lists, prefixes)))
        try:
            return _common_shapes(list(chain.from_iterable(lists)), paths)
        except _Unrecognised:
            pass  # the walk reads them: it names a bad field, or reads a valid uncommon shape
    return Deltas.concat([_walk(dpats, prefix) for dpats, prefix in zip(lists, prefixes)])


def _common_shapes(dpats: list, paths: list[str]) -> Deltas:
    """Columns of ``dpats`` (at ``paths``), all of the common shapes (see the module doc)."""
    out = Deltas.zeros(len(dpats), paths)
    for keys, rows, columns in _by_keys(dpats, slice(None)):
        _require("patchId" in keys)
        for key, column in zip(keys, columns):
            _fill(out, key, column, rows)
    out.plain_maps = True
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


def _walk(dpats: object, prefix: str) -> Deltas:
    """The DPat list ``dpats`` (at ``prefix``) one field at a time: any valid shape, and the first bad field named."""
    dpats = array_at(dpats, prefix)
    n = len(dpats)
    out = Deltas.zeros(n, row_paths(prefix, n))
    rvq_rows: list[tuple[int, list[int]]] = []
    numeric = {"geom": (out.geom, out.geom_named), "stats": (out.stats, out.stats_named)}
    for j, dp in enumerate(dpats):
        where = f"{prefix}[{j}]"
        dp = object_at(dp, where)
        no_extra(dp, ("patchId",) + DPAT_GROUPS, where)
        pid = dp.get("patchId")
        if not isinstance(pid, str):
            raise DataError(expected_found("string", pid), path=f"{where}.patchId")
        out.patch_ids[j] = pid
        for group in ("geom", "stats"):
            if group not in dp:
                continue
            values, named = numeric[group]
            part = object_at(dp[group], f"{where}.{group}")
            no_extra(part, GROUP_FIELDS[group], f"{where}.{group}")
            for name, value in part.items():
                col = GROUP_FIELDS[group].index(name)
                values[j, col] = finite_at(value, f"{where}.{group}.{name}")
                named[j, col] = True
        if "topo" in dp:
            part = object_at(dp["topo"], f"{where}.topo")
            no_extra(part, TOPO_FIELDS, f"{where}.topo")
            for name, value in part.items():
                col = TOPO_FIELDS.index(name)
                out.topo[j, col] = integer_at(value, f"{where}.topo.{name}")
                out.topo_named[j, col] = True
        if "code" in dp:
            part = object_at(dp["code"], f"{where}.code")
            no_extra(part, ("rvqDelta",), f"{where}.code")
            if "rvqDelta" in part:
                deltas = array_at(part["rvqDelta"], f"{where}.code.rvqDelta")
                row = [integer_at(v, f"{where}.code.rvqDelta[{d}]") for d, v in enumerate(deltas)]
                out.rvq_len[j] = len(row)
                rvq_rows.append((j, row))
    width = max([CODE_DIMS] + [len(row) for _, row in rvq_rows])
    out.rvq = np.zeros((n, width), dtype=np.int64)
    for j, row in rvq_rows:
        out.rvq[j, : len(row)] = row
    return out
