"""The replay driver against fixed figures: the original token-only mode (live decoder, no
edit) and the direction of the delta decoder's effect for the baseline editor's nudges."""

from __future__ import annotations

import io

import numpy as np
import pytest

from pattools.edit.editors import heuristic_edit
from pattools.exporting import ExportConfig, frame_records
from pattools.io import read_records
from pattools.io.cbor import encode
from pattools.edited_replay import load_edits, replay_frames
from pattools.replay.driver import ReplayOptions, SequenceReplay
from pattools.tokens.frame import TokenFrame


def _phase_sum(phases: np.ndarray) -> float:
    total = 0.0
    for value in phases.tolist():  # float64, one by one in index order
        total += value
    return total


def test_live_decoder_reproduces_the_original_token_only_mode():
    # 32×32, seed 1312, export parameters, dt 0.03, UI gains, tokens at scale 32 rebuilt before each step
    config = ExportConfig(W=32, H=32, frames=32, scale=32, dt=0.03, steps_per_frame=1)
    frames = [record for _, record in frame_records(config, 1312)]
    replay = SequenceReplay(1312, frames[0]["sim"], ReplayOptions(decoder="live"))
    seen = {}
    for record in frames:
        replay.feed(record)
        steps = record["frame"] + 1
        if steps in (1, 10, 32):
            seen[steps] = (_phase_sum(replay.state.phases), replay.state.phases[:3].tolist())
    assert seen[1] == (3360.1754342273343, [2.2535228729248047, 3.3690338134765625, 3.55159592628479])
    assert seen[10][0] == 3397.5486957738176
    assert seen[32] == (3515.5059533705935, [1.402225136756897, 2.425367593765259, 3.5422985553741455])


def test_live_decoder_steps_per_frame_is_rebuilt_every_step():
    # the same run as 8 frames of 4 steps: tokens are rebuilt before every step, not per frame
    config = ExportConfig(W=32, H=32, frames=8, scale=32, dt=0.03, steps_per_frame=4)
    frames = [record for _, record in frame_records(config, 1312)]
    replay = SequenceReplay(1312, frames[0]["sim"], ReplayOptions(decoder="live"))
    for record in frames:
        replay.feed(record)
    assert _phase_sum(replay.state.phases) == 3515.5059533705935


GRID = 32
SCALE = 8


@pytest.fixture(scope="module")
def sequences():
    config = ExportConfig(W=GRID, H=GRID, frames=10, scale=SCALE, steps_per_frame=2)
    return {seed: [record for _, record in frame_records(config, seed)] for seed in (11, 12)}


def _read(frames: list[dict]) -> list[tuple]:
    """The frames as pat-replay reads them: (envelope, input, index, tokens) of each record."""
    data = b"".join(encode(record) for record in frames)
    return [(r.value, r.input, r.index, r.tokens) for r in read_records(["-"], stdin=io.BytesIO(data))]


def _rho(frames, edits=None) -> np.ndarray:
    return np.array([out.tokens.stats[:, 0] for out in replay_frames(_read(frames), ReplayOptions(), edits)])


@pytest.mark.parametrize("seed", [11, 12])
def test_delta_decoder_moves_rho_the_way_the_edit_asks(sequences, seed):
    frames = sequences[seed]
    sim = frames[0]["sim"]
    tokens = [(i, TokenFrame.from_tokens(r["tokens"])) for i, r in enumerate(frames)]
    base = _rho(frames)
    nx = GRID // SCALE
    left = np.arange(nx * nx) % nx < nx // 2
    effects = {}
    for verb in ("increase", "decrease"):
        package = heuristic_edit(tokens, sim, seed, f"{verb} coherence on left half")
        edited = _rho(frames, load_edits([(package, None, None)]))
        diff = edited - base
        effects[verb] = (diff[:, left].mean(), diff[:, ~left].mean())
    up, up_background = effects["increase"]
    down, down_background = effects["decrease"]
    assert up > 0.01 and abs(up_background) < up / 3
    assert down < -0.004 and abs(down_background) < -down / 3


@pytest.mark.parametrize("seed", [11, 12])
def test_delta_decoder_moves_phase_the_way_the_edit_asks(sequences, seed):
    frames = sequences[seed]
    tokens = [(i, TokenFrame.from_tokens(r["tokens"])) for i, r in enumerate(frames)]
    triples = lambda: _read(frames)  # noqa: E731
    base = np.array([out.tokens.geom[:, 1] for out in replay_frames(triples(), ReplayOptions())])
    nx = GRID // SCALE
    left = np.arange(nx * nx) % nx < nx // 2
    for verb, sign in (("increase", 1), ("decrease", -1)):
        package = heuristic_edit(tokens, frames[0]["sim"], seed, f"{verb} phase on left half")
        edits = load_edits([(package, None, None)])
        edited = np.array([out.tokens.geom[:, 1] for out in replay_frames(triples(), ReplayOptions(), edits)])
        diff = np.angle(np.exp(1j * (edited - base)))  # circular difference
        assert sign * diff[:, left].mean() > 0.03
        assert abs(diff[:, ~left].mean()) < abs(diff[:, left].mean()) / 3
