"""Property tests of packs a trainer can use as they are (docs/editing.md §3, revised):
group splits leak no frame, the npz holds the records' values, and the normalisation
statistics come from training records only."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools.edit.pack import PackPrompt, Window, pack_sequence
from pattools.edit.pack_tensors import INPUT_FEATURES, TensorPack, normalisation
from pattools.io import encode_line
from pattools.io.npz import encode_npz
from pattools.tokens.frame import TokenFrame
from tests.test_apply_support import sequence

PROMPTS = [PackPrompt("raise coherence on the rim", id="a"), PackPrompt("lower energy", id="b"),
           PackPrompt("flip chirality in the centre", id="c")]


def _pack(seeds: list[int], lengths: list[int], k: int, h: int, stride: int, fraction: float, by: str,
          rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    windows = []
    for seed, n in zip(seeds, lengths):
        records = sequence(rng, n, seed=seed, W=48, H=40, scale=16)
        frames = [r["frame"] for r in records]
        tokens = [TokenFrame.from_tokens(r["tokens"]) for r in records]
        windows += list(pack_sequence(seed, records[0]["sim"], frames, tokens, PROMPTS, Window(k, h, stride), split=[("val", fraction)], split_by=by))
    return windows


CASES = dict(seeds=st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True),
             n=st.integers(2, 7), k=st.integers(1, 3), h=st.integers(1, 2), stride=st.integers(1, 2),
             fraction=st.floats(0.0, 1.0))


@settings(max_examples=25, deadline=None)
@given(**CASES)
def test_no_frame_of_a_validation_record_is_in_a_training_record(seeds, n, k, h, stride, fraction):
    windows = _pack(seeds, [n] * len(seeds), k, h, stride, fraction, "seed")
    frames: dict[str, set] = {}
    for w in windows:
        r = w.record
        used = {(r["seed"], f) for f in [i["frame"] for i in r["inputs"]] + w.horizon_frames}
        frames.setdefault(r["split"], set()).update(used)
    assert not frames.get("val", set()) & frames.get("train", set())


@settings(max_examples=10, deadline=None)
@given(**CASES)
def test_npz_round_trips_to_the_record_values_and_stats_use_training_records_only(seeds, n, k, h, stride, fraction):
    windows = _pack(seeds, [n] * len(seeds), k, h, stride, fraction, "prompt", rng_seed=len(seeds))
    if not windows:
        return
    pack = TensorPack()
    for w in windows:
        pack.add(w)
    arrays = np.load(io.BytesIO(encode_npz(pack.arrays(lambda sim: encode_line(sim).decode().rstrip()))), allow_pickle=False)
    names = list(arrays["features"])
    assert names == list(INPUT_FEATURES)
    for r, w in enumerate(windows):
        assert arrays["splits"][r] == w.record["split"] and arrays["ids"][r] == w.record["id"]
        for j, item in enumerate(w.record["inputs"]):
            for p, token in enumerate(item["tokens"]):
                phi, theta = token["geom"]["phi_gf"], token["geom"]["theta"]
                row = arrays["inputs"][r, j, p]
                assert row[names.index("stats.energy")] == np.float32(token["stats"]["energy"])
                assert row[names.index("geom.kappa")] == np.float32(token["geom"]["kappa"])
                assert row[names.index("geom.phi_gf.cos")] == np.float32(np.cos(phi))
                assert row[names.index("geom.theta.sin2")] == np.float32(np.sin(2 * theta))
                assert row[names.index("topo.chirality")] == token["topo"]["chirality"]
                assert arrays["input_codes"][r, j, p].tolist() == token["code"]["rvq"]
    train = arrays["splits"] == "train"
    inputs = arrays["inputs"]
    assert int(arrays["stats_records"]) == int(train.sum())
    if train.any():
        rows = inputs[train].reshape(-1, inputs.shape[-1]).astype(np.float64)
        std = rows.std(axis=0)
        assert np.allclose(arrays["feature_mean"], rows.mean(axis=0), atol=1e-6)
        assert np.array_equal(arrays["feature_constant"], ~(std > 1e-12))
        assert np.allclose(arrays["feature_std"], np.where(std > 1e-12, std, 1.0), atol=1e-6)
    # whatever the validation records hold, the statistics do not move
    scrambled = inputs.copy()
    scrambled[~train] = np.random.default_rng(1).normal(size=scrambled[~train].shape)
    again = normalisation(scrambled, train)
    assert np.array_equal(again["feature_mean"], arrays["feature_mean"])
    assert np.array_equal(again["feature_std"], arrays["feature_std"])
