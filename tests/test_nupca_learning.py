"""The agent learns with its own defaults (decision 3, revised): no configuration, no REST.

Each test fails if learning breaks: persistence-initialised experts, the scale-free
responsibility test, the RLS step, the velocity gains and precision-weighted fusion all
have to work for the error to fall below the free baselines.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pattools.io import read_records
from pattools.nupca.config import config_from_dict
from pattools.nupca.pat import observation_from_frame
from pattools.nupca.state import init_state
from pattools.nupca.step import step
from pattools.nupca.synthetic import AR1BlockEnv, LinearBlockEnv
from tests.helpers import shell

STEPS = 2_000


def run(env_class, values: dict | None = None, steps: int = STEPS, unit: float = 1.0, seed: int = 7):
    """(prior_obs_mae, persistence_mae, true persistence) per step on a synthetic stream."""
    config = config_from_dict({"D": 128, "B": 32, **(values or {})})
    state = init_state(config)
    env = env_class(config, seed=seed)
    agent, last_seen, plain = [], [], []
    previous = None
    for obs in env.stream(steps):
        obs.cue = obs.cue._replace(values=obs.cue.values * unit)
        trace = step(state, obs)
        agent.append(trace.prior_obs_mae)
        last_seen.append(trace.persistence_mae)
        if previous is not None:
            dims = trace.observed
            plain.append(float(np.mean(np.abs(obs.cue.values[dims] - previous[dims]))))
        previous = obs.cue.values
    return np.array(agent), np.array(last_seen), np.array(plain)


@pytest.mark.parametrize("env_class", [LinearBlockEnv, AR1BlockEnv], ids=["rotations", "noisy-AR1"])
def test_defaults_learn_linear_block_dynamics(env_class):
    """D 128, B 32, every dim offered, 2,000 steps: last 200 ≤ 1/5 of the first 200 and below
    persistence (the true x_t predicting x_{t+1}; here the fovea sees every block, so it
    equals last-seen persistence)."""
    agent, last_seen, plain = run(env_class)
    first, last = agent[:200].mean(), agent[-200:].mean()
    assert last <= first / 5
    assert last < plain[-200:].mean()
    np.testing.assert_allclose(last_seen[1:], plain, rtol=1e-12)
    if env_class is AR1BlockEnv:  # at the noise floor E|ε| = 0.01·sqrt(2/π)
        assert last < 1.15 * 0.01 * np.sqrt(2 / np.pi) < plain[-200:].mean() / 3


def test_learning_does_not_depend_on_the_data_units():
    small = run(AR1BlockEnv, steps=300, unit=1e-4)[0]
    large = run(AR1BlockEnv, steps=300, unit=1e4)[0]
    same = run(AR1BlockEnv, steps=300)[0]
    np.testing.assert_allclose(small / 1e-4, same, rtol=1e-6)
    np.testing.assert_allclose(large / 1e4, same, rtol=1e-6)
    assert same[-50:].mean() < same[:50].mean() / 3


def test_without_learning_the_prior_is_persistence():
    """Every expert starts as persistence: with learning off the prior is exactly last-seen
    persistence on every step after the first."""
    agent, last_seen, _ = run(AR1BlockEnv, {"enable_learning": False}, steps=60)
    np.testing.assert_allclose(agent[1:], last_seen[1:], rtol=1e-12)


def test_partial_fovea_beats_last_seen_persistence():
    """A fovea of 8 of 32 blocks per step: the velocity gains carry unobserved blocks
    forward, so the prior beats each dim's last-seen value; full experts learn W only from
    consecutive observations unless ``learn_from_rollouts`` lets them learn from the
    agent's own rollouts too (right for these exactly linear blocks)."""
    agent, last_seen, _ = run(LinearBlockEnv, {"fovea_blocks_per_step": 8}, steps=1_000)
    assert agent[-200:].mean() < last_seen[-200:].mean()
    agent, last_seen, _ = run(LinearBlockEnv, {"fovea_blocks_per_step": 8, "learn_from_rollouts": True}, steps=1_000)
    assert agent[-200:].mean() < last_seen[-200:].mean() / 1.5


PAT_SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def pat_runs(tmp_path_factory):
    """Per seed: the exported features and the traces with the default and the full fovea."""
    folder = tmp_path_factory.mktemp("pat")
    config = folder / "all.json"
    config.write_text(json.dumps({"fovea_blocks_per_step": 9}))  # 9 patches at the export defaults
    runs = {}
    for seed in PAT_SEEDS:
        frames = folder / f"{seed}.cbor"
        result = shell(f"pat-export --seeds {seed} --frames 300 > {frames}")
        assert result.returncode == 0, result.stderr
        features = [observation_from_frame(r.value, r.tokens.frame()).cue.values for r in read_records([str(frames)])]
        traces = {}
        for name, extra in (("default", ""), ("all", f"--config {config}")):
            result = shell(f"nupca-step --from-pat {extra} --format jsonl < {frames}")
            assert result.returncode == 0, result.stderr
            traces[name] = [json.loads(line) for line in result.stdout.decode().splitlines()]
        runs[seed] = (np.array(features), traces)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("seed", PAT_SEEDS)
def test_pat_stream_prior_beats_persistence(pat_runs, seed):
    """``pat-export --seeds S --frames 300 | nupca-step --from-pat``, last 100 frames: the
    prior beats last-seen persistence with the default fovea, and plain persistence (frame
    t predicting t+1) with the fovea on every block."""
    features, traces = pat_runs[seed]
    tail = traces["default"][-100:]
    assert np.mean([t["prior_obs_mae"] for t in tail]) < np.mean([t["persistence_mae"] for t in tail])
    tail = traces["all"][-100:]
    plain = [np.mean(np.abs(features[t["t"]][t["O_t"]] - features[t["t"] - 1][t["O_t"]])) for t in tail]
    assert all(len(t["O_t"]) == features.shape[1] for t in tail)
    assert np.mean([t["prior_obs_mae"] for t in tail]) < np.mean(plain)
