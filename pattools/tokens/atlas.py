"""TokenAtlas: code usage and perplexity (docs/tokens.md §4).

Per code dimension d: ``usage_d`` = share of the bins used, ``perplexity_d = 2^H_d``
with ``H_d = −Σ p·log2 p`` over the bin histogram; ``jointPerplexity`` is the same over
whole codes (bins^dims of them, 4^5 = 1024 for PAT_LFQ_v1). An ``Atlas`` pools one
histogram over every token added (all frames), which is how figures aggregate over a
stream; out-of-range codes are a data error instead of silently counted.
"""

from __future__ import annotations

import math

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.tokens.codebook import BINS, DIMS, FEATURES
from pattools.tokens.frame import TokenFrame


def _perplexity(hist: np.ndarray, count: int) -> float:
    """2^H of a histogram, H summed in bin order with libm log2 (machine independent)."""
    if count <= 0:
        return 1.0
    h = 0.0
    for c in hist[hist > 0].tolist():
        p = c / count
        h -= p * math.log2(p)
    return 2.0**h


class Atlas:
    """Pooled code histograms of every token added."""

    def __init__(self, bins: int = BINS) -> None:
        if isinstance(bins, bool) or int(bins) != bins or int(bins) < 1:
            raise DataError(expected_found("positive integer bin count", bins), path="bins")
        self.bins = int(bins)
        self.dims: int | None = None
        self.count = 0
        self._hist: np.ndarray | None = None  # int64[dims, bins]
        self._joint: dict[int, int] | np.ndarray | None = None

    def add(self, rvq: np.ndarray) -> None:
        """Count the codes of int[T, D] ``rvq`` (one row per token)."""
        codes = np.asarray(rvq)
        if codes.ndim != 2:
            raise DataError(expected_found("code array of shape [tokens, dims]", codes.shape), path="code.rvq")
        if codes.size and not np.issubdtype(codes.dtype, np.integer):
            raise DataError(expected_found("integer codes", str(codes.dtype)), path="code.rvq")
        codes = codes.astype(np.int64, copy=False)
        dims = codes.shape[1]
        if self.dims is None:
            self.dims = dims
            self._hist = np.zeros((dims, self.bins), dtype=np.int64)
            self._joint = self._new_joint(dims)
        elif dims != self.dims:
            raise DataError(f"expected codes of {self.dims} dims, got {dims}", path="code.rvq")
        bad = (codes < 0) | (codes >= self.bins)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            raise DataError(
                expected_found(f"code in [0, {self.bins})", int(codes[row, col])),
                path=f"tokens[{row}].code.rvq[{col}]",
            )
        for d in range(dims):
            self._hist[d] += np.bincount(codes[:, d], minlength=self.bins)
        if codes.shape[0]:
            weights = self.bins ** np.arange(dims - 1, -1, -1, dtype=np.int64)
            if isinstance(self._joint, np.ndarray):
                flat = codes @ weights
                self._joint += np.bincount(flat, minlength=self._joint.size)
            else:
                keys, freq = np.unique(codes, axis=0, return_counts=True)
                for key, n in zip(keys.tolist(), freq.tolist()):
                    k = tuple(key)
                    self._joint[k] = self._joint.get(k, 0) + n
        self.count += int(codes.shape[0])

    def _new_joint(self, dims: int):
        if self.bins**dims <= 1 << 20:
            return np.zeros(self.bins**dims, dtype=np.int64)
        return {}

    def figures(self) -> dict:
        """{count, dims, bins, usage[d], perplexity[d], jointPerplexity}, plus
        ``features`` (the codebook's feature names) when the codes have PAT_LFQ_v1's shape."""
        dims = self.dims or 0
        usage: list[float] = []
        perplexity: list[float] = []
        for d in range(dims):
            hist = self._hist[d]
            usage.append(int(np.count_nonzero(hist)) / self.bins)
            perplexity.append(_perplexity(hist, self.count))
        if isinstance(self._joint, np.ndarray):
            joint = _perplexity(self._joint, self.count)
        elif self._joint:
            joint = _perplexity(np.array([self._joint[k] for k in sorted(self._joint)]), self.count)
        else:
            joint = 1.0
        figures = {
            "count": self.count,
            "dims": dims,
            "bins": self.bins,
            "usage": usage,
            "perplexity": perplexity,
            "jointPerplexity": joint,
        }
        if dims == DIMS and self.bins == BINS:
            figures["features"] = list(FEATURES)
        return figures


def codes_by_length(frame: TokenFrame) -> dict[int, np.ndarray]:
    """A frame's codes grouped by length: {length: int64[tokens with a code that long, length]}
    (tokens without a code are in no group)."""
    if frame.rvq is None:
        return {}
    if frame.rvq_len is None:
        return {frame.rvq.shape[1]: frame.rvq}
    lengths = frame.rvq_len
    return {int(n): frame.rvq[lengths == n, :n] for n in np.unique(lengths[lengths >= 0])}


class AtlasByLength:
    """One Atlas per code length, for frames whose codes differ in length (the schema allows
    it; the codebook has one length). ``main()`` is the atlas to report: the codebook's
    length when any code has it, else the length most codes have (the shorter on a tie)."""

    def __init__(self, bins: int = BINS) -> None:
        self.bins = bins
        self.atlases: dict[int, Atlas] = {}

    def add_frame(self, frame: TokenFrame) -> None:
        for length, codes in codes_by_length(frame).items():
            if length not in self.atlases:
                self.atlases[length] = Atlas(self.bins)
            self.atlases[length].add(codes)

    def main_length(self) -> int | None:
        if not self.atlases:
            return None
        if DIMS in self.atlases:
            return DIMS
        return min(self.atlases, key=lambda n: (-self.atlases[n].count, n))

    def main(self) -> Atlas | None:
        length = self.main_length()
        return None if length is None else self.atlases[length]

    def others(self) -> dict[int, int]:
        """How many codes of every other length the main atlas leaves out."""
        main = self.main_length()
        return {n: self.atlases[n].count for n in sorted(self.atlases) if n != main}


def atlas_figures(rvq: np.ndarray, bins: int = BINS) -> dict:
    """Atlas figures of one code array int[T, D]."""
    atlas = Atlas(bins)
    atlas.add(rvq)
    return atlas.figures()
