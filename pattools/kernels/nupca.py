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
def _predict_row(r, x, u, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel, mu):
    """mu[0:|out_r|] = prediction of node row ``r`` over its output dims:
    W·x[in] + b + vel ⊙ u[out], or w ⊙ x[out] + b + vel ⊙ u[out] for a diagonal row
    (u: the agent's per-dim velocity estimate)."""
    o0 = out_ptr[r]
    o1 = out_ptr[r + 1]
    wb = w_ptr[r]
    if diag[r]:
        for o in range(o0, o1):
            k = out_idx[o]
            mu[o - o0] = bias[o] + w[wb + o - o0] * x[k] + vel[o] * u[k]
        return
    i0 = in_ptr[r]
    n_in = in_ptr[r + 1] - i0
    for o in range(o0, o1):
        base = wb + (o - o0) * n_in
        acc = bias[o] + vel[o] * u[out_idx[o]]
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
def predict_rows(rows, x, u, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel):
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
        _predict_row(r, x, u, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel, buf)
        n = out_ptr[r + 1] - out_ptr[r]
        for i in range(n):
            mu[pos + i] = buf[i]
        pos += n
    return mu


@kernel
def precision_of(variance, scale, sigma_floor):
    """Λ = 1 / max(σ², (sigma_floor·s_k)², 1e-300): no node is trusted beyond 1/sigma_floor²
    times a predictor whose error is the dim's running one-step change s_k (decision 8,
    made scale-free)."""
    floor = sigma_floor * scale
    return 1.0 / max(variance, floor * floor, 1e-300)


@kernel
def fuse_rows(rows, x, u, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel, var, scale, sigma_floor):
    """Precision-weighted diagonal fusion (reference §10) over the given rows.

    Returns (yhat, precision): yhat[k] = Σ_j Λ_jk·mu_jk / Σ_j Λ_jk on covered dims and
    x[k] on dims no row covers, whose precision is 0 (infinite variance); Λ from
    ``precision_of``.
    """
    dim = x.shape[0]
    prec = np.zeros(dim)
    acc = np.zeros(dim)
    buf = np.empty(_widest(rows, out_ptr))
    for j in range(rows.shape[0]):
        r = rows[j]
        _predict_row(r, x, u, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel, buf)
        o0 = out_ptr[r]
        for o in range(o0, out_ptr[r + 1]):
            k = out_idx[o]
            lam = precision_of(var[o], scale[k], sigma_floor)
            prec[k] += lam
            acc[k] += lam * buf[o - o0]
    yhat = x.copy()
    for k in range(dim):
        if prec[k] > 0.0:
            yhat[k] = acc[k] / prec[k]
    return yhat, prec


@kernel
def _train_weight(yk, active_only, active_threshold, weight_by_value, value_power):
    weight = 1.0
    if active_only and not abs(yk) > active_threshold:
        weight = 0.0
    if weight_by_value:
        weight *= abs(yk) ** value_power
    return weight


@kernel
def _rls_velocity(o, z, e, vel, vel_p, forget, delta):
    """Scalar RLS step for one velocity gain: regressor z, error e (in place)."""
    if z == 0.0:
        return
    if vel_p[o] == 0.0:
        vel_p[o] = 1.0 / (delta * z * z)
    pz = vel_p[o] * z
    gain = pz / (forget + z * pz)
    vel[o] += gain * e
    left = vel_p[o] - gain * pz
    # forget only while P stays within 1e6 fresh samples' worth (no wind-up when z is tiny)
    if left * z * z < 1e6 / delta:
        left /= forget
    vel_p[o] = max(left, 1e-300)


@kernel
def _rls_full(r, z, eps, trained, in_ptr, w_ptr, w, bias, out_ptr, p_ptr, p, p0, forget, delta, learn_bias):
    """One RLS step of a full node on input z (with 1 appended when learn_bias): every
    trained output row moves by gain·ε, the shared P by the rank-one downdate, then is
    divided by the forgetting factor unless its trace has grown past 1e6 times its start.
    Returns 0 when the node had no P yet and z carries no energy, else the factor
    λ/(λ + zᵀPz) by which the step shrank every trained row's error."""
    m = z.shape[0]
    n_in = in_ptr[r + 1] - in_ptr[r]
    pb = p_ptr[r]
    if p0[r] == 0.0:
        energy = 0.0
        for i in range(m):
            energy += z[i] * z[i]
        energy /= m
        if energy == 0.0:
            return 0.0
        p0[r] = 1.0 / (delta * energy)
        for i in range(m):
            for k in range(m):
                p[pb + i * m + k] = p0[r] if i == k else 0.0
    pz = np.zeros(m)
    for i in range(m):
        acc = 0.0
        for k in range(m):
            acc += p[pb + i * m + k] * z[k]
        pz[i] = acc
    denom = forget
    for i in range(m):
        denom += z[i] * pz[i]
    o0 = out_ptr[r]
    for o in range(o0, out_ptr[r + 1]):
        if not trained[o - o0]:
            continue
        e = eps[o - o0]
        base = w_ptr[r] + (o - o0) * n_in
        for i in range(n_in):
            w[base + i] += pz[i] / denom * e
        if learn_bias:
            bias[o] += pz[n_in] / denom * e
    trace = 0.0
    for i in range(m):
        for k in range(m):
            p[pb + i * m + k] -= pz[i] * pz[k] / denom
        trace += p[pb + i * m + i]
    if trace < 1e6 * m * p0[r]:
        for i in range(m * m):
            p[pb + i] /= forget
    return forget / denom


