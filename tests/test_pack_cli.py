"""pat-pack as a user runs it: real subprocesses and pipes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pattools.edit.pack import assign_split
from pattools.edit.pack_tensors import INPUT_FEATURES, TARGET_FEATURES
from pattools.io.cbor import encode
from tests.helpers import run, shell
from tests.test_apply_support import edit_record, sequence


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """Seed 1: 8 frames; seed 2: 5 frames (96×96, scale 32)."""
    where = tmp_path_factory.mktemp("pack")
    rng = np.random.default_rng(21)
    records = sequence(rng, 8, seed=1) + sequence(rng, 5, seed=2)
    path = where / "frames.cbor"
    path.write_bytes(b"".join(encode(r) for r in records))
    return where, records, path


def jsonl(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_pack_windows_validate_and_drop_past_the_end(stream):
    _, records, path = stream
    result = shell(f"pat-pack --prompt 'increase coherence on rim' --context 3 --horizon 2 < {path} "
                   "| pat-cat --format jsonl")  # pat-cat validates every PAT_PACK record
    out = jsonl(result)
    # seed 1 (8 frames): T = 3, 5 (T = 7 runs past the end); seed 2 (5 frames): T = 3 (fits exactly)
    assert [(r["seed"], r["id"].rsplit("-", 1)[1]) for r in out] == [(1, "3"), (1, "5"), (2, "3")]
    assert [i["frame"] for i in out[1]["inputs"]] == [2, 3, 4] and out[1]["targets"] == []
    assert out[0]["inputs"][0]["tokens"] == records[0]["tokens"]
    stderr = run("pat-pack", "--prompt", "p", "--context", "3", "--horizon", "2", str(path)).stderr.decode()
    assert "dropped 1 windows" in stderr


def test_prompts_file_with_seeds_and_frames_and_split(stream, tmp_path):
    _, _, path = stream
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"id": "a", "prompt": "reduce entropy", "seed": 2, "frame": 2}) + "\n"
                       + json.dumps({"id": "b", "prompt": "flip chirality", "frame": 6}) + "\n"
                       + json.dumps({"id": "c", "prompt": "raise energy", "seed": 77}) + "\n")
    result = run("pat-pack", "--prompts", str(prompts), "--context", "2", "--horizon", "2", "--split", "val=0.5",
                 "--format", "jsonl", str(path))
    out = jsonl(result)
    assert [r["id"] for r in out] == ["b-1-6", "a-2-2"]  # b on seed 2 at T=6 runs past the end
    assert [r["split"] for r in out] == [assign_split(str(r["seed"]), [("val", 0.5)]) for r in out]
    by_prompt = jsonl(run("pat-pack", "--prompts", str(prompts), "--context", "2", "--horizon", "2", "--split",
                          "val=0.5", "--split-by", "prompt", "--format", "jsonl", str(path)))
    assert [r["split"] for r in by_prompt] == [assign_split(r["id"].split("-")[0], [("val", 0.5)]) for r in by_prompt]
    stderr = result.stderr.decode()
    assert "dropped 1 windows" in stderr and "1 of 3 prompts made no record" in stderr
    again = run("pat-pack", "--prompts", str(prompts), "--context", "2", "--horizon", "2", "--split", "val=0.5",
                str(path))
    assert again.stdout == run("pat-pack", "--prompts", str(prompts), "--context", "2", "--horizon", "2",
                               "--split", "val=0.5", str(path)).stdout


def test_targets_from_edit_file_and_npz_match_jsonl(stream, tmp_path):
    _, records, path = stream
    sim = records[0]["sim"]
    edits = tmp_path / "edits.cbor"
    edits.write_bytes(encode(edit_record(
        [{"frame": 4, "dpat": [{"patchId": "32,0,32", "stats": {"rho": 0.2}, "geom": {"phi_gf": -0.5}},
                               {"patchId": "64,64,32", "code": {"rvqDelta": [0, 0, -1, 0, 1]}}]},
         {"frame": 5, "dpat": [{"patchId": "0,0,32", "topo": {"chirality": 2}}], "dA": {"heads": [{"weight": 2.0}]}}],
        seed=1, sim=sim, ident="e1", prompt="increase coherence")))
    args = ["--targets", str(edits), "--context", "2", "--horizon", "2", "--stride", "1", str(path)]
    out = jsonl(run("pat-pack", "--format", "jsonl", *args))
    assert [r["id"] for r in out] == ["e1-1-4"]  # prompts from the edit: T = its first target frame
    assert [t["frame"] for t in out[0]["targets"]] == [4, 5] and out[0]["targets"][1]["dA"] == {"heads": [{"weight": 2.0}]}
    npz = tmp_path / "pack.npz"
    assert run("pat-pack", "--format", "npz", "--out", str(npz), *args).returncode == 0
    arrays = np.load(npz)
    names = list(arrays["features"])
    assert names == list(INPUT_FEATURES) and list(arrays["target_features"]) == list(TARGET_FEATURES)
    assert list(arrays["ids"]) == ["e1-1-4"] and list(arrays["prompts"]) == ["increase coherence"]
    assert arrays["input_frames"].tolist() == [[2, 3]] and arrays["target_frames"].tolist() == [[4, 5]]
    compare_inputs(arrays, out, names)
    compare_targets(arrays, out, names)


def _input_value(token: dict, name: str) -> float:
    group, field, *part = name.split(".")
    value = token[group][field]
    if part:
        angle = 2 * value if part[0].endswith("2") else value
        return float(np.cos(angle) if part[0].startswith("cos") else np.sin(angle))
    return value


def compare_inputs(arrays, out: list[dict], names: list[str]) -> None:
    """The npz inputs and codes hold the JSONL records' values (angles as cos/sin)."""
    for r, record in enumerate(out):
        for k, frame in enumerate(record["inputs"]):
            for p, token in enumerate(frame["tokens"]):
                assert arrays["input_codes"][r, k, p].tolist() == token["code"]["rvq"]
                for f, name in enumerate(names):
                    assert arrays["inputs"][r, k, p, f] == np.float32(_input_value(token, name)), (r, k, p, name)


