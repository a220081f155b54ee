"""Advance a lattice state by one step (docs/lattice.md §4.1, §6).

Sub-step order: surface and hyper layers from the old θ; the Jacobi field update
(Chebyshev rings K1..K3, then signed small-world edges, optional modulators); noise
from the separate stream when noise_amp > 0; energy from the new θ and layers.
``kernel="fast"`` (default) and ``kernel="reference"`` give identical bytes; the
reference is the straightforward canonical-order kernel kept for parity audits. A step
with the wind (modulators whose etaV ≠ 0) runs the canonical kernel with the wind's
terms (``kernels.lattice_wind``) whichever kernel is asked for.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.errors import UsageError
from pattools.lattice.modulators import Modulators, Wind
from pattools.lattice.params import LatticeParams
from pattools.lattice.rng import to_int32
from pattools.lattice.state import LatticeState

KERNELS = ("fast", "reference")
_EMPTY = np.zeros(0, dtype=np.float32)
_NO_GAINS = np.zeros(6, dtype=np.float64)
_NO_ROWS = np.zeros(1, dtype=np.int64)
_NO_RING = (np.zeros(0), np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0)))
_NO_SINES = np.zeros((0, 0))


def coefficients(params: LatticeParams, dt: float, noise_amp: float) -> np.ndarray:
    """The float64 parameter vector the kernels read (indices COEF_* of the kernels)."""
    from pattools.kernels import lattice as K

    coef = np.zeros(K.N_COEF, dtype=np.float64)
    coef[K.COEF_DT] = dt
    coef[K.COEF_KBASE] = params.Kbase
    coef[K.COEF_K1] = params.K1
    coef[K.COEF_K2] = params.K2
    coef[K.COEF_K3] = params.K3
    coef[K.COEF_SW] = params.swWeight
    coef[K.COEF_SURF_PULL] = params.surfPull
    coef[K.COEF_HYP_PULL] = params.hypPull
    coef[K.COEF_E_BASE] = params.energyBaseline
    coef[K.COEF_E_DIFF] = params.energyDiff
    coef[K.COEF_E_SINK] = params.sinkLine
    coef[K.COEF_E_MAX] = params.energyMax
    coef[K.COEF_NOISE] = noise_amp
    return coef


def frame_wind(state: LatticeState, a: np.ndarray, eta_v: float) -> Wind:
    """The wind of a frame from field ``a`` (float32[W·H]) and the state's current θ:
    lapAraw = Lap5(A) and advect = ∂xA·∂xθ + ∂yA·∂yθ, to hold over the frame's steps."""
    from pattools.kernels import lattice_wind as KW

    n = state.W * state.H
    a = np.ascontiguousarray(a, dtype=np.float32).reshape(-1)
    if a.size != n:
        raise UsageError(f"the wind field has {a.size} values, the grid {n}")
    return Wind(a, KW.laplacian5(a, state.W, state.H, state.wrap),
                KW.advect_field(state.phases, a, state.W, state.H, state.wrap), float(eta_v))


def use_threads_for_grid(W: int, H: int) -> int:
    """Run the kernels of a W×H grid on one thread when it is small (see kernels._jit)."""
    from pattools.kernels._jit import use_threads_for

    return use_threads_for(W * H)


def step(
    state: LatticeState,
    params: LatticeParams,
    dt: float,
    *,
    mods: Modulators | None = None,
    noise_amp: float = 0.0,
    kernel: str = "fast",
) -> None:
    """Advance ``state`` in place by one step of ``dt``."""
    if kernel not in KERNELS:
        raise UsageError(f"unknown lattice kernel {kernel!r} (expected one of {', '.join(KERNELS)})")
    _step(state, step_coefficients(params, dt, noise_amp), mods, kernel)


def step_coefficients(params: LatticeParams, dt: float, noise_amp: float) -> np.ndarray:
    """``coefficients`` after checking dt and the noise amplitude (UsageError)."""
    dt = float(dt)
    noise_amp = float(noise_amp)
    if not math.isfinite(dt):
        raise UsageError(f"dt must be a finite number, got {dt!r}")
    if not math.isfinite(noise_amp) or noise_amp < 0.0:
        raise UsageError(f"noise amplitude must be a finite number ≥ 0, got {noise_amp!r}")
    return coefficients(params, dt, noise_amp)


