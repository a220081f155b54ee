"""Synthetic environments with fixed linear per-block dynamics (tests, benchmarks and
``nupca-step --synthetic``).

- ``rotations`` (``LinearBlockEnv``): x(t+1)[block b] = R_b · x(t)[block b] with R_b a
  fixed random rotation (the signal neither decays nor explodes), plus optional Gaussian
  *observation* noise.
- ``ar1`` (``AR1BlockEnv``): x(t+1)[block b] = A_b · x(t)[block b] + ε with A_b a fixed
  random matrix scaled to spectral radius 0.95 and ε ~ N(0, noise²) (*process* noise,
  default 0.01).

Both start from x(0) ~ U(−scale, scale) and offer the whole vector as ``x_partial`` every
step; the agent's fovea decides what it commits. Seeded, so the same arguments give the
same stream on every machine of the same platform.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from pattools.nupca.blocks import build_blocks
from pattools.nupca.completion import Cue
from pattools.nupca.config import NupcaConfig
from pattools.nupca.observation import Observation

KINDS = ("rotations", "ar1")


class LinearBlockEnv:
    """Block rotations with optional observation noise."""

    def __init__(self, config: NupcaConfig, seed: int = 0, noise: float = 0.0, scale: float = 1.0) -> None:
        rng = np.random.default_rng(seed)
        self.partition = build_blocks(config)
        self.matrices = [self._matrix(rng, int(size)) for size in self.partition.sizes.tolist()]
        self.x = rng.uniform(-scale, scale, size=config.D)
        self.noise = noise
        self.rng = rng
        self.dims = np.arange(config.D, dtype=np.int64)

    def _matrix(self, rng: np.random.Generator, size: int) -> np.ndarray:
        q, _ = np.linalg.qr(rng.normal(size=(size, size)))
        return q

    def advance(self) -> None:
        start = self.partition.start
        nxt = np.empty_like(self.x)
        for b, matrix in enumerate(self.matrices):
            nxt[start[b] : start[b + 1]] = matrix @ self.x[start[b] : start[b + 1]]
        self.x = nxt

    def observe(self) -> np.ndarray:
        if self.noise > 0.0:
            return self.x + self.noise * self.rng.normal(size=self.x.shape[0])
        return self.x.copy()

    def stream(self, steps: int, rest_every: int = 0) -> Iterator[Observation]:
        """Observations of ``steps`` consecutive states (REST every ``rest_every``-th step)."""
        for t in range(steps):
            rest = bool(rest_every) and (t + 1) % rest_every == 0
            yield Observation(cue=Cue(self.dims, self.observe()), rest=rest, t=t)
            self.advance()


class AR1BlockEnv(LinearBlockEnv):
    """Noisy AR(1) blocks: random A_b with spectral radius ``radius``, process noise."""

    def __init__(self, config: NupcaConfig, seed: int = 0, noise: float = 0.01, scale: float = 1.0,
                 radius: float = 0.95) -> None:
        self.radius = radius
        super().__init__(config, seed=seed, noise=noise, scale=scale)

    def _matrix(self, rng: np.random.Generator, size: int) -> np.ndarray:
        matrix = rng.normal(size=(size, size))
        top = float(np.max(np.abs(np.linalg.eigvals(matrix))))
        return matrix * (self.radius / top) if top > 0.0 else matrix

    def advance(self) -> None:
        super().advance()
        if self.noise > 0.0:
            self.x = self.x + self.noise * self.rng.normal(size=self.x.shape[0])

    def observe(self) -> np.ndarray:
        return self.x.copy()


def environment(kind: str, config: NupcaConfig, seed: int = 0) -> LinearBlockEnv:
    """The environment ``kind`` (one of KINDS) with its default noise."""
    if kind == "rotations":
        return LinearBlockEnv(config, seed=seed)
    if kind == "ar1":
        return AR1BlockEnv(config, seed=seed)
    raise ValueError(f"unknown synthetic environment {kind!r} (expected one of {', '.join(KINDS)})")
