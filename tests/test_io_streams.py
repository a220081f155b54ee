"""Streams: strict CBOR/JSONL decoding, sniffing, lossless conversion (in-process and CLI)."""

from __future__ import annotations

import gc
import io
import json

import cbor2
import pytest
from hypothesis import given, settings, strategies as st

from pattools.errors import DataError
from pattools.io import RecordWriter, read_records
from pattools.io import cbor as pcbor
from bench.fuzz_readers import token_scanner
from tests.helpers import make_frame, run


def _read(data: bytes, **kw) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data), **kw)]


def _cbor_seq(records) -> bytes:
    return b"".join(pcbor.encode(r) for r in records)


def test_cbor_and_jsonl_are_sniffed_and_equal():
    frames = [make_frame(frame=i) for i in range(3)]
    as_cbor = _cbor_seq(frames)
    as_jsonl = b"".join(json.dumps(f).encode() + b"\n" for f in frames)
    assert _read(as_cbor) == frames
    assert _read(as_jsonl) == frames


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_records_and_their_raw_bytes_across_chunk_boundaries(monkeypatch, chunk):
    monkeypatch.setattr(pcbor, "CHUNK_BYTES", chunk)
    frames = [make_frame(frame=i) for i in range(4)]
    records = list(read_records(["-"], stdin=io.BytesIO(_cbor_seq(frames))))
    assert [r.document() for r in records] == frames
    assert [r._raw for r in records] == [pcbor.encode(f) for f in frames]


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=4), st.integers(0, 2**32 - 1), finite, finite)
def test_cbor_jsonl_cbor_round_trip_is_byte_exact(extra_frames, seed, f1, f2):
    """CBOR → JSONL → CBOR reproduces the bytes (floats, ints, nesting) for arbitrary values."""
    records = [make_frame(seed=seed, frame=i, W=40, H=40, scale=16) for i in range(1 + len(extra_frames))]
    for i, r in enumerate(records):
        r["tokens"][0]["hdr"]["t"] = f1
        r["tokens"][-1]["heads"] = [f2, float(i)]
    original = _cbor_seq(records)
    jsonl = io.BytesIO()
    writer = RecordWriter(jsonl, "jsonl")
    for record in _read(original, validate=False):
        writer.write(record)
    back = io.BytesIO()
    writer = RecordWriter(back, "cbor")
    for record in _read(jsonl.getvalue(), validate=False):
        writer.write(record)
    assert back.getvalue() == original


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | finite | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_any_json_record_round_trips(record):
    data = pcbor.encode(record)
    (value,) = _read(data, validate=False)
    line = io.BytesIO()
    RecordWriter(line, "jsonl").write(value)
    (again,) = _read(line.getvalue(), validate=False)
    assert pcbor.encode(again) == data


BAD_CBOR = {
    "truncated": (pcbor.encode({"kind": "PAT_FRAME", "x": [1, 2, 3]})[:-2], "truncated final item"),
    "garbage": (b"\xa1\x61a\x1c", "malformed CBOR"),
    "tag": (b"\xa1\x61a\xc1\x1a\x00\x00\x00\x01", "CBOR tag 1"),
    "unknown_tag": (b"\xa1\x61a\xd8\x63\x01", "CBOR tag 99"),
    "duplicate": (b"\xa2\x61a\x01\x61a\x02", "duplicate map key 'a'"),
    "int_key": (b"\xa1\x01\x02", "map key is not a text string"),
    "deep": (b"\xa1\x61a" + b"\x81" * 70 + b"\x00", "nesting deeper than 64"),
    "not_map": (b"\x01", "expected a record (map)"),
}


@pytest.mark.parametrize("case", sorted(BAD_CBOR))
def test_bad_cbor_is_a_located_data_error(case):
    data, needle = BAD_CBOR[case]
    good = pcbor.encode({"kind": "x"})
    with pytest.raises(DataError) as info:
        _read(good + data, validate=False)
    err = info.value
    assert needle in str(err)
    assert err.record == 1 and err.input == "<stdin>"


