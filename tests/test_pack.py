"""Packing (docs/editing.md §3): windows, splits, records and tensors, in-process."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools.edit.dpat import EditPackage
from pattools.edit.pack import (EditIndex, PackPrompt, PackTally, Window, assign_split, pack_sequence, parse_split,
                                prompt_key, split_group)
from pattools.edit.pack_tensors import INPUT_FEATURES, TARGET_FEATURES, TensorPack
from pattools.errors import DataError
from pattools.io import encode_line
from pattools.io.npz import encode_npz
from pattools.schema import validate
from pattools.tokens.frame import TokenFrame
from tests.test_apply_support import edit_record, sequence


def test_windows_fixed_and_sliding():
    frames = list(range(10))
    assert Window(2, 3).edit_frames(frames, None) == ([2, 5], 1)  # T=8 needs frame 10
    assert Window(2, 3, stride=1).edit_frames(frames, None) == ([2, 3, 4, 5, 6, 7], 2)
    assert Window(3, 1).edit_frames(frames, 2) == ([], 1)  # before the start
    assert Window(3, 1).edit_frames(frames, 9) == ([9], 0)
    assert Window(1, 1).edit_frames([0, 1, 3, 4], None) == ([1, 4], 2)  # the gap at 2 drops T=2 and T=3
    assert Window(1, 1).edit_frames([], None) == ([], 0)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(1, 5), st.integers(1, 5), st.one_of(st.none(), st.integers(1, 4)))
def test_sliding_windows_lie_inside_the_sequence_and_are_counted(n, k, h, s):
    frames = list(range(n))
    kept, dropped = Window(k, h, s).edit_frames(frames, None)
    step = s or h
    assert len(kept) + dropped == len(range(k, n, step))
    for t in kept:
        assert t - k >= 0 and t + h <= n and (t - k) % step == 0


def test_split_is_sha256_of_the_group():
    fractions = parse_split("val=0.1,test=0.2")
    assert fractions == [("val", 0.1), ("test", 0.2)]
    for seed in range(50):
        u = int.from_bytes(hashlib.sha256(f"{seed}".encode()).digest()[:8], "big") / 2**64
        expected = "val" if u < 0.1 else "test" if u < 0.3 else "train"
        assert assign_split(split_group(seed, "p1"), fractions) == expected
        assert split_group(seed, "p1", "prompt") == "p1"
    counts = [assign_split(f"x{i}", [("val", 0.25)]) for i in range(2000)].count("val")
    assert 400 < counts < 600
    for bad in ("val", "val=2", "val=0.7,test=0.7", "=0.1", "val=x"):
        with pytest.raises(ValueError):
            parse_split(bad)


def sim_text(sim: dict) -> str:
    """A sim block as the archive's JSON text (what pat-pack passes in)."""
    return encode_line(sim).decode("utf-8").rstrip("\n")


def frames_of(records: list[dict]) -> tuple[list[int], list[TokenFrame], list[list[dict]]]:
    return ([r["frame"] for r in records], [TokenFrame.from_tokens(r["tokens"]) for r in records],
            [r["tokens"] for r in records])


def test_records_hold_inputs_targets_and_ids():
    records = sequence(np.random.default_rng(4), 6, seed=5)
    sim = records[0]["sim"]
    frames, tokens, maps = frames_of(records)
    edit = EditPackage.from_record(edit_record(
        [{"frame": 3, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.1}}]},
         {"frame": 5, "dpat": []}], seed=5, sim=sim, prompt="raise coherence"))
    other = EditPackage.from_record(edit_record([{"frame": 3, "dpat": []}], seed=5, sim=sim, prompt="something else"))
    index = EditIndex([(edit, "e.cbor", 0), (other, "e.cbor", 1)])
    prompts = [PackPrompt("raise coherence", id="p1"), PackPrompt("raise coherence", seed=6)]
    tally = PackTally()
    used: set[int] = set()
    out = list(pack_sequence(5, sim, frames, tokens, prompts, Window(2, 2), targets="file", edits=index,
                             split=[("val", 0.5)], tally=tally, used=used))
    assert [w.record["id"] for w in out] == ["p1-5-2", "p1-5-4"]
    first = out[0].record
    validate(first)
    assert [i["frame"] for i in first["inputs"]] == [0, 1] and first["inputs"][0]["tokens"] == maps[0]
    assert first["targets"] == [{"frame": 3, "dpat": [{"patchId": "0,0,32", "stats": {"rho": 0.1}}]}]
    assert out[1].record["targets"] == [{"frame": 5, "dpat": []}]
    assert first["split"] == assign_split("5", [("val", 0.5)]) == out[1].record["split"]
    assert (tally.records, tally.dropped, used) == (2, 0, {0})
    assert prompt_key("abc", None) == hashlib.sha256(b"abc").hexdigest()[:12]


