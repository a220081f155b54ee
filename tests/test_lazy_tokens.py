"""Lazy token arrays: the head-only scan agrees with cbor2, and the lazy reader with the strict one."""

from __future__ import annotations

import io
import math

import cbor2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools.errors import DataError
from pattools.io import cbor
from pattools.io.lazy_tokens import TOKENS_KEY, decode_tokens, iter_items_lazy
from pattools.kernels.cbor_scan import SCAN_BAD, SCAN_MORE, SCAN_OK, scan_item
from tests.helpers import make_frame, run

KEY = np.frombuffer(TOKENS_KEY, dtype=np.uint8)

leaves = (st.integers(-(2**64) + 1, 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=30)
          | st.binary(max_size=30) | st.booleans() | st.none())
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(st.sampled_from(["tokens", "a", "seed", "x" * 30]), inner, max_size=4),
                      max_leaves=30)


def scan(data: bytes, start: int = 0):
    return scan_item(np.frombuffer(data, dtype=np.uint8), start, KEY)


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_scan_finds_the_end_and_the_tokens_value(value, canonical):
    data = cbor2.dumps(value, canonical=canonical)
    status, end, start, stop = scan(b"\x00" + data + b"\x01", 1)
    assert (status, end) == (SCAN_OK, len(data) + 1)
    if isinstance(value, dict) and "tokens" in value:
        assert cbor2.loads(data[start - 1:stop - 1]) == value["tokens"]
    else:
        assert (start, stop) == (-1, -1)
    for cut in range(1, len(data)):
        assert scan(data[:cut])[0] == SCAN_MORE


@pytest.mark.parametrize("data", [
    bytes.fromhex("c1 1a 00 00 00 01"),  # a tag
    bytes.fromhex("a1 66") + b"tokens" + bytes.fromhex("81 c0 60"),  # a tag inside the tokens
    bytes.fromhex("ff"),  # a break outside an indefinite container
    bytes.fromhex("1c"),  # reserved additional information
    bytes.fromhex("5f 61 61 ff"),  # an indefinite byte string with a text chunk
    bytes.fromhex("a2 66") + b"tokens" + b"\x80" + bytes.fromhex("66") + b"tokens" + b"\x80",  # duplicate key
    b"\x81" * 70 + b"\x00",  # nested deeper than 64
])
def test_scan_refuses_what_the_strict_reader_refuses(data):
    assert scan(data)[0] == SCAN_BAD
    with pytest.raises(DataError):
        list(cbor.iter_items(io.BytesIO(data), "x", max_record_bytes=1 << 20))


def test_indefinite_containers_and_strings_are_scanned():
    data = bytes.fromhex("bf 66") + b"tokens" + bytes.fromhex("9f 01 7f 61 61 61 62 ff ff 61 61 f5 ff")
    status, end, start, stop = scan(data)
    assert (status, end) == (SCAN_OK, len(data))
    assert cbor2.loads(data[start:stop]) == [1, "ab"]


def _stream(records: list[dict]) -> bytes:
    return b"".join(cbor.encode(r) for r in records)


def test_lazy_reader_gives_the_strict_values_with_tokens_left_encoded():
    frames = [make_frame(frame=f, W=64, H=48, scale=16) for f in range(5)] + [{"kind": "OTHER", "n": 1}]
    data = _stream(frames)
    strict = list(cbor.iter_items(io.BytesIO(data), "x", max_record_bytes=1 << 20))
    lazy = list(iter_items_lazy(io.BytesIO(data[1:]), "x", max_record_bytes=1 << 20, prefix=data[:1]))
    assert len(lazy) == len(strict)
    for (value, raw, screen, tokens), (full, full_raw) in zip(lazy, strict):
        assert raw == full_raw
        if "tokens" in full:
            assert value == {**full, "tokens": []} and decode_tokens(tokens) == full["tokens"]
            assert len(screen) < len(raw)
        else:
            assert value == full and tokens is None


@pytest.mark.parametrize("damage", ["truncate", "tag", "oversize"])
def test_lazy_reader_errors_read_as_the_strict_ones(damage):
    data = _stream([make_frame(frame=f, W=64, H=48, scale=16) for f in range(3)])
    limit = 1 << 20
    if damage == "truncate":
        data = data[:-5]
    elif damage == "tag":
        second = len(cbor.encode(make_frame(frame=0, W=64, H=48, scale=16)))
        data = data[:second] + b"\xc1" + data[second:]
    else:
        limit = 2000

    def message(reader) -> str:
        with pytest.raises(DataError) as caught:
            list(reader(io.BytesIO(data), "in", max_record_bytes=limit))
        return str(caught.value)

    assert message(iter_items_lazy) == message(cbor.iter_items)


def test_token_bytes_decode_strictly_and_name_the_path():
    tokens = make_frame(W=32, H=32, scale=32)["tokens"]
    tokens[0]["stats"]["attnMean"] = math.nan
    with pytest.raises(DataError) as caught:
        decode_tokens(cbor2.dumps(tokens, canonical=True))
    assert caught.value.path == "tokens[0].stats.attnMean"
    with pytest.raises(DataError) as caught:
        decode_tokens(b"\x81\x62\xff\xfe")  # invalid UTF-8
    assert caught.value.path == "tokens"


def test_replay_decodes_tokens_only_where_it_reads_them(tmp_path):
    """A NaN inside tokens: unread by a zero-edit delta replay, reported by the tokens decoder."""
    frames = run("pat-export", "--W", "32", "--H", "32", "--frames", "3", "--seeds", "5", check=True).stdout
    records = [value for value, _ in cbor.iter_items(io.BytesIO(frames), "x", max_record_bytes=1 << 20)]
    records[1]["tokens"][0]["stats"]["attnVar"] = math.nan
    path = tmp_path / "f.cbor"
    path.write_bytes(b"".join(cbor2.dumps(r, canonical=True) for r in records))
    assert run("pat-replay", str(path)).returncode == 0
    bad = run("pat-replay", "--decoder", "tokens", str(path))
    assert bad.returncode == 1
    assert bad.stderr.strip().endswith(b"record 1: tokens[0].stats.attnVar: expected a finite number, got nan")
