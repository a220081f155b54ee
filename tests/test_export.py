"""pat-export: streams, shard directories, determinism across serial/--jobs/--part/Dask, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pattools.io import cbor as pcbor
from pattools.io import read_records
from tests.helpers import BIN, command_env, run

SMALL = ["--W", "32", "--H", "24", "--frames", "5", "--scale", "16"]


def _records(data: bytes) -> list[dict]:
    import io
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def serial_stream() -> bytes:
    return run("pat-export", "--seeds", "9,3", *SMALL, "--metrics", check=True).stdout


def test_stream_is_deterministic_and_ordered_by_seed(serial_stream):
    again = run("pat-export", "--seeds", "3,9", *SMALL, "--metrics", check=True).stdout
    assert again == serial_stream
    records = _records(serial_stream)
    assert [(r["seed"], r["frame"]) for r in records] == [(s, f) for s in (3, 9) for f in range(5)]
    first = records[0]
    assert first["sim"] == {"preset": "andres-net-export", "W": 32, "H": 24, "dt": 0.03, "stepsPerFrame": 1,
                            "scale": 16, "wrap": True, "noiseAmp": 0.0, "noiseSeed": 0, "params": {}}
    assert [t["hdr"]["patchId"] for t in first["tokens"]] == ["0,0,16", "16,0,16", "0,16,16", "16,16,16"]
    assert records[4]["tokens"][0]["hdr"]["t"] == 5 * 0.03
    assert len(first["metrics"]["patchDefects"]) == 4
    assert first["metrics"]["defectsPlus"] == first["metrics"]["defectsMinus"]


def test_steps_per_frame_alias_and_time():
    out = run("pat-export", "--seeds", "1", "--W", "16", "--H", "16", "--frames", "2", "--spf", "3",
              "--dt", "0.02", check=True).stdout
    records = _records(out)
    assert records[1]["sim"]["stepsPerFrame"] == 3
    assert records[1]["tokens"][0]["hdr"]["t"] == 2 * 3 * 0.02


def test_partial_edge_patches():
    out = run("pat-export", "--seeds", "1", "--W", "100", "--H", "70", "--frames", "1", check=True).stdout
    (record,) = _records(out)
    ids = [t["hdr"]["patchId"] for t in record["tokens"]]
    assert len(ids) == 4 * 3 and ids[-1] == "96,64,32"


def test_param_override_is_recorded_and_changes_the_run():
    base = _records(run("pat-export", "--seeds", "1", *SMALL, check=True).stdout)
    changed = _records(run("pat-export", "--seeds", "1", *SMALL, "--param", "Kbase=1.1", check=True).stdout)
    assert changed[0]["sim"]["params"] == {"Kbase": 1.1}
    assert changed[-1]["tokens"] != base[-1]["tokens"]


@pytest.mark.parametrize("args, needle", [
    (["--W", "3"], "at least 4"),
    (["--param", "noSuchParam=1"], "noSuchParam"),
    (["--param", "Kbase=abc"], "Kbase"),
    (["--scale", "12"], "invalid choice"),
    (["--seeds", "1,1"], "duplicate"),
    (["--resume"], "--resume needs --out"),
])
def test_usage_errors_exit_2(args, needle):
    result = run("pat-export", *args, "--frames", "1")
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr.decode() and b"Traceback" not in result.stderr


def _export_dir(tmp_path: Path, name: str, *extra: str) -> Path:
    out = tmp_path / name
    run("pat-export", "--seeds", "3,9,4", *SMALL, "--shard-size", "2", "--out", str(out), *extra, check=True)
    return out


@pytest.fixture(scope="module")
def serial_dir(tmp_path_factory) -> Path:
    return _export_dir(tmp_path_factory.mktemp("serial"), "out")


def test_shard_directory_layout(serial_dir, serial_stream):
    names = sorted(p.name for p in serial_dir.iterdir())
    assert "manifest.json" in names
    assert {n for n in names if n.endswith(".cbor")} == {f"pat_{s}-{g:04d}.cbor" for s in (3, 4, 9) for g in range(3)}
    manifest = json.loads((serial_dir / "manifest.json").read_text())
    assert manifest["seeds"] == [3, 4, 9] and manifest["shardSize"] == 2 and manifest["frames"] == 5
    assert "createdAt" not in manifest and "provenance" not in manifest
    shard = pcbor.decode_one((serial_dir / "pat_9-0002.cbor").read_bytes())
    assert shard["kind"] == "PAT_SHARD" and shard["count"] == 1 and shard["items"][0]["frame"] == 4
    assert shard["provenance"]["codebookSHA"] == manifest["codebookSHA"]
    import hashlib
    digest = (serial_dir / "pat_9-0002.sha256").read_text().split()[0]
    assert digest == hashlib.sha256((serial_dir / "pat_9-0002.cbor").read_bytes()).hexdigest()
    # the directory reads back as the same frames as the stream (without --metrics)
    from_dir = _records(run("pat-cat", str(serial_dir), check=True).stdout)
    streamed = [r for r in _records(serial_stream)]
    for r in streamed:
        del r["metrics"]
    assert [r for r in from_dir if r["seed"] in (3, 9)] == streamed


def test_jobs_give_identical_directory(serial_dir, tmp_path):
    assert _tree(_export_dir(tmp_path, "jobs", "--jobs", "2")) == _tree(serial_dir)


def test_parts_run_concurrently_give_identical_directory(serial_dir, tmp_path):
    out = tmp_path / "parts"
    procs = [subprocess.Popen([str(BIN / "pat-export"), "--seeds", "3,9,4", *SMALL, "--shard-size", "2",
                               "--out", str(out), "--part", f"{i}/2"], env=command_env(), stderr=subprocess.PIPE)
             for i in (1, 2)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert _tree(out) == _tree(serial_dir)


def test_resume_after_kill_completes_identically(tmp_path):
    args = ["--seeds", "5", "--W", "64", "--H", "64", "--frames", "400", "--scale", "32", "--shard-size", "4"]
    reference = tmp_path / "reference"
    run("pat-export", *args, "--out", str(reference), check=True)
    out = tmp_path / "killed"
    proc = subprocess.Popen([str(BIN / "pat-export"), *args, "--out", str(out)], env=command_env(),
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.sha256"))) < 3:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(out.glob("*.sha256")))
    assert 3 <= done < 100, "the export finished before it could be interrupted"
    assert not [p for p in out.iterdir() if p.name.endswith(".cbor") and not (out / (p.stem + ".sha256")).exists()
                and p.stat().st_size == 0]
    run("pat-export", *args, "--out", str(out), "--resume", check=True)
    assert _tree(out) == _tree(reference)


def test_dask_scheduler_gives_identical_directory(serial_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster:
        out = _export_dir(tmp_path, "dask", "--scheduler", cluster.scheduler_address)
        streamed = run("pat-export", "--seeds", "3,9", *SMALL, "--metrics", "--scheduler",
                       cluster.scheduler_address, check=True).stdout
    assert _tree(out) == _tree(serial_dir)
    assert streamed == run("pat-export", "--seeds", "3,9", *SMALL, "--metrics", check=True).stdout
