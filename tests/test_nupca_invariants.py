"""Invariants of the agent step over random states and cues (seed §1–§3, docs/agent.md)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools.nupca import codec
from pattools.nupca.completion import Cue, complete, prior_from_cache
from pattools.nupca.config import config_from_dict
from pattools.nupca.observation import Observation
from pattools.nupca.state import init_state
from pattools.nupca.step import step

SETTINGS = settings(max_examples=25, deadline=None)
EDIT_HEAVY = {"theta_alias": 0.0, "mdl_beta": 0.01, "split_independence_threshold": 1.0, "t_inactive": 15,
              "K": 5, "theta_spawn": 0.0, "split_min_samples": 5, "merge_min_history": 5}


def random_config(rng: np.random.Generator, heavy: bool = False) -> dict:
    dim = int(rng.integers(4, 40))
    blocks = int(rng.integers(1, max(2, dim // 2) + 1))
    values = {
        "D": dim,
        "B": blocks,
        "periph_blocks": int(rng.integers(0, min(2, blocks) + 1)),
        "fovea_blocks_per_step": float(rng.uniform(0.5, blocks)),
        "coverage_cap_G": int(rng.integers(0, 12)),
        "N_max": int(rng.integers(2, 10)),
        "max_candidates": int(rng.integers(0, 6)),
        "theta_learn": float(rng.uniform(0.05, 5.0)),
        "rls_forget": float(rng.uniform(0.9, 1.0)),
        "rls_delta": float(rng.uniform(0.1, 50.0)),
        "learn_bias": bool(rng.integers(0, 2)),
        "transport_span_blocks": int(rng.integers(0, 2)),
        "must_include_observed": bool(rng.integers(0, 2)),
        "working_set_linger_steps": int(rng.integers(0, 3)),
    }
    if heavy:
        values.update(EDIT_HEAVY)
    return values


def random_obs(rng: np.random.Generator, dim: int, rest: bool = False) -> Observation:
    dims = np.flatnonzero(rng.uniform(size=dim + 4) < rng.uniform(0.2, 1.0)).astype(np.int64)
    dims = dims[dims < dim + 2]  # a few out-of-range dims are dropped by the filter
    values = rng.normal(size=dims.shape[0])
    keep = dims < dim
    return Observation(cue=Cue(dims[keep], values[keep]), rest=rest)


def random_state(seed: int, heavy: bool = False):
    rng = np.random.default_rng(seed)
    state = init_state(config_from_dict(random_config(rng, heavy)))
    for _ in range(int(rng.integers(0, 60))):
        step(state, random_obs(rng, state.D, rest=bool(rng.uniform() < 0.1)))
    return state, rng


@given(st.integers(0, 2**31), st.sampled_from(["perception", "recall"]))
@SETTINGS
def test_complete_clamps_cue_and_keeps_prior(seed, mode):
    rng = np.random.default_rng(seed)
    dim = int(rng.integers(1, 30))
    prior = rng.normal(size=dim)
    var = np.where(rng.uniform(size=dim) < 0.3, np.inf, rng.uniform(0.1, 2, size=dim))
    dims = np.flatnonzero(rng.uniform(size=dim) < 0.5)
    cue = {int(k): float(v) for k, v in zip(dims, rng.normal(size=dims.shape[0]))}
    x, sigma, prior_out = complete(cue, mode, prior, var)
    for k in range(dim):
        assert x[k] == (cue[k] if k in cue else prior[k])
    assert np.array_equal(prior_out, prior) and np.array_equal(sigma, var)
    # dense-with-NaN cue is the same cue
    dense = np.full(dim, np.nan)
    dense[dims] = [cue[int(k)] for k in dims]
    assert np.array_equal(complete(dense, mode, prior, var)[0], x)
    # prediction mode is a pass-through
    y, sigma_y, prior_y = complete(cue, "prediction", prior, var)
    assert np.array_equal(y, prior) and np.array_equal(sigma_y, var) and np.array_equal(prior_y, prior)


@given(st.integers(0, 2**31))
@SETTINGS
def test_step_invariants(seed):
    state, rng = random_state(seed)
    config = state.config
    cached_prior, _ = prior_from_cache(state)
    last_seen = state.seen_value.copy()
    obs = random_obs(rng, state.D)
    trace = step(state, obs, full=True)
    partition = state.partition
    # O_t ⊆ O_req, and O_t is exactly the cue filtered to O_req
    requested = np.isin(partition.block_of_dim, trace.fovea)
    assert int(requested.sum()) == trace.o_req_size
    assert np.all(requested[trace.observed])
    assert trace.observed.tolist() == [int(k) for k in obs.cue.dims if requested[k]]
    # prior = the cached prediction; x_post = cue on O_t, prior elsewhere
    assert np.array_equal(trace.prior, cached_prior)
    cue = dict(zip(obs.cue.dims.tolist(), obs.cue.values.tolist()))
    on = np.zeros(state.D, dtype=bool)
    on[trace.observed] = True
    assert np.array_equal(trace.x_t[~on], trace.prior[~on])
    assert trace.x_t[on].tolist() == [cue[k] for k in trace.observed.tolist()]
    assert np.array_equal(state.x_last, trace.x_t) and np.array_equal(state.x_prior, trace.prior)
    # working set: unique, within both budgets, anchors first
    ids = trace.active.tolist()
    assert len(set(ids)) == len(ids)
    assert len(ids) <= config.N_max
    assert trace.load <= config.load_budget + 1e-9
    library = state.library
    anchors = [i for i in ids if (r := library.row_of(i)) is not None and library.anchor[r]]
    assert ids[: len(anchors)] == anchors
    # fusion: uncovered dims keep x_t with precision 0 (infinite variance)
    uncovered = trace.yhat_precision == 0
    assert np.array_equal(trace.yhat[uncovered], trace.x_t[uncovered])
    assert np.all(trace.yhat_precision >= 0)
    # e_obs / innovation metrics
    if trace.observed.shape[0]:
        errors = np.abs(trace.x_t[on] - trace.prior[on])
        assert trace.prior_obs_mae == np.mean(errors)
        # the free baseline: last-seen persistence on the same dims
        np.testing.assert_allclose(trace.persistence_mae, np.mean(np.abs(trace.x_t[on] - last_seen[on])), rtol=1e-12)
        assert np.array_equal(state.seen_value[on], trace.x_t[on]) and np.all(state.seen_step[on] == state.t - 1)
    else:
        assert trace.prior_obs_mae is None and trace.persistence_mae is None
    assert trace.innovation_mean_abs == np.mean(np.abs(trace.x_t - trace.prior))


@given(st.integers(0, 2**31))
@SETTINGS
def test_fusion_is_precision_weighted_mean_of_the_working_set(seed):
    state, rng = random_state(seed)
    trace = step(state, random_obs(rng, state.D), full=True)
    library = state.library
    prec = np.zeros(state.D)
    acc = np.zeros(state.D)
    for node_id in state.active.tolist():
        node = library.node(library.row_of(node_id))
        floor = (state.config.sigma_floor * state.change_scale[node.out]) ** 2
        lam = 1.0 / np.maximum(np.maximum(node.var, floor), 1e-300)
        np.add.at(prec, node.out, lam)
        np.add.at(acc, node.out, lam * node.predict(trace.x_t, state.velocity))
    covered = prec > 0
    np.testing.assert_allclose(trace.yhat_precision, prec, rtol=1e-12)
    np.testing.assert_allclose(trace.yhat[covered], acc[covered] / prec[covered], rtol=1e-9, atol=1e-12)
    assert np.array_equal(trace.yhat[~covered], trace.x_t[~covered])


@given(st.integers(0, 2**31))
@settings(max_examples=15, deadline=None)
def test_rest_keeps_dag_hygiene(seed):
    state, rng = random_state(seed, heavy=True)
    for i in range(40):
        trace = step(state, random_obs(rng, state.D, rest=i % 8 == 7))
        library = state.library
        ids = set(library.ids.tolist())
        removed = {n for e in trace.edits for n in e["removed"]}
        assert not removed & ids
        for parent, child in library.edges.tolist():
            assert parent in ids and child in ids and parent != child
        assert set(state.active.tolist()) <= ids
        assert len(ids) == library.size  # unique ids
        assert library.size == 0 or library.ids.max() < library.next_node_id


def test_full_state_channels_never_change_x_post_or_prior():
    rng = np.random.default_rng(3)
    config = config_from_dict({"D": 40, "B": 10, "fovea_blocks_per_step": 4})
    plain, loud = init_state(config), init_state(config)
    for t in range(120):
        obs = random_obs(rng, 40, rest=t % 50 == 49)
        noisy = Observation(cue=obs.cue, rest=obs.rest, x_full=rng.normal(size=40) * 100,
                            periph_full=rng.normal(size=7) * 100, allow_full_state=True)
        a = step(plain, obs, full=True)
        b = step(loud, noisy, full=True)
        assert np.array_equal(a.x_t, b.x_t) and np.array_equal(a.prior, b.prior)
        assert np.array_equal(a.yhat, b.yhat) and a.active.tolist() == b.active.tolist()
        assert b.full_prior_mae is not None and a.full_prior_mae is None
    assert codec.state_to_record(plain, "cbor") == codec.state_to_record(loud, "cbor")
