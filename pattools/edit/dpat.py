"""ΔPAT model: `DPat` deltas, edit packages (`PAT_EDIT`), and their columnar form.

Why: a `DPat` is a sparse map per token (docs/editing.md §1); applying thousands of them
per frame one dict at a time would be slow and hard to keep exact. `DeltaBatch` turns a
list of DPats into arrays aligned with the columns of `TokenFrame` (geom[n,5], stats[n,7],
topo[n,2], rvq[n,D] plus "named" masks), checking every value on the way, so bounds and
application are vectorised. `EditPackage` validates a whole `PAT_EDIT` record up front and
names the offending field (``targets[0].dpat[2].stats.rho``) in every error.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from pattools import schema
from pattools.edit.bounds import Bounds
from pattools.edit.dpat_columns import DPatColumns, dpat_columns
from pattools.errors import DataError, expected_found
from pattools.tokens.frame import CODE_DIMS, GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS

DPAT_GROUPS: tuple[str, ...] = ("code", "stats", "geom", "topo")
REPRO_FIELDS: tuple[str, ...] = ("dt", "stepsPerFrame", "scale", "noiseSeed")
_GROUP_FIELDS = {"stats": STATS_FIELDS, "geom": GEOM_FIELDS, "topo": TOPO_FIELDS}


def edit_id(editor: str, seed: int, prompt: str | None) -> str:
    """Deterministic edit id: ``<editor>-<seed>-<first 12 hex of sha256(prompt)>``."""
    digest = hashlib.sha256((prompt or "").encode("utf-8")).hexdigest()[:12]
    return f"{editor}-{seed}-{digest}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: object, path: str) -> float:
    if not _is_number(value):
        raise DataError(expected_found("number", value), path=path)
    if not math.isfinite(value):
        raise DataError(expected_found("finite number", value), path=path)
    return float(value)


def _integer(value: object, path: str) -> int:
    if isinstance(value, float) and value.is_integer():
        # JSON readers may hand an integral float; accept it as the integer it spells.
        return int(value)
    if not _is_int(value):
        raise DataError(expected_found("integer", value), path=path)
    return value


def _object(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(expected_found("object", value), path=path)
    return value


def _array(value: object, path: str) -> list:
    if not isinstance(value, list):
        raise DataError(expected_found("array", value), path=path)
    return value


def _no_extra(mapping: dict, allowed: tuple[str, ...], path: str) -> None:
    for key in mapping:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise DataError(f"unknown field (expected one of {', '.join(allowed)})", path=where)


@dataclass
class DeltaBatch:
    """A list of DPats as arrays (row j = DPat j). Values are deltas; masks say which are named."""

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

    def __len__(self) -> int:
        return len(self.patch_ids)

    @property
    def rvq_named(self) -> np.ndarray:
        return self.rvq_len >= 0

    def path(self, j: int, leaf: str = "") -> str:
        return f"{self.paths[j]}.{leaf}" if leaf else self.paths[j]

    @classmethod
    def from_dpats(cls, dpats: object, *, prefix: str = "dpat") -> "DeltaBatch":
        """Check and columnise DPat maps; errors carry ``<prefix>[j].<group>.<field>``."""
        columns = dpat_columns(dpats) if type(dpats) is list else None
        if columns is None:
            return cls._walk(dpats, prefix)
        return cls._of(columns, _row_paths(prefix, len(dpats)))

    @classmethod
    def _of(cls, c: DPatColumns, paths: list[str]) -> "DeltaBatch":
        return cls(c.patch_ids, c.geom, c.geom_named, c.stats, c.stats_named, c.topo, c.topo_named, c.rvq,
                   c.rvq_len, paths)

    @classmethod
    def _walk(cls, dpats: object, prefix: str) -> "DeltaBatch":
        """``from_dpats`` one field at a time: for any shape, and naming the first bad field."""
        dpats = _array(dpats, prefix)
        n = len(dpats)
        geom = np.zeros((n, len(GEOM_FIELDS)))
        geom_named = np.zeros((n, len(GEOM_FIELDS)), dtype=bool)
        stats = np.zeros((n, len(STATS_FIELDS)))
        stats_named = np.zeros((n, len(STATS_FIELDS)), dtype=bool)
        topo = np.zeros((n, len(TOPO_FIELDS)), dtype=np.int64)
        topo_named = np.zeros((n, len(TOPO_FIELDS)), dtype=bool)
        rvq_len = np.full(n, -1, dtype=np.int64)
        rvq_rows: list[tuple[int, list[int]]] = []
        pids: list[str] = []
        numeric = {"geom": (geom, geom_named), "stats": (stats, stats_named)}
        for j, dp in enumerate(dpats):
            where = f"{prefix}[{j}]"
            dp = _object(dp, where)
            _no_extra(dp, ("patchId",) + DPAT_GROUPS, where)
            pid = dp.get("patchId")
            if not isinstance(pid, str):
                raise DataError(expected_found("string", pid), path=f"{where}.patchId")
            pids.append(pid)
            for group in ("geom", "stats"):
                if group not in dp:
                    continue
                values, named = numeric[group]
                part = _object(dp[group], f"{where}.{group}")
                _no_extra(part, _GROUP_FIELDS[group], f"{where}.{group}")
                for name, value in part.items():
                    col = _GROUP_FIELDS[group].index(name)
                    values[j, col] = _finite(value, f"{where}.{group}.{name}")
                    named[j, col] = True
            if "topo" in dp:
                part = _object(dp["topo"], f"{where}.topo")
                _no_extra(part, TOPO_FIELDS, f"{where}.topo")
                for name, value in part.items():
                    col = TOPO_FIELDS.index(name)
                    topo[j, col] = _integer(value, f"{where}.topo.{name}")
                    topo_named[j, col] = True
            if "code" in dp:
                part = _object(dp["code"], f"{where}.code")
                _no_extra(part, ("rvqDelta",), f"{where}.code")
                if "rvqDelta" in part:
                    deltas = _array(part["rvqDelta"], f"{where}.code.rvqDelta")
                    row = [_integer(v, f"{where}.code.rvqDelta[{d}]") for d, v in enumerate(deltas)]
                    rvq_len[j] = len(row)
                    rvq_rows.append((j, row))
        width = max([CODE_DIMS] + [len(row) for _, row in rvq_rows])
        rvq = np.zeros((n, width), dtype=np.int64)
        for j, row in rvq_rows:
            rvq[j, : len(row)] = row
        return cls(pids, geom, geom_named, stats, stats_named, topo, topo_named, rvq, rvq_len, _row_paths(prefix, n))

    def exceeds(self, bounds: Bounds) -> bool:
        """Whether any delta these DPats name lies outside ``bounds``."""
        for values, named, limit in ((self.stats, self.stats_named, bounds.stats),
                                     (self.geom, self.geom_named, bounds.geom),
                                     (self.topo, self.topo_named, bounds.topo)):
            if (named & (np.abs(values) > limit)).any():
                return True
        over = np.abs(self.rvq) > bounds.rvq
        return bool(over.any()) and bool((over & (np.arange(self.rvq.shape[1]) < self.rvq_len[:, None])).any())

    def rows(self, start: int, stop: int, paths: list[str]) -> "DeltaBatch":
        """DPats ``start:stop`` (views), with code deltas as wide as ``from_dpats`` gives them."""
        rvq = self.rvq[start:stop]
        if rvq.shape[1] > CODE_DIMS:
            rvq = rvq[:, :max(CODE_DIMS, int(self.rvq_len[start:stop].max(initial=-1)))]
        return DeltaBatch(
            self.patch_ids[start:stop], self.geom[start:stop], self.geom_named[start:stop], self.stats[start:stop],
            self.stats_named[start:stop], self.topo[start:stop], self.topo_named[start:stop], rvq,
            self.rvq_len[start:stop], paths,
        )

    def bounded(self, bounds: Bounds, *, clip: bool) -> tuple["DeltaBatch", int]:
        """These deltas within ``bounds``: an error at the first violation, or clipped (and counted)."""
        if not self.exceeds(bounds):
            return self, 0
        checks = [
            ("stats", STATS_FIELDS, self.stats, self.stats_named, bounds.stats),
            ("geom", GEOM_FIELDS, self.geom, self.geom_named, bounds.geom),
            ("topo", TOPO_FIELDS, self.topo, self.topo_named, bounds.topo),
        ]
        rvq_named = self.rvq_named[:, None] & (np.arange(self.rvq.shape[1])[None, :] < self.rvq_len[:, None])
        over_rvq = rvq_named & (np.abs(self.rvq) > bounds.rvq)
        overs = [(group, names, values, named & (np.abs(values) > limit[None, :]), limit) for group, names, values, named, limit in checks]
        clips = int(over_rvq.sum()) + sum(int(over.sum()) for _, _, _, over, _ in overs)
        if clips == 0:
            return self, 0
        if not clip:
            # the first violation in DPat order, fields in the DPat's own order (code, stats, geom, topo)
            found = []
            js, dims = np.nonzero(over_rvq)
            if len(js):
                found.append((js[0], 0, f"code.rvqDelta[{dims[0]}]", self.rvq[js[0], dims[0]], bounds.rvq))
            for order, (group, names, values, over, limit) in enumerate(overs, start=1):
                js, cols = np.nonzero(over)
                if len(js):
                    found.append((js[0], order, f"{group}.{names[cols[0]]}", values[js[0], cols[0]], limit[cols[0]]))
            j, _, leaf, value, limit = min(found, key=lambda item: (item[0], item[1]))
            limit_text = repr(int(limit)) if float(limit).is_integer() else repr(float(limit))
            raise DataError(
                expected_found(f"delta within [-{limit_text}, {limit_text}] (use --clip to clip)", value.item()),
                path=self.path(int(j), leaf),
            )
        geom = np.clip(self.geom, -bounds.geom, bounds.geom)
        stats = np.clip(self.stats, -bounds.stats, bounds.stats)
        topo = np.clip(self.topo, -bounds.topo, bounds.topo).astype(np.int64)
        rvq_limit = min(bounds.rvq, np.iinfo(np.int64).max)
        rvq = np.clip(self.rvq, -rvq_limit, rvq_limit).astype(np.int64)
        clipped = DeltaBatch(
            self.patch_ids, geom, self.geom_named, stats, self.stats_named, topo, self.topo_named, rvq, self.rvq_len, self.paths
        )
        return clipped, clips

    def take(self, rows: np.ndarray, code_dims: int | None = None) -> "DeltaBatch":
        """DPats ``rows`` of this list (in that order); code deltas cut or zero-padded to ``code_dims``."""
        rvq = self.rvq[rows]
        if code_dims is not None:
            rvq = rvq[:, :code_dims] if rvq.shape[1] >= code_dims else np.pad(rvq, ((0, 0), (0, code_dims - rvq.shape[1])))
        return DeltaBatch(
            [self.patch_ids[j] for j in rows.tolist()], self.geom[rows], self.geom_named[rows], self.stats[rows],
            self.stats_named[rows], self.topo[rows], self.topo_named[rows], rvq, self.rvq_len[rows],
            [self.paths[j] for j in rows.tolist()],
        )

    def concat(self, other: "DeltaBatch") -> "DeltaBatch":
        """This list followed by ``other``."""
        width = max(self.rvq.shape[1], other.rvq.shape[1])

        def widen(a: np.ndarray) -> np.ndarray:
            return np.pad(a, ((0, 0), (0, width - a.shape[1])))

        return DeltaBatch(
            self.patch_ids + other.patch_ids,
            np.concatenate([self.geom, other.geom]),
            np.concatenate([self.geom_named, other.geom_named]),
            np.concatenate([self.stats, other.stats]),
            np.concatenate([self.stats_named, other.stats_named]),
            np.concatenate([self.topo, other.topo]),
            np.concatenate([self.topo_named, other.topo_named]),
            np.concatenate([widen(self.rvq), widen(other.rvq)]),
            np.concatenate([self.rvq_len, other.rvq_len]),
            self.paths + other.paths,
        )


@dataclass
class Target:
    """One target frame of an edit: its DPats in order and optional head hints (``dA.heads``)."""

    frame: int
    dpat: list[dict]
    heads: list | None = None
    path: str = "dpat"  # where this target's dpat list sits in its record
    _batch: DeltaBatch | None = field(default=None, repr=False, compare=False)

    @property
    def batch(self) -> DeltaBatch:
        if self._batch is None:
            self._batch = DeltaBatch.from_dpats(self.dpat, prefix=self.path)
        return self._batch

    def to_record(self) -> dict:
        out: dict = {"frame": self.frame, "dpat": self.dpat}
        if self.heads is not None:
            out["dA"] = {"heads": self.heads}
        return out


def _check_heads(value: object, path: str) -> list:
    heads = _array(value, path)
    for h, head in enumerate(heads):
        where = f"{path}[{h}]"
        head = _object(head, where)
        _no_extra(head, ("weight", "phase"), where)
        for name, number in head.items():
            _finite(number, f"{where}.{name}")
    return heads


_INDEX_SUFFIXES: list[str] = []  # "[0]", "[1]", …: built once, for many paths


def _row_paths(prefix: str, count: int) -> list[str]:
    """``<prefix>[j]`` for j < count."""
    if count > len(_INDEX_SUFFIXES):
        _INDEX_SUFFIXES.extend(f"[{j}]" for j in range(len(_INDEX_SUFFIXES), 2 * count))
    return list(map(prefix.__add__, _INDEX_SUFFIXES[:count]))


def _check_target(value: object, path: str, *, batch: bool = True) -> Target:
    """The target at ``path``, its DPats checked too unless ``batch`` is false."""
    target = _object(value, path)
    _no_extra(target, ("frame", "dpat", "dA"), path)
    if "frame" not in target:
        raise DataError("missing required field", path=f"{path}.frame")
    frame = _integer(target["frame"], f"{path}.frame")
    if frame < 0:
        raise DataError(expected_found("frame >= 0", frame), path=f"{path}.frame")
    if "dpat" not in target:
        raise DataError("missing required field", path=f"{path}.dpat")
    heads = None
    if "dA" in target:
        dA = _object(target["dA"], f"{path}.dA")
        _no_extra(dA, ("heads",), f"{path}.dA")
        if "heads" in dA:
            heads = _check_heads(dA["heads"], f"{path}.dA.heads")
    out = Target(frame, target["dpat"], heads, path=f"{path}.dpat")
    if batch:
        out.batch  # validates every DPat now, with full paths
    return out


# DPats columnised in one pass: few enough that their maps stay in cache from one
# C-level sweep to the next, enough to spread the cost of the numpy calls.
BLOCK_DPATS = 1024


def _batch_together(targets: list[Target]) -> list[DeltaBatch] | None:
    """Check and columnise the DPats of all ``targets`` a block at a time, giving each target its rows.

    Answers the blocks' batches (all DPats, in order), or None when some DPat is not of a
    plain shape (see dpat_columns); then each target left is checked on its own, and a
    bad DPat raises.
    """
    lists = [target.dpat for target in targets]
    if not all(type(x) is list for x in lists):
        return _batch_alone(targets)
    blocks = []
    start = 0
    while start < len(targets):
        stop, count = start, 0
        while stop < len(targets) and count < BLOCK_DPATS:
            count += len(lists[stop])
            stop += 1
        block = _batch_block(targets[start:stop], lists[start:stop])
        if block is None:
            return _batch_alone(targets[start:])
        blocks.append(block)
        start = stop
    return blocks


def _batch_alone(targets: list[Target]) -> None:
    for target in targets:
        target.batch  # the first bad DPat raises, named by the walk


def _batch_block(targets: list[Target], lists: list[list]) -> DeltaBatch | None:
    columns = dpat_columns(list(chain.from_iterable(lists)))
    if columns is None:
        return None
    paths = [_row_paths(target.path, len(dpats)) for target, dpats in zip(targets, lists)]
    block = DeltaBatch._of(columns, list(chain.from_iterable(paths)))
    start = 0
    for target, rows in zip(targets, paths):
        target._batch = block.rows(start, start + len(rows), rows)
        start += len(rows)
    return block


@dataclass
class EditPackage:
    """A validated `PAT_EDIT` record (docs/editing.md §1)."""

    id: str
    prompt: str | None
    seed: int
    sim: dict
    intents: list | None
    targets: list[Target]
    repro: dict
    # Every target's DPats in consecutive batches, when all had a plain shape (see dpat_columns).
    dpat_blocks: list[DeltaBatch] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_record(cls, record: object, *, input: str | None = None, index: int | None = None) -> "EditPackage":
        """Check a decoded record's values; a DataError names ``input``, ``index`` and the field."""
        try:
            try:
                return cls._from_record(record, together=True)
            except Exception:
                # Checked target by target, the record fails too, at the first bad field in reading order.
                return cls._from_record(record, together=False)
        except DataError as error:
            raise error.located(input=input, record=index)

    @classmethod
    def _from_record(cls, record: object, *, together: bool) -> "EditPackage":
        """The package; ``together`` checks all DPats in one pass after the targets' other fields."""
        record = _object(record, "")
        _no_extra(record, ("kind", "version", "id", "prompt", "seed", "sim", "intents", "targets", "repro"), "")
        for name in ("kind", "version", "id", "seed", "sim", "targets", "repro"):
            if name not in record:
                raise DataError("missing required field", path=name)
        if record["kind"] != "PAT_EDIT":
            raise DataError(expected_found('"PAT_EDIT"', record["kind"]), path="kind")
        if record["version"] != 1 or not _is_int(record["version"]):
            raise DataError(expected_found("1", record["version"]), path="version")
        ident = record["id"]
        if not isinstance(ident, str) or not ident:
            raise DataError(expected_found("non-empty string", ident), path="id")
        prompt = record.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise DataError(expected_found("string", prompt), path="prompt")
        seed = record["seed"]
        if not _is_int(seed):
            raise DataError(expected_found("integer", seed), path="seed")
        sim = _object(record["sim"], "sim")
        repro = _object(record["repro"], "repro")
        _no_extra(repro, REPRO_FIELDS, "repro")
        for name in REPRO_FIELDS:
            if name not in repro:
                if name == "noiseSeed":
                    continue
                raise DataError("missing required field", path=f"repro.{name}")
            if name not in sim:
                raise DataError(f"missing (repro.{name} needs it)", path=f"sim.{name}")
            if repro[name] != sim[name] or type(repro[name]) is bool:
                raise DataError(f"expected {sim[name]!r} (as sim.{name}), got {repro[name]!r}", path=f"repro.{name}")
        intents = record.get("intents")
        if intents is not None:
            _array(intents, "intents")
        targets = [_check_target(t, f"targets[{i}]", batch=not together)
                   for i, t in enumerate(_array(record["targets"], "targets"))]
        blocks = _batch_together(targets) if together else None
        return cls(ident, prompt, seed, sim, intents, targets, repro, blocks)

    def bounded_batches(self, bounds: Bounds, *, clip: bool) -> list[tuple[DeltaBatch, int]]:
        """``target.batch.bounded(bounds, clip=clip)`` for each target in order, in one check when
        nothing exceeds ``bounds`` and all DPats were columnised together."""
        if self.dpat_blocks is not None and not any(block.exceeds(bounds) for block in self.dpat_blocks):
            return [(target.batch, 0) for target in self.targets]
        return [target.batch.bounded(bounds, clip=clip) for target in self.targets]

    def to_record(self) -> dict:
        out: dict = {"kind": "PAT_EDIT", "version": 1, "id": self.id}
        if self.prompt is not None:
            out["prompt"] = self.prompt
        out["seed"] = self.seed
        out["sim"] = self.sim
        if self.intents is not None:
            out["intents"] = self.intents
        out["targets"] = [t.to_record() for t in self.targets]
        out["repro"] = self.repro
        return out

    @staticmethod
    def repro_of(sim: dict) -> dict:
        """The ``repro`` block that restates ``sim`` (for editors building packages)."""
        return {name: sim[name] for name in REPRO_FIELDS if name in sim}


def validated_package(record: dict, *, input: str | None = None, index: int | None = None) -> EditPackage:
    """``schema.validate`` (no NaN walk) then ``EditPackage.from_record``, reading each target once.

    Same package, or same error, as those two calls in that order. When the record's
    values check out and every DPat had a plain shape (which the DPat schema accepts), the
    targets are schema-valid too (their other fields were checked at least as strictly as
    the schema checks them), so the schema only has to see the record without them.
    Otherwise it sees the whole record, first, as before.
    """
    try:
        package = EditPackage.from_record(record, input=input, index=index)
    except Exception:
        schema.validate(record, input=input, index=index, check_finite=False)
        raise
    if package.dpat_blocks is None or not schema.conforms({**record, "targets": []}, "PAT_EDIT"):
        schema.validate(record, input=input, index=index, check_finite=False)
    return package
