"""Plain-Python twins of the token, affect and metrics kernels, written straight from
docs/tokens.md §1–2 and docs/lattice.md §9 (one cell at a time, per-cell
neighbour lists, libm via ``math``). The kernel tests compare against these bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

PI = math.pi
TAU = 2.0 * math.pi


def f32(v: float) -> float:
    return float(np.float32(v))


def wrap(a: float) -> float:
    r = math.fmod(a + PI, TAU)
    if r < 0:
        r += TAU
    return r - PI


def wrapd(d: float) -> float:
    if abs(d) > 64 * PI:  # the kernels' guard for phases no lattice stores
        d = math.fmod(d, TAU)
    while d > PI:
        d -= TAU
    while d <= -PI:
        d += TAU
    return d


def hypot_js(a: float, b: float) -> float:
    a, b = abs(a), abs(b)
    if math.isinf(a) or math.isinf(b):
        return math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    m = max(a, b)
    if m == 0:
        return 0.0
    s = 0.0
    comp = 0.0
    for v in (a, b):  # the engine's Kahan loop, literally
        n = v / m
        summand = n * n - comp
        prelim = s + summand
        comp = (prelim - s) - summand
        s = prelim
    return math.sqrt(s) * m


def clamp01(v: float) -> float:
    return 0.0 if v < 0 else (1.0 if v > 1 else v)


def neighbour_lists(W: int, H: int, wrap_flag: bool) -> list[list[tuple[int, int]]]:
    """Per cell: [(j, ring)] in ring order, dy outer, dx inner; invalid skipped."""
    lists = []
    for y in range(H):
        for x in range(W):
            nb = []
            for r in (1, 2, 3):
                for dy in range(-r, r + 1):
                    for dx in range(-r, r + 1):
                        if max(abs(dx), abs(dy)) != r:
                            continue
                        xx, yy = x + dx, y + dy
                        if wrap_flag:
                            xx, yy = (xx + W) % W, (yy + H) % H
                        elif not (0 <= xx < W and 0 <= yy < H):
                            continue
                        nb.append((yy * W + xx, r))
            lists.append(nb)
    return lists


def metrics(theta, W: int, H: int, wrap_flag: bool = True) -> dict:
    th = [float(v) for v in theta]
    n = W * H
    rs = 0.0
    rs2 = 0.0
    for i, nb in enumerate(neighbour_lists(W, H, wrap_flag)):
        w = [f32(1.0 / r) for _, r in nb]
        total = 0.0
        for v in w:
            total += v
        inv = 1.0 / total
        w = [f32(v * inv) for v in w]
        sc = 0.0
        ss = 0.0
        for k, (j, _) in enumerate(nb):
            sc += w[k] * math.cos(th[j])
            ss += w[k] * math.sin(th[j])
        rho = f32(hypot_js(sc, ss))
        rs += clamp01(rho)
        rs2 += rho * rho
    rho_mean = rs / n
    plus = minus = 0
    mx = my = 0.0
    for y in range(H):
        for x in range(W):
            x1, y1 = (x + 1) % W, (y + 1) % H
            t00, t10, t11, t01 = th[y * W + x], th[y * W + x1], th[y1 * W + x1], th[y1 * W + x]
            s = wrapd(t10 - t00) + wrapd(t11 - t10) + wrapd(t01 - t11) + wrapd(t00 - t01)
            if s > PI:
                plus += 1
            elif s < -PI:
                minus += 1
    for y in range(H):
        for x in range(W):
            i = y * W + x
            mx += abs(wrapd(th[i] - th[y * W + (x - 1 + W) % W]))
            my += abs(wrapd(th[i] - th[((y - 1 + H) % H) * W + x]))
    mx /= n
    my /= n
    return {
        "rhoMean": rho_mean,
        "rhoStd": math.sqrt(max(0.0, rs2 / n - rho_mean * rho_mean)),
        "defectDensity": (plus + minus) / n,
        "defectsPlus": plus,
        "defectsMinus": minus,
        "entropyGrad": 0.5 * (mx + my),
        "anisotropyHV": (mx - my) / max(1e-6, mx + my),
    }


def affect(energy, W: int, H: int, m: dict) -> tuple[float, float]:
    E = [float(v) for v in energy]
    n = W * H
    rho_mean = clamp01(m["rhoMean"])
    se = 0.0
    sa = 0.0
    for v in E:
        se += v
        sa += abs(v)
    e_mean = se / n
    mm = max(1e-6, sa / n)
    d_ref = 0.0
    for y in range(H):
        for x in range(W):
            d_ref += abs(E[y * W + x] - E[y * W + (W - 1 - x)])
    side = min(W, H)
    d_rot = 0.0
    for y in range(side):
        for x in range(side):
            d_rot += abs(E[y * W + x] - E[x * W + y])
    sym = clamp01(0.5 * ((1 - clamp01(d_ref / (n * mm) / 2)) + (1 - clamp01(d_rot / (side * side * mm) / 2))))
    p, q = m["defectsPlus"], m["defectsMinus"]
    chi = max(-1.0, min(1.0, (p - q) / (p + q) if p + q > 0 else 0.0))

    def norm(x, lo, hi):
        return clamp01((x - lo) / (hi - lo))

    n_e = norm(e_mean, 0.1, 1.0)
    n_h = norm(m["entropyGrad"], 0, PI / 2)
    n_d = norm(m["defectDensity"], 0, 0.02)
    ar = clamp01(0.4 * n_e + 0.2 * n_h + 0.4 * (1 - rho_mean))
    va = clamp01(0.5 * rho_mean + 0.05 * sym + 0.05 * (0.5 + 0.5 * chi) - 0.25 * n_d - 0.15 * n_h)
    return (ar if math.isfinite(ar) else 0.0), (va if math.isfinite(va) else 0.0)


def lfq(v: float) -> int:
    return min(3, math.floor(clamp01(v) * 4))


def tokens(theta, energy, W: int, H: int, scale: int, t: float, wrap_flag=True, aact=None, heads=None):
    """(list of PAToken dicts, [(plus, minus)] per token, metrics dict)."""
    m = metrics(theta, W, H, wrap_flag)
    ar, va = affect(energy, W, H, m)
    cT = [f32(math.cos(float(v))) for v in theta]
    sT = [f32(math.sin(float(v))) for v in theta]
    E = [float(v) for v in energy]
    A = None if aact is None else [float(v) for v in aact]

    def phi(k):
        return math.atan2(sT[k], cT[k])

    out = []
    defects = []
    for y0 in range(0, H, scale):
        for x0 in range(0, W, scale):
            x1, y1 = min(W, x0 + scale), min(H, y0 + scale)
            sum_e = cx = sx = sum_g = sxx = sxy = syy = sum_l = sum_a = sum_a2 = 0.0
            cnt = 0
            for y in range(y0, y1):
                for x in range(x0, x1):
                    i = y * W + x
                    xm, xp, ym, yp = (x - 1 + W) % W, (x + 1) % W, (y - 1 + H) % H, (y + 1) % H
                    c, s = cT[i], sT[i]
                    sum_e += E[i]
                    cx += c
                    sx += s
                    cnt += 1
                    dcx = 0.5 * (cT[y * W + xp] - cT[y * W + xm])
                    dsx = 0.5 * (sT[y * W + xp] - sT[y * W + xm])
                    dcy = 0.5 * (cT[yp * W + x] - cT[ym * W + x])
                    dsy = 0.5 * (sT[yp * W + x] - sT[ym * W + x])
                    gx = -s * dcx + c * dsx
                    gy = -s * dcy + c * dsy
                    sum_g += hypot_js(gx, gy)
                    sxx += gx * gx
                    sxy += gx * gy
                    syy += gy * gy
                    pc = phi(i)
                    lap = wrap(phi(y * W + xm) - pc) + wrap(phi(y * W + xp) - pc)
                    lap = lap + wrap(phi(ym * W + x) - pc) + wrap(phi(yp * W + x) - pc)
                    sum_l += abs(lap)
                    if A is not None:
                        sum_a += A[i]
                        sum_a2 += A[i] * A[i]
            plus = minus = 0
            for y in range(y0, y1 - 1):
                for x in range(x0, x1 - 1):
                    p00, p10 = phi(y * W + x), phi(y * W + x + 1)
                    p11, p01 = phi((y + 1) * W + x + 1), phi((y + 1) * W + x)
                    w = wrap(p10 - p00) + wrap(p11 - p10) + wrap(p01 - p11) + wrap(p00 - p01)
                    if w > PI:
                        plus += 1
                    elif w < -PI:
                        minus += 1
            mean_g = sum_g / cnt
            mean_l = sum_l / cnt
            phi_gf = math.atan2(sx, cx)
            th_o = 0.5 * math.atan2(2 * sxy, sxx - syy) if sxx + syy > 1e-9 else 0.0
            a_mean = a_var = 0.0
            if A is not None:
                a_mean = sum_a / cnt
                a_var = math.sqrt(max(0.0, sum_a2 / cnt - a_mean * a_mean))
            vortex = 1 if plus > minus else (-1 if minus > plus else 0)
            er = clamp01(mean_g / PI)
            h = (min(PI / 2, max(-PI / 2, th_o)) + PI / 2) / PI
            feats = [1.0, (wrap(phi_gf) + PI) / TAU, abs(h - 0.5) * 2, er, clamp01(min(1.0, abs(mean_l) / PI))]
            token = {
                "hdr": {"t": t, "scale": scale, "patchId": f"{x0},{y0},{scale}"},
                "geom": {"A": 1.0, "phi_gf": phi_gf, "theta": th_o, "gradPhi": mean_g, "kappa": mean_l},
                "stats": {
                    "rho": clamp01(hypot_js(cx, sx) / cnt),
                    "energy": clamp01(sum_e / cnt),
                    "entropyRate": er,
                    "arousal": ar,
                    "valence": va,
                    "attnMean": a_mean,
                    "attnVar": a_var,
                },
            }
            if heads is not None:
                token["heads"] = [float(v) for v in heads]
            token["topo"] = {"vortex": vortex, "chirality": vortex}
            token["code"] = {"rvq": [lfq(f) for f in feats]}
            out.append(token)
            defects.append((plus, minus))
    return out, defects, m


def test_twin_hypot_is_the_scaled_form():
    for a, b in [(3.0, 4.0), (0.0, 0.0), (-1e-300, 2e-300), (1.0, 1.0), (0.1, 0.7)]:
        m = max(abs(a), abs(b))
        x, y = (abs(a) / m, abs(b) / m) if m else (0.0, 0.0)
        want = 0.0 if m == 0 else math.sqrt(x * x + y * y) * m
        assert hypot_js(a, b) == want
