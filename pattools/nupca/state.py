"""The agent state: everything one step reads and writes, as plain arrays.

Why: ``nupca-step`` runs one step per observation and must be able to stop and resume
anywhere (checkpoints), so the whole state — buffer, cached prior, fovea statistics,
working set, expert library, per-dim observation memory (last-seen value and step,
velocity, running one-step change) and REST memory — is a set of typed arrays that the codec
writes as they are (docs/agent.md, I/O). The prior's variance is kept as a precision
(1/σ², 0 meaning unknown), the quantity fusion produces, so a saved state holds no
infinity and reloads to the same bits. Derived structures (block partition, residual-
covariance offsets, per-block incumbents) are rebuilt from the arrays, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pattools.nupca.blocks import BlockPartition, build_blocks
from pattools.nupca.config import NupcaConfig
from pattools.nupca.experts import ExpertLibrary, incumbent_index, init_library

_I64 = np.int64
_F64 = np.float64


@dataclass
class RestMemory:
    """Per-block residual bookkeeping for structural edits (reference §9.5) and the queue."""

    persist: np.ndarray  # float64[B]: persistent residual R_b
    visits: np.ndarray  # int64[B]
    last_update: np.ndarray  # int64[B]
    res_mean: np.ndarray  # float64[D]: EMA of e over each block's dims
    res_cov: np.ndarray  # float64[Σ n_b²]: per-block EMA covariance, row-major
    res_n: np.ndarray  # int64[B]
    tr_tau: np.ndarray  # int64[cap, B]: step of each stored transition
    tr_prev: np.ndarray  # float64[cap, D]: x(t−1) over the block's dims
    tr_next: np.ndarray  # float64[cap, D]: x(t) over the block's dims
    tr_obs: np.ndarray  # uint8[cap, D]: which of the block's dims were observed at t
    tr_count: np.ndarray  # int64[B]: transitions ever stored per block
    q_kind: np.ndarray  # int64[Q]: proposal kind (see rest.py)
    q_a: np.ndarray  # int64[Q]: first node id or -1
    q_b: np.ndarray  # int64[Q]: second node id or -1
    q_block: np.ndarray  # int64[Q]: block or -1
    q_priority: np.ndarray  # float64[Q]


@dataclass
class NupcaState:
    config: NupcaConfig
    t: int
    x_last: np.ndarray  # float64[D]: posterior x(t−1) on entry
    x_prior: np.ndarray  # float64[D]: prior x̂(t−1 | t−2)
    observed_dims: np.ndarray  # int64[]: O_{t−1}, sorted
    has_cache: bool  # whether a cached prediction exists (false at t = 0)
    yhat: np.ndarray  # float64[D]: cached prior x̂(t | t−1)
    yhat_prec: np.ndarray  # float64[D]: its precision, 0 where the variance is infinite
    seen_value: np.ndarray  # float64[D]: ℓ_k, the value of dim k when last observed (0 before)
    seen_step: np.ndarray  # int64[D]: τ_k, the step it was last observed (−1: never)
    velocity: np.ndarray  # float64[D]: u_k, per-step change between its last two observations
    change_scale: np.ndarray  # float64[D]: s_k, EMA of |y − ℓ_k| (last-seen persistence error)
    fovea_residual: np.ndarray  # float64[B]: r_b
    fovea_age: np.ndarray  # float64[B]: steps since last observed
    fovea_blocks: np.ndarray  # int64[]: F_{t−1} in selection order
    active: np.ndarray  # int64[]: A_{t−1} node ids in selection order
    library: ExpertLibrary
    rest: RestMemory
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def D(self) -> int:
        return self.config.D

    @property
    def partition(self) -> BlockPartition:
        part = self._derived.get("partition")
        if part is None:
            part = build_blocks(self.config)
            self._derived["partition"] = part
        return part

    @property
    def cov_ptr(self) -> np.ndarray:
        ptr = self._derived.get("cov_ptr")
        if ptr is None:
            ptr = covariance_offsets(self.partition)
            self._derived["cov_ptr"] = ptr
        return ptr

    def incumbents(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-block incumbent rows (CSR); cached until the library changes."""
        key = ("incumbents", id(self.library))
        value = self._derived.get(key)
        if value is None:
            value = incumbent_index(self.library, self.partition.count)
            self._derived[key] = value
        return value

    def out_degree(self) -> np.ndarray:
        """deg⁺ per library row; cached until the library changes."""
        key = ("degree", id(self.library))
        value = self._derived.get(key)
        if value is None:
            value = self.library.out_degree()
            self._derived[key] = value
        return value

    def rows_of_existing(self, node_ids: np.ndarray) -> np.ndarray:
        """Rows of the given ids that still exist, in the given order."""
        library = self.library
        ids = np.asarray(node_ids, dtype=_I64)
        if ids.shape[0] == 0 or library.size == 0:
            return np.zeros(0, dtype=_I64)
        rows = np.searchsorted(library.ids, ids)
        rows = np.minimum(rows, library.size - 1)
        return rows[library.ids[rows] == ids].astype(_I64)

    def queue_keys(self) -> set[tuple[int, int, int, int]]:
        """(kind, a, b, block) of every queued proposal; the caller adds what it appends."""
        keys = self._derived.get("queue_keys")
        if keys is None:
            memory = self.rest
            keys = set(zip(memory.q_kind.tolist(), memory.q_a.tolist(), memory.q_b.tolist(),
                           memory.q_block.tolist()))
            self._derived["queue_keys"] = keys
        return keys

    def forget_queue_keys(self) -> None:
        self._derived.pop("queue_keys", None)

    def replace_library(self, library: ExpertLibrary) -> None:
        self.library = library
        for k in [k for k in self._derived if isinstance(k, tuple)]:
            del self._derived[k]


