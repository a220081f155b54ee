"""Complete(): the single operator for perception, recall and prediction (docs/agent.md §6).

``complete(cue, mode, prior, sigma_prior_diag, transport_shift)`` returns
``(x_completed, sigma_prior, prior)``: the prior (optionally moved by the transport
shift) with every cue dim overwritten by the cue value — nothing else changes. In
prediction mode the cue is ignored, so the call is a pass-through. ``sigma_prior`` is the
prior's variance diagonal (``+inf`` = unknown); it is returned, never clamped. The
prior itself comes from the caller: the step takes it from the cached fusion of the
previous step or, at t = 0, from the stale posterior with infinite variance
(``prior_from_cache``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

MODES = ("perception", "recall", "prediction")


class Cue(NamedTuple):
    """Sparse observation: sorted unique dims and their values."""

    dims: np.ndarray  # int64[n], ascending, unique
    values: np.ndarray  # float64[n]

    @classmethod
    def empty(cls) -> "Cue":
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0))


def as_cue(cue: object, dim: int) -> Cue:
    """Canonical sparse cue from a Cue, a {dim: value} dict, or a dense vector with NaN
    marking missing dims. Dims outside [0, D) are dropped."""
    if cue is None:
        return Cue.empty()
    if isinstance(cue, Cue):
        dims, values = np.asarray(cue.dims, dtype=np.int64), np.asarray(cue.values, dtype=np.float64)
    elif isinstance(cue, dict):
        keys = sorted(int(k) for k in cue)
        dims = np.array(keys, dtype=np.int64)
        values = np.array([float(cue[k]) for k in keys], dtype=np.float64)
    else:
        dense = np.asarray(cue, dtype=np.float64)
        dims = np.flatnonzero(~np.isnan(dense)).astype(np.int64)
        values = dense[dims]
    keep = (dims >= 0) & (dims < dim)
    dims, values = dims[keep], values[keep]
    order = np.argsort(dims, kind="stable")
    return Cue(dims[order], values[order])


def transport(vector: np.ndarray, shift: tuple[int, int], config) -> np.ndarray:
    """T_δ (docs/agent.md §5): roll the grid part of x by dy rows and dx columns, wrapping.

    The grid is the first ``s²·C`` dims (s = max(1, grid_side), C = max(1, grid_channels))
    viewed as (s, s, C); the remaining dims are unchanged. Without a grid this is the
    identity.
    """
    dx, dy = int(shift[0]), int(shift[1])
    out = np.array(vector, dtype=np.float64, copy=True)
    if dx == 0 and dy == 0:
        return out
    side = max(1, int(config.grid_side))
    channels = max(1, int(config.grid_channels))
    n = side * side * channels
    grid = out[:n].reshape(side, side, channels)
    out[:n] = np.roll(grid, (dy, dx), axis=(0, 1)).reshape(n)
    return out


def complete(
    cue: object,
    mode: str,
    prior: np.ndarray,
    sigma_prior_diag: np.ndarray | None = None,
    transport_shift: tuple[int, int] | None = None,
    *,
    config=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one clamp operator: x = prior; x[k] = cue[k] for k in the cue.

    ``sigma_prior_diag`` missing means +inf everywhere. ``transport_shift`` (dx, dy) moves
    prior and variance first (``config`` gives the grid). In prediction mode the cue is
    treated as empty. Returns (x_completed, sigma_prior, prior) as new arrays.
    """
    if mode not in MODES:
        raise ValueError(f"complete: mode must be one of {MODES}, got {mode!r}")
    prior = np.array(prior, dtype=np.float64, copy=True)
    dim = prior.shape[0]
    if sigma_prior_diag is None:
        variance = np.full(dim, np.inf)
    else:
        variance = np.array(sigma_prior_diag, dtype=np.float64, copy=True)
    if transport_shift is not None and tuple(transport_shift) != (0, 0):
        if config is None:
            raise ValueError("complete: a transport shift needs the grid configuration")
        prior = transport(prior, transport_shift, config)
        variance = transport(variance, transport_shift, config)
    completed = prior.copy()
    if mode != "prediction":
        sparse = as_cue(cue, dim)
        completed[sparse.dims] = sparse.values
    return completed, variance, prior


def variance_from_precision(precision: np.ndarray) -> np.ndarray:
    """σ² = 1/Λ, +inf where Λ = 0."""
    out = np.full(precision.shape[0], np.inf)
    known = precision > 0.0
    out[known] = 1.0 / precision[known]
    return out


def prior_from_cache(state) -> tuple[np.ndarray, np.ndarray]:
    """The prior x̂(t | t−1) and its variance: the previous step's fused prediction, or
    the stale posterior x(t−1) with infinite variance when none is cached (t = 0)."""
    if state.has_cache:
        return state.yhat.copy(), variance_from_precision(state.yhat_prec)
    return state.x_last.copy(), np.full(state.D, np.inf)
