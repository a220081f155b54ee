"""REST: structural-edit proposals and their processing with DAG hygiene (docs/agent.md §13).

Operating steps *propose* (``propose``); a REST step (an observation with ``rest: true``
or ``--rest-every N``) *processes* the front of the queue (``process_queue``), up to
``max_edits_per_rest_step`` proposals, each evaluated with the acceptance tests of §13.2
and applied when accepted (decision 15). Proposals are de-duplicated by (kind, node ids,
block) and the queue is bounded by ``max_queue``.

Kinds (condition → edit):
- PRUNE(j): non-anchor with π_j < θ_cull or inactive for > t_inactive steps → remove j.
- MERGE(a, b): non-anchor incumbents of one block whose activation logs share ≥
  merge_min_history steps with Pearson correlation > θ_merge → one node over the union
  mask with π-weighted W and b, elementwise-max Σ, π = max, L = max; ΔF = 0, accepted when
  the merged cost is below the sum of its sources' and it predicts the stored transitions
  of each source's regime within ε_merge of that source.
- SPAWN(φ): block φ visited ≥ K times with persistent residual R_φ > θ_spawn → a node over
  the block fitted by least squares on its recent fully observed transitions; ΔF = 0.6·R_φ.
  An incumbent it aliases (mean |μ_new − μ_inc| < θ_alias over the stored transitions,
  using the fitted candidate — docs/agent.md §17, item 21) is replaced when less reliable than the
  newcomer (π = 0.5); otherwise the spawn is rejected.
- SPLIT(j): the spectral bisection of block φ's residual correlations over j's dims
  (Fiedler vector of the |correlation| graph; see kernels/nupca_rest.py) has mean
  |cross-correlation| < the independence threshold →
  two least-squares nodes over the halves; ΔF = 0.05·(1 − crosscorr).
Every edit needs ΔJ = ΔF − mdl_beta·ΔL ≥ 0 (ΔL: MDL cost change, cost = base +
dim_cost·|mask|); ΔS = 0, ΔC = ±1 (decision 15) always pass.

DAG (decision 14): a spawned node gets the incumbent it refines as parent; a merged node
inherits the union of its sources' parents and children; split halves inherit the
source's. Removing a node detaches it from every parent and child first (the original design's
hygiene rule), then from the library, the working set and every index (which are derived
from the library).
"""

from __future__ import annotations

import numpy as np

from pattools.kernels import nupca_rest as KR
from pattools.nupca.experts import ExpertLibrary, Node, footprint_of, rls_size

PRUNE, MERGE, SPAWN, SPLIT = 0, 1, 2, 3
KIND_NAMES = ("PRUNE", "MERGE", "SPAWN", "SPLIT")
SPAWN_PI = 0.5
SPAWN_GAIN = 0.6
SPLIT_GAIN = 0.05
RELIABLE_INCUMBENT = 0.3


