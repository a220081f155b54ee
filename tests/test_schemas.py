"""Schemas: the compiled fast validator accepts and rejects exactly what jsonschema does."""

from __future__ import annotations

import copy
import json
import math

import jsonschema
import pytest

from pattools import schema
from pattools.errors import DataError
from tests.helpers import make_frame


def _reference_validator(kind: str):
    return jsonschema.Draft202012Validator(schema.load_schema(kind))


def _mutations(record: dict):
    """Valid and invalid variants: every leaf replaced by values of other types and out of range."""
    yield "as is", record
    replacements = ["text", 1, -5, 2.5, -1e9, True, None, [], {}, 3.2e9, 2**33, 0.5, math.pi + 1e-9]

    def walk(value, path):
        if isinstance(value, dict):
            for key in list(value):
                yield from walk(value[key], path + [key])
            yield path + ["<extra>"], "extra"
            for key in list(value):
                yield path + [key], "<delete>"
        elif isinstance(value, list):
            for i, item in enumerate(value[:2]):
                yield from walk(item, path + [i])
        for replacement in replacements:
            yield path, replacement

    for path, replacement in walk(record, []):
        variant = copy.deepcopy(record)
        if not path:
            continue
        parent = variant
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if replacement == "<delete>":
            del parent[last]
        elif last == "<extra>":
            parent["extraField"] = 1
        else:
            parent[last] = replacement
        yield ".".join(map(str, path)), variant


@pytest.mark.parametrize("kind", ["PAT_FRAME", "PAT_SHARD", "PAT_MANIFEST"])
def test_fast_validator_agrees_with_jsonschema(kind):
    frame = make_frame(W=40, H=33, scale=16)
    frame["tokens"][0]["heads"] = [0.5, -1.0]
    frame["tokens"][1]["stats"]["reconMSE"] = 0.01
    frame["tokens"][2]["code"]["stage"] = [1, 2]
    frame["metrics"] = {"rhoMean": 0.4, "rhoStd": 0.1, "defectDensity": 0.01, "defectsPlus": 3, "defectsMinus": 3,
                        "entropyGrad": 0.8, "anisotropyHV": 0.0, "patchDefects": [[1, 0]] * len(frame["tokens"])}
    frame["edit"] = {"id": "e", "applied": [{"patchId": "0,0,16", "stats": {"rho": 0.1}, "code": {"rvqDelta": [1, 0, 0, 0, 0]}}]}
    frame["replay"] = {"decoder": "delta", "gains": {"gammaK": 0.6}, "constants": {"kRho": 10}, "editId": None}
    records = {
        "PAT_FRAME": frame,
        "PAT_SHARD": {"kind": "PAT_SHARD", "version": 1, "shard": "1-0000", "seed": 1, "segment": 0, "count": 1,
                      "sim": frame["sim"], "provenance": {"codebookSHA": "ab"},
                      "items": [{"seed": 1, "frame": 0, "tokens": frame["tokens"][:2]}]},
        "PAT_MANIFEST": {"version": 1, "W": 40, "H": 33, "frames": 2, "scale": 16, "shardSize": 16, "seeds": [1, 2],
                         "sim": frame["sim"], "codebookSHA": "ab", "codebookDesc": "d"},
    }
    reference = _reference_validator(kind)
    fast = schema._compiled(kind)
    checked = accepted = 0
    for label, variant in _mutations(records[kind]):
        expected = reference.is_valid(variant)
        try:
            fast(variant)
            got = True
        except Exception:
            got = False
        assert got == expected, f"{kind} {label}: fast={got} jsonschema={expected}"
        checked += 1
        accepted += got
    assert checked > 300 and 0 < accepted < checked


def test_every_schema_is_valid_2020_12_and_in_the_shared_subset():
    allowed = {"$schema", "$id", "$ref", "$defs", "title", "description", "type", "required", "properties",
               "additionalProperties", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
               "exclusiveMaximum", "items", "minItems", "maxItems"}
    for path in sorted(schema.schema_dir().glob("*.schema.json")):
        document = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(document)

        def keywords(node, inside_properties=False):
            if isinstance(node, dict):
                for key, value in node.items():
                    if not inside_properties and key not in allowed:
                        yield key
                    yield from keywords(value, inside_properties=(key in ("properties", "$defs") and not inside_properties))
            elif isinstance(node, list):
                for item in node:
                    yield from keywords(item)

        unknown = {key for key in keywords(document) if key not in allowed}
        assert not unknown, f"{path.name} uses {sorted(unknown)}"


def test_error_messages_name_the_field():
    frame = make_frame()
    del frame["tokens"][2]["geom"]["kappa"]
    with pytest.raises(DataError) as info:
        schema.validate(frame, input="f.cbor", index=7)
    assert str(info.value) == "f.cbor: record 7: tokens[2].geom.kappa: expected a value, got nothing (required field missing)"
    frame = make_frame()
    frame["tokens"][0]["topo"]["spin"] = 1
    with pytest.raises(DataError, match=r"tokens\[0\]\.topo\.spin: expected no such field"):
        schema.validate(frame)
    frame = make_frame()
    frame["kind"] = "PAT_FOO"
    with pytest.raises(DataError, match="kind: expected a known kind"):
        schema.validate(frame)


def test_validators_are_kept_on_disk_and_a_damaged_file_is_recompiled(tmp_path, monkeypatch):
    monkeypatch.setattr(schema, "_validator_cache", lambda: tmp_path)
    definition = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                  "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"]}
    first = schema._validator(definition)
    files = list(tmp_path.glob("validator_*.marshal"))
    assert len(files) == 1
    for validator in (first, schema._validator(definition)):  # compiled, then loaded
        validator({"n": 1})
        with pytest.raises(Exception):
            validator({"n": -1})
    files[0].write_bytes(b"not marshal data")
    again = schema._validator(definition)
    again({"n": 2})
    with pytest.raises(Exception):
        again({})
    monkeypatch.setattr(schema, "_validator_cache", lambda: None)  # nowhere to keep it: compiled in memory
    schema._validator(definition)({"n": 3})


def test_replay_block_names_every_gain_and_constant():
    """The schema lists the gains and decoder constants a replay records (the wind's too)."""
    from pattools.replay.settings import DecoderConstants, Gains

    frame = make_frame()
    frame["replay"] = {"decoder": "delta", "gains": Gains(etaV=1.0).to_record(),
                       "constants": DecoderConstants().to_record(wind=True), "editId": None}
    schema.validate(frame)
    frame["replay"]["gains"]["etaW"] = 1.0
    with pytest.raises(DataError, match=r"replay\.gains\.etaW: expected no such field"):
        schema.validate(frame)
