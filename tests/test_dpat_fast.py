"""The columnar DPat check: same packages, batches and errors as the schema plus the
per-field walk, and nothing it accepts is schema-invalid."""

from __future__ import annotations

import copy
import math

import fastjsonschema
import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from pattools import schema
from pattools.edit import dpat as dpat_module
from pattools.edit.bounds import Bounds
from pattools.edit.dpat import EditPackage, bounded, exceeds, validated_package
from pattools.tokens import dpat_columns as columns_module
from pattools.tokens.deltas import Deltas
from pattools.tokens.dpat_columns import _Unrecognised, _walk
from pattools.errors import DataError
from tests.test_apply_support import edit_record

BASE = edit_record([
    {"frame": 2, "dpat": [
        {"patchId": "0,0,32", "stats": {"rho": 0.1, "entropyRate": -0.05}, "code": {"rvqDelta": [0, 0, 0, -1, 0]}},
        {"patchId": "32,0,32", "geom": {"A": 0.1, "phi_gf": -0.5, "theta": 0.2, "gradPhi": 0.1, "kappa": -0.1},
         "topo": {"vortex": -2, "chirality": 1}},
        {"patchId": "64,0,32", "stats": {"energy": 1, "arousal": 0.0, "valence": -0.1, "attnMean": 0.01,
                                         "attnVar": 0.02}, "code": {}},
    ]},
    {"frame": 3, "dpat": [
        {"patchId": "0,32,32", "code": {"rvqDelta": [1, 0, 0, 0, 0, 1]}},
        {"code": {"rvqDelta": [0, 0, 0, -1, 0]}, "stats": {"entropyRate": -0.05, "rho": 0.1}, "patchId": "0,0,32"},
    ], "dA": {"heads": [{"weight": 0.5, "phase": 1.0}, {}]}},
    {"frame": 4, "dpat": []},
])

REPLACEMENTS = ["text", "", 1, -5, 0, 1.0, -2.0, 0.0, -0.0, 2.5, -1e9, 3.2e9, True, False, None, [], [1], {},
                {"x": 1}, 2**33, 2**63, 2**70, 10**400, math.nan, math.inf, -math.inf, math.pi + 1e-9]


def _variants(record: dict):
    """The record, then every leaf replaced by each of REPLACEMENTS, every map with a key
    deleted and with an extra key, every list with an item dropped."""
    yield "as is", record

    def walk(value, path):
        if isinstance(value, dict):
            for key in list(value):
                yield from walk(value[key], path + [key])
            yield path + ["<extra>"], None
            for key in list(value):
                yield path + [key], "<delete>"
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, path + [i])
            if value:
                yield path + [0], "<delete>"
        for replacement in REPLACEMENTS:
            yield path, replacement

    for path, replacement in walk(record, []):
        if not path:
            continue
        variant = copy.deepcopy(record)
        parent = variant
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if isinstance(replacement, str) and replacement == "<delete>":
            del parent[last]
        elif last == "<extra>":
            parent["extraField"] = 1
        else:
            parent[last] = copy.deepcopy(replacement)
        yield f"{'.'.join(map(str, path))} = {replacement!r}", variant


def _batch_state(batch: Deltas) -> tuple:
    arrays = tuple((a.dtype.str, a.shape, a.tobytes()) for a in (
        batch.geom, batch.geom_named, batch.stats, batch.stats_named, batch.topo, batch.topo_named, batch.rvq,
        batch.rvq_len))
    return tuple(batch.patch_ids), tuple(batch.paths), arrays


def _outcome(call) -> tuple:
    try:
        package = call()
    except DataError as error:
        return ("error", str(error))
    except Exception as error:  # noqa: BLE001 - the reference may crash; the fast path must crash alike
        return ("raised", type(error).__name__, str(error))
    return ("ok", package.to_record(), tuple(_batch_state(t.batch) for t in package.targets))


def _walk_only(dpats, paths):
    raise _Unrecognised


