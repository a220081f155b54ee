"""NUPCA kernels (pattools.kernels.nupca, nupca_experts, nupca_rest) against plain-Python twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pattools.kernels import nupca as K
from pattools.kernels import nupca_experts as KE
from pattools.kernels import nupca_rest as KR
from pattools.nupca.config import config_from_dict
from pattools.nupca.experts import ExpertLibrary, init_library, new_node
from pattools.nupca.blocks import build_blocks

SETTINGS = settings(max_examples=30, deadline=None)


# ------------------------------------------------------------------ random libraries


def random_library(seed: int, dim: int = 24, blocks: int = 6, extra: int = 5) -> ExpertLibrary:
    rng = np.random.default_rng(seed)
    config = config_from_dict({"D": dim, "B": blocks})
    partition = build_blocks(config)
    everything = np.arange(dim, dtype=np.int64)
    nodes = [new_node(0, everything, everything, config, partition, step=0, anchor=True, diag=True)]
    for b in range(blocks):
        dims = partition.dims(b)
        nodes.append(new_node(len(nodes), dims, dims, config, partition, step=0))
    for _ in range(extra):
        out = np.unique(rng.choice(dim, size=rng.integers(1, 6), replace=False))
        inp = np.unique(rng.choice(dim, size=rng.integers(1, 8), replace=False))
        nodes.append(new_node(len(nodes), out, inp, config, partition, step=0))
    for node in nodes:
        node.W = rng.normal(size=node.W.shape)
        node.bias = rng.normal(size=node.bias.shape)
        node.var = rng.uniform(1e-4, 2.0, size=node.var.shape)
        node.vel = rng.normal(size=node.vel.shape)
        node.pi = float(rng.uniform(0, 1))
    return ExpertLibrary.from_nodes(nodes, np.zeros((0, 2), dtype=np.int64), len(nodes), 8)


def lib_args(lib: ExpertLibrary):
    return (lib.out_ptr, lib.out_idx, lib.in_ptr, lib.in_idx, lib.w_ptr, lib.w, lib.diag, lib.bias, lib.vel)


# ------------------------------------------------------------------ twins


def twin_precision(var, scale, floor):
    return 1.0 / max(var, (floor * scale) ** 2, 1e-300)


def twin_fuse(lib, rows, x, u, scale, floor):
    prec = np.zeros(x.shape[0])
    acc = np.zeros(x.shape[0])
    for r in rows:
        node = lib.node(int(r))
        mu = node.predict(x, u)
        for pos, k in enumerate(node.out):
            lam = twin_precision(node.var[pos], scale[k], floor)
            prec[k] += lam
            acc[k] += lam * mu[pos]
    yhat = x.copy()
    covered = prec > 0
    yhat[covered] = acc[covered] / prec[covered]
    return yhat, prec


@given(st.integers(0, 10_000), st.integers(0, 12))
@SETTINGS
def test_fuse_rows_is_precision_weighted_mean(seed, count):
    lib = random_library(seed)
    rng = np.random.default_rng(seed + 1)
    rows = np.sort(rng.choice(lib.size, size=min(count, lib.size), replace=False)).astype(np.int64)
    x, u = rng.normal(size=24), rng.normal(size=24)
    scale = rng.uniform(0, 50, size=24)  # large enough that the relative floor binds on some dims
    yhat, prec = KE.fuse_rows(rows, x, u, *lib_args(lib), lib.var, scale, 1e-3)
    want_y, want_p = twin_fuse(lib, rows, x, u, scale, 1e-3)
    np.testing.assert_allclose(yhat, want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(prec, want_p, rtol=1e-12)
    uncovered = want_p == 0
    assert np.array_equal(yhat[uncovered], x[uncovered])  # stale persistence
    assert np.all(prec[uncovered] == 0.0)  # infinite variance


def test_predict_rows_matches_nodes():
    lib = random_library(3)
    rng = np.random.default_rng(4)
    x, u = rng.normal(size=24), rng.normal(size=24)
    rows = np.arange(lib.size, dtype=np.int64)
    mu = KE.predict_rows(rows, x, u, *lib_args(lib))
    want = np.concatenate([lib.node(int(r)).predict(x, u) for r in rows])
    np.testing.assert_allclose(mu, want, rtol=1e-12, atol=1e-12)


def test_new_nodes_predict_persistence():
    """Decision 3 (revised): before any learning every node predicts x on its dims."""
    config = config_from_dict({"D": 24, "B": 6, "transport_span_blocks": 1})
    state_lib = init_library(config, build_blocks(config))
    x = np.random.default_rng(0).normal(size=24) * 1e3
    for row in range(state_lib.size):
        node = state_lib.node(row)
        np.testing.assert_array_equal(node.predict(x, np.ones(24)), x[node.out])


def twin_rls_velocity(lib, o, z, e, forget, delta):
    if z == 0.0:
        return
    if lib.vel_p[o] == 0.0:
        lib.vel_p[o] = 1.0 / (delta * z * z)
    pz = lib.vel_p[o] * z
    gain = pz / (forget + z * pz)
    lib.vel[o] += gain * e
    left = lib.vel_p[o] - gain * pz
    if left * z * z < 1e6 / delta:
        left /= forget
    lib.vel_p[o] = max(left, 1e-300)


def twin_learn(lib, rows, x_in, u, gap, y, observed, observed_prev, scale, permit, forget, delta, theta, warmup,
               rate, alpha):
    """The learning step of decision 3 (revised) in plain numpy, one row at a time."""
    status, errors = [], []
    for r in rows:
        node = lib.node(int(r))
        o0 = int(lib.out_ptr[r])
        obs = observed[node.out].astype(bool)
        if not obs.any():
            status.append(0)
            errors.append(np.nan)
            continue
        mu = node.predict(x_in, u)
        miss = y[node.out] - mu
        err = float(np.mean(np.abs(miss[obs])))
        errors.append(err)
        responsible = err <= theta * float(np.mean(scale[node.out][obs])) or lib.n_updates[r] < warmup
        lib.pi[r] = (1 - rate) * lib.pi[r] + rate * (1.0 if responsible else 0.0)
        if permit:
            step = max(alpha, 1.0 / (lib.n_obs[r] + 1.0))
            for pos in np.flatnonzero(obs):
                lib.var[o0 + pos] = max((1 - step) * lib.var[o0 + pos] + step * miss[pos] ** 2, 1e-300)
            lib.n_obs[r] += 1
        if not responsible or not permit:
            status.append(3 if not responsible else 2)
            continue
        if node.diag:
            moved = False
            for pos in np.flatnonzero(obs):
                k = node.out[pos]
                if u[k] * gap[k] != 0.0:
                    twin_rls_velocity(lib, o0 + pos, u[k] * gap[k], miss[pos], forget, delta)
                    moved = True
        else:
            moved, shrink = False, 1.0
            z = x_in[node.inp]
            if np.all(observed_prev[node.inp]):  # W learns only from observed inputs
                shrink = 0.0
                if lib.p0[r] > 0.0 or np.mean(z * z) > 0.0:
                    m = z.shape[0]
                    p_lo = int(lib.p_ptr[r])
                    if lib.p0[r] == 0.0:
                        lib.p0[r] = 1.0 / (delta * np.mean(z * z))
                        lib.p[p_lo : p_lo + m * m] = (lib.p0[r] * np.eye(m)).ravel()
                    P = lib.p[p_lo : p_lo + m * m].reshape(m, m)
                    pz = P @ z
                    denom = forget + z @ pz
                    w0 = int(lib.w_ptr[r])
                    W = lib.w[w0 : w0 + node.W.size].reshape(node.W.shape)
                    W[obs] += np.outer(miss[obs], pz / denom)
                    P -= np.outer(pz, pz) / denom
                    if np.trace(P) < 1e6 * m * lib.p0[r]:
                        P /= forget
                    moved, shrink = True, forget / denom
            if shrink > 0.0:  # then the velocity gains on what W left
                for pos in np.flatnonzero(obs):
                    k = node.out[pos]
                    if u[k] * gap[k] != 0.0:
                        twin_rls_velocity(lib, o0 + pos, u[k] * gap[k], miss[pos] * shrink, forget, delta)
                        moved = True
        if moved:
            lib.n_updates[r] += 1
        status.append(1 if moved else 2)
    return np.array(status), np.array(errors)


@given(st.integers(0, 10_000), st.booleans(), st.floats(0.0, 3.0))
@SETTINGS
def test_learn_rows_matches_twin(seed, permit, theta):
    lib = random_library(seed)
    twin = random_library(seed)
    rng = np.random.default_rng(seed + 7)
    rows = np.sort(rng.choice(lib.size, size=6, replace=False)).astype(np.int64)
    x_in, u, y = rng.normal(size=24), rng.normal(size=24), rng.normal(size=24)
    gap = rng.integers(0, 4, size=24).astype(np.float64)
    scale = rng.uniform(0.0, 2.0, size=24)
    observed = (rng.uniform(size=24) < 0.5).astype(np.uint8)
    observed_prev = (rng.uniform(size=24) < 0.9).astype(np.uint8)
    for library in (lib, twin):
        library.n_updates[:] = np.random.default_rng(seed).integers(0, 4, size=lib.size)
    for _ in range(3):  # repeated steps exercise P after its first update
        status, errors = KE.learn_rows(
            rows, x_in, u, gap, y, observed, observed_prev, scale, *lib_args(lib), lib.vel_p, lib.var, lib.p_ptr,
            lib.p, lib.p0, lib.n_updates, lib.n_obs, lib.pi, permit, 0.95, 2.0, False, False, 0.1, theta, 2, 0.05,
            False, 0.0, False, 1.0)
        want_s, want_e = twin_learn(twin, rows, x_in, u, gap, y, observed, observed_prev, scale, permit, 0.95, 2.0,
                                    theta, 2, 0.05, 0.1)
        assert status.tolist() == want_s.tolist()
        np.testing.assert_allclose(errors, want_e, rtol=1e-12, equal_nan=True)
    for name in ("w", "bias", "vel", "vel_p", "var", "p", "p0", "pi", "n_updates", "n_obs"):
        np.testing.assert_allclose(getattr(lib, name), getattr(twin, name), rtol=1e-9, atol=1e-12, err_msg=name)


def test_rls_is_scale_free():
    """The same stream in units 1e-6 and 1e6 times larger learns the same relative model."""
    rng = np.random.default_rng(5)
    xs = rng.normal(size=(40, 24))
    results = []
    config = config_from_dict({"D": 24, "B": 6})
    for unit in (1e-6, 1.0, 1e6):
        lib = init_library(config, build_blocks(config))
        w_start = lib.w.copy()
        rows = np.arange(1, 7, dtype=np.int64)  # the block nodes
        ones = np.ones(24, dtype=np.uint8)
        for t in range(1, 40):
            KE.learn_rows(rows, xs[t - 1] * unit, np.zeros(24), np.ones(24), xs[t] * unit, ones, ones,
                          np.full(24, unit), *lib_args(lib), lib.vel_p, lib.var, lib.p_ptr, lib.p, lib.p0,
                          lib.n_updates, lib.n_obs, lib.pi, True, 0.99, 1.0, False, False, 0.1, 3.0, 10, 0.05,
                          False, 0.0, False, 1.0)
        assert lib.n_updates[rows].min() == 39  # the scale-free responsibility kept every node learning
        results.append(lib.w - w_start)
    assert np.abs(results[1]).max() > 0.1
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(results[2], results[1], rtol=1e-6, atol=1e-9)


def test_node_relevance_twin():
    lib = random_library(11)
    observed = (np.random.default_rng(2).uniform(size=24) < 0.4).astype(np.uint8)
    rel = K.node_relevance(lib.out_ptr, lib.out_idx, observed, int(observed.sum()))
    for r in range(lib.size):
        dims = lib.out_dims(r)
        assert rel[r] == pytest.approx(observed[dims].mean())
    empty = K.node_relevance(lib.out_ptr, lib.out_idx, np.zeros(24, dtype=np.uint8), 0)
    assert np.all(empty == 0.5)


def test_activations_twin():
    prev = np.array([0.1, 0.9, 0.5, 2.0])
    valid = np.array([1, 1, 0, 1], dtype=np.uint8)
    now = np.array([0.3, 0.3, 0.3, 0.3])
    act, has = K.activations(prev, valid, now, 0.5, 0.7)
    sig = lambda z: 1.0 / (1.0 + math.exp(-z))  # noqa: E731
    assert act.tolist() == pytest.approx([sig((0.1 - 0.5) / 0.7), sig(0.4 / 0.7), 0.0, sig(1.5 / 0.7)])
    assert has.tolist() == [1, 1, 0, 1]
    act0, has0 = K.activations(prev, np.zeros(4, dtype=np.uint8), now, 0.5, 0.7)
    assert act0.tolist() == pytest.approx([sig(-0.2 / 0.7)] * 4) and has0.tolist() == [1] * 4


def twin_select_fovea(score, age, ncost, periph, budget, cap_g):
    count = len(score)
    chosen, remaining = [], budget
    eps = 1e-12
    forced = None
    for b in range(count):
        if periph[b] and ncost[b] <= remaining + eps:
            chosen.append(b)
            remaining -= ncost[b]
    if cap_g > 0:
        mand = sorted([b for b in range(count) if age[b] >= cap_g], key=lambda b: (-age[b], b))
        have = any(b in chosen for b in mand)
        for b in mand:
            if b in chosen:
                continue
            fits = ncost[b] <= remaining + eps
            if fits or not have:
                if not fits:
                    forced = b
                chosen.append(b)
                remaining = max(0.0, remaining - ncost[b])
                have = True
    if remaining > eps:
        for b in sorted(range(count), key=lambda b: (-score[b] / ncost[b], b)):
            if remaining <= eps:
                break
            if b in chosen:
                continue
            if ncost[b] <= remaining + eps:
                chosen.append(b)
                remaining -= ncost[b]
    periph_ids = [b for b in range(count) if periph[b]]
    if not periph_ids or not chosen:
        return chosen
    tail = periph_ids[-min(len(periph_ids), len(chosen)):]
    spent = sum(ncost[b] for b in chosen)
    limit = max(budget, spent) if forced is not None else budget
    dropped = set()
    for p in tail:
        if p in chosen:
            continue
        victims = [b for b in chosen if b not in dropped and not periph[b] and not (cap_g > 0 and age[b] >= cap_g)]
        if victims and spent - ncost[victims[-1]] + ncost[p] <= limit + eps:
            dropped.add(victims[-1])
            spent += ncost[p] - ncost[victims[-1]]
            chosen.append(p)
    present = set(chosen) - dropped
    return ([p for p in tail if p in present] + [b for b in chosen if b in present and not periph[b]]
            + [b for b in chosen if b in present and periph[b] and b not in tail])


@given(st.integers(0, 10_000), st.integers(1, 20), st.floats(0.0, 12.0), st.integers(0, 8), st.integers(0, 3))
@SETTINGS
def test_select_fovea_twin(seed, count, budget, cap_g, periph_count):
    rng = np.random.default_rng(seed)
    score = rng.uniform(0, 1, size=count)
    score[rng.uniform(size=count) < 0.3] = 0.5  # ties
    age = rng.integers(0, 10, size=count).astype(np.float64)
    sizes = rng.integers(1, 4, size=count).astype(np.float64)
    ncost = sizes / sizes.mean()
    periph = np.zeros(count, dtype=np.uint8)
    periph[count - min(periph_count, count):] = 1
    got = K.select_fovea(score, age, ncost, periph, budget, cap_g).tolist()
    assert got == twin_select_fovea(score, age, ncost, periph, budget, cap_g)
    assert len(set(got)) == len(got)
    # budget: only the one guaranteed mandatory block may overshoot
    spent = ncost[got].sum() if got else 0.0
    mandatory = [b for b in got if age[b] >= cap_g] if cap_g > 0 else []
    slack = max(ncost[mandatory]) if mandatory else 0.0
    if cap_g > 0 and np.any(age >= cap_g):
        assert mandatory  # the coverage guarantee
    assert spent <= budget + slack + 1e-9


def test_track_blocks_twin():
    part = build_blocks(config_from_dict({"D": 10, "B": 3}))
    observed = np.array([1, 0, 0, 0, 0, 0, 1, 1, 0, 0], dtype=np.uint8)
    err = np.arange(10, dtype=np.float64) / 10
    residual = np.array([0.5, 0.2, 0.1])
    age = np.array([3.0, 4.0, 5.0])
    seen = K.track_blocks(observed, err, residual, age, part.start, 0.1)
    # blocks: [0,4), [4,7), [7,10)
    assert seen.tolist() == [1, 1, 1]
    assert residual.tolist() == pytest.approx([0.9 * 0.5 + 0.1 * 0.0, 0.9 * 0.2 + 0.1 * 0.6, 0.9 * 0.1 + 0.1 * 0.7])
    assert age.tolist() == [0.0, 0.0, 0.0]
    seen = K.track_blocks(np.zeros(10, dtype=np.uint8), err, residual, age, part.start, 0.1)
    assert seen.tolist() == [0, 0, 0] and age.tolist() == [1.0, 1.0, 1.0]


def test_residual_bookkeeping_twin():
    config = config_from_dict({"D": 10, "B": 3, "transition_log_max": 2})
    part = build_blocks(config)
    rng = np.random.default_rng(5)
    from pattools.nupca.state import empty_rest_memory, covariance_offsets

    mem = empty_rest_memory(config, part)
    cov_ptr = covariance_offsets(part)
    seen = np.array([1, 0, 1], dtype=np.uint8)
    observed = np.zeros(10, dtype=np.uint8)
    observed[[0, 1, 8]] = 1
    for t in range(3):
        err = np.where(observed == 1, rng.normal(size=10), 0.0)
        x_prev, x_now = rng.normal(size=10), rng.normal(size=10)
        want_mean = mem.res_mean.copy()
        want_cov = mem.res_cov.copy()
        want_persist = mem.persist.copy()
        for b in (0, 2):
            s0, s1 = part.start[b], part.start[b + 1]
            want_persist[b] = 0.95 * want_persist[b] + 0.05 * np.abs(err[s0:s1][observed[s0:s1] == 1]).mean()
            want_mean[s0:s1] = 0.9 * want_mean[s0:s1] + 0.1 * err[s0:s1]
            d = err[s0:s1] - want_mean[s0:s1]
            n = s1 - s0
            c = want_cov[cov_ptr[b] : cov_ptr[b + 1]].reshape(n, n)
            want_cov[cov_ptr[b] : cov_ptr[b + 1]] = (0.9 * c + 0.1 * np.outer(d, d)).ravel()
        K.residual_bookkeeping(seen, observed, observed, err, x_prev, x_now, part.start, cov_ptr, t, 0.05, 0.1,
                               mem.persist, mem.visits, mem.last_update, mem.res_mean, mem.res_cov, mem.res_n,
                               mem.tr_tau, mem.tr_prev, mem.tr_next, mem.tr_obs, mem.tr_count)
        np.testing.assert_allclose(mem.persist, want_persist, rtol=1e-12)
        np.testing.assert_allclose(mem.res_mean, want_mean, rtol=1e-12)
        np.testing.assert_allclose(mem.res_cov, want_cov, rtol=1e-12, atol=1e-15)
        slot = t % 2
        assert mem.tr_tau[slot, 0] == t and mem.tr_tau[slot, 2] == t
        np.testing.assert_array_equal(mem.tr_prev[slot, 0:4], x_prev[0:4])
        np.testing.assert_array_equal(mem.tr_next[slot, 7:10], x_now[7:10])
        assert mem.tr_obs[slot, 0:4].tolist() == [3, 3, 0, 0]
    assert mem.visits.tolist() == [3, 0, 3] and mem.tr_count.tolist() == [3, 0, 3]
    assert mem.res_n.tolist() == [3, 0, 3] and mem.last_update.tolist() == [2, 0, 2]


def twin_retrieval(fovea, key, inc_ptr, inc_rows, excluded, cap):
    cands = []
    for b in fovea:
        for r in inc_rows[inc_ptr[b] : inc_ptr[b + 1]]:
            if not excluded[r]:
                cands.append((-key[b], int(r)))
    cands.sort()
    return sorted(r for _, r in cands[:cap])


@given(st.integers(0, 10_000), st.integers(0, 6))
@SETTINGS
def test_retrieval_candidates_twin(seed, cap):
    rng = np.random.default_rng(seed)
    blocks, nodes = 6, 20
    footprint = rng.integers(0, blocks, size=nodes)
    order = np.argsort(footprint, kind="stable")
    inc_rows = order.astype(np.int64)
    inc_ptr = np.zeros(blocks + 1, dtype=np.int64)
    np.cumsum(np.bincount(footprint, minlength=blocks), out=inc_ptr[1:])
    key = rng.choice([0.1, 0.2, 0.3], size=blocks)
    excluded = (rng.uniform(size=nodes) < 0.3).astype(np.uint8)
    fovea = rng.choice(blocks, size=3, replace=False).astype(np.int64)
    got = K.retrieval_candidates(fovea, key, inc_ptr, inc_rows, excluded, cap).tolist()
    assert got == twin_retrieval(fovea, key, inc_ptr, inc_rows, excluded, cap)


def twin_greedy(anchors, forced, pool, score, cost, n_max, l_max):
    chosen = list(anchors) if cost[anchors].sum() <= l_max and len(anchors) <= n_max else []
    load = cost[chosen].sum() if chosen else 0.0
    if not chosen and len(anchors):
        keep, load = [], 0.0
        for a in sorted(anchors, key=lambda a: (cost[a], list(anchors).index(a))):
            if len(keep) < n_max and load + cost[a] <= l_max:
                keep.append(a)
                load += cost[a]
        chosen = [a for a in anchors if a in keep]
    r_load, r_count = l_max - load, n_max - len(chosen)
    for f in sorted(forced, key=lambda f: (-score[f], list(forced).index(f))):
        if r_count > 0 and r_load - cost[f] >= -1e-9:
            chosen.append(f)
            r_load -= cost[f]
            r_count -= 1
    used = 0.0
    taken = 0
    if r_count > 0 and r_load > 0:
        for p in sorted(pool, key=lambda p: (-score[p], list(pool).index(p))):
            if taken >= r_count:
                break
            if p in forced or used + cost[p] > r_load:
                continue
            chosen.append(p)
            used += cost[p]
            taken += 1
    return chosen


@given(st.integers(0, 10_000), st.integers(1, 12), st.floats(1.0, 20.0))
@SETTINGS
def test_greedy_select_twin_and_invariants(seed, n_max, l_max):
    rng = np.random.default_rng(seed)
    size = 30
    cost = rng.uniform(0.5, 3.0, size=size)
    score = rng.choice([0.0, 0.2, 0.5, 0.9], size=size)
    anchors = np.array([0, 1], dtype=np.int64)
    forced = np.sort(rng.choice(np.arange(2, size), size=3, replace=False)).astype(np.int64)
    pool = np.sort(rng.choice(np.arange(2, size), size=15, replace=False)).astype(np.int64)
    rows, n_anchor = K.greedy_select(anchors, forced, pool, score, cost, n_max, l_max)
    got = rows.tolist()
    assert got == twin_greedy(anchors, forced, pool, score, cost, n_max, l_max)
    assert len(set(got)) == len(got)  # decision 1: unique
    assert len(got) <= n_max
    assert cost[rows].sum() <= l_max + 1e-9
    assert got[:n_anchor] == [a for a in got if a in (0, 1)]  # anchors first


def test_log_activations_ring():
    act_t = np.zeros((2, 3), dtype=np.int64)
    act_a = np.zeros((2, 3))
    count = np.zeros(2, dtype=np.int64)
    last = np.zeros(2, dtype=np.int64)
    for t in range(5):
        K.log_activations(np.array([1], dtype=np.int64), np.array([t / 10]), t, act_t, act_a, count, last)
    assert count.tolist() == [0, 5] and last.tolist() == [0, 4]
    times, values = KR._chronological(act_t, act_a, count, 1)
    assert times.tolist() == [2, 3, 4] and values.tolist() == pytest.approx([0.2, 0.3, 0.4])


@given(st.integers(0, 10_000), st.integers(2, 9))
@SETTINGS
def test_jacobi_matches_numpy(seed, n):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, n))
    sym = m + m.T
    values, vectors = KR.jacobi_eigh(sym)
    np.testing.assert_allclose(np.sort(values), np.linalg.eigvalsh(sym), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sym @ vectors, vectors * values, atol=1e-8)


def twin_split(cov):
    n = cov.shape[0]
    if not np.all(np.diag(cov) > 1e-300):
        return np.zeros(n, dtype=int), -1.0
    d = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(np.outer(d, d) > 0, cov / np.outer(d, d), 0.0)
    np.fill_diagonal(corr, 1.0)
    w = np.abs(corr)
    np.fill_diagonal(w, 0.0)
    lap = np.diag(w.sum(axis=1)) - w
    lap += (2 * w.sum(axis=1).max() + 1) / n
    vals, vecs = np.linalg.eigh(lap)
    v = vecs[:, 0]
    if v[np.argmax(np.abs(v))] < 0:
        v = -v
    side = (v < 0).astype(int)
    if side.sum() in (0, n):
        return side, -1.0
    return side, float(np.mean(np.abs(corr[np.ix_(side == 0, side == 1)])))


def test_split_separates_independent_groups():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 2))
    data = np.column_stack([z[:, 0], z[:, 0] + 0.1 * rng.normal(size=500), z[:, 1], z[:, 1] * 0.5])
    cov = np.cov(data.T)
    side, cross = KR.split_by_fiedler(cov)
    assert side.tolist() in ([0, 0, 1, 1], [1, 1, 0, 0])
    assert cross < 0.2
    want_side, want_cross = twin_split(cov)
    assert side.tolist() == want_side.tolist() and cross == pytest.approx(want_cross)
    # no residual variance: nothing to split
    assert KR.split_by_fiedler(np.zeros((4, 4)))[1] == -1.0


@given(st.integers(0, 10_000), st.integers(2, 6))
@SETTINGS
def test_split_twin_random(seed, n):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, 3 * n))
    cov = np.cov(m)
    side, cross = KR.split_by_fiedler(cov)
    want_side, want_cross = twin_split(cov)
    vals = np.linalg.eigvalsh(np.abs(cov))
    if np.min(np.diff(vals)) < 1e-6:  # degenerate spectrum: any eigenvector basis is right
        return
    assert side.tolist() == want_side.tolist()
    assert cross == pytest.approx(want_cross, abs=1e-9)


def test_activation_correlations_twin():
    act_t = np.zeros((3, 50), dtype=np.int64)
    act_a = np.zeros((3, 50))
    count = np.zeros(3, dtype=np.int64)
    rng = np.random.default_rng(1)
    steps = {0: np.arange(0, 40), 1: np.arange(5, 45), 2: np.arange(0, 40)}
    for r, times in steps.items():
        values = rng.uniform(size=times.shape[0]) if r != 2 else np.full(times.shape[0], 0.3)
        act_t[r, : times.shape[0]] = times
        act_a[r, : times.shape[0]] = values
        count[r] = times.shape[0]
    got = KR.activation_correlations(np.array([0, 0, 0]), np.array([1, 2, 0]), act_t, act_a, count, 20)
    common = np.arange(5, 40)
    want = np.corrcoef(act_a[0, common], act_a[1, common - 5])[0, 1]
    assert got[0] == pytest.approx(want)
    assert got[1] == 0.0  # one constant log
    assert got[2] == pytest.approx(1.0)
    few = KR.activation_correlations(np.array([0]), np.array([1]), act_t, act_a, count, 100)
    assert np.isnan(few[0])
