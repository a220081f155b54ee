"""Token → modulator-field decoders of pat-replay (docs/replay.md, docs/tokens.md §3).

Every decoder returns the four per-cell float32 fields the lattice step takes
(``Aact, Uact, lapA, divU``), or None when no modulator is active (the step then runs
exactly as in the export).

- ``delta``: a coupling drive ``a_p``, a phase drive ``q_p``, a roughening drive ``r_p``
  and a winding drive ``w_p`` per patch from the edit deltas Δ (``DecoderConstants``);
  a, q splatted into A (``max(a,0)``), U (``max(−a,0)``) and P (``q``); ``Aact = tanh A``,
  ``Uact = tanh U``, ``lapA = P + checker·splat(r) + Σ w_p·azimuth_p``, ``divU = 0``;
  with the wind on (etaV ≠ 0), also the wind field ``A = splat(kWindE·max(Δenergy, 0))``.
  Δ = 0 gives None.
- ``tokens``: the original token-only decoder: amplitude per token (attnMean when > 0,
  else entropyRate, clamped to [0,1]) splatted into A, ``U = boxblur(A)``,
  ``Aact = tanh A``, ``Uact = tanh U``, ``lapA = Lap5 A``, ``divU = Lap5 U``.
  The ``live`` decoder runs this one on tokens rebuilt from the live lattice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pattools.kernels import fields as kern
from pattools.replay.geometry import SplatGeometry
from pattools.replay.settings import DecoderConstants

# Column positions in TokenFrame / Deltas (GEOM_FIELDS, STATS_FIELDS, code dims).
G_A, G_PHI, G_GRAD, G_KAPPA = 0, 1, 3, 4
S_RHO, S_ENERGY, S_ENT, S_AROUSAL, S_VALENCE, S_ATTN = 0, 1, 2, 3, 4, 5
C_A, C_PHI, C_ENT, C_KAPPA = 0, 1, 3, 4
T_CHIR = 1
CODE_STEP_KAPPA = math.pi / 4
# the winding profile: weight 1 out to WIND_INNER patches from the centre, 0 from WIND_OUTER
WIND_INNER, WIND_OUTER = 0.5, 0.75
CODE_STEP_UNIT = 0.25  # one code step of A or entropyRate, in the feature's units
CODE_STEP_PHASE = math.pi / 2  # one code step of phi_gf

CALIB_SCALE = 1.0  # the original calib.json: identity
CALIB_BIAS = 0.0


@dataclass(frozen=True)
class ModFields:
    """Decoded modulator fields, float32[W·H] each."""

    aact: np.ndarray
    uact: np.ndarray
    lap_a: np.ndarray
    div_u: np.ndarray
    wind_a: np.ndarray | None = None  # the wind's field A (None: no wind)


def _code_dim(drvq: np.ndarray | None, dim: int) -> np.ndarray | None:
    """The code deltas of one codebook dimension, None where the codes are too short to
    have it (unvalidated input: codes of other lengths carry no delta there)."""
    return None if drvq is None or dim >= drvq.shape[1] else drvq[:, dim]


def _code_fallback(field_delta: np.ndarray, code_delta: np.ndarray | None, unit: float) -> np.ndarray:
    """A code delta without the matching field delta counts as its bin width."""
    if code_delta is None:
        return field_delta
    return np.where((field_delta == 0.0) & (code_delta != 0), code_delta * unit, field_delta)


def drives(
    dgeom: np.ndarray,
    dstats: np.ndarray,
    drvq: np.ndarray | None,
    constants: DecoderConstants,
    dtopo: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coupling drive a[T] and phase drive q[T] from per-token deltas (float64)."""
    d_a = _code_fallback(dgeom[:, G_A], _code_dim(drvq, C_A), CODE_STEP_UNIT)
    d_ent = _code_fallback(dstats[:, S_ENT], _code_dim(drvq, C_ENT), CODE_STEP_UNIT)
    d_phi = _code_fallback(dgeom[:, G_PHI], _code_dim(drvq, C_PHI), CODE_STEP_PHASE)
    a = constants.kRho * dstats[:, S_RHO]
    a = a - constants.kEnt * d_ent
    a = a - constants.kGrad * dgeom[:, G_GRAD] / math.pi
    a = a + constants.kA * d_a
    a = a + constants.kAttn * dstats[:, S_ATTN]
    d_kappa = _code_fallback(dgeom[:, G_KAPPA], _code_dim(drvq, C_KAPPA), CODE_STEP_KAPPA)
    a = a - constants.kKappa * np.minimum(d_kappa, 0.0)
    a = a + constants.kAffect * (dstats[:, S_VALENCE] - dstats[:, S_AROUSAL])
    if dtopo is not None:
        a = a + constants.kChirK * np.abs(dtopo[:, T_CHIR]).astype(np.float64)
    q = constants.kPhase * d_phi + constants.kEnergy * dstats[:, S_ENERGY]
    return np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(q, dtype=np.float64)


