"""REST edits: the queue's proposals evaluated, and applied with DAG hygiene (docs/agent.md §13).

Operating steps *propose* (``pattools.nupca.rest_proposals``); a REST step (an observation with ``rest: true``
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

from pattools.nupca.experts import ExpertLibrary, Node
from pattools.nupca.rest_proposals import KIND_NAMES, MERGE, PRUNE, SPAWN, split_partition
from pattools.nupca.rest_transitions import (fit_node, mean_abs_disagreement, merged_node, regimes,
                                             transition_mse)

SPAWN_PI = 0.5
SPAWN_GAIN = 0.6
SPLIT_GAIN = 0.05


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
    merged = merged_node(node_a, node_b, work.next_id, state)
    delta_l = config.node_cost(merged.out.shape[0]) - (
        config.node_cost(node_a.out.shape[0]) + config.node_cost(node_b.out.shape[0])
    )
    ok, delta_j = _passes(0.0, delta_l, -1, config.mdl_beta)
    if not ok or not delta_l < 0.0:
        return _result(False, [id_a, id_b], block=block, reason="cost", delta_j=delta_j)
    regime_a, regime_b = regimes(state, node_a, node_b, block)
    for regime, source in ((regime_a, node_a), (regime_b, node_b)):
        if regime.shape[0] == 0:
            continue
        mse_merged = transition_mse(state, merged, regime, block, source.out)
        mse_source = transition_mse(state, source, regime, block, source.out)
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


def _spawn(work: _Workspace, block: int) -> dict:
    state, config, memory = work.state, work.state.config, work.state.rest
    if block < 0 or block >= state.partition.count:
        return _result(False, [], block=block, reason="no such block")
    persist = float(memory.persist[block])
    dims = state.partition.dims(block)
    ok, delta_j = _passes(SPAWN_GAIN * persist, config.node_cost(dims.shape[0]), 1, config.mdl_beta)
    if not ok:
        return _result(False, [], block=block, reason="delta J", delta_j=delta_j)
    candidate = fit_node(state, work.next_id, dims, block, SPAWN_PI)
    aliased = []
    for incumbent in work.incumbents(block):
        if mean_abs_disagreement(state, candidate, incumbent, block) < config.theta_alias:
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
        half = fit_node(state, work.new_id(), part, block, SPAWN_PI)
        work.add(half, parents, children)
        created.append(half.node_id)
    return _result(True, [node_id], created=created, removed=[node_id], block=block, delta_j=delta_j)
