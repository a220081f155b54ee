"""NUPCA_STATE / NUPCA_OBS / NUPCA_TRACE records, configuration checks, determinism, resume."""

from __future__ import annotations

import numpy as np
import pytest

from pattools import schema
from pattools.errors import DataError
from pattools.io import cbor, jsonl
from pattools.nupca import codec, typed_arrays
from pattools.nupca.config import config_from_dict
from pattools.nupca.state import init_state
from pattools.nupca.step import step
from pattools.nupca.synthetic import LinearBlockEnv

CONFIG = {"D": 48, "B": 12, "fovea_blocks_per_step": 5, "theta_alias": 0.0, "t_inactive": 20}


def encode(record: dict, fmt: str) -> bytes:
    return cbor.encode(record) if fmt == "cbor" else jsonl.encode_line(record)


def decode(data: bytes, fmt: str) -> dict:
    return cbor.decode_one(data) if fmt == "cbor" else jsonl.decode_line(data)


def run(steps: int, state=None, seed: int = 5, start: int = 0, full: bool = False):
    config = config_from_dict(CONFIG)
    state = state or init_state(config)
    env = LinearBlockEnv(config, seed=seed, noise=0.05)
    traces = []
    for obs in list(env.stream(start + steps, rest_every=50))[start:]:
        traces.append(codec.trace_to_record(step(state, obs, full=full), "cbor"))
    return state, traces


@pytest.mark.parametrize("fmt", ["cbor", "jsonl"])
def test_state_round_trips_byte_for_byte_and_validates(fmt):
    state, traces = run(120, full=True)
    record = codec.state_to_record(state, fmt)
    data = encode(record, fmt)
    back = decode(data, fmt)
    schema.validate(back)
    again = codec.state_from_record(back)
    assert encode(codec.state_to_record(again, fmt), fmt) == data
    # the other framing carries the same state
    other = "jsonl" if fmt == "cbor" else "cbor"
    assert codec.state_to_record(codec.state_from_record(decode(encode(codec.state_to_record(state, other), other), other)), fmt) == record
    for trace in traces:
        schema.validate(trace)
    schema.validate(decode(encode(codec.trace_to_record(step(again, next(iter(LinearBlockEnv(again.config).stream(1))), full=True), fmt), fmt), fmt))


def test_two_runs_give_identical_bytes():
    state_a, traces_a = run(300)
    state_b, traces_b = run(300)
    assert cbor.encode(traces_a) == cbor.encode(traces_b)
    assert cbor.encode(codec.state_to_record(state_a, "cbor")) == cbor.encode(codec.state_to_record(state_b, "cbor"))


def test_resuming_from_a_saved_state_continues_the_same_run():
    whole, traces_whole = run(300)
    first, traces_first = run(170)
    saved = cbor.encode(codec.state_to_record(first, "cbor"))
    resumed = codec.state_from_record(cbor.decode_one(saved))
    resumed, traces_rest = run(130, state=resumed, start=170)
    assert cbor.encode(traces_first + traces_rest) == cbor.encode(traces_whole)
    assert cbor.encode(codec.state_to_record(resumed, "cbor")) == cbor.encode(codec.state_to_record(whole, "cbor"))


def test_no_infinity_in_records():
    state = init_state(config_from_dict({"D": 8, "B": 2}))
    record = codec.state_to_record(state, "jsonl")
    assert record["cache"] is None
    state, _ = run(3)
    record = codec.state_to_record(state, "jsonl")
    assert all(np.isfinite(record["cache"]["precision"]["data"]))
    jsonl.encode_line(record)  # strict JSON: would fail on inf


@pytest.mark.parametrize(
    "values, message",
    [
        ({"D": 8, "B": 2, "bogus": 1}, "unknown key 'bogus'"),
        ({"D": 8, "B": "2"}, "config.B: expected integer, got string"),
        ({"D": 8, "B": 9}, "expected B <= D"),
        ({"D": 1024, "B": 256, "L_work_max": 48}, "L_work_max 48 cannot hold the anchors' total cost 52.2"),
        ({"D": 8, "B": 2, "force_block_anchors": True, "N_max": 2}, "N_max 2 cannot hold the 3 anchors"),
        ({"D": 8, "B": 2, "rls_forget": 1.5}, "config.rls_forget: expected number <= 1"),
            ({"D": 8, "B": 2, "lr_expert": 0.01}, "unknown key 'lr_expert'"),  # gone with the LMS rule
        ({"D": 8, "B": 2, "fovea_use_age": 1}, "expected boolean"),
    ],
)
def test_configuration_is_checked_on_load(values, message):
    with pytest.raises(DataError) as info:
        config_from_dict(values)
    assert message in str(info.value)


