"""The columnar token check: accepted only when schema-valid, and exactly from_tokens' columns."""

from __future__ import annotations

import copy

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools import schema
from pattools.io.token_columns import checked_columns
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame
from tests.test_schemas import _mutations

COLUMNS = ("t", "scale", "geom", "stats", "topo", "rvq", "recon_mse")


def _same_columns(a: TokenFrame, b: TokenFrame) -> bool:
    for name in COLUMNS:
        x, y = getattr(a, name), getattr(b, name)
        if (x is None) != (y is None):
            return False
        if x is not None and (x.dtype != y.dtype or not np.array_equal(x, y)):
            return False
    return a.patch_ids == b.patch_ids and a.heads == b.heads and a.code_stage == b.code_stage


def test_accepts_plain_frames_with_the_columns_from_tokens():
    frame = make_frame(W=100, H=70, scale=16)
    columns = checked_columns(frame["tokens"])
    assert columns is not None
    assert _same_columns(columns, TokenFrame.from_tokens(frame["tokens"]))


def test_recon_on_every_token_and_no_code_are_accepted():
    tokens = make_frame(W=64, H=64, scale=32)["tokens"]
    for token in tokens:
        token["stats"]["reconMSE"] = 0.125
        del token["code"]
    columns = checked_columns(tokens)
    assert columns is not None and columns.rvq is None
    assert _same_columns(columns, TokenFrame.from_tokens(tokens))


@pytest.mark.parametrize("change", [
    lambda t: t[0].__setitem__("heads", [0.5]),  # heads: the schema path handles them
    lambda t: t[1]["code"].__setitem__("stage", [1]),
    lambda t: t[1]["stats"].__setitem__("reconMSE", 0.1),  # on some tokens only
    lambda t: t[0]["geom"].__setitem__("A", 1),  # valid, but an int would re-encode as a float
    lambda t: t[0]["topo"].__setitem__("vortex", True),
    lambda t: t[0]["geom"].__setitem__("kappa", float("inf")),
    lambda t: t[0]["stats"].__setitem__("attnMean", float("nan")),
    lambda t: t[2]["code"]["rvq"].append(0),  # codes of two lengths
    lambda t: t[0]["topo"].__setitem__("vortex", 2**70),
    lambda t: t.clear(),
])
def test_declines_other_shapes(change):
    tokens = make_frame(W=96, H=96, scale=32)["tokens"]
    change(tokens)
    assert checked_columns(tokens) is None


def test_accepted_mutations_are_schema_valid():
    """Every leaf of two tokens mutated to other types and out-of-range values: whatever the
    fast check accepts, jsonschema accepts too (the other direction falls back to the schema)."""
    frame = make_frame(W=40, H=33, scale=16)
    reference = jsonschema.Draft202012Validator(schema.load_schema("PAT_FRAME"))
    accepted = checked = 0
    for label, variant in _mutations({"tokens": frame["tokens"]}):
        record = {**frame, "tokens": variant.get("tokens")}
        columns = checked_columns(record["tokens"])
        checked += 1
        if columns is not None:
            accepted += 1
            assert reference.is_valid(record), label
            assert _same_columns(columns, TokenFrame.from_tokens(record["tokens"])), label
    assert checked > 200 and 0 < accepted < checked


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_values_accepted_exactly_when_schema_valid_or_declined(data):
    frame = make_frame(W=64, H=48, scale=16, rng=np.random.default_rng(data.draw(st.integers(0, 10**6))))
    tokens = copy.deepcopy(frame["tokens"])
    for _ in range(data.draw(st.integers(0, 4))):
        token = tokens[data.draw(st.integers(0, len(tokens) - 1))]
        group = data.draw(st.sampled_from(["geom", "stats", "topo", "code"]))
        if group == "code":
            token["code"]["rvq"][data.draw(st.integers(0, 4))] = data.draw(st.integers(-2, 5))
        elif group == "topo":
            token["topo"][data.draw(st.sampled_from(["vortex", "chirality"]))] = data.draw(st.integers(-3, 3))
        else:
            token[group][data.draw(st.sampled_from(sorted(token[group])))] = data.draw(finite)
    record = {**frame, "tokens": tokens}
    valid = jsonschema.Draft202012Validator(schema.load_schema("PAT_FRAME")).is_valid(record)
    columns = checked_columns(tokens)
    assert (columns is not None) == valid  # these mutations keep the shape: declined only when invalid
    if columns is not None:
        assert _same_columns(columns, TokenFrame.from_tokens(tokens))


# --- from the CBOR bytes (pattools.kernels.token_parse) -------------------------------------

from pattools.io import cbor as pcbor  # noqa: E402
from pattools.io.token_columns import columns_from_bytes  # noqa: E402


def _agree(data: bytes) -> TokenFrame | None:
    """columns_from_bytes(data), after checking it never accepts what decoding the maps and
    checked_columns would not, and that it then gives the same columns."""
    fast = columns_from_bytes(data)
    if fast is not None:
        import cbor2

        slow = checked_columns(cbor2.loads(data))
        assert slow is not None and _same_columns(fast, slow)
    return fast


@pytest.mark.parametrize("layout", ["plain", "recon", "no code", "3 codes"])
def test_bytes_give_the_columns_of_the_maps(layout):
    tokens = make_frame(W=100, H=70, scale=16)["tokens"]
    for i, token in enumerate(tokens):
        if layout == "recon":
            token["stats"]["reconMSE"] = [0.5, 1e-300, 3.0e38, 0.1][i % 4]
        elif layout == "no code":
            del token["code"]
        elif layout == "3 codes":
            token["code"]["rvq"] = token["code"]["rvq"][:3]
        token["geom"]["phi_gf"] = [-0.0, 0.5, 65504.0 / 65536, 6e-8, -3.0][i % 5]  # half, single and double widths
    assert _agree(pcbor.encode(tokens)) is not None


def test_bytes_in_other_encodings_or_invalid_are_declined():
    tokens = make_frame(W=64, H=64, scale=32)["tokens"]
    import cbor2

    assert columns_from_bytes(cbor2.dumps(tokens)) is None  # keys not in canonical order
    bad = copy.deepcopy(tokens)
    bad[1]["stats"]["rho"] = 1.5
    assert columns_from_bytes(pcbor.encode(bad)) is None
    bad = copy.deepcopy(tokens)
    bad[2]["hdr"]["patchId"] = "é,0,32"
    assert columns_from_bytes(pcbor.encode(bad)) is None
    assert columns_from_bytes(pcbor.encode(tokens)[:-1]) is None
    assert columns_from_bytes(pcbor.encode(tokens) + b"\x00") is None


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_bytes_are_declined_or_read_as_the_maps_are(data):
    tokens = make_frame(W=64, H=48, scale=16, rng=np.random.default_rng(data.draw(st.integers(0, 10**6))))["tokens"]
    encoded = bytearray(pcbor.encode(tokens))
    for _ in range(data.draw(st.integers(1, 3))):
        encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.integers(0, 255))
    try:
        import cbor2

        cbor2.loads(bytes(encoded))
    except Exception:  # noqa: BLE001 - undecodable: the fast reader must decline too
        assert columns_from_bytes(bytes(encoded)) is None
        return
    _agree(bytes(encoded))
