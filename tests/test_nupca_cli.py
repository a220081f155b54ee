"""nupca-step as a user runs it: real processes and pipelines, files, exit codes, messages."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time

import pytest

from pattools.cli import base
from pattools.cli import nupca_step as cli
from pattools.io import cbor, read_records
from pattools.nupca import codec
from tests.helpers import BIN, DATA, command_env, make_frame, run, shell

FRAMES = DATA / "nupca" / "frames.jsonl"  # pat-export --seeds 7 --W 32 --H 32 --scale 16 --frames 6
CONFIG = DATA / "nupca" / "config.json"


def obs_line(dims, values, **extra) -> str:
    return json.dumps({"kind": "NUPCA_OBS", "version": 1, "x_partial": {"dims": dims, "values": values}, **extra})


def observations(count: int, dim: int = 16) -> bytes:
    lines = [obs_line(list(range(dim)), [((t * 7 + k) % 11) / 10 for k in range(dim)]) for t in range(count)]
    return ("\n".join(lines) + "\n").encode()


def values(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


def in_process(argv, stdin: bytes = b"") -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = base.execute(cli.NAME, cli.build_parser, cli.run, list(argv), base.Streams(io.BytesIO(stdin), out, err))
    return code, out.getvalue(), err.getvalue()


def state_t(path) -> int:
    return values(path.read_bytes())[0]["t"]


def test_init_then_steps_in_a_pipeline(tmp_path):
    state = tmp_path / "s.cbor"
    out = tmp_path / "s2.cbor"
    made = run("nupca-step", "--init", "16,4", check=True).stdout
    state.write_bytes(made)
    (record,) = values(made)
    assert record["kind"] == "NUPCA_STATE" and record["t"] == 0 and record["config"]["D"] == 16
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f"nupca-step --state {state} --state-out {out} --rest-every 5 --format jsonl | cat"],
        input=observations(12), capture_output=True, env={**command_env(), "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    traces = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [t["t"] for t in traces] == list(range(12))
    assert [t["rest"] for t in traces] == [(t + 1) % 5 == 0 for t in range(12)]
    assert state_t(out) == 12 and state_t(state) == 0
    # without --state-out the state is updated in place
    code, again, err = in_process(["--state", str(state)], observations(3))
    assert code == 0, err
    assert len(values(again)) == 3 and state_t(state) == 3


def test_same_inputs_same_bytes(tmp_path):
    outputs = []
    for name in ("a", "b"):
        state = tmp_path / f"{name}.cbor"
        state.write_bytes(in_process(["--init", "24,6"])[1])
        code, out, err = in_process(["--state", str(state), "--trace", "full", "--rest-every", "4"], observations(20, 24))
        assert code == 0, err
        outputs.append((out, state.read_bytes()))
    assert outputs[0] == outputs[1]
    full = values(outputs[0][0])[0]["full"]
    assert set(full) == {"x_t", "prior", "yhat", "yhat_precision"}


@pytest.mark.parametrize("dims", ["1024,256", "4096,1024"])
def test_defaults_run_at_every_size(tmp_path, dims):
    state = tmp_path / "s.cbor"
    code, made, err = in_process(["--init", dims])
    assert code == 0, err
    state.write_bytes(made)
    dim = int(dims.split(",")[0])
    code, out, err = in_process(["--state", str(state)], observations(3, dim))
    assert code == 0, err
    traces = values(out)
    assert len(traces) == 3 and traces[0]["A_t"][0] == 0
    assert traces[0]["O_req"] == 64 * 4 and len(traces[0]["O_t"]) == 64 * 4  # fovea budget 64 blocks


def test_bad_observation_exits_1_with_one_line_and_keeps_good_steps(tmp_path):
    state = tmp_path / "s.cbor"
    state.write_bytes(in_process(["--init", "16,4"])[1])
    lines = observations(4).decode().splitlines()
    lines.insert(3, obs_line([0, 1], [0.5, "high"]))
    result = run("nupca-step", "--state", str(state), "--format", "jsonl", input=("\n".join(lines) + "\n").encode())
    assert result.returncode == 1
    message = result.stderr.decode()
    assert message == "nupca-step: <stdin>: record 3: x_partial.values[1]: expected a number, got string 'high'\n"
    assert len(result.stdout.splitlines()) == 3
    assert state_t(state) == 3  # the three good steps are saved


@pytest.mark.parametrize(
    "records, expected",
    [
        ([obs_line([1, 1], [0.1, 0.2])], "record 0: x_partial.dims: expected distinct dims, got 1 twice"),
        ([obs_line([1], [0.1, 0.2])], "record 0: x_partial.values: expected 1 values (one per dim), got 2"),
        ([json.dumps({"kind": "PAT_FRAME", "version": 1})], "record 0: "),
        ([obs_line([1], [0.1], control={"mood": 1})], "record 0: control"),
    ],
)
def test_data_errors_name_record_and_field(tmp_path, records, expected):
    state = tmp_path / "s.cbor"
    state.write_bytes(in_process(["--init", "16,4"])[1])
    code, out, err = in_process(["--state", str(state)], ("\n".join(records) + "\n").encode())
    assert code == 1 and out == b""
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_state_and_config_files(tmp_path):
    bad = tmp_path / "bad.cbor"
    bad.write_bytes(cbor.encode({"kind": "NUPCA_OBS", "version": 1, "x_partial": {"dims": [], "values": []}}))
    code, _, err = in_process(["--state", str(bad)], b"")
    assert code == 1 and "expected kind NUPCA_STATE" in err
    code, _, err = in_process(["--state", str(tmp_path / "missing.cbor")], b"")
    assert code == 1 and "missing.cbor: no such file or directory" in err
    config = tmp_path / "c.json"
    config.write_text('{"L_work_max": 10}')
    code, _, err = in_process(["--init", "1024,256", "--config", str(config)])
    assert code == 1 and "L_work_max 10 cannot hold the anchors' total cost 52.2" in err
    config.write_text('{"fovea_budget": 3}')
    code, _, err = in_process(["--init", "16,4", "--config", str(config)])
    assert code == 1 and "unknown key 'fovea_budget'" in err
    config.write_text('{"D": 32}')
    code, _, err = in_process(["--init", "16,4", "--config", str(config)])
    assert code == 1 and "conflicts with --init" in err


def test_state_of_the_previous_version_is_refused_in_one_line():
    """tests/data/nupca/state-v1.jsonl: ``nupca-step --init 8,2`` of the version before
    persistence-initialised, RLS-trained experts."""
    old = DATA / "nupca" / "state-v1.jsonl"
    for validate in ("--validate", "--no-validate"):
        code, out, err = in_process(["--state", str(old), validate], observations(2, 8))
        assert code == 1 and out == b"" and err.count("\n") == 1
        assert "NUPCA_STATE version 1 is not supported" in err and "version 2" in err


def test_synthetic_stream_teaches_the_agent_and_reruns_are_identical(tmp_path):
    """The documented walk-through: a synthetic observation stream into a fresh state; the
    traces carry persistence_mae, the prior ends far below it, and a rerun is byte-identical."""
    outputs = []
    for name in ("a", "b"):
        state = tmp_path / f"{name}.cbor"
        result = shell(f"nupca-step --init 32,8 > {state} && nupca-step --synthetic rotations,32,8,400,3 "
                       f"| nupca-step --state {state} --format jsonl")
        assert result.returncode == 0, result.stderr
        outputs.append((result.stdout, state.read_bytes()))
    assert outputs[0] == outputs[1]
    traces = [json.loads(line) for line in outputs[0][0].decode().splitlines()]
    assert [t["t"] for t in traces] == list(range(400))
    assert all(t["persistence_mae"] is not None for t in traces)
    tail = traces[-100:]
    assert sum(t["prior_obs_mae"] for t in tail) < sum(t["persistence_mae"] for t in tail) / 100
    code, a, _ = in_process(["--synthetic", "ar1,16,4,5,9"])
    code2, b, _ = in_process(["--synthetic", "ar1,16,4,5,9"])
    assert code == code2 == 0 and a == b and len(values(a)) == 5
    assert values(a)[0]["kind"] == "NUPCA_OBS"


@pytest.mark.parametrize(
    "argv",
    [[], ["--init", "16"], ["--init", "0,4"], ["--init", "16,4", "--from-pat"], ["--state", "s", "--init", "4,2"],
     ["--state", "s.cbor", "--config", "c.json"], ["--rest-every", "0", "--from-pat"],
     ["--synthetic", "spirals,8,2,3"], ["--synthetic", "ar1,8,2"], ["--synthetic", "ar1,8,9,3"],
     ["--synthetic", "ar1,8,2,3", "--from-pat"], ["--synthetic", "ar1,8,2,3", "--init", "8,2"]],
)
def test_usage_errors_exit_2(argv):
    code, out, err = in_process(argv)
    assert code == 2 and out == b"" and "Traceback" not in err


def test_from_pat_fixture_and_geometry(tmp_path):
    out = tmp_path / "agent.cbor"
    code, data, err = in_process(["--from-pat", "--state-out", str(out), "--config", str(CONFIG), str(FRAMES)])
    assert code == 0, err
    traces = values(data)
    assert len(traces) == 6
    state = values(out.read_bytes())[0]
    assert state["config"]["D"] == 4 * 14 and state["config"]["B"] == 4
    assert state["config"]["fovea_blocks_per_step"] == 2  # from the config file
    assert all(len(t["F_t"]) <= 3 for t in traces)
    # the saved state continues on the same frames; a state of another geometry is refused
    code, _, err = in_process(["--from-pat", "--state", str(out), str(FRAMES)])
    assert code == 0, err
    other = tmp_path / "other.cbor"
    other.write_bytes(in_process(["--init", "64,4"])[1])
    code, _, err = in_process(["--from-pat", "--state", str(other), str(FRAMES)])
    assert code == 1 and "frames of 4 patches need D = 56, B = 4" in err


def test_from_pat_default_budget_on_hand_made_frames():
    frames = b"".join(cbor.encode(make_frame(frame=f, W=64, H=64, scale=16)) for f in range(3))  # 16 patches
    code, data, err = in_process(["--from-pat"], frames)
    assert code == 0, err
    first = values(data)[0]
    assert len(first["F_t"]) == 4  # ceil(16 / 4)
    assert first["O_req"] == 4 * 14


@pytest.mark.slow
def test_pat_export_pipeline():
    result = shell("pat-export --seeds 3 --W 48 --H 48 --scale 16 --frames 12 "
                   "| nupca-step --from-pat --rest-every 5 --format jsonl")
    assert result.returncode == 0, result.stderr
    traces = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(traces) == 12 and traces[-1]["t"] == 11
    assert all(t["prior_obs_mae"] is not None for t in traces)


def test_checkpoint_bounds_what_an_interruption_loses(tmp_path):
    state = tmp_path / "s.cbor"
    state.write_bytes(in_process(["--init", "16,4"])[1])
    process = subprocess.Popen([str(BIN / "nupca-step"), "--state", str(state), "--checkpoint", "2"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=command_env())
    process.stdin.write(observations(5))
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while state_t(state) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state_t(state) == 4  # checkpoints at 2 and 4; step 5 not yet saved
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and b"interrupted" in err
    assert state_t(state) == 4
    codec.state_from_record(values(state.read_bytes())[0])  # the file is whole