def test_declared_oversize_item_is_refused_before_reading_its_body():
    """A header declaring a 1 TiB byte string fails after reading a few MiB, not the body."""

    class Endless:
        def __init__(self):
            self.head = b"\xa1\x61a\x5b" + (1 << 40).to_bytes(8, "big")
            self.total = 0

        def read(self, n=-1):
            n = 1 << 20 if n is None or n < 0 else n
            self.total += n
            if self.head:
                out, self.head = self.head[:n], self.head[n:]
                return out
            return b"\0" * n

    stream = Endless()
    with pytest.raises(DataError, match="exceeds --max-record-bytes 1000"):
        list(read_records(["-"], stdin=stream, validate=False, max_record_bytes=1000))
    assert stream.total < 8 << 20


def test_record_bigger_than_limit_is_refused():
    data = pcbor.encode({"kind": "x", "pad": "y" * 5000})
    with pytest.raises(DataError, match="exceeds --max-record-bytes 100"):
        _read(data, validate=False, max_record_bytes=100)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nonfinite_numbers_are_refused_with_their_path(value):
    frame = make_frame()
    frame["tokens"][1]["stats"]["rho"] = value
    for data in (cbor2.dumps(frame), pcbor.encode(frame)):  # float64 and canonical float16 forms
        with pytest.raises(DataError) as info:
            _read(data, validate=False)
        assert info.value.path == "tokens[1].stats.rho"
        assert "expected a finite number" in str(info.value)


def test_jsonl_strictness():
    with pytest.raises(DataError, match="non-finite number NaN"):
        _read(b'{"a": NaN}\n')
    with pytest.raises(DataError, match="duplicate map key 'a'"):
        _read(b'{"a": 1, "a": 2}\n')
    with pytest.raises(DataError, match="nesting deeper than 64"):
        _read(b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}\n", validate=False)
    with pytest.raises(DataError) as info:
        _read(b'{"kind": "x"}\n{"a": 1\n', validate=False)
    assert info.value.record == 1 and "malformed JSON" in str(info.value)


def test_unknown_first_byte_is_a_framing_error():
    with pytest.raises(DataError, match="first byte 0x47"):
        _read(b"GARBAGE")


def test_empty_input_gives_no_records():
    assert _read(b"") == []


def test_wrong_type_at_nested_path_via_cli():
    frame = make_frame()
    frame["tokens"][0]["stats"]["rho"] = "high"
    result = run("pat-cat", input=pcbor.encode(make_frame()) + pcbor.encode(frame))
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "pat-cat: <stdin>: record 1: tokens[0].stats.rho: expected a number, got string 'high'\n")


def test_typed_array_bytes_become_lists_in_jsonl():
    import struct

    record = {"kind": "x", "a": {"dtype": "float64", "shape": [2], "data": struct.pack("<2d", 1.5, -2.0)},
              "b": [{"dtype": "int64", "shape": [1], "data": struct.pack("<q", 7)}], "c": b"raw"}
    with pytest.raises(DataError, match="not representable in JSON"):
        RecordWriter(io.BytesIO(), "jsonl").write(record)
    del record["c"]
    out = io.BytesIO()
    RecordWriter(out, "jsonl").write(record)
    assert json.loads(out.getvalue()) == {"kind": "x", "a": {"dtype": "float64", "shape": [2], "data": [1.5, -2.0]},
                                          "b": [{"dtype": "int64", "shape": [1], "data": [7]}]}