def pattern_drives(
    dgeom: np.ndarray,
    dtopo: np.ndarray,
    drvq: np.ndarray | None,
    constants: DecoderConstants,
) -> tuple[np.ndarray, np.ndarray]:
    """Roughening drive r[T] (curvature up) and winding drive w[T] (chirality) per token."""
    d_kappa = _code_fallback(dgeom[:, G_KAPPA], _code_dim(drvq, C_KAPPA), CODE_STEP_KAPPA)
    rough = constants.kRough * np.maximum(d_kappa, 0.0)
    wind = constants.kChir * dtopo[:, T_CHIR].astype(np.float64)
    return np.ascontiguousarray(rough, dtype=np.float64), np.ascontiguousarray(wind, dtype=np.float64)


def wind_drive(dstats: np.ndarray, constants: DecoderConstants) -> np.ndarray:
    """The wind's drive e[T] = kWindE·max(Δenergy, 0): a peak of A draws energy in (the
    wind cannot drain a patch, so decreases are left to the phase lag)."""
    e = constants.kWindE * np.maximum(dstats[:, S_ENERGY].astype(np.float64), 0.0)
    return np.ascontiguousarray(e, dtype=np.float64)


def checker(width: int, height: int) -> np.ndarray:
    """(−1)^(x+y) per cell, float64[W·H]."""
    y, x = np.mgrid[0:height, 0:width]
    return np.where((x + y) % 2 == 0, 1.0, -1.0).reshape(-1)


@lru_cache(maxsize=8)
def _winding_template(scale: int) -> tuple[int, np.ndarray]:
    """azimuth·g on the window of offsets (dy, dx) ∈ [−reach, reach]² around a centre."""
    inner, outer = WIND_INNER * scale, WIND_OUTER * scale
    reach = int(math.ceil(outer))
    dy, dx = np.mgrid[-reach:reach + 1, -reach:reach + 1].astype(np.float64)
    g = np.clip((outer - np.hypot(dx, dy)) / (outer - inner), 0.0, 1.0)
    template = np.arctan2(dy, dx) * g
    template.setflags(write=False)
    return reach, template


def winding_field(wind: np.ndarray, geometry: SplatGeometry, width: int, height: int, scale: int) -> np.ndarray:
    """Σ_p w_p·azimuth_p(x, y)·g(d): a lag (local frequency shift) that grows with the
    angle around patch p's centre, so it winds the phase by sign(w_p) around that centre.
    g is 1 out to half a patch from the centre and falls linearly to 0 at ¾ of a patch, so
    the opposite defect the winding leaves at the cut's end lands at the patch's edge or
    outside it, and the lag barely reaches the neighbours."""
    reach, template = _winding_template(scale)
    out = np.zeros((height, width))
    for t in np.flatnonzero(wind != 0.0).tolist():
        cx, cy = int(geometry.cx[t]), int(geometry.cy[t])
        x0, x1 = max(0, cx - reach), min(width, cx + reach + 1)
        y0, y1 = max(0, cy - reach), min(height, cy + reach + 1)
        out[y0:y1, x0:x1] += wind[t] * template[y0 - cy + reach:y1 - cy + reach, x0 - cx + reach:x1 - cx + reach]
    return out.reshape(-1)