# ---------------------------------------------------------------------------- proposals


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
    library = state.library
    t = state.t
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(kind: int, first: np.ndarray, second: np.ndarray, block: np.ndarray, priority: np.ndarray) -> None:
        if first.shape[0]:
            parts.append((np.full(first.shape[0], kind, dtype=np.int64), first.astype(np.int64),
                          second.astype(np.int64), block.astype(np.int64), priority.astype(np.float64)))

    # PRUNE
    idle = t - library.last_active
    unreliable = library.pi < config.theta_cull
    low = np.flatnonzero((library.anchor == 0) & (library.footprint >= 0) & (unreliable | (idle > config.t_inactive)))
    if low.shape[0]:
        priority = np.maximum(np.where(unreliable[low], 1.0 - library.pi[low], 0.0),
                              idle[low] / max(config.t_inactive, 1))
        add(PRUNE, library.ids[low], np.full(low.shape[0], -1), library.footprint[low], priority)

    # SPAWN
    ready = np.flatnonzero((memory.visits >= config.K) & (memory.persist > config.theta_spawn))
    if ready.shape[0]:
        stale = ready[t - memory.last_update[ready] > config.incumbent_activity_window]
        if stale.shape[0]:
            inc_ptr, inc_rows = state.incumbents()
            drop = {int(b) for b in stale if _spawn_suppressed(state, int(b), inc_ptr, inc_rows)}
            ready = np.array([b for b in ready.tolist() if b not in drop], dtype=np.int64)
        none = np.full(ready.shape[0], -1)
        add(SPAWN, none, none, ready, memory.persist[ready])

    # SPLIT over the working set's non-anchor nodes of observed, well-sampled blocks
    candidates = rows[(library.anchor[rows] == 0) & (library.footprint[rows] >= 0)]
    if candidates.shape[0]:
        cross = KR.split_scan(
            candidates, library.footprint, library.out_ptr, library.out_idx, state.partition.start,
            state.cov_ptr, memory.res_cov, memory.res_n, seen, config.split_min_samples,
            config.split_independence_threshold,
        )
        hit = candidates[cross >= 0.0]
        add(SPLIT, library.ids[hit], np.full(hit.shape[0], -1), library.footprint[hit], 1.0 - cross[cross >= 0.0])

    # MERGE among incumbents of observed blocks holding two or more
    inc_ptr, inc_rows = state.incumbents()
    crowded = np.flatnonzero(seen.astype(bool) & (np.diff(inc_ptr) >= 2))
    if crowded.shape[0]:
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
        add(MERGE, library.ids[rows_a[hit]], library.ids[rows_b[hit]], np.array(pair_block)[hit], corr[hit])

    if not parts:
        return
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


def activation_correlation(library: ExpertLibrary, row_a: int, row_b: int, min_common: int) -> float | None:
    """Pearson correlation of two nodes' activation logs (see the kernel), or None."""
    value = KR.activation_correlations(np.array([row_a], dtype=np.int64), np.array([row_b], dtype=np.int64),
                                       library.act_t, library.act_a, library.act_count, min_common)[0]
    return None if np.isnan(value) else float(value)


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


# ---------------------------------------------------------------------------- processing


class _Workspace:
    """Mutable node-level view of the library for one REST step."""

    def __init__(self, state) -> None:
        self.state = state
        library = state.library
        self.nodes: dict[int, Node] = {n.node_id: n for n in library.nodes()}
        self.edges: set[tuple[int, int]] = {(int(p), int(c)) for p, c in library.edges.tolist()}
        self.next_id = library.next_node_id
        self.active = [int(i) for i in state.active]
        self.changed = False

    def new_id(self) -> int:
        node_id = self.next_id
        self.next_id += 1
        return node_id

    def incumbents(self, block: int) -> list[Node]:
        return [n for _, n in sorted(self.nodes.items()) if n.footprint == block and not n.anchor]

    def remove(self, node_id: int) -> None:
        """DAG hygiene first, then drop the node everywhere."""
        self.edges = {(p, c) for (p, c) in self.edges if p != node_id and c != node_id}
        del self.nodes[node_id]
        self.active = [i for i in self.active if i != node_id]
        self.changed = True

    def add(self, node: Node, parents: list[int], children: list[int]) -> None:
        self.nodes[node.node_id] = node
        for p in parents:
            if p in self.nodes and p != node.node_id:
                self.edges.add((p, node.node_id))
        for c in children:
            if c in self.nodes and c != node.node_id and not self._reaches(c, node.node_id):
                self.edges.add((node.node_id, c))
        self.changed = True

    def parents(self, node_id: int) -> list[int]:
        return sorted(p for (p, c) in self.edges if c == node_id)

    def children(self, node_id: int) -> list[int]:
        return sorted(c for (p, c) in self.edges if p == node_id)

    def _reaches(self, source: int, target: int) -> bool:
        """Whether target is reachable from source (so an edge target→source would cycle)."""
        stack, seen = [source], {source}
        while stack:
            here = stack.pop()
            if here == target:
                return True
            for (p, c) in self.edges:
                if p == here and c not in seen:
                    seen.add(c)
                    stack.append(c)
        return False

    def commit(self) -> None:
        state = self.state
        if not self.changed:
            return
        edges = np.array(sorted(self.edges), dtype=np.int64).reshape(-1, 2)
        library = ExpertLibrary.from_nodes(list(self.nodes.values()), edges, self.next_id,
                                           state.library.log_cap)
        state.replace_library(library)
        state.active = np.array(self.active, dtype=np.int64)