def test_defaults_fit_at_every_size():
    for dim, blocks in ((64, 16), (1024, 256), (4096, 1024)):
        config = config_from_dict({"D": dim, "B": blocks})
        assert config.load_budget == pytest.approx(48 + 1 + 0.05 * dim)
        state = init_state(config)
        trace = step(state, next(iter(LinearBlockEnv(config).stream(1))))
        assert trace.active[0] == 0  # the global anchor is always in


def corrupt(path: list, value, fmt: str = "cbor") -> DataError:
    state, _ = run(30)
    record = codec.state_to_record(state, "jsonl")
    holder = record
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value(holder[path[-1]]) if callable(value) else value
    with pytest.raises(DataError) as info:
        codec.state_from_record(record)
    return info.value


def test_damaged_states_are_data_errors_not_crashes():
    assert "library.out_idx" in str(corrupt(["library", "out_idx", "data"], lambda d: d[:-1] + [10_000]))
    assert "library.var" in str(corrupt(["library", "var", "data"], lambda d: [0.0] + d[1:]))
    assert "library.w_ptr" in str(corrupt(["library", "w_ptr", "data"], lambda d: d[:-1] + [d[-1] + 1]))
    assert "library.edges" in str(corrupt(["library", "edges"], {"dtype": "int64", "shape": [1, 2], "data": [0, 99999]}))
    assert "fovea.residual" in str(corrupt(["fovea", "residual", "shape"], [3]))
    assert "rest.queue.kind" in str(corrupt(["rest", "queue", "kind"], {"dtype": "int64", "shape": [1], "data": [7]}))
    err = corrupt(["buffer", "x_last"], {"dtype": "float64", "shape": [48], "data": b"\x00" * 7})
    assert "expected 384 bytes" in str(err)
    # the learning state of version 2
    assert "library.p_ptr" in str(corrupt(["library", "p_ptr", "data"], lambda d: d[:-1] + [d[-1] + 1]))
    assert "library.p.data" in str(corrupt(["library", "p", "data"], lambda d: d + [0.0]))
    assert "library.vel_p" in str(corrupt(["library", "vel_p", "data"], lambda d: [-1.0] + d[1:]))
    assert "seen.step" in str(corrupt(["seen", "step", "data"], lambda d: [30] + d[1:]))
    assert "seen.scale" in str(corrupt(["seen", "scale", "data"], lambda d: [-0.5] + d[1:]))
    assert "version 1 is not supported" in str(corrupt(["version"], 1))
    # sizes a damaged config declares are checked before anything is allocated by them
    assert "buffer.x_last" in str(corrupt(["config", "D"], 2_000_000_000))
    assert "config.activation_log_max" in str(corrupt(["config", "activation_log_max"], 10**9))


def test_observation_records():
    obs, dropped = codec.observation_from_record(
        {"kind": "NUPCA_OBS", "version": 1, "x_partial": {"dims": [5, 1, 99, -3], "values": [0.5, 1.0, 2.0, 3.0]},
         "control": {"need": 0.2}}, 10)
    assert obs.cue.dims.tolist() == [1, 5] and obs.cue.values.tolist() == [1.0, 0.5] and dropped == 0
    assert obs.control.need == 0.2 and obs.control.rawE == 0.5
    with pytest.raises(DataError, match="expected distinct dims, got 1 twice"):
        codec.observation_from_record({"x_partial": {"dims": [1, 1], "values": [0.5, 1.0]}}, 10)
    with pytest.raises(DataError, match="expected 2 values"):
        codec.observation_from_record({"x_partial": {"dims": [1, 2], "values": [0.5]}}, 10)
    with pytest.raises(DataError, match="control.mood"):
        codec.observation_from_record({"x_partial": {"dims": [], "values": []}, "control": {"mood": 1}}, 10)
    typed = {"dtype": "float64", "shape": [3], "data": np.array([1.0, np.nan, 3.0], dtype="<f8").tobytes()}
    record = {"x_partial": {"dims": [0, 1, 2], "values": typed}}
    with pytest.raises(DataError, match=r"x_partial.values\[1\]: expected a finite number"):
        codec.observation_from_record(record, 10)
    obs, dropped = codec.observation_from_record(record, 10, drop_nonfinite=True)
    assert dropped == 1 and obs.cue.dims.tolist() == [0, 2]


def test_typed_arrays_in_both_framings():
    array = np.arange(6, dtype=np.int64).reshape(2, 3)
    for fmt in ("cbor", "jsonl"):
        value = decode(encode({"a": typed_arrays.encode_array(array, fmt)}, fmt), fmt)["a"]
        assert np.array_equal(typed_arrays.decode_array(value, "a", dtype="int64"), array)
    with pytest.raises(ValueError):
        typed_arrays.encode_array(np.array([np.inf]), "cbor")