def _reference(record: dict, monkeypatch) -> tuple:
    """What pat-apply did before the columnar check: the schema, then the walk, target by
    target (each target's DPats right after its other fields)."""
    with monkeypatch.context() as patch:
        patch.setattr(columns_module, "_common_shapes", _walk_only)
        patch.setattr(dpat_module, "BLOCK_DPATS", 0)

        def call():
            schema.validate(record, input="e.cbor", index=3, check_finite=False)
            return EditPackage.from_record(record, input="e.cbor", index=3)

        return _outcome(call)


def _common_shapes(dpats) -> bool:
    """Whether the columnar check reads ``dpats`` (without the walk)."""
    try:
        return Deltas.from_dpats(dpats).plain_maps
    except (DataError, OverflowError):
        return False


@pytest.fixture(scope="module")
def dpat_validators():
    defs = schema.load_schema("PAT_EDIT")["$defs"]
    document = {"$defs": defs, "$ref": "#/$defs/DPat"}
    fast = fastjsonschema.compile({**document, "$schema": "http://json-schema.org/draft-07/schema#"})
    return jsonschema.Draft202012Validator(document), fast


def test_validated_packages_match_the_schema_then_the_walk(monkeypatch, dpat_validators):
    reference_dpat, fast_dpat = dpat_validators
    reference_edit = jsonschema.Draft202012Validator(schema.load_schema("PAT_EDIT"))
    checked = columnised = walked = 0
    for label, variant in _variants(BASE):
        expected = _reference(variant, monkeypatch)
        got = _outcome(lambda: validated_package(variant, input="e.cbor", index=3))
        assert got == expected, label
        checked += 1
        targets = variant.get("targets")
        for target in targets if isinstance(targets, list) else []:
            dpats = target.get("dpat") if isinstance(target, dict) else None
            if type(dpats) is list and _common_shapes(dpats):
                # accepted ⇒ valid against the DPat schema, for both validators
                for dp in dpats:
                    assert reference_dpat.is_valid(dp), label
                    fast_dpat(dp)
        if got[0] == "ok":
            package = validated_package(variant, input="e.cbor", index=3)
            if package.plain_dpats:
                columnised += 1
                assert reference_edit.is_valid(variant), label
            else:
                walked += 1
    assert checked > 1500 and columnised > 50 and walked > 10


def test_a_bad_dpat_before_a_bad_target_is_reported_first(monkeypatch):
    record = copy.deepcopy(BASE)
    record["targets"][0]["dpat"][1]["geom"]["theta"] = "up"
    record["targets"][1]["frame"] = -1
    record["targets"][1]["dpat"][0]["code"]["rvqDelta"][0] = 0.5
    with pytest.raises(DataError) as info:
        EditPackage.from_record(record, input="e.cbor", index=3)
    assert info.value.path == "targets[0].dpat[1].geom.theta"
    assert _outcome(lambda: EditPackage.from_record(record, input="e.cbor", index=3)) == ("error", str(info.value))


@pytest.mark.parametrize("block", [1, 1024])
def test_integral_floats_take_the_walk_and_count_as_integers(monkeypatch, block):
    monkeypatch.setattr(dpat_module, "BLOCK_DPATS", block)
    record = copy.deepcopy(BASE)
    record["targets"][1]["dpat"][0]["code"]["rvqDelta"][5] = 1.0
    package = validated_package(record)
    assert not package.plain_dpats  # the walk, and the whole schema
    assert package.targets[1].batch.rvq[0, 5] == 1
    alone = [_walk(t.dpat, t.path) for t in package.targets]
    assert [_batch_state(t.batch) for t in package.targets] == [_batch_state(b) for b in alone]


dpat_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**65, 2**65),
                        st.booleans(), st.none(), st.text(max_size=2))
small_ints = st.integers(-3, 3)