@kernel
def learn_rows(
    rows, x_in, u_in, gap, y, observed, observed_prev, scale, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel,
    vel_p, var, p_ptr, p, p0, n_updates, n_obs, pi, permit, forget, delta, learn_bias, from_rollouts, sigma_ema,
    theta_learn,
    warmup, reliability_rate, active_only, active_threshold, weight_by_value, value_power,
):
    """Responsibility, reliability, variance and one RLS step per working-set row
    (reference §11, decision 3 revised).

    For row j with observed output dims obs_j = out_j ∩ O_t (``observed``: 0/1 mask of
    O_t): mu_j = its prediction from the previous posterior ``x_in`` (and velocity
    ``u_in``); err_j = mean_{obs_j} |y − mu_j|. j is responsible when err_j ≤ theta_learn
    × mean_{obs_j} scale_k (the dims' running one-step change, so the test has no units)
    or it has fewer than ``warmup`` updates. Reliability π_j ← (1−ρ)·π_j + ρ·[responsible]
    (decision 13). With ``permit``: the variance of every observed output takes the miss
    (y − mu)², as a running mean over the first 1/sigma_ema samples and an EMA after; a
    responsible row then takes one RLS step on the train-weighted errors ε: a full row's W
    over its input (``_rls_full``) when every input dim was observed at t−1 (or always,
    with ``from_rollouts``: the agent's own rollout as input teaches a weak model to
    iterate its errors), then every velocity gain on what W left unexplained, with
    regressor u_k·gap_k (the prior's sensitivity to that gain after gap_k steps of
    rollout); a diagonal row only has the velocity gains. A row that is not responsible
    keeps W, b and its gains ("penalise, don't corrupt", A10.3).
    Updates w, bias, vel, vel_p, var, p, p0, n_updates, n_obs, pi in place. Returns
    (status, err) per row: 0 = no observed dims, 1 = responsible and updated,
    2 = responsible, not updated (no permit, zero train weights or no signal),
    3 = not responsible; err is NaN for 0.
    """
    count = rows.shape[0]
    status = np.zeros(count, dtype=np.int8)
    errors = np.full(count, np.nan)
    alpha = min(max(sigma_ema, 0.0), 1.0)
    widest = _widest(rows, out_ptr)
    buf = np.empty(widest)
    eps = np.empty(widest)
    trained = np.zeros(widest, dtype=np.uint8)
    for j in range(count):
        r = rows[j]
        o0 = out_ptr[r]
        o1 = out_ptr[r + 1]
        n_obs_j = 0
        ref = 0.0
        for o in range(o0, o1):
            if observed[out_idx[o]]:
                n_obs_j += 1
                ref += scale[out_idx[o]]
        if n_obs_j == 0:
            continue
        _predict_row(r, x_in, u_in, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag, bias, vel, buf)
        err = 0.0
        for o in range(o0, o1):
            k = out_idx[o]
            if observed[k]:
                err += abs(y[k] - buf[o - o0])
        err = err / n_obs_j
        errors[j] = err
        responsible = err <= theta_learn * (ref / n_obs_j) or n_updates[r] < warmup
        pi[r] = (1.0 - reliability_rate) * pi[r] + reliability_rate * (1.0 if responsible else 0.0)
        if permit:
            rate = max(alpha, 1.0 / (n_obs[r] + 1.0))
            for o in range(o0, o1):
                k = out_idx[o]
                if observed[k]:
                    miss = y[k] - buf[o - o0]
                    var[o] = max((1.0 - rate) * var[o] + rate * miss * miss, 1e-300)
            n_obs[r] += 1
        if not responsible:
            status[j] = 3
            continue
        status[j] = 2
        if not permit:
            continue
        any_weight = False
        for o in range(o0, o1):
            k = out_idx[o]
            trained[o - o0] = 0
            eps[o - o0] = 0.0
            if observed[k]:
                weight = _train_weight(y[k], active_only, active_threshold, weight_by_value, value_power)
                if weight > 0.0:
                    eps[o - o0] = (y[k] - buf[o - o0]) * weight
                    trained[o - o0] = 1
                    any_weight = True
        if not any_weight:
            continue
        if diag[r]:
            moved = False
            for o in range(o0, o1):
                k = out_idx[o]
                if trained[o - o0] and u_in[k] * gap[k] != 0.0:
                    _rls_velocity(o, u_in[k] * gap[k], eps[o - o0], vel, vel_p, forget, delta)
                    moved = True
        else:
            i0 = in_ptr[r]
            n_in = in_ptr[r + 1] - i0
            m = n_in + (1 if learn_bias else 0)
            z = np.empty(m)
            fresh = True
            for i in range(n_in):
                z[i] = x_in[in_idx[i0 + i]]
                if not observed_prev[in_idx[i0 + i]]:
                    fresh = False
            shrink = 1.0  # W takes no sample from the agent's own rollout (unless from_rollouts)
            if fresh or from_rollouts:
                if learn_bias:
                    z[n_in] = 1.0
                shrink = _rls_full(r, z, eps, trained, in_ptr, w_ptr, w, bias, out_ptr, p_ptr, p, p0, forget,
                                   delta, learn_bias)
                moved = shrink > 0.0
            else:
                moved = False
            if shrink > 0.0:  # the velocity gains, on what the new W leaves unexplained
                for o in range(o0, o1):
                    k = out_idx[o]
                    if trained[o - o0] and u_in[k] * gap[k] != 0.0:
                        _rls_velocity(o, u_in[k] * gap[k], eps[o - o0] * shrink, vel, vel_p, forget, delta)
                        moved = True
        if moved:
            n_updates[r] += 1
            status[j] = 1
    return status, errors


