"""buildPATokens: one lattice frame → a columnar token frame (docs/tokens.md §1).

Pipeline per frame (all numba work in ``pattools.kernels``, one call to
``tokens.frame_reduce`` for steps 1–4):
1. ``phase_fields``: cos/sin of θ once per cell (float64 padded planes for ρ, float32
   cosT/sinT for the tokens) and φ = atan2(sinT, cosT);
2. ``rho_terms`` + the metric sums: computeMetrics (docs/lattice.md §9);
3. the energy sums: the affect header (§2);
4. ``patch_reduce``: every per-patch reduction of §1 steps 4–6;
5. ``token_columns``: token assembly (clamps, topology, LFQ codes). The reference path
   assembles with numpy (``_columns_reference``), the twin the parity tests compare.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.kernels import metrics as km
from pattools.kernels import patches as kp
from pattools.kernels import tokens as kt
from pattools.kernels.planes import PAD, band_count
from pattools.kernels import token_columns as ktc
from pattools.kernels.token_columns import token_columns
from pattools.tokens.metrics import (
    LatticeMetrics, check_grid, check_kernel, metrics_from_sums, metrics_from_terms,
)
from pattools.tokens.affect import affect_from_parts
from pattools.tokens.codebook import BINS, DIMS, FEATURES, lfq_codes, lfq_features
from pattools.tokens.frame import GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, TokenFrame
from pattools.tokens.patches import check_scale, patch_ids

if (ktc.GEOM_COLUMNS, ktc.STATS_COLUMNS, ktc.TOPO_COLUMNS, ktc.LFQ_FEATURES, ktc.BINS, ktc.DIMS) != (
        GEOM_FIELDS, STATS_FIELDS, TOPO_FIELDS, FEATURES, BINS, DIMS):
    raise ImportError("kernels.token_columns writes another token layout or codebook than tokens defines")
_G = {name: k for k, name in enumerate(GEOM_FIELDS)}
_S = {name: k for k, name in enumerate(STATS_FIELDS)}
# kernel output column → geom column
_GEOM_FROM = [(_G["phi_gf"], kp.P_PHI), (_G["theta"], kp.P_THETA), (_G["gradPhi"], kp.P_GRAD), (_G["kappa"], kp.P_LAP)]
_NO_AACT = np.zeros(1, dtype=np.float32)
_NO_STEP = np.zeros(0)
_IDS: dict[tuple[int, int, int], tuple[str, ...]] = {}


def _patch_ids(W: int, H: int, scale: int) -> list[str]:
    key = (W, H, scale)
    ids = _IDS.get(key)
    if ids is None:
        ids = _IDS[key] = tuple(patch_ids(W, H, scale))
    return list(ids)


class Workspace:
    """The per-cell planes of one grid size, reused frame after frame (one per thread for
    build_frame), so building a frame allocates no large arrays (fresh pages cost page
    faults). ``cp``/``sp`` hold cos θ/sin θ of the last frame with a 3-cell border."""

    def __init__(self, W: int, H: int) -> None:
        pad = PAD
        n = W * H
        self.key = (W, H)
        self.step_s = self.step_c = _NO_STEP  # see build_frame_and_ring_sums
        self.cp = np.empty((H + 2 * pad, W + 2 * pad))
        self.sp = np.empty((H + 2 * pad, W + 2 * pad))
        self.ctp = np.empty((H + 2, W + 2), dtype=np.float32)
        self.stp = np.empty((H + 2, W + 2), dtype=np.float32)
        self.php = np.empty((H + 2, W + 2))
        self.rho = np.empty(n, dtype=np.float32)
        self.ex = np.empty(n)
        self.ey = np.empty(n)
        self.dsign = np.empty(n, dtype=np.int8)


_LOCAL = threading.local()


def _workspace(W: int, H: int) -> Workspace:
    ws = getattr(_LOCAL, "workspace", None)
    if ws is None or ws.key != (W, H):
        ws = _LOCAL.workspace = Workspace(W, H)
    return ws


@dataclass
class BuiltFrame:
    """Tokens of one frame plus what the optional ``metrics`` block needs."""

    tokens: TokenFrame
    patch_defects: np.ndarray  # int64[T, 2]: (plus, minus) vortex plaquettes per token
    metrics: LatticeMetrics


def build_frame(
    phases: np.ndarray,
    energy: np.ndarray,
    W: int,
    H: int,
    scale: int,
    t: float,
    *,
    wrap: bool = True,
    aact: np.ndarray | None = None,
    heads: Sequence[float] | None = None,
    metrics: LatticeMetrics | None = None,
    kernel: str = "fast",
) -> BuiltFrame:
    """PAT tokens of one frame (θ and E float32, length W·H) at ``scale`` with
    ``hdr.t = t``. ``aact`` (float32[W·H]) fills attnMean/attnVar; ``heads`` is copied
    into every token; ``metrics`` skips recomputing computeMetrics. ``kernel="reference"``
    runs the straightforward kernels (identical bits, slower) for parity audits."""
    check_kernel(kernel)
    W = int(W)
    H = int(H)
    s = check_scale(scale)
    wrap = bool(wrap)
    theta = check_grid(phases, W, H, "phases")
    e = check_grid(energy, W, H, "energy")
    has_a = aact is not None
    a = check_grid(aact, W, H, "aact") if has_a else _NO_AACT
    head_list = None
    if heads is not None:
        try:
            head_list = [float(h) for h in heads]
        except (TypeError, ValueError):
            raise DataError(expected_found("list of numbers", heads), path="heads") from None

    if kernel == "fast":
        red, counts, metrics, esums = _fast_terms(theta, e, a, has_a, W, H, wrap, s, metrics, _workspace(W, H),
                                                  _NO_STEP)
        arousal, valence = affect_from_parts(metrics, esums, W, H)
        t_col, scale_col, geom, stats, topo, rvq = token_columns(red, counts, arousal, valence, float(t), s)
    else:
        cp, sp, cos_t, sin_t, phi = kt.phase_fields_reference(theta, W, H, wrap)
        if metrics is None:
            metrics = metrics_from_terms(*km.rho_terms_reference(cp, sp, theta, W, H, wrap), W, H)
        red, counts = kp.patch_reduce_reference(cos_t, sin_t, phi, e, a, has_a, W, H, s)
        arousal, valence = affect_from_parts(metrics, kt.energy_sums(e, W, H), W, H)
        t_col, scale_col, geom, stats, topo, rvq = _columns_reference(red, counts, arousal, valence, float(t), s)

    T = red.shape[0]
    frame = TokenFrame(
        patch_ids=_patch_ids(W, H, s),
        t=t_col,
        scale=scale_col,
        geom=geom,
        stats=stats,
        topo=topo,
        rvq=rvq,
        heads=None if head_list is None else [list(head_list) for _ in range(T)],
    )
    return BuiltFrame(tokens=frame, patch_defects=counts, metrics=metrics)


def build_frame_and_ring_sums(phases: np.ndarray, energy: np.ndarray, W: int, H: int, scale: int, t: float,
                              wrap: bool, ws: Workspace, ring_k: np.ndarray, bands: int | None = None) -> BuiltFrame:
    """``build_frame(phases, energy, W, H, scale, t, wrap=wrap)`` on the planes of ``ws``,
    which afterwards also hold what the next lattice step from these phases needs:
    ``ws.sp``/``ws.cp`` (sin θ, cos θ) and, in ``ws.step_s``/``ws.step_c``, the ring sums
    of both with ring_k = (a3, a5, a7, k1) (``driver.step_sharing``). ``bands``: row
    bands of the parallel kernels (default: one per numba thread)."""
    W = int(W)
    H = int(H)
    s = check_scale(scale)
    theta = check_grid(phases, W, H, "phases")
    e = check_grid(energy, W, H, "energy")
    if ws.key != (W, H) or np.shape(ring_k) != (4,):
        raise ValueError(f"expected a {W}x{H} workspace and 4 ring weights")
    if ws.step_s.size != W * H:
        ws.step_s = np.empty(W * H)
        ws.step_c = np.empty(W * H)
    red, counts, metrics, esums = _fast_terms(theta, e, _NO_AACT, False, W, H, bool(wrap), s, None, ws, ring_k,
                                              bands)
    arousal, valence = affect_from_parts(metrics, esums, W, H)
    t_col, scale_col, geom, stats, topo, rvq = token_columns(red, counts, arousal, valence, float(t), s)
    frame = TokenFrame(patch_ids=_patch_ids(W, H, s), t=t_col, scale=scale_col, geom=geom, stats=stats, topo=topo,
                       rvq=rvq)
    return BuiltFrame(tokens=frame, patch_defects=counts, metrics=metrics)


def _fast_terms(theta, e, a, has_a, W, H, wrap, s, metrics, ws, ring_k, bands=None) -> tuple:
    """(red, counts, metrics, energy sums) from ``kernels.tokens.frame_reduce``."""
    red, counts, msums, esums = kt.frame_reduce(
        theta, e, a, has_a, W, H, wrap, s, band_count(H) if bands is None else bands, metrics is None,
        ws.cp, ws.sp, ws.ctp, ws.stp, ws.php, ws.rho, ws.ex, ws.ey, ws.dsign, ring_k, ws.step_s, ws.step_c)
    if metrics is None:
        metrics = metrics_from_sums(msums, W, H)
    return red, counts, metrics, esums


def _columns_reference(red: np.ndarray, counts: np.ndarray, arousal: float, valence: float, t: float,
                       s: int) -> tuple:
    """(t, scale, geom, stats, topo, rvq) with numpy, the twin of kernels.token_columns."""
    T = red.shape[0]
    geom = np.empty((T, len(GEOM_FIELDS)))
    geom[:, _G["A"]] = 1.0
    for dst, src in _GEOM_FROM:
        geom[:, dst] = red[:, src]
    stats = np.empty((T, len(STATS_FIELDS)))
    stats[:, _S["rho"]] = red[:, kp.P_R]
    stats[:, _S["energy"]] = red[:, kp.P_MEAN_E]
    stats[:, _S["entropyRate"]] = red[:, kp.P_GRAD] / np.pi
    head = stats[:, :3]  # rho, energy, entropyRate: clamp01 (NaN stays NaN)
    np.maximum(head, 0.0, out=head)
    np.minimum(head, 1.0, out=head)
    stats[:, _S["arousal"]] = arousal
    stats[:, _S["valence"]] = valence
    stats[:, _S["attnMean"]] = red[:, kp.P_ATTN_MEAN]
    stats[:, _S["attnVar"]] = red[:, kp.P_ATTN_VAR]
    vortex = np.sign(counts[:, 0] - counts[:, 1])
    topo = np.empty((T, 2), dtype=np.int64)
    topo[:, 0] = vortex
    topo[:, 1] = vortex
    rvq = lfq_codes(lfq_features(geom, stats))
    return np.full(T, t), np.full(T, s, dtype=np.int64), geom, stats, topo, rvq
