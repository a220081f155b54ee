"""Agent configuration: every default of docs/agent.md §1b that still applies.

Why: the original reads ~200 loosely typed fields with silent fallbacks, and its default
load budget cannot even hold its own global anchor (§17.11). Here the configuration is
one flat, closed set of keys, checked on load: an unknown key, a wrong type, a value out
of range or budgets that cannot hold the anchors are data errors, never silent fixes.
Two defaults depend on the geometry (decision 7): ``L_work_max`` is ``48 +`` the anchors'
total cost and ``initial_block_age`` is ``coverage_cap_G + 1`` when left ``null``, so the
defaults work at every D.

Learning keys follow the revised decision 3, not §1b: ``theta_learn`` is relative (a
node is responsible while its error on its observed dims is at most ``theta_learn`` times
their running one-step change, an EMA at rate ``scale_ema``); the rule is recursive least
squares with forgetting factor ``rls_forget`` whose first ``P`` is ``I / (rls_delta ·
mean z²)`` over the node's first input ``z`` (a prior toward persistence worth
``rls_delta`` samples; 30 by default, so a node leaves persistence only on steady
evidence), so nothing depends on the data's units; ``sigma_floor`` bounds a node's
standard deviation from below relative to that same running change. §1b's ``lr_expert``
is gone with the LMS step.

Keys of §1b that belong to out-of-scope parts (budget/rollout/action, macrostate, multi-
world, motion probes, context gist, coverage debts, transport search) are not accepted.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import cached_property

from pattools.errors import DataError, expected_found


@dataclass(frozen=True)
class NupcaConfig:
    # geometry (§2)
    D: int = 1024
    B: int = 256
    periph_blocks: int = 0
    periph_bins: int = 0
    grid_side: int = 0
    grid_channels: int = 0
    # fovea (§3, §9.4)
    fovea_blocks_per_step: float = 64.0
    coverage_cap_G: int = 50
    alpha_cov: float = 0.10
    fovea_residual_ema: float = 0.10
    fovea_use_age: bool = True
    fovea_residual_only: bool = False
    initial_block_age: float | None = None
    # salience (§9.2)
    alpha_pi: float = 0.4
    alpha_deg: float = 0.2
    alpha_ctx_relevance: float = 0.4
    tau_a: float = 0.5
    tau_min: float = 0.5
    tau_max: float = 5.0
    beta_sharp: float = 2.0
    beta_open: float = 0.10
    theta_a: float = 0.5
    # working set (§9.3)
    N_max: int = 256
    L_work_max: float | None = None
    max_candidates: int = 32
    working_set_linger_steps: int = 0
    must_include_observed: bool = False
    expert_base_cost: float = 1.0
    expert_dim_cost: float = 0.05
    force_block_anchors: bool = False
    transport_span_blocks: int = 0
    # learning (§11, decisions 2, 3 revised, 13)
    enable_learning: bool = True
    rls_forget: float = 0.99
    rls_delta: float = 30.0
    learn_bias: bool = False
    learn_from_rollouts: bool = False
    scale_ema: float = 0.05
    sigma_ema: float = 0.1
    sigma_floor: float = 1e-3
    theta_learn: float = 3.0
    learn_warmup: int = 10
    reliability_rate: float = 0.05
    train_active_only: bool = False
    train_active_threshold: float = 0.0
    train_weight_by_value: bool = False
    train_value_power: float = 1.0
    chi_th: float = 0.90
    tau_C_edit: float = 0.0
    tau_E_edit: float = 0.0
    tau_D_edit: float = 0.0
    theta_ar_panic: float = 0.95
    B_rt: float = 260.0
    # REST and structural edits (§9.5, §13, decision 15)
    max_edits_per_rest_step: int = 32
    max_proposals_per_step: int = 8
    max_queue: int = 256
    beta_R: float = 0.05
    K: int = 32
    theta_spawn: float = 0.20
    mdl_beta: float = 0.10
    epsilon_merge: float = 1e-3
    theta_alias: float = 0.95
    split_stats_beta: float = 0.1
    activation_log_max: int = 200
    transition_log_max: int = 128
    spawn_fit_window: int = 50
    spawn_ridge: float = 1e-3
    theta_cull: float = 0.01
    t_inactive: int = 100
    theta_merge: float = 0.85
    merge_min_history: int = 20
    split_min_samples: int = 30
    split_independence_threshold: float = 0.3
    incumbent_activity_window: int = 50

    # ---- derived values -------------------------------------------------------------

    @property
    def initial_age(self) -> float:
        if self.initial_block_age is None:
            return float(self.coverage_cap_G + 1)
        return float(self.initial_block_age)

    def node_cost(self, dims: int) -> float:
        """Load cost ``L = base + dim_cost·|mask|`` (also the MDL cost of a mask)."""
        return self.expert_base_cost + self.expert_dim_cost * dims

    def anchor_costs(self) -> list[float]:
        """Costs of the anchors an initial library holds (global anchor, block anchors)."""
        from pattools.nupca.blocks import build_blocks

        costs = [self.node_cost(self.D)]
        if self.force_block_anchors:
            partition = build_blocks(self)
            costs.extend(self.node_cost(int(n)) for n in partition.sizes)
        return costs

    @cached_property
    def load_budget(self) -> float:
        """``L_work_max``, defaulting to 48 plus the anchors' total cost (decision 7)."""
        if self.L_work_max is None:
            return 48.0 + sum(self.anchor_costs())
        return float(self.L_work_max)

    def to_dict(self) -> dict:
        return asdict(self)