def process_queue(state) -> list[dict]:
    """Evaluate and apply the first max_edits_per_rest_step queued proposals; pop them."""
    config = state.config
    memory = state.rest
    count = min(int(memory.q_kind.shape[0]), config.max_edits_per_rest_step)
    if count == 0:
        return []
    work = _Workspace(state)
    results = []
    for i in range(count):
        kind = int(memory.q_kind[i])
        a, b, block = int(memory.q_a[i]), int(memory.q_b[i]), int(memory.q_block[i])
        if kind == PRUNE:
            result = _prune(work, a)
        elif kind == MERGE:
            result = _merge(work, a, b, block)
        elif kind == SPAWN:
            result = _spawn(work, block)
        else:
            result = _split(work, a)
        result["kind"] = KIND_NAMES[kind]
        results.append(result)
    for name in ("q_kind", "q_a", "q_b", "q_block", "q_priority"):
        setattr(memory, name, getattr(memory, name)[count:].copy())
    state.forget_queue_keys()
    work.commit()
    return results


def _result(accepted: bool, nodes: list[int], *, created=(), removed=(), block: int = -1,
            reason: str | None = None, delta_j: float | None = None) -> dict:
    out = {"accepted": accepted, "nodes": [int(n) for n in nodes], "created": [int(n) for n in created],
           "removed": [int(n) for n in removed], "block": int(block)}
    if reason is not None:
        out["reason"] = reason
    if delta_j is not None:
        out["delta_J"] = float(delta_j)
    return out


def _passes(delta_f: float, delta_l: float, delta_c: int, mdl_beta: float) -> tuple[bool, float]:
    """ΔJ = ΔF − β·ΔL ≥ 0 ∧ ΔS ≤ 1 ∧ ΔC ≤ 10 (ΔS = 0 here: no stability term)."""
    delta_j = delta_f - mdl_beta * delta_l
    delta_s = 0
    return (delta_j >= 0.0 and delta_s <= 1 and delta_c <= 10), delta_j


def _prune(work: _Workspace, node_id: int) -> dict:
    state, config = work.state, work.state.config
    node = work.nodes.get(node_id)
    if node is None or node.anchor:
        return _result(False, [node_id], reason="node gone" if node is None else "anchor")
    idle = state.t - node.last_active
    if not (node.pi < config.theta_cull or idle > config.t_inactive):
        return _result(False, [node_id], block=node.footprint, reason="condition no longer holds")
    work.remove(node_id)
    return _result(True, [node_id], removed=[node_id], block=node.footprint)


