"""pat-cat in real pipelines: conversion, selection, shard directories, counts and summaries."""

from __future__ import annotations

import json

from pattools.io import cbor as pcbor
from pattools.io.shards import write_manifest, write_shard
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame, run, shell


def _stream(frames) -> bytes:
    return b"".join(pcbor.encode(f) for f in frames)


def test_cbor_to_jsonl_and_back_is_lossless():
    frames = [make_frame(seed=s, frame=f) for s in (1, 2) for f in range(3)]
    data = _stream(frames)
    jsonl = run("pat-cat", "--format", "jsonl", input=data, check=True).stdout
    assert [json.loads(line) for line in jsonl.splitlines()] == frames
    back = run("pat-cat", "--format", "cbor", input=jsonl, check=True).stdout
    assert back == data


def test_selection_by_seed_and_frames():
    frames = [make_frame(seed=s, frame=f) for s in (1, 2, 3) for f in range(6)]
    out = run("pat-cat", "--seed", "2:4", "--frames", "2:4", "--format", "jsonl", input=_stream(frames), check=True)
    got = [(r["seed"], r["frame"]) for r in map(json.loads, out.stdout.splitlines())]
    assert got == [(2, 2), (2, 3), (3, 2), (3, 3)]


def test_count_prints_a_summary_record():
    frames = [make_frame(frame=f) for f in range(4)]
    out = run("pat-cat", "--count", "--format", "jsonl", input=_stream(frames), check=True)
    assert json.loads(out.stdout) == {"kind": "PAT_SUMMARY", "version": 1, "records": 4, "kinds": {"PAT_FRAME": 4}}


def _shard_dir(tmp_path, seeds=(5, 7), frames=5, shard_size=2):
    directory = tmp_path / "shards"
    directory.mkdir()
    sim = make_frame()["sim"]
    expected = []
    for seed in seeds:
        items = [make_frame(seed=seed, frame=f) for f in range(frames)]
        expected.extend(items)
        for segment, start in enumerate(range(0, frames, shard_size)):
            chunk = items[start:start + shard_size]
            shard = {"kind": "PAT_SHARD", "version": 1, "shard": f"{seed}-{segment:04d}", "seed": seed,
                     "segment": segment, "count": len(chunk), "sim": sim, "provenance": {"codebookSHA": "0" * 64}}
            write_shard(directory, shard, [({"seed": seed, "frame": i["frame"]}, TokenFrame.from_tokens(i["tokens"]))
                                           for i in chunk])
    write_manifest(directory, {"version": 1, "W": 96, "H": 96, "frames": frames, "scale": 32,
                               "shardSize": shard_size, "seeds": list(seeds), "sim": sim, "metrics": False})
    return directory, expected


def test_shard_directory_streams_frames_in_seed_segment_order(tmp_path):
    directory, expected = _shard_dir(tmp_path, seeds=(10, 9))
    out = run("pat-cat", str(directory), "--format", "jsonl", check=True)
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert got == sorted(expected, key=lambda r: (r["seed"], r["frame"]))


def test_lone_shard_file_reads_with_its_sim(tmp_path):
    directory, expected = _shard_dir(tmp_path, seeds=(3,))
    out = run("pat-cat", str(directory / "pat_3-0001.cbor"), "--format", "jsonl", check=True)
    assert [json.loads(line) for line in out.stdout.splitlines()] == expected[2:4]


def test_summary_jsonl_has_sequences_and_atlas(tmp_path):
    directory, _ = _shard_dir(tmp_path)
    out = run("pat-cat", "--summary", "--format", "jsonl", str(directory), check=True)
    summary = json.loads(out.stdout)
    assert summary["kinds"] == {"PAT_FRAME": 10}
    assert [(s["seed"], s["frames"], s["tokensPerFrame"]) for s in summary["sequences"]] == [(5, 5, 9), (7, 5, 9)]
    assert summary["atlas"]["count"] == 90 and len(summary["atlas"]["perplexity"]) == 5


def test_pipeline_jq_style(tmp_path):
    frames = [make_frame(frame=f) for f in range(3)]
    (tmp_path / "f.cbor").write_bytes(_stream(frames))
    result = shell("pat-cat f.cbor --format jsonl | pat-cat --frames 1: | pat-cat --count --format jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records"] == 2


def test_streaming_memory_stays_flat_on_10x_input(tmp_path):
    from tests.helpers import BIN, peak_rss_kib

    frame = pcbor.encode(make_frame(W=128, H=128, scale=16))
    small, large = tmp_path / "small.cbor", tmp_path / "large.cbor"
    small.write_bytes(frame * 300)
    large.write_bytes(frame * 3000)
    argv = [str(BIN / "pat-cat"), "--format", "jsonl"]
    grow = peak_rss_kib(argv, large) - peak_rss_kib(argv, small)
    assert grow < 16 * 1024, f"peak RSS grew by {grow} KiB for 10x the input"
