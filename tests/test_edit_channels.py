"""Every editable feature has a steering channel in the delta decoder (issue: edits that steer
every intent), and the held-out acceptance on a seeded sample.

- the drives and fields of each channel, as functions (signs, patterns, zero → no modulator);
- ``apply | replay`` ≡ ``replay --edit`` and bit-identical reruns, for every decoder, with an
  edit that uses every channel;
- on held-out seeds and prompts (tests/data/edit_study/heldout.json, disjoint from the
  calibration set train.json), per intent kind: the heuristic editor's mean faithfulness
  > 0.05 and above the random editor's, the null editor exactly 0, and the mean EditReward of
  the heuristic above the random editor's. The test prints the table (95 % intervals across
  seeds); the full table over all held-out seeds is bench/edit_authority.py --study.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

from pattools.cli import apply as apply_cli
from pattools.cli import export as export_cli
from pattools.cli import replay as replay_cli
from pattools.io.cbor import encode
from pattools.replay import decoders
from pattools.replay.geometry import splat_geometry
from pattools.replay.settings import DecoderConstants
from pattools.score.study import SEVEN_KINDS, PromptSet, run_study, summarise, format_table
from tests.helpers import run_ok as _run

DATA = Path(__file__).parent / "data" / "edit_study"


def _deltas(n: int = 4):
    return np.zeros((n, 5)), np.zeros((n, 7)), np.zeros((n, 5), dtype=np.int64), np.zeros((n, 2), dtype=np.int64)


def test_drives_of_the_new_channels():
    c = DecoderConstants()
    dgeom, dstats, drvq, dtopo = _deltas()
    dstats[0, 1] = 0.1  # energy up -> positive lag (slows the field against its surface layers)
    dgeom[1, 4] = 0.2  # kappa up -> roughening only
    dgeom[2, 4] = -0.2  # kappa down -> coupling up
    dtopo[3, 1] = -2  # chirality towards minus -> negative winding, coupling up
    dstats[3, 3] = 0.1  # arousal up -> coupling down
    a, q = decoders.drives(dgeom, dstats, drvq, c, dtopo)
    rough, wind = decoders.pattern_drives(dgeom, dtopo, drvq, c)
    assert q[0] == pytest.approx(c.kEnergy * 0.1) and q[1:].tolist() == [0, 0, 0]
    assert rough.tolist() == [0, pytest.approx(c.kRough * 0.2), 0, 0]
    assert a[1] == 0 and a[2] == pytest.approx(c.kKappa * 0.2)
    assert wind.tolist() == [0, 0, 0, -2 * c.kChir]
    assert a[3] == pytest.approx(2 * c.kChirK - c.kAffect * 0.1)
    drvq[1, 4] = 1  # a kappa code step alone counts as one bin width (pi/4)
    dgeom[1, 4] = 0.0
    rough, _ = decoders.pattern_drives(dgeom, dtopo, drvq, c)
    assert rough[1] == pytest.approx(c.kRough * math.pi / 4)


def test_pattern_fields():
    width = height = 48
    ids = [f"{x},{y},16" for y in range(0, 48, 16) for x in range(0, 48, 16)]
    g = splat_geometry(ids, width, height, 16)
    zeros = np.zeros(9)
    assert decoders.decode_delta(zeros, zeros, g, width, height, rough=zeros, wind=zeros, scale=16) is None
    wind = zeros.copy()
    wind[4] = 1.5  # centre patch, centre (24, 24)
    f = decoders.decode_delta(zeros, zeros, g, width, height, rough=zeros, wind=wind, scale=16)
    lag = f.lap_a.reshape(height, width)
    assert not f.aact.any() and not f.uact.any() and not f.div_u.any()
    assert lag[24, 30] == 0.0  # azimuth 0
    assert lag[30, 24] == pytest.approx(1.5 * math.pi / 2, rel=1e-6)  # azimuth +pi/2 (y down)
    assert lag[18, 24] == pytest.approx(-1.5 * math.pi / 2, rel=1e-6)
    assert lag[24, 0] == 0.0  # beyond 1.5 patches
    rough = zeros.copy()
    rough[4] = 1.0
    f = decoders.decode_delta(zeros, zeros, g, width, height, rough=rough, wind=zeros, scale=16)
    lag = f.lap_a.reshape(height, width)
    assert lag[24, 24] == 1.0 and lag[24, 25] < 0 < lag[25, 25] and lag[23, 24] < 0 < lag[22, 24]


# ---------------------------------------------------------------------- CLI identities


def _every_channel_edit(sim: dict, seed: int) -> dict:
    dpat = [
        {"patchId": "0,0,8", "stats": {"energy": 0.1, "arousal": 0.05}, "geom": {"kappa": 0.2}},
        {"patchId": "8,8,8", "geom": {"kappa": -0.2}, "topo": {"vortex": -2, "chirality": -2}},
        {"patchId": "16,8,8", "stats": {"valence": -0.1}, "topo": {"chirality": 2}},
    ]
    return {"kind": "PAT_EDIT", "version": 1, "id": "channels", "seed": seed, "sim": sim,
            "targets": [{"frame": 1, "dpat": dpat}, {"frame": 2, "dpat": dpat[1:]}],
            "repro": {"dt": sim["dt"], "stepsPerFrame": sim["stepsPerFrame"], "scale": sim["scale"],
                      "noiseSeed": sim["noiseSeed"]}}


@pytest.fixture(scope="module")
def channel_case(tmp_path_factory):
    from pattools.io import read_records

    exported = _run(export_cli, ["--format", "cbor", "--W", "24", "--H", "24", "--scale", "8", "--frames", "4",
                                 "--spf", "2", "--seeds", "4"])
    sim = next(iter(read_records(["-"], stdin=io.BytesIO(exported)))).value["sim"]
    edit = tmp_path_factory.mktemp("channels") / "e.cbor"
    edit.write_bytes(encode(_every_channel_edit(sim, 4)))
    return exported, str(edit)


@pytest.mark.parametrize("decoder", ["delta", "tokens", "live"])
def test_apply_then_replay_equals_replay_with_edit_on_every_channel(channel_case, decoder):
    exported, edit = channel_case
    applied = _run(apply_cli, ["--edit", edit, "--format", "cbor"], exported)
    via_apply = _run(replay_cli, ["--decoder", decoder, "--format", "cbor"], applied)
    via_flag = _run(replay_cli, ["--decoder", decoder, "--edit", edit, "--format", "cbor"], exported)
    assert via_apply == via_flag
    assert via_flag == _run(replay_cli, ["--decoder", decoder, "--edit", edit, "--format", "cbor"], exported)
    if decoder == "delta":
        plain = _run(replay_cli, ["--format", "cbor"], exported)
        assert plain != via_flag


# ---------------------------------------------------------------------- held-out acceptance (sample)


@pytest.mark.slow
def test_heldout_sample_every_kind_steers(capsys):
    heldout = PromptSet.load(DATA / "heldout.json").with_seeds((101, 102, 103))
    train = PromptSet.load(DATA / "train.json")
    assert not set(heldout.seeds) & set(train.seeds)
    assert not {p for v in heldout.prompts.values() for p in v} & {p for v in train.prompts.values() for p in v}
    rows = run_study(heldout, ("heuristic", "random", "null"))
    table = summarise(rows)
    with capsys.disabled():
        print(f"\nheld-out sample, seeds {heldout.seeds}\n" + format_table(table))
    by = {(s.kind, s.editor): s for s in table}
    for kind in SEVEN_KINDS + ("amplitude", "arousal", "valence"):
        heur, rand = by[(kind, "heuristic")], by[(kind, "random")]
        assert heur.faith[0] > 0.05 and heur.faith[0] > rand.faith[0], kind
    assert all(r.faithfulness == 0.0 and r.drift == 0.0 and r.reward == 0.0 for r in rows if r.editor == "null")
    mean_reward = {e: np.mean([r.reward for r in rows if r.editor == e]) for e in ("heuristic", "random")}
    assert mean_reward["heuristic"] > mean_reward["random"]
