"""TokenFrame: lossless dict ⇄ columns conversion, and finiteness checks on the columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools.errors import DataError
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame


def test_round_trip_keeps_every_field():
    tokens = make_frame(W=40, H=40, scale=16)["tokens"]
    tokens[0]["heads"] = [0.5]
    tokens[1]["stats"]["reconMSE"] = 0.25
    tokens[2]["code"]["stage"] = {"k": 1}
    assert TokenFrame.from_tokens(tokens).to_tokens() == tokens


@pytest.mark.parametrize("group, field", [("stats", "energy"), ("geom", "kappa"), ("hdr", "t")])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_nonfinite_columns_are_data_errors(group, field, value):
    tokens = make_frame()["tokens"]
    tokens[4][group][field] = value
    with pytest.raises(DataError) as info:
        TokenFrame.from_tokens(tokens)
    assert info.value.path == f"tokens[4].{group}.{field}"
    assert str(info.value).endswith(f"expected a finite number, got {value!r}")


code_rows = st.one_of(st.none(), st.lists(st.integers(0, 3), max_size=6))


@settings(max_examples=60, deadline=None)
@given(st.lists(code_rows, min_size=1, max_size=8))
def test_codes_of_any_lengths_round_trip(rows):
    """Tokens may carry code.rvq of different lengths, or none (the schema allows it)."""
    tokens = make_frame(W=64, H=64, scale=32)["tokens"] * 2
    tokens = [dict(token) for token in tokens[:len(rows)]]
    for token, row in zip(tokens, rows):
        token.pop("code", None)
        if row is not None:
            token["code"] = {"rvq": row}
    frame = TokenFrame.from_tokens(tokens)
    assert frame.to_tokens() == tokens
    assert frame.copy().to_tokens() == tokens
    uniform = len({-1 if row is None else len(row) for row in rows}) == 1
    assert (frame.rvq_len is None) == (uniform or all(row is None for row in rows))


def test_code_lengths_name_each_tokens_code_length():
    tokens = make_frame(W=64, H=64, scale=32)["tokens"]
    assert TokenFrame.from_tokens(tokens).code_lengths().tolist() == [5, 5, 5, 5]
    tokens[1]["code"]["rvq"] = [1, 2]
    del tokens[2]["code"]
    assert TokenFrame.from_tokens(tokens).code_lengths().tolist() == [5, 2, -1, 5]
    for token in tokens:
        token.pop("code", None)
    assert TokenFrame.from_tokens(tokens).code_lengths().tolist() == [-1, -1, -1, -1]
