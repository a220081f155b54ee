"""REST proposals: what an operating step queues for the next REST step (docs/agent.md §13.1).

The kinds, their conditions and how a REST step evaluates them are described in
``pattools.nupca.rest_edits``; here each kind's candidates are found (PRUNE and SPAWN over
every node and block, SPLIT and MERGE over the working set and the blocks observed this
step), ranked, de-duplicated against the queue by (kind, node ids, block) and appended
while the queue has room.
"""

from __future__ import annotations

import numpy as np

from pattools.kernels import nupca_rest as KR
from pattools.nupca.experts import ExpertLibrary

PRUNE, MERGE, SPAWN, SPLIT = 0, 1, 2, 3
KIND_NAMES = ("PRUNE", "MERGE", "SPAWN", "SPLIT")
RELIABLE_INCUMBENT = 0.3


def propose(state, rows: np.ndarray, seen: np.ndarray) -> None:
    """Queue this operating step's new proposals (docs/agent.md §13.1, decision 15).

    Candidates are ranked by priority (desc; ties by kind, ids, block), those already
    queued are skipped, and at most max_proposals_per_step new ones are appended while
    the queue has room. PRUNE and SPAWN scan every node / block (vectorised); SPLIT and
    MERGE look at the working set's nodes and the blocks observed this step, the only
    ones whose statistics changed.
    """
    config = state.config
    memory = state.rest
    room = min(config.max_queue - int(memory.q_kind.shape[0]), config.max_proposals_per_step)
    if room <= 0:
        return
    found = (_prune_candidates(state), _spawn_candidates(state), _split_candidates(state, rows, seen),
             _merge_candidates(state, seen))
    parts = [part for part in found if part is not None]
    if parts:
        _enqueue(state, parts, room)


_Candidates = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _candidates(kind: int, first: np.ndarray, second: np.ndarray, block: np.ndarray,
                priority: np.ndarray) -> _Candidates | None:
    """(kind, first id, second id, block, priority) columns, or None when there are none."""
    if not first.shape[0]:
        return None
    return (np.full(first.shape[0], kind, dtype=np.int64), first.astype(np.int64), second.astype(np.int64),
            block.astype(np.int64), priority.astype(np.float64))


def _prune_candidates(state) -> _Candidates | None:
    """Non-anchor nodes below θ_cull or idle for more than t_inactive steps."""
    config, library = state.config, state.library
    idle = state.t - library.last_active
    unreliable = library.pi < config.theta_cull
    low = np.flatnonzero((library.anchor == 0) & (library.footprint >= 0) & (unreliable | (idle > config.t_inactive)))
    if not low.shape[0]:
        return None
    priority = np.maximum(np.where(unreliable[low], 1.0 - library.pi[low], 0.0),
                          idle[low] / max(config.t_inactive, 1))
    return _candidates(PRUNE, library.ids[low], np.full(low.shape[0], -1), library.footprint[low], priority)


def _spawn_candidates(state) -> _Candidates | None:
    """Blocks visited K times with a persistent residual, unless a reliable idle incumbent waits."""
    config, memory = state.config, state.rest
    ready = np.flatnonzero((memory.visits >= config.K) & (memory.persist > config.theta_spawn))
    if not ready.shape[0]:
        return None
    stale = ready[state.t - memory.last_update[ready] > config.incumbent_activity_window]
    if stale.shape[0]:
        inc_ptr, inc_rows = state.incumbents()
        drop = {int(b) for b in stale if _spawn_suppressed(state, int(b), inc_ptr, inc_rows)}
        ready = np.array([b for b in ready.tolist() if b not in drop], dtype=np.int64)
    none = np.full(ready.shape[0], -1)
    return _candidates(SPAWN, none, none, ready, memory.persist[ready])


