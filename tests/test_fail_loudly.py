"""Failing loud, early and clean (DESIGN.md §3): one table row per case a new user met.

Every row runs the real command (or pipeline) and checks the exit code, exactly one line
on stderr naming the problem, no traceback and no output where none may be written.
"""

from __future__ import annotations

import copy
import io
import os
import signal
import subprocess
import sys
import time

import pytest

from pattools.io import cbor, jsonl, read_records
from tests.helpers import BIN, command_env, run, shell


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Small inputs shared by the rows: frames, an edit, base and edited replays, variants."""
    d = tmp_path_factory.mktemp("loud")
    script = """
    set -e
    pat-export --seeds 1 --frames 6 --W 32 --H 32 --scale 16 > f.cbor
    pat-baseline --prompt 'increase coherence on rim' f.cbor > e.cbor
    pat-replay f.cbor > b.cbor
    pat-replay --edit e.cbor f.cbor > ed.cbor
    : > empty.cbor
    : > afile
    echo "[1, 2]" > list.json
    """
    done = shell(script, cwd=d)
    assert done.returncode == 0, done.stderr.decode()
    frames = _records(d / "f.cbor")
    _write(d / "bg.cbor", [{**r, "sim": {**r["sim"], "dt": 0.02}} for r in _records(d / "b.cbor")])
    _write(d / "edt.cbor", [{**r, "replay": {**r["replay"], "decoder": "tokens"}} for r in _records(d / "ed.cbor")])
    first = copy.deepcopy(frames[0])
    first["tokens"][0]["code"]["rvq"] = first["tokens"][0]["code"]["rvq"][:4]
    (d / "rvq.jsonl").write_bytes(jsonl.encode_line(first))
    first = copy.deepcopy(frames[0])
    first["tokens"][1]["hdr"]["patchId"] = "abc"
    (d / "pid.jsonl").write_bytes(jsonl.encode_line(first))
    first = copy.deepcopy(frames[0])
    first["tokens"][1]["hdr"]["patchId"], first["tokens"][2]["hdr"]["patchId"] = (
        first["tokens"][2]["hdr"]["patchId"], first["tokens"][1]["hdr"]["patchId"])
    (d / "order.jsonl").write_bytes(jsonl.encode_line(first))
    return d


def _records(path) -> list[dict]:
    return [record.document() for record in read_records([str(path)])]


def _write(path, records: list[dict]) -> None:
    path.write_bytes(b"".join(cbor.encode(record) for record in records))


# (id, shell command, exit code, a phrase the one stderr line holds)
ROWS = [
    ("export-out-is-a-file", "pat-export --seeds 1 --frames 2 --out afile", 2, "is a file"),
    ("export-out-in-proc", "pat-export --seeds 1 --frames 2 --out /proc/nope", 2, "--out /proc/nope"),
    ("export-empty-seed-range", "pat-export --seeds 5:2", 2, "empty seed range"),
    ("pack-npz-no-dir", "pat-pack --prompt x --context 1 --format npz --out nodir/t.npz f.cbor", 2,
     "no such directory"),
    ("pack-out-is-dir", "pat-pack --prompt x --context 1 --out . f.cbor", 2, "is a directory"),
    ("nupca-state-out-no-dir", "nupca-step --from-pat --state-out nodir/s.cbor f.cbor", 2, "no such directory"),
    ("replay-fields-is-a-file", "pat-replay --fields afile f.cbor", 2, "is a file"),
    ("replay-empty", "pat-replay empty.cbor", 1, "empty.cbor: expected PAT_FRAME records, got no records"),
    ("replay-empty-stdin", "pat-replay < empty.cbor", 1, "<stdin>: expected PAT_FRAME records"),
    ("apply-empty", "pat-apply --edit e.cbor empty.cbor", 1, "empty.cbor: expected PAT_FRAME records"),
    ("apply-empty-edit", "pat-apply --edit empty.cbor f.cbor", 1, "empty.cbor: expected PAT_EDIT records"),
    ("replay-empty-edit", "pat-replay --edit empty.cbor f.cbor", 1, "empty.cbor: expected PAT_EDIT records"),
    ("baseline-empty", "pat-baseline --prompt 'increase coherence' empty.cbor", 1, "empty.cbor: expected PAT_FRAME"),
    ("pack-empty", "pat-pack --prompt x --context 1 empty.cbor", 1, "empty.cbor: expected PAT_FRAME records"),
    ("nupca-empty", "nupca-step --from-pat empty.cbor", 1, "empty.cbor: expected PAT_FRAME records"),
    ("score-edited-empty", "pat-score --base b.cbor --edited empty.cbor --edit e.cbor", 1,
     "empty.cbor: expected PAT_FRAME records"),
    ("score-edit-empty", "pat-score --base b.cbor --edited ed.cbor --edit empty.cbor", 1,
     "empty.cbor: expected PAT_EDIT records"),
    ("score-summary-empty", "pat-score --summary empty.cbor", 1, "expected PAT_SCORE records"),
    ("score-other-dt", "pat-score --base bg.cbor --edited ed.cbor --edit e.cbor", 1, "sim.dt"),
    ("score-raw-export-as-base", "pat-score --base f.cbor --edited ed.cbor --edit e.cbor", 1,
     "written by pat-replay"),
    ("score-other-decoder", "pat-score --base b.cbor --edited edt.cbor --edit e.cbor", 1, "replay.decoder"),
    ("pipeline-missing-edit", "pat-export --seeds 1 --frames 2 --W 32 --H 32 | pat-apply --edit missing.cbor "
     "| pat-replay > out.cbor", 1, "missing.cbor"),
    ("rvq-length", "pat-cat rvq.jsonl", 1, "tokens[0].code.rvq: expected 5 codes"),
    ("rvq-length-replay", "pat-replay --decoder tokens rvq.jsonl", 1, "tokens[0].code.rvq: expected 5 codes"),
    ("patch-id-abc", "pat-cat pid.jsonl", 1, "tokens[1].hdr.patchId: expected patchId '16,0,16'"),
    ("patch-id-order", "pat-apply --edit e.cbor order.jsonl", 1, "tokens[1].hdr.patchId"),
    # the small files beside the streams are named in the record readers' words
    ("bounds-missing", "pat-apply --edit e.cbor --bounds nob.json f.cbor", 1, "nob.json: no such file or directory"),
    ("regions-is-dir", "pat-baseline --prompt 'increase coherence' --regions . f.cbor", 1, ".: is a directory"),
    ("prompts-missing", "pat-baseline --prompts nop.txt f.cbor", 1, "nop.txt: no such file or directory"),
    ("config-missing", "nupca-step --init 8,2 --config noc.json", 1, "noc.json: no such file or directory"),
    ("config-not-object", "nupca-step --init 8,2 --config list.json", 1, "list.json: expected object"),
]


@pytest.mark.parametrize("script,code,phrase", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_fails_loudly(work, script, code, phrase):
    done = shell(script, cwd=work)
    err = done.stderr.decode()
    assert done.returncode == code, err
    assert "Traceback" not in err
    lines = err.splitlines()
    if script.startswith("pat-export --seeds 1 --frames 2 --W"):  # the pipeline: apply's line, then replay's
        assert len(lines) == 2 and "pat-replay: <stdin>: expected PAT_FRAME records" in lines[1]
        assert (work / "out.cbor").read_bytes() == b""
    elif code == 2 and lines[0].startswith("usage:"):  # argparse: the usage, then the one error line
        lines = lines[-1:]
    else:
        assert len(lines) == 1, err
    assert phrase in lines[0], err
    if "--out" in script or "--state-out" in script:
        assert done.stdout == b""


def test_pipeline_without_pipefail_fails(work):
    """Without pipefail the last command's status is the pipeline's: replay must not say 0."""
    done = subprocess.run(["bash", "-c", f"{BIN}/pat-apply --edit missing.cbor < f.cbor | {BIN}/pat-replay > o"],
                          cwd=work, capture_output=True, env=command_env())
    assert done.returncode == 1


def test_state_out_checked_before_the_first_step(work):
    """The bad --state-out is reported before any step: no trace record is written."""
    done = run("nupca-step", "--from-pat", "--state-out", str(work / "nodir" / "s.cbor"), "--checkpoint", "1",
               str(work / "f.cbor"))
    assert done.returncode == 2 and done.stdout == b""
    assert not (work / "nodir").exists()


def test_empty_stream_is_fine_for_pat_cat(work):
    done = run("pat-cat", str(work / "empty.cbor"))
    assert done.returncode == 0 and done.stdout == b"" and done.stderr == b""


def test_empty_deltas_stay_the_identity(work):
    """A PAT_EDIT whose targets are empty is an edit (the identity), not an empty edit file."""
    data = (work / "e.cbor").read_bytes()
    edit = cbor.decode_one(data)
    edit["targets"] = []
    (work / "identity.cbor").write_bytes(cbor.encode(edit))
    done = run("pat-apply", "--edit", str(work / "identity.cbor"), "--lenient", str(work / "f.cbor"))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == (work / "f.cbor").read_bytes()


VERBOSE = [
    ("pat-export", ["--seeds", "1:3", "--frames", "2", "--W", "32", "--H", "32"], "2 seeds, 4 frames"),
    ("pat-replay", ["f.cbor"], "6 frames replayed"),
    ("pat-apply", ["--edit", "e.cbor", "f.cbor"], "6 frames read"),
    ("pat-baseline", ["--prompt", "increase coherence", "f.cbor"], "1 edit for 1 sequence"),
    ("pat-pack", ["--prompt", "x", "--context", "2", "f.cbor"], "records packed"),
    ("pat-score", ["--base", "b.cbor", "--edited", "ed.cbor", "--edit", "e.cbor"], "1 edit scored"),
    ("nupca-step", ["--from-pat", "f.cbor"], "6 steps"),
]


@pytest.mark.parametrize("command,args,phrase", VERBOSE, ids=[row[0] for row in VERBOSE])
def test_verbose_reports_what_was_done(work, command, args, phrase):
    done = run(command, *args, "-v", cwd=work)
    assert done.returncode == 0, done.stderr.decode()
    line = done.stderr.decode().strip().splitlines()[-1]
    assert line.startswith(f"{command}: ") and phrase in line and " s" in line, line


def test_compile_notice_once_before_compiling(capsys):
    """The numba compile event prints the notice once, only when configured (a command run)."""
    import numpy as np

    from pattools import notices
    from pattools.kernels._jit import kernel

    def double(x):
        return x * 2

    try:
        notices.configure("pat-test", quiet=False)
        kernel(double, cache=False)(np.arange(3))
        kernel(lambda x: x + 1, cache=False)(np.arange(3))
    finally:
        notices._Config.name = None
    err = capsys.readouterr().err
    assert err == "pat-test: compiling kernels for first use, once, about 30 s\n"


def test_configuring_the_notice_does_not_import_numba():
    """The notice registers with the kernels' compile events without loading numba, so a
    command that computes nothing pays nothing for it."""
    code = ("import sys; from pattools import notices; notices.configure('pat-cat', quiet=False); "
            "print('numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=command_env(), check=True)
    assert done.stdout.decode().strip() == "False"


def test_no_progress_bar_when_records_go_to_the_terminal():
    """stdout on a terminal: records are the progress, no bar may be drawn between them."""
    from pattools.cli.base import Streams
    from pattools.cli.progress import _no_progress, frame_progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    class TtyBytes(io.BytesIO):
        def isatty(self) -> bool:
            return True

    streams = Streams(io.BytesIO(), TtyBytes(), Tty())
    with frame_progress(streams, 10, 1) as tick:
        assert tick is _no_progress
    streams = Streams(io.BytesIO(), io.BytesIO(), Tty())
    with frame_progress(streams, 10, 1) as tick:
        assert tick is not _no_progress


def test_interrupt_in_kernels_gives_130_and_one_line(tmp_path):
    """Ctrl-C (the process group) while pat-export runs its kernels: 130, one line, whole records.
    (The run is several seconds of work, so that the signal at 1.2 s finds it running.)"""
    from bench.interrupt_soak import complete_records

    out = tmp_path / "out.cbor"
    with open(out, "wb") as stdout:
        proc = subprocess.Popen([str(BIN / "pat-export"), "--seeds", "0:20", "--frames", "500"], stdout=stdout,
                                stderr=subprocess.PIPE, env=command_env(), start_new_session=True)
        time.sleep(1.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert err.decode() == "pat-export: interrupted\n"
    assert complete_records(out.read_bytes())


def test_interrupt_soak_sample():
    """The seeded sample of bench/interrupt_soak.py: one moment per command and signal
    (the stream export with --jobs is left to the full run: the --out one covers workers)."""
    from bench.interrupt_soak import soak

    results = soak(1, seed=12, size="suite", fixed_delays=2.0,
                   only=["export", "export-out", "export-out-jobs", "replay", "score", "nupca"])
    failures = [failure for tally in results.values() for failure in tally.failures]
    assert not failures, failures
    assert sum(tally.runs for tally in results.values()) == 2 * len(results)
