"""Comparing the tokens of two matched frames as columns (pattools.tokens.frame).

Why: a frame holds its tokens as one numpy column per field, and comparing column
against column costs a few array operations per field and frame instead of a Python
step per value; a run whose every value moved (a changed dt) compares at the speed of
reading it. Tokens are paired by patchId; a token on one side only is reported as such.
The fields are those of the PAToken shape; per-token lists (head phases, code.stage) go
to the value walker.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pattools.diff.tally import MISSING, Place
from pattools.diff.values import ValueComparer, Where
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame

Pick = Callable[[np.ndarray], np.ndarray]  # a column's rows of the paired tokens

_GROUPS = (("geom", GEOM_FIELDS), ("stats", STATS_FIELDS), ("topo", TOPO_FIELDS))


def compare_token_frames(values: ValueComparer, where: Where, a: TokenFrame, b: TokenFrame) -> None:
    """Tally every difference between the tokens of two frames."""
    rows_a, rows_b = _pairs(values, where, a, b)
    ids = a.patch_ids if rows_a is None else [a.patch_ids[row] for row in rows_a]
    if not ids:
        return
    pick_a: Pick = (lambda column: column) if rows_a is None else (lambda column: column[rows_a])
    pick_b: Pick = (lambda column: column) if rows_b is None else (lambda column: column[rows_b])
    columns = [(("hdr", "t"), pick_a(a.t), pick_b(b.t)), (("hdr", "scale"), pick_a(a.scale), pick_b(b.scale))]
    for group, names in _GROUPS:
        matrix_a, matrix_b = pick_a(getattr(a, group)), pick_b(getattr(b, group))
        if not np.array_equal(matrix_a, matrix_b):
            columns.extend(((group, name), matrix_a[:, j], matrix_b[:, j]) for j, name in enumerate(names))
    for field, column_a, column_b in columns:
        if not np.array_equal(column_a, column_b):
            _numbers(values, where, ("tokens",) + field, column_a, column_b, ids, rows_a)
    _recon(values, where, pick_a, pick_b, a, b, ids, rows_a)
    _codes(values, where, pick_a, pick_b, a, b, ids, rows_a)
    _listed(values, where, a.heads, b.heads, ("tokens", "heads"), "heads", ids, rows_a, rows_b)
    _listed(values, where, a.code_stage, b.code_stage, ("tokens", "code", "stage"), "code.stage", ids, rows_a,
            rows_b)


def _pairs(values: ValueComparer, where: Where, a: TokenFrame,
           b: TokenFrame) -> tuple[list[int] | None, list[int] | None]:
    """Rows of a and b holding the same patchIds (None: all rows, in order); tokens on
    one side only are tallied here."""
    if a.patch_ids == b.patch_ids:
        return None, None
    rows_a, rows_b = [], []
    for row, pid in enumerate(a.patch_ids):
        other = b.index_of(pid)
        if other is None:
            values.one_sided(where, pid, MISSING, ("tokens",), f"tokens[{row}]", (pid, row))
        else:
            rows_a.append(row)
            rows_b.append(other)
    for row, pid in enumerate(b.patch_ids):
        if a.index_of(pid) is None:
            values.one_sided(where, MISSING, pid, ("tokens",), f"tokens[{row}]", (pid, len(a) + row))
    return rows_a, rows_b


def _numbers(values: ValueComparer, where: Where, field: tuple[str, ...], a: np.ndarray, b: np.ndarray,
             ids: list[str], rows_a: list[int] | None) -> None:
    tolerance = values.rules.of(field)
    if tolerance is None:
        return
    fa, fb = a.astype(np.float64, copy=False), b.astype(np.float64, copy=False)
    delta = np.abs(fa - fb)
    if tolerance.period is not None:
        half = tolerance.period / 2
        wrapped = delta > half
        if wrapped.any():
            delta[wrapped] = np.abs(np.remainder(fa[wrapped] - fb[wrapped] + half, tolerance.period) - half)
    tally = values.tally.field(where.kind, field, tolerance)
    top = int(np.argmax(delta))
    if delta[top] > 0:
        tally.note_max(float(delta[top]), _place(where, field, ids, rows_a, top), a[top].item(), b[top].item())
    bound = tolerance.atol + tolerance.rtol * np.maximum(np.abs(fa), np.abs(fb))
    differ = np.flatnonzero(delta > bound)
    if differ.size:
        tally.differing += int(differ.size)
        first = int(differ[0])
        tally.note_first(_place(where, field, ids, rows_a, first), a[first].item(), b[first].item())


def _place(where: Where, field: tuple[str, ...], ids: list[str], rows_a: list[int] | None, row: int) -> Place:
    index = row if rows_a is None else rows_a[row]
    return where.place(f"tokens[{index}]." + ".".join(field[1:]), (ids[row], index))


def _recon(values: ValueComparer, where: Where, pick_a: Pick, pick_b: Pick, a: TokenFrame, b: TokenFrame,
           ids: list[str], rows_a: list[int] | None) -> None:
    """stats.reconMSE: NaN marks a token without one."""
    if a.recon_mse is None and b.recon_mse is None:
        return
    nan = np.full(len(ids), np.nan)
    ra = nan if a.recon_mse is None else pick_a(a.recon_mse)
    rb = nan if b.recon_mse is None else pick_b(b.recon_mse)
    field = ("tokens", "stats", "reconMSE")
    absent_a, absent_b = np.isnan(ra), np.isnan(rb)
    for row in np.flatnonzero(absent_a != absent_b):
        place_a = MISSING if absent_a[row] else float(ra[row])
        place_b = MISSING if absent_b[row] else float(rb[row])
        index = int(row) if rows_a is None else rows_a[int(row)]
        values.one_sided(where, place_a, place_b, field, f"tokens[{index}].stats.reconMSE", (ids[row], index))
    both = np.flatnonzero(~absent_a & ~absent_b)
    if both.size and not np.array_equal(ra[both], rb[both]):
        _numbers(values, where, field, ra[both], rb[both], [ids[i] for i in both],
                 [(i if rows_a is None else rows_a[i]) for i in both])


def _codes(values: ValueComparer, where: Where, pick_a: Pick, pick_b: Pick, a: TokenFrame, b: TokenFrame,
           ids: list[str], rows_a: list[int] | None) -> None:
    """code.rvq: a matrix when both frames have codes of one length on every token, else
    token by token (a code on one side only, codes of different lengths)."""
    if a.rvq is None and b.rvq is None:
        return
    if (a.rvq is not None and b.rvq is not None and a.rvq.shape[1] == b.rvq.shape[1]
            and a.rvq_len is None and b.rvq_len is None):
        ca, cb = pick_a(a.rvq), pick_b(b.rvq)
        if not np.array_equal(ca, cb):
            _numbers(values, where, ("tokens", "code", "rvq"), ca.ravel(), cb.ravel(),
                     [pid for pid in ids for _ in range(ca.shape[1])],
                     [(row if rows_a is None else rows_a[row]) for row in range(len(ids)) for _ in range(ca.shape[1])])
        return
    codes_a, codes_b = _code_lists(a, pick_a), _code_lists(b, pick_b)
    flat_a: list[int] = []  # the codes of one length on both sides, compared as the matrix is
    flat_b: list[int] = []
    flat_ids: list[str] = []
    flat_rows: list[int] = []
    for row, pid in enumerate(ids):
        code_a, code_b = codes_a[row], codes_b[row]
        index = row if rows_a is None else rows_a[row]
        if code_a is MISSING and code_b is MISSING:
            continue
        if code_a is MISSING or code_b is MISSING:
            values.one_sided(where, code_a, code_b, ("tokens", "code"), f"tokens[{index}].code", (pid, index))
        elif len(code_a) != len(code_b):
            values.compare(where, code_a, code_b, ("tokens", "code", "rvq"), f"tokens[{index}].code.rvq", (pid, index))
        else:
            flat_a += code_a
            flat_b += code_b
            flat_ids += [pid] * len(code_a)
            flat_rows += [index] * len(code_a)
    if flat_a != flat_b:
        _numbers(values, where, ("tokens", "code", "rvq"), np.array(flat_a), np.array(flat_b), flat_ids, flat_rows)


def _code_lists(frame: TokenFrame, pick: Pick) -> list:
    """Each paired token's code.rvq as a list (MISSING where it has none)."""
    if frame.rvq is None:
        return [MISSING] * len(pick(frame.t))
    codes = pick(frame.rvq).tolist()
    if frame.rvq_len is None:
        return codes
    return [MISSING if length < 0 else code[:length] for code, length in zip(codes, pick(frame.rvq_len).tolist())]


def _listed(values: ValueComparer, where: Where, list_a: list | None, list_b: list | None, field: tuple[str, ...],
            name: str, ids: list[str], rows_a: list[int] | None, rows_b: list[int] | None) -> None:
    """Per-token values kept as lists (None where a token has none)."""
    if list_a is None and list_b is None:
        return
    for row, pid in enumerate(ids):
        index_a = row if rows_a is None else rows_a[row]
        index_b = row if rows_b is None else rows_b[row]
        item_a = None if list_a is None else list_a[index_a]
        item_b = None if list_b is None else list_b[index_b]
        if item_a is None and item_b is None:
            continue
        concrete = f"tokens[{index_a}].{name}"
        if item_a is None or item_b is None:
            values.one_sided(where, MISSING if item_a is None else item_a, MISSING if item_b is None else item_b,
                             field, concrete, (pid, index_a))
        else:
            values.compare(where, item_a, item_b, field, concrete, (pid, index_a))
