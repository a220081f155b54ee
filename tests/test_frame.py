"""TokenFrame: lossless dict ⇄ columns conversion, and finiteness checks on the columns."""

from __future__ import annotations

import pytest

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