def _merge(work: _Workspace, id_a: int, id_b: int, block: int) -> dict:
    state, config = work.state, work.state.config
    node_a, node_b = work.nodes.get(id_a), work.nodes.get(id_b)
    if node_a is None or node_b is None:
        return _result(False, [id_a, id_b], block=block, reason="node gone")
    if node_a.anchor or node_b.anchor or node_a.diag or node_b.diag:
        return _result(False, [id_a, id_b], block=block, reason="anchor")
    merged = _merged_node(node_a, node_b, work.next_id, state)
    delta_l = config.node_cost(merged.out.shape[0]) - (
        config.node_cost(node_a.out.shape[0]) + config.node_cost(node_b.out.shape[0])
    )
    ok, delta_j = _passes(0.0, delta_l, -1, config.mdl_beta)
    if not ok or not delta_l < 0.0:
        return _result(False, [id_a, id_b], block=block, reason="cost", delta_j=delta_j)
    regime_a, regime_b = _regimes(state, node_a, node_b, block)
    for regime, source in ((regime_a, node_a), (regime_b, node_b)):
        if regime.shape[0] == 0:
            continue
        mse_merged = _transition_mse(state, merged, regime, block, source.out)
        mse_source = _transition_mse(state, source, regime, block, source.out)
        if mse_merged > mse_source + config.epsilon_merge:
            return _result(False, [id_a, id_b], block=block, reason="replacement test", delta_j=delta_j)
    merged.node_id = work.new_id()
    parents = sorted((set(work.parents(id_a)) | set(work.parents(id_b))) - {id_a, id_b})
    children = sorted((set(work.children(id_a)) | set(work.children(id_b))) - {id_a, id_b} - set(parents))
    work.remove(id_a)
    work.remove(id_b)
    work.add(merged, parents, children)
    return _result(True, [id_a, id_b], created=[merged.node_id], removed=[id_a, id_b], block=block,
                   delta_j=delta_j)


def _merged_node(node_a: Node, node_b: Node, node_id: int, state) -> Node:
    out = np.union1d(node_a.out, node_b.out).astype(np.int64)
    inp = np.union1d(node_a.inp, node_b.inp).astype(np.int64)
    total = node_a.pi + node_b.pi
    wa, wb = (0.5, 0.5) if total <= 0.0 else (node_a.pi / total, node_b.pi / total)
    weights = np.zeros((out.shape[0], inp.shape[0]))
    bias = np.zeros(out.shape[0])
    var = np.zeros(out.shape[0])
    for node, share in ((node_a, wa), (node_b, wb)):
        ro = np.searchsorted(out, node.out)
        ci = np.searchsorted(inp, node.inp)
        weights[np.ix_(ro, ci)] += share * node.W
        bias[ro] += share * node.bias
        var[ro] = np.maximum(var[ro], node.var)
    var = np.maximum(var, 1e-300)
    side = rls_size(int(inp.shape[0]), state.config)
    return Node(
        node_id=node_id, out=out, inp=inp, W=weights, bias=bias, var=var, P=np.zeros((side, side)),
        pi=max(node_a.pi, node_b.pi),
        cost=max(node_a.cost, node_b.cost), footprint=footprint_of(out, state.partition), created=state.t,
        last_active=state.t,
    )


def _block_transitions(state, block: int) -> np.ndarray:
    """Ring slots of the block's stored transitions, oldest first."""
    memory = state.rest
    cap = memory.tr_tau.shape[0]
    count = int(memory.tr_count[block])
    if count <= cap:
        return np.arange(count, dtype=np.int64)
    head = count % cap
    return np.concatenate([np.arange(head, cap), np.arange(0, head)]).astype(np.int64)


