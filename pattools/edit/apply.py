"""Deterministic ΔPAT application (docs/editing.md §2), vectorised over token columns.

Rules per named field: codes saturate in [0, bins−1]; stats and ``A`` clamp to [0, 1];
``phi_gf`` wraps into (−π, π] and the orientation ``theta`` into (−π/2, π/2]; ``gradPhi``
and ``kappa`` stay ≥ 0; topo clamps to [−1, 1]. Fields a DPat does not name keep their
exact values. Several DPats for one patch apply one after another: DPats are grouped in
"layers" (the k-th DPat of each patch in layer k), and each layer is one vectorised update.
A code delta must be as long as its token's code; tokens may carry codes of different
lengths, or none (``TokenFrame.rvq_len``), and ``--recode`` recomputes only codes a token has.

The effective delta of a field is what a reader must add (with the same rules) to the
base value to get the edited one: the requested delta (or sum of deltas) when no rule
changed the outcome, otherwise the difference new − old (a wrapped difference for angles),
nudged by an ulp where float rounding would miss the edited value. Base + effective delta
reproduces the edited value exactly when one DPat names the field; after several, it can
be an ulp or two away (no float delta need exist that lands exactly on the sequential
result), which is far below anything replay or score resolve.
"""

from __future__ import annotations

import math
import numpy as np

from pattools.edit.bounds import Bounds
from pattools.edit.dpat import bounded
from pattools.tokens.codebook import BINS, lfq_codes, lfq_features
from pattools.tokens.deltas import Deltas, code_width, locate, row_paths, summed, wrap_angle
from pattools.tokens.frame import CODE_DIMS, GEOM_FIELDS, TokenFrame

PI = math.pi
G_A, G_PHI, G_THETA, G_GRAD, G_KAPPA = (GEOM_FIELDS.index(n) for n in ("A", "phi_gf", "theta", "gradPhi", "kappa"))
GEOM_PERIODIC = np.isin(np.arange(len(GEOM_FIELDS)), [G_PHI, G_THETA])


def geom_rule(x: np.ndarray) -> np.ndarray:
    """§2 rules for geom columns of ``x`` (float64[n, 5]) after adding deltas."""
    out = np.empty_like(x)
    out[:, G_A] = _clamp(x[:, G_A], 0.0, 1.0)
    out[:, G_PHI] = wrap_angle(x[:, G_PHI], 2 * PI)
    out[:, G_THETA] = wrap_angle(x[:, G_THETA], PI)
    out[:, G_GRAD] = np.maximum(x[:, G_GRAD], 0.0)
    out[:, G_KAPPA] = np.maximum(x[:, G_KAPPA], 0.0)
    return out


def stats_rule(x: np.ndarray) -> np.ndarray:
    return _clamp(x, 0.0, 1.0)


def topo_rule(x: np.ndarray) -> np.ndarray:
    return _clamp(x, -1, 1)


def rvq_rule(x: np.ndarray) -> np.ndarray:
    return _clamp(x, 0, BINS - 1)


def _clamp(x: np.ndarray, lo, hi) -> np.ndarray:
    """np.clip without its per-call overhead (these arrays are small)."""
    return np.minimum(np.maximum(x, lo), hi)


def _geom_difference(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    diff = new - old
    diff[:, G_PHI] = wrap_angle(diff[:, G_PHI], 2 * PI)
    diff[:, G_THETA] = wrap_angle(diff[:, G_THETA], PI)
    return diff


class ApplyResult:
    """Outcome of applying one target's DPats to one frame."""

    def __init__(self, tokens: TokenFrame, effective: Deltas | None, rows: np.ndarray, clips: int,
                 skipped: int) -> None:
        self.tokens = tokens  # the edited frame (a new object; the input is not modified)
        self.effective = effective  # None: nothing touched
        self.rows = rows  # int64: rows of the touched tokens, in token order
        self.clips = clips  # deltas clipped to the bounds (with clip=True)
        self.skipped = skipped  # DPats skipped for an unknown patchId (with lenient=True)
        self._applied: list[dict] | None = None

    @property
    def applied(self) -> list[dict]:
        """Effective DPats, one per touched token, in token order (built on first use)."""
        if self._applied is None:
            self._applied = [] if self.effective is None else self.effective.to_dpats()
        return self._applied


def _layers(rows: np.ndarray) -> np.ndarray:
    """Rank of each entry among the entries with the same row (0 for the first)."""
    order = np.argsort(rows, kind="stable")
    ranked = rows[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    lengths = np.diff(np.r_[starts, len(rows)])
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows)) - np.repeat(starts, lengths)
    return rank