def _buffered_items(stream, name: str, *, max_record_bytes: int):
    """The reader iter_items replaced, which decoded an item again after every read: the
    reference for what is yielded and refused, and for the sizes in refusals."""
    buffer, index, eof = b"", 0, False
    while True:
        if not buffer:
            if eof:
                return
            buffer = stream.read(pcbor.CHUNK_BYTES)
            if not buffer:
                return
        view = io.BytesIO(buffer)
        decoder = pcbor._make_decoder(view)
        start = 0
        while start < len(buffer):
            value = pcbor._decode_next(decoder, name, index)
            if value is pcbor._END:
                break
            end = view.tell()
            if end - start > max_record_bytes:
                raise pcbor._oversize(name, index, end - start, max_record_bytes)
            yield value, buffer[start:end]
            index += 1
            start = end
        rest = buffer[start:]
        if eof:
            if rest:
                raise DataError(f"truncated final item ({len(rest)} bytes of an incomplete CBOR item)",
                                input=name, record=index)
            return
        needed = pcbor.declared_size(rest)
        if needed is not None and needed > max_record_bytes:
            raise pcbor._oversize(name, index, needed, max_record_bytes)
        if len(rest) > max_record_bytes:
            raise pcbor._oversize(name, index, len(rest), max_record_bytes)
        more = stream.read(max(pcbor.CHUNK_BYTES, len(rest)))
        if not more:
            eof = True
        buffer = rest + more


def _outcome(items) -> tuple[list, str | None]:
    out = []
    try:
        for value, raw in items:
            out.append((pcbor.encode(value), raw))
    except DataError as error:
        return out, str(error)
    except OSError as error:
        return out, f"OSError {error}"
    return out, None


class _FailingStream(io.BytesIO):
    """Raises OSError on every read that would reach byte ``fail_at``."""

    def __init__(self, data: bytes, fail_at: int):
        super().__init__(data)
        self.fail_at = fail_at

    def read(self, n=-1):
        if self.tell() + n > self.fail_at:
            raise OSError(5, "input/output error")
        return super().read(n)


item_sizes = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 300)), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(item_sizes, st.integers(1, 300), st.sampled_from([40, 300, 1000, 5000, 1 << 30]), st.data())
def test_spilled_items_match_the_buffered_reader(sizes, chunk, limit, data):
    """Items longer than a read are decoded once, with the same items and the same refusals
    (sizes included) as the reader that decoded them again after every read."""
    records = [{"kind": "x", "parts": [{"a": [1.5, -2, "t" * (i % 7)]} for i in range(parts)], "pad": "p" * pad}
               for parts, pad in sizes]
    encoded = _cbor_seq(records)
    damage = data.draw(st.sampled_from(["none", "cut", "byte", "huge", "fail"]))
    if damage == "cut":
        encoded = encoded[:data.draw(st.integers(1, len(encoded) - 1))]
    elif damage == "byte":
        at = data.draw(st.integers(0, len(encoded) - 1))
        encoded = encoded[:at] + bytes([data.draw(st.integers(0, 255))]) + encoded[at + 1:]
    elif damage == "huge":  # a string declaring 1 TiB, somewhere
        at = data.draw(st.integers(0, len(encoded)))
        encoded = encoded[:at] + b"\x5b" + (1 << 40).to_bytes(8, "big") + encoded[at:]

    def stream():
        if damage == "fail":
            return _FailingStream(encoded, fail_at=data_fail)
        return io.BytesIO(encoded)

    data_fail = data.draw(st.integers(0, len(encoded))) if damage == "fail" else 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pcbor, "CHUNK_BYTES", chunk)
        expected = _outcome(_buffered_items(stream(), "in", max_record_bytes=limit))
        got = _outcome(pcbor.iter_items(stream(), "in", max_record_bytes=limit))
        whole = _outcome(pcbor.iter_items(io.BytesIO(encoded), "in", max_record_bytes=limit))
    if damage == "fail":
        # Reading ahead may meet a read error earlier: the same error, after fewer items.
        assert got[1] == expected[1] and got[0] == whole[0][:len(got[0])]
    else:
        assert got == expected