def _regimes(state, node_a: Node, node_b: Node, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Transition slots split by which node was more active at that step (T_A, T_B)."""
    slots = _block_transitions(state, block)
    taus = state.rest.tr_tau[slots, block]
    act_a = dict(zip(node_a.act_t.tolist(), node_a.act_a.tolist()))
    act_b = dict(zip(node_b.act_t.tolist(), node_b.act_a.tolist()))
    first, second = [], []
    for slot, tau in zip(slots.tolist(), taus.tolist()):
        a, b = act_a.get(tau), act_b.get(tau)
        if a is None and b is None:
            continue
        if b is None or (a is not None and a >= b):
            first.append(slot)
        else:
            second.append(slot)
    return np.array(first, dtype=np.int64), np.array(second, dtype=np.int64)


def _predict_transitions(state, node: Node, slots: np.ndarray, block: int) -> np.ndarray:
    """mu of ``node`` for each stored transition (rows) from x(t−1) over the block's
    dims, zero elsewhere; columns follow ``node.out``."""
    s0, s1 = int(state.partition.start[block]), int(state.partition.start[block + 1])
    prev = state.rest.tr_prev
    source = node.out if node.diag else node.inp
    inside = (source >= s0) & (source < s1)
    values = np.zeros((slots.shape[0], source.shape[0]))
    values[:, inside] = prev[np.ix_(slots, source[inside])]
    if node.diag:
        return values * node.W + node.bias
    return values @ node.W.T + node.bias


def _transition_mse(state, node: Node, slots: np.ndarray, block: int, dims: np.ndarray) -> float:
    """Mean over transitions of the mean squared error on the observed ``dims``."""
    memory = state.rest
    if slots.shape[0] == 0:
        return 0.0
    mu = _predict_transitions(state, node, slots, block)[:, np.searchsorted(node.out, dims)]
    mask = (memory.tr_obs[np.ix_(slots, dims)] & 1).astype(bool)
    sq = np.where(mask, (mu - memory.tr_next[np.ix_(slots, dims)]) ** 2, 0.0)
    counts = mask.sum(axis=1)
    used = counts > 0
    if not used.any():
        return 0.0
    return float(np.mean(sq[used].sum(axis=1) / counts[used]))


def _fit_node(state, node_id: int, out: np.ndarray, block: int, pi: float) -> Node:
    """A node over ``out`` (inputs: the block's dims) fitted on the block's most recent
    transitions whose targets cover ``out`` and whose inputs were observed too — not the
    agent's own prior, which would teach the node to iterate its predictions (W = I,
    b = 0 with < 2 such samples).

    The fit is least squares with a small ridge toward the identity (persistence):
    W minimises ‖Yc − Xc·Wᵀ‖² + λ‖W − I‖² on centred data, λ = spawn_ridge·n, and
    b = ȳ − W·x̄. Where the inputs vary, this is ordinary least squares; where they
    barely move (≤ 50 samples, up to |block| + 1 unknowns per row) plain least squares
    is ill-posed and extrapolates wildly, and the ridge keeps W near persistence.
    Σ_k = max(0.01, residual_k / n) (docs/agent.md §13.2).
    """
    config, partition, memory = state.config, state.partition, state.rest
    inp = partition.dims(block)
    slots = _block_transitions(state, block)
    targets_seen = np.all(memory.tr_obs[np.ix_(slots, out)] & 1, axis=1)
    inputs_seen = np.all(memory.tr_obs[np.ix_(slots, inp)] & 2, axis=1)
    covered = slots[targets_seen & inputs_seen]
    covered = covered[-config.spawn_fit_window :]
    n_out = out.shape[0]
    position = np.searchsorted(inp, out)
    if len(covered) < 2:
        weights = np.zeros((n_out, inp.shape[0]))
        weights[np.arange(n_out), position] = 1.0
        bias = np.zeros(n_out)
        var = np.ones(n_out)
    else:
        rows = covered
        inputs = memory.tr_prev[np.ix_(rows, inp)]
        target = memory.tr_next[np.ix_(rows, out)]
        x_mean, y_mean = inputs.mean(axis=0), target.mean(axis=0)
        xc, yc = inputs - x_mean, target - y_mean
        ridge = config.spawn_ridge * rows.shape[0]
        identity = np.zeros((inp.shape[0], n_out))
        identity[position, np.arange(n_out)] = 1.0
        gram = xc.T @ xc + ridge * np.eye(inp.shape[0])
        solution = np.linalg.solve(gram, xc.T @ yc + ridge * identity)
        weights = np.ascontiguousarray(solution.T)
        bias = y_mean - weights @ x_mean
        resid = target - (inputs @ solution + bias)
        var = np.maximum(0.01, np.sum(resid * resid, axis=0) / rows.shape[0])
    side = rls_size(int(inp.shape[0]), config)
    return Node(
        node_id=node_id, out=out.astype(np.int64), inp=inp, W=weights, bias=bias, var=var,
        P=np.zeros((side, side)), pi=pi,
        cost=config.node_cost(n_out), footprint=block, created=state.t, last_active=state.t,
    )


def _mean_abs_disagreement(state, first: Node, second: Node, block: int) -> float:
    """Mean over stored transitions of mean |μ_first − μ_second| on the block's dims both
    nodes predict (+inf when they share none)."""
    slots = _block_transitions(state, block)
    if slots.shape[0] == 0:
        return 0.0
    dims = np.intersect1d(np.intersect1d(first.out, second.out), state.partition.dims(block))
    if dims.shape[0] == 0:
        return np.inf
    mu_a = _predict_transitions(state, first, slots, block)[:, np.searchsorted(first.out, dims)]
    mu_b = _predict_transitions(state, second, slots, block)[:, np.searchsorted(second.out, dims)]
    return float(np.mean(np.mean(np.abs(mu_a - mu_b), axis=1)))


def _spawn(work: _Workspace, block: int) -> dict:
    state, config, memory = work.state, work.state.config, work.state.rest
    if block < 0 or block >= state.partition.count:
        return _result(False, [], block=block, reason="no such block")
    persist = float(memory.persist[block])
    dims = state.partition.dims(block)
    ok, delta_j = _passes(SPAWN_GAIN * persist, config.node_cost(dims.shape[0]), 1, config.mdl_beta)
    if not ok:
        return _result(False, [], block=block, reason="delta J", delta_j=delta_j)
    candidate = _fit_node(state, work.next_id, dims, block, SPAWN_PI)
    aliased = []
    for incumbent in work.incumbents(block):
        if _mean_abs_disagreement(state, candidate, incumbent, block) < config.theta_alias:
            aliased.append(incumbent)
    if any(inc.pi >= candidate.pi for inc in aliased):
        return _result(False, [inc.node_id for inc in aliased], block=block, reason="aliased", delta_j=delta_j)
    candidate.node_id = work.new_id()
    replaced = [inc.node_id for inc in aliased]
    for node_id in replaced:
        work.remove(node_id)
    remaining = work.incumbents(block)
    parents = []
    if remaining:
        best = sorted(remaining, key=lambda n: (-n.pi, n.node_id))[0]
        parents = [best.node_id]
    work.add(candidate, parents, [])
    memory.persist[block] = 0.0
    memory.visits[block] = 0
    return _result(True, replaced + parents, created=[candidate.node_id], removed=replaced, block=block,
                   delta_j=delta_j)


def _split(work: _Workspace, node_id: int) -> dict:
    state, config = work.state, work.state.config
    node = work.nodes.get(node_id)
    if node is None or node.anchor or node.footprint < 0:
        return _result(False, [node_id], reason="node gone" if node is None else "not splittable")
    row = state.library.row_of(node_id)
    if row is None:  # created in this REST step: statistics are the block's anyway
        return _result(False, [node_id], block=node.footprint, reason="node is new")
    found = split_partition(state, row)
    if found is None:
        return _result(False, [node_id], block=node.footprint, reason="no independent partition")
    side, cross = found
    parts = [node.out[side == 0], node.out[side == 1]]
    delta_l = sum(config.node_cost(p.shape[0]) for p in parts) - config.node_cost(node.out.shape[0])
    ok, delta_j = _passes(SPLIT_GAIN * (1.0 - cross), delta_l, 1, config.mdl_beta)
    if not ok:
        return _result(False, [node_id], block=node.footprint, reason="delta J", delta_j=delta_j)
    parents, children = work.parents(node_id), work.children(node_id)
    block = node.footprint
    work.remove(node_id)
    created = []
    for part in parts:
        half = _fit_node(state, work.new_id(), part, block, SPAWN_PI)
        work.add(half, parents, children)
        created.append(half.node_id)
    return _result(True, [node_id], created=created, removed=[node_id], block=block, delta_j=delta_j)