_BOOL = "boolean"
_INT = "integer"
_NUM = "number"

# key -> (type, minimum, maximum, nullable)
_RULES: dict[str, tuple[str, float | None, float | None, bool]] = {
    "D": (_INT, 1, None, False),
    "B": (_INT, 1, None, False),
    "periph_blocks": (_INT, 0, None, False),
    "periph_bins": (_INT, 0, None, False),
    "grid_side": (_INT, 0, None, False),
    "grid_channels": (_INT, 0, None, False),
    "fovea_blocks_per_step": (_NUM, 0, None, False),
    "coverage_cap_G": (_INT, 0, None, False),
    "alpha_cov": (_NUM, 0, None, False),
    "fovea_residual_ema": (_NUM, 0, 1, False),
    "fovea_use_age": (_BOOL, None, None, False),
    "fovea_residual_only": (_BOOL, None, None, False),
    "initial_block_age": (_NUM, 0, None, True),
    "alpha_pi": (_NUM, None, None, False),
    "alpha_deg": (_NUM, None, None, False),
    "alpha_ctx_relevance": (_NUM, None, None, False),
    "tau_a": (_NUM, 0, None, False),
    "tau_min": (_NUM, 1e-12, None, False),
    "tau_max": (_NUM, 1e-12, None, False),
    "beta_sharp": (_NUM, 0, None, False),
    "beta_open": (_NUM, 0, None, False),
    "theta_a": (_NUM, None, None, False),
    "N_max": (_INT, 1, None, False),
    "L_work_max": (_NUM, 0, None, True),
    "max_candidates": (_INT, 0, None, False),
    "working_set_linger_steps": (_INT, 0, None, False),
    "must_include_observed": (_BOOL, None, None, False),
    "expert_base_cost": (_NUM, 1e-12, None, False),
    "expert_dim_cost": (_NUM, 0, None, False),
    "force_block_anchors": (_BOOL, None, None, False),
    "transport_span_blocks": (_INT, 0, None, False),
    "enable_learning": (_BOOL, None, None, False),
    "rls_forget": (_NUM, 0.5, 1, False),
    "rls_delta": (_NUM, 1e-12, None, False),
    "learn_bias": (_BOOL, None, None, False),
    "learn_from_rollouts": (_BOOL, None, None, False),
    "scale_ema": (_NUM, 1e-6, 1, False),
    "sigma_ema": (_NUM, 0, 1, False),
    "sigma_floor": (_NUM, 1e-300, None, False),
    "theta_learn": (_NUM, 0, None, False),
    "learn_warmup": (_INT, 0, None, False),
    "reliability_rate": (_NUM, 0, 1, False),
    "train_active_only": (_BOOL, None, None, False),
    "train_active_threshold": (_NUM, 0, None, False),
    "train_weight_by_value": (_BOOL, None, None, False),
    "train_value_power": (_NUM, 0, None, False),
    "chi_th": (_NUM, None, None, False),
    "tau_C_edit": (_NUM, None, None, False),
    "tau_E_edit": (_NUM, None, None, False),
    "tau_D_edit": (_NUM, None, None, False),
    "theta_ar_panic": (_NUM, None, None, False),
    "B_rt": (_NUM, None, None, False),
    "max_edits_per_rest_step": (_INT, 0, None, False),
    "max_proposals_per_step": (_INT, 0, None, False),
    "max_queue": (_INT, 0, None, False),
    "beta_R": (_NUM, 0, 1, False),
    "K": (_INT, 0, None, False),
    "theta_spawn": (_NUM, None, None, False),
    "mdl_beta": (_NUM, 0, None, False),
    "epsilon_merge": (_NUM, 0, None, False),
    "theta_alias": (_NUM, 0, None, False),
    "split_stats_beta": (_NUM, 0, 1, False),
    "activation_log_max": (_INT, 1, 65536, False),  # per-node logs are allocated whole:
    "transition_log_max": (_INT, 1, 65536, False),  # a bound keeps a damaged config from exhausting memory
    "spawn_fit_window": (_INT, 1, None, False),
    "spawn_ridge": (_NUM, 1e-12, None, False),
    "theta_cull": (_NUM, None, None, False),
    "t_inactive": (_INT, 0, None, False),
    "theta_merge": (_NUM, None, None, False),
    "merge_min_history": (_INT, 2, None, False),
    "split_min_samples": (_INT, 0, None, False),
    "split_independence_threshold": (_NUM, 0, None, False),
    "incumbent_activity_window": (_INT, 0, None, False),
}

