"""Learning on a synthetic environment with fixed linear per-block dynamics (D = 64, B = 16)."""

from __future__ import annotations

import numpy as np
import pytest

from pattools.nupca.config import config_from_dict
from pattools.nupca.state import init_state
from pattools.nupca.step import step
from pattools.nupca.synthetic import LinearBlockEnv

STEPS = 2_000


def run(config_values: dict, rest_every: int) -> tuple[np.ndarray, np.ndarray]:
    """prior_obs_mae per step and the persistence predictor's error on the same dims."""
    config = config_from_dict({"D": 64, "B": 16, **config_values})
    state = init_state(config)
    env = LinearBlockEnv(config, seed=7)
    agent, persistence = [], []
    previous = None
    for obs in env.stream(STEPS, rest_every=rest_every):
        trace = step(state, obs)
        assert trace.prior_obs_mae is not None
        agent.append(trace.prior_obs_mae)
        if previous is not None:
            dims = trace.observed
            persistence.append(float(np.mean(np.abs(obs.cue.values[dims] - previous[dims]))))
        previous = obs.cue.values
    return np.array(agent), np.array(persistence)


@pytest.mark.parametrize(
    "config_values, rest_every",
    [
        pytest.param({}, 100, id="defaults-with-REST"),  # SPAWN fits replace frozen incumbents
        pytest.param({"theta_learn": 100.0}, 0, id="SGD-only"),  # every node responsible, no REST
    ],
)
def test_agent_learns_linear_block_dynamics(config_values, rest_every):
    agent, persistence = run(config_values, rest_every)
    first, last = agent[:200].mean(), agent[-200:].mean()
    assert last <= first / 5
    assert last < persistence[-200:].mean()


def test_without_rest_or_responsibility_defaults_do_not_learn():
    """Documented limitation of decision 3 with the §1b defaults: W starts at 0, the error
    (~0.47) exceeds theta_learn = 0.15 after the 10 warm-up updates, so SGD stops; only
    REST (SPAWN) brings learning back."""
    agent, _ = run({}, 0)
    assert agent[-200:].mean() > 0.8 * agent[:200].mean()
