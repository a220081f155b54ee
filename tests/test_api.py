"""The Python API is the commands' own code: its records are, byte for byte, what the
commands print for the same inputs and flags; import pattools stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pattools
from tests.helpers import ROOT, run, shell


@pytest.fixture(scope="module")
def frames():
    return pattools.export_frames(seeds=[3, 4], W=32, H=32, frames=4, scale=16, steps_per_frame=2, metrics=True)


@pytest.fixture(scope="module")
def edits(frames):
    return pattools.baseline_edits(frames, "increase coherence on the left half", target_frames="1:")


def test_import_pattools_loads_nothing_heavy():
    code = ("import sys, pattools; heavy = {'numpy', 'numba', 'cbor2', 'orjson', 'jsonschema', 'pattools.api'} "
            "& set(sys.modules); print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "[]"


def test_export_equals_the_command(frames):
    printed = run("pat-export", "--seeds", "3,4", "--W", "32", "--H", "32", "--frames", "4", "--scale", "16",
                  "--spf", "2", "--metrics", check=True).stdout
    assert pattools.dumps(frames) == printed
    assert pattools.loads(printed) == frames


def test_edit_apply_replay_score_equal_the_commands(frames, edits, tmp_path):
    pattools.write_records(frames, tmp_path / "frames.cbor")
    pattools.write_records(edits, tmp_path / "edits.jsonl")
    assert (tmp_path / "edits.jsonl").read_bytes() == pattools.dumps(edits, "jsonl")
    script = ("pat-baseline --prompt 'increase coherence on the left half' --frames 1: frames.cbor > e.cbor && "
              "pat-apply --edit e.cbor frames.cbor > applied.cbor && pat-replay applied.cbor > replayed.cbor && "
              "pat-score --original frames.cbor --edit e.cbor > scores.cbor")
    result = shell(script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    applied = pattools.apply_edits(frames, edits)
    assert pattools.dumps(edits) == (tmp_path / "e.cbor").read_bytes()
    assert pattools.dumps(applied) == (tmp_path / "applied.cbor").read_bytes()
    assert pattools.dumps(pattools.replay_frames(applied)) == (tmp_path / "replayed.cbor").read_bytes()
    scores = pattools.score_edits(frames, edit=edits)
    assert pattools.dumps(scores) == (tmp_path / "scores.cbor").read_bytes()
    assert [s["kind"] for s in scores] == ["PAT_SCORE", "PAT_SCORE"]
    # paths work wherever records do, and the same replay comes from --edit
    assert pattools.replay_frames(str(tmp_path / "frames.cbor"), edit=str(tmp_path / "edits.jsonl")) == \
        pattools.read_records(tmp_path / "replayed.cbor")


def test_errors_are_exceptions_with_the_commands_messages(frames, edits):
    with pytest.raises(pattools.DataError, match=r"stats\.rho: expected delta within \[-0\.01, 0\.01\]"):
        pattools.apply_edits(frames, edits, bounds={"stats": {"rho": 0.01}})
    clipped = pattools.apply_edits(frames, edits, bounds={"stats": {"rho": 0.01}}, clip=True)
    assert {d["stats"]["rho"] for f in clipped if "edit" in f for d in f["edit"]["applied"]} == {0.01}
    with pytest.raises(pattools.UsageError, match="invalid choice: 'nope'"):
        pattools.replay_frames(frames, decoder="nope")
    with pytest.raises(pattools.DataError, match="no such file"):
        pattools.read_records("no-such-file.cbor")
    with pytest.raises(AttributeError):
        pattools.no_such_function  # noqa: B018


def test_a_command_that_fails_raises_instead_of_returning_what_it_printed(frames, edits, capsys):
    """pat-apply exits 1 when an edit's frames are not in the input: the API raises too;
    pat-diff's 1 means "the inputs differ" and its records are the result."""
    stray = [{**edit, "seed": 999} for edit in edits]
    with pytest.raises(pattools.DataError, match="seed 999"):
        pattools.apply_edits(frames, stray)
    assert pattools.apply_edits(frames, stray, lenient=True) == frames  # lenient: a warning, exit 0
    assert "warning" in capsys.readouterr().err
    other = pattools.export_frames(seeds=[3], W=32, H=32, frames=4, scale=16, steps_per_frame=3, metrics=True)
    report = pattools.run_command("pat-diff", frames, other, format="cbor")
    assert report and all(record["kind"] == "PAT_DIFF" for record in report)
    with pytest.raises(pattools.UsageError, match="only one input can be stdin"):
        pattools.run_command("pat-diff", "-", "-", format="cbor")