@st.composite
def dpats(draw):
    """Mostly plain DPats of mixed shapes, sometimes with a value of an odd type."""
    out = []
    for _ in range(draw(st.integers(0, 12))):
        dp = {"patchId": draw(st.sampled_from(["0,0,32", "32,0,32", "64,32,32"]))}
        for group, names in (("stats", ("rho", "energy", "entropyRate", "attnVar")),
                             ("geom", ("A", "phi_gf", "kappa")), ("topo", ("vortex", "chirality"))):
            if draw(st.booleans()):
                chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
                value = small_ints if group == "topo" else st.floats(-1, 1) | small_ints
                dp[group] = {name: draw(value) for name in chosen}
        if draw(st.booleans()):
            dp["code"] = {} if draw(st.integers(0, 4)) == 0 else {
                "rvqDelta": draw(st.lists(small_ints, min_size=draw(st.sampled_from([0, 5, 5, 5, 7])),
                                          max_size=7))}
        out.append(dp)
    if out and draw(st.integers(0, 3)) == 0:  # one odd value somewhere
        dp = draw(st.sampled_from(out))
        group = draw(st.sampled_from([g for g in ("stats", "geom", "topo") if g in dp] or ["patchId"]))
        if group == "patchId":
            dp["patchId"] = draw(dpat_values)
        else:
            dp[group][draw(st.sampled_from(["rho", "vortex", "A", "bogus"]))] = draw(dpat_values)
    return out


@settings(max_examples=300, deadline=None)
@given(dpats())
def test_columns_equal_the_walk(dps):
    try:
        expected = _batch_state(_walk(dps, "targets[1].dpat"))
    except (DataError, OverflowError) as error:
        expected = str(error)
    try:
        got = _batch_state(Deltas.from_dpats(dps, prefix="targets[1].dpat"))
    except (DataError, OverflowError) as error:
        got = str(error)
    assert got == expected
    if isinstance(expected, tuple):
        blocks = [dps[:len(dps) // 2], dps[len(dps) // 2:]]
        together = Deltas.from_dpats(blocks, prefix=["targets[1].dpat", "targets[2].dpat"])
        split = len(blocks[0])
        assert _batch_state(together.rows(0, split)) == _batch_state(_walk(blocks[0], "targets[1].dpat"))
        assert _batch_state(together.rows(split, len(dps))) == _batch_state(_walk(blocks[1], "targets[2].dpat"))


@pytest.mark.parametrize("block", [1, 2, 1024])
def test_targets_batched_together_equal_targets_batched_alone(monkeypatch, block):
    monkeypatch.setattr(dpat_module, "BLOCK_DPATS", block)
    package = EditPackage.from_record(BASE)
    assert package.plain_dpats
    alone = [_walk(t.dpat, t.path) for t in package.targets]
    assert [_batch_state(t.batch) for t in package.targets] == [_batch_state(b) for b in alone]


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("overrides", [
    {}, {"stats": {"entropyRate": 0.01}}, {"stats": {"energy": 0.5}}, {"geom": {"kappa": 0.05}},
    {"topo": {"vortex": 1}}, {"code": {"rvqDelta": 0.5}}, {"code": {"rvqDelta": 0}, "geom": {"A": 0}},
])
def test_bounded_batches_equal_bounding_each_target(clip, overrides):
    package = EditPackage.from_record(BASE)
    bounds = Bounds.from_mapping(overrides)

    def run(call):
        try:
            return [(_batch_state(batch), clips) for batch, clips in call()]
        except DataError as error:
            return str(error)

    expected = run(lambda: [bounded(t.batch, bounds, clip=clip) for t in package.targets])
    assert run(lambda: package.bounded_batches(bounds, clip=clip)) == expected
    limits = bounds.to_mapping()
    for target in package.targets:
        by_hand = any(abs(value) > limits[group][name]
                      for dp in target.dpat for group in ("stats", "geom", "topo") if group in dp
                      for name, value in dp[group].items()) or any(
            abs(value) > bounds.rvq for dp in target.dpat for value in dp.get("code", {}).get("rvqDelta", []))
        assert exceeds(target.batch, bounds) == by_hand
        assert not exceeds(target.batch, Bounds.unbounded())


def test_rows_of_a_batch_keep_their_own_code_width():
    batch = Deltas.from_dpats([{"patchId": "a", "code": {"rvqDelta": [1] * 7}}, {"patchId": "b"}])
    assert batch.rvq.shape == (2, 7)
    assert batch.rows(1, 2).rvq.shape == (1, 5)
    assert np.array_equal(batch.rows(0, 1).rvq, [[1] * 7])
