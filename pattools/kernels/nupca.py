"""NUPCA agent kernels: fovea choice, salience, working-set selection, fusion, learning.

Why: the agent step touches every block and every node each step (at D = 4096 there are
1,025 nodes and 1,024 blocks) and the original spends 82 ms per step at D = 1024 on
Python objects and dense D×D matrices. Here the expert library is a set of flat arrays
(see ``pattools.nupca.experts``) and each hot loop is one serial kernel over them, so a
step costs a few passes over D plus work proportional to the working set. Loops run in
a fixed order (rows in selection order, dims ascending) so every sum is bit-
reproducible; nothing here is parallel (the working set is small and the order of a
floating sum must not depend on threads).

Library arrays (see experts.py): ``out_ptr/out_idx`` output dims, ``in_ptr/in_idx``
input dims, ``w_ptr/w`` weights (row-major |out|×|in|, or |out| gains when ``diag``),
``bias`` and ``var`` aligned with ``out_idx``.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel


@kernel
def _predict_row(r, x, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, mu):
    """mu[0:|out_r|] = prediction of node row ``r`` over its output dims."""
    o0 = out_ptr[r]
    o1 = out_ptr[r + 1]
    wb = w_ptr[r]
    if diag[r]:
        for o in range(o0, o1):
            mu[o - o0] = bias[o] + w[wb + o - o0] * x[out_idx[o]]
        return
    i0 = in_ptr[r]
    n_in = in_ptr[r + 1] - i0
    for o in range(o0, o1):
        base = wb + (o - o0) * n_in
        acc = bias[o]
        for i in range(n_in):
            acc += w[base + i] * x[in_idx[i0 + i]]
        mu[o - o0] = acc

@kernel
def _widest(rows, out_ptr):
    top = 0
    for j in range(rows.shape[0]):
        top = max(top, out_ptr[rows[j] + 1] - out_ptr[rows[j]])
    return top


@kernel
def predict_rows(rows, x, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias):
    """Concatenated predictions mu_j over each row's output dims, rows in the given order."""
    total = 0
    for j in range(rows.shape[0]):
        r = rows[j]
        total += out_ptr[r + 1] - out_ptr[r]
    mu = np.empty(total)
    buf = np.empty(_widest(rows, out_ptr))
    pos = 0
    for j in range(rows.shape[0]):
        r = rows[j]
        _predict_row(r, x, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, buf)
        n = out_ptr[r + 1] - out_ptr[r]
        for i in range(n):
            mu[pos + i] = buf[i]
        pos += n
    return mu


@kernel
def fuse_rows(rows, x, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, var, sigma_floor):
    """Precision-weighted diagonal fusion (docs/agent.md §10) over the given rows.

    Returns (yhat, precision): yhat[k] = Σ_j Λ_jk·mu_jk / Σ_j Λ_jk on covered dims and
    x[k] on dims no row covers, whose precision is 0 (infinite variance).
    Λ_jk = 1 / max(var, sigma_floor) (decision 8).
    """
    dim = x.shape[0]
    prec = np.zeros(dim)
    acc = np.zeros(dim)
    buf = np.empty(_widest(rows, out_ptr))
    for j in range(rows.shape[0]):
        r = rows[j]
        _predict_row(r, x, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, buf)
        o0 = out_ptr[r]
        for o in range(o0, out_ptr[r + 1]):
            k = out_idx[o]
            lam = 1.0 / max(var[o], sigma_floor)
            prec[k] += lam
            acc[k] += lam * buf[o - o0]
    yhat = x.copy()
    for k in range(dim):
        if prec[k] > 0.0:
            yhat[k] = acc[k] / prec[k]
    return yhat, prec


