"""One agent step (docs/agent.md §15 order; decisions: docs/agent.md §14).

    F_t      = select_fovea(t−1 tracking)                  fovea blocks
    O_req    = dims of F_t;  cue_t = x_partial ∩ O_req;  O_t = keys(cue_t)
    x_t, Σ_prior, prior_t = complete(cue_t, "perception", prior from cache)
    e_obs    = cue − prior_t on O_t;  innovation = x_t − prior_t
    per-dim memory: last-seen persistence error on O_t, velocity u, running change s
    buffer  ← (x_last = x_t, x_prior = prior_t, observed_dims = O_t)
    salience → activations (lagged) → working set A_t
    fovea tracking and REST bookkeeping from |e_obs|
    REST edits (only on a REST step), then learning (permit_param)
    proposals (operating steps only)
    ŷ, Λ     = fuse(A_t, x_t);  complete(None, "prediction", ŷ) (pass-through)   [decision 9]

``x_full`` and ``periph_full`` are never read on the path to x_t or the prior
(decision 10); with ``allow_full_state`` they feed diagnostics only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pattools.errors import DataError
from pattools.kernels import nupca as K
from pattools.kernels import nupca_experts as KE
from pattools.nupca import rest_edits, rest_proposals
from pattools.nupca.completion import Cue, complete, prior_from_cache, variance_from_precision
from pattools.nupca.observation import Control, Observation
from pattools.nupca.state import NupcaState


@dataclass
class StepTrace:
    t: int
    fovea: np.ndarray  # F_t, ascending
    o_req_size: int
    observed: np.ndarray  # O_t, ascending
    innovation_mean_abs: float
    prior_obs_mae: float | None
    persistence_mae: float | None  # last-seen persistence on O_t
    active: np.ndarray  # A_t ids in selection order
    weights: np.ndarray  # a_j per A_t entry
    load: float
    L_eff: float
    learned: np.ndarray  # ids that took a learning step
    rest: bool
    edits: list[dict] = field(default_factory=list)
    queue_size: int = 0
    full_prior_mae: float | None = None  # diagnostics only (allow_full_state with x_full)
    x_t: np.ndarray | None = None
    prior: np.ndarray | None = None
    yhat: np.ndarray | None = None
    yhat_precision: np.ndarray | None = None


def tau_effective(config, control: Control) -> float:
    """τ_eff from the lagged arousal and need (docs/agent.md §9.2)."""
    play = min(max(control.arousal * (1.0 - control.need) * (1.0 - control.threat), 0.0), 1.0)
    tau = config.tau_a / max(1.0 + config.beta_sharp * control.need, 1e-6) * (1.0 + config.beta_open * play)
    return min(max(tau, config.tau_min), config.tau_max)


def permit_param(config, control: Control, rest_t: bool) -> bool:
    """enable_learning ∧ ¬REST ∧ ¬freeze ∧ the lagged control gates (docs/agent.md §11.1)."""
    x_c = config.B_rt if control.x_C is None else control.x_C
    return bool(
        config.enable_learning
        and not rest_t
        and not control.threat >= config.chi_th
        and x_c > config.tau_C_edit
        and control.arousal < config.theta_ar_panic
        and control.rawE > config.tau_E_edit
        and control.rawD > config.tau_D_edit
    )


def salience(state: NupcaState, observed: np.ndarray, n_observed: int) -> np.ndarray:
    """u_j = α_π·π_j + α_deg·deg⁺_j / max(1, max deg⁺) + α_rel·rel_j for every node."""
    config, library = state.config, state.library
    rel = K.node_relevance(library.out_ptr, library.out_idx, observed, n_observed)
    degree = state.out_degree()
    top = max(1, int(degree.max())) if degree.shape[0] else 1
    return (
        config.alpha_pi * np.clip(library.pi, 0.0, 1.0)
        + config.alpha_deg * (degree / top)
        + config.alpha_ctx_relevance * rel
    )


def select_working_set(
    state: NupcaState, activation: np.ndarray, has_activation: np.ndarray, fovea: np.ndarray,
    block_key: np.ndarray, observed_blocks: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """A_t rows in selection order and their weights a_j (docs/agent.md §9.3, decision 1)."""
    config, library = state.config, state.library
    size = library.size
    anchor_rows = np.flatnonzero(library.anchor).astype(np.int64)
    prev_rows = state.rows_of_existing(state.active)
    excluded = library.anchor.copy()
    excluded[prev_rows] = 1
    inc_ptr, inc_rows = state.incumbents()
    retrieved = K.retrieval_candidates(fovea, block_key, inc_ptr, inc_rows, excluded, config.max_candidates)
    in_pool = np.zeros(size, dtype=np.bool_)
    in_pool[prev_rows] = True
    in_pool[retrieved] = True
    if config.working_set_linger_steps > 0:
        in_pool |= (state.t - library.last_active) <= config.working_set_linger_steps
    in_pool[anchor_rows] = False
    forced = np.zeros(0, dtype=np.int64)
    if config.must_include_observed and observed_blocks is not None and observed_blocks.size:
        picks = [inc_rows[inc_ptr[b] : inc_ptr[b + 1]] for b in observed_blocks]
        forced = np.unique(np.concatenate(picks)).astype(np.int64) if picks else forced
        in_pool[forced] = False
    pool = np.flatnonzero(in_pool).astype(np.int64)
    score = activation * library.pi / library.cost
    rows, _ = K.greedy_select(anchor_rows, forced, pool, score, library.cost, config.N_max, config.load_budget)
    weights = activation[rows].copy()
    missing_anchor = (library.anchor[rows] == 1) & (has_activation[rows] == 0)
    weights[missing_anchor] = 1.0
    return rows, weights


def step(state: NupcaState, obs: Observation, *, full: bool = False) -> StepTrace:
    """Advance ``state`` by one observation (in place) and return the step's trace."""
    config = state.config
    t = state.t
    x_prev = state.x_last
    observed_prev = np.zeros(config.D, dtype=np.uint8)
    observed_prev[state.observed_dims] = 1
    control = obs.control or Control()
    rest_t = bool(obs.rest)

    chosen, block_key, requested = _fovea(state)  # (1)
    perceived = _perceive(state, obs, requested)  # (2) (4) (5) (6)
    selected = _working_set(state, perceived, control, chosen, block_key)  # (7)
    rows, weights = selected.rows, selected.weights
    blocks_seen = _track(state, perceived, x_prev, observed_prev)  # (8)

    # REST edits (decision 15), before learning and fusion (decision 9)
    edits: list[dict] = []
    if rest_t:
        edits = rest_edits.process_queue(state)
        rows = state.rows_of_existing(state.active)
        state.active = state.library.ids[rows].copy()

    learned = _learn(state, rows, perceived, x_prev, observed_prev, permit_param(config, control, rest_t))
    if not rest_t:
        rest_proposals.propose(state, rows, blocks_seen)
    yhat, precision = _predict(state, rows, perceived.x_t, t)  # (9)
    state.fovea_blocks = chosen
    state.t = t + 1

    trace = StepTrace(
        t=t,
        fovea=np.sort(chosen),
        o_req_size=int(np.count_nonzero(requested)),
        observed=perceived.obs_idx.copy(),
        innovation_mean_abs=perceived.innovation_mean_abs,
        prior_obs_mae=perceived.prior_obs_mae,
        persistence_mae=perceived.persistence_mae,
        active=selected.active_ids,
        weights=weights,
        load=selected.load,
        L_eff=selected.l_eff,
        learned=learned,
        rest=rest_t,
        edits=edits,
        queue_size=int(state.rest.q_kind.shape[0]),
        full_prior_mae=perceived.full_prior_mae,
    )
    if full:
        trace.x_t = perceived.x_t.copy()
        trace.prior = perceived.prior_t.copy()
        trace.yhat = yhat.copy()
        trace.yhat_precision = precision.copy()
    return trace


