"""Shard directories you can trust: the manifest is the truth when reading, and a writer
never mixes two configurations (README "Shard directories"). Each integrity case checks the exit code,
the message, and that no wrong frame reached stdout."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pattools.io import cbor as pcbor
from pattools.io import read_records
from tests.helpers import run, shell

SEEDS = ["--seeds", "1,2,3"]
SMALL = ["--W", "16", "--H", "16", "--frames", "4", "--scale", "8", "--shard-size", "2"]


def _records(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], stdin=io.BytesIO(data))]


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _export(out: Path, *extra: str, seeds=SEEDS, small=SMALL, code: int = 0) -> subprocess.CompletedProcess:
    result = run("pat-export", *seeds, *small, "--out", str(out), "-q", *extra)
    assert result.returncode == code, result.stderr.decode()
    return result


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("exported") / "dir"
    _export(out)
    return out


@pytest.fixture(scope="module")
def stream() -> bytes:
    """The same export as a stream: what the directory must read back as, byte for byte."""
    return run("pat-export", *SEEDS, *SMALL, check=True).stdout


@pytest.fixture
def copy(exported, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(exported, target)
    return target


def _refused_read(directory: Path, *needles: str, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    result = run("pat-cat", str(directory), *args)
    message = result.stderr.decode()
    assert result.returncode == 1, message
    assert message.count("\n") == 1 and "Traceback" not in message
    for needle in needles:
        assert needle in message, message
    return result


def test_directory_reads_back_as_the_stream_and_sha256sum_verifies(exported, stream):
    assert run("pat-cat", str(exported), check=True).stdout == stream
    result = shell("sha256sum -c pat_*.sha256", cwd=exported)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().count(": OK") == 6
    line = (exported / "pat_2-0001.sha256").read_text()
    assert line.endswith("  pat_2-0001.cbor\n") and len(line.split()[0]) == 64
    assert not list(exported.glob("*.cbor.sha256"))


def test_sidecar_has_the_originals_shape(exported):
    sidecar = json.loads((exported / "pat_3-0001.json").read_text())
    assert sidecar["shard"] == "3-0001" and sidecar["seed"] == 3 and sidecar["segment"] == 1
    assert sidecar["count"] == 2 and sidecar["frames"] == [{"seed": 3, "frame": 2, "tokenCount": 4},
                                                           {"seed": 3, "frame": 3, "tokenCount": 4}]
    assert sidecar["provenance"]["codebookSHA"] == json.loads((exported / "manifest.json").read_text())["codebookSHA"]
    assert sidecar["sha256"] == (exported / "pat_3-0001.sha256").read_text().split()[0]


def test_check_and_no_verify(copy):
    result = run("pat-cat", "--check", str(copy))
    assert result.returncode == 0 and result.stdout == b"" and b"ok (12 records)" in result.stderr
    for checksum in copy.glob("*.sha256"):
        checksum.unlink()
    _refused_read(copy, "pat_1-0000.cbor", "checksum file pat_1-0000.sha256 missing", "--no-verify")
    assert run("pat-cat", "--check", str(copy)).returncode == 1
    assert len(_records(run("pat-cat", "--no-verify", str(copy), check=True).stdout)) == 12


def test_missing_shard(copy):
    (copy / "pat_2-0001.cbor").unlink()
    result = _refused_read(copy, "pat_2-0001.cbor", "missing", "--resume")
    assert result.stdout == b""  # the listing is checked before the first frame


def test_incomplete_parts(tmp_path, stream):
    out = tmp_path / "parts"
    _export(out, "--part", "1/3")
    result = _refused_read(out, "missing", "4 of 6 shards", "seed(s) 2, 3", "--part")
    assert result.stdout == b""
    _export(out, "--part", "3/3")  # another part of the same export needs no flag
    _export(out, "--part", "2/3")
    assert run("pat-cat", str(out), check=True).stdout == stream


def test_corrupted_shard_stops_before_its_frames(copy, stream):
    shard = copy / "pat_2-0001.cbor"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    result = _refused_read(copy, "pat_2-0001.cbor", "checksum mismatch", "pat_2-0001.sha256")
    got = _records(result.stdout)
    expected = _records(stream)
    assert got == expected[:len(got)]  # only good frames, in order
    assert [(r["seed"], r["frame"]) for r in got] == [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1)]


def test_stale_shards_from_a_longer_export(tmp_path, exported):
    longer = tmp_path / "longer"
    _export(longer, small=[*SMALL[:4], "--frames", "8", *SMALL[6:]])
    target = tmp_path / "mixed"
    shutil.copytree(exported, target)
    for name in ("pat_1-0002.cbor", "pat_1-0002.json", "pat_1-0002.sha256"):
        shutil.copy(longer / name, target / name)
    result = _refused_read(target, "pat_1-0002.cbor", "manifest.json does not describe", "--force")
    assert result.stdout == b""
    # the writer refuses to make such a mix, naming the field, and leaves the directory alone
    before = _tree(longer)
    refused = _export(longer, code=2)
    assert "frames: the export has 8, these flags give 4" in refused.stderr.decode()
    assert _tree(longer) == before


def test_force_replaces_the_old_export_whole(tmp_path, exported):
    out = tmp_path / "forced"
    _export(out, small=[*SMALL[:4], "--frames", "8", *SMALL[6:]], seeds=["--seeds", "1,2,3,4"])
    _export(out, "--force")
    assert _tree(out) == _tree(exported)


def test_resume_with_other_flags_is_refused(copy):
    before = _tree(copy)
    for extra, field in ((["--dt", "0.04"], "sim.dt: the export has 0.03, these flags give 0.04"),
                         (["--metrics"], "metrics: the export has false, these flags give true"),
                         (["--param", "Kbase=1.1"], "sim.params")):
        result = _export(copy, "--resume", *extra, code=2)
        assert field in result.stderr.decode() and "--force" in result.stderr.decode()
    other_part = _export(copy, "--part", "1/2", "--frames", "2", code=2)  # a part of another export
    assert "frames: the export has 4, these flags give 2" in other_part.stderr.decode()
    assert _tree(copy) == before
    again = _export(copy, code=2)  # the same export, neither --resume nor --force
    assert "--resume" in again.stderr.decode() and "--force" in again.stderr.decode()


def test_resume_rewrites_what_does_not_verify(copy, exported):
    (copy / "pat_1-0001.cbor").unlink()
    (copy / "pat_3-0000.cbor").write_bytes(b"\xa0")
    (copy / "pat_2-0000.sha256").unlink()
    _export(copy, "--resume")
    assert _tree(copy) == _tree(exported)


def test_shard_whose_sim_disagrees(tmp_path, exported):
    other = tmp_path / "other"
    _export(other, "--dt", "0.04")
    target = tmp_path / "mixed"
    shutil.copytree(exported, target)
    for suffix in (".cbor", ".json", ".sha256"):
        shutil.copy(other / f"pat_3-0001{suffix}", target / f"pat_3-0001{suffix}")
    result = _refused_read(target, "pat_3-0001.cbor", "sim", "sim.dt: 0.04 here, 0.03 in manifest.json")
    assert all(r["sim"]["dt"] == 0.03 for r in _records(result.stdout))


def test_shard_whose_frames_disagree(copy):
    # a shard of the right name and checksum but other frame numbers
    shard = pcbor.decode_one((copy / "pat_1-0001.cbor").read_bytes())
    shard["items"][1]["frame"] = 7
    data = pcbor.encode(shard)
    (copy / "pat_1-0001.cbor").write_bytes(data)
    import hashlib
    (copy / "pat_1-0001.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  pat_1-0001.cbor\n")
    result = _refused_read(copy, "pat_1-0001.cbor", "items[1]", "expected seed 1 frame 3", "frame 7")
    assert [r["frame"] for r in _records(result.stdout)] == [0, 1]


def test_metrics_are_kept_with_out(tmp_path):
    out = tmp_path / "metrics"
    _export(out, "--metrics")
    assert json.loads((out / "manifest.json").read_text())["metrics"] is True
    shard = pcbor.decode_one((out / "pat_2-0000.cbor").read_bytes())
    assert all(len(item["metrics"]["patchDefects"]) == 4 for item in shard["items"])
    streamed = run("pat-export", *SEEDS, *SMALL, "--metrics", check=True).stdout
    assert run("pat-cat", str(out), check=True).stdout == streamed


def test_earlier_pattools_directory_says_re_export(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["metrics"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    for checksum in copy.glob("*.sha256"):
        checksum.rename(copy / f"{checksum.stem}.cbor.sha256")
    _refused_read(copy, "earlier pattools version", "re-export")
    result = _export(copy, "--resume", code=2)
    assert "earlier pattools version" in result.stderr.decode() and "--force" in result.stderr.decode()


def test_out_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = _export(target, code=2)
    assert "is a file (expected a directory)" in result.stderr.decode()
    assert target.read_text() == "x"


def test_items_without_the_metrics_the_manifest_promises(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["metrics"] = True
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = _refused_read(copy, "pat_1-0000.cbor", "items[0].metrics",
                           "expected a metrics block (manifest.json says metrics true), got none")
    assert result.stdout == b""