@kernel
def learn_rows(
    rows, x_in, y, observed, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, var,
    n_updates, pi, permit, lr, sigma_ema, theta_learn, warmup, reliability_rate,
    active_only, active_threshold, weight_by_value, value_power,
):
    """Responsibility, reliability and one LMS step per working-set row (docs/agent.md §11).

    For row j with observed output dims obs_j = out_j ∩ O_t (``observed`` is the 0/1
    mask of O_t): err_j = mean_{obs_j} |y − mu_j(x_in)|; j is responsible when
    err_j ≤ theta_learn or it has fewer than ``warmup`` updates (decision 3). Reliability
    π_j ← (1−ρ)·π_j + ρ·[responsible] (decision 13). If ``permit`` and responsible, one
    LMS step on ½‖(y − ŷ)⊙w‖² with the pre-update prediction: W[k,in] += lr·ε_k·x_in[in],
    b_k += lr·ε_k, var_k ← (1−α)·var_k + α·ε_k² on rows with w_k > 0, var floored at 1e-8.
    If ``permit`` and not responsible, W and b stay but var_k still takes the miss
    (y_k − mu_k)² on the observed dims ("penalise, don't corrupt", A10.3), so a node that
    stopped explaining its dims loses weight in fusion instead of polluting it.
    Updates w, bias, var, n_updates and pi in place. Returns (status, err) per row:
    status 0 = no observed dims, 1 = responsible and updated, 2 = responsible, not
    updated (no permit or zero train weights), 3 = not responsible; err is NaN for 0.
    """
    count = rows.shape[0]
    status = np.zeros(count, dtype=np.int8)
    errors = np.full(count, np.nan)
    alpha = min(max(sigma_ema, 0.0), 1.0)
    buf = np.empty(_widest(rows, out_ptr))
    for j in range(count):
        r = rows[j]
        o0 = out_ptr[r]
        o1 = out_ptr[r + 1]
        n_obs = 0
        for o in range(o0, o1):
            if observed[out_idx[o]]:
                n_obs += 1
        if n_obs == 0:
            continue
        _predict_row(r, x_in, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, buf)
        err = 0.0
        for o in range(o0, o1):
            k = out_idx[o]
            if observed[k]:
                err += abs(y[k] - buf[o - o0])
        err = err / n_obs
        errors[j] = err
        responsible = err <= theta_learn or n_updates[r] < warmup
        pi[r] = (1.0 - reliability_rate) * pi[r] + reliability_rate * (1.0 if responsible else 0.0)
        if not responsible:
            # penalise, don't corrupt: W and b stay, the variance learns the miss
            if permit:
                for o in range(o0, o1):
                    k = out_idx[o]
                    if observed[k]:
                        miss = y[k] - buf[o - o0]
                        var[o] = max((1.0 - alpha) * var[o] + alpha * miss * miss, 1e-8)
            status[j] = 3
            continue
        status[j] = 2
        if not permit or lr <= 0.0:
            continue
        # pre-update residuals on the trained rows (w_k > 0)
        eps = np.zeros(o1 - o0)
        trained = np.zeros(o1 - o0, dtype=np.uint8)
        any_weight = False
        for o in range(o0, o1):
            k = out_idx[o]
            if not observed[k]:
                continue
            weight = 1.0
            if active_only and not abs(y[k]) > active_threshold:
                weight = 0.0
            if weight_by_value:
                weight *= abs(y[k]) ** value_power
            if weight > 0.0:
                eps[o - o0] = (y[k] - buf[o - o0]) * weight
                trained[o - o0] = 1
                any_weight = True
        if not any_weight:
            continue
        i0 = in_ptr[r]
        n_in = in_ptr[r + 1] - i0
        for o in range(o0, o1):
            local = o - o0
            if not trained[local]:
                continue
            e = eps[local]
            if diag[r]:
                w[w_ptr[r] + local] += lr * e * x_in[out_idx[o]]
            else:
                base = w_ptr[r] + local * n_in
                for i in range(n_in):
                    w[base + i] += lr * e * x_in[in_idx[i0 + i]]
            bias[o] += lr * e
            var[o] = max((1.0 - alpha) * var[o] + alpha * e * e, 1e-8)
        n_updates[r] += 1
        status[j] = 1
    return status, errors


@kernel
def node_relevance(out_ptr, out_idx, observed, n_observed):
    """rel_j = |out_j ∩ O_t| / |out_j|; 0.5 for every node when O_t is empty; 0 if no dims."""
    count = out_ptr.shape[0] - 1
    rel = np.zeros(count)
    for r in range(count):
        n = out_ptr[r + 1] - out_ptr[r]
        if n == 0:
            continue
        if n_observed == 0:
            rel[r] = 0.5
            continue
        hit = 0
        for o in range(out_ptr[r], out_ptr[r + 1]):
            if observed[out_idx[o]]:
                hit += 1
        rel[r] = hit / n
    return rel