@kernel
def track_dims(obs_idx, obs_vals, t, seen_value, seen_step, velocity, change_scale, scale_ema):
    """Per-dim memory of observations, in place; returns last-seen persistence's error.

    For each observed dim k: the last-seen persistence error |y − ℓ_k| (ℓ_k = the value
    when k was last observed, 0 before its first observation) enters the returned sum;
    if k was seen before, its velocity u_k ← (y − ℓ_k)/(t − τ_k) (per-step change between
    its last two observations) and its running one-step change s_k ← EMA of |y − ℓ_k| at
    rate ``scale_ema`` (the first change sets it); then ℓ_k ← y, τ_k ← t.
    Returns (Σ|y − ℓ|, per-dim gap t − τ_k before the update, 0 for unseen dims).
    """
    total = 0.0
    gap = np.zeros(seen_value.shape[0])
    for i in range(obs_idx.shape[0]):
        k = obs_idx[i]
        y = obs_vals[i]
        change = y - seen_value[k]
        total += abs(change)
        if seen_step[k] >= 0:
            steps = t - seen_step[k]
            gap[k] = steps
            velocity[k] = change / steps
            if change_scale[k] == 0.0:
                change_scale[k] = abs(change)
            else:
                change_scale[k] = (1.0 - scale_ema) * change_scale[k] + scale_ema * abs(change)
        seen_value[k] = y
        seen_step[k] = t
    return total, gap


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
    """S(b) = r_b + α_cov·ln(1 + max(0, age_b)), or r_b without age (reference §3)."""
    count = residual.shape[0]
    score = np.empty(count)
    for b in range(count):
        score[b] = residual[b]
        if use_age:
            score[b] += alpha_cov * math.log1p(max(0.0, age[b]))
    return score


@kernel
def select_fovea(score, age, norm_cost, peripheral, budget, cap_g):
    """Fovea blocks in selection order (reference §3, decisions 4 and 5).

    Budget unit: normalised block cost. Phase a takes peripheral blocks (ascending) that
    fit; phase b takes blocks with age ≥ G (age descending, id ascending), the first one
    even past the budget (the coverage guarantee), the others only if they fit; phase c
    takes the rest by S(b)/n_b descending (ties: lower id) while they fit.
    Peripheral enforcement (§3.3b): the last q = min(P, |C|) peripheral ids go first; one
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
    """Fovea tracking (reference §9.4, decision 4), in place.

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
    """REST memory for every observed block (reference §9.5), in place.

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
    """Block-keyed retrieval C_ret (reference §9.3 step 2).

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
    """Working set A_t (reference §9.3 steps 1 and 5, decision 1).

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
