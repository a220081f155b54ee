"""Token-space deltas: a list of ΔPAT `DPat`s as columns (docs/editing.md §1).

Why: a `DPat` is a sparse map per token; applying or decoding thousands of them per frame
one dict at a time would be slow and hard to keep exact. `Deltas` holds a DPat list as
arrays aligned with the columns of `TokenFrame` (geom[n,5], stats[n,7], topo[n,2],
rvq[n,D] plus "named" masks), checking every value on the way in and naming the
offending field (``targets[0].dpat[2].stats.rho``) in every error. It is the one delta
type: an edit's requested deltas, the effective deltas of a frame's ``edit.applied``
block, and their sums per token row (``per_token``) that replay decodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.tokens.frame import CODE_DIMS, GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame

DPAT_GROUPS: tuple[str, ...] = ("code", "stats", "geom", "topo")
GROUP_FIELDS = {"stats": STATS_FIELDS, "geom": GEOM_FIELDS, "topo": TOPO_FIELDS}
PI = math.pi
G_PHI, G_THETA = GEOM_FIELDS.index("phi_gf"), GEOM_FIELDS.index("theta")


# ---------------------------------------------------------------------- value checks


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite_at(value: object, path: str) -> float:
    if not is_number(value):
        raise DataError(expected_found("number", value), path=path)
    if not math.isfinite(value):
        raise DataError(expected_found("finite number", value), path=path)
    return float(value)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def integer_at(value: object, path: str) -> int:
    """An integer that fits the int64 columns it goes into."""
    if isinstance(value, float) and value.is_integer():
        # JSON readers may hand an integral float; accept it as the integer it spells.
        value = int(value)
    if not is_int(value):
        raise DataError(expected_found("integer", value), path=path)
    if not INT64_MIN <= value <= INT64_MAX:
        raise DataError(expected_found("64-bit integer", value), path=path)
    return value


def object_at(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(expected_found("object", value), path=path)
    return value


def array_at(value: object, path: str) -> list:
    if not isinstance(value, list):
        raise DataError(expected_found("array", value), path=path)
    return value


def no_extra(mapping: dict, allowed: tuple[str, ...], path: str) -> None:
    for key in mapping:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise DataError(f"unknown field (expected one of {', '.join(allowed)})", path=where)


_INDEX_SUFFIXES: list[str] = []  # "[0]", "[1]", …: built once, for many paths


def row_paths(prefix: str, count: int) -> list[str]:
    """``<prefix>[j]`` for j < count."""
    if count > len(_INDEX_SUFFIXES):
        _INDEX_SUFFIXES.extend(f"[{j}]" for j in range(len(_INDEX_SUFFIXES), 2 * count))
    return list(map(prefix.__add__, _INDEX_SUFFIXES[:count]))


def wrap_angle(x: np.ndarray, period: float) -> np.ndarray:
    """Wrap into (−period/2, period/2]; values already inside are returned exactly."""
    half = period / 2
    x = np.asarray(x, dtype=np.float64)
    outside = (x > half) | (x <= -half)
    if not outside.any():
        return x.copy()
    y = x - period * np.ceil((x - half) / period)
    y = np.where(y > half, y - period, y)
    y = np.where(y <= -half, y + period, y)
    return np.where(outside, y, x)


# ---------------------------------------------------------------------- the delta type


@dataclass
class Deltas:
    """A list of DPats as arrays (row j = DPat j). Values are deltas (0 where not named);
    masks say which are named."""

    patch_ids: list[str]
    geom: np.ndarray  # float64[n, 5]
    geom_named: np.ndarray  # bool[n, 5]
    stats: np.ndarray  # float64[n, 7]
    stats_named: np.ndarray  # bool[n, 7]
    topo: np.ndarray  # int64[n, 2]
    topo_named: np.ndarray  # bool[n, 2]
    rvq: np.ndarray  # int64[n, D] (D = the longest rvqDelta, at least CODE_DIMS)
    rvq_len: np.ndarray  # int64[n]: length of rvqDelta, -1 when not named
    paths: list[str]  # where each DPat sits in its record, for error messages
    # from_dpats read it from maps all of the common shapes (so each is valid against the DPat
    # schema); False when unknown (built otherwise, or a view such as rows())
    plain_maps: bool = field(default=False, repr=False, compare=False)
    # what this is a slice of (Deltas, first row), and a memo of per-row bytes (row_bytes)
    _source: tuple["Deltas", int] | None = field(default=None, repr=False, compare=False)
    _row_bytes: list[bytes] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.patch_ids)

    @classmethod
    def zeros(cls, n: int, paths: list[str], code_dims: int = CODE_DIMS) -> "Deltas":
        """``n`` DPats naming nothing."""
        return cls(
            [""] * n, np.zeros((n, len(GEOM_FIELDS))), np.zeros((n, len(GEOM_FIELDS)), dtype=bool),
            np.zeros((n, len(STATS_FIELDS))), np.zeros((n, len(STATS_FIELDS)), dtype=bool),
            np.zeros((n, len(TOPO_FIELDS)), dtype=np.int64), np.zeros((n, len(TOPO_FIELDS)), dtype=bool),
            np.zeros((n, code_dims), dtype=np.int64), np.full(n, -1, dtype=np.int64), paths,
        )

    @property
    def rvq_named(self) -> np.ndarray:
        return self.rvq_len >= 0

    def path(self, j: int, leaf: str = "") -> str:
        return f"{self.paths[j]}.{leaf}" if leaf else self.paths[j]

    @classmethod
    def from_dpats(cls, dpats: object, *, prefix: str | list[str] = "dpat") -> "Deltas":
        """Check and columnise DPat maps; errors carry ``<prefix>[j].<group>.<field>`` and name
        the first bad field in reading order. With a list of prefixes, ``dpats`` holds one DPat
        list per prefix (many targets at once) and the rows are those lists one after another."""
        from pattools.tokens.dpat_columns import columnise

        if isinstance(prefix, str):
            return columnise([dpats], [prefix])
        return columnise(dpats, prefix)

    def rows(self, start: int, stop: int) -> "Deltas":
        """DPats ``start:stop`` (views), with code deltas as wide as ``from_dpats`` gives them."""
        rvq = self.rvq[start:stop]
        if rvq.shape[1] > CODE_DIMS:
            rvq = rvq[:, :max(CODE_DIMS, int(self.rvq_len[start:stop].max(initial=-1)))]
        return Deltas(
            self.patch_ids[start:stop], self.geom[start:stop], self.geom_named[start:stop], self.stats[start:stop],
            self.stats_named[start:stop], self.topo[start:stop], self.topo_named[start:stop], rvq,
            self.rvq_len[start:stop], self.paths[start:stop],
        )

    def slice(self, start: int, stop: int) -> "Deltas":
        """DPats ``start:stop`` (views; widths kept)."""
        return Deltas(
            self.patch_ids[start:stop], self.geom[start:stop], self.geom_named[start:stop], self.stats[start:stop],
            self.stats_named[start:stop], self.topo[start:stop], self.topo_named[start:stop],
            self.rvq[start:stop], self.rvq_len[start:stop], self.paths[start:stop], _source=(self, start),
        )

    def row_bytes(self) -> list[bytes]:
        """Per row, bytes that determine its DPat exactly (values, masks; -0.0 and 0.0
        differ), to key memos of encoded DPats. Slices share their source's (computed once
        for many frames edited together)."""
        if self._row_bytes is None:
            if self._source is not None:
                source, start = self._source
                self._row_bytes = source.row_bytes()[start:start + len(self)]
            else:
                n = len(self)
                parts = [self.geom, self.geom_named, self.stats, self.stats_named, self.topo, self.topo_named,
                         self.rvq, self.rvq_len]
                matrix = np.concatenate([np.ascontiguousarray(p).reshape(n, -1).view(np.uint8) for p in parts], axis=1)
                self._row_bytes = matrix.view(np.dtype((np.void, matrix.shape[1]))).ravel().tolist()
        return self._row_bytes

    def to_dpats(self) -> list[dict]:
        """DPat maps (named fields only, Python numbers; groups in the DPat's order)."""
        groups = [("stats", STATS_FIELDS, self.stats.tolist(), self.stats_named.tolist()),
                  ("geom", GEOM_FIELDS, self.geom.tolist(), self.geom_named.tolist()),
                  ("topo", TOPO_FIELDS, self.topo.tolist(), self.topo_named.tolist())]
        rvq = self.rvq.tolist()
        rvq_len = self.rvq_len.tolist()
        out = []
        for i, pid in enumerate(self.patch_ids):
            dp: dict = {"patchId": pid}
            if rvq_len[i] >= 0:
                dp["code"] = {"rvqDelta": rvq[i][:rvq_len[i]]}
            for group, names, values, named in groups:
                part = {name: values[i][c] for c, name in enumerate(names) if named[i][c]}
                if part:
                    dp[group] = part
            out.append(dp)
        return out

    def take(self, rows: np.ndarray, code_dims: int | None = None) -> "Deltas":
        """DPats ``rows`` of this list (in that order); code deltas cut or zero-padded to ``code_dims``."""
        rvq = self.rvq[rows]
        if code_dims is not None:
            rvq = rvq[:, :code_dims] if rvq.shape[1] >= code_dims else np.pad(rvq, ((0, 0), (0, code_dims - rvq.shape[1])))
        return Deltas(
            [self.patch_ids[j] for j in rows.tolist()], self.geom[rows], self.geom_named[rows], self.stats[rows],
            self.stats_named[rows], self.topo[rows], self.topo_named[rows], rvq, self.rvq_len[rows],
            [self.paths[j] for j in rows.tolist()],
        )

    @staticmethod
    def concat(parts: list["Deltas"]) -> "Deltas":
        """The DPat lists ``parts`` one after another."""
        if len(parts) == 1:
            return parts[0]
        width = max(part.rvq.shape[1] for part in parts)
        return Deltas(
            [pid for part in parts for pid in part.patch_ids],
            np.concatenate([part.geom for part in parts]),
            np.concatenate([part.geom_named for part in parts]),
            np.concatenate([part.stats for part in parts]),
            np.concatenate([part.stats_named for part in parts]),
            np.concatenate([part.topo for part in parts]),
            np.concatenate([part.topo_named for part in parts]),
            np.concatenate([part.rvq if part.rvq.shape[1] == width else
                            np.pad(part.rvq, ((0, 0), (0, width - part.rvq.shape[1]))) for part in parts]),
            np.concatenate([part.rvq_len for part in parts]),
            [path for part in parts for path in part.paths],
        )

    def without_codes(self) -> "Deltas":
        """The same DPats with their code deltas left out."""
        n = len(self)
        return replace(self, rvq=np.zeros((n, CODE_DIMS), dtype=np.int64), rvq_len=np.full(n, -1, dtype=np.int64),
                       plain_maps=False, _source=None, _row_bytes=None)

    def per_token(self, tokens: TokenFrame) -> "Deltas":
        """The named deltas summed per token row of ``tokens`` (one row per token, in token
        order; angle sums wrapped: the net angular change); a patchId the frame lacks is a
        data error."""
        rows, _ = locate(tokens, self, lenient=False)
        dims = code_width(tokens, self, rows, np.ones(len(rows), dtype=bool))
        return summed(tokens, dims, [(rows, self.take(np.arange(len(self)), dims))])


# ---------------------------------------------------------------------- deltas and a frame


def locate(tokens: TokenFrame, deltas: Deltas, *, lenient: bool) -> tuple[np.ndarray, int]:
    """Token row of each DPat (−1 where skipped) and the number skipped."""
    rows = np.array([-1 if (r := tokens.index_of(pid)) is None else r for pid in deltas.patch_ids], dtype=np.int64)
    missing = np.nonzero(rows < 0)[0]
    if len(missing) and not lenient:
        j = int(missing[0])
        raise DataError(
            f"unknown patchId {deltas.patch_ids[j]!r} (no such token in the frame; --lenient skips it)",
            path=deltas.path(j, "patchId"),
        )
    return rows, len(missing)


def code_width(tokens: TokenFrame, deltas: Deltas, rows: np.ndarray, keep: np.ndarray) -> int:
    """Code dimensions of the frame (its widest code); a kept DPat (at token ``rows[j]``)
    whose rvqDelta is not as long as its token's code, or names a token without one, is a
    data error."""
    dims = CODE_DIMS if tokens.rvq is None else tokens.rvq.shape[1]
    named = keep & deltas.rvq_named
    if not named.any():
        return dims
    if tokens.rvq is None:
        j = int(np.nonzero(named)[0][0])
        raise DataError("expected no code delta (the frame's tokens carry no code.rvq)",
                        path=deltas.path(j, "code.rvqDelta"))
    lengths = tokens.code_lengths()[np.where(named, rows, 0)]
    wrong = np.nonzero(named & (deltas.rvq_len != lengths))[0]
    if len(wrong):
        j = int(wrong[0])
        length = int(lengths[j])
        if length < 0:  # the message of a frame without codes (the maps path gave it for such a token too)
            raise DataError("expected no code delta (the frame's tokens carry no code.rvq)",
                            path=deltas.path(j, "code.rvqDelta"))
        raise DataError(
            expected_found(f"array of length {length} (one per code dimension)", [0] * int(deltas.rvq_len[j])),
            path=deltas.path(j, "code.rvqDelta"),
        )
    return dims


def summed(tokens: TokenFrame, dims: int, parts: list[tuple[np.ndarray, Deltas]]) -> Deltas:
    """Per-row sums over ``tokens`` of the named deltas of each (rows, deltas) part, in
    order, angles wrapped at the end; code deltas ``dims`` wide (named ones as long as
    their token's code, zero-padded)."""
    count = len(tokens)
    out = Deltas.zeros(count, row_paths("tokens", count), dims)
    out.patch_ids = list(tokens.patch_ids)
    for rows, d in parts:
        np.add.at(out.geom, rows, np.where(d.geom_named, d.geom, 0.0))
        np.add.at(out.stats, rows, np.where(d.stats_named, d.stats, 0.0))
        np.add.at(out.topo, rows, np.where(d.topo_named, d.topo, 0))
        np.add.at(out.rvq, rows, np.where(d.rvq_named[:, None], d.rvq[:, :dims], 0))
        np.logical_or.at(out.geom_named, rows, d.geom_named)
        np.logical_or.at(out.stats_named, rows, d.stats_named)
        np.logical_or.at(out.topo_named, rows, d.topo_named)
        coded = rows[d.rvq_named]
        out.rvq_len[coded] = tokens.code_lengths()[coded]
    out.geom[:, G_PHI] = wrap_angle(out.geom[:, G_PHI], 2 * PI)
    out.geom[:, G_THETA] = wrap_angle(out.geom[:, G_THETA], PI)
    return out