def _effective(old, new, requested, rule, difference, periodic) -> np.ndarray:
    """Per-field effective deltas e with rule(old + e) == new (see the module docstring).

    The requested sum stands when nothing clamped it: ``old + req == new`` exactly, or for
    the ``periodic`` (wrapped) columns ``rule(old + req) == new``.
    """
    req = difference(requested, np.zeros_like(requested))  # the requested sum, wrapped for angles
    ok = np.where(periodic, rule(old + req) == new, old + req == new)
    if ok.all():
        return req
    diff = difference(new, old)
    for candidate in (diff, np.nextafter(diff, np.inf), np.nextafter(diff, -np.inf)):
        good = ~ok & (rule(old + candidate) == new)
        req = np.where(good, candidate, req)
        ok |= good
    return np.where(ok, req, diff)


def _update(out: TokenFrame, rows: np.ndarray, d: Deltas) -> None:
    """One layer: ``rows`` (each at most once) get the named deltas of ``d`` with the §2 rules."""
    g = out.geom[rows]
    out.geom[rows] = np.where(d.geom_named, geom_rule(g + d.geom), g)
    s = out.stats[rows]
    out.stats[rows] = np.where(d.stats_named, stats_rule(s + d.stats), s)
    t = out.topo[rows]
    out.topo[rows] = np.where(d.topo_named, topo_rule(t + d.topo), t)
    if out.rvq is not None:
        q = out.rvq[rows]
        out.rvq[rows] = np.where(d.rvq_named[:, None], rvq_rule(q + d.rvq), q)


def _apply_in_order(out: TokenFrame, rows: np.ndarray, d: Deltas) -> tuple[np.ndarray, Deltas]:
    """Apply DPats ``d`` (row ``rows[j]`` for DPat j) to ``out`` one after another. Answers
    the touched rows (token order) and, one DPat per touched token, the requested deltas
    summed (named where any DPat named the field)."""
    order = np.argsort(rows, kind="stable")
    ranked = rows[order]
    if len(ranked) < 2 or (ranked[1:] != ranked[:-1]).all():
        # every token named once (the usual case): one update, no per-token sums
        _update(out, rows, d)
        return ranked, _requested(out, ranked, (
            np.where(d.geom_named, d.geom, 0.0)[order], d.geom_named[order],
            np.where(d.stats_named, d.stats, 0.0)[order], d.stats_named[order],
            d.topo[order], d.topo_named[order], d.rvq[order], d.rvq_len[order]))
    rank = _layers(rows)
    for k in range(int(rank.max()) + 1):
        layer = np.flatnonzero(rank == k)
        _update(out, rows[layer], d.take(layer))
    touched = np.unique(rows)  # sorted: token order
    pos = np.searchsorted(touched, rows)

    def total(values: np.ndarray, named: np.ndarray) -> np.ndarray:
        sums = np.zeros((len(touched),) + values.shape[1:], dtype=values.dtype)
        np.add.at(sums, pos, np.where(named, values, 0))
        return sums

    def any_named(named: np.ndarray) -> np.ndarray:
        hit = np.zeros((len(touched),) + named.shape[1:], dtype=bool)
        np.logical_or.at(hit, pos, named)
        return hit

    rvq_named = any_named(d.rvq_named)
    return touched, _requested(out, touched, (
        total(d.geom, d.geom_named), any_named(d.geom_named), total(d.stats, d.stats_named),
        any_named(d.stats_named), total(d.topo, d.topo_named), any_named(d.topo_named),
        total(d.rvq, d.rvq_named[:, None]), np.where(rvq_named, d.rvq.shape[1], -1)))


def _requested(out: TokenFrame, touched: np.ndarray, columns: tuple) -> Deltas:
    """``columns`` (geom, its mask, stats, its mask, topo, its mask, rvq, rvq_len; one row per
    ``touched`` row) as Deltas, in the paths of the frame's ``edit.applied``."""
    pids = [out.patch_ids[r] for r in touched.tolist()]
    return Deltas(pids, *columns, row_paths("edit.applied", len(pids)))


def apply_target(
    tokens: TokenFrame,
    dpats: list[dict] | Deltas,
    bounds: Bounds | None,
    *,
    clip: bool = False,
    lenient: bool = False,
    heads: list | None = None,
    recode: bool = False,
) -> ApplyResult:
    """Apply the DPats of one target to one frame, in order, with the §2 rules.

    ``bounds=None`` means the deltas were bounded already (``Deltas.bounded``).

    ``heads`` is the target's ``dA.heads`` hint: touched tokens get ``heads`` = its phases
    (0 where a head gives none). ``recode`` recomputes ``code.rvq`` of touched tokens from
    their edited fields afterwards.
    """
    batch = dpats if isinstance(dpats, Deltas) else Deltas.from_dpats(dpats)
    batch, clips = (batch, 0) if bounds is None else bounded(batch, bounds, clip=clip)
    rows, batch, skipped = located(tokens, batch, lenient=lenient)
    result = apply_located(tokens, rows, batch, heads=heads, recode=recode)
    result.clips = clips
    result.skipped = skipped
    return result


