"""PAT token kernels (docs/tokens.md §1 steps 2–6, §2 energy sums).

``phase_fields`` turns θ into everything the token and metric passes read, with one
sincos per cell: the padded float64 cos/sin planes for ρ (kernels.metrics), the float32
``cosT``/``sinT`` of the tokens and the float64 angle ``φ = atan2(sinT, cosT)``, the
last three on planes with a 1-cell torus border so that neighbour reads are plain
offsets. ``frame_reduce`` runs a frame's cell passes in one call: ``phase_fields``, the
metric terms (``kernels.metrics``), the index-order sums (``frame_sums``) and the
per-patch reductions (``kernels.patches``); ``kernels.token_columns`` assembles tokens.

Exactness: cosT/sinT are certified float32 roundings of libm's cos/sin (cells whose fast
value lies within SINCOS_ERR of a float32 rounding boundary take libm's); φ has libm's
atan2 bits (``phase_angle``: a certified fast atan2 where it provably agrees with libm,
libm elsewhere), phi_gf and theta use libm's atan2; the hypot is the JavaScript
engine's (``hypot_js``). The ``*_reference`` kernels are the straightforward versions
(libm everywhere, flat arrays, one scalar loop) kept for parity tests; both give
identical bits. numpy's SIMD ufuncs (``np.arctan2``, ``np.hypot``) are never used: on
some CPUs they differ from libm.

Cost (one thread, bench/bench_tokens.py): a 96×96 frame takes ≈ 0.25 ms in build_frame;
φ ≈ 40 µs of it (libm's atan2 alone took ≈ 0.11 ms).
"""

from __future__ import annotations

import math

import numpy as np

from pattools.kernels._jit import kernel, prange
from pattools.kernels.lattice_sincos import SINCOS_ERR, sincos
from pattools.kernels.metrics import rho_step_terms_into
from pattools.kernels.patches import patch_reduce
from pattools.kernels.phase_angle import phase_angle_row
from pattools.kernels.planes import PAD, fill_border, zero_border


@kernel(parallel=True)


def phase_fields_reference(theta: np.ndarray, W: int, H: int, wrap: bool) -> tuple:
    """(cp, sp, cosT, sinT, phi): libm cos/sin planes as ``pad_cos_sin_reference``, and
    flat float32 cos/sin and float64 atan2(sinT, cosT)."""
    N = W * H
    PW = W + 2 * PAD
    PH = H + 2 * PAD
    cos_t = np.empty(N, dtype=np.float32)
    sin_t = np.empty(N, dtype=np.float32)
    phi = np.empty(N)
    cp = np.zeros((PH, PW))
    sp = np.zeros((PH, PW))
    for y in prange(H):
        row = y * W
        for x in range(W):
            v = np.float64(theta[row + x])
            c = math.cos(v)
            s = math.sin(v)
            cp[y + PAD, x + PAD] = c
            sp[y + PAD, x + PAD] = s
            cf = np.float32(c)
            sf = np.float32(s)
            cos_t[row + x] = cf
            sin_t[row + x] = sf
            phi[row + x] = math.atan2(np.float64(sf), np.float64(cf))
    if wrap:
        fill_border(cp, W, H, PAD)
        fill_border(sp, W, H, PAD)
    return cp, sp, cos_t, sin_t, phi


@kernel
def phase_fields(theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int) -> tuple:
    """(cp, sp, ctp, stp, php): fast cos/sin planes for ρ as ``planes.pad_cos_sin``;
    float32 cosT/sinT (certified equal to libm's roundings) and float64 φ on
    (H+2)×(W+2) planes with a 1-cell torus border."""
    cp = np.empty((H + 2 * PAD, W + 2 * PAD))
    sp = np.empty((H + 2 * PAD, W + 2 * PAD))
    ctp = np.empty((H + 2, W + 2), dtype=np.float32)
    stp = np.empty((H + 2, W + 2), dtype=np.float32)
    php = np.empty((H + 2, W + 2))
    phase_fields_into(theta, W, H, wrap, n_bands, cp, sp, ctp, stp, php)
    return cp, sp, ctp, stp, php


@kernel(parallel=True)


