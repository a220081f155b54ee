"""One JSON text per record whatever command writes it: keys in schema order (kind and
version first), shortest round-trip numbers, floats always as floats."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pattools import schema
from pattools.io import cbor as pcbor
from pattools.io import jsonl
from pattools.io.key_order import _root, _walk, ordered
from tests.helpers import make_frame, run, shell

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _shuffled(value, rng: random.Random):
    """``value`` with the keys of every map in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


def _key_paths(value, path=()):
    """(path, keys in order) of every map in ``value``."""
    if isinstance(value, dict):
        yield path, list(value)
        for key, item in value.items():
            yield from _key_paths(item, path + (key,))
    elif isinstance(value, list):
        for item in value:
            yield from _key_paths(item, path + ("[]",))


def _frame_with_everything() -> dict:
    frame = make_frame(seed=3, frame=2, W=32, H=32, scale=16)
    frame["tokens"][0]["heads"] = [0.5, -1.0]
    frame["tokens"][1]["stats"]["reconMSE"] = 0.125
    frame["tokens"][1]["code"]["stage"] = {"z": 1, "a": [{"y": 2, "b": 3}]}
    frame["sim"]["params"] = {"Kbase": 1.1, "alpha": 0.5, "K": 2}
    frame["metrics"] = {"rhoMean": 0.5, "rhoStd": 0.1, "defectDensity": 0.0, "defectsPlus": 1, "defectsMinus": 0,
                        "entropyGrad": 0.2, "anisotropyHV": 0.0, "patchDefects": [[1, 0]] * 4}
    frame["edit"] = {"id": "e1", "applied": [{"patchId": "0,0,16", "stats": {"rho": 0.1}, "geom": {"theta": 0.2}}]}
    frame["replay"] = {"decoder": "delta", "gains": {"gammaK": 0.6, "betaK": 0.2}, "constants": {"kRho": 10.0, "kEnt": 20.0}, "editId": "e1"}
    return frame


def test_frame_keys_follow_the_schema_at_every_depth():
    frame = _frame_with_everything()
    schema.validate(frame)
    text = jsonl.encode_line(_shuffled(frame, random.Random(1)))
    decoded = json.loads(text)
    keys = dict(_key_paths(decoded))
    assert keys[()] == ["kind", "version", "seed", "frame", "sim", "tokens", "metrics", "edit", "replay"]
    assert keys[("sim",)] == ["preset", "W", "H", "dt", "stepsPerFrame", "scale", "wrap", "noiseAmp",
                              "noiseSeed", "params"]
    assert keys[("sim", "params")] == ["K", "Kbase", "alpha"]  # no schema order: sorted
    assert keys[("tokens", "[]")] in (["hdr", "geom", "stats", "heads", "topo", "code"],
                                      ["hdr", "geom", "stats", "topo", "code"])
    assert keys[("tokens", "[]", "geom")] == ["A", "phi_gf", "theta", "gradPhi", "kappa"]
    assert keys[("tokens", "[]", "code", "stage")] == ["a", "z"]
    dpat_order = list(_root("PAT_FRAME").props["edit"].props["applied"].items.props)
    assert keys[("edit", "applied", "[]")] == [key for key in dpat_order if key in ("patchId", "stats", "geom")]
    assert keys[("replay",)] == ["decoder", "gains", "constants", "editId"]
    assert keys[("replay", "gains")] == ["betaK", "gammaK"]  # listed sorted: the order of JSON lines before the schema named them
    assert decoded == frame


@pytest.mark.parametrize("kind", schema.available_kinds())
def test_every_record_schema_opens_with_kind_and_version(kind):
    node = _root(kind)
    assert list(node.props)[:2] == ["kind", "version"]


@PROPS
@given(st.integers(0, 2**32 - 1))
def test_any_key_order_gives_the_same_text(salt):
    frame = _frame_with_everything()
    rng = random.Random(salt)
    assert jsonl.encode_line(_shuffled(frame, rng)) == jsonl.encode_line(frame)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=3))
_KEYS = st.sampled_from(["kind", "version", "seed", "frame", "sim", "tokens", "hdr", "geom", "stats", "topo",
                         "code", "rvq", "t", "scale", "patchId", "A", "rho", "x", "zz", "heads", "params", "id"])
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_KEYS, inner, max_size=5)), max_leaves=25)


@PROPS
@given(st.sampled_from(schema.available_kinds()), _VALUES, st.data())
def test_compiled_order_agrees_with_the_general_walk(kind, extra, data):
    """Whatever the data (valid or not), the compiled functions and the general walk give
    the same map, with the same contents."""
    if kind == "PAT_FRAME":
        record = _frame_with_everything()
        target = record["tokens"][0] if data.draw(st.booleans()) else record
    else:
        names = list(_root(kind).props)
        record = {name: data.draw(_VALUES) for name in names if data.draw(st.booleans())}
        record.update(kind=kind, version=1)
        target = record
    if data.draw(st.booleans()):
        target[data.draw(_KEYS)] = extra
    kind = record.get("kind")
    node = _root(kind if type(kind) is str else None)
    got = ordered(record)
    assert json.dumps(got) == json.dumps(_walk(record, node))
    assert got == record