def test_tensors_match_the_records():
    records = sequence(np.random.default_rng(8), 5, seed=2)
    sim = records[0]["sim"]
    frames, tokens, maps = frames_of(records)
    edit = EditPackage.from_record(edit_record(
        [{"frame": 3, "dpat": [{"patchId": "32,32,32", "stats": {"rho": 0.1}, "code": {"rvqDelta": [0, 1, 0, 0, 0]}},
                               {"patchId": "32,32,32", "stats": {"rho": 0.05}}, {"patchId": "0,0,32", "topo": {"vortex": -1}}]}],
        seed=2, sim=sim, prompt=None))  # an edit without a prompt gives targets to every prompt
    pack = TensorPack()
    for w in pack_sequence(2, sim, frames, tokens, [PackPrompt("raise energy on the rim")], Window(2, 2, 1),
                           targets="file", edits=EditIndex([(edit, None, None)])):
        pack.add(w)
    arrays = pack.arrays(sim_text)
    names, tnames = list(arrays["features"]), list(arrays["target_features"])
    assert names == list(INPUT_FEATURES) and arrays["inputs"].shape == (2, 2, 9, 16)
    assert str(arrays["layout"]) == "pat-pack-npz/2" and arrays["input_codes"].dtype == np.int8
    assert arrays["edit_frames"].tolist() == [2, 3] and arrays["target_frames"].tolist() == [[2, 3], [3, 4]]
    assert arrays["input_frames"].tolist() == [[0, 1], [1, 2]]
    rec = pack.windows[1].record  # T = 3: its horizon starts at the edited frame
    token = rec["inputs"][1]["tokens"][4]
    assert arrays["inputs"][1, 1, 4, names.index("stats.rho")] == np.float32(token["stats"]["rho"])
    assert arrays["inputs"][1, 1, 4, names.index("geom.phi_gf.sin")] == np.float32(np.sin(token["geom"]["phi_gf"]))
    assert arrays["input_codes"][1, 1, 4, 2] == token["code"]["rvq"][2]
    deltas, mask = arrays["target_deltas"][1, 0], arrays["target_mask"][1, 0]
    assert deltas[4, tnames.index("stats.rho")] == np.float32(0.15000000000000002)
    assert arrays["target_codes"][1, 0, 4].tolist() == [0, 1, 0, 0, 0] and arrays["target_code_mask"][1, 0, 4]
    assert deltas[0, tnames.index("topo.vortex")] == -1 and not mask[0, tnames.index("stats.rho")]
    assert mask.sum() == 1 + 1 and not arrays["target_mask"][0, 0].any() and not arrays["target_mask"][1, 1].any()
    assert np.array_equal(arrays["target_mask"][0, 1], mask) and np.array_equal(arrays["target_deltas"][0, 1], deltas)
    # patch geometry (96x96 at scale 32: no partial patches), region masks from the prompt
    assert arrays["patch_coords"][4].tolist() == [32, 32] and arrays["patch_size"][4].tolist() == [32, 32]
    assert not arrays["patch_partial"].any() and arrays["patch_mask"].all()
    assert arrays["intent_features"].tolist() == [["energy"], ["energy"]] and arrays["intent_mask"].all()
    assert arrays["region_masks"][0, 0].tolist() == [True] * 4 + [False] + [True] * 4  # the rim
    assert arrays["splits"].tolist() == ["train", "train"] and int(arrays["stats_records"]) == 2
    loaded = np.load(io.BytesIO(encode_npz(arrays)), allow_pickle=False)
    assert sorted(loaded.files) == sorted(arrays)
    assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays)


def test_npz_bytes_are_reproducible_and_need_one_layout():
    arrays = {"a": np.arange(3, dtype=np.float32), "names": np.array(["x", "yz"])}
    assert encode_npz(arrays) == encode_npz(dict(arrays))
    records = sequence(np.random.default_rng(1), 3, seed=1) + sequence(np.random.default_rng(1), 3, seed=2, W=64, H=64)
    pack = TensorPack()
    for seed in (1, 2):
        part = [r for r in records if r["seed"] == seed]
        frames, tokens, maps = frames_of(part)
        for w in pack_sequence(seed, part[0]["sim"], frames, tokens, [PackPrompt("p")], Window(1, 1)):
            pack.add(w)
    with pytest.raises(DataError, match="one patch layout"):
        pack.arrays(sim_text)
    with pytest.raises(DataError, match="no records"):
        TensorPack().arrays(sim_text)