def decode_delta(
    a: np.ndarray,
    q: np.ndarray,
    geometry: SplatGeometry,
    width: int,
    height: int,
    weights: np.ndarray | None = None,
    rough: np.ndarray | None = None,
    wind: np.ndarray | None = None,
    scale: int = 0,
    wind_e: np.ndarray | None = None,
) -> ModFields | None:
    """Fields of the delta decoder; None when every drive is zero. ``wind`` is the winding
    (chirality) drive of the phase lag, ``wind_e`` the wind's drive (``wind_drive``)."""
    if weights is not None:
        a = a * weights
        q = q * weights
        rough = None if rough is None else rough * weights
        wind = None if wind is None else wind * weights
        wind_e = None if wind_e is None else wind_e * weights
    patterned = (rough is not None and np.any(rough != 0.0)) or (wind is not None and np.any(wind != 0.0))
    windy = wind_e is not None and bool(np.any(wind_e != 0.0))
    if not (np.any(a != 0.0) or np.any(q != 0.0) or patterned or windy):
        return None
    g = geometry
    zeros = np.zeros(width * height, dtype=np.float32)

    def activated(amp: np.ndarray) -> np.ndarray:
        # tanh(0) = 0 with the identity calibration: an empty channel stays all zeros
        if not np.any(amp != 0.0):
            return zeros
        field = kern.splat_gaussian(width, height, g.cx, g.cy, np.ascontiguousarray(amp), g.sigma)
        return kern.tanh_calibrated(field, CALIB_SCALE, CALIB_BIAS)

    phase = zeros
    if np.any(q != 0.0):
        phase = kern.splat_gaussian(width, height, g.cx, g.cy, np.ascontiguousarray(q), g.sigma)
    if patterned:
        lag = phase.astype(np.float64)
        if rough is not None and np.any(rough != 0.0):
            spread = kern.splat_gaussian(width, height, g.cx, g.cy, np.ascontiguousarray(rough), g.sigma)
            lag = lag + checker(width, height) * spread
        if wind is not None and np.any(wind != 0.0):
            lag = lag + winding_field(wind, g, width, height, scale or 2 * g.sigma)
        phase = lag.astype(np.float32)
    return ModFields(
        aact=activated(np.where(a > 0.0, a, 0.0)),
        uact=activated(np.where(a < 0.0, -a, 0.0)),
        lap_a=phase,
        div_u=zeros,
        wind_a=kern.splat_gaussian(width, height, g.cx, g.cy, np.ascontiguousarray(wind_e), g.sigma) if windy else None,
    )


def token_amplitudes(stats: np.ndarray) -> np.ndarray:
    """attnMean if finite and > 0, else entropyRate if finite, else 0; clamped to [0,1]."""
    attn = stats[:, S_ATTN]
    ent = stats[:, S_ENT]
    amp = np.where(np.isfinite(attn) & (attn > 0.0), attn, np.where(np.isfinite(ent), ent, 0.0))
    return np.ascontiguousarray(np.clip(amp, 0.0, 1.0), dtype=np.float64)


def decode_tokens(
    amp: np.ndarray,
    geometry: SplatGeometry,
    width: int,
    height: int,
    weights: np.ndarray | None = None,
) -> ModFields:
    """Fields of the original token-only decoder (docs/tokens.md §3)."""
    if weights is not None:
        amp = np.ascontiguousarray(amp * weights)
    g = geometry
    field_a = kern.splat_gaussian(width, height, g.cx, g.cy, amp, g.sigma)
    field_u = kern.box_blur_wrapped(field_a, width, height, g.radius)
    return ModFields(
        aact=kern.tanh_calibrated(field_a, CALIB_SCALE, CALIB_BIAS),
        uact=kern.tanh_calibrated(field_u, CALIB_SCALE, CALIB_BIAS),
        lap_a=kern.laplacian5_wrapped(field_a, width, height),
        div_u=kern.laplacian5_wrapped(field_u, width, height),
    )
