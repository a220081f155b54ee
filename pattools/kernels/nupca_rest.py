"""NUPCA REST kernels: the spectral split test run on every operating step (docs/agent.md §13.1).

Why: SPLIT proposals are checked for every working-set node of an observed block each
step (≈ 40 small matrices at the defaults), too many for numpy's per-call overhead. The
test bisects a node's dims by the sign of the Fiedler vector of the graph whose edge
weights are the absolute residual correlations (the fix of docs/agent.md §17, item 27: the original
took the correlation matrix's second eigenvector, which cannot separate two independent
groups of dims). Eigenvectors come from a cyclic Jacobi sweep: small, dependency-free and
deterministic.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel


@kernel
def jacobi_eigh(matrix):
    """Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi."""
    n = matrix.shape[0]
    a = matrix.copy()
    v = np.eye(n)
    scale = 0.0
    for i in range(n):
        for j in range(n):
            scale += a[i, j] * a[i, j]
    for _sweep in range(100):
        off = 0.0
        for p in range(n):
            for q in range(p + 1, n):
                off += a[p, q] * a[p, q]
        if off <= 1e-30 * max(scale, 1e-300):
            break
        for p in range(n):
            for q in range(p + 1, n):
                apq = a[p, q]
                if abs(apq) < 1e-300:
                    continue
                theta = (a[q, q] - a[p, p]) / (2.0 * apq)
                sign = 1.0 if theta >= 0.0 else -1.0
                t = sign / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(n):
                    akp = a[k, p]
                    akq = a[k, q]
                    a[k, p] = c * akp - s * akq
                    a[k, q] = s * akp + c * akq
                for k in range(n):
                    apk = a[p, k]
                    aqk = a[q, k]
                    a[p, k] = c * apk - s * aqk
                    a[q, k] = s * apk + c * aqk
                for k in range(n):
                    vkp = v[k, p]
                    vkq = v[k, q]
                    v[k, p] = c * vkp - s * vkq
                    v[k, q] = s * vkp + c * vkq
    values = np.empty(n)
    for i in range(n):
        values[i] = a[i, i]
    return values, v


@kernel
def correlation_from_covariance(cov):
    """corr_ij = cov_ij / sqrt(cov_ii·cov_jj) (0 when either variance is 0), 1 on the diagonal."""
    n = cov.shape[0]
    corr = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                corr[i, j] = 1.0
            elif cov[i, i] > 0.0 and cov[j, j] > 0.0:
                corr[i, j] = cov[i, j] / math.sqrt(cov[i, i] * cov[j, j])
    return corr


@kernel
def split_by_fiedler(cov):
    """(side per dim (0/1), mean |cross-correlation|) of the spectral bisection, or
    (sides, −1.0) when either side would be empty or a dim has no residual variance.

    Graph Laplacian L = Deg − |C| over the off-diagonal |correlations|; the Fiedler vector
    is the eigenvector of L + c·11ᵀ/n with the smallest eigenvalue (c above L's spectrum
    moves the constant vector out of the way, so disconnected groups split cleanly).
    Sign convention: the largest |component| (first on ties) is positive; side 0 holds
    the components ≥ 0.
    """
    n = cov.shape[0]
    side = np.zeros(n, dtype=np.int64)
    if n < 2:
        return side, -1.0
    for i in range(n):
        if not cov[i, i] > 1e-300:  # a dim without residual variance carries no evidence
            return side, -1.0
    corr = correlation_from_covariance(cov)
    lap = np.zeros((n, n))
    top = 0.0
    for i in range(n):
        degree = 0.0
        for j in range(n):
            if i != j:
                w = abs(corr[i, j])
                lap[i, j] = -w
                degree += w
        lap[i, i] = degree
        top = max(top, degree)
    shift = 2.0 * top + 1.0
    for i in range(n):
        for j in range(n):
            lap[i, j] += shift / n
    values, vectors = jacobi_eigh(lap)
    best = 0
    for i in range(1, n):
        if values[i] < values[best]:
            best = i
    vec = vectors[:, best].copy()
    big = 0
    for i in range(1, n):
        if abs(vec[i]) > abs(vec[big]):
            big = i
    if vec[big] < 0.0:
        vec = -vec
    n0 = 0
    for i in range(n):
        if vec[i] >= 0.0:
            side[i] = 0
            n0 += 1
        else:
            side[i] = 1
    if n0 == 0 or n0 == n:
        return side, -1.0
    acc = 0.0
    for i in range(n):
        for j in range(n):
            if side[i] == 0 and side[j] == 1:
                acc += abs(corr[i, j])
    return side, acc / (n0 * (n - n0))


@kernel
def split_scan(rows, footprint, out_ptr, out_idx, block_start, cov_ptr, res_cov, res_n, seen,
               min_samples, threshold):
    """Mean cross-correlation of the spectral split for each candidate row, −1 where no
    split qualifies (block unobserved this step, too few samples, < 2 dims, one side
    empty, or cross-correlation ≥ threshold)."""
    count = rows.shape[0]
    cross = np.full(count, -1.0)
    for j in range(count):
        r = rows[j]
        b = footprint[r]
        if b < 0 or not seen[b] or res_n[b] < min_samples:
            continue
        o0 = out_ptr[r]
        n = out_ptr[r + 1] - o0
        if n < 2:
            continue
        size = block_start[b + 1] - block_start[b]
        c0 = cov_ptr[b]
        sub = np.empty((n, n))
        for i in range(n):
            li = out_idx[o0 + i] - block_start[b]
            for k in range(n):
                lk = out_idx[o0 + k] - block_start[b]
                sub[i, k] = res_cov[c0 + li * size + lk]
        _side, value = split_by_fiedler(sub)
        if value >= 0.0 and value < threshold:
            cross[j] = value
    return cross


@kernel
def _chronological(act_t, act_a, act_count, r):
    cap = act_t.shape[1]
    count = act_count[r]
    n = min(count, cap)
    times = np.empty(n, dtype=np.int64)
    values = np.empty(n)
    head = count % cap if count > cap else 0
    for i in range(n):
        slot = (head + i) % cap
        times[i] = act_t[r, slot]
        values[i] = act_a[r, slot]
    return times, values


@kernel
def activation_correlations(rows_a, rows_b, act_t, act_a, act_count, min_common):
    """Pearson correlation of the activation logs of each row pair over their common
    logged steps; NaN with fewer than ``min_common`` common steps. Two constant logs
    count as 1, exactly one constant log as 0."""
    count = rows_a.shape[0]
    out = np.full(count, np.nan)
    for j in range(count):
        ta, va = _chronological(act_t, act_a, act_count, rows_a[j])
        tb, vb = _chronological(act_t, act_a, act_count, rows_b[j])
        xa = np.empty(min(ta.shape[0], tb.shape[0]))
        xb = np.empty(xa.shape[0])
        i = 0
        k = 0
        n = 0
        while i < ta.shape[0] and k < tb.shape[0]:
            if ta[i] == tb[k]:
                xa[n] = va[i]
                xb[n] = vb[k]
                n += 1
                i += 1
                k += 1
            elif ta[i] < tb[k]:
                i += 1
            else:
                k += 1
        if n < min_common:
            continue
        const_a = True
        const_b = True
        for i in range(1, n):
            if xa[i] != xa[0]:
                const_a = False
            if xb[i] != xb[0]:
                const_b = False
        if const_a and const_b:
            out[j] = 1.0
            continue
        if const_a or const_b:
            out[j] = 0.0
            continue
        ma = 0.0
        mb = 0.0
        for i in range(n):
            ma += xa[i]
            mb += xb[i]
        ma /= n
        mb /= n
        saa = 0.0
        sbb = 0.0
        sab = 0.0
        for i in range(n):
            da = xa[i] - ma
            db = xb[i] - mb
            saa += da * da
            sbb += db * db
            sab += da * db
        out[j] = sab / (math.sqrt(saa) * math.sqrt(sbb))
    return out
