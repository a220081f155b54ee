"""FrameEncoder: frames encoded with shared envelope entries cached give the plain encoder's bytes."""

from __future__ import annotations

import numpy as np

from pattools.io.frame_encoder import FrameEncoder
from pattools.schema import same_value
from pattools.io.token_cbor import encode_frame_record
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame


def test_same_value_tells_apart_values_python_calls_equal():
    assert same_value({"a": [1, 2.0], "b": {"c": True}}, {"a": [1, 2.0], "b": {"c": True}})
    assert not same_value({"a": 1}, {"a": 1.0})
    assert not same_value({"a": True}, {"a": 1})
    assert not same_value({"x": 1, "y": 1.0}, {"y": 1, "x": 1.0})  # equal dicts, types swapped by key
    assert not same_value({"p": {"k": 1}}, {"p": {"k": 1.0}})
    assert not same_value({"noiseAmp": 0.0}, {"noiseAmp": -0.0}) and same_value([-0.0], [-0.0])


def test_encoder_bytes_equal_the_plain_encoder_across_sequences_and_key_sets():
    encoder = FrameEncoder()
    rng = np.random.default_rng(3)
    for seed, wrap, extra in [(1, True, {}), (1, True, {"edit": {"id": "e", "applied": []}}), (2, True, {}),
                              (2, 1, {}), (2, True, {"metrics": {"rhoMean": 0.5}}), (2, -0.0, {}), (2, 0.0, {})]:
        for frame in range(3):
            record = make_frame(seed=seed, frame=frame, W=64, H=48, scale=16, rng=rng)
            record["sim"] = dict(record["sim"], wrap=wrap)
            tokens = TokenFrame.from_tokens(record.pop("tokens"))
            record.update(extra)
            assert encoder.encode(record, tokens) == encode_frame_record(record, tokens)
