"""Plain-numpy twin of the lattice (init and step), written straight from the spec.

Gather form: an N×48 neighbour table in canonical order (ring 1, 2, 3; dy-major), the
coupling accumulated column by column (so each cell sums in canonical order), then the
small-world edges in insertion order; noise cell by cell from its own stream. Slow and
memory-hungry by design; it checks the kernels on small grids.
"""

from __future__ import annotations

import math

import numpy as np

TAU = 2.0 * math.pi
F32 = np.float32


class Stream:
    def __init__(self, state: int) -> None:
        self.x = (state & 0xFFFFFFFF) or 123456789

    def __call__(self) -> float:
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x / 4294967295.0


def int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def offsets():
    out = []
    for r in (1, 2, 3):
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if max(abs(dx), abs(dy)) == r:
                    out.append((dx, dy, r))
    return out


def neighbour_table(W, H, wrap):
    """int64[N, 48] neighbour indices (−1 for none) and the ring of each column."""
    offs = offsets()
    ys, xs = np.divmod(np.arange(W * H), W)
    table = np.empty((W * H, len(offs)), dtype=np.int64)
    for k, (dx, dy, _r) in enumerate(offs):
        xx = xs + dx
        yy = ys + dy
        if wrap:
            table[:, k] = ((yy + H) % H) * W + (xx + W) % W
        else:
            ok = (xx >= 0) & (xx < W) & (yy >= 0) & (yy < H)
            table[:, k] = np.where(ok, yy * W + xx, -1)
    return table, np.array([r for _dx, _dy, r in offs])


def init(W, H, key, *, wrap=True, spread=0.25, sw_prob=0.04, per_node=2, dmin=6.0, dmax=20.0,
         neg=0.2, e0=0.35):
    seed = int32(int(12345.0 + 31.0 * W + 101.0 * H + 997.0 * key))
    u = Stream(seed)
    n = W * H
    theta = np.array([F32(u() * TAU) for _ in range(n)], dtype=F32)
    oseed = np.array([F32(u() * 2.0 - 1.0) for _ in range(n)], dtype=F32)
    omega = (oseed.astype(np.float64) * spread).astype(F32)
    edges = [[] for _ in range(n)]
    for y in range(H):
        for x in range(W):
            if u() < sw_prob:
                for _e in range(per_node):
                    for _t in range(50):
                        qx = math.floor(u() * W)
                        qy = math.floor(u() * H)
                        if dmin <= math.sqrt((x - qx) ** 2 + (y - qy) ** 2) <= dmax:
                            sign = -1 if u() < neg else 1
                            if wrap:
                                edges[y * W + x].append((((qy + H) % H) * W + (qx + W) % W, sign))
                            elif qx < W and qy < H:
                                edges[y * W + x].append((qy * W + qx, sign))
                            break
    somega = np.empty(n, dtype=F32)
    homega = np.empty(n, dtype=F32)
    for i in range(n):
        somega[i] = F32((u() * 2.0 - 1.0) * 0.1)
        homega[i] = F32((u() * 2.0 - 1.0) * 0.1)
    noise = int32(int32(0x9E3779B9) ^ int32(W << 5) ^ int32(H << 11) ^ int32(int32(key) << 17))
    return {
        "W": W, "H": H, "wrap": wrap, "theta": theta, "omega": omega, "oseed": oseed,
        "phi_s": theta.copy(), "omega_s": somega, "phi_h": theta.copy(), "omega_h": homega,
        "energy": np.full(n, F32(e0), dtype=F32), "edges": edges, "noise": noise, "rng": u.x,
    }


def wrapstore(v):
    a = np.fmod(v, TAU).astype(F32)
    neg = a < 0
    a[neg] = (a[neg].astype(np.float64) + TAU).astype(F32)
    return a


DEFAULTS = {"Kbase": 0.8, "K1": 1.0, "K2": -0.3, "K3": 0.15, "swWeight": 0.25, "surfPull": 0.4,
            "hypPull": 0.3, "energyBaseline": 0.35, "energyDiff": 0.12, "sinkLine": 0.03,
            "energyMax": 4.0}


def step(st, dt, *, p=DEFAULTS, table=None, mods=None, gains=(0.6, 0.2, 0.15, 0.1, 0.4, 0.15),
         noise_amp=0.0):
    """One step of §4.1 on the dict state, in place."""
    W, H = st["W"], st["H"]
    n = W * H
    if table is None:
        table = neighbour_table(W, H, st["wrap"])
    nbr, ring = table
    th = st["theta"].astype(np.float64)
    # S1, S2
    for phi, om, pull in (("phi_s", "omega_s", p["surfPull"]), ("phi_h", "omega_h", p["hypPull"])):
        f = st[phi].astype(np.float64)
        d = st[om].astype(np.float64) + pull * np.sin(th - f)
        st[phi] = wrapstore(f + d * dt)
    # S3
    gk, bk, ga, ba, gd, dd = gains
    if mods is not None:
        A, U, LA, DU = (np.asarray(m, dtype=np.float64) for m in mods)
        alpha = ga * LA - ba * DU
    else:
        alpha = np.zeros(n)
    K = {1: p["K1"], 2: p["K2"], 3: p["K3"]}
    C = np.zeros(n)
    for k in range(nbr.shape[1]):
        kb = K[int(ring[k])]
        if kb == 0.0:
            continue
        j = nbr[:, k]
        ok = j >= 0
        jj = np.where(ok, j, 0)
        m = 1.0 + gk * A * A[jj] - bk * U * U[jj] if mods is not None else 1.0
        term = kb * m * np.sin(th[jj] - th - alpha)
        C = np.where(ok, C + term, C)
    maxdeg = max((len(e) for e in st["edges"]), default=0)
    for rank in range(maxdeg):
        for i, lst in enumerate(st["edges"]):
            if len(lst) > rank:
                j, s = lst[rank]
                m = 1.0 + gk * A[i] * A[j] - bk * U[i] * U[j] if mods is not None else 1.0
                C[i] += p["swWeight"] * float(s) * m * math.sin(th[j] - th[i] - alpha[i])
    new = wrapstore(th + dt * (st["omega"].astype(np.float64) + p["Kbase"] * C))
    # S4
    if noise_amp > 0.0:
        u = Stream(st["noise"])
        for i in range(n):
            xi = 2.0 * u() - 1.0
            amp = noise_amp
            if mods is not None:
                amp = noise_amp * (1.0 - gd * A[i]) + dd * U[i]
                amp = min(max(amp, 0.0), 1.5 * max(1e-6, noise_amp))
            new[i] = wrapstore(np.array([float(new[i]) + xi * amp * dt]))[0]
        st["noise"] = int32(u.x)
    st["theta"] = new
    # S5
    t = new.astype(np.float64)
    e = st["energy"].astype(np.float64)
    drive = p["energyBaseline"] + p["energyDiff"] * (
        np.sin(st["phi_s"].astype(np.float64) - t) + 0.5 * np.sin(st["phi_h"].astype(np.float64) - t))
    e2 = e + dt * (drive - p["sinkLine"] * e)
    st["energy"] = np.minimum(np.maximum(e2, 0.0), p["energyMax"]).astype(F32)