@dataclass
class _Perceived:
    """What perception made of this step's cue (steps 2, 4 and 5)."""

    obs_idx: np.ndarray  # O_t
    obs_vals: np.ndarray
    x_t: np.ndarray
    prior_t: np.ndarray
    err: np.ndarray  # e_obs on O_t, zero elsewhere
    observed: np.ndarray  # 0/1 per dim: O_t
    velocity_prev: np.ndarray  # u before this step's tracking
    gap: np.ndarray
    innovation_mean_abs: float
    prior_obs_mae: float | None
    persistence_mae: float | None
    full_prior_mae: float | None


@dataclass
class _Selected:
    """The working set A_t (step 7)."""

    rows: np.ndarray
    weights: np.ndarray
    active_ids: np.ndarray
    load: float
    l_eff: float


def _fovea(state: NupcaState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(1) fovea blocks from t−1 tracking, their scores, and O_req as a mask over dims."""
    config, partition = state.config, state.partition
    use_age = config.fovea_use_age and not config.fovea_residual_only
    block_key = K.block_scores(state.fovea_residual, state.fovea_age, config.alpha_cov, use_age)
    chosen = K.select_fovea(
        block_key, state.fovea_age, partition.norm_cost, partition.peripheral,
        float(config.fovea_blocks_per_step), config.coverage_cap_G,
    )
    in_fovea = np.zeros(partition.count, dtype=np.bool_)
    in_fovea[chosen] = True
    return chosen, block_key, in_fovea[partition.block_of_dim]


def _perceive(state: NupcaState, obs: Observation, requested: np.ndarray) -> _Perceived:
    """(2) the cue filtered to O_req, (4) completion in perception mode, (5) metrics and
    per-dim tracking, (6) the buffer."""
    config = state.config
    dim = config.D
    keep = requested[obs.cue.dims]
    obs_idx = obs.cue.dims[keep]
    obs_vals = obs.cue.values[keep]

    prior, prior_var = prior_from_cache(state)
    x_t, _sigma_prior, prior_t = complete(Cue(obs_idx, obs_vals), "perception", prior, prior_var)

    err = np.zeros(dim)
    err[obs_idx] = obs_vals - prior_t[obs_idx]
    innovation = x_t - prior_t
    n_obs = int(obs_idx.shape[0])
    innovation_mean_abs = float(np.mean(np.abs(innovation))) if dim else 0.0
    prior_obs_mae = float(np.mean(np.abs(err[obs_idx]))) if n_obs else None
    velocity_prev = state.velocity.copy()
    persistence_sum, gap = KE.track_dims(obs_idx, obs_vals, state.t, state.seen_value, state.seen_step,
                                        state.velocity, state.change_scale, config.scale_ema)
    persistence_mae = persistence_sum / n_obs if n_obs else None
    full_prior_mae = None
    if obs.allow_full_state and obs.x_full is not None:
        full_prior_mae = float(np.mean(np.abs(obs.x_full - prior_t)))

    state.x_prior = prior_t
    state.x_last = x_t
    state.observed_dims = obs_idx
    observed = np.zeros(dim, dtype=np.uint8)
    observed[obs_idx] = 1
    return _Perceived(obs_idx, obs_vals, x_t, prior_t, err, observed, velocity_prev, gap, innovation_mean_abs,
                      prior_obs_mae, persistence_mae, full_prior_mae)


def _working_set(state: NupcaState, perceived: _Perceived, control: Control, chosen: np.ndarray,
                 block_key: np.ndarray) -> _Selected:
    """(7) salience, lagged activations and the working set A_t (logged as active)."""
    config, partition, library = state.config, state.partition, state.library
    score_now = salience(state, perceived.observed, int(perceived.obs_idx.shape[0]))
    activation, has_activation = K.activations(
        library.score_prev, library.score_valid, score_now, config.theta_a, tau_effective(config, control)
    )
    library.score_prev[:] = score_now
    library.score_valid[:] = 1
    observed_blocks = None
    if config.must_include_observed:
        observed_blocks = np.unique(partition.block_of_dim[perceived.obs_idx])
    rows, weights = select_working_set(state, activation, has_activation, chosen, block_key, observed_blocks)
    cost = library.cost[rows]
    load = float(np.sum(cost))
    l_eff = float(np.sum(weights * cost))
    active_ids = library.ids[rows].copy()
    state.active = active_ids
    K.log_activations(rows, weights, state.t, library.act_t, library.act_a, library.act_count, library.last_active)
    return _Selected(rows, weights, active_ids, load, l_eff)


def _track(state: NupcaState, perceived: _Perceived, x_prev: np.ndarray, observed_prev: np.ndarray) -> np.ndarray:
    """(8) fovea tracking and REST bookkeeping from |e_obs|; the blocks observed this step."""
    config, partition, memory = state.config, state.partition, state.rest
    abs_err = np.abs(perceived.err)
    blocks_seen = K.track_blocks(perceived.observed, abs_err, state.fovea_residual, state.fovea_age, partition.start,
                                 config.fovea_residual_ema)
    K.residual_bookkeeping(
        blocks_seen, perceived.observed, observed_prev, perceived.err, x_prev, perceived.x_t, partition.start,
        state.cov_ptr, state.t, config.beta_R, config.split_stats_beta, memory.persist, memory.visits,
        memory.last_update, memory.res_mean, memory.res_cov, memory.res_n, memory.tr_tau, memory.tr_prev,
        memory.tr_next, memory.tr_obs, memory.tr_count,
    )
    return blocks_seen


def _learn(state: NupcaState, rows: np.ndarray, perceived: _Perceived, x_prev: np.ndarray, observed_prev: np.ndarray,
           permit: bool) -> np.ndarray:
    """Learning (decisions 2, 3 revised, 13): the ids of the nodes that took a step."""
    config, library = state.config, state.library
    status, _errors = KE.learn_rows(
        rows, x_prev, perceived.velocity_prev, perceived.gap, perceived.x_t, perceived.observed, observed_prev,
        state.change_scale, library.out_ptr, library.out_idx, library.in_ptr, library.in_idx, library.w_ptr,
        library.w, library.diag, library.bias, library.vel, library.vel_p, library.var, library.p_ptr, library.p,
        library.p0, library.n_updates, library.n_obs, library.pi, permit, config.rls_forget, config.rls_delta,
        config.learn_bias, config.learn_from_rollouts, config.sigma_ema, config.theta_learn, config.learn_warmup,
        config.reliability_rate, config.train_active_only, config.train_active_threshold,
        config.train_weight_by_value, config.train_value_power,
    )
    return library.ids[rows[status == 1]]


def _predict(state: NupcaState, rows: np.ndarray, x_t: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(9) the prediction for t+1: fusion over A_t, then Complete in prediction mode; cached."""
    config, library = state.config, state.library
    yhat, precision = KE.fuse_rows(
        rows, x_t, state.velocity, library.out_ptr, library.out_idx, library.in_ptr, library.in_idx,
        library.w_ptr, library.w, library.diag, library.bias, library.vel, library.var, state.change_scale,
        config.sigma_floor,
    )
    if not (np.all(np.isfinite(yhat)) and np.all(np.isfinite(precision))):
        raise DataError(f"learning diverged at step {t}: the prediction is no longer finite "
                        f"(raise rls_delta or rls_forget, now {config.rls_delta:g} and {config.rls_forget:g})",
                        path="config.rls_forget")
    yhat, _var, _ = complete(None, "prediction", yhat, variance_from_precision(precision))
    state.yhat = yhat
    state.yhat_prec = precision
    state.has_cache = True
    return yhat, precision