def located(tokens: TokenFrame, batch: Deltas, *, lenient: bool) -> tuple[np.ndarray, Deltas, int]:
    """The token row of each DPat that has one, those DPats (code deltas cut or padded to the
    frame's code width) and how many were skipped; errors as ``apply_target`` raises them."""
    rows, skipped = locate(tokens, batch, lenient=lenient)
    keep = rows >= 0
    dims = code_width(tokens, batch, rows, keep)
    if skipped == 0 and batch.rvq.shape[1] == dims:
        return rows, batch, 0
    return rows[keep], batch.take(np.flatnonzero(keep), dims), skipped


def apply_located(tokens: TokenFrame, rows: np.ndarray, batch: Deltas, *, heads: list | None = None,
                  recode: bool = False) -> ApplyResult:
    """Apply DPats already located at token ``rows`` (see ``located``); rows may span many
    frames stacked into one TokenFrame, as every rule acts per token."""
    out = tokens.copy()
    if len(rows) == 0:
        return ApplyResult(out, None, np.zeros(0, dtype=np.int64), 0, 0)
    touched, req = _apply_in_order(out, rows, batch)
    geom_eff = _effective(tokens.geom[touched], out.geom[touched], req.geom, geom_rule, _geom_difference,
                          GEOM_PERIODIC)
    stats_eff = _effective(tokens.stats[touched], out.stats[touched], req.stats, stats_rule, np.subtract, False)
    topo_eff = out.topo[touched] - tokens.topo[touched]
    rvq_named = req.rvq_named
    if recode and out.rvq is not None:
        rvq_named = _recode(out, touched)
    rvq_eff = None if out.rvq is None else out.rvq[touched] - tokens.rvq[touched]

    if heads is not None:
        phases = [float(h.get("phase", 0.0)) for h in heads]
        new_heads = [None] * len(out) if out.heads is None else out.heads
        for r in touched.tolist():
            new_heads[r] = list(phases)
        out.heads = new_heads

    lengths = None if out.rvq is None else out.code_lengths()[touched]
    effective = _effective_deltas(req, geom_eff, stats_eff, topo_eff, rvq_eff, rvq_named, lengths)
    return ApplyResult(out, effective, touched.astype(np.int64), 0, 0)


def _recode(out: TokenFrame, touched: np.ndarray) -> np.ndarray:
    """Codes of the touched tokens that carry one, recomputed from their edited fields (as
    many dimensions as each code has, up to the codebook's); which touched tokens those are."""
    coded = out.code_lengths()[touched] >= 0
    rows = touched[coded]
    if len(rows) == 0:
        return coded
    fresh = lfq_codes(lfq_features(out.geom[rows], out.stats[rows]))
    width = min(fresh.shape[1], out.rvq.shape[1])
    codes = out.rvq[rows]
    codes[:, :width] = fresh[:, :width]
    if out.rvq_len is not None:  # rows stay zero past a token's length
        codes[np.arange(codes.shape[1])[None, :] >= out.rvq_len[rows][:, None]] = 0
    out.rvq[rows] = codes
    return coded


def _effective_deltas(req: Deltas, geom: np.ndarray, stats: np.ndarray, topo: np.ndarray, rvq: np.ndarray | None,
                      rvq_named: np.ndarray, lengths: np.ndarray | None) -> Deltas:
    """The effective deltas of the touched tokens (the rows of ``req``, the requested ones)
    as Deltas (values 0 where not named); ``lengths``: the touched tokens' code lengths."""
    n = len(req)
    dims = 0 if rvq is None else rvq.shape[1]
    codes = np.zeros((n, max(CODE_DIMS, dims)), dtype=np.int64)
    rvq_len = np.full(n, -1, dtype=np.int64)
    if rvq is not None:
        codes[:, :dims] = np.where(rvq_named[:, None], rvq, 0)
        rvq_len[rvq_named] = lengths[rvq_named]
    return Deltas(req.patch_ids, np.where(req.geom_named, geom, 0.0), req.geom_named,
                  np.where(req.stats_named, stats, 0.0), req.stats_named,
                  np.where(req.topo_named, topo, 0).astype(np.int64), req.topo_named, codes, rvq_len, req.paths)


def delta_columns_of(tokens: TokenFrame, results: list[ApplyResult]) -> Deltas:
    """``applied.per_token(tokens)`` of the effective deltas of ``results`` (edits applied
    to ``tokens``' frame, in order): the same sums, without going through DPat lists."""
    dims = CODE_DIMS if tokens.rvq is None else tokens.rvq.shape[1]
    return summed(tokens, dims, [(result.rows, result.effective) for result in results])


def edit_block(previous: dict | None, edit_id: str, applied: list[dict], heads: list | None) -> dict:
    """The frame's ``edit`` block after one more edit (ids joined with "+", applied appended)."""
    if previous is None:
        block: dict = {"id": edit_id, "applied": applied}
    else:
        block = dict(previous)
        block["id"] = f"{previous['id']}+{edit_id}"
        block["applied"] = list(previous["applied"]) + applied
    if heads is not None:
        block["dA"] = {"heads": heads}
    return block