def _split_candidates(state, rows: np.ndarray, seen: np.ndarray) -> _Candidates | None:
    """The working set's non-anchor nodes of observed, well-sampled blocks with independent halves."""
    config, library, memory = state.config, state.library, state.rest
    candidates = rows[(library.anchor[rows] == 0) & (library.footprint[rows] >= 0)]
    if not candidates.shape[0]:
        return None
    cross = KR.split_scan(
        candidates, library.footprint, library.out_ptr, library.out_idx, state.partition.start,
        state.cov_ptr, memory.res_cov, memory.res_n, seen, config.split_min_samples,
        config.split_independence_threshold,
    )
    hit = candidates[cross >= 0.0]
    return _candidates(SPLIT, library.ids[hit], np.full(hit.shape[0], -1), library.footprint[hit],
                       1.0 - cross[cross >= 0.0])


def _merge_candidates(state, seen: np.ndarray) -> _Candidates | None:
    """Pairs of incumbents of an observed block whose activation logs correlate above θ_merge."""
    config, library = state.config, state.library
    inc_ptr, inc_rows = state.incumbents()
    crowded = np.flatnonzero(seen.astype(bool) & (np.diff(inc_ptr) >= 2))
    if not crowded.shape[0]:
        return None
    pair_a, pair_b, pair_block = [], [], []
    for b in crowded.tolist():
        members = inc_rows[inc_ptr[b] : inc_ptr[b + 1]].tolist()
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                pair_a.append(members[i])
                pair_b.append(members[j])
                pair_block.append(b)
    rows_a = np.array(pair_a, dtype=np.int64)
    rows_b = np.array(pair_b, dtype=np.int64)
    corr = KR.activation_correlations(rows_a, rows_b, library.act_t, library.act_a, library.act_count,
                                      config.merge_min_history)
    hit = np.flatnonzero(corr > config.theta_merge)
    return _candidates(MERGE, library.ids[rows_a[hit]], library.ids[rows_b[hit]], np.array(pair_block)[hit], corr[hit])


def _enqueue(state, parts: list[_Candidates], room: int) -> None:
    """Append up to ``room`` of the candidates not yet queued, best first."""
    memory = state.rest
    kinds, firsts, seconds, blocks, priorities = (np.concatenate(column) for column in zip(*parts))
    order = np.lexsort((blocks, seconds, firsts, kinds, -priorities))
    queued = state.queue_keys()
    take = []
    for i in order.tolist():
        key = (int(kinds[i]), int(firsts[i]), int(seconds[i]), int(blocks[i]))
        if key in queued:
            continue
        queued.add(key)
        take.append(i)
        if len(take) == room:
            break
    if not take:
        return
    pick = np.array(take, dtype=np.int64)
    memory.q_kind = np.concatenate([memory.q_kind, kinds[pick]])
    memory.q_a = np.concatenate([memory.q_a, firsts[pick]])
    memory.q_b = np.concatenate([memory.q_b, seconds[pick]])
    memory.q_block = np.concatenate([memory.q_block, blocks[pick]])
    memory.q_priority = np.concatenate([memory.q_priority, priorities[pick]])


def _spawn_suppressed(state, block: int, inc_ptr: np.ndarray, inc_rows: np.ndarray) -> bool:
    """No SPAWN for a block unobserved for a while that has a reliable idle incumbent."""
    config, library, memory = state.config, state.library, state.rest
    window = config.incumbent_activity_window
    if state.t - int(memory.last_update[block]) <= window:
        return False
    for r in inc_rows[inc_ptr[block] : inc_ptr[block + 1]]:
        if library.pi[r] >= RELIABLE_INCUMBENT and state.t - library.last_active[r] > window:
            return True
    return False




def split_partition(state, row: int) -> tuple[np.ndarray, float] | None:
    """(0/1 side per output dim, mean |cross-correlation|) for SPLIT(row), or None."""
    library = state.library
    config = state.config
    block = int(library.footprint[row])
    if block < 0:
        return None
    dims = library.out_dims(row)
    partition = state.partition
    start = int(partition.start[block])
    size = int(partition.start[block + 1]) - start
    if dims.shape[0] < 2:
        return None
    c0 = int(state.cov_ptr[block])
    cov = state.rest.res_cov[c0 : c0 + size * size].reshape(size, size)
    local = dims - start
    sub = np.ascontiguousarray(cov[np.ix_(local, local)])
    side, cross = KR.split_by_fiedler(sub)
    if cross < 0.0 or not cross < config.split_independence_threshold:
        return None
    return side, float(cross)