def phase_fields_into(
    theta: np.ndarray, W: int, H: int, wrap: bool, n_bands: int, cp, sp, ctp, stp, php
) -> None:
    """``phase_fields`` writing every element of caller-owned planes (reused across
    frames, so a frame allocates no large arrays). Rows run in ``n_bands`` parallel
    bands, each row in separate vectorisable loops (sincos, certification, libm for the
    uncertified cells) that write straight into the planes' rows, then
    ``phase_angle_row``."""
    err = 2.0 * SINCOS_ERR
    for band in prange(n_bands):
        ok = np.empty(W, dtype=np.bool_)
        kbuf = np.empty(W, dtype=np.int64)
        wbuf = np.empty(W)
        hbuf = np.empty(W)
        lbuf = np.empty(W)
        for y in range((band * H) // n_bands, ((band + 1) * H) // n_bands):
            row = y * W
            t_row = theta[row : row + W]
            crow = cp[y + PAD, PAD : PAD + W]
            srow = sp[y + PAD, PAD : PAD + W]
            cf = ctp[y + 1, 1 : W + 1]
            sf = stp[y + 1, 1 : W + 1]
            for x in range(W):
                s, c = sincos(np.float64(t_row[x]))
                crow[x] = c
                srow[x] = s
            for x in range(W):
                c = crow[x]
                s = srow[x]
                c_lo = np.float32(c - err)
                s_lo = np.float32(s - err)
                cf[x] = c_lo
                sf[x] = s_lo
                ok[x] = (c_lo == np.float32(c + err)) & (s_lo == np.float32(s + err))
            for x in range(W):
                if not ok[x]:
                    v = np.float64(t_row[x])
                    cf[x] = np.float32(math.cos(v))
                    sf[x] = np.float32(math.sin(v))
            phase_angle_row(sf, cf, t_row, php[y + 1, 1 : W + 1], kbuf, wbuf, hbuf, lbuf, ok)
    if wrap:
        fill_border(cp, W, H, PAD)
        fill_border(sp, W, H, PAD)
    else:
        zero_border(cp, W, H, PAD)
        zero_border(sp, W, H, PAD)
    fill_border(ctp, W, H, 1)
    fill_border(stp, W, H, 1)
    fill_border(php, W, H, 1)


@kernel
def energy_sums(energy: np.ndarray, W: int, H: int) -> tuple:
    """Index-order sums for the affect symmetry (docs/tokens.md §2):
    (Σ E, Σ |E|, dRef = Σ |E(x,y) − E(W−1−x,y)|, dRot = Σ_{y,x<M} |E[y·W+x] − E[x·W+y]|)."""
    s = 0.0
    s_abs = 0.0
    d_ref = 0.0
    for y in range(H):
        row = y * W
        for x in range(W):
            e = np.float64(energy[row + x])
            s += e
            s_abs += abs(e)
            d_ref += abs(e - np.float64(energy[row + W - 1 - x]))
    m = min(W, H)
    d_rot = 0.0
    for y in range(m):
        for x in range(m):
            d_rot += abs(np.float64(energy[y * W + x]) - np.float64(energy[x * W + y]))
    return s, s_abs, d_ref, d_rot


@kernel
def frame_sums(rho: np.ndarray, ex: np.ndarray, ey: np.ndarray, dsign: np.ndarray, energy: np.ndarray,
               W: int, H: int, with_metrics: bool) -> tuple:
    """``metric_sums`` (zeros unless ``with_metrics``) followed by ``energy_sums``, in one
    pass: every sum still runs in cell index order, but the ten chains are independent,
    so one loop costs about as much as the longest of them."""
    s_rho = 0.0
    s_rho2 = 0.0
    s_ex = 0.0
    s_ey = 0.0
    plus = 0
    minus = 0
    s = 0.0
    s_abs = 0.0
    d_ref = 0.0
    d_rot = 0.0
    m = min(W, H)
    for y in range(H):
        row = y * W
        for x in range(W):
            i = row + x
            if with_metrics:
                r = np.float64(rho[i])
                rc = r
                if rc < 0.0:
                    rc = 0.0
                elif rc > 1.0:
                    rc = 1.0
                s_rho += rc
                s_rho2 += r * r
                s_ex += ex[i]
                s_ey += ey[i]
                d = dsign[i]
                if d > 0:
                    plus += 1
                elif d < 0:
                    minus += 1
            e = np.float64(energy[i])
            s += e
            s_abs += abs(e)
            d_ref += abs(e - np.float64(energy[row + W - 1 - x]))
            if y < m and x < m:
                d_rot += abs(e - np.float64(energy[x * W + y]))
    return (s_rho, s_rho2, s_ex, s_ey, plus, minus), (s, s_abs, d_ref, d_rot)


@kernel
def frame_reduce(theta: np.ndarray, energy: np.ndarray, aact: np.ndarray, has_aact: bool, W: int, H: int,
                 wrap: bool, scale: int, n_bands: int, with_metrics: bool, cp, sp, ctp, stp, php, rho, ex, ey,
                 dsign, step_k, step_s, step_c) -> tuple:
    """Everything build_frame needs from the cells, in one call: ``phase_fields_into``,
    ``rho_step_terms_into`` (when ``with_metrics``; with 4 ``step_k`` values also the
    next lattice step's ring sums), ``frame_sums`` and ``patch_reduce``.
    Returns (red, counts, metric sums, energy sums)."""
    phase_fields_into(theta, W, H, wrap, n_bands, cp, sp, ctp, stp, php)
    if with_metrics:
        rho_step_terms_into(cp, sp, theta, W, H, wrap, n_bands, rho, ex, ey, dsign, step_k, step_s, step_c)
    msums, esums = frame_sums(rho, ex, ey, dsign, energy, W, H, with_metrics)
    red, counts = patch_reduce(ctp, stp, php, energy, aact, has_aact, W, H, scale)
    return red, counts, msums, esums