def ring_sum_weights(params: LatticeParams) -> np.ndarray:
    """(a3, a5, a7, k1): the box-sum weights of the fast kernel's coupling ring sums,
    ((a7·B7 + a5·B5) + a3·B3) − k1·f, computed as the kernel computes them."""
    from pattools.kernels import lattice as K

    coef = coefficients(params, 0.0, 0.0)
    k1, k2, k3 = coef[K.COEF_K1], coef[K.COEF_K2], coef[K.COEF_K3]
    return np.array([k1 - k2, k2 - k3, k3, k1], dtype=np.float64)


def step_sharing(state: LatticeState, coef: np.ndarray, *, ring: tuple | None = None, sines: np.ndarray,
                 sines_given: bool, bands: int | None = None) -> None:
    """``step`` (fast kernel, no modulators; ``coef`` = ``step_coefficients(params, dt,
    noise_amp)``) with work shared across frames and steps; the bytes are ``step``'s.

    ``ring`` = (ring sum of sin θ, of cos θ, padded sin θ plane, padded cos θ plane) of
    the current θ, as ``tokens.build.build_frame_and_ring_sums`` leaves them with
    ``ring_sum_weights(params)`` (consumed: the small-world edges are added in place).
    ``sines`` (float64 [2, W·H]) receives sines of the new state for the next step, and
    holds those of the current state when ``sines_given`` (the previous step wrote them
    and nothing has changed the state since). ``bands``: row bands (default: one per
    numba thread)."""
    _check_shared(state, ring, sines)
    _step(state, coef, None, "fast", ring, sines, sines_given, bands)


def _check_shared(state: LatticeState, ring: tuple | None, sines: np.ndarray) -> None:
    """The kernel indexes these without bounds checks: their shapes must be exact."""
    n = state.W * state.H
    padded = (state.H + 6, state.W + 6)
    if sines.shape != (2, n) or sines.dtype != np.float64:
        raise ValueError(f"sines must be float64 [2, {n}], got {sines.dtype} {sines.shape}")
    if ring is not None:
        pre_s, pre_c, sp, cp = ring
        if pre_s.shape != (n,) or pre_c.shape != (n,) or sp.shape != padded or cp.shape != padded:
            raise ValueError("ring sums must be [W·H] and the sin/cos planes [H + 6, W + 6]")


def _step(state: LatticeState, coef: np.ndarray, mods: Modulators | None, kernel: str, ring: tuple | None = None,
          sines: np.ndarray | None = None, sines_given: bool = False, bands: int | None = None) -> None:
    from pattools.kernels import lattice as K

    n = state.W * state.H
    if state.scratch is None or state.scratch.size != n:
        state.scratch = np.empty(n, dtype=np.float32)
    if mods is None:
        has_mods = False
        aact = uact = lapa = divu = _EMPTY
        gains = _NO_GAINS
    else:
        has_mods = True
        aact, uact, lapa, divu = mods.arrays(n)
        gains = mods.gain_vector()
    args = (
        state.phases, state.omegas, state.surf_phi, state.surf_omega, state.hyp_phi,
        state.hyp_omega, state.energy, state.scratch, state.W, state.H, state.wrap,
        state.sw_ptr, state.sw_src, state.sw_sign, state.sw_dst, coef, has_mods, aact, uact, lapa, divu, gains,
    )
    if kernel == "reference" or (mods is not None and mods.windy):  # the fast kernel has no wind
        wind = mods.wind if mods is not None and mods.windy else None
        final = K.step_reference(*args, state.noise_state, *_wind_arrays(wind, n))
        state.noise_state = to_int32(int(final))
    else:
        noise_rows = _NO_ROWS
        if coef[K.COEF_NOISE] > 0.0:
            start = state.noise_state & 0xFFFFFFFF or 123456789
            noise_rows, final = K.noise_row_states(start, state.W, state.H)
            state.noise_state = to_int32(int(final))
        amax = float(np.max(np.abs(aact))) if has_mods else 0.0
        umax = float(np.max(np.abs(uact))) if has_mods else 0.0
        if bands is None:
            bands = max(1, min(state.H, K.thread_count()))
        pre_s, pre_c, sp, cp = _NO_RING if ring is None else ring
        K.step_fast(*args, amax, umax, noise_rows, bands, pre_s, pre_c, sp, cp,
                    _NO_SINES if sines is None else sines, sines_given)
    state.steps += 1


def _wind_arrays(wind: Wind | None, n: int) -> tuple:
    """step_reference's wind arguments: A, lapAraw, advect, etaV and energy scratch."""
    if wind is None:
        return _EMPTY, _EMPTY, _EMPTY, 0.0, _EMPTY
    a, lap_raw, advect = wind.arrays(n)
    return a, lap_raw, advect, float(wind.eta_v), np.empty(n, dtype=np.float32)