@kernel
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@kernel
def activations(score_prev, score_valid, score_now, theta_a, tau_eff):
    """a_j = σ((u_j(t−1) − θ_a)/τ_eff) from lagged scores; from u(t) when no lagged score
    exists at all (first step); 0 for nodes without a lagged score. Also a 0/1 flag of
    which rows have an activation."""
    count = score_now.shape[0]
    any_valid = False
    for r in range(count):
        if score_valid[r]:
            any_valid = True
            break
    act = np.zeros(count)
    has = np.zeros(count, dtype=np.uint8)
    for r in range(count):
        if any_valid:
            if not score_valid[r]:
                continue
            u = score_prev[r]
        else:
            u = score_now[r]
        act[r] = _sigmoid((u - theta_a) / tau_eff)
        has[r] = 1
    return act, has


@kernel
def block_scores(residual, age, alpha_cov, use_age):
    """S(b) = r_b + α_cov·ln(1 + max(0, age_b)), or r_b without age (docs/agent.md §3)."""
    count = residual.shape[0]
    score = np.empty(count)
    for b in range(count):
        score[b] = residual[b]
        if use_age:
            score[b] += alpha_cov * math.log1p(max(0.0, age[b]))
    return score


@kernel
def select_fovea(score, age, norm_cost, peripheral, budget, cap_g):
    """Fovea blocks in selection order (docs/agent.md §3, decisions 4 and 5).

    Budget unit: normalised block cost. Phase a takes peripheral blocks (ascending) that
    fit; phase b takes blocks with age ≥ G (age descending, id ascending), the first one
    even past the budget (the coverage guarantee), the others only if they fit; phase c
    takes the rest by S(b)/n_b descending (ties: lower id) while they fit.
    Peripheral enforcement (docs/agent.md §3): the last q = min(P, |C|) peripheral ids go first; one
    that is missing replaces the last non-peripheral entry (never a mandatory block) only
    when the swap keeps the total within the budget — the budget
    rule of decision 5 wins over enforcement.
    """
    count = score.shape[0]
    taken = np.zeros(count, dtype=np.uint8)
    chosen = np.empty(count, dtype=np.int64)
    n = 0
    remaining = budget
    eps = 1e-12
    forced = -1
    for b in range(count):
        if peripheral[b] and norm_cost[b] <= remaining + eps:
            chosen[n] = b
            n += 1
            taken[b] = 1
            remaining -= norm_cost[b]
    if cap_g > 0:
        mand = np.empty(count, dtype=np.int64)
        m = 0
        for b in range(count):
            if age[b] >= cap_g:
                mand[m] = b
                m += 1
        mand = mand[:m]
        if m > 0:
            order = np.argsort(-age[mand], kind="mergesort")  # age desc, id asc
            have_mandatory = False
            for i in range(m):
                if taken[mand[i]]:
                    have_mandatory = True
                    break
            for i in range(m):
                b = mand[order[i]]
                if taken[b]:
                    continue
                fits = norm_cost[b] <= remaining + eps
                if fits or not have_mandatory:
                    if not fits:
                        forced = b
                    chosen[n] = b
                    n += 1
                    taken[b] = 1
                    remaining = max(0.0, remaining - norm_cost[b])
                    have_mandatory = True
    if remaining > eps:
        ratio = np.empty(count)
        for b in range(count):
            ratio[b] = -score[b] / norm_cost[b]
        order = np.argsort(ratio, kind="mergesort")
        for i in range(count):
            if remaining <= eps:
                break
            b = order[i]
            if taken[b]:
                continue
            if norm_cost[b] <= remaining + eps:
                chosen[n] = b
                n += 1
                taken[b] = 1
                remaining -= norm_cost[b]
    chosen = chosen[:n]
    n_periph = 0
    for b in range(count):
        if peripheral[b]:
            n_periph += 1
    if n_periph == 0 or n == 0:
        return chosen
    q = min(n_periph, n)
    tail = np.empty(q, dtype=np.int64)
    seen_p = 0
    for b in range(count - 1, -1, -1):
        if peripheral[b]:
            seen_p += 1
            tail[q - seen_p] = b
            if seen_p == q:
                break
    spent = 0.0
    for i in range(n):
        spent += norm_cost[chosen[i]]
    limit = max(budget, spent) if forced >= 0 else budget
    keep = np.ones(n, dtype=np.uint8)
    added = np.empty(q, dtype=np.int64)
    n_added = 0
    for i in range(q):
        p = tail[i]
        if taken[p]:
            continue
        for k in range(n - 1, -1, -1):
            b = chosen[k]
            if not keep[k] or peripheral[b] or (cap_g > 0 and age[b] >= cap_g):
                continue
            if spent - norm_cost[b] + norm_cost[p] <= limit + eps:
                keep[k] = 0
                spent += norm_cost[p] - norm_cost[b]
                added[n_added] = p
                n_added += 1
                taken[p] = 1
            break
    out = np.empty(n, dtype=np.int64)
    pos = 0
    for i in range(q):
        if taken[tail[i]]:
            out[pos] = tail[i]
            pos += 1
    for i in range(n):
        b = chosen[i]
        if keep[i] and not peripheral[b]:
            out[pos] = b
            pos += 1
    for i in range(n):
        b = chosen[i]
        if keep[i] and peripheral[b]:
            is_tail = False
            for k in range(q):
                if tail[k] == b:
                    is_tail = True
            if not is_tail:
                out[pos] = b
                pos += 1
    return out[:pos]


