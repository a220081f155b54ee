"""Columnar PAT token frame.

Why: a PAT frame is a list of small maps (``PAToken``: hdr, geom, stats, heads?, topo,
code?) at the I/O boundary, but every computation (apply, replay, score, atlas) works
per field over all tokens at once. ``TokenFrame`` holds one numpy column per token field
(docs/tokens.md §1), in token order, and converts to and from the record form
losslessly for every field the PAToken shape defines. Dicts exist only in
``from_tokens``/``to_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pattools.errors import DataError

GEOM_FIELDS: tuple[str, ...] = ("A", "phi_gf", "theta", "gradPhi", "kappa")
STATS_FIELDS: tuple[str, ...] = (
    "rho",
    "energy",
    "entropyRate",
    "arousal",
    "valence",
    "attnMean",
    "attnVar",
)
TOPO_FIELDS: tuple[str, ...] = ("vortex", "chirality")
CODE_DIMS = 5
TOKEN_SCALES: tuple[int, ...] = (8, 16, 32, 64)


def _require_finite(columns: np.ndarray, names: tuple[str, ...], group: str) -> None:
    """NaN/±Inf are invalid input everywhere (docs/design.md §3); name the first offender."""
    bad = ~np.isfinite(columns)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        name = names[col] if group != "hdr" else "t"
        prefix = "hdr" if group == "hdr" else group
        raise DataError(f"expected a finite number, got {float(columns[row, col])!r}",
                        path=f"tokens[{row}].{prefix}.{name}")


def _code_columns(rows: list[list[int] | None]) -> tuple[np.ndarray, np.ndarray | None]:
    """code.rvq rows (None: no code) as a zero-padded int64[T, D] and the per-token
    lengths (-1: no code), None when every row has the one length."""
    dims = max(len(r) for r in rows if r is not None)
    lengths = np.array([-1 if r is None else len(r) for r in rows], dtype=np.int64)
    if (lengths == dims).all():
        return np.array(rows, dtype=np.int64).reshape(len(rows), dims), None
    codes = np.zeros((len(rows), dims), dtype=np.int64)
    for i, r in enumerate(rows):
        if r:
            codes[i, :len(r)] = r
    return codes, lengths


def patch_id(x0: int, y0: int, scale: int) -> str:
    """The canonical ``"x0,y0,scale"`` patch id."""
    return f"{x0},{y0},{scale}"


@dataclass
class TokenFrame:
    """All tokens of one frame, one column per field (row i = token i)."""

    patch_ids: list[str]
    t: np.ndarray  # float64[T], hdr.t
    scale: np.ndarray  # int64[T], hdr.scale
    geom: np.ndarray  # float64[T, 5] in GEOM_FIELDS order
    stats: np.ndarray  # float64[T, 7] in STATS_FIELDS order
    topo: np.ndarray  # int64[T, 2] in TOPO_FIELDS order
    rvq: np.ndarray | None = None  # int64[T, D] code.rvq, None when no token has a code
    recon_mse: np.ndarray | None = None  # float64[T] stats.reconMSE, NaN where absent
    heads: list[list[float] | None] | None = None  # per-token head phases
    code_stage: list[object] | None = None  # per-token code.stage, carried opaque
    # per-token length of code.rvq, -1 where a token has no code; None when every token
    # carries a code of the one length rvq.shape[1] (or none does). Rows of rvq past a
    # token's length are 0.
    rvq_len: np.ndarray | None = None
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.patch_ids)

    def index_of(self, pid: str) -> int | None:
        """Row of the token with this patchId (first one), or None."""
        if self._index is None:
            index: dict[str, int] = {}
            for i, p in enumerate(self.patch_ids):
                index.setdefault(p, i)
            self._index = index
        return self._index.get(pid)

    def code_lengths(self) -> np.ndarray:
        """int64[T]: each token's code.rvq length, -1 where it has no code."""
        if self.rvq is None:
            return np.full(len(self), -1, dtype=np.int64)
        if self.rvq_len is None:
            return np.full(len(self), self.rvq.shape[1], dtype=np.int64)
        return self.rvq_len

    def copy(self) -> "TokenFrame":
        return replace(
            self,
            patch_ids=list(self.patch_ids),
            t=self.t.copy(),
            scale=self.scale.copy(),
            geom=self.geom.copy(),
            stats=self.stats.copy(),
            topo=self.topo.copy(),
            rvq=None if self.rvq is None else self.rvq.copy(),
            recon_mse=None if self.recon_mse is None else self.recon_mse.copy(),
            heads=None if self.heads is None else [None if h is None else list(h) for h in self.heads],
            code_stage=None if self.code_stage is None else list(self.code_stage),
            rvq_len=None if self.rvq_len is None else self.rvq_len.copy(),
            _index=None,
        )

    @classmethod
    def empty(cls, count: int, code_dims: int = CODE_DIMS) -> "TokenFrame":
        return cls(
            patch_ids=[""] * count,
            t=np.zeros(count),
            scale=np.zeros(count, dtype=np.int64),
            geom=np.zeros((count, len(GEOM_FIELDS))),
            stats=np.zeros((count, len(STATS_FIELDS))),
            topo=np.zeros((count, len(TOPO_FIELDS)), dtype=np.int64),
            rvq=np.zeros((count, code_dims), dtype=np.int64),
        )

    @classmethod
    def from_tokens(cls, tokens: list[dict]) -> "TokenFrame":
        """Columns from schema-valid PAToken maps (validate first: no checks here)."""
        count = len(tokens)
        geom = np.empty((count, len(GEOM_FIELDS)))
        stats = np.empty((count, len(STATS_FIELDS)))
        topo = np.empty((count, len(TOPO_FIELDS)), dtype=np.int64)
        t = np.empty(count)
        scale = np.empty(count, dtype=np.int64)
        pids: list[str] = []
        rvq_rows: list[list[int] | None] = []
        recon: list[float] = []
        heads: list[list[float] | None] = []
        stages: list[object] = []
        for i, tok in enumerate(tokens):
            hdr = tok["hdr"]
            pids.append(hdr["patchId"])
            t[i] = hdr["t"]
            scale[i] = hdr["scale"]
            g = tok["geom"]
            geom[i] = [g[name] for name in GEOM_FIELDS]
            s = tok["stats"]
            stats[i] = [s[name] for name in STATS_FIELDS]
            recon.append(s.get("reconMSE", np.nan))
            tp = tok["topo"]
            topo[i] = [tp[name] for name in TOPO_FIELDS]
            code = tok.get("code")
            rvq_rows.append(None if code is None else code["rvq"])
            stages.append(None if code is None else code.get("stage"))
            heads.append(tok.get("heads"))
        _require_finite(t[:, None], ("hdr.t",), "hdr")
        _require_finite(geom, GEOM_FIELDS, "geom")
        _require_finite(stats, STATS_FIELDS, "stats")
        frame = cls(pids, t, scale, geom, stats, topo)
        if any(r is not None for r in rvq_rows):
            frame.rvq, frame.rvq_len = _code_columns(rvq_rows)
        if any(not np.isnan(v) for v in recon):
            frame.recon_mse = np.array(recon, dtype=np.float64)
        if any(h is not None for h in heads):
            frame.heads = heads
        if any(s is not None for s in stages):
            frame.code_stage = stages
        return frame

    def to_tokens(self) -> list[dict]:
        """PAToken maps in token order (floats as Python floats, ints as Python ints)."""
        geom = self.geom.tolist()
        stats = self.stats.tolist()
        topo = self.topo.tolist()
        t = self.t.tolist()
        scale = self.scale.tolist()
        rvq = None if self.rvq is None else self.rvq.tolist()
        lengths = None if self.rvq_len is None else self.rvq_len.tolist()
        recon = None if self.recon_mse is None else self.recon_mse.tolist()
        out = []
        for i, pid in enumerate(self.patch_ids):
            stats_map = dict(zip(STATS_FIELDS, stats[i]))
            if recon is not None and recon[i] == recon[i]:
                stats_map["reconMSE"] = recon[i]
            token: dict = {
                "hdr": {"t": t[i], "scale": scale[i], "patchId": pid},
                "geom": dict(zip(GEOM_FIELDS, geom[i])),
                "stats": stats_map,
            }
            if self.heads is not None and self.heads[i] is not None:
                token["heads"] = list(self.heads[i])
            token["topo"] = dict(zip(TOPO_FIELDS, topo[i]))
            if rvq is not None and (lengths is None or lengths[i] >= 0):
                code: dict = {"rvq": rvq[i] if lengths is None else rvq[i][:lengths[i]]}
                if self.code_stage is not None and self.code_stage[i] is not None:
                    code["stage"] = self.code_stage[i]
                token["code"] = code
            out.append(token)
        return out