def compare_targets(arrays, out: list[dict], names: list[str]) -> None:
    patch_ids = list(arrays["patch_ids"])
    tnames = list(arrays["target_features"])
    for r, record in enumerate(out):
        horizon = list(arrays["target_frames"][r])
        expected = np.zeros(arrays["target_deltas"].shape[1:])
        named = np.zeros(expected.shape, dtype=bool)
        codes = np.zeros(arrays["target_codes"].shape[1:], dtype=np.int64)
        code_named = np.zeros(arrays["target_code_mask"].shape[1:], dtype=bool)
        for target in record["targets"]:
            h = horizon.index(target["frame"])
            for dp in target["dpat"]:
                p = patch_ids.index(dp["patchId"])
                for group, values in dp.items():
                    if group == "patchId":
                        continue
                    if group == "code":
                        codes[h, p] += values["rvqDelta"]
                        code_named[h, p] = True
                        continue
                    for field, v in values.items():
                        expected[h, p, tnames.index(f"{group}.{field}")] += v
                        named[h, p, tnames.index(f"{group}.{field}")] = True
        assert np.array_equal(arrays["target_deltas"][r], expected.astype(np.float32))
        assert np.array_equal(arrays["target_mask"][r], named)
        assert np.array_equal(arrays["target_codes"][r], codes) and np.array_equal(arrays["target_code_mask"][r], code_named)


def test_baseline_targets_are_pseudo_labels(stream, tmp_path):
    _, _, path = stream
    args = ["--prompt", "increase coherence on rim", "--targets", "baseline", "--context", "1", "--horizon", "1",
            "--stride", "3", str(path)]
    out = jsonl(run("pat-pack", "--format", "jsonl", *args))
    assert len(out) == 3 + 2 and all(len(r["targets"]) == 1 for r in out)
    first = out[0]["targets"][0]
    assert first["frame"] == 1 and len(first["dpat"]) == 8  # the rim of a 3×3 grid
    assert all(dp["stats"]["rho"] > 0 for dp in first["dpat"]) and out[0]["intents"][0]["feature"] == "rho"
    npz = tmp_path / "b.npz"
    run("pat-pack", "--format", "npz", "--out", str(npz), *args, check=True)
    arrays = np.load(npz)
    names = list(arrays["features"])
    compare_inputs(arrays, out, names)
    compare_targets(arrays, out, names)


def test_bad_inputs(stream, tmp_path):
    _, records, path = stream
    assert run("pat-pack", "--prompt", "p", str(path)).returncode == 2  # --context is required
    assert run("pat-pack", "--prompt", "p", "--context", "0", str(path)).returncode == 2
    bad_split = run("pat-pack", "--prompt", "p", "--context", "1", "--split", "val=1.5", str(path))
    assert bad_split.returncode == 2 and b"fraction" in bad_split.stderr
    assert run("pat-pack", "--context", "1", str(path)).returncode == 2  # no prompts at all
    wrong = run("pat-pack", "--targets", str(path), "--context", "1", str(path))
    assert wrong.returncode == 1 and wrong.stderr.decode().startswith(f"pat-pack: {path}: record 0: kind: expected \"PAT_EDIT\"")
    npz = run("pat-pack", "--prompt", "p", "--context", "1", "--horizon", "50", "--format", "npz", str(path))
    assert npz.returncode == 1 and b"no records" in npz.stderr