@pytest.mark.parametrize("chunk", [7, 10, 16])
def test_reading_ahead_inside_an_item_does_not_move_later_refusals(monkeypatch, chunk):
    """After an item that needed more than one read, the bytes that follow it are buffered
    as before, so a later item refused for its size reports the same size."""
    monkeypatch.setattr(pcbor, "CHUNK_BYTES", chunk)
    later = [[1, 1, 1, 1]] * 30  # no declared length above 30
    size = len(pcbor.encode(later))
    for lead in range(chunk):
        for pad in range(0, 3 * chunk):
            encoded = b"\xa0" * lead + _cbor_seq([{"p": "p" * pad}, {}, later, {}])
            for limit in (60, size - 2, size - 1, size, size + 1):
                expected = _outcome(_buffered_items(io.BytesIO(encoded), "in", max_record_bytes=limit))
                got = _outcome(pcbor.iter_items(io.BytesIO(encoded), "in", max_record_bytes=limit))
                assert got == expected, (lead, pad, limit)


def test_an_item_longer_than_a_read_is_decoded_once(monkeypatch):
    monkeypatch.setattr(pcbor, "CHUNK_BYTES", 64)
    made = []
    make = pcbor._make_decoder
    monkeypatch.setattr(pcbor, "_make_decoder", lambda *args, **kw: made.append(args[0]) or make(*args, **kw))
    record = {"kind": "x", "parts": [{"a": [i, 0.5]} for i in range(5000)]}
    data = pcbor.encode(record) + pcbor.encode({"kind": "y"})
    items = list(pcbor.iter_items(io.BytesIO(data), "in", max_record_bytes=1 << 20))
    assert [value for value, _ in items] == [record, {"kind": "y"}]
    assert b"".join(raw for _, raw in items) == data
    assert len(made) <= 3  # the first buffer, the spilled item, the buffer after it


def test_decoding_a_long_item_leaves_the_collector_as_it_was(monkeypatch):
    monkeypatch.setattr(pcbor, "CHUNK_BYTES", 64)
    data = pcbor.encode({"kind": "x", "parts": [[i] for i in range(500)]})
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            assert len(list(pcbor.iter_items(io.BytesIO(data), "in", max_record_bytes=1 << 20))) == 1
            assert gc.isenabled() == enabled and gc.get_freeze_count() == 0
        finally:
            gc.enable()


def test_declared_size_reads_a_bounded_number_of_headers(monkeypatch):
    huge = b"\x5b" + (1 << 40).to_bytes(8, "big")
    near = b"\x82\x01" + huge
    far = b"\x9a" + (10**5).to_bytes(4, "big") + b"\x01" * 5000 + huge
    assert pcbor.declared_size(near) == 3 + 8 + (1 << 40)
    assert pcbor.declared_size(far) == 5 + 10**5  # the string lies past the headers read
    monkeypatch.setattr(pcbor, "DECLARED_SIZE_HEADERS", 10**6)
    assert pcbor.declared_size(far) == 5 + 5000 + 9 + (1 << 40)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("field, value, message", [
    ("wrap", 1, "sim.wrap: expected a boolean"),  # 1 == True, but not a boolean
    ("W", 96.5, "sim.W: expected an integer"),
    ("preset", "other", "sim.preset"),
])
def test_a_sim_equal_to_a_validated_one_only_in_value_is_still_checked(lazy, field, value, message):
    """The reader skips re-validating a sim block identical (types included) to the last one."""
    first = make_frame(frame=0, W=96, H=96)
    second = make_frame(frame=1, W=96, H=96)
    second["sim"] = dict(second["sim"], **{field: value})
    data = pcbor.encode(first) + pcbor.encode(first) + pcbor.encode(second)
    with pytest.raises(DataError) as caught, token_scanner(lazy):
        list(read_records(["-"], stdin=io.BytesIO(data), columns=lazy))
    assert f"record 2: {message}" in str(caught.value)