@kernel
def track_blocks(observed, abs_err, residual, age, block_start, ema):
    """Fovea tracking (docs/agent.md §9.4, decision 4), in place.

    Observed blocks (any dim in O_t): r_b ← (1−β)·r_b + β·mean_{O_t∩b}|e|, age_b ← 0;
    every other block ages by 1. Returns the 0/1 observed flag per block.
    """
    count = residual.shape[0]
    seen = np.zeros(count, dtype=np.uint8)
    for b in range(count):
        n = 0
        acc = 0.0
        for k in range(block_start[b], block_start[b + 1]):
            if observed[k]:
                acc += abs_err[k]
                n += 1
        if n > 0:
            residual[b] = (1.0 - ema) * residual[b] + ema * (acc / n)
            age[b] = 0.0
            seen[b] = 1
        else:
            age[b] += 1.0
    return seen


@kernel
def residual_bookkeeping(
    seen, observed, observed_prev, err, x_prev, x_now, block_start, cov_ptr, t, beta_r, beta_s,
    persist, visits, last_update, res_mean, res_cov, res_n,
    tr_tau, tr_prev, tr_next, tr_obs, tr_count,
):
    """REST memory for every observed block (docs/agent.md §9.5), in place.

    R_b ← (1−β_R)·R_b + β_R·mean_{O_t∩b}|e|; visits += 1. Residual statistics over the
    block's dims (unobserved dims enter as 0): mean ← (1−β)·mean + β·e,
    cov ← (1−β)·cov + β·(e−mean)(e−mean)ᵀ. The transition (x(t−1), x(t), flags) over
    the block's dims goes into the block's ring of ``tr_tau.shape[0]`` slots; the flag of
    a dim has bit 0 set when it was observed at t and bit 1 when observed at t−1 (else
    x(t−1) there was the agent's own prior).
    """
    count = seen.shape[0]
    cap = tr_tau.shape[0]
    for b in range(count):
        if not seen[b]:
            continue
        s0 = block_start[b]
        s1 = block_start[b + 1]
        n = s1 - s0
        acc = 0.0
        m = 0
        for k in range(s0, s1):
            if observed[k]:
                acc += abs(err[k])
                m += 1
        persist[b] = (1.0 - beta_r) * persist[b] + beta_r * (acc / m)
        visits[b] += 1
        last_update[b] = t
        for k in range(s0, s1):
            res_mean[k] = (1.0 - beta_s) * res_mean[k] + beta_s * err[k]
        c0 = cov_ptr[b]
        for i in range(n):
            di = err[s0 + i] - res_mean[s0 + i]
            for j in range(n):
                dj = err[s0 + j] - res_mean[s0 + j]
                res_cov[c0 + i * n + j] = (1.0 - beta_s) * res_cov[c0 + i * n + j] + beta_s * di * dj
        res_n[b] += 1
        slot = tr_count[b] % cap
        tr_tau[slot, b] = t
        for k in range(s0, s1):
            tr_prev[slot, k] = x_prev[k]
            tr_next[slot, k] = x_now[k]
            tr_obs[slot, k] = (1 if observed[k] else 0) | (2 if observed_prev[k] else 0)
        tr_count[b] += 1


