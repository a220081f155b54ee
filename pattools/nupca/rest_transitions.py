"""Candidate nodes of REST edits and how they predict the block's stored transitions
(docs/agent.md §13.2): the merged node of two incumbents, a least-squares fit over a block
or half a node, the regimes of a merge, and the errors and disagreements the acceptance
tests compare. The stored transitions are the ring buffers of ``RestMemory``.
"""

from __future__ import annotations

import numpy as np

from pattools.nupca.experts import Node, footprint_of, rls_size


def merged_node(node_a: Node, node_b: Node, node_id: int, state) -> Node:
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


def block_transitions(state, block: int) -> np.ndarray:
    """Ring slots of the block's stored transitions, oldest first."""
    memory = state.rest
    cap = memory.tr_tau.shape[0]
    count = int(memory.tr_count[block])
    if count <= cap:
        return np.arange(count, dtype=np.int64)
    head = count % cap
    return np.concatenate([np.arange(head, cap), np.arange(0, head)]).astype(np.int64)


def regimes(state, node_a: Node, node_b: Node, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Transition slots split by which node was more active at that step (T_A, T_B)."""
    slots = block_transitions(state, block)
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


def predict_transitions(state, node: Node, slots: np.ndarray, block: int) -> np.ndarray:
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


def transition_mse(state, node: Node, slots: np.ndarray, block: int, dims: np.ndarray) -> float:
    """Mean over transitions of the mean squared error on the observed ``dims``."""
    memory = state.rest
    if slots.shape[0] == 0:
        return 0.0
    mu = predict_transitions(state, node, slots, block)[:, np.searchsorted(node.out, dims)]
    mask = (memory.tr_obs[np.ix_(slots, dims)] & 1).astype(bool)
    sq = np.where(mask, (mu - memory.tr_next[np.ix_(slots, dims)]) ** 2, 0.0)
    counts = mask.sum(axis=1)
    used = counts > 0
    if not used.any():
        return 0.0
    return float(np.mean(sq[used].sum(axis=1) / counts[used]))


def fit_node(state, node_id: int, out: np.ndarray, block: int, pi: float) -> Node:
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
    slots = block_transitions(state, block)
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


def mean_abs_disagreement(state, first: Node, second: Node, block: int) -> float:
    """Mean over stored transitions of mean |μ_first − μ_second| on the block's dims both
    nodes predict (+inf when they share none)."""
    slots = block_transitions(state, block)
    if slots.shape[0] == 0:
        return 0.0
    dims = np.intersect1d(np.intersect1d(first.out, second.out), state.partition.dims(block))
    if dims.shape[0] == 0:
        return np.inf
    mu_a = predict_transitions(state, first, slots, block)[:, np.searchsorted(first.out, dims)]
    mu_b = predict_transitions(state, second, slots, block)[:, np.searchsorted(second.out, dims)]
    return float(np.mean(np.mean(np.abs(mu_a - mu_b), axis=1)))
