"""``--verify``: compare two replays of the same input bit for bit, and measure how far apart.

The comparison is on the encoded output records (any differing bit counts); the figure
reported is the RMSE over every numeric token field (docs/score.md "Determinism"), with
circular differences for the angles ``phi_gf`` (period 2π) and ``theta`` (period π).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pattools.tokens.frame import GEOM_FIELDS, TokenFrame

_PHI = GEOM_FIELDS.index("phi_gf")
_THETA = GEOM_FIELDS.index("theta")


def _circular(diff: np.ndarray, period: float) -> np.ndarray:
    return diff - period * np.round(diff / period)


def squared_differences(a: TokenFrame, b: TokenFrame) -> tuple[float, int]:
    """Sum of squared differences over all numeric token fields, and how many values."""
    if len(a) != len(b) or a.patch_ids != b.patch_ids:
        return math.inf, 1
    dg = a.geom - b.geom
    dg[:, _PHI] = _circular(dg[:, _PHI], 2 * math.pi)
    dg[:, _THETA] = _circular(dg[:, _THETA], math.pi)
    parts = [dg, a.stats - b.stats, (a.topo - b.topo).astype(np.float64), a.t - b.t]
    if a.rvq is not None and b.rvq is not None and a.rvq.shape == b.rvq.shape:
        parts.append((a.rvq - b.rvq).astype(np.float64))
    total = 0.0
    count = 0
    for part in parts:
        total += float(np.sum(np.square(part), dtype=np.float64))
        count += part.size
    return total, count


@dataclass
class VerifyTally:
    """Running comparison of two replays, record by record."""

    records: int = 0
    differing: int = 0
    first_difference: tuple[int, int] | None = None  # (seed, frame)
    _sq: float = 0.0
    _n: int = 0

    def add(self, seed: int, frame: int, bytes_a: bytes, bytes_b: bytes, a: TokenFrame, b: TokenFrame) -> None:
        self.records += 1
        if bytes_a != bytes_b:
            self.differing += 1
            if self.first_difference is None:
                self.first_difference = (seed, frame)
        sq, n = squared_differences(a, b)
        self._sq += sq
        self._n += n

    @property
    def identical(self) -> bool:
        return self.differing == 0

    @property
    def rmse(self) -> float:
        return math.sqrt(self._sq / self._n) if self._n else 0.0