CONFIG_KEYS: tuple[str, ...] = tuple(f.name for f in fields(NupcaConfig))
assert set(CONFIG_KEYS) == set(_RULES), "config rules out of step with the dataclass"


def _check_value(key: str, value: object, path: str) -> object:
    kind, low, high, nullable = _RULES[key]
    where = f"{path}.{key}" if path else key
    if value is None:
        if nullable:
            return None
        raise DataError(expected_found(kind, value), path=where)
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise DataError(expected_found("boolean", value), path=where)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(expected_found(kind, value), path=where)
    if kind == _INT:
        if isinstance(value, float):
            if not value.is_integer():
                raise DataError(expected_found("integer", value), path=where)
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise DataError(expected_found("finite number", value), path=where)
    if low is not None and value < low:
        raise DataError(expected_found(f"{kind} >= {low:g}", value), path=where)
    if high is not None and value > high:
        raise DataError(expected_found(f"{kind} <= {high:g}", value), path=where)
    return value


def config_from_dict(values: dict, *, path: str = "config") -> NupcaConfig:
    """Validated configuration from a JSON object; missing keys take their defaults."""
    if not isinstance(values, dict):
        raise DataError(expected_found("object", values), path=path)
    checked = {}
    for key in sorted(values, key=str):  # key=str: a CBOR byte-string key must not break the sort
        if not isinstance(key, str) or key not in _RULES:
            raise DataError(f"unknown key {key!r}", path=path)
        checked[key] = _check_value(key, values[key], path)
    config = NupcaConfig(**checked)
    check_consistency(config, path=path)
    return config


def check_consistency(config: NupcaConfig, *, path: str = "config") -> None:
    """Cross-key rules: geometry fits, budgets hold the anchors (decision 7)."""
    if config.B > config.D:
        raise DataError(f"expected B <= D, got B {config.B} > D {config.D}", path=f"{path}.B")
    if config.periph_blocks > config.B:
        raise DataError(
            f"expected periph_blocks <= B, got {config.periph_blocks} > {config.B}",
            path=f"{path}.periph_blocks",
        )
    if config.tau_min > config.tau_max:
        raise DataError(
            f"expected tau_min <= tau_max, got {config.tau_min:g} > {config.tau_max:g}",
            path=f"{path}.tau_min",
        )
    grid = max(1, config.grid_side) ** 2 * max(1, config.grid_channels)
    if (config.grid_side or config.grid_channels) and grid > config.D:
        raise DataError(
            f"expected grid_side²·grid_channels <= D, got {grid} > {config.D}",
            path=f"{path}.grid_side",
        )
    anchors = config.anchor_costs()
    anchor_load = sum(anchors)
    if config.L_work_max is not None and config.L_work_max < anchor_load:
        raise DataError(
            f"L_work_max {config.L_work_max:g} cannot hold the anchors' total cost "
            f"{anchor_load:g}",
            path=f"{path}.L_work_max",
        )
    if config.N_max < len(anchors):
        raise DataError(
            f"N_max {config.N_max} cannot hold the {len(anchors)} anchors",
            path=f"{path}.N_max",
        )


def config_with(config: NupcaConfig, **changes: object) -> NupcaConfig:
    """A copy with some keys changed, validated like a loaded configuration."""
    values = config.to_dict()
    values.update(changes)
    return config_from_dict(values)