def test_numbers_shortest_round_trip_and_floats_as_floats():
    record = {"version": 1, "kind": "PAT_SUMMARY", "records": 3,
              "kinds": {"PAT_FRAME": 3, "A": 1}}
    assert jsonl.encode_line(record) == b'{"kind":"PAT_SUMMARY","version":1,"records":3,"kinds":{"A":1,"PAT_FRAME":3}}\n'
    frame = make_frame(W=32, H=32, scale=32)
    token = frame["tokens"][0]
    token["geom"]["A"] = 1.0
    token["stats"]["rho"] = 0.1
    token["stats"]["energy"] = 1e-7
    token["stats"]["valence"] = -0.0
    text = jsonl.encode_line(frame).decode()
    assert '"A":1.0,' in text and '"rho":0.1,' in text and '"energy":1e-7,' in text and '"valence":-0.0,' in text
    assert json.loads(text)["tokens"][0]["stats"]["energy"] == 1e-7


# ---- the same record through every command's --format jsonl -------------------------------------------

EXPORT = ["--seeds", "1,2", "--frames", "3", "--W", "32", "--H", "32", "--scale", "16", "--metrics"]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    directory = tmp_path_factory.mktemp("json_text")
    cbor = run("pat-export", *EXPORT, check=True).stdout
    text = run("pat-export", *EXPORT, "--format", "jsonl", check=True).stdout
    (directory / "e.cbor").write_bytes(cbor)
    (directory / "e.jsonl").write_bytes(text)
    sim = json.loads(text.splitlines()[0])["sim"]
    repro = {key: sim[key] for key in ("dt", "stepsPerFrame", "scale", "noiseSeed")}
    for name, dpat in (("none", []), ("empty", [{"patchId": "0,0,16"}])):
        edit = {"version": 1, "kind": "PAT_EDIT", "id": name, "seed": 1, "sim": sim,
                "targets": [{"frame": 1, "dpat": dpat}], "repro": repro}
        (directory / f"{name}.jsonl").write_text(json.dumps(edit) + "\n")
    return directory, cbor, text


def test_export_and_cat_write_the_same_text(export):
    directory, cbor, text = export
    assert run("pat-cat", "--format", "jsonl", input=cbor, check=True).stdout == text
    assert run("pat-cat", "--format", "jsonl", input=text, check=True).stdout == text
    assert b"".join(jsonl.encode_line(json.loads(line)) for line in text.splitlines()) == text
    assert run("pat-cat", "--format", "cbor", input=text, check=True).stdout == cbor


def test_a_hand_ordered_line_is_rewritten_in_schema_order(export):
    directory, cbor, text = export
    rng = random.Random(5)
    reordered = b"".join((json.dumps(_shuffled(json.loads(line), rng), separators=(",", ":")) + "\n").encode()
                         for line in text.splitlines())
    assert reordered != text
    assert run("pat-cat", "--format", "jsonl", input=reordered, check=True).stdout == text
    out = run("pat-apply", "--edit", str(directory / "none.jsonl"), "--format", "jsonl", input=reordered, check=True)
    assert out.stdout == text


def test_apply_writes_the_same_text(export):
    directory, cbor, text = export
    unchanged = run("pat-apply", "--edit", str(directory / "none.jsonl"), "--format", "jsonl", input=cbor, check=True)
    assert unchanged.stdout == text
    edited = run("pat-apply", "--edit", str(directory / "empty.jsonl"), "--format", "jsonl", input=cbor, check=True)
    lines, expected = edited.stdout.splitlines(), text.splitlines()
    block = b',"edit":{"id":"empty","applied":[{"patchId":"0,0,16"}]}}'
    assert lines[1].endswith(block)
    assert lines[1][:-len(block)] + b"}" == expected[1]
    assert [line for i, line in enumerate(lines) if i != 1] == [line for i, line in enumerate(expected) if i != 1]
    via_cat = shell(f"pat-apply --edit {directory / 'empty.jsonl'} {directory / 'e.cbor'} | pat-cat --format jsonl")
    assert via_cat.returncode == 0 and via_cat.stdout == edited.stdout


def test_replay_writes_the_same_text_and_frames(export):
    directory, cbor, text = export
    replayed = run("pat-replay", "--metrics", "--format", "jsonl", str(directory / "e.cbor"), check=True).stdout
    via_cat = shell(f"pat-replay --metrics {directory / 'e.cbor'} | pat-cat --format jsonl")
    assert via_cat.returncode == 0 and via_cat.stdout == replayed
    records = [json.loads(line) for line in replayed.splitlines()]
    for record in records:
        assert list(record)[-1] == "replay"
        del record["replay"]
    assert records == [json.loads(line) for line in text.splitlines()]
    assert b"".join(jsonl.encode_line(record) for record in records) == text