def covariance_offsets(partition: BlockPartition) -> np.ndarray:
    sizes = partition.sizes
    ptr = np.zeros(sizes.shape[0] + 1, dtype=_I64)
    np.cumsum(sizes * sizes, out=ptr[1:])
    return ptr


def empty_rest_memory(config: NupcaConfig, partition: BlockPartition) -> RestMemory:
    count, dim, cap = partition.count, config.D, config.transition_log_max
    cov_ptr = covariance_offsets(partition)
    return RestMemory(
        persist=np.zeros(count),
        visits=np.zeros(count, dtype=_I64),
        last_update=np.zeros(count, dtype=_I64),
        res_mean=np.zeros(dim),
        res_cov=np.zeros(int(cov_ptr[-1])),
        res_n=np.zeros(count, dtype=_I64),
        tr_tau=np.zeros((cap, count), dtype=_I64),
        tr_prev=np.zeros((cap, dim)),
        tr_next=np.zeros((cap, dim)),
        tr_obs=np.zeros((cap, dim), dtype=np.uint8),
        tr_count=np.zeros(count, dtype=_I64),
        q_kind=np.zeros(0, dtype=_I64),
        q_a=np.zeros(0, dtype=_I64),
        q_b=np.zeros(0, dtype=_I64),
        q_block=np.zeros(0, dtype=_I64),
        q_priority=np.zeros(0),
    )


def init_state(config: NupcaConfig) -> NupcaState:
    """A fresh state at t = 0: zero buffer, no cached prior, initial library (§1)."""
    partition = build_blocks(config)
    dim, count = config.D, partition.count
    state = NupcaState(
        config=config,
        t=0,
        x_last=np.zeros(dim),
        x_prior=np.zeros(dim),
        observed_dims=np.zeros(0, dtype=_I64),
        has_cache=False,
        yhat=np.zeros(dim),
        yhat_prec=np.zeros(dim),
        seen_value=np.zeros(dim),
        seen_step=np.full(dim, -1, dtype=_I64),
        velocity=np.zeros(dim),
        change_scale=np.zeros(dim),
        fovea_residual=np.zeros(count),
        fovea_age=np.full(count, config.initial_age),
        fovea_blocks=np.zeros(0, dtype=_I64),
        active=np.zeros(0, dtype=_I64),
        library=init_library(config, partition),
        rest=empty_rest_memory(config, partition),
    )
    state._derived["partition"] = partition
    return state
