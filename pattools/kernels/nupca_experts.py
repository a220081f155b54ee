"""NUPCA expert kernels: prediction, precision-weighted fusion and learning (decision 3).

Why: prediction and learning touch every working-set node each step; the library is a
set of flat arrays (``pattools.nupca.experts``) and each hot loop is one serial kernel
over them, in a fixed order (rows in selection order, dims ascending) so every sum is
bit-reproducible.

Learning (decision 3, revised) is scale-free: recursive least squares with forgetting
over a full node's inputs, whose first inverse covariance is scaled to the data, and
scalar RLS for the per-dim velocity gains. Nothing compares a number in the data's units
with a constant: responsibility and the precision floor are relative to each dim's
running one-step change (``track_dims``).

Library arrays (see experts.py): ``out_ptr/out_idx`` output dims, ``in_ptr/in_idx``
input dims, ``w_ptr/w`` weights (row-major |out|×|in|, or |out| gains when ``diag``),
``bias``, ``vel`` (velocity gains), ``vel_p`` and ``var`` aligned with ``out_idx``;
``p_ptr/p`` the RLS matrices and ``p0`` their initial scale.
"""

from __future__ import annotations

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
    rows, x_in, u_in, gap, y, observed, observed_prev, scale, out_ptr, out_idx, in_ptr, in_idx, w_ptr, w, diag,
    bias, vel, vel_p, var, p_ptr, p, p0, n_updates, n_obs, pi, permit, forget, delta, learn_bias, from_rollouts,
    sigma_ema, theta_learn,
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
