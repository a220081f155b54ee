"""Decoder-level check of the original token-only mode against the reference figures.

A plain-numpy twin of the headless lattice (θ only: init draws, ring + small-world
coupling with attention mods, wrapstore; docs/lattice.md §1, §3, §4, §6) and of
the per-patch entropyRate of pat-tokens.md §1 drives ``decoders.decode_tokens`` exactly
as the live decoder does: tokens (scale 32, no Aact) rebuilt before every step. The sums
are the reference figures of the pat-replay issue, so a mismatch here isolates the
decoder from the lattice and token builders. (The full driver is checked against the same
figures in test_replay_live.py.)
"""

from __future__ import annotations

import math

import numpy as np

from pattools.replay import decoders
from pattools.replay.geometry import splat_geometry

TAU = 2 * math.pi
RING_K = {1: 1.0, 2: -0.3, 3: 0.15}


def _i32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


class _Xorshift32:
    def __init__(self, seed):
        self.x = _i32(seed) or 123456789

    def __call__(self):
        x = self.x
        x = _i32(x ^ (x << 13))
        x = _i32(x ^ ((x & 0xFFFFFFFF) >> 17))
        x = _i32(x ^ (x << 5))
        self.x = x
        return (x & 0xFFFFFFFF) / 4294967295


def naive_init(width, height, key):
    rng = _Xorshift32(12345 + 31 * width + 101 * height + 997 * key)
    n = width * height
    theta = np.array([np.float32(rng() * TAU) for _ in range(n)], dtype=np.float32)
    seeds = np.array([np.float32(rng() * 2 - 1) for _ in range(n)], dtype=np.float32)
    omega = (seeds.astype(np.float64) * 0.25).astype(np.float32)
    edges = []  # (dst, src, sign) in insertion order
    for y in range(height):
        for x in range(width):
            if rng() < 0.04:
                for _ in range(2):
                    for _try in range(50):
                        qx = math.floor(rng() * width)
                        qy = math.floor(rng() * height)
                        if 6 <= math.sqrt((x - qx) ** 2 + (y - qy) ** 2) <= 20:
                            sign = -1 if rng() < 0.2 else 1
                            edges.append((y * width + x, (qy % height) * width + qx % width, sign))
                            break
    return theta, omega, edges


def _ring_offsets():
    return [
        (dx, dy, r)
        for r in (1, 2, 3)
        for dy in range(-r, r + 1)
        for dx in range(-r, r + 1)
        if max(abs(dx), abs(dy)) == r
    ]


def naive_step(theta, omega, edges, width, height, dt, mods, gains):
    gk, bk, ga, ba = gains
    t2 = theta.astype(np.float64).reshape(height, width)
    a = mods.aact.astype(np.float64).reshape(height, width)
    u = mods.uact.astype(np.float64).reshape(height, width)
    alpha = ga * mods.lap_a.astype(np.float64).reshape(height, width) - ba * mods.div_u.astype(
        np.float64
    ).reshape(height, width)
    coupling = np.zeros((height, width))
    for dx, dy, r in _ring_offsets():
        shift = (-dy, -dx)
        aj, uj, tj = (np.roll(f, shift, axis=(0, 1)) for f in (a, u, t2))
        coupling = coupling + RING_K[r] * (1 + gk * a * aj - bk * u * uj) * np.sin(tj - t2 - alpha)
    c, tf, af, uf, al = (f.reshape(-1) for f in (coupling, t2, a, u, alpha))
    for dst, src, sign in edges:
        m = 1 + gk * af[dst] * af[src] - bk * uf[dst] * uf[src]
        c[dst] = c[dst] + (0.25 * sign) * m * math.sin(tf[src] - tf[dst] - al[dst])
    v = tf + dt * (omega.astype(np.float64) + 0.8 * c)
    out = np.fmod(v, TAU).astype(np.float32)
    return np.where(out < 0, (out.astype(np.float64) + TAU).astype(np.float32), out)


def naive_entropy_rates(theta, width, height, scale):
    th = theta.astype(np.float64)
    cos_t = np.cos(th).astype(np.float32).reshape(height, width).astype(np.float64)
    sin_t = np.sin(th).astype(np.float32).reshape(height, width).astype(np.float64)
    rates = []
    for y0 in range(0, height, scale):
        for x0 in range(0, width, scale):
            total, count = 0.0, 0
            for y in range(y0, min(height, y0 + scale)):
                for x in range(x0, min(width, x0 + scale)):
                    xm, xp, ym, yp = (x - 1) % width, (x + 1) % width, (y - 1) % height, (y + 1) % height
                    c, s = cos_t[y, x], sin_t[y, x]
                    gx = -s * (0.5 * (cos_t[y, xp] - cos_t[y, xm])) + c * (0.5 * (sin_t[y, xp] - sin_t[y, xm]))
                    gy = -s * (0.5 * (cos_t[yp, x] - cos_t[ym, x])) + c * (0.5 * (sin_t[yp, x] - sin_t[ym, x]))
                    total += math.hypot(gx, gy)
                    count += 1
            rates.append(min(1.0, max(0.0, total / count / math.pi)))
    return np.array(rates)


def test_token_only_mode_reference_figures():
    width = height = 32
    scale = 32
    theta, omega, edges = naive_init(width, height, 1312)
    assert len(edges) == 70
    ids = [f"{x},{y},{scale}" for y in range(0, height, scale) for x in range(0, width, scale)]
    geometry = splat_geometry(ids, width, height, scale)
    seen = {}
    for k in range(1, 33):
        stats = np.zeros((len(ids), 7))
        stats[:, 2] = naive_entropy_rates(theta, width, height, scale)
        mods = decoders.decode_tokens(decoders.token_amplitudes(stats), geometry, width, height)
        theta = naive_step(theta, omega, edges, width, height, 0.03, mods, (0.6, 0.2, 0.15, 0.1))
        if k in (1, 10, 32):
            total = 0.0
            for v in theta.tolist():
                total += v
            seen[k] = (total, theta[:3].tolist())
    assert seen[1] == (3360.1754342273343, [2.2535228729248047, 3.3690338134765625, 3.55159592628479])
    assert seen[10][0] == 3397.5486957738176
    assert seen[32] == (3515.5059533705935, [1.402225136756897, 2.425367593765259, 3.5422985553741455])
