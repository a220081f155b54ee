"""Edit packages (`PAT_EDIT`, docs/editing.md §1) and the bounds on their deltas.

`EditPackage` validates a whole `PAT_EDIT` record up front and names the offending field
(``targets[0].dpat[2].stats.rho``) in every error; each target's DPats become one
`Deltas` (pattools.tokens.deltas), checked against the delta bounds by ``bounded``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from pattools import schema
from pattools.edit.bounds import Bounds
from pattools.errors import DataError, expected_found
from pattools.tokens.deltas import Deltas, array_at, finite_at, integer_at, is_int, no_extra, object_at
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS

REPRO_FIELDS: tuple[str, ...] = ("dt", "stepsPerFrame", "scale", "noiseSeed")
# What checking a bad value raises: a DataError naming it, or OverflowError for an integer
# too large for the int64/float64 columns.
BAD_VALUE = (DataError, OverflowError)


def edit_id(editor: str, seed: int, prompt: str | None) -> str:
    """Deterministic edit id: ``<editor>-<seed>-<first 12 hex of sha256(prompt)>``."""
    digest = hashlib.sha256((prompt or "").encode("utf-8")).hexdigest()[:12]
    return f"{editor}-{seed}-{digest}"


def exceeds(deltas: Deltas, bounds: Bounds) -> bool:
    """Whether any delta these DPats name lies outside ``bounds``."""
    for values, named, limit in ((deltas.stats, deltas.stats_named, bounds.stats),
                                 (deltas.geom, deltas.geom_named, bounds.geom),
                                 (deltas.topo, deltas.topo_named, bounds.topo)):
        if (named & (np.abs(values) > limit)).any():
            return True
    over = np.abs(deltas.rvq) > bounds.rvq
    return bool(over.any()) and bool((over & (np.arange(deltas.rvq.shape[1]) < deltas.rvq_len[:, None])).any())


def bounded(deltas: Deltas, bounds: Bounds, *, clip: bool) -> tuple[Deltas, int]:
    """These deltas within ``bounds``: an error at the first violation, or clipped (and counted)."""
    if not exceeds(deltas, bounds):
        return deltas, 0
    checks = [
        ("stats", STATS_FIELDS, deltas.stats, deltas.stats_named, bounds.stats),
        ("geom", GEOM_FIELDS, deltas.geom, deltas.geom_named, bounds.geom),
        ("topo", TOPO_FIELDS, deltas.topo, deltas.topo_named, bounds.topo),
    ]
    rvq_named = deltas.rvq_named[:, None] & (np.arange(deltas.rvq.shape[1])[None, :] < deltas.rvq_len[:, None])
    over_rvq = rvq_named & (np.abs(deltas.rvq) > bounds.rvq)
    overs = [(group, names, values, named & (np.abs(values) > limit[None, :]), limit) for group, names, values, named, limit in checks]
    clips = int(over_rvq.sum()) + sum(int(over.sum()) for _, _, _, over, _ in overs)
    if clips == 0:
        return deltas, 0
    if not clip:
        # the first violation in DPat order, fields in the DPat's own order (code, stats, geom, topo)
        found = []
        js, dims = np.nonzero(over_rvq)
        if len(js):
            found.append((js[0], 0, f"code.rvqDelta[{dims[0]}]", deltas.rvq[js[0], dims[0]], bounds.rvq))
        for order, (group, names, values, over, limit) in enumerate(overs, start=1):
            js, cols = np.nonzero(over)
            if len(js):
                found.append((js[0], order, f"{group}.{names[cols[0]]}", values[js[0], cols[0]], limit[cols[0]]))
        j, _, leaf, value, limit = min(found, key=lambda item: (item[0], item[1]))
        limit_text = repr(int(limit)) if float(limit).is_integer() else repr(float(limit))
        raise DataError(
            expected_found(f"delta within [-{limit_text}, {limit_text}] (use --clip to clip)", value.item()),
            path=deltas.path(int(j), leaf),
        )
    geom = np.clip(deltas.geom, -bounds.geom, bounds.geom)
    stats = np.clip(deltas.stats, -bounds.stats, bounds.stats)
    topo = np.clip(deltas.topo, -bounds.topo, bounds.topo).astype(np.int64)
    rvq_limit = min(bounds.rvq, np.iinfo(np.int64).max)
    rvq = np.clip(deltas.rvq, -rvq_limit, rvq_limit).astype(np.int64)
    clipped = Deltas(
        deltas.patch_ids, geom, deltas.geom_named, stats, deltas.stats_named, topo, deltas.topo_named, rvq, deltas.rvq_len, deltas.paths
    )
    return clipped, clips


@dataclass
class Target:
    """One target frame of an edit: its DPats in order and optional head hints (``dA.heads``)."""

    frame: int
    dpat: list[dict]
    heads: list | None = None
    path: str = "dpat"  # where this target's dpat list sits in its record
    _batch: Deltas | None = field(default=None, repr=False, compare=False)

    @property
    def batch(self) -> Deltas:
        if self._batch is None:
            self._batch = Deltas.from_dpats(self.dpat, prefix=self.path)
        return self._batch

    def to_record(self) -> dict:
        out: dict = {"frame": self.frame, "dpat": self.dpat}
        if self.heads is not None:
            out["dA"] = {"heads": self.heads}
        return out


def _check_heads(value: object, path: str) -> list:
    heads = array_at(value, path)
    for h, head in enumerate(heads):
        where = f"{path}[{h}]"
        head = object_at(head, where)
        no_extra(head, ("weight", "phase"), where)
        for name, number in head.items():
            finite_at(number, f"{where}.{name}")
    return heads


def _check_target(value: object, path: str) -> Target:
    """The target at ``path``, its fields other than the DPats checked."""
    target = object_at(value, path)
    no_extra(target, ("frame", "dpat", "dA"), path)
    if "frame" not in target:
        raise DataError("missing required field", path=f"{path}.frame")
    frame = integer_at(target["frame"], f"{path}.frame")
    if frame < 0:
        raise DataError(expected_found("frame >= 0", frame), path=f"{path}.frame")
    if "dpat" not in target:
        raise DataError("missing required field", path=f"{path}.dpat")
    heads = None
    if "dA" in target:
        dA = object_at(target["dA"], f"{path}.dA")
        no_extra(dA, ("heads",), f"{path}.dA")
        if "heads" in dA:
            heads = _check_heads(dA["heads"], f"{path}.dA.heads")
    return Target(frame, target["dpat"], heads, path=f"{path}.dpat")


# DPats columnised in one pass: few enough that their maps stay in cache from one
# C-level sweep to the next, enough to spread the cost of the numpy calls.
BLOCK_DPATS = 1024


def _check_targets(values: list) -> tuple[list[Target], list[Deltas]]:
    """The targets ``values``, each checked in reading order (its fields, then its DPats),
    and their DPats as consecutive blocks of about BLOCK_DPATS rows (each target's
    ``batch`` is its rows of a block)."""
    targets: list[Target] = []
    blocks: list[Deltas] = []
    first = count = 0  # targets[first:] are checked, their DPats not columnised yet
    for i, value in enumerate(values):
        try:
            target = _check_target(value, f"targets[{i}]")
        except BAD_VALUE:
            if first < len(targets):
                _columnise(targets[first:])  # a bad DPat of an earlier target comes first in reading order
            raise
        targets.append(target)
        dpats = target.dpat
        count += len(dpats) if type(dpats) is list else 1
        if count >= BLOCK_DPATS:
            blocks.append(_columnise(targets[first:]))
            first, count = len(targets), 0
    if first < len(targets):
        blocks.append(_columnise(targets[first:]))
    return targets, blocks


def _columnise(targets: list[Target]) -> Deltas:
    """The DPats of ``targets`` in one `Deltas`, each target given its rows."""
    block = Deltas.from_dpats([target.dpat for target in targets], prefix=[target.path for target in targets])
    start = 0
    for target in targets:
        stop = start + len(target.dpat)
        target._batch = block.rows(start, stop)
        start = stop
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
    # Every target's DPats in consecutive blocks (from_record); None for a package built in Python.
    dpat_blocks: list[Deltas] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_record(cls, record: object, *, input: str | None = None, index: int | None = None) -> "EditPackage":
        """Check a decoded record's values; a DataError names ``input``, ``index`` and the field."""
        try:
            return cls._from_record(record)
        except DataError as error:
            raise error.located(input=input, record=index)

    @classmethod
    def _from_record(cls, record: object) -> "EditPackage":
        """The package, every field checked in reading order."""
        record = object_at(record, "")
        no_extra(record, ("kind", "version", "id", "prompt", "seed", "sim", "intents", "targets", "repro"), "")
        for name in ("kind", "version", "id", "seed", "sim", "targets", "repro"):
            if name not in record:
                raise DataError("missing required field", path=name)
        if record["kind"] != "PAT_EDIT":
            raise DataError(expected_found('"PAT_EDIT"', record["kind"]), path="kind")
        if record["version"] != 1 or not is_int(record["version"]):
            raise DataError(expected_found("1", record["version"]), path="version")
        ident = record["id"]
        if not isinstance(ident, str) or not ident:
            raise DataError(expected_found("non-empty string", ident), path="id")
        prompt = record.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise DataError(expected_found("string", prompt), path="prompt")
        seed = record["seed"]
        if not is_int(seed):
            raise DataError(expected_found("integer", seed), path="seed")
        sim = object_at(record["sim"], "sim")
        repro = object_at(record["repro"], "repro")
        no_extra(repro, REPRO_FIELDS, "repro")
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
            array_at(intents, "intents")
        targets, blocks = _check_targets(array_at(record["targets"], "targets"))
        return cls(ident, prompt, seed, sim, intents, targets, repro, blocks)

    @property
    def plain_dpats(self) -> bool:
        """Whether every DPat was read from a map of a common shape (see tokens/dpat_columns.py)."""
        return self.dpat_blocks is not None and all(block.plain_maps for block in self.dpat_blocks)

    def bounded_batches(self, bounds: Bounds, *, clip: bool) -> list[tuple[Deltas, int]]:
        """``bounded(target.batch, bounds, clip=clip)`` for each target in order, in one check
        (a block at a time) when nothing exceeds ``bounds``."""
        blocks = self.dpat_blocks if self.dpat_blocks is not None else [target.batch for target in self.targets]
        if not any(exceeds(block, bounds) for block in blocks):
            return [(target.batch, 0) for target in self.targets]
        return [bounded(target.batch, bounds, clip=clip) for target in self.targets]

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
    Otherwise it sees the whole record, and its error, if any, comes first.
    """
    try:
        package = EditPackage.from_record(record, input=input, index=index)
    except BAD_VALUE:
        schema.validate(record, input=input, index=index, check_finite=False)
        raise
    if not package.plain_dpats or not schema.conforms({**record, "targets": []}, "PAT_EDIT"):
        schema.validate(record, input=input, index=index, check_finite=False)
    return package