@kernel
def retrieval_candidates(fovea, block_key, inc_ptr, inc_rows, excluded, cap):
    """Block-keyed retrieval C_ret (docs/agent.md §9.3 step 2).

    Incumbents of the fovea blocks that are not excluded (previous working set,
    anchors), each scored by its block's key K(b); the top ``cap`` by (K desc, row asc).
    Returned in ascending row order.
    """
    total = 0
    for i in range(fovea.shape[0]):
        b = fovea[i]
        total += inc_ptr[b + 1] - inc_ptr[b]
    rows = np.empty(total, dtype=np.int64)
    keys = np.empty(total)
    n = 0
    for i in range(fovea.shape[0]):
        b = fovea[i]
        for p in range(inc_ptr[b], inc_ptr[b + 1]):
            r = inc_rows[p]
            if excluded[r]:
                continue
            rows[n] = r
            keys[n] = block_key[b]
            n += 1
    rows = rows[:n]
    keys = keys[:n]
    # a node sits in exactly one block bucket, so rows are distinct; order by (K desc, row asc)
    by_row = np.argsort(rows, kind="mergesort")
    rows = rows[by_row]
    keys = keys[by_row]
    order = np.argsort(-keys, kind="mergesort")
    keep = min(cap, n)
    picked = rows[order[:keep]]
    return np.sort(picked)


@kernel
def greedy_select(anchor_rows, forced_rows, pool_rows, score, cost, n_max, l_max):
    """Working set A_t (docs/agent.md §9.3 steps 1 and 5, decision 1).

    Anchors (ascending row) first; when they exceed the load budget they are kept by cost
    ascending while they fit. Then the forced rows and then GreedySelect over the pool
    minus the forced rows, both by score descending (ties: lower row), each row taken
    while the count allows and its cost still fits the remaining load. Returns the
    selected rows in selection order and the number of anchors kept.
    """
    chosen = np.empty(anchor_rows.shape[0] + forced_rows.shape[0] + pool_rows.shape[0], dtype=np.int64)
    n = 0
    total = 0.0
    for i in range(anchor_rows.shape[0]):
        total += cost[anchor_rows[i]]
    load = 0.0
    if total <= l_max and anchor_rows.shape[0] <= n_max:
        for i in range(anchor_rows.shape[0]):
            chosen[n] = anchor_rows[i]
            n += 1
            load += cost[anchor_rows[i]]
    else:
        order = np.argsort(cost[anchor_rows], kind="mergesort")
        keep = np.zeros(anchor_rows.shape[0], dtype=np.uint8)
        for i in range(order.shape[0]):
            r = anchor_rows[order[i]]
            if n < n_max and load + cost[r] <= l_max:
                keep[order[i]] = 1
                load += cost[r]
                n += 1
        n = 0
        for i in range(anchor_rows.shape[0]):
            if keep[i]:
                chosen[n] = anchor_rows[i]
                n += 1
    n_anchor = n
    remaining_load = l_max - load
    remaining_count = n_max - n
    # forced pass
    if forced_rows.shape[0] > 0:
        order = np.argsort(-score[forced_rows], kind="mergesort")
        for i in range(order.shape[0]):
            r = forced_rows[order[i]]
            if remaining_count > 0 and remaining_load - cost[r] >= -1e-9:
                chosen[n] = r
                n += 1
                remaining_load -= cost[r]
                remaining_count -= 1
    # greedy over the pool minus forced rows
    if remaining_count > 0 and remaining_load > 0.0 and pool_rows.shape[0] > 0:
        order = np.argsort(-score[pool_rows], kind="mergesort")
        used = 0.0
        taken = 0
        for i in range(order.shape[0]):
            if taken >= remaining_count:
                break
            r = pool_rows[order[i]]
            skip = False
            for f in range(forced_rows.shape[0]):
                if forced_rows[f] == r:
                    skip = True
                    break
            if skip:
                continue
            if used + cost[r] > remaining_load:
                continue
            chosen[n] = r
            n += 1
            used += cost[r]
            taken += 1
    return chosen[:n], n_anchor


@kernel
def log_activations(rows, weights, t, act_t, act_a, act_count, last_active):
    """Append (t, a_j) to each selected row's activation ring; last_active ← t. In place."""
    cap = act_t.shape[1]
    for j in range(rows.shape[0]):
        r = rows[j]
        slot = act_count[r] % cap
        act_t[r, slot] = t
        act_a[r, slot] = weights[j]
        act_count[r] += 1
        last_active[r] = t
