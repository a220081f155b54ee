"""Baseline editors (docs/editing.md §4) and the pat-baseline command."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from pattools.edit.apply import apply_target
from pattools.edit.bounds import Bounds
from pattools.edit.editors import EditorSettings, heuristic_edit
from pattools.edit.regions import Grid
from pattools.io import RecordWriter
from pattools.io import read_records
from pattools.tokens.frame import TokenFrame
from tests.helpers import make_frame, run, sim_block

W = H = 64
SCALE = 16
SIM = sim_block(W, H, SCALE)
GRID = Grid(W, H, SCALE)
RIM = {pid for pid, k in zip(GRID.patch_ids(), range(16)) if k % 4 in (0, 3) or k // 4 in (0, 3)}


def _frames(seed: int = 5, count: int = 2) -> list[tuple[int, TokenFrame]]:
    return [(f, TokenFrame.from_tokens(make_frame(seed, f, W, H, SCALE)["tokens"])) for f in range(count)]


def _edit(prompt: str, editor: str = "heuristic", **settings) -> dict:
    return heuristic_edit(_frames(), SIM, 5, prompt, editor=editor, settings=EditorSettings(**settings)).to_record()


def test_heuristic_nudges_region_only() -> None:
    rec = _edit("increase coherence on rim")
    assert rec["id"].startswith("heuristic-5-") and len(rec["id"]) == len("heuristic-5-") + 12
    assert [t["frame"] for t in rec["targets"]] == [0, 1]
    for target in rec["targets"]:
        assert {d["patchId"] for d in target["dpat"]} == RIM
        for d in target["dpat"]:
            assert d["stats"] == {"rho": 0.1, "entropyRate": -0.05}
            assert "code" not in d or d["code"]["rvqDelta"][3] == -1
    assert rec["intents"][0]["patches"] == sorted(RIM, key=GRID.patch_ids().index)


def test_magnitudes_and_amounts() -> None:
    (d, *_) = _edit("slightly reduce energy at patch 0,0")["targets"][0]["dpat"]
    assert d == {"patchId": "0,0,16", "stats": {"energy": -0.05}}
    (d, *_) = _edit("strongly raise phase at patch 0,0", codes=False)["targets"][0]["dpat"]
    assert d["geom"] == {"phi_gf": 2 * math.pi / 16}
    (d, *_) = _edit("increase curvature by 0.3 at patch 0,0", codes=False)["targets"][0]["dpat"]
    assert d["geom"] == {"kappa": 0.3}


def test_code_delta_follows_bin_crossing() -> None:
    frames = _frames()
    edit = heuristic_edit(frames, SIM, 5, "raise entropy by 0.2").to_record()
    for (_, tokens), target in zip(frames, edit["targets"]):
        before = np.minimum(3, np.floor(tokens.stats[:, 2] * 4))
        after = np.minimum(3, np.floor(np.clip(tokens.stats[:, 2] + 0.2, 0, 1) * 4))
        got = {d["patchId"]: d.get("code", {}).get("rvqDelta", [0] * 5)[3] for d in target["dpat"]}
        want = {pid: int(a != b) for pid, a, b in zip(tokens.patch_ids, after, before)}
        assert got == want


def test_flip_and_reduce_vortices() -> None:
    frames = _frames()
    edit = heuristic_edit(frames, SIM, 5, "flip chirality").to_record()
    (_, tokens) = frames[0]
    flipped = {d["patchId"]: d["topo"] for d in edit["targets"][0]["dpat"]}
    for pid, (v, c) in zip(tokens.patch_ids, tokens.topo.tolist()):
        assert flipped.get(pid, {}) == ({"vortex": -2 * v, "chirality": -2 * c} if v else {})
    edit = heuristic_edit(frames, SIM, 5, "reduce vortices").to_record()
    reduced = {d["patchId"]: d["topo"] for d in edit["targets"][0]["dpat"]}
    assert all(t["vortex"] == -tokens.topo[tokens.index_of(p), 0] for p, t in reduced.items())
    assert _edit("flip chirality", topo=False)["targets"][0]["dpat"] == []


def test_sums_are_clipped_to_bounds_and_apply_cleanly() -> None:
    prompt = "strongly increase coherence, strongly increase coherence on rim, strongly raise gradient, strongly raise gradient"
    frames = _frames()
    rec = heuristic_edit(frames, SIM, 5, prompt).to_record()
    for (_, tokens), target in zip(frames, rec["targets"]):
        for d in target["dpat"]:
            assert abs(d["stats"]["rho"]) <= 0.25 and abs(d["geom"]["gradPhi"]) <= 0.5
        apply_target(tokens, target["dpat"], Bounds.default())  # no bound error
    amount = "increase coherence by 0.3"
    with pytest.raises(Exception, match=r'clause "increase coherence by 0.3": amount 0.3 exceeds the bound 0.25 for rho'):
        _edit(amount)


def test_null_and_random_anchors() -> None:
    assert all(t["dpat"] == [] for t in _edit("increase coherence on rim", "null")["targets"])
    prompt = "increase coherence on rim, strongly lower entropy in the centre, flip chirality"
    heur = _edit(prompt)
    rand = _edit(prompt, "random", random_seed=3)
    assert rand["intents"] == heur["intents"]
    for h, r in zip(heur["targets"], rand["targets"]):
        assert len(h["dpat"]) == len(r["dpat"])

        def mags(dpats):
            out = []
            for d in dpats:
                for group in ("stats", "geom", "topo"):
                    out += [(group, k, abs(v)) for k, v in d.get(group, {}).items()]
                out += [("code", i, abs(v)) for i, v in enumerate(d.get("code", {}).get("rvqDelta", []))]
            return sorted(o for o in out if o[2])

        assert mags(h["dpat"]) == mags(r["dpat"])
    assert _edit(prompt, "random", random_seed=3) == rand
    assert _edit(prompt, "random", random_seed=4) != rand


def test_step_scale_scales_every_nudge() -> None:
    full = _edit("increase coherence on rim", codes=False)["targets"][0]["dpat"][0]["stats"]
    half = _edit("increase coherence on rim", codes=False, step_scale=0.5)["targets"][0]["dpat"][0]["stats"]
    assert half == {k: v * 0.5 for k, v in full.items()}


# ---------------------------------------------------------------------- command


@pytest.fixture(scope="module")
def frames_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("baseline") / "frames.cbor"
    with open(path, "wb") as out:
        writer = RecordWriter(out)
        for seed in (1, 2):
            for frame in range(3):
                writer.write(make_frame(seed, frame, W, H, SCALE))
    return str(path)


def _records(data: bytes) -> list[dict]:
    return [r.document() for r in read_records(["-"], validate=False, stdin=io.BytesIO(data))] if data else []


def test_command_one_edit_per_prompt_and_sequence(frames_file: str, tmp_path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# two prompts\nincrease coherence on rim\n\n"
                       '{"prompt": "flip chirality", "id": "flip-one", "seed": 2, "frame": 1}\n')
    out = run("pat-baseline", "--prompts", str(prompts), "--frames", "1:", frames_file, check=True)
    recs = _records(out.stdout)
    assert [(r["id"], r["seed"], [t["frame"] for t in r["targets"]]) for r in recs] == [
        (recs[0]["id"], 1, [1, 2]), (recs[1]["id"], 2, [1, 2]), ("flip-one", 2, [1, 2])]
    again = run("pat-baseline", "--prompts", str(prompts), "--frames", "1:", frames_file, check=True)
    assert again.stdout == out.stdout


def test_command_errors(frames_file: str, tmp_path) -> None:
    bad = run("pat-baseline", "--prompt", "increase coherence on the moon", frames_file)
    assert bad.returncode == 1 and bad.stdout == b""
    assert bad.stderr.decode() == ('pat-baseline: prompt: clause "increase coherence on the moon": '
                                   'unknown region "moon" (no regions file given)\n')
    prompts = tmp_path / "p.txt"
    prompts.write_text("raise energy\nraise energy in the middle of nowhere\n")
    bad = run("pat-baseline", "--prompts", str(prompts), frames_file)
    assert bad.returncode == 1
    assert bad.stderr.decode().startswith(f"pat-baseline: {prompts}: record 1: prompt: clause ")
    ok = run("pat-baseline", "--prompt", "raise energy on the moon, reduce entropy", "--lenient", frames_file)
    assert ok.returncode == 0 and len(_records(ok.stdout)) == 2
    assert ok.stderr.decode().count("skipped clause") == 1
    empty = run("pat-baseline", "--prompt", "raise energy in the centre", "--frames", "5:", frames_file)
    assert empty.returncode == 1


def test_whole_grid_flip_warns_once(frames_file: str) -> None:
    """A flip with no region is written (it is what was asked) but no decoder steers it: one warning."""
    out = run("pat-baseline", "--prompt", "flip chirality, increase coherence", frames_file, check=True)
    assert len(_records(out.stdout)) == 2
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1 and "'flip chirality' names no region" in lines[0], lines
    quiet = run("pat-baseline", "-q", "--prompt", "flip chirality", frames_file, check=True)
    assert quiet.stderr == b"" and quiet.stdout == run("pat-baseline", "--prompt", "flip chirality",
                                                        frames_file, check=True).stdout
    regional = run("pat-baseline", "--prompt", "flip chirality in the centre", frames_file, check=True)
    assert regional.stderr == b""


def test_explain() -> None:
    out = run("pat-baseline", "--explain", "slightly increase coherence on rim and flip chirality near patch 16,0",
              check=True)
    assert out.stdout.decode() == (
        'increase rho on rim ×0.5  <- "slightly increase coherence on rim"\n'
        'flip topo near patch 16,0  <- "flip chirality near patch 16,0"\n')


def test_regions_file(frames_file: str, tmp_path) -> None:
    regions = tmp_path / "regions.json"
    regions.write_text('{"Plane #1": ["16,16,16", {"x": 32, "y": 16, "w": 8, "h": 8}]}')
    out = run("pat-baseline", "--prompt", "reduce entropy near Plane #1", "--regions", str(regions),
              frames_file, check=True)
    (first, _) = _records(out.stdout)
    assert len(first["intents"][0]["patches"]) == 12


GOLDEN = __import__("pathlib").Path(__file__).resolve().parent / "data" / "baseline"


@pytest.mark.parametrize("editor", ["heuristic", "random", "null"])
def test_golden_outputs(editor: str) -> None:
    """Fixed frames, prompts and regions → the stored edits, byte for byte (JSONL).
    Regenerate with PATTOOLS_REGENERATE=1 after an intended change, and review the diff."""
    import os

    out = run("pat-baseline", "--prompts", str(GOLDEN / "prompts.txt"), "--regions", str(GOLDEN / "regions.json"),
              "--editor", editor, "--random-seed", "7", "--format", "jsonl", str(GOLDEN / "frames.jsonl"), check=True)
    expected = GOLDEN / f"expected-{editor}.jsonl"
    if os.environ.get("PATTOOLS_REGENERATE"):
        expected.write_bytes(out.stdout)
    assert out.stdout == expected.read_bytes()
    for record in _records(out.stdout):
        from pattools.schema import validate

        validate(record)
